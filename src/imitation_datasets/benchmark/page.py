"""The results page: one self-contained HTML file made from a results mapping and its plots.

``index.html`` opens from disk without a server or network: styles, the sorting script and the
plots (PNG, base64) are inside it. Every table sorts by any column (click its header) and a
filter box keeps the rows whose environment or method contains the text typed. Everything shown
comes from the results JSON, as for the Markdown report. Opening it as ``index.html#sort=<column
header>`` sorts the first table by that column (``benchmarks/results_page.py`` uses it to check
the sorting in a real browser).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.reproducible import arithmetic_line
from imitation_datasets.core.atomic import atomic_write_text

PAGE = "index.html"
PLOTS = (("performance.png", "Performance per environment (95 % bootstrap CIs)"),
         ("performance_profile.png", "Performance profile (all runs)"),
         ("sample_efficiency.png", "Sample efficiency"),
         ("learning_curves.png", "Validation learning curves"))

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f4f4f4;cursor:pointer;user-select:none}th:hover{background:#e8e8e8}
td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}
tr:nth-child(even) td{background:#fafafa}.low{color:#b00}
figure{display:inline-block;margin:.5em}figure img{max-width:100%;border:1px solid #eee}
#filter{padding:.3em;width:20em}code{background:#f4f4f4;padding:0 .2em}
.meta{font-size:.85em;color:#555}
"""
SCRIPT = """
function sortTable(th){const table=th.closest('table');const body=table.tBodies[0];
const i=[...th.parentNode.children].indexOf(th);const asc=th.dataset.asc!=='1';
table.querySelectorAll('th').forEach(h=>delete h.dataset.asc);th.dataset.asc=asc?'1':'0';
const key=r=>{const t=r.children[i].dataset.v??r.children[i].textContent;const n=parseFloat(t);
return isNaN(n)?t.toLowerCase():n};
[...body.rows].sort((a,b)=>{const x=key(a),y=key(b);return (x>y?1:x<y?-1:0)*(asc?1:-1)})
.forEach(r=>body.appendChild(r));}
function filterRows(text){text=text.toLowerCase();document.querySelectorAll('table.rows tbody tr')
.forEach(r=>{const k=(r.children[0].textContent+' '+r.children[1].textContent).toLowerCase();
r.style.display=k.includes(text)?'':'none'});}
document.querySelectorAll('th').forEach(th=>th.addEventListener('click',()=>sortTable(th)));
const wanted=decodeURIComponent(location.hash.replace(/^#sort=/,''));
document.querySelectorAll('table.rows:first-of-type th').forEach(th=>{
if(wanted&&th.textContent===wanted)sortTable(th)});
"""


