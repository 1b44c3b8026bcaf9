"""The four languages of the course are one book: same code, same outputs, every word translated.

- every English notebook (chapters, solutions) exists in ro, fr and zh with the same cells in
  the same order, the same code in every code cell but the language cell, and no markdown cell
  left untranslated (``python -m minigrad.course.translations sync`` keeps them so);
- every code cell prints the same thing in every language once the language's words are
  mapped back to English through its table (``untranslate``), and draws as many figures;
- every text the code asks ``tr`` for, and every book string, is in every table, with the same
  ``{fields}``; no table keeps entries nothing asks for;
- every language has its welcome page and its glossary.
"""
import configparser
import pathlib
import re

import nbformat
import pytest

from minigrad.course import lang as L
from minigrad.course import translations as T

ROOT = pathlib.Path(__file__).resolve().parent.parent
EN = list(T.english_notebooks(ROOT))
PAIRS = [(en, lang) for en in EN for lang in T.TRANSLATED]


def _id(pair):
    en, lang = pair
    return f"{lang}/{en.parent.parent.name}/{en.stem}"


def _sanitizers():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


SANITIZE = _sanitizers()


def _text(outputs, lang):
    """What a cell showed as text, in English, with run-to-run details (timings) masked."""
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            for kind in ("text/plain", "text/markdown", "text/html"):
                if kind in o.data:
                    parts.append(o.data[kind])
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
    text = "".join(parts)
    if lang != "en":
        text = T.untranslate(text, lang)
    for regex, replace in SANITIZE:
        text = regex.sub(replace, text)
    # columns are padded, and titles underlined, to the width of their words, which differs
    # between languages
    text = re.sub(r"-{3,}", "---", text)
    return re.sub(r"[ \t]+", " ", text)


def _figures(outputs):
    """The kinds of image each displayed output holds (stream outputs are split by timing)."""
    return [sorted(k for k in o.get("data", {}) if k.startswith("image/")) for o in outputs
            if o.output_type in ("display_data", "execute_result")]


def test_the_translated_languages():
    assert T.TRANSLATED == ("ro", "fr", "zh") and len(EN) == 22


