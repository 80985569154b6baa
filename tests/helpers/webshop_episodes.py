"""Held-out WebShop episodes with expert actions recorded, for ranking tests."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from agentprm_gym.agents import NoisyExpertPolicy
from agentprm_gym.core.trajectory import write_trajectories
from agentprm_gym.rollout import run_episode


def write_noisy_test_episodes(path: Path, episodes: int = 4) -> Path:
    """Write ``noisy:0.5`` episodes on test tasks ``0..episodes-1`` (expert recorded) to ``path``."""
    env = gym.make("AgentPRM/WebShop-v0")
    trajs = [
        run_episode(
            env, NoisyExpertPolicy(0.5, seed=k), seed=k, task_id=k, split="test", record_expert=True
        )
        for k in range(episodes)
    ]
    env.close()
    write_trajectories(path, trajs)
    return path
