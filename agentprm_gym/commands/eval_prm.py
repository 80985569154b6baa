"""``agentprm-gym eval-prm``: PRM quality metrics on held-out rollouts."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentprm_gym.commands.common import CLIError, add_json_flag, emit_json
from agentprm_gym.progress import heartbeat

HELP = "evaluate a PRM: step ranking accuracy, MSE vs MC estimates, outcome AUC"
DESCRIPTION = """Evaluate a PRM on a trajectory file (held-out tasks, e.g. `collect --split test`).

- ranking_accuracy: at steps with a recorded expert action and >= 2 admissible
  actions, how often the PRM scores the expert action above a random other
  admissible action (seeded; ties count 0.5);
- mse_vs_mc: mean squared error of Q against MC success estimates (needs
  `collect --mc N` labels; null otherwise);
- auc: AUC of the last step's Q against episode success (null if all episodes
  share one outcome).

Examples:
  agentprm-gym collect --env AgentPRM/WebShop-v0 --policy noisy:0.5 --tasks 200 --per-task 2 \
      --split test --out runs/ws-test.jsonl
  agentprm-gym eval-prm --prm runs/webshop-prm --data runs/ws-test.jsonl
  agentprm-gym eval-prm --prm random --data runs/ws-test.jsonl --json   # the chance baseline

The oracle PRM needs a live env, so it cannot score recorded steps here; compare
it in `agentprm-gym search` instead.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument(
        "--prm",
        required=True,
        help="PRM directory (from train-prm), or random (every step ties: ranking 0.5)",
    )
    p.add_argument("--data", required=True, help="trajectory JSONL file")
    p.add_argument("--seed", type=int, default=0, help="seed of the random other action")
    p.add_argument(
        "--max-steps", type=int, default=None, help="rank at most this many steps (subsample)"
    )
    p.add_argument(
        "--batch-size", type=int, default=64, help="items (cross) or states (state PRM) per pass"
    )
    p.add_argument(
        "--by-action",
        action="store_true",
        help="also split the ranking accuracy by the kind of the expert's action",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_json_flag(p)


def run(args: argparse.Namespace) -> int:
    """Load the PRM and data, compute and print the metrics."""
    if not Path(args.data).is_file():
        raise CLIError(f"no trajectory file at {args.data!r}")
    if args.max_steps is not None and args.max_steps < 1:
        raise CLIError("--max-steps must be >= 1")
    if args.batch_size < 1:
        raise CLIError("--batch-size must be >= 1")
    from agentprm_gym.core.trajectory import TrajectoryFormatError, read_trajectories
    from agentprm_gym.prm.steps import episode_steps

    try:
        episodes = episode_steps(read_trajectories(args.data))
    except (TrajectoryFormatError, ValueError, OSError) as e:
        raise CLIError(f"cannot read {args.data}: {e}") from None
    if not episodes:
        raise CLIError(f"{args.data} holds no episodes with steps")
    spec = str(args.prm)
    if spec == "oracle" or spec.startswith("oracle:"):
        raise CLIError("the oracle PRM needs a live env; eval-prm scores recorded steps only")
    from agentprm_gym.prm.loading import load_prm
    from agentprm_gym.prm.metrics import evaluate_prm

    quiet = bool(args.no_progress)
    try:
        with heartbeat(f"eval-prm: loading {spec}", disable=quiet):
            prm = load_prm(spec)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    if hasattr(prm, "batch_size"):  # a cross-encoder: items per forward pass
        prm.batch_size = args.batch_size
    if hasattr(prm, "contexts_per_batch"):  # a state PRM: states per forward pass
        prm.contexts_per_batch = args.batch_size
    n_steps = sum(len(e) for e in episodes)
    with heartbeat(f"eval-prm: scoring {n_steps} steps of {len(episodes)} episodes", disable=quiet):
        res = evaluate_prm(prm, episodes, seed=args.seed, max_rank_steps=args.max_steps)
    res["prm"] = spec
    if args.by_action:
        from agentprm_gym.prm.metrics import ranking_by_action

        res["by_action"] = ranking_by_action(prm, episodes, args.seed, args.max_steps)

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    print(
        f"ranking accuracy {fmt(res['ranking_accuracy'])} ({res['ranked_steps']} steps)  "
        f"MSE vs MC {fmt(res['mse_vs_mc'])} ({res['mc_steps']} steps)  "
        f"outcome AUC {fmt(res['auc'])}  [{res['episodes']} episodes, {res['steps']} steps]"
    )
    for kind, r in res.get("by_action", {}).items():
        print(f"  expert {kind:30s} {r['pairs']:6d} pairs  ranking {r['accuracy']:.3f}")
    if args.json:
        emit_json(res)
    return 0