def _cell(value: Any) -> str:
    """A table cell; numbers keep their full value for sorting (``data-v``)."""
    if value is None:
        return "<td data-v=''>–</td>"
    if isinstance(value, float):
        return f"<td data-v='{value!r}'>{value:.3f}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _perf(value: float | None) -> str:
    """A performance cell, red below 0.9."""
    if value is None:
        return _cell(None)
    low = " class='low'" if value < 0.9 else ""
    return f"<td data-v='{value!r}'{low}>{value:.3f}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], rows_class: str = "rows"
           ) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(v if isinstance(v, str) and v.startswith("<td")
                                    else _cell(v) for v in row) + "</tr>" for row in rows)
    return (f"<table class='{rows_class}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            "</table>")


def _ci(estimate: dict[str, float]) -> str:
    return f"<td>[{estimate['ci_low']:.3f}, {estimate['ci_high']:.3f}]</td>"


def _main_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for env, methods in results["summary"].items():
        env_id = results["envs"][env]["env_id"]
        for method, s in methods.items():
            perf = s["performance"]
            paired = s.get("performance_vs_expert")
            rows.append([env_id, method.upper(), _perf(perf["mean"]), perf["std"],
                         _perf(perf["iqm"]), _ci(perf), _perf(paired["mean"] if paired else None),
                         s["aer"]["mean"],
                         (s.get("accuracy") or {}).get("mean"), len(s["seeds"]),
                         f"<td data-v='{s['train_seconds']!r}'>{s['train_seconds']:.0f}</td>",
                         f"<td data-v='{s.get('env_steps', 0)!r}'>{s.get('env_steps', 0):,.0f}"
                         "</td>"])
    return rows


def _curve_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for env, methods in (results.get("sample_efficiency") or {}).items():
        env_id = results["envs"][env]["env_id"]
        for method, points in methods.items():
            for point in points:
                perf = point["performance"]
                rows.append([env_id, method.upper(), f"<td data-v='{point['demos']}'>"
                             f"{point['demos']}</td>", _perf(perf["mean"]), _perf(perf["iqm"]),
                             _ci(perf),
                             len(point["seeds"])])
    return rows


def _plots(out: Path) -> str:
    figures = []
    for name, caption in PLOTS:
        path = out / name
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode()
            figures.append(f"<figure><img alt='{html.escape(caption)}' "
                           f"src='data:image/png;base64,{data}'><figcaption>"
                           f"{html.escape(caption)}</figcaption></figure>")
    return "".join(figures)


def results_page(results: dict[str, Any], out: Path) -> Path:
    """Write ``out/index.html`` from ``results`` and the plots already in ``out``."""
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<title>imitation_datasets benchmark results</title>",
             f"<style>{STYLE}</style></head><body>",
             "<h1>imitation_datasets benchmark results</h1>",
             "<p class='meta'>Performance = (AER − random) / (expert − random), expert = the "
             "dataset's mean return; means over training seeds, IQM and 95 % stratified-"
             "bootstrap CIs. Click a column header to sort; values below 0.9 are red.</p>"]
    for bundle in results.get("compared") or []:
        parts.append(f"<p class='meta'>Bundle <b>{html.escape(bundle['label'])}</b>: "
                     f"<code>{html.escape(bundle['path'])}</code>, {bundle['cells']} cells</p>")
    for note in results.get("apart") or []:
        parts.append(f"<p class='meta'>Shown apart: {html.escape(note)}</p>")
    if results.get("command"):
        parts.append(f"<p class='meta'>Produced by <code>{html.escape(results['command'])}"
                     "</code></p>")
    parts.append(f"<p class='meta'>{html.escape(arithmetic_line(results.get('cells') or []))}"
                 "</p>")
    prov = results.get("provenance") or {}
    if prov:
        parts.append(f"<p class='meta'>Protocol hash <code>{prov['protocol_hash'][:16]}</code> "
                     f"over {len(prov['envs'])} environments.</p>")
    parts.append("<p><input id='filter' placeholder='filter by environment or method' "
                 "oninput='filterRows(this.value)'></p>")
    parts += ["<h2>Results per environment</h2>", _table(
        ["Environment", "Method", "Performance", "Std", "IQM", "95 % CI", "vs expert (paired)",
         "AER", "Accuracy", "Seeds", "Train s", "Env steps"], _main_rows(results))]
    aggregates = results.get("aggregates") or {}
    if aggregates:
        rows = [[method.upper(), f"{len(a['envs'])} envs", _perf(a["performance"]["iqm"]["value"]),
                 _ci(a["performance"]["iqm"]), a["performance"]["mean"]["value"],
                 a["performance"]["optimality_gap"]["value"], a["performance"]["runs"]]
                for method, a in aggregates.items()]
        parts += ["<h2>Across environments</h2>", _table(
            ["Method", "Environments", "IQM", "IQM 95 % CI", "Mean", "Optimality gap", "Runs"],
            rows)]
    pairs = results.get("improvement") or []
    if pairs:
        rows = [[p["x"].upper(), p["y"].upper(), p["value"], _ci(p), len(p["envs"])]
                for p in pairs]
        parts += ["<h2>Probability of improvement P(X &gt; Y)</h2>",
                  _table(["X", "Y", "P(X > Y)", "95 % CI", "Environments"], rows)]
    target_rows = [[r["env"], r["method"].upper(), f"{t['text']} (issue {t['issue']})",
                    r["goal"], r["mean"], r["seeds"], r["verdict"], r.get("expert")]
                   for t in results.get("targets") or [] for r in t["rows"]]
    if target_rows:
        parts += ["<h2>Targets of the issues</h2>", _table(
            ["Environment", "Method", "Target", "Goal", "Ours", "Seeds", "Verdict",
             "Expert itself"], target_rows)]
    curve_rows = _curve_rows(results)
    if curve_rows:
        parts += ["<h2>Sample efficiency</h2>", _table(
            ["Environment", "Method", "Demonstrations", "Performance", "IQM", "95 % CI",
             "Seeds"], curve_rows)]
    plots = _plots(out)
    if plots:
        parts += ["<h2>Plots</h2>", plots]
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    path = out / PAGE
    atomic_write_text(path, "\n".join(parts) + "\n")
    return path
