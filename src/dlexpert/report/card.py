"""`write_model_card(run dir) -> MODEL_CARD.md + report.html` (seed Step 7: "generate a model card").

The card follows the Hugging Face model-card layout (YAML front matter with a `model-index`, then the template's
sections; https://huggingface.co/docs/hub/model-cards) and Mitchell et al. 2019, "Model Cards for Model Reporting"
(arXiv 1810.03993). Every number in it is read from the run's files -- evaluation.json (computed first when it is
missing), config.yaml, plan.json, metrics.jsonl, bench.json, the diagnosis -- and the front matter's values are
evaluation.json's own, unrounded, so `verify_card` can prove the card has not drifted from the evaluation.

Example:
    >>> paths = write_model_card("runs/demo-mnist1d")  # doctest: +SKIP
    >>> verify_card("runs/demo-mnist1d")  # doctest: +SKIP
    []
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from .._io import atomic_write_text
from ..errors import InvalidInputError, UnknownNameError
from ..rundir import RunDir, best_epoch
from ..schema import Diagnosis, Plan
from ..schema.decisions import ModelRecord
from ..schema.evaluation import Evaluation, headline_metric
from ..schema.run_config import RunConfig
from .evaluate import environment, evaluate_run, file_sha256, load_evaluation
from .html import inert_markdown

if TYPE_CHECKING:
    from ..data import DataProfile
    from ..data.dense import DenseProfile
    from ..data.forecast.profile import ForecastProfile

__all__ = ["CardFacts", "gather_facts", "render_card", "verify_card", "write_model_card"]

T = TypeVar("T")
# Headline metrics in the card's model-index: evaluation.json key -> (Hugging Face metric type, display name).
MODEL_INDEX_METRICS = {
    "accuracy": ("accuracy", "Top-1 accuracy"),
    "top5_accuracy": ("accuracy", "Top-5 accuracy"),
    "balanced_accuracy": ("balanced_accuracy", "Balanced accuracy"),
    "f1_macro": ("f1", "Macro F1"),
    "precision_macro": ("precision", "Macro precision"),
    "recall_macro": ("recall", "Macro recall"),
    "auroc_ovr_macro": ("roc_auc", "AUROC (one-vs-rest, macro)"),
    "ece": ("ece", "Expected calibration error (15 bins)"),
    "mae": ("mae", "MAE"),
    "rmse": ("rmse", "RMSE"),
    "mape": ("mape", "MAPE (%)"),
    "miou": ("mean_iou", "Mean IoU (background included)"),
    "dice": ("dice", "Mean foreground Dice"),
    "pixel_accuracy": ("accuracy", "Pixel accuracy"),
    "map": ("map", "Box mAP@[.5:.95] (COCO)"),
    "map50": ("map", "Box mAP at IoU 0.5"),
    "map75": ("map", "Box mAP at IoU 0.75"),
    "mar_100": ("recall", "Recall, 100 detections per image"),
}
# Shown in percent in the card; the others (AUROC, ECE, log loss, errors) as plain numbers.
PERCENT_DISPLAY = {"accuracy", "top5_accuracy", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro",
                   "precision_micro", "f1_weighted", "pixel_accuracy"}  # fmt: skip
_PIPELINE_TAG = {"image": "image-classification", "text": "text-classification", "tabular": "tabular-classification"}
# Questions the model's owner must answer (Mitchell et al. 2019, "Ethical Considerations"; Gebru et al. 2021,
# "Datasheets for Datasets", arXiv 1803.09010). dlexpert cannot answer them from the data; it asks.
ETHICS_PROMPTS = (
    "Who collected the data, with what consent, and does it contain personal or sensitive information?",
    "Which groups of people or conditions are under-represented in the training data, and how does accuracy "
    "differ across them? (The per-class table above is by label only.)",
    "What harm follows from a wrong prediction, and for whom? Which of the confused pairs above matter most?",
    "Will a person review the model's outputs before they act on them? What should happen when it is unsure?",
    "What uses of this model should be refused or monitored?",
)
_ANSWER = "_Answer (model owner):_ ..."


@dataclass
class CardFacts:
    """Everything the card and the HTML report print, read from the run directory once."""

    run_dir: Path
    config: RunConfig
    evaluation: Evaluation
    evaluation_sha256: str
    task: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None
    profile: DataProfile | DenseProfile | ForecastProfile | None = None
    diagnosis: Diagnosis | None = None  # computed from the run's logs now
    actions: list[dict[str, Any]] = field(default_factory=list)  # auto-remedy actions taken during training
    bench: dict[str, Any] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.run_dir.resolve().name


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_optional(run: RunDir, name: str, read: Callable[[], T], notes: list[str]) -> T | None:
    """`read()` of the run's file `name`: None when the run has none, and a note on the card when it is unreadable."""
    if not run.has(name):
        return None
    try:
        return read()
    except InvalidInputError as exc:
        notes.append(f"{name} not used: {exc}")
        return None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    return value if isinstance(value, dict) else {}


