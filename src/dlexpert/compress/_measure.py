"""Measuring a model the same way for the baseline and every variant: test accuracy, batch-1 latency, throughput.

Every number in a compression report comes from here, so the baseline (eager PyTorch, fp32) and the variants are
timed with the same inputs (real test samples), the same thread count and the same timer
(`dlexpert.deploy.measure_latency`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..errors import InvalidInputError
from ..schema.decisions import record_from_config
from ..schema.evaluation import headline_metric
from .report import Measurement

INPUT_POOL = 256  # test inputs kept for timing; larger batches repeat them
# a batch of inputs -> logits (tensor or numpy array), or a detector's {boxes, scores, labels} per image
Predict = Callable[[torch.Tensor], Any]


@dataclass(frozen=True)
class MeasureSettings:
    """How long to time each model. Batch-1 latency is timed in `rounds` rounds of `iters` calls and the quietest
    round (lowest median) is reported, as `timeit` reports its best repeat: on a shared CPU the other rounds time the
    neighbours' bursts as much as the model. `max_time_s` bounds a round of a large model."""

    warmup: int = 10
    iters: int = 50
    rounds: int = 5
    max_time_s: float = 1.0
    batch_sizes: tuple[int, ...] = (1, 8, 32, 128)  # throughput is reported at the fastest of these
    throughput_iters: int = 10
    throughput_max_time_s: float = 1.0
    eval_batch_size: int = 256


