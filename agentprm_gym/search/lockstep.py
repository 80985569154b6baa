"""Beam search and Best-of-N over many tasks in lockstep, sharing PRM calls.

``beam_search_lockstep(env, policy, prm, beam, expand, seeds=[...])`` runs one
beam search per seed and returns what ``beam_search`` would return for each,
but advances the searches depth by depth together, so that one PRM call scores
the new steps of every unfinished search (``best_of_n_lockstep`` likewise
scores the episode ends of all its tasks in one call). On a CPU this is what
makes a batched PRM fast: the state PRM's fixed cost per call is paid once per
round instead of once per task, and its frozen encoder meets the new pages of
all the tasks in one batch.

When the searches cannot share calls (a state-backed PRM such as the oracle, or
a policy whose randomness lockstep cannot keep apart) they run one after
another; the results are the same either way. See
:mod:`agentprm_gym.search.driver` for what is guaranteed and how compute is
accounted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from agentprm_gym.search.beam import beam_steps, check_beam_args
from agentprm_gym.search.best_of_n import best_of_n_steps
from agentprm_gym.search.common import SearchResult
from agentprm_gym.search.driver import SearchSteps, run_lockstep
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps

__all__ = ["beam_search_lockstep", "best_of_n_lockstep"]


def _per_task(
    seeds: Sequence[int | None],
    task_ids: Sequence[int | None] | None,
    policy_seeds: Sequence[int | None] | None,
) -> list[tuple[int | None, int | None, int | None]]:
    """``(seed, task_id, policy_seed)`` per task, checking the lengths."""
    seeds = list(seeds)
    ids = list(task_ids) if task_ids is not None else [None] * len(seeds)
    pols = list(policy_seeds) if policy_seeds is not None else [None] * len(seeds)
    if len(ids) != len(seeds) or len(pols) != len(seeds):
        raise ValueError(
            f"seeds, task_ids and policy_seeds need one entry per task; got {len(seeds)}, "
            f"{len(ids)} and {len(pols)}"
        )
    return list(zip(seeds, ids, pols))


def _run(
    env: gym.Env,
    policy: Any,
    prm: Any,
    tasks: list[tuple[int | None, int | None, int | None]],
    start: Callable[..., SearchSteps],
) -> list[SearchResult]:
    """Start a search per ``(seed, task_id, policy_seed)``, each on its own handle; run them."""
    searches = []
    for seed, task_id, policy_seed in tasks:
        handle = EnvHandle(env)
        searches.append((start(handle, seed, task_id, policy_seed), handle))
    return run_lockstep(searches, policy, prm)


def beam_search_lockstep(
    env: gym.Env,
    policy: Any,
    prm: Any,
    beam: int = 4,
    expand: int = 4,
    *,
    seeds: Sequence[int | None],
    task_ids: Sequence[int | None] | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seeds: Sequence[int | None] | None = None,
    prior: float = 0.0,
) -> list[SearchResult]:
    """Run one PRM-guided beam search per task, all advancing depth by depth together.

    Result ``i`` is what ``beam_search(env, policy, prm, beam, expand, seed=seeds[i],
    task_id=task_ids[i], policy_seed=policy_seeds[i], ...)`` returns, with its ledger
    accounted as :mod:`agentprm_gym.search.driver` describes.

    Args:
        env: The env all the searches play (each restores its own snapshots).
        policy: Anything with ``propose(observation, info, n)``.
        prm: A PRM (``score(items)``).
        beam: Entries kept per depth (N).
        expand: Actions sampled per kept entry (M).
        seeds: One ``env.reset`` seed per task (also the policy's, unless
            ``policy_seeds`` is given).
        task_ids: The task of each search (default: chosen by its seed).
        split: Task split (default: the env's).
        max_steps: Step limit (default: ``env.spec.max_episode_steps``).
        policy_seeds: The policy and tie-break seed of each search (default: its seed).
        prior: Weight α of ``log π(a|s)`` in the rank ``Q + α·log π`` (0: PRM only).

    Returns:
        One :class:`SearchResult` per task, in the order of ``seeds``.
    """
    prior = check_beam_args(beam, expand, prior)
    limit = resolve_max_steps(env, max_steps)

    def start(handle: EnvHandle, seed: Any, task_id: Any, policy_seed: Any) -> SearchSteps:
        return beam_steps(
            handle, policy, beam, expand, prior, seed, task_id, split, limit, policy_seed
        )

    return _run(env, policy, prm, _per_task(seeds, task_ids, policy_seeds), start)


def best_of_n_lockstep(
    env: gym.Env,
    policy: Any,
    prm: Any,
    n: int = 8,
    *,
    seeds: Sequence[int | None],
    task_ids: Sequence[int | None] | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seeds: Sequence[int | None] | None = None,
) -> list[SearchResult]:
    """Run Best-of-N on every task, scoring the episode ends of all of them in one call.

    Result ``i`` is what ``best_of_n(env, policy, prm, n, seed=seeds[i], ...)``
    returns; the arguments are those of :func:`beam_search_lockstep` and ``n``, the
    episodes per task.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    limit = resolve_max_steps(env, max_steps)
    keep_states = bool(getattr(prm, "requires_state", False))

    def start(handle: EnvHandle, seed: Any, task_id: Any, policy_seed: Any) -> SearchSteps:
        return best_of_n_steps(
            handle, policy, n, seed, task_id, split, limit, policy_seed, keep_states
        )

    return _run(env, policy, prm, _per_task(seeds, task_ids, policy_seeds), start)
