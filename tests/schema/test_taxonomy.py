"""The task taxonomy (knowledge/data/tasks.yaml): the task types people write map to the seed's, with their family."""

from __future__ import annotations

import pytest

from dlexpert.errors import InvalidInputError
from dlexpert.knowledge import get_family, list_task_families
from dlexpert.schema import DOMAINS, TASK_TYPES, parse_task


@pytest.mark.parametrize(
    ("written", "domain", "seed_type", "family"),
    [
        ("pose estimation", "CV", "detection", "pose-estimation"),
        ("speech-to-text", "speech", "sequence-modeling", "asr"),
        ("wake word detection", "audio", "classification", "keyword-spotting"),
        ("anomaly detection", "CV", "classification", "visual-anomaly-detection"),
        ("anomaly detection", "time-series", "sequence-modeling", "time-series-anomaly-detection"),
        ("named entity recognition", "text", "sequence-modeling", "token-classification"),
        ("retrieval-augmented generation", "text", "generation", "rag"),
        ("RL", "games", "RL", "rl-discrete"),
        ("multi-label classification", "vision", "classification", "multi-label-image-classification"),
    ],
)
def test_a_task_type_as_people_write_it_is_planned_as_its_family(
    written: str, domain: str, seed_type: str, family: str
) -> None:
    task = parse_task({"task": {"type": written, "domain": domain}}).task
    assert (task.type, task.family) == (seed_type, family)


def test_the_task_words_settle_a_type_that_names_families_of_several_domains() -> None:
    """Issue 14, batch 9: "anomaly detection" of "audio / sensor time series" is not visual inspection; "time series
    forecasting" of a tabular domain is still forecasting; "question answering chatbot" is a generation task; "LLM
    fine-tuning" for "question -> SQL" is code generation."""
    sound = {
        "type": "anomaly detection",
        "domain": "audio / sensor time series",
        "specificTask": "abnormal machine sound",
    }
    assert parse_task({"task": sound}).task.family == "time-series-anomaly-detection"
    sales = {"type": "time series forecasting", "domain": "tabular / retail", "specificTask": "crates per outlet"}
    assert parse_task({"task": sales}).task.family == "forecasting"
    bot = {"type": "question answering chatbot", "domain": "NLP", "specificTask": "answer questions about our rules"}
    assert parse_task({"task": bot}).task.type == "generation"
    sql = {"type": "LLM fine-tuning", "domain": "NLP / code", "specificTask": "natural-language question -> SQL"}
    assert parse_task({"task": sql}).task.family == "code-generation"
    chat = {"type": "LLM fine-tuning", "domain": "NLP", "specificTask": "a support chatbot in our tone"}
    assert parse_task({"task": chat}).task.family == "instruction-tuning"


def test_a_domain_named_in_one_part_of_a_list_and_a_cue_that_yields_to_the_family_the_type_names() -> None:
    """Issue 14, batches 11-12: "time series / observability" names time series outright (anomaly detection there is
    not visual inspection); "recommender systems / video streaming" only cues video, and "recommendation" names one
    family, so it is not video classification; "audio / sensor time series" still names one domain and cues two."""
    metrics = {"type": "anomaly detection", "domain": "time series / observability", "specificTask": "page on-call"}
    assert parse_task({"task": metrics}).task.family == "time-series-anomaly-detection"
    vibration = {"type": "anomaly detection", "domain": "time series / vibration", "specificTask": "machine health"}
    assert parse_task({"task": vibration}).task.domain == "time-series"
    rows = {"type": "recommendation", "domain": "recommender systems / video streaming", "specificTask": "home page"}
    task = parse_task({"task": rows}).task
    assert (task.family, task.domain) == ("recommendation", "tabular")
    clips = {"type": "action recognition", "domain": "sports videos", "specificTask": "tennis strokes"}
    assert parse_task({"task": clips}).task.domain == "CV"


def test_question_answering_from_a_knowledge_base_is_rag_and_over_a_passage_extractive() -> None:
    """Issue 14, batch 12: "question answering" names extractive QA, but a chatbot answering from a help-center
    knowledge base with citations is RAG; a type whose words cue no seed type ("LLM fine-tuning") keeps its type."""
    kb = {"type": "question answering", "domain": "NLP / customer support",
          "specificTask": "a chatbot that answers from our help-center knowledge base, with citations"}  # fmt: skip
    assert parse_task({"task": kb}).task.family == "rag"
    span = {"type": "question answering", "domain": "NLP", "specificTask": "answer spans in a passage, SQuAD-style"}
    assert parse_task({"task": span}).task.family == "extractive-qa"
    tone = {"type": "LLM fine-tuning", "domain": "NLP", "specificTask": "sentiment of product reviews"}
    assert parse_task({"task": tone}).task.family == "instruction-tuning"


