"""Several processes: sharding of the data order, and real 2-process runs on gloo through torchrun (DDP and FSDP2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dlexpert.engine import TrainConfig, load_checkpoint  # noqa: E402
from dlexpert.engine.sampling import make_train_loader, n_train_batches  # noqa: E402
from dlexpert.errors import InvalidInputError  # noqa: E402

from .conftest import blobs  # noqa: E402

# A worker script: both ranks train the same tiny MLP on the same blobs; rank 0 writes the run.
WORKER = textwrap.dedent(
    """
    import os, sys, json, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from engine.conftest import blobs, mlp
    from dlexpert.engine import TrainConfig, fit
    out, epochs, strategy, resume = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=1e-2, strategy=strategy, seed=0)
    r = fit(mlp(), train_set=blobs(256, seed=0), val_set=blobs(64, seed=1), cfg=cfg, out_dir=out, resume=resume,
            progress=False)
    result = os.path.join(os.path.dirname(out), "rank" + os.environ["RANK"] + ".json")  # ranks share stdout
    with open(result, "w") as f:
        json.dump({{"best": r.best_val_metric, "epochs": r.epochs_completed}}, f)
    del r  # release the (sharded) model before the interpreter shuts down
    """
)


def torchrun(tmp_path: Path, *args: str, nproc: int = 2) -> dict:
    script = tmp_path / "worker.py"
    for old in tmp_path.glob("rank*.json"):
        old.unlink()
    script.write_text(WORKER.format(tests=str(Path(__file__).parents[1])))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", str(script)]
    proc = subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        _, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:  # a hung collective: kill torchrun and its workers, not just torchrun
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    results = [tmp_path / f"rank{r}.json" for r in range(nproc)]
    assert proc.returncode == 0 or _gloo_teardown_abort(stderr, results), stderr[-3000:]
    return json.loads(results[0].read_text())


def _gloo_teardown_abort(stderr: str, results: list[Path]) -> bool:
    """A known PyTorch teardown race, not ours: every rank returned from fit() and wrote its result, the process group
    was destroyed, and one worker then aborted in C++ while the interpreter shut down (Gloo threads releasing tensors
    during finalisation; pytorch/pytorch PR 179291 describes it). About one run in fifteen here."""
    return all(p.is_file() for p in results) and "terminate called without an active exception" in stderr


def test_ranks_take_disjoint_equal_shards_of_the_same_order() -> None:
    ds = blobs(103)
    cfg = TrainConfig(batch_size=10, seed=3)
    shards = [
        [i for _, y in make_train_loader(ds, cfg, epoch=1, rank=r, world_size=2) for i in range(len(y))]
        for r in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == n_train_batches(103 // 2, 5) * 5  # 51 per rank -> 10 batches of 5
    orders = [list(make_train_loader(ds, cfg, epoch=1, rank=r, world_size=2).sampler) for r in range(2)]
    assert not set(orders[0]) & set(orders[1])
    assert len(orders[0]) == len(orders[1]) == 51


def test_a_batch_smaller_than_the_process_count_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="batch_size"):
        make_train_loader(blobs(16), TrainConfig(batch_size=1), epoch=0, rank=0, world_size=2)


# FSDP: ~13 s more of two processes; DDP exercises the same launch, sampler and rank-0 writing (`make test-all`: both)
@pytest.mark.parametrize("strategy", ["ddp", pytest.param("fsdp", marks=pytest.mark.slow)])
def test_two_processes_learn_and_rank0_writes_one_run(tmp_path: Path, strategy: str) -> None:
    from dlexpert.engine import fit

    from .conftest import mlp

    out = tmp_path / "run"
    res = torchrun(tmp_path, str(out), "12", strategy, "0")
    cfg = TrainConfig(epochs=12, batch_size=32, lr=1e-2, seed=0)
    one = fit(mlp(), train_set=blobs(256, seed=0), val_set=blobs(64, seed=1), cfg=cfg, out_dir=tmp_path / "one",
              progress=False)  # fmt: skip
    assert one.best_val_metric is not None
    assert res["best"] >= 0.85 and abs(res["best"] - one.best_val_metric) <= 0.07  # the same band as one process
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == list(range(12))  # one writer, no duplicate rows
    ckpt = load_checkpoint(out / "checkpoints" / "last.pt")
    assert ckpt["config"]["distributed"] == {"world_size": 2, "strategy": strategy}
    assert ckpt["model"]["0.weight"].shape == (16, 8)  # the full, unsharded weights, even under FSDP
    assert (out / "checkpoints" / "best.safetensors").is_file()


@pytest.mark.slow  # ~11 s: two processes then a resume; kept out of `make test` for its 15-minute budget
def test_a_two_process_run_resumes_in_one_process_at_an_epoch_boundary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    torchrun(tmp_path, str(out), "3", "ddp", "0")
    from dlexpert.engine import fit

    from .conftest import mlp

    cfg = TrainConfig(epochs=12, batch_size=32, lr=1e-2, strategy="ddp", seed=0)
    r = fit(mlp(), train_set=blobs(256, seed=0), val_set=blobs(64, seed=1), cfg=cfg, out_dir=out, resume=True,
            progress=False)  # fmt: skip
    assert r.epochs_run == 9 and r.epochs_completed == 12
    assert r.best_val_metric is not None and r.best_val_metric >= 0.85
