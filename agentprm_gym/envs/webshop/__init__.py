"""WebShop-style offline shopping: ``AgentPRM/WebShop-v0``.

Modules: ``wordbanks`` (generator vocabulary), ``catalog`` (product schema and
seeded generator), ``data_loader`` (original WebShop files), ``goals``
(instructions and splits), ``search_engine`` (shared BM25 index), ``reward``
(WebShop's ``get_reward``), ``normalize`` (its color list and fuzzy score),
``type_words`` (title nouns for the type reward), ``state`` (episode state), ``pages`` (page
elements, text renderings), ``html_pages`` (HTML pages), ``shop_data``
(per-process data cache), ``expert`` (privileged planner), ``env`` (the env).
"""
