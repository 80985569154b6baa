"""ALFWorld-style household tasks (``AgentPRM/ALFWorld-v0``), generated with no data download.

Modules: :mod:`.vocabulary` (rooms, receptacle and object kinds),
:mod:`.world` (layout and state), :mod:`.tasks` (the six task types),
:mod:`.splits`, :mod:`.generation`, :mod:`.verifier`, :mod:`.dynamics`
(command language), :mod:`.admissible`, :mod:`.expert` and :mod:`.env`.
"""

from __future__ import annotations

__all__: list[str] = []
