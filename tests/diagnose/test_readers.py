"""read_history on real log files of every format it reads, written here the way their writers write them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlexpert.diagnose import RunHistory, read_history
from dlexpert.diagnose.readers import NAME_TABLE, normalise
from dlexpert.errors import InvalidInputError

# --- writers: the exact shapes the real loggers produce


def write_keras_csv(path: Path, *, n: int = 6) -> Path:
    """keras.callbacks.CSVLogger: header `epoch` + sorted log keys, one row per epoch (0-based)."""
    rows = ["epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"]
    for e in range(n):
        rows.append(
            f"{e},{0.5 + 0.08 * e:.4f},0.001,{2.0 / (e + 1):.4f},{0.45 + 0.07 * e:.4f},{2.1 / (e + 1) + 0.05:.4f}"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def write_lightning_csv(path: Path) -> Path:
    """lightning CSVLogger + LearningRateMonitor + grad_norm(): sorted header, sparse rows (one per log call),
    `*_step`/`*_epoch` from self.log(on_step=True, on_epoch=True), epoch-end rows for validation."""
    header = "epoch,grad_2.0_norm/fc.weight,grad_2.0_norm_total,lr-AdamW,step,"
    header += "train_loss_epoch,train_loss_step,val_acc,val_loss"
    rows = [header]
    for epoch in range(3):
        for step in (epoch * 10 + 4, epoch * 10 + 9):
            loss = 2.0 - 0.05 * step
            rows.append(f"{epoch},,,{0.001 * (1 - step / 40):.6f},{step},,,,")
            rows.append(f"{epoch},{0.5 + step / 100:.3f},{1.0 + step / 100:.3f},,{step},,{loss:.4f},,")
        end = epoch * 10 + 9
        rows.append(f"{epoch},,,,{end},,,{0.6 + 0.1 * epoch:.2f},{1.5 - 0.2 * epoch:.3f}")
        rows.append(f"{epoch},,,,{end},{1.9 - 0.3 * epoch:.3f},,,")
    path.write_text("\n".join(rows) + "\n")
    return path


def trainer_state(*, eval_per_epoch: bool = True, steps_per_epoch: int = 10, epochs: int = 3) -> dict:
    """transformers TrainerState.save_to_json: sorted keys, log_history of train, eval and the final summary entry."""
    log: list[dict] = []
    max_steps = steps_per_epoch * epochs
    for step in range(5, max_steps + 1, 5):
        ep = step / steps_per_epoch
        log.append({"epoch": ep, "grad_norm": 3.0 - step / 20, "learning_rate": 5e-5 * (1 - step / max_steps),
                    "loss": 0.7 - step / 100, "step": step})  # fmt: skip
        if (eval_per_epoch and step % steps_per_epoch == 0) or (not eval_per_epoch and step % 15 == 0):
            log.append({"epoch": ep, "eval_accuracy": 0.6 + step / 100, "eval_loss": 0.65 - step / 120,
                        "eval_runtime": 1.5, "eval_samples_per_second": 200.0, "eval_steps_per_second": 25.0,
                        "step": step})  # fmt: skip
    log.append({"epoch": float(epochs), "step": max_steps, "total_flos": 1.2e14, "train_loss": 0.9,
                "train_runtime": 60.0, "train_samples_per_second": 40.0, "train_steps_per_second": 0.5})  # fmt: skip
    return {"best_metric": None, "best_model_checkpoint": None, "epoch": float(epochs), "eval_steps": 500,
            "global_step": max_steps, "is_hyper_param_search": False, "is_local_process_zero": True,
            "is_world_process_zero": True, "log_history": log, "logging_steps": 5, "max_steps": max_steps,
            "num_input_tokens_seen": 0, "num_train_epochs": epochs, "save_steps": 500, "total_flos": 1.2e14,
            "train_batch_size": 8, "trial_name": None, "trial_params": None}  # fmt: skip


def write_run_dir(run: Path, *, epochs: int = 3, steps_per_epoch: int = 8) -> Path:
    """A dlexpert run directory as engine.fit writes it: metrics.jsonl (step and epoch rows), config.yaml, tb/."""
    run.mkdir(parents=True, exist_ok=True)
    lines = []
    for epoch in range(epochs):
        for step in range(epoch * steps_per_epoch + 1, (epoch + 1) * steps_per_epoch + 1):
            if step == 1 or step % 4 == 0:
                lines.append({"kind": "step", "epoch": epoch, "step": step, "train_loss": 2.0 / step ** 0.5,
                              "lr": 0.003, "grad_norm": 1.5, "time": step * 0.1, "samples_per_sec": 900.0})  # fmt: skip
        lines.append({"kind": "epoch", "epoch": epoch, "step": (epoch + 1) * steps_per_epoch,
                      "train_loss": 1.5 - 0.3 * epoch, "val_loss": 1.6 - 0.25 * epoch, "val_acc": 0.5 + 0.1 * epoch,
                      "lr": 0.003, "time": 1.0 + epoch, "samples_per_sec": 1000.0, "grad_norm": 1.2})  # fmt: skip
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (run / "config.yaml").write_text(
        "train:\n  epochs: 3\n  lr: 0.003\n  scheduler: cosine\n  task: classification\n  batch_size: 64\n"
        "model: cnn1d\ndata:\n  source: mnist1d\n  classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']\n"
    )
    write_tf_events(run / "tb", {"step/train_loss": [(1, 99.0), (4, 99.0)]})  # a copy: must not be read
    return run


def write_tf_events(folder: Path, tags: dict[str, list[tuple[int, float]]], *, tensors: bool = True) -> Path:
    """An event file written with TensorBoard's own writer; TF2 `tf.summary.scalar` style tensor summaries
    (plugin "scalars") by default, legacy `simple_value` scalars with tensors=False."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.scalar import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(folder))
    for tag, points in tags.items():
        for step, value in points:
            if tensors:
                summary = summary_v2.scalar_pb(tag, value)
            else:
                summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
            w.add_event(event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summary))
    w.close()
    return next(folder.glob("*tfevents*"))


