"""Tests of :mod:`agentprm_gym.outdir`: a model directory replaced only when the new one is complete."""

from __future__ import annotations

import pytest

from agentprm_gym.outdir import OutputDirError, StagedDir, visible_entries


def test_staged_dir_replaces_only_when_complete(tmp_path):
    def owned(name):
        return name in ("a", "old-only")

    out = tmp_path / "out"
    out.mkdir()
    for name, text in {"a": "1", "old-only": "2", "keep": "3"}.items():
        (out / name).write_text(text)
    with pytest.raises(RuntimeError), StagedDir(out, owned) as stage:
        assert stage.parent == tmp_path and stage != out
        (stage / "a").write_text("new")
        raise RuntimeError("failed")
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "a": "1",
        "old-only": "2",
        "keep": "3",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with StagedDir(out, owned) as stage:
        (stage / "a").write_text("new")
        (stage / "b").mkdir()
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "keep"]
    assert (out / "a").read_text() == "new" and (out / "keep").read_text() == "3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a new directory, its missing parents made (and removed again if the run fails)
    deep = tmp_path / "x" / "y" / "out"
    with StagedDir(deep, owned) as stage:
        (stage / "a").write_text("1")
    assert (deep / "a").read_text() == "1"
    with pytest.raises(RuntimeError), StagedDir(tmp_path / "p" / "q" / "out", owned):
        raise RuntimeError
    assert not (tmp_path / "p").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputDirError, match="is an existing file"):
        StagedDir(blocker, owned)
    with pytest.raises(
        OutputDirError, match=r"sub is not writable: .*file is a file, not a directory"
    ):
        StagedDir(blocker / "sub", owned)


def test_visible_entries_skips_dot_files(tmp_path):
    assert visible_entries(tmp_path / "missing") == []
    for name in ("b", ".hidden", "a"):
        (tmp_path / name).write_text("")
    assert visible_entries(tmp_path) == ["a", "b"]
