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
    ntr("{n} node", "{n} nodes", n=85)                 # "85 de noduri": the plural form of n
    print(labelled(tr("shape"), "[2, 3]"))             # "forme : [2, 3]" in French, "形状：[2, 3]"
    pad(tr("node"), 12)                                # padded to 12 columns on the screen

The English text is the key, so the English notebooks read naturally and a missing entry is
found by the tests (``tests/test_translations.py`` lists every ``tr("…")`` in the package and
the notebooks and checks each table has it, with the same ``{fields}``). Asking for a text that
the table lacks raises :class:`MissingTranslation` naming the file to edit, so a reader never
sees a half-translated page.

A text with a count is written with :func:`ntr`, English's singular and plural: the table
holds one form per *plural category* of the language (:data:`PLURAL_FORMS`, decided by
:func:`plural_category`): Romanian says "1 nod", "3 noduri" and "85 de noduri", French "0 nœud"
and "2 nœuds", Chinese has one form. A label and its value are joined by :func:`labelled`, with
the language's separator (:data:`SEPARATORS`: a no-break space before the French colon, the
full-width colon in Chinese). Columns are padded by *display width* (:func:`width`, :func:`pad`):
a Chinese character takes two columns of a terminal or a notebook's output, a combining accent
none; ``tr`` pads its ``{field:12}`` fields that way.

A number that ``tr`` or ``ntr`` writes into a sentence takes the language's decimal mark
(:data:`DECIMAL_MARKS`, :func:`decimal`): French and Romanian prose write "8,50 Mio", "0,9812",
as their book's text does. Code keeps the point, and so does a figure that is part of a
formula or a check line: a field right after ``=``, ``<``, ``≤``, ``≈`` (``max |Δ| = {diff:.3g}``,
``1/(1 − p) = {scale:.4g}``), a number written with an exponent (``2.2e-16``), and a text the
code formatted itself before handing it over (``verdict(…)``'s ``max |Δ| = 3.1e-17 ≤ 1e-12 ✓``,
an array, a shape). A French percentage takes its narrow no-break space ("95\u202f%").

