"""The expert solves every task type; ``expert_steps_left`` is exact along its path."""

from __future__ import annotations

import numpy as np
import pytest

from agentprm_gym.envs.alfworld.env import ALFWorldEnv
from agentprm_gym.envs.alfworld.tasks import TASK_TYPES

LIMIT = 50


def run_expert(env, task_id, split, prefix=0, seed=0):
    """Optionally take ``prefix`` random admissible steps, then follow the expert."""
    obs, info = env.reset(options={"task_id": task_id, "split": split})
    rng = np.random.default_rng(seed)
    steps = 0
    for _ in range(prefix):
        acts = info["admissible_actions"]
        obs, r, term, trunc, info = env.step(acts[int(rng.integers(len(acts)))])
        steps += 1
        if term:
            return True, steps
    left = env.expert_steps_left()
    while True:
        a = env.expert_action()
        assert a in info["admissible_actions"], a
        obs, r, term, trunc, info = env.step(a)
        steps += 1
        new_left = env.expert_steps_left()
        assert new_left == left - 1, (a, left, new_left)
        left = new_left
        if term:
            assert r == 1.0 and info["won"] and left == 0
            return True, steps
        assert r == 0.0 and not info["won"]
        if steps >= LIMIT:
            return False, steps


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("split", ["train", "valid_unseen"])
def test_expert_solves_a_sample(task_type, split):
    env = ALFWorldEnv(task_type=task_type)
    for task_id in range(0, 100, 7):
        won, steps = run_expert(env, task_id, split)
        assert won and steps <= LIMIT, (task_type, task_id, steps)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_expert_recovers_from_random_states(task_type):
    env = ALFWorldEnv(task_type=task_type)
    for task_id in range(12):
        won, _ = run_expert(env, task_id, "valid_seen", prefix=20, seed=task_id)
        assert won, (task_type, task_id)


def test_expert_steps_left_counts_a_known_plan():
    env = ALFWorldEnv(task_type="pick_heat_then_place_in_recep")
    env.reset(options={"task_id": 3, "split": "train"})
    n = env.expert_steps_left()
    plan = []
    for _ in range(n):
        a = env.expert_action()
        plan.append(a)
        *_, term, _, info = env.step(a)
    assert term and info["won"]
    kinds = [a.split()[0] for a in plan]
    assert "heat" in kinds and kinds[-1] == "move" and "take" in kinds


@pytest.mark.parametrize("split", ["valid_unseen", "valid_seen"])
def test_expert_solves_every_valid_task(split):
    """All 600 valid_unseen tasks (100 per type) and all 360 valid_seen tasks."""
    for task_type in TASK_TYPES:
        env = ALFWorldEnv(task_type=task_type)
        for task_id in range(env.num_tasks(split)):
            won, steps = run_expert(env, task_id, split)
            assert won and steps <= LIMIT, (task_type, task_id, steps)


@pytest.mark.slow
def test_expert_solves_every_train_task():
    """All 12,000 train tasks, plus recovery after random prefixes on 1,200 of them."""
    for task_type in TASK_TYPES:
        env = ALFWorldEnv(task_type=task_type)
        for task_id in range(env.num_tasks("train")):
            won, steps = run_expert(env, task_id, "train")
            assert won and steps <= LIMIT, (task_type, task_id, steps)
        for task_id in range(200):
            won, _ = run_expert(env, task_id, "train", prefix=30, seed=task_id)
            assert won, (task_type, task_id)
