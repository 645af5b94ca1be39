"""`evaluate(run dir, test data) -> Evaluation`: seed Step 7's validation, on the run's best weights.

It reloads the run (`runs.load_run`), predicts the test split (or a test set given with `data`), and writes
RUN_DIR/evaluation.json with: the task's metrics (`report.metrics`), the majority and linear baselines and the
published figures for a known dataset (`report.baselines`), the failure analysis (`report.failures`), calibration,
latency from `bench`'s eager path, and the plan's expectation and the task's target beside what was measured.
Figures go to RUN_DIR/figures/.

Example:
    >>> ev = evaluate_run("runs/demo-mnist1d", latency=False)  # doctest: +SKIP
    >>> round(ev.metrics["accuracy"], 3), ev.baseline.linear.metrics["accuracy"]  # doctest: +SKIP
    (0.986, 0.321)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir, best_epoch
from ..schema.evaluation import Baselines, Deliverable, Evaluation
from .baselines import fit_linear_baseline, majority_baseline, public_results, score_linear, summarize
from .deliverable import choose, ship_baseline
from .failures import analyze_failures, plot_failure_grid
from .metrics import classification_metrics, regression_metrics
from .regressors import regression_step4
from .strong import (
    CV_MAX_SAMPLES,
    CV_MAX_SECONDS,
    cv_fold_scores,
    cv_seconds,
    fit_strong_baselines,
    preference_order,
    resampling,
    score_fit,
)

__all__ = ["environment", "evaluate_run", "file_sha256", "load_evaluation", "predict"]

# `bench`'s batch sizes for the evaluation's latency: one sample (online serving) and a batch (offline scoring).
LATENCY_BATCH_SIZES = (1, 32)
# One intra-op thread: a per-request serving setting, and stable on a shared machine, where several threads collapse
# when another process is busy (seen here: 0.7 ms p50 alone, 200 ms beside a test run). `dlexpert bench --threads N`
# measures other counts.
LATENCY_THREADS = 1
# The task's `accuracyTarget` metric (schema._quantity) -> the evaluation metric it is judged on.
TARGET_METRIC = {
    "accuracy": "accuracy",
    "top5": "top5_accuracy",
    "macro-f1": "f1_macro",
    "micro-f1": "f1_micro",
    "weighted-f1": "f1_weighted",
    "f1": "f1_macro",
    "auroc": "auroc_ovr_macro",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "mape": "mape",
    "rmse": "rmse",
    "mae": "mae",
}


# Metrics `evaluate` reports in percent while a parsed target holds a fraction ("MAPE < 8%" -> 0.08).
PERCENT_METRICS = {"mape": 100.0}


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def environment() -> dict[str, Any]:
    """Library versions and the machine, for reproducing a figure."""
    from importlib import metadata

    versions = {}
    for name in ("dlexpert", "torch", "torchvision", "timm", "transformers", "numpy", "scikit-learn", "onnxruntime"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
    }
    try:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        env["accelerator"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return env


def predict(model: Any, dataset: Any, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The model's outputs (N, C) and the labels (N,) over `dataset`, in order, without gradients."""
    import torch
    from torch.utils.data import DataLoader

    outs, ys = [], []
    model.eval()
    with torch.inference_mode():
        for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            out = model(x)
            out = getattr(out, "logits", out)  # transformers models return an output object
            outs.append(out.float().cpu())
            ys.append(torch.as_tensor(y).cpu())
    return torch.cat(outs).numpy(), torch.cat(ys).numpy()


def load_evaluation(run_dir: str | Path) -> Evaluation | None:
    """RUN_DIR/evaluation.json as an `Evaluation`, or None when there is none (or it is from an older version)."""
    run = RunDir(run_dir)
    if not run.has(RunDir.EVALUATION):
        return None
    try:
        return run.evaluation()
    except InvalidInputError:
        return None


