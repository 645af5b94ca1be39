"""Forecasting (issue 16): the error measures on hand-counted cases, the scaled windows, the model choice by backtest,
and `dlexpert run` on a series table end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("statsforecast")

from dlexpert.forecast import interval_scores, mase_scale, point_errors  # noqa: E402
from dlexpert.forecast.windows import WindowSet, last_windows  # noqa: E402

from ..cli.test_bad_input import one_error_line  # noqa: E402
from ..cli.test_cli import in_process, run  # noqa: E402

torch.set_num_threads(1)

SPEC = "task: {type: forecasting, domain: time-series, specificTask: forecast monthly demand per product}\n"


def test_mase_smape_mae_rmse_on_a_case_counted_by_hand() -> None:
    history = np.array([10.0, 20, 10, 20, 10, 20])  # season 2: seasonal naive is exact in sample -> scale 0
    assert mase_scale(history, 2) == 15.0  # a zero scale falls back to the mean absolute level
    assert mase_scale(history, 1) == 10.0  # naive: |diff| is always 10
    e = point_errors(np.array([12.0, 18]), np.array([10.0, 20]), scale=10.0)
    assert e["mae"] == pytest.approx(2.0) and e["rmse"] == pytest.approx(2.0) and e["mase"] == pytest.approx(0.2)
    assert e["smape"] == pytest.approx((200 * 2 / 22 + 200 * 2 / 38) / 2)
    covered, pinball = interval_scores(np.array([9.0, 25]), np.array([11.0, 30]), np.array([10.0, 20]), 0.8, 1.0)
    assert covered == 0.5 and pinball > 0


def test_windows_are_scaled_by_their_own_input_and_unscaled_on_the_way_out() -> None:
    series = [np.arange(30.0) * 10 + 1000, np.arange(30.0)]  # levels 1000x apart
    ws = WindowSet(series, window=8, horizon=4)
    x, y = ws[len(ws) - 1]
    assert x.shape == (1, 8) and y.shape == (4,)
    assert abs(float(x.mean())) < 1e-5 and 0.5 < float(x.std(unbiased=False)) < 1.5  # z-scored by its input
    assert len(WindowSet(series, window=8, horizon=4, last_only=True)) == 2
    inputs, mean, std = last_windows(series, 8)
    restored = inputs[:, 0].numpy() * std[:, None] + mean[:, None]
    assert np.allclose(restored[0], series[0][-8:]) and np.allclose(restored[1], series[1][-8:], atol=1e-4)


def monthly_table(path: Path, *, n: int = 60, gap: bool = False) -> Path:
    """Three products, monthly, trend + yearly cycle + noise; `gap` drops one month of one series."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2019-01-01", periods=n, freq="MS")
    frames = []
    for k in range(3):
        t = np.arange(n)
        y = 50 * (k + 1) + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12 + k) + rng.normal(0, 1.5, n)
        frames.append(pd.DataFrame({"unique_id": f"p{k}", "ds": ds, "y": y.round(2)}))
    df = pd.concat(frames, ignore_index=True)
    if gap:
        df = df.drop(index=10)
    df.to_csv(path, index=False)
    return path