def gather_facts(run_dir: str | Path, *, progress: Callable[[str], None] | None = None) -> CardFacts:
    """Read what the card needs. A run with no evaluation.json (or one from an older dlexpert) is evaluated first."""
    from ..runs import load_run_config

    say = progress or (lambda _msg: None)
    run = RunDir(run_dir)
    run_dir = run.path
    config = load_run_config(run_dir)
    notes: list[str] = []
    evaluation = load_evaluation(run_dir)
    why = None
    if evaluation is None:
        why = "is missing" if not run.has(RunDir.EVALUATION) else "is from an older dlexpert"
    elif (run_dir / evaluation.weights).is_file() and (
        f"sha256:{file_sha256(run_dir / evaluation.weights)}" != evaluation.model_version
    ):
        why = "is for other weights (the model was retrained or resumed since)"
    if why is not None or evaluation is None:
        say(f"evaluation.json {why}: evaluating the run first")
        evaluation = evaluate_run(run_dir, progress=say)
        notes.append(f"evaluation.json {why}; it was computed now, for this card")
    facts = CardFacts(
        run_dir=run_dir,
        config=config,
        evaluation=evaluation,
        evaluation_sha256=file_sha256(run / RunDir.EVALUATION),
        notes=notes,
    )
    facts.task = _read_yaml(run / RunDir.TASK)
    facts.plan = _read_optional(run, RunDir.PLAN, run.plan, notes)
    facts.profile = _read_optional(run, RunDir.PROFILE, run.profile, notes)
    facts.bench = _read_optional(run, RunDir.BENCH, run.bench, notes) or None
    live = _read_optional(run, RunDir.DIAGNOSIS, run.diagnosis, notes)  # written during training, with the actions
    facts.actions = list(live.actions) if live is not None else []
    facts.training = _training_summary(run)
    facts.variants = _variants(run_dir)
    try:
        from ..diagnose import diagnose

        facts.diagnosis = diagnose(run_dir)
    except InvalidInputError as exc:
        notes.append(f"no diagnosis: {exc}")
    return facts