def evaluate_run(
    run_dir: str | Path,
    *,
    data: str | None = None,
    latency: bool = True,
    figures: bool = True,
    notes: list[str] | None = None,
    preloaded: tuple[Any, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate the run's best weights on its test split, or on the test set `data`; write RUN_DIR/evaluation.json.

    `notes` are warnings from earlier stages to keep with the figures; `preloaded` = (splits, torch datasets) of
    the run's own data, when the caller has them already (`pipeline.run`), saves reading and encoding them again.
    Raises `InvalidInputError` (exit 2) for a folder that is not a trained run, missing data, or a test set with
    none of the trained classes.
    """
    from ..runs import load_run

    say = progress or (lambda _msg: None)
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    warnings: list[str] = list(notes or [])
    say("loading data")
    if preloaded is not None and data is None:
        splits, sets = preloaded
    else:
        splits = run.splits(test=data) if data else run.splits()
        # The loader's notes on the test data; its "test classes absent from training" is said below, with counts.
        warnings += [w for w in splits.warnings if w.startswith(("data version", "test")) and "absent" not in w]
        sets = run.datasets(splits=splits)
    trained = run.classes or list(splits.classes)
    if list(splits.classes[: len(trained)]) != trained:
        raise InvalidInputError(
            f"{run.run_dir}/{RunDir.CONFIG}: the data's classes {list(splits.classes)[:10]} do not start with the "
            f"{len(trained)} classes the model was trained on ({trained[:10]}); the label order would not match"
        )
    fig_dir = run_dir / RunDir.FIGURES
    if run.task in ("segmentation", "detection"):
        from .evaluate_dense import evaluate_detection, evaluate_segmentation

        evaluate_dense = evaluate_segmentation if run.task == "segmentation" else evaluate_detection
        metrics, dense_fields, written = evaluate_dense(
            run.model, splits, sets.test, fig_dir=fig_dir if figures else None, seed=run.config.seed, say=say
        )
        shown = {k: _rel(v, run_dir) for k, v in written.items()}
        if "failures" in shown:
            dense_fields["failures"].grid = shown["failures"]
        return _write_evaluation(run, run_dir, splits, data, metrics, len(splits.test), dense_fields, shown, warnings,
                                 latency=latency, say=say)  # fmt: skip
    say(f"predicting {len(sets.test)} test samples")
    outputs, y = predict(run.model, sets.test)
    n_out = outputs.shape[1] if outputs.ndim == 2 else 1
    keep = np.arange(len(y))
    if run.task == "classification":
        keep = _known_class_rows(y, trained, list(splits.classes), n_out, warnings)
    y_eval = y[keep]
    x_test = splits.x_test if data is None and len(keep) == len(y) else _take(splits.x_test, keep)
    ids = [splits.ids_test[i] for i in keep] if splits.ids_test else None

    figs: dict[str, str] = {}
    ev_fields: dict[str, Any] = {}
    if run.task == "classification":
        proba = _softmax(outputs[keep])
        cls = classification_metrics(y_eval, proba, trained)
        metrics = cls.metrics
        say("baselines")
        first = _first_model(run_dir)
        baselines, deliverable = step4(run, splits, sets, x_test=x_test, y_eval=y_eval, accuracy=metrics["accuracy"],
                                       first_model=first)  # fmt: skip
        ev_fields |= _what_ships(baselines, deliverable, first, warnings)
        failures = analyze_failures(y_eval, proba, trained, cls.confusion, ids=ids)
        if figures:
            from .figures import plot_confusion, plot_reliability

            fig_dir.mkdir(exist_ok=True)
            figs["reliability"] = _rel(plot_reliability(cls.calibration, fig_dir / "reliability.png"), run_dir)
            figs["confusion"] = _rel(plot_confusion(cls.confusion, fig_dir / "confusion.png"), run_dir)
            grid = plot_failure_grid(x_test, failures, splits.modality, fig_dir / "failures.png")
            if grid is not None:
                failures.grid = figs["failures"] = _rel(grid, run_dir)
        ev_fields |= {
            "per_class": cls.per_class,
            "confusion": cls.confusion,
            "calibration": cls.calibration,
            "failures": failures,
            "baseline": baselines,
        }
    else:
        metrics = regression_metrics(y_eval, outputs[keep])
        say("baselines")
        first = _first_model(run_dir)
        net_val = predict(run.model, sets.val)[0].reshape(-1) if len(sets.val) else np.zeros(0)
        baselines, deliverable = regression_step4(
            run, splits, net_val=net_val, settled_mse=settled_val_loss(RunDir(run_dir).epochs()), x_test=x_test,
            y_eval=y_eval, first_model=first,
        )  # fmt: skip
        ev_fields |= {"baseline": baselines, **_what_ships(baselines, deliverable, first, warnings)}

    return _write_evaluation(run, run_dir, splits, data, metrics, len(y_eval), ev_fields, figs, warnings,
                             latency=latency, say=say)  # fmt: skip


def _what_ships(
    baselines: Baselines, deliverable: Deliverable | None, first: str | None, warnings: list[str]
) -> dict[str, Any]:
    """Step 4's outcome said in the warnings: the baseline that ships (evaluation.json's `deliverable`), or the
    challenger network shipping instead of the plan's first model."""
    if deliverable is not None:
        warnings.append(deliverable.reason)
        return {"deliverable": deliverable}
    if baselines.choice is not None and first is not None:
        warnings.append(f"Step 4: the challenger network ships instead of the plan's first model ({first}): "
                        f"{baselines.choice.rule}")  # fmt: skip
    return {}


def _write_evaluation(
    run: Any, run_dir: Path, splits: Any, data: str | None, metrics: dict[str, float], n_eval: int,
    ev_fields: dict[str, Any], figs: dict[str, str], warnings: list[str], *, latency: bool, say: Callable[[str], None],
) -> Evaluation:  # fmt: skip
    """Time the model (`bench`), judge the plan's expectation and the task's target, write evaluation.json."""
    lat = None
    if latency:
        say("timing (bench, eager)")
        lat = _latency(run_dir, warnings)
    split_name = "test" if data is None else f"test set {data}"
    evaluation = Evaluation(
        run_dir=str(run_dir),
        task=run.task,
        split=split_name,
        n_samples=n_eval,
        model=run.model_name,
        model_version=f"sha256:{file_sha256(run.weights_path)}",
        weights=_rel(run.weights_path, run_dir),
        model_info=_model_info(run),
        data={
            "source": str(splits.source),
            "test": str(data) if data else splits.split.get("test"),
            "version": splits.version,
            "trained_version": run.config.data.version,
            "modality": splits.modality,
            "classes": run.classes or list(splits.classes),
            "split": splits.split,
            "n_train": len(splits.train if run.task in ("segmentation", "detection") else splits.y_train),
            "n_val": len(splits.val if run.task in ("segmentation", "detection") else splits.y_val),
        },
        metrics=metrics,
        latency=lat,
        expected=_expected(run_dir, metrics),
        figures=figs,
        warnings=warnings,
        environment=environment(),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **ev_fields,
    )
    RunDir(run_dir).write_model(RunDir.EVALUATION, evaluation)
    return evaluation


def _known_class_rows(
    y: np.ndarray, trained: list[str], classes: list[str], n_out: int, warnings: list[str]
) -> np.ndarray:
    """Rows whose label the model can predict; test classes training never had are listed in a warning and left
    out of the metrics (a model cannot be scored on a class it has no output for)."""
    if n_out != len(trained):
        raise DlexpertError(f"the model has {n_out} outputs but config.yaml lists {len(trained)} classes")
    known = y < len(trained)
    if not known.all():
        unseen, counts = np.unique(y[~known], return_counts=True)
        listed = ", ".join(f"{classes[i]!r} ({n})" for i, n in zip(unseen.tolist(), counts.tolist(), strict=True))
        warnings.append(
            f"the test set has {len(unseen)} class(es) the model was not trained on, left out of the metrics "
            f"(samples): {listed}"
        )
    if not known.any():
        raise InvalidInputError("the test set has none of the classes the model was trained on")
    missing = [c for i, c in enumerate(trained) if not (y == i).any()]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:20]) + (
            f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        )
        warnings.append(
            f"the test set has no sample of {len(missing)} trained class(es): {shown}; their recall and AUROC are "
            "not measured, and macro averages leave them out"
        )
    return np.flatnonzero(known)


