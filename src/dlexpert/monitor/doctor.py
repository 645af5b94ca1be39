"""`LiveDoctor`: the hub of the live monitors. It keeps the run's history in memory, runs the diagnosis rules on it
while training, prints new findings once, and keeps RUN_DIR/diagnosis.json up to date.

The history is built from the same rows the Recorder writes to metrics.jsonl (step rows, with the monitors' values
in them, and epoch rows), so the online diagnosis sees what `dlexpert diagnose RUN_DIR` will see afterwards. The
rules are those of `dlexpert.diagnose` that are safe on a partial run (`online=True`); after the run, all of them.
Findings the monitors raise themselves (a NaN with the layer that produced it, a learning rate that does not follow
its schedule) take precedence over a rule's finding on the same issue: they carry more detail.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from pathlib import Path
from typing import IO, Any

from .._io import atomic_write_text
from ..engine.events import Callback
from ..errors import InvalidInputError
from ..rundir import RunDir
from ..schema.diagnosis import SEVERITY_RANK, Diagnosis, Finding, sort_findings
from ._base import LayerIndex

__all__ = ["LiveDoctor", "monitor_finding"]

# Row keys that are positions, not series.
_POSITION = {"kind", "epoch", "step", "time"}


def monitor_finding(
    issue: str, *, severity: str, diagnosis: str, evidence: dict[str, Any], step: float | None, rule: str,
    solution: list[str] | None = None,
) -> Finding:  # fmt: skip
    """A finding raised by a monitor, with the solutions and source of the issue's entry in knowledge/problems.yaml."""
    from ..knowledge import get_problem

    try:
        problem = get_problem(issue)
        solutions, source = list(problem.solutions), problem.source
    except Exception:  # an issue without a knowledge entry keeps the monitor's own advice
        solutions, source = [], None
    return Finding(
        issue=issue, severity=severity, diagnosis=diagnosis, solution=solution or solutions, evidence=evidence,  # type: ignore[arg-type]
        axis="step" if step is not None else None, began_at=step, rule=rule, source=source,
    )  # fmt: skip


