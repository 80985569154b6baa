"""``agentprm-gym play``: play an env interactively in a terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agentprm_gym.commands.common import CLIError, make_env, parse_env_args

HELP = "play an env interactively in the terminal"
DESCRIPTION = """Play an env by typing actions.

Type an action, or the number of an admissible action. Commands:
  :q  quit      :r  restart (next task)      :e  show the expert's next action

Every episode is of --split; the next task is --task-id + 1 (wrapping), or a task
drawn from the split when --task-id is not given.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--seed", type=int, default=None, help="seed (picks the task)")
    p.add_argument("--task-id", type=int, default=None, help="play this task index")
    p.add_argument("--split", default=None, help="task split (train, test, ...)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")


def _next_options(options: dict[str, Any], n_tasks: int | None) -> dict[str, Any]:
    """Reset options of the next episode: the same split, the next task when one was chosen."""
    nxt = dict(options)
    if "task_id" in nxt:
        nxt["task_id"] = nxt["task_id"] + 1
        if n_tasks:
            nxt["task_id"] %= n_tasks
    return nxt


def _read_action(acts: list[str]) -> str | None:
    """Read a line until it is a command, an action or the number of an admissible action.

    Returns:
        The stripped line (a number replaced by its action), or None at end of input.
    """
    while True:
        try:
            line = input("action> ").strip()
        except EOFError:
            print()
            return None
        if not (acts and line.isdigit()):
            return line
        if int(line) < len(acts):
            return acts[int(line)]
        print(f"no action [{line}]: type 0..{len(acts) - 1}, an action, or :q / :r / :e")


def run(args: argparse.Namespace) -> int:
    """Interactive loop on stdin/stdout.

    Every episode is of the chosen ``--split``; after ``:r`` or the end of an
    episode the next task is ``--task-id`` + 1 (wrapping around the split), or a
    task drawn by the env's RNG when no ``--task-id`` was given.
    """
    env = make_env(args.env, **parse_env_args(args.env_arg))
    options: dict[str, Any] = {}
    if args.task_id is not None:
        options["task_id"] = args.task_id
    if args.split is not None:
        options["split"] = args.split
    try:
        obs, info = env.reset(seed=args.seed, options=options or None)
    except (ValueError, TypeError) as e:
        raise CLIError(str(e)) from e
    base = env.unwrapped
    split = options.get("split", getattr(base, "split", None))
    n_tasks = base.num_tasks(split) if split is not None and hasattr(base, "num_tasks") else None

    def next_episode() -> tuple[Any, dict[str, Any]]:
        nonlocal options
        options = _next_options(options, n_tasks)
        return env.reset(options=options or None)

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
        action = _read_action(acts)
        if action is None or action == ":q":
            return 0
        if action == ":r":
            obs, info = next_episode()
            continue
        if action == ":e":
            try:
                print("expert:", env.get_wrapper_attr("expert_action")())
            except Exception as e:  # noqa: BLE001 - show, keep playing
                print(f"(no expert: {e})")
            continue
        obs, reward, terminated, truncated, info = env.step(action)
        if info.get("action_error"):
            print(f"! {info['action_error']}", file=sys.stderr)
        if terminated or truncated:
            print("\n" + obs)
            why = "terminated" if terminated else "truncated (step limit)"
            print(f"\nEpisode {why}: reward {reward:.3f}, won={info.get('won')}")
            obs, info = next_episode()
