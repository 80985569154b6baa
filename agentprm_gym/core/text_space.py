"""A Gymnasium text space that accepts any Python ``str``, vector-env safe.

``gymnasium.spaces.Text`` checks every character against a charset (by default
alphanumerics only, so even a space is rejected). Agent environments exchange
free text, so :class:`TextSpace` accepts any string up to ``max_length``
characters, and its charset is every Unicode code point (lone surrogates
included: a Python ``str`` can hold them), in code-point order. So a
character's index in the charset is its code point, and everything in
Gymnasium that reads the charset (``flatten``, ``unflatten``, the shared
memory of ``AsyncVectorEnv``) handles every string :meth:`TextSpace.contains`
accepts.

The charset is never materialised: :attr:`TextSpace.character_set` and
:attr:`TextSpace.character_list` are lazy views over the code points. Gymnasium's
generic ``Text`` codecs walk all ``max_length`` slots in Python, which at the
default ``max_length`` of a million characters would cost tens of milliseconds
a step, so this module registers vectorised versions of ``flatten``,
``unflatten`` and the shared-memory codecs for :class:`TextSpace`. They lay a
string out as the generic ones do: its code points, then ``len(charset)`` as
padding. The shared-memory reader returns a live view
(:class:`SharedTextBatch`), as ``AsyncVectorEnv`` expects of it (it reads the
memory once and relies on the workers' writes showing through); Gymnasium's
own reader returns a fixed tuple, with which an async text env would repeat
its first observations forever.
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
import string
from collections.abc import Iterator, Sequence, Set
from typing import Any

import numpy as np
from gymnasium.spaces import Text
from gymnasium.spaces.utils import flatten, unflatten
from gymnasium.vector.utils.shared_memory import (
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)
from numpy.typing import NDArray

__all__ = [
    "SAMPLE_CHARSET",
    "UNICODE_SIZE",
    "SharedTextBatch",
    "TextSpace",
    "decode_text",
    "encode_text",
]

#: Characters used by :meth:`TextSpace.sample` (contains() accepts any character).
SAMPLE_CHARSET = string.ascii_letters + string.digits + " []<>.,:;!?'\"-_/()&$#%*+=@"

#: Number of Unicode code points (U+0000..U+10FFFF): the size of the charset,
#: and the padding value of a flattened string.
UNICODE_SIZE = 0x110000


class _AllCharacters(Set):
    """Every single character (a frozenset-like view; nothing is stored)."""

    def __contains__(self, c: object) -> bool:
        return isinstance(c, str) and len(c) == 1

    def __len__(self) -> int:
        return UNICODE_SIZE

    def __iter__(self) -> Iterator[str]:
        return map(chr, range(UNICODE_SIZE))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AllCharacters):
            return True
        return Set.__eq__(self, other)

    def __hash__(self) -> int:
        return hash((_AllCharacters, UNICODE_SIZE))

    def __repr__(self) -> str:
        return "<every Unicode character>"


class _CodePoints(Sequence):
    """``chr`` of every code point, indexable like a tuple (nothing is stored)."""

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [chr(j) for j in range(*i.indices(UNICODE_SIZE))]
        j = int(i)
        if j < 0:
            j += UNICODE_SIZE
        if not 0 <= j < UNICODE_SIZE:
            raise IndexError(f"code point {i} is out of range")
        return chr(j)

    def __len__(self) -> int:
        return UNICODE_SIZE

    def __repr__(self) -> str:
        return "<every Unicode character, in code-point order>"


_ALL = _AllCharacters()
_LIST = _CodePoints()


def encode_text(text: str) -> NDArray[np.int32]:
    """The code points of ``text`` as ``int32`` (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<i4").astype(
        np.int32, copy=False
    )


def decode_text(codes: NDArray[Any]) -> str:
    """The string of the code points ``codes`` (inverse of :func:`encode_text`)."""
    return np.ascontiguousarray(codes, dtype="<i4").tobytes().decode("utf-32-le", "surrogatepass")