def series(h: RunHistory, name: str, axis: str) -> tuple[list[float], list[float]]:
    s = h.get(name, axis)  # type: ignore[arg-type]
    assert s is not None, f"{name}@{axis} missing; have {h.names}"
    return s.x, s.y


# --- the mapping table

MAPPED = [
    ("loss", "train_loss", None), ("train_loss", "train_loss", None), ("train/loss", "train_loss", None),
    ("Loss/train", "train_loss", None), ("epoch_loss", "train_loss", "epoch"), ("val_loss", "val_loss", None),
    ("eval_loss", "val_loss", None), ("val/acc", "val_acc", None), ("Accuracy/val", "val_acc", None),
    ("accuracy", "train_acc", None), ("val_accuracy", "val_acc", None), ("acc", "train_acc", None),
    ("lr", "lr", None), ("learning_rate", "lr", None), ("LearningRate", "lr", None), ("lr-AdamW", "lr", None),
    ("lr-SGD/pg1", "lr", None), ("grad_norm", "grad_norm", None), ("train/grad_norm", "grad_norm", None),
    ("grad_norm/layer1.weight", "grad_norm/layer1.weight", None),
    ("gradients/conv1.weight/norm", "grad_norm/conv1.weight", None),
    ("grad_2.0_norm/fc.weight", "grad_norm/fc.weight", None), ("grad_2.0_norm_total", "grad_norm", None),
    ("grad/norm", "grad_norm", None), ("grad/norm_gamma", "grad_norm/gamma", None),
    ("grads/norm/conv1", "grad_norm/conv1", None), ("conv1.weight/grad_norm", "grad_norm/conv1.weight", None),
    ("encoder.layer0_grad_norm", "grad_norm/encoder.layer0", None), ("gradient_norm", "grad_norm", None),
    ("data_time", "data_time", None), ("batch_time", "batch_time", None),
    ("[_TrainingEpochLoop].train_dataloader_next", "data_time", None), ("run_training_batch", "batch_time", None),
    ("train_loss_step", "train_loss", "step"), ("train_loss_epoch", "train_loss", "epoch"),
    ("val_loss_epoch", "val_loss", "epoch"), ("eval_top1", "val_acc", None), ("batch_loss", "train_loss", "step"),
    ("step/train_loss", "train_loss", "step"), ("epoch/val_acc", "val_acc", "epoch"),
    ("samples_per_sec", "samples_per_sec", None), ("dead_fraction/conv1", "dead_fraction/conv1", None),
    # kept under their own name: other parameter groups, other norms, run summaries, metrics the rules do not use
    ("lr-SGD/pg2", "lr-SGD/pg2", None), ("grad_inf_norm/fc.weight", "grad_inf_norm/fc.weight", None),
    ("train/train_loss", "train/train_loss", None), ("val_f1", "val_f1", None), ("eval_runtime", "eval_runtime", None),
    # issue 13, blind17: a stage's namespace before a known name (Lightning's self.log("finetuning/val_acc"))
    ("finetuning/train_loss_step", "train_loss", "step"), ("finetuning/val_acc", "val_acc", None),
    ("stage2/train/loss", "train_loss", None),
    # issue 13, blind18: an average's name before a known one (Lightning's classic `avg_val_loss`)
    ("avg_val_loss", "val_loss", None), ("mean_val_acc", "val_acc", None), ("mean_iou", "mean_iou", None),
    # issue 13, blind21: a hand-written PyTorch history names its lists in the plural
    ("train_losses", "train_loss", None), ("val_losses", "val_loss", None), ("train_accs", "train_acc", None),
    ("val_accuracies", "val_acc", None),
    # issue 13, blind27: Ultralytics' results.csv keeps a classifier's validation top-1 under metrics/
    ("metrics/accuracy_top1", "val_acc", None), ("metrics/accuracy_top5", "metrics/accuracy_top5", None),
    # issue 13, blind28: Chainer's LogReport, `main/...` for training and `validation/main/...` for its Evaluator
    ("main/loss", "train_loss", None), ("validation/main/loss", "val_loss", None),
    ("validation/main/accuracy", "val_acc", None), ("val/foo/bar", "val/foo/bar", None),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "canonical", "axis"), MAPPED)
def test_mapping_table_normalises_logger_names(raw: str, canonical: str, axis: str | None) -> None:
    assert normalise(raw) == (canonical, axis)


def test_mapping_table_is_one_data_structure_of_patterns() -> None:
    assert len(NAME_TABLE) >= 20
    assert all(hasattr(p, "fullmatch") and isinstance(target, str) for p, target in NAME_TABLE)


# --- formats


def test_keras_csvlogger_rows_are_epochs(tmp_path: Path) -> None:
    h = read_history(write_keras_csv(tmp_path / "training.log"))
    assert h.formats == ["keras_csv"]
    x, y = series(h, "train_loss", "epoch")
    assert x == [0, 1, 2, 3, 4, 5] and y[0] == pytest.approx(2.0)
    assert series(h, "val_acc", "epoch")[1][-1] == pytest.approx(0.80)
    assert series(h, "lr", "epoch")[1] == [0.001] * 6
    assert h.has("train_acc", "epoch") and h.has("val_loss", "epoch")
    assert not any(a == "step" for _, a in h.series)
    assert h.unknown == [] and h.warnings == []


