"""BabyAI levels, the default level mix, splits and level construction.

A task id of a split names a level of the env's level tuple and an instance
seed of minigrid: level ``levels[task_id % len(levels)]``, seed
``SPLIT_SEED_BASE[split] + task_id // len(levels)``. The seed ranges of
``train`` and ``test`` do not overlap, so a test instance is never a train
instance. Minigrid's own RNG is seeded from that instance seed on reset, so
the same task id gives the same episode in any process.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = [
    "DEFAULT_LEVELS",
    "SPLIT_SEED_BASE",
    "TASKS_PER_LEVEL",
    "normalize_levels",
    "task_spec",
    "make_level_env",
    "reset_level",
    "copy_level",
    "deep_copy",
    "level_memo",
    "observations_skipped",
]

#: The default mix: GoTo, Pickup, Open, Unlock and PutNext families, as in the AgentPRM paper.
#: Chosen so that a uniformly random policy over the admissible actions rarely
#: succeeds (the high-level ``go to X`` / ``pick up X`` actions make local GoTo
#: and Open levels easy to hit by chance) while minigrid's bot still solves each
#: level within the registered 64 text steps: ``OpenDoorDebug`` fails the
#: episode when a wrong door is opened, and the Unlock and PutNext families get
#: two levels each. Levels where the bot often needs more than 64 steps
#: (``GoTo``, ``GoToObjMaze``, ``Unlock``) are left out.
DEFAULT_LEVELS: tuple[str, ...] = (
    "BabyAI-GoToObjMazeS4-v0",
    "BabyAI-PickupLoc-v0",
    "BabyAI-OpenDoorDebug-v0",
    "BabyAI-UnlockPickup-v0",
    "BabyAI-BlockedUnlockPickup-v0",
    "BabyAI-PutNextLocal-v0",
    "BabyAI-PutNextS7N4-v0",
)

#: First minigrid instance seed of each split.
SPLIT_SEED_BASE: dict[str, int] = {"train": 0, "test": 10_000_000}

#: Instances per level in each split (train seeds stay below the test base).
TASKS_PER_LEVEL: dict[str, int] = {"train": 100_000, "test": 10_000}


def normalize_levels(level: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """Turn the ``level`` kwarg into a tuple of registered minigrid BabyAI ids.

    Args:
        level: None (the default mix), one id, or a sequence of ids. ``BabyAI-``
            and ``-v0`` may be left out (``"GoToLocal"``).

    Raises:
        ValueError: If an id is not a registered BabyAI level.
    """
    import minigrid  # noqa: F401  (registers the BabyAI ids)

    if level is None:
        names: tuple[str, ...] = DEFAULT_LEVELS
    elif isinstance(level, str):
        names = tuple(p.strip() for p in level.split(",") if p.strip())
    else:
        names = tuple(level)
    out = []
    for name in names:
        full = name if name.startswith("BabyAI-") else f"BabyAI-{name}"
        if not full.rsplit("-", 1)[-1].startswith("v"):
            full = f"{full}-v0"
        if full not in gym.registry:
            known = sorted(k for k in gym.registry if k.startswith("BabyAI-"))
            raise ValueError(f"unknown BabyAI level {name!r}; known levels: {known}")
        out.append(full)
    if not out:
        raise ValueError("level must name at least one BabyAI level")
    return tuple(out)


def task_spec(levels: tuple[str, ...], split: str, task_id: int) -> tuple[str, int]:
    """The ``(level id, minigrid seed)`` of ``task_id`` in ``split``."""
    n = len(levels)
    return levels[task_id % n], SPLIT_SEED_BASE[split] + task_id // n


def make_level_env(level_id: str) -> Any:
    """A bare (unwrapped) minigrid env of ``level_id``."""
    import minigrid  # noqa: F401

    return gym.make(level_id).unwrapped


def reset_level(mg_env: Any, seed: int) -> dict[str, Any]:
    """Reset a minigrid level with ``seed``, silencing its rejection-sampling prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        obs, _ = mg_env.reset(seed=int(seed))
    return obs


#: Attributes shared by reference between copies. ``np_random`` is only drawn
#: from while a level is generated (reset reseeds it), never by ``step``; the
#: room layout ``room_grid`` is built by generation too and only read after it
#: (the instruction verifier asks which room the agent stands in).
_SHARED_ATTRS = (
    "observation_space",
    "action_space",
    "spec",
    "metadata",
    "actions",
    "window",
    "_np_random",
    "room_grid",
)


def copy_level(mg_env: Any) -> Any:
    """Deep copy of a minigrid env's state (grid, agent, carried object, instruction).

    Spaces, the spec, the generation RNG, the room layout and the wall objects
    (never mutated after generation) are shared, not copied; doors, keys, balls
    and boxes are copied. The copy equals ``copy.deepcopy(mg_env,
    level_memo(mg_env))`` (see :func:`deep_copy`), several times faster.
    """
    return deep_copy(mg_env, level_memo(mg_env))


