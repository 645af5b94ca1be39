"""Realistic task specs across all six task types and five domains (the scenario suite's inputs)."""

from __future__ import annotations

from typing import Any

SCENARIOS: dict[str, dict[str, Any]] = {
    # ------------------------------------------------------------------ CV
    "cifar10-single-gpu": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "CIFAR-10"},
        "data": {"size": "50k images", "distribution": "balanced", "labelAvailability": "fully-supervised"},
        "constraints": {
            "computeResources": "single-GPU 24GB",
            "latencyRequirement": "inference <50ms",
            "accuracyTarget": "top-1 acc >95%",
            "modelSizeLimit": "<100MB",
        },
    },
    "cpu-realtime-defects": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "surface defect classification, 6 classes"},
        "data": {"size": "5k images", "quality": "clean"},
        "constraints": {
            "computeResources": "CPU (8 cores) laptop",
            "latencyRequirement": "<10ms on laptop CPU",
            "modelSizeLimit": "<20MB",
        },
        "challenges": ["real-time"],
    },
    "few-shot-birds": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "rare bird species, 15 classes"},
        "data": {"size": "300 images", "labelAvailability": "fully-supervised"},
        "constraints": {"computeResources": "1x T4"},
        "challenges": ["few-shot"],
    },
    "long-tail-dermatology": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "skin lesion classification, 8 classes"},
        "data": {"size": "20k images", "distribution": "long-tail (1:50)", "quality": "some label noise"},
        "constraints": {"computeResources": "single GPU (A100 40GB)", "accuracyTarget": "macro-F1 > 0.8"},
        "challenges": ["long-tail", "domain-shift"],
    },
    "imagenet-8xa100": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "ImageNet-1k"},
        "data": {"size": "1.28M images"},
        "constraints": {"computeResources": "multi-GPU (8x A100 80GB)", "budget": "high"},
    },
    "phone-npu-classifier": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "food recognition, 101 classes"},
        "data": {"size": "75k images"},
        "constraints": {
            "computeResources": "single-GPU 24GB",
            "latencyRequirement": "<15ms on phone NPU",
            "modelSizeLimit": "<20MB",
        },
    },
    "jetson-detection": {
        "task": {"type": "object detection", "domain": "vision", "specificTask": "forklifts and people"},
        "data": {"size": "8k images", "distribution": "long-tail"},
        "constraints": {
            "computeResources": "single GPU (A100 40GB)",
            "latencyRequirement": "<30ms on Jetson Orin",
            "modelSizeLimit": "<50MB",
        },
        "challenges": ["real-time", "small objects"],
    },
    "server-detection-t4": {
        "task": {"type": "detection", "domain": "CV", "specificTask": "COCO-style retail shelf detection"},
        "data": {"size": "40k images"},
        "constraints": {
            "computeResources": "4x A10",
            "latencyRequirement": "<20ms on T4",
            "accuracyTarget": "mAP > 0.5",
        },
    },
    "ade20k-segmentation": {
        "task": {"type": "semantic segmentation", "domain": "CV", "specificTask": "ADE20K scene parsing"},
        "constraints": {"computeResources": "single GPU (A100 80GB)"},
    },
    "medical-segmentation": {
        "task": {"type": "segmentation", "domain": "CV", "specificTask": "liver tumour segmentation on CT slices"},
        "data": {"size": "500 scans", "quality": "expert annotations"},
        "constraints": {"computeResources": "single-GPU 24GB", "accuracyTarget": "dice > 0.8"},
    },
    "diffusion-product-images": {
        "task": {"type": "generation", "domain": "CV", "specificTask": "product photos in our brand style"},
        "data": {"size": "2k images"},
        "constraints": {"computeResources": "single-GPU 24GB (RTX 4090)"},
    },
    # ------------------------------------------------------------------ NLP
    "sentiment-t4": {
        "task": {"type": "classification", "domain": "NLP", "specificTask": "product review sentiment, 3 classes"},
        "data": {"size": "50k reviews"},
        "constraints": {"computeResources": "1x T4", "accuracyTarget": "accuracy > 90%"},
    },
    "intent-cpu-realtime": {
        "task": {"type": "classification", "domain": "text", "specificTask": "support ticket intent, 20 classes"},
        "data": {"size": "12k texts"},
        "constraints": {
            "computeResources": "CPU (16 cores)",
            "latencyRequirement": "<20ms",
            "modelSizeLimit": "<100MB",
        },
        "challenges": ["real-time"],
    },
    "llm-single-gpu": {
        "task": {"type": "generation", "domain": "NLP", "specificTask": "customer support answers"},
        "data": {"size": "20k conversations"},
        "constraints": {"computeResources": "single-GPU 24GB (RTX 4090)", "budget": "$500"},
        "existingSetup": {
            "framework": "PyTorch",
            "baseModel": "Llama-3.1-8B",
            "trainingIssues": ["CUDA out of memory at batch 4"],
        },
    },
    "llm-70b-cluster": {
        "task": {"type": "generation", "domain": "NLP", "specificTask": "legal drafting assistant"},
        "data": {"size": "100k documents"},
        "constraints": {"computeResources": "8x A100 80GB", "budget": "high"},
        "existingSetup": {"baseModel": "Llama-3.1-70B"},
    },
    "llm-cpu-only": {
        "task": {"type": "generation", "domain": "NLP", "specificTask": "offline FAQ answering"},
        "data": {"size": "5k question-answer pairs"},
        "constraints": {"computeResources": "CPU only, no GPU (8 cores)"},
    },
    "ner-tagging": {
        "task": {"type": "sequence-modeling", "domain": "NLP", "specificTask": "named entity recognition (NER)"},
        "data": {"size": "10k sentences"},
        "constraints": {"computeResources": "1x T4"},
    },
    # ------------------------------------------------------------------ audio
    "keyword-spotting-phone": {
        "task": {"type": "classification", "domain": "audio", "specificTask": "keyword spotting, Speech Commands v2"},
        "constraints": {
            "computeResources": "single-GPU 24GB",
            "latencyRequirement": "<10ms on phone",
            "modelSizeLimit": "<2MB",
        },
    },
    "asr-finetune": {
        "task": {"type": "speech recognition", "domain": "speech", "specificTask": "medical dictation ASR"},
        "data": {"size": "100 hours"},
        "constraints": {"computeResources": "single GPU (A100 40GB)", "accuracyTarget": "WER < 8%"},
    },
    "audio-events": {
        "task": {"type": "classification", "domain": "audio", "specificTask": "urban sound events, 10 classes"},
        "data": {"size": "20k clips"},
        "constraints": {"computeResources": "1x V100"},
    },
    # ------------------------------------------------------------------ multimodal
    "image-text-zero-shot": {
        "task": {"type": "classification", "domain": "multimodal", "specificTask": "zero-shot product categorisation"},
        "data": {"size": "2k image-text pairs", "labelAvailability": "weakly-supervised"},
        "constraints": {"computeResources": "1x L4", "latencyRequirement": "<50ms"},
    },
    # ------------------------------------------------------------------ time series
    "meter-forecast-cpu": {
        "task": {"type": "forecasting", "domain": "time series", "specificTask": "next-24h load per meter"},
        "data": {"size": "3 years of hourly data, 300 meters"},
        "constraints": {
            "computeResources": "CPU (32 cores)",
            "latencyRequirement": "<100ms",
            "accuracyTarget": "MAPE < 8%",
        },
    },
    "mnist1d-cpu": {
        "task": {"type": "classification", "domain": "time-series", "specificTask": "MNIST-1D"},
        "constraints": {"computeResources": "CPU (2 cores)"},
    },
    "vibration-anomaly": {
        "task": {"type": "sequence-modeling", "domain": "time-series", "specificTask": "bearing vibration anomalies"},
        "data": {"size": "200k windows", "labelAvailability": "unsupervised"},
        "constraints": {"computeResources": "1x T4", "latencyRequirement": "<5ms"},
    },
    # ------------------------------------------------------------------ RL
    "robot-arm-continuous": {
        "task": {"type": "RL", "domain": "time-series", "specificTask": "robot arm reaching, continuous torques"},
        "data": {"size": "1M steps"},
        "constraints": {"computeResources": "1x RTX 3090"},
    },
    "atari-discrete": {
        "task": {"type": "reinforcement learning", "domain": "CV", "specificTask": "Atari Breakout from pixels"},
        "data": {"size": "10M frames"},
        "constraints": {"computeResources": "single-GPU 24GB"},
    },
    # ------------------------------------------------------------------ feedback loops and failure handling
    "missing-information": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "plant disease"},
    },
    "impossible-constraints": {
        "task": {"type": "classification", "domain": "CV", "specificTask": "ImageNet-1k"},
        "data": {"size": "1.28M images"},
        "constraints": {
            "computeResources": "CPU (2 cores)",
            "latencyRequirement": "<2ms on laptop CPU",
            "modelSizeLimit": "<1MB",
            "accuracyTarget": "top-1 > 85%",
        },
    },
    "nan-existing-issue": {
        "task": {"type": "classification", "domain": "CV"},
        "data": {"size": "30k images"},
        "constraints": {"computeResources": "1x V100"},
        "existingSetup": {
            "framework": "TensorFlow",
            "baseModel": "resnet50",
            "trainingIssues": ["loss becomes NaN after epoch 3", "validation loss goes up"],
        },
    },
}
