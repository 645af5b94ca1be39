"""Export to ONNX and TorchScript: parity with eager PyTorch on real test inputs, dynamic batch, sizes, atomic files."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from dlexpert.deploy import (  # noqa: E402
    check_parity,
    export_model,
    export_onnx,
    export_torchscript,
    file_size,
    list_export_formats,
    supported_opsets,
)
from dlexpert.errors import InvalidInputError  # noqa: E402
from dlexpert.runs import load_run  # noqa: E402


@pytest.fixture(scope="module")
def onnx_dynamic(run_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The default ONNX path (dynamo exporter first) with a dynamic batch, written into a copy of the run."""
    import shutil

    dst = tmp_path_factory.mktemp("onnx") / "run"
    shutil.copytree(run_dir, dst)
    return dst, export_model(dst, to="onnx", dynamic_batch=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_onnx_of_a_run_matches_eager_at_batch_1_and_8(onnx_dynamic) -> None:  # type: ignore[no-untyped-def]
    run, res = onnx_dynamic
    assert res.path == run / "variants" / "onnx" / "model.onnx" and res.path.is_file()
    assert res.exporter in {"dynamo", "torchscript"} and res.dynamic_batch
    assert res.parity is not None and res.parity.passed and res.parity.max_abs_diff <= 1e-4
    assert {1, 8} <= set(res.parity.batch_sizes) and res.parity.n_samples >= 64
    # Independently of check_parity: the file runs at batch 1 and 8 and gives eager's logits on real test inputs.
    loaded = load_run(run)
    sess = ort.InferenceSession(str(res.path), providers=["CPUExecutionProvider"])
    for b in (1, 8):
        x = loaded.example_input(b)
        got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
        with torch.no_grad():
            ref = loaded.model(x).numpy()
        assert got.shape == (b, 10)
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)


def test_the_report_is_written_in_the_variant_contract(onnx_dynamic) -> None:  # type: ignore[no-untyped-def]
    run, res = onnx_dynamic
    report = json.loads((run / "variants" / "onnx" / "report.json").read_text())
    assert report["format"] == "onnx" and report["path"] == "model.onnx" and report["dynamic_batch"] is True
    assert report["max_abs_diff"] == pytest.approx(res.parity.max_abs_diff)
    assert report["exporter"] == res.exporter and report["size_bytes"] == res.size_bytes
    assert not [p for p in (run / "variants" / "onnx").iterdir() if p.name.startswith(".")], "staging left behind"
    onnx.checker.check_model(str(res.path))


