"""Hostile input to the commands that read or write a trained run: run, train, evaluate, card, compress, export and
bench. One tiny run is trained for the module; each case works on its own copy, damaged as the case says."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import EXAMPLES
from .conftest import assert_refused, invoke

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SPEC = (
    "task: {type: classification, domain: time-series}\ndata: {size: 4000 series}\n"
    "constraints: {computeResources: CPU}\n"
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dlexpert.pipeline import train
    from dlexpert.schema import load_task

    out = tmp_path_factory.mktemp("hostile") / "run"
    train(load_task(EXAMPLES / "mnist1d.yaml"), data="mnist1d", out_dir=out, epochs=1, progress=False, monitor=False)
    return out


class _Code:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def _weights(d: Path) -> Path:
    return d / "run" / "checkpoints" / "best.safetensors"


def _last(d: Path) -> Path:
    return d / "run" / "checkpoints" / "last.pt"


DAMAGE: dict[str, Callable[[Path], None]] = {
    "intact": lambda d: None,
    "no-weights": lambda d: _weights(d).unlink(),
    "empty-weights": lambda d: _weights(d).write_bytes(b""),
    "garbage-weights": lambda d: _weights(d).write_bytes(os.urandom(4096)),
    "truncated-weights": lambda d: _weights(d).write_bytes(_weights(d).read_bytes()[:200]),
    "truncated-last": lambda d: _last(d).write_bytes(_last(d).read_bytes()[:3000]),
    "code-in-last": lambda d: torch.save({"model": _Code()}, _last(d)),
    "pickle-in-last": lambda d: _last(d).write_bytes(pickle.dumps({"model": _Code()})),
    "no-config": lambda d: (d / "run" / "config.yaml").unlink(),
    "bad-config": lambda d: (d / "run" / "config.yaml").write_text("epochs: [\n"),
    "bomb-config": lambda d: (d / "run" / "config.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefg", "bcdefgh", strict=True))
    ),
    "bad-decisions": lambda d: (d / "run" / "decisions.json").write_text('{"model": '),
    "deep-decisions": lambda d: (d / "run" / "decisions.json").write_text("[" * 100_000),
    "fifo-data": lambda d: os.mkfifo(d / "d.csv"),
}

# (id, damage, argv with RUN for the copy, exit code, words of the error line)
CASES: list[tuple[str, str, list[str], int, tuple[str, ...]]] = [
    *[
        (f"{cmd}-{damage}", damage, [cmd, "run", *extra], 2, words)
        for cmd, extra in (
            ("evaluate", []),
            ("card", []),
            ("export", []),
            ("bench", ["--iters", "3"]),
            ("compress", ["--method", "fp16"]),
        )
        for damage, words in (
            ("no-weights", ("best.safetensors",)),
            ("empty-weights", ("best.safetensors", "corrupt")),
            ("garbage-weights", ("best.safetensors", "corrupt")),
            ("truncated-weights", ("best.safetensors", "corrupt")),
        )
    ],
    *[
        (f"{cmd}-{damage}", damage, [cmd, "run"], 2, words)
        for cmd in ("evaluate", "card", "export")
        for damage, words in (
            ("no-config", ("config.yaml",)),
            ("bad-config", ("config.yaml",)),
            ("bomb-config", ("config.yaml", "aliases expand")),
        )
    ],
    (
        "resume-bad-decisions",
        "bad-decisions",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume"],
        2,
        ("decisions.json",),
    ),
    (
        "resume-deep-decisions",
        "deep-decisions",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume"],
        2,
        ("decisions.json",),
    ),
    (
        "resume-truncated-last",
        "truncated-last",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume"],
        2,
        ("last.pt", "truncated or corrupt"),
    ),
    (
        "resume-code-in-last",
        "code-in-last",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume"],
        2,
        ("last.pt", "refused", "run code"),
    ),
    (
        "resume-pickle-in-last",
        "pickle-in-last",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume"],
        2,
        ("last.pt", "refused"),
    ),
    (
        "train-into-a-finished-run",
        "intact",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "run"],
        2,
        ("already holds a run",),
    ),
    (
        "run-into-a-finished-run",
        "intact",
        ["run", "spec.yaml", "--data", "mnist1d", "--out", "run"],
        2,
        ("already holds a run",),
    ),
    ("evaluate-missing-run", "intact", ["evaluate", "nowhere"], 2, ("nowhere",)),
    ("card-missing-run", "intact", ["card", "nowhere"], 2, ("nowhere",)),
    ("export-missing-run", "intact", ["export", "nowhere"], 2, ("nowhere",)),
    ("card-a-file", "intact", ["card", "spec.yaml"], 2, ("spec.yaml",)),
    ("card-not-a-run", "intact", ["card", "empty"], 2, ("empty",)),
    ("evaluate-format-xml", "intact", ["evaluate", "run", "--format", "xml"], 2, ("--format",)),
    ("export-format-xml", "intact", ["export", "run", "--format", "xml"], 2, ("--format",)),
    (
        "export-huge-input",
        "intact",
        ["export", "dlexpert:cnn1d", "--input-shape", "3,100000,100000"],
        2,
        ("--input-shape", "at most"),
    ),
    ("export-zero-input", "intact", ["export", "dlexpert:cnn1d", "--input-shape", "0,5"], 2, ("--input-shape",)),
    ("export-word-input", "intact", ["export", "dlexpert:cnn1d", "--input-shape", "abc"], 2, ("--input-shape",)),
    ("export-unknown-model", "intact", ["export", "dlexpert:banana"], 2, ("banana",)),
    ("bench-threads-100000", "intact", ["bench", "run", "--threads", "100000"], 2, ("--threads", "cores")),
    ("bench-threads-zero", "intact", ["bench", "run", "--threads", "0"], 2, ("--threads",)),
    ("bench-batch-zero", "intact", ["bench", "run", "--batch-sizes", "0"], 2, ("--batch-sizes",)),
    ("bench-batch-huge", "intact", ["bench", "run", "--batch-sizes", "100000000"], 2, ("--batch-sizes",)),
    ("bench-batch-words", "intact", ["bench", "run", "--batch-sizes", "a,b"], 2, ("--batch-sizes",)),
    ("bench-max-time-inf", "intact", ["bench", "run", "--max-time", "inf"], 2, ("--max-time",)),
    ("bench-max-time-zero", "intact", ["bench", "run", "--max-time", "0"], 2, ("--max-time",)),
    ("bench-iters-zero", "intact", ["bench", "run", "--iters", "0"], 2, ("--iters",)),
    ("bench-format-xml", "intact", ["bench", "run", "--format", "xml"], 2, ("--format",)),
    ("bench-unknown-backend", "intact", ["bench", "run", "--backends", "tpu-magic"], 2, ("tpu-magic",)),
    ("compress-unknown-method", "intact", ["compress", "run", "--method", "banana"], 2, ("--method",)),
    (
        "compress-sparsity-2",
        "intact",
        ["compress", "run", "--method", "prune", "--target-sparsity", "2"],
        2,
        ("sparsity",),
    ),
    (
        "train-nproc-huge",
        "intact",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "new", "--nproc", "100000"],
        2,
        ("--nproc",),
    ),
    (
        "train-nproc-over-cores",
        "intact",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "new", "--nproc", "200"],
        2,
        ("--nproc 200", "at most"),
    ),
    (
        "train-epochs-zero",
        "intact",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "new", "--epochs", "0"],
        2,
        ("--epochs",),
    ),
    (
        "train-resume-nothing",
        "intact",
        ["train", "spec.yaml", "--data", "mnist1d", "--out", "new", "--resume"],
        2,
        ("no checkpoint to resume",),
    ),
    ("train-fifo-data", "fifo-data", ["train", "spec.yaml", "--data", "d.csv", "--out", "new"], 2, ("d.csv", "FIFO")),
    ("train-unknown-data", "intact", ["train", "spec.yaml", "--data", "nowhere", "--out", "new"], 2, ("nowhere",)),
    (
        "run-out-inside-data",
        "intact",
        ["run", "spec.yaml", "--data", "empty", "--out", "empty/run1"],
        2,
        ("inside the --data folder",),
    ),
    (
        "run-out-is-a-file",
        "intact",
        ["run", "spec.yaml", "--data", "mnist1d", "--out", "spec.yaml"],
        2,
        ("spec.yaml", "is a file"),
    ),
    (
        "run-format-xml",
        "intact",
        ["run", "spec.yaml", "--data", "mnist1d", "--out", "new", "--format", "xml"],
        2,
        ("--format",),
    ),
    (
        "run-horizon-not-forecasting",
        "intact",
        ["run", "spec.yaml", "--data", "mnist1d", "--out", "new", "--horizon", "5"],
        2,
        ("forecasting options",),
    ),
    (
        "run-forecast-bad-exog",
        "intact",
        ["run", "spec.yaml", "--data", "store-sales", "--out", "new", "--exog", "a,,"],
        2,
        ("--exog",),
    ),
]


@pytest.mark.parametrize(("damage", "argv", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_damaged_run_or_a_bad_option_is_refused_in_one_line(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, argv: list[str], code: int,
    words: tuple[str, ...],
) -> None:  # fmt: skip
    shutil.copytree(trained, tmp_path / "run")
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "empty").mkdir()
    DAMAGE[damage](tmp_path)
    monkeypatch.chdir(tmp_path)
    line = assert_refused(argv, tmp_path, code, words)
    assert "weights_only" not in line  # never the advice to turn the unpickling guard off
    assert not (tmp_path / "pwned").exists()


def test_a_second_writer_is_refused_while_the_first_holds_the_run(trained: Path, tmp_path: Path) -> None:
    from dlexpert.rundir import RunDir

    run = shutil.copytree(trained, tmp_path / "run")
    with RunDir(run).lock():
        for argv in (["card", str(run)], ["evaluate", str(run)], ["compress", str(run), "--method", "fp16"]):
            line = invoke(*argv).error_line()
            assert f"another dlexpert process (pid {os.getpid()}) is writing this run" in line, line
    assert "another dlexpert process" not in invoke("card", str(run), "--check").err  # released: the next goes ahead


def test_resuming_with_another_task_says_the_run_keeps_its_own_plan(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(trained, tmp_path / "run")
    (tmp_path / "spec.yaml").write_text(SPEC)  # no specificTask: not the run's MNIST-1D task
    monkeypatch.chdir(tmp_path)
    plan = (tmp_path / "run" / "plan.json").read_bytes()
    r = invoke("train", "spec.yaml", "--data", "mnist1d", "--out", "run", "--resume", "--no-monitor")
    assert r.code == 0, r.err
    assert "is not the run's task.yaml; the run goes on with its own plan" in r.err
    assert (tmp_path / "run" / "plan.json").read_bytes() == plan
