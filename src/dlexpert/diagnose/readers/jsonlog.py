"""JSON logs: JSON lines (generic, and dlexpert's own `metrics.jsonl` with `kind` step/epoch rows and the run's
`config.yaml` beside it), a JSON list of row objects, and Hugging Face `trainer_state.json`."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

from ...rundir import RunDir
from ..history import RunHistory
from ._names import HF_SUMMARY_KEYS, PHASE_WORDS, index_role, looks_like_metric, normalise
from ._sniff import history_lists
from ._table import Sink, Table, add_table, parse_number, read_text

_PHASE_KEYS = ("mode", "phase", "split", "stage", "kind")  # a row's split: mmengine `mode`, generic `split`...


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"train": {"loss": 1}}` -> `{"train/loss": 1}` (one level is what loggers write)."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not prefix:
            out.update(_flatten(v, f"{key}/"))
        else:
            out[key] = v
    return out


def _numeric_row(row: dict[str, Any]) -> dict[str, float]:
    """The numeric values of one row; a `mode`/`split` of val renames its loss/accuracy keys to validation ones."""
    phase = next((PHASE_WORDS.get(str(row[k]).lower()) for k in _PHASE_KEYS if k in row), None)
    out: dict[str, float] = {}
    for key, value in _flatten(row).items():
        v = parse_number(value)
        if v is None:
            continue
        if phase == "val" and index_role(key) is None and normalise(key)[0].startswith("train_"):
            key = f"val_{key}"
        out[key] = v
    return out


def parse_jsonl(path: Path, text: str, sink: Sink) -> tuple[Table, Table, Table, list[dict[str, Any]]]:
    """(rows without `kind`, `kind: step` rows, `kind: epoch` rows, `kind: action` rows). A line that is not a JSON
    object (a torn last line from a killed run) is skipped with a warning naming the line."""
    plain, steps, epochs = Table(path), Table(path), Table(path)
    actions: list[dict[str, Any]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as e:
            sink.warn(f"{path}:{line}: not valid JSON ({e.msg}); line skipped")
            continue
        if not isinstance(row, dict):
            sink.warn(f"{path}:{line}: not a JSON object; line skipped")
            continue
        kind = row.get("kind")
        if kind == "action":  # what dlexpert's auto-remedy did (monitor/remedy.py): not a measurement
            actions.append({k: v for k, v in row.items() if k != "kind"})
            continue
        target = steps if kind == "step" else epochs if kind == "epoch" else plain
        target.add_row(line, _numeric_row(row))
    return plain, steps, epochs, actions


def read_jsonl(history: RunHistory, path: Path) -> None:
    """Add the series of a JSON-lines log; dlexpert's own metrics.jsonl also fills `meta` from config.yaml."""
    sink = Sink(history, path)
    plain, steps, epochs, actions = parse_jsonl(path, read_text(path), sink)
    add_table(sink, plain)
    add_table(sink, steps, axis="step")
    add_table(sink, epochs, axis="epoch")
    sink.close()
    if actions:
        history.meta["actions"] = actions
    if steps.rows or epochs.rows:
        history.formats.append("dlexpert")
        _dlexpert_meta(history, path.parent / RunDir.CONFIG, epochs)
    else:
        history.formats.append("jsonl")


def read_mlflow(history: RunHistory, run: Path) -> None:
    """An MLflow run folder (`mlruns/<experiment>/<run>/`): one file per metric under `metrics/` (nested folders for
    names with "/"), each line `timestamp value step`. A metric's name says its axis (`loss_epoch`), else its steps."""
    sink = Sink(history, run)
    for file in sorted(p for p in (run / "metrics").rglob("*") if p.is_file()):
        points = [line.split() for line in read_text(file).splitlines() if line.strip()]
        rows = [(float(p[2]), float(p[1])) for p in points if len(p) == 3 and parse_number(p[1]) is not None]
        if not rows:
            continue
        raw = file.relative_to(run / "metrics").as_posix()
        canonical, axis = normalise(raw)
        xs, ys = zip(*sorted(rows), strict=True)
        sink.add(raw, canonical, axis or "step", xs, ys)
    sink.close()
    history.formats.append("mlflow")


def read_keras_history(history: RunHistory, path: Path) -> None:
    """Keras' `history.history` saved as JSON (a dict of lists): one row per epoch, epochs counted from 0."""
    doc = json.loads(read_text(path))
    lists = history_lists(doc)
    sink = Sink(history, path)
    for key, value in doc.items():
        if key not in lists:
            what = "a single value" if not isinstance(value, (dict, list)) else f"a {type(value).__name__}"
            sink.warn(f"{path}: '{key}' is {what}, not a list of numbers per epoch; not read")
    lists = _one_model(lists, sink, path)
    lengths = sorted({len(v) for v in lists.values()}, reverse=True)
    if len(lengths) > 1:
        by_length = "; ".join(f"{n}: {', '.join(k for k, v in lists.items() if len(v) == n)}" for n in lengths)
        sink.warn(f"{path}: series of different lengths ({by_length}); each read from epoch 0 up to its own length")
    table = Table(path)
    for i in range(lengths[0]):
        table.add_row(i + 1, _numeric_row({"epoch": i, **{k: v[i] for k, v in lists.items() if i < len(v)}}))
    add_table(sink, table)
    sink.close()
    history.formats.append("keras_history")


