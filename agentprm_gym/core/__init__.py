"""What all agentprm-gym environments share.

The base env (:class:`TextAgentEnv`), the text space, the bracket action
grammar, snapshots and trajectory records.
"""

from __future__ import annotations

from agentprm_gym.core.actions import ActionParseError, ParsedAction, format_action, parse_action
from agentprm_gym.core.base_env import EpisodeEndedError, TextAgentEnv, Transition
from agentprm_gym.core.snapshot import EnvSnapshot, SnapshotError
from agentprm_gym.core.text_space import TextSpace
from agentprm_gym.core.trajectory import (
    SCHEMA_VERSION,
    Step,
    Trajectory,
    TrajectoryFormatError,
    TrajectoryWriter,
    read_trajectories,
    write_trajectories,
)

__all__ = [
    "ActionParseError",
    "EnvSnapshot",
    "EpisodeEndedError",
    "ParsedAction",
    "SCHEMA_VERSION",
    "SnapshotError",
    "Step",
    "TextAgentEnv",
    "TextSpace",
    "Trajectory",
    "TrajectoryFormatError",
    "TrajectoryWriter",
    "Transition",
    "format_action",
    "parse_action",
    "read_trajectories",
    "write_trajectories",
]
