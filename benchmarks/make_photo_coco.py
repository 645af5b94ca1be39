"""Write a COCO detection folder made from real photographs, as a user would bring one (issue 15): 600 images of
192x192 px, 3 object classes, no pretrained weights needed to read it.

Objects are cut from scikit-image's sample photographs (the cat of `chelsea`, the cup of `coffee`, the astronaut's
head of `astronaut`) with a soft elliptical edge, scaled to 20-90 px, flipped and re-lit at random, and pasted 1-4 per
image on random crops of other photographs and textures (grass, gravel, brick, the Hubble deep field, a retina, a
microscope slide, a motorcycle, a rocket launch, the moon, the cameraman). A later object may cover part of an earlier
one; an object keeps its box while at least 40% of it shows. Boxes are the pasted ellipse's extent.

`write_masks_folder` writes the same kind of images as a segmentation folder (images/, masks/, classes.json), each
image of its own height and width, the blended edges of every object marked void (255) in its mask.

    python benchmarks/make_photo_coco.py OUT_DIR [--n 600] [--size 192] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as samples
from skimage.transform import resize

# (class, sample name, rows, cols): the crop that holds the object in the sample photograph
OBJECTS = [
    ("cat", "chelsea", (0, 300), (80, 380)),
    ("cup", "coffee", (0, 400), (100, 500)),
    ("astronaut", "astronaut", (0, 300), (100, 400)),
]
BACKGROUNDS = ["grass", "gravel", "brick", "hubble_deep_field", "retina", "immunohistochemistry",
               "stereo_motorcycle", "rocket", "moon", "camera"]  # fmt: skip
MIN_VISIBLE = 0.4
VOID = 255  # a mask's "ignore" value, as in Pascal VOC
EDGE_ALPHA = 0.05  # blended edge pixels above this opacity and at most half object are void in the masks


def _rgb(name: str) -> np.ndarray:
    image = getattr(samples, name)()
    image = image[0] if isinstance(image, tuple) else image
    image = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]
    return image.astype(np.float32) / 255


def _background(rng: np.random.Generator, photos: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    photo = photos[int(rng.integers(len(photos)))]
    longer = max(shape)
    side = int(rng.integers(longer, min(photo.shape[:2]) + 1))  # the crop's longer side, at the image's aspect
    crop_h, crop_w = (round(side * n / longer) for n in shape)
    y, x = int(rng.integers(0, photo.shape[0] - crop_h + 1)), int(rng.integers(0, photo.shape[1] - crop_w + 1))
    crop = resize(photo[y : y + crop_h, x : x + crop_w], shape, anti_aliasing=True)
    tint = rng.uniform(0.7, 1.2, 3)  # grey textures get a colour cast, photos a white-balance shift
    return np.clip(crop * tint, 0, 1)


def make_image(rng: np.random.Generator, objects: list[np.ndarray], photos: list[np.ndarray],
               shape: tuple[int, int]):  # type: ignore[no-untyped-def]  # fmt: skip
    """One (H, W) image, its [(class index, x, y, w, h)] boxes and its (H, W) class mask: 1 + the class index where
    an object shows, 0 for the background, VOID on the soft edges where object and background blend."""
    height, width = shape
    image = _background(rng, photos, shape)
    owner = np.full(shape, -1)
    mask = np.zeros(shape, np.uint8)
    placed = []
    for k in range(int(rng.integers(1, 5))):
        cls = int(rng.integers(len(objects)))
        h = int(rng.integers(20, 91))
        w = int(np.clip(h * rng.uniform(0.75, 1.33), 16, width - 2))
        patch = resize(objects[cls], (h, w), anti_aliasing=True)
        patch = patch[:, ::-1] if rng.random() < 0.5 else patch
        patch = np.clip(patch * rng.uniform(0.7, 1.3), 0, 1)
        yy, xx = np.mgrid[:h, :w]
        inside = ((yy - (h - 1) / 2) / (h / 2)) ** 2 + ((xx - (w - 1) / 2) / (w / 2)) ** 2
        alpha = np.clip((1.0 - inside) * 4, 0, 1)[..., None]  # a soft edge over the outer quarter of the radius
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        region = image[y : y + h, x : x + w]
        image[y : y + h, x : x + w] = alpha * patch + (1 - alpha) * region
        solid = alpha[..., 0] > 0.5
        owner[y : y + h, x : x + w][solid] = k
        mask[y : y + h, x : x + w][alpha[..., 0] > EDGE_ALPHA] = VOID
        mask[y : y + h, x : x + w][solid] = cls + 1
        placed.append((cls, x, y, w, h, int(solid.sum())))
    boxes = []
    for k, (cls, *_, area) in enumerate(placed):
        ys, xs = np.nonzero(owner == k)
        if len(ys) >= MIN_VISIBLE * area:
            x0, y0 = int(xs.min()), int(ys.min())
            boxes.append((cls, x0, y0, int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0))
    return (image * 255).astype(np.uint8), boxes, mask


def write_folder(out: Path, *, n: int, size: int, seed: int) -> Path:
    """Write OUT/images/*.jpg and OUT/annotations.json (COCO: bbox [x, y, w, h], category ids from 1)."""
    rng = np.random.default_rng(seed)
    objects = [_rgb(name)[r0:r1, c0:c1] for _, name, (r0, r1), (c0, c1) in OBJECTS]
    photos = [_rgb(name) for name in BACKGROUNDS]
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(n):
        image, boxes, _ = make_image(rng, objects, photos, (size, size))
        name = f"photo_{i:04d}.jpg"
        Image.fromarray(image).save(out / "images" / name, quality=92)
        images.append({"id": i, "file_name": name, "width": size, "height": size})
        for cls, x, y, w, h in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": cls + 1,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})  # fmt: skip
    categories = [{"id": c + 1, "name": name} for c, (name, *_) in enumerate(OBJECTS)]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    (out / "annotations.json").write_text(json.dumps(doc))
    return out


def write_masks_folder(out: Path, *, n: int, sizes: tuple[int, int], seed: int) -> Path:
    """Write OUT/images/*.jpg, OUT/masks/*.png (class index per pixel, 255 on blended edges) and OUT/classes.json:
    images whose height and width are each drawn from `sizes` (e.g. 144-240 px), as a user's photographs come."""
    rng = np.random.default_rng(seed)
    objects = [_rgb(name)[r0:r1, c0:c1] for _, name, (r0, r1), (c0, c1) in OBJECTS]
    photos = [_rgb(name) for name in BACKGROUNDS]
    for part in ("images", "masks"):
        (out / part).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = (int(rng.integers(sizes[0], sizes[1] + 1)), int(rng.integers(sizes[0], sizes[1] + 1)))
        image, _, mask = make_image(rng, objects, photos, shape)
        Image.fromarray(image).save(out / "images" / f"photo_{i:04d}.jpg", quality=92)
        Image.fromarray(mask).save(out / "masks" / f"photo_{i:04d}.png")
    (out / "classes.json").write_text(json.dumps(["background", *(name for name, *_ in OBJECTS)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = write_folder(args.out, n=args.n, size=args.size, seed=args.seed)
    n_boxes = len(json.loads((out / "annotations.json").read_text())["annotations"])
    print(f"{out}: {args.n} images of {args.size} px, {n_boxes} boxes, classes {[o[0] for o in OBJECTS]}")


if __name__ == "__main__":
    main()
