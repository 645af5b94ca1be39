"""`dlexpert compress` through the command line: the JSON report on stdout, the run's checkpoints untouched, and
every bad input as one clear line with exit code 2, never a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

pytest.importorskip("torch")

from typer.testing import CliRunner

from dlexpert.cli.main import app


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["compress", *args])
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def one_error_line(code: int, stderr: str, *needles: str) -> str:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.strip().splitlines() if ln.startswith("error:")]  # others are progress lines
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_report_on_stdout_and_the_run_checkpoints_are_untouched(mlp_run: Path) -> None:
    files = [mlp_run / "checkpoints" / "best.safetensors", mlp_run / "checkpoints" / "last.pt",
             mlp_run / "config.yaml"]  # fmt: skip
    before = [sha256(p) for p in files]
    code, out, err = cli(str(mlp_run), "--method", "int8", "--format", "json")
    assert code == 0, err
    report = json.loads(out)  # exactly one JSON document
    assert report == json.loads((mlp_run / "variants" / "int8" / "report.json").read_text())
    assert report["method"] == "int8" and report["format"] == "onnx"
    assert [sha256(p) for p in files] == before


def test_text_summary_goes_to_stderr(mlp_run: Path) -> None:
    code, out, err = cli(str(mlp_run), "--method", "fp16")
    assert code == 0, err
    assert out == ""
    assert "baseline (eager fp32)" in err and "decision:" in err and "[kept]" in err


def test_missing_run_directory(tmp_path: Path) -> None:
    one_error_line(*cli(str(tmp_path / "nowhere"), "--method", "int8")[::2], "no such run directory")


def test_run_without_a_trained_model(tmp_path: Path, mlp_run: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(mlp_run, partial)
    (partial / "checkpoints" / "best.safetensors").unlink()
    one_error_line(*cli(str(partial), "--method", "int8")[::2], "no trained model", "best.safetensors")


def test_data_source_gone_says_to_pass_data(tmp_path: Path, mlp_run: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(mlp_run, moved, ignore=shutil.ignore_patterns("variants"))
    config = yaml.safe_load((moved / "config.yaml").read_text())
    config["data"]["source"] = str(tmp_path / "gone" / "digits.csv")
    (moved / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    one_error_line(*cli(str(moved), "--method", "int8")[::2], "cannot reload the run's data", "--data")
    code, _, err = cli(str(moved), "--method", "fp16", "--data", "digits")  # the way out the message gives
    assert code == 0, err


def test_structured_pruning_of_a_model_with_only_a_head_names_the_layer(linear_run: Path) -> None:
    one_error_line(*cli(str(linear_run), "--method", "prune")[::2], "nothing to prune", "`head`", "unstructured")


def test_distilling_a_linear_model_is_refused(linear_run: Path) -> None:
    one_error_line(*cli(str(linear_run), "--method", "distill")[::2], "no smaller student")


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--max-drop", "7", "--max-drop"),
    ("--max-drop", "-1", "--max-drop"),
    ("--target-sparsity", "1.5", "--target-sparsity"),
    ("--temperature", "0", "--temperature"),
    ("--alpha", "2", "--alpha"),
])  # fmt: skip
def test_options_out_of_range(mlp_run: Path, option: str, value: str, needle: str) -> None:
    one_error_line(*cli(str(mlp_run), "--method", "prune", option, value)[::2], needle)
