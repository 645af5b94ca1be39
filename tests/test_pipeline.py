"""What was planned is what runs: decisions.json, plan.json and config.yaml agree; a fallback is a planned decision;
`train PLAN` trains the plan without planning again; `--resume` keeps the run's own decisions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from dlexpert.errors import InvalidInputError  # noqa: E402
from dlexpert.pipeline import load_plan_or_task, train  # noqa: E402
from dlexpert.rundir import RunDir  # noqa: E402
from dlexpert.schema import load_task, parse_task  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402

PHOTOS = {"task": {"type": "classification", "domain": "CV", "specificTask": "cat vs dog photos"},
          "constraints": {"computeResources": "CPU (2 cores)"}}  # fmt: skip


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two classes of 20 px grayscale images: a bright square top-left vs bottom-right, with noise."""
    from PIL import Image

    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for label, corner in (("tl", (2, 2)), ("br", (11, 11))):
        (root / label).mkdir()
        for i in range(24):
            img = rng.integers(0, 80, (20, 20)).astype(np.uint8)
            y, x = corner
            img[y : y + 7, x : x + 7] = 230
            Image.fromarray(img).save(root / label / f"{i:02d}.png")
    return root


def _agree(run: RunDir) -> None:
    decisions, plan, config = run.decisions(), run.plan(), run.config()
    assert plan.decisions == decisions
    assert config.model_record == decisions.model
    assert config.recipe == decisions.training.recipe and config.catalog_model == decisions.training.catalog_name
    train_cfg = config.train
    assert train_cfg["lr"] == decisions.training.lr and train_cfg["batch_size"] == decisions.training.micro_batch
    assert train_cfg["scheduler"] == decisions.training.scheduler
    assert train_cfg["early_stopping_patience"] == decisions.training.early_stopping_patience


def test_a_pretrained_first_choice_that_cannot_load_offline_is_a_planned_fallback(
    tmp_path: Path, image_folder: Path
) -> None:
    torch.set_num_threads(1)
    out = tmp_path / "run"
    trained = train(parse_task(PHOTOS), data=str(image_folder), out_dir=out, epochs=2, progress=False, monitor=False)
    run = RunDir(out)
    decisions = run.decisions()
    fallback = decisions.fallback
    assert fallback is not None and fallback.fetch_command and "not in the local cache" in fallback.reason
    # The replacement is planned in full: a from-scratch CNN with a from-scratch recipe, sized for the data.
    assert decisions.model.library == "dlexpert" and decisions.model.adaptation == "scratch"
    assert decisions.training.architecture == "CNN" and "scratch" in decisions.training.recipe
    assert decisions.model.input_shape == [1, 20, 20] and decisions.model.n_classes == 2  # small images kept small
    assert run.plan().modelDesign.pretrainedModel is None
    assert any(w.startswith("fallback:") for w in run.plan().warnings)
    assert any(w.startswith("fallback:") for w in trained.warnings)
    _agree(run)


def test_train_a_plan_trains_what_it_says_and_resume_keeps_the_decisions(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    first = tmp_path / "first"
    train(load_task(EXAMPLES / "digits.yaml"), data="digits", out_dir=first, epochs=1, progress=False, monitor=False)
    # The plan alone (plan.json holds its decisions) is trained again elsewhere, without planning; a run's
    # decisions.json reads the same, with the plan beside it.
    plan = load_plan_or_task(str(first / RunDir.PLAN))
    assert load_plan_or_task(str(first / RunDir.DECISIONS)) == plan
    second = tmp_path / "second"
    train(plan, data="digits", out_dir=second, epochs=1, progress=False, monitor=False)  # type: ignore[arg-type]
    assert RunDir(second).decisions() == RunDir(first).decisions()
    assert not (second / RunDir.TASK).exists()  # nothing was planned from a task
    _agree(RunDir(second))

    # Resuming on "another machine" (a GPU profile would plan bf16 and a larger batch) keeps the run's own recipe.
    before = yaml.safe_load((second / RunDir.CONFIG).read_text())["train"]
    decisions_text = (second / RunDir.DECISIONS).read_text()
    train(plan, data="digits", out_dir=second, epochs=2, resume=True, hardware="a100", progress=False, monitor=False)  # type: ignore[arg-type]
    after = yaml.safe_load((second / RunDir.CONFIG).read_text())["train"]
    assert {k: v for k, v in after.items() if k != "epochs"} == {k: v for k, v in before.items() if k != "epochs"}
    assert (second / RunDir.DECISIONS).read_text() == decisions_text


def test_a_refused_resume_rewrites_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / RunDir.PLAN).write_text("{}")
    with pytest.raises(InvalidInputError, match="no checkpoint to resume from"):
        train(load_task(EXAMPLES / "digits.yaml"), data="digits", out_dir=out, resume=True, progress=False)
    assert (out / RunDir.PLAN).read_text() == "{}" and not (out / RunDir.PROFILE).exists()


