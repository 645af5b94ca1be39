"""`dlexpert export RUN_DIR|MODEL --to onnx|torchscript|torch-export|...`: export, then check parity with eager."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import check_format, err_console, fail, handle_errors


@handle_errors
def export(
    source: str = typer.Argument(
        ..., help="A run directory, or MODEL: torchvision:NAME, timm:NAME, dlexpert:NAME (architecture, random init)."
    ),
    to: str = typer.Option(
        "onnx", "--to", help="onnx | torchscript | torch-export | openvino | tensorrt | coreml | tflite."
    ),
    opset: int | None = typer.Option(None, "--opset", help="ONNX opset (default: the exporter's)."),
    dynamic_batch: bool = typer.Option(False, "--dynamic-batch", help="Make the batch dimension dynamic."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder that receives <to>/model.* and report.json (default RUN_DIR/variants; required for MODEL).",
    ),
    input_shape: str | None = typer.Option(None, "--input-shape", help="One sample's shape for MODEL, e.g. 3,224,224."),
    exporter: str = typer.Option(
        "auto", "--exporter", help="ONNX exporter: auto (dynamo, then TorchScript), dynamo, torchscript."
    ),
    fmt: str = typer.Option("text", "--format", help="json: the export report on stdout; text: a summary on stderr."),
) -> None:
    """Export a trained model and check it against eager PyTorch on real inputs (max |diff| <= 1e-4 for fp32).

    Writes RUN_DIR/variants/onnx/model.onnx (or torchscript/model.pt, ...) atomically, and report.json beside it.
    Exit codes: 0 exported and parity holds; 1 exported but parity failed; 2 invalid input or export impossible.
    """
    from ..deploy import export_model
    from ..deploy._source import parse_input_shape

    check_format(fmt)
    result = export_model(
        source,
        to=to,
        opset=opset,
        dynamic_batch=dynamic_batch,
        out_dir=out,
        input_shape=parse_input_shape(input_shape),
        exporter=exporter,
    )
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        parity = result.parity
        err_console.print(
            f"{result.format} written to {result.path} ({result.size_bytes / 1e6:.3f} MB incl. {len(result.files)} "
            f"file(s); exporter {result.exporter}{f', opset {result.opset}' if result.opset else ''}"
            f"{', dynamic batch' if result.dynamic_batch else ''}, {result.export_s:.1f} s)",
            markup=False,
        )
        if parity is not None:
            err_console.print(parity.describe(), markup=False)
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
    if result.parity is not None and not result.parity.passed:
        fail(
            f"parity check failed: {result.parity.describe()}; the file is kept at {result.path} for inspection; "
            "try another --exporter or --opset",
            1,
        )
