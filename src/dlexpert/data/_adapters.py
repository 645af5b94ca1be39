"""Adapters for user data, chosen by sniffing the path: an image folder, a CSV/TSV/Parquet/JSONL table (numeric
features, a time series -- see `_series.py` -- or a text column), or a .npz with `x`/`y` arrays. Each returns a
`RawData`.

Bad input never raises a traceback at the user: every problem becomes an `InvalidInputError` whose one line names the
file (and column) and says what was expected, or, when the rest of the data is usable, a warning (corrupt images).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._input import check_regular_file
from ..errors import InvalidInputError
from . import _series
from ._registry import get_dataset, is_registered, list_datasets
from ._tabular import encode_columns
from ._types import RawData
from ._util import encode_labels, require

__all__ = ["IMAGE_SUFFIXES", "TABLE_SUFFIXES", "read_source"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".json"})
# Column names taken as the label when `target` is not given (and exactly one of them exists).
TARGET_GUESSES = ("label", "labels", "target", "class", "y", "category")
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "F"})
_MAX_LISTED = 20  # warnings list at most this many files one by one; `corrupt_files` keeps them all


def read_source(
    src: str | os.PathLike[str],
    *,
    target: str | None = None,
    image_size: int = 64,
    dropna: bool = False,
    text_column: str = "text",
    like: RawData | None = None,
    window: int | None = None,
    regression: bool = False,
) -> RawData:
    """Read a built-in name or a path into `RawData`. `like` (the training data) makes a test set match it:
    same channels for images, same feature columns and table layout for tables, same modality and task. `window`
    reads a table's rows as consecutive time steps, in windows of that many rows (see `_series.py`). `regression`
    reads a table's target column as numbers to predict, not class labels (only tables have such a target).
    """
    path = Path(src).expanduser()
    regression = regression or (like is not None and like.task == "regression")
    if regression and not (path.is_file() and path.suffix.lower() in TABLE_SUFFIXES):
        raise InvalidInputError(
            f"{src}: a regression target is read from a table's numeric column; expected a "
            f"{'/'.join(TABLE_SUFFIXES)} file with one row per sample"
        )
    if path.exists():
        if path.is_dir():
            side = int(np.asarray(like.x).shape[-1]) if like is not None and like.modality == "image" else None
            raw = _read_image_folder(path, image_size=image_size, channels=_channels(like), side=side)
        elif path.suffix.lower() == ".npz":
            check_regular_file(path, expected="a .npz with x and y arrays")
            raw = _read_npz(path, dropna=dropna)
        elif path.suffix.lower() in TABLE_SUFFIXES:
            raw = _read_table(
                path,
                target=target,
                dropna=dropna,
                text_column=text_column,
                feature_names=like.feature_names if like is not None else None,
                like_layout=like.layout if like is not None else None,
                window=window,
                regression=regression,
            )
        else:
            raise InvalidInputError(
                f"{path}: unsupported file type {path.suffix!r}; expected a folder of images (one subfolder per "
                "class), a .csv/.tsv/.parquet/.jsonl table or a .npz with x/y arrays"
            )
    elif isinstance(src, str) and is_registered(src):
        raw = get_dataset(src).load()
    else:
        close = difflib.get_close_matches(str(src), list_datasets(), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidInputError(
            f"{src}: no such file or folder, and no built-in dataset by that name{hint} "
            f"(built-ins: {', '.join(list_datasets())})"
        )
    if like is not None and raw.modality != like.modality:
        raise InvalidInputError(
            f"{raw.source}: the test data is {raw.modality} but the training data ({like.source}) is {like.modality}"
        )
    if like is not None and like.modality != "text":
        want, got = np.asarray(like.x).shape[1:], np.asarray(raw.x).shape[1:]
        if want != got:
            raise InvalidInputError(
                f"{raw.source}: test samples have shape {tuple(got)} but training samples have {tuple(want)}"
            )
    return raw


def _channels(like: RawData | None) -> int | None:
    if like is None or like.modality != "image":
        return None
    return int(np.asarray(like.x).shape[1])


# ------------------------------------------------------------------------------------------------- image folders


def _read_image_folder(root: Path, *, image_size: int, channels: int | None, side: int | None = None) -> RawData:
    """One subfolder per class (searched recursively), images of any size and mode, resized to S x S: S is the
    largest image side, at most `image_size` (small images are not upsampled: it multiplies the compute and adds no
    information), or `side` exactly (a test set matching its training set).

    Grayscale and colour may be mixed: if any image has colour, all become RGB (grayscale replicated), else all stay
    one-channel. `channels` forces 1 or 3 (a test set matching its training set).
    """
    pil = require("PIL.Image", extra="vision", what=f"reading the image folder {root}")
    entries = [p for p in sorted(root.iterdir()) if not p.name.startswith(".")]
    class_dirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not entries:
        raise InvalidInputError(f"{root}: the folder is empty; expected one subfolder per class holding its images")
    if not class_dirs:
        raise InvalidInputError(
            f"{root}: no class subfolders; expected one subfolder per class (e.g. {root}/cat/*.png, {root}/dog/*.png)"
        )

    warnings: list[str] = []
    if loose:
        warnings.append(f"{root}: {len(loose)} image(s) directly in the folder ignored; only class subfolders count")
    h = hashlib.sha256()
    images: list[np.ndarray] = []  # each (image_size, image_size) uint8 for gray or (..., 3) for colour
    labels: list[int] = []
    ids: list[str] = []
    sizes: list[tuple[int, int]] = []
    corrupt: list[str] = []
    classes: list[str] = []
    n_other = 0
    listed = {
        d: sorted(p for p in d.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts))
        for d in class_dirs
    }
    image_size = side or _largest_side(pil, [p for files in listed.values() for p in files], cap=image_size)
    for class_dir in class_dirs:
        files = listed[class_dir]
        image_files = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        n_other += len(files) - len(image_files)
        n_before = len(images)
        for file in image_files:
            rel = file.relative_to(root).as_posix()
            data = file.read_bytes()
            h.update(rel.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
            try:
                array, size = _decode_image(pil, data, image_size=image_size)
            except (OSError, SyntaxError, ValueError, EOFError, pil.DecompressionBombError) as e:
                corrupt.append(rel)
                if len(corrupt) <= _MAX_LISTED:
                    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                    warnings.append(f"{rel}: unreadable image skipped ({reason})")
                continue
            images.append(array)
            labels.append(len(classes))
            ids.append(rel)
            sizes.append(size)
        if len(images) == n_before:
            nested = any(p.is_dir() for p in class_dir.iterdir())
            hint = (
                f"; it holds subfolders, so if it is a split pass {class_dir} itself (and the test split via test=)"
                if nested and not image_files
                else ""
            )
            warnings.append(f"{class_dir.name}: class folder has no readable images; class skipped{hint}")
            continue
        classes.append(class_dir.name)
    if len(corrupt) > _MAX_LISTED:
        warnings.append(f"... and {len(corrupt) - _MAX_LISTED} more unreadable images skipped (see corrupt_files)")
    if n_other:
        warnings.append(f"{root}: {n_other} non-image file(s) ignored (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
    if not images:
        detail = f"; {len(corrupt)} file(s) could not be read" if corrupt else ""
        raise InvalidInputError(
            f"{root}: no readable images in any class subfolder{detail}; expected PNG or JPEG files in {root}/<class>/"
        )

    want = channels if channels is not None else (3 if any(a.ndim == 3 for a in images) else 1)
    x = np.stack([_to_channels(a, want) for a in images]).astype(np.float32) / 255.0  # (N, C, S, S) in [0, 1]
    return RawData(
        x=x,
        y=np.asarray(labels, dtype=np.int64),
        classes=classes,
        modality="image",
        source=str(root),
        version=h.hexdigest(),
        ids=ids,
        warnings=warnings,
        corrupt_files=corrupt,
        image_sizes=sizes,
        default_augment="crop+flip",
    )


def _largest_side(pil: Any, files: list[Path], *, cap: int) -> int:
    """The largest width or height among the readable images (headers only), capped at `cap`; `cap` if none read."""
    largest = 0
    for file in files:
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            with pil.open(file) as im:  # reads the header, not the pixels
                largest = max(largest, im.width, im.height)
        except (OSError, SyntaxError, ValueError, EOFError, pil.DecompressionBombError):
            continue  # reported when the pixels are read
        if largest >= cap:
            return cap
    return max(4, largest) if largest else cap


def _decode_image(pil: Any, data: bytes, *, image_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Bytes -> (uint8 array at image_size^2, gray (S, S) or colour (S, S, 3); original (width, height))."""
    with pil.open(io.BytesIO(data)) as im:
        size = (int(im.width), int(im.height))
        im.draft(im.mode, (image_size, image_size))  # JPEG: decode at reduced scale, much faster for large photos
        im.load()  # truncated or corrupt data raises here, not later
        if im.mode.startswith("I;16"):
            # 16-bit grayscale: PIL's convert("L") clips at 255, so rescale the 0..65535 range ourselves.
            arr16 = np.asarray(im, dtype=np.float32) / 257.0
            im2 = pil.fromarray(np.clip(arr16, 0, 255).astype(np.uint8), mode="L")
        elif im.mode in _GRAY_MODES:
            im2 = im.convert("L")
        else:
            im2 = im.convert("RGB")  # RGB, RGBA, P (palette), CMYK, YCbCr ...
        im2 = im2.resize((image_size, image_size), pil.Resampling.BILINEAR)
        return np.asarray(im2, dtype=np.uint8), size


