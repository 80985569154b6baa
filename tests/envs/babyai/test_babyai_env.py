"""Tests of AgentPRM/BabyAI-v0: contract, determinism, expert, snapshots, invalid actions."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.babyai.env import BabyAIEnv
from agentprm_gym.envs.babyai.expert import BotExpert
from agentprm_gym.envs.babyai.levels import DEFAULT_LEVELS, normalize_levels, task_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.minigrid_levels import level_fingerprint  # noqa: E402


def _expert_episode(env, task_id, split="test", limit=64):
    obs, info = env.reset(options={"task_id": task_id, "split": split})
    fractions = [info["subgoal_fraction"]]
    for _ in range(limit):
        obs, r, term, trunc, info = env.step(env.expert_action())
        fractions.append(info["subgoal_fraction"])
        assert info["action_error"] is None
        if term or trunc:
            break
    return info["won"], r, fractions


def test_check_env_and_registration():
    env = gym.make("AgentPRM/BabyAI-v0")
    assert env.spec.max_episode_steps == 64
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_levels_and_splits_do_not_overlap():
    assert normalize_levels("GoToLocal") == ("BabyAI-GoToLocal-v0",)
    assert normalize_levels(None) == DEFAULT_LEVELS
    with pytest.raises(ValueError):
        normalize_levels("NoSuchLevel")
    env = BabyAIEnv()
    last_train = task_spec(DEFAULT_LEVELS, "train", env.num_tasks("train") - 1)[1]
    first_test = task_spec(DEFAULT_LEVELS, "test", 0)[1]
    assert last_train < first_test


def test_same_task_same_episode_across_envs():
    def run(env):
        rng = np.random.default_rng(3)
        obs, info = env.reset(seed=5)
        rec = [obs]
        for _ in range(15):
            acts = info["admissible_actions"]
            obs, r, term, trunc, info = env.step(acts[int(rng.integers(len(acts)))])
            rec.append((obs, r, term, trunc, info["subgoal_fraction"], info["primitive_steps"]))
            if term or trunc:
                break
        return rec

    assert run(BabyAIEnv()) == run(BabyAIEnv())


@pytest.mark.parametrize("task_id", range(20))
def test_expert_solves_test_tasks(task_id):
    won, reward, fractions = _expert_episode(BabyAIEnv(split="test"), task_id)
    assert won and reward > 0
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)  # latched subgoals only grow


@pytest.mark.slow
def test_expert_success_on_200_test_tasks():
    env = BabyAIEnv(split="test")
    wins = [_expert_episode(env, t)[0] for t in range(200)]
    assert np.mean(wins) >= 0.98


@pytest.mark.slow
def test_random_policy_is_weak_on_the_default_mix():
    from agentprm_gym.agents.spec import make_policy
    from agentprm_gym.rollout import run_episode

    env = gym.make("AgentPRM/BabyAI-v0")
    policy = make_policy("random", seed=0)
    wins = []
    for t in range(200):
        policy.seed(t)
        wins.append(run_episode(env, policy, seed=t, task_id=t, split="test").won)
    env.close()
    # measured 0.205 (the old six-level mix gave 0.56)
    assert np.mean(wins) <= 0.25


def test_expert_steps_left_counts_down():
    env = BabyAIEnv(split="test")
    env.reset(options={"task_id": 4})
    left = env.expert_steps_left()
    assert isinstance(left, int) and left > 0
    for k in range(left):
        assert env.expert_steps_left() == left - k
        env.step(env.expert_action())
    assert env.won and env.expert_steps_left() == 0


@pytest.mark.parametrize(
    "action",
    ["fly away", "go to purple ball 9", "pick up", "", "go through grey wall 1", "toggle and"],
)
def test_invalid_actions_leave_state_unchanged(action):
    env = BabyAIEnv(split="test")
    obs, info = env.reset(options={"task_id": 1})
    before = env.get_state()
    if action == "pick up":  # a valid primitive: minigrid counts it even when useless
        _, _, _, _, info2 = env.step(action)
        assert info2["action_error"] is None and info2["primitive_steps"] == 1
        return
    obs2, r, term, trunc, info2 = env.step(action)
    assert info2["action_error"] and r == 0.0 and not term and not trunc
    assert "Invalid action" in obs2
    after = env.get_state()
    assert after.payload[5] == before.payload[5]  # no primitive actions taken
    assert info2["primitive_steps"] == info["primitive_steps"]
    assert info2["admissible_actions"] == info["admissible_actions"]


def test_snapshot_round_trip_with_expert():
    env = BabyAIEnv(split="test")
    env.reset(options={"task_id": 5})
    env.step(env.expert_action())
    snap = env.get_state()

    def play():
        out = []
        for _ in range(30):
            a = env.expert_action()
            obs, r, term, trunc, info = env.step(a)
            out.append((a, obs, r, term, info["subgoal_fraction"]))
            if term or trunc:
                break
        return out

    first = play()
    env.set_state(snap)
    second = play()
    assert first == second and first[-1][3]


def test_snapshot_carries_the_expert_so_a_restore_does_not_replay_the_history():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    _, info = env.reset(options={"task_id": 2})
    assert env.get_state().payload[-1] is None  # expert not asked yet: nothing carried
    rng = np.random.default_rng(0)
    for _ in range(6):  # a noisy path, the expert asked at every step
        env.expert_action()
        acts = info["admissible_actions"]
        _, _, term, trunc, info = env.step(acts[int(rng.integers(len(acts)))])
        assert not (term or trunc)
    snap = env.get_state()
    carried = snap.payload[-1].expert
    # shared, not copied; it has seen the history up to the last question
    assert carried is env._expert and carried._fed == list(snap.payload[5])[: len(carried._fed)]
    fed_before = list(carried._fed)
    expected = env.expert_action()  # copy on write: the snapshot's expert is untouched
    assert env._expert is not carried and carried._fed == fed_before
    env.step("turn left")
    env.step("move forward")
    for _ in range(2):  # restored twice: each question after a restore works on its own copy
        env.set_state(snap)
        kept = snap.payload[-1].expert  # `carried`, then the copy caught up with the snapshot
        assert env._expert is kept
        assert env.expert_action() == expected
        assert env._expert is not kept and env._expert is not carried
        assert carried._fed == fed_before
        env.step("turn right")
    # Without the carried expert the expert rebuilds from the reset level: same answer.
    env.set_state(snap)
    env._expert = type(env._expert)(carried.level_id, carried.seed)
    assert env.expert_action() == expected


def test_a_restored_snapshot_keeps_the_caught_up_expert(monkeypatch):
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 4})
    for _ in range(3):
        env.step(env.expert_action())
    snap = env.get_state()  # carries the expert plus this snapshot's point, not yet synced
    carried = snap.payload[-1]
    assert len(carried.points) == 1
    env.step("turn left")
    env.set_state(snap)
    answer = env.expert_action()  # catches up once, then the snapshot keeps that expert
    assert carried.points == () and carried.expert._fed == list(snap.payload[5])
    assert env._expert is not carried.expert
    syncs = []
    monkeypatch.setattr(BotExpert, "sync", lambda self, *a: syncs.append(a))
    for _ in range(2):
        env.step("move forward")
        env.set_state(snap)
        assert env.expert_action() == answer and syncs == []


def test_a_pickled_snapshot_leaves_the_expert_out_and_still_restores():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 3})
    for _ in range(3):
        env.step(env.expert_action())
    snap = env.get_state()
    expected = env.expert_action()
    plain = env.get_state()  # the same state, carrying another expert object
    assert snap.payload[-1].expert is not plain.payload[-1].expert
    assert pickle.dumps(snap) == pickle.dumps(plain)  # beam search merges by these bytes
    copy = pickle.loads(pickle.dumps(snap))
    assert copy.payload[-1].expert is None
    env.step("turn left")
    env.set_state(copy)  # rebuilds the expert from the history
    assert env.expert_action() == expected


def test_high_level_action_runs_several_primitive_steps():
    env = BabyAIEnv(level="PickupLoc", split="test")
    for task_id in range(20):
        _, info = env.reset(options={"task_id": task_id})
        picks = [a for a in info["admissible_actions"] if a.startswith("pick up ")]
        if not picks:
            continue
        obs, r, term, trunc, info2 = env.step(picks[0])
        assert info2["action_error"] is None
        assert info2["carrying"] == picks[0][len("pick up ") :]
        assert "primitive steps" in obs
        if info2["primitive_steps"] >= 2:
            return
    pytest.fail("no task needed a multi-step pick up")


def test_snapshots_share_the_level_and_the_env_copies_it_before_stepping():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 2})
    first = env.get_state()  # right after reset: the level reset() reuses is copied
    assert first.payload[0] is not env.minigrid_env
    env.step("move forward")
    env.set_state(first)
    assert env.minigrid_env is first.payload[0]  # restored without a copy
    kept = level_fingerprint(first.payload[0])
    env.step("turn left")
    assert env.minigrid_env is not first.payload[0]  # copied before the step
    second = env.get_state()
    assert second.payload[0] is env.minigrid_env  # taken over, not copied
    kept2 = level_fingerprint(second.payload[0])
    for action in ("move forward", "toggle", "pick up", "drop"):
        env.step(action)
    assert level_fingerprint(first.payload[0]) == kept
    assert level_fingerprint(second.payload[0]) == kept2


def test_restored_branches_play_as_a_fresh_replay_does():
    env = BabyAIEnv(level="PutNextLocal,UnlockLocal", split="test")
    replay = BabyAIEnv(level="PutNextLocal,UnlockLocal", split="test")
    rng = np.random.default_rng(1)
    for task_id in range(4):
        env.reset(options={"task_id": task_id})
        path: list[str] = []
        for _ in range(8):
            snap = env.get_state()
            branches = []
            for action in env.admissible_actions()[::2]:  # several children of one state
                env.set_state(snap)
                obs, r, term, trunc, info = env.step(action)
                child = env.get_state()
                branches.append((action, obs, r, term, trunc, child))
            for action, obs, r, term, trunc, child in branches:
                replay.reset(options={"task_id": task_id})
                for a in path:
                    replay.step(a)
                assert replay.step(action)[:4] == (obs, r, term, trunc)
                assert replay.get_state().identity() == child.identity()
                assert level_fingerprint(replay.minigrid_env) == level_fingerprint(child.payload[0])
            live = [b for b in branches if not (b[3] or b[4])]
            if not live:
                break
            action, *_, child = live[int(rng.integers(len(live)))]
            env.set_state(child)
            path.append(action)


def test_state_identity_tells_states_apart_without_the_level():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 1})
    env.step("move forward")
    snap = env.get_state()
    assert snap.payload_key is not None and snap.payload[0] not in snap.payload_key
    ids = []
    for action in ("turn left", "turn left", "turn right"):
        env.set_state(snap)
        env.step(action)
        ids.append(env.get_state().identity())
    assert ids[0] == ids[1] != ids[2]
    env.set_state(snap)
    env.step("turn left")
    env.step("turn right")  # back to the same place and heading, one step later
    assert env.get_state().identity() != snap.identity()
    # The same view and step count by two routes: the key keeps the primitive history.
    ends = []
    for route in (
        ("turn left", "turn right", "turn left"),
        ("turn right", "turn left", "turn left"),
    ):
        env.set_state(snap)
        for action in route:
            obs, *_ = env.step(action)
        ends.append((obs.splitlines()[1:], env.get_state().identity()))
    assert ends[0][0] == ends[1][0] and ends[0][1] != ends[1][1]
