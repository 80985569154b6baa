"""Process reward models: labels, the AgentPRM model, training, scoring and baselines.

Heavy parts (torch, transformers) load only when :class:`AgentPRM` is used.
"""

from __future__ import annotations

from typing import Any

from agentprm_gym.prm.base import PRM, PRMStats, ScoreItem, as_item, build_history, progress
from agentprm_gym.prm.oracle import OraclePRM, RandomPRM

__all__ = [
    "PRM",
    "AgentPRM",
    "OraclePRM",
    "PRMStats",
    "RandomPRM",
    "ScoreItem",
    "as_item",
    "build_history",
    "load_prm",
    "progress",
]


def __getattr__(name: str) -> Any:
    if name == "AgentPRM":
        from agentprm_gym.prm.model import AgentPRM

        return AgentPRM
    if name == "load_prm":
        from agentprm_gym.prm.loading import load_prm

        return load_prm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
