"""``agentprm-gym play`` driven by scripted stdin: the split stays, numbers are checked."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from agentprm_gym.cli import main
from agentprm_gym.commands import play

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import registered_corridor  # noqa: E402


@pytest.fixture
def corridor(monkeypatch):
    """The corridor id; records the (split, task id) of every episode that play starts."""
    episodes: list[tuple[str, int]] = []
    make_env = play.make_env

    def spying_make_env(env_id, **kwargs):
        env = make_env(env_id, **kwargs)
        reset = env.reset

        def recording_reset(**kw):
            out = reset(**kw)
            episodes.append((env.unwrapped._task_split, env.unwrapped._task_id))
            return out

        env.reset = recording_reset
        return env

    monkeypatch.setattr(play, "make_env", spying_make_env)
    with registered_corridor() as env_id:
        yield env_id, episodes


def _play(monkeypatch, capsys, lines, *args):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{x}\n" for x in lines)))
    assert main(["play", *args]) == 0
    return capsys.readouterr()


def test_restart_and_episode_end_keep_the_split_and_advance_the_task(corridor, monkeypatch, capsys):
    env_id, episodes = corridor
    # test task 7, :r -> task 0 (wrapped), jump[pit] ends it -> task 1, :r -> task 2
    lines = [":r", "jump[pit]", ":r"]
    _play(monkeypatch, capsys, lines, "--env", env_id, "--split", "test", "--task-id", "7")
    assert episodes == [("test", 7), ("test", 0), ("test", 1), ("test", 2)]


def test_without_a_task_id_every_episode_is_of_the_split(corridor, monkeypatch, capsys):
    env_id, episodes = corridor
    _play(monkeypatch, capsys, [":r"] * 6, "--env", env_id, "--split", "test", "--seed", "1")
    assert len(episodes) == 7 and {s for s, _ in episodes} == {"test"}


def test_an_out_of_range_number_is_refused_without_a_step(corridor, monkeypatch, capsys):
    env_id, episodes = corridor
    out = _play(monkeypatch, capsys, ["99", "0", ":q"], "--env", env_id, "--task-id", "0")
    assert "no action [99]: type 0..2" in out.out
    assert out.err == ""  # '99' never reached the env as an action
    assert out.out.count("action> ") == 3
    assert "You are in room 1 of 2." in out.out  # '0' took one step: go[next]
