"""Run one episode of a policy in an env and record it as a :class:`Trajectory`."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agentprm_gym.core.trajectory import Step, Trajectory

__all__ = ["run_episode", "env_id_of"]


def env_id_of(env: gym.Env) -> str:
    """The registered id of ``env`` (or its class name if it was not made by id)."""
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(env.unwrapped).__name__


def run_episode(
    env: gym.Env,
    policy: Any,
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    record_expert: bool = False,
    meta: dict[str, Any] | None = None,
) -> Trajectory:
    """Play one episode and return its trajectory.

    Args:
        env: The env (wrapped or not). Reset here.
        policy: Anything with ``propose(observation, info, n)``; bound to ``env``
            if it has ``bind``.
        seed: Seed for ``env.reset`` (and the policy is not reseeded here).
        task_id: Task to play (``options["task_id"]``); default: chosen by the seed.
        split: Task split (``options["split"]``); default: the env's.
        record_expert: Also record the env's expert action at every step
            (privileged; for PRM evaluation data).
        meta: Free-form metadata stored with the trajectory.

    Returns:
        The recorded episode.
    """
    if hasattr(policy, "bind"):
        policy.bind(env)
    options: dict[str, Any] = {}
    if task_id is not None:
        options["task_id"] = int(task_id)
    if split is not None:
        options["split"] = split
    obs, info = env.reset(seed=seed, options=options or None)
    expert = env.get_wrapper_attr("expert_action") if record_expert else None
    traj = Trajectory(
        env_id=env_id_of(env),
        task_id=int(info.get("task_id", task_id if task_id is not None else -1)),
        split=str(info.get("split", split or "")),
        policy=getattr(policy, "name", type(policy).__name__),
        instruction=str(info.get("instruction", "")),
        seed=seed,
        meta=dict(meta or {}),
    )
    reward = 0.0
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy.propose(obs, info, 1)[0]
        step = Step(
            observation=obs,
            action=action,
            admissible_actions=list(info.get("admissible_actions", [])),
            expert_action=expert() if expert is not None else None,
        )
        obs, reward, terminated, truncated, info = env.step(action)
        step.reward = float(reward)
        step.action_error = info.get("action_error")
        traj.steps.append(step)
    traj.final_observation = obs
    traj.final_reward = float(reward)
    traj.won = bool(info.get("won", False))
    traj.truncated = bool(truncated and not terminated)
    return traj
