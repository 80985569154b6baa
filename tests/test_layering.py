"""Lower layers never import from the command line: ``commands/`` and ``cli`` sit on top."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "agentprm_gym"
TOP = ("agentprm_gym.commands", "agentprm_gym.cli")


def _imports(path: Path, package: str) -> list[str]:
    """Every module ``path`` imports, as absolute names (top level or inside functions).

    Relative imports are resolved against ``package``, the file's own package; a
    string handed to ``importlib.import_module`` counts too.
    """
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _is_top(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TOP)


def test_only_the_command_line_imports_the_command_line():
    wrong = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "commands" or rel.name in ("cli.py", "__main__.py"):
            continue
        package = ".".join(("agentprm_gym", *rel.parts[:-1]))
        bad = [n for n in _imports(path, package) if _is_top(n)]
        if bad:
            wrong[str(rel)] = bad
    assert not wrong, wrong


def test_the_check_sees_every_form_of_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(
        "import importlib\n"
        "def f():\n"
        "    from agentprm_gym.cli import main\n"
        "    from ..commands import common\n"
        "    from . import sibling\n"
        "    return importlib.import_module('agentprm_gym.commands.demo')\n"
    )
    got = _imports(f, "agentprm_gym.benchmarking")
    assert "agentprm_gym.cli" in got and "agentprm_gym.commands.common" in got
    assert "agentprm_gym.benchmarking.sibling" in got and "agentprm_gym.commands.demo" in got
    assert {n for n in got if _is_top(n)} == {
        "agentprm_gym.cli",
        "agentprm_gym.cli.main",
        "agentprm_gym.commands",
        "agentprm_gym.commands.common",
        "agentprm_gym.commands.demo",
    }
