"""Deep copies of objects bound to an env they do not own (PRMs, policies).

Gymnasium deep-copies the constructor arguments of wrappers into env specs. A
PRM or policy bound to an env holds a reference to something it does not own
(and a live env cannot be deep-copied), so its copy keeps the same env and
deep-copies everything else.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

__all__ = ["deepcopy_keeping_env"]

T = TypeVar("T")


def deepcopy_keeping_env(obj: T, memo: dict[int, Any]) -> T:
    """A deep copy of ``obj`` whose ``env`` attribute (if any) is the same object."""
    env = getattr(obj, "env", None)
    if env is not None:
        memo.setdefault(id(env), env)
    new = type(obj).__new__(type(obj))
    memo[id(obj)] = new
    new.__dict__.update(copy.deepcopy(obj.__dict__, memo))
    return new
