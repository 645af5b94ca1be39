"""`dlexpert diagnose` as scripts call it: real subprocesses, exit codes, one JSON document, the report, the plot."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ..diagnose.test_readers import write_keras_csv, write_run_dir

DLEXPERT = [sys.executable, "-m", "dlexpert.cli.main"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*DLEXPERT, *args], capture_output=True, text=True, timeout=120, env=env)


def test_json_is_one_diagnosis_document_on_stdout(tmp_path: Path) -> None:
    r = run("diagnose", str(write_run_dir(tmp_path / "run")), "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert set(d) >= {"source", "healthy", "findings", "series", "unknown_series", "warnings"}
    assert isinstance(d["healthy"], bool) and isinstance(d["findings"], list)
    assert {"train_loss@step", "train_loss@epoch", "val_loss@epoch", "val_acc@epoch", "lr@step"} <= set(d["series"])
    for f in d["findings"]:
        assert {"issue", "severity", "diagnosis", "solution", "evidence", "rule"} <= set(f)
    assert d["healthy"] == all(f["severity"] == "info" for f in d["findings"])


def test_markdown_report_with_plot_and_output_file(tmp_path: Path) -> None:
    log = write_keras_csv(tmp_path / "training.log")
    png, md = tmp_path / "curves.png", tmp_path / "report.md"
    r = run("diagnose", str(log), "--plot", str(png), "-o", str(md))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    text = md.read_text()
    assert text.startswith(f"# Training diagnosis: {log}\n")
    verdict = text.split("\n")[2]
    assert verdict.startswith("**Healthy**") or re.match(r"\*\*\d+ findings?\*\* \(", verdict), verdict
    assert "## Series read" in text and "`val_loss@epoch`" in text
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "report.md", "training.log"]


def test_nan_loss_is_a_finding_with_exit_0(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("step,loss,lr\n1,2.0,0.1\n2,1.8,0.1\n3,1.7,0.1\n4,nan,0.1\n5,nan,0.1\n")
    r = run("diagnose", str(log), "--format", "json")
    assert r.returncode == 0, r.stderr  # findings are the output, not a failure
    d = json.loads(r.stdout)
    assert d["healthy"] is False
    assert any(f["issue"] == "nan_inf" and f["axis"] == "step" and f["began_at"] == 4 for f in d["findings"])


def test_partly_readable_log_warns_and_still_diagnoses(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.5}\n{"step": 3, "lo')
    r = run("diagnose", str(log), "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["warnings"] and f"{log}:3:" in d["warnings"][0]
    assert d["series"] == ["train_loss@step"]


def test_invalid_source_exits_2_with_one_line_naming_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    for source, why in ((empty, "empty"), (tmp_path / "missing", "no such file")):
        r = run("diagnose", str(source), "--format", "json")
        assert r.returncode == 2
        assert r.stdout == ""
        assert str(source) in r.stderr and why in r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_diagnose_does_not_import_torch(tmp_path: Path) -> None:
    run_dir = write_run_dir(tmp_path / "run")
    code = (
        "import sys, runpy; sys.argv=['dlexpert','diagnose',{!r},'--format','json','--plot',{!r}]\n"
        "try:\n runpy.run_module('dlexpert.cli.main', run_name='__main__')\n"
        "except SystemExit as e:\n assert not e.code\n"
        "assert 'torch' not in sys.modules, 'diagnose imported torch'"
    ).format(str(run_dir), str(tmp_path / "p.png"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["source"] == str(run_dir)
