from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from agentprm_gym.prm.base import ScoreItem
from agentprm_gym.prm.model import AgentPRM, CheckpointError, check_weights

CORPUS = ["You are in room 1 of 5. go[next] wait jump[pit] Walk to room 5."]


def _items():
    h0 = ("You are in room 0 of 5.",)
    h1 = (("You are in room 0 of 5.", "go[next]"), "You are in room 1 of 5.")
    return [
        ScoreItem("Walk to room 5.", h0, "go[next]"),
        ScoreItem("Walk to room 5.", h0, "jump[pit]"),
        ("Walk to room 5.", h1, "wait"),
    ]


@pytest.fixture(scope="module")
def prm():
    return AgentPRM.create("tiny", tiny_corpus=CORPUS, seed=3, max_length=64)


@pytest.fixture(scope="module")
def saved(prm, tmp_path_factory):
    d = tmp_path_factory.mktemp("prm")
    prm.save_pretrained(d)
    return d


def test_scores_in_unit_interval_batched_and_cached(prm):
    prm.clear_cache()
    q1 = prm.score(_items())
    assert q1.shape == (3,) and np.all((q1 > 0) & (q1 < 1))
    assert q1[0] != q1[1]
    hits = prm.stats.cache_hits
    q2 = prm.score(_items())
    assert prm.stats.cache_hits == hits + 3
    np.testing.assert_array_equal(q1, q2)
    np.testing.assert_allclose(
        prm.score_texts([prm.format(i) for i in _items()], batch_size=1), q1, atol=1e-6
    )


def test_cache_is_bounded(prm):
    small = AgentPRM(prm.net, prm.tokenizer, prm.config, cache_size=2)
    small.score(_items())
    assert len(small._cache) == 2


def test_token_offset_memo_is_bounded_and_changes_no_text(prm, monkeypatch):
    import agentprm_gym.prm.model as model

    long_obs = " ".join(f"room{i}" for i in range(500))
    items = [*_items(), ("Walk to room 5.", (long_obs,), "go[next]")]
    fresh = AgentPRM(prm.net, prm.tokenizer, prm.config)
    expected = [fresh.format(it) for it in items]  # every text counted once, uncached
    monkeypatch.setattr(model, "_STARTS_CACHE_SIZE", 3)
    small = AgentPRM(prm.net, prm.tokenizer, prm.config)
    for _ in range(2):  # the second pass mixes memo hits and recounts after eviction
        assert [small.format(it) for it in items] == expected
        assert len(small._starts) == 3


def test_progress_is_difference_of_promise(prm):
    items = _items()
    q = prm.score(items)
    np.testing.assert_allclose(prm.progress(items), np.diff(q, prepend=0.0))


def test_model_truncation_respects_token_budget(prm):
    long_obs = " ".join(f"room{i}" for i in range(500))
    text = prm.format(("Walk to room 5.", (long_obs,), "go[next]"))
    assert text.endswith("Candidate action: go[next]")
    assert len(prm.tokenizer(text)["input_ids"]) <= 64


def test_save_load_round_trip_same_scores(prm, saved):
    for name in ("model.safetensors", "prm_config.json", "config.json", "tokenizer.json"):
        assert (saved / name).is_file()
    loaded = AgentPRM.from_pretrained(saved)
    prm.clear_cache()
    np.testing.assert_array_equal(loaded.score(_items()), prm.score(_items()))
    assert loaded.config["max_length"] == 64


def _copy(saved, tmp_path):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(saved, d)
    return d


def test_missing_file(saved, tmp_path):
    d = _copy(saved, tmp_path)
    (d / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing file model.safetensors"):
        AgentPRM.from_pretrained(d)


def test_bad_json(saved, tmp_path):
    d = _copy(saved, tmp_path)
    (d / "prm_config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        AgentPRM.from_pretrained(d)


def test_corrupt_weights(saved, tmp_path):
    d = _copy(saved, tmp_path)
    (d / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt weights"):
        AgentPRM.from_pretrained(d)


def test_missing_and_unexpected_tensors(saved, tmp_path):
    d = _copy(saved, tmp_path)
    state = load_file(d / "model.safetensors")
    state["extra.weight"] = state.pop("head.weight")
    save_file(state, d / "model.safetensors")
    with pytest.raises(
        CheckpointError,
        match=r"missing tensors head.weight; unexpected tensors extra.weight$",
    ):
        AgentPRM.from_pretrained(d)


def test_shape_mismatch(saved, tmp_path):
    d = _copy(saved, tmp_path)
    cfg = json.loads((d / "config.json").read_text())
    cfg["intermediate_size"] = 96
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match its config: other shapes: "):
        AgentPRM.from_pretrained(d)


def test_check_weights_names_a_few_and_counts_the_rest():
    expected = {f"w{i}": torch.zeros(2) for i in range(6)} | {"b": torch.zeros(3)}
    check_weights("m.safetensors", dict(expected), expected)  # a match passes
    saved = {f"w{i}": torch.zeros(2) for i in range(1, 6)} | {"b": torch.zeros(4)}
    saved |= {f"x{i}": torch.zeros(1) for i in range(5)}
    with pytest.raises(CheckpointError) as err:
        check_weights("m.safetensors", saved, expected)
    assert str(err.value) == (
        "m.safetensors does not match its config: missing tensors w0; "
        "unexpected tensors x0, x1, x2 and 2 more; other shapes: b (4,) saved, (3,) by the config"
    )


def test_wrong_format_version(saved, tmp_path):
    d = _copy(saved, tmp_path)
    cfg = json.loads((d / "prm_config.json").read_text())
    cfg["version"] = 99
    (d / "prm_config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="version 99"):
        AgentPRM.from_pretrained(d)


def test_unknown_backbone():
    with pytest.raises(FileNotFoundError):
        AgentPRM.create("/nonexistent/model")


def test_loading_never_unpickles(saved, monkeypatch):
    import pickle

    import torch

    def boom(*a, **k):
        raise AssertionError("unpickling during load")

    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    AgentPRM.from_pretrained(saved)


def test_head_runs_in_float32_under_bf16_autocast():
    prm = AgentPRM.create("tiny", tiny_corpus=CORPUS, seed=3, max_length=64, autocast=True)
    enc = prm.encode([prm.format(it) for it in _items()])
    with torch.no_grad(), prm.autocast():
        logits = prm.net(**enc)
        h = prm.net.backbone(**enc).last_hidden_state.float()
    m = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (h * m).sum(1) / m.sum(1)
    ref = pooled @ prm.net.head.weight.T.float() + prm.net.head.bias.float()
    # A bf16 head is off by about 5e-3 relative here; float32 matches to rounding.
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, ref.squeeze(-1), rtol=1e-5, atol=1e-6)


def test_candidate_context_is_saved_and_old_configs_read_as_none(prm, saved, tmp_path):
    assert prm.candidate_context == 48 and prm.config["candidate_context"] == 48
    assert AgentPRM.from_pretrained(saved).candidate_context == 48
    old = tmp_path / "old"
    old.mkdir()
    for f in saved.iterdir():
        (old / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((old / "prm_config.json").read_text())
    del cfg["candidate_context"]  # a PRM saved before the line existed
    (old / "prm_config.json").write_text(json.dumps(cfg))
    loaded = AgentPRM.from_pretrained(old)
    assert loaded.candidate_context == 0
    item = ScoreItem("Walk to room 5.", ("go[next] leads on. wait here.",), "go[next]")
    assert "Candidate context" in prm.format(item)
    assert "Candidate context" not in loaded.format(item)
