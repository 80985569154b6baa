"""``agentprm-gym list``: the registered env ids."""

from __future__ import annotations

import argparse

from agentprm_gym.commands.common import CLIError, add_json_flag, emit_json

HELP = "list the registered env ids"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--family", help="only this family (webshop, alfworld, babyai, ...)")
    add_json_flag(p)


def run(args: argparse.Namespace) -> int:
    """Print one id per line (with family and step limit)."""
    from agentprm_gym.registration import ENV_TABLE

    families = sorted({r.family for r in ENV_TABLE})
    if args.family is not None and args.family not in families:
        raise CLIError(f"unknown family {args.family!r}; known: {', '.join(families)}")
    rows = [r for r in ENV_TABLE if args.family is None or r.family == args.family]
    missing = browser_missing() if any(r.needs_browser for r in rows) else None
    for r in rows:
        extra = f"  (needs {missing})" if r.needs_browser and missing else ""
        print(f"{r.id:44s} {r.family:10s} max_episode_steps={r.max_episode_steps}{extra}")
    if args.json:
        emit_json({"ids": [r.id for r in rows], "browser_missing": missing})
    return 0


def browser_missing() -> str | None:
    """What the browser ids lack on this machine (None when they can run).

    Returns:
        ``"Playwright"`` (the ``[browser]`` extra is not installed), ``"Chromium"``
        (no Chromium binary where the browser envs look for it), or None.
    """
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return "Playwright: pip install 'agentprm-gym[browser]'"
    from agentprm_gym.envs.browser.launcher import BrowserUnavailableError, chromium_path

    try:
        chromium_path()
    except BrowserUnavailableError:
        return "Chromium: apt-get install chromium, or set AGENTPRM_CHROMIUM"
    return None
