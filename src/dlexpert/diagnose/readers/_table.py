"""Rows of numbers (from CSV, JSON lines, trainer_state.json) into series: names through the mapping table, and
each column on the axis its index columns and name say.

Axis rules, in order:
- a granularity marker in the name wins (`train_loss_epoch` -> epoch axis, `train_loss_step` -> step axis);
- a table with a step column puts every column on the step axis, and also on the epoch axis when the table has an
  epoch column and the column holds one value per epoch and is a validation metric or every row is an epoch;
- a table with only an epoch column (Keras CSVLogger, timm summary.csv) puts columns on the epoch axis;
- a table with neither numbers its rows as steps (and says so in the warnings).

Epochs are 0-based indices, as Keras, Lightning and dlexpert write them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidInputError
from ..history import RunHistory, steady_steps_per_epoch
from ._names import Axis, index_role, normalise

# Ultralytics logs its loss terms (`train/box_loss`, `train/cls_loss`, `train/dfl_loss`, and `seg_loss` or `pose_loss`
# by task), already multiplied by their gains, and no total, in results.csv and in its TensorBoard events alike; the
# total it back-propagates is their sum (ultralytics/utils/loss.py, v8DetectionLoss: `loss.sum() * batch_size`,
# logged per item as `loss.detach()`).
_LOSS_TERM = re.compile(r"(?P<split>train|val)/(?P<term>[a-z0-9]+)_loss")
MAX_WARNINGS_PER_FILE = 8  # then one line saying how many more: a killed run should not bury the findings

_TENSOR_REPR = re.compile(r"tensor\(\s*([^,)\s]+)")  # `tensor(0.5123)` from a logged torch scalar


def read_text(path: Path, *, newline: str | None = None) -> str:
    """A log file's text (a BOM dropped, undecodable bytes replaced); an unreadable file is one clear error.
    `newline=""` keeps a lone carriage return as written (a progress bar redrawn in place) instead of ending a line
    there."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline=newline) as f:
            return f.read()
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot be read ({e.strerror or e})") from None


def parse_number(value: object) -> float | None:
    """A cell as a float (NaN and Inf are values: they are evidence), or None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            m = _TENSOR_REPR.match(text)
            if m:
                try:
                    return float(m.group(1))
                except ValueError:
                    return None
    return None


@dataclass
class Table:
    """Numeric cells of one log file, row by row, with the line each row came from."""

    path: Path
    columns: list[str] = field(default_factory=list)  # first-seen order; index columns included
    rows: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def add_row(self, line: int, row: dict[str, float]) -> None:
        for k in row:
            if k not in self.columns:
                self.columns.append(k)
        self.rows.append((line, row))


class Sink:
    """Adds one file's series to a history: two names in one file that mean the same series do not merge (the
    second is kept under its own name), and the file's warnings are capped."""

    def __init__(self, history: RunHistory, path: Path) -> None:
        self.history, self.path = history, path
        self.claimed: dict[tuple[str, Axis], str] = {}
        self.n_warnings = 0
        self.n_points = 0

    def warn(self, message: str) -> None:
        self.n_warnings += 1
        if self.n_warnings <= MAX_WARNINGS_PER_FILE:
            self.history.warnings.append(message)

    def close(self) -> None:
        self._add_total_losses()
        extra = self.n_warnings - MAX_WARNINGS_PER_FILE
        if extra > 0:
            self.history.warnings.append(f"{self.path}: {extra} more warning(s) like the above")

    def _add_total_losses(self) -> None:
        """`train_loss` and `val_loss` as the sums of a split's loss terms, at the points where every term has a
        value, when the log has terms and no total: the rules that read the loss then judge detectors too."""
        for (name, axis), _series in list(self.history.series.items()):
            m = _LOSS_TERM.fullmatch(name)
            total = f"{m['split']}_loss" if m else ""
            if not m or self.history.has(total, axis):
                continue
            terms = [s for (n, a), s in self.history.series.items()
                     if a == axis and (t := _LOSS_TERM.fullmatch(n)) and t["split"] == m["split"]]  # fmt: skip
            if len(terms) < 2:
                continue
            values = [dict(zip(s.x, s.y, strict=True)) for s in terms]
            xs = sorted(set.intersection(*(set(v) for v in values)))
            self.history.add(total, axis, xs, [sum(v[x] for v in values) for x in xs])
            self.warn(f"{self.path}: {total} is the sum of {', '.join(s.name for s in terms)} (the log has the "
                      "terms and no total)")  # fmt: skip

    def add(self, raw: str, canonical: str, axis: Axis, xs: Iterable[float], ys: Iterable[float]) -> None:
        xs, ys = list(xs), list(ys)
        if not ys:
            return
        owner = self.claimed.setdefault((canonical, axis), raw)
        name = canonical
        if owner != raw:
            # Kept under its own name, unless that is the claimed one (a one-value `train_loss` beside a `loss` curve).
            name = raw if raw != canonical else f"{raw}_summary" if len(ys) == 1 else f"{raw}_duplicate"
            self.warn(f"{self.path}: '{raw}' and '{owner}' both read as {canonical}@{axis}; '{raw}' kept as {name}")
        self.history.add(name, axis, xs, ys, source_name=raw if raw != name else None)
        self.n_points += len(ys)


