"""Best-of-N for many PRMs and many N from one set of sampled episodes.

In Best-of-N the sampled episodes do not depend on the PRM: the policy plays
``N`` episodes from one snapshot, and the PRM only picks one at the end. With
the same seeds, the first ``N`` episodes of a ``N_max``-episode run are exactly
the episodes :func:`agentprm_gym.search.best_of_n` plays for ``N`` (the policy's
RNG runs on between episodes in both, and the env restarts from the same
snapshot). So a sweep plays ``N_max`` episodes per task once and, for every
PRM and every ``N``, picks the best of the first ``N`` by the PRM's value of
their last steps, as ``best_of_n`` does (exact ties by the same seeded
tie-break draws: the first ``N`` of ``N_max`` draws are the ``N`` that
``best_of_n`` makes).

The ledger of each ``(PRM, N)`` is what ``best_of_n(n=N)`` spends: the policy
and env work of the first ``N`` episodes, the snapshots it takes (one
``get_state`` after reset when ``N > 1``, one ``set_state`` before each later
episode, one ``get_state`` per episode end for state-backed PRMs) and one
``prm.score`` call on ``N`` items, measured. A test pins the equality with
``best_of_n`` on the corridor env.

:func:`shared_best_of_n_lockstep` does the same for many tasks and scores them
together: one ``prm.score`` call per (PRM, N) holds the first ``N`` episode ends
of every task (a state-backed PRM, which reads snapshots, scores task by task).
Each task's ledger counts that call once with its own ``N`` items and its share
of the seconds, as the lockstep searches of :mod:`agentprm_gym.search.driver` do.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from agentprm_gym.search.best_of_n import pick_best
from agentprm_gym.search.common import (
    Branch,
    bind_all,
    play_out,
    reset_options,
    seed_policy,
    unbind_prm,
)
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.ledger import Ledger, Meter
from agentprm_gym.search.sampling import tie_break_rng

__all__ = ["shared_best_of_n", "shared_best_of_n_lockstep"]


@dataclass
class _Played:
    """One task's ``N_max`` sampled episodes and what playing them cost."""

    ends: list[Branch]
    items: list[Any]
    costs: list[Ledger]
    start_cost: Ledger
    start_snap: Ledger
    ties: np.ndarray
    any_state: bool


def _check_ns(ns: Sequence[int]) -> list[int]:
    out = sorted({int(n) for n in ns})
    if not out or out[0] < 1:
        raise ValueError(f"every N must be >= 1, got {list(ns)}")
    return out


def _play(
    handle: EnvHandle,
    policy: Any,
    prms: Mapping[str, Any],
    n_max: int,
    limit: int | None,
    seed: int | None,
    task_id: int | None,
    split: str | None,
    policy_seed: int | None,
) -> _Played:
    """Play ``n_max`` episodes of one task from one snapshot, as ``best_of_n`` does."""
    search_seed = seed if policy_seed is None else policy_seed
    seed_policy(policy, search_seed)
    ties = tie_break_rng(search_seed).random(n_max)
    bind_all(handle, policy)
    any_state = any(getattr(p, "requires_state", False) for p in prms.values())
    t_reset = Meter(policy, None, handle)
    obs, info = handle.reset(seed, reset_options(task_id, split))
    instruction = str(info.get("instruction", ""))
    start_cost = t_reset.ledger()
    snap_meter = Meter(None, None, handle)
    start = handle.get_state() if n_max > 1 else None
    start_snap = snap_meter.ledger()
    ends: list[Branch] = []
    costs: list[Ledger] = []
    for i in range(n_max):
        m = Meter(policy, None, handle)
        if i > 0:
            handle.set_state(start)
        end = play_out(handle, policy, Branch([obs], info), limit)
        if any_state:
            end.state = handle.get_state()
        ends.append(end)
        costs.append(m.ledger())
    items = [b.last_item(instruction) for b in ends]
    return _Played(ends, items, costs, start_cost, start_snap, ties, any_state)


def _pick(played: _Played, prm: Any, n: int, q: Any, prm_cost: Ledger) -> dict[str, Any]:
    """Best-of-``n`` of one task's first ``n`` episodes by ``q``, with its ledger."""
    best = pick_best(q, played.ties[:n])
    led = Ledger().merge(played.start_cost)
    if n > 1:
        led.merge(played.start_snap)
    for c in played.costs[:n]:
        led.merge(c)
    if played.any_state and not getattr(prm, "requires_state", False):
        led.snapshots -= n  # this PRM's best_of_n would not snapshot the ends
    led.merge(prm_cost)
    e = played.ends[best]
    return {
        "won": bool(e.info.get("won", False)),
        "reward": float(e.reward),
        "ledger": led,
        "index": best,
        "score": float(q[best]),
        "branch": e,
    }


