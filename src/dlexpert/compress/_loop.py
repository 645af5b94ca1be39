"""The seed's Step 6 feedback loop: try a setting, measure it, and when accuracy drops too far, try a gentler one.

A method gives one or more tracks (e.g. ONNX Runtime's static and dynamic INT8); each track is a sequence of
settings, most aggressive first. A track stops at its first setting within the accepted drop; the kept variant is
the fastest of the tracks' passing settings (the smaller file on a near tie). When no setting passes, the most
accurate attempt is saved for inspection and the report says so. Nothing is kept on faith: every attempt is
measured and recorded with why it was or was not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from ._measure import MeasureSettings, Predict, Subject, measure
from .report import Attempt, Measurement

# Two latencies within this fraction of each other count as a tie (timer noise on a shared CPU is a few percent),
# and the smaller file wins it.
LATENCY_TIE = 0.05


@dataclass
class Built:
    """A candidate made real: how to run it, how big it is, and the artifact to save if it is kept."""

    predict: Predict
    size_bytes: int
    artifact: Any  # a Path to an .onnx file, or an nn.Module
    n_params: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. sparsity, the student's config


@dataclass
class Candidate:
    setting: str
    params: dict[str, Any]
    build: Callable[[], Built]


@dataclass
class Outcome:
    candidate: Candidate
    built: Built
    measured: Measurement
    drop: float


@dataclass
class LoopResult:
    chosen: Outcome
    attempts: list[Attempt]
    met_max_drop: bool
    notes: list[str]


def drop_points(baseline: float, accuracy: float) -> float:
    """Accuracy drop in percentage points, rounded to what a test split can resolve (1e-4 points)."""
    return round((baseline - accuracy) * 100.0, 4)


def run_feedback_loop(
    tracks: Iterable[Iterable[Candidate]],
    *,
    subject: Subject,
    baseline: Measurement,
    baseline_predict: Predict,
    max_drop: float,
    settings: MeasureSettings,
    log: Callable[[str], None],
) -> LoopResult:
    """Build and measure each track's settings until one is within `max_drop` points of the baseline."""
    outcomes: list[Outcome] = []
    notes: list[str] = []
    passing: list[Outcome] = []
    for track in tracks:
        for cand in track:
            log(f"  trying {cand.setting}")
            try:
                built = cand.build()
            except InvalidInputError as e:  # this setting cannot apply to this model: say so, try the next
                notes.append(f"{cand.setting}: not applicable ({e})")
                log(f"    not applicable: {e}")
                continue
            m = measure(built.predict, subject, size_bytes=built.size_bytes, n_params=built.n_params,
                        settings=settings, against=baseline_predict)  # fmt: skip
            out = Outcome(cand, built, m, drop_points(baseline.accuracy, m.accuracy))
            outcomes.append(out)
            log(f"    {subject.score_name} {m.accuracy:.4f} (drop {out.drop:+.2f} pts), {m.size_bytes / 1e6:.3f} MB, "
                f"p50 {m.latency_ms_p50:.3f} ms (baseline {m.paired_baseline_ms_p50:.3f} ms)")  # fmt: skip
            if out.drop <= max_drop:
                passing.append(out)
                break  # this track has its setting; gentler ones would only give back size or speed
    if not outcomes:
        reasons = list(dict.fromkeys(n.split(": not applicable ", 1)[-1] for n in notes))
        raise InvalidInputError("no setting could be applied to this model: " + "; ".join(reasons))
    met = bool(passing)
    chosen = _fastest(passing) if met else min(outcomes, key=lambda o: (o.drop, o.measured.latency_ms_p50))
    attempts = [_attempt(o, chosen, baseline, max_drop, subject.score_name) for o in outcomes]
    return LoopResult(chosen=chosen, attempts=attempts, met_max_drop=met, notes=notes)


def _fastest(outs: list[Outcome]) -> Outcome:
    best = min(outs, key=lambda o: o.measured.latency_ms_p50)
    ties = [o for o in outs if o.measured.latency_ms_p50 <= best.measured.latency_ms_p50 * (1 + LATENCY_TIE)]
    return min(ties, key=lambda o: (o.measured.size_bytes, o.measured.latency_ms_p50))


def _attempt(o: Outcome, chosen: Outcome, baseline: Measurement, max_drop: float, score_name: str) -> Attempt:
    m = o.measured
    kept = o is chosen
    if o.drop > max_drop:
        why = f"{score_name} drop {o.drop:.2f} pts exceeds the {max_drop:g}-pt limit"
        if kept:
            why += "; kept only as the most accurate attempt (no setting met the limit)"
    elif kept:
        why = f"within the {max_drop:g}-pt limit and the fastest such setting (p50 {m.latency_ms_p50:.3f} ms)"
    else:
        k = chosen.measured
        why = (f"within the limit but not the fastest: p50 {m.latency_ms_p50:.3f} ms, {m.size_bytes:,} B against "
               f"{k.latency_ms_p50:.3f} ms, {k.size_bytes:,} B for the kept one")  # fmt: skip
    return Attempt(
        setting=o.candidate.setting, params=o.candidate.params, size_bytes=m.size_bytes, accuracy=m.accuracy,
        accuracy_drop=o.drop, latency_ms_p50=m.latency_ms_p50, latency_ms_p95=m.latency_ms_p95,
        speedup_p50=speedup(m, baseline), n_params=m.n_params, kept=kept, why=why,
    )  # fmt: skip


def speedup(m: Measurement, baseline: Measurement) -> float:
    """Baseline p50 over this p50, with the baseline timed next to it when it was."""
    base = m.paired_baseline_ms_p50 or baseline.latency_ms_p50
    return round(base / max(m.latency_ms_p50, 1e-9), 3)
