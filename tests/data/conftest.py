"""Fixtures for the data tests: small generated image folders and tables, and a private cache directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Generated built-ins (MNIST-1D) are cached on disk; keep the tests out of the user's ~/.cache.
    path = tmp_path_factory.mktemp("dlexpert-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLEXPERT_CACHE_DIR", str(path))
        yield path


def save_image(path: Path, array: np.ndarray, *, fmt: str | None = None) -> None:
    """Write a uint8 array (H, W) grayscale or (H, W, 3) colour with PIL."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)


def blob_image(rng: np.random.Generator, *, label: int, size: tuple[int, int], colour: bool) -> np.ndarray:
    """A bright square in the top-left (label 0) or bottom-right (label 1) corner, with noise, any size."""
    h, w = size
    img = rng.integers(0, 60, size=(h, w), dtype=np.uint8)
    if label == 0:
        img[: h // 2, : w // 2] = 220
    else:
        img[h // 2 :, w // 2 :] = 220
    if colour:
        return np.stack([img, img // 2, 255 - img], axis=-1).astype(np.uint8)
    return img


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """root/{a,b}/ with 12 images each: PNG and JPEG, grayscale and colour, sizes from 20x16 to 48x40, plus one
    corrupt PNG and one text file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for label, name in enumerate(["a", "b"]):
        for i in range(12):
            colour = i % 3 == 0
            size = (16 + 2 * i, 20 + 2 * i)
            ext = "jpg" if i % 4 == 1 else "png"
            save_image(root / name / f"{i:02d}.{ext}", blob_image(rng, label=label, size=size, colour=colour))
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "b" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """A CSV with two informative numeric features, a bool and a label column (60 rows, 3 classes)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    df = pd.DataFrame(
        {
            "f1": y + rng.normal(0, 0.1, 60),
            "f2": -y + rng.normal(0, 0.1, 60),
            "flag": (y == 1),
            "species": np.array(["ant", "bee", "cat"])[y],
        }
    )
    path = tmp_path / "table.csv"
    df.to_csv(path, index=False)
    return path
