"""Training hardware and deployment hardware are read apart, and the export path follows where the model runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlexpert.advisor import advise, advise_with_decisions
from dlexpert.schema import parse_task
from dlexpert.schema._quantity import device_kind, parse_compute, parse_data_size, split_deployment


def _plan(constraints: dict, task: dict | None = None, size: str = "50k images") -> dict:
    spec = parse_task({"task": task or {"type": "classification", "domain": "CV", "specificTask": "defects, 6 classes"},
                       "data": {"size": size}, "constraints": constraints})  # fmt: skip
    return advise(spec).model_dump()


def _formats(plan: dict) -> str:
    return " | ".join(plan["engineeringPractice"]["inferenceOptimization"]["format"])


def _evidence(plan: dict, claim: str) -> str:
    return " ".join(e["value"] for e in plan["evidence"] if e["claim"] == claim)


def test_a_sentence_that_trains_on_one_device_and_deploys_on_another_is_split() -> None:
    text = "single-GPU 16GB for training; deployed on a Cortex-M7 microcontroller with 512KB RAM"
    assert split_deployment(text) == (
        "single-GPU 16GB for training",
        "deployed on a Cortex-M7 microcontroller with 512KB RAM",
    )
    c = parse_compute(text)
    assert (c.kind, c.memory_gb) == ("gpu", 16.0) and c.deployment is not None
    assert split_deployment("deployed on Jetson Orin") == ("deployed on Jetson Orin", "deployed on Jetson Orin")  # both
    assert parse_compute("Train on 4x A10, serve on T4").n_devices == 4


def test_a_device_named_before_the_inference_word_after_a_comma_is_the_deployment() -> None:
    """A device before the inference word ("4 GPUs for training, CPU only for inference") is where it runs, not what
    it trains on; it had been read as CPU-only training, "CPU only" overriding the GPUs."""
    c = parse_compute("4 GPUs for training, CPU only for inference")
    assert (c.kind, c.n_devices, c.deployment) == ("gpu", 4, "CPU only for inference")
    assert parse_compute("train on an RTX 4090, CPU for inference").deployment == "CPU for inference"
    assert parse_compute("1x A100 for training, inference").deployment is None  # no device after the comma


def test_a_microcontroller_target_gets_int8_micro_runtimes_and_a_gpu_trains() -> None:
    plan = _plan({"computeResources": "single-GPU 16GB for training; deployed on a Cortex-M7 microcontroller"},
                 task={"type": "classification", "domain": "audio", "specificTask": "keyword spotting, 12 words"},
                 size="100k one-second clips")  # fmt: skip
    assert "Cortex-M7" in _evidence(plan, "deployment target")
    assert "T4" in _evidence(plan, "training hardware") or "GPU" in _evidence(plan, "training hardware")
    formats = _formats(plan)
    assert "TFLite Micro" in formats and "TensorRT" not in formats
    assert "INT8" in plan["engineeringPractice"]["modelCompression"]["quantization"]
    assert "required" in plan["engineeringPractice"]["modelCompression"]["quantization"]
    assert plan["decisions"]["estimates"]["params_m"] <= 1.0  # fits half of a 2 MB flash as int8


@pytest.mark.parametrize(
    ("constraints", "task_text", "want", "never"),
    [
        ({"computeResources": "1x RTX 4090"}, "plant disease, 38 classes; the app runs offline on iPhones", "Core ML",
         "TensorRT"),
        ({"computeResources": "1x RTX 4090", "deploymentTarget": "Android phones"}, "plant disease, 38 classes",
         "LiteRT", "TensorRT"),
        ({"computeResources": "GPU w 24G for training, model runs in the browser"}, "plant disease, 38 classes",
         "ONNX Runtime Web", "TensorRT"),
        ({"computeResources": "Train on 4x A10, serve on a CPU server (8 cores)"}, "plant disease, 38 classes",
         "ONNX", "TensorRT"),
    ],
)  # fmt: skip
def test_the_export_path_follows_the_deployment_target(
    constraints: dict, task_text: str, want: str, never: str
) -> None:
    plan = _plan(constraints, task={"type": "classification", "domain": "CV", "specificTask": task_text})
    assert want in _formats(plan) and never not in _formats(plan)


def test_a_small_model_on_much_data_does_not_train_in_seconds() -> None:
    plan = _plan({"computeResources": "single-GPU 16GB for training; deployed on a Cortex-M7 microcontroller"},
                 task={"type": "classification", "domain": "audio", "specificTask": "keyword spotting, 12 words"},
                 size="100k one-second clips")  # fmt: skip
    assert plan["decisions"]["estimates"]["training_hours"]["high"] * 3600 >= 30  # 11k+ steps at >= 3 ms each


@pytest.mark.parametrize(
    ("field", "value"),
    [("size", "-5 images"), ("size", "1e400 images"), ("size", "NaN images"), ("size", -5)],
)
def test_negative_nan_and_astronomical_sizes_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        parse_data_size(str(value))
    assert parse_data_size("2.5e5 images").n_samples == 250_000


def test_the_cli_refuses_a_negative_size_in_one_line_naming_the_field(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "task: {type: classification, domain: CV}\ndata: {size: -5}\nconstraints: {latencyRequirement: -3 ms}\n"
    )
    r = subprocess.run([sys.executable, "-m", "dlexpert.cli.main", "plan", str(spec)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "data.size" in r.stderr and "negative" in r.stderr


def test_the_decisions_carry_the_deployment_target_as_values() -> None:
    plan = _plan({"computeResources": "1x RTX 4090", "deploymentTarget": "Android phones"})
    deployment = plan["decisions"]["deployment"]
    assert deployment["device"] == "android-npu" and deployment["kind"] == "npu"
    assert any("LiteRT" in f for f in deployment["formats"])


def test_the_named_gpu_of_a_server_serves_though_cpu_nodes_are_named_beside_it() -> None:
    """Issue 14, batch 19: "CPU nodes for indexing" beside the GPU server planned a laptop CPU (the longest alias)."""
    compute = "one on-prem GPU server (1x L4 24 GB) inside our network, CPU nodes for indexing"
    plan = _plan({"computeResources": compute})
    deployment = plan["decisions"]["deployment"]
    assert deployment["kind"] == "gpu" and deployment["device"] == "l4"


def test_text_in_other_languages_gets_a_multilingual_encoder() -> None:
    task = {"type": "classification", "domain": "NLP",
            "specificTask": "NER on German, French and Italian legal contracts, 9 entity types"}  # fmt: skip
    plan = _plan({"computeResources": "single A100 40GB"}, task=task, size="12k annotated sentences")
    chosen = plan["decisions"]["model"]["name"].lower()
    assert any(w in chosen for w in ("xlm", "mdeberta", "multilingual")), chosen
    assert "german" in _evidence(plan, "languages")
    task["specificTask"] = "NER on English legal contracts"
    english = _plan({"computeResources": "single A100 40GB"}, task=task, size="12k annotated sentences")
    assert not _evidence(english, "languages")


def test_languages_named_by_code_count_and_country_codes_do_not() -> None:
    task = {"type": "classification", "domain": "NLP", "specificTask": "toxic lines in EN, ES, PT-BR, KO, TR chat"}
    coded = _plan({"computeResources": "single A100 40GB"}, task=task, size="2M chat lines")
    assert "korean" in _evidence(coded, "languages")
    task["specificTask"] = "toxic reviews from our US, UK, CA stores"
    countries = _plan({"computeResources": "single A100 40GB"}, task=task, size="2M reviews")
    assert not _evidence(countries, "languages")


def test_a_language_named_in_its_own_words_or_code_mixed_text_is_not_english() -> None:
    """Issue 14, batch 14: "code-mixed Bangla" was planned on an English-only encoder."""
    task = {"type": "classification", "domain": "NLP",
            "specificTask": "flag hateful comments in code-mixed Bangla (Bangla script, romanised Bangla)"}  # fmt: skip
    plan = _plan({"computeResources": "single T4"}, task=task, size="6k labelled posts")
    assert "bengali" in _evidence(plan, "languages")
    task["specificTask"] = "sentiment of code-switched tweets"
    tweets = _plan({"computeResources": "single T4"}, task=task, size="6k tweets")
    assert "multilingual" in _evidence(tweets, "languages")


def test_a_multilingual_encoder_is_timed_without_its_embedding_table() -> None:
    """Batch 22: a 250k-token vocabulary is most of a multilingual MiniLM's 118M parameters and costs no
    multiply-adds, so it meets 50 ms on a CPU where an English BERT-base does not."""
    from dlexpert.estimate import estimate_gmacs
    from dlexpert.knowledge import get_model

    multilingual = get_model("hf/sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    gmacs, how = estimate_gmacs(multilingual)
    assert gmacs < 0.3 * multilingual.params_m * 1e6 * 128 / 1e9 and "looked up" in how
    assert gmacs < estimate_gmacs(get_model("hf/bert-base-uncased"))[0] / 3
    task = {"type": "classification", "domain": "NLP",
            "specificTask": "route German customer messages to one of 380 intents"}  # fmt: skip
    plan = _plan({"computeResources": "2x A100", "latencyRequirement": "< 50 ms per message on CPU"}, task=task,
                 size="900k labelled utterances")  # fmt: skip
    assert "multilingual" in plan["decisions"]["model"]["name"].lower()


def test_a_size_limit_on_a_phone_is_met_by_the_fp16_weights_the_phone_runs() -> None:
    """Issue 14, batch 22: a 300 MB classifier on an Android NPU. The multilingual MiniLM's 118M parameters are 236 MB
    in fp16, the precision the NPU runs and the latency assumes, but were checked as a 472 MB fp32 file, "fits only
    after INT8", and a from-scratch Transformer was planned for Korean call transcripts instead."""
    task = {"type": "text classification", "domain": "NLP",
            "specificTask": "classify Korean call transcripts as normal, suspicious or voice phishing"}  # fmt: skip
    cons = {"computeResources": "train on 4x A100; the classifier runs on the user's Android phone (Snapdragon NPU)",
            "modelSizeLimit": "300 MB"}  # fmt: skip
    plan = _plan(cons, task=task, size="300,000 transcripts")
    assert plan["decisions"]["deployment"]["kind"] == "npu"
    assert "multilingual" in plan["decisions"]["model"]["name"].lower()


