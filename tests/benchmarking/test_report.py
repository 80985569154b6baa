"""The HTML report: self-contained, renders in headless Chromium, numbers match the CSV."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from agentprm_gym.benchmarking.plots import plot_all
from agentprm_gym.benchmarking.report import render_report, step_bars_svg, write_report
from agentprm_gym.benchmarking.results import read_rows
from agentprm_gym.benchmarking.tables import bon_table, table1

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import ENVS, PRMS, write_csv  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")

EXAMPLE = {
    "env": ENVS[0],
    "task_id": 3,
    "method": "policy (1 sample)",
    "prm": "agentprm",
    "won": False,
    "reward": 0.25,
    "instruction": "buy a <red> mug",
    "steps": [
        {
            "observation": "home",
            "action": "search[red mug]",
            "reward": 0.0,
            "action_error": None,
            "promise": 0.6,
            "progress": 0.6,
        },
        {
            "observation": "results",
            "action": "click[blue mug]",
            "reward": 0.0,
            "action_error": None,
            "promise": 0.2,
            "progress": -0.4,
        },
        {
            "observation": "item",
            "action": "click[buy now]",
            "reward": 0.25,
            "action_error": None,
            "promise": 0.1,
            "progress": -0.1,
        },
    ],
}


def _report(tmp_path):
    write_csv(tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    plots = plot_all(rows, tmp_path, list(PRMS), {"git_commit": "abc"})
    tables = [table1(rows, list(ENVS), list(PRMS)), bon_table(rows, list(ENVS), list(PRMS))]
    path = write_report(
        tmp_path / "report.html",
        title="test sweep",
        tables=tables,
        plots=plots,
        examples=[EXAMPLE],
        provenance={"git_commit": "abc123", "wall_seconds": 1.5, "packages": {"numpy": "2"}},
    )
    return path, rows


def test_svg_bars_scale():
    svg = step_bars_svg(0.5, -0.25, width=100)
    assert 'width="50.0"' in svg  # promise bar
    assert 'x="37.5" y="14" width="12.5"' in svg  # progress bar left of centre
    assert "#cf222e" in svg


def test_report_is_self_contained(tmp_path):
    path, _ = _report(tmp_path)
    text = path.read_text()
    assert text.count("data:image/png;base64,") == 2 * len(ENVS)  # samples and compute axes
    # no external fetches: every src/href is a data URI or an in-page anchor
    for ref in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert ref.startswith(("data:", "#")), ref
    assert "<script" not in text and "@import" not in text
    assert "&lt;red&gt;" in text  # escaped
    assert 'class="worst"' in text  # the largest drop (step 1) is marked
    assert "abc123" in text


def test_render_without_plots_or_examples():
    html = render_report("t", [], {}, [])
    assert html.startswith("<!DOCTYPE html>") and "<h1>t</h1>" in html


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_report_renders_in_chromium_and_matches_csv(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path, rows = _report(tmp_path)
    errors, external = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    external.append(r.url) if not r.url.startswith(("file:", "data:")) else None
                ),
            )
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            assert page.title() == "test sweep"
            cells = page.eval_on_selector_all(
                "table#table1 tbody tr",
                "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))",
            )
            imgs = page.eval_on_selector_all(
                "img", "els => els.map(e => e.complete && e.naturalWidth > 0)"
            )
            bars = page.locator("svg.bars").count()
        finally:
            browser.close()
    assert errors == [] and external == []
    assert imgs == [True] * 2 * len(ENVS)
    assert bars == 3
    by_prm = {r[0]: r[1:] for r in cells}
    assert set(by_prm) == {"policy (1 sample)", *PRMS}
    for prm in PRMS:
        shown = [float(x) for x in by_prm[prm]]
        want = [
            100
            * np.mean(
                [
                    r["success"]
                    for r in rows
                    if r["env"] == e and r["prm"] == prm and r["method"] == m
                ]
            )
            for e in ENVS
            for m in ("beam@2x2", "beam@4x4")
        ]
        assert shown == pytest.approx(want, abs=0.051)
