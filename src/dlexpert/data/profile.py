"""`profile_dataset`: what a data scientist checks before training, as one JSON-serialisable `DataProfile`.

Counts per class and split, the imbalance ratio, shapes and sizes, train-split channel statistics, exact duplicates
(within train, and across splits: leakage), near-duplicate images (perceptual hash), unreadable files, missing
values, and a list of problems written for the user. Thresholds come from the knowledge base
(`knowledge/data/problems.yaml` class_imbalance: max/min above 10 is imbalanced, above 100 long-tailed;
`regimes.yaml` tiny_data_samples).
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import defaultdict
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from .._input import some
from ..errors import DlexpertError
from ._load import load_data
from ._types import DataSplits, Inputs
from ._util import Problems

__all__ = ["AMPLITUDE_SPREAD_LIMIT", "DataProfile", "DuplicateReport", "NearDuplicateReport", "amplitude_spread",
           "profile_dataset"]  # fmt: skip

# problems.yaml, class_imbalance: "the imbalance ratio max/min: above 10 is imbalanced, above 100 severely long-tailed".
IMBALANCED_RATIO = 10.0
LONG_TAIL_RATIO = 100.0
# Series whose amplitudes differ by more than an order of magnitude (issue 12: PLAID's currents span 2e-4 to 460) get
# per-series normalisation inside the network, with each series' scale kept as an input (models/cnn1d.py).
AMPLITUDE_SPREAD_LIMIT = 10.0
# Near-duplicate images: average hash on a 16x16 grayscale thumbnail (256 bits), Hamming distance <= 2.
HASH_SIZE = 16
NEAR_DISTANCE = 2
# Buckets bigger than this (e.g. hundreds of blank images sharing a hash chunk) are skipped to keep the search
# bounded: each bucket costs O(size^2) comparisons.
MAX_BUCKET = 256
MAX_EXAMPLES = 10
# Class shares that differ between training and a held-out split (label shift): flagged when the total variation
# distance is at least this, and at least twice what sampling alone gives for splits of these sizes (issue 12:
# seattle_weather's chronological split, where 'rain' is 23% of the training days and 1% of the test days because
# the labelling changed over the years). A stratified split gives a distance near 0.
LABEL_SHIFT_TVD = 0.15
LABEL_SHIFT_NOISE_FACTOR = 2.0
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


class DuplicateReport(BaseModel):
    """Exact duplicates, by a hash of each sample's array (or text). `n_test_in_train` is the leakage check."""

    n_within_train: int = Field(description="training samples identical to an earlier training sample")
    n_val_in_train: int = Field(description="validation samples identical to some training sample")
    n_test_in_train: int = Field(description="test samples identical to some training sample (leakage)")
    n_test_in_val: int
    n_conflicting_labels: int = Field(description="groups of identical inputs that carry different labels")
    examples: list[list[str]] = Field(default_factory=list, description="groups of sample ids, split:id")


class NearDuplicateReport(BaseModel):
    """Pairs of images whose perceptual hashes differ in at most `max_distance` bits (exact duplicates excluded)."""

    method: str
    max_distance: int
    n_pairs: int
    n_val_near_train: int
    n_test_near_train: int = Field(description="test images with a near-duplicate in train (leakage)")
    n_skipped_buckets: int = Field(description="oversized hash buckets not searched (the search is bounded)")
    examples: list[dict[str, Any]] = Field(default_factory=list)
    skipped: str | None = Field(default=None, description="why the search did not run, if it did not")


