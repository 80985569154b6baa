"""Environment families, one package each: webshop, alfworld, browser, babyai, textcraft.

Each family package holds its data/world generation, task generation,
verifier, expert and dynamics in separate modules, plus the env class.
"""
