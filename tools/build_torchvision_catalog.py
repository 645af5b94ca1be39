"""Build `src/dlexpert/knowledge/data/torchvision_models.json` from the weight metadata that ships inside torchvision.

Reads, for every builder in `torchvision.models.list_models(module=...)` of the classification, detection,
segmentation, video and quantization modules (optical flow, RAFT, is skipped), every member of
`torchvision.models.get_model_weights(builder)` and its `.meta`:

- `num_params` -> `params_m` (millions); `_file_size` -> `file_size_mb`; `recipe` and the torchvision version ->
  `source`; `license` (only the SWAG weights carry one) -> `license`, else "BSD-3-Clause"; `_docs` -> `notes`.
- `_metrics` -> `metrics`, one Metric per (dataset, metric) pair, unit "%": acc@1 -> "top1", acc@5 -> "top5",
  box_map -> "box mAP", mask_map -> "mask mAP", kp_map -> "kp mAP", miou -> "mIoU", pixel_acc -> "pixel acc".
  torchvision's "ImageNet-1K" is written "ImageNet-1k val" (the split it is measured on) so it compares directly
  with the timm catalog; the other dataset names are kept as torchvision spells them. NaN values are skipped.
- `_ops` -> `gmacs`. torchvision's documentation calls this column "GFLOPS", but it counts multiply-accumulates:
  resnet50 has `_ops` 4.089 while timm's measured `infer_gmacs` for resnet50 at 224 px is 4.11
  (timm results/benchmark-infer-amp-nchw-pt291-cu128-4090.csv); real FLOPs would be about 8.2. So it is stored
  as GMACs unchanged (per image, or per clip for video models).
- `input_size`: classification and video -> the `crop_size` of `weights.transforms` (a functools.partial);
  224 if it cannot be read; segmentation -> its `resize_size` (520); detection -> the short side the model's own
  `GeneralizedRCNNTransform` resizes to at eval (the builder is instantiated with `weights=None,
  weights_backbone=None`, so nothing is downloaded). `min_size` is only a minimum and is not used.

Each record: name "torchvision/<builder>.<MEMBER>", hub_id "<builder>.<MEMBER>", library "torchvision",
domains ["CV"]; tasks: classification (video classification too), detection (keypoint R-CNN too), segmentation,
or ["detection", "segmentation"] for Mask R-CNN. Quantized builders (`quantized_*`) get the base architecture's
family and the note "quantized int8". `family`/`architecture` come from the ordered table `FAMILY_RULES`.

Writes a JSON list of `dlexpert.knowledge._records.ModelEntry` objects, one per line, sorted by name, with
None/empty fields omitted.

Rerun (from the repo root; needs torchvision installed, no network):

    .venv/bin/python tools/build_torchvision_catalog.py
    .venv/bin/python tools/build_torchvision_catalog.py --out /tmp/torchvision_models.json
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
from collections import Counter
from pathlib import Path

import torchvision
from torchvision import models

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "dlexpert" / "knowledge" / "data" / "torchvision_models.json"

MODULES = {
    "classification": models,
    "detection": models.detection,
    "segmentation": models.segmentation,
    "video": models.video,
    "quantization": models.quantization,
}

# Ordered (regex matched at the start of the builder name without "quantized_", family, architecture class).
FAMILY_RULES: list[tuple[str, str, str]] = [
    # detection / segmentation heads (checked first: their names contain backbone names)
    (r"fasterrcnn", "faster-rcnn", "CNN"),
    (r"maskrcnn", "mask-rcnn", "CNN"),
    (r"keypointrcnn", "keypoint-rcnn", "CNN"),
    (r"retinanet", "retinanet", "CNN"),
    (r"fcos", "fcos", "CNN"),
    (r"ssd", "ssd", "CNN"),
    (r"deeplab", "deeplab", "CNN"),
    (r"fcn_", "fcn", "CNN"),
    (r"lraspp", "lraspp", "CNN"),
    # video
    (r"(r3d_|mc3_|r2plus1d_|s3d)", "video-cnn", "CNN"),
    (r"(mvit_|swin3d_)", "video-transformer", "Transformer"),
    # image classification backbones
    (r"wide_resnet", "wide-resnet", "CNN"),
    (r"resnext", "resnext", "CNN"),
    (r"resnet", "resnet", "CNN"),
    (r"regnet", "regnet", "CNN"),
    (r"efficientnet", "efficientnet", "CNN"),
    (r"mobilenet", "mobilenet", "CNN"),
    (r"mnasnet", "mnasnet", "CNN"),
    (r"shufflenet", "shufflenet", "CNN"),
    (r"squeezenet", "squeezenet", "CNN"),
    (r"densenet", "densenet", "CNN"),
    (r"vgg", "vgg", "CNN"),
    (r"inception", "inception", "CNN"),
    (r"googlenet", "googlenet", "CNN"),
    (r"alexnet", "alexnet", "CNN"),
    (r"convnext", "convnext", "CNN"),
    (r"maxvit", "maxvit", "Hybrid"),
    (r"swin", "swin", "Transformer"),
    (r"vit_", "vit", "Transformer"),
    (r"", "other-cnn", "CNN"),
]
_COMPILED_RULES = [(re.compile(p), fam, cls) for p, fam, cls in FAMILY_RULES]

METRIC_NAMES = {
    "acc@1": "top1",
    "acc@5": "top5",
    "box_map": "box mAP",
    "mask_map": "mask mAP",
    "kp_map": "kp mAP",
    "miou": "mIoU",
    "pixel_acc": "pixel acc",
}
DATASET_NAMES = {"ImageNet-1K": "ImageNet-1k val"}

SWAG_LICENSE = "CC-BY-NC-4.0"


def family_of(builder: str) -> tuple[str, str]:
    base = builder.removeprefix("quantized_")
    for pattern, fam, cls in _COMPILED_RULES:
        if pattern.match(base):
            return fam, cls
    return "other-cnn", "CNN"


def tasks_of(kind: str, builder: str) -> list[str]:
    if kind == "detection":
        return ["detection", "segmentation"] if builder.startswith("maskrcnn") else ["detection"]
    if kind == "segmentation":
        return ["segmentation"]
    return ["classification"]  # image, video and quantized image classification


def pretrain_of(member: str) -> str | None:
    if "SWAG_E2E" in member:
        return "swag-ig3.6b_ft_in1k"
    if "SWAG_LINEAR" in member:
        return "swag-ig3.6b_linear_in1k"
    if member.startswith("IMAGENET1K"):
        return "in1k"
    if member.startswith("COCO_WITH_VOC_LABELS"):
        return "coco-voc-labels"
    if member.startswith("COCO"):
        return "coco"
    if member == "KINETICS400_IMAGENET22K_V1":
        return "in22k_ft_kinetics400"
    if member.startswith("KINETICS400"):
        return "kinetics400"
    return None


def side(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], int):
        return int(value[0])
    return None


@functools.cache
def detection_eval_size(builder: str) -> int | None:
    """Short side that the detector's GeneralizedRCNNTransform (or SSD transform) resizes images to at eval."""
    try:
        model = models.get_model(builder, weights=None, weights_backbone=None)
    except Exception:  # pragma: no cover - a builder with another signature
        return None
    min_size = getattr(getattr(model, "transform", None), "min_size", None)
    if isinstance(min_size, (tuple, list)) and min_size:
        return int(min_size[-1])  # eval uses the last entry
    return side(min_size)


