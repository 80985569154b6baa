"""``eval``/``search``/``collect`` ``--out`` never clobber a user's file; ``--start`` is checked.

``eval`` and ``search`` do not resume: an existing, non-empty ``--out`` is refused
before any episode runs. ``collect`` resumes a trajectory file (cutting a torn last
line) but refuses any other file. Every refusal is one line, exit status 2.
"""

from __future__ import annotations

import pytest

from agentprm_gym.cli import main
from agentprm_gym.core.trajectory import read_trajectories

WS = "AgentPRM/WebShop-v0"
EVAL = ["eval", "--env", WS, "--episodes", "1", "--no-progress"]
SEARCH = ["search", "--env", WS, "--method", "policy", "--episodes", "1", "--no-progress"]
COLLECT = ["collect", "--env", WS, "--policy", "random", "--tasks", "2", "--per-task", "1"]
COLLECT += ["--no-progress"]
USER_FILES = {
    "notes.json": b'{"important": "notes", "n": 1}',  # no trailing newline
    "n2.md": b"# notes\n\nline two\n",
}


def _one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"agentprm-gym {command}: error: "), err
    return err[0]


@pytest.fixture
def no_episodes(monkeypatch):
    """Fail the test if eval or search start an episode."""

    def boom(*args, **kwargs):
        raise AssertionError("an episode ran before the arguments were checked")

    monkeypatch.setattr("agentprm_gym.commands.evaluate.run_episode", boom)
    monkeypatch.setattr("agentprm_gym.commands.search.run_search_job", boom)


@pytest.mark.parametrize("name", sorted(USER_FILES))
@pytest.mark.parametrize("argv", [EVAL, SEARCH], ids=["eval", "search"])
def test_eval_and_search_leave_a_user_file_intact(tmp_path, capsys, no_episodes, argv, name):
    f = tmp_path / name
    f.write_bytes(USER_FILES[name])
    assert main([*argv, "--out", str(f)]) == 2
    assert _one_error_line(capsys, argv[0]).endswith(
        f"{f} exists: pass another --out, or delete it"
    )
    assert f.read_bytes() == USER_FILES[name]


@pytest.mark.parametrize("argv", [EVAL, SEARCH], ids=["eval", "search"])
def test_eval_and_search_refuse_their_own_earlier_out(tmp_path, capsys, argv):
    out = tmp_path / "t.jsonl"
    assert main([*argv, "--out", str(out)]) == 0
    first = out.read_bytes()
    assert len(list(read_trajectories(out))) == 1
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 2  # not appended a second time
    assert "t.jsonl exists: pass another --out" in _one_error_line(capsys, argv[0])
    assert out.read_bytes() == first


@pytest.mark.parametrize("argv", [EVAL, SEARCH], ids=["eval", "search"])
def test_eval_and_search_write_into_an_empty_out(tmp_path, argv):
    out = tmp_path / "t.jsonl"
    out.touch()
    assert main([*argv, "--out", str(out)]) == 0
    assert len(list(read_trajectories(out))) == 1


@pytest.mark.parametrize("argv", [EVAL, SEARCH], ids=["eval", "search"])
def test_the_out_help_says_an_existing_file_is_refused(capsys, argv):
    with pytest.raises(SystemExit):
        main([argv[0], "--help"])
    assert "is refused, never appended to" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("name", sorted(USER_FILES))
def test_collect_refuses_a_user_file_and_leaves_it_intact(tmp_path, capsys, name):
    f = tmp_path / name
    f.write_bytes(USER_FILES[name])
    assert main([*COLLECT, "--out", str(f)]) == 2
    assert f"{f}:1: not " in _one_error_line(capsys, "collect")
    assert f.read_bytes() == USER_FILES[name]


def test_collect_still_resumes_a_file_with_a_torn_last_line(tmp_path, capsys):
    full = tmp_path / "full.jsonl"
    assert main([*COLLECT, "--out", str(full)]) == 0
    lines = full.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2
    part = tmp_path / "part.jsonl"
    part.write_bytes(lines[0] + lines[1][: len(lines[1]) // 2])  # a writer killed mid-line
    capsys.readouterr()
    assert main([*COLLECT, "--out", str(part)]) == 0
    assert "ignoring an incomplete last line" in capsys.readouterr().err
    assert part.read_bytes() == full.read_bytes()


@pytest.mark.parametrize(
    ("argv", "start", "msg"),
    [
        (EVAL, "-5", "--start must be >= 0"),
        (EVAL, "100000", "--start 100000 is past the 500 tasks of 'test'"),
        (EVAL, "500", "--start 500 is past the 500 tasks of 'test'"),
        (SEARCH, "-3", "--start must be >= 0"),
        (SEARCH, "100000", "--start 100000 is past the 500 tasks of 'test'"),
    ],
)
def test_start_out_of_range_is_one_line_before_any_episode(capsys, no_episodes, argv, start, msg):
    assert main([*argv, "--episodes", "2", "--start", start]) == 2
    assert _one_error_line(capsys, argv[0]).endswith(f"error: {msg}")


def test_negative_start_is_refused_before_the_env_is_made(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the env was made before --start was checked")

    monkeypatch.setattr("agentprm_gym.commands.evaluate.make_env", boom)
    monkeypatch.setattr("agentprm_gym.commands.search.make_env", boom)
    for argv in (EVAL, SEARCH):
        assert main([*argv, "--start", "-1"]) == 2
        assert _one_error_line(capsys, argv[0]).endswith("error: --start must be >= 0")