def test_speaker_verification_is_planned_on_a_speech_model_not_a_sound_event_one() -> None:
    """Issue 14, batches 10 and 22: voiceprints were planned on AST, an AudioSet sound-event classifier."""
    task = {"type": "speaker verification", "domain": "audio",
            "specificTask": "verify callers by voice against their enrolled voiceprint on the hotline"}  # fmt: skip
    plan = _plan({"computeResources": "1x A100 40GB"}, task=task, size="400k utterances of 20k speakers")
    assert plan["decisions"]["model"]["name"] == "microsoft/wavlm-base-plus-sv"
    assert plan["decisions"]["task"]["family"] == "speaker-recognition"


def test_extra_bands_change_the_input_layer_and_overhead_imagery_rotates() -> None:
    task = {"type": "classification", "domain": "CV",
            "specificTask": "crop type classification from 4-band (RGB + NIR) satellite tiles, 10 classes"}  # fmt: skip
    plan = _plan({"computeResources": "1x A100 40GB"}, task=task, size="20k tiles")
    assert plan["decisions"]["model"]["library"] == "timm" and plan["decisions"]["model"]["in_chans"] == 4
    processing = plan["trainingStrategy"]["dataProcessing"]
    assert "in_chans=4" in processing["normalization"] and "3/4" in processing["normalization"]
    assert any("RandomRotate90" in a for a in processing["augmentation"])
    rgb = _plan({"computeResources": "1x A100 40GB"}, task={**task, "specificTask": "pet breeds, 37 classes"})
    assert rgb["decisions"]["model"].get("in_chans") is None
    assert not any("RandomRotate90" in a for a in rgb["trainingStrategy"]["dataProcessing"]["augmentation"])