class DataProfile(BaseModel):
    """A dataset's profile. `problems` are one-line findings for the user; `issues` are their keys in the
    knowledge base's problem table (problems.yaml), for the advisor and diagnosis.

    Example:
        >>> p = profile_dataset("digits")  # doctest: +SKIP
        >>> p.n_classes, p.imbalance_ratio < 1.2, p.duplicates.n_test_in_train  # doctest: +SKIP
        (10, True, 0)
    """

    source: str
    version: str
    modality: str
    classes: list[str]
    n_classes: int
    n_samples: dict[str, int] = Field(description="train, val, test and total")
    class_counts: dict[str, int] = Field(description="samples per class over all splits")
    class_counts_by_split: dict[str, dict[str, int]]
    imbalance_ratio: float = Field(description="max/min class count in the training split (classes present)")
    input_shape: list[int]
    layout: dict[str, Any] | None = Field(
        default=None,
        description="how a table became samples: a wide time series (ordered columns t0..tN, one series per row), "
        "a long one (rows are time steps, windows of consecutive rows, split chronologically), or feature rows whose "
        "text, date and identifier columns were encoded (kind 'encoded': one-hot categories, dates as days, "
        "identifiers dropped); none for numeric feature rows",
    )
    feature_names: list[str] | None = None
    image_sizes: dict[str, int] | None = Field(default=None, description="original image sizes before resizing")
    n_bytes: int = Field(description="memory of the loaded inputs")
    channel_mean: list[float]
    channel_std: list[float]
    amplitude_spread: float | None = Field(
        default=None,
        description="sequences: how much the training series' amplitudes differ, per channel the 90th over the 10th "
        "percentile of each series' standard deviation, the largest over channels (1 = alike; above "
        "AMPLITUDE_SPREAD_LIMIT, one global normalisation cannot suit them all)",
    )
    target: dict[str, float] | None = Field(
        default=None,
        description="regression: the target's count, mean, std, min, median, max and skewness over all splits (no "
        "classes); none for classification",
    )
    duplicates: DuplicateReport
    near_duplicates: NearDuplicateReport | None = None
    corrupt_files: list[str]
    missing_values: dict[str, int]
    split: dict[str, Any]
    warnings: list[str]
    problems: list[str]
    issues: list[str]

    @property
    def imbalanced(self) -> bool:
        """The largest class outnumbers the smallest more than `IMBALANCED_RATIO` times: sample by class."""
        return self.imbalance_ratio > IMBALANCED_RATIO

    def task_data(self) -> dict[str, str]:
        """The task spec's `data` fields filled from this profile (`plan --data SRC`).

        Example:
            >>> profile_dataset("digits").task_data()["size"]  # doctest: +SKIP
            '1797 labeled images'
        """
        unit = {"image": "images", "sequence": "sequences", "tabular": "rows", "text": "texts"}[self.modality]
        r = self.imbalance_ratio
        if self.target is not None:
            t = self.target
            distribution = (f"numeric target: mean {t['mean']:.4g}, std {t['std']:.4g}, range {t['min']:.4g} to "
                            f"{t['max']:.4g}, skewness {t['skew']:.2f}")  # fmt: skip
        elif r > LONG_TAIL_RATIO:
            distribution = f"long-tailed: {self.n_classes} classes, imbalance ratio max/min {r:.0f}"
        elif r > IMBALANCED_RATIO:
            distribution = f"imbalanced: {self.n_classes} classes, imbalance ratio max/min {r:.1f}"
        else:
            distribution = f"balanced: {self.n_classes} classes, max/min class count {r:.2f}"
        quality_notes = [p for p in self.problems if not p.startswith(("[class_imbalance]", "[few_shot]"))]
        quality = "clean (profiled)" if not quality_notes else "; ".join(quality_notes[:3])
        return {
            "size": f"{self.n_samples['total']} labeled {unit}",
            "distribution": distribution,
            "quality": quality,
            "labelAvailability": "fully labeled",
        }

    def describe(self) -> str:
        """A few lines for people: sizes, classes, and the problems found."""
        n = self.n_samples
        target = (f"{self.n_classes} classes, imbalance ratio {self.imbalance_ratio:.2f}" if self.target is None
                  else self.task_data()["distribution"])  # fmt: skip
        lines = [
            f"{self.source} ({self.modality}, input {tuple(self.input_shape)}, version {self.version[:12]})",
            f"  samples: train {n['train']}, val {n['val']}, test {n['test']}; {target}",
        ]
        if self.layout:
            lines.append(f"  layout: {self.layout.get('description', self.layout.get('kind'))}")
        lines += [f"  problem: {p}" for p in self.problems] or ["  no problems found"]
        return "\n".join(lines)


