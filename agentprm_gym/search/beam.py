"""Step-level beam search guided by a PRM (AgentPRM, Algorithm 2).

The beam holds ``beam`` entries. At every depth each unfinished entry is
expanded with ``expand`` actions sampled from the policy, and **every sampled
copy is its own pool entry**: an action the policy proposed 7 times in 8 has 7
entries, so the beam keeps the policy's distribution wherever the PRM does not
tell the candidates apart. Copies cost nothing extra: identical (state, action)
pairs are stepped once and scored once, and entries that sit on the same
state (copies kept together) are expanded by one policy call for all their
samples. Children that reach an identical env state (same snapshot, compared
by :meth:`~agentprm_gym.core.snapshot.EnvSnapshot.identity`, or by its pickled
bytes for other envs' states) are merged into the higher-scored one, which
takes over the other's copies.

Every new step is scored by the PRM, ``Q(s_t, a_t)`` (per state with the PRM's
``score_candidates`` when it has its own, see :mod:`.scoring`). The pool is the
finished entries kept so far (which are not expanded) plus the new entries,
and the ``beam`` entries with the highest rank survive::

    rank = Q(s_t, a_t) + prior · log π(a_t | s_t)

``prior = 0`` (the default) is the paper's Algorithm 2. With ``prior > 0`` the
policy's own preference counts too: ``log π`` is the LM's log-probability of
the sampled completion (HF and OpenAI-compatible policies), or ``count/n``
among the samples drawn from that state for other policies. Exact ties are
broken at random by a draw per entry from a generator seeded with the
search's seed (:func:`~agentprm_gym.search.sampling.tie_break_rng`), so under
a constant PRM the kept entries are a uniform sample of the copies, and the
same seed gives the same search. The search stops when every kept entry is
finished (terminated, or truncated at the step limit) and returns the
highest-ranked one.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from agentprm_gym.core.snapshot import EnvSnapshot
from agentprm_gym.search.common import (
    Branch,
    SearchResult,
    finish_trajectory,
    reset_options,
    seed_policy,
    start_trajectory,
    step_branch,
)
from agentprm_gym.search.driver import SearchSteps, run_alone
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.sampling import sample_with_logprobs, tie_break_rng
from agentprm_gym.search.scoring import ScoreRequest

__all__ = ["beam_search", "beam_steps", "check_beam_args"]


@dataclass
class _Entry:
    """One pool entry: a sampled copy of a step, its node, ``log π`` and its tie-break draw."""

    node: Branch
    logp: float
    tie: float

    def rank(self, prior: float) -> float:
        q = float(self.node.q) if self.node.q is not None else 0.0
        return q + prior * self.logp if prior else q


def _state_key(state: Any) -> bytes | None:
    try:
        if isinstance(state, EnvSnapshot):
            return state.identity()  # its own key, cheaper than pickling the payload
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an unpicklable state is simply never merged
        return None


def check_beam_args(beam: int, expand: int, prior: float) -> float:
    """Validate beam search's sizes and prior; returns the prior as a float."""
    if beam < 1 or expand < 1:
        raise ValueError(f"beam and expand must be >= 1, got {beam} and {expand}")
    prior = float(prior)
    if not math.isfinite(prior) or prior < 0:
        raise ValueError(f"prior must be a finite number >= 0, got {prior}")
    return prior


def beam_search(
    env: gym.Env,
    policy: Any,
    prm: Any,
    beam: int = 4,
    expand: int = 4,
    *,
    prior: float = 0.0,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
) -> SearchResult:
    """Run PRM-guided beam search over one episode.

    Args:
        env: The env (needs ``get_state``/``set_state``).
        policy: Anything with ``propose(observation, info, n)``.
        prm: A PRM (``score(items)``; ``score_candidates`` is used when it has its own).
        beam: Entries kept per depth (N).
        expand: Actions sampled per kept entry (M).
        prior: Weight α of ``log π(a|s)`` in the rank ``Q + α·log π`` (0: PRM only).
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play (default: chosen by the seed).
        split: Task split (default: the env's).
        max_steps: Step limit (default: ``env.spec.max_episode_steps``).
        policy_seed: Reseeds the policy (default: ``seed``; None and no seed: not
            reseeded). The tie-breaks are seeded with it too.

    Returns:
        The best finished entry as a trajectory, its reward, its PRM score and
        the compute ledger.
    """
    prior = check_beam_args(beam, expand, prior)
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    steps = beam_steps(
        handle, policy, beam, expand, prior, seed, task_id, split, limit, policy_seed
    )
    return run_alone(steps, handle, policy, prm)