def test_specific_task_words_name_the_family_of_a_generic_type() -> None:
    task = parse_task({"task": {"type": "classification", "domain": "audio", "specificTask": "a wake word"}}).task
    assert task.family == "keyword-spotting"
    with pytest.raises(InvalidInputError, match="unknown task type 'foo'"):
        parse_task({"task": {"type": "foo", "domain": "CV"}})


def test_a_spec_whose_words_name_no_family_gets_its_type_and_domain_generic_one() -> None:
    assert parse_task({"task": {"type": "classification", "domain": "CV"}}).task.family == "image-classification"
    assert parse_task({"task": {"type": "sequence-modeling", "domain": "time-series"}}).task.family == "forecasting"
    # Text generation with no narrower words is supervised fine-tuning of a causal LM; words still narrow it.
    assert parse_task({"task": {"type": "generation", "domain": "NLP"}}).task.family == "instruction-tuning"
    summarize = {"type": "generation", "domain": "NLP", "specificTask": "summarize news articles"}
    assert parse_task({"task": summarize}).task.family == "summarization"
    pairs = [pair for f in list_task_families() for pair in f.generic_for]
    assert len(pairs) == len(set(pairs)), "one generic family per type/domain"
    for pair in pairs:
        task_type, domain = pair.split("/")
        assert task_type in TASK_TYPES and domain in DOMAINS, pair


def test_every_family_is_complete_and_names_known_types_and_architectures() -> None:
    families = list_task_families()
    assert len(families) >= 35
    phrases = [p for f in families for p in f.phrases]
    for f in families:
        assert f.type in TASK_TYPES and f.metrics and f.loss and f.baselines and f.source and f.phrases
        for arch in f.architectures:
            get_family(arch)  # raises for a name architectures.yaml lacks
    ambiguous = {p for p in phrases if phrases.count(p) > 1}
    assert ambiguous <= {"anomaly detection"}  # told apart by domain


def test_a_family_whose_first_step_is_not_training_says_so_first() -> None:
    from dlexpert.advisor import advise

    task = {"type": "retrieval-augmented generation", "domain": "text", "specificTask": "answer from our documents"}
    spec = parse_task({"task": task, "data": {"size": "10k documents"}, "constraints": {"computeResources": "1x A100"}})
    plan = advise(spec)
    assert plan.warnings[0].startswith("rag: do not fine-tune first") and "evaluation set" in plan.warnings[0]
    assert any("pitfall to rule out" in c for c in plan.debuggingGuidance.checkpoints)


def test_the_plan_records_the_family_its_metrics_and_the_baseline_to_beat() -> None:
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "keyword spotting", "domain": "audio"}, "data": {"size": "20k clips"}})
    task = advise(spec, assume_defaults=True).decisions.task
    assert task is not None and task.family == "keyword-spotting"
    assert any("accuracy" in m for m in task.metrics) and "DS-CNN" in task.baseline


def test_a_domain_in_the_users_words_and_the_labels_place_the_task() -> None:
    steel = parse_task({"task": {"type": "segmentation", "domain": "industrial inspection"}}).task
    assert steel.domain == "CV"
    ct = parse_task({"task": {"type": "segmentation", "domain": "CT", "specificTask": "3D voxel masks"}}).task
    assert (ct.domain, ct.family) == ("CV", "medical-segmentation")
    spec = parse_task({"task": {"type": "classification", "domain": "visual inspection", "specificTask": "ok/not ok"},
                       "data": {"labelAvailability": "normal-only"}})  # fmt: skip
    assert spec.task.family == "visual-anomaly-detection"
    shoppers = parse_task({"task": {"type": "binary classification", "domain": "tabular"}}).task
    assert shoppers.family == "tabular-classification"
    with pytest.raises(InvalidInputError, match="unknown domain"):
        parse_task({"task": {"type": "classification", "domain": "banana"}})


