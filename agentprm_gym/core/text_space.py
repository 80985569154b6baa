"""A Gymnasium text space that accepts any Python ``str``.

``gymnasium.spaces.Text`` checks every character against a charset (by default
alphanumerics only, so even a space is rejected). Agent environments exchange
free text, so :class:`TextSpace` accepts any string up to ``max_length``
characters. It subclasses ``Text`` so that Gymnasium's vector utilities
(``batch_space``, ``concatenate``, ``create_empty_array``) treat it like text.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Text

__all__ = ["TextSpace", "SAMPLE_CHARSET"]

#: Characters used by :meth:`TextSpace.sample` (contains() accepts any character).
SAMPLE_CHARSET = string.ascii_letters + string.digits + " []<>.,:;!?'\"-_/()&$#%*+=@"


class TextSpace(Text):
    """The space of all strings of length ``min_length..max_length``.

    Args:
        max_length: Longest string the space contains.
        min_length: Shortest string the space contains (default 0: empty allowed).
        seed: Seed for :meth:`sample`.
    """

    def __init__(self, max_length: int = 1_000_000, min_length: int = 0, seed: Any = None):
        super().__init__(
            max_length=max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed
        )

    def contains(self, x: Any) -> bool:
        """Return True for any ``str`` whose length lies within the bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """Sample a short printable string (up to 64 characters) for fuzzing."""
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        hi = max(self.min_length, min(self.max_length, 64))
        length = int(self.np_random.integers(self.min_length, hi + 1))
        idx = self.np_random.integers(0, len(SAMPLE_CHARSET), size=length)
        return "".join(SAMPLE_CHARSET[i] for i in np.asarray(idx, dtype=np.int64))

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length}, min_length={self.min_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TextSpace)
            and self.max_length == other.max_length
            and self.min_length == other.min_length
        )

    __hash__ = None  # type: ignore[assignment]
