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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

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

__all__ = ["shared_best_of_n"]


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
    ns = sorted({int(n) for n in ns})
    if not ns or ns[0] < 1:
        raise ValueError(f"every N must be >= 1, got {list(ns)}")
    n_max = ns[-1]
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
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
    out: dict[tuple[str, int], dict[str, Any]] = {}
    items = [b.last_item(instruction) for b in ends]
    for name, prm in prms.items():
        needs_state = bool(getattr(prm, "requires_state", False))
        bind_all(handle, policy, prm)
        try:
            for n in ns:
                pm = Meter(None, prm, handle)
                q = prm.score(items[:n])
                best = pick_best(q, ties[:n])
                led = Ledger().merge(start_cost)
                if n > 1:
                    led.merge(start_snap)
                for c in costs[:n]:
                    led.merge(c)
                if any_state and not needs_state:
                    led.snapshots -= n  # this PRM's best_of_n would not snapshot the ends
                led.merge(pm.ledger())
                e = ends[best]
                out[(name, n)] = {
                    "won": bool(e.info.get("won", False)),
                    "reward": float(e.reward),
                    "ledger": led,
                    "index": best,
                    "score": float(q[best]),
                    "branch": e,
                }
        finally:
            unbind_prm(handle, prm)
    return out
