"""Small fixes to the published pages, as a local Sphinx extension (see _config.yml).

- Jupyter Book sets up sphinx-thebe's inline configuration script twice, which declares
  ``THEBE_JS_URL`` twice: a console error on every page. Keep each script once.
- The theme's colour mode defaults to "", which its script reports as an error on a first
  visit. Default to "auto" (follow the reader's system setting).
- The chapters link a figure as ``[the figure below](#fig-label)``: JupyterLab, where the figures
  have no numbers, shows the link's text; the book shows the figure's number, as ``{numref}`` does.
- myst-nb evaluates an inline expression (``{eval}``) without storing it in the kernel's history,
  so IPython takes the previous cell's trailing ``;`` (a figure cell's) as the expression's own and
  shows nothing (MyST-NB issue 535). Store a plain statement in the history first.
- A chapter's Colab button opens its Colab edition (``falib.editions``: plain Markdown, numbers
  written out, published on its own branch), and its download menu offers the chapter's student
  notebook (``falib.course.student``), which the build writes into the site's ``student/``.
"""
from pathlib import Path

from docutils import nodes
from myst_nb.core.execute.inline import NotebookClientInline
from sphinx.addnodes import pending_xref

STUDENT = "student"   # the student notebooks' folder in the site


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
    for node in list(doctree.findall(nodes.reference)):   # myst-parser resolved it to a local id
        if node.get("refid", "").startswith("fig-"):
            node.replace_self(pending_xref("", nodes.inline(node.astext(), node.astext()), refdomain="std",
                                           reftype="numref", reftarget=node["refid"], refexplicit=False,
                                           refdoc=app.env.docname, refwarn=True))


def _eval_after_a_statement(eval_variable):
    def evaluate(self, name):
        self._client.kc.execute("pass", store_history=True)   # its reply is skipped: not the expression's
        return eval_variable(self, name)
    return evaluate


NotebookClientInline.eval_variable = _eval_after_a_statement(NotebookClientInline.eval_variable)


def course_links(app, pagename, templatename, context, doctree):
    """On a chapter's page: Colab opens the chapter's Colab edition; the download menu has its
    student notebook."""
    from falib.editions import colab_url

    if context.get("page_source_suffix") != ".ipynb":
        return
    chapter = pagename.rsplit("/", 1)[-1]
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = colab_url(chapter, app.config.html_theme_options["repository_url"])
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "url": context["pathto"](f"{STUDENT}/{chapter}.ipynb", 1),
                "text": "Student notebook", "tooltip": "Download the chapter's student notebook (no solutions)",
                "icon": "fas fa-graduation-cap", "label": "student-notebook-button"})


def student_notebooks(app, exception):
    """Write each chapter's student notebook into the site's ``student/`` folder."""
    import nbformat
    from falib.course import student

    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        source = app.env.doc2path(docname)
        if str(source).endswith(".ipynb"):
            target = Path(app.outdir) / STUDENT / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.from_dict(student(nbformat.read(source, as_version=4))), target)


def default_mode(app, config):
    config.html_context.setdefault("default_mode", "auto")


def setup(app):
    app.connect("config-inited", default_mode)
    app.connect("doctree-read", number_figure_links)
    app.connect("html-page-context", dedupe_scripts, priority=999)   # after the handlers that add scripts
    app.connect("html-page-context", course_links, priority=502)   # after the theme's buttons (501)
    app.connect("build-finished", student_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
