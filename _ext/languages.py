"""The language switcher on every page, and the theme's words in the book's language.

Each language of the course is its own Sphinx build (``_ext/build_book.py``), published side
by side: ``en/``, ``ro/``, ``fr/``, ``zh/``. A page has the same name in every language but
for its language folder (``chapters/ro/01_computational_graphs`` ↔
``chapters/fr/01_computational_graphs``), so the switcher links each page to the same page of
the other books: four links at the top of the article, the current one marked.

Config value: ``course_language`` (``en``, ``ro``, ``fr`` or ``zh``), set by build_book.py.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from minigrad.course.lang import LANGUAGES, NAMES, tr  # noqa: E402

SHORT = {"en": "EN", "ro": "RO", "fr": "FR", "zh": "中文"}
TEMPLATES = pathlib.Path(__file__).with_name("templates")


def page_in(pagename, lang, other):
    """``pagename`` of the ``lang`` book as the name of the same page in the ``other`` book."""
    parts = pagename.split("/")
    if len(parts) > 1 and parts[1] == lang:          # chapters/<lang>/..., solutions/<lang>/...
        parts[1] = other
    return "/".join(parts)


def links(pagename, lang):
    """The switcher's entries for one page: code, name, short label, relative href, current."""
    up = "../" * (pagename.count("/") + 1)             # from the page up to the site's root
    return [{"code": other, "name": NAMES[other], "short": SHORT[other], "current": other == lang,
             "href": f"{up}{other}/{page_in(pagename, lang, other)}.html"}
            for other in LANGUAGES]


def _configure(app, config):
    lang = config.course_language
    if lang not in LANGUAGES:
        raise ValueError(f"course_language: {lang!r} is not one of {LANGUAGES}")
    config.templates_path.append(str(TEMPLATES))
    config.html_static_path.append(str(TEMPLATES.parent / "static"))
    options = config.html_theme_options
    end = options.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(end, str):
        end = [e.strip() for e in end.split(",") if e.strip()]
    options["article_header_end"] = ["language-switcher.html", *end]
    options["search_bar_text"] = tr("Search this book...", lang)


def _context(app, pagename, templatename, context, doctree):
    lang = app.config.course_language
    context["course_languages"] = links(pagename, lang)
    context["course_languages_label"] = tr("Language", lang)


def setup(app):
    app.add_config_value("course_language", "en", "html")
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _context)
    app.add_css_file("language-switcher.css")
    app.add_css_file("layout.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
