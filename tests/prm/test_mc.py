"""Math-Shepherd MC labelling from env snapshots: exact labels and costs on the corridor."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agentprm_gym.agents import ExpertPolicy, NoisyExpertPolicy, RandomPolicy
from agentprm_gym.core.trajectory import Step, Trajectory
from agentprm_gym.prm.labels import LabelCost
from agentprm_gym.prm.mc import (
    ReplayMismatchError,
    derive_seed,
    label_cost_report,
    mc_action_values,
    mc_label_trajectories,
    mc_label_trajectory,
    mc_rollout_outcomes,
)
from agentprm_gym.rollout import run_episode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import corridor_env_spec, corridor_length  # noqa: E402


def _env(limit=12, **kw):
    return gym.make(corridor_env_spec(max_episode_steps=limit), **kw)


def _traj(env, actions, task_id=3, seed=5):
    """Record a trajectory that plays fixed actions."""

    class Script:
        name = "script"

        def __init__(self):
            self.i = 0

        def propose(self, obs, info, n):
            a = actions[self.i]
            self.i += 1
            return [a] * n

    return run_episode(env, Script(), seed=seed, task_id=task_id, split="train")


def test_expert_rollouts_label_every_step_1_with_exact_cost():
    env = _env(trap=False)
    n_len = corridor_length("train", 3)  # 5 rooms
    traj = run_episode(env, ExpertPolicy(), seed=1, task_id=3, split="train")
    assert len(traj.steps) == n_len and traj.won
    soft, hard, cost = mc_label_trajectory(env, ExpertPolicy(), traj, n_rollouts=3, seed=0)
    np.testing.assert_array_equal(soft, np.ones(n_len))
    np.testing.assert_array_equal(hard, np.ones(n_len))
    # From after step t the expert needs n_len - t - 1 steps; the last step ended the episode.
    rollout_steps = 3 * sum(n_len - t - 1 for t in range(n_len - 1))
    assert cost == LabelCost(
        labelled_steps=n_len,
        env_steps=n_len + rollout_steps,  # replay + rollouts
        policy_samples=rollout_steps,
        snapshots=(n_len - 1) * (3 + 1),
        rollout_env_steps=n_len,
    )


def test_terminal_failure_step_gets_its_own_outcome_without_rollouts():
    env = _env()
    traj = _traj(env, ["go[next]", "jump[pit]"])
    outcomes, cost = mc_rollout_outcomes(env, ExpertPolicy(), traj, 4)
    np.testing.assert_array_equal(outcomes, [[1, 1, 1, 1], [0, 0, 0, 0]])
    assert cost.snapshots == 4 + 1 and cost.policy_samples == 4 * 4  # 4 steps left from room 1


def test_step_limit_counts_from_episode_start():
    # Task 3 needs 5 moves; limit 7; the trajectory waits until truncated.
    env = _env(limit=7, trap=False)
    traj = _traj(env, ["wait"] * 7)
    assert traj.truncated and len(traj.steps) == 7
    soft, hard, _ = mc_label_trajectory(env, ExpertPolicy(), traj, 2)
    # After step t, 7 - (t + 1) steps remain: enough for 5 moves only when t <= 1.
    np.testing.assert_array_equal(soft, [1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(hard, soft)
    # An explicit limit overrides the registered one.
    soft9, _, _ = mc_label_trajectory(env, ExpertPolicy(), traj, 2, max_episode_steps=9)
    np.testing.assert_array_equal(soft9, [1, 1, 1, 1, 0, 0, 0])


def test_soft_and_hard_with_a_noisy_policy_are_deterministic_and_order_free():
    env = _env()
    trajs = [
        run_episode(env, NoisyExpertPolicy(0.6, seed=s), seed=s, task_id=s % 20, split="train")
        for s in range(4)
    ]
    pol = NoisyExpertPolicy(0.6)
    first = [mc_label_trajectory(env, pol, t, 8, seed=11) for t in trajs]
    again = [
        mc_label_trajectory(_env(), NoisyExpertPolicy(0.6), t, 8, seed=11) for t in trajs[::-1]
    ]
    for (s1, h1, c1), (s2, h2, c2) in zip(first, again[::-1]):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(h1, h2)
        assert c1 == c2
    soft = np.concatenate([f[0] for f in first])
    hard = np.concatenate([f[1] for f in first])
    assert ((soft >= 0) & (soft <= 1)).all() and (hard >= soft).all()
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert 0 < soft.mean() < 1  # a noisy policy with a pit neither always wins nor always loses
    # A different seed gives different rollouts somewhere.
    other = np.concatenate([mc_label_trajectory(env, pol, t, 8, seed=12)[0] for t in trajs])
    assert not np.array_equal(soft, other)


def test_random_policy_values_rise_along_the_expert_path():
    # With a random policy, states nearer the goal succeed more often.
    env = _env(limit=30, trap=True)
    traj = run_episode(env, ExpertPolicy(), seed=0, task_id=3, split="train")
    soft, _, _ = mc_label_trajectory(env, RandomPolicy(), traj, 64, seed=0)
    assert soft[-1] == 1.0
    assert soft[0] < soft[2] < soft[-1]


def test_action_values_of_the_taken_actions_equal_the_rollout_outcomes():
    env = _env(limit=20)
    traj = run_episode(env, NoisyExpertPolicy(0.6, seed=2), seed=2, task_id=4, split="train")
    outcomes, _ = mc_rollout_outcomes(env, NoisyExpertPolicy(0.6), traj, 6, seed=9)
    queries = {t: [s.action] for t, s in enumerate(traj.steps)}
    values, _ = mc_action_values(env, NoisyExpertPolicy(0.6), traj, queries, 6, seed=9)
    assert sorted(values) == list(range(len(traj.steps)))
    for t in values:
        np.testing.assert_array_equal(values[t][0], outcomes[t])


def test_action_values_of_other_candidates_with_exact_cost():
    # Room 0 of task 3 (5 rooms), limit 12: the expert wins after go[next] (4 more
    # moves) and after wait (5 more); jump[pit] ends the episode lost, no rollouts.
    env = _env(limit=12)
    traj = _traj(env, ["go[next]", "jump[pit]"])
    values, cost = mc_action_values(
        env, ExpertPolicy(), traj, {0: ["go[next]", "jump[pit]", "wait"]}, 3
    )
    np.testing.assert_array_equal(values[0], [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    assert cost == LabelCost(
        labelled_steps=3,
        env_steps=3 * (1 + 4) + 1 + 3 * (1 + 5) + 1,  # candidates + rollouts + the replay
        policy_samples=3 * 4 + 3 * 5,
        snapshots=3 + 1 + 3 + 1,  # restores (the pit needs one) and the final restore
        rollout_env_steps=2,
    )
    # The step limit counts from the episode start: at step 1 (room 1) with a limit of
    # 6, 4 steps remain after the candidate: enough from room 2 (3 moves), not from
    # room 0 (5 moves).
    values, _ = mc_action_values(
        env, ExpertPolicy(), traj, {1: ["go[back]", "go[next]"]}, 2, max_episode_steps=6
    )
    np.testing.assert_array_equal(values[1], [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="outside"):
        mc_action_values(env, ExpertPolicy(), traj, {2: ["wait"]}, 2)
    with pytest.raises(ValueError, match="n_rollouts"):
        mc_action_values(env, ExpertPolicy(), traj, {0: ["wait"]}, 0)


def test_replay_mismatch_raises():
    env = _env()
    traj = _traj(env, ["go[next]", "go[next]"], task_id=0)
    bad = Trajectory.from_dict(traj.to_dict())
    bad.steps[1] = Step(observation="somewhere else", action="go[next]")
    with pytest.raises(ReplayMismatchError, match="differs"):
        mc_label_trajectory(env, ExpertPolicy(), bad, 2)
    with pytest.raises(ValueError, match="n_rollouts"):
        mc_label_trajectory(env, ExpertPolicy(), traj, 0)


def test_label_cost_report_compares_with_td():
    rep = label_cost_report(LabelCost(10, 170, 160, 44, 10), 4)
    assert rep["td_extra_env_steps"] == 0 and rep["td_extra_policy_samples"] == 0
    assert rep["mc_env_steps_per_label"] == 17.0
    assert rep["mc_policy_samples_per_label"] == 16.0
    assert rep["mc_over_td_env_steps"] == 18.0  # (10 + 170) / 10


def test_derive_seed_is_stable_and_spread():
    assert derive_seed(1, 2, 3) == derive_seed(1, 2, 3)
    seeds = {derive_seed(0, t, k) for t in range(50) for k in range(16)}
    assert len(seeds) == 800
    assert all(0 <= s < 2**31 for s in seeds)


def test_batch_labelling_in_worker_processes_matches_in_process():
    spec = corridor_env_spec()
    env = gym.make(spec)
    trajs = [
        run_episode(env, NoisyExpertPolicy(0.5, seed=s), seed=s, task_id=s, split="train")
        for s in range(6)
    ]
    one = {r.index: r for r in mc_label_trajectories(spec, "noisy:0.5", trajs, 4, seed=3)}
    two = {
        r.index: r for r in mc_label_trajectories(spec, "noisy:0.5", trajs, 4, seed=3, workers=2)
    }
    assert sorted(one) == list(range(6))
    assert {i: (r.soft, r.hard, r.cost) for i, r in one.items()} == {
        i: (r.soft, r.hard, r.cost) for i, r in two.items()
    }
    # Equal to labelling each trajectory directly with the derived seed.
    t0 = trajs[0]
    soft, hard, cost = mc_label_trajectory(
        env, NoisyExpertPolicy(0.5), t0, 4, derive_seed(3, t0.task_id, t0.seed)
    )
    assert one[0].soft == soft.tolist() and one[0].cost == cost


class _BudgetCorridor:
    """A corridor that truncates itself after ``budget`` steps (like a BabyAI level's
    own ``max_steps``): no TimeLimit wrapper, and no admissible actions once over."""

    @staticmethod
    def make(budget):
        from helpers.chain_env import CorridorEnv

        class Env(CorridorEnv):
            def _begin_task(self, split, task_id):
                self.used = 0
                return super()._begin_task(split, task_id)

            def step(self, action):
                obs, r, term, trunc, info = super().step(action)
                self.used += 1
                if self.used >= budget and not term:
                    trunc = True
                    self._done = True
                    info["admissible_actions"] = []
                return obs, r, term, trunc, info

            def _get_payload(self):
                return (super()._get_payload(), self.used)

            def _set_payload(self, payload):
                inner, self.used = payload
                super()._set_payload(inner)

        return Env(trap=False)


def test_env_own_truncation_ends_rollouts_instead_of_asking_the_policy():
    # Task 3 needs 5 moves; the env itself stops after 6 steps.
    env = _BudgetCorridor.make(6)
    traj = _traj(env, ["wait"] * 6)
    assert traj.truncated and len(traj.steps) == 6
    soft, hard, cost = mc_label_trajectory(env, ExpertPolicy(), traj, 2)
    # after step t, 6 - (t + 1) steps remain: 5 moves fit only after step 0
    np.testing.assert_array_equal(soft, [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(hard, soft)
    # the step that hit the budget is labelled by its own outcome, with no rollouts
    assert cost.policy_samples == 2 * (5 + 4 + 3 + 2 + 1)
