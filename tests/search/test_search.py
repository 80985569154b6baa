"""Greedy, Best-of-N and beam search: results, determinism, ledgers, step limits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CorridorEnv  # noqa: E402

from agentprm_gym.agents import ExpertPolicy, NoisyExpertPolicy, Policy  # noqa: E402
from agentprm_gym.prm import OraclePRM, RandomPRM  # noqa: E402
from agentprm_gym.search import Ledger, beam_search, best_of_n, policy_episode  # noqa: E402


class CountingCorridor(CorridorEnv):
    """The corridor, counting what is done to it."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.n_step = self.n_get = self.n_set = 0

    def step(self, action):
        self.n_step += 1
        return super().step(action)

    def get_state(self):
        self.n_get += 1
        return super().get_state()

    def set_state(self, snapshot):
        self.n_set += 1
        return super().set_state(snapshot)


class CountingPolicy(Policy):
    """Delegates to another policy and counts calls and samples itself."""

    name = "counting"

    def __init__(self, inner: Policy) -> None:
        super().__init__()
        self.inner = inner
        self.my_calls = self.my_samples = 0

    def bind(self, env):
        self.inner.bind(env)
        return super().bind(env)

    def seed(self, seed):
        self.inner.seed(seed)

    def _propose(self, observation, info, n):
        self.my_calls += 1
        self.my_samples += n
        return self.inner.propose(observation, info, n)


class WaitPolicy(Policy):
    """Always waits (never finishes the corridor)."""

    name = "wait"

    def _propose(self, observation, info, n):
        return ["wait"] * n


def make_corridor(limit: int = 12, trap: bool = True) -> gym.Env:
    spec = EnvSpec(
        id="AgentPRMTest/CountingCorridor-v0",
        entry_point=CountingCorridor,
        max_episode_steps=limit,
        kwargs={"trap": trap},
    )
    return gym.make(spec)


SEARCHES = {
    "policy": lambda env, pol, prm, s: policy_episode(env, pol, seed=s, split="test"),
    "bon": lambda env, pol, prm, s: best_of_n(env, pol, prm, 5, seed=s, split="test"),
    "beam": lambda env, pol, prm, s: beam_search(env, pol, prm, 3, 3, seed=s, split="test"),
}


def _summary(res):
    return (
        [s.action for s in res.trajectory.steps],
        [s.observation for s in res.trajectory.steps],
        res.reward,
        res.won,
        res.score,
        {k: v for k, v in res.ledger.to_dict().items() if k != "wall_seconds"},
    )


@pytest.mark.parametrize("method", sorted(SEARCHES))
@pytest.mark.parametrize("prm_kind", ["oracle", "random"])
def test_same_seed_same_result(method, prm_kind):
    out = []
    for _ in range(2):
        env = make_corridor()
        prm = OraclePRM() if prm_kind == "oracle" else RandomPRM()
        out.append(
            [_summary(SEARCHES[method](env, NoisyExpertPolicy(0.6), prm, s)) for s in range(6)]
        )
    assert out[0] == out[1]
    # different seeds give different episodes somewhere
    assert len({tuple(r[0]) for r in out[0]}) > 1


@pytest.mark.parametrize("method", sorted(SEARCHES))
@pytest.mark.parametrize("prm_kind", ["oracle", "random"])
def test_ledger_matches_independent_counts(method, prm_kind):
    env = make_corridor()
    base = env.unwrapped
    prm = OraclePRM() if prm_kind == "oracle" else RandomPRM()
    total = Ledger()
    for s in range(4):
        pol = CountingPolicy(NoisyExpertPolicy(0.5))
        before = (base.n_step, base.n_get, base.n_set, prm.stats.calls, prm.stats.items_scored)
        res = SEARCHES[method](env, pol, prm, s)
        led = res.ledger
        assert led.policy_calls == pol.my_calls
        assert led.sampled_actions == pol.my_samples
        assert led.env_steps == base.n_step - before[0]
        assert led.snapshots == (base.n_get - before[1]) + (base.n_set - before[2])
        assert led.prm_calls == prm.stats.calls - before[3]
        assert led.prm_items == prm.stats.items_scored - before[4]
        assert led.prompt_tokens == led.completion_tokens == 0
        assert led.wall_seconds > 0
        if method == "policy":
            assert led.env_steps == len(res.trajectory.steps) == led.policy_calls
            assert led.snapshots == 0 and led.prm_calls == 0
        total.merge(led)
    assert total.env_steps > 0
    assert set(total.to_dict()) == {
        "policy_calls",
        "sampled_actions",
        "prompt_tokens",
        "completion_tokens",
        "prm_calls",
        "prm_items",
        "env_steps",
        "snapshots",
        "wall_seconds",
    }