@dataclass
class Subject:
    """What `compress` works on: a trained classifier in eval mode on the CPU, its data, and how to retrain it.

    A run directory gives all of it (`subject_from_run`); the benchmark builds one by hand for a torchvision model.
    `rebuild` is what `dlexpert.runs.rebuild_model` needs to build the architecture again (`{"model_record": {...}}`,
    see `schema.decisions.ModelRecord`); `train_cfg` is the run's resolved `TrainConfig` (fine-tuning and
    distillation start from its batch size and learning rate).
    """

    model: nn.Module
    train_set: Dataset
    val_set: Dataset
    test_set: Dataset
    rebuild: dict[str, Any]
    train_cfg: Any  # dlexpert.engine.TrainConfig
    baseline_size_bytes: int
    modality: str = "tabular"
    task: str = "classification"  # segmentation / detection: the score is the test split's mIoU / mAP
    name: str = "model"
    latency_budget_ms: float | None = None  # the plan's constraints, when the task gave them
    size_limit_mb: float | None = None
    recommendation: str | None = None  # plan.json engineeringPractice.modelCompression, as text
    _pool: torch.Tensor | None = field(default=None, repr=False)

    @property
    def score_name(self) -> str:
        """What compress measures on the test split: accuracy, mIoU (segmentation) or mAP (detection)."""
        return headline_metric(self.task)[1]

    @property
    def model_config(self) -> dict[str, Any]:
        """The model as `create_model` keyword arguments (name included); a pretrained one is named "pretrained"."""
        record = record_from_config(self.rebuild)
        if record.library != "dlexpert":
            return {"name": "pretrained", "n_classes": record.n_classes, "input_shape": record.input_shape}
        return {"name": record.name, "input_shape": record.input_shape, "n_classes": record.n_classes,
                "width": record.width, "depth": record.depth, "dropout": record.dropout, **record.options}  # fmt: skip

    def inputs(self, n: int) -> torch.Tensor:
        """The first `n` test inputs as one batch (repeated when the split is smaller): what every model is timed on."""
        if self._pool is None:
            k = min(len(self.test_set), INPUT_POOL)  # type: ignore[arg-type]
            xs = [self.test_set[i][0] for i in range(k)]
            if isinstance(xs[0], dict):
                raise InvalidInputError(
                    f"{self.name}: reads tokenized text (a dict of tensors); compress handles models with tensor "
                    "inputs (images, signals, tables, sentence embeddings)"
                )
            self._pool = torch.stack([torch.as_tensor(x) for x in xs]).float()
        reps = -(-n // len(self._pool))
        return self._pool.repeat(reps, *([1] * (self._pool.dim() - 1)))[:n].contiguous()


def torch_predict(model: nn.Module, dtype: torch.dtype | None = None) -> Predict:
    """Eager PyTorch in inference mode; `dtype` casts the inputs (the model already holds weights of that dtype)."""
    model.eval()

    def predict(x: torch.Tensor) -> Any:
        with torch.inference_mode():
            out = model(x if dtype is None else x.to(dtype))
        return out if isinstance(out, list) else out.float()  # a detector returns one dict per image

    return predict


def onnx_predict(path: str | Path) -> Predict:
    """ONNX Runtime on the CPU with as many intra-op threads as PyTorch uses, so the comparison is like for like; a
    detector's graph (`deploy.detector.DetectorGraph`) runs image by image."""
    from ..deploy._ort import file_runner

    return file_runner(path, threads=torch.get_num_threads())


def test_score(predict: Predict, dataset: Dataset, *, batch_size: int = 256, task: str = "classification") -> float:
    """Top-1 accuracy of `predict` over `dataset` (the run's test split), in [0, 1]; for segmentation, the split's
    mean IoU (report.dense_metrics, void pixels not scored); for detection, its COCO mAP@[.5:.95]; for regression,
    its R^2 (1 - squared error over the targets' variance)."""
    if task == "detection":
        return _test_map(predict, dataset, batch_size=batch_size)
    if task == "regression":
        return _test_r2(predict, dataset, batch_size=batch_size)
    hits = n = n_classes = 0
    masks: list[torch.Tensor] = []
    truths: list[torch.Tensor] = []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        logits = torch.as_tensor(predict(x.float()))
        predicted, n_classes = logits.argmax(dim=1), logits.shape[1]
        if task == "segmentation":
            masks.append(predicted)
            truths.append(torch.as_tensor(y))
        else:
            hits += int((predicted == torch.as_tensor(y).long()).sum())
        n += len(y)
    if n == 0:
        raise InvalidInputError("the test split is empty; compress measures its score on it")
    if task == "segmentation":
        from ..report.dense_metrics import segmentation_metrics

        miou = segmentation_metrics(torch.cat(masks), torch.cat(truths), n_classes)["miou"]
        return float(miou)  # type: ignore[arg-type]
    return hits / n


def _test_r2(predict: Predict, dataset: Dataset, *, batch_size: int) -> float:
    """R^2 of a regressor's `predict` over `dataset`, as `report.metrics.regression_metrics` scores it."""
    from ..report.metrics import regression_metrics

    preds, targets = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        preds.append(torch.as_tensor(predict(x.float())).float().reshape(-1))
        targets.append(torch.as_tensor(y).float().reshape(-1))
    if not targets:
        raise InvalidInputError("the test split is empty; compress measures its score on it")
    metrics = regression_metrics(torch.cat(targets).numpy(), torch.cat(preds).numpy())
    if "r2" not in metrics:
        raise InvalidInputError("the test split's targets are all equal; R2 is not defined on it")
    return metrics["r2"]


def _test_map(predict: Predict, dataset: Dataset, *, batch_size: int) -> float:
    """COCO mAP@[.5:.95] of a detector's `predict` over `dataset`'s (image, target) pairs (labels 1..K)."""
    from ..data.dense._torch import detection_collate
    from ..engine.loop import detection_map

    predictions: list[dict[str, torch.Tensor]] = []
    targets: list[dict[str, torch.Tensor]] = []
    for images, batch_targets in DataLoader(dataset, batch_size=batch_size, collate_fn=detection_collate):
        predictions += predict(torch.stack(images))
        targets += batch_targets
    if not targets:
        raise InvalidInputError("the test split is empty; compress measures its score on it")
    return detection_map(predictions, targets)["map"]


def measure(
    predict: Predict,
    subject: Subject,
    *,
    size_bytes: int,
    n_params: int | None,
    settings: MeasureSettings,
    against: Predict | None = None,
) -> Measurement:
    """Accuracy on the test split, batch-1 latency (p50/p95) and the best throughput over `settings.batch_sizes`.

    With `against` (the baseline), its batch-1 latency is timed in rounds interleaved with this model's, so the
    speed-up compares two models timed under the same load (a busy machine drifts over a minute of compressing).
    """
    from ..deploy import measure_latency

    acc = test_score(predict, subject.test_set, batch_size=settings.eval_batch_size, task=subject.task)
    x1 = subject.inputs(1)
    mine, theirs = [], []
    for r in range(max(1, settings.rounds)):
        warmup = settings.warmup if r == 0 else 2
        if against is not None:
            theirs.append(measure_latency(against, x1, warmup=warmup, iters=settings.iters,
                                          max_time_s=settings.max_time_s))  # fmt: skip
        mine.append(measure_latency(predict, x1, warmup=warmup, iters=settings.iters, max_time_s=settings.max_time_s))
    lat = min(mine, key=lambda d: d["p50_ms"])
    base = min(theirs, key=lambda d: d["p50_ms"]) if theirs else None
    best_bs, best_tp = 1, 1000.0 / max(lat["p50_ms"], 1e-9)
    for bs in settings.batch_sizes:
        if bs == 1:
            continue
        t = measure_latency(predict, subject.inputs(bs), warmup=2, iters=settings.throughput_iters,
                            max_time_s=settings.throughput_max_time_s)  # fmt: skip
        tp = bs * 1000.0 / max(t["p50_ms"], 1e-9)
        if tp > best_tp:
            best_bs, best_tp = bs, tp
    return Measurement(
        size_bytes=int(size_bytes), accuracy=acc, latency_ms_p50=_r(lat["p50_ms"]), latency_ms_p95=_r(lat["p95_ms"]),
        throughput_samples_per_s=round(best_tp, 1), throughput_batch_size=best_bs, n_params=n_params,
        paired_baseline_ms_p50=_r(base["p50_ms"]) if base else None,
        paired_baseline_ms_p95=_r(base["p95_ms"]) if base else None,
    )  # fmt: skip


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def state_for_saving(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as safetensors takes it: detached, contiguous, no shared storage (tied weights are copied)."""
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def safetensors_size(model: nn.Module) -> int:
    """Bytes of the model's weights written as safetensors (the format of the baseline's best.safetensors)."""
    from safetensors.torch import save

    return len(save(state_for_saving(model)))


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _r(v: float) -> float:
    return round(float(v), 4)
