"""A policy that picks uniformly among the admissible actions."""

from __future__ import annotations

from typing import Any

from agentprm_gym.agents.base import Policy, admissible_or_raise

__all__ = ["RandomPolicy"]


class RandomPolicy(Policy):
    """Uniform over ``info["admissible_actions"]``.

    Args:
        seed: Seed of the policy's RNG.
    """

    name = "random"

    def _propose(self, observation: str, info: dict[str, Any], n: int) -> list[str]:
        acts = admissible_or_raise(info)
        idx = self.rng.integers(0, len(acts), size=n)
        return [acts[int(i)] for i in idx]