def test_oracle_search_beats_the_policy_alone_on_corridor():
    env = make_corridor(limit=12)
    tasks = range(8)
    g = [
        policy_episode(env, NoisyExpertPolicy(0.6), seed=t, task_id=t, split="test").won
        for t in tasks
    ]
    b = [
        beam_search(
            env, NoisyExpertPolicy(0.6), OraclePRM(), 4, 4, seed=t, task_id=t, split="test"
        ).won
        for t in tasks
    ]
    n = [
        best_of_n(env, NoisyExpertPolicy(0.6), OraclePRM(), 16, seed=t, task_id=t, split="test").won
        for t in tasks
    ]
    assert all(b) and all(n)
    assert np.mean(g) <= 0.5


def test_beam_with_expert_expands_repeats_once_and_finds_shortest_path():
    env = make_corridor()
    res = beam_search(env, ExpertPolicy(), OraclePRM(), 4, 4, seed=0, task_id=2, split="test")
    n_rooms = 3 + 2 % 4
    assert res.won and res.reward == 1.0 and res.score == 1.0
    assert [s.action for s in res.trajectory.steps] == ["go[next]"] * n_rooms
    # identical samples are stepped once; the 4 kept copies of one state are expanded
    # together (one call of 16 samples)
    assert res.ledger.policy_calls == n_rooms
    assert res.ledger.sampled_actions == 4 + 16 * (n_rooms - 1)
    assert res.ledger.env_steps == res.ledger.prm_items == n_rooms


def _wait_searches(env, bon_n: int) -> tuple:
    """Greedy, Best-of-``bon_n`` and beam 2x2 of a policy that only waits (random PRM)."""
    return (
        policy_episode(env, WaitPolicy(), seed=0),
        best_of_n(env, WaitPolicy(), RandomPRM(), bon_n, seed=0),
        beam_search(env, WaitPolicy(), RandomPRM(), 2, 2, seed=0),
    )


def test_step_limit_from_spec_and_explicit():
    env = make_corridor(limit=7)
    for res in _wait_searches(env, 3):
        assert len(res.trajectory.steps) == 7
        assert res.trajectory.truncated and not res.won
    res = beam_search(env, WaitPolicy(), OraclePRM(), 2, 2, seed=0, max_steps=3)
    assert len(res.trajectory.steps) == 3 and res.trajectory.truncated


class BudgetCorridor(CorridorEnv):
    """A corridor that truncates itself after ``budget`` steps, as BabyAI levels do."""

    budget = 4

    def _begin_task(self, split: str, task_id: int) -> str:
        self.used = 0
        return super()._begin_task(split, task_id)

    def step(self, action: str) -> Any:
        obs, reward, terminated, truncated, info = super().step(action)
        self.used += 1
        if self.used >= self.budget and not terminated:
            truncated = True
            info = {k: v for k, v in info.items() if k != "admissible_actions"}
        return obs, reward, terminated, truncated, info

    def _get_payload(self) -> Any:
        return (super()._get_payload(), self.used)

    def _set_payload(self, payload: Any) -> None:
        inner, self.used = payload
        super()._set_payload(inner)


def test_search_stops_where_the_env_truncates_itself():
    # Before, search ended episodes only at its own step limit and asked the
    # policy for an action after the env's own truncation (BabyAI: a crash).
    env = gym.make(
        EnvSpec(id="BudgetCorridor-v0", entry_point=BudgetCorridor, max_episode_steps=12)
    )
    for res in _wait_searches(env, 2):
        assert len(res.trajectory.steps) == 4
        assert res.trajectory.truncated and not res.won


def test_best_of_n_picks_the_highest_last_step_value():
    class LastActionPRM(RandomPRM):
        """Scores a step 1 if it is go[back]... as the last step, else by the random hash."""

        def _score(self, items):
            return np.array([0.99 if it.action == "jump[pit]" else 0.1 for it in items])

    env = make_corridor()
    res = best_of_n(env, NoisyExpertPolicy(0.5), LastActionPRM(), 12, seed=1, split="test")
    assert res.trajectory.steps[-1].action == "jump[pit]" and not res.won
    assert res.score == pytest.approx(0.99)
    assert res.trajectory.meta["prm_score"] == pytest.approx(0.99)


def test_bad_arguments():
    env = make_corridor()
    with pytest.raises(ValueError):
        best_of_n(env, ExpertPolicy(), RandomPRM(), 0)
    with pytest.raises(ValueError):
        beam_search(env, ExpertPolicy(), RandomPRM(), 0, 2)
    with pytest.raises(ValueError):
        policy_episode(env, ExpertPolicy(), max_steps=0)


@pytest.mark.parametrize("env_id", ["AgentPRM/WebShop-v0", "AgentPRM/ALFWorld-v0"])
def test_real_envs_beam_oracle_wins(env_id):
    env = gym.make(env_id)
    for t in range(4):
        res = beam_search(
            env, NoisyExpertPolicy(0.5), OraclePRM(), 4, 4, seed=t, task_id=t, split="test"
        )
        assert res.won and res.reward == 1.0
        assert len(res.trajectory.steps) <= env.spec.max_episode_steps
        assert res.trajectory.env_id == env_id and res.trajectory.task_id == t