def _model_info(run: Any) -> dict[str, Any]:
    params = list(run.model.parameters())
    return {
        "class": type(run.model).__name__,
        "n_parameters": sum(p.numel() for p in params),
        "n_trainable": sum(p.numel() for p in params if p.requires_grad),
        "weights_bytes": run.weights_path.stat().st_size,
    }


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def step4(
    run: Any,
    splits: Any,
    sets: Any,
    *,
    x_test: Any,
    y_eval: np.ndarray,
    accuracy: float,
    first_model: str | None = None,
) -> tuple[Baselines, Deliverable | None]:
    """Seed Step 4 on the run's own splits: the majority, linear and strong baselines, the paired choice between the
    network and the best of them on validation, and the deliverable when a baseline wins (saved in the run dir).
    `first_model`: the baseline the plan put before the network (`_first_model`)."""
    n_classes, seed = len(run.classes or splits.classes), run.config.seed
    majority = majority_baseline(splits.y_train, y_eval, n_classes)
    linear_fit = fit_linear_baseline(splits, seed=seed)
    linear = score_linear(linear_fit, x_test=x_test, y_test=y_eval, n_classes=n_classes)
    strong_fits, skipped = fit_strong_baselines(splits, seed=seed)
    strong = [score_fit(f, x_test, y_eval) for f in strong_fits]
    public = public_results(run.config.data.source, n_classes=n_classes, n_test=len(y_eval))
    net_val, y_val = _predicted(run.model, sets.val), np.asarray(splits.y_val)
    net_val_acc = float((net_val == y_val).mean()) if len(y_val) else None
    baselines = Baselines(
        majority=majority,
        linear=linear,
        strong=strong,
        skipped=skipped,
        model_val_accuracy=net_val_acc,
        choice=_choice(splits, linear_fit, strong_fits, net_val_acc, run.run_dir, seed=seed)
        if net_val_acc is not None
        else None,
        public=public,
        summary=summarize(accuracy, majority, linear, public, strong),
    )
    winner = baselines.winner_on_validation
    if winner is None:
        return baselines, None
    fitted = next((f for f in strong_fits if f.key == winner.key), linear_fit)  # the linear one has no key
    return baselines, ship_baseline(run.run_dir, fitted, winner, baselines, first_model=first_model)


