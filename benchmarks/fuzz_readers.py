"""A coverage-guided fuzz target (atheris, libFuzzer) for the input boundary of issue 17: the strict YAML reader and
the task-spec validator, the quantity parsers, and the CSV and JSON-lines log parsers. Whatever bytes come in, each
must return a value or raise `InvalidInputError` / `ValueError`; anything else is a crash libFuzzer reports with the
input that caused it.

    pip install -e .[bench]                    # atheris
    python benchmarks/fuzz_readers.py -max_total_time=60 -max_len=4096 [corpus_dir]
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from dlexpert._input import load_yaml
    from dlexpert.diagnose.history import RunHistory
    from dlexpert.diagnose.readers._table import Sink
    from dlexpert.diagnose.readers.csvlog import parse_csv
    from dlexpert.diagnose.readers.jsonlog import parse_jsonl
    from dlexpert.errors import InvalidInputError
    from dlexpert.schema import parse_task
    from dlexpert.schema._quantity import parse_budget, parse_compute, parse_data_size, parse_latency

EXPECTED = (InvalidInputError, ValueError)
PARSERS = (parse_data_size, parse_budget, parse_latency, parse_compute)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 3)
    text = fdp.ConsumeUnicodeNoSurrogates(len(data))
    try:
        if which == 0:
            doc = load_yaml(text, source="fuzz.yaml")
            if isinstance(doc, dict):
                parse_task(doc, source="fuzz.yaml")
        elif which == 1:
            for parser in PARSERS:
                with contextlib.suppress(ValueError):
                    parser(text)
        elif which == 2:
            parse_csv(Path("fuzz.csv"), text, Sink(RunHistory(source="fuzz"), Path("fuzz.csv")))
        else:
            parse_jsonl(Path("fuzz.jsonl"), text, Sink(RunHistory(source="fuzz"), Path("fuzz.jsonl")))
    except EXPECTED:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