def beam_steps(
    handle: EnvHandle,
    policy: Any,
    beam: int,
    expand: int,
    prior: float,
    seed: int | None,
    task_id: int | None,
    split: str | None,
    limit: int | None,
    policy_seed: int | None,
) -> SearchSteps:
    """Beam search over one episode, pausing at every depth for the PRM's scores.

    A generator: it yields a :class:`ScoreRequest` per depth (the new children,
    whose ``q`` the caller sets), and returns the chosen trajectory and its score.
    :func:`beam_search` answers each request at once;
    :func:`~agentprm_gym.search.lockstep.beam_search_lockstep` answers the
    requests of many tasks' searches in one PRM call. The arguments are those of
    :func:`beam_search`, checked, with ``limit`` the resolved step limit.
    """
    search_seed = seed if policy_seed is None else policy_seed
    seed_policy(policy, search_seed)
    ties = tie_break_rng(search_seed)
    obs, info = handle.reset(seed, reset_options(task_id, split))
    instruction = str(info.get("instruction", ""))
    root = Branch([obs], info, state=handle.get_state())
    kept = [_Entry(root, 0.0, 0.0)]
    while any(not e.node.done for e in kept):
        new, groups = _expand(handle, policy, kept, expand, prior > 0, limit, ties)
        yield ScoreRequest(instruction, groups)
        _merge_same_states(new, [k for _, kids in groups for k in kids])
        pool = [e for e in kept if e.node.done] + new
        pool.sort(key=lambda e: (-e.rank(prior), -e.tie))
        kept = pool[:beam]
    chosen = kept[0].node
    traj = finish_trajectory(
        start_trajectory(handle.env, policy, info, seed, f"beam{beam}x{expand}"), chosen
    )
    traj.meta["prm_score"] = float(chosen.q)
    if prior:
        traj.meta["prior"] = prior
    return traj, float(chosen.q)


def _expand(
    handle: EnvHandle,
    policy: Any,
    kept: list[_Entry],
    expand: int,
    want_logp: bool,
    limit: int | None,
    ties: Any,
) -> tuple[list[_Entry], list[tuple[Branch, list[Branch]]]]:
    """Sample ``expand`` actions per unfinished entry; step each distinct (state, action) once.

    Entries on the same node are expanded together: one policy call for all
    their samples. Returns the new entries (one per sampled copy, in sampling
    order) and, per expanded node, its distinct children.
    """
    copies: dict[int, tuple[Branch, int]] = {}
    for e in kept:
        if not e.node.done:
            node, k = copies.get(id(e.node), (e.node, 0))
            copies[id(e.node)] = (node, k + 1)
    new: list[_Entry] = []
    groups: list[tuple[Branch, list[Branch]]] = []
    for parent, k in copies.values():
        handle.set_state(parent.state)  # privileged policies read the env
        n = k * expand
        if want_logp:
            actions, logps = sample_with_logprobs(policy, parent.obs, parent.policy_info(), n)
        else:
            actions = list(policy.propose(parent.obs, parent.policy_info(), n))
            logps = [0.0] * len(actions)
        children: dict[str, Branch] = {}
        for action in dict.fromkeys(actions):
            if children:
                handle.set_state(parent.state)
            child = step_branch(handle, parent, action, limit)
            child.state = handle.get_state()
            children[action] = child
        groups.append((parent, list(children.values())))
        new.extend(_Entry(children[a], lp, float(ties.random())) for a, lp in zip(actions, logps))
    return new, groups


def _merge_same_states(entries: list[_Entry], children: list[Branch]) -> None:
    """Merge children that reach an identical env state into the highest-scored (then the first).

    The entries of a merged child are moved onto the child that stays.
    """
    keep: dict[bytes, Branch] = {}
    moved: dict[int, Branch] = {}
    for c in children:
        key = _state_key(c.state)
        if key is None:
            continue
        best = keep.get(key)
        if best is None:
            keep[key] = c
        elif float(c.q or 0.0) > float(best.q or 0.0):
            moved[id(best)] = c
            keep[key] = c
        else:
            moved[id(c)] = best
    if not moved:
        return
    for e in entries:
        node = e.node
        while id(node) in moved:
            node = moved[id(node)]
        e.node = node
