"""How search asks a PRM for the values of new steps.

Beam search scores, at every depth, the distinct candidate actions of each
expanded state. A PRM that scores a state's candidates from one encoding of
the state (its own ``score_candidates``) is called once per state with that
state's distinct candidates. Any other PRM, and every state-backed PRM (the
oracle needs each candidate's snapshot, which only full items carry), gets all
the depth's items in one batched ``score`` call. Both give the same numbers;
only the grouping differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agentprm_gym.prm.base import PRM, build_history
from agentprm_gym.search.common import Branch

__all__ = ["score_children", "uses_candidate_scoring"]


def uses_candidate_scoring(prm: Any) -> bool:
    """Whether search calls ``prm.score_candidates`` (its own, not the base class's default)."""
    if getattr(prm, "requires_state", False):
        return False
    own = getattr(type(prm), "score_candidates", None)
    return callable(own) and own is not PRM.score_candidates


def score_children(
    prm: Any, instruction: str, groups: Sequence[tuple[Branch, Sequence[Branch]]]
) -> None:
    """Set ``q`` of every child: one ``score_candidates`` call per parent, or one ``score`` call.

    Args:
        prm: The PRM.
        instruction: The task instruction.
        groups: ``(parent, its distinct children)`` pairs; each child is one step past its parent.
    """
    if uses_candidate_scoring(prm):
        for parent, kids in groups:
            if not kids:
                continue
            history = build_history(parent.observations, parent.actions)
            actions = [k.steps[-1].action for k in kids]
            q = np.asarray(prm.score_candidates((instruction, history), actions), dtype=float)
            _check(prm, q, len(kids))
            for k, v in zip(kids, q):
                k.q = float(v)
        return
    kids = [k for _, ks in groups for k in ks]
    if not kids:
        return
    q = np.asarray(prm.score([k.last_item(instruction) for k in kids]), dtype=float)
    _check(prm, q, len(kids))
    for k, v in zip(kids, q):
        k.q = float(v)


def _check(prm: Any, q: np.ndarray, n: int) -> None:
    if q.shape != (n,):
        raise RuntimeError(f"{type(prm).__name__} returned shape {q.shape} for {n} candidates")
