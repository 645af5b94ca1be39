"""Plain-text training logs: the lines that Keras, PyTorch's examples, mmcv, timm, nanoGPT, Hugging Face and tqdm print,
written here as those tools print them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlexpert.diagnose import diagnose, read_history
from dlexpert.diagnose.readers.textlog import _column_header, looks_like_text_log, metric_pairs, parse_lines
from dlexpert.errors import InvalidInputError


def keras_fit_output(val_losses: list[float]) -> str:
    """`model.fit(..., verbose=1)` saved to a file: the epoch on its own line, then the bar's last update."""
    out = []
    n = len(val_losses)
    for e, val in enumerate(val_losses, start=1):
        loss = 1.0 / e
        out.append(f"Epoch {e}/{n}")
        bar = "\r 100/1875 [>.......] - ETA: 5s - loss: 2.3000 - accuracy: 0.1000"
        out.append(f"{bar}\r1875/1875 [==============================] - 5s 3ms/step - loss: {loss:.4f} - "
                   f"accuracy: {1 - loss / 2:.4f} - val_loss: {val:.4f} - val_accuracy: {1 - val / 2:.4f}")  # fmt: skip
    return "\n".join(out) + "\n"


def pytorch_mnist_output(epochs: int) -> str:
    """pytorch/examples mnist/main.py: per-batch train lines, then a test-set summary per epoch."""
    out = []
    for e in range(1, epochs + 1):
        for b, seen in enumerate((0, 20000, 40000)):
            out.append(f"Train Epoch: {e} [{seen}/60000 ({seen * 100 // 60000}%)]\tLoss: {2.3 / (e + b):.6f}")
        out.append(f"\nTest set: Average loss: {0.2 / e:.4f}, Accuracy: {9000 + 300 * e}/10000 ({90 + 3 * e}%)\n")
    return "\n".join(out)