def test_a_regression_table_trains_a_regressor_and_ships_what_wins_step4(tmp_path: Path) -> None:
    """Issue 12: a house-price table was planned as regression but trained as one class per distinct price (sklearn's
    diabetes targets: 214 classes), then refused. Now the run reads the prices as numbers, trains the MLP on the
    standardised target with its output in dollars, and Step 4 weighs it against ridge and the trees by validation
    R^2; the prices here are linear in the features, so a baseline must not lose to the mean."""
    import pandas as pd

    from dlexpert.pipeline import run

    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"rooms": rng.integers(1, 6, n), "area": rng.normal(80, 20, n)})
    frame["price"] = (1000 * (frame["rooms"] * 40 + frame["area"]) + rng.normal(0, 5000, n)).round().astype(int)
    frame.to_csv(tmp_path / "houses.csv", index=False)
    spec = parse_task({"task": {"type": "house price prediction", "domain": "tabular", "specificTask": "prices"},
                       "constraints": {"computeResources": "CPU (2 cores)"}})  # fmt: skip
    out = tmp_path / "run"
    result = run(spec, data=str(tmp_path / "houses.csv"), target="price", out_dir=out, epochs=30, progress=False,
                 latency=False)  # fmt: skip
    assert result.decisions.model.task == "regression" and result.decisions.model.n_classes == 1
    assert result.metrics["r2"] > 0.5 and result.metrics["rmse"] < frame["price"].std()  # in dollars, not scaled
    ev = RunDir(out).evaluation()
    assert ev.baseline.metric == "r2" and ev.baseline.majority is not None and ev.baseline.linear is not None
    assert ev.baseline.linear.metrics["r2"] > 0.9 and abs(ev.baseline.majority.metrics["r2"]) < 0.1
    assert ev.baseline.choice is not None and ev.baseline.choice.metric == "r2"
    if ev.deliverable is not None:
        assert ev.deliverable.metric == "r2" and (out / ev.deliverable.path).is_file()
        assert "predicted_value = model.predict" in ev.deliverable.load
    assert RunDir(out).profile().target is not None
    from dlexpert.compress import compress

    half = compress(out, method="fp16")  # scored by the same R2 on the same test split
    assert abs(half.baseline_accuracy - result.metrics["r2"]) < 1e-6 and abs(half.accuracy_drop) < 1.0


def test_a_regression_whose_test_targets_are_all_equal_still_evaluates(tmp_path: Path) -> None:
    """R2 is not defined on a test split of equal targets (20 rows, 17 of them 1.0: seed 1 draws four 1.0s). The
    evaluation reported an internal error (KeyError 'r2') when the baseline shipped; it now leaves the score out."""
    import pandas as pd

    from dlexpert.pipeline import run

    pd.DataFrame({"a": np.arange(20.0), "y": [1.0] * 17 + [2.0, 3.0, 5.0]}).to_csv(tmp_path / "t.csv", index=False)
    spec = parse_task({"task": {"type": "regression", "domain": "tabular", "specificTask": "y"},
                       "constraints": {"computeResources": "CPU (2 cores)"}})  # fmt: skip
    out = tmp_path / "run"
    result = run(spec, data=str(tmp_path / "t.csv"), target="y", out_dir=out, epochs=3, seed=1, progress=False,
                 latency=False)  # fmt: skip
    assert "r2" not in result.metrics and "mae" in result.metrics
    ev = RunDir(out).evaluation()
    assert ev.deliverable is None or ev.deliverable.test_accuracy is None


