"""Who competes in a forecasting run, as names (issue 16): statsforecast's baselines for a seasonal period, dlexpert's
global deep forecasters, and the rule that picks the winner. No torch and no statsforecast here, so `dlexpert plan`
says what `dlexpert run` will backtest."""

from __future__ import annotations

# The deep candidates every forecasting run backtests: the linear baseline of deep forecasting, an MLP stack and a
# recurrent network (issue 16: "a global MLP/N-BEATS-style model, a DLinear/linear baseline and a TCN/LSTM").
DEEP_MODELS = ("dlinear", "nbeats", "lstm")
# The global tree model every forecasting run backtests beside them: LightGBM on lags through mlforecast, the M5
# competition's winning approach (Makridakis et al. 2022, IJF 38(4)).
GBM_MODEL = "LightGBM"
# Above this period a seasonal ARIMA is impractical (over 6 minutes for 843 weekly points at period 52 on 2 cores) and
# statsforecast's ETS fits no seasonal form (as R's ets): ARIMA runs without a season and MSTL carries it.
SEASONAL_ARIMA_MAX = 24
SEASONAL_NAIVE, AUTO_ETS = "SeasonalNaive", "AutoETS"
WITH_EXOG = "AutoARIMA+X"  # AutoARIMA with the exogenous columns known ahead as regressors
MAX_WINDOWS = 3
ENSEMBLE_SIZE = 3
SELECTION = (
    f"lowest mean MASE over up to {MAX_WINDOWS} rolling origins one horizon apart; the mean of the {ENSEMBLE_SIZE} "
    "best is a candidate too; a learned global model (a deep network or LightGBM) that loses to AutoETS there is not "
    "shipped, alone or averaged"
)


def baseline_names(season: int, *, exog: bool = False) -> list[str]:
    """statsforecast's models for this period, in the order they run: seasonal naive (naive when there is no
    season), naive beside it when there is one, AutoETS, AutoARIMA and AutoTheta; MSTL above SEASONAL_ARIMA_MAX;
    AutoARIMA+X when columns are known ahead."""
    names = [SEASONAL_NAIVE, *(["Naive"] if season > 1 else []), AUTO_ETS, "AutoARIMA", "AutoTheta"]
    if season > SEASONAL_ARIMA_MAX:
        names.append("MSTL")
    return names + ([WITH_EXOG] if exog else [])


def roster_note(planned: str, library: str, *, sequence_net: bool) -> str:
    """What `dlexpert run` backtests and ships for a forecasting task planned with `planned` (a catalog entry of
    `library`; `sequence_net`: one of dlexpert's networks for sequences, which `run` trains as a candidate), in words
    for the plan's Step 4."""
    runs = library == "dlexpert" and sequence_net and planned not in DEEP_MODELS
    deep = [*DEEP_MODELS, *([planned] if runs else [])]
    own = (
        f"the planned {planned} runs as one of them"
        if planned in deep
        else f"the planned {planned} ({library}) is not among them: it is the model to try at scale, and "
        "`dlexpert run` trains only its own window-in, horizon-out networks"
    )
    return (
        f"`dlexpert run` backtests statsforecast's {', '.join(baseline_names(12))} (AutoARIMA+X with columns known "
        f"ahead; seasonal naive is naive without a season), a global {GBM_MODEL} on lags and calendar features "
        f"(mlforecast) and dlexpert's {', '.join(deep)} on the same rolling origins, and ships the {SELECTION}; {own}"
    )