class LiveDoctor(Callback):
    """Collects what the monitors and the Recorder saw, runs the online rules every `diagnose_every` steps and at
    every epoch end, prints each new finding of severity warning or error once (standard error), and writes
    RUN_DIR/diagnosis.json (the `Diagnosis` model, with the auto-remedy `actions`) atomically when it changes.

    Runs on the main process only (like the Recorder). `layers(s)` gives the monitors one shared `LayerIndex`.
    """

    order = 15  # after the Recorder (10): the step row is complete, the monitors' values included

    def __init__(self, *, diagnose_every: int = 500, console: bool = True) -> None:
        self.diagnose_every = diagnose_every
        self.console = console
        self.active = False  # set in before_fit, which runs on the main process only
        self.meta: dict[str, Any] = {"monitored": True}
        self.points: dict[tuple[str, str], dict[float, float]] = {}
        self.monitor_findings: dict[str, Finding] = {}
        self.findings: list[Finding] = []  # the latest diagnosis, monitor findings included
        self.actions: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.printed: set[str] = set()
        self._diagnose: Any = None
        self._written = ""
        self._file: IO[str] | None = None
        self._layers: LayerIndex | None = None
        self._out_dir: Path | None = None

    # --- events

    def before_fit(self, s: Any) -> None:
        self.active = True
        self._out_dir = Path(s.out_dir)
        cfg = s.cfg
        classes = (s.config.get("data") or {}).get("classes") if isinstance(s.config, dict) else None
        self.meta.update(
            task=cfg.task, scheduler=cfg.scheduler, epochs=cfg.epochs, lr=cfg.lr, warmup_epochs=cfg.warmup_epochs,
            steps_per_epoch=math.ceil(s.n_batches / cfg.accumulation), batch_size=cfg.batch_size,
        )  # fmt: skip
        if classes:
            self.meta["n_classes"] = len(classes)
        try:
            from ..diagnose import diagnose_history

            self._diagnose = diagnose_history
        except Exception as e:  # a broken or missing rules package must not stop training: monitor checks still run
            self.warnings.append(f"online diagnosis rules unavailable ({e}); monitor checks only")
        if s.resumed:
            self._load_previous()

    def after_step(self, s: Any) -> None:
        if "n_classes" not in self.meta and s.cfg.task == "classification":
            pred = s.pred
            if hasattr(pred, "ndim") and pred.ndim == 2:
                self.meta["n_classes"] = int(pred.shape[1])
        if s.step_row is not None:
            self.add_row(s.step_row, "step")
        if s.step % self.diagnose_every == 0:
            self.check(s)

    def after_epoch(self, s: Any) -> None:
        self.add_row(s.epoch_metrics, "epoch")
        self.check(s)

    def after_fit(self, s: Any) -> None:
        if not self.active:
            return
        try:
            self.check(s, final=True)
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None

    # --- what the monitors call

    def layers(self, s: Any) -> LayerIndex:
        """The model's parameters grouped by layer, built once and shared by the monitors."""
        if self._layers is None:
            self._layers = LayerIndex(s.model)
        return self._layers

    def report(self, s: Any, finding: Finding) -> None:
        """A monitor's own finding: kept for the rest of the run (the first onset; later ones are counted)."""
        if not self.active:
            return
        kept = self.monitor_findings.get(finding.issue)
        if kept is None:
            self.monitor_findings[finding.issue] = finding
        else:
            kept.evidence["occurrences"] = kept.evidence.get("occurrences", 1) + 1
            kept.evidence["last_step"] = finding.began_at
        self.check(s)

    def event_row(self, s: Any, values: dict[str, float], *, step: int) -> None:
        """A step row for something the Recorder never logs (the step whose loss was NaN): metrics.jsonl and the
        in-memory history get it, so the offline diagnosis sees it too."""
        if not self.active:
            return
        row = {"kind": "step", "epoch": s.epoch, "step": step, **values, "time": round(s.elapsed(), 3)}
        self.add_row(row, "step")
        self._append(row)

    def record_action(self, s: Any, action: str, **details: Any) -> None:
        """An auto-remedy action: into diagnosis.json `actions`, metrics.jsonl (a row of kind "action"), the console."""
        if not self.active:
            return
        entry = {"action": action, "epoch": s.epoch, "step": s.step, **details, "time": round(s.elapsed(), 3)}
        self.actions.append(entry)
        self._append({"kind": "action", **entry})
        self.say(f"auto-remedy: {details.get('message', action)}", style="bold cyan")
        self.write()

    def finding(self, issue: str) -> Finding | None:
        """The latest finding on `issue`, if any."""
        return next((f for f in self.findings if f.issue == issue), None)

    def say(self, text: str, *, style: str = "") -> None:
        if not self.console:
            return
        from rich.console import Console
        from rich.markup import escape

        text = escape(text)  # findings quote layer names and values; none of it is markup
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[{style}]{text}[/]" if style else text)

    # --- history and diagnosis

    def add_row(self, row: dict[str, Any], axis: str) -> None:
        x = row.get("step" if axis == "step" else "epoch")
        if x is None:
            return
        for k, v in row.items():
            if k not in _POSITION and isinstance(v, (int, float)) and not isinstance(v, bool):
                self.points.setdefault((k, axis), {})[float(x)] = float(v)

    def history(self) -> Any:
        from ..diagnose.history import RunHistory

        out = self._out_dir or Path(".")
        h = RunHistory(source=str(out / RunDir.METRICS), meta=dict(self.meta), formats=["dlexpert-live"])
        for (name, axis), pts in self.points.items():
            xs = sorted(pts)
            h.add(name, axis, xs, [pts[x] for x in xs])  # type: ignore[arg-type]
        return h

    def check(self, s: Any, *, final: bool = False) -> None:
        """Run the rules (online ones while training, all of them at the end); print new findings; write the file."""
        if not self.active:
            return
        history = self.history()
        found: dict[str, Finding] = {}
        if self._diagnose is not None:
            try:
                found = {f.issue: f for f in self._diagnose(history, online=not final).findings}
            except Exception as e:  # a broken rule must not end the training run; it is reported instead
                self.warnings.append(f"online diagnosis failed and was switched off: {type(e).__name__}: {e}")
                warnings.warn(self.warnings[-1], stacklevel=2)
                self._diagnose = None
        found.update(self.monitor_findings)
        self.findings = sort_findings(list(found.values()))
        for f in self.findings:
            if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"] and f.issue not in self.printed:
                self.printed.add(f.issue)
                where = f" at {f.axis} {f.began_at:g}" if f.began_at is not None and f.axis else ""
                fix = f"\n    try: {f.solution[0]}" if f.solution else ""
                style = "bold red" if f.severity == "error" else "yellow"
                self.say(f"monitor: {f.severity} {f.issue}{where}: {f.diagnosis}{fix}", style=style)
        self.write(history)

    def diagnosis(self, history: Any = None) -> Diagnosis:
        history = history if history is not None else self.history()
        return Diagnosis(
            source=history.source,
            healthy=all(SEVERITY_RANK[f.severity] < SEVERITY_RANK["warning"] for f in self.findings),
            findings=self.findings,
            series=history.names,
            unknown_series=history.unknown,
            warnings=list(self.warnings),
            actions=list(self.actions),
        )

    def write(self, history: Any = None) -> None:
        if not self.active or self._out_dir is None:
            return
        text = self.diagnosis(history).model_dump_json(indent=2) + "\n"
        if text != self._written:  # most checks change nothing: skip the fsync
            atomic_write_text(self._out_dir / RunDir.DIAGNOSIS, text)
            self._written = text

    # --- files

    def _append(self, row: dict[str, Any]) -> None:
        if self._out_dir is None:
            return
        if self._file is None:  # appends after the Recorder's rows; both flush every row, so lines never interleave
            self._file = (self._out_dir / RunDir.METRICS).open("a", encoding="utf-8")
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def _load_previous(self) -> None:
        """A resumed run: the rows logged so far (the Recorder already dropped those after the checkpoint) and the
        actions taken so far."""
        assert self._out_dir is not None
        run = RunDir(self._out_dir)
        for row in run.metric_rows():
            if row.get("kind") in ("step", "epoch"):
                self.add_row(row, row["kind"])
        if run.has(RunDir.DIAGNOSIS):
            with contextlib.suppress(InvalidInputError):  # unreadable: start a new list of actions
                self.actions = list(run.diagnosis().actions)
