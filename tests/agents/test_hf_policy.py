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

from agentprm_gym.agents import (  # noqa: E402
    HFPolicy,
    RandomPolicy,  # noqa: E402
    make_policy,
)
from agentprm_gym.agents.prompting import render_prompt  # noqa: E402
from agentprm_gym.prm import RandomPRM  # noqa: E402
from agentprm_gym.rollout import run_episode  # noqa: E402
from agentprm_gym.search import beam_search, greedy  # noqa: E402

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


def test_greedy_search_decodes_at_temperature_zero(tiny_dir):
    env = gym.make(corridor_env_spec(max_episode_steps=2))
    p = HFPolicy(tiny_dir, seed=0, max_new_tokens=3)
    runs = [greedy(env, p, seed=s, task_id=0, split="test") for s in (0, 1)]
    assert p.temperature == 0.7  # restored
    # temperature 0: the policy seed changes nothing
    assert [x.action for x in runs[0].trajectory.steps] == [
        x.action for x in runs[1].trajectory.steps
    ]
    assert runs[0].trajectory.meta["search"] == "greedy"
    with pytest.raises(ValueError, match="temperature"):
        greedy(env, RandomPolicy(), seed=0)


def _forward_logprob(p, observation, completion_ids):
    """The model's log-probability of ``completion_ids`` after the prompt, by one forward pass."""
    import torch

    prompt = render_prompt(p.messages(observation, INFO), p.tokenizer)
    ids = p.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    full = torch.cat([ids, torch.tensor([completion_ids])], dim=1)
    with torch.no_grad():
        logits = p.model(full).logits[0, ids.shape[1] - 1 : -1]
    logp = torch.log_softmax(logits.float(), dim=-1)
    return float(logp.gather(-1, torch.tensor(completion_ids).unsqueeze(-1)).sum())


def test_log_probabilities_are_the_models(tiny_dir):
    import torch

    obs = "You are in room 0 of 3."
    g = HFPolicy(tiny_dir, temperature=0.0, max_new_tokens=6)
    acts, lps = g.propose_with_logprobs(obs, INFO, 3)
    assert len(acts) == len(lps) == 3 and lps[0] == lps[1] == lps[2] < 0
    # the greedy completion, cut as the policy cuts it (up to and including EOS)
    prompt = render_prompt(g.messages(obs, INFO), g.tokenizer)
    ids = g.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = g.model.generate(
            input_ids=ids, max_new_tokens=6, do_sample=False, pad_token_id=g.tokenizer.pad_token_id
        )
    new = out[0, ids.shape[1] :].tolist()
    eos = g.tokenizer.eos_token_id
    new = new[: new.index(eos) + 1] if eos in new else new
    assert lps[0] == pytest.approx(_forward_logprob(g, obs, new), abs=1e-3)
    # asking for log-probabilities does not change what is sampled
    a = HFPolicy(tiny_dir, seed=5, max_new_tokens=6)
    b = HFPolicy(tiny_dir, seed=5, max_new_tokens=6)
    acts_a, lps_a = a.propose_with_logprobs(obs, INFO, 4)
    assert b.propose(obs, INFO, 4) == acts_a and a.last_texts == b.last_texts
    assert len(lps_a) == 4 and all(x < 0 for x in lps_a)
    assert not a.want_logprobs


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
    prior = beam_search(env, p, RandomPRM(), 2, 2, seed=1, prior=0.5)
    again = beam_search(env, p, RandomPRM(), 2, 2, seed=1, prior=0.5)
    assert [s.action for s in prior.trajectory.steps] == [s.action for s in again.trajectory.steps]
    assert prior.trajectory.meta["prior"] == 0.5


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
