"""tr, set_language and MissingTranslation (minigrad.course.lang), and the tools that keep the
tables complete (minigrad.course.translations: strings, missing, untranslate).

The tables used here are temporary ones, put in place of the real ``locales/<lang>.json`` by
monkeypatching the cache ``minigrad.course.lang._tables``; the real tables are checked by
tests/test_translations.py.
"""
import json
import string

import matplotlib as mpl
import nbformat
import numpy as np
import pytest

from minigrad.course import lang
from minigrad.course import translations as T
from minigrad.course.exercises import TASKS, Misconception, evaluate
from minigrad.course.exercises.core import Task, assert_close_or_explain
from minigrad.course.lang import MissingTranslation, get_language, set_language, tr

FR = {
    "by hand:": "à la main :",
    "step": "pas",
    "the step": "le pas",
    "not": "step",
    "{n} weights in {m} parameters": "{n} poids dans {m} paramètres",
    "{what} vs the notes": "{what} vs les notes",
    "{lib:8} train accuracy {train:.4f}": "{lib:8} précision {train:.4f}",
    "is exactly {batch}× the right value: {batch} is the batch size":
        "vaut exactement {batch}× la bonne valeur : {batch} est la taille du lot",
    "your gradient for {name}": "votre gradient pour {name}",
    "{what} is None — did you forget to return?": "{what} vaut None — un return oublié ?",
    "Task {id}": "Tâche {id}",
    "not implemented yet": "pas encore écrit",
}


@pytest.fixture
def fr(monkeypatch):
    """A French table of a few entries, in place of locales/fr.json."""
    monkeypatch.setitem(lang._tables, "fr", dict(FR))
    return FR


@pytest.fixture
def restore_language(monkeypatch):
    """Whatever a test sets, the language is English again afterwards (and matplotlib's
    settings are as they were)."""
    monkeypatch.setitem(lang._current, "lang", "en")
    with mpl.rc_context():
        yield


# --------------------------------------------------------------------------- tr
def test_tr_in_english_returns_the_key_with_its_fields_filled():
    assert get_language() == "en"
    assert tr("by hand:") == "by hand:"
    assert tr("{n} weights in {m} parameters", n=2, m=3) == "2 weights in 3 parameters"
    assert tr("max |Δ| = {diff:.1e}", diff=2.2e-16) == "max |Δ| = 2.2e-16"


def test_tr_without_fields_does_not_format():
    """A text given no values is printed as it is, braces included (no str.format)."""
    assert tr("a dict {'x': 1}") == "a dict {'x': 1}"


def test_tr_looks_the_text_up_in_the_languages_table(fr):
    assert tr("by hand:", lang="fr") == "à la main :"
    assert tr("{n} weights in {m} parameters", lang="fr", n=2, m=3) == "2 poids dans 3 paramètres"
    assert tr("{lib:8} train accuracy {train:.4f}", lang="fr", lib="torch", train=0.5) == \
        "torch    précision 0.5000"


def test_a_missing_text_raises_missing_translation_naming_the_table(fr):
    with pytest.raises(MissingTranslation) as e:
        tr("a text nobody translated", lang="fr")
    assert isinstance(e.value, KeyError)
    assert "'a text nobody translated'" in str(e.value)
    assert "minigrad/course/locales/fr.json" in str(e.value)
    assert "Français" in str(e.value)


def test_set_language_changes_what_tr_returns(fr, restore_language):
    set_language("fr")
    assert get_language() == "fr"
    assert tr("step") == "pas"
    assert tr("{n} weights in {m} parameters", n=1, m=2) == "1 poids dans 2 paramètres"
    assert tr("step", lang="en") == "step"                  # an explicit lang wins
    with pytest.raises(MissingTranslation):
        tr("a text nobody translated")
    assert mpl.rcParams["svg.fonttype"] == "path"
    set_language("en")
    assert get_language() == "en" and tr("step") == "step"


def test_set_language_refuses_an_unknown_language(restore_language):
    with pytest.raises(ValueError, match="'de'"):
        set_language("de")
    assert get_language() == "en"


def test_fields_lists_the_named_fields_in_order():
    assert lang.fields("{n:d} of {m}, {n}") == ["n", "m", "n"]
    assert lang.fields("no fields") == []


# --------------------------------------------------------------------------- the checker
def test_check_lines_and_misconceptions_follow_the_language(fr, monkeypatch, restore_language):
    def checker(grad_of):
        assert_close_or_explain("W", grad_of(), [1.0])
    monkeypatch.setitem(TASKS, "99.9", Task("99.9", "step", "g", 1, 1, checker))
    set_language("fr")

    def not_written():
        raise NotImplementedError
    result = evaluate("99.9", not_written)
    assert result.line == "… Tâche 99.9: pas encore écrit"
    result = evaluate("99.9", lambda: None)
    assert result.line == "✗ Tâche 99.9: votre gradient pour W vaut None — un return oublié ?"
    result = evaluate("99.9", lambda: np.array([1.0]))
    assert result.line == "✓ Tâche 99.9: pas"                       # the title, translated


def test_a_missing_translation_in_a_checker_is_not_blamed_on_the_learner(fr, monkeypatch,
                                                                          restore_language):
    def checker(fn):
        fn()
        raise Misconception(tr("a message the table lacks"))
    monkeypatch.setitem(TASKS, "99.9", Task("99.9", "step", "g", 1, 1, checker))
    set_language("fr")
    with pytest.raises(MissingTranslation):
        evaluate("99.9", lambda: None)


# --------------------------------------------------------------------------- strings
def _notebook(path, *sources, markdown="Some words, tr('not code')"):
    cells = [nbformat.v4.new_markdown_cell(markdown)]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


