"""Read any training log into one `RunHistory`: `read_history(source)`.

`source` is a file or a folder. Files are recognised by content, not name (`_sniff.py`); metric names go through
the one mapping table in `_names.py`. Formats:

| format | what is read |
| --- | --- |
| dlexpert run directory | `metrics.jsonl` (`kind` step/epoch rows), `config.yaml` for `meta` (not `tb/`: a copy) |
| Hugging Face | `trainer_state.json` `log_history` (the furthest checkpoint's), `config.json` beside it for labels |
| CSV | Keras `CSVLogger` (rows are epochs), Lightning `metrics.csv` (sparse rows, `*_step`/`*_epoch`), timm
  summary.csv, TensorBoard's CSV download, any CSV whose header names metrics or a step/epoch column |
| JSON lines / JSON rows | one object per line (or a list of objects), `step`/`epoch` keys as index (W&B's `_step`) |
| MLflow | a run folder (`meta.yaml` + `metrics/`): one `timestamp value step` file per metric |
| Keras history JSON | `json.dump(model.fit(...).history)`: a dict of equally long lists, one entry per epoch |
| TensorBoard | event files of any writer: scalars and TF2 scalar tensors, split folders (`train/`, `validation/`) |
| plain text | what a training script prints (Keras `fit()`, PyTorch examples, mmcv, timm, nanoGPT, printed HF dicts,
  tqdm bars): `name: value` pairs the mapping table knows, at the epoch or step the line names (`textlog.py`) |

In a folder, the first of these found is read (dlexpert, then trainer_state.json, then CSV/JSON, then
TensorBoard, then plain text), so one run is not counted twice through two of its logs. The epoch axis holds 0-based
epoch indices, as Keras, Lightning and dlexpert write them; Hugging Face's `epoch` (epochs completed) is shifted to
match. Accuracies logged in percent (timm's `eval_top1`) are divided by 100. `meta` gets what the log says about the
run (see `history.py`), plus `actions`: the auto-remedy rows (`kind: action`) of a dlexpert metrics.jsonl.

An unreadable or empty source raises `InvalidInputError` naming the file and why. What could be read from a
partly readable one (a cut last row, a torn JSON line, a non-numeric cell) is kept, with a warning naming the file
and line in `RunHistory.warnings`.

Example:
    >>> h = read_history("runs/m1")  # doctest: +SKIP
    >>> h.get("val_loss", "epoch").y  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..._input import check_regular_file
from ...errors import InvalidInputError
from ..history import LAYERED_SERIES, POLICY_LOSS, RunHistory
from ._names import ERROR_METRIC, NAME_TABLE, is_known, normalise
from ._sniff import Kind, is_mlflow_run, sniff
from .csvlog import read_csv
from .jsonlog import read_json_rows, read_jsonl, read_keras_history, read_mlflow, read_trainer_state
from .tensorboard import read_tensorboard, run_root
from .textlog import read_text_log

__all__ = ["NAME_TABLE", "normalise", "read_history"]

MAX_DEPTH = 4  # run dir / lightning_logs / version_0 / file; HF output / checkpoint-500 / file
MAX_FILES = 5000  # a folder with more files than this is a dataset, not a run
# Never logs: weights, arrays, images, documents, configs. Everything else is sniffed by content.
_SKIP_SUFFIXES = {
    ".pt", ".pth", ".ckpt", ".safetensors", ".bin", ".onnx", ".npz", ".npy", ".h5", ".hdf5", ".keras", ".pkl",
    ".pickle", ".parquet", ".arrow", ".zip", ".gz", ".tar", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf",
    ".html", ".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".lock", ".whl", ".so",
}  # fmt: skip
# Notes beside a run, sniffed only when a folder holds no other log: a training script that writes its epochs as
# Markdown ('#### Epoch 3/99' then 'train loss: ...', issue 13's blind30) leaves nothing else to read.
_LAST_RESORT_SUFFIXES = {".md"}
# Which log of a folder is read: lower first. The others repeat it (tb/ beside metrics.jsonl) or are other runs.
_PRIORITY: dict[Kind, int] = {
    "dlexpert": 0, "trainer_state": 1, "mlflow": 2, "csv": 2, "jsonl": 2, "json_rows": 2, "keras_history": 2,
    "tensorboard": 3, "text": 4,
}  # fmt: skip
_READERS: dict[Kind, Callable[[RunHistory, Path], None]] = {
    "dlexpert": read_jsonl,
    "jsonl": read_jsonl,
    "json_rows": read_json_rows,
    "keras_history": read_keras_history,
    "mlflow": read_mlflow,
    "csv": read_csv,
    "trainer_state": read_trainer_state,
    "text": read_text_log,
}
_EXPECTED = (
    "expected a run directory, TensorBoard event files, a CSV or JSON-lines log, trainer_state.json, or a text log "
    "with 'name: value' metrics"
)


def read_history(source: str | Path) -> RunHistory:
    """Read `source` (a run directory, a log file, or a folder holding one) into a `RunHistory`.

    Raises:
        InvalidInputError: nothing in `source` can be read as a training log, or it holds no values.
    """
    try:
        return _read(Path(source))
    except RecursionError:
        raise InvalidInputError(f"{source}: nested too deeply to be a training log; {_EXPECTED}") from None


def _read(path: Path) -> RunHistory:
    source = str(path)
    if not path.exists():
        raise InvalidInputError(f"{source}: no such file or folder; {_EXPECTED}")
    history = RunHistory(source=source)
    if path.is_dir():
        kind, files, root = _choose(path, history)
    else:
        check_regular_file(path, expected=_EXPECTED.removeprefix("expected "))
        found, why = sniff(path)
        if found is None:
            raise InvalidInputError(f"{path}: {why}; {_EXPECTED}")
        # a file in a split folder (Keras' validation/) keeps its split: its run is the folder above
        kind, files, root = found, [path], run_root(path.parent) if found == "tensorboard" else path.parent
    if kind == "tensorboard":
        read_tensorboard(history, files, root=root)
    else:
        _READERS[kind](history, files[0])
    if history.is_empty():
        detail = f" ({history.warnings[0]})" if history.warnings else ""
        raise InvalidInputError(f"{files[0] if len(files) == 1 else path}: holds no metric values{detail}")
    _finish(history)
    return history


def _candidates(root: Path) -> list[tuple[Kind, Path]]:
    found: list[tuple[Kind, Path]] = []
    last_resort: list[Path] = []
    n_files = 0
    for folder, dirs, names in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        if is_mlflow_run(Path(folder)):  # its metric files have no header to sniff: the folder is the log
            found.append(("mlflow", Path(folder)))
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")) and depth < MAX_DEPTH)
        for name in sorted(names):
            p = Path(folder) / name
            if not name.startswith(".") and p.suffix.lower() in _LAST_RESORT_SUFFIXES:
                last_resort.append(p)
            if name.startswith(".") or p.suffix.lower() in _SKIP_SUFFIXES:
                continue
            n_files += 1
            if n_files > MAX_FILES:
                if found:
                    return found
                raise InvalidInputError(f"{root}: over {MAX_FILES} files, so a dataset rather than a run; point "
                                        "`diagnose` at the run's folder or log file")  # fmt: skip
            if not p.is_file():
                continue  # FIFOs, sockets and devices are never logs (and opening a FIFO would block)
            kind, _ = sniff(p)
            if kind is not None:
                found.append((kind, p))
    if not found:
        found = [(kind, p) for p in last_resort if p.is_file() and (kind := sniff(p)[0]) == "text"]
    return found


def _depth(p: Path, root: Path) -> int:
    return len(p.relative_to(root).parts)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _global_step(p: Path) -> float:
    try:
        return float(json.loads(p.read_text(encoding="utf-8")).get("global_step", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return -1.0


def _choose(root: Path, history: RunHistory) -> tuple[Kind, list[Path], Path]:
    """The one log of a folder to read: (kind, files, folder the files are relative to)."""
    found = _candidates(root)
    if not found:
        raise InvalidInputError(f"{root}: no training log found in this folder or below; {_EXPECTED}")
    best = min(_PRIORITY[k] for k, _ in found)
    kind = next(k for k, _ in found if _PRIORITY[k] == best)
    paths = [p for k, p in found if _PRIORITY[k] == best]
    if kind == "tensorboard":
        runs: dict[Path, list[Path]] = {}
        for p in paths:
            runs.setdefault(run_root(p.parent), []).append(p)
        chosen = min(runs, key=lambda r: (_depth(r, root), -max(_mtime(p) for p in runs[r])))  # shallowest, newest
        others = [r for r in runs if r != chosen and not r.is_relative_to(chosen)]
        if others:
            history.warnings.append(
                f"{root}: {len(others) + 1} TensorBoard runs found; read {chosen}, not "
                f"{', '.join(str(r) for r in others[:3])}{' ...' if len(others) > 3 else ''} (pass one as SOURCE)"
            )
        return kind, runs[chosen], chosen
    if kind == "trainer_state":  # every checkpoint holds the history so far: the furthest one holds it all
        return kind, [max(paths, key=_global_step)], root
    chosen_file = min(paths, key=lambda p: (_depth(p, root), -_mtime(p)))  # shallowest, then newest
    others = [p for p in paths if p != chosen_file and not p.is_relative_to(chosen_file.parent)]
    if others:  # a nested log (a run's baseline/metrics.jsonl) is part of the chosen run; a sibling is another run
        history.warnings.append(
            f"{root}: {len(others) + 1} logs found; read {chosen_file}, not "
            f"{', '.join(str(p) for p in others[:3])}{' ...' if len(others) > 3 else ''} (pass one as SOURCE)"
        )
    return kind, [chosen_file], root


def _finish(history: RunHistory) -> None:
    """What holds across formats: one validation set judged, accuracies as fractions, and `monitored` when per-layer
    probes were logged."""
    _test_as_validation(history)
    _first_validation_set(history)
    _error_as_loss(history)
    _policy_loss_aside(history)
    for (name, _axis), s in history.series.items():
        if name in ("train_acc", "val_acc"):
            finite = [v for v in s.y if v == v and abs(v) != float("inf")]
            if finite and 1.0 < max(finite) <= 100.0 and min(finite) >= 0.0:  # percent, as timm logs top-1
                s.y[:] = [v / 100.0 for v in s.y]
    if any(name.partition("/")[0] in LAYERED_SERIES and "/" in name for name, _ in history.series):
        history.meta.setdefault("monitored", True)


def _error_as_loss(history: RunHistory) -> None:
    """With no loss logged at all, an error metric the model minimises (RMSE, MSE, MAE) is judged as the loss: lower
    is better, and a frozen or rising one means the same (issue 13's blind10: a house-price run whose only column,
    RMSE, went 197890.25 -> 197889.875 in 100 epochs). A warning says so."""
    if any(name in ("train_loss", "val_loss") for name, _ in history.series):
        return
    for (name, axis), s in list(history.series.items()):
        m = ERROR_METRIC.fullmatch(name)
        canonical = "val_loss" if m and m["val"] else "train_loss"
        if m is None or history.has(canonical, axis):
            continue
        del history.series[(name, axis)]
        history.add(canonical, axis, s.x, s.y, source_name=s.source_name or name)
        history.warnings.append(f"no loss was logged: {name} is judged as the {canonical.replace('_', ' ')}")


# The series that make a log a policy-gradient fine-tune's (TRL's GRPOTrainer and RLOOTrainer log `reward` with these).
_POLICY_GRADIENT_SIGNS = ("frac_reward_zero_std", "reward_std", "kl")


def _policy_loss_aside(history: RunHistory) -> None:
    """A policy-gradient fine-tune (GRPO, RLOO) maximises its reward; its loss is a surrogate that sits near 0 by
    construction (one update per batch makes the probability ratio 1, so only beta x KL is left: TRL issues #2703 and
    #3757), and its jumps and sign say nothing about learning. Its train loss is kept as POLICY_LOSS, out of the loss
    rules' reach, and a warning says the reward is judged instead (issue 13, blind26: a GRPO run's loss of 1e-5 with
    jumps to 0.04 was called loss spikes, while its reward sat at 0 for 84 of 100 steps)."""
    if not any(name == "reward" for name, _ in history.series):
        return
    if not any(name in _POLICY_GRADIENT_SIGNS for name, _ in history.series):
        return
    for (name, axis), s in list(history.series.items()):
        if name == "train_loss":
            del history.series[(name, axis)]
            history.add(POLICY_LOSS, axis, s.x, s.y, source_name=s.source_name or "loss")
    history.warnings.append(
        "a policy-gradient fine-tune (a reward with its spread or KL logged, as TRL's GRPO and RLOO log them): its "
        "loss is a surrogate near 0 by construction and is not judged; the reward is"
    )


# Several validation sets: HF Trainer with a dict of eval datasets logs `eval_<set>_loss`, `eval_<set>_accuracy`.
_NAMED_VAL = re.compile(r"(?:eval|val|valid|validation)_(?P<set>[A-Za-z0-9]+)_(?P<metric>loss|accuracy|acc)")


def _test_as_validation(history: RunHistory) -> None:
    """With no validation series at all, the held-out curves a log calls "test" (`test_loss`, `test_acc`, logged as
    training goes) are judged as the validation split, and a warning says so: many tutorials and papers' scripts
    name their only held-out evaluation that way (issue 13, blind17: a grokking run's test loss above its start for
    2,000 epochs was an unknown series)."""
    if any(name.startswith("val_") for name, _ in history.series):
        return
    renamed = []
    for (name, axis), s in list(history.series.items()):
        canonical, _ = normalise(re.sub(r"(?<![a-z])test(?![a-z])", "val", name, flags=re.IGNORECASE))
        if canonical in ("val_loss", "val_acc") and not is_known(name):
            del history.series[(name, axis)]
            history.add(canonical, axis, s.x, s.y, source_name=s.source_name or name)
            renamed.append(name)
    if renamed:
        history.warnings.append(
            f"no validation series: the test series ({', '.join(dict.fromkeys(renamed))}) are judged as the "
            "validation split"
        )


def _first_validation_set(history: RunHistory) -> None:
    """With no plain validation loss but several named validation sets, the first (in name order) is judged as the
    validation split; the others stay under their own names, and a warning says so."""
    if any(name == "val_loss" for name, _ in history.series):
        return
    named = {(m["set"], m["metric"], axis): s for (name, axis), s in history.series.items()
             if (m := _NAMED_VAL.fullmatch(name))}  # fmt: skip
    sets = sorted({k[0] for k in named if k[1] == "loss"})
    if not sets:
        return
    first = sets[0]
    for (set_name, metric, axis), s in named.items():
        if set_name == first:
            canonical = "val_loss" if metric == "loss" else "val_acc"
            del history.series[(s.name, axis)]
            history.add(canonical, axis, s.x, s.y, source_name=s.source_name or s.name)
    if len(sets) > 1:
        history.warnings.append(
            f"{len(sets)} validation sets ({', '.join(sets)}): judged on the first, {first!r}; the others are listed "
            "as they were logged"
        )