def test_test_curves_are_the_validation_split_only_when_no_validation_was_logged(tmp_path: Path) -> None:
    """Issue 13, blind17: a grokking run logged train_loss/test_loss/train_acc/test_acc; its test curves were unknown
    series. With a validation series beside them, test curves stay as they were logged."""
    only = tmp_path / "history.json"
    logged = {"train_loss": [2.0, 1.0, 0.5], "test_loss": [2.1, 1.4, 1.2], "test_acc": [0.2, 0.5, 0.6]}
    only.write_text(json.dumps(logged))
    h = read_history(only)
    assert series(h, "val_loss", "epoch")[1] == [2.1, 1.4, 1.2] and h.has("val_acc", "epoch")
    assert any("test series (test_loss, test_acc) are judged as the validation split" in w for w in h.warnings)
    both = tmp_path / "both" / "history.json"
    both.parent.mkdir()
    both.write_text(json.dumps({"loss": [2.0, 1.0], "val_loss": [2.1, 1.4], "test_loss": [2.2, 1.5]}))
    h = read_history(both)
    assert series(h, "val_loss", "epoch")[1] == [2.1, 1.4] and "test_loss@epoch" in h.unknown


def test_an_error_metric_is_the_loss_only_when_no_loss_was_logged(tmp_path: Path) -> None:
    """Issue 13, blind10: a house-price run logged only `Epoch,RMSE`; Keras regressions log `mse` beside `loss`."""
    only = tmp_path / "rmse.csv"
    only.write_text("Epoch,RMSE,val_mae\n1,197890.25,150000\n2,197890.2,149990\n3,197890.1,149980\n")
    h = read_history(only)
    assert series(h, "train_loss", "epoch")[1][0] == pytest.approx(197890.25) and h.has("val_loss", "epoch")
    assert any("RMSE is judged as the train loss" in w for w in h.warnings)
    both = tmp_path / "history.csv"
    both.write_text("epoch,loss,mse\n0,2.0,1.9\n1,1.5,1.4\n2,1.0,0.9\n")
    h = read_history(both)
    assert series(h, "train_loss", "epoch")[1] == [2.0, 1.5, 1.0] and h.has("mse", "epoch")


def test_a_hugging_face_log_history_exported_to_csv_keeps_its_step_loss_and_epoch_length(tmp_path: Path) -> None:
    """Issue 13, blind3: `loss` per logging step beside the run's one summary `train_loss` at the end, and a
    fractional `epoch` column (0.0061 at step 50): the per-step loss is the train loss, 8,160 steps an epoch."""
    rows = [f"{0.9 + 0.01 * (i % 3)},{i / 8160:.6f},{i}," for i in range(50, 1650, 50)]
    log = tmp_path / "training_log.csv"
    log.write_text("loss,epoch,step,train_loss\n" + "\n".join(rows) + "\n,0.2,1650,1.002\n")
    h = read_history(log)
    assert len(series(h, "train_loss", "step")[1]) == len(rows) and h.meta["steps_per_epoch"] == 8160


def test_lightning_metrics_csv_sparse_rows(tmp_path: Path) -> None:
    h = read_history(write_lightning_csv(tmp_path / "metrics.csv"))
    assert h.formats == ["lightning_csv"]
    assert series(h, "train_loss", "step")[0] == [4, 9, 14, 19, 24, 29]
    assert series(h, "train_loss", "epoch") == ([0, 1, 2], [1.9, 1.6, 1.3])
    assert series(h, "val_loss", "epoch") == ([0, 1, 2], [1.5, 1.3, 1.1])  # once per epoch: also on the epoch axis
    assert series(h, "val_loss", "step")[0] == [9, 19, 29]
    assert series(h, "val_acc", "epoch")[1] == pytest.approx([0.6, 0.7, 0.8])
    assert len(series(h, "lr", "step")[0]) == 6
    assert series(h, "grad_norm/fc.weight", "step")[1][0] == pytest.approx(0.54)
    assert series(h, "grad_norm", "step")[1][0] == pytest.approx(1.04)
    assert h.layers("grad_norm") and h.meta["monitored"] is True
    assert h.warnings == []


def test_hf_trainer_state_eval_per_epoch_fills_both_axes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "checkpoint-30").mkdir(parents=True)
    (out / "checkpoint-30" / "trainer_state.json").write_text(json.dumps(trainer_state(), indent=2, sort_keys=True))
    (out / "checkpoint-30" / "config.json").write_text(json.dumps(
        {"architectures": ["BertForSequenceClassification"], "id2label": {"0": "neg", "1": "pos", "2": "neutral"}}
    ))  # fmt: skip
    h = read_history(out)
    assert h.formats == ["hf_trainer_state"]
    x, y = series(h, "train_loss", "step")
    assert x == [5, 10, 15, 20, 25, 30] and y[-1] == pytest.approx(0.4)  # the run summary (0.9) is not a point
    assert series(h, "grad_norm", "step")[1][0] == pytest.approx(2.75)
    assert series(h, "lr", "step")[1][-1] == pytest.approx(0.0)
    assert series(h, "val_loss", "step")[0] == [10, 20, 30]
    assert series(h, "val_loss", "epoch")[0] == [0, 1, 2]  # HF epoch 1.0 = the first epoch done = index 0
    assert series(h, "val_acc", "epoch")[1] == pytest.approx([0.7, 0.8, 0.9])
    assert not h.has("train_loss", "epoch")
    assert h.meta == {"epochs": 3, "steps_per_epoch": 10, "task": "classification", "n_classes": 3}
    assert "eval_runtime@step" in h.unknown


def test_hf_eval_by_steps_stays_on_step_axis_and_newest_checkpoint_wins(tmp_path: Path) -> None:
    for step, state in ((15, trainer_state(eval_per_epoch=False, epochs=2)), (30, trainer_state(eval_per_epoch=False))):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        (d / "trainer_state.json").write_text(json.dumps(state))
    h = read_history(tmp_path)
    assert series(h, "val_loss", "step")[0] == [15, 30]
    assert not h.has("val_loss", "epoch")
    assert series(h, "train_loss", "step")[0][-1] == 30