def test_translation_gets_a_translation_model_not_an_english_one() -> None:
    from dlexpert.advisor import advise

    task = {"type": "machine translation", "domain": "NLP", "specificTask": "Khasi to English"}
    spec = parse_task({"task": task, "data": {"size": "30k pairs"}, "constraints": {"computeResources": "A100"}})
    d = advise(spec, assume_defaults=True).decisions
    assert d.training.family in {"nllb", "marian"}


@pytest.mark.parametrize(
    ("written", "domain", "specific", "family"),
    [
        ("image classification", "CV", "which of 120 dog breeds", "fine-grained-classification"),
        ("semantic segmentation", "remote sensing", "kelp canopy per pixel from Landsat", "remote-sensing"),
        ("reinforcement learning", "robotics", "a quadcopter controller that outputs 4 motor thrusts", "rl-continuous"),
        ("video classification", "CV", "which animal species is in each camera-trap clip", "video-classification"),
        ("text-to-image fine-tuning", "CV", "LoRA on photos of our sneakers", "image-generation"),
        ("stance detection", "NLP", "does the article body agree with its headline", "sentence-pair-classification"),
        ("text-to-SQL", "NLP", "questions about our sales tables", "code-generation"),
    ],
)
def test_the_words_of_the_task_narrow_a_generic_family_of_the_same_type(
    written: str, domain: str, specific: str, family: str
) -> None:
    """A generic family (image classification, semantic segmentation, RL) gives way to the one the task's words
    name when it is of the same seed type; a specific one (video classification) does not."""
    task = parse_task({"task": {"type": written, "domain": domain, "specificTask": specific}}).task
    assert task.family == family


def test_a_forecasting_plan_says_what_the_run_backtests_and_ships() -> None:
    from dlexpert.advisor import advise
    from dlexpert.forecast.roster import DEEP_MODELS

    spec = parse_task({"task": {"type": "forecasting", "domain": "time-series", "specificTask": "next 28 days of "
                                "sales"}, "data": {"size": "3 years of daily sales for 500 stores"}})  # fmt: skip
    plan = advise(spec, assume_defaults=True)
    step4 = next(s.note for s in plan.workflow if s.step == 4)
    assert "AutoETS" in step4 and all(m in step4 for m in DEEP_MODELS) and "loses to AutoETS" in step4
    assert "the planned " in step4 and ("is not among them" in step4 or "runs as one of them" in step4)
    assert "LightGBM" in step4  # the global trees are backtested too
    # The M5 lesson: the global trees come first, the selected network is their challenger, the backtest decides.
    assert plan.decisions is not None and plan.decisions.task is not None
    assert plan.decisions.task.first_model == "LightGBM" and "challenger" in plan.modelDesign.architecture
    assert "500 series x 1,095 steps" in plan.modelDesign.rationale and "mlforecast" in plan.modelDesign.codeFramework


def test_a_defect_detection_with_pass_fail_labels_is_not_a_box_detector() -> None:
    """Issue 14, batches 10 and 12: "defect detection" whose labels give each part a pass/fail verdict and no boxes
    cannot train a box detector: with defects at 0.5% it is visual anomaly detection, at 30% image classification;
    labels with boxes stay object detection."""
    task = {"type": "defect detection", "domain": "computer vision / manufacturing", "specificTask": "scratches"}
    data = {"labelAvailability": "Pass/Fail per image from the QA station; no pixel masks",
            "distribution": "defects ~0.5% of production"}  # fmt: skip
    rare = parse_task({"task": task, "data": data}).task
    assert (rare.family, rare.type) == ("visual-anomaly-detection", "classification")
    common = parse_task({"task": task, "data": data | {"distribution": "about 30% of parts fail"}}).task
    assert (common.family, common.type) == ("image-classification", "classification")
    boxes = parse_task({"task": task, "data": data | {"labelAvailability": "OK/NG labels and boxes on 500 NG"}}).task
    assert boxes.family == "object-detection"


