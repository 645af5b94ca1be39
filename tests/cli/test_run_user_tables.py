"""`dlexpert run` / `profile` on small generated CSVs: text (a sentence encoder vs TF-IDF) and time series."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ..conftest import EXAMPLES
from ..data.synthetic import write_sensor_csv, write_topic_csv, write_wide_csv
from .test_cli import run


@pytest.mark.slow  # ~35 s: importing transformers' model stack alone takes 10-20 s on 2 cores (see tests/models)
def test_run_on_a_text_csv_trains_a_sentence_encoder_probe_beside_tfidf(tmp_path: Path) -> None:
    data, out = write_topic_csv(tmp_path / "texts.csv", 15), tmp_path / "run"
    r = run("run", str(EXAMPLES / "text-topics.yaml"), "--data", str(data), "--target", "label", "--out", str(out),
            "--epochs", "20", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["model"] == "sentence-transformers/all-MiniLM-L6-v2" and ev["n_samples"] == 9
    assert ev["metrics"]["accuracy"] >= 2 / 3  # three topics with disjoint vocabularies; chance is 1/3
    linear = ev["baseline"]["linear"]
    assert linear["model"].startswith("TF-IDF") and linear["metrics"]["accuracy"] >= 2 / 3
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["adaptation"] == "linear-probe" and config["model_record"]["library"] == "text"
    assert config["data"]["modality"] == "text"
    assert (out / "checkpoints" / "best.safetensors").stat().st_size < 100_000  # the head, not the 90 MB encoder
    assert "TfidfVectorizer" in ev["baseline"]["linear"]["how"] and (out / "MODEL_CARD.md").is_file()


# ~17 s: a whole run. The chronological split is checked in tests/data/test_series.py and a cnn1d run in
# tests/cli/test_run.py; `make test-all` runs this one.
@pytest.mark.slow
def test_run_on_a_sensor_log_trains_a_1d_cnn_on_chronological_windows(tmp_path: Path) -> None:
    # 1,200 rows: the chronological test split then holds all three states. With 800 it was 95% "run", the state
    # with the fewest training windows, and the result hung on the initial weights (0.05-0.84 across seeds).
    data, out = write_sensor_csv(tmp_path / "sensor.csv", n_rows=1200), tmp_path / "run"
    r = run("run", str(EXAMPLES / "sensor-activity.yaml"), "--data", str(data), "--target", "state",
            "--out", str(out), "--epochs", "3", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "split chronologically" in r.stderr
    ev = json.loads(r.stdout)
    assert ev["model"] == "cnn1d"
    assert ev["metrics"]["accuracy"] > ev["baseline"]["linear"]["metrics"]["accuracy"] + 0.2  # frequency, not amplitude
    profile = json.loads((out / "profile.json").read_text())
    assert profile["layout"]["kind"] == "long" and profile["input_shape"] == [2, 32]
    assert profile["split"]["chronological"] is True
    # Everything a run leaves behind (the README's list), as on the README's MNIST-1D run (tests/cli/test_run.py)
    for name in ("task.yaml", "plan.json", "config.yaml", "metrics.jsonl", "profile.json", "evaluation.json",
                 "checkpoints/last.pt", "checkpoints/best.safetensors", "MODEL_CARD.md", "report.html",
                 "figures/confusion.png", "figures/reliability.png", "figures/failures.png"):  # fmt: skip
        assert (out / name).exists(), name
    assert any((out / "tb").iterdir())
    epochs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if '"epoch"' in ln]
    assert sum(1 for e in epochs if e.get("kind") == "epoch") == 3


def test_profile_reports_the_layout_and_bad_tables_are_one_line_errors(tmp_path: Path) -> None:
    wide = write_wide_csv(tmp_path / "wide.csv", n_per_class=10, length=20)
    r = run("profile", str(wide), "--target", "label")
    assert r.returncode == 0, r.stderr
    prof = json.loads(r.stdout)
    assert prof["modality"] == "sequence" and prof["input_shape"] == [1, 20] and prof["layout"]["kind"] == "wide"

    log = write_sensor_csv(tmp_path / "log.csv", n_rows=400)
    df = pd.read_csv(log)
    df["time"] = df["time"].astype(object)
    df.loc[3, "time"] = "later"
    df.to_csv(log, index=False)
    for path, expected in ((log, "time column 'time'"), (write_sensor_csv(tmp_path / "tiny.csv", n_rows=3), "3 row")):
        r = run("profile", str(path), "--target", "state")
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
