"""`dlexpert card`: MODEL_CARD.md in the Hugging Face format, its numbers equal to evaluation.json, and drift caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dlexpert.report.card import MODEL_INDEX_METRICS, verify_card, write_model_card

from ..cli.test_cli import run as cli


@pytest.fixture(scope="module")
def carded(evaluated_run: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the evaluated run with its card written once. Read-only."""
    src, _ = evaluated_run
    dst = tmp_path_factory.mktemp("carded") / "run"
    shutil.copytree(src, dst)
    write_model_card(dst)
    return dst


def _front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 4)])


def test_the_card_numbers_are_the_evaluation_numbers(carded: Path) -> None:
    ev = json.loads((carded / "evaluation.json").read_text())
    text = (carded / "MODEL_CARD.md").read_text()
    meta = _front_matter(text)
    assert meta["license"] and meta["library_name"] == "pytorch" and "dlexpert" in meta["tags"]
    assert meta["datasets"] == ["MNIST-1D"] and "accuracy" in meta["metrics"]
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"]["revision"] == ev["data"]["version"] and result["dataset"]["split"] == "test"
    by_name = {m["name"]: m["value"] for m in result["metrics"]}
    for key, (_type, name) in MODEL_INDEX_METRICS.items():
        if key in ev["metrics"]:
            assert by_name[name] == ev["metrics"][key], name  # unrounded, exactly evaluation.json's value
    # The human-readable figures are the same numbers, rounded.
    assert f"| Top-1 accuracy | {100 * ev['metrics']['accuracy']:.2f}% |" in text
    linear = ev["baseline"]["linear"]["metrics"]["accuracy"]
    assert f"{100 * linear:.2f}%" in text and "Greydanus 2020" in text
    for c in ev["per_class"]:
        assert f"| {c['name']} | {c['support']} | {c['precision']:.3f} | {c['recall']:.3f} |" in text
    assert verify_card(carded) == []


def test_the_card_has_every_section_the_issue_asks_for(carded: Path) -> None:
    text = (carded / "MODEL_CARD.md").read_text()
    ev = json.loads((carded / "evaluation.json").read_text())
    for heading in ("## Model details", "### Intended use", "### Out-of-scope use", "### Training data",
                    "### Training procedure", "## Evaluation", "### Baselines and public benchmarks",
                    "## Bias, risks and limitations", "## Ethical considerations", "## How to load and run the model",
                    "## Environment"):  # fmt: skip
        assert heading in text, heading
    assert ev["model_version"].startswith("sha256:") and ev["model_version"] in text
    assert ev["data"]["version"] in text  # the data version: the generator arguments' hash
    assert "```yaml\ntrain:\n" in text and "lr: " in text  # the full resolved config
    assert text.count("_Answer (model owner):_") >= 4  # prompts left for the owner
    assert "### Calibration" in text and "(Wilson score interval)" in text  # calibration; the test set's size
    assert "load_run(" in text and "load_file(" in text  # how to load: dlexpert and plain safetensors
    judged = ev["latency"]["plan_expected"]  # the plan's latency estimate beside the measurement
    assert f"the measured eager p50 is {judged['measured_over_expected']:.3g}x that" in text
    assert f"| torch | {ev['environment']['versions']['torch']} |" in text


