"""Small fixes and additions to the Jupyter Book 1 build, loaded as a local Sphinx extension.

* Some extensions (sphinx-thebe, sphinx-togglebutton) register their inline scripts once
  per read of the sources, so a page can carry the same ``<script>`` twice; the second
  ``const THEBE_JS_URL = ...`` then throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser console. Each page keeps one copy of every script.
* The launch buttons (Colab, Binder) of a chapter open its Jupyter/Colab edition,
  ``notebooks/<chapter>.ipynb`` (generated from ``chapters/`` by ``_ext/edition.py``),
  which reads cleanly outside the book's build, not the MyST source.
* The "Reproduced results" appendix and the claim count (``_ext/abnn_claims.py``), and the
  API reference's docstring mathematics and chapter-to-module links (``_ext/abnn_api.py``).
* Accessibility fixes to the theme's markup, made once for every page after the build
  (axe-core, run by the browser tests, finds these on every page otherwise):
  the search button's accessible name hides its visible text ("Search Ctrl+K") and the
  colour-mode button's icons carry titles its name does not contain; the
  sidebar's fold-out toggles are ``<summary>`` elements with only an icon; the sidebar's
  title sits outside any landmark; and the bibliography's entries carry the deprecated
  ``doc-biblioentry`` role inside a ``role="list"`` that then has no list items.
"""
from __future__ import annotations

import re
from pathlib import Path

SOURCE_DIR, EDITION_DIR = "chapters/", "notebooks/"


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # an inline script is registered with filename None once and '' the other time
        key = (getattr(js, "filename", js) or "",
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique


def _launch_the_edition(app, pagename, templatename, context, doctree):
    """Point the launch buttons of chapter pages at the generated notebook edition."""
    if not pagename.startswith(SOURCE_DIR):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            url = button.get("url")
            if url:
                button["url"] = url.replace(f"/{SOURCE_DIR}", f"/{EDITION_DIR}")


HTML_FIXES = [
    # the button's name comes from its visible text ("Search Ctrl+K")
    (re.compile(r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="[^"]*"'), r"\1"),
    # the colour-mode button is named "Color mode"; its icons' titles would be read as
    # its text (one of "Light", "Dark", "System Settings"), which the name does not contain
    (re.compile(r'(<i class="theme-switch [^"]*" data-mode="\w+")\s*title="[^"]*"'),
     r'\1 aria-hidden="true"'),
    # an icon-only toggle needs a name
    (re.compile(r'<summary>(\s*<span class="toctree-toggle" role="presentation">)'),
     r'<summary aria-label="Show or hide the sections">\1'),
    # the left sidebar (book title, table of contents, search) is a landmark
    (re.compile(r'<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">'),
     '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="complementary" '
     'aria-label="The book: title and contents">'),
    # bibliography entries are the items of their list
    (re.compile(r'role="doc-biblioentry"'), 'role="listitem"'),
]


def _fix_html(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for pattern, repl in HTML_FIXES:
            fixed = pattern.sub(repl, fixed)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _fix_html)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("html-page-context", _launch_the_edition, priority=510)
    app.setup_extension("abnn_claims")
    app.setup_extension("abnn_api")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
