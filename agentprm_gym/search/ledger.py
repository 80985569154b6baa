"""The compute ledger of a search: what was spent to pick a trajectory.

A :class:`Ledger` counts policy work (calls, sampled actions, LM prompt and
completion tokens), PRM work (calls, items scored), env work (steps,
snapshot operations: ``get_state`` plus ``set_state`` calls, including those a
state-backed PRM such as the oracle makes) and wall-clock seconds.
:class:`Meter` measures one piece of work by reading the counters that
policies (``policy.stats``), PRMs (``prm.stats``) and the search's env handle
keep, before and after.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["Ledger", "Meter"]


@dataclass
class Ledger:
    """Compute spent by a search, a lookahead step or a whole evaluation.

    Attributes:
        policy_calls: ``policy.propose`` calls.
        sampled_actions: Actions sampled over all calls (``n`` per call).
        prompt_tokens: LM prompt tokens (0 for non-LM policies).
        completion_tokens: LM completion tokens (0 for non-LM policies).
        prm_calls: ``prm.score`` calls (each a batch).
        prm_items: Items scored over all calls.
        env_steps: Env ``step`` calls (simulated and executed).
        snapshots: ``get_state`` plus ``set_state`` calls.
        wall_seconds: Elapsed wall-clock time.
    """

    policy_calls: int = 0
    sampled_actions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prm_calls: int = 0
    prm_items: int = 0
    env_steps: int = 0
    snapshots: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The counts as a JSON-ready dict."""
        d = asdict(self)
        d["wall_seconds"] = round(float(self.wall_seconds), 6)
        return d

    def merge(self, other: Ledger) -> Ledger:
        """Add ``other``'s counts into this ledger; returns self."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def __add__(self, other: Ledger) -> Ledger:
        return Ledger(**asdict(self)).merge(other)


class Meter:
    """Measures the compute spent between its creation and :meth:`ledger`.

    Args:
        policy: A policy with ``stats`` (``PolicyStats``), or None.
        prm: A PRM with ``stats`` (``PRMStats``), or None.
        handle: An object with ``env_steps`` and ``snapshots`` counters
            (the search's env handle), or None.
    """

    def __init__(self, policy: Any = None, prm: Any = None, handle: Any = None) -> None:
        self.policy, self.prm, self.handle = policy, prm, handle
        self._t0 = time.perf_counter()
        self._start = self._read()

    def _read(self) -> tuple[int, ...]:
        ps = getattr(self.policy, "stats", None)
        qs = getattr(self.prm, "stats", None)
        h = self.handle
        return (
            getattr(ps, "calls", 0),
            getattr(ps, "sampled_actions", 0),
            getattr(ps, "prompt_tokens", 0),
            getattr(ps, "completion_tokens", 0),
            getattr(qs, "calls", 0),
            getattr(qs, "items_scored", 0),
            getattr(h, "env_steps", 0),
            getattr(h, "snapshots", 0),
        )

    def ledger(self) -> Ledger:
        """The compute spent so far."""
        now = self._read()
        d = [b - a for a, b in zip(self._start, now)]
        return Ledger(*d, wall_seconds=time.perf_counter() - self._t0)
