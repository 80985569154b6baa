"""agentprm-gym: text agent environments and AgentPRM process reward models.

Importing this package registers every ``AgentPRM/*`` environment id with
Gymnasium, so ``gym.make("AgentPRM/WebShop-v0")`` works after
``import agentprm_gym``. The import is cheap: env modules, torch,
transformers, Playwright and Ray load only when a feature needs them.
"""

from __future__ import annotations

from agentprm_gym.registration import ENV_TABLE, env_ids, register_envs

__version__ = "0.1.0"
__all__ = ["ENV_TABLE", "__version__", "env_ids", "register_envs"]

register_envs()
