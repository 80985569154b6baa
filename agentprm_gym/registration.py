"""Every ``gym.register`` call of agentprm-gym, driven by one table.

Importing :mod:`agentprm_gym` calls :func:`register_envs`. Entry points are
strings, so registering imports no env module (and no heavy dependency);
an env's module is imported by ``gym.make``. :func:`registered_step_limit`
reads an id's step limit back from this process's registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

__all__ = [
    "EnvRow",
    "ENV_TABLE",
    "MINIWOB_TASKS",
    "register_envs",
    "env_ids",
    "registered_step_limit",
]


@dataclass(frozen=True)
class EnvRow:
    """One registered id: where its class lives, its step limit and fixed kwargs."""

    id: str
    entry_point: str
    max_episode_steps: int
    family: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: Needs Chromium/Playwright (extra ``[browser]``) at ``make`` time.
    needs_browser: bool = False


#: MiniWoB++ tasks served by ``AgentPRM/MiniWoB-<task>-v0``: name -> step limit.
MINIWOB_TASKS: dict[str, int] = {
    "click-button": 5,
    "click-link": 5,
    "click-checkboxes": 12,
    "click-option": 6,
    "click-dialog": 5,
    "enter-text": 6,
    "enter-password": 8,
    "login-user": 8,
    "choose-list": 6,
    "navigate-tree": 12,
    "use-autocomplete": 8,
    "click-tab-2": 8,
    "search-engine": 10,
}

_BASE_ROWS: tuple[EnvRow, ...] = (
    EnvRow("AgentPRM/WebShop-v0", "agentprm_gym.envs.webshop.env:WebShopEnv", 15, "webshop"),
    EnvRow("AgentPRM/ALFWorld-v0", "agentprm_gym.envs.alfworld.env:ALFWorldEnv", 50, "alfworld"),
    EnvRow(
        "AgentPRM/Browser-v0",
        "agentprm_gym.envs.browser.shop_env:BrowserShopEnv",
        20,
        "browser",
        needs_browser=True,
    ),
    EnvRow("AgentPRM/BabyAI-v0", "agentprm_gym.envs.babyai.env:BabyAIEnv", 64, "babyai"),
    EnvRow(
        "AgentPRM/TextCraft-v0", "agentprm_gym.envs.textcraft.env:TextCraftEnv", 50, "textcraft"
    ),
)


def _miniwob_rows() -> tuple[EnvRow, ...]:
    return tuple(
        EnvRow(
            f"AgentPRM/MiniWoB-{task}-v0",
            "agentprm_gym.envs.browser.miniwob_env:MiniWoBEnv",
            limit,
            "miniwob",
            {"task": task},
            needs_browser=True,
        )
        for task, limit in MINIWOB_TASKS.items()
    )


#: The whole table, in registration order.
ENV_TABLE: tuple[EnvRow, ...] = _BASE_ROWS + _miniwob_rows()


def register_envs() -> None:
    """Register every id in :data:`ENV_TABLE` (idempotent)."""
    for row in ENV_TABLE:
        if row.id in gym.registry:
            continue
        gym.register(
            id=row.id,
            entry_point=row.entry_point,
            max_episode_steps=row.max_episode_steps,
            kwargs=dict(row.kwargs),
        )


def registered_step_limit(env_id: str) -> int | None:
    """``max_episode_steps`` of ``env_id`` in this process's registry (None: registered without).

    Raises:
        LookupError: ``env_id`` is not registered in this process (an env that
            another process's ``gym.register`` made, say).
    """
    try:
        limit = gym.spec(env_id).max_episode_steps
    except (gym.error.Error, ModuleNotFoundError) as e:
        raise LookupError(f"{env_id} is not registered in this process") from e
    return None if limit is None else int(limit)


def env_ids(family: str | None = None, include_browser: bool = True) -> list[str]:
    """The registered ids, optionally of one family, optionally without browser ids."""
    return [
        r.id
        for r in ENV_TABLE
        if (family is None or r.family == family) and (include_browser or not r.needs_browser)
    ]
