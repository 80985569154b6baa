"""Greedy decoding: the policy's single sample at every step, no PRM."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agentprm_gym.search.common import (
    Branch,
    SearchResult,
    bind_all,
    finish_trajectory,
    play_out,
    reset_options,
    seed_policy,
    start_trajectory,
)
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.ledger import Meter

__all__ = ["greedy"]


def greedy(
    env: gym.Env,
    policy: Any,
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
) -> SearchResult:
    """Play one episode with one policy sample per step.

    Args:
        env: The env (reset here; stepped through its base env, see
            :mod:`agentprm_gym.search.handle`).
        policy: Anything with ``propose(observation, info, n)``.
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play (default: chosen by the seed).
        split: Task split (default: the env's).
        max_steps: Step limit (default: ``env.spec.max_episode_steps``).
        policy_seed: Reseeds the policy (default: ``seed``; None and no seed: not reseeded).

    Returns:
        The episode, its reward and the compute ledger (no snapshots, no PRM).
    """
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    seed_policy(policy, seed if policy_seed is None else policy_seed)
    bind_all(handle, policy)
    meter = Meter(policy, None, handle)
    obs, info = handle.reset(seed, reset_options(task_id, split))
    traj = start_trajectory(env, policy, info, seed, "greedy")
    branch = play_out(handle, policy, Branch([obs], info), limit)
    finish_trajectory(traj, branch)
    return SearchResult(traj, traj.final_reward, traj.won, meter.ledger(), None)
