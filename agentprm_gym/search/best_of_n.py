"""Best-of-N: N whole episodes from the same start, the one the PRM values most is kept.

The N episodes start from one snapshot taken right after ``reset`` (so they
face the same task and env RNG) and are played by the policy, whose RNG runs
on between them. Each is judged by the PRM's value of its *last* step,
``Q(s_T, a_T)`` (the paper's trajectory-level selection); the N last steps are
scored in one batched ``prm.score`` call. Exact ties are broken at random by a
draw per episode from a generator seeded with the search's seed
(:func:`~agentprm_gym.search.sampling.tie_break_rng`), as in beam search: under
a constant PRM the pick is a uniform one of the N episodes, and the same seed
gives the same pick.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agentprm_gym.search.common import (
    Branch,
    SearchResult,
    finish_trajectory,
    play_out,
    reset_options,
    seed_policy,
    start_trajectory,
)
from agentprm_gym.search.driver import SearchSteps, run_alone
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.sampling import tie_break_rng
from agentprm_gym.search.scoring import ScoreRequest

__all__ = ["best_of_n", "best_of_n_steps", "pick_best"]


def pick_best(q: Any, ties: Any) -> int:
    """Index of the highest ``q``; exact ties go to the highest tie-break draw."""
    qs = np.asarray(q, dtype=float)
    return int(max(range(len(qs)), key=lambda i: (qs[i], float(ties[i]))))


def best_of_n(
    env: gym.Env,
    policy: Any,
    prm: Any,
    n: int = 8,
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
) -> SearchResult:
    """Sample ``n`` episodes and keep the one with the highest last-step PRM value.

    Args:
        env: The env (needs ``get_state``/``set_state``).
        policy: Anything with ``propose(observation, info, n)``.
        prm: A PRM (``score(items)``); state-backed PRMs get ``next_state``.
        n: Number of episodes.
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play (default: chosen by the seed).
        split: Task split (default: the env's).
        max_steps: Step limit per episode (default: ``env.spec.max_episode_steps``).
        policy_seed: Reseeds the policy (default: ``seed``; None and no seed: not
            reseeded). The tie-breaks are seeded with it too.

    Returns:
        The chosen episode, its reward, its PRM score and the compute of all ``n``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    keep_states = bool(getattr(prm, "requires_state", False))
    steps = best_of_n_steps(
        handle, policy, n, seed, task_id, split, limit, policy_seed, keep_states
    )
    return run_alone(steps, handle, policy, prm)


def best_of_n_steps(
    handle: EnvHandle,
    policy: Any,
    n: int,
    seed: int | None,
    task_id: int | None,
    split: str | None,
    limit: int | None,
    policy_seed: int | None,
    keep_states: bool = False,
) -> SearchSteps:
    """Best-of-N on one task, pausing once for the PRM's values of the episodes' last steps.

    A generator: it plays the ``n`` episodes, yields one :class:`ScoreRequest`
    holding their ends (valued by their last step in one ``score`` call), and
    returns the chosen trajectory and its score. The arguments are those of
    :func:`best_of_n`, checked, with ``limit`` the resolved step limit and
    ``keep_states`` whether each end keeps its env snapshot (state-backed PRMs
    read it).
    """
    search_seed = seed if policy_seed is None else policy_seed
    seed_policy(policy, search_seed)
    ties = tie_break_rng(search_seed).random(n)
    obs, info = handle.reset(seed, reset_options(task_id, split))
    instruction = str(info.get("instruction", ""))
    start = handle.get_state() if n > 1 else None
    root = Branch([obs], info)
    ends: list[Branch] = []
    for i in range(n):
        if i > 0:
            handle.set_state(start)
        end = play_out(handle, policy, root, limit)
        if keep_states:
            end.state = handle.get_state()
        ends.append(end)
    yield ScoreRequest(instruction, [(root, ends)], per_state=False)
    q = [float(b.q) for b in ends]
    best = pick_best(q, ties)
    traj = start_trajectory(handle.env, policy, info, seed, f"bon{n}")
    traj = finish_trajectory(traj, ends[best])
    traj.meta["prm_score"] = q[best]
    return traj, q[best]
