"""Built-in datasets that need no network: `mnist1d`, `digits` and `shapes`.

Each is registered on import of `dlexpert.data`; loaders are cached in memory (and MNIST-1D also on disk, since
generating it takes a few seconds), and their arrays are read-only so a caller cannot corrupt the cache.
"""

from __future__ import annotations

import hashlib
import os
import random
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ._registry import register_dataset
from ._types import RawData
from ._util import require, sha256_of_args

__all__ = ["cache_dir", "make_shapes"]

SHAPE_CLASSES = ["circle", "square", "triangle", "cross"]

# The generator's arguments; `version` is their sha256, so changing one changes the dataset's version.
SHAPES_ARGS: dict[str, Any] = {
    "n_samples": 2000,
    "image_size": 32,
    "radius": (5.0, 13.0),  # circumradius in pixels at 32x32; objects stay inside the frame
    "foreground": (0.55, 1.0),
    "background": (0.0, 0.35),
    "noise_std": 0.08,
    "seed": 0,
}
_SHAPES_GENERATOR = "dlexpert.data.make_shapes v1"  # bump when make_shapes changes, so the version changes


def cache_dir() -> Path:
    """Where generated built-ins are cached: $DLEXPERT_CACHE_DIR, else $XDG_CACHE_HOME/dlexpert, else ~/.cache."""
    if os.environ.get("DLEXPERT_CACHE_DIR"):
        return Path(os.environ["DLEXPERT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dlexpert"


def _freeze(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}[{i}]" for i in range(n)]


@register_dataset("mnist1d")
@cache
def mnist1d() -> RawData:
    """MNIST-1D (Greydanus 2020): 10 classes of 1-D signals, length 40; its own 4000/1000 train/test split."""
    data_mod = require("mnist1d.data", extra="train", what="the built-in dataset 'mnist1d'")
    args = data_mod.get_dataset_args(as_dict=True)
    args_for_hash = {k: v for k, v in args.items() if k != "url"}  # the URL is never used: we generate, not download
    version = sha256_of_args("mnist1d.data.make_dataset", args_for_hash)

    path = cache_dir() / f"mnist1d-{version[:16]}.npz"
    arrays: dict[str, np.ndarray] | None = None
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in ("x", "y", "x_test", "y_test")}
        except (OSError, ValueError, KeyError):
            arrays = None  # a damaged cache file is regenerated below
    if arrays is None:
        # make_dataset seeds Python's and NumPy's global RNGs; put them back so loading data has no side effects.
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            d = data_mod.make_dataset(data_mod.get_dataset_args())  # never get_dataset(): that one downloads
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        arrays = {
            "x": d["x"].astype(np.float32)[:, None, :],  # (4000, 40) -> (4000, 1, 40): one channel
            "y": d["y"].astype(np.int64),
            "x_test": d["x_test"].astype(np.float32)[:, None, :],
            "y_test": d["y_test"].astype(np.int64),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, x=arrays["x"], y=arrays["y"], x_test=arrays["x_test"], y_test=arrays["y_test"])
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        except OSError:
            pass  # a read-only home is fine; we just regenerate next time
    _freeze(*arrays.values())
    return RawData(
        x=arrays["x"],
        y=arrays["y"],
        classes=[str(i) for i in range(10)],
        modality="sequence",
        source="mnist1d",
        version=version,
        ids=_ids("mnist1d/train", len(arrays["y"])),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        ids_test=_ids("mnist1d/test", len(arrays["y_test"])),
        default_augment="shift",
    )


@register_dataset("digits")
@cache
def digits() -> RawData:
    """scikit-learn's handwritten digits: 1797 grayscale 8x8 images, 10 classes, pixel values scaled to [0, 1]."""
    datasets = require("sklearn.datasets", extra="train", what="the built-in dataset 'digits'")
    bunch = datasets.load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]  # 0..16 ink levels -> [0, 1]; (N, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    _freeze(x, y)
    # The data ships with scikit-learn, so its version is the hash of the arrays themselves (they are tiny).
    version = sha256_of_args("sklearn.datasets.load_digits", {"arrays_sha256": _sha(x, y)})
    return RawData(
        x=x,
        y=y,
        classes=[str(i) for i in range(10)],
        modality="image",
        source="digits",
        version=version,
        ids=_ids("digits", len(y)),
        image_sizes=[(8, 8)] * len(y),
        default_augment="crop",  # no flips: a mirrored 2 or 7 is not a digit
    )