def test_a_plan_without_decisions_is_one_clear_line(tmp_path: Path) -> None:
    from dlexpert.advisor import advise

    plan = advise(load_task(EXAMPLES / "digits.yaml"), assume_defaults=True)
    old = tmp_path / "plan.json"
    old.write_text(plan.model_dump_json(exclude={"decisions"}))
    with pytest.raises(InvalidInputError, match=r"plan\.json: a plan without `decisions`"):
        load_plan_or_task(str(old))
    bad = json.loads(plan.model_dump_json())
    bad["decisions"]["training"]["lr"] = -1
    old.write_text(json.dumps(bad))
    with pytest.raises(InvalidInputError, match=r"decisions\.training\.lr"):
        load_plan_or_task(str(old))


def test_run_dir_readers_name_the_file(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with pytest.raises(InvalidInputError, match=r"has no decisions\.json"):
        run.decisions()
    (tmp_path / RunDir.DECISIONS).write_text('{"version": 99}')
    with pytest.raises(InvalidInputError, match="newer dlexpert"):
        run.decisions()
    (tmp_path / RunDir.DECISIONS).write_text('{"version": 1, "model": {}}')
    with pytest.raises(InvalidInputError, match=r"decisions.json: `model.library`"):
        run.decisions()
    (tmp_path / RunDir.CONFIG).write_text("epochs: [")
    with pytest.raises(InvalidInputError, match=r"config\.yaml: line 1, column 10: invalid YAML"):
        run.config()


def test_a_network_that_loses_to_the_linear_baseline_on_validation_ships_the_baseline(tmp_path: Path) -> None:
    """Step 4 acted on: one epoch of a small ResNet is no match for the simple baselines on 8x8 digits."""
    from dlexpert.data import load_data
    from dlexpert.pipeline import run
    from dlexpert.report.deliverable import load_deliverable

    torch.set_num_threads(1)
    out = tmp_path / "run"
    result = run(load_task(EXAMPLES / "digits.yaml"), data="digits", out_dir=out, epochs=1, progress=False,
                 monitor=False, latency=False)  # fmt: skip
    ev = RunDir(out).evaluation()
    assert ev.baseline.winner_on_validation is not None and ev.deliverable is not None
    assert ev.baseline.choice is not None and not ev.baseline.choice.network_ships
    assert ev.deliverable.val_accuracy > ev.deliverable.model_val_accuracy
    assert any("the run ships it" in w for w in result.warnings)
    # The shipped file is the very model the evaluation scored, and loads without pickle.
    splits = load_data("digits", seed=0)
    model = load_deliverable(out)
    acc = float((model.predict(splits.x_test.reshape(len(splits.y_test), -1)) == splits.y_test).mean())
    assert acc == pytest.approx(ev.deliverable.test_accuracy)
    card = (out / RunDir.CARD).read_text()
    assert f"**Deliverable: the {ev.deliverable.model}" in card and ev.deliverable.path in card
    assert f"How it was chosen: {ev.baseline.choice.rule}" in card
    best = max([ev.baseline.linear, *ev.baseline.strong], key=lambda b: b.val_accuracy or 0)  # type: ignore[union-attr]
    assert ev.deliverable.val_accuracy == best.val_accuracy  # the best on validation ships, not the best on test


def _series_splits(amplitudes: np.ndarray) -> object:
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 6, 32))[None, None] * amplitudes[:, None, None] + 0.01 * rng.normal(
        size=(len(amplitudes), 1, 32)
    )
    return SimpleNamespace(modality="sequence", x_train=x, n_classes=2, input_shape=(1, 32))


@pytest.mark.parametrize(("amplitudes", "normalised"), [(np.geomspace(1e-4, 460, 40), True), (np.ones(40), False)])
def test_series_whose_amplitudes_differ_by_orders_of_magnitude_are_normalised_one_by_one(
    amplitudes: np.ndarray, normalised: bool
) -> None:
    from dlexpert.pipeline import _fit_to_data
    from dlexpert.schema.decisions import Decisions, ModelRecord

    base = Decisions.model_construct(model=ModelRecord(library="dlexpert", name="cnn1d"), notes=[])
    decisions = _fit_to_data(base, _series_splits(amplitudes))
    assert decisions.model.options.get("per_sample_norm", False) is normalised
    assert bool(decisions.notes) is normalised and all("amplitudes differ" in n for n in decisions.notes)
    again = _fit_to_data(decisions, _series_splits(amplitudes))  # a resumed run or a given plan: decided once
    assert again.notes == decisions.notes


