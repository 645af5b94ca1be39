"""Plain-text training logs: what a training script prints, saved as `train.log`, `nohup.out` or a SLURM `.out` file.

There is no header to read, so each line is read for `name: value` pairs (also `name=value`, `name value`,
`'name': value` of a printed Python dict) whose name the mapping table knows (`loss`, `val_acc`, `Average loss`,
`Acc@1`, `lr`), and for where the line sits in training:

| style | example line | read as |
| --- | --- | --- |
| Keras `fit()` | `Epoch 3/10` then `469/469 - 5s - loss: 0.41 - accuracy: 0.83 - val_loss: 0.52` | epoch 3 |
| PyTorch examples | `Train Epoch: 1 [6400/60000 (11%)]	Loss: 0.30` | epoch 1, step 6400 within it |
| mmcv, mmengine | `Epoch [1][50/500] lr: 1.0e-02, loss: 1.23`, `Epoch(val) [1][10/10] accuracy/top1: 78.4` | epoch 1 |
| timm | `Train: 3 [ 100/156 ( 65%)]  Loss: 6.93 (6.93)` | epoch 3, step 100 |
| nanoGPT, generic | `step 250: train loss 1.91, val loss 2.03`, `iter 100: loss 2.31, time 12ms` | step 250 |
| Hugging Face printed | `{'loss': 0.51, 'learning_rate': 4e-05, 'epoch': 0.5}` | progress 0.5 epochs |
| tqdm bars | `Epoch 2: 100%|####| 938/938 [00:20<00:00, loss=0.123, val_acc=0.91]` | the bar's last update |

A console table is read column by column: Ultralytics YOLO prints `Epoch GPU_mem box_loss cls_loss dfl_loss Instances
Size`, then `1/100 2.13G 1.596 2.455 1.443 1 640` under it (epoch 1 and three loss terms, which the reader sums into
the loss); a script may print `Epoch Train_Loss Val_Loss Accuracy` once and a row of numbers per epoch under it.

A line that names its split outside the metric names ("Validation:", "Test set: Average loss: ...", "valid on
'valid' subset", `Epoch(val)`) puts its unprefixed metrics on that split; the test split is judged as validation
when there is none (see `read_history`). A line with no epoch or step takes the last one seen before it: Keras
prints the epoch on a line of its own, and an evaluation summary follows the epoch's last training line. Other
numbers (times, ETAs, memory, throughput) are not metrics and are left out, so a text log lists no unknown series.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..history import RunHistory
from ._names import HF_SUMMARY_KEYS, is_known, normalise, with_phase
from ._table import Sink, Table, add_table, read_text

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
_WORD = r"[A-Za-z][\w./@-]*"
# A metric name of one to three words (lazy: the shortest that a value follows), optionally quoted, then a value,
# optionally quoted too (fairseq's JSON records: `"loss": "0.264"`). The value may be a fraction of counts
# ("Accuracy: 9890/10000"); it must end there ("5s" and "12ms" are times).
_PAIR = re.compile(
    rf"['\"]?(?P<key>{_WORD}(?:[ _]{_WORD}){{0,2}}?)['\"]?\s*(?:[:=]\s*|\s+)['\"]?(?P<value>{_NUMBER})"
    rf"(?:\s*/\s*(?P<den>\d+(?:\.\d+)?)(?![\d.]))?(?![\w.])",
    re.IGNORECASE,
)
_VALUE_FIRST = re.compile(
    rf"(?<![\w.])(?P<value>{_NUMBER})(?P<den>)\s*%?\s+(?P<key>{_WORD}(?: {_WORD}){{0,2}})",
    re.IGNORECASE,
)
# Where a line sits. mmcv `Epoch [1][50/500]`, mmengine `Epoch(train) [1][50/500]`, the self-supervised repositories'
# `Epoch: [0][50]` (SwAV, MoCo, DINO), timm `Train: 3 [ 100/156`, then any "epoch N" ("Epoch 3/10", "epoch: 3",
# "'epoch': 0.5", "| epoch 003 |") or "ep N/M" ("dino pretrain ep  3/25  loss=6.88").
_MM_EPOCH = re.compile(
    r"\bepoch(?:\(\w+\))?:?\s*\[\s*(?P<e>\d+)\s*\]\s*(?:\[\s*(?P<s>\d+)\s*(?:/\s*(?P<n>\d+)\s*)?\])?", re.IGNORECASE
)
_TIMM = re.compile(r"^\s*train:\s*(?P<e>\d+)\s*\[\s*(?P<s>\d+)\s*/\s*(?P<n>\d+)", re.IGNORECASE)
_EPOCH = re.compile(
    r"\b(?:epoch|ep(?=\s*\d+\s*/\s*\d))['\"]?\s*[:=#]?\s*\[?\s*(?P<e>\d+(?:\.\d+)?)(?!\.?\d)", re.IGNORECASE
)
_STEP = re.compile(
    r"\b(?:global[_ ]step|step|iter|iteration|num_updates|batch(?=\s*[:=#]?\s*\[?\s*\d+\s*/))['\"]?\s*[:=#]?\s*"
    r"['\"]?\[?\s*(?P<s>\d+)\b",
    re.IGNORECASE,
)
# The position within an epoch that PyTorch's examples print after it: "Train Epoch: 1 [6400/60000 (11%)]".
_WITHIN_EPOCH = re.compile(r"\[\s*(?P<s>\d+)\s*/\s*(?P<n>\d+)\s*(?:\(\s*\d+%\s*\))?\s*\]")
_INDEX_WORDS = {"epoch", "ep", "step", "iter", "iteration", "batch", "global_step", "global step", "it"}
# A split named before the metrics: "Validation:", "Test set:", "valid on 'valid' subset", "[eval]", "Epoch(val)".
_PHASE = re.compile(r"(?<![a-z])(?P<w>val|valid|validation|eval|evaluation|evaluating|dev|test|testing)(?![a-z])",
                    re.IGNORECASE)  # fmt: skip
_NAMES_TRAIN = re.compile(r"(?<![a-z])(?:train|training|trn)(?![a-z])", re.IGNORECASE)
_PROGRESS_SPLIT = re.compile(r"[\r\x08]+")  # tqdm and Keras redraw a bar in place: keep its last update
MIN_METRIC_LINES = 3  # a text file with fewer lines of known metrics is not read as a training log
MAX_SNIFF_BYTES = 8 << 20  # how far into a text file its first metric lines are looked for
MAX_LINE_CHARS = 4096  # of a longer line (progress bars written without "\r"), the tail: the last update


# A console table's header: names only ("Epoch GPU_mem box_loss cls_loss dfl_loss Instances Size"), up to a ':' that
# starts a progress bar; each line under it holds one value per name.
_HEADER_NAME = re.compile(r"[A-Za-z][\w./()-]*")
_TERM = re.compile(r"[a-z0-9]+_loss", re.IGNORECASE)
_COUNT = re.compile(r"(?P<e>\d+)/\d+")
MIN_HEADER_METRICS = 2  # known metrics or loss terms a header names


@dataclass
class _Line:
    number: int
    epoch: float | None
    step: float | None  # the global step, or the position within the epoch when `per_epoch` is set
    per_epoch: float | None  # how many steps (or samples) an epoch has, when the line says ("[6400/60000]")
    metrics: dict[str, float]


def metric_pairs(line: str) -> tuple[dict[str, float], str]:
    """The known metrics of one line, by canonical name, and the text before the first of them (where a line names
    its split: "Test set: Average loss: ..."). A name seen twice keeps its last value: progress bars written without
    carriage returns repeat every update on one line. Two names read as the same metric keep the first ("Token Acc:
    0.066 | Seq Acc: 0.000": the token accuracy), and a metric that names no split after one that does is on that split
    ("Val Loss: 8.65 | Token Acc: 0.066" is a validation accuracy). A line with no `name: value` pair is read the other
    way round, as some scripts print "0.9816 C.E. Loss, 94.28% Accuracy"."""
    metrics, head = _pairs(line, _PAIR, _known_suffix)
    if not metrics:
        metrics, head = _pairs(line, _VALUE_FIRST, _known_prefix)
    return metrics, head


def _pairs(line: str, pattern: re.Pattern[str], name_of: Callable[[str], str | None]) -> tuple[dict[str, float], str]:
    metrics: dict[str, float] = {}
    key_of: dict[str, str] = {}  # canonical name -> the key text it was read from
    first, split = len(line), None
    for m in pattern.finditer(line):
        name = name_of(m["key"])
        if name is None:
            continue
        value = float(m["value"])
        if m["den"]:  # "9890/10000": a share of counts
            den = float(m["den"])
            if den == 0:
                continue
            value /= den
        if name.startswith("val_"):
            split = "val"
        elif _NAMES_TRAIN.search(m["key"]):
            split = None
        elif split == "val":
            name = with_phase(name, "val")
        if key_of.setdefault(name, m["key"]) != m["key"]:
            continue  # another name for a metric already read on this line
        metrics[name] = value
        first = min(first, m.start())
    return metrics, line[:first]


@functools.lru_cache(maxsize=4096)  # a log repeats its few names on every line
def _known_suffix(key: str) -> str | None:
    """The canonical name of the longest tail of `key` the mapping table knows ("done. Average loss" -> train_loss);
    None for an index ("Train Epoch") or a number that is not a metric ("time", "eta", "memory")."""
    words = key.split()
    for i in range(len(words)):
        tail = " ".join(words[i:])
        if tail.lower() in _INDEX_WORDS:
            return None
        canonical, _ = normalise(tail)
        if is_known(canonical):
            return canonical
    return None


def _known_prefix(key: str) -> str | None:
    """After a value, the name is its first words: "C.E. Loss, 94.28" reads "C.E. Loss", whose tail is a loss."""
    words = key.split()
    for n in range(len(words), 0, -1):
        name = _known_suffix(" ".join(words[:n]))
        if name is not None:
            return name
    return None


def _phase(head: str) -> str | None:
    m = _PHASE.search(head)
    if m is None:
        return None
    return "test" if m["w"].lower().startswith("test") else "val"


def _on_split(canonical: str, phase: str | None) -> str:
    """`train_loss` on a line that says "Validation" is `val_loss`; on "Test set" it is `test_loss`."""
    if phase == "val":
        return with_phase(canonical, "val")
    if phase == "test" and canonical.startswith("train_"):
        return "test_" + canonical[len("train_") :]
    return canonical


def _position(line: str) -> tuple[float | None, float | None, float | None]:
    """(epoch, step, steps per epoch) a line names, each None when it does not say."""
    for pattern in (_MM_EPOCH, _TIMM):
        m = pattern.search(line)
        if m:
            step, per_epoch = m["s"], m.groupdict().get("n")
            return float(m["e"]), float(step) if step else None, float(per_epoch) if per_epoch else None
    epoch = _EPOCH.search(line)
    step = _STEP.search(line)
    e = float(epoch["e"]) if epoch else None
    if step is not None:
        return e, float(step["s"]), None
    within = _WITHIN_EPOCH.search(line, epoch.end()) if epoch else None
    return e, float(within["s"]) if within else None, float(within["n"]) if within else None


def parse_lines(text: str) -> list[_Line]:
    """Every line that holds a known metric other than the learning rate, with the epoch and step it sits at."""
    lines: list[_Line] = []
    header: list[str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):  # not splitlines(): a lone "\r" redraws a bar
        line = next((p for p in reversed(_PROGRESS_SPLIT.split(raw[-MAX_LINE_CHARS:])) if p.strip()), "")
        if not line:
            continue
        if any(key in line for key in HF_SUMMARY_KEYS):
            continue  # the run's averages, printed when training ends
        columns, header = header, _column_header(line)
        if header is not None:
            continue
        row = _table_row(columns, line) if columns is not None else None
        if row is not None:  # the header holds for the rows under it
            lines.append(_Line(number, row[0], None, None, row[1]))
            header = columns
            continue
        metrics, head = metric_pairs(line)
        epoch, step, per_epoch = _position(line)
        if not metrics and epoch is None and step is None:
            continue
        phase = _phase(head)
        metrics = {_on_split(k, phase): v for k, v in metrics.items()}
        lines.append(_Line(number, epoch, step, per_epoch, metrics))
    return lines


def _column_header(line: str) -> list[str] | None:
    """The column names of a console table's header line, or None: three or more names and no number before any ':',
    at least MIN_HEADER_METRICS of them a known metric or a loss term."""
    names = line.split(":")[0].split()
    if len(names) < 3 or not all(_HEADER_NAME.fullmatch(n) for n in names):
        return None
    return names if sum(_column_metric(n) is not None for n in names) >= MIN_HEADER_METRICS else None


@functools.lru_cache(maxsize=4096)  # a table repeats its header on every epoch
def _column_metric(name: str) -> str | None:
    """A header name's series: its canonical name when the mapping table knows it ("Val_Loss" -> "val_loss"), else a
    loss term as a training term ("box_loss" -> "train/box_loss", which the reader sums into the loss)."""
    canonical, _ = normalise(name)
    if is_known(canonical):
        return canonical
    return f"train/{name.lower()}" if _TERM.fullmatch(name) else None


def _table_row(header: list[str], line: str) -> tuple[float | None, dict[str, float]] | None:
    """(epoch, metrics) of the line under a header, one value per column ("1/100 2.13G 1.596 ..."), or None when the
    line does not fill the metric columns with numbers."""
    values = line.split()
    if len(values) < len(header):
        return None
    epoch, metrics = None, {}
    for name, value in zip(header, values, strict=False):
        if name.lower() in {"epoch", "ep"}:
            m = _COUNT.fullmatch(value)
            epoch = float(m["e"]) if m else float(value) if value.isdigit() else None
        elif (series := _column_metric(name)) is not None:
            try:
                metrics[series] = float(value)
            except ValueError:
                return None
    return (epoch, metrics) if metrics else None


def count_metric_lines(text: str) -> int:
    return sum(1 for line in parse_lines(text) if set(line.metrics) - {"lr"})


def looks_like_text_log(head: str, path: Path | None = None) -> bool:
    """At least `MIN_METRIC_LINES` lines hold a known metric other than a rate: in `head`, else (a long preamble: a
    printed config and model, a traceback) in the lines of the file's first `MAX_SNIFF_BYTES` that name a loss or
    an accuracy."""
    if count_metric_lines(head) >= MIN_METRIC_LINES:
        return True
    if path is None or path.stat().st_size <= len(head):
        return False
    candidates: list[str] = []
    with path.open("rb") as f:
        while f.tell() < MAX_SNIFF_BYTES and len(candidates) < 4 * MIN_METRIC_LINES:
            raw = f.readline(MAX_LINE_CHARS)  # bounded: a file without line breaks is not read whole
            if not raw:
                break
            low = raw.lower()
            if b"loss" in low or b"acc" in low:
                candidates.append(raw.decode("utf-8", errors="replace"))
    return count_metric_lines("\n".join(candidates)) >= MIN_METRIC_LINES


def _table(path: Path, lines: list[_Line], sink: Sink) -> Table:
    """One row per metric line. A line without a position takes the last one seen; fractional epochs (Hugging
    Face's printed dicts) are progress, so rows are numbered as steps and whole-epoch evaluations keep an epoch."""
    table = Table(path)
    epochs = [ln.epoch for ln in lines if ln.epoch is not None]
    fractional = any(not e.is_integer() for e in epochs)
    first_epoch = 1.0 if epochs and min(epochs) == 1 and not fractional else 0.0  # "Epoch 1/10": 1-based
    has_steps = any(ln.step is not None for ln in lines)
    epoch: float | None = None
    step: float | None = None
    for i, ln in enumerate(lines):
        epoch = ln.epoch if ln.epoch is not None else epoch
        if ln.step is not None:  # a position within the epoch becomes a global step: epochs before it x their size
            before = (epoch - first_epoch) * ln.per_epoch if ln.per_epoch and epoch is not None else 0.0
            step = before + ln.step
        if not set(ln.metrics) - {"lr"}:
            continue
        row = dict(ln.metrics)
        if fractional:
            row["step"] = float(i) if step is None else step
            evaluation = any(k.startswith(("val_", "test_")) for k in row)
            if evaluation and epoch is not None and epoch.is_integer() and epoch >= 1:
                row["epoch"] = epoch - 1  # epochs completed, as Hugging Face counts them
        else:
            if epoch is not None:
                row["epoch"] = epoch - first_epoch
            if has_steps and step is not None:
                row["step"] = step
        table.add_row(ln.number, row)
    if fractional:
        sink.warn(f"{path}: epochs are logged as fractions (progress); rows are read as steps in order")
    if _make_steps_grow(table):
        sink.warn(f"{path}: the step counter starts again within the log (per epoch, or a restarted run appended); "
                  "steps are counted on in the order the lines were written")  # fmt: skip
    return table


def _last_run(path: Path, lines: list[_Line], sink: Sink) -> list[_Line]:
    """The lines of the last run when the epoch counter goes back (several trainings printed one after another into
    one file, each from its first epoch), with a warning; else every line. One history is one run: the first loss of
    the next model is not a spike of the last one."""
    starts, top = [0], None
    for i, ln in enumerate(lines):
        if ln.epoch is None or not set(ln.metrics) - {"lr"}:
            continue  # a run is what its metric lines say: a later stage logging none of them is not one
        if top is not None and ln.epoch < top:
            start = i  # with the lines just before it at its epoch (a learning-rate line that opens the run)
            while start > starts[-1] and (before := lines[start - 1].epoch) is not None and before <= ln.epoch:
                start -= 1
            starts.append(start)
            top = None
        top = ln.epoch if top is None else max(top, ln.epoch)
    if len(starts) == 1:
        return lines
    first = lines[starts[-1]]
    sink.warn(f"{path}: {len(starts)} runs one after another (the epoch counter starts again); the last one, from "
              f"line {first.number}, is diagnosed")  # fmt: skip
    return lines[starts[-1] :]


def _make_steps_grow(table: Table) -> bool:
    """Steps in line order, counted on where the printed counter falls back: each restart continues from the last
    step plus the usual spacing. True when any fell back."""
    steps = [row["step"] for _, row in table.rows if "step" in row]
    gaps = sorted(b - a for a, b in itertools.pairwise(steps) if b > a)
    if not gaps or all(b >= a for a, b in itertools.pairwise(steps)):
        return False
    spacing = gaps[len(gaps) // 2]
    offset, previous = 0.0, None
    for _, row in table.rows:
        if "step" not in row:
            continue
        raw = row["step"]
        if previous is not None and raw < previous:
            offset += previous - raw + spacing
        previous = raw
        row["step"] = raw + offset
    return True


def _is_evaluation(line: _Line) -> bool:
    return bool(line.metrics) and all(k.startswith(("val_", "test_")) or k == "lr" for k in line.metrics)


def _last_of_evaluation_blocks(lines: list[_Line]) -> list[_Line]:
    """Of consecutive evaluation lines that name no position of their own, the last: timm and many scripts print a
    running average per evaluation batch ("Test: [ 96/97] Loss: 6.1 (6.15)"), and the last line holds the whole
    evaluation."""
    kept: list[_Line] = []
    for ln in lines:
        unplaced = ln.epoch is None and ln.step is None and _is_evaluation(ln)
        if unplaced and kept and kept[-1].epoch is None and kept[-1].step is None and _is_evaluation(kept[-1]):
            kept[-1] = ln
        else:
            kept.append(ln)
    return kept


def _test_as_validation(path: Path, lines: list[_Line], sink: Sink) -> None:
    """With no validation line, the lines a script calls "Test set" are the held-out curve, and are judged as
    validation (placed on the epoch axis as validation is); a warning says so."""
    if any(k.startswith("val_") for ln in lines for k in ln.metrics):
        return
    if any(k.startswith("test_") for ln in lines for k in ln.metrics):
        for ln in lines:
            ln.metrics = {"val_" + k[len("test_") :] if k.startswith("test_") else k: v for k, v in ln.metrics.items()}
        sink.warn(f"{path}: no validation lines: the test lines are judged as the validation split")


def read_text_log(history: RunHistory, path: Path) -> None:
    """Add the series of a plain-text training log to `history`."""
    sink = Sink(history, path)
    lines = _last_run(path, _last_of_evaluation_blocks(parse_lines(read_text(path, newline=""))), sink)
    _test_as_validation(path, lines, sink)
    table = _table(path, lines, sink)
    add_table(sink, table)
    sink.close()
    history.formats.append("text_log")