def _first_model(run_dir: Path) -> str | None:
    """The baseline the plan put before the network (tables: the trees), from the run's decisions.json."""
    run = RunDir(run_dir)
    if not (run / RunDir.DECISIONS).is_file():
        return None
    task = run.decisions().task
    return task.first_model if task is not None else None


def _choice(
    splits: Any, linear_fit: Any, strong_fits: list[Any], net_val_acc: float, run_dir: Path, *, seed: int
) -> Any:
    """Step 4's choice: `rank_baselines`, then `choose` against the network's validation accuracy, settled."""
    ranking = rank_baselines(splits, linear_fit, strong_fits, seed=seed)
    settled = settled_val_accuracy(RunDir(run_dir).epochs())
    return choose(net_val_acc, len(splits.y_val), ranking.scores, scored_by=ranking.how, folds=ranking.folds,
                  k=ranking.k, settled=settled)  # fmt: skip


# Evaluations on each side of the kept checkpoint whose validation accuracies `settled_val_accuracy` averages
# of (5 in all).
SETTLED_WINDOW = 2


def settled_val_accuracy(epochs: list[dict[str, Any]]) -> float | None:
    """The mean validation accuracy of the evaluations around the kept checkpoint (`SETTLED_WINDOW` each side).
    The checkpoint is the best of many evaluations on the same few validation samples, so its own accuracy is biased
    upwards by the selection (Cawley & Talbot 2010, JMLR 11, "On over-fitting in model selection"): on ECG200's 10
    validation series the kept epoch scored 10/10 amid 9/10s (mean 0.92), and the network then lost to MiniRocket on
    the test split (86% vs 91%, issue 12). The mean, not the median: on digits' 144 samples the plateau alternates
    between 141 and 142 correct, and a median of 141 understates a network that beats logistic regression by 3 points
    on the test split. None without a logged validation accuracy."""
    return _settled(epochs, "val_acc")


