"""The ``agentprm-gym`` command line.

Each subcommand lives in its own module under :mod:`agentprm_gym.commands`
and is imported only when it runs, so ``agentprm-gym --help`` stays fast.
Errors from bad arguments, missing files or unknown ids print one line and
exit non-zero; set ``AGENTPRM_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import Any

__all__ = ["main", "SUBCOMMANDS"]

#: name -> (module under agentprm_gym.commands, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_envs", "list the registered env ids"),
    "play": ("play", "play an env interactively in the terminal"),
    "eval": ("evaluate", "evaluate a policy: success rate, mean reward, mean steps"),
    "collect": ("collect", "collect rollouts into a crash-safe, resumable JSONL file"),
    "train-prm": ("train_prm", "train a PRM (AgentPRM, PVM, ORM, MC-PRM) from rollouts"),
    "eval-prm": (
        "eval_prm",
        "evaluate a PRM: step ranking accuracy, MSE vs MC estimates, outcome AUC",
    ),
    "sft": ("sft", "fine-tune a causal LM policy on expert trajectories"),
    "search": ("search", "run Best-of-N / beam search with a PRM, or the policy alone"),
    "bench": ("bench", "benchmarks: env throughput, result sweeps"),
    "demo": ("demo", "the main job on built-in defaults: collect, train, search, compare"),
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (imports every subcommand's argument definitions)."""
    parser = argparse.ArgumentParser(
        prog="agentprm-gym",
        description=(
            "Text agent environments and AgentPRM process reward models. "
            "Run `agentprm-gym SUBCOMMAND --help` for each subcommand."
        ),
    )
    from agentprm_gym import __version__

    parser.add_argument("--version", action="version", version=f"agentprm-gym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for name, (module, help_) in SUBCOMMANDS.items():
        mod = importlib.import_module(f"agentprm_gym.commands.{module}")
        p = sub.add_parser(
            name,
            help=help_,
            description=getattr(mod, "DESCRIPTION", help_),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``agentprm-gym``; returns the exit status.

    Called with no ``argv`` (the installed command), ``train-prm`` first re-runs
    itself under jemalloc where it is installed (:mod:`agentprm_gym.allocator`).
    """
    if argv is None:
        from agentprm_gym.allocator import reexec_with_jemalloc

        reexec_with_jemalloc(sys.argv[1:])
    from agentprm_gym.commands.common import CLIError
    from agentprm_gym.progress import is_terminal

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    if not is_terminal(sys.stderr) or getattr(args, "no_progress", False):
        # transformers and huggingface_hub draw tqdm bars ("Loading weights") that
        # fill a log with carriage returns; ours print plain lines there instead.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command, warnings.showwarning)
            return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("agentprm-gym: interrupted", file=sys.stderr)
        return 130
    except (CLIError, FileNotFoundError, PermissionError, ValueError, ImportError, OSError) as e:
        if os.environ.get("AGENTPRM_DEBUG"):
            raise
        print(f"agentprm-gym {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - the CLI promises one line, not a traceback
        if os.environ.get("AGENTPRM_DEBUG"):
            raise
        print(
            f"agentprm-gym {args.command}: error: {type(e).__name__}: {_one_line(e)} "
            "(set AGENTPRM_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


def _warning_printer(command: str, default: Any) -> Any:
    """``warnings.showwarning`` that prints the package's own warnings as one plain line.

    A Python warning is printed with the source file and line that raised it,
    which tells a command-line user nothing; the package's warnings (those
    raised from ``agentprm_gym`` modules) are printed as
    ``agentprm-gym COMMAND: warning: MESSAGE`` instead. Others keep the default.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        ours = f"{os.sep}agentprm_gym{os.sep}" in filename
        if ours or category.__module__.startswith("agentprm_gym"):
            print(f"agentprm-gym {command}: warning: {_one_line_text(message)}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def _one_line_text(message: object) -> str:
    return " ".join(str(message).split())


def _one_line(e: BaseException) -> str:
    """The error as one line; a system error as its reason and the path it names."""
    msg = str(e) or type(e).__name__
    if isinstance(e, FileNotFoundError) and e.filename:
        msg = f"no such file: {e.filename}"
    elif isinstance(e, OSError) and e.filename and e.strerror:
        # the system's reason, e.g. "Permission denied: /root/x" or "Read-only file system: ..."
        target = f"{e.filename} -> {e.filename2}" if e.filename2 else f"{e.filename}"
        msg = f"{e.strerror}: {target}"
    return " ".join(msg.split())


if __name__ == "__main__":  # pragma: no cover - also how the command re-runs under jemalloc
    sys.exit(main())
