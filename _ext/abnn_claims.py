"""The "Reproduced results" appendix, generated from the claims the executed chapters made.

Each :func:`companion.claims.claim` call displays an HTML line that carries the claim's
data (``<div class="abnn-claim" data-claim="{...}">``). While the chapters are read, this
extension collects those lines, with the section each stands in; when the pages are
written it fills

* the ``{claims-table}`` directive (the appendix) with one row per claim, linked to the
  section that computes it, and
* the ``{claims-count}`` role (the front page) with their number.

A claim outside its tolerance is a build warning, so ``-W`` fails the build (the notebook
cell has already raised, so this is a second line of defence).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOG = logging.getLogger(__name__)
DATA_RE = re.compile(r'class="abnn-claim" data-claim="([^"]*)"')


class claims_table(nodes.General, nodes.Element):
    pass


class claims_count(nodes.Inline, nodes.TextElement):
    pass


class ClaimsTable(SphinxDirective):
    has_content = False

    def run(self):
        return [claims_table("")]


def claims_count_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [claims_count("", "")], []


def _section_of(node):
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent["ids"]:
            title = parent.next_node(nodes.title)
            return parent["ids"][0], title.astext() if title else ""
        parent = parent.parent
    return "", ""


def collect(app, doctree):
    env = app.env
    if not hasattr(env, "abnn_claims"):
        env.abnn_claims = {}
    found = []
    for node in doctree.findall(nodes.raw):
        text = node.astext()
        if "abnn-claim" not in text:
            continue
        anchor, section = _section_of(node)
        for m in DATA_RE.finditer(text):
            data = json.loads(html.unescape(m.group(1)))
            data.update(docname=env.docname, anchor=anchor, section=section)
            found.append(data)
            if not data.get("holds", False):
                LOG.warning(f"claim {data['key']} does not hold: measured {data['measured']}, "
                            f"paper {data['paper']} (tolerance {data['tol']})",
                            location=node)
    if found:
        env.abnn_claims[env.docname] = found
    else:
        env.abnn_claims.pop(env.docname, None)


def purge(app, env, docname):
    getattr(env, "abnn_claims", {}).pop(docname, None)


def merge(app, env, docnames, other):
    if not hasattr(env, "abnn_claims"):
        env.abnn_claims = {}
    env.abnn_claims.update(getattr(other, "abnn_claims", {}))


def always_outdated(app, env, added, changed, removed):
    """The appendix and the front page depend on every chapter: re-read them each time."""
    return [d for d in env.found_docs
            if "claims-table" in _source(app, d) or "claims-count" in _source(app, d)]


def _source(app, docname):
    for ext in (".md", ".ipynb"):
        p = Path(app.srcdir) / f"{docname}{ext}"
        if p.exists():
            return p.read_text(errors="ignore")
    return ""


def all_claims(env):
    rows = []
    for docname in sorted(getattr(env, "abnn_claims", {})):
        rows += env.abnn_claims[docname]
    return sorted(rows, key=lambda r: (r["key"][:2], r["docname"]))


_BIB = {}


def _citation(app, key: str) -> str:
    """'Amit et al. (1985)' for a references.bib key (the key itself if unknown)."""
    if not _BIB:
        try:
            from pybtex.database import parse_file

            for bib in app.config.bibtex_bibfiles:
                _BIB.update(parse_file(str(Path(app.srcdir) / bib)).entries)
        except Exception:  # noqa: BLE001 - fall back to the key
            pass
    entry = _BIB.get(key)
    if entry is None:
        return key
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [" ".join(p.last_names) for p in people]
    who = (last[0] if len(last) == 1 else f"{last[0]} and {last[1]}" if len(last) == 2
           else f"{last[0]} et al." if last else key)
    who = re.sub(r"[{}]", "", who)
    return f"{who} ({entry.fields.get('year', 'n.d.')})"


def _fmt(x, unit=""):
    return f"{x:.6g}" + (f" {unit}" if unit else "")


def _cell(content):
    entry = nodes.entry()
    if isinstance(content, nodes.Node):
        entry += content
    else:
        entry += nodes.paragraph("", str(content))
    return entry


def fill(app, doctree, fromdocname):
    rows = all_claims(app.env)
    for node in list(doctree.findall(claims_count)):
        node.replace_self(nodes.Text(str(len(rows))))
    for node in list(doctree.findall(claims_table)):
        headers = ["Result", "Source", "Paper", "Ours", "Setting", "Status", "Computed in"]
        table = nodes.table(classes=["abnn-claims-table"])
        group = nodes.tgroup(cols=len(headers))
        table += group
        for _ in headers:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        row = nodes.row()
        for h in headers:
            row += _cell(h)
        head += row
        group += head
        body = nodes.tbody()
        for r in rows:
            tr = nodes.row(ids=[f"claim-{r['key']}"])
            para = nodes.paragraph()
            para += nodes.strong("", r["quantity"])
            para += nodes.Text(f" [{r['key']}]")
            tr += _cell(para)
            tr += _cell(_citation(app, r["source"]))
            rel = {"~": "", "<=": "≤ ", ">=": "≥ "}[r["relation"]]
            tol = f" ± {r['tol']:.3g}" if r["relation"] == "~" else (
                f" (+{r['tol']:.3g})" if r["tol"] else "")
            tr += _cell(f"{rel}{_fmt(r['paper'], r.get('unit', ''))}{tol}")
            tr += _cell(_fmt(r["measured"], r.get("unit", "")))
            tr += _cell(r["setting"])
            tr += _cell("✔ holds" if r["holds"] else "✘ fails")
            uri = app.builder.get_relative_uri(fromdocname, r["docname"])
            if r["anchor"]:
                uri += "#" + r["anchor"]
            link = nodes.paragraph()
            link += nodes.reference("", r["section"] or r["docname"], refuri=uri)
            tr += _cell(link)
            body += tr
        group += body
        node.replace_self(table)


def setup(app):
    app.add_node(claims_table)
    app.add_node(claims_count)
    app.add_directive("claims-table", ClaimsTable)
    app.add_role("claims-count", claims_count_role)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", always_outdated)
    app.connect("doctree-resolved", fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
