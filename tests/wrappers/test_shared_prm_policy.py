"""One PRM and one policy shared by several wrappers and envs (a train and an eval env).

Gymnasium's ``RecordConstructorArgs`` deep-copies constructor arguments by
default; the wrappers record the PRM and the policy by reference instead, so a
second wrapper around an already used (bound) PRM or policy works, and the
PRM stays one shared object. Sharing must also give the same results as giving
each wrapper its own PRM and policy.
"""

from __future__ import annotations

import copy
import warnings

import gymnasium as gym
import pytest

import agentprm_gym  # noqa: F401  (registers the ids)
from agentprm_gym.agents import ExpertPolicy, NoisyExpertPolicy
from agentprm_gym.prm import OraclePRM
from agentprm_gym.wrappers import PRMLookahead, PRMReward

ENV = "AgentPRM/ALFWorld-v0"


def _run(shared: bool) -> list:
    """Interleave two PRMReward and two PRMLookahead envs (train and test splits)."""
    prms = [OraclePRM()] if shared else [OraclePRM() for _ in range(4)]
    pols = [ExpertPolicy()] if shared else [ExpertPolicy() for _ in range(2)]
    envs = [
        PRMReward(gym.make(ENV), prms[0], mode="potential"),
        PRMReward(gym.make(ENV, split="test"), prms[-1], mode="progress"),
        PRMLookahead(gym.make(ENV), prms[0], policy=pols[0], n=2),
        PRMLookahead(gym.make(ENV, split="test"), prms[-1], policy=pols[-1], n=2, depth=1),
    ]
    if shared:
        assert all(e.prm is prms[0] for e in envs)
        assert envs[2].policy is envs[3].policy is pols[0]
    infos = [e.reset(seed=s)[1] for s, e in enumerate(envs)]
    done = [False] * len(envs)
    log = []
    for _ in range(60):
        for i, e in enumerate(envs):
            if done[i]:
                continue
            # PRMLookahead gets no action (None): the shared policy proposes
            expert = isinstance(e, PRMReward)
            action = e.get_wrapper_attr("expert_action")() if expert else None
            obs, r, term, trunc, infos[i] = e.step(action)
            done[i] = term or trunc
            extra = infos[i].get("prm") or infos[i]["lookahead"]["choice"]
            log.append((i, obs, r, term, trunc, extra))
        if all(done):
            break
    assert all(done)
    assert all(info["won"] for info in infos), "an env was steered by another env's expert"
    for e in envs:
        e.close()
    return log


def test_shared_prm_and_policy_give_the_results_of_separate_ones():
    assert _run(shared=True) == _run(shared=False)


def test_second_wrapper_around_a_used_prm_and_policy():
    prm = OraclePRM()
    policy = NoisyExpertPolicy(0.5, seed=0)
    first = PRMLookahead(gym.make(ENV), prm, policy=policy)
    first.reset(seed=0)
    first.step(None)  # prm and policy are bound to first's env now
    second = PRMReward(gym.make(ENV), prm)  # used to raise: cannot pickle 'mappingproxy'
    third = PRMLookahead(gym.make(ENV), prm, policy=policy)  # and '_thread.lock'
    for w in (second, third):
        w.reset(seed=1)
    second.step("look")
    *_, info = third.step()  # step() without an argument: the policy proposes too
    assert info["lookahead"]["ledger"]["policy_calls"] == 1
    assert second.spec.additional_wrappers[-1].kwargs["prm"] is prm
    assert third.spec.additional_wrappers[-1].kwargs["policy"] is policy


def test_make_vec_wrappers_share_one_prm():
    prm = OraclePRM()
    vec = gym.make_vec(
        ENV, num_envs=3, vectorization_mode="sync", wrappers=[lambda e: PRMReward(e, prm)]
    )
    try:
        _, info = vec.reset(seed=0)
        _, r, *_ = vec.step(["look", "inventory", "look"])
        assert r.shape == (3,)
        assert prm.stats.calls == 3
    finally:
        vec.close()


def test_outer_wrapper_spec_and_deepcopy_keep_the_env_binding():
    prm = OraclePRM()
    env = gym.wrappers.RecordEpisodeStatistics(PRMReward(gym.make(ENV), prm))
    env.reset(seed=0)
    env.step("look")  # binds prm to the env
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns when it cannot copy a spec
        spec = env.spec
    assert spec is not None
    twin = copy.deepcopy(prm)
    assert twin is not prm and twin.env is prm.env and twin.decay == prm.decay
    assert twin.stats is not prm.stats and twin.stats == prm.stats
    policy = NoisyExpertPolicy(0.3, env=prm.env, seed=4)
    clone = copy.deepcopy(policy)
    assert clone.env is policy.env and clone.rng is not policy.rng
    assert clone.rng.random() == policy.rng.random()  # same RNG state, copied
    env.close()


def test_step_none_with_no_policy_scores_every_admissible_action():
    env = PRMLookahead(gym.make(ENV), OraclePRM())
    _, info0 = env.reset(seed=0)
    *_, info = env.step(None)
    assert info["lookahead"]["candidates"] == info0["admissible_actions"]
    with pytest.raises(TypeError, match="None"):
        env.step(3)