#: Immutable types :func:`deep_copy` returns as they are (as ``copy.deepcopy`` does).
_ATOMIC: frozenset[type] = frozenset(
    {type(None), int, float, bool, complex, str, bytes, type, range, frozenset}
)
#: Marks a memo miss (``None`` can be a memoized copy).
_MISSING = object()
#: Per class: whether its instances are plain ``__dict__`` objects (see :func:`_plain`).
_PLAIN: dict[type, bool] = {}


def _plain(cls: type) -> bool:
    """Whether ``copy.deepcopy`` copies instances of ``cls`` as new object + copied ``__dict__``.

    True when the class customises none of the copy and pickle hooks, has no
    non-empty ``__slots__`` and is not a subclass of a built-in container.
    """
    got = _PLAIN.get(cls)
    if got is None:
        got = (
            getattr(cls, "__deepcopy__", None) is None
            and cls.__new__ is object.__new__
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and cls.__getstate__ is object.__getstate__
            and getattr(cls, "__setstate__", None) is None
            and not any(vars(k).get("__slots__") for k in cls.__mro__)
            and not issubclass(cls, (list, tuple, dict, set))
            and "__dict__" in dir(cls)
        )
        _PLAIN[cls] = got
    return got


def deep_copy(x: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy(x, memo)`` with fast paths for the types a minigrid level holds.

    Built-in containers, immutable scalars, numpy arrays of numbers and plain
    objects (:func:`_plain`) are copied here; anything else goes to
    ``copy.deepcopy`` with the same memo, so shared and cyclic references keep
    their shape exactly as ``copy.deepcopy`` would leave them.
    """
    cls = type(x)
    if cls in _ATOMIC:
        return x
    got = memo.get(id(x), _MISSING)
    if got is not _MISSING:
        return got
    if cls is list:
        y: Any = []
        memo[id(x)] = y
        y.extend([v if type(v) in _ATOMIC else deep_copy(v, memo) for v in x])
    elif cls is tuple:
        items = [deep_copy(v, memo) for v in x]
        got = memo.get(id(x), _MISSING)  # a cycle through the tuple made it already
        if got is not _MISSING:
            return got
        y = x if all(a is b for a, b in zip(items, x, strict=True)) else tuple(items)
        memo[id(x)] = y
    elif cls is dict:
        y = {}
        memo[id(x)] = y
        for k, v in x.items():
            y[deep_copy(k, memo)] = deep_copy(v, memo)
    elif cls is np.ndarray and x.dtype.hasobject is False:
        y = x.copy(order="K")
        memo[id(x)] = y
    elif isinstance(x, np.generic) and not isinstance(x, np.void):
        return x  # numpy scalars are immutable; deepcopy returns them unchanged
    elif _plain(cls):
        y = object.__new__(cls)
        memo[id(x)] = y
        y.__dict__.update(
            {k: v if type(v) in _ATOMIC else deep_copy(v, memo) for k, v in x.__dict__.items()}
        )
    else:
        return copy.deepcopy(x, memo)
    _keep_alive(x, memo)
    return y


def _keep_alive(x: Any, memo: dict[int, Any]) -> None:
    """Keep ``x`` alive in the memo, as ``copy.deepcopy`` does, so its id is not reused."""
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]


def level_memo(mg_env: Any) -> dict[int, Any]:
    """A ``copy.deepcopy`` memo that shares what :func:`copy_level` does not copy.

    Pass it when deep-copying anything that holds the level (the expert's bot
    and its shadow level) so that the spaces, spec, RNG and walls stay shared.
    """
    memo: dict[int, Any] = {}
    for attr in _SHARED_ATTRS:
        val = mg_env.__dict__.get(attr)
        if val is not None:
            memo[id(val)] = val
    for obj in mg_env.grid.grid:
        if obj is not None and obj.type == "wall":
            memo[id(obj)] = obj
    return memo


def _no_observation() -> None:
    return None


@contextlib.contextmanager
def observations_skipped(mg_env: Any) -> Iterator[Any]:
    """While inside, ``mg_env.step`` skips building its observation (it returns None for it).

    Minigrid's ``step`` ends by rendering the agent's egocentric view
    (``gen_obs``: a grid slice, rotations and the visibility pass), the most
    expensive part of a step. Steps whose observation is thrown away (all but
    the last primitive step of a high-level action, the expert's shadow
    replays) skip it; ``gen_obs`` only reads the level, so the level's state is
    the same either way. Leaves the level's own ``gen_obs`` in place on exit.
    """
    before = vars(mg_env).get("gen_obs", _MISSING)  # set when nested
    mg_env.gen_obs = _no_observation  # an instance attribute shadows the method
    try:
        yield mg_env
    finally:
        if before is _MISSING:
            vars(mg_env).pop("gen_obs", None)
        else:
            mg_env.gen_obs = before