def test_run_backtests_the_candidates_ships_the_winner_and_documents_it(tmp_path: Path) -> None:
    data, out, spec = monthly_table(tmp_path / "demand.csv"), tmp_path / "run", tmp_path / "task.yaml"
    spec.write_text(SPEC)
    r = run("run", str(spec), "--data", str(data), "--horizon", "6", "--out", str(out), "--epochs", "2",
            "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["task"] == "forecasting" and {"mase", "smape", "mae", "rmse"} <= set(ev["metrics"])
    f = ev["forecast"]
    names = {c["model"]: c for c in f["candidates"]}
    assert {"SeasonalNaive", "AutoETS", "AutoARIMA", "LightGBM", "dlinear", "nbeats", "lstm"} <= set(names)
    assert names["LightGBM"]["kind"] == "gbm" and (out / names["LightGBM"]["run_dir"] / "model.txt").is_file()
    best = min(f["candidates"], key=lambda c: c["backtest"]["mase"])
    assert f["shipped"] == best["model"] and ev["model"] == f["shipped"]  # the lowest backtest MASE ships
    assert ev["metrics"]["mase"] == pytest.approx(names[f["shipped"]]["test"]["mase"])
    assert names["AutoETS"]["test"]["mase"] < names["Naive"]["test"]["mase"]  # a trend + season: ETS beats naive
    assert len(f["per_series"]) == 3 and f["horizon"] == 6 and f["season"] == 12
    for c in f["candidates"]:  # each series' own backtest figure, in the order of per_series
        assert len(c["backtest_mase_per_series"]) == 3
        assert np.mean(c["backtest_mase_per_series"]) == pytest.approx(c["backtest"]["mase"])
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert len(forecasts) == 18 and {"y", "forecast", "AutoETS", "nbeats"} <= set(forecasts.columns)
    decisions = json.loads((out / "decisions.json").read_text())
    assert (
        decisions["forecast"]["deep"][:3] == ["dlinear", "nbeats", "lstm"]
        and "2 epochs" in decisions["forecast"]["recipe"]
        and "lags 1, 2, 3, 12, 24" in decisions["forecast"]["trees"]  # 60 points before the first origin hold 2 seasons
    )
    planned = decisions["model"]["name"]
    assert planned in decisions["forecast"]["deep"] or decisions["forecast"]["replaces"]  # the plan runs, or why not
    for name in ("final", "backtest"):
        assert (out / "models" / "nbeats" / name / "metrics.jsonl").exists()  # the engine's own run folders
    card = (out / "MODEL_CARD.md").read_text()
    assert f["shipped"] in card and "Seasonal naive MASE" in card
    assert all((out / p).exists() for p in ev["figures"].values())
    again = run("card", str(out))
    assert again.returncode == 0, again.stderr
    assert run("card", str(out), "--check").returncode == 0
    page = (out / "report.html").read_text()
    assert "data:image/png;base64" in page and 'data-metric="mase"' in page
    (out / "MODEL_CARD.md").write_text("edited by hand\n")
    assert run("card", str(out), "--check").returncode == 1
    exported = run("export", str(out), "--format", "json")  # a deep forecaster, parity on the run's own windows
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)
    assert report["parity"]["passed"] and "real windows" in " ".join(report["notes"])
    one_error_line(run("run", str(spec), "--data", str(data), "--horizon", "6", "--out", str(out)), "already holds")


def test_run_refuses_bad_series_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "task.yaml"
    spec.write_text(SPEC)
    gap = monthly_table(tmp_path / "gap.csv", gap=True)
    one_error_line(in_process("run", str(spec), "--data", str(gap), "--horizon", "6", "--out", str(tmp_path / "o1")),
                   "series 'p0': 2019-11-01 is missing")  # fmt: skip
    data = monthly_table(tmp_path / "ok.csv")
    one_error_line(in_process("run", str(spec), "--data", str(data), "--out", str(tmp_path / "o2")),
                   "no forecast horizon")  # fmt: skip
    assert not (tmp_path / "o1").exists()  # nothing written for refused data
    bad = in_process("run", str(spec), "--data", str(data), "--horizon", "6", "--exog", "price,", "--out",
                     str(tmp_path / "o3"))  # fmt: skip
    one_error_line(bad, "--exog 'price,': expected column names separated by commas")


def test_series_too_short_for_every_window_are_forecast_but_not_backtested() -> None:
    from dlexpert.data.forecast import ForecastData, Series
    from dlexpert.forecast import backtest_scope

    def series(name: str, n: int) -> Series:
        return Series(name, np.arange(n, dtype=np.int64), np.arange(n, dtype=np.float64))

    train = [series("long", 40), series("mid", 20), series("short", 12)]
    data = ForecastData(source="t", format="long", freq="step", season=1, horizon=6, horizon_source="--horizon",
                        train=train, test=[series(s.id, 6) for s in train], version="v", test_source="t")  # fmt: skip
    scope = backtest_scope(data)
    assert scope.series == [0, 1] and scope.windows == 2  # "mid": 20 = 8 points of history + 2 windows of 6


def test_profile_and_datasets_know_the_built_in_series() -> None:
    r = run("profile", "store-sales", "--format", "text")
    assert r.returncode == 0 and "6 series of 702-702 points" in r.stderr and "season 7" in r.stderr
    listed = run("datasets")
    assert "store-sales" in listed.stdout and "[forecasting]" in listed.stdout