@pytest.mark.parametrize(
    ("text", "training", "deploy_kind"),
    [
        ("RTX 4090 for training; Jetson AGX Orin 64GB inside the robot cell", "gpu", "edge"),
        ("training on my laptop CPU (i5, 16GB RAM, no gpu). model ships inside our Android app", "cpu", "npu"),
        ("can rent an A100 for a day to train; the kiosk is a Raspberry Pi 5 8GB, no internet", "gpu", "cpu"),
        ("RTX 3060 12GB for training; it has to run client-side in the browser meeting app", "gpu", "browser"),
        ("must run fully offline on employees' laptops: 16GB RAM, no discrete GPU", "cpu", "cpu"),
        ("CPU (1-2 cores) on players' PCs; the GPU belongs to the game", "cpu", None),
        ("Kaggle notebook P100 16GB, inference notebook must finish within 9h", "gpu", None),
    ],
)
def test_clauses_say_which_device_trains_and_which_serves(text: str, training: str, deploy_kind: str | None) -> None:
    c = parse_compute(text)
    assert c.kind == training
    assert (device_kind(c.deployment) if c.deployment else None) == deploy_kind


def test_numbers_written_out_and_gpu_model_names_are_read() -> None:
    assert parse_data_size("three hundred hours of call audio").hours == 300
    assert parse_data_size("two thousand labelled frames").n_samples == 2000
    assert parse_data_size("one hundred and twenty images").n_samples == 120
    assert (parse_compute("2x 1080Ti 11GB").n_devices, parse_compute("8x 2080Ti").kind) == (2, "gpu")
    assert parse_compute("fine-tune on 1 A10G").kind == "gpu"
    assert parse_compute("Spark cluster (CPU only) for batch scoring").device is None  # not the Orin in "scoring"


