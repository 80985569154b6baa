"""Hand-built worlds shared by the ALFWorld tests."""

from __future__ import annotations

from agentprm_gym.envs.alfworld.tasks import Task
from agentprm_gym.envs.alfworld.world import Layout, WorldState

KITCHEN_RECEPS = (
    "cabinet 1",
    "cabinet 2",
    "countertop 1",
    "diningtable 1",
    "fridge 1",
    "microwave 1",
    "sinkbasin 1",
    "garbagecan 1",
)


def kitchen() -> tuple[Layout, WorldState]:
    """A small kitchen: an apple and a mug in the closed cabinet, a knife on the counter."""
    contents = {r: () for r in KITCHEN_RECEPS}
    contents["cabinet 1"] = ("mug 1", "apple 1")
    contents["countertop 1"] = ("knife 1", "apple 2")
    contents["fridge 1"] = ("egg 1",)
    layout = Layout.build(
        "kitchen", KITCHEN_RECEPS, ("mug 1", "apple 1", "knife 1", "apple 2", "egg 1")
    )
    where = {o: r for r, objs in contents.items() for o in objs}
    return layout, WorldState(None, None, frozenset(), contents, where)


def bedroom() -> tuple[Layout, WorldState]:
    """A small bedroom with a desk lamp on the desk and a book on the bed."""
    receps = ("bed 1", "desk 1", "drawer 1", "shelf 1")
    contents = {r: () for r in receps}
    contents["desk 1"] = ("desklamp 1", "pen 1")
    contents["bed 1"] = ("book 1",)
    layout = Layout.build("bedroom", receps, ("desklamp 1", "pen 1", "book 1"))
    where = {o: r for r, objs in contents.items() for o in objs}
    return layout, WorldState(None, None, frozenset(), contents, where)


def task(task_type: str, x: str, y: str, room: str = "kitchen") -> Task:
    """A task with a placeholder goal text."""
    return Task(task_type, x, y, room, f"{task_type} {x} {y}")
