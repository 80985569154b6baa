"""``agentprm-gym play``: play an env interactively in a terminal."""

from __future__ import annotations

import argparse
import sys

from agentprm_gym.commands.common import CLIError, make_env, parse_env_args

HELP = "play an env interactively in the terminal"
DESCRIPTION = """Play an env by typing actions.

Type an action, or the number of an admissible action. Commands:
  :q  quit      :r  restart (next task)      :e  show the expert's next action
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--seed", type=int, default=None, help="seed (picks the task)")
    p.add_argument("--task-id", type=int, default=None, help="play this task index")
    p.add_argument("--split", default=None, help="task split (train, test, ...)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")


def run(args: argparse.Namespace) -> int:
    """Interactive loop on stdin/stdout."""
    env = make_env(args.env, **parse_env_args(args.env_arg))
    options = {}
    if args.task_id is not None:
        options["task_id"] = args.task_id
    if args.split is not None:
        options["split"] = args.split
    try:
        obs, info = env.reset(seed=args.seed, options=options or None)
    except (ValueError, TypeError) as e:
        raise CLIError(str(e)) from e
    total = 0.0
    while True:
        print("\n" + "=" * 72)
        print(f"Instruction: {info.get('instruction', '')}")
        print("-" * 72)
        print(obs)
        acts = info.get("admissible_actions", [])
        if acts:
            print("-" * 72)
            for i, a in enumerate(acts):
                print(f"  [{i}] {a}")
        try:
            line = input("action> ")
        except EOFError:
            print()
            return 0
        line = line.strip()
        if line == ":q":
            return 0
        if line == ":r":
            obs, info = env.reset()
            total = 0.0
            continue
        if line == ":e":
            try:
                print("expert:", env.get_wrapper_attr("expert_action")())
            except Exception as e:  # noqa: BLE001 - show, keep playing
                print(f"(no expert: {e})")
            continue
        action = acts[int(line)] if line.isdigit() and int(line) < len(acts) else line
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        if info.get("action_error"):
            print(f"! {info['action_error']}", file=sys.stderr)
        if terminated or truncated:
            print("\n" + obs)
            why = "terminated" if terminated else "truncated (step limit)"
            print(f"\nEpisode {why}: reward {reward:.3f}, won={info.get('won')}")
            obs, info = env.reset()
            total = 0.0
