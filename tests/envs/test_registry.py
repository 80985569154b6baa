"""Registry-driven tests: every registered id obeys the env contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentprm_gym.registration import ENV_TABLE

sys.path.insert(0, str(Path(__file__).parent))
from registry_cases import env_params, rollout_hash, rollout_record  # noqa: E402

IDS = env_params()
BROWSER_IDS = {row.id for row in ENV_TABLE if row.needs_browser}


def test_table_ids_are_registered():
    for row in ENV_TABLE:
        assert row.id in gym.registry
        assert gym.spec(row.id).max_episode_steps == row.max_episode_steps


@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id):
    env = gym.make(env_id)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_contract_info_keys_and_type_error(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=1)
    assert isinstance(obs, str)
    for key in ("instruction", "admissible_actions", "action_error", "won"):
        assert key in info, key
    assert isinstance(info["admissible_actions"], list) and info["admissible_actions"]
    assert all(isinstance(a, str) for a in info["admissible_actions"])
    with pytest.raises(TypeError):
        env.step(123)
    obs, *_, info = env.step(info["admissible_actions"][0])
    assert env.observation_space.contains(obs)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episode(env_id):
    assert rollout_record(env_id, 7) == rollout_record(env_id, 7)


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episode_in_another_process(env_id):
    here = rollout_hash(env_id, 11)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from registry_cases import rollout_hash;"
        f"print(rollout_hash({env_id!r}, 11))"
    )
    env = dict(os.environ, PYTHONHASHSEED="123")
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == here


@pytest.mark.parametrize("env_id", IDS)
def test_snapshot_restores_the_rest_of_the_episode(env_id):
    # TimeLimit counts steps outside the snapshot: step the unwrapped env.
    env = gym.make(env_id).unwrapped
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=3)
    for _ in range(2):
        obs, _, term, trunc, info = env.step(info["admissible_actions"][0])
        if term or trunc:
            obs, info = env.reset(seed=4)
    get_state = env.get_wrapper_attr("get_state")
    set_state = env.get_wrapper_attr("set_state")
    snap = get_state()
    acts_seq = [int(rng.integers(1000)) for _ in range(6)]

    def play():
        out = []
        inf = info
        for k in acts_seq:
            acts = inf["admissible_actions"]
            if not acts:
                break
            o, r, te, _, inf = env.step(acts[k % len(acts)])
            out.append((o, r, te, inf["won"], inf["action_error"], inf["admissible_actions"]))
            if te:
                break
        return out

    first = play()
    set_state(snap)
    second = play()
    assert first == second
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_expert_methods_exist(env_id):
    env = gym.make(env_id)
    _, info = env.reset(seed=2)
    a = env.get_wrapper_attr("expert_action")()
    assert isinstance(a, str) and a
    left = env.get_wrapper_attr("expert_steps_left")()
    assert left is None or (isinstance(left, int) and left >= 0)
    env.close()


ADVERSARIAL = [
    "",
    " ",
    "[",
    "]",
    "[]",
    "click[",
    "click[]",
    "click[[[]]]",
    "search[" + "a" * 5000 + "]",
    "x" * 100_000,
    "<script>alert(1)</script>",
    "click[<img src=x onerror=alert(1)>]",
    "\x00\x01\x02",
    "🙂🙃 ünïcödé",
    "go to",
    "take from",
    "craft 1 using",
    "type[1]",
    "goto[http://example.com]",
    "__import__('os').system('true')",
    "{{7*7}}",
    "\n\n\t",
]


def _fuzz_strategy():
    return st.one_of(
        st.sampled_from(ADVERSARIAL),
        st.text(max_size=300),
        st.builds(lambda a, b: f"{a}[{b}]", st.text(max_size=20), st.text(max_size=40)),
    )


@pytest.mark.parametrize("env_id", IDS)
def test_fuzzed_actions_never_raise_and_keep_state(env_id):
    env = gym.make(env_id).unwrapped
    checked = {"n": 0}

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(action=_fuzz_strategy(), seed=st.integers(0, 50))
    def run(action, seed):
        obs, info = env.reset(seed=seed)
        snap = env.get_state()
        valid = info["admissible_actions"][0]
        obs2, r, term, trunc, info2 = env.step(action)
        assert env.observation_space.contains(obs2)
        assert isinstance(info2["action_error"], str | type(None))
        if info2["action_error"] is not None:
            checked["n"] += 1
            assert r == 0.0 and not term
            after_err = env.step(valid)
            env.set_state(snap)
            direct = env.step(valid)
            assert after_err[0] == direct[0] and after_err[1] == direct[1]

    run()
    env.close()
    assert checked["n"] > 0


def _random_action(rng: np.random.Generator, admissible: list[str]) -> str:
    """A random, adversarial or near-valid action string."""
    kind = int(rng.integers(6))
    if kind == 0:
        return ADVERSARIAL[int(rng.integers(len(ADVERSARIAL)))]
    if kind == 1 and admissible:  # near-valid: mutate an admissible action
        a = list(admissible[int(rng.integers(len(admissible)))])
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(a) + 1))
            op = int(rng.integers(3))
            if op == 0 and a:
                del a[min(i, len(a) - 1)]
            elif op == 1:
                a.insert(i, chr(int(rng.integers(32, 0x2FF))))
            elif a:
                a[min(i, len(a) - 1)] = "]["[int(rng.integers(2))]
        return "".join(a)
    if kind == 2:
        n = int(rng.integers(0, 80))
        return "".join(chr(int(c)) for c in rng.integers(1, 0x3000, size=n))
    if kind == 3:
        return f"<div onclick='x()'>{'[' * int(rng.integers(5))}</div>"
    return admissible[int(rng.integers(len(admissible)))] if admissible else "look"


@pytest.mark.slow
@pytest.mark.parametrize("env_id", IDS)
def test_fuzz_bulk_10000_actions(env_id):
    """10,000 random/adversarial/near-valid actions per id (browser ids included, each
    step driving Chromium): no exception, obs in space."""
    n = 10_000
    env = gym.make(env_id)
    rng = np.random.default_rng(12345)
    obs, info = env.reset(seed=0)
    errors = 0
    for i in range(n):
        a = _random_action(rng, info["admissible_actions"])
        obs, r, term, trunc, info = env.step(a)
        assert env.observation_space.contains(obs)
        errors += info["action_error"] is not None
        if term or trunc:
            obs, info = env.reset(seed=i)
    env.close()
    assert errors > n // 10


def test_registered_step_limit_known_unknown_and_without():
    from agentprm_gym.registration import registered_step_limit

    assert registered_step_limit("AgentPRM/WebShop-v0") == 15
    with pytest.raises(LookupError, match="Someone/Elsewhere-v0 is not registered in this process"):
        registered_step_limit("Someone/Elsewhere-v0")
    gym.register(
        id="AgentPRMTest/NoLimit-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv"
    )
    try:
        assert registered_step_limit("AgentPRMTest/NoLimit-v0") is None
    finally:
        del gym.registry["AgentPRMTest/NoLimit-v0"]
