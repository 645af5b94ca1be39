"""Readers for detection and segmentation folders: COCO, YOLO, Pascal VOC, and images with class-index masks.

Each reader returns the folder's samples, its class names and its broken annotations. An annotation that cannot be
trained on (a box outside its image, zero area, an unknown class, a mask of another size than its image, mask values
that name no class) does not stop the reader: it is listed, naming its file and entry, for the profile to report and
for `run`/`train` to refuse. A folder that is not the format at all (invalid JSON, a missing key, no images) is one
line, exit 2.

Formats, as their tools write them:
- COCO: `annotations.json` (or the one JSON file in `annotations/`) with `images` (`id`, `file_name`, `width`,
  `height`), `annotations` (`image_id`, `category_id`, `bbox` = [x, y, w, h] in pixels, `iscrowd`) and `categories`
  (`id`, `name`); images under `images/` (or beside the JSON).
- YOLO (Ultralytics): `images/` and `labels/` with the same stems, one `cls cx cy w h` line per box, normalised to
  [0, 1]; class names in `classes.txt` (one per line) or `data.yaml` (`names:` as a list or an {id: name} map).
- Pascal VOC: one XML per image in `Annotations/` (`<object><name>`, `<bndbox>` xmin ymin xmax ymax in pixels) and
  the images in `JPEGImages/` or `images/`.
- Masks: `images/` and `masks/` with the same stems; PNG masks hold one class index per pixel, 255 = ignore; names
  in `classes.json` (a list, index 0 = background) or `classes.txt`.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import yaml

from ...errors import InvalidInputError
from ._types import IGNORE_INDEX, DenseSample

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# A box may touch the border; a pixel of slack covers writers that use inclusive coordinates (VOC's are 1-based).
EDGE_SLACK = 1.0
MAX_ANNOTATION_BYTES = 512 << 20  # a larger annotations.json is refused, not parsed into memory


def dense_format(root: Path) -> str | None:
    """Which detection/segmentation layout a folder has ("coco", "yolo", "voc", "masks"), or None."""
    if not root.is_dir():
        return None
    if (root / "annotations.json").is_file() or _one_json(root / "annotations") is not None:
        return "coco"
    if (root / "labels").is_dir() and (root / "images").is_dir():
        return "yolo"
    if (root / "Annotations").is_dir() or any((root / "annotations").glob("*.xml")):
        return "voc"
    if (root / "masks").is_dir() and (root / "images").is_dir():
        return "masks"
    return None


def _one_json(folder: Path) -> Path | None:
    found = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return found[0] if len(found) == 1 else None


def _images(folder: Path) -> dict[str, Path]:
    """Image files under `folder` (recursively) by stem; a folder with none is one line."""
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: no such folder; expected the images there")
    found = {p.stem: p for p in sorted(folder.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
    if not found:
        raise InvalidInputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return found


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except (OSError, UnidentifiedImageError) as e:
        raise InvalidInputError(f"{path}: not a readable image ({e})") from None


def _box_problem(where: str, box: list[float], width: int, height: int) -> str | None:
    """Why an xyxy box cannot be trained on, or None."""
    x1, y1, x2, y2 = box
    if not all(math.isfinite(v) for v in box):
        return f"{where}: box {box} has a non-finite coordinate"
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return f"{where}: box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] has zero area"
    if x1 < -EDGE_SLACK or y1 < -EDGE_SLACK or x2 > width + EDGE_SLACK or y2 > height + EDGE_SLACK:
        return f"{where}: box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] lies outside the {width}x{height} image"
    return None


def _sample(
    image_id: str, path: Path, boxes: list[list[float]], labels: list[int], size: tuple[int, int]
) -> DenseSample:
    return DenseSample(
        image_id=image_id,
        width=size[0],
        height=size[1],
        image=path,
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        labels=np.asarray(labels, np.int64),
    )


# --------------------------------------------------------------------------------------------- COCO


def read_coco(root: Path) -> tuple[list[DenseSample], list[str], list[str]]:
    """Samples, class names (categories sorted by id) and broken annotations of a COCO folder."""
    path = root / "annotations.json" if (root / "annotations.json").is_file() else _one_json(root / "annotations")
    assert path is not None
    doc = _coco_document(path)
    cats = sorted(doc["categories"], key=lambda c: c["id"])
    classes = [str(c["name"]) for c in cats]
    index = {c["id"]: i for i, c in enumerate(cats)}
    folder = root / "images" if (root / "images").is_dir() else path.parent
    broken: list[str] = []
    images: dict[object, tuple[str, Path, tuple[int, int]]] = {}
    for i, im in enumerate(doc["images"]):
        if not isinstance(im, dict) or "id" not in im or "file_name" not in im:
            raise InvalidInputError(f"{path}: images[{i}] needs 'id' and 'file_name'; got {str(im)[:80]}")
        file = folder / str(im["file_name"])
        if not file.is_file():
            broken.append(f"{path}: images[{i}] (id {im['id']}): {file} not found")
            continue
        size = (int(im["width"]), int(im["height"])) if "width" in im and "height" in im else image_size(file)
        images[im["id"]] = (str(im["file_name"]), file, size)
    boxes: dict[object, list[list[float]]] = {k: [] for k in images}
    labels: dict[object, list[int]] = {k: [] for k in images}
    for i, ann in enumerate(doc["annotations"]):
        where = f"{path}: annotations[{i}] (id {ann.get('id', '?') if isinstance(ann, dict) else '?'})"
        problem, box = _coco_box(where, ann, images, index)
        if problem:
            broken.append(problem)
        elif box is not None:
            boxes[ann["image_id"]].append(box)
            labels[ann["image_id"]].append(index[ann["category_id"]])
    samples = [_sample(name, file, boxes[k], labels[k], size) for k, (name, file, size) in images.items()]
    return samples, classes, broken


def _coco_document(path: Path) -> dict:
    if path.stat().st_size > MAX_ANNOTATION_BYTES:
        raise InvalidInputError(f"{path}: over {MAX_ANNOTATION_BYTES >> 20} MB; split the annotations")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{path}: expected a COCO object with 'images', 'annotations' and 'categories'")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise InvalidInputError(f"{path}: '{key}' is missing or not a list; expected COCO's detection format")
    for i, c in enumerate(doc["categories"]):
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise InvalidInputError(f"{path}: categories[{i}] needs 'id' and 'name'; got {str(c)[:80]}")
    if not doc["categories"]:
        raise InvalidInputError(f"{path}: 'categories' is empty; expected at least one class")
    return doc


def _coco_box(
    where: str, ann: object, images: dict[object, tuple[str, Path, tuple[int, int]]], index: dict[object, int]
) -> tuple[str | None, list[float] | None]:
    """(problem, xyxy box) of one annotation; (None, None) for a crowd region, which is not trained on."""
    if not isinstance(ann, dict):
        return f"{where}: not an object", None
    if ann.get("iscrowd"):
        return None, None
    if ann.get("image_id") not in images:
        return f"{where}: image_id {ann.get('image_id')!r} is not in 'images' (or its file is missing)", None
    if ann.get("category_id") not in index:
        return f"{where}: category_id {ann.get('category_id')!r} is not in 'categories'", None
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(isinstance(v, (int, float)) for v in bbox):
        return f"{where}: bbox {bbox!r}; expected [x, y, width, height] in pixels", None
    x, y, w, h = (float(v) for v in bbox)
    box = [x, y, x + w, y + h]
    width, height = images[ann["image_id"]][2]
    return _box_problem(where, box, width, height), box


# --------------------------------------------------------------------------------------------- YOLO


def yolo_classes(root: Path) -> list[str]:
    """Class names from `classes.txt` or `data.yaml` (`names:` a list or an {id: name} map)."""
    if (root / "classes.txt").is_file():
        names = [ln.strip() for ln in (root / "classes.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
        if names:
            return names
    if (root / "data.yaml").is_file():
        try:
            doc = yaml.safe_load((root / "data.yaml").read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise InvalidInputError(f"{root / 'data.yaml'}: not valid YAML ({str(e).splitlines()[0]})") from None
        listed = doc.get("names") if isinstance(doc, dict) else None
        if isinstance(listed, dict):
            return [str(listed[k]) for k in sorted(listed)]
        if isinstance(listed, list) and listed:
            return [str(n) for n in listed]
    raise InvalidInputError(f"{root}: no class names; expected classes.txt (one per line) or data.yaml with 'names:'")


def read_yolo(root: Path) -> tuple[list[DenseSample], list[str], list[str]]:
    """Samples, class names and broken annotations of a YOLO folder; an image without a label file has no objects."""
    classes = yolo_classes(root)
    images = _images(root / "images")
    label_files = {p.stem: p for p in sorted((root / "labels").rglob("*.txt"))}
    broken: list[str] = []
    samples = []
    for stem, file in images.items():
        size = image_size(file)
        label_file = label_files.get(stem)
        boxes, labels = [], []
        lines = label_file.read_text(encoding="utf-8", errors="replace").splitlines() if label_file else []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            problem, box, cls = _yolo_box(f"{label_file}:{n}", line, len(classes), size)
            if problem:
                broken.append(problem)
            else:
                boxes.append(box)
                labels.append(cls)
        samples.append(_sample(stem, file, boxes, labels, size))
    return samples, classes, broken


def _yolo_box(where: str, line: str, n_classes: int, size: tuple[int, int]) -> tuple[str | None, list[float], int]:
    fields = line.split()
    if len(fields) != 5:
        what = "a polygon (segmentation labels)" if len(fields) > 5 else f"{len(fields)} fields"
        return f"{where}: {what}; expected 'class cx cy w h' normalised to [0, 1]", [], -1
    try:
        cls, values = int(fields[0]), [float(v) for v in fields[1:]]
    except ValueError:
        return f"{where}: {line.strip()[:60]!r} is not 'class cx cy w h' numbers", [], -1
    if not 0 <= cls < n_classes:
        return f"{where}: class id {cls} is out of range (the class names list {n_classes})", [], -1
    cx, cy, w, h = values
    width, height = size
    box = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
    return _box_problem(where, box, width, height), box, cls


# --------------------------------------------------------------------------------------------- Pascal VOC


def read_voc(root: Path) -> tuple[list[DenseSample], list[str], list[str]]:
    """Samples, class names (classes.txt, else the names found, sorted) and broken annotations of a VOC folder."""
    ann_dir = root / "Annotations" if (root / "Annotations").is_dir() else root / "annotations"
    image_dir = root / "JPEGImages" if (root / "JPEGImages").is_dir() else root / "images"
    images = _images(image_dir)
    parsed: list[tuple[Path, str, tuple[int, int], list[tuple[str, list[float]]]]] = []
    broken: list[str] = []
    for xml_file in sorted(ann_dir.glob("*.xml")):
        entry = _voc_file(xml_file, images, broken)
        if entry is not None:
            parsed.append(entry)
    if not parsed:
        raise InvalidInputError(f"{ann_dir}: no readable Pascal VOC XML annotations")
    found = sorted({name for *_, objects in parsed for name, _ in objects})
    classes = yolo_classes(root) if (root / "classes.txt").is_file() else found
    index = {c: i for i, c in enumerate(classes)}
    samples = []
    for file, stem, size, objects in parsed:
        boxes, labels = [], []
        for k, (name, box) in enumerate(objects):
            where = f"{ann_dir / (stem + '.xml')}: object {k} ({name})"
            problem = None if name in index else f"{where}: class {name!r} is not in classes.txt"
            problem = problem or _box_problem(where, box, *size)
            if problem:
                broken.append(problem)
            else:
                boxes.append(box)
                labels.append(index[name])
        samples.append(_sample(stem, file, boxes, labels, size))
    return samples, classes, broken


def _voc_file(
    xml_file: Path, images: dict[str, Path], broken: list[str]
) -> tuple[Path, str, tuple[int, int], list[tuple[str, list[float]]]] | None:
    raw = xml_file.read_bytes()
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:  # entity expansion is how XML bombs work; VOC files have none
        broken.append(f"{xml_file}: has a DOCTYPE/ENTITY declaration; not read")
        return None
    try:
        tree = ET.fromstring(raw)
    except ET.ParseError as e:
        broken.append(f"{xml_file}: not valid XML ({e})")
        return None
    name = tree.findtext("filename") or xml_file.stem
    stem = Path(name).stem
    if stem not in images:
        broken.append(f"{xml_file}: image {name} not found")
        return None
    size = image_size(images[stem])
    objects = []
    for obj in tree.iter("object"):
        box = obj.find("bndbox")
        try:
            keys = ("xmin", "ymin", "xmax", "ymax")
            coords = [float(box.findtext(k) or "nan") for k in keys] if box is not None else []
        except ValueError:
            coords = []
        objects.append((obj.findtext("name") or "?", coords if len(coords) == 4 else [math.nan] * 4))
    return images[stem], stem, size, objects


# --------------------------------------------------------------------------------------------- masks


def mask_classes(root: Path, max_value: int) -> tuple[list[str], list[str]]:
    """Class names from classes.json (a list, index 0 = background) or classes.txt, else made up from the largest
    mask value; and the warnings that says so."""
    if (root / "classes.json").is_file():
        try:
            names = json.loads((root / "classes.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise InvalidInputError(f"{root / 'classes.json'}: not valid JSON ({e.msg} at line {e.lineno})") from None
        if not isinstance(names, list) or not names:
            raise InvalidInputError(f"{root / 'classes.json'}: expected a list of class names, index 0 = background")
        return [str(n) for n in names], []
    if (root / "classes.txt").is_file():
        return yolo_classes(root), []
    names = ["background", *(f"class {i}" for i in range(1, max_value + 1))]
    return names, [f"{root}: no classes.json or classes.txt; classes named by index 0-{max_value} (0 = background)"]


def read_masks(root: Path) -> tuple[list[DenseSample], list[str], list[str], list[str]]:
    """Samples, class names, broken masks and warnings of an images/ + masks/ folder."""
    from ._types import mask_array

    images = _images(root / "images")
    masks = {p.stem: p for p in sorted((root / "masks").rglob("*.png"))}
    samples, broken, warnings = [], [], []
    missing = [stem for stem in images if stem not in masks]
    if missing:
        warnings.append(f"{root / 'masks'}: {len(missing)} image(s) without a mask, left out (first: {missing[0]})")
    values_of: dict[str, set[int]] = {}  # each mask's class values, read once
    for stem, file in images.items():
        if stem not in masks:
            continue
        size = image_size(file)
        sample = DenseSample(image_id=stem, width=size[0], height=size[1], image=file, mask=masks[stem])
        values = mask_array(sample)
        if values.shape != (size[1], size[0]):
            broken.append(f"{masks[stem]}: mask is {values.shape[1]}x{values.shape[0]}, its image {file.name} is "
                          f"{size[0]}x{size[1]}")  # fmt: skip
            continue
        values_of[stem] = set(np.unique(values).tolist()) - {IGNORE_INDEX}
        samples.append(sample)
    classes, named = mask_classes(root, max((max(v, default=0) for v in values_of.values()), default=0))
    warnings += named
    known = set(range(len(classes)))
    for s in [s for s in samples if values_of[s.image_id] - known]:
        unknown = sorted(values_of[s.image_id] - known)
        broken.append(f"{s.mask}: mask values {unknown[:5]} name no class ({len(classes)} classes, 255 = ignore)")
        samples.remove(s)
    return samples, classes, broken, warnings