def _one_model(lists: dict[str, list[float]], sink: Sink, path: Path) -> dict[str, list[float]]:
    """The series of one model when the file holds several, each under its own prefix (`reg_loss`, `reg_val_loss`
    beside `cls_loss`, `cls_val_loss`: two models fitted one after the other). The prefix with the most series the
    rules know is read, without its prefix, and the others are named in a warning. Unprefixed histories pass as
    they are."""
    if any(looks_like_metric(k) for k in lists):
        return lists
    groups: dict[str, dict[str, list[float]]] = {}
    for key, values in lists.items():
        prefix, _, rest = key.partition("_")
        if rest and looks_like_metric(rest):
            groups.setdefault(prefix, {})[rest] = values
    if len(groups) < 2:
        return lists
    chosen = max(groups, key=lambda g: (sum(looks_like_metric(k) for k in groups[g]), len(groups[g])))
    others = ", ".join(f"{g}_* ({len(next(iter(v.values())))} epochs)" for g, v in groups.items() if g != chosen)
    sink.warn(f"{path}: the series of {len(groups)} models, each under its own prefix; read {chosen}_* (the most "
              f"series the rules know), not {others}")  # fmt: skip
    return groups[chosen]


def read_json_rows(history: RunHistory, path: Path) -> None:
    """A JSON document that is a list of row objects."""
    sink = Sink(history, path)
    table = Table(path)
    for i, row in enumerate(json.loads(read_text(path))):
        table.add_row(i + 1, _numeric_row(row))
    add_table(sink, table)
    sink.close()
    history.formats.append("json")


def _dlexpert_meta(history: RunHistory, config_path: Path, epochs: Table) -> None:
    """What the run's config.yaml says (train: scheduler, epochs, lr, task; data: classes), and steps per epoch
    from the epoch rows (each holds the optimizer step at the epoch's end)."""
    ends = sorted((r["epoch"], r["step"]) for _, r in epochs.rows if "epoch" in r and "step" in r)
    if ends:
        gaps = {round(b[1] - a[1]) for a, b in pairwise(ends) if b[0] == a[0] + 1}
        first_epoch, first_step = ends[0]
        spe = gaps.pop() if len(gaps) == 1 else round(first_step / (first_epoch + 1)) if not gaps else None
        if spe:
            history.meta["steps_per_epoch"] = int(spe)
    if not config_path.is_file():
        return
    import yaml

    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        history.warnings.append(f"{config_path}: not read ({type(e).__name__}); the run's plan is unknown")
        return
    if not isinstance(config, dict):
        return
    train = config.get("train")
    train = train if isinstance(train, dict) else {}
    for key in ("scheduler", "epochs", "lr", "task"):
        if train.get(key) is not None:
            history.meta[key] = train[key]
    data = config.get("data")
    data = data if isinstance(data, dict) else {}
    if isinstance(data.get("classes"), list) and data["classes"] and history.meta.get("task") != "regression":
        history.meta["n_classes"] = len(data["classes"])


# --- Hugging Face trainer_state.json


def _salvage_log_history(text: str) -> list[Any]:
    """Entries of `log_history` from a trainer_state.json cut short (HF writes it in place, not atomically)."""
    key = text.find('"log_history"')
    bracket = text.find("[", key) if key >= 0 else -1
    if bracket < 0:
        return []
    decoder, entries, pos = json.JSONDecoder(), [], bracket + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            break
        try:
            entry, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        entries.append(entry)
    return entries


def read_trainer_state(history: RunHistory, path: Path) -> None:
    """Add `log_history`: train entries (loss, grad_norm, learning_rate) on the step axis; `eval_*` entries on the
    step axis, and also on the epoch axis when evaluation happened once per epoch (HF's `epoch` is then a whole
    number counting epochs completed, so epoch index = epoch - 1)."""
    text = read_text(path)
    sink = Sink(history, path)
    try:
        state = json.loads(text)
        entries = state["log_history"]
    except (ValueError, KeyError, TypeError):
        state = {}
        entries = _salvage_log_history(text)
        sink.warn(f"{path}: not complete JSON (cut short while written?); read {len(entries)} log_history entries")
    train, evals = Table(path), Table(path)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or any(k in entry for k in HF_SUMMARY_KEYS):
            continue
        row = {k: v for k, v in ((k, parse_number(v)) for k, v in entry.items()) if v is not None}
        if "step" not in row:
            sink.warn(f"{path}: log_history[{i}] has no step; skipped")
            continue
        is_eval = any(k.startswith("eval_") for k in row)
        (evals if is_eval else train).add_row(i, row)
    add_table(sink, train, axis="step")
    epochs = [r.get("epoch") for _, r in evals.rows]
    per_epoch = bool(epochs) and all(e is not None and e >= 1 and abs(e - round(e)) < 1e-6 for e in epochs)
    per_epoch = per_epoch and len({round(e or 0) for e in epochs}) == len(epochs)
    add_table(sink, evals, axis="step")
    if per_epoch:
        for _, r in evals.rows:
            r["epoch"] = round(r["epoch"]) - 1.0
        add_table(sink, evals, axis="epoch")
    sink.close()
    history.formats.append("hf_trainer_state")
    _hf_meta(history, state, path.parent / "config.json")


def _hf_meta(history: RunHistory, state: dict[str, Any], config_path: Path) -> None:
    epochs, max_steps = state.get("num_train_epochs"), state.get("max_steps")
    if isinstance(epochs, (int, float)) and epochs > 0:
        history.meta["epochs"] = epochs
        if isinstance(max_steps, int) and max_steps > 0:
            history.meta["steps_per_epoch"] = math.ceil(max_steps / epochs)
    if not config_path.is_file():
        return
    try:  # the model's config.json beside it says classification and the label count
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(config, dict):
        return
    archs = config.get("architectures") or []
    if config.get("problem_type") == "regression":
        history.meta["task"] = "regression"
    elif any(str(a).endswith(("SequenceClassification", "ImageClassification", "AudioClassification")) for a in archs):
        history.meta["task"] = "classification"
        if isinstance(config.get("id2label"), dict):
            history.meta["n_classes"] = len(config["id2label"])
