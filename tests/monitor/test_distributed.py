"""Two processes (gloo, DDP) through torchrun: a NaN that only one rank sees stops, or rolls back, every rank."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import diagnosis

# Both ranks train the same MLP (12 steps per epoch); rank 1 alone gets a NaN pixel at step 15 (epoch 2).
WORKER = textwrap.dedent(
    """
    import sys, json, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from monitor.conftest import blobs, mlp
    from dlexpert.engine import TrainConfig, fit
    from dlexpert.monitor import create_monitors

    class PoisonRank1:
        all_ranks = True
        done = False

        def before_batch(self, s):
            if s.dist.rank == 1 and s.step + 1 == 15 and not self.done:
                s.x[0, 0] = float("nan")
                self.done = True

    out, remedy = sys.argv[1], sys.argv[2] == "1"
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-2, strategy="ddp", seed=0)
    cbs = [*create_monitors(every=2, auto_remedy=remedy, console=False), PoisonRank1()]
    r = fit(mlp(), train_set=blobs(384, seed=0), val_set=blobs(64, seed=1), cfg=cfg, out_dir=out, callbacks=cbs,
            progress=False, device="cpu")
    print(json.dumps({{"epochs": r.epochs_completed, "stop": r.stop_reason}}), flush=True)
    """
)


def torchrun(tmp_path: Path, *args: str) -> list[dict]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(Path(__file__).parents[1])))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", str(script), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:  # a rank waiting forever in a collective: kill the whole group
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 0, stderr[-3000:]
    return [json.loads(m) for m in re.findall(r"\{[^{}]*\}", stdout)]  # the ranks' lines may interleave


@pytest.mark.slow  # two torchrun processes: ~30 s each on 2 cores
@pytest.mark.parametrize("remedy", [False, True])
def test_a_nan_on_one_rank_is_handled_on_every_rank(tmp_path: Path, remedy: bool) -> None:
    out = tmp_path / "run"
    results = torchrun(tmp_path, str(out), "1" if remedy else "0")
    assert len(results) == 2  # both ranks returned from fit(): nobody hangs in an all-reduce
    nan = {f["issue"]: f for f in diagnosis(out)["findings"]}["nan_inf"]
    assert nan["began_at"] == 15
    if remedy:
        assert all(r["epochs"] == 3 and r["stop"] is None for r in results)
        assert [a["action"] for a in diagnosis(out)["actions"]] == ["rollback"]
    else:
        assert all(r["epochs"] == 1 and r["stop"].startswith("stopped: non-finite loss") for r in results)
