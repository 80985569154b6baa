"""The PRM protocol: score ``(instruction, history, action)`` items with Q in [0, 1].

An item is what the agent saw and what it did: the task instruction, the
history (past ``(observation, action)`` turns followed by the current
observation) and the candidate action. A PRM returns ``Q(s_t, a_t)``, the
*promise* of the step: its estimate of the probability that the episode
succeeds after taking the action. The *progress* of a step is
``Q(s_t, a_t) − Q(s_{t−1}, a_{t−1})``; before the first step we take
``Q = 0`` (so the first step's progress equals its promise).

Non-learned PRMs that need the env (the oracle) read the optional fields of
:class:`ScoreItem`: the snapshot after the action and whether it ended the
episode. Code that builds items from a live env (search, wrappers) fills them
when ``prm.requires_state`` is True.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from agentprm_gym.core.copying import deepcopy_keeping_env

__all__ = ["ScoreItem", "PRM", "PRMStats", "as_item", "progress", "build_history"]


class ScoreItem(NamedTuple):
    """One step to score.

    Attributes:
        instruction: The task text.
        history: Past ``(observation, action)`` pairs, then the current observation (str).
        action: The candidate action.
        next_state: Env snapshot after taking the action (only for PRMs with
            ``requires_state``).
        done: Whether the action ended the episode.
        reward: Env reward of the action.
        won: Whether the action won the episode.
    """

    instruction: str
    history: tuple[Any, ...]
    action: str
    next_state: Any = None
    done: bool = False
    reward: float = 0.0
    won: bool = False


def as_item(x: Any) -> ScoreItem:
    """Accept a :class:`ScoreItem` or a plain ``(instruction, history, action)`` tuple."""
    if isinstance(x, ScoreItem):
        return x
    if isinstance(x, tuple | list) and len(x) == 3:
        instruction, history, action = x
        return ScoreItem(str(instruction), tuple(history), str(action))
    raise TypeError(
        "a PRM item is (instruction, history, action) with history = past "
        f"(observation, action) pairs plus the current observation; got {type(x).__name__}"
    )


def build_history(observations: Sequence[str], actions: Sequence[str]) -> tuple[Any, ...]:
    """History for step t from observations ``o_0..o_t`` and actions ``a_0..a_{t-1}``."""
    if len(observations) != len(actions) + 1:
        raise ValueError(
            f"need one more observation than actions ({len(observations)} vs {len(actions)})"
        )
    return tuple(zip(observations[:-1], actions, strict=True)) + (observations[-1],)


def progress(promise: ArrayLike, q_before: float = 0.0) -> NDArray[np.float64]:
    """Progress ``Q_t − Q_{t−1}`` along a trajectory, with ``Q_{−1} = q_before`` (default 0)."""
    q = np.asarray(promise, dtype=np.float64)
    if q.ndim != 1:
        raise ValueError(f"promise must be 1-D, got shape {q.shape}")
    return np.diff(q, prepend=float(q_before))


@dataclass
class PRMStats:
    """What a PRM has been asked: calls and items scored (cache hits included)."""

    calls: int = 0
    items_scored: int = 0
    cache_hits: int = 0


class PRM:
    """Base class of process reward models.

    Subclasses implement :meth:`_score`. ``score`` counts the work in
    ``self.stats`` (used by search ledgers).
    """

    #: Short name used in tables.
    name: str = "prm"
    #: True if items need ``next_state``/``done``/``reward`` (env-backed PRMs).
    requires_state: bool = False

    def __init__(self) -> None:
        self.stats = PRMStats()

    def score(self, items: Sequence[Any]) -> NDArray[np.float64]:
        """Q in [0, 1] for each item."""
        its = [as_item(x) for x in items]
        self.stats.calls += 1
        self.stats.items_scored += len(its)
        if not its:
            return np.zeros(0)
        q = np.asarray(self._score(its), dtype=np.float64)
        if q.shape != (len(its),):
            raise RuntimeError(f"{type(self).__name__} returned shape {q.shape} for {len(its)}")
        return np.clip(q, 0.0, 1.0)

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        raise NotImplementedError

    def score_candidates(self, state: Any, actions: Sequence[str]) -> NDArray[np.float64]:
        """Q of every candidate action of one state.

        This default scores ``(instruction, history, action)`` for each action with
        :meth:`score` (one call, the same numbers). PRMs that can encode a state once
        and score all its candidates from that encoding override it; search uses it
        for learned PRMs (state-backed PRMs need a snapshot per candidate, so search
        gives them full items through :meth:`score`).

        Args:
            state: ``(instruction, history)``, or a :class:`ScoreItem` (its action is ignored).
            actions: The candidate actions.
        """
        instruction, history = (
            (state.instruction, state.history) if isinstance(state, ScoreItem) else state[:2]
        )
        return self.score([ScoreItem(str(instruction), tuple(history), str(a)) for a in actions])

    def progress(self, items: Sequence[Any], q_before: float = 0.0) -> NDArray[np.float64]:
        """Progress ``Q_t − Q_{t−1}`` along one trajectory's items (``Q_{−1} = q_before``)."""
        return progress(self.score(items), q_before)

    def bind(self, env: Any) -> PRM:
        """Give an env-backed PRM its env (no-op for learned PRMs); returns self."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PRM:
        """An independent copy that stays bound to the same env (an env is not copied).

        The env a PRM is bound to is a reference to something it does not
        own (and a live env cannot be deep-copied); every other attribute is
        deep-copied. Gymnasium deep-copies env specs, which hold wrapper arguments.
        """
        return deepcopy_keeping_env(self, memo)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
