"""The one table that turns what loggers call a metric into the canonical names of `history.py`.

`normalise(name)` strips a granularity marker first (Lightning's `_step`/`_epoch` suffixes, Keras TensorBoard's
`epoch_`/`batch_` prefixes, dlexpert's `step/`/`epoch/` tags), which says which axis a value belongs on, then looks
the rest up in `NAME_TABLE`. A name nothing matches is kept as it was written (an unknown series, reported).

Example:
    >>> normalise("val_loss_epoch")
    ('val_loss', 'epoch')
    >>> normalise("grad_2.0_norm/fc.weight")
    ('grad_norm/fc.weight', None)
    >>> normalise("my_metric")
    ('my_metric', None)
"""

from __future__ import annotations

import re
from typing import Literal

from ..history import is_known

Axis = Literal["step", "epoch"]
Phase = Literal["train", "val"]

_SEP = r"[/_ .-]?"
_TRAIN = r"(?:train|training|trn)"
_VAL = r"(?:val|valid|validation|eval|evaluation|dev)"
# A loss, also averaged or summed over its terms: `total_loss` (detectron2), `mean_loss`, `avg_loss`; a list of
# them named in the plural (`train_losses`, `val_accs`: a hand-written PyTorch history saved as a dict of lists); the
# cross-entropy by its own name (`val_mean_ce`, `train_cross_entropy`, `xent`: issue 13, blind22's next-token model).
_LOSS = r"(?:(?:total|mean|avg|average)[_ ]?)?(?:loss|losses|objective|ce|cross[_ ]?entropy|xent)"
# Balanced accuracy (`balanced_accuracy`, `bal_acc`, `bacc`, `bas` for scikit-learn's balanced_accuracy_score) is read
# as an accuracy: its chance level is 1/C whatever the class shares, as the rules assume.
_ACC = (
    r"(?:acc|accs|accuracy|accuracies|acc1|acc_top1|acc_top_1|accuracy_top1|accuracy_top_1|acc@1|top1|top_1|top1_acc"
    r"|top_1_accuracy"
    r"|(?:sparse_)?categorical_accuracy"
    r"|balanced[_ ]?acc(?:uracy)?|bal[_ ]?acc|bacc|bas)"
)
_LAYER = r"(?P<layer>.+)"


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# (pattern matched against the whole name, case-insensitive; canonical name, `\g<layer>` for per-layer names).
# First match wins, so the more specific patterns come first within a group.
# fmt: off
NAME_TABLE: tuple[tuple[re.Pattern[str], str], ...] = (
    # Validation loss: Keras `val_loss`, HF `eval_loss`, TensorBoard `Loss/val`, `val/loss`, `evaluation_loss`.
    # Keras TensorBoard's validation/ folder logs `evaluation_loss_vs_iterations` against the step.
    (_p(rf"{_VAL}{_SEP}{_LOSS}"), "val_loss"),
    (_p(rf"{_LOSS}{_SEP}{_VAL}"), "val_loss"),
    (_p(r"evaluation_loss_vs_iterations"), "val_loss"),
    # Training loss: Keras/HF `loss`, `train_loss`, `train/loss`, `Loss/train`, Keras TensorBoard `epoch_loss`
    # (prefix stripped by GRANULARITY), timm's summary.csv `train_loss`.
    (_p(rf"(?:{_TRAIN}{_SEP})?{_LOSS}(?:{_SEP}{_TRAIN})?"), "train_loss"),
    # Validation accuracy: `val_accuracy`, `val_acc`, `val/acc`, `Accuracy/val`, HF `eval_accuracy`, timm `eval_top1`
    # (timm writes percent; read_history rescales accuracies above 1 to fractions).
    (_p(rf"{_VAL}{_SEP}{_ACC}"), "val_acc"),
    (_p(rf"{_ACC}{_SEP}{_VAL}"), "val_acc"),
    # Ultralytics results.csv keeps its validation metrics under `metrics/` (`metrics/accuracy_top1` of a classifier,
    # beside `train/loss` and `val/loss`).
    (_p(rf"metrics/{_ACC}"), "val_acc"),
    # Training accuracy: Keras `accuracy`, `acc`, `train_acc`, `train/accuracy`, `Accuracy/train`.
    (_p(rf"(?:{_TRAIN}{_SEP})?{_ACC}(?:{_SEP}{_TRAIN})?"), "train_acc"),
    # Learning rate: Keras `lr`/`learning_rate`, HF `learning_rate` (`train/learning_rate` in its TensorBoard),
    # TF `LearningRate`, Lightning's LearningRateMonitor `lr-AdamW` and `lr-SGD/pg1` (the first parameter group;
    # other groups, `lr-SGD/pg2`, are kept under their own name), timm `lr`, `lr/pg0`.
    (_p(rf"(?:{_TRAIN}{_SEP})?(?:lr|learning{_SEP}rate)"), "lr"),
    (_p(r"lr-[A-Za-z0-9_]+(?:/pg1)?"), "lr"),
    (_p(r"(?:lr|learning_rate)/(?:pg)?0"), "lr"),
    # Per-layer gradient norms: dlexpert monitors `grad_norm/layer1.weight`, W&B/TensorBoard style
    # `gradients/conv1.weight/norm`, Lightning's `grad_norm()` utility `grad_2.0_norm/fc.weight` (L2 only:
    # other norm types are different quantities and stay under their own name).
    (_p(r"grad_norm_total|grad_2(?:\.0)?_norm_total"), "grad_norm"),
    (_p(rf"(?:grad_norm|grad_norms|gradient_norm|grad_2(?:\.0)?_norm)/{_LAYER}"), r"grad_norm/\g<layer>"),
    (_p(rf"(?:gradients|grads?)/{_LAYER}/(?:norm|l2_norm|grad_norm)"), r"grad_norm/\g<layer>"),
    # `grad/norm` and its per-parameter `grad/norm_gamma`, `grads/norm/conv1` (a GAN's logger, issue 13's corpus).
    (_p(r"(?:gradients|grads?)/(?:l2_)?norm"), "grad_norm"),
    (_p(rf"(?:gradients|grads?)/(?:l2_)?norm[_/]{_LAYER}"), r"grad_norm/\g<layer>"),
    # Global gradient norm: HF `grad_norm`, `train/grad_norm`, `gradient_norm`, `total_grad_norm`, `grad_2norm`.
    (_p(rf"(?:{_TRAIN}{_SEP})?(?:grad_norm|gradient_norm|grad_2norm|total_grad_norm|global_grad_norm|gnorm)"),
     "grad_norm"),
    # A layer's norm written layer first: `conv1.weight/grad_norm`, `encoder.layer0_grad_norm`.
    (_p(rf"{_LAYER}[/._](?:grad_norm|gradient_norm|grad_2(?:\.0)?_norm)"), r"grad_norm/\g<layer>"),
    # Other per-layer probes, as dlexpert's live monitors name them.
    (_p(rf"(update_ratio|dead_fraction|saturated_fraction)/{_LAYER}"), r"\1/\g<layer>"),
    (_p(r"update_ratio|update_to_weight|update_weight_ratio"), "update_ratio"),
    (_p(r"dead_fraction|dead_units|dead_relu_fraction"), "dead_fraction"),
    (_p(r"saturated_fraction"), "saturated_fraction"),
    # Data-loading time per batch: timm `data_time` (its `Data:` column), mmengine `data_time`, `time/data`,
    # Lightning profilers' `[_TrainingEpochLoop].train_dataloader_next` action.
    (_p(r"data_time|time/data|data_load_time|dataloader_time|data_wait|(?:\[.*\]\.?)?train_dataloader_next"),
     "data_time"),
    # Whole batch / optimizer step time: timm `batch_time` (its `Time:` column), mmengine `time`-per-iter logs as
    # `iter_time`, `time/batch`, `step_time`, Lightning profilers' `run_training_batch`.
    (_p(r"batch_time|time/batch|step_time|time/step|iter_time|time_per_step|(?:\[.*\]\.?)?run_training_batch"),
     "batch_time"),
    (_p(r"data_wait_fraction"), "data_wait_fraction"),
    # Throughput: dlexpert `samples_per_sec`, `samples/sec`, `throughput`, `train/samples_per_second`.
    (_p(rf"(?:{_TRAIN}{_SEP})?(?:samples_per_sec(?:ond)?|samples/sec|samples_per_s|throughput|examples_per_sec)"),
     "samples_per_sec"),
    # Health probes written by dlexpert's monitors, under their own names.
    (_p(r"nonfinite|pred_entropy|pred_majority_fraction"), r"\g<0>"),
)
# fmt: on

