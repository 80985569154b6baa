"""Task splits: which combinations each split draws from, and how many tasks it has.

The ``(object kind, target kind, room)`` combinations are cut in two by a
stable hash (CRC-32 of ``"X|Y|room|unseen"``, the same in every process):
about one in five is *unseen* (the salt ``unseen`` was picked among a few so
that every task type gets a fair share: look-in-light has only 37
combinations, of which 8 are unseen). ``train`` and ``valid_seen`` draw their tasks from the
seen combinations (with different world seeds); ``valid_unseen`` draws only
unseen ones, so none of its goal combinations ever occurs in ``train``.
``test`` is an alias of ``valid_unseen`` (same tasks, same ids).

Every split holds the same number of tasks of each of the six types; with
no ``task_type`` a split's task ``i`` has type ``TASK_TYPES[i % 6]`` and
index ``i // 6`` within that type.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from types import MappingProxyType

from agentprm_gym.envs.alfworld.tasks import TASK_COMBOS, TASK_TYPES, Combo

__all__ = [
    "SPLITS",
    "SPLIT_ALIASES",
    "TASKS_PER_TYPE",
    "UNSEEN_PERCENT",
    "canonical_split",
    "is_unseen",
    "split_combos",
]

#: Split names the env accepts (``test`` is an alias).
SPLITS: tuple[str, ...] = ("train", "valid_seen", "valid_unseen", "test")
#: Alias -> the split it names.
SPLIT_ALIASES: Mapping[str, str] = MappingProxyType({"test": "valid_unseen"})
#: Tasks of each type per split.
TASKS_PER_TYPE: Mapping[str, int] = MappingProxyType(
    {"train": 2000, "valid_seen": 60, "valid_unseen": 100}
)
#: Percentage of combinations held out as unseen.
UNSEEN_PERCENT = 20


def canonical_split(split: str) -> str:
    """Resolve an alias: ``canonical_split("test") == "valid_unseen"``."""
    return SPLIT_ALIASES.get(split, split)


def is_unseen(combo: Combo) -> bool:
    """Whether a combination belongs to the unseen split (stable across processes)."""
    return zlib.crc32("|".join((*combo, "unseen")).encode()) % 100 < UNSEEN_PERCENT


def _split_combos() -> Mapping[tuple[str, str], tuple[Combo, ...]]:
    out: dict[tuple[str, str], tuple[Combo, ...]] = {}
    for t in TASK_TYPES:
        seen = tuple(c for c in TASK_COMBOS[t] if not is_unseen(c))
        unseen = tuple(c for c in TASK_COMBOS[t] if is_unseen(c))
        if not seen or not unseen:  # pragma: no cover - guarded by the vocabulary
            raise RuntimeError(f"task type {t} has no seen or no unseen combinations")
        out[("train", t)] = seen
        out[("valid_seen", t)] = seen
        out[("valid_unseen", t)] = unseen
    return MappingProxyType(out)


_SPLIT_COMBOS = _split_combos()


def split_combos(split: str, task_type: str) -> tuple[Combo, ...]:
    """The combinations ``split`` draws ``task_type`` tasks from."""
    return _SPLIT_COMBOS[(canonical_split(split), task_type)]
