"""Two small fixes to the pages Jupyter Book 1 writes, so a reader's browser console is clean.

1. sphinx-thebe registers its inline configuration script twice, and the second copy fails
   with "Identifier 'THEBE_JS_URL' has already been declared": keep one copy of every script.
2. On a reader's first visit (empty localStorage) the theme sets the colour mode to "" and
   pydata-sphinx-theme logs "Got invalid theme mode". Default it to "auto" first.
"""

_MODE_DEFAULT = ('if (!localStorage.getItem("mode")) { localStorage.setItem("mode", "auto"); }'
                 ' if (!document.documentElement.dataset.mode) {'
                 ' document.documentElement.dataset.mode = "auto"; }')


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {})
        key = js.filename or ("inline", attrs.get("body"))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def setup(app):
    app.add_js_file(None, body=_MODE_DEFAULT, priority=1)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
