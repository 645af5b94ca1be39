"""The doctor's report: markdown from a Diagnosis, and the curves PNG with findings marked where they began."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dlexpert.diagnose import RunHistory
from dlexpert.diagnose.report import plot_history, render_markdown
from dlexpert.errors import InvalidInputError
from dlexpert.schema.diagnosis import Diagnosis, Finding

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def overfitting(**kw: object) -> Finding:
    fields: dict = {
        "issue": "overfitting",
        "severity": "warning",
        "diagnosis": "val_loss rose 25% from its best at epoch 4 while train_loss kept falling.",
        "solution": ["Add weight decay or dropout.", "Stop early at the best epoch.", "Get more data."],
        "evidence": {"best_val_loss": 0.41234567, "best_epoch": 4, "val_loss_tail": [0.45, 0.5, 0.52]},
        "axis": "epoch",
        "began_at": 4.0,
        "confidence": 0.8,
        "rule": "val_loss_rises",
        "source": "Goodfellow et al. 2016, ch. 7.8",
    }
    fields.update(kw)
    return Finding(**fields)


def history() -> RunHistory:
    h = RunHistory(source="runs/demo")
    h.add("train_loss", "step", range(0, 100, 10), [2.0 - i / 60 for i in range(0, 100, 10)])
    h.add("train_loss", "epoch", range(10), [1.9 - i / 6 for i in range(10)])
    h.add("val_loss", "epoch", range(10), [1.8, 1.2, 0.8, 0.6, 0.41, 0.45, 0.5, 0.52, 0.55, float("nan")])
    h.add("val_acc", "epoch", range(10), [0.3 + 0.05 * i for i in range(10)])
    h.add("lr", "step", range(0, 100, 10), [1e-3 * math.cos(i / 100) for i in range(0, 100, 10)])
    h.add("grad_norm", "step", range(0, 100, 10), [1.0] * 9 + [float("inf")])
    h.meta["steps_per_epoch"] = 10
    return h


def diagnosis(findings: list[Finding], **kw: object) -> Diagnosis:
    healthy = all(f.severity == "info" for f in findings)
    return Diagnosis(source="runs/demo", healthy=healthy, findings=findings, **kw)  # type: ignore[arg-type]


def test_markdown_lists_each_finding_with_evidence_and_numbered_solutions() -> None:
    nan = Finding(issue="nan_inf", severity="error", diagnosis="train_loss became NaN at step 90.",
                  solution=["Lower the learning rate."], axis="step", began_at=90, rule="nonfinite_loss")  # fmt: skip
    md = render_markdown(
        diagnosis(
            [nan, overfitting()],
            series=["train_loss@step", "val_loss@epoch", "val_f1@epoch"],
            unknown_series=["val_f1@epoch"],
            warnings=["log.csv:12: column 'loss' holds 'abc', not a number; that cell was skipped"],
        )
    )
    assert md.startswith("# Training diagnosis: runs/demo\n")
    assert "**2 findings** (1 error, 1 warning)." in md
    assert "## 1. nan_inf (error)" in md and "## 2. overfitting (warning)" in md  # most important first, as given
    assert "- **Began at:** step 90" in md and "- **Began at:** epoch 4" in md
    assert "  - `best_val_loss`: 0.4123" in md and "  - `val_loss_tail`: [0.45, 0.5, 0.52]" in md
    assert "1. Add weight decay or dropout.\n2. Stop early at the best epoch.\n3. Get more data." in md
    assert "- **Confidence:** 0.80" in md
    assert "_rule `val_loss_rises`; thresholds from Goodfellow et al. 2016, ch. 7.8_" in md
    assert "## Series read\n\n`train_loss@step`, `val_loss@epoch`\n" in md
    assert "## Unknown series (kept, not used by the rules)\n\n`val_f1@epoch`" in md
    assert "## Warnings\n\n- log.csv:12: column 'loss'" in md


def test_markdown_healthy_run_says_so() -> None:
    md = render_markdown(diagnosis([], series=["train_loss@epoch"]))
    assert "**Healthy**: no finding of severity warning or error." in md
    assert "## 1." not in md and "## Warnings" not in md
    note = overfitting(severity="info", began_at=None, axis=None, evidence={"n": list(range(20))})
    md2 = render_markdown(diagnosis([note]))
    assert "(1 note below)" in md2 and "- **Began at:** whole run" in md2
    assert "... (20 in all)]" in md2


def test_plot_writes_png_atomically_with_findings_marked(tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    d = diagnosis([overfitting(), overfitting(issue="exploding_gradients", axis="step", began_at=90, rule="g")])
    assert plot_history(history(), d, out) == out
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temporary file left behind


def test_plot_draws_unknown_only_history_and_rejects_missing_folder(tmp_path: Path) -> None:
    h = RunHistory(source="x.csv")
    h.add("val_f1", "epoch", [0, 1, 2], [0.1, 0.2, 0.3])
    out = tmp_path / "f1.png"
    plot_history(h, diagnosis([]), out)
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(InvalidInputError, match="does not exist"):
        plot_history(h, diagnosis([]), tmp_path / "no" / "such.png")
