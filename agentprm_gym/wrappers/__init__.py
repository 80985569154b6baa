"""Gymnasium wrappers that put a PRM to work: dense rewards and lookahead action choice."""

from __future__ import annotations

from agentprm_gym.wrappers.prm_lookahead import PRMLookahead
from agentprm_gym.wrappers.prm_reward import PRM_REWARD_MODES, PRMReward

__all__ = ["PRM_REWARD_MODES", "PRMLookahead", "PRMReward"]
