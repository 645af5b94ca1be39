"""Property tests of the input boundary (issue 17, with hypothesis): the quantity parsers stay fast on long hostile
strings and read powers of ten; the strict YAML reader and the training-log readers return a value or one
`InvalidInputError` line for any text or bytes, never another exception."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dlexpert._input import MAX_DEPTH, load_yaml
from dlexpert.diagnose.readers import read_history
from dlexpert.errors import InvalidInputError
from dlexpert.schema._quantity import parse_budget, parse_compute, parse_data_size, parse_latency

NUMERIC = "0123456789-+eE^x*., <>%GBMkms"


@settings(max_examples=20, deadline=None)
@given(text=st.text(alphabet=NUMERIC, min_size=2_000, max_size=12_000))
@example(text=">50ms " + "x" * 3000)  # found by this test: the lower-bound message quoted the whole input
@example(text="1.1." * 2000 + "ms")  # a number regex retried from every digit of one long token: 3 s for a latency
def test_quantity_parsers_stay_fast_on_long_numeric_noise(text: str) -> None:
    for parser in (parse_data_size, parse_budget, parse_latency, parse_compute):
        t = time.perf_counter()
        try:
            parser(text)
        except ValueError as exc:
            assert len(str(exc)) < 700  # the input is clipped, never echoed whole
        assert time.perf_counter() - t < 1.0, parser.__name__


@given(mantissa=st.integers(min_value=1, max_value=999), exponent=st.integers(min_value=0, max_value=12),
       form=st.sampled_from(["{m} x 10^{k}", "{m}×10^{k}", "{m} * 10**{k}", "{m}e{k}"]))  # fmt: skip
def test_powers_of_ten_are_read_as_written(mantissa: int, exponent: int, form: str) -> None:
    value = mantissa * 10**exponent
    text = form.format(m=mantissa, k=exponent) + " images"
    if value > 1e15:
        with pytest.raises(ValueError, match="plausible"):
            parse_data_size(text)
    else:
        assert parse_data_size(text).n_samples == value


@given(text=st.text(max_size=300))
def test_the_strict_yaml_reader_returns_a_value_or_one_line(text: str) -> None:
    try:
        load_yaml(text, source="fuzz.yaml")
    except InvalidInputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.yaml")


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(min_value=1, max_value=3000))
def test_nesting_is_refused_past_the_limit_and_read_below_it(depth: int) -> None:
    text = "[" * depth + "]" * depth
    if depth <= MAX_DEPTH:
        assert load_yaml(text, source="deep.yaml") is not None
    else:
        with pytest.raises(InvalidInputError, match="nested deeper"):
            load_yaml(text, source="deep.yaml")


_CELL = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=8), st.just(""))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(["step,loss", "epoch,loss,val_loss", "step,train_loss,lr,grad_norm", "a,b"]),
       rows=st.lists(st.lists(_CELL, min_size=0, max_size=5), max_size=30),
       suffix=st.sampled_from([".csv", ".jsonl", ".json", ".txt"]))  # fmt: skip
def test_a_log_reader_returns_a_history_or_one_line(header: str, rows: list[list[str]], suffix: str) -> None:
    body = header + "\n" + "\n".join(",".join(r) for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log{suffix}"
        path.write_text(body)
        try:
            history = read_history(path)
        except InvalidInputError as exc:
            assert "\n" not in str(exc)
        else:
            assert not history.is_empty()


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=2_000), suffix=st.sampled_from([".csv", ".jsonl", ".json", ".log"]))
def test_a_log_reader_survives_any_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log{suffix}"
        path.write_bytes(data)
        try:
            read_history(path)
        except InvalidInputError as exc:
            assert "\n" not in str(exc)


def test_a_recursive_alias_is_refused() -> None:
    for text in ("a: &a [*a]", "a: &a {b: *a}"):
        with pytest.raises(InvalidInputError, match="nested deeper"):
            load_yaml(text, source="loop.yaml")


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefghij", "bcdefghijk", strict=True)
    )
    t = time.perf_counter()
    with pytest.raises(InvalidInputError, match="aliases expand to"):
        load_yaml(bomb, source="bomb.yaml")
    assert time.perf_counter() - t < 1.0 and math.isfinite(t)
