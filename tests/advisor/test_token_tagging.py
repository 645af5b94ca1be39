"""Token tagging starts from a masked-language-model encoder, never from a sentence-embedding checkpoint."""

from __future__ import annotations

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


def test_multilingual_ner_gets_a_masked_language_encoder_that_fits_the_browser() -> None:
    """Spec `ner-pii-browser-3` (tune): PII tagging in English/Spanish/Portuguese chats inside a browser extension,
    under 150 MB. The paraphrase-tuned multilingual MiniLM had been chosen: its training pooled the tokens into one
    sentence vector. DistilmBERT (134M parameters, 104 languages) fits at int8 where mDeBERTa (278M) does not."""
    spec = parse_task({
        "task": {"type": "token classification", "domain": "NLP",
                 "specificTask": "PII detection (names, phones, emails) in customer chat messages, English/Spanish/"
                                 "Portuguese, often mixed in one message"},
        "data": {"size": "15k labelled messages"},
        "constraints": {"computeResources": "colab pro A100 to train. In prod it runs inside a browser extension",
                        "latencyRequirement": "< 50ms per msg", "modelSizeLimit": "<150MB download"},
    })  # fmt: skip
    plan = advise(spec)
    d = plan.decisions
    assert d is not None and d.task is not None and d.task.family == "token-classification"
    assert not d.model.name.startswith("sentence-transformers/")
    assert d.model.name == "distilbert/distilbert-base-multilingual-cased"
