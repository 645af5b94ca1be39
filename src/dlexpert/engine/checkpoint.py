"""Checkpoints: `last.pt` (everything needed to continue) and `best.safetensors` (weights only).

Both are written atomically: a temporary file in the same folder, fsync, then `os.replace`, so a crash or a full
disk mid-write leaves the previous file as it was. During training they are written by a `CheckpointWriter` on a
background thread from a CPU snapshot of the state, so the loop does not wait for the disk (PyTorch's
`torch.distributed.checkpoint.async_save` works the same way); `fit()` returns only once every write is on disk.

`last.pt` holds only tensors and plain Python values (RNG states are stored as tensors and lists), so it loads with
`torch.load(weights_only=True)`; nothing is ever unpickled.
"""

from __future__ import annotations

import pickle
import random
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from .._io import atomic_write, atomic_write_bytes
from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir

__all__ = [
    "FORMAT",
    "CheckpointWriter",
    "capture_state",
    "check_run_dir",
    "get_rng_state",
    "load_checkpoint",
    "load_weights",
    "restore_state",
    "save_checkpoint",
    "save_weights",
    "set_rng_state",
    "snapshot",
]

FORMAT = "dlexpert.checkpoint/1"
RECOVER = "restore it from a backup, or train the run again (`dlexpert train ... --out NEW_FOLDER`)"


def check_run_dir(out_dir: str | Path, *, resume: bool) -> Path:
    """checkpoints/last.pt of `out_dir`, after checking it exists to resume, or is absent for a fresh run."""
    last_path = RunDir(out_dir).last_checkpoint
    if resume and not last_path.is_file():
        raise InvalidInputError(f"{last_path}: no checkpoint to resume from; run without --resume to start fresh")
    if not resume and last_path.exists():
        raise InvalidInputError(
            f"{out_dir}: already holds a run ({RunDir.LAST}); "
            "pass --resume to continue it, or choose another output folder"
        )
    return last_path


