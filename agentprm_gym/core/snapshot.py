"""Opaque, picklable environment snapshots for ``get_state``/``set_state``.

A snapshot holds the environment's *mutable* state (copied, or shared with the
env, which copies it before changing it) and refers to its immutable task data
by identity (shared, never copied), in the manner of TextWorld's ``copy``. The
base fields every env shares live here; each family puts its own state in
``payload``.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["EnvSnapshot", "SnapshotError"]


#: Fields :meth:`EnvSnapshot.identity` replaces by one (keyed, payload or key) pair.
_PAYLOAD_FIELDS = frozenset({"payload", "payload_key"})


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
        payload: The family-specific mutable state (the env never mutates it
            after the snapshot is taken; it copies what it needs before changing it).
        payload_key: A smaller stand-in for ``payload`` when snapshots are
            compared (:meth:`identity`): equal keys mean equal payloads. None:
            the payload itself is compared.
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
    payload_key: Any = None

    def identity(self) -> bytes:
        """Bytes that are equal only for snapshots of the same state.

        The pickled fields, with ``payload_key`` in place of the payload when
        the env gave one. Without a key, equal states can still give different
        bytes (pickle records how the payload's objects are shared). Raises
        what ``pickle`` raises for an unpicklable payload.
        """
        keyed = self.payload_key is not None
        payload = (keyed, self.payload_key if keyed else self.payload)
        rest = [getattr(self, f.name) for f in fields(self) if f.name not in _PAYLOAD_FIELDS]
        return pickle.dumps((*rest, payload), protocol=pickle.HIGHEST_PROTOCOL)
