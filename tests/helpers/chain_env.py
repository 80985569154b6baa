"""A small but real text env for tests of generic machinery: the corridor.

The agent stands in room 0 of a corridor of rooms 0..N and must reach room N.
It is a full :class:`~agentprm_gym.core.base_env.TextAgentEnv` (seeded task
choice, invalid actions that change nothing, snapshots, an exact expert), so
collection, MC labelling, search and wrapper tests can run on it while the real
envs are being built, and without their start-up cost.

API (keep it simple; other tests import it):

- ``CorridorEnv(split="train", trap=True)``: the env class. Task ``i`` of a split
  has length ``N = corridor_length(split, i)``.
- ``corridor_length(split, task_id)``: N of a task (train: 2..5, test: 3..6).
- ``corridor_env_spec(max_episode_steps=12)``: a picklable ``gymnasium.envs.registration.EnvSpec``
  for ``gym.make(spec)``; its entry point is ``helpers.chain_env:CorridorEnv``, so
  a process that makes it needs ``tests/`` on ``sys.path`` (spawned
  multiprocessing workers inherit the parent's ``sys.path``).
- ``registered_corridor(env_id=..., max_episode_steps=12)``: a context manager that
  registers ``env_id`` and removes it again on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from agentprm_gym.core.actions import ActionParseError, parse_action
from agentprm_gym.core.base_env import TextAgentEnv, Transition

__all__ = [
    "CORRIDOR_ID",
    "CorridorEnv",
    "corridor_env_spec",
    "corridor_length",
    "registered_corridor",
]

#: The test-only id :func:`registered_corridor` uses by default.
CORRIDOR_ID = "AgentPRMTest/Corridor-v0"

_TRAIN_TASKS = 20
_TEST_TASKS = 8


def corridor_length(split: str, task_id: int) -> int:
    """Number of rooms to walk (N) in task ``task_id`` of ``split``."""
    return 2 + task_id % 4 if split == "train" else 3 + task_id % 4


class CorridorEnv(TextAgentEnv):
    """Walk down a corridor of rooms to the last one.

    Description:
        Rooms 0..N; the agent starts in room 0 and wins on entering room N.
        N depends on the task (train tasks: 2..5, test tasks: 3..6).

    Observation:
        ``"You are in room R of N."`` plus, when ``trap=True``, a note that a
        pit lies beside the path.

    Actions:
        ``go[next]`` (one room on), ``go[back]`` (one room back; only when
        R > 0), ``wait`` (nothing happens) and, with ``trap=True``,
        ``jump[pit]`` (ends the episode with failure). Anything else is invalid
        and leaves the state unchanged.

    Rewards:
        1.0 on reaching room N, 0.0 otherwise.

    Termination:
        On reaching room N (won) or jumping into the pit (lost); truncation is
        the step limit given at ``gym.make``/registration.

    Registered ids:
        None globally; tests use :func:`corridor_env_spec` or
        :func:`registered_corridor` (default id ``AgentPRMTest/Corridor-v0``).

    Version history:
        v0: initial version.

    Args:
        split: Default task split.
        trap: Offer ``jump[pit]`` (a failing terminal action).
        render_mode: As in the base class.
    """

    def __init__(self, split: str = "train", trap: bool = True, render_mode: str | None = None):
        super().__init__(split=split, render_mode=render_mode)
        self.trap = bool(trap)
        self.room = 0
        self.length = 0
        self.fell = False

    def num_tasks(self, split: str) -> int:
        """20 train tasks, 8 test tasks."""
        return _TRAIN_TASKS if split == "train" else _TEST_TASKS

    def _begin_task(self, split: str, task_id: int) -> str:
        self.room = 0
        self.length = corridor_length(split, task_id)
        self.fell = False
        return self._view()

    def _view(self) -> str:
        text = f"You are in room {self.room} of {self.length}."
        if self.fell:
            return text + " You fell into the pit."
        return text + (" A pit lies beside the path." if self.trap else "")

    def _apply(self, action: str) -> Transition:
        a = action.strip()
        if a not in self.admissible_actions():
            try:
                parse_action(a)
            except ActionParseError as e:
                msg = str(e)
            else:
                msg = f"{a!r} is not possible here; valid: {', '.join(self.admissible_actions())}"
            return Transition(self._error_observation(msg), 0.0, False, msg)
        if a == "go[next]":
            self.room += 1
        elif a == "go[back]":
            self.room -= 1
        elif a == "jump[pit]":
            self.fell = True
            return Transition(self._view(), 0.0, True, None)
        won = self.room == self.length
        return Transition(self._view(), 1.0 if won else 0.0, won, None)

    def admissible_actions(self) -> list[str]:
        """``go[next]``, ``go[back]`` (if not in room 0), ``wait``, ``jump[pit]`` (if trap)."""
        acts = ["go[next]"]
        if self.room > 0:
            acts.append("go[back]")
        acts.append("wait")
        if self.trap:
            acts.append("jump[pit]")
        return acts

    @property
    def instruction(self) -> str:
        """The goal text."""
        return f"Walk to room {self.length}."

    @property
    def won(self) -> bool:
        """Whether the last room was reached."""
        return self.length > 0 and self.room == self.length

    def _get_payload(self) -> Any:
        return (self.room, self.length, self.fell)

    def _set_payload(self, payload: Any) -> None:
        self.room, self.length, self.fell = payload

    def expert_action(self) -> str:
        """Always ``go[next]``."""
        return "go[next]"

    def expert_steps_left(self) -> int | None:
        """Rooms left to walk; None after falling into the pit (unsolvable)."""
        return None if self.fell else self.length - self.room


def corridor_env_spec(max_episode_steps: int = 12, env_id: str = CORRIDOR_ID) -> EnvSpec:
    """A picklable spec to ``gym.make`` a corridor without registering it."""
    return EnvSpec(
        id=env_id,
        entry_point="helpers.chain_env:CorridorEnv",
        max_episode_steps=max_episode_steps,
    )


@contextlib.contextmanager
def registered_corridor(
    env_id: str = CORRIDOR_ID, max_episode_steps: int = 12, **kwargs: Any
) -> Iterator[str]:
    """Register ``env_id`` for the corridor inside a ``with`` block; yields the id."""
    gym.register(
        id=env_id,
        entry_point=CorridorEnv,
        max_episode_steps=max_episode_steps,
        kwargs=kwargs,
    )
    try:
        yield env_id
    finally:
        gym.registry.pop(env_id, None)
