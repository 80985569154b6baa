"""``agentprm-gym list``: the registered env ids."""

from __future__ import annotations

import argparse

from agentprm_gym.commands.common import add_json_flag, emit_json

HELP = "list the registered env ids"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--family", help="only this family (webshop, alfworld, babyai, ...)")
    add_json_flag(p)


def run(args: argparse.Namespace) -> int:
    """Print one id per line (with family and step limit)."""
    from agentprm_gym.registration import ENV_TABLE

    rows = [r for r in ENV_TABLE if args.family is None or r.family == args.family]
    for r in rows:
        extra = "  (needs Chromium)" if r.needs_browser else ""
        print(f"{r.id:44s} {r.family:10s} max_episode_steps={r.max_episode_steps}{extra}")
    if args.json:
        emit_json({"ids": [r.id for r in rows]})
    return 0