def test_a_card_that_drifts_from_the_evaluation_is_caught(carded: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(carded, run_dir)
    assert cli("card", str(run_dir), "--check").returncode == 0
    # The evaluation changes under the card (a re-evaluation, a hand edit): the card no longer matches.
    ev = json.loads((run_dir / "evaluation.json").read_text())
    ev["metrics"]["accuracy"] -= 0.01
    (run_dir / "evaluation.json").write_text(json.dumps(ev))
    problems = verify_card(run_dir)
    assert any(p.startswith("Top-1 accuracy") for p in problems) and any("sha256 differs" in p for p in problems)
    r = cli("card", str(run_dir), "--check")
    assert r.returncode == 1 and "does not match evaluation.json" in r.stderr and "Traceback" not in r.stderr
    # Rewriting the card brings them back together.
    assert cli("card", str(run_dir), "--no-html").returncode == 0
    assert verify_card(run_dir) == []
    # A hand-edited card is caught too.
    card = run_dir / "MODEL_CARD.md"
    card.write_text(card.read_text().replace(f"value: {ev['metrics']['f1_macro']}", "value: 0.999", 1))
    assert any(p.startswith("Macro F1") for p in verify_card(run_dir))


@pytest.mark.slow  # ~36 s: a whole evaluation in a subprocess; kept out of `make test` for its 15-minute budget
def test_a_run_without_an_evaluation_gets_one_computed(mnist1d_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(mnist1d_run, run_dir, ignore=shutil.ignore_patterns("evaluation.json", "bench.json"))
    r = cli("card", str(run_dir), "--no-html")
    assert r.returncode == 0, r.stderr
    assert "evaluation.json is missing: evaluating the run first" in r.stderr
    assert (run_dir / "evaluation.json").is_file() and verify_card(run_dir) == []
    assert "it was computed now, for this card" in (run_dir / "MODEL_CARD.md").read_text()


def test_card_bad_input_is_one_line(tmp_path: Path, mnist1d_run: Path) -> None:
    r = cli("card", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such run directory" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "empty").mkdir()
    r = cli("card", str(tmp_path / "empty"))
    assert r.returncode == 2 and "not a dlexpert run directory" in r.stderr
    untrained = tmp_path / "untrained"
    shutil.copytree(mnist1d_run, untrained, ignore=shutil.ignore_patterns("checkpoints", "evaluation.json"))
    r = cli("card", str(untrained))
    assert r.returncode == 2 and "checkpoints/best.safetensors is missing" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2 and "Traceback" not in r.stderr
    assert not (untrained / "MODEL_CARD.md").exists()


def test_bench_figures_join_the_card_when_bench_has_run(carded: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(carded, run_dir)
    row = {"backend": "onnxruntime", "batch_size": 1, "latency_ms_p50": 0.178, "latency_ms_p95": 0.376,
           "throughput": 5612.0, "max_abs_diff": 1.4e-6}  # fmt: skip
    (run_dir / "bench.json").write_text(json.dumps({"results": [row], "threads": 2,
                                                    "fastest_meeting_requirement": "onnxruntime"}))  # fmt: skip
    write_model_card(run_dir, html=False)
    text = (run_dir / "MODEL_CARD.md").read_text()
    assert "from `dlexpert bench` (bench.json, 2 thread(s))" in text
    assert "| onnxruntime | 1 | 0.178 | 0.376 | 5612 | 1.4e-06 |" in text
    assert "Fastest backend meeting the latency requirement: onnxruntime." in text
    assert verify_card(run_dir) == []


def _with_new_best_weights(carded: Path, run_dir: Path) -> Path:
    """A copy of the carded run whose best weights changed after its evaluation, as if training resumed and saved a
    new best."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(carded, run_dir)
    weights = run_dir / "checkpoints" / "best.safetensors"
    state = load_file(weights)
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = state[name] + 0.01
    save_file(state, weights)
    return run_dir


def test_an_evaluation_of_other_weights_is_caught(carded: Path, tmp_path: Path) -> None:
    run_dir = _with_new_best_weights(carded, tmp_path / "run")
    assert any("changed since the evaluation" in p for p in verify_card(run_dir))


def test_an_evaluation_of_other_weights_is_redone(
    carded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The strong baselines (MiniRocket and 1-NN DTW on MNIST-1D: ~25 s) are left out of this evaluation: what is
    # checked is that the card redoes it, not the baselines (tests/report/test_evaluate.py checks those).
    monkeypatch.setattr("dlexpert.report.evaluate.fit_strong_baselines", lambda splits, seed: ([], []))
    run_dir = _with_new_best_weights(carded, tmp_path / "run")
    write_model_card(run_dir, html=False)
    text = (run_dir / "MODEL_CARD.md").read_text()
    assert "evaluation.json is for other weights" in text and verify_card(run_dir) == []


def test_the_wilson_interval_stays_inside_0_and_1() -> None:
    from dlexpert.report.card import wilson_interval

    lo, hi = wilson_interval(1.0, 60)
    assert hi == pytest.approx(1.0) and 0.93 < lo < 0.95  # the normal approximation would say 100% +- 0
    lo, hi = wilson_interval(0.5, 1000)
    assert lo == pytest.approx(0.469, abs=1e-3) and hi == pytest.approx(0.531, abs=1e-3)


def test_card_check_on_a_folder_that_is_not_a_run_is_invalid_input(tmp_path: Path) -> None:
    r = cli("card", str(tmp_path / "nope"), "--check")
    assert r.returncode == 2 and "no such run directory" in r.stderr