def test_keras_fit_output_is_read_per_epoch(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(keras_fit_output([0.5, 0.4, 0.35, 0.33, 0.32]))
    h = read_history(log)
    assert h.formats == ["text_log"]
    val = h.get("val_loss", "epoch")
    assert val is not None and val.x == [0.0, 1.0, 2.0, 3.0, 4.0]  # "Epoch 1/5" is the first epoch, index 0
    assert val.y[0] == pytest.approx(0.5)
    train = h.get("train_loss", "epoch")
    assert train is not None and train.y[0] == pytest.approx(1.0)  # the bar's last update, not its first
    assert h.get("val_acc", "epoch") is not None and h.unknown == []


def test_pytorch_examples_output_puts_test_lines_on_the_validation_split(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text(pytorch_mnist_output(3))
    h = read_history(log)
    train = h.get("train_loss", "step")
    assert train is not None and len(train) == 9
    assert train.x[3] == 60000.0  # epoch 2's first batch: one epoch of 60000 samples before it
    acc = h.get("val_acc", "epoch")
    assert acc is not None and acc.y == pytest.approx([0.93, 0.96, 0.99])  # 9300/10000
    assert any("test lines are judged as the validation split" in w for w in h.warnings)


def test_a_rising_validation_loss_in_a_text_log_is_overfitting(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(keras_fit_output([0.50, 0.40, 0.36, 0.38, 0.45, 0.55, 0.66, 0.78, 0.90, 1.05]))
    issues = {f.issue for f in diagnose(log).findings}
    assert "overfitting" in issues


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("step 250: train loss 1.9100, val loss 2.0300", {"train_loss": 1.91, "val_loss": 2.03}),
        ("iter 100: loss 2.3100, time 12.00ms, mfu 10.00%", {"train_loss": 2.31}),
        ("{'loss': 0.51, 'learning_rate': 4e-05, 'epoch': 0.5}", {"train_loss": 0.51, "lr": 4e-05}),
        ("Epoch [1][50/500]\tlr: 1.000e-02, eta: 1:00:00, time: 0.500, loss: 0.8000", {"lr": 0.01, "train_loss": 0.8}),
        ("Epoch 3 done. Average loss 0.5", {"train_loss": 0.5}),
        (
            "Test: [  97/97]  Time: 0.1 (0.1)  Loss:  6.1 (6.15)  Acc@1:  1.6 (1.4)",
            {"train_loss": 6.1, "train_acc": 1.6},
        ),
        ("epoch 2: 100%|####| 938/938 [00:20<00:00, 45.6it/s, loss=0.123, v_num=0]", {"train_loss": 0.123}),
        (  # two accuracies read as one keep the first; after "Val Loss" the unnamed split is validation
            "Epoch 3 | Train Loss: 9.95 | Token Acc: 0.066 | Seq Acc: 0.000 | Val Loss: 9.91 | Token Acc: 0.067 | "
            "Seq Acc: 0.000",
            {"train_loss": 9.95, "train_acc": 0.066, "val_loss": 9.91, "val_acc": 0.067},
        ),
        ("val_loss: 0.4 | train_loss: 0.3 | acc: 0.9", {"val_loss": 0.4, "train_loss": 0.3, "train_acc": 0.9}),
    ],
)
def test_metric_pairs_read_the_names_the_mapping_table_knows(line: str, expected: dict[str, float]) -> None:
    metrics, _ = metric_pairs(line)
    assert metrics == pytest.approx(expected)


def test_ep_with_a_count_is_the_epoch() -> None:
    """A research script's "  dino pretrain ep  3/25  loss=6.87969": "ep" before "N/M" is the epoch."""
    lines = parse_lines("".join(f"  dino pretrain ep {e:2d}/25  loss={7 - 1 / e:.5f}\n" for e in range(1, 4)))
    assert [ln.epoch for ln in lines] == [1.0, 2.0, 3.0] and all(set(ln.metrics) == {"train_loss"} for ln in lines)


def test_a_console_table_is_read_column_by_column(tmp_path: Path) -> None:
    """Ultralytics YOLO prints a header per epoch, the epoch's row under it, then a validation table whose columns
    name no metric the rules read."""
    out = []
    for e in range(1, 6):
        out += ["      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
                f"      {e}/5      2.13G      {1.6 - e / 10:.3f}      {2.4 - e / 5:.3f}      1.443          1        "
                "640: 100% 409/409 1.5it/s 4:25",
                "                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100% 58/58",
                f"                   all        925       1248      0.622      0.391    {0.3 + e / 10:.3f}    0.169",
                ""]  # fmt: skip
    log = tmp_path / "training_output.txt"
    log.write_text("\n".join(out))
    h = read_history(log)
    loss = h.get("train_loss", "epoch")
    assert loss is not None and list(loss.x) == [0, 1, 2, 3, 4]
    assert loss.y[0] == pytest.approx(1.5 + 2.2 + 1.443) and h.has("train/box_loss", "epoch")
    assert not any(name.lower().startswith(("map", "box(p")) for name, _ in h.series)
    assert _column_header("Epoch 3 | train loss 0.41 | val acc 0.88") is None  # numbers: a metric line, not a header


def test_a_table_printed_once_is_read_row_by_row_under_its_names(tmp_path: Path) -> None:
    """A header the mapping table knows ("Val_Loss" is the validation loss, not a term of the training loss) holds
    for every row under it, until a line that is not a row."""
    rows = [f"{e:5d} {1 / e:10.4f} {0.5 + 0.02 * e:10.4f} {0.5 + 0.04 * e:9.4f}" for e in range(1, 8)]
    log = tmp_path / "train.log"
    log.write_text("\n".join(["Epoch Train_Loss Val_Loss Accuracy", *rows, "Done in 12 min"]) + "\n")
    h = read_history(log)
    val = h.get("val_loss", "epoch")
    assert val is not None and len(val.y) == 7 and val.y[-1] == pytest.approx(0.64)
    assert h.has("train_loss", "epoch") and not any(name.startswith("train/") for name, _ in h.series)
    assert "overfitting" in {f.issue for f in diagnose(log).findings}


def test_runs_printed_one_after_another_leave_the_last_one_to_diagnose(tmp_path: Path) -> None:
    """Three models trained in turn into one file: each starts again at epoch 1 and at the first loss, which would
    read as a spike of the model before it."""
    out = []
    for model in ("ResNet18", "ResNet18_With_Dropout", "ResNet_with_Smaller_Conv"):
        out.append(f"Training {model} for 5 epochs with initial learning rate 0.01...")
        out += [f"Epoch: {e:03d}/005 | Batch {b:04d}/0469 | Loss: {2.4 / (1 + 10 * (e - 1) + b / 50):.4f}"
                for e in range(1, 6) for b in (0, 200, 400)]  # fmt: skip
    log = tmp_path / "train.out"
    log.write_text("\n".join(out) + "\n")
    h = read_history(log)
    loss = h.get("train_loss", "step")
    assert loss is not None and len(loss.y) == 15 and loss.y[0] == pytest.approx(2.4)
    assert any("3 runs one after another" in w and "line 34" in w for w in h.warnings)
    assert "loss_spike" not in {f.issue for f in diagnose(log).findings}


def test_a_line_names_its_split_before_its_metrics_not_after() -> None:
    lines = parse_lines("Test set: Average loss: 0.10\nEpoch 3 | loss 0.50 | saved to runs/test/ckpt.pt\n")
    assert [set(ln.metrics) for ln in lines] == [{"test_loss"}, {"train_loss"}]


def test_evaluation_batches_of_one_evaluation_count_once(tmp_path: Path) -> None:
    """timm prints a running average per evaluation batch; the last line of the block is the evaluation."""
    lines = []
    for e in range(3):
        lines += [f"Train: {e} [ {b}/156 ( 0%)]  Loss: {6 - e - b / 200:.3f} (6.0)  LR: 1.000e-04" for b in (0, 100)]
        lines += [
            f"Test: [ {b}/97]  Loss: {5 - e + b / 1000:.3f} ({5 - e:.3f})  Acc@1: {10 * e + b / 97:.2f}"
            for b in (0, 97)
        ]
    log = tmp_path / "out.txt"
    log.write_text("\n".join(lines) + "\n")
    val = read_history(log).get("val_loss", "epoch")
    assert val is not None and val.y == pytest.approx([5.097, 4.097, 3.097])


def test_prose_and_config_dumps_are_not_training_logs(tmp_path: Path) -> None:
    assert not looks_like_text_log("This run went fine, I think. The loss went down.\n")
    assert not looks_like_text_log("Namespace(epochs=100, lr=0.1, batch_size=32)\nStarting training\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("loss: it went down\nwe tried a lower lr\n")
    with pytest.raises(InvalidInputError, match="not a log format"):
        read_history(notes)


def test_a_structured_log_beside_the_printed_output_is_the_one_read(tmp_path: Path) -> None:
    (tmp_path / "train.log").write_text(keras_fit_output([0.5, 0.4, 0.35]))
    (tmp_path / "metrics.csv").write_text("epoch,loss,val_loss\n0,1.0,0.9\n1,0.8,0.7\n2,0.6,0.6\n")
    h = read_history(tmp_path)
    assert h.formats != ["text_log"]
