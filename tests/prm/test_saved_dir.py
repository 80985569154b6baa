"""Tests of :mod:`agentprm_gym.prm.saved_dir`: which directories hold a saved PRM."""

from __future__ import annotations

from agentprm_gym.prm.saved_dir import holds_prm, prm_owned


def test_prm_owned_names():
    for name in ("prm_config.json", "model.safetensors", "encoder", "member-0", "member-12"):
        assert prm_owned(name)
    for name in ("member-x", "notes.txt", "sft_info.json", "member-"):
        assert not prm_owned(name)


def test_holds_prm(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    assert not holds_prm(d)  # empty
    (d / "model.safetensors").write_bytes(b"w")
    assert not holds_prm(d)  # a weights file alone could be anyone's
    (d / "train_result.json").write_text("{}")
    assert holds_prm(d)  # what a failed run of an earlier version left
    (d / "notes.txt").write_text("mine")
    assert not holds_prm(d)  # and something else
    (d / "notes.txt").unlink()
    (d / "train_result.json").unlink()
    aside = d / ".replaced-1234"
    aside.mkdir()
    assert not holds_prm(d)
    (aside / "prm_config.json").write_text("{}")
    assert holds_prm(d)  # a run killed while it wrote in place: the earlier PRM is aside
    (d / "prm_config.json").write_text("{}")
    (d / "notes.txt").write_text("mine")
    assert holds_prm(d)  # a PRM, with the user's own files beside it