class TextSpace(Text):
    """The space of all strings of length ``min_length..max_length``.

    Args:
        max_length: Longest string the space contains.
        min_length: Shortest string the space contains (default 0: empty allowed).
        seed: Seed for :meth:`sample`.
    """

    def __init__(self, max_length: int = 1_000_000, min_length: int = 0, seed: Any = None):
        super().__init__(max_length=max_length, min_length=min_length, charset="", seed=seed)

    @property
    def character_set(self) -> frozenset[str]:
        """Every Unicode character (a lazy, frozenset-like view)."""
        return _ALL  # type: ignore[return-value]

    @property
    def character_list(self) -> tuple[str, ...]:
        """Every Unicode character in code-point order (a lazy, tuple-like view)."""
        return _LIST  # type: ignore[return-value]

    def character_index(self, char: str) -> np.int32:
        """The index of ``char`` in the charset: its code point."""
        return np.int32(ord(char))

    @property
    def characters(self) -> str:
        """Every Unicode character as one string (1,114,112 characters; built on each call)."""
        return decode_text(np.arange(UNICODE_SIZE, dtype=np.int32))

    def contains(self, x: Any) -> bool:
        """Return True for any ``str`` whose length lies within the bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """Sample a string.

        Without a mask: a short printable string (up to 64 characters of
        :data:`SAMPLE_CHARSET`), for fuzzing. With ``mask`` or ``probability``
        (Gymnasium's ``(length, array over the charset)`` form, the array
        indexed by code point): characters drawn from the allowed or weighted
        code points.
        """
        if mask is None and probability is None:
            hi = max(self.min_length, min(self.max_length, 64))
            length = int(self.np_random.integers(self.min_length, hi + 1))
            idx = self.np_random.integers(0, len(SAMPLE_CHARSET), size=length)
            return "".join(SAMPLE_CHARSET[i] for i in np.asarray(idx, dtype=np.int64))
        if mask is not None and probability is not None:
            raise ValueError("give either mask or probability, not both")
        if mask is not None:
            length, weights = self._validate_mask(mask, np.int8, "mask")
        else:
            length, weights = self._validate_mask(probability, np.float64, "probability")
        if length is None:
            length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        if weights is None:
            codes = self.np_random.integers(0, UNICODE_SIZE, size=length)
            return decode_text(codes)
        p = np.asarray(weights, dtype=np.float64)
        if np.any(p < 0) or (mask is not None and np.any((p != 0) & (p != 1))):
            raise ValueError("a mask holds 0 or 1, a probability array values in [0, 1]")
        total = float(p.sum())
        if total == 0:
            if self.min_length == 0:
                return ""
            raise ValueError(f"the mask allows no character but min_length is {self.min_length}")
        if probability is not None and not np.isclose(total, 1.0):
            raise ValueError(f"the probabilities must sum to 1, got {total}")
        return decode_text(self.np_random.choice(UNICODE_SIZE, size=length, p=p / total))

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length}, min_length={self.min_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TextSpace)
            and self.max_length == other.max_length
            and self.min_length == other.min_length
        )

    __hash__ = None  # type: ignore[assignment]


# ------------------------------------------------------------------ codecs
def _flat(space: TextSpace, text: str) -> NDArray[np.int32]:
    codes = encode_text(text)
    if len(codes) > space.max_length:
        raise ValueError(f"a string of {len(codes)} characters does not fit {space!r} (max_length)")
    out = np.full(space.max_length, UNICODE_SIZE, dtype=np.int32)
    out[: len(codes)] = codes
    return out


@flatten.register(TextSpace)
def _flatten_text_space(space: TextSpace, x: str) -> NDArray[np.int32]:
    return _flat(space, x)


@unflatten.register(TextSpace)
def _unflatten_text_space(space: TextSpace, x: NDArray[Any]) -> str:
    arr = np.asarray(x)
    return decode_text(arr[(arr >= 0) & (arr < UNICODE_SIZE)])


@create_shared_memory.register(TextSpace)
def _create_text_space_memory(space: TextSpace, n: int = 1, ctx: Any = mp) -> Any:
    memory = ctx.Array(np.dtype(np.int32).char, n * space.max_length)
    np.frombuffer(memory.get_obj(), dtype=np.int32)[:] = UNICODE_SIZE  # n empty strings
    return memory


@write_to_shared_memory.register(TextSpace)
def _write_text_space(space: TextSpace, index: int, value: str, shared_memory: Any) -> None:
    size = space.max_length
    codes = encode_text(value)
    if len(codes) > size:
        raise ValueError(f"a string of {len(codes)} characters does not fit {space!r} (max_length)")
    row = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)[index * size : (index + 1) * size]
    old_end = _text_end(row)  # the slots after it are padding already
    row[: len(codes)] = codes
    if old_end > len(codes):
        row[len(codes) : old_end] = UNICODE_SIZE


def _text_end(row: NDArray[np.int32]) -> int:
    """Where the padding of a laid-out row starts (code points first, padding after)."""
    # Found by bisection instead of a scan of all max_length slots.
    return bisect.bisect_left(row, True, key=lambda v: bool(v >= UNICODE_SIZE))


class SharedTextBatch(Sequence):
    """The strings of ``n`` sub-envs, read live from an ``AsyncVectorEnv``'s shared memory.

    ``AsyncVectorEnv`` reads its shared memory once, when it is built, and from
    then on returns that object; for array spaces it is a view that the workers'
    writes update in place. This is the same for text: each access decodes the
    current contents. A deep copy (``AsyncVectorEnv`` makes one per call with
    its default ``copy=True``) or a pickle is a plain ``tuple`` of ``str``,
    which is what a sync vector env returns.

    Args:
        space: The single-env observation space.
        shared_memory: The buffer from ``create_shared_memory(space, n)``.
        n: Number of sub-envs.
    """

    def __init__(self, space: TextSpace, shared_memory: Any, n: int) -> None:
        self._data = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(
            n, space.max_length
        )

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        row = self._data[i]
        return decode_text(row[: _text_end(row)])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SharedTextBatch | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))

    def __repr__(self) -> str:
        return f"SharedTextBatch({tuple(self)!r})"


@read_from_shared_memory.register(TextSpace)
def _read_text_space(space: TextSpace, shared_memory: Any, n: int = 1) -> SharedTextBatch:
    return SharedTextBatch(space, shared_memory, n)