def input_size_of(kind: str, builder: str, weights) -> int | None:
    if kind == "detection":
        return detection_eval_size(builder)
    keywords = getattr(weights.transforms, "keywords", {}) if isinstance(weights.transforms, functools.partial) else {}
    if kind == "segmentation":
        return side(keywords.get("resize_size"))
    return side(keywords.get("crop_size")) or 224


def clean_docs(text: str) -> str:
    return " ".join(text.split())


def build() -> list[dict]:
    version = torchvision.__version__.split("+")[0]
    records = []
    for kind, module in MODULES.items():
        for builder in models.list_models(module=module):
            family, arch_class = family_of(builder)
            for weights in models.get_model_weights(builder):
                meta = weights.meta
                member = weights.name
                metrics = []
                for dataset, values in meta.get("_metrics", {}).items():
                    for key, value in values.items():
                        if value is None or (isinstance(value, float) and math.isnan(value)):
                            continue
                        metrics.append(
                            {
                                "name": METRIC_NAMES.get(key, key),
                                "value": float(value),
                                "dataset": DATASET_NAMES.get(dataset, dataset),
                            }
                        )
                notes = []
                if builder.startswith("quantized_"):
                    backend = meta.get("backend")
                    unq = meta.get("unquantized")
                    note = "quantized int8"
                    if backend:
                        note += f" ({backend} backend)"
                    if unq is not None:
                        note += f", post-training quantized from {type(unq).__name__}.{unq.name}"
                    notes.append(note)
                if kind == "video":
                    clip = meta.get("min_temporal_size")
                    notes.append(
                        "video classification (Kinetics-400); gmacs per clip"
                        + (f", clips of at least {clip} frames" if clip and clip > 1 else "")
                    )
                if meta.get("_docs") and not builder.startswith("quantized_"):  # their docs point at the page
                    notes.append(clean_docs(meta["_docs"]))

                license_ = "BSD-3-Clause"
                if meta.get("license"):
                    license_ = f"{SWAG_LICENSE} ({meta['license']})" if "SWAG" in meta["license"] else meta["license"]

                recipe = meta.get("recipe", "")
                rec: dict = {
                    "name": f"torchvision/{builder}.{member}",
                    "family": family,
                    "architecture": arch_class,
                    "tasks": tasks_of(kind, builder),
                    "domains": ["CV"],
                    "library": "torchvision",
                    "hub_id": f"{builder}.{member}",
                    "source": f"torchvision {version} weights metadata: {builder}.{member}.meta (recipe: {recipe})",
                    "license": license_,
                    "params_m": round(meta["num_params"] / 1e6, 3),
                    "gmacs": meta.get("_ops"),
                    "input_size": input_size_of(kind, builder, weights),
                    "file_size_mb": meta.get("_file_size"),
                    "pretrain": pretrain_of(member),
                    "metrics": metrics,
                    "notes": "; ".join(notes),
                }
                records.append({k: v for k, v in rec.items() if v not in (None, "", [], {})})
    records.sort(key=lambda r: r["name"])
    return records


def write_json(records: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]
    out.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def report(records: list[dict]) -> None:
    print(f"{len(records)} records (torchvision {torchvision.__version__})")
    for fam, n in sorted(Counter(r["family"] for r in records).items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {fam:18s} {n:4d}")
    other = sorted({r["hub_id"].partition(".")[0] for r in records if r["family"] == "other-cnn"})
    print(f"other-cnn builders: {other}")
    r50 = next(r for r in records if r["hub_id"] == "resnet50.IMAGENET1K_V2")
    print(f"resnet50 _ops = {r50.get('gmacs')} (timm resnet50 infer_gmacs at 224 px: 4.11 -> _ops counts MACs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON path")
    args = parser.parse_args()
    records = build()
    write_json(records, args.out)
    report(records)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.1f} kB)")


if __name__ == "__main__":
    main()
