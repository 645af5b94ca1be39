"""Shared pieces of the diagnosis rules: curves of finite points, smoothing, robust statistics, findings.

Nothing here decides anything: thresholds live in the rule modules, next to the source they come from.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...knowledge import get_problem
from ...schema.diagnosis import Finding, Severity
from ..history import Axis, RunHistory, is_known, steady_steps_per_epoch

AXES: tuple[Axis, ...] = ("step", "epoch")

# 1.4826 * MAD estimates the standard deviation of normally distributed data (robust to outliers).
MAD_TO_SIGMA = 1.4826


# Names of scores no reader maps but whose meaning the name gives: detection (mAP, precision, recall), segmentation
# (IoU, Dice), classification (accuracy, F1, AUC). Ultralytics' results.csv writes `metrics/mAP50(B)`.
_SCORE_NAME = re.compile(r"(map|precision|recall|f1|iou|dice|acc|auc)", re.IGNORECASE)


def unrecognised_losses(h: RunHistory) -> tuple[str, ...]:
    """Every series no reader recognised whose name says it is a loss: a GAN's `train_gen_loss` and `train_disc_loss`,
    a detector's `train/box_loss` (issue 13's corpus: a GAN whose two losses are NaN from the second step, reported
    healthy because neither is called `loss`)."""
    return tuple(sorted({n for (n, _) in h.series if not is_known(n) and "loss" in n.lower()}))


# A score's companion that is not a score: the decision threshold at which it was best (the SQuAD v2 evaluator's
# `best_f1_thresh`, 0 when answering every question is best; issue 13, blind30).
_NOT_A_SCORE = re.compile(r"thresh", re.IGNORECASE)


def unrecognised_scores(h: RunHistory) -> tuple[str, ...]:
    """Every series no reader recognised whose name says it is a score where higher is better (mAP, IoU, F1, ...)."""
    return tuple(sorted({n for (n, _) in h.series
                         if not is_known(n) and "loss" not in n.lower() and _SCORE_NAME.search(n)
                         and not _NOT_A_SCORE.search(n)}))  # fmt: skip


@dataclass(frozen=True)
class Curve:
    """The finite points of one series, as float arrays (x ascending)."""

    name: str
    axis: Axis
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def tail(self, fraction: float, *, min_points: int = 1) -> Curve:
        """The last `fraction` of the points (at least `min_points`)."""
        k = max(min_points, math.ceil(len(self) * fraction))
        return Curve(self.name, self.axis, self.x[-k:], self.y[-k:])

    def after(self, fraction: float) -> Curve:
        """The points after the first `fraction` of the run (by position)."""
        k = int(len(self) * fraction)
        return Curve(self.name, self.axis, self.x[k:], self.y[k:])


def get_curve(h: RunHistory, name: str, axis: Axis | None = None, *, min_points: int = 1) -> Curve | None:
    """The finite points of series `name` (epoch series first when no axis), or None with fewer than `min_points`."""
    s = h.get(name, axis)
    if s is None:
        return None
    x, y = s.finite()
    if len(y) < max(1, min_points):
        return None
    return Curve(name, s.axis, x, y)


def epoch_or_step(h: RunHistory, name: str, *, min_epochs: int = 3, min_steps: int = 3) -> Curve | None:
    """The epoch curve when it has `min_epochs` points (epoch means are already averaged), else the step curve."""
    e = get_curve(h, name, "epoch", min_points=min_epochs)
    if e is not None:
        return e
    return get_curve(h, name, "step", min_points=min_steps)


def step_or_epoch(h: RunHistory, name: str, *, min_points: int = 1) -> Curve | None:
    """The step curve (finer grained) when there is one, else the epoch curve."""
    return get_curve(h, name, "step", min_points=min_points) or get_curve(h, name, "epoch", min_points=min_points)


EXACT_WINDOW = 101  # running medians up to this width are exact; wider ones run on block medians
CHUNK = 1 << 15  # windows per vectorised median: 32k windows of 101 points are 26 MB


def window_medians(windows: np.ndarray) -> np.ndarray:
    """The median of each row of a (n, k) window view, in chunks so that memory stays O(CHUNK x k)."""
    if len(windows) == 0:
        return np.empty(0)
    return np.concatenate([np.median(windows[a : a + CHUNK], axis=1) for a in range(0, len(windows), CHUNK)])


def median_filter(y: np.ndarray, k: int) -> np.ndarray:
    """Centred running median of odd width `k` (the window shrinks at the ends), linear in len(y): exact up to
    EXACT_WINDOW; a wider window is the running median of block medians (blocks of k / 25 points), which is the
    same estimate to within a block's spread."""
    n = len(y)
    if k <= 1 or n < 3:
        return y.copy()
    if k > EXACT_WINDOW:
        block = -(-k // 25)
        blocks = window_medians(np.lib.stride_tricks.sliding_window_view(np.pad(y, (0, -n % block), mode="edge"),
                                                                         block)[::block])  # fmt: skip
        return np.repeat(median_filter(blocks, (k // block) | 1), block)[:n]
    half = k // 2
    if k > n:  # every window is cut by an end (n < k <= EXACT_WINDOW points)
        return np.array([np.median(y[max(0, i - half) : i + half + 1]) for i in range(n)])
    out = np.empty(n)
    out[half : n - half] = window_medians(np.lib.stride_tricks.sliding_window_view(y, 2 * half + 1))
    for i in range(half):  # the shrinking windows at the two ends
        out[i] = np.median(y[: i + half + 1])
        out[n - 1 - i] = np.median(y[n - 1 - i - half :])
    return out


def bin_medians(c: Curve, *, min_per_bin: int, max_bins: int) -> Curve:
    """Downsample a noisy curve to the medians of consecutive bins of at least `min_per_bin` points."""
    n_bins = min(max_bins, len(c) // max(1, min_per_bin))
    if n_bins < 2:
        return c
    edges = np.linspace(0, len(c), n_bins + 1).astype(int)
    xs = [float(np.median(c.x[a:b])) for a, b in itertools.pairwise(edges) if b > a]
    ys = [float(np.median(c.y[a:b])) for a, b in itertools.pairwise(edges) if b > a]
    return Curve(c.name, c.axis, np.array(xs), np.array(ys))


def trend(c: Curve, *, min_per_bin: int = 5, max_bins: int = 60) -> Curve:
    """A de-noised version of a loss curve: epoch curves as they are, step curves as bin medians."""
    if c.axis == "epoch" or len(c) < 5:
        return c
    if len(c) < 3 * min_per_bin:
        return Curve(c.name, c.axis, c.x, median_filter(c.y, 3))
    return bin_medians(c, min_per_bin=min_per_bin, max_bins=max_bins)


def robust_sigma(v: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation."""
    if len(v) == 0:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(v - np.median(v))))


def trailing_stats(y: np.ndarray, window: int, *, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """For every i, the median and robust sigma of the up-to-`window` points before i (NaN until `min_history`)."""
    n = len(y)
    med = np.full(n, np.nan)
    sig = np.full(n, np.nan)
    for i in range(min_history, min(n, window + 1)):  # growing windows at the start
        med[i], sig[i] = float(np.median(y[:i])), robust_sigma(y[:i])
    if n > window:
        win = np.lib.stride_tricks.sliding_window_view(y[:-1], window)  # win[k] = y[k : k + window], before k+window
        for a in range(0, len(win), CHUNK):  # in chunks: memory O(CHUNK x window), not O(n x window)
            part = win[a : a + CHUNK]
            m = np.median(part, axis=1)
            med[window + a : window + a + len(part)] = m
            sig[window + a : window + a + len(part)] = MAD_TO_SIGMA * np.median(np.abs(part - m[:, None]), axis=1)
    return med, sig


def second_diff_noise(y: np.ndarray) -> float:
    """Point-to-point noise of a smooth curve: robust sigma of its second differences / sqrt(6) (a second difference
    of independent noise has variance 6 sigma^2, and it cancels any locally linear trend)."""
    if len(y) < 4:
        return 0.0
    return robust_sigma(np.diff(y, 2)) / math.sqrt(6)


def mann_kendall_z(y: np.ndarray) -> float:
    """The Mann-Kendall statistic of an upward trend as a standard normal z (Mann 1945; Kendall 1975): S, the count of
    later-higher pairs less later-lower ones, continuity-corrected over its no-trend standard deviation
    sqrt(n(n-1)(2n+5)/18). It asks only whether later values tend to be higher, so one outlier moves it by little."""
    n = len(y)
    if n < 3:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    s = float(np.sum(np.sign(y[j] - y[i])))
    sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    return (s - math.copysign(1.0, s)) / sd if s else 0.0


def recent(c: Curve, n: int = 3) -> float:
    """Median of the last `n` points: the current level, robust to one noisy value."""
    return float(np.median(c.y[-n:]))


def onset_of_final_run(c: Curve, condition: np.ndarray) -> float | None:
    """x where the final unbroken run of `condition` (a bool per point) began, or None when the last point fails."""
    if len(condition) == 0 or not condition[-1]:
        return None
    i = len(condition) - 1
    while i > 0 and condition[i - 1]:
        i -= 1
    return float(c.x[i])


def n_classes(h: RunHistory) -> int | None:
    """Number of classes from the log's meta, when it is a classification run with at least 2 classes; else the count
    its first loss gives (`classes_from_initial_loss`)."""
    if str(h.meta.get("task", "classification")).lower() not in ("classification", "", "none"):
        return None
    try:
        c = int(h.meta.get("n_classes") or 0)
    except (TypeError, ValueError):
        return None
    if c >= 2:
        return c
    return classes_from_initial_loss(h) or classes_from_uniform_end(h)


# Karpathy 2019, "A Recipe for Training Neural Networks" (verify the loss at init): a softmax classifier starts at
# ln C. A log that says nothing of its classes but logs an accuracy and starts within 3% of ln 2 is read as binary;
# within 3% of ln 3, ln 4 or ln 5 as 3-5 classes when its first accuracy is also near 1/C (ln C and ln (C+1) are
# closer than 2 x 3% from C = 6 on, so larger counts are not read from the loss).
INIT_LN2_TOLERANCE = 0.03
INIT_MAX_CLASSES = 5
INIT_ACC_ABOVE_CHANCE = 0.15


def classes_from_initial_loss(h: RunHistory) -> int | None:
    """No class count in the log, an accuracy logged, and the first training loss within 3% of ln C for C in 2..5
    (for C >= 3 the first accuracy within INIT_ACC_ABOVE_CHANCE of 1/C as well): C, else None (issue 13's corpus:
    4-class runs starting at 1.387-1.393 = ln 4 with accuracy 0.23-0.28)."""
    accs = [c for c in (h.get("train_acc"), h.get("val_acc")) if c is not None and len(c)]
    first = initial_train_loss(h)
    if h.meta.get("n_classes") or not accs or first is None:
        return None
    c = classes_at_loss(first, INIT_LN2_TOLERANCE)
    first_acc = float(accs[0].y[0]) / (100.0 if float(accs[0].y[0]) > 1.0 else 1.0)
    return c if c is not None and (c == 2 or first_acc <= 1 / c + INIT_ACC_ABOVE_CHANCE) else None


def initial_train_loss(h: RunHistory) -> float | None:
    """The loss of the model before it learned: the median of the first three finite train losses (per step when
    logged so), or None."""
    loss = h.get("train_loss", "step") or h.get("train_loss", "epoch")
    finite = [v for v in loss.y[:3] if math.isfinite(v)] if loss is not None else []
    return float(np.median(finite)) if finite else None


# A log that says nothing of its classes and ends where a uniform guess over C classes ends, on both counts: its train
# loss within 5% of ln C and its train accuracy within 6 points of 1/C over the last third of the run (issue 13,
# blind12: a binary classifier whose loss went 0.92 -> 0.67 with accuracy 0.46-0.57 and every validation sample
# predicted positive). Both must agree, so a loss merely passing ln C is not read as a class count.
END_LOSS_TOLERANCE = 0.05
END_ACC_TOLERANCE = 0.06


def classes_from_uniform_end(h: RunHistory) -> int | None:
    """C when the last third of the train loss sits within END_LOSS_TOLERANCE of ln C (C in 2..5) and that of the
    train accuracy within END_ACC_TOLERANCE of 1/C (medians), else None."""
    loss, acc = h.get("train_loss", "epoch") or h.get("train_loss", "step"), h.get("train_acc")
    if h.meta.get("n_classes") or loss is None or acc is None or len(loss) < 3 or len(acc) < 3:
        return None
    level, score = (float(np.nanmedian(np.asarray(s.y[-max(1, len(s) // 3) :], dtype=float))) for s in (loss, acc))
    if not (math.isfinite(level) and math.isfinite(score)):
        return None
    c = classes_at_loss(level, END_LOSS_TOLERANCE)
    score /= 100.0 if score > 1.0 else 1.0
    return c if c is not None and abs(score - 1 / c) <= END_ACC_TOLERANCE else None


def classes_at_loss(loss: float, tolerance: float) -> int | None:
    """The class count C in 2..INIT_MAX_CLASSES whose ln C (the loss of a uniform guess) `loss` is within `tolerance`
    of, relative; None when there is none (ln C and ln (C+1) are closer than a few percent from C = 6 on, so larger
    counts cannot be read from a loss)."""
    return next((c for c in range(2, INIT_MAX_CLASSES + 1) if abs(loss / math.log(c) - 1) <= tolerance), None)


def meta_int(h: RunHistory, key: str) -> int | None:
    try:
        v = int(h.meta.get(key) or 0)
    except (TypeError, ValueError):
        return None
    return v if v > 0 else None


def steps_per_epoch(h: RunHistory) -> int | None:
    """Optimizer steps per epoch: meta `steps_per_epoch`, else read off a series logged on both axes with one value
    per epoch (an evaluation logged at the step that ended each epoch, as Hugging Face's trainer_state.json and
    hand-written JSON-lines loggers record it): the median steps between consecutive epochs."""
    spe = meta_int(h, "steps_per_epoch")
    if spe is not None:
        return spe
    for (name, axis), e in h.series.items():
        s = h.series.get((name, "step"))
        if axis != "epoch" or s is None or len(s) != len(e) or len(e) < 2:
            continue
        de, ds = np.diff(np.asarray(e.x, dtype=float)), np.diff(np.asarray(s.x, dtype=float))
        if (de <= 0).any() or (ds <= 0).any():
            continue
        spe = steady_steps_per_epoch((ds / de).tolist())  # consistent spacing only
        if spe is not None:
            return spe
    return None


def eval_interval(h: RunHistory) -> int | None:
    """Optimizer steps between evaluations, when the val loss (or accuracy) was logged on the step axis at a regular
    interval (TensorBoard's `add_scalar(..., global_step)` once per epoch, Hugging Face's `eval_steps`)."""
    for name in ("val_loss", "val_acc"):
        s = h.get(name, "step")
        if s is None or len(s) < 3:
            continue
        d = np.diff(np.asarray(s.x, dtype=float))
        est = float(np.median(d))
        if est >= 1 and float(np.mean(np.abs(d - est) <= 0.05 * est)) >= 0.8:
            return round(est)
    return None


def current_lr(h: RunHistory, before: float | None = None, axis: Axis | None = None) -> float | None:
    """The learning rate (last finite value of the lr series, before x=`before` on `axis`), else meta `lr`."""
    c = get_curve(h, "lr", axis) if axis else step_or_epoch(h, "lr")
    if c is not None:
        ys = c.y[c.x < before] if before is not None else c.y
        ys = ys[ys > 0]
        if len(ys):
            return float(ys[-1])
    try:
        lr = float(h.meta.get("lr") or 0)
    except (TypeError, ValueError):
        return None
    return lr if lr > 0 and math.isfinite(lr) else None


def clip01(v: float) -> float:
    return float(min(1.0, max(0.0, v)))


def scaled_confidence(value: float, lo: float, hi: float, *, c_lo: float = 0.5, c_hi: float = 0.95) -> float:
    """Confidence c_lo at `value == lo` rising linearly to c_hi at `value == hi` (either direction), clipped."""
    if hi == lo:
        return c_hi
    t = (value - lo) / (hi - lo)
    return round(clip01(c_lo + (c_hi - c_lo) * min(1.0, max(0.0, t))), 3)


def fmt(v: float | None) -> str:
    """A number as a person reads it in a diagnosis: 3 significant digits."""
    if v is None:
        return "n/a"
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.4g}" if abs(v) >= 1 else f"{v:.3g}"


def num(v: Any) -> Any:
    """An evidence value: floats rounded to 6 significant digits, non-finite as text (JSON has no NaN)."""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f"{f}" if not math.isfinite(f) else float(f"{f:.6g}")
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return [num(a) for a in v]
    if isinstance(v, dict):
        return {str(k): num(a) for k, a in v.items()}
    return v


def solutions(issue: str, *, first: Iterable[str] = (), notes: Mapping[str, str] | None = None) -> list[str]:
    """The knowledge base's solutions for `issue` (most effective first), with the entries that contain the
    phrases in `first` moved to the front in that order, and `notes` ({phrase: text}) appended to the entry
    containing the phrase, so the numbers this run measured appear where they are acted on."""
    sols = list(get_problem(issue).solutions)
    for phrase in reversed(list(first)):
        i = _find(sols, phrase)
        if i is not None:
            sols.insert(0, sols.pop(i))
    for phrase, text in (notes or {}).items():
        i = _find(sols, phrase)
        if i is not None:
            sols[i] = f"{sols[i]} (here: {text})"
    return sols


def _find(items: list[str], phrase: str) -> int | None:
    low = phrase.lower()
    return next((i for i, s in enumerate(items) if low in s.lower()), None)


def finding(
    *,
    issue: str,
    rule: str,
    severity: Severity,
    diagnosis: str,
    evidence: Mapping[str, Any],
    source: str,
    solution: list[str] | None = None,
    axis: Axis | None = None,
    began_at: float | None = None,
    confidence: float = 1.0,
) -> Finding:
    return Finding(
        issue=issue,
        severity=severity,
        diagnosis=diagnosis,
        solution=solution if solution is not None else solutions(issue),
        evidence={k: num(v) for k, v in evidence.items()},
        axis=axis if began_at is not None else None,
        began_at=float(began_at) if began_at is not None and math.isfinite(began_at) else None,
        confidence=round(clip01(confidence), 3),
        rule=rule,
        source=source,
    )


def at(axis: Axis, x: float) -> str:
    """'step 120' / 'epoch 7' for diagnosis text."""
    return f"{axis} {fmt(x) if x != int(x) else int(x)}"


# Heuristic: a learning rate back up 1.5x or more from a lower value restarted its schedule (warm restarts, SGDR:
# Loshchilov & Hutter, arXiv 1608.03983; appended fine-tuning runs): a loss that jumps with it is the schedule's doing.
LR_RESTART_RATIO = 1.5

# Heuristic: an accuracy 10 points above where it started has learned something (issue 13: blind12's U-Net at 0.55 ->
# 0.85 while its Dice-like loss stays near 1; blind14's text classifier at 0.49 -> 0.69 beside an F1 of exactly 0).
ACC_ROSE = 0.10


def frozen_val_acc(h: RunHistory) -> float | None:
    """The validation accuracy when it is identical (to 1e-6) at every one of >= 4 evaluations, between 0 and 0.99:
    the weights changed but the predictions did not, so it is the share of the one class predicted (issue 13's corpus:
    0.66977 at all 9 epochs of a 7-class skin-lesion run, the majority class's share)."""
    acc = get_curve(h, "val_acc", min_points=4)
    if acc is None or float(acc.y.max() - acc.y.min()) > 1e-6:
        return None
    value = float(acc.y[0]) / (100.0 if float(acc.y[0]) > 1.0 else 1.0)
    return value if 0 < value < 0.99 else None


# Heuristic: accuracy "at chance" = every one of at least CHANCE_MIN_ACC_EVALS evaluations within CHANCE_BAND of 1/C
# (binary: 0.5), with no clear upward trend (a Mann-Kendall z under CHANCE_RISING_Z, 0.1% one-sided): a 10-class run at
# a learning rate far too low climbs 0.09 -> 0.14 at every one of 12 epochs (z 4.5), inside the band, and converges
# slowly; it is not stuck. A binary YOLOv8 classifier's 0.46-0.56 over 50 epochs (issue 13, blind27) drifts at z 2.5.
CHANCE_BAND = 0.06
CHANCE_MIN_ACC_EVALS = 12
CHANCE_RISING_Z = 3.09


def val_acc_at_chance(h: RunHistory) -> Curve | None:
    """The validation accuracy (as fractions) when every one of its >= CHANCE_MIN_ACC_EVALS evaluations lies within
    CHANCE_BAND of chance, 1/C (C = 2 when the log does not say), and it does not trend up: nothing was learned that
    carries over. Else None."""
    acc = get_curve(h, "val_acc", min_points=CHANCE_MIN_ACC_EVALS)
    if acc is None:
        return None
    if float(acc.y.max()) > 1.0:  # accuracies in percent
        acc = Curve(acc.name, acc.axis, acc.x, acc.y / 100.0)
    if float(np.abs(acc.y - 1.0 / (n_classes(h) or 2)).max()) > CHANCE_BAND or mann_kendall_z(acc.y) >= CHANCE_RISING_Z:
        return None
    return acc


def accuracy_gain(acc: Curve) -> float:
    """How far an accuracy rose, as a fraction: the median of its last 3 values less its first."""
    y = acc.y / (100.0 if float(np.max(acc.y)) > 1.0 else 1.0)
    return float(np.median(y[-3:]) - y[0])


# Heuristic: a training accuracy at 99% or more over its last quarter (of at least FITS_MIN_POINTS points): the model
# gets every training sample right.
FITS_TRAIN_ACC = 0.99
FITS_MIN_POINTS = 6


def fits_the_training_set(h: RunHistory) -> bool:
    """The training accuracy's last quarter (median) is FITS_TRAIN_ACC or more: a run that gets every training
    sample right has not diverged, whatever its loss does near 0 (issue 13, blind16: a light-curve classifier's step
    loss 1e-5 to 4e-3 after epoch 9, train accuracy 1.0 in most rows), and has nothing left to converge to on its
    training set, whatever a regularisation term keeps in its loss (blind30: a 58-image classifier at train accuracy
    1.0 whose loss still falls 0.5% per epoch)."""
    acc = get_curve(h, "train_acc", min_points=FITS_MIN_POINTS)
    if acc is None:
        return False
    scale = 100.0 if float(acc.y.max()) > 1.0 else 1.0
    k = max(2, len(acc) // 4)
    return float(np.median(acc.y[-k:])) / scale >= FITS_TRAIN_ACC


def accuracy_rose(h: RunHistory) -> bool:
    """The validation accuracy (else the training one) rose ACC_ROSE or more."""
    acc = get_curve(h, "val_acc", min_points=2) or get_curve(h, "train_acc", min_points=2)
    return acc is not None and accuracy_gain(acc) >= ACC_ROSE


def loss_progress(h: RunHistory) -> tuple[float, float, float] | None:
    """(first, current, relative improvement) of the de-noised train loss, or None without enough points."""
    c = epoch_or_step(h, "train_loss", min_epochs=3, min_steps=5)
    if c is None:
        return None
    t = trend(c)
    first = float(np.median(c.y[:3])) if c.axis == "step" else float(t.y[0])
    cur = recent(t)
    if first == 0:
        return None
    return first, cur, (first - cur) / abs(first)


def most_common(y: np.ndarray, tol: float) -> tuple[float, float]:
    """(the most common value of `y`, the share of points within `tol` of it); tol 0 counts exact repeats."""
    keys = np.round(y / tol) if tol > 0 else y
    values, counts = np.unique(keys, return_counts=True)
    i = int(np.argmax(counts))
    return float(values[i] * tol if tol > 0 else values[i]), float(counts[i] / len(y))


def printed_step(y: np.ndarray, max_decimals: int = 8) -> float | None:
    """The last printed digit's unit when every value of `y` was logged with at most `max_decimals` decimals (0.0005,
    0.0003: 1e-4), else None (full-precision floats)."""
    finite = y[np.isfinite(y)]
    for decimals in range(max_decimals + 1):
        if len(finite) and np.allclose(finite, np.round(finite, decimals), rtol=0, atol=1e-12):
            return 10.0**-decimals
    return None


def significant_digits(value: float) -> int:
    """How many significant digits `value` carries as logged (3.3917625: 8; 0.0012: 2; 0: 0)."""
    mantissa = f"{abs(value):.15e}".split("e")[0].replace(".", "").rstrip("0")
    return len(mantissa) if value else 0


def has_digits(y: np.ndarray, digits: int) -> np.ndarray:
    """Whether each finite value of `y` carries at least `digits` significant digits, as significant_digits counts them,
    in one vectorised pass: a value of fewer digits is a whole number once scaled to digits - 1 of them, so only the
    values within 1e-6 of one need the exact count."""
    y = np.asarray(y, dtype=float)
    size = np.abs(y)
    nonzero = size > 0
    scaled = np.zeros_like(size)
    exponent = np.floor(np.log10(size, where=nonzero, out=np.zeros_like(size)))
    with np.errstate(over="ignore", invalid="ignore"):  # near 1e-308 the scale overflows: NaN, then the exact count
        scaled[nonzero] = size[nonzero] * 10.0 ** (digits - 2 - exponent[nonzero])
        result = nonzero & (np.abs(scaled - np.round(scaled)) >= 1e-6)
    for i in np.flatnonzero(nonzero & ~result):
        result[i] = significant_digits(float(y[i])) >= digits
    return result
