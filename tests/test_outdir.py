"""Tests of :mod:`agentprm_gym.outdir`: a model directory replaced only when the new one is complete."""

from __future__ import annotations

import os
from pathlib import Path

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


def _tree(d):
    return {str(p.relative_to(d)): p.read_text() for p in sorted(d.rglob("*")) if p.is_file()}


def _earlier(out):
    out.mkdir()
    for name, text in {"a": "old", "config": "old marker", "keep": "mine"}.items():
        (out / name).write_text(text)
    return _tree(out)


def _owned(name):
    return name in ("a", "config")


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_move_that_fails_midway_leaves_out_as_it_was(tmp_path, monkeypatch, fail_at):
    import agentprm_gym.outdir as outdir

    out = tmp_path / "out"
    before = _earlier(out)
    stage = StagedDir(out, _owned, last=frozenset({"config"}))
    for name in ("a", "b", "config"):
        (stage.path / name).write_text("new")
    calls = []
    rename = os.rename

    def flaky(src, dst):
        calls.append(1)
        if len(calls) == fail_at + 2:  # after the two earlier entries went aside
            raise OSError(28, "No space left on device")
        rename(src, dst)

    monkeypatch.setattr(outdir.os, "rename", flaky)
    with pytest.raises(OutputDirError, match="No space left on device.*it is as it was"):
        stage.commit()
    monkeypatch.setattr(outdir.os, "rename", rename)
    assert _tree(out) == before
    assert sorted(p.name for p in stage.path.iterdir()) == ["a", "b", "config"]


def test_an_interrupt_while_moving_in_restores_the_earlier_model(tmp_path, monkeypatch):
    import agentprm_gym.outdir as outdir

    out = tmp_path / "out"
    before = _earlier(out)
    rename = os.rename
    moved = []

    def interrupted(src, dst):
        if Path(dst).parent == out and Path(src).parent.name.startswith(".out.partial-"):
            moved.append(Path(dst).name)
            if len(moved) == 2:
                raise KeyboardInterrupt
        rename(src, dst)

    with pytest.raises(KeyboardInterrupt), StagedDir(out, _owned, last=frozenset({"config"})) as st:
        for name in ("config", "a", "b"):
            (st / name).write_text("new")
        monkeypatch.setattr(outdir.os, "rename", interrupted)
    monkeypatch.setattr(outdir.os, "rename", rename)
    assert moved == ["a", "b"]  # the marker would have gone in last
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("fails", [False, True])
def test_in_place_when_the_parent_cannot_take_a_directory(tmp_path, monkeypatch, fails):
    """A writable --out in a read-only parent (or on its own mount) is written in place."""
    import agentprm_gym.outdir as outdir

    out = tmp_path / "out"
    before = _earlier(out)
    access = os.access
    monkeypatch.setattr(
        outdir.os, "access", lambda p, mode: Path(p) != tmp_path and access(p, mode)
    )
    stage = StagedDir(out, _owned)
    assert stage.path == out.resolve()
    assert visible_entries(out) == ["keep"]  # the earlier model is aside meanwhile
    (out / "a").write_text("new")
    (out / "b").mkdir()
    (out / "b" / "c").write_text("new")
    if fails:
        stage.discard()
        assert _tree(out) == before
    else:
        stage.commit()
        assert _tree(out) == {"a": "new", "b/c": "new", "keep": "mine"}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_a_real_ctrl_c_while_moving_in_is_held_until_the_move_can_be_undone(tmp_path, monkeypatch):
    """A signal during a rename would otherwise surface after it, before it is recorded."""
    import signal

    import agentprm_gym.outdir as outdir

    out = tmp_path / "out"
    before = _earlier(out)
    stage = StagedDir(out, _owned, last=frozenset({"config"}))
    for name in ("a", "b", "config"):
        (stage.path / name).write_text("new")
    rename = os.rename
    calls = []

    def signalled(src, dst):
        calls.append(1)
        if len(calls) == 4:  # the second entry moving in
            os.kill(os.getpid(), signal.SIGINT)
        rename(src, dst)

    monkeypatch.setattr(outdir.os, "rename", signalled)
    with pytest.raises(KeyboardInterrupt):
        stage.commit()
    monkeypatch.setattr(outdir.os, "rename", rename)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_signals_are_held_until_the_block_ends_even_with_other_threads():
    import signal
    import threading
    import time

    from agentprm_gym.outdir import _signals_held

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # the kernel may hand the signal to it
    other.start()
    reached = False
    try:
        with pytest.raises(KeyboardInterrupt), _signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # Python would run a handler here
            reached = True
    finally:
        stop.set()
        other.join()
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_out_made_by_someone_else_meanwhile_is_not_merged_into(tmp_path):
    out = tmp_path / "out"
    stage = StagedDir(out, _owned)
    (stage.path / "a").write_text("new")
    out.mkdir()
    (out / "a").write_text("theirs")
    with pytest.raises(OutputDirError, match="made meanwhile"):
        stage.commit()
    assert (out / "a").read_text() == "theirs"
    assert (stage.path / "a").read_text() == "new"


def test_a_failed_start_leaves_nothing_beside_out(tmp_path, monkeypatch):
    import agentprm_gym.outdir as outdir

    out = tmp_path / "out"
    before = _earlier(out)

    def refused(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(outdir.os, "chmod", refused)
    with pytest.raises(OutputDirError, match="not writable: Operation not permitted"):
        StagedDir(out, _owned)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert _tree(out) == before
