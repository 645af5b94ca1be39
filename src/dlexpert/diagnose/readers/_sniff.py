"""What kind of log a file is, from its content (its name is only a hint): a `log.txt` with a header of metric
columns is a CSV log, a JSON file with `log_history` is a trainer state, TF record framing is TensorBoard."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path
from typing import Literal

from ._names import ERROR_METRIC, index_role, looks_like_metric
from .textlog import looks_like_text_log

Kind = Literal[
    "dlexpert", "trainer_state", "mlflow", "jsonl", "json_rows", "keras_history", "csv", "tensorboard", "text"
]


def is_mlflow_run(folder: Path) -> bool:
    """An MLflow run folder: `meta.yaml` beside a `metrics/` folder."""
    return (folder / "meta.yaml").is_file() and (folder / "metrics").is_dir()


HEAD_BYTES = 64 * 1024
MAX_JSON_BYTES = 256 * 1024 * 1024  # a whole-file JSON document (trainer_state.json) is parsed in memory
DELIMITERS = ",\t;"


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def is_tf_record_stream(head: bytes) -> bool:
    """TFRecord framing (uint64 length, uint32 CRC, data, uint32 CRC) whose first record is the `brain.Event`
    file-version event every TensorBoard writer (TF, torch, tensorboardX, Keras) starts a file with."""
    if len(head) < 12:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 0 < length < 4096 and b"brain.Event" in head[12 : 12 + length]


def csv_dialect(text: str) -> str:
    """The delimiter of a CSV sample (comma when the sniffer cannot tell)."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_header_ok(header: list[str]) -> bool:
    cells = [c.strip() for c in header]
    if len(cells) > 1 and not cells[0]:
        cells = cells[1:]  # pandas' `DataFrame.to_csv()` writes its unnamed index first
    if len(cells) > 1 and not cells[-1]:
        cells = cells[:-1]  # a writer that ends every line with the delimiter ("Percent Good,Mean Squared Error,")
    if not cells or any(not c or _number(c) for c in cells):
        return False
    if [c.lower() for c in cells] == ["wall time", "step", "value"]:  # TensorBoard's "download CSV"
        return True
    has_metric = any(looks_like_metric(c) or ERROR_METRIC.fullmatch(c) for c in cells)
    has_index = any(index_role(c) in ("step", "epoch") for c in cells)
    return has_metric or (has_index and len(cells) >= 2)


def history_lists(doc: object) -> dict[str, list[float]]:
    """The series of a Keras-style history dict: metric names mapping to lists of numbers, one per epoch. Entries
    beside them that are not such lists (`best_val_acc`, a `config` dict, `test_loss`) are not series, and lists may
    differ in length (two models' histories saved in one file: `reg_loss` over 30 epochs, `cls_loss` over 19). Empty
    when `doc` is not such a dict."""
    if not isinstance(doc, dict):
        return {}
    lists = {
        str(k): v
        for k, v in doc.items()
        if isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    }
    if not lists or max(len(v) for v in lists.values()) < 2:
        return {}
    known = any(looks_like_metric(k) or looks_like_metric(k.partition("_")[2]) for k in lists)  # `cls_val_loss`
    return lists if known else {}


def is_history_dict(doc: object) -> bool:
    """Keras' `json.dump(model.fit(...).history)`: metric names mapping to equally long lists of numbers."""
    return bool(history_lists(doc))


def _json_keys_ok(row: dict[str, object]) -> bool:
    keys = [*row, *(f"{k}/{k2}" for k, v in row.items() if isinstance(v, dict) for k2 in v)]
    return any(looks_like_metric(k) or index_role(k) in ("step", "epoch") for k in keys)


def sniff(path: Path) -> tuple[Kind | None, str]:
    """(kind, "") for a log this package reads, else (None, why not)."""
    try:
        head = read_head(path)
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})"
    if not head.strip():
        return None, "the file is empty"
    if "tfevents" in path.name or is_tf_record_stream(head):
        return "tensorboard", ""
    if b"\x00" in head:
        return None, "a binary file, and not TensorBoard events"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    first = text.splitlines()[0].strip() if text else ""  # "\r" alone ends a line too
    if first.startswith(("{", "[")) and not first.startswith("{'"):  # "{'loss': 0.5, ...": a printed Python dict
        kind, why = _sniff_json(path, first)
        if kind is not None or not looks_like_text_log(text, path):  # "[train] iter 10: loss 8.74": printed lines
            return kind, why
        return "text", ""
    header = next(csv.reader([first], delimiter=csv_dialect(text)), [])
    if _csv_header_ok(header):
        return "csv", ""
    if looks_like_text_log(text, path):
        return "text", ""
    return None, f"not a log format this reader knows (first line: {first[:60]!r})"


def _sniff_json(path: Path, first: str) -> tuple[Kind | None, str]:
    try:
        row = json.loads(first)
    except ValueError:
        row = None  # a pretty-printed document: parse the whole file
    if isinstance(row, dict):
        if isinstance(row.get("log_history"), list):
            return "trainer_state", ""
        if row.get("kind") in ("step", "epoch"):
            return "dlexpert", ""
        if is_history_dict(row):  # a Keras history saved on one line
            return "keras_history", ""
        if _json_keys_ok(row):
            return "jsonl", ""
        return None, "JSON without metric or step/epoch keys (not a training log)"
    if path.stat().st_size > MAX_JSON_BYTES:
        return None, f"a JSON document over {MAX_JSON_BYTES >> 20} MB"
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        doc = json.loads(text)
    except ValueError as e:
        if '"log_history"' in text:  # a trainer_state.json cut short while written: its reader salvages entries
            return "trainer_state", ""
        if first.startswith("{") and first != "{":  # JSON lines with a bad first line: the reader skips it
            return "jsonl", ""
        return None, f"not valid JSON ({e})"
    if isinstance(doc, dict) and isinstance(doc.get("log_history"), list):
        return "trainer_state", ""
    if isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc) and _json_keys_ok(doc[0]):
        return "json_rows", ""
    if is_history_dict(doc):
        return "keras_history", ""
    return None, "a JSON document without `log_history` (not a Hugging Face trainer_state.json) and not rows"
