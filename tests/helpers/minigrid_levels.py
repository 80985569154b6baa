"""A comparable picture of a minigrid level's state, for tests of copies and snapshots."""

from __future__ import annotations

from typing import Any


def level_fingerprint(mg: Any) -> tuple:
    """Grid, agent (position, heading, steps), carried object and the agent's view.

    Two levels with equal fingerprints look and step the same. (Their pickled
    bytes can still differ: pickle records how objects are shared, and a copy
    shares the walls with the level it was copied from.)
    """
    carried = (mg.carrying.type, mg.carrying.color) if mg.carrying is not None else None
    agent = (tuple(int(v) for v in mg.agent_pos), int(mg.agent_dir), int(mg.step_count))
    return mg.grid.encode().tobytes(), agent, carried, mg.gen_obs()["image"].tobytes()
