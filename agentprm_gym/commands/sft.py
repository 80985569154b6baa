"""``agentprm-gym sft``: not yet implemented in this build."""

from __future__ import annotations

import argparse

from agentprm_gym.commands.common import CLIError

HELP = "(not yet available)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""


def run(args: argparse.Namespace) -> int:
    """Report that this subcommand is not available yet."""
    raise CLIError("this subcommand is not implemented yet")
