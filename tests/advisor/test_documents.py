"""Document understanding: fields are extracted with a layout-aware model, text lines are read with a recogniser."""

from __future__ import annotations

import pytest

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


@pytest.mark.parametrize(
    ("kind", "domain", "specific", "family"),
    [
        # spec batch 24 (tune): a bank's credit agreements, ~150 attributes to extract; the scans carry handwriting
        ("document understanding / information extraction", "banking / legal contracts",
         "read scanned loan agreements and extract ~150 attributes (borrower, amounts, maturity)", "layoutlmv3"),
        ("document understanding", "document images", "transcribe handwritten parish registers, one line at a time",
         "trocr"),
        # spec batch 23 (tune): vet invoices whose "free-text lines" are read to extract fields
        ("document understanding", "insurance claims / veterinary invoices",
         "from a vet invoice extract practice and patient, mapping free-text lines to tariff codes", "layoutlmv3"),
    ],
)  # fmt: skip
def test_extraction_gets_a_layout_model_and_line_reading_a_recogniser(
    kind: str, domain: str, specific: str, family: str
) -> None:
    task = {"type": kind, "domain": domain, "specificTask": specific}
    spec = parse_task({"task": task, "data": {"size": "30,000 documents"},
                       "constraints": {"computeResources": "4x A100 40GB"}})  # fmt: skip
    plan = advise(spec)
    assert plan.decisions is not None and plan.decisions.task is not None
    assert plan.decisions.task.family == "document-understanding"
    assert family in plan.decisions.model.name