def test_the_statistical_backtest_follows_each_series_own_end() -> None:
    """Series that end at different times have different cutoffs; window w is each one's w-th (M1's yearly series
    end in different years)."""
    from dlexpert.data.forecast import ForecastData, Series
    from dlexpert.forecast import stats

    a = Series("a", np.arange(30, dtype=np.int64), np.arange(30, dtype=np.float64))
    b = Series("b", np.arange(5, 40, dtype=np.int64), 100 + np.arange(35, dtype=np.float64))
    data = ForecastData(source="t", format="long", freq="step", season=1, horizon=4, horizon_source="--horizon",
                        train=[a, b], test=[a, b], version="v", test_source="t")  # fmt: skip
    naive, _ = stats.backtest(data, 2)["SeasonalNaive"]  # season 1: the last value before each origin
    assert np.allclose(naive[0][0], 21) and np.allclose(naive[1][0], 25)  # a: origins at 22 and 26
    assert np.allclose(naive[0][1], 126) and np.allclose(naive[1][1], 130)  # b: its 35 points end later


def test_a_long_season_gets_a_non_seasonal_arima_and_mstl_with_the_reason() -> None:
    from dlexpert.forecast.stats import model_notes, statistical_models

    monthly = [repr(m) for m in statistical_models(12, longest=120, exog=True)]
    assert monthly == ["SeasonalNaive", "Naive", "AutoETS", "AutoARIMA", "AutoTheta", "AutoARIMA+X"]
    assert not model_notes(12, longest=120)
    assert [repr(m) for m in statistical_models(1, longest=40)][:2] == ["SeasonalNaive", "AutoETS"]
    weekly = statistical_models(52, longest=800)
    assert [repr(m) for m in weekly][-1] == "MSTL" and weekly[3].season_length == 1  # ARIMA without its season
    assert "period 52" in model_notes(52, longest=800)[0]


def test_arima_approximates_its_order_search_as_r_does_on_long_series_or_seasons() -> None:
    from dlexpert.forecast.stats import model_notes, statistical_models

    short, long = (statistical_models(7, longest=n)[3] for n in (150, 151))
    assert repr(short) == repr(long) == "AutoARIMA" and not short.approximation and long.approximation
    assert statistical_models(24, longest=60)[3].approximation  # a period over 12
    assert "conditional sums of squares" in model_notes(7, longest=1447)[0] and not model_notes(7, longest=150)


def test_deep_models_without_a_backtest_window_are_left_out_and_the_run_says_why(tmp_path: Path) -> None:
    """48 monthly points and a 12-month horizon: two backtest windows leave 24 points, too few for a deep training
    window before their own validation horizon. The statistical models still run and one ships."""
    data, spec, out = monthly_table(tmp_path / "short.csv", n=48), tmp_path / "task.yaml", tmp_path / "run"
    spec.write_text(SPEC)
    track = ["--track", f"mlflow:sqlite:///{tmp_path / 'mlflow.db'}"] if importlib.util.find_spec("mlflow") else []
    r = run("run", str(spec), "--data", str(data), "--horizon", "12", "--out", str(out), "--format", "json", *track)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)["forecast"]
    assert {c["kind"] for c in f["candidates"]} == {"baseline", "gbm", "ensemble"} and f["shipped_kind"] != "deep"
    assert "cannot be backtested" in f["skipped"][0]
    assert "Not a candidate" in (out / "MODEL_CARD.md").read_text()
    assert not (out / "models" / "nbeats").exists()
    trees = json.loads((out / "decisions.json").read_text())["forecast"]["trees"]
    assert "lags 1, 2, 3;" in trees  # 24 points before the first origin: no lag of a season or two
    if track:  # --track: every candidate's MASE and what shipped, in MLflow (artifacts beside the database)
        from mlflow.tracking import MlflowClient

        tracked = MlflowClient(track[1].removeprefix("mlflow:")).get_run(
            json.loads((out / "tracking.json").read_text())["run_id"]
        )
        assert tracked.data.tags["dlexpert.shipped"] == f["shipped"] and tracked.info.status == "FINISHED"
        assert tracked.data.metrics["backtest_mase.AutoETS"] == pytest.approx(
            next(c["backtest"]["mase"] for c in f["candidates"] if c["model"] == "AutoETS")
        )
        assert (tmp_path / "mlartifacts").is_dir()


