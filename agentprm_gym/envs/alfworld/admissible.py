"""The admissible commands of a state, as ALFWorld lists them each step.

Every command listed here is valid (applying it never answers
``"Nothing happens."``), and every state change the dynamics allow is listed,
in a fixed order (go to, open/close, examine, take, use, move,
clean/heat/cool, examine the held object, inventory, look). Valid commands
left out are synonyms (``put O in R`` for ``move O to R``) and ``examine``
of an object lying at the agent's receptacle, which change nothing.
"""

from __future__ import annotations

from agentprm_gym.envs.alfworld.vocabulary import OBJECT_KINDS, TOOL_KINDS
from agentprm_gym.envs.alfworld.world import Layout, WorldState

__all__ = ["admissible_commands"]

_TREATS = (("clean", "cleanable"), ("heat", "heatable"), ("cool", "coolable"))


def admissible_commands(layout: Layout, state: WorldState) -> list[str]:
    """Every valid command in ``state``.

    Args:
        layout: The world's layout.
        state: The world state.

    Returns:
        The commands, in a fixed order.
    """
    loc = state.location
    kinds = layout.kinds
    out = [f"go to {r}" for r in layout.receptacles if r != loc]
    held = state.holding
    if loc is not None:
        accessible = True
        if loc in layout.openable:
            accessible = loc in state.opened
            out.append(f"close {loc}" if accessible else f"open {loc}")
        out.append(f"examine {loc}")
        loc_kind = kinds[loc]
        if accessible:
            for o in state.contents[loc]:
                k = OBJECT_KINDS[kinds[o]]
                if k.pickupable:
                    if held is None:
                        out.append(f"take {o} from {loc}")
                elif k.toggleable:
                    out.append(f"use {o}")
            if held is not None and loc_kind in OBJECT_KINDS[kinds[held]].receptacles:
                out.append(f"move {held} to {loc}")
        if held is not None:
            hk = OBJECT_KINDS[kinds[held]]
            for verb, afford in _TREATS:
                if loc_kind in TOOL_KINDS[verb] and getattr(hk, afford):
                    out.append(f"{verb} {held} with {loc}")
    if held is not None:
        out.append(f"examine {held}")
    out.append("inventory")
    out.append("look")
    return out