def _to_channels(a: np.ndarray, channels: int) -> np.ndarray:
    """(S, S) or (S, S, 3) uint8 -> (channels, S, S)."""
    if a.ndim == 2:
        return np.repeat(a[None], channels, axis=0)
    if channels == 3:
        return a.transpose(2, 0, 1)
    # Colour -> gray with PIL's own ITU-R 601-2 luma weights (PIL Image.convert("L") documentation).
    luma = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[None]


# ------------------------------------------------------------------------------------------------------- tables


def read_frame(path: Path) -> Any:
    check_regular_file(path, expected="a CSV, TSV, Parquet or JSON-lines table")  # a FIFO would block the reader
    pd = require("pandas", extra="train", what=f"reading {path.name}")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        if suffix in {".jsonl", ".ndjson"}:
            return pd.read_json(path, lines=True)
        if suffix == ".json":
            try:
                return pd.read_json(path, lines=True)
            except ValueError:
                return pd.read_json(path)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path}: the file is empty; expected a header row and one row per sample") from None
    except (ValueError, OSError, pd.errors.ParserError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InvalidInputError(f"{path}: could not be read as a {suffix.lstrip('.')} table ({first})") from None


def _target_column(path: Path, columns: list[str], target: str | None, warnings: list[str]) -> str:
    """The label column: `target`, else the one column named like a label ("label", "class", ...)."""
    if target is None:
        guesses = [c for c in columns if c.lower() in TARGET_GUESSES]
        if len(guesses) != 1:
            raise InvalidInputError(
                f"{path}: say which column holds the labels with target=COLUMN (--target); "
                f"columns: {', '.join(columns)}"
            )
        target = guesses[0]
        warnings.append(f"{path.name}: no target given; using column {target!r} as the label")
    if target not in columns:
        raise InvalidInputError(f"{path}: no column {target!r} for the target; available columns: {', '.join(columns)}")
    return target


def _drop_nonfinite(
    path: Path, df: Any, columns: list[str], *, strict: list[str], dropna: bool, warnings: list[str]
) -> tuple[Any, dict[str, int]]:
    """Missing (NaN, empty cell) or infinite values, per column, counted before anything is dropped: an error, or
    with `dropna` the rows dropped and said. Columns in `strict` (labels, text) count only missing cells."""
    pd = require("pandas", extra="train", what=f"reading {path.name}")
    bad_rows = np.zeros(len(df), dtype=bool)
    missing: dict[str, int] = {}
    for c in columns:
        col = df[c]
        if c in strict or not pd.api.types.is_numeric_dtype(col):
            nonfinite = col.isna().to_numpy()
        else:
            nonfinite = ~np.isfinite(col.to_numpy(dtype=np.float64, na_value=np.nan))
        if nonfinite.any():
            missing[c] = int(nonfinite.sum())
            bad_rows |= nonfinite
    if not missing:
        return df, missing
    listing = ", ".join(f"{c!r} ({n} row{'s' if n != 1 else ''})" for c, n in missing.items())
    if not dropna:
        raise InvalidInputError(
            f"{path}: NaN, Inf or empty values in column {listing}; fix those rows or pass dropna=True (--dropna)"
        )
    warnings.append(f"{path.name}: dropped {int(bad_rows.sum())} row(s) with NaN/Inf/empty values in {listing}")
    df = df.loc[~bad_rows]
    if len(df) == 0:
        raise InvalidInputError(f"{path}: no rows left after dropping those with NaN, Inf or empty values")
    return df, missing


def _target_values(path: Path, df: Any, target: str) -> np.ndarray:
    """A regression target: the column's numbers as float32. Text in it is refused with an example."""
    pd = require("pandas", extra="train", what=f"reading {path.name}")
    values = pd.to_numeric(df[target], errors="coerce")
    bad = df[target][values.isna()]
    if len(bad):
        raise InvalidInputError(
            f"{path}: target column {target!r} holds {len(bad)} non-numeric value(s) (e.g. {bad.iloc[0]!r}); a "
            "regression target must be a number in every row"
        )
    return values.to_numpy(dtype=np.float32)


def _class_labels(path: Path, df: Any, target: str) -> np.ndarray:
    """The target column's values; fractional numbers are refused (a regression target, not class labels)."""
    labels = df[target].to_numpy()
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        example = labels[labels != np.round(labels)][0]
        raise InvalidInputError(
            f"{path}: target column {target!r} holds non-integer numbers (e.g. {example});"
            " expected class labels (a number to predict is a regression: a task of type regression reads it so, "
            "as does `dlexpert profile --regression`)"
        )
    return labels


def _read_table(
    path: Path,
    *,
    target: str | None,
    dropna: bool,
    text_column: str,
    feature_names: list[str] | None,
    like_layout: dict[str, Any] | None = None,
    window: int | None = None,
    regression: bool = False,
) -> RawData:
    """A table: a text column (text), numeric columns as a feature vector (tabular), or a time series (sequence;
    `_series.py` says when). `feature_names`/`like_layout` come from the training table when this is its test set.
    `regression`: one row per sample with a numeric target (`_target_values`), features as a vector."""
    df = read_frame(path)
    df.columns = [str(c) for c in df.columns]
    columns = list(df.columns)
    if len(df) == 0:
        raise InvalidInputError(f"{path}: the table has no rows; expected one row per sample")
    warnings: list[str] = []
    target = _target_column(path, columns, target, warnings)
    is_text = text_column in df.columns and text_column != target
    if regression and is_text:
        raise InvalidInputError(f"{path}: a text column {text_column!r} with a numeric target; dlexpert regresses "
                                "tables of numeric and categorical columns, not text")  # fmt: skip
    features = [text_column] if is_text else [c for c in columns if c != target]
    if not features:
        raise InvalidInputError(f"{path}: no feature columns besides the target {target!r}")
    # The training table's layout decides a test table's; only a training table is sniffed for a time series.
    encoded = like_layout if like_layout is not None and like_layout.get("kind") == "encoded" else None
    if encoded is not None:  # the training table's columns before encoding: a test table must carry those
        feature_names, like_layout = list(encoded["columns"]), None
    sniff = feature_names is None and like_layout is None and encoded is None and not regression
    long = like_layout is not None and like_layout.get("kind") == "long"
    time_column: str | None = None
    if is_text:
        ignored = [c for c in columns if c not in (target, text_column)]
        if ignored:
            warnings.append(f"{path.name}: text data; columns ignored: {', '.join(ignored)}")
    else:
        if sniff:  # a time column orders the rows; it is not a feature
            time_column = _series.find_time_column(df, features)
        elif long and (like_layout or {}).get("time_column"):
            time_column = str((like_layout or {})["time_column"])
            if time_column not in df.columns:
                warnings.append(f"{path.name}: no time column {time_column!r} as in the training data; rows in order")
                time_column = None
        if time_column is not None:
            features = [c for c in features if c != time_column]
            if not features:
                raise InvalidInputError(f"{path}: no feature columns besides the target and the time column")
        if feature_names is not None:  # a test table must carry the training table's features
            absent = [c for c in feature_names if c not in df.columns]
            if absent:
                raise InvalidInputError(
                    f"{path}: missing feature column(s) {', '.join(repr(c) for c in absent)} that the training data has"
                )
            extra = [c for c in features if c not in feature_names]
            if extra:
                warnings.append(f"{path.name}: columns not in the training data ignored: {', '.join(extra)}")
            features = list(feature_names)

    if not is_text:
        df, features, encoded, notes = encode_columns(df, features, like=encoded)
        warnings += [f"{path.name}: {note}" for note in notes]
        if not features:
            raise InvalidInputError(f"{path}: no usable feature columns (every one was dropped: {', '.join(notes)})")

    # A wide series table may pad shorter series with trailing NaNs (the UCR archive's variable-length sets): that is
    # a length, not a missing value, so those series are resampled to the full length before the missing-value check.
    wide_now = _series.wide_layout(features) if sniff and not is_text else None
    if like_layout is not None and like_layout.get("kind") == "wide" and feature_names:
        wide_now = {**like_layout, "columns": list(feature_names)}  # a test table: the training table's columns
    if wide_now is not None:
        df, n_padded = _series.resample_padded(df, wide_now)
        if n_padded:
            warnings.append(
                f"{path.name}: {n_padded} series shorter than {wide_now['length']} steps (trailing NaN padding, as in "
                f"the UCR archive) resampled to {wide_now['length']} steps by linear interpolation"
            )

    # labels and text: only empty cells are missing; a regression target is a number, so Inf is missing too
    read_as_is = [*features, target] if is_text else [] if regression else [target]
    df, missing = _drop_nonfinite(path, df, [*features, target], strict=read_as_is, dropna=dropna, warnings=warnings)
    row_ids = [f"{path.name}#{i}" for i in df.index.tolist()]
    common: dict[str, Any] = {
        "source": str(path),
        "version": _file_sha256(path),
        "warnings": warnings,
        "missing_values": missing,
    }
    if regression:
        x = df[features].to_numpy(dtype=np.float32)  # (N, F)
        return RawData(x=x, y=_target_values(path, df, target), classes=[], modality="tabular", ids=row_ids,
                       feature_names=features, layout=encoded, task="regression", **common)  # fmt: skip
    labels = _class_labels(path, df, target)
    if is_text:
        y, classes = encode_labels(labels)
        texts = [str(t) for t in df[text_column].tolist()]
        return RawData(x=texts, y=y, classes=classes, modality="text", ids=row_ids, **common)

    reason: str | None = None
    if sniff:
        wide = _series.wide_layout(features)
        reason = "window given" if window is not None else None
        categorical = encoded is not None and any(how != "number" for how in encoded["encoding"].values())
        if time_column is not None:
            reason = f"column {time_column!r} is a time index"
        elif wide is None and reason is None and not categorical:  # text categories: a table of cases, not a signal
            reason = _series.looks_like_recording(df, features, labels)
        long = reason is not None
        if long and categorical and encoded is not None:
            raise InvalidInputError(
                f"{path}: rows read as time steps ({reason}) but columns {', '.join(map(repr, encoded['encoding']))} "
                "are not numeric; a time series table must hold numbers (encode or drop them)"
            )
        if wide is not None and not long:
            features, like_layout = wide.pop("columns"), wide  # channel by channel, steps in integer order
    if long:
        return _read_long_table(path, df, features=features, labels=labels, time_column=time_column,
                                window=window or (like_layout or {}).get("window"), like_layout=like_layout,
                                reason=reason, common=common)  # fmt: skip
    y, classes = encode_labels(labels)
    x = df[features].to_numpy(dtype=np.float32)  # (N, F)
    if like_layout is not None and like_layout.get("kind") == "wide":
        # (N, C * L), channel by channel -> (N, C, L); a test table uses the training table's column order
        x = np.ascontiguousarray(x.reshape(len(x), *like_layout["shape"]))
        return RawData(x=x, y=y, classes=classes, modality="sequence", ids=row_ids, feature_names=features,
                       layout=dict(like_layout), **common)  # fmt: skip
    return RawData(x=x, y=y, classes=classes, modality="tabular", ids=row_ids, feature_names=features, layout=encoded,
                   **common)  # fmt: skip


def _read_long_table(
    path: Path,
    df: Any,
    *,
    features: list[str],
    labels: np.ndarray,
    time_column: str | None,
    window: int | None,
    like_layout: dict[str, Any] | None,
    reason: str | None,
    common: dict[str, Any],
) -> RawData:
    """Rows are time steps: windows of `window` consecutive rows (C = len(features) channels), each labelled by its
    last row. `reason` says why the rows were read as time steps (None for a test table, which follows training)."""
    order = _series.time_order(df, time_column, path) if time_column is not None else None
    derived = window is None
    w = _series.default_window(len(df)) if window is None else int(window)
    values = df[features].to_numpy(dtype=np.float32)  # (n_rows, C)
    # (N, C, window): channels are the feature columns
    x, ends, starts, facts = _series.make_windows(values, order=order, window=w, path=path, time_column=time_column)
    y, classes = encode_labels(labels[ends])
    row_index = df.index.to_numpy()
    ids = [f"{path.name}#{row_index[s]}-{row_index[e]}" for s, e in zip(starts, ends, strict=True)]
    if like_layout is not None:
        layout = dict(like_layout)
    else:
        how = "default" if w == _series.DEFAULT_WINDOW else f"derived: {len(df)} rows / {_series.ROWS_PER_WINDOW}"
        layout = {
            "kind": "long",
            "description": f"long table: rows are time steps ({reason}); samples are windows of {w} consecutive rows "
            f"({'given' if not derived else how}), stride {facts['stride']}, the {len(features)} feature column(s) "
            "as channels, each labelled by its last row; split chronologically",
            "reason": reason,
            "time_column": time_column,
            "window": w,
            "window_source": "given" if not derived else "default" if w == _series.DEFAULT_WINDOW else "derived",
            "stride": facts["stride"],
            "channels": features,
            "shape": [len(features), w],
            "n_rows": len(df),
            "n_series": facts["n_series"],
            "n_rows_unused": facts["n_rows_unused"],
        }
    warnings = list(common.pop("warnings"))
    if facts["n_rows_unused"]:
        warnings.append(
            f"{path.name}: {facts['n_rows_unused']} row(s) in series shorter than one window ({w} rows) not used "
            f"({facts['n_series']} series: {time_column!r} goes backwards {facts['n_series'] - 1} time(s))"
        )
    return RawData(x=x, y=y, classes=classes, modality="sequence", ids=ids, feature_names=features, layout=layout,
                   window_starts=starts, warnings=warnings, **common)  # fmt: skip


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------- npz


def _read_npz(path: Path, *, dropna: bool) -> RawData:
    """`x` (N, ...) and `y` (N,), optionally `x_test`/`y_test`. The layout of x decides the modality:
    (N, F) tabular; (N, C, L) sequence; (N, H, W) with H == W >= 8 grayscale images; (N, C, H, W) or (N, H, W, C)
    images. uint8 inputs are scaled to [0, 1].
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as e:
        raise InvalidInputError(f"{path}: could not read the arrays ({e}); save plain numeric arrays") from None
    except OSError as e:
        raise InvalidInputError(f"{path}: not a readable .npz file ({e})") from None
    x_key = next((k for k in ("x", "X") if k in arrays), None)
    y_key = next((k for k in ("y", "Y", "labels") if k in arrays), None)
    if x_key is None or y_key is None:
        raise InvalidInputError(
            f"{path}: expected arrays named 'x' and 'y'; found: {', '.join(sorted(arrays)) or 'none'}"
        )
    warnings: list[str] = []
    version = _file_sha256(path)
    x, y, ids, modality = _npz_part(path, arrays[x_key], arrays[y_key], field="x", dropna=dropna, warnings=warnings)
    labels = y
    x_test = y_test = ids_test = None
    if "x_test" in arrays and "y_test" in arrays:
        x_test, y_test, ids_test, test_modality = _npz_part(
            path, arrays["x_test"], arrays["y_test"], field="x_test", dropna=dropna, warnings=warnings
        )
        if test_modality != modality or x_test.shape[1:] != x.shape[1:]:
            raise InvalidInputError(
                f"{path}: x_test has per-sample shape {x_test.shape[1:]} but x has {x.shape[1:]}; they must match"
            )
        all_y, classes = encode_labels(np.concatenate([labels, y_test]))
        y_enc, y_test_enc = all_y[: len(labels)], all_y[len(labels) :]
    else:
        y_enc, classes = encode_labels(labels)
        y_test_enc = None
    return RawData(
        x=x,
        y=y_enc,
        classes=classes,
        modality=modality,  # type: ignore[arg-type]
        source=str(path),
        version=version,
        ids=ids,
        warnings=warnings,
        x_test=x_test,
        y_test=y_test_enc,
        ids_test=ids_test,
        default_augment={"image": "crop+flip", "sequence": "shift"}.get(modality),
    )


def _npz_part(
    path: Path, x: np.ndarray, y: np.ndarray, *, field: str, dropna: bool, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    y_field = "y" if field == "x" else "y_test"
    if x.dtype.kind not in "biuf":
        raise InvalidInputError(f"{path}: array {field!r} has dtype {x.dtype}; expected numbers")
    if x.ndim < 2:
        raise InvalidInputError(f"{path}: array {field!r} has shape {x.shape}; expected (samples, features...)")
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or len(y) != len(x):
        raise InvalidInputError(
            f"{path}: {y_field!r} has shape {y.shape} but {field!r} has {len(x)} samples; expected one label each"
        )
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    xf = x.astype(np.float32) / np.float32(scale)
    if x.ndim == 2:
        modality = "tabular"
    elif x.ndim == 3 and x.shape[1] == x.shape[2] and x.shape[1] >= 8:
        modality, xf = "image", xf[:, None]
        warnings.append(
            f"{path.name}: {field!r} of shape {x.shape} read as one-channel {x.shape[1]}x{x.shape[2]} images"
        )
    elif x.ndim == 3:
        modality = "sequence"
    elif x.ndim == 4:
        modality = "image"
        if x.shape[3] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):  # channels last (N, H, W, C) -> (N, C, H, W)
            xf = xf.transpose(0, 3, 1, 2)
        xf = np.ascontiguousarray(xf)
    else:
        raise InvalidInputError(f"{path}: array {field!r} has {x.ndim} dimensions; expected 2, 3 or 4")
    ids = [f"{path.name}:{field}[{i}]" for i in range(len(x))]
    bad = ~np.isfinite(xf.reshape(len(xf), -1)).all(axis=1)
    if y.dtype.kind == "f":
        bad |= ~np.isfinite(y)
    if bad.any():
        if not dropna:
            raise InvalidInputError(
                f"{path}: {int(bad.sum())} sample(s) of {field!r}/{y_field!r} hold NaN or Inf; "
                "fix them or pass dropna=True (--dropna)"
            )
        warnings.append(f"{path.name}: dropped {int(bad.sum())} sample(s) of {field!r} holding NaN or Inf")
        keep = ~bad
        xf, y = xf[keep], y[keep]
        ids = [i for i, k in zip(ids, keep, strict=True) if k]
    return xf, y, ids, modality
