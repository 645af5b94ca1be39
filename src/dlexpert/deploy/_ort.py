"""ONNX Runtime sessions and runners: export checks parity with them, bench times them, compress measures with them.

Example:
    >>> run = onnx_runner(onnx_session("variants/onnx/model.onnx", threads=1))  # doctest: +SKIP
    >>> run(x).shape  # doctest: +SKIP
    (8, 10)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

__all__ = ["file_runner", "onnx_runner", "onnx_session", "quiet_quantizer"]


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """ONNX Runtime's quantization tools log on the root logger at WARNING, every call and per node (advice to
    pre-process first; each bias that is not an initializer): errors only while they run."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def onnx_session(path: str | Path, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session with `threads` intra-op threads, one inter-op thread, sequential execution and
    all graph optimizations (what a CPU server would use)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only: ORT's warnings about unused initializers are noise here
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InvalidInputError(f"{path}: ONNX Runtime cannot load it ({first[:200]})") from None


ORT_NUMPY_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
}


def onnx_runner(session: Any) -> Callable[[Any], Any]:
    """`fn(batch) -> numpy` for an ORT session: a tensor feeds the first input, a dict feeds inputs by name; values
    are cast to the dtypes the model declares."""
    import numpy as np

    specs = [(i.name, ORT_NUMPY_DTYPES.get(i.type, "float32")) for i in session.get_inputs()]

    def to_np(v: Any, dtype: str) -> Any:
        arr = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
        return arr.astype(dtype, copy=False)

    def run(x: Any) -> Any:
        if isinstance(x, dict):
            feeds = {name: to_np(x[name], dt) for name, dt in specs if name in x}
        else:
            feeds = {specs[0][0]: to_np(x, specs[0][1])}
        return session.run(None, feeds)[0]

    return run


def file_runner(path: str | Path, threads: int = 1) -> Callable[[Any], Any]:
    """The runner for an ONNX file: `onnx_runner`, or for a detector's graph (outputs boxes, scores, labels; see
    `deploy.detector`) one that runs a batch image by image and returns each image's detections."""
    session = onnx_session(path, threads)
    from .detector import detector_onnx_runner, is_detector_graph  # torch: only a detector's runner needs it

    return detector_onnx_runner(session) if is_detector_graph(session) else onnx_runner(session)
