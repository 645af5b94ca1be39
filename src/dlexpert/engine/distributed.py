"""Data-parallel training across processes, through PyTorch's own engine: torchrun launches, DDP or FSDP2 shards.

`dlexpert train --nproc N` re-runs itself under `torchrun --standalone --nproc-per-node N` (`launch`). Each worker
then calls `fit()` as usual; `fit()` sees torchrun's environment (RANK, WORLD_SIZE, ...), joins the process group
(gloo on CPU, NCCL on CUDA) and:

- wraps the model: DDP replicates it and averages gradients; FSDP2 (`fully_shard`) shards parameters, gradients and
  optimizer state, for models whose training state does not fit on one device (the plan says which);
- gives each rank every N-th sample of the epoch's seeded order, `batch_size / N` per rank, so the global batch
  and hence the recipe's learning rate stay as planned;
- validates on every rank and takes rank 0's numbers, so best-checkpoint and early-stopping decisions agree;
- lets rank 0 alone write metrics.jsonl, TensorBoard and checkpoints (full, unsharded state dicts: a run trained
  on N processes resumes on any number of them at an epoch boundary).

Several machines: run the same `torchrun` command on each, with `--nnodes`, `--node-rank` and a shared
`--rdzv-endpoint` instead of `--standalone` (see the README).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ..errors import InvalidInputError

__all__ = ["DistInfo", "dist_info", "launch", "shutdown_distributed", "start_distributed", "wrap_model"]


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    strategy: str = "none"  # "none" (one process), "ddp" or "fsdp"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def dist_info() -> DistInfo:
    """Rank and world size from torchrun's environment (one process when it is not set)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def start_distributed(device: torch.device, strategy: str) -> tuple[DistInfo, torch.device, bool]:
    """Join the process group when launched by torchrun. Returns (info, device for this rank, whether we joined)."""
    info = dist_info()
    if not info.enabled:
        return DistInfo(strategy="none"), device, False
    chosen = "ddp" if strategy == "auto" else strategy
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    joined = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        joined = True
    return DistInfo(info.rank, info.world_size, info.local_rank, chosen), device, joined


def shutdown_distributed(*, finished: bool) -> None:
    """Leave the process group. After a clean finish, wait for every rank first: tearing gloo down while another rank
    is still inside a collective (rank 0 gathering FSDP shards for the last checkpoint) aborts that process."""
    if not dist.is_initialized():
        return
    if finished:
        dist.barrier()
    dist.destroy_process_group()


def wrap_model(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """The module the loop calls forward on: the model itself, a DDP wrapper, or the model sharded in place by FSDP2.

    FSDP2 shards each child block first, then the root, the layout PyTorch's FSDP2 tutorial uses, so that one block's
    parameters are gathered at a time.
    """
    if info.strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if info.strategy == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for child in model.children():
            if any(p.requires_grad for p in child.parameters()):
                fully_shard(child)
        fully_shard(model)
        return model
    return model


@contextmanager
def gradient_sync(train_model: nn.Module, info: DistInfo, *, sync: bool) -> Iterator[None]:
    """Skip the gradient all-reduce on accumulation micro-batches; only the batch that steps the optimizer syncs."""
    if sync or not info.enabled:
        yield
    elif info.strategy == "ddp":
        with train_model.no_sync():  # type: ignore[operator]
            yield
    else:  # FSDP2
        train_model.set_requires_gradient_sync(False)  # type: ignore[operator]
        try:
            yield
        finally:
            train_model.set_requires_gradient_sync(True)  # type: ignore[operator]


def full_norm(params: list[nn.Parameter], clip: float | None, norm: torch.Tensor | None) -> torch.Tensor:
    """The global gradient norm as a plain tensor on every rank (FSDP2 computes it over DTensor shards)."""
    if norm is None:
        norm = nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
    full = getattr(norm, "full_tensor", None)
    return full() if callable(full) else norm


def model_state(model: nn.Module, info: DistInfo) -> dict[str, Any]:
    """The full (unsharded) state dict; under FSDP every rank must call this (it gathers), rank 0 gets the tensors."""
    if info.strategy != "fsdp":
        return model.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, info: DistInfo) -> dict[str, Any]:
    if info.strategy != "fsdp":
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    return get_optimizer_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_model_and_optimizer(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    model_sd: dict[str, Any],
    optim_sd: dict[str, Any],
    info: DistInfo,
) -> None:
    """Load full state dicts (every rank read the same last.pt) into a plain, DDP-wrapped or FSDP-sharded model."""
    if info.strategy != "fsdp":
        model.load_state_dict(model_sd)
        optimizer.load_state_dict(optim_sd)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_sd, options=options)
    set_optimizer_state_dict(model, optimizer, optim_sd, options=options)


def all_reduce_sum(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def broadcast_from_main(obj: Any, info: DistInfo) -> Any:
    """Rank 0's value of `obj` on every rank (validation numbers, so that every rank takes the same decisions)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# --- the launcher: `dlexpert train --nproc N` -> torchrun

# torchrun's own chatter, which the user did not ask for: its glog-style warnings and the "*****" banner.
_TORCHRUN_NOISE = re.compile(r"^(\*{5,}|[WIEF]\d{4} .*|Setting OMP_NUM_THREADS .*)$")


def launch(argv: Sequence[str], *, nproc: int, threads_per_process: int | None = None) -> int:
    """Run `dlexpert <argv>` in `nproc` processes through torchrun on this machine; return the exit code.

    Workers print their own one-line errors (exit 2 for bad input); torchrun's traceback about a failed child is
    replaced by one line saying which rank failed. OMP_NUM_THREADS is set to cores / nproc unless already set.
    """
    if nproc < 2:
        raise InvalidInputError(f"--nproc: must be at least 2 to launch processes; got {nproc}")
    env = dict(os.environ)
    threads = threads_per_process or max(1, (os.cpu_count() or 1) // nproc)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "dlexpert", *argv]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=None, stderr=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stderr is not None
    held: list[str] = []  # a traceback block is held back until we know whose it is
    errors: set[str] = set()  # every rank reports the same bad input: say it once
    for line in proc.stderr:
        text = line.rstrip("\n")
        if held or text.startswith("Traceback (most recent call last)"):
            held.append(text)
        elif not _TORCHRUN_NOISE.match(text) and text not in errors:
            if text.startswith("error:"):
                errors.add(text)
            print(text, file=sys.stderr, flush=True)
    rc = proc.wait()
    block = "\n".join(held)
    if "ChildFailedError" in block:  # torchrun's report on a worker that already printed its own error
        codes = re.findall(r"exitcode\s*:\s*(-?\d+)", block)
        ranks = re.findall(r"rank\s*:\s*(\d+)", block)
        child = int(codes[0]) if codes else rc
        if not errors:  # a worker died without saying why (killed, out of memory)
            rank = ranks[0] if ranks else "?"
            print(f"error: worker rank {rank} of {nproc} exited with code {child}", file=sys.stderr)
        return child if child > 0 else 1
    if block:
        print(block, file=sys.stderr)
    return rc
