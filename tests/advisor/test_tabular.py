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


def test_rare_positives_are_measured_by_precision_recall_not_accuracy() -> None:
    target = "beat logistic regression by 5 points of macro-F1"
    spec = parse_task({"task": {"type": "binary classification", "domain": "tabular", "specificTask": "card fraud"},
                       "data": {"size": "284,807 rows", "distribution": "0.172% positives"},
                       "constraints": {"computeResources": "laptop", "accuracyTarget": target},
                       "challenges": ["extreme class imbalance"]})  # fmt: skip
    plan = advise(spec, assume_defaults=True)
    assert plan.decisions is not None and plan.decisions.task is not None
    metrics = " | ".join(plan.decisions.task.metrics)
    assert "PR-AUC" in metrics and "your target: beat logistic regression" in metrics
