"""PRM quality metrics: step ranking accuracy, MSE against MC estimates, outcome AUC.

- :func:`ranking_accuracy`: at held-out steps with a recorded ``expert_action``
  and at least two admissible actions, the PRM scores the expert action and one
  other admissible action drawn with a seeded RNG; a win counts 1, a tie 0.5.
  :func:`ranking_choices` lists those pairs and :func:`ranking_wins` scores them.
- :func:`mse_vs_mc`: mean squared error of ``Q(s_t, a_t)`` (the action taken)
  against the MC success estimate ``meta["mc_soft"][t]``; None without MC labels.
- :func:`ranking_by_action`: the same pairs' wins grouped by the kind of the expert's
  action (:func:`action_kind`: ``click[next >]``, ``click[<id>]``, ``search[…]``).
- :func:`auc`: ROC AUC by the rank (Mann-Whitney) formula, ties averaged;
  :func:`outcome_auc` applies it to the last step's Q against episode success.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from agentprm_gym.prm.base import PRM, ScoreItem
from agentprm_gym.prm.steps import EpisodeSteps

__all__ = [
    "RankingChoice",
    "auc",
    "pair_wins",
    "ranking_accuracy",
    "ranking_choices",
    "ranking_wins",
    "mse_vs_mc",
    "outcome_auc",
    "evaluate_prm",
    "action_kind",
    "common_arguments",
    "ranking_by_action",
]

_ACTION = re.compile(r"^\s*([^\[\]]+?)\s*\[(.*)\]\s*$", re.S)


def action_kind(action: str, common: set[str]) -> str:
    """A coarse group for an action: ids and rare arguments are folded.

    ``click[b0abc12345]`` → ``click[<id>]`` (an argument without spaces that
    holds a digit), an argument in ``common`` is kept (``click[next >]``), any
    other becomes ``verb[…]``; text without brackets is kept whole.
    """
    m = _ACTION.match(action)
    if not m:
        return action.strip().lower()
    verb, arg = m.group(1).strip().lower(), m.group(2).strip().lower()
    if arg and " " not in arg and any(c.isdigit() for c in arg):
        return f"{verb}[<id>]"
    return f"{verb}[{arg}]" if arg in common else f"{verb}[…]"


def common_arguments(actions: Sequence[str]) -> set[str]:
    """Arguments frequent enough to be their own group: ≥ 20 and ≥ 2 % of ``actions``."""
    args = Counter(m.group(2).strip().lower() for a in actions if (m := _ACTION.match(a)))
    return {a for a, n in args.items() if n >= max(20, 0.02 * len(actions))}


def auc(scores: ArrayLike, labels: ArrayLike) -> float | None:
    """ROC AUC of ``scores`` for binary ``labels`` by the rank formula.

    ``AUC = (R_pos − n_pos(n_pos+1)/2) / (n_pos·n_neg)`` where ``R_pos`` is the
    sum of the (tie-averaged, 1-based) ranks of the positives.

    Returns:
        The AUC, or None when the labels hold a single class (AUC undefined).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in length ({s.size} vs {y.size})")
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < s.size:
        j = i
        while j + 1 < s.size and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    r_pos = ranks[y].sum()
    return float((r_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


class RankingChoice(NamedTuple):
    """One ranked pair: the expert action and the other action drawn at a step.

    Attributes:
        episode: Index of the episode in the evaluated list.
        step: Step index in that episode.
        expert: The recorded expert action.
        other: The other admissible action drawn for the comparison.
    """

    episode: int
    step: int
    expert: str
    other: str


def ranking_choices(
    episodes: Sequence[EpisodeSteps], seed: int = 0, max_steps: int | None = None
) -> list[RankingChoice]:
    """The pairs :func:`ranking_accuracy` compares, drawn with the same seeded RNG.

    Args:
        episodes: Held-out episodes; steps without an ``expert_action`` or with
            fewer than two admissible actions are skipped.
        seed: Seeds the choice of the other action (and of the subsample).
        max_steps: Keep at most this many pairs (a seeded subsample, in order).
    """
    rng = np.random.default_rng(seed)
    out: list[RankingChoice] = []
    for e, ep in enumerate(episodes):
        for t, step in enumerate(ep.trajectory.steps):
            exp = step.expert_action
            others = [a for a in dict.fromkeys(step.admissible_actions) if a != exp]
            if exp is None or not others or len(step.admissible_actions) < 2:
                continue
            out.append(RankingChoice(e, t, exp, others[int(rng.integers(len(others)))]))
    if max_steps is not None and len(out) > max_steps:
        keep = np.sort(rng.choice(len(out), size=max_steps, replace=False))
        out = [out[i] for i in keep]
    return out


def pair_wins(first: ArrayLike, second: ArrayLike) -> NDArray[np.float64]:
    """Per pair, 1 where ``first`` is higher, 0.5 on a tie, 0 where it is lower."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    return (a > b).astype(np.float64) + 0.5 * (a == b)


def ranking_wins(
    prm: PRM, episodes: Sequence[EpisodeSteps], choices: Sequence[RankingChoice]
) -> NDArray[np.float64]:
    """The PRM's :func:`pair_wins` of the expert over the other action, per choice."""
    if not choices:
        return np.zeros(0)
    good = [episodes[c.episode].items[c.step]._replace(action=c.expert) for c in choices]
    bad = [episodes[c.episode].items[c.step]._replace(action=c.other) for c in choices]
    q = prm.score(good + bad)
    return pair_wins(q[: len(good)], q[len(good) :])


def ranking_accuracy(
    prm: PRM, episodes: Sequence[EpisodeSteps], seed: int = 0, max_steps: int | None = None
) -> tuple[float | None, int]:
    """How often the PRM ranks the expert action above a random other admissible one.

    Args:
        prm: The PRM to evaluate.
        episodes: Held-out episodes (steps need ``expert_action`` and ≥ 2
            admissible actions; others are skipped).
        seed: Seeds the choice of the other action (and of the subsample).
        max_steps: Evaluate at most this many steps (a seeded subsample).

    Returns:
        ``(accuracy, steps_ranked)``; accuracy is None when no step qualifies.
    """
    choices = ranking_choices(episodes, seed, max_steps)
    if not choices:
        return None, 0
    return float(ranking_wins(prm, episodes, choices).mean()), len(choices)


def ranking_by_action(
    prm: PRM, episodes: Sequence[EpisodeSteps], seed: int = 0, max_steps: int | None = None
) -> dict[str, dict[str, float]]:
    """:func:`ranking_accuracy` split by the kind of the expert's action.

    Returns:
        ``{kind: {"pairs": n, "accuracy": a}}``, most pairs first.
    """
    choices = ranking_choices(episodes, seed, max_steps)
    if not choices:
        return {}
    wins = ranking_wins(prm, episodes, choices)
    common = common_arguments([c.expert for c in choices])
    groups: dict[str, list[float]] = {}
    for c, w in zip(choices, wins, strict=True):
        groups.setdefault(action_kind(c.expert, common), []).append(float(w))
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return {k: {"pairs": len(v), "accuracy": float(np.mean(v))} for k, v in ordered}


def mse_vs_mc(prm: PRM, episodes: Sequence[EpisodeSteps]) -> tuple[float | None, int]:
    """MSE of Q of the actions taken against MC soft labels (``meta["mc_soft"]``).

    Returns:
        ``(mse, steps)``; mse is None when no episode has MC labels.
    """
    items: list[ScoreItem] = []
    target: list[float] = []
    for ep in episodes:
        if ep.mc_soft is None:
            continue
        items.extend(ep.items)
        target.extend(ep.mc_soft.tolist())
    if not items:
        return None, 0
    q = prm.score(items)
    return float(np.mean((q - np.asarray(target)) ** 2)), len(items)


def outcome_auc(prm: PRM, episodes: Sequence[EpisodeSteps]) -> float | None:
    """AUC of the last step's Q against episode success (None if single-class)."""
    if not episodes:
        return None
    q = prm.score([ep.items[-1] for ep in episodes])
    return auc(q, [ep.won for ep in episodes])


def evaluate_prm(
    prm: PRM, episodes: Sequence[EpisodeSteps], seed: int = 0, max_rank_steps: int | None = None
) -> dict[str, Any]:
    """All three metrics plus counts, as one JSON-ready dict."""
    acc, ranked = ranking_accuracy(prm, episodes, seed=seed, max_steps=max_rank_steps)
    mse, mc_steps = mse_vs_mc(prm, episodes)
    return {
        "ranking_accuracy": acc,
        "ranked_steps": ranked,
        "mse_vs_mc": mse,
        "mc_steps": mc_steps,
        "auc": outcome_auc(prm, episodes),
        "steps": int(sum(len(e) for e in episodes)),
        "episodes": len(episodes),
    }
