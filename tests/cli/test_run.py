"""`dlexpert run` / `train` / `profile` / `datasets` end to end on built-in data (short schedules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..conftest import EXAMPLES
from .test_cli import run


# ~45 s: a whole training and evaluation on MNIST-1D. Its accuracy is also benchmarks/bench_mnist1d.py's figure, and
# what a run leaves behind is checked on the sensor-log run (tests/cli/test_run_user_tables.py). In `make test-all`.
@pytest.mark.slow
def test_run_mnist1d_short_schedule_beats_the_linear_baseline(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = run("run", str(EXAMPLES / "mnist1d.yaml"), "--data", "mnist1d", "--out", str(out), "--epochs", "6",
            "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["metrics"]["accuracy"] >= 0.85  # 6 of the plan's 30 epochs; the full run reaches ~0.99
    assert 0.2 <= ev["baseline"]["linear"]["metrics"]["accuracy"] <= 0.45  # the paper's logistic regression: 32%
    assert ev["metrics"]["accuracy"] > ev["baseline"]["linear"]["metrics"]["accuracy"] + 0.3
    for name in ("task.yaml", "plan.json", "config.yaml", "metrics.jsonl", "profile.json", "evaluation.json",
                 "checkpoints/last.pt", "checkpoints/best.safetensors", "MODEL_CARD.md", "report.html",
                 "figures/confusion.png", "figures/reliability.png", "figures/failures.png"):  # fmt: skip
        assert (out / name).exists(), name
    assert any((out / "tb").iterdir())
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["train"]["scheduler"] == "onecycle" and config["model"] == "cnn1d"
    epochs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if '"epoch"' in ln]
    assert sum(1 for e in epochs if e.get("kind") == "epoch") == 6
    again = run("run", str(EXAMPLES / "mnist1d.yaml"), "--data", "mnist1d", "--out", str(out))
    assert again.returncode == 2 and "already holds a run" in again.stderr


def test_run_bad_data_paths_are_one_line_errors(tmp_path: Path) -> None:
    r = run("run", str(EXAMPLES / "mnist1d.yaml"), "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (tmp_path / "empty").mkdir()
    r = run("profile", str(tmp_path / "empty"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_profile_and_datasets_commands() -> None:
    r = run("profile", "digits")
    assert r.returncode == 0, r.stderr
    prof = json.loads(r.stdout)
    assert prof["n_samples"]["total"] == 1797
    text = run("profile", "digits", "--format", "text")
    assert text.returncode == 0 and text.stderr.splitlines()[0].startswith("digits (image, input (1, 8, 8)")
    ds = run("datasets")
    assert ds.returncode == 0 and {"mnist1d", "digits", "shapes"} <= {ln.split()[0] for ln in ds.stdout.splitlines()}


def test_plan_with_data_fills_the_spec_from_the_profile(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("task: {type: classification, domain: CV, specificTask: handwritten digits}\n"
                    "constraints: {computeResources: CPU (2 cores)}\n")  # fmt: skip
    r = run("plan", str(spec), "--data", "digits", "--format", "json")
    assert r.returncode == 0, r.stderr  # data.size came from the profile, so no question
    plan = json.loads(r.stdout)
    assert (
        "small_resnet" in plan["modelDesign"]["architecture"] or "small-resnet" in plan["modelDesign"]["architecture"]
    )
    assert any(e["claim"] == "input shape per sample" for e in plan["evidence"])
