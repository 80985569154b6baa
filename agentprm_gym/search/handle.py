"""A counting handle on an env for search: steps, snapshots and the step limit.

Search explores many branches of one episode by restoring snapshots
(``get_state`` / ``set_state``) and stepping the *base* env
(``env.unwrapped``). It does not step through the wrapper stack because
Gymnasium wrappers with their own state (``TimeLimit``'s step counter,
``OrderEnforcing``) are not part of snapshots; the step limit is enforced by
the search itself instead, from ``env.spec.max_episode_steps`` (or an explicit
``max_steps``). Observation or reward wrappers the user added are therefore
bypassed during search; ``reset`` still goes through the full stack.

The handle also answers ``get_wrapper_attr`` so that a state-backed PRM (the
oracle) can be bound to it: its snapshot calls are then counted too.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

__all__ = ["EnvHandle", "resolve_max_steps"]


def resolve_max_steps(env: gym.Env, max_steps: int | None = None) -> int | None:
    """``max_steps`` if given, else the env's registered ``max_episode_steps`` (None: no limit)."""
    if max_steps is not None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        return int(max_steps)
    spec = getattr(env, "spec", None)
    limit = getattr(spec, "max_episode_steps", None)
    return int(limit) if limit is not None else None


class EnvHandle:
    """Steps and snapshots the base env of ``env``, counting both.

    Args:
        env: The (possibly wrapped) env; must offer ``get_state``/``set_state``.

    Attributes:
        env_steps: ``step`` calls made through the handle.
        snapshots: ``get_state`` plus ``set_state`` calls made through the handle.
    """

    def __init__(self, env: gym.Env) -> None:
        self.env = env
        self.base = env.unwrapped
        try:
            self._get = env.get_wrapper_attr("get_state")
            self._set = env.get_wrapper_attr("set_state")
        except AttributeError as e:
            raise TypeError(
                f"search needs an env with get_state()/set_state(); {env} has none"
            ) from e
        self.env_steps = 0
        self.snapshots = 0

    def reset(self, seed: int | None, options: dict[str, Any] | None) -> tuple[str, dict]:
        """Reset through the full wrapper stack (not counted as a step)."""
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Step the base env once."""
        self.env_steps += 1
        return self.base.step(action)

    def get_state(self) -> Any:
        """Snapshot the env (counted)."""
        self.snapshots += 1
        return self._get()

    def set_state(self, state: Any) -> None:
        """Restore a snapshot (counted)."""
        self.snapshots += 1
        self._set(state)

    def get_wrapper_attr(self, name: str) -> Any:
        """Counted ``get_state``/``set_state``; anything else from the env's stack."""
        if name == "get_state":
            return self.get_state
        if name == "set_state":
            return self.set_state
        return self.env.get_wrapper_attr(name)

    @property
    def unwrapped(self) -> gym.Env:
        """The base env."""
        return self.base
