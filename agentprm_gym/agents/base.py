"""The policy protocol every agent in agentprm-gym implements.

A policy proposes candidate actions: ``propose(observation, info, n)`` returns
``n`` sampled actions (with repeats where the policy is sure), drawn from the
policy's own seeded RNG. Policies that need privileged access to the env (the
expert) are bound to it with :meth:`Policy.bind`; search and evaluation code
binds every policy to the env it runs, so binding is a no-op for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from agentprm_gym.core.copying import deepcopy_keeping_env

__all__ = ["Policy", "PolicyStats", "admissible_or_raise"]


@dataclass
class PolicyStats:
    """Compute a policy has spent: calls, sampled actions and LM tokens."""

    calls: int = 0
    sampled_actions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def snapshot(self) -> PolicyStats:
        """A copy of the current counts."""
        return PolicyStats(
            self.calls, self.sampled_actions, self.prompt_tokens, self.completion_tokens
        )


class Policy:
    """Base class of policies.

    Args:
        seed: Seed of the policy's own RNG (``self.rng``).
    """

    #: Short name used in trajectory files and tables.
    name: str = "policy"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.stats = PolicyStats()
        self.env: gym.Env | None = None

    def seed(self, seed: int | None) -> None:
        """Reseed the policy's RNG."""
        self.rng = np.random.default_rng(seed)

    def bind(self, env: gym.Env) -> Policy:
        """Give the policy the env it acts in (for privileged policies); returns self."""
        self.env = env
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Policy:
        """An independent copy that stays bound to the same env (an env is not copied).

        The env a policy is bound to is a reference to something it does not
        own (and a live env cannot be deep-copied); every other attribute is
        deep-copied. Gymnasium deep-copies env specs, which hold wrapper arguments.
        """
        return deepcopy_keeping_env(self, memo)

    def propose(self, observation: str, info: dict[str, Any], n: int = 1) -> list[str]:
        """Return ``n`` sampled candidate actions for the current state."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.stats.calls += 1
        self.stats.sampled_actions += n
        return self._propose(observation, info, n)

    def _propose(self, observation: str, info: dict[str, Any], n: int) -> list[str]:
        raise NotImplementedError

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """One action (``propose(..., n=1)[0]``)."""
        return self.propose(observation, info, 1)[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def admissible_or_raise(info: dict[str, Any]) -> list[str]:
    """``info["admissible_actions"]``, or a clear error if the env gives none."""
    acts = info.get("admissible_actions")
    if not acts:
        raise ValueError(
            "this policy needs info['admissible_actions'] and the env gave none "
            "(is the episode over?)"
        )
    return list(acts)
