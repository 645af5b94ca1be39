"""Gradient health: exploding and vanishing gradients (global and per layer) and dead ReLU units.

Per-layer series (`grad_norm/<layer>`, `dead_fraction/<layer>`) are taken in the order the log lists them, which for
PyTorch's `named_parameters()` / `named_modules()` is input to output: the first is the earliest layer.
"""

from __future__ import annotations

import numpy as np

from ...schema.diagnosis import Finding, Severity
from .._registry import register_rule
from ..history import Axis, RunHistory
from ._common import (
    AXES,
    Curve,
    at,
    current_lr,
    finding,
    fmt,
    get_curve,
    loss_progress,
    median_filter,
    onset_of_final_run,
    scaled_confidence,
    solutions,
    step_or_epoch,
    trailing_stats,
    window_medians,
)

# Heuristic: the part of the run whose median is the "current" value of a gradient statistic.
RECENT_FRACTION = 1 / 3
# Heuristic: loss improved by less than 10% over the run = not learning. AUTOTRAINER (Zhang et al., ICSE 2021)
# likewise only blames vanishing/exploding gradients or dying ReLUs when training does not converge.
STAGNANT_IMPROVEMENT = 0.10


def _stagnant(h: RunHistory) -> bool | None:
    p = loss_progress(h)
    return None if p is None else p[2] < STAGNANT_IMPROVEMENT


def _layers(h: RunHistory, base: str) -> tuple[Axis, dict[str, Curve]]:
    """Per-layer curves of `base` (finite points), step axis when present, in logged (input-to-output) order."""
    for axis in AXES:
        out: dict[str, Curve] = {}
        for layer, s in h.layers(base, axis).items():
            c = get_curve(h, s.name, s.axis)
            if c is not None:
                out[layer] = c
        if out:
            return axis, out
    return "step", {}


def _recent_median(c: Curve) -> float:
    return float(np.median(c.tail(RECENT_FRACTION).y))


def _ratio_curve(a: Curve, b: Curve) -> Curve | None:
    """a / b at the x values both share."""
    xs, ia, ib = np.intersect1d(a.x, b.x, return_indices=True)
    if len(xs) == 0:
        return None
    den = b.y[ib]
    ok = den > 0
    if not ok.any():
        return None
    return Curve(f"{a.name}/{b.name}", a.axis, xs[ok], a.y[ia][ok] / den[ok])


# ------------------------------------------------------------------------------------- exploding_gradients

# problems.yaml exploding_gradients: "exceeds ~10x its running median".
GRAD_SPIKE_FACTOR = 10.0
# Heuristic: running median over the previous 50 logged points, judged once 3 are there (a surge in the first few
# logged points must still have a quiet baseline to be measured against).
GRAD_BASELINE_WINDOW = 50
GRAD_MIN_HISTORY = 3
# Heuristic: an explosion stays high for >= 3 consecutive logged points (one high point is a spike, which clipping
# absorbs and loss_spike reports if the loss moves).
GRAD_SUSTAIN = 3
# Heuristic: the loss at the explosion is >= 10% above its level just before (the explosion hurts training).
GRAD_LOSS_RISE = 1.10
# Heuristic: the median gradient norm of the last quarter is >= 100x that of the first quarter: geometric growth.
GRAD_GROWTH_FACTOR = 100.0
# AUTOTRAINER (monitor.py `gradient_issue`, threshold_high = beta_3 = 70): first-layer / last-layer gradient-norm
# ratio above 70 means gradients explode towards the input.
LAYER_RATIO_EXPLODE = 70.0

EXPLODE_SOURCE = (
    "problems.yaml exploding_gradients (> ~10x running median); AUTOTRAINER (Zhang et al., ICSE 2021) first/last "
    "layer gradient-norm ratio > 70; Pascanu et al., arXiv 1211.5063; sustain 3 points, growth 100x: heuristics"
)