@pytest.mark.parametrize("pair", PAIRS, ids=_id)
def test_same_cells_same_code(pair):
    en, lang = pair
    path = T.translation_path(en, lang)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run " \
                          f"`python -m minigrad.course.translations sync {lang}` and translate it"
    found = T.problems(nbformat.read(en, as_version=4), nbformat.read(path, as_version=4), lang,
                       str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("pair", PAIRS, ids=_id)
def test_same_outputs(pair):
    en, lang = pair
    a = nbformat.read(en, as_version=4)
    b = nbformat.read(T.translation_path(en, lang), as_version=4)
    for i, (ca, cb) in enumerate(zip(a.cells, b.cells)):
        if ca.cell_type != "code" or T.is_language_cell(ca):
            continue
        where = f"{lang}/{en.stem}, cell {i}"
        assert _text(cb.outputs, lang) == _text(ca.outputs, "en"), \
            f"{where}: prints something else than English (run the notebook again, or a word " \
            f"is missing from minigrad/course/locales/{lang}.json)"
        assert _figures(cb.outputs) == _figures(ca.outputs), f"{where}: not the same figures"


def test_the_parity_check_can_fail():
    """A changed code cell, an untranslated cell and a wrong language cell are all reported."""
    en = nbformat.read(EN[0], as_version=4)
    nb = T.synced(en, None, "ro")
    assert any("untranslated" in p for p in T.problems(en, nb, "ro"))
    code = next(c for c in nb.cells if c.cell_type == "code" and not T.is_language_cell(c))
    code.source += "\nprint(1)"
    assert any("code differs" in p for p in T.problems(en, nb, "ro"))
    lang_cell = next(c for c in nb.cells if T.is_language_cell(c))
    lang_cell.source = T.language_cell_source("fr")
    assert any("language cell" in p for p in T.problems(en, nb, "ro"))
    nb.cells.pop()
    assert T.problems(en, nb, "ro") == [T.problems(en, nb, "ro")[0]]


@pytest.mark.parametrize("lang", T.TRANSLATED)
def test_every_string_is_translated(lang):
    table = L.table(lang)
    keys = T.strings(ROOT)
    assert len(keys) > 100, f"only {len(keys)} strings found: the extraction is broken"
    missing = sorted(k for k in keys if k not in table)
    assert not missing, (f"{len(missing)} texts have no {L.NAMES[lang]} translation in "
                         f"minigrad/course/locales/{lang}.json, e.g. {missing[:5]} — list them with "
                         f"`python -m minigrad.course.translations missing {lang}`")
    plurals = T.plurals(ROOT)
    forms = lambda v: list(v.values()) if isinstance(v, dict) else [v]  # noqa: E731
    wrong = [k for k in keys for v in forms(table[k]) if sorted(L.fields(k)) != sorted(L.fields(v))]
    assert not wrong, f"{lang}: translations whose {{fields}} differ from English's: {wrong[:5]}"
    empty = [k for k in keys if not all(v.strip() for v in forms(table[k]))]
    assert not empty, f"{lang}: empty translations: {empty[:5]}"
    # a text with a count (ntr) has every plural form of the language; the others have one
    want = set(L.PLURAL_FORMS[lang])
    bad = [k for k in keys if k in plurals and len(want) > 1 and
           not (isinstance(table[k], dict) and set(table[k]) == want)]
    assert not bad, f"{lang}: texts with a count need the forms {sorted(want)}: {bad[:5]}"
    single = [k for k in keys if k not in plurals and isinstance(table[k], dict)]
    assert not single, f"{lang}: plural forms for texts printed without a count: {single[:5]}"
    uncounted = [k for k in plurals if "n" not in L.fields(k) or "n" not in L.fields(plurals[k])]
    assert not uncounted, f"texts with a count must count with {{n}}: {uncounted[:5]}"
    unused = sorted(set(table) - set(keys))
    assert not unused, f"{lang}: entries that nothing asks for any more: {unused[:5]}"


@pytest.mark.parametrize("lang", L.LANGUAGES)
def test_welcome_page_and_glossary(lang):
    for page in ("index.md", "glossary.md"):
        path = ROOT / "chapters" / lang / page
        assert path.exists(), f"chapters/{lang}/{page} is missing"
        text = path.read_text(encoding="utf-8")
        assert lang == "en" or "/en/" not in text, f"chapters/{lang}/{page} links into English"
    rows = lambda p: [l for l in p.read_text(encoding="utf-8").splitlines()  # noqa: E731
                      if l.startswith("|") and not l.startswith("|---")]
    en_rows = rows(ROOT / "chapters" / "en" / "glossary.md")
    mine = rows(ROOT / "chapters" / lang / "glossary.md")
    assert len(mine) >= len(en_rows), f"{lang}: the glossary has fewer terms than English's"
    # the code column is the same in every language
    code = lambda rs: [r.split("|")[-3].strip() for r in rs[1:]]  # noqa: E731
    if lang != "en":
        assert code(mine)[:len(en_rows) - 1] == code(en_rows), \
            f"{lang}: the glossary's code column differs from English's"


def test_sync_keeps_what_unchanged_code_printed_in_its_language():
    """``sync`` takes code and tags from English, but a cell whose code did not change keeps
    its own outputs (printed in its language); a changed cell gets English's until it runs."""
    en = nbformat.read(EN[0], as_version=4)
    ro = nbformat.read(T.translation_path(EN[0], "ro"), as_version=4)
    i, cell = next((i, c) for i, c in enumerate(en.cells)
                   if c.cell_type == "code" and c.outputs and not T.is_language_cell(c))
    ro.cells[i].outputs = [nbformat.v4.new_output("stream", name="stdout", text="în română\n")]
    en.cells[i].metadata.setdefault("tags", []).append("hide-input")
    out = T.synced(en, ro, "ro")
    assert out.cells[i].outputs == ro.cells[i].outputs
    assert out.cells[i].metadata["tags"] == en.cells[i].metadata["tags"]
    en.cells[i].source += "\nprint(2)"
    assert T.synced(en, ro, "ro").cells[i].outputs == en.cells[i].outputs


# MyST syntax that Jupyter Book renders but JupyterLab, Binder and Colab show as it is typed
MYST_ONLY = re.compile(r"\{[a-z][\w:-]*\}`[^`]*`"          # a role: {doc}`…`, {ref}`…`
                       r"|^\s*(```|~~~|:::)\{[\w-]+\}"     # a directive: ```{note}
                       r"|^\s*:::"                          # a colon fence
                       r"|^\(\w[\w-]*\)=\s*$"               # a target: (label)=
                       r"|^\+\+\+", re.MULTILINE)          # a block break
NOTEBOOKS = sorted(p for folder in ("chapters", "solutions", "exercises")
                   for p in (ROOT / folder).glob("*/*.ipynb"))


def test_myst_only_syntax_is_found():
    for text in ("see {doc}`04_backward`", "```{note}\nx\n```", ":::{tip}", "(sec-a)=",
                 "+++", "{ref}`the table <tab>`"):
        assert MYST_ONLY.search(text), text
    for text in ("see [chapter 4](04_backward.ipynb)", "```python\nx = {1: 2}\n```",
                 "$\\text{shape}$ and `{n}` in code"):
        assert not MYST_ONLY.search(text), text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_read_right_outside_the_book(path):
    """A notebook opened in JupyterLab, Binder or Colab shows its markdown through plain
    CommonMark: no MyST-only syntax, and every link to another notebook points at a file."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        raw = MYST_ONLY.search(cell.source)
        assert raw is None, f"{path.relative_to(ROOT)}, cell {i}: {raw.group(0)!r} is MyST-only " \
                            f"syntax a notebook reader sees raw: write a markdown link"
        for target in re.findall(r"\]\(([^)\s#]+\.(?:ipynb|md))(?:#[^)]*)?\)", cell.source):
            assert (path.parent / target).exists(), \
                f"{path.relative_to(ROOT)}, cell {i}: the link {target} points at no file"
