"""Small fixes to the published pages, as a local Sphinx extension (see _config.yml).

- Jupyter Book sets up sphinx-thebe's inline configuration script twice, which declares
  ``THEBE_JS_URL`` twice: a console error on every page. Keep each script once.
- The theme's colour mode defaults to "", which its script reports as an error on a first
  visit. Default to "auto" (follow the reader's system setting).
- The chapters link a figure as ``[the figure below](#fig-label)``: JupyterLab, where the figures
  have no numbers, shows the link's text; the book shows the figure's number, as ``{numref}`` does.
"""
from sphinx.addnodes import pending_xref


def dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (str(getattr(js, "filename", js) or ""),   # None and "" both mean an inline script
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique   # in place: the builder and other handlers share the list


def number_figure_links(app, doctree):
    """A Markdown link to a figure label (``fig-...``) reads "Figure N" in the book."""
    for node in doctree.findall(pending_xref):
        if node.get("reftype") == "myst" and node.get("reftarget", "").startswith("fig-"):
            node["refdomain"], node["reftype"], node["refexplicit"] = "std", "numref", False


def default_mode(app, config):
    config.html_context.setdefault("default_mode", "auto")


def setup(app):
    app.connect("config-inited", default_mode)
    app.connect("doctree-read", number_figure_links)
    app.connect("html-page-context", dedupe_scripts, priority=999)   # after the handlers that add scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
