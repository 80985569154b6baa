"""HFPolicy on a tiny random-weight llama (and, marked slow, the shipped SmolLM2 GGUF)."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.chain_env import corridor_env_spec  # noqa: E402
from tiny_lm import build_tiny_lm  # noqa: E402

from agentprm_gym.agents import HFPolicy, make_policy  # noqa: E402
from agentprm_gym.agents.prompting import render_prompt  # noqa: E402
from agentprm_gym.prm import RandomPRM  # noqa: E402
from agentprm_gym.rollout import run_episode  # noqa: E402
from agentprm_gym.search import beam_search  # noqa: E402

INFO = {
    "instruction": "Walk to room 3.",
    "admissible_actions": ["go[next]", "wait", "jump[pit]"],
    "steps": 0,
}


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-llama"))


def test_sampling_is_seeded_and_counted(tiny_dir):
    p = HFPolicy(tiny_dir, seed=3, max_new_tokens=6)
    a = p.propose("You are in room 0 of 3.", INFO, 4)
    assert len(a) == 4 and all(isinstance(x, str) for x in a)
    prompt = render_prompt(p.messages("You are in room 0 of 3.", INFO), p.tokenizer)
    assert "<|assistant|>" in prompt  # the chat template was used
    n_prompt = len(p.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert p.stats.prompt_tokens == n_prompt
    assert 4 <= p.stats.completion_tokens <= 4 * 6
    assert p.stats.calls == 1 and p.stats.sampled_actions == 4
    q = HFPolicy(tiny_dir, seed=3, max_new_tokens=6)
    assert q.propose("You are in room 0 of 3.", INFO, 4) == a
    assert q.last_texts == p.last_texts
    r = HFPolicy(tiny_dir, seed=4, max_new_tokens=6)
    r.propose("You are in room 0 of 3.", INFO, 4)
    assert r.last_texts != p.last_texts


def test_greedy_decoding_repeats(tiny_dir):
    p = HFPolicy(tiny_dir, temperature=0.0, max_new_tokens=6)
    a = p.propose("You are in room 0 of 3.", INFO, 3)
    assert a[0] == a[1] == a[2]


def test_plays_an_episode_and_a_beam_search_with_token_ledger(tiny_dir):
    env = gym.make(corridor_env_spec(max_episode_steps=2))
    p = make_policy(f"hf:{tiny_dir}", seed=0)
    assert isinstance(p, HFPolicy)
    p.max_new_tokens = 3
    traj = run_episode(env, p, seed=0)
    assert 1 <= len(traj.steps) <= 2
    before = p.stats.snapshot()
    res = beam_search(env, p, RandomPRM(), 2, 2, seed=1)
    assert res.ledger.prompt_tokens == p.stats.prompt_tokens - before.prompt_tokens > 0
    assert res.ledger.completion_tokens == p.stats.completion_tokens - before.completion_tokens > 0


def test_plain_prompt_without_template_and_bad_paths(tiny_dir, tmp_path):
    plain = build_tiny_lm(tmp_path / "plain", chat_template=False)
    p = HFPolicy(plain, max_new_tokens=4)
    assert render_prompt(p.messages("o", INFO), p.tokenizer).endswith("Assistant:")
    assert len(p.propose("o", INFO, 2)) == 2
    with pytest.raises(FileNotFoundError):
        HFPolicy(tmp_path / "nothing-here")
    with pytest.raises(ValueError):
        HFPolicy(tiny_dir, temperature=-1)


@pytest.mark.slow
def test_smollm2_gguf_loads_offline_and_proposes():
    p = HFPolicy("smollm2", seed=0, max_new_tokens=8)
    env = gym.make("AgentPRM/ALFWorld-v0")
    obs, info = env.reset(seed=0)
    acts = p.propose(obs, info, 2)
    assert len(acts) == 2 and all(acts)
    assert p.stats.prompt_tokens > 100 and 2 <= p.stats.completion_tokens <= 16
    assert p.model_path.endswith(".gguf")
