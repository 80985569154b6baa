"""The code in README.md and docs/ runs as written.

Every fenced block is tagged ``python``, ``bash`` or ``text``. Python and bash
blocks run in document order in one fresh directory per file, so a block may
use what an earlier one made (``runs/quick-prm``); each Python block runs
alone in a new interpreter, so it must import what it uses. A bash block right
after ``<!-- docs-test: not run (REASON) -->`` is too long to run here; its
``agentprm-gym`` commands are parsed by the real argument parser instead. In
every block, an ``agentprm-gym`` line may only use options its subcommand has.
Relative links must point at files of the repository.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
NOT_RUN = re.compile(r"<!--\s*docs-test:\s*not run\s*\((.+?)\)\s*-->")
LANGS = {"python", "bash", "text"}


@dataclass
class Block:
    """One fenced code block."""

    path: Path
    line: int
    lang: str
    code: str
    not_run: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang, start = lines[i][3:].strip(), i
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            before = next((x for x in reversed(lines[:start]) if x.strip()), "")
            m = NOT_RUN.search(before)
            code = "\n".join(lines[start + 1 : j]) + "\n"
            out.append(Block(path, start + 1, lang, code, m.group(1) if m else None))
            i = j + 1
        else:
            i += 1
    return out


ALL = [b for p in DOCS for b in blocks(p)]


def cli_lines(code: str) -> list[list[str]]:
    """The ``agentprm-gym`` commands of a block, continuation lines joined, comments cut."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        if line.strip().startswith("agentprm-gym "):
            out.append(shlex.split(line, comments=True)[1:])
    return out


def _parser() -> argparse.ArgumentParser:
    from agentprm_gym.cli import build_parser

    return build_parser()


def _options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """Options of the subcommand (and of a bench benchmark) that ``argv`` names."""
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = subs.choices[argv[0]]
    opts = set(sub._option_string_actions)
    nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
    for action in nested:
        for p in action.choices.values():
            opts |= set(p._option_string_actions)
    return opts


def test_docs_exist_and_every_block_is_tagged():
    assert (REPO / "docs" / "env_contract.md").is_file()
    untagged = [b.where for b in ALL if b.lang not in LANGS]
    assert not untagged, f"tag these blocks python, bash or text: {untagged}"
    assert all(b.not_run is None or b.lang == "bash" for b in ALL)


def test_links_stay_inside_the_repository():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "shared/DESIGN.md" not in readme and "docs/env_contract.md" in readme
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            assert (path.parent / target).exists(), f"{path.name}: broken link {target}"


def test_cli_lines_use_options_their_subcommands_have():
    parser = _parser()
    checked = 0
    for b in ALL:
        for argv in cli_lines(b.code):
            opts = _options(parser, argv)
            for tok in argv:
                flag = tok.split("=")[0].strip("[]")
                if flag.startswith("--"):
                    assert flag in opts, f"{b.where}: agentprm-gym {argv[0]} has no {flag}"
                    checked += 1
    assert checked > 40


def test_blocks_not_run_still_parse():
    parser = _parser()
    parsed = 0
    for b in ALL:
        if b.not_run is None:
            continue
        for argv in cli_lines(b.code):
            try:
                parser.parse_args(argv)
            except SystemExit as e:  # argparse's way of saying no
                raise AssertionError(f"{b.where}: `agentprm-gym {shlex.join(argv)}`") from e
            parsed += 1
    assert parsed >= 5


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    return env


def _run_block(b: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    if b.lang == "python":
        argv = [sys.executable, "-c", b.code]
    else:  # `agentprm-gym` is this checkout's CLI, whatever is installed
        prelude = f'agentprm-gym() {{ "{sys.executable}" -m agentprm_gym.cli "$@"; }}\n'
        argv = ["bash", "-euo", "pipefail", "-c", prelude + b.code]
    return subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("path", DOCS, ids=[p.relative_to(REPO).as_posix() for p in DOCS])
def test_code_runs_as_written(path, tmp_path):
    # every docs file holds code; a measurement log may hold only commands too long to
    # run, which the test above parses instead
    found = blocks(path)
    assert found, f"{path.name} has no code blocks"
    for b in found:
        if b.lang == "text" or b.not_run is not None:
            continue
        res = _run_block(b, tmp_path)
        assert res.returncode == 0, f"{b.where} failed:\n{res.stdout}\n{res.stderr}"
