"""One episode without a PRM: one policy sample per step, or greedy decoding.

:func:`policy_episode` lets the policy act with one sampled action per step,
the baseline every search is compared with (Best-of-1 is the same episode).
:func:`greedy` is true greedy decoding: the same episode with the policy's
sampling temperature set to 0, which only LM policies have (the greedy
decoding of a noisy expert would be the expert itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

__all__ = ["greedy", "policy_episode", "supports_greedy"]


def policy_episode(
    env: gym.Env,
    policy: Any,
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
    method: str = "policy",
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
        method: Recorded as the trajectory's ``meta["search"]``.

    Returns:
        The episode, its reward and the compute ledger (no snapshots, no PRM).
    """
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    seed_policy(policy, seed if policy_seed is None else policy_seed)
    bind_all(handle, policy)
    meter = Meter(policy, None, handle)
    obs, info = handle.reset(seed, reset_options(task_id, split))
    traj = start_trajectory(env, policy, info, seed, method)
    branch = play_out(handle, policy, Branch([obs], info), limit)
    finish_trajectory(traj, branch)
    return SearchResult(traj, traj.final_reward, traj.won, meter.ledger(), None)


def supports_greedy(policy: Any) -> bool:
    """Whether the policy has a sampling temperature that greedy decoding can set to 0."""
    return isinstance(getattr(policy, "temperature", None), int | float)


@contextmanager
def _temperature_zero(policy: Any) -> Iterator[None]:
    before = policy.temperature
    policy.temperature = 0.0
    try:
        yield
    finally:
        policy.temperature = before


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
    """Play one episode with greedy decoding: the policy's temperature is 0 for the episode.

    Args:
        env: The env.
        policy: An LM policy (anything with a ``temperature`` attribute).
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play (default: chosen by the seed).
        split: Task split (default: the env's).
        max_steps: Step limit (default: ``env.spec.max_episode_steps``).
        policy_seed: Reseeds the policy (default: ``seed``).

    Raises:
        ValueError: If the policy has no sampling temperature.
    """
    if not supports_greedy(policy):
        name = getattr(policy, "name", type(policy).__name__)
        raise ValueError(
            f"greedy decoding needs an LM policy with a sampling temperature (hf:..., "
            f"openai:...); {name!r} has none. One policy sample per step is policy_episode "
            "(`--method policy` on the command line)"
        )
    with _temperature_zero(policy):
        return policy_episode(
            env,
            policy,
            seed=seed,
            task_id=task_id,
            split=split,
            max_steps=max_steps,
            policy_seed=policy_seed,
            method="greedy",
        )