def _explosions(c: Curve) -> list[tuple[int, int, float]]:
    """(start, end, baseline) index ranges where the norm stays > GRAD_SPIKE_FACTOR x its running median.

    A level-shift test: at each point the baseline is the running median of the points before it, and an episode
    starts there when the median of the next GRAD_SUSTAIN points is above the bar (a surge that ramps up over a few
    points is measured against the quiet points before the ramp, not against its own first steps). The baseline is
    then frozen: a running median that kept moving would soon be made of the surge itself, so an early or a long
    surge would be measured against its own level. "Stays" is judged on the centred median of 3 points, so one dip
    under the bar does not end an episode.
    """
    y = c.y
    meds, _ = trailing_stats(y, GRAD_BASELINE_WINDOW, min_history=GRAD_MIN_HISTORY)
    level = median_filter(y, 3)
    ahead_median = _ahead_medians(y, GRAD_SUSTAIN)
    with np.errstate(invalid="ignore"):  # NaN baselines (too little history) never start an episode
        starts = (meds > 0) & (ahead_median > GRAD_SPIKE_FACTOR * meds)
    starts[:GRAD_MIN_HISTORY] = False
    out: list[tuple[int, int, float]] = []
    i = GRAD_MIN_HISTORY
    while True:
        found = np.flatnonzero(starts[i:])
        if not len(found):
            return out
        i += int(found[0])
        base = float(meds[i])
        bar = GRAD_SPIKE_FACTOR * base
        start = i + int(np.argmax(y[i : i + GRAD_SUSTAIN] > bar))
        below = np.flatnonzero(level[start + 1 :] <= bar)  # the episode lasts while the centred median stays above
        end = start + int(below[0]) if len(below) else len(y) - 1
        out.append((start, end, base))
        i = end + 1


def _ahead_medians(y: np.ndarray, k: int) -> np.ndarray:
    """The median of y[i : i + k] for every i (fewer points at the end)."""
    out = np.empty(len(y))
    full = max(0, len(y) - k + 1)
    out[:full] = window_medians(np.lib.stride_tricks.sliding_window_view(y, k)) if full else []
    for i in range(full, len(y)):
        out[i] = np.median(y[i : i + k])
    return out


def _measured(c: Curve | None) -> Curve | None:
    """The gradient norms that were measured: a norm of exactly 0 is a step where none was computed or none flowed
    (issue 13, blind8: a fine-tune logging 0.0 at 168 of 300 steps), and a running median over those zeros makes any
    real norm look like an explosion. Vanishing gradients are judged by their own rule on the raw series."""
    if c is None or c.y.all():
        return c
    kept = c.y != 0
    return Curve(c.name, c.axis, c.x[kept], c.y[kept]) if kept.sum() >= GRAD_MIN_HISTORY + GRAD_SUSTAIN else None


