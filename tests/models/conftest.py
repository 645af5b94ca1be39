"""Model tests run on one CPU thread with no network (HF_HUB_OFFLINE is set by tests/conftest.py)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
