"""French typography in the French book: a no-break space before ``: ; ! ?`` and ``%``, and
inside « », so that a line never breaks before the mark or leaves a guillemet alone.

The rule holds for prose only: code blocks, code spans, math, HTML tags, URLs and link targets
keep what they have (:func:`prose` cuts them out). It is checked in the markdown cells of
``chapters/fr/*.ipynb``, in ``chapters/fr/*.md``, and in the translations of
``minigrad/course/locales/fr.json`` (which the notebooks print and draw). The colon and the
guillemets take U+00A0 (no-break space), ``; ! ?`` and ``%`` U+202F (narrow no-break space).
"""
import json
import pathlib
import re

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FR = ROOT / "chapters" / "fr"
TABLE = ROOT / "minigrad" / "course" / "locales" / "fr.json"

NBSP, NNBSP = "\u00a0", "\u202f"
SPACE_BEFORE = {":": NBSP, ";": NNBSP, "!": NNBSP, "?": NNBSP, "%": NNBSP}

NOT_PROSE = re.compile(r"""
    ^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$    # fenced code block
  | \$\$.+?\$\$                                            # display math
  | (?<![\\$])\$(?:\\.|[^$\\])+\$                           # inline math
  | (?P<ticks>`+)(?:[^`]|(?!(?P=ticks))`)+?(?P=ticks)       # code span
  | \\\(.+?\\\)                                             # \( math \)
  | <[^<>\n]+>                                              # HTML tag, autolink
  | https?://[^\s)>]+                                       # bare URL
  | \]\([^)\n]*\)                                           # link target
  | \{[^{}\s]*\}                                            # {field:fmt} of a table entry, {role}
  | ^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$   # table alignment row
""", re.M | re.S | re.X)

# an ordinary space (or a line break) before a mark; "![" opens a markdown image
SPACE_THEN_MARK = re.compile(r"[ \t\n]+(?=[:;?%]|!(?!\[))")
WORD_THEN_MARK = re.compile(r"(?<=[^\W\d_])[;!?](?=[\s\u00a0\u202f]|$)")
OPEN_QUOTE = re.compile(r"«(?![\u00a0\u202f])")
CLOSE_QUOTE = re.compile(r"(?<![\u00a0\u202f])»")


def pieces(text):
    """``text`` cut into ``(is_prose, piece)`` pairs, in order."""
    out, at = [], 0
    for m in NOT_PROSE.finditer(text):
        out.append((True, text[at:m.start()]))
        out.append((False, m.group()))
        at = m.end()
    out.append((True, text[at:]))
    return out


def prose(text):
    """The prose of a markdown text, as a list of pieces (code, math, URLs left out)."""
    return [p for is_prose, p in pieces(text) if is_prose]


def problems(text):
    """Where the prose of ``text`` breaks the rule: short excerpts around each fault."""
    found = []
    for piece in prose(text):
        for regex in (SPACE_THEN_MARK, WORD_THEN_MARK, OPEN_QUOTE, CLOSE_QUOTE):
            for m in regex.finditer(piece):
                found.append(piece[max(0, m.start() - 30):m.end() + 10].replace("\n", "⏎"))
    return found


def fix(text):
    """``text`` with its prose set by the rule (what :func:`problems` asks for)."""
    def mark(m):
        spaces, sign = m.groups()
        glued = sign in ";!?" and m.start() and m.string[m.start() - 1].isalpha() \
            and WORD_THEN_MARK.match(m.string, m.start())
        return SPACE_BEFORE[sign] + sign if spaces or glued else sign

    def prose_fixed(p):
        p = re.sub(r"([ \t\n\u00a0\u202f]*)([:;?%]|!(?!\[))", mark, p)
        p = re.sub(r"«[ \t\n\u00a0\u202f]*", "«" + NBSP, p)
        return re.sub(r"[ \t\n\u00a0\u202f]*»", NBSP + "»", p)
    return "".join(prose_fixed(p) if is_prose else p for is_prose, p in pieces(text))


def _texts():
    for path in sorted(FR.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                yield f"{path.name}, cell {i}", cell.source
    for path in sorted(FR.glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")


def _table_texts():
    for key, value in json.loads(TABLE.read_text(encoding="utf-8")).items():
        for form in (value.values() if isinstance(value, dict) else (value,)):
            yield key, form


TEXTS = list(_texts())


@pytest.mark.parametrize("where,text", TEXTS, ids=[where for where, _ in TEXTS])
def test_fr_book_prose(where, text):
    found = problems(text)
    assert not found, f"chapters/fr/{where}: an ordinary space before : ; ! ? % or inside « » " \
                      f"(use U+00A0 before : and inside « », U+202F before ; ! ? %): {found[:5]}"


def test_fr_table():
    # only the space before a mark: a table entry holds code too (``RecursionError: …``)
    found = [(key, form) for key, form in _table_texts()
             if any(SPACE_THEN_MARK.search(p) or OPEN_QUOTE.search(p) or CLOSE_QUOTE.search(p)
                    for p in prose(form))]
    assert not found, f"fr.json: {len(found)} translations with an ordinary space before " \
                      f": ; ! ? % or inside « », e.g. {found[:3]}"


def test_fr_the_check_can_fail():
    bad = "Voici la règle : « un gradient » ; est-ce clair ? Oui! 95 %"
    assert len(problems(bad)) == 7
    good = fix(bad)
    assert problems(good) == [] and fix(good) == good
    assert good == ("Voici la règle\u00a0: «\u00a0un gradient\u00a0»\u202f; est-ce clair\u202f? "
                    "Oui\u202f! 95\u202f%")
    # a line that starts with the mark is a break before it
    assert problems("la forme\n: suite") and fix("la forme\n: suite") == "la forme\u00a0: suite"


def test_fr_code_math_and_links_are_not_prose():
    text = ("Le code `x[:, 0] ; y ?` et $a : b$ et $$f ! g$$ et [lien](https://e.fr/?q=1 :) "
            "et ![figure](f.png) et {doc}`x <y>` et {mib:.2f}\n```python\nprint(a ? b : c)\n```\n"
            "|:---|---:|\n")
    assert problems(text) == [] and fix(text) == text
