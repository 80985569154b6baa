"""The sweep's results CSV: one row per (env, PRM, method, budget, seed) run, appended crash-safely.

Columns: ``env, policy, prm, method, family, budget, seed, episodes, samples,
success, mean_reward``, then every :class:`~agentprm_gym.search.ledger.Ledger`
field summed over the run's episodes (``policy_calls, sampled_actions,
prompt_tokens, completion_tokens, prm_calls, prm_items, env_steps, snapshots,
wall_seconds``), then provenance (``git_commit, machine``). ``samples`` is the
mean number of policy samples (sampled actions) per episode, the x-axis of the
plots and of the efficiency ratio; ``success`` is the fraction of episodes won.
In rows searched in lockstep (the config's ``lockstep``: beam rows, and the
Best-of-N rows, whose episodes all PRMs share), a PRM call shared by several
episodes' searches counts once in each episode's ``prm_calls``, and its seconds are
split among them by their items.

Rows written before the one-sample baseline was renamed call it ``greedy``
(family ``greedy``); :func:`read_rows` reads them as ``policy (1 sample)``
(family ``policy``), so old results files still load, resume and tabulate.
True greedy decoding is ``greedy (temperature 0)``.

Each row is written as one complete line and ``fsync``-ed; a torn last line
left by a killed writer is cut off when the file is opened again, so rows
already there are never lost and :func:`done_keys` lets a rerun skip them.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentprm_gym.benchmarking.config import POLICY_METHOD

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "LEDGER_COLUMNS",
    "ResultsWriter",
    "done_keys",
    "read_rows",
    "row_key",
]

LEDGER_COLUMNS = (
    "policy_calls",
    "sampled_actions",
    "prompt_tokens",
    "completion_tokens",
    "prm_calls",
    "prm_items",
    "env_steps",
    "snapshots",
    "wall_seconds",
)
KEY_COLUMNS = ("env", "policy", "prm", "method", "budget", "seed")
COLUMNS = (
    ("env", "policy", "prm", "method", "family", "budget", "seed", "episodes")
    + ("samples", "success", "mean_reward")
    + LEDGER_COLUMNS
    + ("git_commit", "machine")
)
_INT = {"seed", "episodes"} | (set(LEDGER_COLUMNS) - {"wall_seconds"})
_FLOAT = {"samples", "success", "mean_reward", "wall_seconds"}
#: The one-sample baseline's method name in rows written before it was renamed.
LEGACY_POLICY_METHOD = "greedy"


def row_key(row: dict[str, Any]) -> tuple[str, ...]:
    """The identity of a run (what a resumed sweep skips)."""
    return tuple(str(row[k]) for k in KEY_COLUMNS)


def _parse(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row)
    for k in _INT:
        if row.get(k) not in (None, ""):
            out[k] = int(float(row[k]))
    for k in _FLOAT:
        if row.get(k) not in (None, ""):
            out[k] = float(row[k])
    if out.get("method") == LEGACY_POLICY_METHOD:
        out["method"], out["family"] = POLICY_METHOD, "policy"
    return out


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a results CSV with numbers parsed (an absent file: no rows).

    A torn last line (no trailing newline) is ignored.
    """
    p = Path(path)
    if not p.exists():
        return []
    text = p.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return [_parse(r) for r in csv.DictReader(io.StringIO(text))]


def done_keys(path: str | os.PathLike[str]) -> set[tuple[str, ...]]:
    """Keys of the rows already in ``path``."""
    return {row_key(r) for r in read_rows(path)}


class ResultsWriter:
    """Appends result rows, one fsync-ed line each (header first in a new file).

    Args:
        path: The CSV file (created with its parent directory).
        fsync: ``fsync`` after each row.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._f = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        if new:
            self._write_line(list(COLUMNS))
        else:
            with open(self.path, encoding="utf-8") as f:
                header = f.readline().strip().split(",")
            if tuple(header) != COLUMNS:
                self._f.close()
                raise ValueError(
                    f"{self.path} has other columns ({header[:4]}...); "
                    "it was written by another version; use another --out"
                )

    def _repair(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    def _write_line(self, values: list[Any]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(values)
        self._f.write(buf.getvalue())
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())

    def write(self, row: dict[str, Any]) -> None:
        """Append one row (missing columns are written empty; unknown keys are an error)."""
        extra = set(row) - set(COLUMNS)
        if extra:
            raise ValueError(f"unknown result columns {sorted(extra)}")
        self._write_line([_fmt(row.get(c)) for c in COLUMNS])

    def write_all(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append several rows."""
        for r in rows:
            self.write(r)

    def close(self) -> None:
        """Close the file."""
        if not self._f.closed:
            self._f.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fmt(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(round(v, 6))
    return v
