"""The language of what the course prints and draws: one code base, four languages.

Every notebook of the book starts with its *language cell*, the one code cell that differs
between ``chapters/en/…`` and ``chapters/ro/…`` (tag ``language``)::

    from minigrad.course import set_language
    set_language("ro")

From then on every word a reader sees in an output — printed labels, figure titles, axis
labels, the exercise checker's messages — goes through :func:`tr`, which looks the English
text up in the language's table, ``minigrad/course/locales/<lang>.json``::

    print(tr("by hand:"), value)                       # "de mână:" in Romanian
    tr("{n} parameters", n=3)                          # fields are filled after the look-up

The English text is the key, so the English notebooks read naturally and a missing entry is
found by the tests (``tests/test_translations.py`` lists every ``tr("…")`` in the package and
the notebooks and checks each table has it, with the same ``{fields}``). Asking for a text that
the table lacks raises :class:`MissingTranslation` naming the file to edit, so a reader never
sees a half-translated page.

Chinese figure text needs a CJK font: :func:`set_language` puts the first installed one of
:data:`CJK_FONTS` in front of matplotlib's sans-serif list (``make install`` and Binder's
``apt.txt`` install WenQuanYi Micro Hei), and raises if none is installed rather than drawing
missing-glyph boxes. Figures are written as SVG (text drawn as glyph outlines, so the page
does not depend on the reader's fonts and the browser test can see which font drew each glyph).
"""
import json
import pathlib
import string

LANGUAGES = ("en", "ro", "fr", "zh")
NAMES = {"en": "English", "ro": "Română", "fr": "Français", "zh": "中文"}
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
LOCALES = pathlib.Path(__file__).with_name("locales")

_current = {"lang": "en"}
_tables = {}


class MissingTranslation(KeyError):
    """A text asked of :func:`tr` that the current language's table does not have."""

    def __str__(self):
        return self.args[0]


def table(lang):
    """The translation table of ``lang`` (English text → text in ``lang``); ``{}`` for en."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of the course's {LANGUAGES}")
    if lang == "en":
        return {}
    if lang not in _tables:
        _tables[lang] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return _tables[lang]


def get_language():
    """The language :func:`tr` translates into (``"en"`` until :func:`set_language`)."""
    return _current["lang"]


def fields(text):
    """The ``{field}`` names of a format string, in order (``"{n:d} of {m}"`` → ``["n", "m"]``)."""
    return [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]


def tr(text, lang=None, **values):
    """``text`` in the current language (or ``lang``), with ``{fields}`` filled from ``values``.

    ``tr("step")`` → ``"pas"`` in Romanian; ``tr("{n} nodes", n=4)`` → ``"4 noduri"``."""
    lang = lang or _current["lang"]
    out = text
    if lang != "en":
        t = table(lang)
        if text not in t:
            raise MissingTranslation(
                f"no {NAMES[lang]} translation of {text!r}: add it to "
                f"minigrad/course/locales/{lang}.json")
        out = t[text]
    return out.format(**values) if values else out


def set_language(lang):
    """Print and draw in ``lang`` from now on (``"en"``, ``"ro"``, ``"fr"`` or ``"zh"``).

    Also sets up matplotlib: SVG figures in the notebook, and a CJK font for Chinese."""
    table(lang)                                   # checks the code, loads the table
    _current["lang"] = lang
    _setup_matplotlib(lang)


def cjk_font():
    """The name of the first installed font of :data:`CJK_FONTS`, or None."""
    from matplotlib import font_manager
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(CJK_FONTS):
        # installed after matplotlib cached its font list: look on disk once more
        for path in font_manager.findSystemFonts():
            if any(k in path.lower() for k in ("wqy", "notosanscjk", "notosanssc", "sourcehan")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _setup_matplotlib(lang):
    import matplotlib as mpl
    mpl.rcParams["svg.fonttype"] = "path"         # glyph outlines, named after their font
    mpl.rcParams["svg.hashsalt"] = "minigrad"     # the same ids on every run
    sans = [f for f in mpl.rcParams["font.sans-serif"] if f not in CJK_FONTS]
    if lang == "zh":
        font = cjk_font()
        if font is None:
            raise RuntimeError(
                "Chinese figure text needs a CJK font, and none of " + ", ".join(CJK_FONTS)
                + " is installed: `make install` installs WenQuanYi Micro Hei "
                  "(Debian: apt-get install fonts-wqy-microhei)")
        sans = [font] + sans
    mpl.rcParams["font.sans-serif"] = sans
    try:
        from IPython import get_ipython
        if get_ipython() is not None and "inline" in mpl.get_backend():
            from matplotlib_inline.backend_inline import set_matplotlib_formats
            set_matplotlib_formats("svg", metadata={"Date": None})
    except ImportError:                           # plain Python: no inline figures to set up
        pass
