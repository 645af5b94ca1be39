"""Render a `Plan` as a readable Markdown report, with the seed's step checklist and an alternatives table."""

from __future__ import annotations

from ..schema import Plan

_MARK = {"done": "[x]", "planned": "[ ]", "needs-input": "[?]", "not-applicable": "[-]"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_plan_md(plan: Plan) -> str:
    """The plan for people: what to build, how to train it, what to watch, how to ship it, and why."""
    md = plan.modelDesign
    ts = plan.trainingStrategy
    out: list[str] = ["# dlexpert plan", ""]
    if plan.questions:
        out += ["## Questions (the plan needs these answers)", ""]
        out += [f"- **{q.field}**: {q.question} _Why:_ {q.reason}" for q in plan.questions] + [""]
    if plan.warnings:
        out += ["## Warnings", ""] + [f"- {w}" for w in plan.warnings] + [""]
    out += ["## Workflow", ""]
    out += [f"- {_MARK[s.status]} Step {s.step}: {s.name} ({s.status}) — {s.note}" for s in plan.workflow] + [""]
    if plan.assumptions:
        out += ["## Assumptions", ""] + [f"- `{a.field}` = {a.value!r}: {a.reason}" for a in plan.assumptions] + [""]

    out += ["## Model design", "", f"**Architecture:** {md.architecture}", ""]
    if md.pretrainedModel:
        pm = md.pretrainedModel
        out += [f"**Pretrained model:** `{pm.name}` from {pm.source}; adaptation: {pm.adaptation}", ""]
    out += [f"**Rationale:** {md.rationale}", "", f"**Scratch vs fine-tuning vs transfer:** {md.tradeoff}", ""]
    if md.codeFramework:
        out += [f"**Code framework:** {md.codeFramework}", ""]
    if plan.alternatives:
        out += [
            "### Alternatives",
            "",
            "| model | architecture | params (M) | accuracy | latency | resources | meets "
            "constraints | why not chosen |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for a in plan.alternatives:
            out.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        f"`{a.name}`",
                        a.architecture,
                        f"{a.params_m:g}",
                        a.accuracy,
                        a.latency,
                        a.resources,
                        "yes" if a.meets_constraints else "no",
                        a.why_not_chosen,
                    )
                )
                + " |"
            )
        out.append("")

    dp, opt, tt = ts.dataProcessing, ts.optimizer, ts.trainingTechniques
    out += ["## Training strategy", "", f"- **Normalization:** {dp.normalization}"]
    if dp.augmentation:
        out.append(f"- **Augmentation:** {'; '.join(dp.augmentation)}")
    if dp.samplingStrategy:
        out.append(f"- **Sampling:** {dp.samplingStrategy}")
    out += [
        f"- **Batch size:** {dp.batchSize}",
        f"- **Optimizer:** {opt.type}",
        f"- **Learning rate:** {opt.learningRate}",
    ]
    if opt.scheduler:
        out.append(f"- **Scheduler:** {opt.scheduler}")
    if opt.weightDecay:
        out.append(f"- **Weight decay:** {opt.weightDecay}")
    out.append(f"- **Gradient clipping:** {tt.gradientClipping or 'off'}")
    out.append(
        f"- **Mixed precision:** {'yes' if tt.mixedPrecision else 'no'}; gradient accumulation: "
        f"{tt.gradientAccumulation or 1}; EMA of weights: {'yes' if tt.ema else 'no'}"
    )
    if ts.regularization:
        out.append(f"- **Regularization:** {'; '.join(ts.regularization)}")
    out.append("")

    dg = plan.debuggingGuidance
    out += ["## Debugging guidance", "", "**Visualize:**", ""] + [f"- {v}" for v in dg.visualization] + [""]
    out += ["**Check:**", ""] + [f"- [ ] {c}" for c in dg.checkpoints] + [""]
    out += ["**Common issues** (yours first, then the likely ones for this plan):", ""]
    for ci in dg.commonIssues:
        out.append(f"- **{ci.issue}** — {ci.diagnosis}")
        out += [f"  {i}. {s}" for i, s in enumerate(ci.solution, 1)]
    out.append("")

    ep = plan.engineeringPractice
    out += ["## Engineering practice", ""]
    if ep.modelCompression:
        mc = ep.modelCompression
        for k, v in (("Quantization", mc.quantization), ("Pruning", mc.pruning), ("Distillation", mc.distillation)):
            if v:
                out.append(f"- **{k}:** {v}")
    if ep.inferenceOptimization:
        io = ep.inferenceOptimization
        out.append(f"- **Export formats:** {', '.join(io.format)}")
        if io.batching:
            out.append(f"- **Batching:** {io.batching}")
        if io.caching:
            out.append(f"- **Caching:** {io.caching}")
    if ep.distributedTraining:
        out.append(
            f"- **Distributed training:** {ep.distributedTraining.strategy} — {ep.distributedTraining.configuration}"
        )
    out.append("")

    if plan.expectedPerformance:
        pe = plan.expectedPerformance
        out += ["## Expected performance", ""]
        for k, v in (
            ("Accuracy", pe.accuracy),
            ("Training time", pe.trainingTime),
            ("Inference latency", pe.inferenceLatency),
        ):
            if v:
                out.append(f"- **{k}:** {v}")
        out.append("")
    if plan.evidence:
        out += ["## Evidence", "", "| claim | value | source |", "|---|---|---|"]
        out += [f"| {_cell(e.claim)} | {_cell(e.value)} | {_cell(e.source)} |" for e in plan.evidence]
        out.append("")
    return "\n".join(out)