def settled_val_loss(epochs: list[dict[str, Any]]) -> float | None:
    """The mean validation loss (a regression's MSE) of the evaluations around the checkpoint kept on it, for the
    same reason as `settled_val_accuracy`. None when the checkpoint was not kept on the validation loss."""
    return _settled(epochs, "val_loss")


def _settled(epochs: list[dict[str, Any]], key: str) -> float | None:
    """The mean of `key` over the evaluations around the kept checkpoint, when it was kept on `key`."""
    found = best_epoch(epochs)
    if found is None or found[1] != key:
        return None
    i = found[0]
    around = [e[key] for e in epochs[max(0, i - SETTLED_WINDOW) : i + SETTLED_WINDOW + 1]]
    finite = [v for v in around if isinstance(v, int | float) and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


@dataclass(frozen=True)
class Ranking:
    """Every baseline's score, in the modality's order of preference, and how they were scored."""

    scores: list[tuple[str, float]]
    folds: dict[str, list[float]] | None  # per-fold scores, when they were cross-validated
    how: str
    k: int  # folds per repeat (0: not resampled)


def rank_baselines(splits: Any, linear_fit: Any, strong_fits: list[Any], *, seed: int) -> Ranking:
    """Every baseline's score: by resampling train + validation when the data is small (a few validation samples
    decide nothing) and the refits fit the time budget, else on the validation split. Windows of one time line are
    resampled forward in time (`strong.resampling`), as the data itself was split."""
    fits = dict([("linear", linear_fit), *((f.key, f) for f in strong_fits)])
    order = preference_order(splits.modality, list(fits))
    n_train, n_val = len(splits.y_train), len(splits.y_val)
    y = np.concatenate([np.asarray(splits.y_train), np.asarray(splits.y_val)])
    n_pool = n_train + n_val
    plan = resampling(y, seed=seed, purge=purged_windows(splits)) if n_pool <= CV_MAX_SAMPLES else None
    seconds = cv_seconds(strong_fits, n_train, n_val, plan.repeats) if plan else math.inf
    folds: dict[str, list[float]] | None = None
    if plan is not None and seconds <= CV_MAX_SECONDS and len(plan.folds) >= 2:
        folds = {key: cv_fold_scores(fits[key].estimator, pooled_inputs(fits[key], splits), y, plan).tolist()
                 for key in order}  # fmt: skip
        scores = [(key, float(np.mean(folds[key]))) for key in order]
        how = f"{plan.how} on the {n_pool} train + validation samples"
    else:
        scores = [(key, fits[key].val_accuracy or 0.0) for key in order]
        why = (f"{n_pool} samples" if plan is None
               else f"k-fold would take ~{seconds:.0f} s" if seconds > CV_MAX_SECONDS else plan.how)  # fmt: skip
        how = f"the {n_val} validation samples ({why})"
    finite = [(key, s) for key, s in scores if np.isfinite(s)]
    return Ranking(finite or [("linear", linear_fit.val_accuracy or 0.0)], folds, how, plan.k if plan else 0)


def purged_windows(splits: Any) -> int | None:
    """How many neighbouring windows share rows with a window, when the samples are windows of one time line split
    chronologically (`data._load`); None otherwise."""
    layout = splits.layout or {}
    if not splits.split.get("chronological") or not layout.get("window"):
        return None
    return math.ceil(int(layout["window"]) / int(layout.get("stride") or 1)) - 1


def pooled_inputs(fit: Any, splits: Any) -> Any:
    """Train and validation inputs together, as `fit` reads them."""
    x_train, x_val = fit.features(splits.x_train), fit.features(splits.x_val)
    return [*x_train, *x_val] if isinstance(x_train, list) else np.concatenate([x_train, x_val])


def _predicted(model: Any, dataset: Any) -> np.ndarray:
    """The model's predicted class indices on a split (the validation split for Step 4's choice)."""
    if len(dataset) == 0:
        return np.zeros(0, dtype=np.int64)
    outputs, _ = predict(model, dataset)
    return outputs.argmax(axis=1)


def _take(x: Any, idx: np.ndarray) -> Any:
    return [x[i] for i in idx] if isinstance(x, list) else np.asarray(x)[idx]


def _rel(path: Path, run_dir: Path) -> str:
    try:
        return str(Path(path).relative_to(run_dir))
    except ValueError:
        return str(path)


def _latency(run_dir: Path, warnings: list[str]) -> dict[str, Any] | None:
    """Eager batch-1 and batched latency through `bench` (same timing code, thread count stated). The card reads
    RUN_DIR/bench.json itself for the other backends."""
    from ..deploy import benchmark

    try:
        report = benchmark(
            str(run_dir),
            batch_sizes=LATENCY_BATCH_SIZES,
            backends=["eager"],
            threads=LATENCY_THREADS,
            warmup=3,
            iters=50,
            max_time_s=1.0,
            save=False,
        )
    except (DlexpertError, RuntimeError) as exc:
        warnings.append(f"latency not measured: {str(exc).splitlines()[0]}")
        return None
    rows = [
        {
            k: r.get(k)
            for k in (
                "backend",
                "batch_size",
                "latency_ms_p50",
                "latency_ms_p95",
                "latency_ms_p99",
                "throughput",
                "peak_mem_mb",
            )
        }
        for r in report.results
    ]
    return {
        "rows": rows,
        "threads": report.threads,
        "measured_by": "dlexpert bench (eager)",
        "machine": report.to_dict().get("machine"),
        "requirement": report.requirement,
        "plan_expected": report.expected_latency,  # the plan's estimate, judged against this measurement by bench
    }


def _expected(run_dir: Path, metrics: dict[str, float]) -> dict[str, Any] | None:
    """The plan's expected accuracy (its text) and the task's accuracy target, judged against the measured metric."""
    out: dict[str, Any] = {}
    run = RunDir(run_dir)
    if run.has(RunDir.PLAN):
        with contextlib.suppress(InvalidInputError):
            expected = run.plan().expectedPerformance
            out["plan_accuracy"] = expected.accuracy if expected is not None else None
    task_path = run / RunDir.TASK
    if task_path.is_file():
        import yaml

        from ..schema import parse_accuracy_target

        # Read as raw YAML, not `run.task()`: the target is judged even when another field of the spec would not
        # validate today (a hand-written or older task.yaml).
        try:
            task = yaml.safe_load(task_path.read_text(encoding="utf-8")) or {}
            text = (task.get("constraints") or {}).get("accuracyTarget")
            if text:
                target = parse_accuracy_target(str(text))
                name = TARGET_METRIC.get(target.metric)
                measured = metrics.get(name) if name else None
                out["target"] = {
                    "text": str(text),
                    "metric": name or target.metric,
                    "value": target.value,
                    "comparator": target.comparator,
                    "measured": measured,
                    "met": None if measured is None else _meets(measured / PERCENT_METRICS.get(name or "", 1), target),
                }
        except (ValueError, AttributeError, DlexpertError):
            pass
    return out or None


def _meets(measured: float, target: Any) -> bool:
    value = target.value
    return {">": measured > value, ">=": measured >= value, "<": measured < value, "<=": measured <= value}.get(
        str(target.comparator), measured >= value if target.higher_is_better else measured <= value
    )