def test_newsroom_tasks_name_their_family_as_written() -> None:
    """Issue 14, batch 15: "information extraction" from invoice PDFs with the domain "documents" (an NLP word) is
    document understanding planned on a layout model, not RAG over a 14B LLM; claim-type detection in a fact-checking
    newsroom is single-sentence classification, not the sentence-pair task of verifying a claim; "semantic matching"
    of claims to past fact-checks is embeddings retrieval, not an unknown type (exit 2)."""
    from dlexpert.advisor import advise

    doc = parse_task({"task": {"type": "information extraction", "domain": "documents / campaign finance journalism",
                               "specificTask": "pull advertiser and gross amount out of TV stations' scanned contract "
                               "PDFs (hundreds of layouts)"}})  # fmt: skip
    assert doc.task.family == "document-understanding"
    assert "LayoutLMv3" in advise(doc, assume_defaults=True).modelDesign.architecture
    claims = {"type": "sentence classification / ranking", "domain": "NLP / fact-checking",
              "specificTask": "for each sentence, predict claim type and a check-worthiness score"}  # fmt: skip
    assert parse_task({"task": claims}).task.family == "text-classification"
    verify = {"type": "fact-checking", "domain": "NLP", "specificTask": "does the evidence support the claim?"}
    assert parse_task({"task": verify}).task.family == "sentence-pair-classification"
    matching = {"type": "semantic matching", "domain": "NLP / fact-checking",
                "specificTask": "match incoming claims to our past fact checks in four languages"}  # fmt: skip
    assert parse_task({"task": matching}).task.family == "embeddings-retrieval"


def test_archive_and_library_tasks_name_their_family_as_written() -> None:
    """Issue 14, batch 16: answering questions over 300k archival pages "always citing the exact record" is RAG, not
    span extraction; a binary stained/unstained check of herbarium sheets is image classification (a herbarium is
    where the sheets are, not a fine-grained species task); a multimodal semantic search over a museum's artworks is
    planned on an image-text dual encoder, not an OCR model."""
    from dlexpert.advisor import advise

    jfk = {"type": "question answering", "domain": "NLP / federal archival records",
           "specificTask": "answer questions about the assassination records, always citing the exact record (NAID, "
                           "page) it took the answer from"}  # fmt: skip
    assert parse_task({"task": jfk}).task.family == "rag"
    stained = {"type": "image classification", "domain": "computer vision / natural history collections",
               "specificTask": "flag herbarium sheets treated with mercuric chloride (visible staining)"}  # fmt: skip
    assert parse_task({"task": stained}).task.family == "image-classification"
    species = {"type": "image classification", "domain": "CV",
               "specificTask": "identify the plant species from a scanned herbarium sheet"}  # fmt: skip
    assert parse_task({"task": species}).task.family == "fine-grained-classification"
    search = parse_task({"task": {"type": "semantic search", "domain": "multimodal / museum online collection",
                                  "specificTask": "let visitors search the online collection of artworks by meaning"},
                         "data": {"size": "about 40k objects with images"}})  # fmt: skip
    assert search.task.family == "embeddings-retrieval"
    arch = advise(search, assume_defaults=True).modelDesign.architecture
    assert any(name in arch for name in ("CLIP", "SigLIP")), arch


def test_recommendation_plans_a_recommender_not_a_table_mlp() -> None:
    """Issue 14: every recommendation spec was planned on the tabular MLP. Top-N recommendation from loan histories
    plans SASRec (Kang & McAuley 2018) with its own recipe; click-through prediction on Criteo plans DLRM, whose 4.2B
    parameters are embedding lookups (under one MAC per weight), not compute over the GPU-training cap. Neither is a
    candidate for a generic table."""
    from dlexpert.advisor import advise

    loans = parse_task({"task": {"type": "recommendation", "domain": "tabular / public library loans",
                                 "specificTask": "recommend 10 books to a card holder from their loan history"},
                        "data": {"size": "3.5M loans, 190k card holders, 400k titles"},
                        "constraints": {"computeResources": "a CPU VM (8 vCPU, 32 GB)"}})  # fmt: skip
    plan = advise(loans, assume_defaults=True)
    assert "SASRec" in plan.modelDesign.architecture
    strategy = plan.trainingStrategy
    assert strategy.optimizer.type.startswith("Adam") and not strategy.dataProcessing.augmentation
    clicks = parse_task({"task": {"type": "recommendation", "domain": "ads / click-through prediction",
                                  "specificTask": "predict clicks on Criteo display ads"},
                         "data": {"size": "4 billion impressions"},
                         "constraints": {"computeResources": "8x H100 80GB"}})  # fmt: skip
    assert "DLRM" in advise(clicks, assume_defaults=True).modelDesign.architecture
    churn = parse_task({"task": {"type": "classification", "domain": "tabular", "specificTask": "predict churn"},
                        "data": {"size": "50k customers"}})  # fmt: skip
    arch = advise(churn, assume_defaults=True).modelDesign.architecture
    assert "SASRec" not in arch and "DLRM" not in arch


