"""PRMReward: modes, shaping identities, check_env and vector envs."""

from __future__ import annotations

import sys
import warnings
from functools import partial
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import corridor_env_spec  # noqa: E402

from agentprm_gym.agents import NoisyExpertPolicy  # noqa: E402
from agentprm_gym.prm import OraclePRM, RandomPRM  # noqa: E402
from agentprm_gym.wrappers import PRMReward  # noqa: E402


def _episode(env, seed, policy_seed=0, eps=0.5):
    """Play one episode with a noisy expert; return the per-step (reward, info) list."""
    pol = NoisyExpertPolicy(eps, seed=policy_seed).bind(env)
    obs, info = env.reset(seed=seed)
    out = []
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(pol.act(obs, info))
        out.append((float(r), info, term))
        done = term or trunc
    return out


@pytest.mark.parametrize("env_id", ["AgentPRM/ALFWorld-v0", "AgentPRM/WebShop-v0"])
def test_mode_identities_with_oracle(env_id):
    for seed in range(3):
        runs = {}
        for mode in ("promise", "progress", "potential"):
            env = PRMReward(gym.make(env_id), OraclePRM(), mode=mode, coef=0.5)
            runs[mode] = _episode(env, seed, policy_seed=seed)
        # same actions in every mode (the wrapper never changes the env)
        assert [i["prm"]["env_reward"] for _, i, _ in runs["promise"]] == [
            i["prm"]["env_reward"] for _, i, _ in runs["potential"]
        ]
        q = np.array([i["prm"]["promise"] for _, i, _ in runs["promise"]])
        assert np.all((q >= 0) & (q <= 1))
        for steps in runs.values():
            for r, info, _ in steps:
                p = info["prm"]
                assert set(p) == {"promise", "progress", "shaping", "env_reward"}
                assert r == pytest.approx(p["env_reward"] + 0.5 * p["shaping"])
            prog = np.array([i["prm"]["progress"] for _, i, _ in steps])
            assert prog == pytest.approx(np.diff(q, prepend=0.0))
        assert [i["prm"]["shaping"] for _, i, _ in runs["promise"]] == pytest.approx(q)
        # progress telescopes to the last promise; potential (gamma=1) to 0 when terminated
        shp_prog = sum(i["prm"]["shaping"] for _, i, _ in runs["progress"])
        assert shp_prog == pytest.approx(q[-1])
        shp_pot = [i["prm"]["shaping"] for _, i, _ in runs["potential"]]
        if runs["potential"][-1][2]:
            assert sum(shp_pot) == pytest.approx(0.0, abs=1e-12)
        else:
            assert sum(shp_pot) == pytest.approx(q[-1])
        assert shp_pot[0] == pytest.approx(q[0])


def test_potential_with_discount_and_replace():
    gamma = 0.9
    env = PRMReward(
        gym.make(corridor_env_spec()), OraclePRM(), "potential", gamma=gamma, replace=True
    )
    steps = _episode(env, 3, eps=0.3)
    q = [i["prm"]["promise"] for _, i, _ in steps]
    for t, (r, info, term) in enumerate(steps):
        phi_next = 0.0 if term else q[t]
        phi = q[t - 1] if t > 0 else 0.0
        assert r == pytest.approx(gamma * phi_next - phi)
        assert info["prm"]["shaping"] == pytest.approx(r)
    # discounted shaping return of a terminated episode is -Phi(s0) = 0
    if steps[-1][2]:
        assert sum(gamma**t * r for t, (r, _, _) in enumerate(steps)) == pytest.approx(
            0.0, abs=1e-12
        )


def test_text_prm_scores_history_and_reset_clears_it():
    seen = []

    class Spy(RandomPRM):
        def _score(self, items):
            seen.extend(items)
            return super()._score(items)

    env = PRMReward(gym.make(corridor_env_spec()), Spy(), mode="promise")
    obs0, info = env.reset(seed=1)
    obs1, *_ = env.step("wait")
    env.step("go[next]")
    assert seen[0].history == (obs0,) and seen[0].action == "wait"
    assert seen[1].history == ((obs0, "wait"), obs1) and seen[1].next_state is None
    assert seen[0].instruction == info["instruction"]
    env.reset(seed=1)
    env.step("wait")
    assert seen[2].history == (obs0,)


def test_bad_arguments_and_step_before_reset():
    base = gym.make(corridor_env_spec())
    with pytest.raises(ValueError):
        PRMReward(base, RandomPRM(), mode="nope")
    with pytest.raises(ValueError):
        PRMReward(base, RandomPRM(), mode="potential", gamma=1.5)
    with pytest.raises(gym.error.ResetNeeded):
        PRMReward(base, RandomPRM()).step("wait")


@pytest.mark.parametrize("mode", ["promise", "progress", "potential"])
def test_check_env(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(
            PRMReward(gym.make("AgentPRM/ALFWorld-v0"), OraclePRM(), mode=mode),
            skip_render_check=True,
        )
        check_env(
            PRMReward(gym.make(corridor_env_spec()), RandomPRM(), mode=mode), skip_render_check=True
        )


@pytest.mark.parametrize("vmode", ["sync", "async"])
def test_inside_make_vec_matches_single_envs(vmode):
    prm = OraclePRM()  # one object shared by the sub-envs (sync) or copied per worker (async)
    kwargs = {"shared_memory": False} if vmode == "async" else {}
    vec = gym.make_vec(
        corridor_env_spec(),
        num_envs=2,
        vectorization_mode=vmode,
        vector_kwargs=kwargs,
        wrappers=[partial(PRMReward, prm=prm, mode="potential")],
    )
    singles = [
        PRMReward(gym.make(corridor_env_spec()), OraclePRM(), mode="potential") for _ in range(2)
    ]
    try:
        obs, info = vec.reset(seed=[4, 5])
        s_out = [e.reset(seed=s) for e, s in zip(singles, (4, 5))]
        assert list(obs) == [o for o, _ in s_out]
        plan = [["go[next]", "wait"], ["jump[pit]", "go[next]"], ["go[next]", "go[back]"]]
        for acts in plan:
            obs, r, term, trunc, info = vec.step(acts)
            for i, e in enumerate(singles):
                o, ri, ti, _, ii = e.step(acts[i])
                assert obs[i] == o and r[i] == pytest.approx(ri) and term[i] == ti
                assert info["prm"]["promise"][i] == pytest.approx(ii["prm"]["promise"])
            if term.any():
                break
    finally:
        vec.close()
