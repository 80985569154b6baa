"""Run the ``agentprm-gym`` CLI with the test-only corridor id registered in that process.

Usage (from a test, as a subprocess)::

    python tests/helpers/corridor_cli.py collect --env AgentPRMTest/Corridor-v0 ...

Registers :data:`helpers.chain_env.CORRIDOR_ID` (step limit 12) for this
process only, then calls :func:`agentprm_gym.cli.main` with the arguments.
Worker processes spawned by the CLI receive the env as a pickled spec whose
entry point is :class:`helpers.chain_env.CorridorEnv`, importable because
spawned workers inherit this process's ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from agentprm_gym.cli import main
    from helpers.chain_env import registered_corridor

    with registered_corridor():
        code = main(sys.argv[1:])
    sys.exit(code)
