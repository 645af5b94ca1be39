"""Text as torch datasets: tokenized once in the dataset (token tensors a DataLoader collates), or cached embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from dlexpert.data import EmbeddingDataset, TextDataset, load_data, to_torch_datasets
from dlexpert.errors import InvalidInputError

from .synthetic import write_topic_csv


def fake_tokenizer(texts: Sequence[str]) -> dict[str, torch.Tensor]:
    """One id per word, padded with 0 to the longest text, like a Hugging Face tokenizer's output."""
    ids = [[len(w) + 1 for w in t.split()] for t in texts]
    longest = max(len(i) for i in ids)
    input_ids = torch.tensor([i + [0] * (longest - len(i)) for i in ids])
    return {"input_ids": input_ids, "attention_mask": (input_ids > 0).long(), "token_type_ids": 0 * input_ids}


def test_tokenized_text_dataset_collates_into_token_tensors() -> None:
    calls: list[int] = []

    def tokenizer(texts: Sequence[str]) -> dict[str, torch.Tensor]:
        calls.append(len(texts))
        return fake_tokenizer(texts)

    ds = TextDataset(["a bb ccc", "dd", "e f"], torch.tensor([0, 1, 0]), tokenizer=tokenizer)
    assert calls == [3]  # every text tokenized once, up front, not per epoch
    item, label = ds[1]
    assert label.item() == 1
    assert set(item) == {"input_ids", "attention_mask"}  # token_type_ids dropped: all zero for single texts
    assert item["input_ids"].tolist() == [3, 0, 0] and item["attention_mask"].tolist() == [1, 0, 0]
    batch, labels = next(iter(DataLoader(ds, batch_size=2)))  # the engine's loader: default collate
    assert batch["input_ids"].shape == (2, 3) and labels.tolist() == [0, 1]
    assert torch.equal(ds.batch([0, 2])[0]["attention_mask"], torch.tensor([[1, 1, 1], [1, 1, 0]]))


def test_splits_tokenized_or_embedded_once_per_split(tmp_path: Path) -> None:
    splits = load_data(write_topic_csv(tmp_path / "t.csv", 10), target="label", seed=0)
    tok = to_torch_datasets(splits, tokenizer=fake_tokenizer)
    assert isinstance(tok.train, TextDataset) and tok.train[0][0]["input_ids"].dtype == torch.long
    seen: list[list[str]] = []

    def embed(texts: list[str]) -> torch.Tensor:
        seen.append(texts)
        return torch.stack([torch.tensor([len(t), t.count(" ")], dtype=torch.float32) for t in texts])

    emb = to_torch_datasets(splits, embed=embed)
    assert [len(t) for t in seen] == [len(splits.y_train), len(splits.y_val), len(splits.y_test)]
    assert isinstance(emb.test, EmbeddingDataset) and emb.test.texts == list(splits.x_test)
    x, y = emb.train[3]
    assert x["sentence_embedding"].tolist() == [len(splits.x_train[3]), splits.x_train[3].count(" ")]
    assert y.item() == splits.y_train[3]
    batch, _ = next(iter(DataLoader(emb.val, batch_size=2)))
    assert batch["sentence_embedding"].shape == (2, 2)


def test_embed_of_the_wrong_shape_is_an_input_error(tmp_path: Path) -> None:
    splits = load_data(write_topic_csv(tmp_path / "t.csv", 10), target="label", seed=0)
    with pytest.raises(InvalidInputError, match=r"expected \(\d+, H\) sentence embeddings; got shape \(3, 2\)"):
        to_torch_datasets(splits, embed=lambda texts: torch.zeros(3, 2))
