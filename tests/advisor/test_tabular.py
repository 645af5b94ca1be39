"""`domain: tabular` (an extension of the seed's enum) is planned with gradient-boosted trees as Step 4's bar."""

from __future__ import annotations

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


def test_a_table_is_planned_with_trees_as_the_baseline_to_beat_and_table_preprocessing() -> None:
    for domain in ("tabular", "structured data", "csv"):
        task = {"type": "classification", "domain": domain, "specificTask": "customer churn"}
        spec = parse_task({"task": task, "data": {"size": "200k rows"}, "constraints": {"computeResources": "CPU"}})
        assert spec.task.domain == "tabular"
        plan = advise(spec)
        step4 = next(s for s in plan.workflow if s.step == 4)
        assert "HistGradientBoosting" in step4.note
        assert "one-hot" in plan.trainingStrategy.dataProcessing.normalization
        assert plan.decisions is not None and plan.decisions.model.name == "mlp"


def test_a_small_table_is_planned_too() -> None:
    spec = parse_task({"task": {"type": "classification", "domain": "tabular", "specificTask": "wine cultivar"},
                       "data": {"size": "178 rows"}, "constraints": {"computeResources": "CPU (2 cores)"}})  # fmt: skip
    plan = advise(spec)
    assert plan.decisions is not None and plan.decisions.model.name == "mlp"
