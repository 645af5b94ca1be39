"""`dlexpert evaluate` on a trained MNIST-1D run: evaluation.json, baselines, figures, latency, the command line and
its bad input, and a test set with a class training never saw."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlexpert.errors import InvalidInputError
from dlexpert.report.evaluate import evaluate_run, load_evaluation
from dlexpert.schema.evaluation import Evaluation

from .conftest import copy_run

DLEXPERT = [sys.executable, "-m", "dlexpert.cli.main"]
MNIST1D_TEST = 1000  # MNIST-1D's predefined test split (Greydanus 2020)
METRICS = {"accuracy", "top3_accuracy", "top5_accuracy", "balanced_accuracy", "precision_macro", "recall_macro",
           "f1_macro", "precision_micro", "recall_micro", "f1_micro", "precision_weighted", "recall_weighted",
           "f1_weighted", "auroc_ovr_macro", "ece", "log_loss"}  # fmt: skip
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def one_error_line(r: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, nothing on stdout, no traceback, and one `error:` line on stderr (after progress lines, if any)."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], r.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def cli_results(mnist1d_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    """`dlexpert evaluate` through the real command line, one case per process: name -> (the folder it was given,
    the finished process). The processes run side by side; each spends seconds importing torch."""
    root = tmp_path_factory.mktemp("cli")
    (root / "empty").mkdir()
    no_weights = copy_run(mnist1d_run, root / "no-weights")
    (no_weights / "checkpoints" / "best.safetensors").unlink()
    cases = {
        "json": (copy_run(mnist1d_run, root / "json"), ["--format", "json", "--no-latency", "--no-figures"]),
        "missing folder": (root / "nowhere", ["--no-latency"]),
        "no config": (root / "empty", ["--no-latency"]),
        "no weights": (no_weights, ["--no-latency"]),
        "missing data": (copy_run(mnist1d_run, root / "data"), ["--data", str(root / "missing.csv"), "--no-latency"]),
    }
    env = {**os.environ, "COLUMNS": "200"}
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, (folder, args) in cases.items():
            procs[name] = subprocess.Popen([*DLEXPERT, "evaluate", str(folder), *args], stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=180)
            results[name] = (cases[name][0], subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# ---- the evaluation of the shared run (evaluated once, read-only) --------------------------------------------------


def test_evaluation_json_validates_and_holds_every_section(evaluated_run: tuple[Path, Any]) -> None:
    run_dir, ev = evaluated_run
    doc = (run_dir / "evaluation.json").read_text(encoding="utf-8")
    stored = Evaluation.model_validate_json(doc)
    assert stored == ev == load_evaluation(run_dir)
    assert ev.task == "classification" and ev.split == "test" and ev.model == "cnn1d"
    assert ev.n_samples == MNIST1D_TEST
    assert set(ev.metrics) >= METRICS
    assert all(0.0 <= ev.metrics[k] <= 1.0 for k in METRICS - {"log_loss"})
    assert ev.metrics["top5_accuracy"] >= ev.metrics["top3_accuracy"] >= ev.metrics["accuracy"]

    assert ev.per_class is not None and len(ev.per_class) == 10
    assert ev.confusion is not None and len(ev.confusion.matrix) == 10
    m = np.asarray(ev.confusion.matrix)
    assert m.shape == (10, 10) and m.sum() == MNIST1D_TEST
    assert [row.support for row in ev.per_class] == m.sum(axis=1).tolist()
    assert np.trace(m) / MNIST1D_TEST == pytest.approx(ev.metrics["accuracy"])
    assert [row.name for row in ev.per_class] == ev.confusion.labels == ev.data["classes"]

    assert ev.calibration is not None and sum(b.count for b in ev.calibration.bins) == MNIST1D_TEST
    assert ev.calibration.ece == ev.metrics["ece"]
    assert ev.failures is not None
    assert ev.failures.n_errors == MNIST1D_TEST - np.trace(m)
    assert ev.data["n_train"] + ev.data["n_val"] == 4000  # MNIST-1D's training split, less validation


def test_figures_are_png_files_under_the_run_dir(evaluated_run: tuple[Path, Any]) -> None:
    run_dir, ev = evaluated_run
    assert set(ev.figures) == {"reliability", "confusion", "failures"}
    for name, rel in ev.figures.items():
        path = run_dir / rel
        assert path.parent == run_dir / "figures" and path.suffix == ".png", name
        assert path.read_bytes()[:8] == PNG_MAGIC, name
    assert ev.failures is not None and ev.failures.grid == ev.figures["failures"]


def test_baselines_and_published_results(evaluated_run: tuple[Path, Any]) -> None:
    _, ev = evaluated_run
    linear = ev.baseline.linear
    assert linear is not None and 0.25 <= linear.metrics["accuracy"] <= 0.40  # Greydanus 2020 reports 32%
    assert ev.baseline.majority is not None and 0.05 <= ev.baseline.majority.metrics["accuracy"] <= 0.15  # 10 classes
    published = {p.model: p for p in ev.baseline.public}
    logreg = published["logistic regression"]
    assert logreg.dataset == "MNIST-1D" and logreg.metric == "accuracy" and logreg.value == 32
    assert "Greydanus" in logreg.source
    # Measured 0.976 after 6 epochs (0.973 after 4) against the linear model's 0.325: 50 points leaves ample room.
    assert ev.metrics["accuracy"] >= linear.metrics["accuracy"] + 0.50
    assert len(ev.baseline.summary) >= 2 + len([p for p in ev.baseline.public if p.metric == "accuracy"])


def test_model_version_is_the_sha256_of_the_best_weights(evaluated_run: tuple[Path, Any]) -> None:
    run_dir, ev = evaluated_run
    weights = run_dir / "checkpoints" / "best.safetensors"
    assert ev.weights == "checkpoints/best.safetensors"
    assert ev.model_version == "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()


def test_evaluate_agrees_with_the_engine(mnist1d_run: Path, evaluated_run: tuple[Path, Any]) -> None:
    from dlexpert.engine import evaluate
    from dlexpert.runs import load_run

    run = load_run(mnist1d_run)
    test_set = run.datasets().test
    assert len(test_set) == MNIST1D_TEST
    engine = evaluate(run.model, test_set)
    _, ev = evaluated_run
    assert ev.metrics["accuracy"] == pytest.approx(engine["accuracy"], abs=1e-9)  # same weights, same samples
    assert ev.metrics["log_loss"] == pytest.approx(engine["loss"], rel=1e-4)  # mean cross-entropy, both ways


# ---- tests that evaluate into their own copy ------------------------------------------------------------------------


def test_latency_rows_come_from_bench_at_batch_1_and_32(evaluated_run: tuple[Path, Any]) -> None:
    _, ev = evaluated_run
    assert ev.latency is not None, ev.warnings
    rows = {r["batch_size"]: r for r in ev.latency["rows"]}
    assert set(rows) == {1, 32}
    for r in rows.values():
        assert r["backend"] == "eager" and r["latency_ms_p50"] > 0
        assert r["latency_ms_p95"] >= r["latency_ms_p50"]
    assert ev.latency["threads"] == 1


def test_cli_json_is_one_document_on_stdout_with_no_figures_and_no_latency_when_asked(
    cli_results: dict[str, tuple[Path, Any]],
) -> None:
    run_dir, r = cli_results["json"]
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout is one JSON document
    ev = Evaluation.model_validate(doc)
    assert ev.n_samples == MNIST1D_TEST
    assert doc == json.loads((run_dir / "evaluation.json").read_text(encoding="utf-8"))
    assert load_evaluation(run_dir) == ev
    assert ev.latency is None  # --no-latency
    assert ev.figures == {} and not (run_dir / "figures").exists()  # --no-figures
    assert "Traceback" not in r.stderr


def test_cli_missing_folder(cli_results: dict[str, tuple[Path, Any]]) -> None:
    _, r = cli_results["missing folder"]
    one_error_line(r, "nowhere", "no such run directory")


def test_cli_folder_without_config(cli_results: dict[str, tuple[Path, Any]]) -> None:
    _, r = cli_results["no config"]
    one_error_line(r, "empty", "config.yaml")


def test_cli_run_without_best_weights(cli_results: dict[str, tuple[Path, Any]]) -> None:
    run_dir, r = cli_results["no weights"]
    one_error_line(r, "best.safetensors", "missing")
    assert not (run_dir / "evaluation.json").exists()


def test_cli_data_that_does_not_exist(cli_results: dict[str, tuple[Path, Any]]) -> None:
    run_dir, r = cli_results["missing data"]
    one_error_line(r, "missing.csv")
    assert not (run_dir / "evaluation.json").exists()


# ---- a test set with a class training never had ----------------------------------------------------------------------


def blobs(path: Path, counts: dict[str, int], *, seed: int) -> Path:
    """A table of three features; each class is a well separated Gaussian blob."""
    import pandas as pd

    centres = {"ant": 0.0, "bee": 4.0, "cat": 8.0, "dog": 12.0}
    rng = np.random.default_rng(seed)
    labels = [name for name, n in counts.items() for _ in range(n)]
    x = rng.normal(size=(len(labels), 3)) + np.array([centres[v] for v in labels])[:, None]
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    df["label"] = labels
    df.to_csv(path, index=False)
    return path


def test_test_classes_absent_from_training_are_warned_about_and_left_out(tmp_path: Path) -> None:
    from dlexpert.pipeline import train
    from dlexpert.schema import parse_task

    data = blobs(tmp_path / "train.csv", {"ant": 60, "bee": 60, "cat": 60}, seed=0)
    run_dir = tmp_path / "run"
    spec = parse_task({"task": {"type": "classification", "domain": "time-series"}})
    train(spec, data=str(data), out_dir=run_dir, epochs=2, monitor=False, progress=False)
    # The unseen class comes first in the file: its label index must still come after the trained ones.
    other = blobs(tmp_path / "other.csv", {"dog": 7, "ant": 10, "bee": 10, "cat": 10}, seed=1)
    own = evaluate_run(run_dir, latency=False, figures=False)
    ev = evaluate_run(run_dir, data=str(other), latency=False)
    # The baselines fit on the run's own training split, not on the whole file the model's test split came from.
    assert (ev.data["n_train"], ev.data["n_val"]) == (own.data["n_train"], own.data["n_val"])
    assert own.data["n_train"] + own.data["n_val"] < 180

    assert ev.n_samples == 30  # the 7 "dog" rows are not scored
    unseen = [w for w in ev.warnings if "dog" in w]
    assert unseen and any("7" in w for w in unseen), ev.warnings
    assert not any(name in w for w in ev.warnings for name in ("'ant'", "'bee'", "'cat'"))
    assert ev.data["classes"] == ["ant", "bee", "cat"]
    assert [row.name for row in ev.per_class or []] == ["ant", "bee", "cat"]
    assert [row.support for row in ev.per_class or []] == [10, 10, 10]
    assert ev.confusion is not None and np.asarray(ev.confusion.matrix).sum() == 30
    assert ev.metrics["accuracy"] >= 0.8  # the blobs are far apart: labels line up with the model's outputs
    assert ev.split.startswith("test set") and ev.data["test"] == str(other)
    assert "failures" not in ev.figures  # tabular rows are not drawn
    assert load_evaluation(run_dir) == ev
    # The other direction: a test set without a trained class says which one is not measured.
    no_cat = blobs(tmp_path / "no_cat.csv", {"ant": 10, "bee": 10}, seed=2)
    partial = evaluate_run(run_dir, data=str(no_cat), latency=False, figures=False)
    assert any("no sample of 1 trained class(es): 'cat'" in w for w in partial.warnings), partial.warnings
    assert partial.per_class is not None and partial.per_class[2].support == 0
    # The training data moved away: said in one line, naming the run's config, and evaluation.json is kept.
    ev = partial
    data.rename(tmp_path / "moved.csv")
    with pytest.raises(InvalidInputError, match=r"config.yaml: the run's data cannot be read .*train.csv"):
        evaluate_run(run_dir, latency=False)
    assert load_evaluation(run_dir) == ev
