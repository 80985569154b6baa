"""Procedural generation: one world and task from ``(split, task type, index)``.

Generation is a pure function: the same arguments give the same world in any
process. Each call seeds its own ``numpy`` Generator from
``(split code, task type index, index)``; nothing is cached.

A world is built in four moves: pick a goal combination ``(X, Y, room)`` from
the split's combinations; draw the room's receptacle counts (making sure ``Y``,
the cleaning/heating/cooling appliance, a desk lamp host and some other place
for ``X`` exist); put one desk lamp in a living room or bedroom; then place the
``X`` objects (never inside a ``Y``, so no goal holds at the start) and
distractor objects where such things plausibly are.
"""

from __future__ import annotations

import numpy as np

from agentprm_gym.envs.alfworld.splits import canonical_split, split_combos
from agentprm_gym.envs.alfworld.tasks import TASK_TYPES, Task, goal_text, num_phrasings
from agentprm_gym.envs.alfworld.vocabulary import (
    LAMP_HOSTS,
    OBJECT_KINDS,
    ROOM_LAYOUTS,
    TOOL_KINDS,
    objects_for_room,
)
from agentprm_gym.envs.alfworld.world import Layout, WorldState

__all__ = ["generate", "SPLIT_CODES", "DISTRACTORS"]

#: Seed-stream code of each canonical split.
SPLIT_CODES = {"train": 0, "valid_seen": 1, "valid_unseen": 2}
#: Range (inclusive) of distractor objects per world.
DISTRACTORS = (8, 16)


class _Draw:
    """Uniform draws from one batch of random floats (faster than scalar calls)."""

    def __init__(self, rng: np.random.Generator, n: int = 256) -> None:
        self._rng = rng
        self._u = rng.random(n).tolist()
        self._i = 0

    def below(self, n: int) -> int:
        """An int uniform in ``[0, n)``."""
        if self._i >= len(self._u):
            self._u = self._rng.random(len(self._u)).tolist()
            self._i = 0
        u = self._u[self._i]
        self._i += 1
        return min(int(u * n), n - 1)

    def between(self, lo: int, hi: int) -> int:
        """An int uniform in ``[lo, hi]``."""
        return lo + self.below(hi - lo + 1)

    def choice(self, seq: tuple[str, ...] | list[str]) -> str:
        """One element of a non-empty sequence."""
        return seq[self.below(len(seq))]


def generate(split: str, task_type: str, index: int) -> tuple[Task, Layout, WorldState]:
    """Generate task ``index`` of ``task_type`` in ``split``.

    Args:
        split: ``train``, ``valid_seen``, ``valid_unseen`` or ``test``.
        task_type: One of :data:`~agentprm_gym.envs.alfworld.tasks.TASK_TYPES`.
        index: Task index within the type (any non-negative int).

    Returns:
        The task, the immutable layout and the initial state.
    """
    split = canonical_split(split)
    t_idx = TASK_TYPES.index(task_type)
    rng = np.random.default_rng([SPLIT_CODES[split], t_idx, int(index), 0xA1F0])
    d = _Draw(rng)
    combos = split_combos(split, task_type)
    x, y, room = combos[d.below(len(combos))]
    task = Task(
        task_type, x, y, room, goal_text(task_type, x, y, d.below(num_phrasings(task_type)))
    )

    # receptacle counts
    spec = ROOM_LAYOUTS[room]
    counts = {k: d.between(lo, hi) for k, (lo, hi) in spec.items()}
    if y in counts:
        counts[y] = max(counts[y], 1)
    mod = task.modifier
    if mod is not None:
        tool = next(t for t in TOOL_KINDS[mod] if t in spec)
        counts[tool] = max(counts[tool], 1)
    hosts = tuple(h for h in LAMP_HOSTS if h in spec)
    if hosts and not any(counts[h] for h in hosts):
        counts[d.choice(hosts)] = 1
    x_places = tuple(r for r in OBJECT_KINDS[x].receptacles if r in spec and r != y)
    if not any(counts[r] for r in x_places):
        counts[d.choice(x_places)] = 1
    receptacles = tuple(f"{k} {i}" for k in spec for i in range(1, counts[k] + 1))
    by_kind = {k: tuple(f"{k} {i}" for i in range(1, counts[k] + 1)) for k in spec if counts[k]}

    contents: dict[str, list[str]] = {r: [] for r in receptacles}
    numbers: dict[str, int] = {}
    objects: list[str] = []

    def put(kind: str, places: tuple[str, ...]) -> None:
        kinds = tuple(p for p in places if p in by_kind)
        recep = d.choice(by_kind[d.choice(kinds)])
        numbers[kind] = numbers.get(kind, 0) + 1
        name = f"{kind} {numbers[kind]}"
        objects.append(name)
        contents[recep].append(name)

    if hosts:
        put("desklamp", hosts)
    n_x = d.between(2, 4) if task.count == 2 else d.between(1, 3)
    for _ in range(n_x):
        put(x, x_places)
    present = frozenset(by_kind)
    pool = tuple(k for k in objects_for_room(room, present) if k != x)
    for _ in range(d.between(*DISTRACTORS)):
        kind = d.choice(pool)
        put(kind, OBJECT_KINDS[kind].receptacles)

    # list each receptacle's contents in a shuffled but seeded order
    frozen: dict[str, tuple[str, ...]] = {}
    for r, objs in contents.items():
        for i in range(len(objs) - 1, 0, -1):
            j = d.below(i + 1)
            objs[i], objs[j] = objs[j], objs[i]
        frozen[r] = tuple(objs)
    where = {o: r for r, objs in frozen.items() for o in objs}
    layout = Layout.build(room, receptacles, tuple(objects))
    state = WorldState(None, None, frozenset(), frozen, where)
    return task, layout, state
