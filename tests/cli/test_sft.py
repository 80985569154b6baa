"""``agentprm-gym sft`` on a tiny random llama and a tokenizer built here (no downloads)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from agentprm_gym.cli import main  # noqa: E402
from agentprm_gym.sft import SFTExample, _encode, expert_episodes, sft_examples  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CORRIDOR_ID, registered_corridor  # noqa: E402

CORPUS = [
    "System: You are an agent. Thought: Action: go[next] go[back] wait jump[pit]",
    "User: Task: reach the last room. Current observation: You are in room 0 of 3.",
    "Valid actions: - go[next] - wait - jump[pit] A pit lies beside the path. Recent steps:",
    "Assistant: What is your next step? Reply with a Thought line and an Action line.",
]


def _tiny_model(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>")
    cfg = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def test_encode_masks_only_the_prompt():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "a": 2, "b": 3, "Action:": 4, "x": 5}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", pad_token="<pad>")
    ((ids, n),) = _encode([SFTExample("a b a b", "Action: x <eos>")], fast, max_length=100)
    assert ids == [2, 3, 2, 3, 4, 5, 1] and n == 4
    ((ids, n),) = _encode([SFTExample("a b a b", "Action: x <eos>")], fast, max_length=5)
    assert ids == [2, 3, 4, 5, 1] and n == 2  # prompt cut from the left, target kept


@pytest.fixture
def one_thread():
    """Tiny models train fastest on one thread (and do not fight other tests for cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_sft_trains_saves_and_loads(tmp_path, one_thread):
    from agentprm_gym.agents.hf_policy import HFPolicy

    base = _tiny_model(tmp_path / "base")
    out = tmp_path / "sft"
    with registered_corridor(max_episode_steps=12):
        trajs = expert_episodes(CORRIDOR_ID, 3, seed=5, show_progress=False)
        rc = main(
            [
                "sft",
                "--env",
                CORRIDOR_ID,
                "--episodes",
                "4",
                "--model",
                str(base),
                "--out",
                str(out),
                "--epochs",
                "5",
                "--lr",
                "3e-3",
                "--batch-size",
                "4",
                "--json",
            ]
        )
    assert rc == 0
    info = json.loads((out / "sft_info.json").read_text())
    assert info["episodes"] == 4 and info["expert_success_rate"] == 1.0
    assert info["examples"] > 4 and info["optimizer_steps"] > 0
    assert info["final_loss"] < info["first_loss"]
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    assert not list(out.glob("*.bin")) and not list(out.glob("*.pt"))

    policy = HFPolicy(str(out), seed=0, temperature=0.0, max_new_tokens=8)
    # the SFT prompt at step 1 is exactly the prompt the policy renders there
    ex = sft_examples(trajs[:1], policy.tokenizer)
    t = trajs[0]
    s0, s1 = t.steps[0], t.steps[1]
    info1 = {
        "instruction": t.instruction,
        "admissible_actions": s1.admissible_actions,
        "history": [(s0.observation, s0.action)],
    }
    from agentprm_gym.agents.prompting import render_prompt

    assert ex[1].prompt == render_prompt(policy.messages(s1.observation, info1), policy.tokenizer)
    assert ex[1].target == f"Action: {s1.action}<eos>"
    acts = policy.propose(s1.observation, info1, 2)
    assert len(acts) == 2 and all(isinstance(a, str) for a in acts)


def test_bad_arguments():
    assert main(["sft", "--env", "AgentPRM/NoSuch-v0", "--out", "/tmp/x"]) == 2
    assert main(["sft", "--env", CORRIDOR_ID, "--episodes", "0", "--out", "/tmp/x"]) == 2