def profile_dataset(src: str | os.PathLike[str] | DataSplits, **load_kwargs: Any) -> DataProfile:
    """Profile a dataset: a source for `load_data` (with its keyword arguments) or splits already loaded.

    Unlike `load_data`, rows with NaN/Inf are dropped and reported rather than fatal (`dropna=True` by default),
    since finding them is what a profile is for.

    Example:
        >>> p = profile_dataset("shapes")
        >>> p.n_classes, p.n_samples["total"]
        (4, 2000)
    """
    if isinstance(src, DataSplits):
        splits = src
    else:
        load_kwargs.setdefault("dropna", True)
        splits = load_data(src, **load_kwargs)
    parts = {"train": splits.y_train, "val": splits.y_val, "test": splits.y_test}
    by_split = {name: splits.class_counts(name) for name in parts}  # type: ignore[arg-type]
    totals = {c: sum(by_split[s][c] for s in parts) for c in splits.classes}
    present = [k for k in by_split["train"].values() if k > 0]
    imbalance = float(max(present) / min(present)) if present else 1.0
    n = {name: len(y) for name, y in parts.items()}
    n["total"] = sum(n.values())

    keys = {
        name: _sample_keys(x) for name, x in (("train", splits.x_train), ("val", splits.x_val), ("test", splits.x_test))
    }
    ids = {"train": splits.ids_train, "val": splits.ids_val, "test": splits.ids_test}
    duplicates = _duplicates(keys, parts, ids)
    near = None
    if splits.modality == "image":
        near = _near_duplicates(splits, keys)

    problems, issues = _problems(splits, n=n, imbalance=imbalance, dup=duplicates, near=near, by_split=by_split)
    return DataProfile(
        source=splits.source,
        version=splits.version,
        modality=splits.modality,
        classes=list(splits.classes),
        n_classes=splits.n_classes,
        n_samples=n,
        class_counts=totals,
        class_counts_by_split=by_split,
        imbalance_ratio=round(imbalance, 4),
        input_shape=list(splits.input_shape),
        layout=dict(splits.layout) if splits.layout else None,
        feature_names=splits.feature_names,
        image_sizes=_size_summary(splits.image_sizes),
        n_bytes=sum(_nbytes(x) for x in (splits.x_train, splits.x_val, splits.x_test)),
        channel_mean=list(splits.mean),
        channel_std=list(splits.std),
        amplitude_spread=amplitude_spread(splits.x_train) if splits.modality == "sequence" else None,
        target=target_summary(np.concatenate(list(parts.values()))) if splits.regression else None,
        duplicates=duplicates,
        near_duplicates=near,
        corrupt_files=list(splits.corrupt_files),
        missing_values=dict(splits.missing_values),
        split=dict(splits.split),
        warnings=list(splits.warnings),
        problems=problems,
        issues=issues,
    )


def target_summary(y: np.ndarray) -> dict[str, float]:
    """A regression target at a glance: count, mean, std, min, median, max and skewness (scipy's, biased)."""
    from scipy.stats import skew

    v = np.asarray(y, dtype=np.float64)
    spread = float(v.std())
    return {
        "n": float(len(v)),
        "mean": float(v.mean()),
        "std": spread,
        "min": float(v.min()),
        "median": float(np.median(v)),
        "max": float(v.max()),
        "skew": float(skew(v)) if spread > 0 else 0.0,
    }