def test_size_counts_every_external_data_file(onnx_dynamic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, res = onnx_dynamic
    on_disk = sum(f.stat().st_size for f in (run / "variants" / "onnx").iterdir() if f.name.startswith("model.onnx"))
    assert res.size_bytes == file_size(res.path) == on_disk
    # Whatever the exporter chose, a model saved with its weights outside counts them.
    proto = onnx.load(str(res.path))
    onnx.save_model(proto, str(tmp_path / "m.onnx"), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)  # fmt: skip
    inside, outside = (tmp_path / "m.onnx").stat().st_size, (tmp_path / "weights.bin").stat().st_size
    assert outside > 100_000 and file_size(tmp_path / "m.onnx") == inside + outside


def test_a_fixed_batch_export_says_so_and_fails_parity_at_another_batch(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    res = export_onnx(run.model, run.example_input(1), tmp_path / "m.onnx", exporter="torchscript")
    assert res.parity.passed and not res.dynamic_batch and res.batch_size == 1
    dims = onnx.load(str(res.path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 1, 40]
    bad = check_parity(run.model, res.path, [run.example_input(8)])
    assert not bad.passed and "batch of 8" in bad.note


def test_parity_catches_a_different_model(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    x = run.example_input(16)
    other = copy.deepcopy(run.model)
    with torch.no_grad():
        next(other.parameters()).add_(0.05)
    assert check_parity(run.model, copy.deepcopy(run.model), x).max_abs_diff == 0.0  # a module is an artifact too
    assert check_parity(run.model, other, x).max_abs_diff > 1e-3
    res = export_onnx(other, run.example_input(1), tmp_path / "other.onnx", exporter="torchscript")
    parity = check_parity(run.model, res.path, [x[i : i + 1] for i in range(4)])
    assert parity.max_abs_diff > 1e-3 and not parity.passed


def test_torchscript_export_matches_eager_and_warns_it_is_in_maintenance(fresh_run: Path) -> None:
    res = export_model(fresh_run, to="torchscript")
    assert res.path == fresh_run / "variants" / "torchscript" / "model.pt"
    assert res.parity.passed and {1, 8} <= set(res.parity.batch_sizes)
    assert any("maintenance mode" in n for n in res.notes)
    loaded = load_run(fresh_run)
    scripted = torch.jit.load(str(res.path))
    x = loaded.example_input(8)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), loaded.model(x), atol=1e-4, rtol=0)
    report = json.loads((res.path.parent / "report.json").read_text())
    assert report["format"] == "torch" and report["path"] == "model.pt"


def test_the_checkpoint_and_the_model_are_left_as_they_were(fresh_run: Path) -> None:
    ckpt = fresh_run / "checkpoints"
    before = {p.name: _sha(p) for p in ckpt.iterdir()}
    run = load_run(fresh_run)
    state = {k: v.clone() for k, v in run.model.state_dict().items()}
    export_onnx(run.model, run.example_input(2), fresh_run / "x.onnx", exporter="torchscript", dynamic_batch=True)
    export_torchscript(run.model, run.example_input(1), fresh_run / "x.pt")
    assert {p.name: _sha(p) for p in ckpt.iterdir()} == before
    assert all(torch.equal(state[k], v) for k, v in run.model.state_dict().items())
    assert not run.model.training


def test_an_older_opset_uses_the_torchscript_exporter(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    res = export_onnx(run.model, run.example_input(1), tmp_path / "m.onnx", opset=17)
    assert res.exporter == "torchscript" and res.opset == 17 and res.parity.passed
    assert onnx.load(str(res.path)).opset_import[0].version == 17


def test_supported_opsets_come_from_the_installed_libraries() -> None:
    rng = supported_opsets()
    assert rng.min <= 17 < 18 <= rng.max
    assert rng.onnxruntime_max >= 17 and rng.max <= rng.onnxruntime_max
    assert f"--opset {rng.min}..{rng.max}" in rng.describe()
    with pytest.raises(InvalidInputError, match=rf"--opset 3 is not supported.*{rng.min}\.\.{rng.max}"):
        export_onnx(torch.nn.Linear(2, 2), torch.zeros(1, 2), "unused.onnx", opset=3)


class _Eig(torch.nn.Module):
    """A layer neither ONNX exporter has a translation for (eigenvalues of a general matrix)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.eigvals(self.fc(x).reshape(-1, 2, 2)).real.reshape(x.shape[0], -1)


def test_an_export_failure_names_the_operator_and_the_workarounds(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        export_onnx(_Eig().eval(), torch.randn(2, 4), tmp_path / "eig.onnx")
    msg = str(info.value)
    assert "linalg_eig" in msg and "--opset" in msg and "--to torchscript" in msg
    assert "\n" not in msg and "\x1b" not in msg
    assert not (tmp_path / "eig.onnx").exists() and not list(tmp_path.iterdir())


def test_a_model_spec_exports_without_weights(tmp_path: Path) -> None:
    res = export_model("torchvision:resnet18", to="onnx", out_dir=tmp_path, exporter="torchscript")
    assert res.path == tmp_path / "onnx" / "model.onnx" and res.input_shape == [3, 224, 224]
    assert res.parity.passed and res.size_bytes > 40e6  # 11.7M fp32 parameters
    assert any("random init" in n for n in res.notes)


@pytest.mark.slow
def test_a_model_spec_exports_with_the_dynamo_exporter_and_a_dynamic_batch(tmp_path: Path) -> None:
    res = export_model("torchvision:resnet18", to="onnx", out_dir=tmp_path, dynamic_batch=True)
    assert res.parity.passed and {1, 8} <= set(res.parity.batch_sizes)
    assert res.size_bytes == file_size(res.path) > 40e6


def test_every_format_says_what_it_needs() -> None:
    names = [f.name for f in list_export_formats()]
    assert names[:2] == ["onnx", "torchscript"] and {"openvino", "tensorrt", "coreml", "tflite"} <= set(names)
    for f in list_export_formats():
        assert f.install.startswith("pip install ") and f.modules


def test_openvino_export_when_it_is_installed(fresh_run: Path) -> None:
    pytest.importorskip("openvino")
    res = export_model(fresh_run, to="openvino")
    assert res.path == fresh_run / "variants" / "openvino" / "model.xml"
    assert set(res.files) == {"model.xml", "model.bin"}
    assert res.size_bytes > res.path.with_suffix(".bin").stat().st_size > 0
    assert res.parity is not None and res.parity.passed
