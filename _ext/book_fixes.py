"""Small fixes and additions to the Jupyter Book 1 build, loaded as a local Sphinx extension.

* Some extensions (sphinx-thebe, sphinx-togglebutton) register their inline scripts once
  per read of the sources, so a page can carry the same ``<script>`` twice; the second
  ``const THEBE_JS_URL = ...`` then throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser console. Each page keeps one copy of every script.
* The launch buttons (Colab, Binder) of a chapter open its Jupyter/Colab edition,
  ``notebooks/<chapter>.ipynb`` (generated from ``chapters/`` by ``_ext/edition.py``),
  which reads cleanly outside the book's build, not the MyST source.
* The "Reproduced results" appendix and the claim count (``_ext/abnn_claims.py``).
"""
from __future__ import annotations

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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("html-page-context", _launch_the_edition, priority=510)
    app.setup_extension("abnn_claims")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
