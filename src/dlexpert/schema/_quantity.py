"""Parse the quantities people write as text ("10k samples", "<50ms", "top-1 acc >90%") into numbers with units.

Every parser keeps the original text, returns a frozen pydantic model, and raises `ValueError` with a message that
says what was expected. The spec loader turns that into an `InvalidInputError` naming the field.

Example:
    >>> parse_data_size("1.2M images").n_samples
    1200000
    >>> parse_latency("<30ms on Jetson Orin").max_ms, parse_latency("<30ms on Jetson Orin").hardware
    (30.0, 'jetson orin')
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .._input import clip

# A number starts where no digit, point or comma precedes it: a match tried from inside "1.1.1.1..." would rescan the
# rest of the token from every digit (quadratic: 8 KB of it took 3 s in a latency).
_NUMBER = r"(?<![\d.,])(\d+(?:[.,]\d+)*|\.\d+)"
# A count as people write it before what it counts: "300", "1M+", "20k " (the number, then an optional k/m/b).
_COUNT = rf"{_NUMBER}\s*([kmb](?![a-z]))?\+?\s*"
_MULTIPLIERS = {
    "": 1.0,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mil": 1e6,
    "million": 1e6,
    "mln": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}


class UnreadQuantity(ValueError):
    """The text states a requirement in words this parser cannot turn into a number ("continuous, duty-cycled").
    Unlike a negative, zero or contradictory number, that is not an error in the spec: the advisor plans without the
    number and says so."""


class _Parsed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str


def _to_float(token: str) -> float:
    """'50,000' -> 50000.0, '1.2' -> 1.2, '1,5' (decimal comma) -> 1.5."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token):
        return float(token.replace(",", ""))
    try:
        return float(token.replace(",", "."))
    except ValueError:  # "1.2,3.4": neither thousands nor one decimal mark
        raise ValueError(f"expected a number such as 1,500 or 1.5; got {token!r}") from None


# A quantity larger than any real data set, model or budget (15T tokens, the largest LLM corpora, is 1.5e13).
_MAX_QUANTITY = 1e15
_NEGATIVE = re.compile(r"(?:^|[\s<>=(:~≤≥,])[-−]\s*\.?\d")  # "-5", "< -3 ms"; not "top-1", "10-20", "ResNet-50"
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([+-]?\d+)\b")
# "10^6", "10**6", "2.5 x 10^6", "3×10^4": powers of ten as people type them
_POWER_OF_TEN = re.compile(r"(?<![\w.])(?:(\d+(?:\.\d+)?)\s*[x×*]\s*)?10\s*(?:\^|\*\*)\s*([+-]?\d{1,4})(?!\d)")
# numerals; "infinite compute" and the French "inférence" are prose (letters in any script border a word)
_NOT_A_NUMBER = re.compile(r"(?<![^\W\d_])(nan|inf|infinity)(?![^\W\d_])")


_SMALL_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen"
)
_SMALL = {w: i for i, w in enumerate(_SMALL_WORDS.split())}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORDS = re.compile(
    r"\b(?:(?:"
    + "|".join([*_SMALL, *_TENS, *_SCALES, "a"])
    + r")(?:[\s-]+(?:and[\s-]+)?)?)*(?:"
    + "|".join([*_SMALL, *_TENS, *_SCALES])
    + r")\b",
    re.IGNORECASE,
)


_VAGUE = {"a couple of": "2", "a few": "3", "several": "5"}  # rough counts: "a few thousand" plans for 3,000
# Orders of magnitude in the plural: "tens of thousands" is 10,000-99,999 and plans for 30,000 (about its geometric
# middle); "thousands of" plans for 3,000.
_PLURAL_SCALES = {"dozens": 36, "tens": 30, "hundreds": 300, "thousands": 3_000, "millions": 3_000_000,
                  "billions": 3_000_000_000}  # fmt: skip
_PLURAL = re.compile(
    r"\b(dozens|tens|hundreds)\s+of\s+(thousands|millions|billions)(?:\s+of)?\b"
    r"|\b(dozens|hundreds|thousands|millions|billions)\s+of\b",
    re.IGNORECASE,
)


def _plural_scale(m: re.Match[str]) -> str:
    if m.group(1):
        unit = {"thousands": 1_000, "millions": 1_000_000, "billions": 1_000_000_000}[m.group(2).lower()]
        return str(_PLURAL_SCALES[m.group(1).lower()] * unit)
    return str(_PLURAL_SCALES[m.group(3).lower()])