def _index_column(candidates: list[str], rows: list[dict[str, float]]) -> str | None:
    """The index column of a role that most rows fill, then the one with the most distinct values, then the first:
    Lightning's `batch,epoch,step,...` holds a logged `batch` of 0.0 on the train rows only, and `step` on every row."""
    return max(
        candidates,
        key=lambda c: (sum(c in r for r in rows), len({r[c] for r in rows if c in r}), -candidates.index(c)),
        default=None,
    )


def _distinct(values: list[float | None]) -> bool:
    present = [v for v in values if v is not None]
    return len(present) == len(values) and len(set(present)) == len(present)


def _steps_restart_each_epoch(rows: list[dict[str, float]], step_col: str, epoch_col: str) -> bool:
    """The step column counts within each epoch (it falls back when the epoch advances) while (epoch, step) only
    grows: a per-epoch batch counter, not a global step (issue 13's corpus: `epoch,step` = 1,299 / 1,599 / 2,299)."""
    pairs = [(r[epoch_col], r[step_col]) for r in rows if epoch_col in r and step_col in r]
    steps = [s for _, s in pairs]
    falls = any(b < a for a, b in itertools.pairwise(steps))
    return falls and len(pairs) == len(rows) and all(p <= q for p, q in itertools.pairwise(pairs))


def _steps_per_fractional_epoch(rows: list[dict[str, float]], step_col: str, epoch_col: str) -> int | None:
    """Steps per epoch from an epoch column that counts fractions of an epoch (Hugging Face's log_history exported
    to CSV: epoch 0.0061 at step 50), when step / epoch is steady over the rows; None for whole epochs."""
    pairs = [(r[step_col], r[epoch_col]) for r in rows if step_col in r and r.get(epoch_col, 0) > 0]
    if len(pairs) < 2 or all(float(e).is_integer() for _, e in pairs):
        return None
    return steady_steps_per_epoch(s / e for s, e in pairs)


def _with_global_steps(rows: list[dict[str, float]], step_col: str, epoch_col: str) -> list[dict[str, float]]:
    per_epoch = max(r[step_col] for r in rows)
    first = min(r[epoch_col] for r in rows)
    return [{**r, step_col: (r[epoch_col] - first) * per_epoch + r[step_col]} for r in rows]


