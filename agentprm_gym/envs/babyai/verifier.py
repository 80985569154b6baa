"""Subgoal progress of a BabyAI instruction, read from minigrid's instruction tree.

Minigrid's verifier (``instrs.verify``) decides success; this module adds a
finer signal: the instruction is split into subgoals, each a check on the
state, and the env latches every subgoal once it has held, reporting the
fraction done in ``info["subgoal_fraction"]``. Subgoals per instruction:

- ``go to X``: see an X; face an X.
- ``pick up X``: see an X; face an X; carry an X.
- ``open D``: see a D; carry a key of D's colour (only when D starts locked);
  face a D; a D is open.
- ``put X next to Y``: see an X; carry an X; see a Y; an X lies next to a Y.
- ``A and B`` / ``A, then B`` / ``A after you B``: the subgoals of both parts,
  in the order they must be done.

Subgoals name the object descriptions by their attribute path from
``mg_env.instrs``, so they stay valid when the minigrid state is deep-copied.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Subgoal", "build_subgoals", "subgoal_done", "subgoal_text"]

#: ``(kind, path to an ObjDesc, path to a second ObjDesc or ())``
Subgoal = tuple[str, tuple[str, ...], tuple[str, ...]]


def build_subgoals(mg_env: Any) -> tuple[Subgoal, ...]:
    """The subgoals of ``mg_env``'s instruction (call right after reset)."""
    return tuple(_build(mg_env.instrs, ()))


def _build(instr: Any, path: tuple[str, ...]) -> list[Subgoal]:
    kind = type(instr).__name__
    if kind in ("BeforeInstr", "AndInstr"):
        return _build(instr.instr_a, (*path, "instr_a")) + _build(instr.instr_b, (*path, "instr_b"))
    if kind == "AfterInstr":
        return _build(instr.instr_b, (*path, "instr_b")) + _build(instr.instr_a, (*path, "instr_a"))
    d = (*path, "desc")
    if kind == "GoToInstr":
        return [("see", d, ()), ("face", d, ())]
    if kind == "PickupInstr":
        return [("see", d, ()), ("face", d, ()), ("carry", d, ())]
    if kind == "OpenInstr":
        out: list[Subgoal] = [("see", d, ())]
        if any(getattr(o, "is_locked", False) for o in instr.desc.obj_set):
            out.append(("key", d, ()))
        return [*out, ("face", d, ()), ("open", d, ())]
    if kind == "PutNextInstr":
        m, f = (*path, "desc_move"), (*path, "desc_fixed")
        return [("see", m, ()), ("carry", m, ()), ("see", f, ()), ("next", m, f)]
    raise ValueError(f"unknown BabyAI instruction type {kind}")


def _resolve(mg_env: Any, path: tuple[str, ...]) -> Any:
    node = mg_env.instrs
    for attr in path:
        node = getattr(node, attr)
    return node


def subgoal_done(mg_env: Any, subgoal: Subgoal, visible_ids: set[int]) -> bool:
    """Whether ``subgoal`` holds now (``visible_ids``: ids of the objects in view)."""
    kind, p1, p2 = subgoal
    objs = _resolve(mg_env, p1).obj_set
    if kind == "see":
        return any(id(o) in visible_ids for o in objs) or any(o is mg_env.carrying for o in objs)
    if kind == "face":
        front = mg_env.grid.get(*mg_env.front_pos)
        return front is not None and any(front is o for o in objs)
    if kind == "carry":
        c = mg_env.carrying
        return c is not None and any(c is o for o in objs)
    if kind == "key":
        c = mg_env.carrying
        return c is not None and c.type == "key" and any(c.color == o.color for o in objs)
    if kind == "open":
        return any(o.is_open for o in objs)
    if kind == "next":
        fixed = _resolve(mg_env, p2)
        for a in objs:
            pa = a.cur_pos
            if pa is None or a is mg_env.carrying:
                continue
            for pb in fixed.obj_poss:
                if abs(pa[0] - pb[0]) + abs(pa[1] - pb[1]) == 1:
                    return True
        return False
    raise ValueError(f"unknown subgoal kind {kind!r}")


def _desc_text(desc: Any) -> str:
    words = [w for w in (desc.color, desc.type or "object") if w]
    return "the " + " ".join(words)


def subgoal_text(mg_env: Any, subgoal: Subgoal) -> str:
    """A short description, e.g. ``"pick up the red ball"``."""
    kind, p1, p2 = subgoal
    what = _desc_text(_resolve(mg_env, p1))
    if kind == "next":
        return f"put {what} next to {_desc_text(_resolve(mg_env, p2))}"
    verb = {"see": "see", "face": "go to", "carry": "pick up", "open": "open"}.get(kind)
    return f"{verb} {what}" if verb else f"get the key for {what}"
