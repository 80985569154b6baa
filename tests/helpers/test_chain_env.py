"""The corridor test env is itself a correct TextAgentEnv."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import (  # noqa: E402
    CORRIDOR_ID,
    CorridorEnv,
    corridor_env_spec,
    corridor_length,
    registered_corridor,
)


def test_check_env():
    check_env(CorridorEnv(), skip_render_check=True)


@pytest.mark.parametrize("split,task", [("train", 0), ("train", 3), ("test", 2)])
def test_expert_solves_in_exactly_steps_left(split, task):
    env = CorridorEnv(split=split)
    _, info = env.reset(seed=0, options={"task_id": task})
    n = corridor_length(split, task)
    assert env.expert_steps_left() == n
    for i in range(n):
        assert env.expert_steps_left() == n - i
        _, r, term, _, info = env.step(env.expert_action())
    assert term and r == 1.0 and info["won"] and env.expert_steps_left() == 0


def test_wrong_moves_invalid_actions_and_pit():
    env = CorridorEnv()
    env.reset(options={"task_id": 2})
    env.step("go[next]")
    env.step("go[back]")
    assert env.expert_steps_left() == corridor_length("train", 2)
    obs, r, term, _, info = env.step("fly[away]")
    assert info["action_error"] and not term and "not possible" in obs
    assert env.room == 0
    _, _, _, _, info = env.step("go[back]")  # not admissible in room 0
    assert info["action_error"]
    _, _, _, _, info = env.step("]][[")
    assert info["action_error"]
    _, r, term, _, info = env.step("jump[pit]")
    assert term and r == 0.0 and not info["won"] and env.expert_steps_left() is None
    assert "jump[pit]" not in CorridorEnv(trap=False).reset(seed=1)[1]["admissible_actions"]


def test_snapshot_round_trip_and_pickle():
    env = CorridorEnv()
    env.reset(seed=3, options={"task_id": 3})  # 5 rooms
    env.step("go[next]")
    snap = pickle.loads(pickle.dumps(env.get_state()))
    a = [env.step("go[next]")[:4] for _ in range(2)]
    env.set_state(snap)
    b = [env.step("go[next]")[:4] for _ in range(2)]
    assert a == b


def test_spec_and_registration_context():
    env = gym.make(corridor_env_spec(max_episode_steps=3))
    env.reset(seed=0, options={"task_id": 3})  # N = 5 > 3 steps
    for _ in range(3):
        *_, trunc, _ = env.step("wait")
    assert trunc
    assert CORRIDOR_ID not in gym.registry
    with registered_corridor() as env_id:
        assert gym.make(env_id).unwrapped.trap
    assert CORRIDOR_ID not in gym.registry
