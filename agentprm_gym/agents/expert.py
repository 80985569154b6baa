"""The expert policy and its noisy version.

Both read the env's privileged ``expert_action()``; they must be bound to the
env they act in (:meth:`~agentprm_gym.agents.base.Policy.bind`), which search
and evaluation code does.
"""

from __future__ import annotations

from typing import Any

from agentprm_gym.agents.base import Policy, admissible_or_raise

__all__ = ["ExpertPolicy", "NoisyExpertPolicy"]


class ExpertPolicy(Policy):
    """Always proposes the env's expert action (privileged).

    Args:
        env: The env to read the expert from (or bind later).
        seed: Unused by the expert itself; kept for a uniform signature.
    """

    name = "expert"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        super().__init__(seed)
        if env is not None:
            self.bind(env)

    def _expert(self) -> str:
        if self.env is None:
            raise RuntimeError(
                f"{type(self).__name__} is not bound to an env; call policy.bind(env) first"
            )
        return self.env.get_wrapper_attr("expert_action")()

    def _propose(self, observation: str, info: dict[str, Any], n: int) -> list[str]:
        return [self._expert()] * n


class NoisyExpertPolicy(ExpertPolicy):
    """The expert action with probability 1 − ε, else a uniformly random admissible action.

    Args:
        epsilon: Probability of a random admissible action, in [0, 1].
        env: The env to read the expert from (or bind later).
        seed: Seed of the policy's RNG.
    """

    def __init__(self, epsilon: float, env: Any = None, seed: int | None = None) -> None:
        if not 0.0 <= float(epsilon) <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
        super().__init__(env, seed)
        self.epsilon = float(epsilon)
        self.name = f"noisy:{self.epsilon:g}"

    def _propose(self, observation: str, info: dict[str, Any], n: int) -> list[str]:
        acts = admissible_or_raise(info)
        expert: str | None = None
        out = []
        for _ in range(n):
            if self.rng.random() < self.epsilon:
                out.append(acts[int(self.rng.integers(0, len(acts)))])
            else:
                if expert is None:
                    expert = self._expert()
                out.append(expert)
        return out