def amplitude_spread(x: Inputs) -> float | None:
    """Per channel, the 90th over the 10th percentile of each series' standard deviation; the largest over channels.

    1 means every series has about the same amplitude (UCR's z-normalised sets); PLAID's currents give about 1e5.

    Example:
        >>> x = np.stack([np.sin(np.arange(50.0))[None] * a for a in [1.0] * 10 + [1000.0] * 10])  # (20, 1, 50)
        >>> round(amplitude_spread(x))
        1000
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3 or len(arr) < 2:
        return None
    std = np.nan_to_num(arr).std(axis=-1)  # (N, C)
    low, high = np.percentile(std, [10, 90], axis=0)
    spread = np.where(high > 0, high / np.maximum(low, np.finfo(float).tiny), 1.0)
    return round(float(spread.max()), 4)


def _nbytes(x: Inputs) -> int:
    return sum(len(t.encode()) for t in x) if isinstance(x, list) else int(np.asarray(x).nbytes)


def _size_summary(sizes: list[tuple[int, int]] | None) -> dict[str, int] | None:
    if not sizes:
        return None
    w = np.array([s[0] for s in sizes])
    h = np.array([s[1] for s in sizes])
    return {
        "min_width": int(w.min()),
        "max_width": int(w.max()),
        "min_height": int(h.min()),
        "max_height": int(h.max()),
        "n_distinct": len(set(sizes)),
    }


def _sample_keys(x: Inputs) -> list[bytes]:
    """A 128-bit hash per sample: of its float32 bytes, or of its text (whitespace-trimmed)."""
    if isinstance(x, list):
        return [hashlib.blake2b(t.strip().encode(), digest_size=16).digest() for t in x]
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if len(arr) == 0:
        return []
    flat = arr.reshape(len(arr), -1)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def _duplicates(
    keys: dict[str, list[bytes]], labels: dict[str, np.ndarray], ids: dict[str, list[str]]
) -> DuplicateReport:
    train_keys = set(keys["train"])
    val_keys = set(keys["val"])
    groups: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for split in ("train", "val", "test"):
        for i, k in enumerate(keys[split]):
            groups[k].append((split, i))
    repeated = [g for g in groups.values() if len(g) > 1]
    conflicting = sum(1 for g in repeated if len({labels[s][i].item() for s, i in g}) > 1)

    # Groups that cross splits come first among the examples: they are the leakage a user most needs to see.
    def crosses(g: list[tuple[str, int]]) -> bool:
        return len({s for s, _ in g}) > 1

    repeated.sort(key=lambda g: (not crosses(g), -len(g)))
    examples = [[f"{s}:{_id(ids, s, i)}" for s, i in g[:5]] for g in repeated[:MAX_EXAMPLES]]
    return DuplicateReport(
        n_within_train=len(keys["train"]) - len(train_keys),
        n_val_in_train=sum(k in train_keys for k in keys["val"]),
        n_test_in_train=sum(k in train_keys for k in keys["test"]),
        n_test_in_val=sum(k in val_keys for k in keys["test"]),
        n_conflicting_labels=conflicting,
        examples=examples,
    )


def _id(ids: dict[str, list[str]], split: str, i: int) -> str:
    return ids[split][i] if i < len(ids[split]) else f"{split}[{i}]"


def average_hash(x: np.ndarray, *, size: int = HASH_SIZE) -> np.ndarray:
    """Perceptual average hash: grayscale, block-mean to size x size, threshold at the image's mean.

    x (N, C, H, W) -> packed bits (N, ceil(size*size / 8)) uint8. `size` shrinks to the image size for small images.

    Example:
        >>> average_hash(np.zeros((2, 1, 32, 32), np.float32)).shape
        (2, 32)
    """
    gray = np.asarray(x, dtype=np.float32).mean(axis=1)  # (N, H, W)
    n, h, w = gray.shape
    sh, sw = min(size, h), min(size, w)
    rows = (np.arange(sh) * h) // sh  # start of each block; blocks differ by at most one pixel in size
    cols = (np.arange(sw) * w) // sw
    summed = np.add.reduceat(np.add.reduceat(gray, rows, axis=1), cols, axis=2)  # (N, sh, sw)
    area = np.outer(np.diff(np.append(rows, h)), np.diff(np.append(cols, w)))
    small = summed / area
    bits = small > small.mean(axis=(1, 2), keepdims=True)
    return np.packbits(bits.reshape(n, -1), axis=1)


def _near_duplicates(splits: DataSplits, keys: dict[str, list[bytes]]) -> NearDuplicateReport:
    """Candidate pairs share at least one of three hash chunks exactly (with <= 2 differing bits, at most two chunks
    differ: pigeonhole), then are checked by full Hamming distance. Cost ~ sum of bucket sizes squared, bounded by
    MAX_BUCKET; typically O(n log n) for the sort in np.unique.
    """
    names = ("train", "val", "test")
    xs = [np.asarray(x) for x in (splits.x_train, splits.x_val, splits.x_test)]
    method = f"average hash of a {HASH_SIZE}x{HASH_SIZE} grayscale thumbnail, Hamming distance <= {NEAR_DISTANCE}"
    if min(splits.input_shape[-2:]) < HASH_SIZE:
        # A hash of fewer than 16x16 pixels cannot tell near-copies from look-alikes (8x8 digits of one class
        # share most bits), so the search would report noise.
        return NearDuplicateReport(
            method=method,
            max_distance=NEAR_DISTANCE,
            n_pairs=0,
            n_val_near_train=0,
            n_test_near_train=0,
            n_skipped_buckets=0,
            skipped=f"images of {splits.input_shape[-2]}x{splits.input_shape[-1]} are smaller than the "
            f"{HASH_SIZE}x{HASH_SIZE} hash; only exact duplicates are checked",
        )
    split_of = np.concatenate([np.full(len(x), i) for i, x in enumerate(xs)])
    index_in = np.concatenate([np.arange(len(x)) for x in xs])
    all_keys = [k for name in names for k in keys[name]]
    ids = {"train": splits.ids_train, "val": splits.ids_val, "test": splits.ids_test}
    hashes = np.concatenate([average_hash(x) for x in xs if len(x)]) if sum(len(x) for x in xs) else None
    pairs: dict[tuple[int, int], int] = {}
    skipped = 0
    if hashes is not None and len(hashes) > 1:
        nb = hashes.shape[1]
        bounds = [0, nb // 3, 2 * nb // 3, nb]
        for a, b in itertools.pairwise(bounds):
            if b <= a:
                continue
            chunk = np.ascontiguousarray(hashes[:, a:b]).view(f"V{b - a}").ravel()
            _, inverse, counts = np.unique(chunk, return_inverse=True, return_counts=True)
            order = np.argsort(inverse, kind="stable")
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            for g in np.flatnonzero(counts >= 2):
                if counts[g] > MAX_BUCKET:
                    skipped += 1
                    continue
                members = order[starts[g] : starts[g] + counts[g]]
                sub = hashes[members]
                dist = _POPCOUNT[sub[:, None, :] ^ sub[None, :, :]].sum(axis=-1)  # (m, m) Hamming distances
                ii, jj = np.nonzero(np.triu(dist <= NEAR_DISTANCE, k=1))
                close = zip(members[ii].tolist(), members[jj].tolist(), dist[ii, jj].tolist(), strict=True)
                for i, j, d in close:
                    if all_keys[i] != all_keys[j]:  # exact duplicates are reported by DuplicateReport
                        pairs[(min(i, j), max(i, j))] = int(d)
    test_near, val_near = set(), set()
    for i, j in pairs:
        si, sj = names[split_of[i]], names[split_of[j]]
        for (s1, k1), s2 in (((si, i), sj), ((sj, j), si)):
            if s2 == "train" and s1 == "test":
                test_near.add(k1)
            if s2 == "train" and s1 == "val":
                val_near.add(k1)
    ordered = sorted(pairs.items(), key=lambda kv: (split_of[kv[0][0]] == split_of[kv[0][1]], kv[1], kv[0]))
    examples = [
        {
            "a": f"{names[split_of[i]]}:{_id(ids, names[split_of[i]], int(index_in[i]))}",
            "b": f"{names[split_of[j]]}:{_id(ids, names[split_of[j]], int(index_in[j]))}",
            "distance": d,
        }
        for (i, j), d in ordered[:MAX_EXAMPLES]
    ]
    return NearDuplicateReport(
        method=method,
        max_distance=NEAR_DISTANCE,
        n_pairs=len(pairs),
        n_val_near_train=len(val_near),
        n_test_near_train=len(test_near),
        n_skipped_buckets=skipped,
        examples=examples,
    )


def _problems(
    splits: DataSplits,
    *,
    n: dict[str, int],
    imbalance: float,
    dup: DuplicateReport,
    near: NearDuplicateReport | None,
    by_split: dict[str, dict[str, int]],
) -> tuple[list[str], list[str]]:
    found = Problems()
    add = found.add

    if dup.n_test_in_train or dup.n_val_in_train:
        add(
            "data_leakage",
            f"{dup.n_test_in_train} test and {dup.n_val_in_train} validation samples are identical to training "
            "samples; scores on them overstate accuracy: deduplicate across splits and re-split",
        )
    if dup.n_test_in_val:
        add(
            "data_leakage",
            f"{dup.n_test_in_val} test samples are identical to validation samples; model selection on validation "
            "then leaks into the test score",
        )
    if near is not None and (near.n_test_near_train or near.n_val_near_train):
        add(
            "data_leakage",
            f"{near.n_test_near_train} test and {near.n_val_near_train} validation images are near-duplicates of "
            f"training images ({near.method}); check them and deduplicate",
        )
    if dup.n_conflicting_labels:
        add(
            "label_errors",
            f"{dup.n_conflicting_labels} group(s) of identical inputs carry different labels (possible mislabels)",
        )
    if dup.n_within_train:
        share = dup.n_within_train / max(1, n["train"])
        add(None, f"{dup.n_within_train} training samples ({share:.1%}) are exact duplicates of other training samples")
    if imbalance > IMBALANCED_RATIO:
        counts = {c: k for c, k in by_split["train"].items() if k > 0}
        big, small = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
        kind = "long-tailed" if imbalance > LONG_TAIL_RATIO else "imbalanced"
        add(
            "class_imbalance",
            f"classes are {kind}: max/min {imbalance:.1f} ({big!r} {counts[big]} vs {small!r} {counts[small]} "
            "training samples); use balanced sampling or a class-weighted loss, and report macro-F1",
        )
    rare = [c for c, k in by_split["train"].items() if 0 < k < 2]
    if rare:
        add("few_shot", f"classes with a single training sample: {some(rare)}")
    if n["test"]:
        untested = [c for c, k in by_split["test"].items() if k == 0 and by_split["train"][c] > 0]
        if untested:
            add(None, f"classes without test samples (their accuracy is not measured): {some(untested)}")
        unseen = [c for c, k in by_split["train"].items() if k == 0 and by_split["test"][c] > 0]
        if unseen:
            add(None, f"test classes absent from training: {some(unseen)}")
    tiny = _tiny_data_samples()
    if tiny is not None and n["train"] < tiny:
        add(
            "few_shot",
            f"only {n['train']} training samples (below {tiny}, regimes.yaml tiny_data_samples): prefer a "
            "pretrained model or strong augmentation",
        )
    if splits.corrupt_files:
        shown = ", ".join(splits.corrupt_files[:5]) + (" ..." if len(splits.corrupt_files) > 5 else "")
        add(None, f"{len(splits.corrupt_files)} unreadable file(s) skipped: {shown}")
    if splits.missing_values:
        listing = ", ".join(f"{c!r} ({k})" for c, k in splits.missing_values.items())
        add(None, f"missing or infinite values (rows dropped) in: {listing}")
    for part in ("val", "test"):
        shift = _label_shift(by_split["train"], by_split[part])
        if shift:
            add("domain_shift", f"{_SPLIT_NAMES[part]}: {shift}{_SHIFT_CONSEQUENCE[part]}")
    found.problems += [w for w in splits.warnings if w.startswith("constant in training")]
    return found.problems, found.issues


_SPLIT_NAMES = {"val": "validation", "test": "test"}
_SHIFT_CONSEQUENCE = {
    "val": "; the checkpoint and the model chosen on validation are chosen for a different class mix than training's",
    "test": "; the test score measures a different class mix than training's: if the split is chronological, the "
    "labels drift over time (check how they were assigned, train on recent data or reweight the classes)",
}


def _label_shift(train: dict[str, int], other: dict[str, int]) -> str | None:
    """The class shares of `other` against training's, when they differ by more than sampling explains.

    The distance is the total variation 0.5 * sum |p - q|; the noise is its expected value under sampling,
    0.5 * sum sqrt(2/pi) * sqrt(p (1 - p) (1/m + 1/n)) for split sizes m and n. None when the shares agree.

    Example:
        >>> _label_shift({"a": 500, "b": 500}, {"a": 90, "b": 10}).split(": ")[1]
        "'a' 50% of training vs 90%, 'b' 50% vs 10%"
    """
    n, m = sum(train.values()), sum(other.values())
    if n == 0 or m == 0:
        return None
    p = {c: k / n for c, k in train.items()}
    q = {c: other.get(c, 0) / m for c in train}
    tvd = 0.5 * sum(abs(p[c] - q[c]) for c in p)
    noise = 0.5 * sum(np.sqrt(2 / np.pi) * np.sqrt(v * (1 - v) * (1 / m + 1 / n)) for v in p.values())
    if tvd < max(LABEL_SHIFT_TVD, LABEL_SHIFT_NOISE_FACTOR * noise):
        return None
    moved = sorted(p, key=lambda c: -abs(p[c] - q[c]))[:3]
    listing = ", ".join(
        f"{c!r} {p[c]:.0%} of training vs {q[c]:.0%}" if i == 0 else f"{c!r} {p[c]:.0%} vs {q[c]:.0%}"
        for i, c in enumerate(moved)
        if abs(p[c] - q[c]) >= 0.02
    )
    measured = f"total variation {tvd:.2f}, sampling explains about {noise:.2f}"
    return f"class shares differ from training's ({measured}): {listing}"


def _tiny_data_samples() -> int | None:
    try:
        from ..knowledge import get_regimes

        value = get_regimes().get("tiny_data_samples")
    except (ImportError, OSError, ValueError, DlexpertError):  # a profile without this one check is still useful
        return None
    if isinstance(value, dict):
        value = value.get("value")
    return int(value) if isinstance(value, int | float) else None