def _sha(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def shape_mask(kind: int, dx: np.ndarray, dy: np.ndarray, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Inside shape `kind` (an index of SHAPE_CLASSES) of circumradius `r`: `dx`, `dy` are offsets from its centre,
    `u`, `v` the same offsets rotated by its angle; arrays broadcast (one shape, or one per image)."""
    if kind == 0:
        return dx**2 + dy**2 <= r**2
    if kind == 1:
        half = r * 0.8  # square of side 1.6 r: its area (2.56 r^2) sits between the circle's and the triangle's
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if kind == 2:
        # Equilateral triangle with circumradius r: inside all three edges, whose outward normals point at -90, 30,
        # 150 degrees and sit at the inradius r/2 from the centre.
        inside = np.ones(np.broadcast_shapes(u.shape, v.shape), bool)
        for angle in (-np.pi / 2, np.pi / 6, 5 * np.pi / 6):
            inside &= u * np.cos(angle) + v * np.sin(angle) <= r / 2
        return inside
    arm = r * 0.3
    return ((np.abs(u) <= arm) & (np.abs(v) <= r)) | ((np.abs(v) <= arm) & (np.abs(u) <= r))


def make_shapes(
    *,
    n_samples: int = 2000,
    image_size: int = 32,
    seed: int = 0,
    radius: tuple[float, float] = (5.0, 13.0),
    foreground: tuple[float, float] = (0.55, 1.0),
    background: tuple[float, float] = (0.0, 0.35),
    noise_std: float = 0.08,
) -> tuple[np.ndarray, np.ndarray]:
    """Grayscale images of one filled circle, square, triangle or cross each, at random position, size, rotation.

    Returns `(x, y)`: x (n, 1, image_size, image_size) float32 in [0, 1], y (n,) int64 balanced over 4 classes.
    Intensities are random per image, so the class is in the shape, not in the brightness.

    Example:
        >>> x, y = make_shapes(n_samples=8)
        >>> x.shape, sorted(set(y.tolist()))
        ((8, 1, 32, 32), [0, 1, 2, 3])
    """
    rng = np.random.default_rng(seed)
    n, s = n_samples, image_size
    y = rng.permutation(np.arange(n) % len(SHAPE_CLASSES)).astype(np.int64)
    r = rng.uniform(radius[0], radius[1], n) * (s / 32.0)
    cx = rng.uniform(r, s - 1 - r)  # keep the whole shape inside the frame
    cy = rng.uniform(r, s - 1 - r)
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    grid = np.arange(s, dtype=np.float32)
    dx = grid[None, None, :] - cx[:, None, None]  # (n, 1, s): column offsets
    dy = grid[None, :, None] - cy[:, None, None]  # (n, s, 1): row offsets
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u = cos * dx + sin * dy  # rotated coordinates, (n, s, s)
    v = -sin * dx + cos * dy
    rr = r[:, None, None]

    all_shapes = np.stack([shape_mask(k, dx, dy, u, v, rr) for k in range(len(SHAPE_CLASSES))])
    masks = all_shapes[y, np.arange(n)]  # (n, s, s): each image's own shape
    fg = rng.uniform(*foreground, n)[:, None, None]
    bg = rng.uniform(*background, n)[:, None, None]
    img = np.where(masks, fg, bg) + rng.normal(0.0, noise_std, (n, s, s))
    x = np.clip(img, 0.0, 1.0).astype(np.float32)[:, None]
    return x, y


@register_dataset("shapes")
@cache
def shapes() -> RawData:
    """Generated 32x32 grayscale images of circles, squares, triangles and crosses (2000, 4 balanced classes)."""
    x, y = make_shapes(**SHAPES_ARGS)
    _freeze(x, y)
    size = SHAPES_ARGS["image_size"]
    return RawData(
        x=x,
        y=y,
        classes=list(SHAPE_CLASSES),
        modality="image",
        source="shapes",
        version=sha256_of_args(_SHAPES_GENERATOR, SHAPES_ARGS),
        ids=_ids("shapes", len(y)),
        image_sizes=[(size, size)] * len(y),
        default_augment="crop+flip",
    )
