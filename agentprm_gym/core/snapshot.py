"""Opaque, picklable environment snapshots for ``get_state``/``set_state``.

A snapshot holds the environment's *mutable* state (copied) and refers to its
immutable task data by identity (shared, never copied), in the manner of
TextWorld's ``copy``. The base fields every env shares live here; each family
puts its own state in ``payload``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EnvSnapshot", "SnapshotError"]


class SnapshotError(ValueError):
    """Raised when a snapshot does not belong to the environment it is restored into."""


@dataclass(frozen=True)
class EnvSnapshot:
    """The state of a :class:`~agentprm_gym.core.base_env.TextAgentEnv` at one moment.

    Attributes:
        env_class: Qualified class name of the env that took it.
        data_key: Identifies the env's immutable data (catalog, world set...);
            restoring into an env with other data is refused.
        split: Task split of the episode.
        task_id: Task index within the split.
        steps: Steps taken since reset.
        done: Whether the episode had terminated.
        observation: The last observation returned.
        view: The last observation that was not an invalid-action message (None:
            the same as ``observation``).
        rng_state: State of the env's ``np_random`` bit generator.
        payload: The family-specific mutable state (already a private copy).
    """

    env_class: str
    data_key: str
    split: str
    task_id: int
    steps: int
    done: bool
    observation: str
    rng_state: dict[str, Any] | None
    payload: Any
    view: str | None = None