@pytest.fixture
def tree(tmp_path):
    """A repository in miniature: a package file and an English chapter and solution."""
    pkg = tmp_path / "minigrad" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "m.py").write_text(
        'def f(x, obj):\n'
        '    print(tr("alpha"), tr("{n} beta", n=x))\n'
        '    obj.tr("gamma")\n'
        '    tr(x)                          # not a literal: not a key\n'
        '    other("not a tr call")\n', encoding="utf-8")
    _notebook(tmp_path / "chapters" / "en" / "01_a.ipynb",
              'try:\n    import minigrad\nexcept ImportError:\n    %pip install minigrad',
              '%matplotlib inline\nprint(tr("delta"), f"{tr(\'epsilon\'):>8}")')
    _notebook(tmp_path / "solutions" / "en" / "01_a.ipynb", 'check("01.1", tr("zeta"))')
    _notebook(tmp_path / "chapters" / "ro" / "01_a.ipynb", 'tr("only in a translation")')
    return tmp_path


def test_strings_finds_every_literal_tr_key(tree, monkeypatch):
    monkeypatch.setattr(T, "BOOK_STRINGS", ("eta (from the book)",))
    keys = T.strings(tree)
    assert keys == sorted(keys)
    for k in ("alpha", "{n} beta", "gamma", "delta", "epsilon", "zeta", "eta (from the book)"):
        assert k in keys
    for k in ("not a tr call", "not code", "only in a translation"):
        assert k not in keys
    some = next(iter(TASKS.values()))
    assert some.title in keys and some.goal in keys


def test_strings_reports_a_cell_that_does_not_parse(tree):
    _notebook(tree / "chapters" / "en" / "02_b.ipynb", "print(tr('ok'))", "def broken(:\n    pass")
    with pytest.raises(ValueError, match=r"02_b\.ipynb: code cell 2 .*does not parse"):
        T.strings(tree)


def test_the_course_keys_are_named_fields_only():
    keys = T.strings()
    assert "Task {id}" in keys and "not implemented yet" in keys   # the checker's
    assert "by hand:" in keys                                       # a chapter's
    assert "{n} parameters, largest max |Δ| = {worst:.1e}" in keys   # the package's
    for key in keys:
        names = [f for _, f, _, _ in string.Formatter().parse(key) if f is not None]
        assert all(n and not n.isdigit() for n in names), f"positional field in {key!r}"


# --------------------------------------------------------------------------- missing
def test_missing_lists_absent_and_unused_keys(tree, monkeypatch):
    monkeypatch.setitem(lang._tables, "ro", {"alpha": "alfa", "no longer used": "x"})
    lacking, unused = T.missing("ro", tree)
    assert "alpha" not in lacking
    assert {"{n} beta", "gamma", "delta", "epsilon", "zeta"} <= set(lacking)
    assert lacking == sorted(lacking)
    assert unused == ["no longer used"]


def test_missing_command_prints_json_to_fill_in(tree, monkeypatch, capsys):
    monkeypatch.setitem(lang._tables, "ro", {"alpha": "alfa", "no longer used": "x"})
    status = T.main(["missing", "ro", "--root", str(tree)])
    out, err = capsys.readouterr()
    printed = json.loads(out)
    assert list(printed) == T.missing("ro", tree)[0]
    assert set(printed.values()) == {""}
    assert "no longer used" in err
    assert status == 1


def test_missing_command_exits_0_when_the_table_is_complete(tree, monkeypatch, capsys):
    monkeypatch.setitem(lang._tables, "ro", {k: k.upper() for k in T.strings(tree)})
    assert T.main(["missing", "ro", "--root", str(tree)]) == 0
    assert json.loads(capsys.readouterr().out) == {}


# --------------------------------------------------------------------------- untranslate
@pytest.mark.parametrize("key, values", [
    ("by hand:", {}),
    ("{n} weights in {m} parameters", {"n": 7642, "m": 27}),
    ("{lib:8} train accuracy {train:.4f}", {"lib": "minigrad", "train": 0.98765}),
    ("{what} vs the notes", {"what": "torch: ∂L/∂W₂"}),
    ("is exactly {batch}× the right value: {batch} is the batch size", {"batch": 4}),
])
def test_untranslate_inverts_tr(fr, key, values):
    translated = tr(key, lang="fr", **values)
    assert translated != tr(key, **values)
    assert T.untranslate(translated, "fr") == tr(key, **values)


def test_untranslate_handles_nested_texts_and_several_lines(fr):
    inner = tr("your gradient for {name}", lang="fr", name="W")
    text = (tr("{what} is None — did you forget to return?", lang="fr", what=inner) + "\n"
            + tr("by hand:", lang="fr") + " 1.0\n"
            + tr("{n} weights in {m} parameters", lang="fr", n=3, m=1))
    assert T.untranslate(text, "fr") == ("your gradient for W is None — did you forget to "
                                         "return?\nby hand: 1.0\n3 weights in 1 parameters")


def test_untranslate_does_not_look_again_at_english_it_put_in(fr):
    """"le pas" becomes "the step"; "step" is also the French of "not", but the English just
    written is not translated back a second time."""
    assert T.untranslate("le pas", "fr") == "the step"
    assert T.untranslate("step", "fr") == "not"


def test_untranslate_replaces_whole_words_only(fr):
    assert T.untranslate("passe le mot pas", "fr") == "passe le mot step"


def test_untranslate_of_english_is_the_text_itself():
    assert T.untranslate("by hand: 1.0", "en") == "by hand: 1.0"