# Granularity markers: a name with one of these around it says which axis its values belong on. The inner part
# (`n`) is what NAME_TABLE looks up.
GRANULARITY: tuple[tuple[re.Pattern[str], Axis], ...] = (
    # Lightning: self.log(..., on_step=True, on_epoch=True) writes `<name>_step` and `<name>_epoch`.
    (_p(r"(?P<n>.+)_step"), "step"),
    (_p(r"(?P<n>.+)_epoch"), "epoch"),
    # Per-batch logging under its own name (`train_loss_batch`, issue 13's corpus: a Lightning metrics.csv).
    (_p(r"(?P<n>.+)_batch"), "step"),
    # Keras TensorBoard callback: `epoch_loss`, `epoch_accuracy`, `batch_loss` (the split is in the folder name).
    (_p(r"epoch_(?P<n>.+)"), "epoch"),
    (_p(r"batch_(?P<n>.+)"), "step"),
    # dlexpert's own tb/: `step/<name>` on logged steps, `epoch/<name>` once per epoch.
    (_p(r"step/(?P<n>.+)"), "step"),
    (_p(r"epoch/(?P<n>.+)"), "epoch"),
)

# Index columns: where a value sits, not a series (times and row labels are neither). Lower-cased.
STEP_COLUMNS = ("step", "global_step", "iteration", "iter", "it", "batch", "trainer/global_step", "_step")
EPOCH_COLUMNS = ("epoch", "epochs", "ep")
IGNORED_COLUMNS = (
    "time", "wall time", "wall_time", "walltime", "timestamp", "_timestamp", "_runtime", "elapsed", "relative time",
    "created_at", "date", "datetime", "kind", "mode", "phase", "split", "stage",
)  # fmt: skip
# An error metric a regression log may hold instead of a loss (`RMSE`, `train_mse`, `val_mean_absolute_error`,
# "Mean Squared Error"); `read_history` judges it as the loss when no loss is logged.
ERROR_METRIC = re.compile(
    r"(?:(?P<val>val|valid|validation|eval)[_/ ])?(?:train(?:ing)?[_/ ])?"
    r"(?:rmse|mse|mae|(?:root[_ ])?mean[_ ]squared[_ ]error|mean[_ ]absolute[_ ]error)",
    re.IGNORECASE,
)
# Keys of Hugging Face's last log entry (also printed when training ends): whole-run averages, not a point in time.
HF_SUMMARY_KEYS = ("train_runtime", "total_flos")
# Values of a row's `mode`/`phase`/`split` field that say which split its metrics describe (mmengine, generic JSONL).
PHASE_WORDS: dict[str, Phase] = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "eval": "val", "evaluation": "val",
}  # fmt: skip


