"""Search the catalog with constraints, for `dlexpert catalog`. Light: no torch."""

from __future__ import annotations

from typing import Any

from .estimate import predict_latency
from .knowledge import get_hardware, list_models
from .schema.task import _DOMAIN_SYNONYMS, _TYPE_SYNONYMS, DOMAINS, TASK_TYPES, _normalise_choice


def search_catalog(
    *,
    pattern: str | None = None,
    task: str | None = None,
    domain: str | None = None,
    family: str | None = None,
    library: str | None = None,
    max_params_m: float | None = None,
    max_latency_ms: float | None = None,
    hardware: str = "cpu-laptop",
) -> list[dict[str, Any]]:
    """Catalog rows matching the filters, best published first-metric score first.

    Example:
        >>> rows = search_catalog(task="classification", max_latency_ms=10, hardware="cpu-laptop")  # doctest: +SKIP
    """
    from .errors import InvalidInputError

    try:
        task_n = _normalise_choice(task, choices=TASK_TYPES, synonyms=_TYPE_SYNONYMS, what="task") if task else None
        dom_n = _normalise_choice(domain, choices=DOMAINS, synonyms=_DOMAIN_SYNONYMS, what="domain") if domain else None
    except ValueError as exc:
        raise InvalidInputError(f"--task/--domain: {exc}") from None
    for flag, value in (("--max-params", max_params_m), ("--max-latency-ms", max_latency_ms)):
        if value is not None and not (0 < value < float("inf")):
            raise InvalidInputError(f"{flag}: expected a positive finite number; got {value:g}")
    hw = get_hardware(hardware)
    rows: list[dict[str, Any]] = []
    for m in list_models(pattern, task=task_n, domain=dom_n, family=family, library=library, max_params_m=max_params_m):
        lat = None
        if task_n != "RL" and "RL" not in m.tasks:
            prec = "fp32" if hw.kind == "cpu" else "fp16"
            lat = predict_latency(m, hw, precision=prec)
        if max_latency_ms is not None and (lat is None or lat.ms > max_latency_ms):
            continue
        first = m.metrics[0] if m.metrics else None
        rows.append(
            {
                "name": m.name,
                "family": m.family,
                "architecture": m.architecture,
                "library": m.library,
                "hub_id": m.hub_id,
                "params_m": m.params_m,
                "gmacs": m.gmacs,
                "score": f"{first.name} {first.value:g} ({first.dataset})" if first else "",
                "score_value": (first.value if first.higher_is_better else -first.value) if first else None,
                "latency_ms": None if lat is None else round(lat.ms, 3),
                "latency_basis": None if lat is None else lat.basis,
                "license": m.license,
                "source": m.source,
            }
        )
    rows.sort(key=lambda r: (r["score_value"] is None, -(r["score_value"] or 0.0)))
    return rows