def _words_to_digits(text: str) -> str:
    """ "three hundred hours" -> "300 hours", "two thousand frames" -> "2000 frames", "a million images" -> "1000000
    images": numbers written out, as people do in prose."""

    def value(m: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", m.group(0).lower()) if w and w != "and"]
        if not any(w in _SMALL or w in _TENS for w in words) and words[0] != "a":
            return m.group(0)  # a bare "hundred"/"thousand" is not a count
        total = current = 0
        for w in words:
            if w == "a":
                current = max(current, 1)
            elif w in _SMALL or w in _TENS:
                current += _SMALL.get(w, 0) + _TENS.get(w, 0)
            elif w == "hundred":
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * _SCALES[w]
                current = 0
        return str(total + current)

    text = _PLURAL.sub(_plural_scale, text)
    # "3 hundred images", "4 hundred thousand rows": a digit count of hundreds is that many times 100.
    text = re.sub(r"(?<![\d.,])(\d{1,6})\s+hundred\b", lambda m: str(int(m.group(1)) * 100), text, flags=re.IGNORECASE)
    for words, digits in _VAGUE.items():
        text = re.sub(rf"\b{words}\s+(?=hundred|thousand|million|billion)", f"{digits} ", text, flags=re.IGNORECASE)
    # "a couple MB", "couple hundred clips": two of what follows; "half a second": 0.5; "within a minute": 1.
    text = re.sub(r"\b(?:a\s+)?couple(?:\s+of)?\s+(?=[a-z])", "two ", text, flags=re.IGNORECASE)
    text = re.sub(r"\bhalf\s+an?\s+(?=[a-z])", "0.5 ", text, flags=re.IGNORECASE)
    text = re.sub(r"\ban?\s+(?=(?:second|minute|hour|day|week|month|year)s?\b)", "1 ", text, flags=re.IGNORECASE)
    return _NUMBER_WORDS.sub(value, text)


def _sane_numbers(raw: str, what: str) -> str:
    """`raw` with scientific notation written out ("2.5e5" -> "250000"); negative, NaN, infinite and astronomically
    large numbers are refused in one line naming `what` (a size of "-5 images" is not five images)."""
    low = raw.lower()
    if _NEGATIVE.search(low):
        raise ValueError(f"{what} must not be negative; got {clip(raw)}")
    if _NOT_A_NUMBER.search(low):
        raise ValueError(f"{what} must be a finite number; got {clip(raw)}")

    def expand(m: re.Match[str]) -> str:
        value = float(m.group(0))
        if not math.isfinite(value) or value > _MAX_QUANTITY:
            raise ValueError(f"{what} is not a plausible quantity (above {_MAX_QUANTITY:.0e}); got {clip(raw)}")
        return f"{value:.6f}".rstrip("0").rstrip(".")

    text = _SCIENTIFIC.sub(expand, _POWER_OF_TEN.sub(lambda m: f"{m.group(1) or 1}e{m.group(2)}", raw))
    for m in re.finditer(r"\d[\d,]*", text):
        if len(m.group(0).replace(",", "")) > 16:
            raise ValueError(f"{what} is not a plausible quantity (above {_MAX_QUANTITY:.0e}); got {clip(raw)}")
    return text


def _check_finite(value: float, what: str, text: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite non-negative number; got {clip(text)}")
    return value


# --------------------------------------------------------------------------------------------- data size

_TIME_UNITS_IN_HOURS = {
    "year": 365 * 24.0,
    "yr": 365 * 24.0,
    "month": 30 * 24.0,
    "week": 7 * 24.0,
    "day": 24.0,
    "hour": 1.0,
    "hr": 1.0,
    "minute": 1 / 60,
    "min": 1 / 60,
    "second": 1 / 3600,
    "sec": 1 / 3600,
    "s": 1 / 3600,
}
_FREQUENCY_PER_HOUR = {
    "yearly": 1 / (365 * 24),
    "monthly": 1 / (30 * 24),
    "weekly": 1 / (7 * 24),
    "daily": 1 / 24,
    "hourly": 1.0,
    "half-hourly": 2.0,
    "15-minute": 4.0,
    "15 minute": 4.0,
    "15-min": 4.0,
    "10-minute": 6.0,
    "5-minute": 12.0,
    "minutely": 60.0,
    "per-minute": 60.0,
    "per minute": 60.0,
    "secondly": 3600.0,
    "per-second": 3600.0,
}
_SAMPLE_UNITS = (
    "samples|sample|images|image|imgs|img|examples|example|instances|records|rows|row|sentences|sentence|documents|"
    "docs|doc|texts|text|utterances|clips|clip|videos|video|frames|tokens|token|pairs|pair|episodes|episode|steps|"
    "transitions|points|series|sequences|sequence|reviews|tweets|questions|scans|patients|pages|labels|hours|hour|h|"
    "gb|tb|mb"
)


# The units that count training items, as against volumes (bytes) and durations (hours), read from `_SAMPLE_UNITS`.
_ITEM_UNITS = "|".join(u for u in _SAMPLE_UNITS.split("|") if u not in {"gb", "tb", "mb", "hours", "hour", "h"})


class DataSize(_Parsed):
    """How much data. `n_samples` is the number of training examples the advisor reasons with.

    For time series, `n_timesteps` x `n_series` observations; `n_samples` counts them (every step can end a window).
    For audio given in hours, `n_samples` assumes 1-second clips; `hours` keeps the original figure.
    """

    n_samples: int
    unit: str = "samples"
    hours: float | None = None
    n_timesteps: int | None = None
    n_series: int | None = None
    tokens: int | None = None


# Numbers that are part of a name, not a count: versions ("Speech Commands v0.02", "CNN/DailyMail 3.0.0"), names with a
# digit ("C4", "CIFAR-10", "WMT14") and a dataset's year before its counts ("COCO 2017: ~118k images").
_NAME_NUMBERS = re.compile(
    r"(?<![\w.])v\d+(?:\.\d+)*\b|(?<![\w.])\d+(?:\.\d+){2,}\b|\b[a-z][a-z]*-?\d[\w-]*(?:[/+]\d[\w-]*)*"
    r"|(?<![\w.,])(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2}\b|(?=\s*[:(),;/]|\s*$))"
)
# What is counted beside the samples and is not them: "6 classes (~20k clips)", "1,251 speakers, 150k utterances".
_NOT_SAMPLES = frozenset({"class", "classes", "categories", "category", "speakers", "identities"})
# CJK myriads: "約1.5万件" is 15,000 items.
_MYRIADS = re.compile(r"(\d+(?:\.\d+)?)\s*(万|萬|億|亿)")


# The scale words a count may carry ("10k", "1.2 million"), and a range whose scale word follows its upper end:
# "10-20k", "100-200 billion", "5 to 10 million".
_SCALE_WORDS = "thousand|million|billion|trillion|mln|mil|bn|k|m|b|t"
_SCALED_RANGE = re.compile(rf"{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}(\s*(?:{_SCALE_WORDS})\b)")


def parse_data_size(text: str) -> DataSize:
    """Parse `data.size`: "10k samples", "1.2M images", "50,000", "3 years of hourly data, 300 meters", "200 hours"."""
    raw = _sane_numbers(_words_to_digits(str(text).strip()), "data size")
    low = raw.lower().replace("~", "").replace("≈", "").replace("about ", "").replace("approx.", "").strip()
    low = _NAME_NUMBERS.sub(" ", low).strip() or low
    low = _MYRIADS.sub(lambda m: f"{float(m.group(1)) * (1e4 if m.group(2) in '万萬' else 1e8):.0f} ", low)
    low = _SCALED_RANGE.sub(r"\1\3", low)  # "10-20k images": the scale word covers both ends; plan for the lower
    if not low:
        raise ValueError("expected a size such as '10k samples', '1.2M images' or '3 years of hourly data'; got ''")

    # Time series: "<N> <years|days|...> of <frequency> data[, <M> series]".
    span = re.search(rf"{_NUMBER}\s*(year|yr|month|week|day|hour|hr|minute|min)s?\b", low)
    freq = next((f for f in sorted(_FREQUENCY_PER_HOUR, key=len, reverse=True) if f in low), None)
    if span and freq:
        hours = _to_float(span.group(1)) * _TIME_UNITS_IN_HOURS[span.group(2)]
        n_timesteps = max(1, round(hours * _FREQUENCY_PER_HOUR[freq]))
        rest = low[: span.start()] + low[span.end() :]
        # "1M+ subscribers x 120+ features": a count, its multiplier, an optional "+", then what is counted.
        series = re.search(rf"{_COUNT}(?!hour|day|year|month|week|minute)([a-z][a-z-]*)", rest)
        n_series = 1
        if series:
            n_series = max(1, round(_to_float(series.group(1)) * _MULTIPLIERS.get(series.group(2), 1.0)))
        # "(1e8+ rows)": the user's own count of observations is the size, whatever the span and series multiply to.
        rows = re.search(rf"{_COUNT}(?:rows|records|observations|data points)\b", rest)
        n_rows = round(_to_float(rows.group(1)) * _MULTIPLIERS.get(rows.group(2) or "", 1.0)) if rows else None
        return DataSize(
            text=raw,
            n_samples=n_rows or n_timesteps * n_series,
            unit="timesteps",
            n_timesteps=n_timesteps,
            n_series=n_series,
        )

    counts = re.finditer(
        # "10B-token sample", "3k-image set": the unit also follows a hyphen, as an adjective
        rf"{_NUMBER}\s*({_SCALE_WORDS})?\b-?\s*(?:labell?ed\s+|annotated\s+|raw\s+)?"
        rf"(?:of\s+)?([a-z]+)?",
        low,
    )
    m = next((c for c in counts if c.group(3) not in _NOT_SAMPLES), None)
    if not m:
        raise UnreadQuantity(
            f"expected a size such as '10k samples', '1.2M images' or '200 hours of audio'; got {clip(raw)}"
        )
    value = _to_float(m.group(1)) * _MULTIPLIERS[m.group(2) or ""]
    _check_finite(value, "data size", raw)
    unit = m.group(3) or "samples"
    if unit in {"hours", "hour", "hrs", "hr", "h"}:
        # Audio/video hours: count 1-second clips, the unit keyword-spotting and AST-style models consume.
        return DataSize(text=raw, n_samples=round(value * 3600), unit="hours", hours=value)
    if unit in {"token", "tokens"}:
        # Language-model data: count 512-token sequences as samples, the length BERT-style recipes use.
        return DataSize(text=raw, n_samples=max(1, round(value / 512)), unit="tokens", tokens=round(value))
    items = re.search(rf"{_NUMBER}\s*(thousand|million|billion|mln|mil|bn|k|m)?\b\s*(?:labell?ed\s+|annotated\s+)?"
                      rf"({_ITEM_UNITS})\b", low[m.end() :])  # fmt: skip
    if unit in {"gb", "tb", "mb"} and items:
        # "~2 TB of recorded video, ~15k frames annotated": the items counted beside a volume are the samples.
        value = _to_float(items.group(1)) * _MULTIPLIERS[items.group(2) or ""]
        _check_finite(value, "data size", raw)
        unit = items.group(3)
    if unit in {"gb", "tb", "mb"}:
        # Raw text by volume: ~4 bytes per token (GPT-2 BPE on English), 512-token samples.
        n_bytes = value * {"mb": 1e6, "gb": 1e9, "tb": 1e12}[unit]
        tokens = n_bytes / 4
        return DataSize(text=raw, n_samples=max(1, round(tokens / 512)), unit="tokens", tokens=round(tokens))
    if value < 1:
        raise ValueError(f"data size must be at least one sample; got {clip(raw)}")
    return DataSize(text=raw, n_samples=round(value), unit=unit if unit != "sample" else "samples")


# --------------------------------------------------------------------------------------------- latency

Comparator = Literal["<", "<=", ">", ">=", "="]


class Latency(_Parsed):
    """A latency budget in milliseconds per request, optionally on a named device and at a percentile."""

    max_ms: float
    hardware: str | None = None
    percentile: int | None = None
    batch_size: int = 1
    per_token: bool = False  # a language model's budget per generated token ("20 tokens/s"), not to the first one


_LATENCY_UNIT_MS = {"µs": 1e-3, "us": 1e-3, "min": 6e4, "mins": 6e4, "minute": 6e4, "minutes": 6e4, "h": 3.6e6,
                    "hr": 3.6e6, "hour": 3.6e6, "hours": 3.6e6}  # fmt: skip


def parse_latency(text: str) -> Latency:
    """Parse `constraints.latencyRequirement`: "inference <50ms", "<30ms on Jetson Orin", "p95 < 0.2 s", "30 fps"."""
    raw = _sane_numbers(_words_to_digits(str(text).strip()), "latency requirement")
    low = raw.lower()
    hardware = None
    on = re.search(r"\b(?:on|@|using|with)\s+(?:an?\s+|the\s+)?([a-z0-9][a-z0-9 .+-]*)$", low)
    if on:
        hardware = on.group(1).strip(" .")
        low = low[: on.start()]
    percentile = None
    pm = re.search(r"\bp(\d{2,3}(?:\.\d+)?)\b", low)
    if pm:
        percentile = round(float(pm.group(1)))
        low = low[: pm.start()] + low[pm.end() :]
    batch = re.search(r"batch(?:[ -]size)?\s*(?:of\s*)?=?\s*(\d+)", low)
    batch_size = int(batch.group(1)) if batch else 1
    if batch:
        low = low[: batch.start()] + low[batch.end() :]
    # A rate: frames per second is a budget per frame, tokens per second one per generated token.
    for what, pattern in (
        ("frame", r"fps|frames? per second|hz"),
        ("token", r"(?:tokens?|tok)\s*(?:/|per\s+)\s*(?:s|sec|second)"),
    ):
        rate_m = re.search(rf"{_NUMBER}\s*(?:{pattern})\b", low)
        if rate_m:
            rate = _to_float(rate_m.group(1))
            if rate <= 0:
                raise ValueError(f"{what} rate must be positive; got {clip(raw)}")
            return Latency(text=raw, max_ms=1000.0 / rate, hardware=hardware, percentile=percentile,
                           batch_size=batch_size, per_token=what == "token")  # fmt: skip
    if ("real-time" in low or "realtime" in low or "real time" in low) and not re.search(r"\d", low):
        # Interactive "real-time" with no number: 100 ms is the classic limit for an instantaneous response
        # (Nielsen, Usability Engineering, 1993, ch. 5).
        return Latency(text=raw, max_ms=100.0, hardware=hardware, percentile=percentile, batch_size=batch_size)
    m = re.search(
        rf"{_NUMBER}\s*(ms|msec|millisecond|milliseconds|µs|us|microseconds?|s|sec|secs|seconds?|min|mins|minutes?|h|hr|"
        r"hours?)\b",
        low,
    )
    if not m:
        raise UnreadQuantity(
            "expected a latency such as 'inference <50ms', '<30ms on Jetson Orin', 'p95 < 0.2 s' or '30 fps'; "
            f"got {clip(raw)}"
        )
    value = _to_float(m.group(1))
    unit = m.group(2)
    ms = value * _LATENCY_UNIT_MS.get(
        unit, 1000.0 if unit.startswith("s") else 1e-3 if unit.startswith("micro") else 1.0
    )
    if ms <= 0:
        raise ValueError(f"latency budget must be greater than zero; got {clip(raw)}")
    if re.search(r">\s*" + re.escape(m.group(1)), low):
        raise ValueError(f"a latency requirement is an upper bound ('<50ms'); got a lower bound in {clip(raw)}")
    per_token = bool(re.search(r"(?:\b(?:per|a)\s+|/\s*)(?:generated\s+|output\s+)?token\b", low))
    return Latency(
        text=raw, max_ms=ms, hardware=hardware, percentile=percentile, batch_size=batch_size, per_token=per_token
    )


# --------------------------------------------------------------------------------------------- model size


class ModelSize(_Parsed):
    """An upper bound on the model's file size, in megabytes (10^6 bytes); and on its parameters, in millions, when the
    limit counts parameters ("< 20M params": quantization makes the file smaller, not the model)."""

    max_mb: float
    max_params_m: float | None = None


_BYTE_UNITS = {"b": 1e-6, "kb": 1e-3, "kib": 1.024e-3, "mb": 1.0, "mib": 1.048576, "gb": 1e3, "gib": 1073.741824}
_PARAM_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}


def parse_model_size(text: str) -> ModelSize:
    """Parse `constraints.modelSizeLimit`: "<100MB", "under 2 GB", "500KB", "25M params" (fp32, 4 bytes each)."""
    raw = _sane_numbers(_words_to_digits(str(text).strip()), "model size limit")
    low = raw.lower()
    m = re.search(rf"{_NUMBER}\s*(kib|mib|gib|kb|mb|gb)(?![a-z])(?!\s*param)", low)
    if m:
        mb = _to_float(m.group(1)) * _BYTE_UNITS[m.group(2)]
    else:
        # A bare "B" is billions of parameters ("a ~1-4B model", "7B"): no model's limit is a handful of bytes.
        p = re.search(rf"{_NUMBER}\s*(?:([kmb])?\s*(?:params|parameters|param|p)\b|([kmb])\s*models?\b|(b)\b)", low)
        if not p:
            raise UnreadQuantity(f"expected a size such as '<100MB', '2 GB' or '25M params'; got {clip(raw)}")
        # A parameter budget: fp32 weights take 4 bytes per parameter.
        params = _to_float(p.group(1)) * _PARAM_SUFFIX.get(p.group(2) or p.group(3) or p.group(4) or "", 1.0)
        if params <= 0:
            raise ValueError(f"model size limit must be greater than zero; got {clip(raw)}")
        return ModelSize(text=raw, max_mb=params * 4 / 1e6, max_params_m=params / 1e6)
    if mb <= 0:
        raise ValueError(f"model size limit must be greater than zero; got {clip(raw)}")
    return ModelSize(text=raw, max_mb=mb)


# --------------------------------------------------------------------------------------------- accuracy target

# Canonical metric names and the phrases that name them. Order matters: longer, more specific phrases first.
_METRICS: list[tuple[str, tuple[str, ...], bool]] = [
    ("top5", ("top-5", "top5", "top 5"), True),
    ("macro-f1", ("macro-f1", "macro f1", "macro-averaged f1", "f1-macro", "f1 macro"), True),
    ("micro-f1", ("micro-f1", "micro f1"), True),
    ("weighted-f1", ("weighted-f1", "weighted f1"), True),
    ("f1", ("f1-score", "f1 score", "f1"), True),
    ("f-beta", ("f-beta", "fbeta", "f beta", "f2", "f5", "f0.5", "f-2", "f-5"), True),
    ("eer", ("eer", "equal error rate"), False),
    # missed detections as a share of the positives (zh 漏检率 / 漏报率)
    ("miss-rate", ("miss rate", "false negative rate", "fnr", "漏检率", "漏报率"), False),
    (
        "false-alarms",
        (
            "false accept",
            "false accepts",
            "false alarm",
            "false alarms",
            "false positives per",
            "false rejects",
            "false reject",
            "frr",
            "误报率",
        ),
        False,
    ),
    ("mAP", ("map@0.5:0.95", "map50-95", "map@.5", "map@0.5", "map50", "box map", "map"), True),
    ("mIoU", ("miou", "mean iou", "iou"), True),
    ("dice", ("dice",), True),
    ("auroc", ("auroc", "auc-roc", "roc-auc", "roc auc", "auc"), True),
    ("wer", ("wer", "word error rate"), False),
    ("cer", ("cer", "character error rate"), False),
    ("bleu", ("bleu",), True),
    ("chrf", ("chrf++", "chrf", "chr-f"), True),
    ("rouge", ("rouge-l", "rouge"), True),
    ("perplexity", ("perplexity", "ppl"), False),
    ("fid", ("fid",), False),
    ("mape", ("mape", "smape"), False),
    ("mase", ("mase",), False),
    ("rmse", ("rmse",), False),
    ("mae", ("mae",), False),
    ("mse", ("mse",), False),
    ("hit-rate", ("hit rate", "hit-rate", "hitrate", "hits@"), True),
    # the coefficient of determination: at most 1 (a perfect fit), unbounded below
    ("r2", ("r-squared", "r squared", "r²", "r^2", "r2", "coefficient of determination"), True),
    ("precision", ("precision",), True),
    ("recall", ("recall", "sensitivity"), True),
    ("return", ("episode return", "mean return", "return", "reward", "score"), True),
    ("accuracy", ("top-1", "top1", "top 1", "accuracy", "acc"), True),
]
# Metrics that live in [0, 1] or [0, 100 %]; others (RMSE, FID, return, perplexity) are unbounded.
_BOUNDED = {
    "top5",
    "miss-rate",
    "f-beta",
    "eer",
    "macro-f1",
    "micro-f1",
    "weighted-f1",
    "f1",
    "mAP",
    "mIoU",
    "dice",
    "auroc",
    "precision",
    "recall",
    "accuracy",
    "wer",
    "cer",
    "bleu",
    "chrf",
    "rouge",
    "mape",
    "hit-rate",
}
# A bare four-digit integer is a year or a product's number ("above the 2021-winner baseline", "top-5 on the 4090
# leaderboard"), never the target of a metric bounded by 100%.
_NAME_LIKE_INTEGER = re.compile(r"\d{4}")


class AccuracyTarget(_Parsed):
    """A target on a metric. For bounded metrics `value` is a fraction in [0, 1] ("90%" and "0.9" both give 0.9)."""

    metric: str
    comparator: Comparator
    value: float
    higher_is_better: bool
    bounded: bool
    # A target relative to a reference ("beat seasonal naive by >20% on MASE"): `value` is the improvement as a
    # fraction (0.2) and `bounded` is False, so no absolute bound is read from it.
    relative_to: str | None = None

    @property
    def percent(self) -> float | None:
        """The target in percent for bounded metrics, else None."""
        return self.value * 100 if self.bounded else None


def parse_accuracy_target(text: str) -> AccuracyTarget:
    """Parse `constraints.accuracyTarget`: "top-1 acc >90%", "macro-F1 > 0.85", "WER < 8%", "mAP@0.5 >= 0.6". Several
    targets in one text ("log loss < 0.7 and F1 > 0.8") give the first one that reads."""
    try:
        return _one_accuracy_target(text)
    except ValueError as first:
        parts = [p for p in re.split(r",|;| and ", str(text), flags=re.IGNORECASE) if p.strip()]
        for part in parts if len(parts) > 1 else []:
            try:
                return _one_accuracy_target(part)
            except ValueError:
                continue
        raise first from None


def _one_accuracy_target(text: str) -> AccuracyTarget:
    raw = str(text).strip()
    low = raw.lower()
    metric, higher, known = "accuracy", True, False
    for name, phrases, hib in _METRICS:
        if any(re.search(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low) for p in phrases):
            metric, higher, known = name, hib, True
            break
    # Drop the metric phrase's own digits ("top-1", "map@0.5", "f1") before looking for the target number.
    cleaned = re.sub(r"top[- ]?[15]|map@?[0-9.:]+|map50(-95)?|f1|f0\.5|\bf[25]\b|rouge-l|@\s*\d+", " ", low)
    # A name written word-hyphen-number ("more up-votes than GPT-2", "as good as ResNet-50") holds no target: it is
    # blanked, at its own length, for the number search only (the reference keeps its name).
    without_names = re.sub(r"\b[a-z][a-z0-9]*-\d+(?:\.\d+)*(?![\d.,%])", lambda n: " " * len(n.group()), cleaned)
    # A number after an inequality is the target ("beta=5 ... > 0.96" gives 0.96), else the first number.
    inequality = r"<=|>=|=<|=>|≤|≥|<|>|at least|at most|above|below|over|under|no more than|no less than"
    m = re.search(rf"({inequality})\s*{_NUMBER}\s*(%|percent|pp)?", without_names) or next(
        (
            c
            for c in re.finditer(rf"({inequality}|=)?\s*{_NUMBER}\s*(%|percent|pp)?", without_names)
            if not (metric in _BOUNDED and not (c.group(1) or c.group(3)) and _NAME_LIKE_INTEGER.fullmatch(c.group(2)))
        ),
        None,
    )
    if not m:
        raise UnreadQuantity(
            f"expected a target such as 'top-1 acc >90%', 'macro-F1 > 0.85' or 'WER < 8%'; got {clip(raw)}"
        )
    relative = _relative_target(raw, cleaned, m, metric, higher)
    if relative is not None:
        return relative
    word = (m.group(1) or "").strip()
    comparator: Comparator = {
        "<": "<",
        "<=": "<=",
        "=<": "<=",
        "≤": "<=",
        "below": "<",
        "under": "<",
        "at most": "<=",
        "no more than": "<=",
        ">": ">",
        ">=": ">=",
        "=>": ">=",
        "≥": ">=",
        "above": ">",
        "over": ">",
        "at least": ">=",
        "no less than": ">=",
        "=": "=",
        "": ">=" if higher else "<=",
    }[word]
    wrong_way = comparator in ({"<", "<="} if higher else {">", ">="})
    # "lower MAE and under-prediction > 10 min in < 10% of orders": with several bounds in the text, one that does not
    # fit the metric belongs to another condition; the text is kept, not refused as a wrong-way bound.
    if (not known or wrong_way) and len(re.findall(rf"(?:{inequality})\s*{_NUMBER}", cleaned)) > 1:
        raise UnreadQuantity(f"several conditions, none a bound on one metric; got {clip(raw)}")
    before, after = (re.sub(r"[^a-z0-9 -]", " ", t).strip() for t in (cleaned[: m.start()], cleaned[m.end() :]))
    named = before or " ".join(after.split()[:4])  # "< 1 false accept per hour": the name follows the number
    if not known and named and word:
        # A metric this parser does not list ("WRMSSE < 0.55"): the comparator says which way is better.
        return AccuracyTarget(text=raw, metric=named, comparator=comparator, value=_to_float(m.group(2)),
                              higher_is_better=comparator in {">", ">="}, bounded=False)  # fmt: skip
    value = _to_float(m.group(2))
    bounded = metric in _BOUNDED
    if bounded:
        if m.group(3) or value > 1:
            value /= 100.0
        if not 0 <= value <= 1:
            raise ValueError(f"{metric} target must lie between 0 and 100%; got {clip(raw)}")
    if metric == "r2":
        value = value / 100.0 if m.group(3) else value  # "R² of 90%" is 0.9
        if value > 1:
            raise ValueError(f"R² is at most 1 (a perfect fit); got {clip(raw)}")
    if wrong_way:
        better, bound = ("higher", "a lower bound ('>") if higher else ("lower", "an upper bound ('<")
        raise ValueError(f"{metric} is {better}-is-better, so its target is {bound} {m.group(2)}'); got {clip(raw)}")
    if bounded and higher and comparator == ">" and value >= 1:
        raise ValueError(f"{metric} cannot exceed 100%; got {clip(raw)}")
    return AccuracyTarget(
        text=raw, metric=metric, comparator=comparator, value=value, higher_is_better=higher, bounded=bounded
    )


# "beat seasonal naive by >20%", "20% better than the current model", "improve on the baseline by 5 points".
_RELATIVE = re.compile(
    r"\b(beat|beats|beating|outperform\w*|improv\w*|better than|worse than|lower than|higher than)\b"
)
# The reference named after the verb: up to three words, stopping at "by", "on" or "in".
_REFERENCE = re.compile(
    r"\b(?:beat|beats|beating|outperform\w*|than|improve\w* on|over)\s+"
    r"((?:the\s+)?[a-z][\w-]*(?:\s+(?!by\b|on\b|in\b)[a-z][\w-]*){0,2})"
)


def _relative_target(raw: str, cleaned: str, m: re.Match[str], metric: str, higher: bool) -> AccuracyTarget | None:
    """A target stated as an improvement over a reference, in percent or points; None when the text is absolute."""
    if not _RELATIVE.search(cleaned) or not (m.group(3) or re.match(r"\s*(points|pts)\b", cleaned[m.end() :])):
        return None
    ref = _REFERENCE.search(cleaned)  # a named reference, not a number ("better than 90%" is absolute)
    if ref is None:
        return None
    return AccuracyTarget(text=raw, metric=metric, comparator=">=", value=_to_float(m.group(2)) / 100.0,
                          higher_is_better=higher, bounded=False, relative_to=ref.group(1).strip())  # fmt: skip


# --------------------------------------------------------------------------------------------- compute


class Compute(_Parsed):
    """Compute resources for training: a device kind, how many, which model (a hardware alias) and memory per device.
    `deployment` is the clause that says where the model will run instead ("...; deployed on a Cortex-M7"), verbatim.
    """

    kind: Literal["cpu", "gpu", "tpu", "edge", "npu"]
    n_devices: int = 1
    n_nodes: int = 1
    device: str | None = None  # free-text device name as written ("a100", "jetson orin"); resolved by knowledge/
    memory_gb: float | None = None
    cores: int | None = None
    deployment: str | None = None


# What a model does where it serves.
_SERVING_WORK = r"(?:embedding|search|matching|scoring|ranking|retrieval|detection|forecasting|predictions?)"
# Where a sentence turns from training to serving: "...; deployed on", "serve on", "inference on", "the app runs on".
_DEPLOY_CLAUSE = re.compile(
    r"\b(?:deploy\w*|serv(?:e|es|ed|ing)\b|inference\b|in production\b|on[- ]device\b|client[- ]side\b|ship(?:s|ped)?\b"
    r"|(?:app|model|product|firmware|it|plugin|kiosk|policy|agent) (?:will |has to |must |should )?"
    r"(?:runs?|lives?|be used)\b"
    r"|runs? (?:as an? (?:[\w-]+ ){1,3})?(?:(?:offline|locally|fully offline|onboard|on[- ]board|always[- ]on"
    r"|continuously|24/7|in real[- ]time|real[- ]time) ){0,2}(?:on|in|inside)\b"
    r"|(?:use|run) it\b"
    r"|runs the model\b|device is\b"
    r"|the (?:kiosk|device|target|edge device|phone|robot) is\b|inside (?:the|our) \w+"
    r"|(?:batch|nightly|overnight) job\b|(?:batch )?scoring\b|batch predictions?\b|\bprod\b|\bdemo (?:on|in)\b"
    r"|\bproduction (?:on|in|runs)\b|\bas a batch (?:on|in)\b"  # "production on CPU VMs", "... as a batch on CPU nodes"
    r"|is the (?:deployment |inference )?target\b|target device\b|to (?:run|deploy|serve)(?: it| on)?\b"
    r"|for (?:deployment|serving)\b"
    # what the model does where it runs, opening a clause: "embedding and search on CPU workers", "scoring runs on the
    # CPU fleet" (not "object detection on GPU", which names the task)
    r"|(?:^|(?<=, )|(?<=; )|(?<=\band ))" + _SERVING_WORK + r"(?: and " + _SERVING_WORK + r")?"
    r" (?:runs? |happens? |is done )?on\b"
    r"|部署|上线|推理|推論|デプロイ)"  # zh/ja: deploy, go live, inference
)
_TRAIN_WORDS = re.compile(
    r"\b(?:(?:pre-?)?train(?:s|ed|ing)?|fine[- ]?tun\w*|finetun\w*|to train)\b|训练|微调|学習|トレーニング"
)
# "the trained policy must run inside the game": "trained" describes what runs, it does not say where it trains.
_TRAINED_THING = re.compile(r"\b(?:the |a |our |my )?trained (?:model|policy|network|agent|weights|checkpoint)s?\b")


def _trains(clause: str) -> bool:
    return bool(_TRAIN_WORDS.search(_TRAINED_THING.sub(" ", clause.lower())))


_CLAUSE_BREAK = re.compile(
    r";|\.\s+|\s+-\s+|\s*\n\s*|,\s+(?=(?:and |but |then |while )?(?:the |our |it |deploy|serv|inference))"
    r"|(?:,\s+|\s+and\s+)(?=[^,;]*\bto (?:run|deploy|serve)\b)"  # "RTX A5000 to train, Cortex-M4F to run"
)

DeviceKind = Literal["cpu", "gpu", "tpu", "edge", "npu", "mcu", "browser"]
_MCU_WORDS = ("microcontroller", "mcu", "cortex-m", "cortex m", "esp32", "stm32", "arduino", "nrf52", "nrf53", "rp2040")
_BROWSER_WORDS = ("browser", "webgpu", "wasm", "webassembly", "chrome", "safari", "firefox")


def split_deployment(text: str) -> tuple[str, str | None]:
    """("training part", "deployment part") of a compute sentence, or (text, None) when it names one device for both.

    Clauses (split at ";", ". ", " - " and ", the/our/it/deploy...") that say where the model runs and name a device
    are the deployment; the others are training: "RTX 4090 for training; Jetson AGX Orin inside the robot cell",
    "free colab T4 for training. The viewer plugin runs the model on a workstation CPU". A text that is only a
    deployment clause ("must run offline on employees' laptops") is both: training hardware as before, and where the
    model runs. Within one clause, the words from a deployment verb on are split off ("GPU w 24G for training,
    inference on CPU")."""
    clauses = [c.strip(" ,.;") for c in _CLAUSE_BREAK.split(text) if c.strip(" ,.;")]
    # A clause that names where the model runs, or says a machine has no GPU while another clause trains on one (or
    # names a GPU: "office PCs ..., no NVIDIA; my own RTX 3080 at home"), or names only a device that cannot train
    # ("pretrain on one RTX 4090; enrolment and detection on the lamp's Cortex-M7").
    # A clause that trains names what it trains on: "1 hour per fold including training" is a time limit, not a machine.
    says_trains = any(_trains(c) and device_kind(c) is not None for c in clauses)
    trains = says_trains or any(device_kind(c) == "gpu" and not says_no_gpu(c) for c in clauses)
    deploy = [
        c
        for c in clauses
        if (_deploys(c) or (trains and says_no_gpu(c)) or (says_trains and only_runs_there(c))) and not _trains(c)
    ]
    train = [c for c in clauses if c not in deploy]
    if deploy and train and any(device_kind(c) or re.search(r"\d", c) for c in train):
        return "; ".join(train), "; ".join(deploy)
    if deploy and not train:
        return text, text
    m = _DEPLOY_CLAUSE.search(text.lower())
    if m is None or device_kind(text[m.start() :]) is None:
        at_comma = _split_at_comma_before(text, m.start()) if m is not None else None
        return at_comma or ((text, text) if only_runs_there(text) else (text, None))
    before = text[: m.start()].strip(" ;,.-(")
    if not before or (device_kind(before) is None and not re.search(r"\d", before)):
        return text, text  # "fine-tune and serve on the same 2x A10 box": one device for both
    if _trains(text[m.start() :].split(",")[0]):
        return text, None  # "a T4 for inference (and training), the rest is CPU": one device for both
    return before, text[m.start() :].strip(" ;,.)")


def _split_at_comma_before(text: str, deploy_word: int) -> tuple[str, str] | None:
    """(training, deployment) when the device comes before the deployment word, after a comma ("4 GPUs for training,
    CPU only for inference"): the part before the comma trains on a device and the part after names one."""
    comma = text.rfind(",", 0, deploy_word)
    if comma <= 0:
        return None
    before, after = text[:comma], text[comma + 1 :]
    if _trains(before) and (device_kind(before) or re.search(r"\d", before)) and device_kind(after):
        return before.strip(" ;,.-("), after.strip(" ;,.)")
    return None


# Devices that do not train networks: named alone as compute, they are where the model runs.
CANNOT_TRAIN = frozenset({"mcu", "browser", "npu"})


def only_runs_there(text: str) -> bool:
    """The text names a device that does not train networks (a microcontroller, a browser, a phone) and none that
    does ("Arduino Nano 33 BLE Sense", but not "ESP32-S3 for the device, I train on colab")."""
    low = text.lower()
    trainer = any(re.search(r"(?<![a-z0-9])" + re.escape(w) + r"(?![a-z])", low) for w in _GPU_WORDS)
    trainer = trainer or bool(_GPU_MODEL.search(low) or re.search(r"\btpu|(?<![a-z])(cpu|laptop|desktop|macbook|"
                                                                   r"workstation|server)", low))  # fmt: skip
    return device_kind(text) in CANNOT_TRAIN and not trainer


def says_no_gpu(text: str) -> bool:
    """The text says there is no (NVIDIA) GPU to count on: "CPU only", "no NVIDIA GPU", "sin GPU"."""
    return bool(_NO_GPU.search(text.lower()))


def _deploys(clause: str) -> bool:
    """A clause that says where the model runs and names a device to run on."""
    return bool(_DEPLOY_CLAUSE.search(clause.lower())) and device_kind(clause) is not None


def device_kind(text: str) -> DeviceKind | None:
    """The kind of device a free-text phrase names (microcontroller, browser, phone NPU, Jetson-class edge, GPU, CPU),
    or None when it names none."""
    low = _NO_GPU.sub(" cpu ", text.lower())  # "no discrete GPU" names a CPU

    def has(words: tuple[str, ...]) -> bool:
        return any(re.search(r"(?<![a-z0-9])" + re.escape(w) + r"(?![a-z])", low) for w in words)

    if has(_MCU_WORDS):
        return "mcu"
    if has(_BROWSER_WORDS):
        return "browser"
    if has(_NPU_WORDS) or re.search(r"\b(ios|ipad|ipads|iphones|phones)\b", low) or _PHONE_MODEL.search(low):
        return "npu"
    if has(_EDGE_WORDS):
        return "edge"
    if re.search(r"\btpu", low):
        return "tpu"
    if has(_GPU_WORDS) or _GPU_MODEL.search(low) or _APPLE_SILICON.search(low):
        return "gpu"  # an Apple M-series Mac serves on its GPU and Neural Engine (hardware.yaml apple-m1, apple-m2)
    if re.search(
        r"(?<![a-z])(cpu|cpus|laptop|desktop|server|xeon|epyc|ryzen|x86|raspberry|cortex-a|a5[35]\b|a7[2-8]\b|arm soc"
        r"|linux soc|pcs?\b|consoles?\b|服务器)",
        low,
    ):
        return "cpu"
    return "edge" if re.search(r"\bedge\b", low) else None  # "an edge box" with nothing more specific


_GPU_WORDS = (
    "gpu",
    "cuda",
    "p100",
    "k80",
    "colab",
    "kaggle",
    "nvidia",
    "rtx",
    "gtx",
    "tesla",
    "a100",
    "h100",
    "h200",
    "v100",
    "a10",
    "t4",
    "l4",
    "3090",
    "4090",
    "5090",
    "a6000",
    "l40",
)
# "no GPUs of our own; one rented L4" owns none and rents one: not a CPU-only statement.
_NO_GPU = re.compile(
    r"\bno (?:discrete |dedicated |nvidia )?(?:gpus?|npus?)(?:\s*(?:/|or|,)\s*(?:gpus?|npus?))?\b"
    r"(?!\s+of\s+(?:our|my|their|its)\s+own)"
    r"|\bwithout (?:a )?gpus?\b|\bcpu[- ]only\b|\bonly (?:a )?cpu"
    # the same in the languages specs arrive in: "sem GPU" (pt), "sin GPU" (es), "sans GPU", "pas de GPU" (fr), "ohne
    # GPU", "keine GPU" (de), "senza GPU", "nessuna GPU" (it)
    r"|\b(?:sem|sin|sans|ohne|senza|pas de|keine?|nessuna|ninguna|nenhuma) gpus?\b"
    # "no NVIDIA"; zh "没有 GPU" / "没有独立显卡" (no discrete graphics card); ja "GPUなし"
    r"|\bno nvidia\b|(?:没有|无|不用) ?(?:gpu|独立显卡|显卡)|gpu ?(?:なし|無し)"
    # a GPU that is there but not ours: "the GPU belongs to the game", "the GPU is busy rendering"
    r"|\bthe gpu (?:belongs to|is (?:busy|taken|reserved|kept|used)(?: with| by| for)?) "
    r"(?:the )?(?:game|render|graphics)"
)
_NO_NPU = re.compile(r"\bno npus?\b(?:\s*(?:/|or|,)\s*gpus?\b)?")
# Macs on Apple silicon: "an Apple M1 MacBook Air", "M2 Mac mini" (an Intel Mac says "Intel").
_APPLE_SILICON = re.compile(
    r"\bapple m[1-4]\b|\bm[1-4] (?:mac|macbook|imac|chip)|\bapple silicon\b|\bmacbook (?:air|pro) m[1-4]\b"
)
# GPU model names the word list cannot hold: "1080Ti", "2080 Ti", "A10G", "L40S".
_GPU_MODEL = re.compile(
    r"\b(?:gtx |rtx )?\d{4} ?ti\b|\ba10g\b|\bl40s\b|\b[ah]800\b|\bh20\b|\bp40\b|\bv100s\b|\bmi\d{3}x?\b"
)
_EDGE_WORDS = (
    "jetson",
    "orin",
    "coral",
)  # "edge" alone counts only when nothing else is named
_NPU_WORDS = (
    "npu",
    "phone",
    "mobile",
    "android",
    "iphone",
    "neural engine",
    "snapdragon",
    "hexagon",
    "smartwatch",
    "wear os",
    "galaxy watch",
    "apple watch",
    "watchos",
)  # a watch does not train networks either; the hardware table plans a Wear OS watch on its Cortex-A53 SoC profile
# Phones named by model: "a Pixel 8", "Galaxy S24", "Galaxy A54".
_PHONE_MODEL = re.compile(r"\bpixel \d|\bgalaxy [sazm]\d")


# The most accelerators one server holds (NVIDIA DGX-2 and HGX-2: 16 V100; DGX A100/H100: 8): a larger count written
# beside a node count is the total over the nodes.
MAX_DEVICES_PER_NODE = 16


# A device the team has only on the side ("a GPU is available for experiments but not for production"): when the rest
# of the text names a device, the clause names neither where the model trains nor where it runs (spec batch 22: a
# nightly forecast trained and run on managed CPU jobs).
_NOT_IN_PRODUCTION = re.compile(r"\bnot (?:for|in|used (?:for|in)) production\b", re.IGNORECASE)


def _without_side_devices(raw: str) -> str:
    """`raw` without its clauses (split at ';' and '.') that keep a device out of production."""
    return "".join(c for c in re.split(r"(?<=[;.])", raw) if not _NOT_IN_PRODUCTION.search(c)).strip(" ;,.")


def parse_compute(text: str) -> Compute:
    """Parse `constraints.computeResources`: "single-GPU 24GB", "multi-GPU (8x A100)", "CPU (2 cores)", "TPU v4-8"."""
    raw = _sane_numbers(str(text).strip(), "compute resources")
    production = _without_side_devices(raw)
    training, deployment = split_deployment(production if device_kind(production) is not None else raw)
    low = re.sub(r"(\d)\s*[x×*]\s*", r"\1x ", training.lower())  # "4xA100" -> "4x a100"
    low = _NO_NPU.sub(" ", low)  # "no NPU / GPU" names neither
    if not low:
        raise ValueError("expected compute such as 'single-GPU 24GB', 'multi-GPU (8x A100)' or 'CPU (2 cores)'; got ''")

    def has(words: tuple[str, ...]) -> bool:  # "T4s", "A100s": a plural names the same device
        return any(re.search(r"(?<![a-z0-9])" + re.escape(w) + r"s?(?![a-z])", low) for w in words)

    is_cpu = bool(
        re.search(
            r"(?<![a-z])(v?cpus?|laptop|desktop|xeon|epyc|ryzen|raspberry|cortex-a|soc|core i[3579]|i[3579]-\d+)", low
        )
    )
    is_gpu = has(_GPU_WORDS) or bool(_GPU_MODEL.search(low))
    is_tpu = bool(re.search(r"\btpu", low))
    is_edge = has(_EDGE_WORDS) or (bool(re.search(r"\bedge\b", low)) and not is_cpu)
    is_npu = has(_NPU_WORDS) or bool(_PHONE_MODEL.search(low))
    if has(_MCU_WORDS) and not (is_cpu or is_gpu or is_tpu or is_edge or is_npu):
        is_edge = True  # a microcontroller named alone: the advisor plans it as the deployment target
    if "apple" in low or re.search(r"\bm[1-4]\b", low):
        is_npu = is_npu or not is_gpu
    if _NO_GPU.search(low):
        if has(tuple(w for w in _GPU_WORDS if w not in {"gpu", "cuda", "colab", "kaggle", "nvidia"})):
            raise ValueError(f"computeResources names a GPU model and also says CPU only; got {clip(raw)}")
        is_gpu, is_cpu = False, True
    kind: Literal["cpu", "gpu", "tpu", "edge", "npu"]
    kind = "tpu" if is_tpu else "edge" if is_edge else "gpu" if is_gpu else "npu" if is_npu else "cpu"
    if not (is_cpu or is_gpu or is_tpu or is_edge or is_npu):
        raise ValueError(
            "expected compute such as 'single-GPU 24GB', 'multi-GPU (8x A100)', 'CPU (2 cores)' or 'TPU v4'; "
            f"got {clip(raw)}"
        )

    n_devices = 1
    # "2x A100", "8 GPUs"; not the 4 of "T4 GPUs" (a digit inside a model name is not a count).
    # Not the 2 of an AWS "m5.2xlarge": an instance size, not a count.
    count = re.search(r"(?<![a-z0-9.])(\d+)\s*[x×*]\s*(?!large\b)(?:[a-z]|\d{3,4})", low) or re.search(
        r"(?<![a-z0-9])(\d+)\s*(?:gpus|gpu|tpus|tpu|devices|cards)\b", low
    )
    if count:
        n_devices = int(count.group(1))
    elif re.search(r"\b(multi|multiple)[- ]?(gpu|node|device)", low):
        n_devices = 2  # "multi-GPU" with no count: at least two; the advisor states this as an assumption
    elif kind != "cpu" and re.search(r"\b(dual|two|a couple of|a pair of)\b", low):
        n_devices = 2
    elif kind != "cpu" and re.search(r"\b(quad|four)\b", low):
        n_devices = 4
    if kind == "tpu":
        # "v4-8" is 8 TensorCores, i.e. 4 chips (v2-v4 and v5p have two per chip); "v5e-8" and "v6e-8" are 8 chips,
        # one TensorCore each (Google Cloud TPU docs, "TPU versions"). Count chips.
        tpu = re.search(r"v(\d)([a-z]?)-(\d+)", low)
        if tpu and not count:
            per_chip = 1 if tpu.group(2) == "e" else 2
            n_devices = max(1, int(tpu.group(3)) // per_chip)
    nodes = re.search(r"(\d+)\s*(?:nodes|machines|hosts)", low)
    n_nodes = int(nodes.group(1)) if nodes else 1
    if n_nodes > 1 and n_devices > MAX_DEVICES_PER_NODE and n_devices % n_nodes == 0:
        n_devices //= n_nodes  # "32x A100 (4 nodes)": 32 in all, 8 per node; no server holds 32
    if n_devices < 1 or n_nodes < 1:
        raise ValueError(f"device and node counts must be at least 1; got {clip(raw)}")

    mem = re.search(rf"(?<![a-z0-9.]){_NUMBER}\s*(gb|gib|g)\b", low)  # not the "10g" of an A10G
    memory_gb = _to_float(mem.group(1)) if mem else None
    if memory_gb is not None and memory_gb <= 0:
        raise ValueError(f"device memory must be greater than zero; got {clip(raw)}")
    cores_m = re.search(r"(\d+)\s*(?:-\s*)?(?:v?cpus?|cores?|threads)\b", low)
    cores = int(cores_m.group(1)) if cores_m and kind == "cpu" else None
    device = None
    dev = re.search(
        r"(a100|h100|h200|v100|a10g?|t4|l40s?|l4|a6000|rtx\s?\d{4}|\b\d{4}\b(?=\s*(?:ti)?\b)|\bjetson[\w -]*|"
        r"\borin\b[\w ]*|tpu\s?v\d\w*|m[1-4](?: pro| max| ultra)?|xeon|epyc|i[3579]-\d+\w*|snapdragon[\w ]*|"
        r"raspberry pi ?\d?)",
        low,
    )
    if dev:
        device = dev.group(1).strip()
        if kind == "gpu" and memory_gb and device in {"a100"}:
            device = f"a100 {round(memory_gb)}gb"
    return Compute(text=raw, kind=kind, n_devices=n_devices, n_nodes=n_nodes, device=device, memory_gb=memory_gb,
                   cores=cores, deployment=deployment)  # fmt: skip


# --------------------------------------------------------------------------------------------- budget


class Budget(_Parsed):
    """A budget: money, GPU-hours, or a level word. `level` is always set (derived from the numbers if needed)."""

    usd: float | None = None
    gpu_hours: float | None = None
    per: str | None = None  # "month", "run", ...
    level: Literal["low", "medium", "high"]


def parse_budget(text: str) -> Budget:
    """Parse `constraints.budget`: "$500", "2k USD/month", "100 GPU-hours", "low", "no budget for annotation"."""
    raw = _sane_numbers(_words_to_digits(str(text).strip()), "budget")
    low = raw.lower()
    per_m = re.search(r"(?:/|per\s+)(month|mo|week|day|year|run|experiment)\b", low)
    per = {"mo": "month"}.get(per_m.group(1), per_m.group(1)) if per_m else None
    hours = re.search(rf"{_NUMBER}\s*([km])?\s*(?:gpu[- ]?hours?|gpu[- ]?h|gpuh)\b", low)
    money = re.search(
        rf"(?:\$|usd|eur|€|£)\s*{_NUMBER}\s*([km])?|{_NUMBER}\s*([km])?\s*(?:\$|usd|dollars|eur|€|£)", low
    )
    usd = gpu_hours = None
    if hours:
        gpu_hours = _to_float(hours.group(1)) * {"k": 1e3, "m": 1e6}.get(hours.group(2) or "", 1.0)
    if money:
        number = money.group(1) or money.group(3)
        suffix = money.group(2) or money.group(4) or ""
        usd = _to_float(number) * {"k": 1e3, "m": 1e6}.get(suffix, 1.0)
    level: Literal["low", "medium", "high"] | None = None
    if re.search(r"\b(low|limited|tight|small|minimal|shoestring|none|no budget|cheap|free)\b", low):
        level = "low"
    elif re.search(r"\b(high|large|big|generous|unlimited|ample)\b", low):
        level = "high"
    elif re.search(r"\b(medium|moderate|mid|average)\b", low):
        level = "medium"
    if level is None:
        if usd is None and gpu_hours is None:
            raise UnreadQuantity(
                f"expected a budget such as '$500', '2k USD/month', '100 GPU-hours' or 'low'; got {clip(raw)}"
            )
        # Thresholds: ~$2/GPU-hour on-demand for an A10/A100-class cloud GPU, so $500 buys ~250 GPU-hours.
        hours_equiv = gpu_hours if gpu_hours is not None else (usd or 0.0) / 2.0
        level = "low" if hours_equiv < 100 else "medium" if hours_equiv < 2000 else "high"
    return Budget(text=raw, usd=usd, gpu_hours=gpu_hours, per=per, level=level)
