"""``AgentPRM/ALFWorld-v0`` as a Gymnasium env: contract, kwargs, snapshots."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import agentprm_gym  # noqa: F401  (registers ids)
from agentprm_gym.core.base_env import EpisodeEndedError
from agentprm_gym.core.snapshot import SnapshotError
from agentprm_gym.envs.alfworld.env import ALFWorldEnv
from agentprm_gym.envs.alfworld.tasks import TASK_TYPES

ENV_ID = "AgentPRM/ALFWorld-v0"


def test_registered_with_step_limit():
    assert gym.spec(ENV_ID).max_episode_steps == 50
    env = gym.make(ENV_ID)
    assert isinstance(env.unwrapped, ALFWorldEnv)
    env.close()


@pytest.mark.parametrize("task_type", [None, "look_at_obj_in_light"])
def test_check_env(task_type):
    check_env(ALFWorldEnv(task_type=task_type), skip_render_check=True)


def test_reset_info_and_first_observation():
    env = ALFWorldEnv()
    obs, info = env.reset(options={"task_id": 0, "split": "valid_unseen"})
    assert obs.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert "You are in the middle of a room." in obs
    assert obs.endswith(f"Your task is to: {info['instruction']}")
    assert info["task_type"] == TASK_TYPES[0] and info["room"]
    assert info["won"] is False and info["action_error"] is None and info["holding"] is None
    assert info["admissible_actions"][-2:] == ["inventory", "look"]


def test_task_ids_cycle_through_types_and_task_type_restricts():
    env = ALFWorldEnv(split="valid_unseen")
    assert env.num_tasks("valid_unseen") == 600 and env.num_tasks("test") == 600
    assert env.num_tasks("train") == 12_000 and env.num_tasks("valid_seen") == 360
    for i in range(12):
        _, info = env.reset(options={"task_id": i})
        assert info["task_type"] == TASK_TYPES[i % 6]
    one = ALFWorldEnv(task_type="pick_two_obj_and_place")
    assert one.num_tasks("valid_unseen") == 100
    _, a = one.reset(options={"task_id": 3, "split": "valid_unseen"})
    _, b = env.reset(options={"task_id": 3 * 6 + 5})
    assert a["task_type"] == "pick_two_obj_and_place" and a["instruction"] == b["instruction"]
    with pytest.raises(ValueError, match="task_type"):
        ALFWorldEnv(task_type="juggle")
    with pytest.raises(ValueError, match="split"):
        ALFWorldEnv(split="dev")


def test_test_split_alias():
    env = ALFWorldEnv()
    oa, ia = env.reset(options={"task_id": 17, "split": "test"})
    ob, ib = env.reset(options={"task_id": 17, "split": "valid_unseen"})
    assert oa == ob and ia["instruction"] == ib["instruction"]


def test_invalid_action_changes_nothing():
    env = ALFWorldEnv()
    obs, info = env.reset(seed=3)
    snap = env.get_state()
    obs2, r, term, trunc, info2 = env.step("fly to the moon")
    assert obs2 == "Nothing happens." and r == 0.0 and not term and not trunc
    assert "unknown command" in info2["action_error"]
    assert info2["admissible_actions"] == info["admissible_actions"]
    assert env.world_state == snap.payload[2]
    with pytest.raises(TypeError):
        env.step(None)


def test_success_reward_and_end():
    env = ALFWorldEnv(task_type="pick_and_place_simple")
    env.reset(options={"task_id": 0})
    total = 0.0
    while True:
        obs, r, term, trunc, info = env.step(env.expert_action())
        total += r
        if term:
            break
    assert total == 1.0 and info["won"] and info["admissible_actions"] == []
    with pytest.raises(EpisodeEndedError):
        env.step("look")


def test_snapshot_restore_reproduces_the_rest_of_an_episode():
    env = ALFWorldEnv()
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=11)
    for _ in range(8):
        acts = info["admissible_actions"]
        obs, *_, info = env.step(acts[int(rng.integers(len(acts)))])
    snap = env.get_state()

    def rest(seed):
        r = np.random.default_rng(seed)
        out = []
        info_ = info
        for _ in range(25):
            acts = info_["admissible_actions"]
            if not acts:
                break
            a = acts[int(r.integers(len(acts)))]
            o, rew, term, trunc, info_ = env.step(a)
            out.append((a, o, rew, term, info_))
            if term:
                break
        return out

    first = rest(5)
    env.set_state(snap)
    assert rest(5) == first
    env.set_state(snap)
    # the snapshot is not aliased: stepping after restore did not change it
    assert env.world_state == snap.payload[2] and env.world_state is not snap.payload[2]


def test_snapshot_refused_across_task_type():
    a = ALFWorldEnv(task_type="pick_and_place_simple")
    a.reset(seed=0)
    b = ALFWorldEnv()
    b.reset(seed=0)
    with pytest.raises(SnapshotError):
        b.set_state(a.get_state())


def test_random_policy_success_is_low_but_not_zero_on_simple():
    env = gym.make(ENV_ID, task_type="pick_and_place_simple")
    rng = np.random.default_rng(0)
    wins = 0
    n = 400
    for task_id in range(n):
        obs, info = env.reset(seed=task_id, options={"task_id": task_id})
        while True:
            acts = info["admissible_actions"]
            obs, r, term, trunc, info = env.step(acts[int(rng.integers(len(acts)))])
            if term or trunc:
                wins += int(info["won"])
                break
    assert 0 < wins / n < 0.1


def test_render_modes():
    env = ALFWorldEnv(render_mode="ansi")
    obs, _ = env.reset(seed=0)
    assert env.render() == obs
    with pytest.raises(ValueError):
        ALFWorldEnv(render_mode="rgb_array")
