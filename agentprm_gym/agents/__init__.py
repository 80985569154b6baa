"""Policies: random, expert, noisy expert, local HF language models, OpenAI-compatible servers.

All implement ``propose(observation, info, n) -> list[str]``.
"""

from __future__ import annotations

from typing import Any

from agentprm_gym.agents.base import Policy, PolicyStats
from agentprm_gym.agents.expert import ExpertPolicy, NoisyExpertPolicy
from agentprm_gym.agents.random_policy import RandomPolicy
from agentprm_gym.agents.spec import make_policy

__all__ = [
    "ExpertPolicy",
    "HFPolicy",
    "NoisyExpertPolicy",
    "OpenAIPolicy",
    "Policy",
    "PolicyStats",
    "RandomPolicy",
    "make_policy",
]


def __getattr__(name: str) -> Any:
    # The LM policies import torch/transformers/openai; load them only on use.
    if name == "HFPolicy":
        from agentprm_gym.agents.hf_policy import HFPolicy

        return HFPolicy
    if name == "OpenAIPolicy":
        from agentprm_gym.agents.openai_policy import OpenAIPolicy

        return OpenAIPolicy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
