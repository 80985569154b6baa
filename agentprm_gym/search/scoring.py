"""How search asks a PRM for the values of new steps.

A search pauses whenever it has new steps to value and hands over a
:class:`ScoreRequest`. Beam search asks, at every depth, for the distinct
candidate actions of each expanded state: a PRM that scores a state's
candidates from one encoding of the state (its own ``score_candidates``) is
called once per state with that state's distinct candidates. Any other PRM,
every state-backed PRM (the oracle needs each candidate's snapshot, which only
full items carry) and Best-of-N's episode ends get all the request's items in
one batched ``score`` call. Both give the same numbers; only the grouping
differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentprm_gym.prm.base import PRM, ScoreItem, build_history
from agentprm_gym.search.common import Branch

__all__ = ["ScoreRequest", "answer", "set_scores", "uses_candidate_scoring"]


@dataclass
class ScoreRequest:
    """New steps a paused search needs the PRM's values (``q``) of.

    Attributes:
        instruction: The task instruction.
        groups: ``(parent, children)`` pairs. With ``per_state``, each child is one
            step past its parent and the children are distinct; else the children
            are whole episodes (Best-of-N's) and only their last steps are valued.
        per_state: Whether a PRM with its own ``score_candidates`` gets one call per
            parent (beam search) rather than full items.
    """

    instruction: str
    groups: list[tuple[Branch, list[Branch]]]
    per_state: bool = True

    @property
    def children(self) -> list[Branch]:
        """Every branch to value, in order."""
        return [k for _, kids in self.groups for k in kids]

    def items(self) -> list[ScoreItem]:
        """The PRM item of every child's last step, in order."""
        return [k.last_item(self.instruction) for k in self.children]


def uses_candidate_scoring(prm: Any) -> bool:
    """Whether search calls ``prm.score_candidates`` (its own, not the base class's default)."""
    if getattr(prm, "requires_state", False):
        return False
    own = getattr(type(prm), "score_candidates", None)
    return callable(own) and own is not PRM.score_candidates


def answer(prm: Any, request: ScoreRequest) -> None:
    """Set ``q`` of every child of ``request``, per state or with one ``score`` call.

    A ``per_state`` request to a PRM with its own ``score_candidates`` gets one call
    per parent; everything else, one ``score`` call for all the children.
    """
    if request.per_state and uses_candidate_scoring(prm):
        for parent, kids in request.groups:
            if kids:
                history = build_history(parent.observations, parent.actions)
                actions = [k.steps[-1].action for k in kids]
                state = (request.instruction, history)
                set_scores(prm, kids, prm.score_candidates(state, actions))
        return
    kids = request.children
    if kids:
        set_scores(prm, kids, prm.score(request.items()))


def set_scores(prm: Any, kids: Sequence[Branch], q: Any) -> None:
    """Set ``kids[i].q = q[i]``, after checking that the PRM gave one number per child."""
    qs = np.asarray(q, dtype=float)
    if qs.shape != (len(kids),):
        name = type(prm).__name__
        raise RuntimeError(f"{name} returned shape {qs.shape} for {len(kids)} candidates")
    for k, v in zip(kids, qs):
        k.q = float(v)
