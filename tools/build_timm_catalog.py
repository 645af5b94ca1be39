"""Build `src/dlexpert/knowledge/data/timm_models.json` from timm's published result tables.

Reads (all in `--src`, default `../shared/data/timm-results` relative to the repo root; see its SOURCE.md, the
files are copied unchanged from huggingface/pytorch-image-models commit aa4b5850c1543fa488abf260f18390eda46cf85d):

- `results-imagenet.csv`: one catalog record per row (``test_*`` models skipped): top1/top5 on ImageNet-1k val,
  `img_size` -> `input_size`, `param_count` -> `params_m`. About 290 models appear twice, at their default size and
  at their larger test-time size; the row at the smallest size is named "timm/<model>", the other
  "timm/<model>@<img_size>" (same `hub_id`, same weights).
- `results-imagenet-r.csv`, `results-sketch.csv`, `results-imagenet-a.csv`,
  `results-imagenetv2-matched-frequency.csv`: top1 on each robustness set, joined on the full model string and
  `img_size`.
  `robustness_rank_diff` is the mean of their `rank_diff` column over the sets where the model appears.
  Sign convention (timm's results/generate_csv_results.py): rank_diff = (rank on ImageNet-1k) - (rank on the
  robustness set), so POSITIVE means the model climbs the ranking under distribution shift (more robust than its
  ImageNet-1k peers) and NEGATIVE means it drops. The value is averaged as published.
- `benchmark-infer-*.csv`: `infer_gmacs` -> `gmacs`, `infer_macts` -> `macts_m`, joined on the architecture (the
  part of the model name before the first ".") AND `infer_img_size == img_size`; taken from the first of the
  RTX 4090, RTX 5090, i7-12700H, i9-10940X files that has the row (left out when none does).
  `latency_ms["cpu-i7-12700h"]` / `latency_ms["cpu-i9-10940x"]` = `infer_step_time` of the CPU files (fp32,
  batch 1, torch.compile, so ms per sample); `throughput["rtx4090"]` / `throughput["rtx5090"]` =
  `infer_samples_per_sec` (AMP, batch 1024).
- `benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv`: `throughput["rtx3090/train"]` = `train_samples_per_sec`
  (AMP, batch 512), matched on architecture and `train_img_size == img_size`, else on architecture alone.
- `model_metadata-in1k.csv`: the architecture's pretraining data, appended to `notes` ("arch pretrain: in1k").

`pretrain` is the pretrained tag after the first "." (e.g. "in12k_ft_in1k"). `family` and `architecture` come from
the ordered regex table `FAMILY_RULES` below; the script prints the count per family and the architecture prefixes
that fell into the catch-all families so the mapping can be checked.

Writes a JSON list of `dlexpert.knowledge._records.ModelEntry` objects, one per line, sorted by name, with
None/empty fields omitted.

Rerun (from the repo root, standard library only):

    python3 tools/build_timm_catalog.py
    python3 tools/build_timm_catalog.py --src ../shared/data/timm-results --out /tmp/timm_models.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "timm-results"
DEFAULT_OUT = REPO_ROOT / "src" / "dlexpert" / "knowledge" / "data" / "timm_models.json"
TIMM_COMMIT = "aa4b5850c1543fa488abf260f18390eda46cf85d"
SOURCE = f"timm results/results-imagenet.csv (+ robustness and benchmark CSVs), timm commit {TIMM_COMMIT}"

ROBUSTNESS_FILES = {
    "ImageNet-R": "results-imagenet-r.csv",
    "ImageNet-Sketch": "results-sketch.csv",
    "ImageNet-A": "results-imagenet-a.csv",
    "ImageNetV2-matched-frequency": "results-imagenetv2-matched-frequency.csv",
}
# In order of preference for gmacs / macts.
GPU_INFER_FILES = {
    "rtx4090": "benchmark-infer-amp-nchw-pt291-cu128-4090.csv",
    "rtx5090": "benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
}
CPU_INFER_FILES = {
    "cpu-i7-12700h": "benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv",
    "cpu-i9-10940x": "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
}
TRAIN_FILE = ("rtx3090/train", "benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv")
METADATA_FILE = "model_metadata-in1k.csv"

FAMILY_CLASS = {
    # CNN
    "resnet": "CNN",
    "resnext": "CNN",
    "wide-resnet": "CNN",
    "regnet": "CNN",
    "efficientnet": "CNN",
    "mobilenet": "CNN",
    "mobileone": "CNN",
    "ghostnet": "CNN",
    "mnasnet": "CNN",
    "shufflenet": "CNN",
    "squeezenet": "CNN",
    "densenet": "CNN",
    "vgg": "CNN",
    "inception": "CNN",
    "convnext": "CNN",
    "nfnet": "CNN",
    "hrnet": "CNN",
    "cspnet": "CNN",
    "dla": "CNN",
    "rexnet": "CNN",
    "tinynet": "CNN",
    "alexnet": "CNN",
    "googlenet": "CNN",
    "other-cnn": "CNN",
    # Transformer
    "vit": "Transformer",
    "deit": "Transformer",
    "swin": "Transformer",
    "beit": "Transformer",
    "eva": "Transformer",
    "other-transformer": "Transformer",
    # Hybrid
    "maxvit": "Hybrid",
    "coatnet": "Hybrid",
    "levit": "Hybrid",
    "mobilevit": "Hybrid",
    "efficientvit": "Hybrid",
    "fastvit": "Hybrid",
    "hybrid-vit": "Hybrid",
    # MLP
    "mlp-mixer": "MLP",
}
CATCH_ALL = ("other-cnn", "other-transformer")

# Ordered (regex matched at the start of the architecture name, family). First match wins, so specific rules
# (hybrids, "wide_resnet", "resnext") come before the general ones ("resnet").
FAMILY_RULES: list[tuple[str, str]] = [
    # ViT with a CNN stem (R50/R26 + ViT) and other conv/attention hybrids.
    (r"vit_\w*(hybrid|_r\d+_s\d+|_r_s\d+)", "hybrid-vit"),
    (r"(tiny_vit|nextvit|edgenext|efficientformer|swiftformer|shvit|visformer|gcvit|caformer)", "hybrid-vit"),
    # Self-attention / lambda layers inside a ResNet/RegNet body (BoTNet, HaloNet, LambdaNet).
    (r"(botnet|sebotnet|eca_botnext|halonet|halo2botnet|sehalonet|eca_halonext|lamhalobotnet)", "hybrid-vit"),
    (r"(haloregnetz|lambda_resnet)", "hybrid-vit"),
    (r"(maxvit|maxxvit)", "maxvit"),
    (r"(coatnet|coatnext|coat_)", "coatnet"),
    (r"levit", "levit"),
    (r"mobilevit", "mobilevit"),
    (r"efficientvit", "efficientvit"),
    (r"fastvit", "fastvit"),
    # MLP token mixers; Sequencer2D swaps the token-mixing MLP for BiLSTMs in the same macro design.
    (r"(mixer_|gmixer|resmlp|gmlp|sequencer)", "mlp-mixer"),
    # Transformers.
    (r"(vit_|flexivit|naflexvit)", "vit"),
    (r"crossvit", "vit"),  # two isotropic ViT branches (patch 12/16) fused by cross-attention
    (r"deit", "deit"),
    (r"(cait|convit)", "deit"),  # DeiT-based designs from the same group, trained with the DeiT recipe on in1k
    (r"swin", "swin"),
    (r"beit", "beit"),
    (r"eva", "eva"),
    (r"(xcit|pit_|tnt_|twins|pvt_v2|volo|davit|focalnet|hiera|nest_|mvitv2)", "other-transformer"),
    # CNNs.
    (r"wide_resnet", "wide-resnet"),
    (r"(resnext|seresnext|skresnext|gcresnext|eca_resnext|bat_resnext|legacy_seresnext|ig_resnext)", "resnext"),
    (r"(legacy_senet|senet)", "resnext"),  # SENet-154 is an SE-ResNeXt
    (r"(resnet|seresnet|ecaresnet|eca_resnet|gcresnet|skresnet|gluon_resnet|tv_resnet|legacy_seresnet)", "resnet"),
    (r"resnest", "resnet"),  # ResNeSt: ResNet with split-attention blocks (timm builds it with its ResNet class)
    (r"(nfnet|dm_nfnet|eca_nfnet|nf_)", "nfnet"),
    (r"regnet", "regnet"),
    (r"(gc_efficientnet|efficientnet|tf_efficientnet|mixnet|tf_mixnet)", "efficientnet"),
    (r"(mobilenet|tf_mobilenet|lcnet)", "mobilenet"),
    (r"repvit", "mobilenet"),  # RepViT: MobileNetV3-L re-designed with ViT-style macro choices, still a pure CNN
    (r"mobileone", "mobileone"),
    (r"(ghostnet|repghostnet)", "ghostnet"),
    (r"(mnasnet|semnasnet|spnasnet|fbnet)", "mnasnet"),  # mobile NAS nets in the MBConv search space
    (r"(densenet|rdnet)", "densenet"),  # RDNet: "DenseNets Reloaded"
    (r"(repvgg|vgg)", "vgg"),  # RepVGG is a plain VGG-style stack of 3x3 convs at inference
    (r"inception_next", "convnext"),  # InceptionNeXt is a ConvNeXt with Inception-style depthwise convs
    (r"(inception|adv_inception|ens_adv_inception|xception|legacy_xception|googlenet)", "inception"),
    (r"convnext", "convnext"),
    (r"hrnet", "hrnet"),
    (r"(cspresnet|cspdarknet|cspresnext|cs3|darknet)", "cspnet"),
    (r"dla", "dla"),
    (r"rexnet", "rexnet"),
    (r"tinynet", "tinynet"),
    (r"shufflenet", "shufflenet"),
    (r"squeezenet", "squeezenet"),
    (r"alexnet", "alexnet"),
    # Everything else that remains is a CNN (dpn, res2net, selecsls, tresnet, hardcorenas, hgnet, vovnet,
    # gernet, fasternet, starnet, convmixer, poolformer, convformer, mambaout, nasnet, pnasnet, ...).
    (r"", "other-cnn"),
]
_COMPILED_RULES = [(re.compile(p), fam) for p, fam in FAMILY_RULES]


def family_of(arch: str) -> str:
    for pattern, fam in _COMPILED_RULES:
        if pattern.match(arch):
            return fam
    return "other-cnn"


def arch_prefix(arch: str) -> str:
    """A short name for reporting: the architecture name up to its first digit or underscore-digit."""
    return re.split(r"[_\d]", arch, maxsplit=1)[0] or arch


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def num(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip().replace(",", "")  # large param counts are written "1,014.45"
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def rank_diff_value(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value == "=":  # older timm scripts wrote "=" for an unchanged rank
        return 0.0
    return num(value)


def build(src: Path) -> list[dict]:
    base = [r for r in read_csv(src / "results-imagenet.csv") if not r["model"].startswith("test_")]

    robust: dict[str, dict[str, dict[str, str]]] = {}
    for dataset, fname in ROBUSTNESS_FILES.items():
        path = src / fname
        if path.exists():
            robust[dataset] = {(r["model"], int(r["img_size"])): r for r in read_csv(path)}

    infer: dict[str, dict[tuple[str, int], dict[str, str]]] = {}
    for hw, fname in {**GPU_INFER_FILES, **CPU_INFER_FILES}.items():
        path = src / fname
        if path.exists():
            infer[hw] = {(r["model"], int(r["infer_img_size"])): r for r in read_csv(path)}

    train_by_size: dict[tuple[str, int], dict[str, str]] = {}
    train_by_arch: dict[str, dict[str, str]] = {}
    train_path = src / TRAIN_FILE[1]
    if train_path.exists():
        for r in read_csv(train_path):
            train_by_size[(r["model"], int(r["train_img_size"]))] = r
            train_by_arch.setdefault(r["model"], r)

    arch_pretrain: dict[str, str] = {}
    meta_path = src / METADATA_FILE
    if meta_path.exists():
        arch_pretrain = {r["model"]: r["pretrain"] for r in read_csv(meta_path)}

    # 290 models are evaluated twice: at their default input size and at their larger test-time size (timm's
    # `test_input_size`). The smallest size keeps the plain name; the others get "@<size>" appended.
    sizes: dict[str, list[int]] = defaultdict(list)
    for row in base:
        sizes[row["model"]].append(int(row["img_size"]))

    records = []
    for row in base:
        model = row["model"]
        arch, _, tag = model.partition(".")
        size = int(row["img_size"])
        default_size = min(sizes[model])
        name = f"timm/{model}" if size == default_size else f"timm/{model}@{size}"
        family = family_of(arch)

        metrics = [
            {"name": name, "value": value, "dataset": "ImageNet-1k val"}
            for name in ("top1", "top5")
            if (value := num(row[name])) is not None
        ]
        rank_diffs = []
        for dataset, rows in robust.items():
            r = rows.get((model, size))
            if r is None:
                continue
            top1 = num(r.get("top1"))
            if top1 is not None:
                metrics.append({"name": "top1", "value": top1, "dataset": dataset})
            rd = rank_diff_value(r.get("rank_diff"))
            if rd is not None:
                rank_diffs.append(rd)

        gmacs = macts = None
        latency: dict[str, float] = {}
        throughput: dict[str, float] = {}
        for hw, rows in infer.items():
            r = rows.get((arch, size))
            if r is None:
                continue
            if gmacs is None:
                gmacs = num(r.get("infer_gmacs"))
            if macts is None:
                macts = num(r.get("infer_macts"))
            if hw in CPU_INFER_FILES:
                step = num(r.get("infer_step_time"))
                if step is not None:
                    latency[hw] = step
            else:
                sps = num(r.get("infer_samples_per_sec"))
                if sps is not None:
                    throughput[hw] = sps
        tr = train_by_size.get((arch, size)) or train_by_arch.get(arch)
        if tr is not None:
            sps = num(tr.get("train_samples_per_sec"))
            if sps is not None:
                throughput[TRAIN_FILE[0]] = sps

        notes = []
        if size != default_size:
            notes.append(f"same weights as timm/{model}, evaluated at its test-time size {size}px")
        if arch in arch_pretrain:
            notes.append(f"arch pretrain: {arch_pretrain[arch]}")
        if tr is not None and int(tr["train_img_size"]) != size:
            notes.append(f"rtx3090/train throughput measured at {tr['train_img_size']}px")

        rec: dict = {
            "name": name,
            "family": family,
            "architecture": FAMILY_CLASS[family],
            "tasks": ["classification"],
            "domains": ["CV"],
            "library": "timm",
            "hub_id": model,
            "source": SOURCE,
            "license": "see model card",
            "params_m": num(row["param_count"]),
            "gmacs": gmacs,
            "macts_m": macts,
            "input_size": size,
            "pretrain": tag or None,
            "metrics": metrics,
            "latency_ms": latency,
            "throughput": throughput,
            "robustness_rank_diff": round(sum(rank_diffs) / len(rank_diffs), 2) if rank_diffs else None,
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
    fam_counts = Counter(r["family"] for r in records)
    print(f"{len(records)} records")
    for fam, n in sorted(fam_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {fam:18s} {n:5d}  ({FAMILY_CLASS[fam]})")
    by_family: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        by_family[r["family"]][arch_prefix(r["hub_id"].partition(".")[0])] += 1
    n_catch = sum(fam_counts[f] for f in CATCH_ALL)
    print(f"catch-all ({', '.join(CATCH_ALL)}): {n_catch} rows = {100 * n_catch / len(records):.1f}%")
    for fam in (*CATCH_ALL, "hybrid-vit"):
        prefixes = ", ".join(f"{p}:{n}" for p, n in sorted(by_family[fam].items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"  {fam}: {prefixes}")
    missing = Counter(k for r in records for k in ("gmacs", "latency_ms", "throughput") if k not in r)
    print(f"records without: {dict(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="folder with timm's results CSVs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON path")
    args = parser.parse_args()
    records = build(args.src)
    write_json(records, args.out)
    report(records)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
