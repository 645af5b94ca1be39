"""Pruning and the feedback loop: structured pruning really shrinks the network; too much pruning falls back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from dlexpert.compress import compress, load_variant  # noqa: E402
from dlexpert.compress._measure import test_score as accuracy_of  # noqa: E402
from dlexpert.compress._measure import torch_predict  # noqa: E402
from dlexpert.runs import load_run  # noqa: E402


def test_structured_pruning_at_half_removes_at_least_40_percent_of_parameters(cnn_run: Path, fast: Any) -> None:
    report = compress(cnn_run, method="prune", target_sparsity=0.5, epochs=1, max_drop=5.0, settings=fast)
    assert report.name == "pruned" and report.format == "torch"
    kept = next(a for a in report.tried if a.kept)
    assert kept.params["ratio"] == 0.5, report.decision  # 1 epoch of fine-tuning keeps it within 5 points
    assert report.n_params <= 0.6 * report.baseline_n_params
    assert report.size_bytes < 0.6 * report.baseline_size_bytes  # a smaller dense network: a smaller file
    # the variant folder rebuilds the same smaller network, and it scores what the report says
    model = load_variant(cnn_run / "variants" / "pruned")
    assert sum(p.numel() for p in model.parameters()) == report.n_params
    test = load_run(cnn_run).datasets().test
    assert accuracy_of(torch_predict(model), test) == pytest.approx(report.accuracy)
    program = torch.export.load(str(cnn_run / "variants" / "pruned" / "model.pt2")).module()
    x = load_run(cnn_run).example_input(3)
    assert torch.allclose(program(x), model(x), atol=1e-5)


def test_an_impossible_limit_walks_the_fallback_ladder_and_records_every_attempt(mlp_run: Path, fast: Any) -> None:
    # 95% of the weights zeroed without fine-tuning drops accuracy; with a 0-point limit the loop must retry gentler
    report = compress(mlp_run, method="prune", prune_kind="unstructured", target_sparsity=0.95, epochs=0,
                      max_drop=0.0, settings=fast)  # fmt: skip
    ratios = [a.params["ratio"] for a in report.tried]
    assert len(ratios) >= 2 and ratios == sorted(ratios, reverse=True) and ratios[0] == 0.95
    first = report.tried[0]
    assert not first.kept and first.accuracy_drop > 0 and "exceeds" in first.why
    assert sum(a.kept for a in report.tried) == 1
    if report.met_max_drop:
        assert report.accuracy_drop <= 0.0
    else:  # nothing passed: the most accurate attempt is saved and the report says so
        assert "no setting stayed within" in report.decision
        assert report.accuracy_drop == min(a.accuracy_drop for a in report.tried)


def test_unstructured_pruning_reports_sparsity_and_says_dense_storage_does_not_shrink(mlp_run: Path,
                                                                                      fast: Any) -> None:  # fmt: skip
    report = compress(mlp_run, method="prune", prune_kind="unstructured", target_sparsity=0.5, epochs=1,
                      max_drop=5.0, settings=fast)  # fmt: skip
    assert report.name == "sparse" and report.sparsity == pytest.approx(0.5, abs=0.01)
    assert report.size_ratio == pytest.approx(1.0, abs=0.01)  # zeros in dense tensors take the same bytes
    assert report.reference["zlib_compressed_size_bytes"] < report.size_bytes
    assert any("dense" in n for n in report.notes)
    model = load_variant(mlp_run / "variants" / "sparse")
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)
    assert zeros == pytest.approx(report.sparsity, abs=1e-3)
