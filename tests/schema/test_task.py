"""The spec loader: valid specs in every shape, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dlexpert import InvalidInputError, TaskSpec, advise, load_task, parse_task
from dlexpert.schema import json_schema

MINIMAL = {"task": {"type": "classification", "domain": "CV"}}


@pytest.mark.parametrize(
    ("given_type", "expected"),
    [
        ("Classification", "classification"),
        ("object detection", "detection"),
        ("semantic segmentation", "segmentation"),
        ("forecasting", "sequence-modeling"),
        ("Reinforcement Learning", "RL"),
        ("rl", "RL"),
        ("text generation", "generation"),
        ("gesture classification", "classification"),  # a head noun places a type written in the user's words
        ("defect detection", "detection"),
    ],
)
def test_task_type_synonyms(given_type: str, expected: str) -> None:
    spec = parse_task({"task": {"type": given_type, "domain": "CV"}})
    assert spec.task.type == expected


def test_a_multimodal_task_keeps_the_vision_or_language_family_its_type_names() -> None:
    """Issue 14, batch 7: "semantic search" over personal photos, domain multimodal, with "receipt" in an example
    query, was document understanding; multimodal spans language and vision, so the named family stands."""
    task = {"type": "semantic search", "domain": "multimodal", "specificTask": "find 'receipt from the hotel'"}
    spec = parse_task({"task": task})
    assert spec.task.family == "embeddings-retrieval"


def test_a_type_naming_two_kinds_of_task_is_still_refused() -> None:
    with pytest.raises(ValueError, match="unknown task type"):
        parse_task({"task": {"type": "detection and classification", "domain": "CV"}})


@pytest.mark.parametrize(
    ("given_domain", "expected"),
    [
        ("cv", "CV"),
        ("Computer Vision", "CV"),
        ("text", "NLP"),
        ("speech", "audio"),
        ("time series", "time-series"),
        ("vision-language", "multimodal"),
    ],
)
def test_domain_synonyms(given_domain: str, expected: str) -> None:
    assert parse_task({"task": {"type": "classification", "domain": given_domain}}).task.domain == expected


def test_every_seed_input_field_is_accepted(tmp_path: Path) -> None:
    full = {
        "task": {"type": "classification", "domain": "CV", "specificTask": "CIFAR-10"},
        "data": {
            "size": "50k",
            "quality": "clean",
            "distribution": "balanced",
            "labelAvailability": "fully-supervised",
            "augmentationNeeded": True,
        },
        "constraints": {
            "computeResources": "single-GPU 24GB",
            "latencyRequirement": "<50ms",
            "accuracyTarget": "top-1 acc >90%",
            "modelSizeLimit": "<100MB",
            "budget": "$500",
        },
        "challenges": ["domain-shift"],
        "existingSetup": {"framework": "PyTorch", "baseModel": "resnet50", "trainingIssues": ["overfitting"]},
    }
    for name, text in (("s.yaml", yaml.safe_dump(full)), ("s.json", json.dumps(full))):
        p = tmp_path / name
        p.write_text(text)
        spec = load_task(p)
        assert spec.constraints.latency_parsed is not None and spec.constraints.latency_parsed.max_ms == 50
        assert spec.existingSetup is not None and spec.existingSetup.trainingIssues == ["overfitting"]
        assert spec.model_dump(exclude_none=True)["data"]["augmentationNeeded"] is True


def test_schema_input_matches_seed_field_names() -> None:
    props = json_schema("input")["$defs"]
    assert set(props["Constraints"]["properties"]) == {
        "computeResources",
        "latencyRequirement",
        "accuracyTarget",
        "modelSizeLimit",
        "budget",
        "deploymentTarget",  # dlexpert's extension: where the model runs when that is not where it trains
    }
    assert props["Constraints"]["properties"]["deploymentTarget"]["examples"]
    assert set(props["Data"]["properties"]) == {
        "size",
        "quality",
        "distribution",
        "labelAvailability",
        "augmentationNeeded",
    }
    out = json_schema("output")
    assert {
        "modelDesign",
        "trainingStrategy",
        "debuggingGuidance",
        "engineeringPractice",
        "expectedPerformance",
        "questions",
        "assumptions",
        "alternatives",
        "evidence",
    } <= set(out["properties"])


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"task": {"type": "clasification", "domain": "CV"}}, "did you mean 'classification'"),
        ({"task": {"type": "classification", "domain": "CV"}, "constrains": {}}, "did you mean 'constraints'"),
        ({"task": {"type": "classification", "domain": "CV"}, "data": {"szie": "1k"}}, "did you mean 'data.size'"),
        ({"task": {"type": "classification", "domain": "chemistry"}}, "expected one of CV, NLP"),
        ({"task": {"type": "classification"}}, "missing required field 'task.domain'"),
        (
            {"task": {"type": "classification", "domain": "CV"}, "constraints": {"latencyRequirement": "> 50ms"}},
            "constraints.latencyRequirement",
        ),
        (
            {"task": {"type": "classification", "domain": "CV"}, "constraints": {"latencyRequirement": "-3 ms"}},
            "must not be negative",
        ),
        ({"task": {"type": "classification", "domain": "CV"}, "data": {"size": "-5 images"}}, "data size"),
        (
            {"task": {"type": "classification", "domain": "CV"}, "constraints": {"accuracyTarget": "top-1 > 120%"}},
            "between 0 and 100%",
        ),
        (
            {
                "task": {"type": "classification", "domain": "CV"},
                "data": {"distribution": "balanced"},
                "challenges": ["long-tail"],
            },
            "data.distribution says 'balanced'",
        ),
        (
            {"task": {"type": "classification", "domain": "CV"}, "data": {"size": "1M"}, "challenges": ["few-shot"]},
            "few-shot",
        ),
        ({"task": {"type": "classification", "domain": "CV"}, "existingSetup": {"framework": "  "}}, "PyTorch"),
        ({"task": {"type": "classification", "domain": "CV"}, "existingSetup": {"framework": "x" * 81}}, "80"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_bad_specs_name_the_field(doc: object, needle: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_task(doc, source="spec.yaml")
    message = str(exc.value)
    assert needle in message
    assert message.startswith("spec.yaml")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("written", "name"),
    [("MATLAB Deep Learning Toolbox", "MATLAB"), ("PyTorch 2.1", "PyTorch"), ("tensorflow/keras", "TensorFlow"),
     ("PaddlePaddle", "PaddlePaddle"), ("stable-baselines3 + ROS 2", "PyTorch")],
)  # fmt: skip
def test_a_framework_is_named_by_its_first_word(written: str, name: str) -> None:
    spec = parse_task({"task": {"type": "classification", "domain": "CV"}, "existingSetup": {"framework": written}})
    assert spec.existingSetup is not None and spec.existingSetup.framework == name


def test_a_framework_dlexpert_does_not_know_is_kept_and_reached_through_onnx() -> None:
    """Issue 14, batch 13: "OpenCV.js (WASM)" or "NeMo / Megatron" is what the user works with today, not an error."""
    spec = parse_task({"task": {"type": "classification", "domain": "CV", "specificTask": "album photo labels"},
                       "data": {"size": "20k photos"}, "existingSetup": {"framework": "OpenCV.js (WASM)"}})  # fmt: skip
    assert spec.existingSetup is not None and spec.existingSetup.framework == "OpenCV.js (WASM)"
    code = advise(spec, assume_defaults=True).modelDesign.codeFramework or ""
    assert "OpenCV.js (WASM)" in code and "ONNX" in code


def test_a_matlab_user_is_told_how_the_pytorch_plan_reaches_matlab() -> None:
    spec = parse_task({"task": {"type": "classification", "domain": "time series", "specificTask": "fault curves"},
                       "data": {"size": "2,000 series of 500 points"},
                       "existingSetup": {"framework": "MATLAB Deep Learning Toolbox"}})  # fmt: skip
    assert "importNetworkFromONNX" in (advise(spec, assume_defaults=True).modelDesign.codeFramework or "")


@pytest.mark.parametrize(
    ("text", "needle"),
    [("", "empty"), ("task: [unclosed", "line 1"), ('{"task": ', "invalid JSON"), ("task:\n\t- x", "invalid YAML")],
)
def test_bad_files(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / ("spec.json" if text.startswith("{") else "spec.yaml")
    p.write_text(text)
    with pytest.raises(InvalidInputError, match=needle):
        load_task(p)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        load_task(tmp_path / "nope.yaml")
    with pytest.raises(InvalidInputError, match="is a directory"):
        load_task(tmp_path)


_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
_doc = st.recursive(
    _scalar,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "task",
                    "type",
                    "domain",
                    "data",
                    "size",
                    "constraints",
                    "latencyRequirement",
                    "challenges",
                    "existingSetup",
                    "trainingIssues",
                    "x",
                ]
            ),
            kids,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(doc=_doc)
def test_loader_never_crashes(doc: object) -> None:
    """Arbitrary documents either load or raise InvalidInputError with one line; nothing else escapes."""
    try:
        spec = parse_task(doc, source="fuzz.yaml")
    except InvalidInputError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("fuzz.yaml")
    else:
        assert isinstance(spec, TaskSpec)


def test_a_constraint_in_words_without_a_number_is_kept_and_planned_without() -> None:
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "classification", "domain": "audio", "specificTask": "chainsaw sounds"},
                       "data": {"size": "5k clips"},
                       "constraints": {"computeResources": "1x T4", "latencyRequirement": "continuous, duty-cycled",
                                       "accuracyTarget": "macro F1 as high as we can get"}})  # fmt: skip
    assert spec.constraints.latency_parsed is None and spec.constraints.accuracy_parsed is None
    fields = {a.field: a.reason for a in advise(spec).assumptions}
    assert "duty-cycled" in fields["constraints.latencyRequirement"]
    assert "constraints.accuracyTarget" in fields


def test_a_data_size_in_words_is_kept_and_asked_about() -> None:
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "RL", "domain": "CV"}, "data": {"size": "a simulator, as many as we want"}})
    assert spec.data.size_parsed is None
    plan = advise(spec)
    question = next(q for q in plan.questions if q.field == "data.size")
    assert "a simulator, as many as we want" in question.question
