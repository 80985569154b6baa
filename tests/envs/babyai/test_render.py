"""Text rendering of relative positions on a hand-built grid."""

from __future__ import annotations

import numpy as np
from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Door, Key

from agentprm_gym.envs.babyai.dynamics import shortest_path
from agentprm_gym.envs.babyai.levels import make_level_env, reset_level
from agentprm_gym.envs.babyai.render import (
    assign_names,
    describe,
    relative_phrase,
    visible_objects,
)


def _hand_built():
    env = make_level_env("BabyAI-GoToLocal-v0")
    reset_level(env, 0)
    grid = Grid(8, 8)
    grid.wall_rect(0, 0, 8, 8)
    grid.set(3, 2, Ball("red"))  # agent at (4, 5) facing up (dir 3): 3 ahead, 1 left
    grid.set(6, 4, Key("yellow"))  # 1 ahead, 2 right
    grid.set(4, 1, Ball("red"))  # hidden behind nothing: 4 ahead, wall at 5
    grid.set(1, 5, Door("blue", is_locked=True))  # 0 ahead, 3 left (in the left wall line)
    env.grid = grid
    env.agent_pos = np.array([4, 5])
    env.agent_dir = 3
    env.carrying = None
    assign_names(env)
    return env


def test_relative_phrase():
    assert relative_phrase(2, -1) == "2 steps in front of you and 1 step to your left"
    assert relative_phrase(1, 0) == "1 step in front of you"
    assert relative_phrase(0, 3) == "3 steps to your right"


def test_objects_described_with_relative_positions():
    env = _hand_built()
    image = env.gen_obs()["image"]
    vis = visible_objects(env, image)
    by_name = {v.name: (v.forward, v.right) for v in vis}
    assert by_name["red ball 1"] == (4, 0)  # (4, 1) comes first in grid order
    assert by_name["red ball 2"] == (3, -1)
    assert by_name["yellow key 1"] == (1, 2)
    assert by_name["blue door 1"] == (0, -3)
    text = describe(env.mission, env, image, vis)
    assert "There is a red ball 2 3 steps in front of you and 1 step to your left." in text
    assert "There is a yellow key 1 1 step in front of you and 2 steps to your right." in text
    assert "There is a locked blue door 1 3 steps to your left." in text
    assert "There is a wall 3 steps to your right." in text
    assert "You are not carrying anything." in text


def test_shortest_path_faces_the_target():
    env = _hand_built()
    path = shortest_path(env, (6, 4))
    assert path is not None
    for a in path:
        env.step(a)
    assert tuple(int(v) for v in env.front_pos) == (6, 4)
    assert len(path) == 3  # forward, turn right, forward (one of the shortest)