def test_a_table_as_people_keep_it_runs_end_to_end(tmp_path: Path) -> None:
    # Categories, a date, an id per row, a "?" for unknown: encoded, carded, and re-read the same way by evaluate.
    import pandas as pd

    from dlexpert.pipeline import run

    rng = np.random.default_rng(0)
    n = 120
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "size": (y * 2 + rng.normal(0, 0.5, n)).round(3).astype(str),
        "colour": np.where(y == 1, "red", "blue"),
        "bought": pd.date_range("2021-01-01", periods=n).strftime("%Y-%m-%d"),
        "name": [f"item {i}" for i in range(n)],
        "label": np.array(["no", "yes"])[y],
    })  # fmt: skip
    frame.loc[3, "size"] = "?"
    frame.to_csv(tmp_path / "items.csv", index=False)
    spec = parse_task({"task": {"type": "classification", "domain": "time-series", "specificTask": "items"},
                       "constraints": {"computeResources": "CPU (2 cores)"}})  # fmt: skip
    out = tmp_path / "run"
    run(spec, data=str(tmp_path / "items.csv"), out_dir=out, target="label", dropna=True, epochs=2, progress=False,
        latency=False)  # fmt: skip
    assert RunDir(out).config().data.dropna is True
    assert RunDir(out).profile().layout["encoding"]["name"] == "drop"  # type: ignore[index]
    card = (out / "MODEL_CARD.md").read_text()
    assert "`colour` one-hot (2 categories)" in card and "`bought` days since 1970-01-01" in card
    evaluation = json.loads((out / "evaluation.json").read_text())  # the colour alone gives the label
    delivered = (evaluation.get("deliverable") or {}).get("test_accuracy") or evaluation["metrics"]["accuracy"]
    assert delivered > 0.9


def test_a_table_ships_the_planned_trees_unless_the_network_beats_them(tmp_path: Path) -> None:
    """Tables plan gradient-boosted trees first and the network as their challenger; the run fits both on the same
    splits and says which ships. On thresholds crossed with each other, one epoch of the MLP does not beat the trees."""
    import pandas as pd

    from dlexpert.pipeline import run

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n = 1500
    a, b, c = rng.normal(size=(3, n))
    frame = pd.DataFrame({"tenure": a, "calls": b, "noise": c, "churned": ((a > 0.3) ^ (b > -0.2)).astype(int)})
    frame.to_csv(tmp_path / "customers.csv", index=False)
    spec = parse_task({"task": {"type": "classification", "domain": "tabular", "specificTask": "customer churn"},
                       "constraints": {"computeResources": "CPU (2 cores)"}})  # fmt: skip
    out = tmp_path / "run"
    result = run(spec, data=str(tmp_path / "customers.csv"), out_dir=out, target="churned", epochs=1, progress=False,
                 monitor=False, latency=False)  # fmt: skip
    run_dir = RunDir(out)
    assert run_dir.plan().modelDesign.architecture.startswith("gradient-boosted trees")
    task = run_dir.decisions().task
    assert task is not None and task.first_model == "hist_gradient_boosting"
    ev = run_dir.evaluation()
    assert ev.deliverable is not None and ev.deliverable.path.endswith("hist_gradient_boosting.skops")
    assert ev.deliverable.test_accuracy > 0.9
    assert "(the plan's first model); the challenger network does not beat it" in ev.deliverable.reason
    assert any(w.startswith(ev.deliverable.reason) for w in result.warnings)
    # The shipped trees are benchmarked like the network: `bench` times their predict() on the run's test rows.
    from dlexpert.deploy import benchmark

    report = benchmark(str(out), batch_sizes=[1, 8], backends=["eager", "deliverable"], warmup=1, iters=5,
                       max_time_s=0.2, save=False)  # fmt: skip
    timed = {(r["backend"], r["batch_size"]): r for r in report.results}
    assert timed[("deliverable", 8)]["latency_ms_p50"] > 0 and "max_abs_diff" not in timed[("deliverable", 8)]
    assert timed[("deliverable", 1)]["size_mb"] > 0
