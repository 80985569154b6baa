"""Lower layers never import from the command line: ``commands/`` and ``cli`` sit on top."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "agentprm_gym"
TOP = ("agentprm_gym.commands", "agentprm_gym.cli")


def _imports(path: Path) -> list[str]:
    """Every module a file imports (absolute names), top level or inside functions."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_only_the_command_line_imports_the_command_line():
    wrong = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "commands" or rel.name in ("cli.py", "__main__.py"):
            continue
        bad = [n for n in _imports(path) if any(n == t or n.startswith(t + ".") for t in TOP)]
        if bad:
            wrong[str(rel)] = bad
    assert not wrong, wrong


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from agentprm_gym.cli import main\n    return main\n")
    assert "agentprm_gym.cli" in _imports(f)
