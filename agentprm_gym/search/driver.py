"""Running searches that pause for the PRM: one on its own, or many in lockstep.

A search is written as a generator (:data:`SearchSteps`): it plays the policy
and the env until it has new steps to value, yields a
:class:`~agentprm_gym.search.scoring.ScoreRequest`, and goes on once the
caller has set their ``q``; it returns the chosen trajectory and its score.

:func:`run_alone` answers each request at once, which is the plain search.
:func:`run_lockstep` advances the searches of many tasks together and answers
the requests of one round (one beam depth of every unfinished search) with one
PRM call. A PRM that encodes each state once and batches many states per call
(the state PRM) then runs fewer, larger calls: on WebShop a beam search's call
holds about 6 candidates, and the frozen encoder meets the new pages of many
tasks in one batch.

Lockstep gives every search exactly what it would get alone, provided that

- the PRM values an item the same whatever else is in the call (true of every
  learned PRM in this package, up to float rounding); state-backed PRMs
  (``requires_state``: the oracle reads each candidate's snapshot through the
  env it is bound to) are not batched across tasks, and
- the policy's randomness lives in ``policy.rng`` (every
  :class:`~agentprm_gym.agents.base.Policy`): each search keeps its own
  generator, put back into the policy whenever that search runs, and the policy
  is bound to the search's env. A policy that can be seeded but has no ``rng``
  keeps its randomness where lockstep cannot reach it.

Otherwise the searches run one after another, with the same results. The
searches may share one env: each restores its own snapshot before every step,
and the env contract makes a restored snapshot replay exactly.

Compute is accounted per search: its own policy work, env steps and snapshots
exactly; a PRM call shared by several searches counts as one call in each of
their ledgers, with their own items, and its seconds are split among them in
proportion to their items, so the searches' wall seconds add up to the time
spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentprm_gym.core.trajectory import Trajectory
from agentprm_gym.search.common import SearchResult, bind_all, unbind_prm
from agentprm_gym.search.handle import EnvHandle
from agentprm_gym.search.ledger import Ledger, Meter
from agentprm_gym.search.scoring import (
    ScoreRequest,
    answer,
    set_scores,
    uses_candidate_scoring,
)

__all__ = ["SearchSteps", "can_lockstep", "run_alone", "run_lockstep"]

#: A search that yields its PRM requests and returns (chosen trajectory, its score).
SearchSteps = Generator[ScoreRequest, None, tuple[Trajectory, float]]


def _drive(steps: SearchSteps, reply: Callable[[ScoreRequest], None]) -> tuple[Trajectory, float]:
    """Run ``steps`` to its end, answering each request with ``reply``."""
    try:
        request = next(steps)
        while True:
            reply(request)
            request = steps.send(None)
    except StopIteration as stop:
        return stop.value


def _result(chosen: tuple[Trajectory, float], ledger: Ledger) -> SearchResult:
    traj, score = chosen
    return SearchResult(traj, traj.final_reward, traj.won, ledger, score)


def run_alone(steps: SearchSteps, handle: EnvHandle, policy: Any, prm: Any) -> SearchResult:
    """Run one search, answering each request at once; the ledger is measured throughout.

    The policy is bound to the env and the PRM to the counting ``handle`` (so a
    state-backed PRM's snapshots are counted), and the PRM is bound back to the
    env afterwards.

    Args:
        steps: The search's generator (not started).
        handle: The counting handle on the env it plays.
        policy: The policy it samples from.
        prm: The PRM that answers its requests.

    Returns:
        The search's result, with the compute measured from start to end.
    """
    bind_all(handle, policy, prm)
    meter = Meter(policy, prm, handle)
    try:
        chosen = _drive(steps, lambda r: answer(prm, r))
    finally:
        unbind_prm(handle, prm)
    return _result(chosen, meter.ledger())


def can_lockstep(policy: Any, prm: Any) -> bool:
    """Whether searches with this policy and PRM can share PRM calls (see the module doc)."""
    if getattr(prm, "requires_state", False):
        return False
    return hasattr(policy, "rng") or not hasattr(policy, "seed")


@dataclass
class _Search:
    """One search of a lockstep run: its steps, env handle, policy RNG and ledger."""

    steps: SearchSteps
    handle: EnvHandle
    rng: Any = None
    ledger: Ledger = field(default_factory=Ledger)
    request: ScoreRequest | None = None
    chosen: tuple[Trajectory, float] | None = None


def run_lockstep(
    searches: Sequence[tuple[SearchSteps, EnvHandle]], policy: Any, prm: Any
) -> list[SearchResult]:
    """Run searches together, one PRM call per round for all their requests.

    Args:
        searches: ``(steps, handle)`` per search: its generator (not started) and
            the counting handle on the env it plays.
        policy: The policy the searches sample from.
        prm: The PRM that answers them.

    Returns:
        One result per search, in order. Where :func:`can_lockstep` is False,
        the searches run one after another with :func:`run_alone`. Afterwards the
        policy holds the last search's generator: after seeded searches, the one it
        holds after them one by one (unseeded ones each drew from their own).
    """
    if not can_lockstep(policy, prm):
        return [run_alone(steps, handle, policy, prm) for steps, handle in searches]
    runs = [_Search(steps, handle) for steps, handle in searches]
    own_rng = hasattr(policy, "rng")
    for r, g in zip(runs, _spawn(getattr(policy, "rng", None), len(runs))):
        r.rng = g
    try:
        active = runs
        while active:
            for r in active:
                _advance(r, policy)
            active = [r for r in active if r.chosen is None]
            _answer_round(active, prm)
    finally:
        for r in runs:
            r.steps.close()  # a search left unfinished by an error ends here
        if own_rng and runs and runs[-1].rng is not None:
            policy.rng = runs[-1].rng
    out = []
    for r in runs:
        r.ledger.env_steps += r.handle.env_steps
        r.ledger.snapshots += r.handle.snapshots
        assert r.chosen is not None
        out.append(_result(r.chosen, r.ledger))
    return out


def _spawn(rng: Any, n: int) -> list[Any]:
    """``n`` generators split off ``rng`` (none if it cannot split).

    A search that does not seed the policy then draws from a generator of its own
    instead of sharing one with the others (a seeded search replaces it with its
    seed's anyway).
    """
    spawn = getattr(rng, "spawn", None)
    if spawn is None or n == 0:
        return []
    try:
        return list(spawn(n))
    except (TypeError, ValueError):  # a generator without a seed sequence
        return []


def _advance(run: _Search, policy: Any) -> None:
    """Run a search, with its own RNG in the policy, until its next request or its end."""
    if run.rng is not None:
        policy.rng = run.rng
    if hasattr(policy, "bind"):
        policy.bind(run.handle.env)
    meter = Meter(policy)
    try:
        run.request = run.steps.send(None)  # a generator not yet started takes None too
    except StopIteration as stop:
        run.request, run.chosen = None, stop.value
    run.ledger.merge(meter.ledger())
    run.rng = getattr(policy, "rng", None)


def _answer_round(runs: Sequence[_Search], prm: Any) -> None:
    """Answer one round's requests: per state where the PRM scores so, the rest in one call."""
    merged: list[_Search] = []
    for r in runs:
        assert r.request is not None
        if r.request.per_state and uses_candidate_scoring(prm):
            meter = Meter(None, prm)
            answer(prm, r.request)
            r.ledger.merge(meter.ledger())
        elif r.request.children:
            merged.append(r)
    if not merged:
        return
    items = [it for r in merged for it in r.request.items()]  # type: ignore[union-attr]
    t0 = time.perf_counter()
    q = np.asarray(prm.score(items), dtype=float)
    seconds = time.perf_counter() - t0
    if q.shape != (len(items),):
        raise RuntimeError(f"{type(prm).__name__} returned shape {q.shape} for {len(items)} items")
    start = 0
    for r in merged:
        kids = r.request.children  # type: ignore[union-attr]
        set_scores(prm, kids, q[start : start + len(kids)])
        start += len(kids)
        r.ledger.prm_calls += 1
        r.ledger.prm_items += len(kids)
        r.ledger.wall_seconds += seconds * len(kids) / len(items)
