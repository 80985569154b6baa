"""A PRM for tests that needs scores that differ: a fixed pseudo-random value per item.

The package's ``RandomPRM`` ties every step (the search's seeded tie-breaks do
the choosing); tests that must see a PRM tell candidates apart use this one.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

from agentprm_gym.prm.base import PRM, ScoreItem


class HashPRM(PRM):
    """Q in [0, 1) from a keyed BLAKE2b hash of ``(instruction, history, action)``.

    Args:
        seed: Changes the function.
    """

    name = "hash"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = int(seed)

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        out = np.empty(len(items))
        for i, it in enumerate(items):
            h = hashlib.blake2b(digest_size=8, key=str(self.seed).encode())
            h.update(repr((it.instruction, it.history, it.action)).encode("utf-8", "replace"))
            out[i] = int.from_bytes(h.digest(), "little") / 2**64
        return out