def _lookup(name: str) -> str | None:
    for pattern, target in NAME_TABLE:
        m = pattern.fullmatch(name)
        if m:
            return m.expand(target)
    return None


_AVERAGED = _p(r"(?:avg|average|mean)[_ ](?P<n>.+)")


def normalise(name: str) -> tuple[str, Axis | None]:
    """(canonical name, axis the name implies or None). An unknown name comes back unchanged."""
    name = name.strip()
    for pattern, axis in GRANULARITY:
        m = pattern.fullmatch(name)
        if m:
            canonical = _lookup(m["n"])
            if canonical is not None:
                return canonical, axis
    canonical = _lookup(name)
    if canonical is not None:
        return canonical, None
    head, _, tail = name.partition("/")
    # A namespace before a known name (Lightning's "finetuning/train_loss_step", W&B's "charts/..."); not a split's
    # name: HF's "train/train_loss" is the run's summary, not its curve.
    if tail and phase_of(head) is None:
        inner, inner_axis = normalise(tail)
        if is_known(inner):
            return inner, inner_axis
    # A validation prefix before a namespaced name: Chainer's LogReport writes `main/loss` for training and
    # `validation/main/loss` for its Evaluator (issue 13, blind28: a Bayesian U-Net's only validation series).
    if "/" in tail and phase_of(head) == "val":
        inner, inner_axis = normalise(tail)
        if is_known(inner):
            return with_phase(inner, "val"), inner_axis
    # An average's name before a known one: Lightning's classic `avg_val_loss`, the mean of a validation epoch's
    # batch losses (issue 13, blind18: a YOLOv5 reimplementation's only validation series).
    averaged = _AVERAGED.fullmatch(name)
    if averaged:
        inner, inner_axis = normalise(averaged["n"])
        if is_known(inner):
            return inner, inner_axis
    for pattern, axis in GRANULARITY:  # an unknown `foo_epoch` still says its axis
        if pattern.fullmatch(name):
            return name, axis
    return name, None


def index_role(name: str) -> Literal["step", "epoch", "ignore"] | None:
    """What an index column is, or None for a metric column."""
    low = name.strip().lower()
    if low in STEP_COLUMNS:
        return "step"
    if low in EPOCH_COLUMNS:
        return "epoch"
    if low in IGNORED_COLUMNS:
        return "ignore"
    return None


def phase_of(word: str) -> Phase | None:
    """The split ("train" or "val") a name says (`validation`, `eval`, `Loss_val` folder...), else None."""
    low = word.strip().lower()
    if low in PHASE_WORDS:
        return PHASE_WORDS[low]
    tail = re.split(r"[_\-./ ]", low)[-1]
    return PHASE_WORDS.get(tail) if tail != low else None


def with_phase(canonical: str, phase: Phase | None) -> str:
    """Move a train_* name to val_* when its folder or row says the values are validation values."""
    if phase == "val" and canonical.startswith("train_"):
        return "val_" + canonical[len("train_") :]
    return canonical


def looks_like_metric(name: str) -> bool:
    """True when a column header names a metric this table knows."""
    return is_known(normalise(name)[0])
