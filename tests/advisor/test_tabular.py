"""`domain: tabular` (an extension of the seed's enum) is planned with gradient-boosted trees as the model to ship and
the network as their challenger."""

from __future__ import annotations

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


def test_a_table_is_planned_with_trees_first_and_the_network_as_their_challenger() -> None:
    for domain in ("tabular", "structured data", "csv"):
        task = {"type": "classification", "domain": domain, "specificTask": "customer churn"}
        spec = parse_task({"task": task, "data": {"size": "200k rows"}, "constraints": {"computeResources": "CPU"}})
        assert spec.task.domain == "tabular"
        plan = advise(spec)
        design = plan.modelDesign
        assert design.architecture.startswith("gradient-boosted trees (scikit-learn HistGradientBoostingClassifier")
        assert "challenger: MLP" in design.architecture and design.pretrainedModel is None
        assert "arXiv 2207.08815" in design.rationale and "0.5 standard error" in design.rationale
        step4 = next(s for s in plan.workflow if s.step == 4)
        assert "logistic regression" in step4.note and "`dlexpert evaluate` (the trees" in step4.note
        assert "one-hot" in plan.trainingStrategy.dataProcessing.normalization  # the challenger's recipe
        assert plan.decisions is not None and plan.decisions.model.name == "mlp"
        assert plan.decisions.task is not None and plan.decisions.task.first_model == "hist_gradient_boosting"
        assert plan.expectedPerformance is not None and plan.expectedPerformance.trainingTime is not None
        assert plan.expectedPerformance.trainingTime.startswith("the challenger: ")


def test_a_network_task_has_no_first_model() -> None:
    task = {"type": "classification", "domain": "CV", "specificTask": "bird species photos"}
    spec = parse_task({"task": task, "data": {"size": "20k images"}, "constraints": {"computeResources": "GPU 24GB"}})
    plan = advise(spec)
    assert plan.decisions is not None and plan.decisions.task is not None
    assert plan.decisions.task.first_model is None and "challenger" not in plan.modelDesign.architecture


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


def test_a_regression_table_plans_trees_first_and_says_how_step4_weighs_them() -> None:
    """The plan names the regressor, not the classifier the run fits for a classification table, and says how the run
    chooses between the trees, ridge and the MLP challenger (R2, the paired margin on validation)."""
    spec = parse_task({"task": {"type": "house price prediction", "domain": "tabular", "specificTask": "sale prices"},
                       "data": {"size": "20k rows"}, "constraints": {"computeResources": "laptop CPU"}})  # fmt: skip
    plan = advise(spec, assume_defaults=True)
    assert plan.modelDesign.architecture.startswith("gradient-boosted trees (scikit-learn HistGradientBoostingRegr")
    rationale = plan.modelDesign.rationale
    assert "HistGradientBoostingRegressor" in rationale and "RidgeCV" in rationale and "validation R2" in rationale
    assert plan.decisions is not None and plan.decisions.model.task == "regression"
    step4 = next(s for s in plan.workflow if s.step == 4)
    assert "`dlexpert run`" in step4.note and "refuse" not in step4.note
