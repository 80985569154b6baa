"""The committed standard run: complete for its config, and the README and tables show its CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentprm_gym.benchmarking.config import POLICY_METHOD, load_config
from agentprm_gym.benchmarking.results import read_rows, row_key
from agentprm_gym.benchmarking.sweep import Sweep

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "standard"
CONFIG = ROOT / "benchmarks" / "configs" / "standard.yaml"

#: Rows without a PRM in a committed tables.md (``greedy (policy)`` before the rename).
BASELINE_ROWS = {"greedy (policy)", POLICY_METHOD, "greedy (temperature 0)"}

pytestmark = pytest.mark.skipif(
    not (RESULTS / "results.csv").exists(), reason="no committed standard results"
)


@pytest.fixture(scope="module")
def rows():
    return read_rows(RESULTS / "results.csv")


def _success(rows, env: str, prm: str, method: str) -> float:
    (row,) = [r for r in rows if r["env"] == env and r["prm"] == prm and r["method"] == method]
    return 100 * row["success"]


def test_every_run_of_the_config_is_committed_once(rows):
    keys = [row_key(r) for r in rows]
    assert len(keys) == len(set(keys))
    want = Sweep(load_config(CONFIG), RESULTS).expected_episodes()
    assert set(want) == set(keys)
    assert {row_key(r): r["episodes"] for r in rows} == want
    assert min(want.values()) >= 100


def _markdown_table(text: str, title: str) -> list[list[str]]:
    """The body rows of the markdown table right after the bold ``title`` line."""
    lines = text[text.index(f"**{title}**") :].splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in line.strip("|").split("|")])
    return table


@pytest.mark.parametrize(
    ("title", "methods"),
    [
        (
            "Step-level beam search, success % at 2×2 / 4×4 / 8×8",
            ["beam@2x2", "beam@4x4", "beam@8x8"],
        ),
        (
            "Beam search with the policy prior (beam+prior), success % at 2×2 / 4×4 / 8×8",
            ["beam+prior@2x2", "beam+prior@4x4", "beam+prior@8x8"],
        ),
        ("Best-of-N, success % at N = 4 / 16 / 64", ["bon@4", "bon@16", "bon@64"]),
    ],
)
def test_readme_tables_show_the_committed_csv(rows, title, methods):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header, _, *body = _markdown_table(readme, title)
    envs = [f"AgentPRM/{name}-v0" for name in header[1:]]
    assert set(envs) == {r["env"] for r in rows}
    shown = {line[0]: line[1:] for line in body}
    assert set(shown) == {POLICY_METHOD} | {r["prm"] for r in rows if r["prm"] != "-"}
    for prm, cells in shown.items():
        for env, cell in zip(envs, cells, strict=True):
            if prm == POLICY_METHOD:
                want = [_success(rows, env, "-", POLICY_METHOD)]
            else:
                want = [_success(rows, env, prm, m) for m in methods]
            assert [float(x) for x in cell.split(" / ")] == pytest.approx(want, abs=0.51), (
                prm,
                env,
            )


def test_tables_md_table1_shows_the_committed_csv(rows):
    text = (RESULTS / "tables.md").read_text(encoding="utf-8")
    start = text.index("### Table 1")
    table1 = text[start : text.index("\n### ", start + 1)]
    lines = [line for line in table1.splitlines() if line.startswith("|")]
    cols = [c.strip() for c in lines[0].strip("|").split("|")][1:]
    checked = 0
    for line in lines[2:]:
        prm, *cells = [c.strip() for c in line.strip("|").split("|")]
        if prm in BASELINE_ROWS:
            continue
        for col, cell in zip(cols, cells, strict=True):
            env, budget = col.rsplit(" ", 1)
            assert float(cell) == pytest.approx(
                _success(rows, env, prm, f"beam@{budget}"), abs=0.051
            )
            checked += 1
    assert checked == 6 * 15


def test_report_says_nothing_is_missing():
    html = (RESULTS / "report.html").read_text(encoding="utf-8")
    planned = len(Sweep(load_config(CONFIG), RESULTS).plan_runs())
    assert "Incomplete" not in html
    assert re.search(rf"{planned} runs over 5 env", html)
