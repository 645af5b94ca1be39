"""dlexpert: a deep-learning engineer in a box. Plans are grounded in a knowledge base with sources.

The public API (the CLI calls exactly these):

    >>> from dlexpert import load_task, advise
    >>> plan = advise(load_task("examples/cifar10-resnet.yaml"))  # doctest: +SKIP

Importing dlexpert never imports torch; training, export and benchmarks live in the extras.
"""

from __future__ import annotations

from .advisor import advise
from .errors import DlexpertError, InvalidInputError, UnknownNameError
from .schema import Plan, TaskSpec, json_schema, load_task, parse_task

__version__ = "0.1.0"

__all__ = [
    "DlexpertError",
    "InvalidInputError",
    "Plan",
    "TaskSpec",
    "UnknownNameError",
    "__version__",
    "advise",
    "json_schema",
    "load_task",
    "parse_task",
]
