"""Tables as people hand them over: text, date and identifier columns turned into numbers, the way the training table
decided, so that a test table is encoded the same way.

Each non-numeric feature column is read as one of:
  - numbers with a few bad entries ("?" or "n/a" in 10% of rows or fewer): the bad entries become missing values,
    which the loader then reports like any other;
  - dates (ISO 8601 in 90% of the rows or more): days since 1970-01-01;
  - categories (at most `MAX_CATEGORIES` distinct values, and at most half as many as rows): one 0/1 column per
    category seen in training, named `column=value`; a missing or unseen value is all zeros (scikit-learn's
    OneHotEncoder with handle_unknown="ignore" does the same);
  - an identifier or free text (more distinct values than that, e.g. a car's model name): dropped, with a warning.
The decision is the layout `{"kind": "encoded", "columns": [...], "encoding": {...}}` that the profile shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MAX_CATEGORIES", "describe_encoding", "encode_columns"]

MAX_CATEGORIES = 30
NUMERIC_SHARE = 0.9  # a column whose values are numbers in this share of rows is numeric with bad entries
DATE_SHARE = 0.9


def encode_columns(
    df: Any, features: list[str], like: dict[str, Any] | None = None
) -> tuple[Any, list[str], dict[str, Any] | None, list[str]]:
    """`df` with its non-numeric feature columns encoded; the feature names after encoding, the layout that says how
    (None when nothing needed encoding), and one warning per decision. `like` is the training table's layout."""
    import pandas as pd

    plan: dict[str, Any] = dict(like["encoding"]) if like else {}
    if like is None:
        for c in features:
            if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
                plan[c] = _decide(df[c])
    if not plan:
        return df, features, None, []
    columns: dict[str, Any] = {}
    encoded: list[str] = []
    for c in features:
        how = plan.get(c)
        if how is None:
            columns[c] = df[c]
            encoded.append(c)
        elif how in ("number", "date"):
            columns[c] = _number(df[c]) if how == "number" else _days(df[c])
            encoded.append(c)
        elif isinstance(how, list):  # one 0/1 column per training category
            text = df[c].astype("string")
            for value in how:
                name = f"{c}={value}"
                columns[name] = (text == value).fillna(False).astype(np.float32)
                encoded.append(name)
    out = pd.DataFrame(columns, index=df.index)
    for c in df.columns:
        if c not in features:
            out[c] = df[c]
    layout = {"kind": "encoded", "columns": list(features), "encoding": plan}
    return out, encoded, layout, [] if like else [_say(c, how, df[c]) for c, how in plan.items()]


def _decide(col: Any) -> str | list[str]:
    import pandas as pd

    present = col.dropna()
    n = max(1, len(present))
    if pd.to_numeric(present, errors="coerce").notna().sum() >= NUMERIC_SHARE * n:
        return "number"
    if _parse_dates(present).notna().sum() >= DATE_SHARE * n:
        return "date"
    values = present.astype(str)
    distinct = values.nunique()
    if distinct <= MAX_CATEGORIES and distinct <= max(2, len(col) // 2):
        return sorted(values.unique().tolist())
    return "drop"


def _say(column: str, how: str | list[str], col: Any) -> str:
    if how == "number":
        bad = int(col.notna().sum() - _number(col).notna().sum())
        return f"column {column!r}: numbers with {bad} non-numeric entries, read as missing values"
    if how == "date":
        return f"column {column!r}: dates, read as days since 1970-01-01"
    if how == "drop":
        distinct = col.dropna().astype(str).nunique()
        return (f"column {column!r}: {distinct} distinct text values in {len(col)} rows, too many for categories "
                "(an identifier or free text); dropped")  # fmt: skip
    return f"column {column!r}: {len(how)} categories, one 0/1 column each ({', '.join(map(str, how[:5]))}" + (
        ", ...)" if len(how) > 5 else ")"
    )


def describe_encoding(how: str | list[str]) -> str:
    """One column's encoding (a layout's `encoding` value) in a few words."""
    if isinstance(how, list):
        return f"one-hot ({len(how)} categories)"
    return {"number": "numbers (non-numeric entries missing)", "date": "days since 1970-01-01", "drop": "dropped"}[how]


def _number(col: Any) -> Any:
    import pandas as pd

    return pd.to_numeric(col, errors="coerce")


def _parse_dates(col: Any) -> Any:
    import pandas as pd

    return pd.to_datetime(col.astype(str), errors="coerce", format="ISO8601", utc=True)  # offsets read, in UTC


def _days(col: Any) -> Any:
    stamps = _parse_dates(col).dt.tz_convert(None)
    return (stamps - np.datetime64("1970-01-01")).dt.total_seconds() / 86400.0
