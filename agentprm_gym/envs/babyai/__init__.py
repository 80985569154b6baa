"""Text BabyAI over minigrid's BabyAI levels (``AgentPRM/BabyAI-v0``).

Modules: :mod:`.levels` (level mix, splits, level construction),
:mod:`.render` (object names and the text view), :mod:`.dynamics`
(primitive and high-level text actions), :mod:`.verifier` (subgoal progress),
:mod:`.expert` (minigrid's BabyAI bot on a shadow copy) and :mod:`.env`.
"""

from __future__ import annotations

__all__: list[str] = []