def save_checkpoint(path: str | Path, state: Mapping[str, Any]) -> Path:
    """Write a checkpoint dict (tensors and plain values) atomically with `torch.save`."""
    return atomic_write(path, lambda f: torch.save(dict(state), f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint with `weights_only=True`: tensors and plain values only, never arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # the weights-only unpickler met an object that is not a tensor or a value
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f" ({found.group(1)})" if found else ""
        raise InvalidInputError(f"{path}: refused: the checkpoint asks to run code{what}, and dlexpert loads only "
                                "tensors and plain values; it was not written by dlexpert, or was tampered with: "
                                f"{RECOVER}") from None  # fmt: skip
    except Exception:  # a truncated or overwritten file
        raise InvalidInputError(f"{path}: not a readable checkpoint (truncated or corrupt); {RECOVER}") from None
    if not isinstance(ckpt, dict):
        raise DlexpertError(f"{path}: not a dlexpert checkpoint (expected a dict; got {type(ckpt).__name__})")
    return ckpt


def save_weights(
    path: str | Path, state_dict: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> Path:
    """Write weights only, as safetensors. Tied (shared) tensors are cloned, since safetensors refuses aliases."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    data = safetensors_bytes(tensors, metadata=metadata)
    return atomic_write_bytes(path, data)


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from `*.safetensors` or from a dlexpert `last.pt` (its model weights); never unpickles."""
    path = Path(path)
    if path.suffix == ".safetensors":
        if not path.is_file():
            raise InvalidInputError(f"{path}: no such weights file")
        try:
            return load_file(path)
        except (SafetensorError, OSError) as e:
            raise InvalidInputError(f"{path}: not readable safetensors ({str(e).splitlines()[0][:120]}); it is "
                                    f"truncated or corrupt: {RECOVER}") from None  # fmt: skip
    ckpt = load_checkpoint(path)
    if "model" not in ckpt:
        raise DlexpertError(f"{path}: checkpoint has no 'model' weights")
    return ckpt["model"]


def snapshot(tree: Any) -> Any:
    """A copy of a state tree (dicts, lists, tuples) with every tensor copied to CPU memory: training may go on
    changing the originals while the copy is written."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().to("cpu", copy=True)
    if isinstance(tree, dict):
        return {k: snapshot(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(snapshot(v) for v in tree)
    return tree


class CheckpointWriter:
    """Runs checkpoint writes on one background thread, in the order submitted.

    `wait()` blocks until everything submitted is on disk and re-raises the first write error (for example a full
    disk), so a failure surfaces at the next checkpoint or when `fit()` ends, never silently.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlexpert-checkpoint")
        self._pending.append(self._pool.submit(fn, *args))

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None


# --- RNG states as tensors and lists, so that weights_only loading accepts them


def get_rng_state() -> dict[str, Any]:
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    state: dict[str, Any] = {
        "python": [version, list(mt), gauss],
        "numpy": [name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    version, mt, gauss = state["python"]
    random.setstate((version, tuple(mt), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- the full training state (see FitState)


def capture_state(s: Any) -> dict[str, Any]:
    """Everything `restore_state` needs to continue exactly where the run stands now.

    Under FSDP every rank must call this (the full state dicts are gathered); only rank 0's copy holds tensors.
    """
    from .distributed import model_state, optimizer_state

    # Resume point: after a finished epoch, the next one from its start; else this one after its last optimizer step.
    epoch, batches_done = (s.epoch + 1, 0) if s.epoch_complete else (s.epoch, s.batches_done)
    return {
        "format": FORMAT,
        "config": s.config,
        "model": model_state(s.model, s.dist),
        "ema": s.ema.state_dict() if s.ema is not None else None,
        "optimizer": optimizer_state(s.model, s.optimizer, s.dist),
        "scheduler": s.scheduler.state_dict(),
        "scaler": s.precision.scaler.state_dict(),
        "rng": get_rng_state(),
        "progress": {
            "epoch": epoch,
            "batches_done": batches_done,
            "step": s.step,
            "best_metric": s.best_metric,
            "best_epoch": s.best_epoch,
            "best_val_loss": s.best_val_loss,
            "elapsed": s.elapsed(),
            "history": s.history,
            "loss_sum": s.loss_sum.detach().cpu() if batches_done else torch.zeros(()),
            "n_loss": s.n_loss if batches_done else 0,
            "n_seen": s.n_seen if batches_done else 0,
        },
    }


def restore_state(s: Any, ckpt: Mapping[str, Any]) -> None:
    """Load a `capture_state` dict into a freshly set-up FitState. RNG states go last: setup must not disturb them."""
    if ckpt.get("format") != FORMAT:
        raise DlexpertError(f"checkpoint format {ckpt.get('format')!r} is not {FORMAT!r}; start without --resume")
    from .distributed import load_model_and_optimizer

    load_model_and_optimizer(s.model, s.optimizer, ckpt["model"], ckpt["optimizer"], s.dist)
    if s.ema is not None:
        if ckpt["ema"] is None:
            s.ema.module.load_state_dict(ckpt["model"])  # EMA switched on for the rest of the run: start from weights
        else:
            s.ema.load_state_dict(ckpt["ema"])
    s.scheduler.load_state_dict(ckpt["scheduler"])
    if ckpt["scaler"]:  # empty when the scaler was off
        s.precision.scaler.load_state_dict(ckpt["scaler"])
    p = ckpt["progress"]
    s.epoch, s.batches_done, s.step = p["epoch"], p["batches_done"], p["step"]
    s.best_metric, s.best_epoch, s.elapsed_before = p["best_metric"], p["best_epoch"], p["elapsed"]
    s.best_val_loss = p.get("best_val_loss")  # absent in checkpoints written before the tie-break existed
    s.history = list(p["history"])
    s.loss_sum, s.n_loss, s.n_seen = p["loss_sum"].to(s.device), p["n_loss"], p["n_seen"]
    s.resumed = True
    set_rng_state(ckpt["rng"])
