"""Small fixes to the Jupyter Book 1 build, loaded as a local Sphinx extension.

* Some extensions (sphinx-thebe, sphinx-togglebutton) register their inline scripts once
  per read of the sources, so a page can carry the same ``<script>`` twice; the second
  ``const THEBE_JS_URL = ...`` then throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser console. Each page keeps one copy of every script.
"""
from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
