"""CSV logs: Keras `CSVLogger` (`training.log`: one row per epoch), Lightning's `CSVLogger` (`metrics.csv`: sparse
rows with `epoch` and `step`, `*_step`/`*_epoch` columns, `lr-<Optimizer>`), timm's summary.csv, TensorBoard's
"download CSV" (`Wall time,Step,Value`), and any CSV whose header names metrics."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ...errors import InvalidInputError
from ..history import RunHistory
from ._sniff import csv_dialect
from ._table import Sink, Table, add_table, parse_number, read_text

# TensorBoard's download name: run-<run>-tag-<tag with / as _>.csv
_TB_EXPORT = re.compile(r"run[-_](?P<run>.*?)[-_]tag[-_](?P<tag>.+)\.csv", re.IGNORECASE)


def parse_csv(path: Path, text: str, sink: Sink) -> Table:
    """The numeric cells of a CSV log. Bad cells and cut rows become warnings naming file and line; text the csv
    module cannot split at all is one line."""
    try:
        return _parse_csv(path, text, sink)
    except csv.Error as e:
        raise InvalidInputError(f"{path}: not a readable CSV log ({e})") from None


def _parse_csv(path: Path, text: str, sink: Sink) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_dialect(text))  # newline="": as csv needs
    header = [c.strip() for c in next(reader, [])]
    pandas_index = len(header) > 1 and not header[0]  # `pd.DataFrame(history.history).to_csv(...)`: row numbers
    if pandas_index:
        header = header[1:]
    table = Table(path, columns=list(header))
    bad: dict[str, list[tuple[int, str]]] = {}
    numeric: set[str] = set()
    cut_tail = not text.endswith(("\n", "\r"))
    rows = (cells[1:] for cells in reader) if pandas_index else reader
    for i, (cells, last) in enumerate(_with_last(rows)):  # streamed: a million-row log is never held twice
        line = i + 2  # 1-based, after the header (rows do not span lines in these logs)
        if not "".join(cells).strip():
            continue
        if header and cells and cells[0].strip() == header[0] and [c.strip() for c in cells] == header:
            continue  # Keras CSVLogger(append=True) after a restart repeats its header
        if len(cells) < len(header):
            if last and cut_tail:  # the writer was stopped mid-row: the last cell may be cut too
                cells = cells[:-1]
                sink.warn(f"{path}:{line}: last row is cut short ({len(cells) + 1} of {len(header)} fields; the "
                          "writer was stopped?); read its complete cells")  # fmt: skip
            else:
                sink.warn(f"{path}:{line}: row has {len(cells)} of {len(header)} fields; read the ones present")
        elif len(cells) > len(header):
            sink.warn(f"{path}:{line}: row has {len(cells)} fields but the header {len(header)}; extra ones skipped")
        row: dict[str, float] = {}
        for name, cell in zip(header, cells, strict=False):
            try:
                value: float | None = float(cell)  # the common case, without parse_number's call: 5M cells for 1M rows
            except ValueError:
                if not cell.strip():
                    continue  # sparse rows (Lightning) leave cells empty
                value = parse_number(cell)
            if value is None:
                bad.setdefault(name, []).append((line, cell.strip()))
            else:
                row[name] = value
                numeric.add(name)
        table.rows.append((line, row))
    for name, bad_cells in bad.items():
        if name not in numeric:
            continue  # a text column (dates, notes): not a metric, nothing lost
        for line, cell in bad_cells:
            sink.warn(f"{path}:{line}: column '{name}' holds {cell[:30]!r}, not a number; that cell was skipped")
    table.columns = [c for c in header if c in numeric]
    return table


def _with_last(items: Iterable[list[str]]) -> Iterator[tuple[list[str], bool]]:
    """(item, whether it is the last one) for each item."""
    it = iter(items)
    previous = next(it, None)
    for item in it:
        yield previous, False  # type: ignore[misc]
        previous = item
    if previous is not None:
        yield previous, True


def csv_flavour(table: Table) -> str:
    cols = {c.lower() for c in table.columns}
    if {"epoch", "step"} <= cols and any(c.endswith(("_step", "_epoch")) or c.startswith("lr-") for c in cols):
        return "lightning_csv"
    if "epoch" in cols and "step" not in cols and any(c in cols for c in ("loss", "val_loss")):
        return "keras_csv"
    return "csv"


def read_csv(history: RunHistory, path: Path) -> None:
    """Add the series of one CSV log to `history`."""
    sink = Sink(history, path)
    table = parse_csv(path, read_text(path), sink)
    m = _TB_EXPORT.fullmatch(path.name)
    if [c.lower() for c in table.columns] == ["wall time", "step", "value"] and m:
        # One series per file; its name is in the file name (TensorBoard writes `/` in the tag as `_`).
        step, value = table.columns[1], table.columns[2]
        table.columns = [step, m["tag"]]
        table.rows = [(ln, {step: r[step], m["tag"]: r[value]}) for ln, r in table.rows if step in r and value in r]
    add_table(sink, table)
    sink.close()
    history.formats.append(csv_flavour(table))