def test_a_tpu_trains_like_an_accelerator_not_like_a_phone() -> None:
    task = {"type": "classification", "domain": "NLP", "specificTask": "toxic comments, 2 classes"}
    plan = _plan({"computeResources": "Kaggle TPU v3-8"}, task=task, size="220k comments")
    assert plan["decisions"]["estimates"]["training_device"] == "tpu-v3"
    assert plan["decisions"]["training"]["mixed_precision"] == "bf16"
    assert plan["decisions"]["estimates"]["params_m"] > 30  # not capped at a phone's 30M


def test_a_runtime_the_spec_names_comes_first_and_a_refused_one_does_not() -> None:
    wanted = _plan({"computeResources": "RTX 3050 for training; runs on an ARM Cortex-A9 board as a quantized tflite"})
    assert _formats(wanted).startswith("TFLite")
    refused = _plan({"computeResources": "1x T4; serving on T4 without TensorRT, plain ONNX Runtime"})
    assert "TensorRT" not in _formats(refused).split(" | ")[0]


def test_a_small_decoder_llm_on_a_board_is_served_as_gguf() -> None:
    spec = parse_task({"task": {"type": "instruction tuning", "domain": "NLP", "specificTask": "museum kiosk Q&A"},
                       "data": {"size": "6k Q&A pairs"},
                       "constraints": {"computeResources": "A100 for training; the kiosk is a Raspberry Pi 5 8GB",
                                       "latencyRequirement": "answer starts streaming within 3s"}})  # fmt: skip
    d = advise(spec, assume_defaults=True).decisions
    assert d is not None and d.deployment is not None
    assert any("GGUF" in f for f in d.deployment.formats) and not any("TensorRT" in f for f in d.deployment.formats)


