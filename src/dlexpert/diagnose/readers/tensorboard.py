"""TensorBoard event files from any writer (torch `SummaryWriter`, tensorboardX, Keras/TF, Hugging Face, Lightning),
read with TensorBoard's own `EventAccumulator`: legacy scalars, and TF2 `tf.summary.scalar` tensors (summaries
whose plugin is "scalars").

A folder's name can say the split: Keras writes `train/` and `validation/`, torch's `add_scalars("Loss", {...})`
writes `Loss_train/` and `Loss_val/`; a loss or accuracy tag in a validation folder is a validation series.
Axis: a granularity marker decides (`epoch_loss`, `epoch/val_loss`: epoch axis, one value per epoch); a series
logged at 0, 1, 2, ... while another series of the run reaches more than twice as far is epoch-indexed (the common
`add_scalar("Accuracy/val", acc, epoch)`); everything else is on the step axis.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

from ...errors import InvalidInputError
from ..history import RunHistory, is_known
from ._names import Axis, Phase, index_role, normalise, phase_of, with_phase
from ._table import Sink

_Raw = dict[str, tuple[list[float], list[float]]]  # tag -> (steps, values)


def scan_records(path: Path) -> tuple[int, bool]:
    """(complete records, whether the file ends inside a record): a killed writer leaves a torn last record."""
    n = 0
    size = path.stat().st_size
    with path.open("rb") as f:
        while True:
            header = f.read(12)
            if not header:
                return n, False
            if len(header) < 12:
                return n, True
            (length,) = struct.unpack("<Q", header[:8])
            end = f.tell() + length + 4
            if end > size:
                return n, True
            f.seek(end)
            n += 1


@contextmanager
def _as_event_file(path: Path) -> Iterator[Path]:
    """TensorBoard reads only files named `*tfevents*`; a renamed one is read through a link with such a name."""
    if "tfevents" in path.name:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="dlexpert-tb-") as tmp:
        link = Path(tmp) / f"events.out.tfevents.{path.name}"
        try:
            os.symlink(path.resolve(), link)
        except OSError:  # no symlinks here (some Windows setups): copy
            link.write_bytes(path.read_bytes())
        yield link


@contextmanager
def _as_event_dir(path: Path) -> Iterator[Path]:
    """TensorBoard takes any path whose name holds "tfevents" for an event file, folders too (then fails to open
    it); such a folder is read through a link with a plain name."""
    if "tfevents" not in path.name:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="dlexpert-tb-") as tmp:
        link = Path(tmp) / "run"
        os.symlink(path.resolve(), link, target_is_directory=True)
        yield link


def _load(path: Path) -> _Raw:
    """Scalars and scalar tensors of one event file or folder of event files, by tag."""
    try:
        from tensorboard.backend.event_processing import event_accumulator as ea
        from tensorboard.util import tensor_util
    except ImportError:
        raise InvalidInputError(
            f"{path}: TensorBoard event files need the tensorboard package: pip install 'dlexpert[diagnose]'"
        ) from None

    logging.getLogger("tensorboard").setLevel(logging.ERROR)  # its "truncated record" notice: we warn ourselves
    sizes = {ea.SCALARS: 0, ea.TENSORS: 0, ea.HISTOGRAMS: 1, ea.IMAGES: 1, ea.AUDIO: 1, ea.COMPRESSED_HISTOGRAMS: 1}
    acc = ea.EventAccumulator(str(path), size_guidance=sizes)
    try:
        acc.Reload()
    except Exception as e:  # a corrupt record raises from deep inside the protobuf parser
        raise InvalidInputError(f"{path}: not readable as TensorBoard events ({type(e).__name__}: {e})") from None
    out: _Raw = {}
    tags = acc.Tags()
    for tag in tags.get(ea.SCALARS, []):
        events = acc.Scalars(tag)
        out[tag] = ([float(ev.step) for ev in events], [float(ev.value) for ev in events])
    for tag in tags.get(ea.TENSORS, []):
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars" or tag in out:
            continue
        xs, ys = [], []
        for event in acc.Tensors(tag):
            arr = tensor_util.make_ndarray(event.tensor_proto)
            if arr.size == 1:
                xs.append(float(event.step))
                ys.append(float(arr.reshape(-1)[0]))
        if ys:
            out[tag] = (xs, ys)
    return out


def _consecutive(xs: list[float]) -> bool:
    return bool(xs) and xs[0] in (0.0, 1.0) and all(b - a == 1 for a, b in pairwise(xs))


def run_root(folder: Path) -> Path:
    """The run a folder of event files belongs to: a split folder (`validation/`, `Loss_val/`) is part of its parent."""
    return folder.parent if phase_of(folder.name) else folder


def read_tensorboard(history: RunHistory, files: list[Path], *, root: Path) -> None:
    """Add the scalars of `files` (event files of one run, possibly in split folders under `root`)."""
    raw: list[tuple[Path, Phase | None, str, list[float], list[float]]] = []  # file, split, tag, steps, values
    folders: dict[Path, list[Path]] = {}
    for f in files:
        folders.setdefault(f.parent, []).append(f)
        _n, torn = scan_records(f)
        if torn:
            history.warnings.append(f"{f}: last record is cut short (the writer was stopped?); read the ones before")
    for folder, group in sorted(folders.items()):
        split = phase_of(folder.name) if folder != root else None
        named = [f for f in group if "tfevents" in f.name]
        # The whole folder when all its event files are asked for (TensorBoard then applies a resumed run's purge
        # across files); else file by file, and renamed files through a link
        whole = bool(named) and len(named) == sum(1 for p in folder.iterdir() if "tfevents" in p.name)
        loads: list[Path] = [folder] if whole else named
        loads += [f for f in group if "tfevents" not in f.name]
        for target in loads:
            if target.is_dir():
                with _as_event_dir(target) as folder_link:
                    tags = _load(folder_link)
            else:
                with _as_event_file(target) as link:
                    tags = _load(link)
            for tag, (xs, ys) in tags.items():
                raw.append((target, split, tag, xs, ys))
    reach = max((max(xs) for *_, xs, _ys in raw if xs), default=0.0)
    stepped = {(target, tag) for target, _split, tag, _xs, _ys in raw if tag.endswith("_step")}
    sink = Sink(history, root)
    for target, split, tag, xs, ys in raw:
        canonical, hint = normalise(tag)
        if hint is None and (target, f"{tag}_step") in stepped:
            # Lightning's self.log(name, on_step=True, on_epoch=True) under some versions writes `name_step` per step
            # and plain `name` once per epoch, both against the global step (issue 13, blind14: val_loss at 5 epochs
            # beside 75 val_loss_step values): the plain one is the epoch curve, not more points of the step one.
            hint = "epoch"
        if not is_known(canonical):
            if index_role(tag.rsplit("/", 1)[-1]) in ("step", "epoch", "ignore"):
                continue  # HF's `train/epoch`, Lightning's `epoch`: where a value sits, not a metric
            rel = target.parent.relative_to(root) if target.is_file() else target.relative_to(root)
            canonical = tag if str(rel) == "." else f"{rel.as_posix()}/{tag}"
        canonical = with_phase(canonical, split)
        axis: Axis = "step"
        if hint == "epoch" or (hint is None and len(xs) > 1 and _consecutive(xs) and reach > 2 * xs[-1]):
            axis = "epoch"
            # 0-based epoch indices; a series logged against the optimizer step (dlexpert's epoch/*) is numbered
            xs = [x - xs[0] for x in xs] if _consecutive(xs) else [float(i) for i in range(len(xs))]
        sink.add(tag if split is None else f"{split}:{tag}", canonical, axis, xs, ys)
    sink.close()
    history.formats.append("tensorboard")
