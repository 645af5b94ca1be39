"""Small generated datasets for the text and time-series tests: written to CSV, no downloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Three topics, each with its own nouns and verbs; the shared frames make the topic words the only signal.
TOPICS: dict[str, dict[str, list[str]]] = {
    "sport": {
        "who": ["the striker", "our goalkeeper", "the home team", "the coach", "the captain", "the referee"],
        "did": ["scored in", "celebrated", "trained hard for", "lost", "dominated", "complained about"],
        "what": [
            "the football match",
            "the league final",
            "extra time",
            "the penalty shootout",
            "the derby",
            "the championship game",
        ],
    },
    "cooking": {
        "who": ["the chef", "my grandmother", "the baker", "our cook", "the waiter", "the pastry chef"],
        "did": ["seasoned", "baked", "tasted", "burned", "simmered", "served"],
        "what": [
            "the tomato soup",
            "a loaf of bread",
            "the garlic sauce",
            "the chocolate cake",
            "the roast chicken",
            "fresh pasta",
        ],
    },
    "computing": {
        "who": ["the programmer", "our sysadmin", "the compiler", "the database", "the laptop", "the server"],
        "did": ["crashed during", "compiled", "debugged", "rebooted after", "deployed", "optimised"],
        "what": [
            "the kernel update",
            "the python script",
            "a memory leak",
            "the network driver",
            "the source code",
            "the software release",
        ],
    },
}
FRAMES = ["{who} {did} {what}.", "Yesterday {who} {did} {what} again.", "I think {who} {did} {what}",
          "Apparently {who} {did} {what} last night!"]  # fmt: skip


def topic_sentences(n_per_class: int, *, seed: int = 0) -> tuple[list[str], list[str]]:
    """`n_per_class` sentences per topic, shuffled: (texts, labels)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for topic, words in TOPICS.items():
        for _ in range(n_per_class):
            frame = FRAMES[rng.integers(len(FRAMES))]
            texts.append(frame.format(**{k: v[rng.integers(len(v))] for k, v in words.items()}))
            labels.append(topic)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]


def write_topic_csv(path: Path, n_per_class: int = 30, *, seed: int = 0) -> Path:
    import pandas as pd

    texts, labels = topic_sentences(n_per_class, seed=seed)
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    return path


def sensor_log(n_rows: int = 1200, *, seed: int = 0, channels: int = 2) -> dict[str, np.ndarray]:
    """A long table: rows are time steps of `channels` noisy sensors; the state ("idle", "walk", "run") holds for runs
    of 60-140 steps and sets the signal's frequency, so a window of a few dozen rows tells the state apart."""
    rng = np.random.default_rng(seed)
    states = np.empty(n_rows, dtype=object)
    freq = np.empty(n_rows)
    i = 0
    while i < n_rows:
        k = int(rng.integers(3))
        n = int(rng.integers(60, 141))
        states[i : i + n] = ["idle", "walk", "run"][k]
        freq[i : i + n] = [0.0, 0.08, 0.25][k]
        i += n
    phase = np.cumsum(2 * np.pi * freq)
    cols = {"time": np.arange(n_rows) * 0.02}
    for c in range(channels):
        cols[f"acc_{'xyz'[c]}"] = np.sin(phase + c) * (freq > 0) + 0.3 * rng.normal(size=n_rows)
    cols["state"] = states
    return cols


def write_sensor_csv(path: Path, n_rows: int = 1200, *, seed: int = 0, time_column: bool = True) -> Path:
    import pandas as pd

    cols = sensor_log(n_rows, seed=seed)
    if not time_column:
        del cols["time"]
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


def wide_series(n_per_class: int = 40, length: int = 48, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One series per row: a bump early (class 0) or late (class 1) in noise; (x (N, length), y (N,))."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    x, y = [], []
    for label in (0, 1):
        for _ in range(n_per_class):
            centre = (0.25 if label == 0 else 0.75) * length + rng.normal(0, length / 20)
            x.append(np.exp(-0.5 * ((t - centre) / (length / 16)) ** 2) + 0.2 * rng.normal(size=length))
            y.append(label)
    return np.asarray(x), np.asarray(y)


def write_wide_csv(path: Path, n_per_class: int = 40, length: int = 48, *, prefix: str = "t", seed: int = 0) -> Path:
    import pandas as pd

    x, y = wide_series(n_per_class, length, seed=seed)
    df = pd.DataFrame(x, columns=[f"{prefix}{i}" for i in range(length)])
    df["label"] = np.array(["early", "late"])[y]
    df.to_csv(path, index=False)
    return path