def test_a_fine_tuned_checkpoint_named_in_other_words_is_the_base_model() -> None:
    """'our Mistral-7B SFT checkpoint' is Mistral-7B, not a larger model the catalog ranks higher."""
    spec = parse_task({"task": {"type": "DPO", "domain": "NLP", "specificTask": "align our chat model"},
                       "data": {"size": "60k preference pairs"},
                       "constraints": {"computeResources": "one RTX 4090 24GB"},
                       "existingSetup": {"baseModel": "our Mistral-7B SFT checkpoint"}})  # fmt: skip
    assert advise(spec).model_dump()["modelDesign"]["pretrainedModel"]["name"] == "mistralai/Mistral-7B-v0.1"


def test_an_architecture_family_named_without_a_checkpoint_is_the_base_model() -> None:
    """'plain U-Net on RGB' names the U-Net family, not a checkpoint: the plan keeps a U-Net (issue 14, batch 17: a
    landslide segmenter planned on LR-ASPP MobileNetV3)."""
    spec = parse_task({"task": {"type": "semantic segmentation", "domain": "remote sensing",
                                "specificTask": "pixel masks of fresh landslides"},
                       "data": {"size": "3,800 patches, 128x128"},
                       "constraints": {"computeResources": "train on a Colab T4"},
                       "existingSetup": {"baseModel": "plain U-Net on RGB"}})  # fmt: skip
    _, decisions = advise_with_decisions(spec, assume_defaults=True)
    assert decisions.training.family == "unet"


def test_a_full_preference_tune_names_its_loss_keeps_the_lm_head_and_says_how_it_is_sharded() -> None:
    """Full DPO of a 7B on 8 GPUs: the plan said 'new task head' as for a classifier, and nothing of DPO or FSDP."""
    spec = parse_task({"task": {"type": "preference optimization", "domain": "NLP",
                                "specificTask": "DPO on our SFT'd 7B customer-service chat model"},
                       "data": {"size": "20k preference pairs"},
                       "constraints": {"computeResources": "8x A800 80GB"},
                       "existingSetup": {"baseModel": "Qwen2-7B"}})  # fmt: skip
    adaptation = advise(spec).model_dump()["modelDesign"]["pretrainedModel"]["adaptation"]
    assert "new task head" not in adaptation and "DPO" in adaptation
    assert "full fine-tuning" not in adaptation or "sharded over the 8 GPUs" in adaptation


def test_a_plan_that_trains_for_months_says_so_and_what_shortens_it() -> None:
    """LoRA on a 7B over 100k PDFs on CPU nodes was planned at 91-274 days without a word; a small job gets none."""
    rag = parse_task({"task": {"type": "question answering over documents", "domain": "NLP",
                               "specificTask": "answers with the PDF and page they came from"},
                      "data": {"size": "~100k PDFs"},
                      "constraints": {"computeResources": "CPU cluster nodes, 32 GB RAM each, no GPU"}})  # fmt: skip
    warning = next(w for w in advise(rag, assume_defaults=True).warnings if w.startswith("training takes"))
    assert "train on a GPU" in warning and "first step" in warning
    small = parse_task({"task": {"type": "classification", "domain": "CV"}, "data": {"size": "5k images"},
                        "constraints": {"computeResources": "one RTX 4090"}})  # fmt: skip
    assert not any(w.startswith("training takes") for w in advise(small, assume_defaults=True).warnings)


def test_an_llm_served_from_a_gpu_must_fit_it_at_the_precision_its_latency_assumes() -> None:
    """Serving on one L4 (24 GB) with vLLM: a 14.7B model's 29 GB of 16-bit weights do not fit."""
    plan = _plan({"computeResources": "training on one RTX 4090 24GB, serving on a single L4 with vLLM"},
                 task={"type": "fine-tune an LLM", "domain": "NLP", "specificTask": "support chatbot in our tone"},
                 size="15k conversations")  # fmt: skip
    name = plan["modelDesign"]["pretrainedModel"]["name"]
    assert "14B" not in name and "32B" not in name and "70B" not in name