def test_time_series_anomaly_detection_plans_a_forecasting_lstm_not_a_long_horizon_forecaster() -> None:
    """Issue 14, batch 21: anomaly detection on 20,000 per-minute business metrics was planned on PatchTST, a
    long-horizon forecaster. An LSTM that forecasts normal data and flags large errors is the family's model
    (Malhotra et al. 2015; NASA's Telemanom, Hundman et al. 2018)."""
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "time series anomaly detection", "domain": "marketplace operations",
                                "specificTask": "flag anomalous minutes in per-minute checkout and latency metrics"},
                       "data": {"size": "20,000 metrics at 1-minute resolution, 13 months of history"},
                       "constraints": {"computeResources": "CPU only"}})  # fmt: skip
    assert spec.task.family == "time-series-anomaly-detection"
    assert "LSTM" in advise(spec, assume_defaults=True).modelDesign.architecture


def test_image_retrieval_is_embeddings_retrieval_with_an_image_text_encoder() -> None:
    """Issue 14, batch 12: "image retrieval" as the task type was refused (exit 2); a visual search of a photo
    collection is embeddings retrieval in CV, planned on CLIP or SigLIP."""
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "image retrieval", "domain": "computer vision / search",
                                "specificTask": "given a query image, return visually similar images"},
                       "data": {"size": "10-20 million images"}})  # fmt: skip
    assert spec.task.family == "embeddings-retrieval" and spec.data.size_parsed.n_samples == 10_000_000
    arch = advise(spec, assume_defaults=True).modelDesign.architecture
    assert any(name in arch for name in ("CLIP", "SigLIP")), arch


@pytest.mark.parametrize(
    ("written", "domain"),
    [("image retrieval / visual search", "CV"), ("semantic search", "NLP"), ("retrieval", "NLP")],
)
def test_a_family_of_two_domains_takes_the_one_its_type_cues_when_the_domain_is_a_business(
    written: str, domain: str
) -> None:
    """Issue 14, batch 21: "image retrieval / visual search" for an "e-commerce / handmade and vintage marketplace"
    was planned in NLP, on a text encoder. A domain the seed lacks leaves the type's words to say which of the
    family's domains it is; without a cue word it stays the family's own."""
    task = parse_task({"task": {"type": written, "domain": "e-commerce / handmade and vintage marketplace",
                                "specificTask": "return similar listings"}}).task  # fmt: skip
    assert (task.family, task.domain) == ("embeddings-retrieval", domain)


def test_a_rag_plan_names_its_retrieval_stack() -> None:
    """Issue 14, batch 10: a RAG plan over 100k PDFs named only the LLM; an expert names the retriever first (BM25
    plus a dense embedding model), then the LLM that reads its passages."""
    from dlexpert.advisor import advise

    spec = parse_task({"task": {"type": "question answering over documents", "domain": "NLP",
                                "specificTask": "answer questions over ~100k PDFs, citing the PDF and page"},
                       "data": {"size": "~100k PDFs"}})  # fmt: skip
    assert spec.task.family == "rag"
    pretrained = advise(spec, assume_defaults=True).modelDesign.pretrainedModel
    assert pretrained is not None and "BM25" in pretrained.adaptation and "embedding model" in pretrained.adaptation


def test_pose_estimation_plans_a_keypoint_model_not_a_box_detector() -> None:
    """Issue 14, batch 17: rep counting from a laptop webcam was planned on YOLO11s, a box detector; the catalog had
    no keypoint model. It now plans a YOLO11-pose checkpoint (COCO-Pose keypoints), and a plain detection task still
    plans a detector (pose models are candidates only where the pose family names them)."""
    from dlexpert.advisor import advise

    reps = parse_task({"task": {"type": "pose estimation", "domain": "computer vision / fitness",
                                "specificTask": "track the body from a laptop webcam and count push-ups"},
                       "data": {"size": "~150 clips"},
                       "constraints": {"computeResources": "the user's laptop, no NVIDIA GPU"}})  # fmt: skip
    assert "pose" in advise(reps, assume_defaults=True).modelDesign.architecture.lower()
    boxes = parse_task({"task": {"type": "object detection", "domain": "CV", "specificTask": "find cars in photos"},
                        "data": {"size": "5k images"}})  # fmt: skip
    assert "pose" not in advise(boxes, assume_defaults=True).modelDesign.architecture.lower()