Chinese figure text needs a CJK font: :func:`set_language` puts the first installed one of
:data:`CJK_FONTS` in front of matplotlib's sans-serif list (``make install`` and Binder's
``apt.txt`` install WenQuanYi Micro Hei), and raises if none is installed rather than drawing
missing-glyph boxes. Figures are written as SVG (text drawn as glyph outlines, so the page
does not depend on the reader's fonts and the browser test can see which font drew each glyph).
"""
import json
import numbers
import pathlib
import re
import string
import unicodedata

LANGUAGES = ("en", "ro", "fr", "zh")
NAMES = {"en": "English", "ro": "Română", "fr": "Français", "zh": "中文"}
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
LOCALES = pathlib.Path(__file__).with_name("locales")

SEPARATORS = {"en": ": ", "ro": ": ", "fr": "\u00a0: ", "zh": "："}
"""What joins a label to its value, per language (:func:`labelled`)."""
PLURAL_FORMS = {"en": ("one", "other"), "ro": ("one", "few", "other"), "fr": ("one", "other"),
                "zh": ("other",)}
"""The plural categories a text with a count takes in each language (CLDR's names)."""
DECIMAL_MARKS = {"en": ".", "ro": ",", "fr": ",", "zh": "."}
"""The mark between the whole and the fractional part of a number in a sentence (:func:`decimal`)."""

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


def width(text):
    """The columns ``text`` takes on the screen: 2 for a wide East Asian character (Chinese,
    full-width punctuation), 0 for a combining mark (the bar of ``x̄``), 1 for the others."""
    columns = 0
    for ch in str(text):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        columns += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return columns


def pad(text, columns, align="<"):
    """``text`` with spaces added to fill ``columns`` display columns (:func:`width`):
    ``align`` is ``"<"`` (text on the left), ``">"`` (on the right) or ``"^"`` (centred).
    A text already as wide is returned as it is."""
    text = str(text)
    room = max(0, columns - width(text))
    if align == ">":
        return " " * room + text
    if align == "^":
        return " " * (room // 2) + text + " " * (room - room // 2)
    if align != "<":
        raise ValueError(f"align must be '<', '>' or '^', not {align!r}")
    return text + " " * room


_WIDTH_SPEC = re.compile(r"([<>^]?)(\d+)s?")
_FORMULA_END = re.compile(r"[=<>≤≥≈]\s*$")


def in_formula(before):
    """Whether a field that follows the text ``before`` stands in a formula (``… = {x}``) and
    so keeps code's decimal point."""
    return bool(_FORMULA_END.search(before))


def decimal(text, lang=None):
    """The number ``text`` (as Python formats it) with ``lang``'s decimal mark
    (:data:`DECIMAL_MARKS`): ``decimal("8.50", "fr")`` → ``"8,50"``, ``"95%"`` → ``"95\u202f%"``
    in French. A number with an exponent (``"2.2e-16"``) keeps the point: that is code's
    notation."""
    lang = lang or _current["lang"]
    text = str(text)
    if DECIMAL_MARKS[lang] != "." and "e" not in text.lower():
        text = re.sub(r"(?<=\d)\.(?=\d)", DECIMAL_MARKS[lang], text)
    if lang == "fr":
        text = re.sub(r"(?<=\d)%", "\u202f%", text)
    return text


class _Formatter(string.Formatter):
    """``str.format`` that pads a text field given a plain width (``{name:12}``, ``{name:>8s}``)
    by display width (:func:`pad`), so translated words line up as English's do, and writes a
    number in a sentence with the language's decimal mark (:func:`decimal`, not in a formula:
    :func:`in_formula`). In Chinese, the space a template puts between a field and the text
    beside it is left out when both sides are Chinese (:func:`join_cjk`)."""

    def __init__(self, lang):
        super().__init__()
        self.lang = lang

    def vformat(self, format_string, args, kwargs):
        pieces = []
        for literal, name, spec, conversion in self.parse(format_string):
            if literal:
                pieces.append((literal, False))
            if name is None:
                continue
            value = self.convert_field(self.get_field(name, args, kwargs)[0], conversion)
            if "{" in spec:
                spec = super().vformat(spec, args, kwargs)
            pieces.append((self.format_field(value, spec, literal), True))
        return join_cjk(pieces) if self.lang == "zh" else "".join(p for p, _ in pieces)

    def format_field(self, value, spec, before=""):
        m = _WIDTH_SPEC.fullmatch(spec)
        if isinstance(value, str) and m:
            return pad(value, int(m.group(2)), m.group(1) or "<")
        out = super().format_field(value, spec)
        if _is_number(value) and not in_formula(before):
            out = decimal(out, self.lang)
        return out


def is_cjk(ch):
    """Whether ``ch`` is a wide East Asian character (a Chinese character, full-width punctuation)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_cjk(pieces):
    """``pieces`` (``(text, is_field)`` pairs) joined as Chinese is written: the one space a
    template puts between a field and the text beside it (``"{what} 有误"``, there for a field
    that is code, ``"x 有误"``) is left out when both sides are Chinese (``"x 的梯度有误"``)."""
    out = ""
    for k, (text, is_field) in enumerate(pieces):
        if is_field and text and out.endswith(" ") and len(out) > 1 and is_cjk(out[-2]) \
                and is_cjk(text[0]) and not pieces[k - 1][1]:
            out = out[:-1]
        elif not is_field and k and pieces[k - 1][1] and pieces[k - 1][0] \
                and is_cjk(pieces[k - 1][0][-1]) and text[:1] == " " and is_cjk(text[1:2] or " "):
            text = text[1:]
        out += text
    return out


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _lookup(text, lang):
    t = table(lang)
    if text not in t:
        raise MissingTranslation(
            f"no {NAMES[lang]} translation of {text!r}: add it to "
            f"minigrad/course/locales/{lang}.json")
    return t[text]


def tr(text, lang=None, **values):
    """``text`` in the current language (or ``lang``), with ``{fields}`` filled from ``values``.

    ``tr("step")`` → ``"pas"`` in Romanian; ``tr("{lib:8} loss", lib="torch")`` → ``"torch
    pierdere"``. A text field with a width is padded by display width (:func:`pad`)."""
    lang = lang or _current["lang"]
    out = text if lang == "en" else _lookup(text, lang)
    if isinstance(out, dict):
        raise TypeError(f"{text!r} has plural forms in the {NAMES[lang]} table: "
                        f"print it with ntr(singular, plural, n=…)")
    return _Formatter(lang).vformat(out, (), values) if values else out


def plural_category(n, lang):
    """The plural category (:data:`PLURAL_FORMS`) of the count ``n`` in ``lang``, by CLDR's
    rules for whole numbers: English "one" for 1; French "one" for 0 and 1; Romanian "one"
    for 1, "few" for 0 and for n whose last two digits are 1 to 19 ("3 noduri", "101
    noduri"), "other" for the rest, which take "de" ("20 de noduri", "85 de noduri");
    Chinese has no plural."""
    n = abs(int(n))
    if lang == "zh":
        return "other"
    if lang == "fr":
        return "one" if n < 2 else "other"
    if lang == "ro":
        if n == 1:
            return "one"
        return "few" if n == 0 or 1 <= n % 100 <= 19 else "other"
    if lang == "en":
        return "one" if n == 1 else "other"
    raise ValueError(f"language {lang!r} is not one of the course's {LANGUAGES}")


def ntr(one, other, n, lang=None, **values):
    """A text with a count: English's ``one`` (singular) or ``other`` (plural) and, in another
    language, the form of its table entry for ``n``'s plural category (the entry's key is
    ``other``; its value maps each category of :data:`PLURAL_FORMS` to a text, or is one text
    for a language without plurals). ``n`` is also the field ``{n}`` of the texts::

        ntr("{n} node", "{n} nodes", n=85, lang="ro")      # "85 de noduri"
    """
    lang = lang or _current["lang"]
    values = {"n": n, **values}
    if lang == "en":
        out = one if plural_category(n, "en") == "one" else other
    else:
        forms = _lookup(other, lang)
        if isinstance(forms, dict):
            category = plural_category(n, lang)
            if category not in forms:
                raise MissingTranslation(
                    f"the {NAMES[lang]} translation of {other!r} has no {category!r} form "
                    f"(for n = {n}): add it to minigrad/course/locales/{lang}.json")
            forms = forms[category]
        out = forms
    return _Formatter(lang).vformat(out, (), values)


def labelled(label, text="", lang=None):
    """``label`` and ``text`` joined as the language writes a label: ``"shape: [2, 3]"``,
    French ``"forme\u00a0: [2, 3]"`` (a no-break space before the colon, so a line never
    starts with it), Chinese ``"形状：[2, 3]"`` (the full-width colon, no space)."""
    return f"{label}{SEPARATORS[lang or _current['lang']]}{text}"


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
