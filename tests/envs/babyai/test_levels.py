"""Tests of the BabyAI level helpers: copying a live level and the generic deep copy."""

from __future__ import annotations

import copy
import pickle
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from agentprm_gym.envs.babyai.env import BabyAIEnv
from agentprm_gym.envs.babyai.levels import (
    DEFAULT_LEVELS,
    copy_level,
    deep_copy,
    level_memo,
    observations_skipped,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.minigrid_levels import level_fingerprint  # noqa: E402


def _levels_along_episodes(level: str, tasks: int, seed: int = 0):
    """Live minigrid levels along mixed expert/random episodes (the expert's bot too)."""
    env = BabyAIEnv(level=level, split="test")
    rng = random.Random(seed)
    for task in range(tasks):
        env.reset(options={"task_id": task})
        for _ in range(40):
            yield env
            actions = env.admissible_actions()
            a = env.expert_action() if rng.random() < 0.6 else rng.choice(actions)
            *_, term, trunc, _ = env.step(a)
            if term or trunc:
                break


@pytest.mark.parametrize("level", [",".join(DEFAULT_LEVELS), "PutNextLocal,UnlockLocal"])
def test_copy_level_equals_deepcopy_with_the_memo(level):
    n = 0
    for env in _levels_along_episodes(level, tasks=8):
        mg = env.minigrid_env
        fast, slow = copy_level(mg), copy.deepcopy(mg, level_memo(mg))
        # Pickling records every object once, so equal bytes mean equal values *and*
        # the same sharing (the instruction's objects are the grid's, and so on).
        assert pickle.dumps(fast) == pickle.dumps(slow)
        assert fast.instrs.env is fast and fast.grid is not mg.grid
        for a, b in zip(mg.grid.grid, fast.grid.grid, strict=True):
            if a is not None:
                assert (b is a) == (a.type == "wall")
        if mg.carrying is not None:
            assert fast.carrying is not mg.carrying and fast.carrying.type == mg.carrying.type
        n += 1
    assert n > 100


def test_a_copied_level_plays_on_alone():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 3})
    mg = env.minigrid_env
    before = pickle.dumps(mg)
    twin = copy_level(mg)
    for action in (2, 2, 1, 3, 2, 0, 3):  # forward, forward, right, pickup, ...
        twin.step(action)
    assert pickle.dumps(mg) == before


def test_the_expert_copy_matches_deepcopy():
    env = BabyAIEnv(level="PutNextLocal,UnlockLocal", split="test")
    env.reset(options={"task_id": 1})
    for _ in range(3):
        env.step(env.expert_action())
    expert = env._own_expert()
    shadow, bot = expert._shadow, expert._bot
    fast = deep_copy((shadow, bot), level_memo(shadow))
    slow = copy.deepcopy((shadow, bot), level_memo(shadow))
    assert pickle.dumps(fast) == pickle.dumps(slow)
    assert fast[1].mission is not None and fast[0] is not shadow


class _Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Slotted:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


class _Custom:
    def __init__(self):
        self.copied = False

    def __deepcopy__(self, memo):
        other = _Custom()
        other.copied = True
        return other


def test_deep_copy_keeps_sharing_and_cycles_and_defers_to_custom_hooks():
    shared = [1, 2]
    node = _Plain(items=[shared, shared], arr=np.arange(6).reshape(2, 3).T, t=(shared, 3))
    node.me = node
    slotted, custom = _Slotted([5]), _Custom()
    memo_kept = _Plain(x=1)
    got = deep_copy(
        {"node": node, "slot": slotted, "custom": custom, "kept": memo_kept},
        {id(memo_kept): memo_kept},
    )
    new = got["node"]
    assert new is not node and new.me is new
    assert new.items[0] is new.items[1] is new.t[0] and new.items[0] is not shared
    assert new.items[0] == [1, 2] and new.t[1] == 3
    assert np.array_equal(new.arr, node.arr) and new.arr is not node.arr
    assert new.arr.flags.f_contiguous  # the layout is kept, as deepcopy keeps it
    assert got["slot"] is not slotted and got["slot"].v == [5] and got["slot"].v is not slotted.v
    assert got["custom"].copied
    assert got["kept"] is memo_kept
    same = (1, "a", None)
    assert deep_copy(same, {}) is same


def test_steps_without_observations_leave_the_same_level():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 3})
    mg = env.minigrid_env
    twin = copy_level(mg)
    actions = (2, 2, 1, 3, 2, 0, 4, 5, 2)
    with observations_skipped(twin):
        assert all(twin.step(a)[0] is None for a in actions)
    for a in actions:
        mg.step(a)
    assert level_fingerprint(twin) == level_fingerprint(mg)
    with pytest.raises(RuntimeError), observations_skipped(twin):
        raise RuntimeError("the level's own gen_obs comes back even after an error")
    assert "gen_obs" not in vars(twin) and twin.gen_obs()["image"] is not None
