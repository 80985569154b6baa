"""The browser family: MiniWoB++ tasks and the WebShop shop site in real Chromium.

Modules: :mod:`.launcher` (Chromium through Playwright), :mod:`.server` (the
local HTTP server), :mod:`.page_script` (the injected marking/acting script),
:mod:`.dom_text` (DOM -> text with BeautifulSoup), :mod:`.browser_actions`
(the action language), :mod:`.page_driver` (commands on a live page),
:mod:`.miniwob_tasks` / :mod:`.miniwob_solvers` / :mod:`.miniwob_env`
(``AgentPRM/MiniWoB-<task>-v0``), :mod:`.shop_site` / :mod:`.static_pages` /
:mod:`.shop_env` (``AgentPRM/Browser-v0``). Nothing here imports Playwright
until a browser is started.
"""

from __future__ import annotations

__all__: list[str] = []
