"""Unit tests of the engine's parts: mixing, EMA, data order, callback dispatch."""

from __future__ import annotations

import random

import pytest
import torch

from dlexpert.engine import EVENTS, Mixer, ModelEma, epoch_order
from dlexpert.engine.events import CallbackRunner
from dlexpert.engine.sampling import balanced_weights


def test_mixup_is_a_convex_combination_with_a_permutation() -> None:
    random.seed(0)
    torch.manual_seed(0)
    x = torch.arange(8, dtype=torch.float32).reshape(4, 2)
    y = torch.tensor([0, 1, 2, 3])
    mixed, ya, yb, lam = Mixer(mixup_alpha=0.4)(x, y)
    assert 0.0 < lam < 1.0 and torch.equal(ya, y)
    perm = yb  # labels are 0..3, so y[perm] is the permutation itself
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[perm])


@pytest.mark.parametrize("shape", [(6, 2, 40), (6, 3, 16, 16)], ids=["1-d", "2-d"])
def test_cutmix_lam_is_the_share_of_untouched_input(shape: tuple[int, ...]) -> None:
    random.seed(1)
    torch.manual_seed(1)
    x = torch.zeros(shape)
    x[0] = 1.0  # only sample 0 is ones; after cutmix, sample 0 keeps a lam share of ones (unless paired with itself)
    for _ in range(5):
        mixed, _, y_perm, lam = Mixer(cutmix_alpha=1.0)(x, torch.arange(6))
        if y_perm[0] != 0:
            assert mixed[0].mean().item() == pytest.approx(lam)
        assert 0.0 <= lam <= 1.0


def test_cutmix_leaves_flat_features_alone() -> None:
    x = torch.randn(4, 5)
    mixed, _, y_perm, lam = Mixer(cutmix_alpha=1.0)(x, torch.arange(4))
    assert mixed is x and y_perm is None and lam == 1.0


def test_ema_follows_the_formula() -> None:
    model = torch.nn.Linear(3, 2)
    ema = ModelEma(model, decay=0.75, warmup=False)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    torch.testing.assert_close(ema.module.weight, 0.75 * start + 0.25 * model.weight)
    assert not torch.equal(ema.module.weight, model.weight)


def test_ema_warmup_starts_with_a_small_decay() -> None:
    ema = ModelEma(torch.nn.Linear(2, 2), decay=0.999)
    assert ema.current_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    ema.n_updates = 100_000
    assert ema.current_decay() == 0.999


def test_epoch_order_is_a_function_of_seed_and_epoch() -> None:
    a = epoch_order(50, seed=3, epoch=2)
    assert torch.equal(a, epoch_order(50, seed=3, epoch=2))
    assert not torch.equal(a, epoch_order(50, seed=3, epoch=3))
    assert not torch.equal(a, epoch_order(50, seed=4, epoch=2))
    assert sorted(a.tolist()) == list(range(50))


def test_balanced_order_shows_each_class_equally_often() -> None:
    labels = torch.cat([torch.zeros(900, dtype=torch.long), torch.ones(100, dtype=torch.long)])
    order = epoch_order(1000, seed=0, epoch=0, class_weights_of_samples=balanced_weights(labels))
    share = labels[order].float().mean().item()
    assert 0.45 < share < 0.55


def test_callbacks_run_sorted_by_order() -> None:
    calls: list[str] = []

    class Cb:
        def __init__(self, name: str, order: int) -> None:
            self.name, self.order = name, order

        def after_batch(self, s) -> None:
            calls.append(self.name)

    runner = CallbackRunner([Cb("late", 50), Cb("early", -5), Cb("middle", 0)])
    runner("after_batch", None)
    runner("after_step", None)  # nobody listens: nothing happens
    assert calls == ["early", "middle", "late"]
    assert set(runner.handlers) == set(EVENTS)


def test_a_tied_accuracy_goes_to_the_lower_validation_loss() -> None:
    from types import SimpleNamespace

    from dlexpert.engine.loop import _track_best

    s = SimpleNamespace(cfg=SimpleNamespace(monitor=("val_acc", "max")), best_metric=None, best_epoch=None,
                        best_val_loss=None, improved=False, epoch=0, val_metrics={})  # fmt: skip
    history = [(0.90, 0.40), (0.95, 0.30), (0.95, 0.25), (0.95, 0.28), (0.94, 0.10), (0.95, float("nan"))]
    improved = []
    for epoch, (acc, loss) in enumerate(history):
        s.epoch, s.val_metrics = epoch, {"accuracy": acc, "loss": loss}
        _track_best(s)  # type: ignore[arg-type]
        improved.append(s.improved)
    # Better accuracy always wins; an equal accuracy wins only with a lower loss; a lower accuracy never does.
    assert improved == [True, True, True, False, False, False]
    assert (s.best_epoch, s.best_metric, s.best_val_loss) == (2, 0.95, 0.25)
    # Monitoring the loss itself: no tie-break, the lowest loss is the best.
    s = SimpleNamespace(cfg=SimpleNamespace(monitor=("val_loss", "min")), best_metric=None, best_epoch=None,
                        best_val_loss=None, improved=False, epoch=0, val_metrics={})  # fmt: skip
    for epoch, loss in enumerate([0.5, 0.4, 0.4, 0.45]):
        s.epoch, s.val_metrics = epoch, {"accuracy": 0.9, "loss": loss}
        _track_best(s)  # type: ignore[arg-type]
    assert s.best_epoch == 1