def test_text_to_speech_plans_a_tts_model_not_a_speech_recogniser() -> None:
    plan = _plan({"computeResources": "train on an RTX 3090; runs on a raspberry pi 4"},
                 task={"type": "text to speech", "domain": "audio", "specificTask": "a custom voice"},
                 size="1.5 hours of audio")  # fmt: skip
    assert "vits" in plan["modelDesign"]["architecture"].lower()


@pytest.mark.parametrize("compute", ["Arduino Nano 33 BLE Sense", "a microcontroller", "iPhone 15"])
def test_a_device_that_cannot_train_named_alone_is_the_deployment_target(compute: str) -> None:
    """A microcontroller, phone or browser named as the only compute is where the model runs; training is planned on
    the default device and the plan says it assumed it (it used to train on a Cortex-M4, or a Jetson AGX Orin)."""
    plan = _plan({"computeResources": compute})
    train = _evidence(plan, "training hardware")
    assert "microcontroller" not in train and "Jetson" not in train and "iPhone" not in train
    assert _evidence(plan, "deployment target")
    assert any(a["field"] == "constraints.computeResources" for a in plan["assumptions"])
    both = _plan({"computeResources": "ESP32-S3 devkit for the device, I train on colab"})
    assert "microcontroller" not in _evidence(both, "training hardware")


def test_a_language_model_asked_for_from_scratch_is_sized_to_its_tokens() -> None:
    """'train a small GPT from scratch (not finetune)' on 470M tokens: no fine-tuning of a 0.5B checkpoint, and the
    smallest catalog LLM architecture, with the Chinchilla optimum (~24M parameters) stated."""
    spec = parse_task({"task": {"type": "language model pretraining", "domain": "NLP",
                                "specificTask": "train a small GPT from scratch (not finetune) on kids stories"},
                       "data": {"size": "~470M tokens (TinyStories)"},
                       "constraints": {"computeResources": "my own RTX 3060 12GB"}})  # fmt: skip
    plan = advise(spec, assume_defaults=True).model_dump()
    assert plan["modelDesign"]["pretrainedModel"] is None and "gpt2" in plan["modelDesign"]["architecture"]
    assert "compute-optimal is ~24M" in " ".join(plan["warnings"])


def test_pretraining_a_gpt2_sized_model_from_random_init_trains_one_from_scratch_with_a_pretraining_recipe() -> None:
    """Issue 14, batch 7 (a personal-project write-up): "pretrain a GPT-2-small-sized base model from random init" on
    a "FineWeb 10B-token sample" and one RTX 3090 got QLoRA on Qwen2.5-14B, ~16 million hours: the hyphenated token
    count was read as 10B samples, "random init" was not read as from scratch, and the published MMLU of a checkpoint
    ranked candidates whose weights would not be used."""
    spec = parse_task({"task": {"type": "language model pretraining", "domain": "NLP",
                                "specificTask": "pretrain a GPT-2-small-sized base model from random init at home"},
                       "data": {"size": "FineWeb 10B-token sample (will use ~3B of it)"},
                       "constraints": {"computeResources": "one RTX 3090 (24 GB) in my desktop"}})  # fmt: skip
    plan, decisions = advise_with_decisions(spec, assume_defaults=True)
    assert decisions.model.adaptation == "scratch" and decisions.estimates.params_m < 400
    assert decisions.training.recipe == "llm-pretraining-scratch" and decisions.training.epochs == 1
    hours = decisions.estimates.training_hours
    assert hours is not None and 12 < hours.value < 500  # llm.c: GPT-2 124M on 10B tokens ~1.5 h on 8 H100s
    assert "published score applies" in plan.modelDesign.rationale


