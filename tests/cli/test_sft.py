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


def _files(d: Path) -> dict[str, bytes]:
    return {str(f.relative_to(d)): f.read_bytes() for f in sorted(d.rglob("*")) if f.is_file()}


@pytest.fixture
def no_model(monkeypatch):
    """Fails the test if sft loads a model (its checks must come first)."""
    import agentprm_gym.sft as sft

    def load_causal_lm(model):
        raise AssertionError("sft loaded the model")

    monkeypatch.setattr(sft, "load_causal_lm", load_causal_lm)


def _prm_dir(path: Path) -> Path:
    path.mkdir()
    (path / "prm_config.json").write_text('{"format": "agentprm-gym/prm"}')
    (path / "model.safetensors").write_bytes(b"the PRM's weights")
    return path


def test_sft_refuses_an_out_it_must_not_write_before_loading_the_model(tmp_path, capsys, no_model):
    prm = _prm_dir(tmp_path / "prm")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    a_file = tmp_path / "t.txt"
    a_file.write_text("x")
    before = {p: _files(p) for p in (prm, other)}
    cases = [
        ([str(tmp_path / "new"), "--max-minutes", "-1"], "--max-minutes must be > 0"),
        ([str(tmp_path / "new"), "--max-minutes", "0"], "--max-minutes must be > 0"),
        ([str(prm)], f"--out {prm} holds a PRM (prm_config.json)"),
        ([str(prm), "--max-minutes", "1"], "holds a PRM"),
        ([str(other)], f"--out {other} holds files that are not an earlier sft output"),
        ([str(a_file)], f"--out {a_file} is an existing file"),
        ([str(a_file / "sub")], f"--out {a_file / 'sub'} is not writable"),
    ]
    with registered_corridor(max_episode_steps=12):
        for extra, message in cases:
            argv = ["sft", "--env", CORRIDOR_ID, "--episodes", "1", "--out", *extra]
            assert main(argv) == 2, extra
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and message in err, err
            assert "no such file" not in err
    assert {p: _files(p) for p in (prm, other)} == before and a_file.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "prm", "t.txt"]


def test_run_sft_checks_before_loading_the_model(tmp_path, no_model):
    from agentprm_gym.outdir import OutputDirError
    from agentprm_gym.sft import run_sft

    prm = _prm_dir(tmp_path / "prm")
    with pytest.raises(OutputDirError, match="holds a PRM"):
        run_sft(CORRIDOR_ID, "m", prm, episodes=1)
    with pytest.raises(ValueError, match="max_minutes must be > 0"):
        run_sft(CORRIDOR_ID, "m", tmp_path / "new", episodes=1, max_minutes=0)
    assert not (tmp_path / "new").exists()


def _earlier_sft_output(path: Path) -> Path:
    path.mkdir()
    (path / "sft_info.json").write_text('{"episodes": 1}')
    (path / "model.safetensors").write_bytes(b"old weights")
    (path / "model-00002-of-00002.safetensors").write_bytes(b"an old shard")
    (path / "notes.txt").write_text("mine")
    return path


def test_sft_replaces_an_earlier_sft_output_and_a_failed_run_leaves_it(
    tmp_path, capsys, monkeypatch, one_thread
):
    import agentprm_gym.sft as sft

    base = _tiny_model(tmp_path / "base")
    out = _earlier_sft_output(tmp_path / "sft")
    before = _files(out)
    argv = ["sft", "--env", CORRIDOR_ID, "--episodes", "2", "--model", str(base)]
    argv += ["--out", str(out), "--epochs", "1", "--batch-size", "4", "--no-progress"]
    fine_tune = sft.fine_tune

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    with registered_corridor(max_episode_steps=12):
        monkeypatch.setattr(sft, "fine_tune", interrupted)
        assert main(argv) == 130
        assert _files(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "sft"]
        monkeypatch.setattr(sft, "fine_tune", fine_tune)
        capsys.readouterr()
        assert main(argv) == 0
    assert f"replacing the earlier sft output in {out}" in capsys.readouterr().err
    info = json.loads((out / "sft_info.json").read_text())
    assert info["out"] == str(out) and info["episodes"] == 2
    assert (out / "model.safetensors").read_bytes() != b"old weights"
    assert not (out / "model-00002-of-00002.safetensors").exists()  # the old model's
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "sft"]
    from agentprm_gym.sft import load_causal_lm

    assert load_causal_lm(str(out))[0] is not None


def test_check_sft_out_accepts_an_earlier_output_put_aside_by_a_killed_run(tmp_path):
    from agentprm_gym.outdir import OutputDirError
    from agentprm_gym.sft import check_sft_out

    out = tmp_path / "sft"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"partial new weights")
    with pytest.raises(OutputDirError, match="not an earlier sft output"):
        check_sft_out(out)
    aside = out / ".replaced-0a1b"
    aside.mkdir()
    (aside / "sft_info.json").write_text("{}")
    assert check_sft_out(out) is True
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match="not an earlier sft output"):
        check_sft_out(out)