def shared_best_of_n(
    env: gym.Env,
    policy: Any,
    prms: Mapping[str, Any],
    ns: Sequence[int],
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
) -> dict[tuple[str, int], dict[str, Any]]:
    """Best-of-N results for every PRM in ``prms`` and every N in ``ns``.

    Args:
        env: The env (needs ``get_state``/``set_state``).
        policy: The policy.
        prms: Name -> PRM.
        ns: Values of N (each >= 1).
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play.
        split: Task split.
        max_steps: Step limit per episode.
        policy_seed: Reseeds the policy (default: ``seed``).

    Returns:
        ``{(prm name, N): {"won", "reward", "ledger" (a Ledger), "index", "score"}}``.
    """
    ns = _check_ns(ns)
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    played = _play(handle, policy, prms, ns[-1], limit, seed, task_id, split, policy_seed)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for name, prm in prms.items():
        bind_all(handle, policy, prm)
        try:
            for n in ns:
                pm = Meter(None, prm, handle)
                q = prm.score(played.items[:n])
                out[(name, n)] = _pick(played, prm, n, q, pm.ledger())
        finally:
            unbind_prm(handle, prm)
    return out


def shared_best_of_n_lockstep(
    env: gym.Env,
    policy: Any,
    prms: Mapping[str, Any],
    ns: Sequence[int],
    *,
    seeds: Sequence[int | None],
    task_ids: Sequence[int | None] | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seeds: Sequence[int | None] | None = None,
) -> list[dict[tuple[str, int], dict[str, Any]]]:
    """:func:`shared_best_of_n` for many tasks, scoring all their episode ends together.

    Result ``i`` is what ``shared_best_of_n(env, policy, prms, ns, seed=seeds[i],
    task_id=task_ids[i], policy_seed=policy_seeds[i], ...)`` returns, with each
    ``(PRM, N)``'s call shared by all the tasks (one call in each task's ledger, with
    its own ``N`` items and its share of the seconds). A PRM whose value of an item
    does not depend on the rest of the call gives every task exactly its result
    alone; the learned state PRM does so up to float rounding.

    Raises:
        ValueError: For a bad N, or ``task_ids`` / ``policy_seeds`` not one per seed.
    """
    ns = _check_ns(ns)
    k = len(seeds)
    task_ids = [None] * k if task_ids is None else list(task_ids)
    policy_seeds = [None] * k if policy_seeds is None else list(policy_seeds)
    if len(task_ids) != k or len(policy_seeds) != k:
        raise ValueError(f"{k} seeds need as many task_ids and policy_seeds")
    if k == 0:
        return []
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    # the tasks' episodes are played one task after another, each from its own seeds,
    # so each task plays exactly what it plays alone
    played = [
        _play(handle, policy, prms, ns[-1], limit, s, t, split, ps)
        for s, t, ps in zip(seeds, task_ids, policy_seeds, strict=True)
    ]
    out: list[dict[tuple[str, int], dict[str, Any]]] = [{} for _ in played]
    for name, prm in prms.items():
        bind_all(handle, policy, prm)
        try:
            for n in ns:
                if getattr(prm, "requires_state", False):  # reads snapshots: task by task
                    for got, p in zip(out, played, strict=True):
                        pm = Meter(None, prm, handle)
                        got[(name, n)] = _pick(p, prm, n, prm.score(p.items[:n]), pm.ledger())
                    continue
                items = [it for p in played for it in p.items[:n]]
                t0 = time.perf_counter()
                q = np.asarray(prm.score(items), dtype=float)
                seconds = time.perf_counter() - t0
                if q.shape != (len(items),):
                    raise RuntimeError(
                        f"{type(prm).__name__} returned shape {q.shape} for {len(items)} items"
                    )
                for j, (got, p) in enumerate(zip(out, played, strict=True)):
                    cost = Ledger(prm_calls=1, prm_items=n, wall_seconds=seconds / k)
                    got[(name, n)] = _pick(p, prm, n, q[j * n : (j + 1) * n], cost)
        finally:
            unbind_prm(handle, prm)
    return out