def test_dlexpert_run_dir_reads_metrics_jsonl_and_config_not_tb(tmp_path: Path) -> None:
    h = read_history(write_run_dir(tmp_path / "run"))
    assert h.formats == ["dlexpert"]
    assert series(h, "train_loss", "step")[0][:3] == [1, 4, 8]
    assert 99.0 not in series(h, "train_loss", "step")[1]  # tb/ duplicates metrics.jsonl: not read, not merged
    assert series(h, "val_acc", "epoch") == ([0, 1, 2], pytest.approx([0.5, 0.6, 0.7]))
    assert h.has("samples_per_sec", "step") and h.has("grad_norm", "epoch")
    assert h.meta == {"steps_per_epoch": 8, "scheduler": "cosine", "epochs": 3, "lr": 0.003,
                      "task": "classification", "n_classes": 10}  # fmt: skip
    assert h.unknown == [] and h.warnings == []


def test_generic_csv_with_step_column_is_step_axis_and_keeps_unknown_series(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("step,loss,val_f1,notes\n10,1.0,0.2,warmup\n20,0.8,0.3,\n30,0.7,0.35,ok\n")
    h = read_history(p)
    assert h.formats == ["csv"]
    assert series(h, "train_loss", "step") == ([10, 20, 30], [1.0, 0.8, 0.7])
    assert h.unknown == ["val_f1@step"]  # kept and reported; the text column `notes` is neither
    assert h.warnings == []


def test_generic_csv_with_only_epoch_is_epoch_axis_and_without_index_numbers_rows(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    p = tmp_path / "a" / "hist.tsv"
    p.write_text("epoch\ttrain_loss\tval_loss\n1\t1.0\t1.1\n2\t0.9\t1.0\n")
    h = read_history(p)
    assert series(h, "val_loss", "epoch") == ([1, 2], [1.1, 1.0])
    q = tmp_path / "losses.csv"
    q.write_text("loss,accuracy\n2.0,0.1\n1.5,0.3\n")
    h2 = read_history(q)
    assert series(h2, "train_loss", "step") == ([0, 1], [2.0, 1.5])
    assert any("no step or epoch column" in w for w in h2.warnings)


def test_timm_summary_percent_accuracy_becomes_fraction(tmp_path: Path) -> None:
    p = tmp_path / "summary.csv"
    p.write_text(
        "epoch,train_loss,eval_loss,eval_top1,eval_top5,lr\n0,6.9,6.8,0.5,2.5,0.0001\n1,5.2,4.9,12.5,31.0,0.0005\n"
    )
    h = read_history(p)
    assert series(h, "val_acc", "epoch")[1] == pytest.approx([0.005, 0.125])
    assert "eval_top5@epoch" in h.unknown


def test_two_names_for_one_series_do_not_merge(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("epoch,loss,train_loss\n0,5.0,1.0\n1,4.0,0.9\n")
    h = read_history(p)
    assert series(h, "train_loss", "epoch")[1] == [1.0, 0.9]
    assert series(h, "loss", "epoch")[1] == [5.0, 4.0]
    assert any("'loss'" in w and "train_loss" in w for w in h.warnings)


def test_generic_jsonl_and_mode_rows(tmp_path: Path) -> None:
    p = tmp_path / "log.jsonl"
    rows = [{"mode": "train", "epoch": 0, "iter": 50, "loss": 1.2, "lr": 0.1, "data_time": 0.02, "time": 0.3},
            {"mode": "val", "epoch": 0, "iter": 50, "loss": 1.4, "accuracy": 0.4},
            {"mode": "train", "epoch": 1, "iter": 100, "loss": 0.9, "lr": 0.05, "data_time": 0.03, "time": 0.3},
            {"mode": "val", "epoch": 1, "iter": 100, "loss": 1.1, "accuracy": 0.6}]  # fmt: skip
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    h = read_history(p)
    assert h.formats == ["jsonl"]
    assert series(h, "train_loss", "step") == ([50, 100], [1.2, 0.9])
    assert series(h, "val_loss", "epoch") == ([0, 1], [1.4, 1.1])
    assert series(h, "val_acc", "step")[1] == [0.4, 0.6]
    assert series(h, "data_time", "step")[1] == [0.02, 0.03]


def test_json_list_of_rows(tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text(json.dumps([{"epoch": 0, "loss": 1.0, "val_loss": 1.2}, {"epoch": 1, "loss": 0.8, "val_loss": 1.0}]))
    h = read_history(p)
    assert h.formats == ["json"] and series(h, "val_loss", "epoch") == ([0, 1], [1.2, 1.0])


def test_warnings_are_capped_per_file(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("step,loss\n" + "".join(f"{i},{'x' if i % 2 else 1.0}\n" for i in range(40)))
    h = read_history(p)
    assert len(series(h, "train_loss", "step")[1]) == 20
    assert len(h.warnings) == 9 and h.warnings[-1] == f"{p}: 12 more warning(s) like the above"


def test_tensorboard_from_torch_summary_writer(tmp_path: Path) -> None:
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    w = torch_tb.SummaryWriter(log_dir=str(tmp_path / "tb"))
    for step in range(0, 200, 10):
        w.add_scalar("Loss/train", 2.0 - step / 200, step)
        w.add_scalar("LearningRate", 0.1, step)
        w.add_scalar("grad_norm/layer1.weight", 0.5, step)
        w.add_scalar("epoch", step // 50, step)
        w.add_scalar("custom/ratio", 1.0, step)
    for epoch in range(4):
        w.add_scalar("Accuracy/val", 0.5 + 0.1 * epoch, epoch)  # the tutorials' add_scalar(..., epoch)
    w.add_scalars("Loss", {"val": 1.0}, 100)
    w.close()
    h = read_history(tmp_path)
    assert h.formats == ["tensorboard"]
    assert series(h, "train_loss", "step")[0][:3] == [0, 10, 20]
    assert series(h, "lr", "step")[1][0] == pytest.approx(0.1)
    assert series(h, "val_acc", "epoch") == ([0, 1, 2, 3], pytest.approx([0.5, 0.6, 0.7, 0.8]))
    assert series(h, "val_loss", "step") == ([100], [1.0])  # add_scalars' Loss_val/ folder is the split
    assert h.has("grad_norm/layer1.weight", "step") and h.meta["monitored"] is True
    assert h.unknown == ["custom/ratio@step"]  # `epoch` is an index, not a series


def test_tensorboard_tf2_tensors_in_keras_split_folders(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_tf_events(logs / "train", {"epoch_loss": [(0, 1.0), (1, 0.7), (2, 0.5)],
                                     "epoch_accuracy": [(0, 0.6), (1, 0.7), (2, 0.8)],
                                     "epoch_learning_rate": [(0, 0.01), (1, 0.01), (2, 0.01)]})  # fmt: skip
    write_tf_events(logs / "validation", {"epoch_loss": [(0, 1.1), (1, 0.9), (2, 0.95)],
                                          "evaluation_loss_vs_iterations": [(100, 1.1), (200, 0.9)]})  # fmt: skip
    h = read_history(logs)
    assert series(h, "train_loss", "epoch") == ([0, 1, 2], [1.0, pytest.approx(0.7), 0.5])
    assert series(h, "val_loss", "epoch")[1] == pytest.approx([1.1, 0.9, 0.95])
    assert series(h, "train_acc", "epoch")[1][-1] == pytest.approx(0.8)
    assert series(h, "lr", "epoch")[0] == [0, 1, 2]
    assert series(h, "val_loss", "step")[0] == [100, 200]
    assert h.unknown == []
    one = read_history(next((logs / "validation").glob("*tfevents*")))  # one file of a split folder keeps its split
    assert one.has("val_loss", "epoch") and not one.has("train_loss")


def test_tensorboard_legacy_scalars_dlexpert_tb_epoch_tags_are_numbered(tmp_path: Path) -> None:
    tags = {"step/train_loss": [(1, 2.0), (50, 1.0)], "epoch/val_loss": [(32, 1.5), (64, 1.2)]}
    write_tf_events(tmp_path / "tb", tags, tensors=False)
    h = read_history(tmp_path / "tb")
    assert series(h, "val_loss", "epoch") == ([0, 1], [1.5, pytest.approx(1.2)])
    assert series(h, "train_loss", "step")[0] == [1, 50]


# --- sniffing by content


def test_files_are_recognised_by_content_not_name(tmp_path: Path) -> None:
    csv_log = tmp_path / "log.txt"
    write_keras_csv(csv_log)
    assert read_history(csv_log).formats == ["keras_csv"]
    state = tmp_path / "state.data"
    state.write_text(json.dumps(trainer_state()))
    assert read_history(state).formats == ["hf_trainer_state"]
    events = write_tf_events(tmp_path / "tbx", {"loss": [(1, 1.0), (2, 0.5)]})
    renamed = tmp_path / "run42.log"
    events.rename(renamed)
    h = read_history(renamed)
    assert h.formats == ["tensorboard"] and series(h, "train_loss", "step")[1] == [1.0, 0.5]
    jsonl = tmp_path / "output.txt"
    jsonl.write_text('{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.0}\n')
    assert read_history(jsonl).formats == ["jsonl"]


def test_folder_discovery_finds_misnamed_logs_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "weights.pt").write_bytes(b"\x80\x02not a log")
    (tmp_path / "notes.txt").write_text("remember to try a lower lr\n")
    (tmp_path / "config.json").write_text('{"hidden_size": 768}')
    version = tmp_path / "lightning_logs" / "version_0"
    version.mkdir(parents=True)
    write_lightning_csv(version / "progress.txt")
    h = read_history(tmp_path)
    assert h.formats == ["lightning_csv"] and h.has("val_loss", "epoch")


def test_sibling_runs_read_newest_and_say_so(tmp_path: Path) -> None:
    old, new = tmp_path / "run1" / "metrics.csv", tmp_path / "run2" / "metrics.csv"
    for p, loss in ((old, 9.0), (new, 1.0)):
        p.parent.mkdir()
        p.write_text(f"step,loss\n1,{loss}\n")
    os.utime(old, (1_000_000, 1_000_000))
    h = read_history(tmp_path)
    assert series(h, "train_loss", "step")[1] == [1.0]
    assert any("2 logs found" in w and str(new) in w for w in h.warnings)


# --- unreadable, empty, partly readable


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("empty.csv", b"", "empty"),
        ("junk.bin", bytes(range(256)) * 4, "binary"),
        ("readme.txt", b"This run went fine, I think.\n", "not a log format"),
        ("header_only.csv", b"epoch,loss,val_loss\n", "no metric values"),
        ("config.json", b'{\n  "hidden_size": 768\n}\n', "log_history"),
        ("bad.jsonl", b'{"step": 1, "loss": oops}\n{"step": 2, "loss": nope}\n', "no metric values"),
    ],
)
def test_unreadable_or_empty_source_is_invalid_input_naming_the_file(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InvalidInputError) as e:
        read_history(p)
    assert str(p) in str(e.value) and why in str(e.value)
    assert e.value.exit_code == 2


def test_missing_path_and_folder_without_logs_are_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        read_history(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing here\n")
    with pytest.raises(InvalidInputError, match="no training log found"):
        read_history(tmp_path / "empty")


def test_truncated_csv_row_and_bad_cell_give_values_and_warnings(tmp_path: Path) -> None:
    p = tmp_path / "training.log"
    p.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,2.0,0.4,2.1\n1,0.6,abc,0.5,1.9\n2,0.7,1.2,0.")
    h = read_history(p)
    assert series(h, "train_loss", "epoch") == ([0, 2], [2.0, 1.2])
    assert series(h, "train_acc", "epoch")[1] == [0.5, 0.6, 0.7]
    assert series(h, "val_acc", "epoch")[1] == [0.4, 0.5]  # the cut last cell "0." is not trusted
    assert series(h, "val_loss", "epoch")[1] == [2.1, 1.9]
    assert any(f"{p}:3:" in w and "'abc'" in w for w in h.warnings)
    assert any(f"{p}:4:" in w and "cut short" in w for w in h.warnings)


def test_csv_text_whose_header_names_no_column_parses_to_no_series(tmp_path: Path) -> None:
    """An empty first line, then "/" (the fuzz target found it): an empty header, so no metric column and no
    IndexError from the repeated-header test (the CLI's sniffer refuses such a file before this parser runs)."""
    from dlexpert.diagnose.readers._table import Sink
    from dlexpert.diagnose.readers.csvlog import parse_csv

    p = tmp_path / "log.csv"
    table = parse_csv(p, "\n/", Sink(RunHistory(source=str(p)), p))
    assert table.columns == []


def test_dlexpert_monitor_rows_and_auto_remedy_actions(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run")
    with (run / "metrics.jsonl").open("a") as f:
        row = {"kind": "step", "epoch": 3, "step": 28, "train_loss": 0.5, "lr": 0.003, "grad_norm": 1.0,
               "grad_norm/0": 0.7, "update_ratio/0": 1e-3, "dead_fraction/1": 0.2, "pred_entropy": 1.1}  # fmt: skip
        f.write(json.dumps(row) + "\n")
        f.write(json.dumps({"kind": "action", "action": "scale_lr", "epoch": 3, "step": 28, "factor": 0.1}) + "\n")
    h = read_history(run)
    assert set(h.layers("grad_norm")) == {"0"} and h.has("dead_fraction/1", "step") and h.has("pred_entropy")
    assert h.meta["monitored"] is True and h.unknown == []
    assert h.meta["actions"] == [{"action": "scale_lr", "epoch": 3, "step": 28, "factor": 0.1}]
    assert series(h, "train_loss", "step")[0][-1] == 28  # the action row is not a point


def test_corrupt_trailing_jsonl_line_from_a_killed_run(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run")
    with (run / "metrics.jsonl").open("a") as f:
        f.write('{"kind": "step", "epoch": 3, "step": 28, "train_lo')
    n_lines = len((run / "metrics.jsonl").read_text().splitlines())
    h = read_history(run)
    assert h.has("val_loss", "epoch") and series(h, "train_loss", "step")[0][-1] == 24
    assert h.warnings == [f"{run / 'metrics.jsonl'}:{n_lines}: not valid JSON (Unterminated string starting at); "
                          "line skipped"]  # fmt: skip


def test_nan_values_are_kept_as_evidence(tmp_path: Path) -> None:
    p = tmp_path / "log.jsonl"
    p.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": NaN}\n{"step": 3, "loss": "inf"}\n')
    h = read_history(p)
    y = series(h, "train_loss", "step")[1]
    assert y[0] == 2.0 and math.isnan(y[1]) and math.isinf(y[2])
    assert h.get("train_loss").first_nonfinite() == 2  # type: ignore[union-attr]


def test_trainer_state_cut_short_is_salvaged(tmp_path: Path) -> None:
    text = json.dumps(trainer_state(), indent=2, sort_keys=True)
    p = tmp_path / "trainer_state.json"
    p.write_text(text[: text.index('"step": 20') + 5])
    h = read_history(p)
    assert series(h, "train_loss", "step")[0] == [5, 10, 15]
    assert any("cut short" in w for w in h.warnings)


def test_torn_tensorboard_file_warns_and_keeps_earlier_records(tmp_path: Path) -> None:
    events = write_tf_events(tmp_path, {"loss": [(1, 1.0), (2, 0.5), (3, 0.25)]}, tensors=False)
    events.write_bytes(events.read_bytes()[:-7])
    h = read_history(tmp_path)
    assert series(h, "train_loss", "step")[0] == [1, 2]
    assert any("cut short" in w for w in h.warnings)


def test_reading_does_not_import_torch(tmp_path: Path) -> None:
    write_run_dir(tmp_path / "run")
    write_keras_csv(tmp_path / "k.csv")
    code = (
        "import sys; from dlexpert.diagnose.readers import read_history\n"
        f"read_history({str(tmp_path / 'run')!r}); read_history({str(tmp_path / 'k.csv')!r})\n"
        f"read_history({str(tmp_path / 'run' / 'tb')!r})\n"
        "assert 'torch' not in sys.modules, 'read_history imported torch'"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_a_folder_whose_name_holds_tfevents_is_read_as_a_folder(tmp_path: Path) -> None:
    """TensorBoard takes any path named *tfevents* for a file; real logs live in such folders (issue 13 corpus)."""
    folder = tmp_path / "exported__tfevents"
    write_tf_events(folder, {"train/loss": [(1, 2.0), (2, 1.5), (3, 1.2)]})
    h = read_history(folder)
    xs, ys = series(h, "train_loss", "step")
    assert xs == [1.0, 2.0, 3.0] and ys == pytest.approx([2.0, 1.5, 1.2])


def test_keras_history_json_mlflow_runs_and_wandb_history_are_read(tmp_path: Path) -> None:
    """Three formats real logs come in (issue 13 corpus): Keras' history dict, an MLflow run, W&B's `_step` rows."""
    keras = tmp_path / "history.json"
    keras.write_text(json.dumps({"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.7, 0.6], "accuracy": [0.6, 0.8, 0.9]}))
    h = read_history(keras)
    assert series(h, "train_loss", "epoch") == ([0.0, 1.0, 2.0], [0.9, 0.5, 0.3]) and h.get("val_acc") is None

    run = tmp_path / "mlruns" / "0" / "abc123"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: abc123\n")
    (run / "metrics" / "val_loss").write_text("1700000000 0.8 0\n1700000001 0.6 1\n1700000002 0.5 2\n")
    h = read_history(tmp_path / "mlruns")
    assert series(h, "val_loss", "step") == ([0.0, 1.0, 2.0], [0.8, 0.6, 0.5]) and "mlflow" in h.formats

    wandb = tmp_path / "wandb-history.jsonl"
    wandb.write_text("\n".join(json.dumps({"episodic_reward": 10.0 * i, "_step": i}) for i in range(5)))
    from dlexpert.diagnose import diagnose

    d = diagnose(wandb)  # read, but nothing in it is a loss or an accuracy: not "healthy"
    assert not d.healthy and not d.findings and d.warnings[0].startswith("nothing to judge")
    assert "episodic_reward" in d.warnings[0]


def test_several_named_validation_sets_judge_the_first(tmp_path: Path) -> None:
    # HF Trainer with eval_dataset={"g0": ..., "g1": ...} logs eval_g0_loss, eval_g1_loss, ... and no eval_loss.
    log = [{"step": 10 * i, "loss": 1.0 / (i + 1)} for i in range(1, 6)]
    log += [{"step": 10 * i, "eval_g0_loss": 0.5 + 0.1 * i, "eval_g0_accuracy": 0.7,
             "eval_g1_loss": 0.9, "eval_g1_accuracy": 0.6} for i in range(1, 6)]  # fmt: skip
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": log, "global_step": 50}))
    h = read_history(tmp_path / "trainer_state.json")
    val = h.get("val_loss")
    assert val is not None and val.source_name == "eval_g0_loss" and val.y[-1] == pytest.approx(1.0)
    assert h.get("val_acc") is not None and h.get("eval_g1_loss") is not None
    assert any("2 validation sets (g0, g1)" in w for w in h.warnings)


def test_a_csv_without_an_index_but_validation_on_every_row_is_read_by_epoch(tmp_path: Path) -> None:
    # A Keras history saved with pandas, index dropped: accuracy,loss,val_accuracy,val_loss, one row per epoch.
    rows = ["accuracy,loss,val_accuracy,val_loss"] + [f"0.5,{0.69 - 0.001 * i},0.55,0.69" for i in range(8)]
    (tmp_path / "history.csv").write_text("\n".join(rows) + "\n")
    h = read_history(tmp_path / "history.csv")
    assert h.get("train_loss", "epoch") is not None and h.get("train_loss", "step") is None
    assert any("read as epochs" in w for w in h.warnings)
    (tmp_path / "steps.csv").write_text("loss\n" + "\n".join(str(1 / (i + 1)) for i in range(8)) + "\n")
    assert read_history(tmp_path / "steps.csv").get("train_loss", "step") is not None


def test_a_step_column_that_restarts_every_epoch_becomes_a_global_step(tmp_path: Path) -> None:
    """`epoch,step` = 1,299 / 1,599 / 2,299 / 2,599: a batch counter within the epoch, not a global step."""
    p = tmp_path / "training_log.csv"
    p.write_text("epoch,step,train_loss,val_loss\n1,299,1.7,1.71\n1,599,1.41,1.42\n2,299,1.26,1.28\n2,599,1.14,1.18\n")
    h = read_history(p)
    assert series(h, "train_loss", "step") == ([299, 599, 898, 1198], [1.7, 1.41, 1.26, 1.14])
    assert any("restarts every 'epoch'" in w for w in h.warnings)
    q = tmp_path / "global.csv"
    q.write_text("epoch,step,train_loss\n1,100,1.0\n1,200,0.9\n2,300,0.8\n")
    assert series(read_history(q), "train_loss", "step")[0] == [100, 200, 300]  # a global step stays as it is


def test_a_pandas_history_csv_with_its_unnamed_index_column_is_read(tmp_path: Path) -> None:
    """`pd.DataFrame(history.history).to_csv(path)` writes an empty first header cell and row numbers."""
    p = tmp_path / "model_history.csv"
    p.write_text(",loss,accuracy,val_loss,val_accuracy\n0,0.17,0.93,0.11,0.95\n1,0.10,0.96,0.12,0.95\n")
    h = read_history(p)
    assert series(h, "val_loss", "epoch") == ([0, 1], [0.11, 0.12])
    assert "@" not in "".join(h.unknown)  # the index column is not read as a metric


def test_a_csv_whose_lines_end_with_the_delimiter_and_name_its_error_in_words_is_read(tmp_path: Path) -> None:
    """A C++ network's epoch log: "Percent Good,Mean Squared Error," (issue 13, blind22). The error is the loss."""
    p = tmp_path / "epoch_log.csv"
    p.write_text("Percent Good,Mean Squared Error,\n" + "".join(f"0,{1 - e / 10},\n" for e in range(5)))
    h = read_history(p)
    loss = h.get("train_loss")
    assert loss is not None and loss.y == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6])


def test_a_cross_entropy_named_as_such_is_the_loss(tmp_path: Path) -> None:
    """A next-token model's epoch CSV logs `train_loss` and `val_mean_ce` (issue 13, blind22): the validation loss."""
    p = tmp_path / "epoch_log.csv"
    p.write_text("epoch,train_loss,val_top1,val_mean_ce\n0,3.0,0.40,2.17\n1,2.1,0.55,1.74\n2,1.8,0.60,1.80\n")
    assert series(read_history(p), "val_loss", "epoch") == ([0, 1, 2], [2.17, 1.74, 1.80])


def test_a_history_json_with_summary_scalars_beside_its_lists_is_read(tmp_path: Path) -> None:
    p = tmp_path / "training_history.json"
    p.write_text(json.dumps({"train_loss": [1.2, 0.8, 0.5], "val_loss": [1.4, 1.6, 2.0], "best_val_acc": 0.2,
                             "best_epoch": 0}))  # fmt: skip
    h = read_history(p)
    assert series(h, "val_loss", "epoch") == ([0, 1, 2], [1.4, 1.6, 2.0])
    assert any("'best_epoch' is a single value" in w for w in h.warnings)


def test_ultralytics_loss_terms_are_summed_into_the_loss_the_rules_read(tmp_path: Path) -> None:
    """results.csv logs train/box_loss, train/cls_loss, train/dfl_loss (and the val ones) and no total."""
    p = tmp_path / "results.csv"
    p.write_text(
        "epoch,train/box_loss,train/cls_loss,train/dfl_loss,metrics/mAP50(B),val/box_loss,val/cls_loss,val/dfl_loss\n"
        "1,1.5,2.0,1.2,0.1,1.4,1.9,1.1\n2,1.3,1.5,1.1,0.3,1.3,1.6,1.05\n"
    )
    h = read_history(p)
    assert series(h, "train_loss", "epoch") == ([1, 2], [pytest.approx(4.7), pytest.approx(3.9)])
    assert series(h, "val_loss", "epoch")[1] == [pytest.approx(4.4), pytest.approx(3.95)]
    assert any("train_loss is the sum of train/box_loss" in w for w in h.warnings)


def test_a_history_json_with_a_config_dict_and_two_models_of_different_lengths_is_read(tmp_path: Path) -> None:
    """Hand-written history files: a `config` dict beside the lists; two models' histories under their own prefixes
    (`reg_*` over 4 epochs, `cls_*` over 3): the one with more series the rules know is read."""
    one = tmp_path / "one" / "training_history.json"
    one.parent.mkdir()
    one.write_text(json.dumps({"config": {"lr": 3e-4}, "epochs": [1, 2, 3], "train_loss": [2.8, 1.0, 0.5],
                               "val_loss": [2.4, 1.1, 0.6], "val_wer": [1.0, 0.5, 0.3], "test_wer": 0.31}))  # fmt: skip
    h = read_history(one)
    assert series(h, "val_loss", "epoch")[1] == [2.4, 1.1, 0.6]
    assert any("'config' is a dict" in w for w in h.warnings)
    two = tmp_path / "two" / "training_history.json"
    two.parent.mkdir()
    reg = {"reg_loss": [1.2, 1.1, 1.0, 1.0], "reg_val_loss": [0.4, 0.35, 0.34, 0.35]}
    cls = {"cls_loss": [0.73, 0.71, 0.70], "cls_accuracy": [0.48, 0.5, 0.49], "cls_val_loss": [0.693, 0.692, 0.693],
           "cls_val_accuracy": [0.53, 0.53, 0.53]}  # fmt: skip
    two.write_text(json.dumps({**reg, **cls}))
    h = read_history(two)
    assert series(h, "val_loss", "epoch") == ([0, 1, 2], [0.693, 0.692, 0.693])
    assert series(h, "val_acc", "epoch")[1] == [0.53, 0.53, 0.53]
    assert any("read cls_*" in w and "reg_* (4 epochs)" in w for w in h.warnings)


def test_loss_terms_in_tensorboard_events_are_summed_too(tmp_path: Path) -> None:
    """Ultralytics writes the same loss terms to its TensorBoard events as to results.csv."""
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    w = torch_tb.SummaryWriter(log_dir=str(tmp_path / "tb"))
    for epoch, (box, cls) in enumerate([(1.5, 2.0), (1.3, 1.5), (1.2, 1.1)]):
        w.add_scalar("train/box_loss", box, epoch)
        w.add_scalar("train/cls_loss", cls, epoch)
        w.add_scalar("val/box_loss", box + 0.1, epoch)
        w.add_scalar("val/cls_loss", cls + 0.2, epoch)
    w.close()
    h = read_history(tmp_path)
    assert series(h, "train_loss", "step")[1] == [pytest.approx(3.5), pytest.approx(2.8), pytest.approx(2.3)]
    assert series(h, "val_loss", "step")[1][0] == pytest.approx(3.8)


def test_a_logged_batch_metric_is_not_the_step_column(tmp_path: Path) -> None:
    """blind30: Lightning's `batch,epoch,step,train_loss,val_loss` where `batch` is a metric logged as 0.0 on the train
    rows only; `step` is on every row and indexes both losses (the val rows had been skipped)."""
    rows = ["batch,epoch,step,train_loss,val_loss"]
    for e in range(8):
        rows += [f",{e},{250 * e + 124},,{3.0 - 0.1 * e}", f"0.0,{e}.0,{250 * e + 249},{2.5 - 0.1 * e},",
                 f",{e},{250 * e + 249},,{2.9 - 0.1 * e}"]  # fmt: skip
    log = tmp_path / "metrics.csv"
    log.write_text("\n".join(rows) + "\n")
    h = read_history(log)
    assert len(h.get("val_loss", "step").y) == 16 and len(h.get("train_loss", "step").y) == 8
    assert not any("have no" in w for w in h.warnings)


def test_a_markdown_training_log_is_read_when_the_folder_holds_nothing_else(tmp_path: Path) -> None:
    """blind30: a training script that writes its epochs as Markdown. A README beside another log stays unread, and a
    folder holding only notes is still refused."""
    lines = ["## Training", ""]
    for e in range(6):
        lines += [f"#### Epoch {e}/5", f"train loss: {2.0 - 0.2 * e}, acc: 0.5<br>", f"val loss: {2.1 - 0.2 * e}<br>"]
    run = tmp_path / "run"
    run.mkdir()
    (run / "resnet18.md").write_text("\n".join(lines))
    assert len(read_history(run).get("train_loss", "epoch").y) == 6
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.md").write_text("# A project\n\nSome words.\n")
    with pytest.raises(InvalidInputError, match="no training log found"):
        read_history(notes)
