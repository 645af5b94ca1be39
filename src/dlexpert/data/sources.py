"""One entry point for profiling whatever a user points at, so `dlexpert profile` and the agent tools read a source
the same way: series to forecast, a detection or segmentation folder, or a classification/regression dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dense import DenseProfile
    from .forecast.profile import ForecastProfile
    from .profile import DataProfile


def profile_source(
    src: str, *, target: str | None = None, test: str | None = None, image_size: int = 64, dropna: bool = False,
    horizon: int | None = None, freq: str | None = None, regression: bool = False,
) -> DataProfile | DenseProfile | ForecastProfile:  # fmt: skip
    """The profile of `src` (a built-in name or a path): a `ForecastProfile` when a `horizon` or `freq` is given or
    `src` is a built-in forecasting set, a `DenseProfile` for a COCO/YOLO/VOC or images+masks folder, else a
    `DataProfile` (of a table's numeric target when `regression`). Raises InvalidInputError with one line when `src`
    is unreadable."""
    from ..errors import InvalidInputError
    from .dense import is_dense_source, load_dense, profile_dense
    from .forecast import is_forecast_builtin, load_forecast
    from .forecast.profile import profile_forecast
    from .profile import profile_dataset

    if not src.strip():
        raise InvalidInputError("profile: the data source is empty; expected a built-in dataset name or a path")
    if horizon is not None or freq is not None or is_forecast_builtin(src):
        return profile_forecast(load_forecast(src, horizon=horizon, test=test, target=target, freq=freq))
    if is_dense_source(src):
        return profile_dense(load_dense(src, test=test))
    return profile_dataset(src, target=target, test=test, image_size=image_size, dropna=dropna, regression=regression)