def test_the_trees_read_lags_that_fit_the_shortest_history_and_need_enough_rows() -> None:
    from dlexpert.data.forecast import ForecastData, Series
    from dlexpert.forecast.gbm import MIN_ROWS, gbm_setup

    def data(n_series: int, freq: str = "MS", season: int = 12) -> ForecastData:
        s = [Series(f"s{i}", np.arange(40, dtype=np.int64), np.arange(40.0)) for i in range(n_series)]
        return ForecastData("t.csv", "long", freq, season, 6, "--horizon", s, s, "v", "tail")

    one = gbm_setup(data(1), [50])  # 50 points: lags of one and two seasons fit (24 <= 50 - 6 - 2), 25 rows
    assert one is not None and one.lags == [1, 2, 3, 12, 24] and one.date_features == ["month"]
    assert one.warm_up == 25 and "calendar month" in one.describe()
    assert gbm_setup(data(1), [40]) is None  # 40 - 25 = 15 rows of every feature, under MIN_ROWS
    many = gbm_setup(data(3), [20, 20, 20])  # no lag of two seasons, so three series give 3 x (20 - 13) rows
    assert many is not None and many.lags == [1, 2, 3, 12] and 3 * (20 - many.warm_up) >= MIN_ROWS
    assert gbm_setup(data(1, "QS-OCT", 4), [50]).date_features == ["quarter"]  # type: ignore[union-attr]
    assert gbm_setup(data(1, "15min", 96), [400]).date_features == ["hour", "dayofweek"]  # type: ignore[union-attr]
    assert gbm_setup(data(1, "YS", 1), [50]).date_features == []  # type: ignore[union-attr]


def test_conformal_intervals_widen_with_the_backtest_errors_and_the_level() -> None:
    from dlexpert.forecast.choose import conformal_intervals

    residuals = np.tile(np.arange(1.0, 21.0)[:, None], (1, 3)) / 10  # 20 errors per step: 0.1 ... 2.0
    out = conformal_intervals([np.zeros(3), np.ones(3)], residuals, scales=[1.0, 2.0])
    # 80%: ceil(21 x 0.8) / 20 = 0.85 quantile = 1.715; 95%: ceil(21 x 0.95) / 20 = 1.0, the largest error (2.0)
    assert np.allclose(out["hi-80"][0], 1.715) and np.allclose(out["lo-95"][0], -2.0)
    assert np.allclose(out["hi-95"][1], 1 + 2.0 * 2)  # scaled by the series' own MASE scale


def test_a_column_known_ahead_is_led_by_the_horizon_in_the_deep_inputs() -> None:
    from dlexpert.forecast.windows import channel_stack

    values, promo = np.arange(10.0), np.arange(100.0, 112.0)  # promo known 2 steps past the values' end
    stack = channel_stack(values, horizon=2, past=[values * 2], future=[promo])
    assert stack.shape == (3, 10) and np.array_equal(stack[2], promo[2:12])  # step i reads promo at i + H
    unknown = channel_stack(values, horizon=2, future=[promo[:10]])
    assert np.isnan(unknown[1, -2:]).all() and not np.isnan(unknown[1, :-2]).any()
    x, y = WindowSet([stack], window=4, horizon=2)[0]
    assert x.shape == (3, 4) and y.shape == (2,)


# ~30 s: a whole forecasting run with a column known ahead. Its parts run fast: the deep inputs
# (test_a_column_known_ahead_is_led_by_the_horizon_in_the_deep_inputs), the run (the two runs above), a bad --exog
# (test_run_refuses_bad_series_in_one_line); `make test-all` runs it.
@pytest.mark.slow
def test_a_promotion_known_ahead_is_used_and_the_backtest_judges_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, ds = 84, pd.date_range("2020-01-06", periods=84, freq="D")
    frames = []
    for k in range(2):
        promo = (rng.random(n) < 0.3).astype(int)  # sales jump by 40 on promotion days
        y = 100 + 20 * k + 40 * promo + rng.normal(0, 2, n)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y.round(2), "promo": promo}))
    data, spec = tmp_path / "promo.csv", tmp_path / "task.yaml"
    pd.concat(frames).to_csv(data, index=False)
    spec.write_text(SPEC)
    r = run("run", str(spec), "--data", str(data), "--horizon", "8", "--known-future", "promo", "--out",
            str(tmp_path / "run"), "--epochs", "3", "--no-monitor", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)["forecast"]
    names = {c["model"]: c for c in f["candidates"]}
    assert names["AutoARIMA+X"]["test"]["mase"] < 0.5 * names["AutoARIMA"]["test"]["mase"]  # the promotion explains
    assert names["AutoARIMA+X"]["backtest"]["mase"] < names["AutoETS"]["backtest"]["mase"]  # and the backtest sees it
    decisions = json.loads((tmp_path / "run" / "decisions.json").read_text())["forecast"]
    assert "AutoARIMA+X" in decisions["baselines"] and any("known ahead: promo" in n for n in decisions["notes"])
    config = (tmp_path / "run" / "models" / "dlinear" / "final" / "config.yaml").read_text()
    assert "- 2\n" in config  # two input channels: the target and the promotion
