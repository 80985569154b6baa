"""The sweep's HTML report: one self-contained file (inline CSS, PNGs as data URIs, inline SVG).

It holds the result tables, the success-vs-compute plots, and a few example
episodes per env with each step's *promise* (the PRM's Q of the step) and
*progress* (Q_t − Q_{t−1}) drawn as bars beside the actions, with the step of
the largest drop marked, so a reader sees where the PRM thinks an episode went
wrong. The file makes no network request: no scripts, fonts or images from
elsewhere.

Example episodes are plain dicts (see :func:`render_report`), so rendering
needs no model; the sweep scores the steps before calling it.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentprm_gym.benchmarking.tables import Table

__all__ = ["render_report", "write_report", "step_bars_svg"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table.results{border-collapse:collapse;margin:.6em 0;font-size:.9em}
table.results th,table.results td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
table.results td:first-child,table.results th:first-child{text-align:left}
table.results tr:nth-child(even){background:#f6f8fa}
p.caption{color:#555;font-size:.85em;max-width:900px}
div.plots{display:flex;flex-wrap:wrap;gap:1em}div.plots img{max-width:580px;border:1px solid #eee}
div.episode{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em}
table.steps{border-collapse:collapse;font-size:.82em;width:100%}
table.steps td,table.steps th{border-bottom:1px solid #eee;padding:.2em .4em;vertical-align:top}
table.steps td.obs{color:#555;max-width:420px;white-space:pre-wrap;word-break:break-word}
table.steps tr.worst{background:#fff1f0}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px}
.won{color:#1a7f37;font-weight:bold}.lost{color:#cf222e;font-weight:bold}
dl.prov{font-size:.8em;color:#555}dl.prov dt{font-weight:bold;float:left;clear:left;width:10em}
dl.prov dd{margin-left:10.5em}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def table_html(t: Table) -> str:
    """A :class:`Table` as an HTML table (``id`` = the table's key)."""
    out = [f'<h3 id="h-{_esc(t.key)}">{_esc(t.title)}</h3>']
    out.append(f'<table class="results" id="{_esc(t.key)}" data-table="{_esc(t.key)}">')
    out.append("<thead>")
    if t.groups:
        out.append("<tr><th></th>")
        for label, span in t.groups:
            out.append(f'<th colspan="{span}" style="text-align:center">{_esc(label)}</th>')
        out.append("</tr>")
    out.append("<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in t.header) + "</tr></thead><tbody>")
    for r in t.rows:
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    if t.caption:
        out.append(f'<p class="caption">{_esc(t.caption)}</p>')
    return "\n".join(out)


def step_bars_svg(promise: float, progress: float, width: int = 160) -> str:
    """Inline SVG: a promise bar (0..1, left-anchored) above a progress bar (−1..1, centred).

    Args:
        promise: Q of the step in [0, 1].
        progress: Q_t − Q_{t−1} in [−1, 1].
        width: Width in pixels.
    """
    p = min(max(float(promise), 0.0), 1.0)
    g = min(max(float(progress), -1.0), 1.0)
    half = width / 2
    pw = p * width
    gw = abs(g) * half
    gx = half if g >= 0 else half - gw
    colour = "#2da44e" if g >= 0 else "#cf222e"
    return (
        f'<svg class="bars" width="{width}" height="26" viewBox="0 0 {width} 26" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="promise {p:.2f}, progress {g:+.2f}">'
        f'<rect x="0" y="1" width="{width}" height="10" fill="#eef"/>'
        f'<rect x="0" y="1" width="{pw:.1f}" height="10" fill="#4a6fe3"/>'
        f'<rect x="0" y="14" width="{width}" height="10" fill="#f3f3f3"/>'
        f'<rect x="{gx:.1f}" y="14" width="{gw:.1f}" height="10" fill="{colour}"/>'
        f'<line x1="{half}" y1="13" x2="{half}" y2="25" stroke="#888" stroke-width="1"/>'
        "</svg>"
    )


def _episode_html(ep: dict[str, Any], max_obs: int = 300) -> str:
    steps = ep.get("steps", [])
    worst = None
    if steps:
        worst = min(range(len(steps)), key=lambda i: float(steps[i].get("progress", 0.0)))
        if float(steps[worst].get("progress", 0.0)) >= 0:
            worst = None
    verdict = '<span class="won">won</span>' if ep.get("won") else '<span class="lost">lost</span>'
    out = ['<div class="episode">']
    out.append(
        f"<p><b>{_esc(ep.get('env', ''))}</b> task {_esc(ep.get('task_id', ''))} · "
        f"{_esc(ep.get('method', ''))} · scored by <code>{_esc(ep.get('prm', ''))}</code> · "
        f"{verdict}, reward {float(ep.get('reward', 0.0)):.3f}</p>"
    )
    out.append(f"<p><i>{_esc(ep.get('instruction', ''))}</i></p>")
    out.append(
        '<table class="steps"><thead><tr><th>#</th><th>observation (start)</th><th>action</th>'
        "<th>promise / progress</th><th>Q</th><th>ΔQ</th><th>r</th></tr></thead><tbody>"
    )
    for i, s in enumerate(steps):
        obs = str(s.get("observation", ""))
        if len(obs) > max_obs:
            obs = obs[:max_obs] + " …"
        cls = ' class="worst"' if i == worst else ""
        err = ""
        if s.get("action_error"):
            err = f"<br><small>error: {_esc(s['action_error'])}</small>"
        pr, pg = float(s.get("promise", 0.0)), float(s.get("progress", 0.0))
        out.append(
            f"<tr{cls}><td>{i}</td><td class='obs'>{_esc(obs)}</td>"
            f"<td><code>{_esc(s.get('action', ''))}</code>{err}</td>"
            f"<td>{step_bars_svg(pr, pg)}</td><td>{pr:.3f}</td><td>{pg:+.3f}</td>"
            f"<td>{float(s.get('reward', 0.0)):.2f}</td></tr>"
        )
    out.append("</tbody></table>")
    if worst is not None:
        out.append(
            f"<p class='caption'>The largest drop in promise is at step {worst} "
            f"(highlighted): the PRM's view of where the episode went wrong.</p>"
        )
    out.append("</div>")
    return "\n".join(out)


def _img(path: str | os.PathLike[str], alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def render_report(
    title: str,
    tables: Sequence[Table],
    plots: dict[str, str | os.PathLike[str]],
    examples: Sequence[dict[str, Any]],
    provenance: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The report as one HTML string.

    Args:
        title: Page title.
        tables: Tables in order.
        plots: Caption (e.g. ``"<env>: success vs samples"``) -> PNG path (embedded as
            base64 data URIs).
        examples: Episodes: ``env``, ``task_id``, ``method``, ``prm``, ``won``,
            ``reward``, ``instruction`` and ``steps`` (each ``observation``,
            ``action``, ``reward``, ``action_error``, ``promise``, ``progress``).
        provenance: Shown at the bottom (git commit, packages, machine, wall time).
        notes: Free-text paragraphs under the title.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    parts += [f"<p>{_esc(n)}</p>" for n in notes]
    parts.append('<h2 id="tables">Results</h2>')
    parts += [table_html(t) for t in tables]
    if plots:
        parts.append('<h2 id="plots">Success against compute</h2><div class="plots">')
        parts += [_img(p, caption) for caption, p in plots.items()]
        parts.append("</div>")
    if examples:
        parts.append('<h2 id="examples">Example episodes with promise and progress</h2>')
        parts.append(
            "<p class='caption'>Top bar: promise Q(s<sub>t</sub>,a<sub>t</sub>) from 0 to 1. "
            "Bottom bar: progress Q<sub>t</sub> − Q<sub>t−1</sub> (Q<sub>−1</sub> = 0), green "
            "up, red down, from the centre line.</p>"
        )
        parts += [_episode_html(e) for e in examples]
    if provenance:
        parts.append('<h2 id="provenance">Provenance</h2><dl class="prov">')
        for k in ("git_commit", "machine_summary", "started_utc", "finished_utc", "wall_seconds"):
            if k in provenance:
                parts.append(f"<dt>{_esc(k)}</dt><dd>{_esc(provenance[k])}</dd>")
        pk = provenance.get("packages") or {}
        if pk:
            txt = ", ".join(f"{k} {v}" for k, v in pk.items() if v)
            parts.append(f"<dt>packages</dt><dd>{_esc(txt)}</dd>")
        parts.append("</dl>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Render with :func:`render_report` (same keyword arguments) and write ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(**kwargs), encoding="utf-8")
    return p
