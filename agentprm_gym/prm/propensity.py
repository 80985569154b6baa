"""Behaviour-policy propensities: undoing what a privileged data policy knew.

A PRM learns ``E[return | what it reads, action]`` from the data policy's rollouts.
When the data policy chooses its action from the same text (an LLM agent), that
is ``Q^π`` of the text the PRM reads. When it chooses from more than the text
(the privileged expert of ``noisy:EPS``, which knows the goal product), the
choice of an action says something about the hidden state, and the fit is
*confounded*: a result click on a results page is worth, in the data, mostly
what it is worth where the expert clicked it (on the goal), and ``back to
search`` what it is worth where the expert left (a wrong page). Within one page
the PRM then ranks every click above leaving, whether the page is right or not.

Weighting each step by the inverse of the probability the data policy gave its
action, ``w_t = 1 / π(a_t | s_t)``, removes that: among the states the PRM cannot
tell apart, every action is then fitted as if it had been chosen without
looking (the weighted fit of ``(o, a)`` averages the return over the hidden
states of ``o`` as they occur, not as they occur given that ``a`` was picked).
For a policy that reads only the text the weights are constant for a given
text and action, so an exact per-(text, action) fit would not move; a shared
network still leans towards the rarely taken, heavily weighted actions.

The propensity is known for the policies whose choice rule is: ``expert`` (1 for
its action), ``random`` (``1/|A|`` per copy of the action in the admissible
list) and ``noisy:EPS`` (``(1 − EPS)·[a = expert] + EPS·copies/|A|``). It needs the
step's recorded ``admissible_actions`` and, for the last two, ``expert_action``;
for any other policy (an LM, a server), and for the records of a PRM-guided
search (``meta["search"]`` other than ``policy``: the PRM chose the action, not
the policy), it is unknown and the steps keep weight 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from agentprm_gym.core.trajectory import Trajectory

__all__ = ["WEIGHTINGS", "action_propensity", "known_share", "trajectory_weights"]

#: How training may weight its steps: ``none``, or ``propensity`` (``1 / π(a_t | s_t)``).
WEIGHTINGS = ("none", "propensity")


def _norm(action: str) -> str:
    """Case and spacing folded, also next to brackets (``Click[ A ]`` is ``click[a]``)."""
    return re.sub(r"\s*([\[\]])\s*", r"\1", " ".join(action.lower().split()))


def action_propensity(
    policy: str, action: str, admissible: Sequence[str], expert: str | None
) -> float | None:
    """The probability the data policy ``policy`` gave ``action`` at one step.

    Args:
        policy: The trajectory's policy name (``expert``, ``random``, ``noisy:EPS``, ...).
        action: The action taken.
        admissible: The step's admissible actions (the random choice is uniform
            over this list, so an action listed twice is twice as likely).
        expert: The step's recorded expert action (None when none was recorded).

    Returns:
        The probability, or None when the policy's choice rule is not known
        here or the step lacks what it needs (no admissible actions for a random
        choice, no expert action for the expert's).
    """
    kind, _, arg = policy.strip().lower().partition(":")
    if kind == "noisy":
        try:
            eps = float(arg)
        except ValueError:
            return None
        if not (math.isfinite(eps) and 0.0 <= eps <= 1.0):
            return None
    elif kind == "random" and not arg:
        eps = 1.0
    elif kind == "expert" and not arg:
        eps = 0.0
    else:
        return None
    a = _norm(action)
    p = 0.0
    if eps < 1.0:
        if expert is None:
            return None
        p += (1.0 - eps) * float(_norm(expert) == a)
    if eps > 0.0:
        if not admissible:
            return None
        p += eps * sum(_norm(x) == a for x in admissible) / len(admissible)
    return p


def _propensities(traj: Trajectory) -> list[float | None]:
    if traj.meta.get("search", "policy") != "policy":  # a PRM chose these actions
        return [None] * len(traj.steps)
    return [
        action_propensity(traj.policy, s.action, s.admissible_actions or (), s.expert_action)
        for s in traj.steps
    ]


def trajectory_weights(traj: Trajectory, max_weight: float | None = None) -> NDArray[np.float64]:
    """Inverse-propensity weights ``1 / π(a_t | s_t)`` of every step of ``traj``.

    Steps whose propensity is unknown, or 0 (the recorded action is neither the
    expert's nor admissible: the record contradicts the policy), get weight 1;
    so does every step of a policy whose choice rule is unknown, and of a
    PRM-guided search's record.

    Args:
        traj: The trajectory (its ``policy`` names the data policy).
        max_weight: Clip the weights at this value (None: no clipping).

    Returns:
        One weight per step, in order.
    """
    w = np.ones(len(traj.steps), dtype=np.float64)
    for t, p in enumerate(_propensities(traj)):
        if p is not None and p > 0.0:
            w[t] = 1.0 / p
    if max_weight is not None:
        np.minimum(w, float(max_weight), out=w)
    return w


def known_share(trajectories: Iterable[Trajectory]) -> float:
    """The share of all steps whose propensity is known and positive (0 for no steps)."""
    known = total = 0
    for tr in trajectories:
        ps = _propensities(tr)
        known += sum(p is not None and p > 0.0 for p in ps)
        total += len(ps)
    return known / total if total else 0.0