def add_table(sink: Sink, table: Table, *, axis: Axis | None = None) -> None:
    """Every metric column of `table` into `sink`'s history. `axis` forces one axis (dlexpert's `kind` rows)."""
    roles = {c: index_role(c) for c in table.columns}
    rows = [row for _, row in table.rows]
    step_col = _index_column([c for c in table.columns if roles[c] == "step"], rows)
    epoch_col = _index_column([c for c in table.columns if roles[c] == "epoch"], rows)
    metrics = [c for c in table.columns if roles[c] is None]
    # `train_loss` claims its name before a `loss` column does, unless it holds one value: a run's summary (Hugging
    # Face's final `train_loss` in a log_history exported to CSV) is not the curve the per-step `loss` is.
    names = [normalise(c)[0] for c in metrics]
    summaries = {c for c, n in zip(metrics, names, strict=True)
                 if names.count(n) > 1 and sum(c in r for r in rows) <= 1}  # fmt: skip
    metrics.sort(key=lambda c: (c in summaries, normalise(c)[0] != c))
    if step_col is not None and epoch_col is not None and _steps_restart_each_epoch(rows, step_col, epoch_col):
        rows = _with_global_steps(rows, step_col, epoch_col)
        sink.warn(f"{table.path}: '{step_col}' restarts every '{epoch_col}'; read as the step within the epoch "
                  f"(global step = epochs before it x the largest '{step_col}' + '{step_col}')")  # fmt: skip
    if step_col is not None and epoch_col is not None and "steps_per_epoch" not in sink.history.meta:
        spe = _steps_per_fractional_epoch(rows, step_col, epoch_col)
        if spe is not None:
            sink.history.meta["steps_per_epoch"] = spe
    rows_are_epochs = epoch_col is not None and bool(rows) and _distinct([r.get(epoch_col) for r in rows])
    if axis is None and step_col is None and epoch_col is None and metrics:
        # Validation metrics on every row: one row per epoch (a Keras history saved without its epoch column).
        validated = any(normalise(c)[0].startswith("val_") and all(c in r for r in rows) for c in metrics)
        axis = "epoch" if validated else None
        sink.warn(
            f"{table.path}: no step or epoch column; "
            + ("every row has validation metrics, so rows are read as epochs from 0" if validated
               else "rows are numbered as steps from 0")
        )  # fmt: skip
    missing_x: set[str] = set()

    def put(raw: str, canonical: str, ax: Axis, xcol: str | None) -> None:
        xs: list[float] = []
        ys: list[float] = []
        for i, row in enumerate(rows):
            if raw not in row:
                continue
            if xcol is None:
                x: float | None = float(i if ax == "step" else len(xs))  # row number / one value per epoch
            else:
                x = row.get(xcol)
            if x is None or not math.isfinite(x):
                missing_x.add(xcol or "")
                continue
            xs.append(x)
            ys.append(row[raw])
        sink.add(raw, canonical, ax, xs, ys)

    for col in metrics:
        canonical, hint = normalise(col)
        if axis is not None:
            put(col, canonical, axis, step_col if axis == "step" else epoch_col)
            continue
        col_epochs = [r.get(epoch_col) for r in rows if col in r] if epoch_col else []
        one_per_epoch = epoch_col is not None and _distinct(col_epochs)
        if hint == "epoch":
            put(col, canonical, "epoch", epoch_col)
        elif hint == "step":
            put(col, canonical, "step", step_col)
        elif step_col is not None:
            put(col, canonical, "step", step_col)
            if one_per_epoch and (rows_are_epochs or canonical.startswith("val_")):
                put(col, canonical, "epoch", epoch_col)
        elif epoch_col is not None:
            if one_per_epoch:
                put(col, canonical, "epoch", epoch_col)
            else:
                sink.warn(f"{table.path}: '{col}' has several rows per epoch and no step column; rows read as steps")
                put(col, canonical, "step", None)
        else:
            put(col, canonical, "step", None)
    for xcol in sorted(missing_x):
        sink.warn(f"{table.path}: some rows have no '{xcol}' value; those rows were skipped")