def test_self_supervised_pretraining_gets_dinos_schedule_and_its_multi_crop_compute() -> None:
    """SSL on 300k unlabelled photos: DINO's recipe (100 epochs, lr 5e-4 per 256), and the training time counts its
    2 global + 10 local crops and the teacher's forward (4.5 passes per image), not one crop."""
    spec = parse_task(
        {
            "task": {
                "type": "self-supervised learning",
                "domain": "vision",
                "specificTask": "SSL pretraining on drone photos of wind turbine blades",
            },
            "data": {"size": "300k unlabeled photos"},
            "constraints": {"computeResources": "2x RTX 4090"},
        }
    )
    plan = advise(spec, assume_defaults=True).model_dump()  # fmt: skip
    assert "DINO" in plan["trainingStrategy"]["optimizer"]["learningRate"]
    basis = " ".join(e["source"] for e in plan["evidence"] if e["claim"] == "training compute")
    assert "4.5 passes per sample" in basis


def test_a_gpu_model_missing_from_the_hardware_table_is_said_not_silently_replaced() -> None:
    """Issue 14, batch 9: "RTX A5000 to train" was planned as an A10 without a word; the Cortex-M4F after "to run" was
    not read as the deployment target."""
    plan = _plan({"computeResources": "RTX A5000 to train, Cortex-M4F to run"})
    said = [a["reason"] for a in plan["assumptions"] if a["field"] == "constraints.computeResources"]
    assert any("'RTX A5000' is not in the hardware table" in r for r in said)
    assert "(mcu)" in _evidence(plan, "deployment target")
    known = _plan({"computeResources": "RTX 4090 to train"})
    assert not any("hardware table" in a["reason"] for a in known["assumptions"])


def test_a_real_time_latency_without_a_number_is_read_as_100_ms_and_said() -> None:
    plan = _plan({"latencyRequirement": "fast-ish, like realtime??"})
    said = [a for a in plan["assumptions"] if a["field"] == "constraints.latencyRequirement"]
    assert len(said) == 1 and said[0]["value"] == "100 ms" and "Nielsen" in said[0]["reason"]
    assert not any(a["field"] == "constraints.latencyRequirement" for a in _plan({"latencyRequirement": "<50ms"})
                   ["assumptions"])  # fmt: skip


def test_a_smartwatch_is_planned_as_a_small_arm_cpu_not_a_flagship_phone() -> None:
    """Issue 14, batch 10: a Wear OS watch has no NPU; "Samsung Galaxy Watch" matched the Android flagship profile."""
    task = {"type": "wake word detection", "domain": "audio", "specificTask": "'Hilfe' on a smartwatch"}
    plan = _plan({"computeResources": "training on a cloud VM; inference on a Samsung Galaxy Watch (Wear OS)"}, task,
                 size="88k clips")  # fmt: skip
    assert "Cortex-A53" in _evidence(plan, "deployment target")


def test_one_gpu_box_for_inference_and_training_and_a_fleet_without_a_gpu() -> None:
    """Issue 14, batch 15-16: "a T4 for inference (and training), the rest is CPU" serves on the T4; laptops that are
    "Apple M1 / Intel, no NVIDIA GPU" are planned on a CPU (the device every one of them has), never with TensorRT;
    an Apple M1 alone serves through Core ML, not TensorRT (no NVIDIA GPU)."""
    text = "one GPU box with a T4 for inference (and training), the rest is CPU"
    assert split_deployment(text) == (text, None)
    t4 = _plan({"computeResources": text})
    assert t4["decisions"]["deployment"]["kind"] == "gpu"
    fleet = _plan({"computeResources": "a university GPU for training; annotation runs in the archive's cataloguing "
                                       "tool on archivists' laptops (Apple M1 / Intel, no NVIDIA GPU)"})  # fmt: skip
    assert fleet["decisions"]["deployment"]["kind"] == "cpu" and "TensorRT" not in _formats(fleet)
    mac = _plan({"computeResources": "RTX 4090 for training; the model runs on an Apple M1 MacBook Air"})
    assert "Core ML" in _formats(mac) and "TensorRT" not in _formats(mac)