def _training_summary(run: RunDir) -> dict[str, Any]:
    """Epochs run, the best validation epoch, wall time and throughput, from metrics.jsonl's epoch rows."""
    epochs = run.epochs()
    if not epochs:
        return {}
    out: dict[str, Any] = {"epochs_run": len(epochs), "wall_time_s": epochs[-1].get("time")}
    found = best_epoch(epochs)
    if found is not None:
        best, key = epochs[found[0]], found[1]
        out.update(best_epoch=int(best["epoch"]) + 1, best_metric=key, best_value=best[key])
    rates = [e["samples_per_sec"] for e in epochs if isinstance(e.get("samples_per_sec"), int | float)]
    if rates:
        out["samples_per_sec_median"] = sorted(rates)[len(rates) // 2]
    last = epochs[-1]
    out["final"] = {k: last[k] for k in ("train_loss", "val_loss", "val_acc", "val_miou") if k in last}
    return out


def _variants(run_dir: Path) -> list[dict[str, Any]]:
    """Compressed and exported variants (RUN_DIR/variants/*) with the figures their own reports recorded."""
    out: list[dict[str, Any]] = []
    root = run_dir / RunDir.VARIANTS
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        report = _read_json(d / "report.json") or _read_json(d / "compress.json") or _read_json(d / "export.json")
        files = [f for f in d.iterdir() if f.is_file() and f.suffix in {".onnx", ".safetensors", ".pt", ".pt2"}]
        out.append(
            {
                "name": d.name,
                "files": sorted(f.name for f in files),
                "bytes": sum(f.stat().st_size for f in files),
                "report": report,
            }
        )
    return out


# --------------------------------------------------------------------------------------------- rendering helpers


# Dense tasks' per-class table: (what it counts, the support's unit, the score column, its metrics key prefix).
_DENSE_PER_CLASS = {
    "segmentation": ("pixels; F1 is the class's Dice", "Pixels", "IoU", "iou/"),
    "detection": ("AP over IoU 0.5:0.95; precision and recall at IoU 0.5, score 0.5", "Boxes", "AP", "ap/"),
}


def _score(key: str, v: float | None) -> str:
    return _pct(v) if key in PERCENT_DISPLAY else _num(v, ".3f")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _num(v: Any, spec: str = ".4g") -> str:
    if v is None:
        return "-"
    return format(v, spec) if isinstance(v, int | float) else str(v)


def _mb(n: int | None) -> str:
    return "-" if n is None else (f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} KB")


def _md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def front_matter(f: CardFacts) -> dict[str, Any]:
    """The Hugging Face metadata block: license, tags, datasets, metrics and a `model-index` of measured results."""
    ev = f.evaluation
    modality = ev.data.get("modality", "")
    dataset = _dataset_name(f)
    metrics = [
        {"type": t, "value": ev.metrics[k], "name": n} for k, (t, n) in MODEL_INDEX_METRICS.items() if k in ev.metrics
    ]
    record = _record(f)
    meta: dict[str, Any] = {
        "license": _license(f),
        "library_name": "pytorch",
        "tags": [t for t in ("dlexpert", ev.task, modality, record.name, record.adaptation) if t],
        "datasets": [dataset],
        "metrics": sorted({m["type"] for m in metrics}),
    }
    if modality in _PIPELINE_TAG and ev.task == "classification":
        meta["pipeline_tag"] = _PIPELINE_TAG[modality]
    meta["model-index"] = [
        {
            "name": f.name,
            "results": [
                {
                    "task": {"type": meta.get("pipeline_tag", f"{modality}-{ev.task}"), "name": ev.task.capitalize()},
                    "dataset": {
                        "name": dataset,
                        "type": str(ev.data.get("source")),
                        "split": ev.split,
                        "revision": str(ev.data.get("version")),
                    },
                    "metrics": metrics,
                }
            ],
        }
    ]
    return meta


def _dataset_name(f: CardFacts) -> str:
    """The public dataset's name when `evaluate` matched the data to one (see `baselines.public_results`), else the
    source's own name."""
    if f.evaluation.baseline.public:
        return f.evaluation.baseline.public[0].dataset
    source = str(f.evaluation.data.get("source"))
    return Path(source).name or source


def _license(f: CardFacts) -> str:
    """The pretrained weights' license from the catalog; "other" (for the owner to set) for from-scratch models."""
    from ..knowledge import get_model

    name = f.config.catalog_model
    if _record(f).adaptation == "scratch":
        return "other"
    try:
        lic = get_model(name).license if name else "unknown"
    except UnknownNameError:  # not in the catalog (a model built outside it)
        lic = "unknown"
    return lic if lic and lic != "unknown" else "other"


# --------------------------------------------------------------------------------------------- the card


def render_card(f: CardFacts) -> str:
    """MODEL_CARD.md's text."""
    parts = ["---", yaml.safe_dump(front_matter(f), sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    parts.append(
        f"<!-- dlexpert: generated from evaluation.json sha256:{f.evaluation_sha256}; "
        "`dlexpert card --check` verifies this card against it -->"
    )
    parts += [f"# Model card: {f.name}", ""]
    parts.append(_summary(f))
    for section in (
        _details,
        _uses,
        _limitations,
        _how_to_load,
        _training,
        _evaluation,
        _ethics,
        _environment,
        _sources,
    ):
        parts += ["", section(f)]
    if f.notes:
        parts += ["", "## Notes on this card", "", *[f"- {n}" for n in f.notes]]
    front, body = parts[:4], parts[4:]  # the YAML front matter quotes its strings itself
    return "\n".join(front) + "\n" + inert_markdown("\n".join(body)).rstrip() + "\n"


def _summary(f: CardFacts) -> str:
    ev = f.evaluation
    m = ev.metrics
    task = f.task.get("task") or {}
    what = task.get("specificTask") or f"{ev.data.get('modality')} {ev.task}"
    line = f"A {_record(f).name} model for {what}, trained and evaluated by dlexpert."
    if "accuracy" in m:
        line += f" Test accuracy **{_pct(m['accuracy'])}** on {ev.n_samples} held-out samples"
        if ev.baseline.linear is not None:
            line += f" (linear baseline {_pct(ev.baseline.linear.metrics.get('accuracy'))})"
        line += "."
    elif "mae" in m:
        line += (f" Test MAE **{_num(m['mae'])}**, RMSE {_num(m.get('rmse'))}, R2 {_num(m.get('r2'), '.3f')} on "
                 f"{ev.n_samples} samples")  # fmt: skip
        if ev.baseline.linear is not None:
            line += f" ({ev.baseline.linear.model}: R2 {_num(ev.baseline.linear.metrics.get('r2'), '.3f')})"
        line += "."
    elif "miou" in m:
        line += (f" Test mIoU **{_num(m['miou'], '.3f')}** (mean foreground Dice {_num(m.get('dice'), '.3f')}, pixel "
                 f"accuracy {_pct(m.get('pixel_accuracy'))}) on {ev.n_samples} held-out images")  # fmt: skip
        if ev.baseline.linear is not None:
            line += f" ({ev.baseline.linear.model}: {_num(ev.baseline.linear.metrics.get('miou'), '.3f')})"
        line += "."
    elif "map" in m:
        line += (f" Test box mAP@[.5:.95] **{_num(m['map'], '.3f')}** (mAP50 {_num(m.get('map50'), '.3f')}, mAP75 "
                 f"{_num(m.get('map75'), '.3f')}) on {ev.n_samples} held-out images.")  # fmt: skip
    d = ev.deliverable
    if d is not None:
        line += (
            f"\n\n**Deliverable: the {d.model}** (`{d.path}`), not the network: {d.metric} "
            f"{_score(d.metric, d.val_accuracy)} vs {_score(d.metric, d.model_val_accuracy)} on the validation split, "
            f"{_score(d.metric, d.test_accuracy)} on the test split. "
            "Seed Step 4: a network that loses to the simple baseline where models are chosen has not earned its cost; "
            "the network stays in `checkpoints/` for comparison."
        )
    choice = ev.baseline.choice
    if choice is not None:
        line += f"\n\nHow it was chosen: {choice.rule}."
        if choice.baseline_rule:
            line += f" Which baseline: {choice.baseline_rule}."
    return line


def _details(f: CardFacts) -> str:
    ev, cfg, record = f.evaluation, f.config, _record(f)
    info = ev.model_info
    rows = [
        ["Architecture", f"{record.name} ({info.get('class', '-')})"],
        ["Model record", ", ".join(f"{k}={v}" for k, v in record.model_dump(exclude_defaults=True).items())],
        ["Catalog entry", cfg.catalog_model or "-"],
        ["Adaptation", record.adaptation],
        ["Parameters", f"{info['n_parameters']:,} ({info['n_trainable']:,} trainable)" if info else "-"],
        ["Weights file", f"{ev.weights} ({_mb(info.get('weights_bytes'))})"],
        ["Version (weights content hash)", f"`{ev.model_version}`"],
        ["Plan's architecture", (f.plan.modelDesign.architecture if f.plan else None) or "-"],
        ["License", f"{_license(f)} (set by the model owner; pretrained weights keep their own license)"],
    ]
    return "## Model details\n\n" + md_table(["Property", "Value"], rows)


def _uses(f: CardFacts) -> str:
    ev = f.evaluation
    task = f.task.get("task") or {}
    classes = ev.data.get("classes") or []
    shape = f.config.input_shape()
    lines = ["## Uses", "", "### Intended use", ""]
    lines.append(
        f"- Task: {task.get('type', ev.task)} ({task.get('domain', ev.data.get('modality'))})"
        + (f", {task['specificTask']}" if task.get("specificTask") else "")
        + "."
    )
    lines.append(
        f"- Input: {ev.data.get('modality')} samples"
        + (f" of shape {tuple(shape)}" if shape else "")
        + ", preprocessed as in training (the training split's mean and std)."
    )
    if classes:
        shown = ", ".join(map(str, classes[:20])) + (f", ... ({len(classes)} in all)" if len(classes) > 20 else "")
        per = {"segmentation": " per pixel (a class map the size of the input)",
               "detection": " per box (boxes with scores, in input pixels)"}.get(ev.task, "")  # fmt: skip
        lines.append(f"- Output: one of {len(classes)} classes{per}: {shown}.")
    cons = f.task.get("constraints") or {}
    for key, label in (
        ("latencyRequirement", "Latency requirement"),
        ("deploymentTarget", "Deployment target"),
        ("computeResources", "Compute"),
    ):
        if cons.get(key):
            lines.append(f"- {label}: {cons[key]}.")
    lines += ["", "### Out-of-scope use", ""]
    lines.append(
        f"- Inputs from another source or distribution than `{ev.data.get('source')}`: the figures below "
        "hold only for data like the test split."
    )
    if classes:
        lines.append(
            "- Any class outside the list above: the model always answers with one of its classes, "
            "however unlike them the input is."
        )
    lines.append("- Decisions about people without human review (see Ethical considerations).")
    return "\n".join(lines)


def _limitations(f: CardFacts) -> str:
    """Limitations from the diagnosis findings, the failure analysis, calibration, data problems and the target."""
    ev = f.evaluation
    items: list[str] = []
    exp = (ev.expected or {}).get("target")
    if exp and exp.get("met") is False:
        items.append(f"Misses the task's target {exp['text']!r}: measured {exp['metric']} {_num(exp['measured'])}.")
    linear = ev.baseline.linear
    key, _ = headline_metric(ev.task)
    model_acc, linear_acc = ev.metrics.get(key), linear.metrics.get(key) if linear else None
    if linear is not None and model_acc is not None and linear_acc is not None:
        if model_acc < linear_acc:
            items.append(
                f"Does not beat the linear baseline: {_score(key, model_acc)} vs {_score(key, linear_acc)} for "
                f"{linear.model}; use the baseline, or train longer (see the diagnosis)."
            )
        elif model_acc == linear_acc:
            items.append(
                f"Ties with the linear baseline ({_score(key, model_acc)}, {linear.model}): on this test set the "
                "simpler model is as accurate."
            )
    judged = (ev.latency or {}).get("plan_expected") or {}
    if judged.get("within_range") is False:
        items.append(
            f"The plan's latency estimate ({_num(judged['ms'])} ms at batch {judged.get('batch_size')}) is off by "
            f"{judged['measured_over_expected']:.3g}x against the measured eager p50 "
            f"({_num(judged['measured_eager_p50_ms'])} ms): use the measured figures, not the plan's, for this model."
        )
    if f.diagnosis is not None:
        for fd in f.diagnosis.findings:
            items.append(f"Training diagnosis, {fd.issue} ({fd.severity}): {fd.diagnosis}")
    for a in f.actions:
        items.append(f"Auto-remedy during training: {a.get('action', a)}")
    if ev.calibration is not None and not ev.calibration.verdict.startswith("well calibrated"):
        items.append(f"Calibration: {ev.calibration.verdict}.")
    if ev.failures is not None:
        fl = ev.failures
        if fl.error_prone_classes:
            items.append(f"Error-prone classes: {'; '.join(fl.error_prone_classes)}.")
        if fl.confused_pairs:
            pairs = ", ".join(
                f"{p.true} -> {p.predicted} ({p.count}, {100 * p.rate:.1f}% of {p.true})" for p in fl.confused_pairs[:3]
            )
            items.append(f"Most confused pairs: {pairs}.")
        if fl.confidently_wrong:
            top = fl.confidently_wrong[0]
            items.append(
                f"{fl.n_errors} test errors; the most confident was {top.true} predicted as {top.predicted} "
                f"with probability {top.confidence:.3f}"
                + (": a confident answer can still be wrong." if top.confidence >= 0.9 else ".")
            )
    for p in (f.profile.problems if f.profile else [])[:5]:
        items.append(f"Data: {p}")
    for w in ev.warnings:
        items.append(f"Warning recorded with the evaluation: {w}")
    n_test = ev.n_samples
    if n_test and "accuracy" in ev.metrics:
        lo, hi = wilson_interval(ev.metrics["accuracy"], n_test)
        items.append(
            f"Sampling error: with {n_test} test samples, the accuracy's 95% interval is {100 * lo:.1f}-"
            f"{100 * hi:.1f}% (Wilson score interval)."
        )
    lines = ["## Bias, risks and limitations", ""]
    lines += [f"- {i}" for i in items] or ["- None measured."]
    return "\n".join(lines)


def _record(f: CardFacts) -> ModelRecord:
    """The model the run trained, as its config records it (`models.build` makes it again)."""
    return f.config.record(source=f"{f.run_dir}/{RunDir.CONFIG}")


def _predict_lines(task: str) -> list[str]:
    """The card's prediction snippet for the task's output."""
    if task == "detection":
        return ["    detections = run.model(list(x))  # per image: boxes (xyxy px), scores, labels 1..K (0 = none)",
                "print([[run.classes[int(k) - 1] for k in d['labels']] for d in detections])"]  # fmt: skip
    lines = ["    probabilities = run.model(x).softmax(dim=1)"]
    if task == "segmentation":
        return [*lines, "class_map = probabilities.argmax(dim=1)  # (batch, H, W) class indices into run.classes"]
    return [*lines, "print([run.classes[i] for i in probabilities.argmax(dim=1)])"]


def _how_to_load(f: CardFacts) -> str:
    record = _record(f)
    ev = f.evaluation
    d = ev.deliverable
    lines: list[str] = []
    if d is not None:
        lines += ["## How to load and run the deliverable", "", f"The {d.model} ({d.format}), reading {d.inputs}:", "",
                  "```python", d.load, "```", ""]  # fmt: skip
    lines += [
        "## How to load and run the model",
        "",
        "With dlexpert (rebuilds the architecture from config.yaml and loads the weights; no pickle):",
        "",
        "```python",
        "import torch",
        "from dlexpert.runs import load_run",
        "",
        f'run = load_run("{f.name}")  # from the folder that holds the run',
        "x = run.example_input(batch_size=4)  # real test inputs",
        "with torch.inference_mode():",
        *_predict_lines(ev.task),
        "```",
    ]
    if record.library == "dlexpert":
        lines += [
            "",
            "With plain PyTorch and safetensors:",
            "",
            "```python",
            "from safetensors.torch import load_file",
            "from dlexpert.models import build",
            "from dlexpert.schema import ModelRecord",
            "",
            f"model = build(ModelRecord(**{record.model_dump(exclude_defaults=True)!r}))",
            f'model.load_state_dict(load_file("{f.name}/{f.evaluation.weights}"))',
            "model.eval()",
            "```",
        ]
    onnx = [v for v in f.variants if any(x.endswith(".onnx") for x in v["files"])]
    if onnx:
        v = onnx[0]
        file = next(x for x in v["files"] if x.endswith(".onnx"))
        lines += [
            "",
            "With ONNX Runtime (an exported variant):",
            "",
            "```python",
            "import onnxruntime as ort",
            "",
            f'session = ort.InferenceSession("{f.name}/variants/{v["name"]}/{file}")',
            "logits = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]",
            "```",
        ]
    lines += [
        "",
        "Inputs must be preprocessed as in training: `run.datasets()` applies the training split's normalisation.",
    ]
    return "\n".join(lines)


def _training(f: CardFacts) -> str:
    ev, cfg, tr = f.evaluation, f.config, f.training
    data = cfg.data
    lines = ["## Training details", "", "### Training data", ""]
    lines.append(f"- Source: `{data.source}`; data version (content hash) `{data.version}`.")
    lines.append(
        f"- Split: {ev.data.get('n_train')} train / {ev.data.get('n_val')} validation / {ev.n_samples} "
        f"test ({_split_text(ev.data.get('split') or data.split)})."
    )
    from ..data.dense import DenseProfile
    from ..data.forecast.profile import ForecastProfile

    profile, counts, layout = f.profile, {}, None
    if isinstance(profile, DenseProfile):
        counts = profile.objects_per_class
    elif profile is not None and not isinstance(profile, ForecastProfile):
        counts, layout = profile.class_counts, profile.layout
    what = {"detection": "Boxes per class", "segmentation": "Images showing each class"}.get(ev.task, "Class counts")
    if counts:
        lo, hi = min(counts, key=lambda c: counts[c]), max(counts, key=lambda c: counts[c])
        if counts[lo] == counts[hi]:
            lines.append(f"- {what} (all splits): {counts[lo]} per class (balanced).")
        else:
            lines.append(
                f"- {what} (all splits): {counts[lo]} ({lo}) to {counts[hi]} ({hi}), max/min "
                f"{counts[hi] / max(1, counts[lo]):.2f}."
            )
    if layout and layout.get("kind") == "encoded":
        from ..data._tabular import describe_encoding

        encoded = "; ".join(f"`{_md_escape(c)}` {describe_encoding(e)}" for c, e in layout["encoding"].items())
        lines.append(f"- Columns encoded before training (`dlexpert.data.load_data` does the same): {encoded}.")
    t = cfg.train
    lines += ["", "### Training procedure", ""]
    rows: list[list[Any]] = [
        ["Recipe", cfg.recipe or "-"],
        ["Optimizer", f"{t.get('optimizer')} (lr {t.get('lr')}, weight decay {t.get('weight_decay')})"],
        ["Schedule", f"{t.get('scheduler')}, {t.get('epochs')} epochs, warmup {t.get('warmup_epochs')} epochs"],
        ["Batch", f"{t.get('batch_size')} x {t.get('accumulation')} accumulation"],
        [
            "Regularisation",
            f"label smoothing {t.get('label_smoothing')}, EMA {t.get('ema')}, gradient clipping {t.get('grad_clip')}",
        ],
        ["Precision / strategy", f"{t.get('mixed_precision')} / {t.get('strategy')}"],
        ["Seed", t.get("seed")],
    ]
    if tr:
        rows += [
            ["Epochs run", tr.get("epochs_run")],
            ["Best checkpoint", f"epoch {tr.get('best_epoch')} ({tr.get('best_metric')} {_num(tr.get('best_value'))})"],
            [
                "Training wall time",
                f"{_num(tr.get('wall_time_s'), '.1f')} s "
                f"({_num(tr.get('samples_per_sec_median'), '.0f')} samples/s median)",
            ],
        ]
    lines.append(md_table(["Setting", "Value"], rows))
    adjusted = f.plan.decisions.notes if f.plan and f.plan.decisions else []
    if adjusted:
        lines += ["", "Adjusted for this data after planning:", "", *[f"- {_md_escape(n)}" for n in adjusted]]
    lines += [
        "",
        "<details><summary>Full resolved config (config.yaml)</summary>",
        "",
        "```yaml",
        yaml.safe_dump(cfg.model_dump(mode="json", exclude_unset=True), sort_keys=False).rstrip(),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines)


def wilson_interval(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927): unlike the normal approximation it stays inside [0, 1]
    and does not collapse to zero width at 0% or 100%.

    Example:
        >>> [round(v, 3) for v in wilson_interval(1.0, 60)]
        [0.94, 1.0]
    """
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _result_rows() -> list[tuple[str, str]]:
    """(metric key, display name) for the results table: the model-index metrics, then the rest."""
    return [(k, n) for k, (_t, n) in MODEL_INDEX_METRICS.items()] + [
        ("precision_micro", "Micro precision (= accuracy)"),
        ("f1_weighted", "Weighted F1"),
        ("auroc_ovr_weighted", "AUROC (one-vs-rest, weighted)"),
        ("log_loss", "Log loss (nats)"),
        ("r2", "R²"),
    ]


def _variant_figures(report: dict[str, Any]) -> list[str]:
    """Accuracy and batch-1 latency from a variant's own report.json (written by `compress`), with the changes."""
    acc, drop = report.get("accuracy"), report.get("accuracy_drop")
    acc_text = "-" if acc is None else f"{_pct(acc)}" + (f" ({-drop:+.2f} pts)" if drop is not None else "")
    p50, speedup = report.get("latency_ms_p50"), report.get("speedup_p50")
    lat_text = "-" if p50 is None else f"{_num(p50)}" + (f" ({speedup:.2f}x)" if speedup else "")
    return [acc_text, lat_text]


def _split_text(split: dict[str, Any]) -> str:
    test = split.get("test")
    how = {"predefined": "the source's own test split", "stratified split": "a seeded stratified test split"}
    return f"{how.get(str(test), f'test from {test}')}, seed {split.get('seed')}"


def _evaluation(f: CardFacts) -> str:
    ev = f.evaluation
    m = ev.metrics
    lines = [
        "## Evaluation",
        "",
        f"On {ev.split} ({ev.n_samples} samples, data version `{ev.data.get('version')}`),"
        f" weights `{ev.model_version}`.",
        "",
        "### Results",
        "",
    ]
    rows = [[n, _pct(m[k]) if k in PERCENT_DISPLAY else _num(m[k], ".4f")] for k, n in _result_rows() if k in m]
    lines.append(md_table(["Metric", "Value"], rows))
    exp = ev.expected or {}
    if exp.get("plan_accuracy"):
        lines += ["", f"The plan expected: {exp['plan_accuracy']}."]
    if exp.get("target"):
        t = exp["target"]
        verdict = {True: "met", False: "**not met**", None: "not measurable here"}[t.get("met")]
        lines.append(f"The task's target {t['text']!r}: {verdict} (measured {t['metric']} {_num(t['measured'])}).")
    b = ev.baseline
    lines += ["", "### Baselines and public benchmarks", ""]
    val = lambda v: _score(b.metric, v) if v is not None else "-"  # noqa: E731
    key, name = headline_metric(ev.task)
    brow = [["this model", _score(key, ev.metrics.get(key)), val(b.model_val_accuracy), "the trained network"]]
    brow += [[x.model, _score(key, x.metrics.get(key)), val(x.val_accuracy), x.how]
             for x in (b.majority, b.linear, *b.strong) if x is not None]  # fmt: skip
    brow += [[f"published: {p.model}", f"{p.value:g}%", "-", p.source] for p in b.public]
    val_name = "R2" if b.metric == "r2" else "accuracy"
    lines.append(md_table(["Model", f"Test {name}", f"Validation {val_name}", "How / source"], brow))
    lines += ["", *[f"- {s}" for s in [*b.summary, *b.skipped]]]
    dense = _DENSE_PER_CLASS.get(ev.task)
    if ev.per_class and dense is not None:
        title, unit, score, prefix = dense
        lines += ["", f"### Per class ({title})", ""]
        rows = [[c.name, str(c.support), _num(m.get(f"{prefix}{c.name}"), ".3f"), _num(c.precision, ".3f"),
                 _num(c.recall, ".3f"), _num(c.f1, ".3f")] for c in ev.per_class]  # fmt: skip
        lines.append(md_table(["Class", unit, score, "Precision", "Recall", "F1"], rows))
    elif ev.per_class:
        lines += ["", "### Per class", ""]
        lines.append(
            md_table(
                ["Class", "Support", "Precision", "Recall", "F1", "AUROC"],
                [
                    [
                        c.name,
                        c.support,
                        _num(c.precision, ".3f"),
                        _num(c.recall, ".3f"),
                        _num(c.f1, ".3f"),
                        _num(c.auroc, ".4f"),
                    ]
                    for c in ev.per_class
                ],
            )
        )
    if ev.calibration is not None:
        lines += [
            "",
            "### Calibration",
            "",
            f"{ev.calibration.verdict}. ECE {ev.calibration.ece:.4f}, MCE "
            f"{ev.calibration.mce:.4f} over {ev.calibration.n_bins} bins (Guo et al. 2017, arXiv 1706.04599).",
        ]
    if ev.failures is not None and ev.failures.confidently_wrong:
        lines += [
            "",
            "### Failure analysis",
            "",
            f"{ev.failures.n_errors} of {ev.n_samples} test samples are wrong. The most confidently wrong:",
            "",
        ]
        lines.append(
            md_table(
                ["#", "Sample", "True", "Predicted", "Confidence", "P(true)"],
                [
                    [w.index, w.id or "-", w.true, w.predicted, f"{w.confidence:.3f}", f"{w.true_probability:.3f}"]
                    for w in ev.failures.confidently_wrong[:8]
                ],
            )
        )
    if ev.latency:
        lines += ["", "### Latency", ""]
        lat = ev.latency
        lines.append(
            md_table(
                ["Backend", "Batch", "p50 ms", "p95 ms", "Samples/s"],
                [
                    [
                        r["backend"],
                        r["batch_size"],
                        _num(r.get("latency_ms_p50")),
                        _num(r.get("latency_ms_p95")),
                        _num(r.get("throughput"), ".4g"),
                    ]
                    for r in lat["rows"]
                ],
            )
        )
        judged = lat.get("plan_expected") or {}
        if judged.get("measured_over_expected") is not None:
            where = "inside" if judged.get("within_range") else "outside"
            lines.append(
                f"\nThe plan expected {_num(judged['ms'])} ms at batch {judged.get('batch_size')}; the measured eager "
                f"p50 is {judged['measured_over_expected']:.3g}x that, {where} the plan's range. The plan's estimate "
                f"and its basis: {judged.get('text')}."
            )
        machine = lat.get("machine") or {}
        lines.append(
            f"\nMeasured by {lat.get('measured_by')} with {lat.get('threads')} thread(s) on "
            f"{machine.get('processor', '-')} ({machine.get('cpu_count', '-')} CPUs), load average "
            f"{machine.get('load_average')}."
        )
    bench_rows = [r for r in (f.bench or {}).get("results") or [] if r.get("latency_ms_p50") is not None]
    if bench_rows:
        bench = f.bench or {}
        lines += ["", f"Every backend, from `dlexpert bench` (bench.json, {bench.get('threads')} thread(s)):", ""]
        lines.append(
            md_table(
                ["Backend", "Batch", "p50 ms", "p95 ms", "Samples/s", "max abs diff vs eager"],
                [
                    [r["backend"], r["batch_size"], _num(r["latency_ms_p50"]), _num(r.get("latency_ms_p95")),
                     _num(r.get("throughput"), ".4g"), _num(r.get("max_abs_diff"), ".2g")]
                    for r in bench_rows
                ],
            )
        )  # fmt: skip
        if bench.get("fastest_meeting_requirement"):
            lines.append(f"\nFastest backend meeting the latency requirement: {bench['fastest_meeting_requirement']}.")
    if f.variants:
        lines += ["", "### Variants", ""]
        lines.append(
            md_table(
                ["Variant", "Files", "Size", "Accuracy (change)", "p50 ms, batch 1 (speed-up)"],
                [
                    [v["name"], ", ".join(v["files"]) or "-", _mb(v["bytes"]), *_variant_figures(v["report"])]
                    for v in f.variants
                ],
            )
        )
    return "\n".join(lines)


def _ethics(f: CardFacts) -> str:
    lines = [
        "## Ethical considerations",
        "",
        "dlexpert cannot answer these from the data; the model's owner must, before the model is used:",
        "",
    ]
    for i, q in enumerate(ETHICS_PROMPTS, 1):
        lines += [f"{i}. {q}", f"   {_ANSWER}"]
    return "\n".join(lines)


def _environment(f: CardFacts) -> str:
    env = f.evaluation.environment or environment()
    versions = env.get("versions") or {}
    rows: list[list[Any]] = [
        ["Python", env.get("python")],
        ["Platform", env.get("platform")],
        [
            "Processor",
            f"{env.get('processor')} ({env.get('cpu_count')} CPUs, {env.get('torch_threads')} torch threads)",
        ],
        ["Accelerator", env.get("accelerator") or "none (CPU)"],
    ]
    rows += [[k, v] for k, v in versions.items()]
    return "## Environment (of the evaluation)\n\n" + md_table(["Component", "Version"], rows)


def _sources(f: CardFacts) -> str:
    cited = {p.source for p in f.evaluation.baseline.public}
    cited |= {
        "Mitchell et al. 2019, Model Cards for Model Reporting, arXiv 1810.03993",
        "Guo et al. 2017, On Calibration of Modern Neural Networks, arXiv 1706.04599 (ECE)",
    }
    from ..knowledge import get_model, list_recipes

    recipe = next((r for r in list_recipes() if r.name == f.config.recipe), None)
    if recipe is not None:
        cited.add(f"Training recipe {recipe.name}: {recipe.source}")
    try:
        entry = get_model(str(f.config.catalog_model))
        cited.add(f"Model {entry.name}: {entry.source}")
    except UnknownNameError:  # a model outside the catalog
        pass
    return "## Sources\n\n" + "\n".join(f"- {s}" for s in sorted(cited))


# --------------------------------------------------------------------------------------------- write and verify


def write_model_card(
    run_dir: str | Path, *, html: bool = True, progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Write RUN_DIR/MODEL_CARD.md (and report.html) atomically; returns the paths written."""
    f = gather_facts(run_dir, progress=progress)
    paths = [atomic_write_text(f.run_dir / RunDir.CARD, render_card(f))]
    if html:
        from .html import write_report_html

        paths.append(write_report_html(f, render_card=render_card))
    return paths


_HASH_RE = re.compile(r"evaluation\.json sha256:([0-9a-f]{64})")


def verify_card(run_dir: str | Path) -> list[str]:
    """Where MODEL_CARD.md disagrees with evaluation.json: its model-index values, the weights hash, or the
    evaluation it was generated from. An empty list means the card matches."""
    run_dir = Path(run_dir)
    card, ev_path = run_dir / RunDir.CARD, run_dir / RunDir.EVALUATION
    if not card.is_file():
        return [f"{card}: missing (write it with `dlexpert card {run_dir}`)"]
    evaluation = load_evaluation(run_dir)
    if evaluation is None:
        return [f"{ev_path}: missing or unreadable"]
    text = card.read_text(encoding="utf-8")
    problems = []
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        return [f"{card}: no YAML front matter"]
    meta = yaml.safe_load(text[4 : text.index("\n---\n", 4)]) or {}
    try:
        results = meta["model-index"][0]["results"][0]
        card_metrics = {m["name"]: m["value"] for m in results["metrics"]}
    except (KeyError, IndexError, TypeError):
        return [f"{card}: front matter has no model-index results"]
    for key, (_t, name) in MODEL_INDEX_METRICS.items():
        if key in evaluation.metrics and card_metrics.get(name) != evaluation.metrics[key]:
            problems.append(f"{name}: card {card_metrics.get(name)} != evaluation.json {evaluation.metrics[key]}")
    if evaluation.model_version not in text:
        problems.append(f"weights version {evaluation.model_version} (evaluation.json) is not in the card")
    found = _HASH_RE.search(text)
    current = file_sha256(ev_path)
    if not found or found.group(1) != current:
        problems.append(
            f"the card was generated from another evaluation.json (its sha256 differs); rerun `dlexpert card {run_dir}`"
        )
    weights = run_dir / evaluation.weights
    if weights.is_file() and f"sha256:{file_sha256(weights)}" != evaluation.model_version:
        problems.append(f"{evaluation.weights} changed since the evaluation; rerun `dlexpert evaluate {run_dir}`")
    return problems
