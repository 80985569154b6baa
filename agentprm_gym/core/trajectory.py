"""Trajectory records and crash-safe JSON Lines files.

One episode per line. Schema (version 1), every key always present::

    {
      "schema": "agentprm-gym/trajectory", "version": 1,
      "env_id": str, "task_id": int, "split": str, "seed": int | null,
      "policy": str, "instruction": str,
      "steps": [                               # one per action taken
        {"observation": str,                   # what the agent saw before acting (s_t)
         "action": str, "reward": float,
         "action_error": str | null,
         "admissible_actions": [str],          # valid actions in s_t
         "expert_action": str | null}          # privileged: evaluation; a PRM never reads it
                                               # (train-prm --weighting uses it for 1/π)
      ],
      "final_observation": str,                # observation after the last action
      "final_reward": float, "won": bool, "truncated": bool,
      "meta": {str: str | float | int}         # free-form (e.g. collection settings)
    }

Files load with ``datasets.Dataset.from_json(path)`` without conversion.

Appends are crash-safe: each record is written with a single ``write`` of a
complete line followed by ``fsync``, so a killed writer leaves at most one
partial last line. :func:`read_trajectories` skips such a tail and
:class:`TrajectoryWriter` truncates it away before appending again (a last line
that is a whole record lacking only its newline is kept by both). Neither
takes any other text for a cut-off record: a last line that is neither a record
nor the start of one is an error, and the writer never touches a file whose
first line is not a trajectory record.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "IncompleteLineWarning",
    "Step",
    "Trajectory",
    "TrajectoryFormatError",
    "TrajectoryWriter",
    "read_trajectories",
    "write_trajectories",
]

SCHEMA_NAME = "agentprm-gym/trajectory"
SCHEMA_VERSION = 1


class TrajectoryFormatError(ValueError):
    """A trajectory file or record does not follow the schema."""


#: How a parsed JSON value that is not an object is named in error messages.
_JSON_KINDS = {
    list: "an array",
    str: "a string",
    bool: "true or false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


#: How every line :meth:`Trajectory.to_json` writes begins (the start of a cut-off record).
_RECORD_START = ('{"schema":' + json.dumps(SCHEMA_NAME) + ",").encode()


class IncompleteLineWarning(UserWarning):
    """A trajectory file ends in a partial line (its writer was interrupted); it was skipped."""


@dataclass
class Step:
    """One agent step: the observation it acted on, the action and its outcome."""

    observation: str
    action: str
    reward: float = 0.0
    action_error: str | None = None
    admissible_actions: list[str] = field(default_factory=list)
    expert_action: str | None = None


@dataclass
class Trajectory:
    """One episode of one policy on one task."""

    env_id: str
    task_id: int
    split: str
    policy: str
    instruction: str
    steps: list[Step] = field(default_factory=list)
    final_observation: str = ""
    final_reward: float = 0.0
    won: bool = False
    truncated: bool = False
    seed: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int, int | None]:
        """(env_id, split, task_id, seed): identifies an episode for resuming."""
        return (self.env_id, self.split, self.task_id, self.seed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record, schema fields first."""
        d = {"schema": SCHEMA_NAME, "version": SCHEMA_VERSION}
        d.update(asdict(self))
        return d

    def to_json(self) -> str:
        """One JSON line (no trailing newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        """Build from a parsed record, checking schema name and version."""
        if not isinstance(d, dict):
            kind = _JSON_KINDS.get(type(d), type(d).__name__)
            raise TrajectoryFormatError(
                f"a trajectory record is a JSON object ({{...}}), not {kind}"
            )
        if d.get("schema") != SCHEMA_NAME:
            raise TrajectoryFormatError(f"not a trajectory record (schema={d.get('schema')!r})")
        if d.get("version") != SCHEMA_VERSION:
            raise TrajectoryFormatError(
                f"trajectory schema version {d.get('version')!r} is not supported "
                f"(this agentprm-gym reads version {SCHEMA_VERSION})"
            )
        try:
            steps = [Step(**s) for s in d["steps"]]
            return cls(
                env_id=d["env_id"],
                task_id=int(d["task_id"]),
                split=d["split"],
                policy=d["policy"],
                instruction=d["instruction"],
                steps=steps,
                final_observation=d["final_observation"],
                final_reward=float(d["final_reward"]),
                won=bool(d["won"]),
                truncated=bool(d["truncated"]),
                seed=d["seed"],
                meta=dict(d.get("meta") or {}),
            )
        except KeyError as e:
            raise TrajectoryFormatError(f"malformed trajectory record: missing key {e}") from e
        except (TypeError, ValueError, AttributeError) as e:
            raise TrajectoryFormatError(f"malformed trajectory record: {e}") from e


def read_trajectories(path: str | os.PathLike[str]) -> Iterator[Trajectory]:
    """Yield the trajectories in a JSON Lines file.

    A partial last line (a writer killed mid-write) is skipped with an
    :class:`IncompleteLineWarning`; a last line that is a whole record and only
    lacks its newline is read; a malformed line anywhere else raises.

    Raises:
        FileNotFoundError: If the file does not exist.
        TrajectoryFormatError: On a malformed line before the last, or a last
            line that is neither a record nor the start of one.
    """
    p = Path(path)
    with p.open("rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for lineno, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            raise TrajectoryFormatError(f"{p}:{lineno}: not valid JSON ({e.msg})") from e
        try:
            yield Trajectory.from_dict(rec)
        except TrajectoryFormatError as e:
            raise TrajectoryFormatError(f"{p}:{lineno}: {e}") from e
    if tail.strip():
        whole = _whole_record(tail)
        if whole is not None:
            yield whole
            return
        problem = _tail_problem(tail)
        if problem is not None:
            raise TrajectoryFormatError(f"{p}:{len(complete) + 1}: {problem}")
        warnings.warn(
            f"{p}: ignoring an incomplete last line ({len(tail)} bytes; a writer was interrupted)",
            IncompleteLineWarning,
            stacklevel=2,
        )


def _record_problem(rec: Any) -> str | None:
    """Why a parsed JSON value is not a trajectory record, or None if it is one."""
    try:
        Trajectory.from_dict(rec)
    except TrajectoryFormatError as e:
        return str(e)
    return None


def _line_problem(raw: bytes) -> str | None:
    """Why a complete line is not a trajectory record, or None if it is one."""
    try:
        rec = json.loads(raw)
    except json.JSONDecodeError as e:
        return f"not valid JSON ({e.msg})"
    except UnicodeDecodeError:
        return "not valid JSON (not UTF-8 text)"
    return _record_problem(rec)


def _whole_record(tail: bytes) -> Trajectory | None:
    """The record ``tail`` holds whole (a line that only lacks its newline), or None.

    NUL bytes after it (a power cut that fell on the newline) are left out.
    """
    try:
        return Trajectory.from_dict(json.loads(_before_nul(tail)))
    except (json.JSONDecodeError, UnicodeDecodeError, TrajectoryFormatError):
        return None


def _before_nul(tail: bytes) -> bytes:
    """``tail`` up to its first NUL byte (JSON text holds none)."""
    return tail.split(b"\x00", 1)[0]


def _could_be_cut_record(tail: bytes) -> bool:
    r"""Whether ``tail`` may be a record cut off after any number of bytes.

    Whitespace is ignored and ``\/`` read as ``/``, as other JSON writers format them.
    NUL bytes, which a file system can leave in place of data lost in a power
    failure, count as cut off too (alone, or before or after a record's start);
    the writer still refuses a file of NUL bytes that holds no record at all.
    """
    tail = _before_nul(tail.lstrip(b"\x00"))
    if not tail:
        return True
    head = re.sub(rb"\s+", b"", tail[: 4 * len(_RECORD_START)]).replace(b"\\/", b"/")
    n = min(len(head), len(_RECORD_START))
    return head[:n] == _RECORD_START[:n]


def _tail_problem(tail: bytes) -> str | None:
    """Why a last line without a newline is no interrupted write, or None if it may be one.

    It may be one if it starts like a record or is a whole record; other text
    (a user's file, a line of another format) is not.
    """
    if _could_be_cut_record(tail):
        return None
    try:
        rec = json.loads(tail)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "neither valid JSON nor the start of a trajectory record"
    return _record_problem(rec)


def write_trajectories(path: str | os.PathLike[str], trajectories: Iterable[Trajectory]) -> int:
    """Append trajectories to ``path``; return how many were written."""
    n = 0
    with TrajectoryWriter(path) as w:
        for t in trajectories:
            w.write(t)
            n += 1
    return n


class TrajectoryWriter:
    """Crash-safe appender of trajectories to a JSON Lines file.

    On open, an existing file is checked: its first line must be a trajectory
    record, and an incomplete last line left by a killed writer is truncated
    away (a last line that is a whole record and only lacks its newline gets
    the newline instead: no record is lost). Each :meth:`write` is one
    ``os.write`` of a whole line, then ``fsync`` (``fsync=False`` trades
    durability against power loss for speed; a killed process still never
    leaves a corrupt earlier line).

    Args:
        path: File to append to (created with parent directories if missing).
        fsync: Whether to ``fsync`` after every record.

    Raises:
        TrajectoryFormatError: If ``path`` is a non-empty file that is not a
            trajectory file (its first line is no record, its last line is
            neither a record nor the start of one, or it holds only NUL bytes:
            a preallocated file is not this writer's); the file is left untouched.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = True) -> None:
        self.path = Path(path)
        self._fd = -1
        self._fsync = fsync
        if self.path.exists():
            self._check_and_repair()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _refuse(self, where: str, problem: str) -> TrajectoryFormatError:
        return TrajectoryFormatError(
            f"refusing to write to {self.path}: it is not a trajectory JSONL file "
            f"({where}: {problem})"
        )

    def _check_and_repair(self) -> None:
        """Check the existing file is a trajectory file, then cut a torn last line."""
        with self.path.open("rb+") as f:
            first, lineno = f.readline(), 1
            while first.endswith(b"\n") and not first.strip():  # blank lines, as the reader
                first, lineno = f.readline(), lineno + 1
            if first.endswith(b"\n"):
                problem = _line_problem(first)
                if problem is not None:
                    raise self._refuse(f"line {lineno}", problem)
            cut = _last_line_start(f)
            if cut is None:
                return
            f.seek(cut)
            tail = f.read()
            if _whole_record(tail) is not None:
                f.truncate(cut + len(_before_nul(tail)))
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                return
            if cut == 0 and not tail.strip(b"\x00"):
                # NUL bytes and no record at all: a preallocated file, not a torn write
                raise self._refuse("line 1", "only NUL bytes")
            problem = _tail_problem(tail)
            if problem is not None:
                raise self._refuse("its last line", problem)
            f.truncate(cut)

    def write(self, trajectory: Trajectory) -> None:
        """Append one trajectory as one line."""
        line = (trajectory.to_json() + "\n").encode("utf-8")
        view = memoryview(line)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if self._fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _last_line_start(f: BinaryIO) -> int | None:
    """Offset of the last line of binary file ``f`` if it lacks a newline, else None."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size == 0:
        return None
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return None
    pos = size - 1
    chunk = 65536
    while pos > 0:
        start = max(0, pos - chunk)
        f.seek(start)
        i = f.read(pos - start).rfind(b"\n")
        if i != -1:
            return start + i + 1
        pos = start
    return 0