@register_rule(issue="exploding_gradients")
def exploding_gradients(h: RunHistory) -> Finding | None:
    """Symptom: the gradient norm jumps to more than 10x its running median and stays there while the loss rises,
    or grows by orders of magnitude over the run, or the first layers' gradients are > 70x the last layer's.
    Cause: a learning rate too high for the network, no gradient clipping, missing normalisation or a poor
    initialisation; deep plain networks and vanilla RNNs are most prone (Pascanu et al., 2013).
    Remedy: clip the gradient norm (clip_grad_norm_ max_norm=1.0), lower the learning rate 3-10x with warmup, and add
    normalisation layers and residual connections; use He/Xavier (or orthogonal recurrent) initialisation.
    """
    c = _measured(step_or_epoch(h, "grad_norm", min_points=GRAD_MIN_HISTORY + GRAD_SUSTAIN))
    reasons: list[str] = []
    severity: Severity = "info"
    began: float | None = None
    axis: Axis = c.axis if c is not None else "step"
    evidence: dict[str, object] = {}
    episodes: list[dict[str, float | None]] = []
    confidence = 0.5
    loss = get_curve(h, "train_loss", axis)
    if c is not None:
        evidence["n_points"] = len(c)
        evidence["episodes"] = episodes
        long_runs = [
            e for e in _explosions(c) if e[1] - e[0] + 1 >= GRAD_SUSTAIN or (e[1] == len(c) - 1 and e[1] > e[0])
        ]
        raw = h.get("grad_norm", axis)
        for start, end, base in long_runs:
            x0, x1 = float(c.x[start]), float(c.x[end])
            peak = float(np.max(c.y[start : end + 1]))
            rise = _loss_rise(loss, x0, x1) if loss is not None else None
            bad_grad = raw.first_nonfinite() if raw is not None else None
            broke = _nonfinite_after(h, axis, x0) or (bad_grad is not None and bad_grad >= x0)
            episodes.append({"start": x0, "end": x1, "baseline": base, "peak": peak, "loss_rise": rise})
            hurt = broke or (rise is not None and rise >= GRAD_LOSS_RISE)
            # with no loss to tell, a surge is reported; a policy-gradient run's norm surges whenever a batch's groups
            # carry an advantage at all (most carry none), so there the surge alone says nothing
            if began is None and (hurt or (loss is None and not h.policy_gradient)):
                began = x0
                severity = "error" if broke else "warning"
                confidence = scaled_confidence(peak / base, GRAD_SPIKE_FACTOR, 10 * GRAD_SPIKE_FACTOR, c_lo=0.6)
                reasons.append(
                    f"the gradient norm rose from a running median of {fmt(base)} to {fmt(peak)} "
                    f"({fmt(peak / base)}x) at {at(axis, x0)}"
                    + (
                        f" and stayed above {fmt(GRAD_SPIKE_FACTOR)}x for {end - start + 1} logged points"
                        if end > start
                        else ""
                    )
                    + (f", while the loss rose {fmt(rise)}x" if rise is not None else "")
                    + ("; non-finite values followed" if broke else "")
                )
        if len(c) >= 8:
            q = max(2, len(c) // 4)
            early, late = float(np.median(c.y[1 : q + 1])), float(np.median(c.y[-q:]))
            growth = late / early if early > 0 else None
            evidence["growth_late_vs_early"] = growth
            if growth is not None and growth >= GRAD_GROWTH_FACTOR:
                reasons.append(f"the median gradient norm grew {fmt(growth)}x from the first to the last quarter")
                if severity == "info":
                    severity = "warning"
                    confidence = scaled_confidence(growth, GRAD_GROWTH_FACTOR, 100 * GRAD_GROWTH_FACTOR, c_lo=0.6)
                if began is None:
                    above = c.y >= 10 * early
                    began = float(c.x[int(np.argmax(above))]) if above.any() else None
    # AUTOTRAINER's layer ratio: first layer vs last layer.
    l_axis, layers = _layers(h, "grad_norm")
    if len(layers) >= 2:
        names = list(layers)
        ratio = _ratio_curve(layers[names[0]], layers[names[-1]])
        if ratio is not None:
            r = _recent_median(ratio)
            evidence["first_last_layer_ratio"] = r
            evidence["first_layer"], evidence["last_layer"] = names[0], names[-1]
            if r > LAYER_RATIO_EXPLODE:
                stagnant = _stagnant(h)
                reasons.append(
                    f"the first layer ({names[0]}) has {fmt(r)}x the gradient norm of the last ({names[-1]}) "
                    f"(AUTOTRAINER flags > {fmt(LAYER_RATIO_EXPLODE)})"
                )
                if stagnant is not False and severity == "info":
                    severity, confidence = "warning", 0.6
                if began is None:
                    began = onset_of_final_run(ratio, ratio.y > LAYER_RATIO_EXPLODE)
                    axis = l_axis
    if not reasons:
        return None
    lr = current_lr(h, before=began, axis=axis)
    evidence["lr"] = lr
    return finding(
        issue="exploding_gradients",
        rule="exploding_gradients",
        severity=severity,
        diagnosis="Exploding gradients: " + "; ".join(reasons) + ".",
        evidence=evidence,
        source=EXPLODE_SOURCE,
        solution=solutions(
            "exploding_gradients", notes={"Reduce the learning rate": f"lr {fmt(lr)} -> {fmt(lr / 5)}"} if lr else {}
        ),
        axis=axis,
        began_at=began,
        confidence=confidence,
    )


def _loss_rise(loss: Curve, x0: float, x1: float) -> float | None:
    """Median loss during the episode (and as long again after it) over the median loss before it: medians, so
    minibatch noise in a long episode does not pass for a rise."""
    before = loss.y[loss.x < x0][-GRAD_BASELINE_WINDOW:]
    during = loss.y[(loss.x >= x0) & (loss.x <= x1 + (x1 - x0) + 1)]
    if len(before) < 2 or len(during) == 0:
        return None
    ref = float(np.median(before))
    return float(np.median(during) / ref) if ref > 0 else None


def _nonfinite_after(h: RunHistory, axis: Axis, x0: float) -> bool:
    s = h.get("train_loss", axis)
    if s is None:
        return False
    bad = s.first_nonfinite()
    return bad is not None and bad >= x0


# ------------------------------------------------------------------------------------- vanishing_gradients

# Amazon SageMaker Debugger VanishingGradient: default threshold 1e-7 on the mean absolute gradient. Applied here to
# norms, which are larger than the mean |g|, so the test is conservative.
VANISH_ABS = 1e-7
# AUTOTRAINER (monitor.py `gradient_issue`, threshold_low_1 = beta_2 = 1e-4): first layer's gradient norm.
VANISH_FIRST_LAYER = 1e-4
# AUTOTRAINER (threshold_low = beta_1 = 1e-3): first-layer / last-layer gradient-norm ratio.
VANISH_RATIO = 1e-3

VANISH_SOURCE = (
    "Amazon SageMaker Debugger VanishingGradient (threshold 1e-7); AUTOTRAINER (Zhang et al., ICSE 2021) "
    "beta_1 = 1e-3 (first/last layer ratio) and beta_2 = 1e-4 (first-layer norm), judged when training stalls"
)


@register_rule(issue="vanishing_gradients")
def vanishing_gradients(h: RunHistory) -> Finding | None:
    """Symptom: the gradients reaching the first layers are tiny (norm < 1e-4 and < 1/1000 of the last layer's), or
    the whole gradient is ~0 (< 1e-7), while the loss stays near where it started.
    Cause: saturating activations (sigmoid/tanh) in a deep network, poor initialisation, or no normalisation or skip
    connections, so the backpropagated signal shrinks layer by layer.
    Remedy: use ReLU-family/GELU activations with He initialisation, add BatchNorm/LayerNorm and residual connections;
    for RNNs use LSTM/GRU; then raise the learning rate if needed.
    """
    stagnant = _stagnant(h)
    reasons: list[str] = []
    evidence: dict[str, object] = {"loss_stagnant": stagnant}
    severity: Severity = "info"
    began: float | None = None
    axis: Axis = "step"
    confidence = 0.5
    g = step_or_epoch(h, "grad_norm", min_points=3)
    if g is not None:
        cur = _recent_median(g)
        evidence["grad_norm_recent"] = cur
        # A loss that fell a lot with a tiny gradient is a converged model, not a vanishing one.
        tiny = (cur < VANISH_ABS and stagnant is not False) or (cur < VANISH_FIRST_LAYER and stagnant is True)
        if tiny:
            reasons.append(f"the global gradient norm is {fmt(cur)} over the last third of the run")
            severity = "warning"
            confidence = 0.9 if cur < VANISH_ABS else 0.7
            began, axis = onset_of_final_run(g, g.y < VANISH_FIRST_LAYER), g.axis
    l_axis, layers = _layers(h, "grad_norm")
    if len(layers) >= 2:
        names = list(layers)
        first, last = layers[names[0]], layers[names[-1]]
        ratio = _ratio_curve(first, last)
        g_first = _recent_median(first)
        evidence.update({"first_layer": names[0], "last_layer": names[-1], "first_layer_recent": g_first})
        # At least 3 samples per layer: at initialisation, zero-initialised last BatchNorm weights in residual blocks
        # (Goyal et al. 2017, arXiv 1706.02677) give their branch exactly zero gradient until the first update.
        dead_layers = {
            n: _recent_median(c) for n, c in layers.items() if len(c) >= 3 and _recent_median(c) < VANISH_ABS
        }
        if dead_layers:
            evidence["layers_below_1e-7"] = dead_layers
        if ratio is not None:
            r = _recent_median(ratio)
            evidence["first_last_layer_ratio"] = r
            if r < VANISH_RATIO and g_first < VANISH_FIRST_LAYER:
                reasons.append(
                    f"the first layer ({names[0]}) gets a gradient norm of {fmt(g_first)}, {fmt(r)} of the last "
                    f"layer's ({names[-1]}); AUTOTRAINER flags < {fmt(VANISH_RATIO)} with < {fmt(VANISH_FIRST_LAYER)}"
                )
                if stagnant is not False:
                    severity, confidence = "warning", scaled_confidence(-np.log10(max(r, 1e-30)), 3, 6, c_lo=0.6)
                if began is None:
                    began, axis = onset_of_final_run(ratio, ratio.y < VANISH_RATIO), l_axis
            elif r < VANISH_RATIO:
                reasons.append(f"the first layer's gradient norm is only {fmt(r)} of the last layer's")
                if began is None:
                    began, axis = onset_of_final_run(ratio, ratio.y < VANISH_RATIO), l_axis
        if dead_layers and not reasons:
            reasons.append(
                f"{len(dead_layers)} layer(s) get gradients below {fmt(VANISH_ABS)}: {', '.join(dead_layers)}"
            )
            severity = "warning" if stagnant is True else "info"
    if not reasons:
        return None
    p = loss_progress(h)
    tail = ""
    if p is not None:
        evidence.update({"loss_first": p[0], "loss_now": p[1], "loss_improvement": p[2]})
        tail = f"; the loss moved from {fmt(p[0])} to {fmt(p[1])} ({p[2]:.1%})"
    return finding(
        issue="vanishing_gradients",
        rule="vanishing_gradients",
        severity=severity,
        diagnosis="Vanishing gradients: " + "; ".join(reasons) + tail + ".",
        evidence=evidence,
        source=VANISH_SOURCE,
        axis=axis,
        began_at=began,
        confidence=confidence,
    )


# -------------------------------------------------------------------------------------------------- dead_relu

# Amazon SageMaker Debugger DeadRelu: a layer is flagged when more than threshold_layer = 50% of its ReLUs are dead
# (active on less than threshold_inactivity = 1% of inputs).
DEAD_LAYER_FRACTION = 0.5
# AUTOTRAINER (monitor.py `gradient_issue`, threshold_die_1 = gamma = 0.7): 70% zero gradients = dying ReLU.
DEAD_STRONG_FRACTION = 0.7
# Heuristic: a layer with >= 99% dead units passes (almost) no signal; nothing downstream can learn.
DEAD_TOTAL_FRACTION = 0.99
# Heuristic: "dead from the start" when the first logged value is already above the layer threshold.

DEAD_SOURCE = (
    "Amazon SageMaker Debugger DeadRelu (threshold_layer 50%, threshold_inactivity 1%); AUTOTRAINER (Zhang et al., "
    "ICSE 2021) gamma = 0.7; 99% (layer passes no signal) is a heuristic"
)


def _fractions(c: Curve) -> Curve:
    """Dead fractions as 0..1 (some loggers write percent)."""
    return Curve(c.name, c.axis, c.x, c.y / 100.0) if float(np.max(c.y)) > 1.0 else c


@register_rule(issue="dead_relu")
def dead_relu(h: RunHistory) -> Finding | None:
    """Symptom: more than half of the ReLU units in a layer output zero for every input (SageMaker's DeadRelu rule),
    so they receive no gradient and never recover.
    Cause: a learning rate high enough that one large update pushed units into the negative region, large negative
    biases, or a poor initialisation; the dead fraction typically jumps after a high-lr phase.
    Remedy: lower the learning rate 3-10x with warmup, use LeakyReLU/GELU/SiLU, He initialisation with zero biases,
    BatchNorm before the activations, and gradient clipping.
    """
    axis, layers = _layers(h, "dead_fraction")
    curves = {n: _fractions(c) for n, c in layers.items()}
    overall = step_or_epoch(h, "dead_fraction")
    if overall is not None:
        curves.setdefault("(all layers)", _fractions(overall))
        if not layers:
            axis = overall.axis
    if not curves:
        return None
    recent = {n: _recent_median(c) for n, c in curves.items()}
    flagged = {n: v for n, v in recent.items() if v >= DEAD_LAYER_FRACTION}
    if not flagged:
        return None
    worst = max(flagged, key=lambda n: flagged[n])
    w = flagged[worst]
    from_start = all(float(curves[n].y[0]) >= DEAD_LAYER_FRACTION for n in flagged)
    onsets = [onset_of_final_run(curves[n], curves[n].y >= DEAD_LAYER_FRACTION) for n in flagged]
    began = min((o for o in onsets if o is not None), default=None)
    severity: Severity = "error" if w >= DEAD_TOTAL_FRACTION else "warning"
    lr = current_lr(h, before=began, axis=axis)
    first: tuple[str, ...]
    if from_start:
        first = ("He (Kaiming)", "LeakyReLU")
        why = "they were dead from the first measurement, which points at initialisation (or biases), not training"
    else:
        first = ("Lower the learning rate",)
        why = (
            f"they died during training (from {at(axis, began)})" if began is not None else "they died during training"
        )
    return finding(
        issue="dead_relu",
        rule="dead_relu",
        severity=severity,
        diagnosis=(
            f"{len(flagged)} of {len(curves)} layer(s) have >= {DEAD_LAYER_FRACTION:.0%} dead ReLU units; worst "
            f"{worst} at {w:.1%}{' (it passes almost no signal)' if w >= DEAD_TOTAL_FRACTION else ''}; {why}."
        ),
        evidence={
            "dead_fraction_recent": recent,
            "flagged_layers": sorted(flagged),
            "worst_layer": worst,
            "worst_fraction": w,
            "dead_from_start": from_start,
            "lr": lr,
        },
        source=DEAD_SOURCE,
        solution=solutions(
            "dead_relu", first=first, notes={"Lower the learning rate": f"lr {fmt(lr)} -> {fmt(lr / 5)}"} if lr else {}
        ),
        axis=axis,
        began_at=began,
        confidence=scaled_confidence(w, DEAD_LAYER_FRACTION, DEAD_STRONG_FRACTION, c_lo=0.6, c_hi=1.0),
    )
