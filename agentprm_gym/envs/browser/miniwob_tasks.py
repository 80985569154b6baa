"""The MiniWoB++ tasks served by ``AgentPRM/MiniWoB-<task>-v0`` and how episodes are seeded.

Each task is a page shipped in the ``miniwob`` package
(``miniwob/html/miniwob/<task>.html``). The package's env seeds an episode with
``Math.seedrandom(seed)``, ``seed`` a JavaScript *number* (seedrandom mixes a
number in as its text plus a NUL character, so the string ``"7"`` seeds another
episode than the number ``7``), then ``core.setDataMode("train")`` and
``core.startEpisodeReal()``. Here the page seed of task id ``i`` is the number
``i`` in the train split and ``1_000_000 + i`` in the test split, so train task
``i`` is exactly the package's ``env.reset(seed=i)`` episode (a test checks the
utterances of seeds 0-29 against ones recorded from the package) and the two
splits never share a page.
"""

from __future__ import annotations

import os

__all__ = [
    "MINIWOB_TASK_LIMITS",
    "MINIWOB_TASK_KINDS",
    "MINIWOB_SKIP_IDS",
    "MINIWOB_RELOAD_TASKS",
    "TEST_SEED_OFFSET",
    "miniwob_html_root",
    "page_seed",
]

#: Task -> (step limit, interaction kind it exercises).
_TASKS: dict[str, tuple[int, str]] = {
    "click-button": (5, "click a button by its text"),
    "click-link": (5, "click a link inside running text"),
    "click-checkboxes": (12, "toggle a set of checkboxes, then submit"),
    "click-option": (6, "choose a radio button, then submit"),
    "click-dialog": (5, "close a modal jQuery UI dialog"),
    "enter-text": (6, "type into a text field, then submit"),
    "enter-password": (8, "type the same secret into two password fields"),
    "login-user": (8, "fill a labelled login form"),
    "choose-list": (6, "pick an option of a drop-down list"),
    "navigate-tree": (12, "expand folders of a file tree"),
    "use-autocomplete": (8, "type a prefix and pick from an autocomplete menu"),
    "click-tab-2": (8, "switch tabs to find a link"),
    "search-engine": (10, "search, paginate, click a result"),
}

#: Task -> step limit (what the registration uses).
MINIWOB_TASK_LIMITS: dict[str, int] = {k: v[0] for k, v in _TASKS.items()}
#: Task -> the interaction kind it exercises.
MINIWOB_TASK_KINDS: dict[str, str] = {k: v[1] for k, v in _TASKS.items()}

#: MiniWoB's own chrome, left out of observations (the utterance is the task line).
MINIWOB_SKIP_IDS: tuple[str, ...] = ("reward-display", "click-canvas", "sync-task-cover", "query")

#: Tasks whose page is loaded afresh for every episode. The others restart the episode
#: on the loaded page (``Math.seedrandom`` + ``core.startEpisodeReal()``, as MiniWoB
#: does), which a test checks gives the same observations as a fresh load; these
#: leave widget state behind that a restarted episode would inherit.
MINIWOB_RELOAD_TASKS: frozenset[str] = frozenset(("search-engine", "use-autocomplete"))

#: Test-split page seeds start here.
TEST_SEED_OFFSET = 1_000_000


def page_seed(split: str, task_id: int) -> int:
    """The ``Math.seedrandom`` seed (a number) of ``task_id`` in ``split``."""
    return task_id if split == "train" else TEST_SEED_OFFSET + task_id


def miniwob_html_root() -> str:
    """The ``html`` directory of the installed ``miniwob`` package.

    Raises:
        ModuleNotFoundError: If the ``miniwob`` package is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the 'miniwob' package (its task HTML) is needed: pip install 'agentprm-gym[browser]'"
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "html")
