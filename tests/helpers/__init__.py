"""Shared test fixtures: small but real envs for testing generic machinery.

Import from a test file with::

    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests/ folder
    from helpers.chain_env import CorridorEnv, corridor_env_spec

(adjust ``parents[...]`` to reach ``tests/``). Nothing here registers an env id
globally; :func:`helpers.chain_env.registered_corridor` registers a test-only id
for the duration of a ``with`` block.
"""
