"""Shared Best-of-N gives exactly what best_of_n gives, for every PRM and N."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.agents import NoisyExpertPolicy
from agentprm_gym.benchmarking.shared_bon import shared_best_of_n, shared_best_of_n_lockstep
from agentprm_gym.prm.oracle import OraclePRM, RandomPRM
from agentprm_gym.search import best_of_n

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import corridor_env_spec  # noqa: E402
from helpers.hash_prm import HashPRM  # noqa: E402

FIELDS = ("policy_calls", "sampled_actions", "prm_calls", "prm_items", "env_steps", "snapshots")


@pytest.mark.parametrize("task", [0, 1, 2, 5])
def test_matches_best_of_n(task):
    env = gym.make(corridor_env_spec(max_episode_steps=10))
    prms = {"oracle": OraclePRM(), "random": RandomPRM(), "hash": HashPRM(3)}
    shared = shared_best_of_n(
        env,
        NoisyExpertPolicy(0.6),
        prms,
        [1, 2, 4, 8],
        seed=11,
        task_id=task,
        split="test",
        policy_seed=5,
    )
    for name, make in (("oracle", OraclePRM), ("random", RandomPRM), ("hash", lambda: HashPRM(3))):
        for n in (1, 2, 4, 8):
            ref = best_of_n(
                env,
                NoisyExpertPolicy(0.6),
                make(),
                n,
                seed=11,
                task_id=task,
                split="test",
                policy_seed=5,
            )
            got = shared[(name, n)]
            assert got["won"] == ref.won and got["reward"] == ref.reward, (name, n)
            assert got["branch"].actions == [s.action for s in ref.trajectory.steps]
            assert got["score"] == pytest.approx(ref.score)
            for f in FIELDS:
                assert getattr(got["ledger"], f) == getattr(ref.ledger, f), (name, n, f)


def test_rejects_bad_n():
    env = gym.make(corridor_env_spec())
    with pytest.raises(ValueError):
        shared_best_of_n(env, NoisyExpertPolicy(0.5), {"r": RandomPRM()}, [0, 2])


def test_lockstep_gives_every_task_its_result_alone_in_fewer_calls():
    env = gym.make(corridor_env_spec(max_episode_steps=10))
    tasks, seeds, policy_seeds = [0, 1, 2, 5], [11, 12, 13, 14], [5, 6, 7, 8]

    def prms():
        return {"oracle": OraclePRM(), "random": RandomPRM(), "hash": HashPRM(3)}

    alone_prms, together_prms = prms(), prms()
    alone = [
        shared_best_of_n(
            env,
            NoisyExpertPolicy(0.6),
            alone_prms,
            [1, 2, 4],
            seed=s,
            task_id=t,
            split="test",
            policy_seed=ps,
        )
        for s, t, ps in zip(seeds, tasks, policy_seeds)
    ]
    together = shared_best_of_n_lockstep(
        env,
        NoisyExpertPolicy(0.6),
        together_prms,
        [1, 2, 4],
        seeds=seeds,
        task_ids=tasks,
        split="test",
        policy_seeds=policy_seeds,
    )
    assert len(together) == len(alone)
    for got, ref in zip(together, alone):
        assert got.keys() == ref.keys()
        for key in ref:
            a, b = got[key], ref[key]
            assert (a["won"], a["reward"], a["index"]) == (b["won"], b["reward"], b["index"])
            assert a["score"] == b["score"] and a["branch"].actions == b["branch"].actions
            for f in FIELDS:
                assert getattr(a["ledger"], f) == getattr(b["ledger"], f), (key, f)
    assert len({r[("hash", 4)]["index"] for r in together}) > 1  # the picks differ
    assert together_prms["hash"].stats.calls == 3  # one per N for all four tasks
    assert alone_prms["hash"].stats.calls == 12
    assert together_prms["oracle"].stats.calls == alone_prms["oracle"].stats.calls  # reads states


def test_lockstep_needs_one_task_id_and_policy_seed_per_seed():
    env = gym.make(corridor_env_spec())
    with pytest.raises(ValueError, match="as many"):
        shared_best_of_n_lockstep(
            env, NoisyExpertPolicy(0.5), {"r": RandomPRM()}, [2], seeds=[1, 2], task_ids=[0]
        )


def test_lockstep_with_no_tasks_scores_nothing_and_a_wrong_length_is_an_error():
    env = gym.make(corridor_env_spec())
    hashed = HashPRM(3)
    assert (
        shared_best_of_n_lockstep(env, NoisyExpertPolicy(0.5), {"h": hashed}, [2], seeds=[]) == []
    )
    assert hashed.stats.calls == 0

    class Short(RandomPRM):
        def score(self, items):
            return [0.5] * (len(items) - 1)

    with pytest.raises(RuntimeError, match="shape"):
        shared_best_of_n_lockstep(
            env, NoisyExpertPolicy(0.5), {"s": Short()}, [2], seeds=[1, 2], task_ids=[0, 1]
        )
