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
    "activations kept: {now:.2f} MiB (was {before:.2f} MiB)":
        "activations conservées : {now:.2f} Mio (avant : {before:.2f} Mio)",
    "{lib} loss {loss:.4f} (max |Δ| = {diff:.3g}), {rate:.0%} kept":
        "{lib} perte {loss:.4f} (max |Δ| = {diff:.3g}), {rate:.0%} conservés",
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
        "torch    précision 0,5000"


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

    def not_written():                   # the exercise notebook's stub of this task
        raise NotImplementedError(tr("Task {id}", id="99.9") + ": " + tr("step"))
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
    assert "Backward stepper: {n} steps (run the notebook to step through them)" in keys  # ntr
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
    ("activations kept: {now:.2f} MiB (was {before:.2f} MiB)", {"now": 8.5, "before": 24.25}),
    ("{lib} loss {loss:.4f} (max |Δ| = {diff:.3g}), {rate:.0%} kept",
     {"lib": "torch", "loss": 2.5, "diff": 0.125, "rate": 0.95}),
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


# --------------------------------------------------------------------------- decimal marks
def test_a_number_in_a_sentence_takes_the_languages_decimal_mark(fr, monkeypatch):
    key = "activations kept: {now:.2f} MiB (was {before:.2f} MiB)"
    monkeypatch.setitem(lang._tables, "ro", {key: "activări păstrate: {now:.2f} MiB (înainte: "
                                                  "{before:.2f} MiB)"})
    monkeypatch.setitem(lang._tables, "zh", {key: "保留的激活：{now:.2f} MiB（之前 {before:.2f} MiB）"})
    values = {"now": np.float64(8.5), "before": 24.25}
    assert tr(key, **values) == "activations kept: 8.50 MiB (was 24.25 MiB)"
    assert tr(key, lang="fr", **values) == "activations conservées : 8,50 Mio (avant : 24,25 Mio)"
    assert tr(key, lang="ro", **values) == "activări păstrate: 8,50 MiB (înainte: 24,25 MiB)"
    assert tr(key, lang="zh", **values) == "保留的激活：8.50 MiB（之前 24.25 MiB）"


def test_a_formula_an_exponent_and_a_text_keep_the_point(fr):
    key = "{lib} loss {loss:.4f} (max |Δ| = {diff:.3g}), {rate:.0%} kept"
    assert tr(key, lang="fr", lib="torch", loss=2.5, diff=0.125, rate=0.95) == \
        "torch perte 2,5000 (max |Δ| = 0.125), 95\u202f% conservés"
    assert tr(key, lang="fr", lib="0.5", loss=3e-9, diff=1, rate=1) == \
        "0.5 perte 0,0000 (max |Δ| = 1), 100\u202f% conservés"   # "0.5" is a text: as given
    assert lang.decimal("2.2e-16", "fr") == "2.2e-16"
    assert lang.decimal("[0.5, 1.25]", "ro") == "[0,5, 1,25]" and lang.decimal("1.5", "zh") == "1.5"
    assert lang.in_formula("max |Δ| = ") and lang.in_formula("x ≤") and not lang.in_formula("loss ")


def test_ntr_writes_numbers_with_the_decimal_mark_too(monkeypatch):
    monkeypatch.setitem(lang._tables, "ro", {"{n} steps, {ms:.1f} ms": {
        "one": "{n} pas, {ms:.1f} ms", "few": "{n} pași, {ms:.1f} ms",
        "other": "{n} de pași, {ms:.1f} ms"}})
    assert lang.ntr("{n} step, {ms:.1f} ms", "{n} steps, {ms:.1f} ms", n=20, ms=1.25,
                    lang="ro") == "20 de pași, 1,2 ms"


# --------------------------------------------------------------------------- Chinese spacing
ZH = {"{what} is None — did you forget to return?": "{what} 是 None——是不是忘了 return？",
      "your gradient for {name}": "你算出的 {name} 的梯度",
      "{a} and {b}": "{a} 和 {b}", "{what:6}|": "{what:6}|"}


@pytest.fixture
def zh(monkeypatch):
    monkeypatch.setitem(lang._tables, "zh", dict(ZH))


def test_a_space_between_a_field_and_chinese_is_left_out_when_the_field_is_chinese(zh):
    inner = tr("your gradient for {name}", lang="zh", name="a")
    assert inner == "你算出的 a 的梯度"                                  # a is code: spaced
    assert tr("{what} is None — did you forget to return?", lang="zh", what=inner) == \
        "你算出的 a 的梯度是 None——是不是忘了 return？"
    assert tr("{what} is None — did you forget to return?", lang="zh", what="x") == \
        "x 是 None——是不是忘了 return？"
    assert tr("{a} and {b}", lang="zh", a="梯度", b="节点") == "梯度和节点"
    assert tr("{a} and {b}", lang="zh", a="W", b="节点") == "W 和节点"
    assert tr("{what:6}|", lang="zh", what="节点") == "节点  |"            # padding is kept
    assert lang.join_cjk([("形状 ", False), ("(2, 3)", True)]) == "形状 (2, 3)"


@pytest.mark.parametrize("what", ["x", "你算出的 W 的梯度", "梯度"])
def test_untranslate_reads_chinese_with_or_without_the_space(zh, what):
    printed = tr("{what} is None — did you forget to return?", lang="zh", what=what)
    english = T.untranslate(printed, "zh")
    assert english.endswith(" is None — did you forget to return?")
    assert T.untranslate(printed.replace("是 None", " 是 None") if " 是" not in printed else printed,
                         "zh") == english


# --------------------------------------------------------------------------- display width
def test_width_counts_wide_characters_twice_and_combining_marks_not_at_all():
    assert lang.width("node") == 4
    assert lang.width("节点") == 4                    # two columns per Chinese character
    assert lang.width("形状：") == 6                  # the full-width colon too
    assert lang.width("x̄") == 1                       # x + a combining macron
    assert lang.width("") == 0


@pytest.mark.parametrize("align, expected", [("<", "节点  |"), (">", "  节点|"), ("^", " 节点 |")])
def test_pad_fills_display_columns(align, expected):
    assert lang.pad("节点", 6, align) + "|" == expected
    assert lang.width(lang.pad("节点", 6, align)) == 6


def test_pad_leaves_a_text_already_as_wide_and_refuses_an_unknown_alignment():
    assert lang.pad("反向传播", 5) == "反向传播"
    with pytest.raises(ValueError, match="align"):
        lang.pad("x", 3, "=")


def test_tr_pads_text_fields_by_display_width(monkeypatch):
    monkeypatch.setitem(lang._tables, "zh", {"{what:8}|{n:>4}": "{what:8}|{n:>4}",
                                              "{what:>6s}|": "{what:>6s}|"})
    assert tr("{what:8}|{n:>4}", lang="zh", what="梯度", n=3) == "梯度    |   3"
    assert tr("{what:>6s}|", lang="zh", what="节点") == "  节点|"
    lines = [tr("{what:8}|{n:>4}", lang="zh", what=w, n=1) for w in ("梯度", "grad", "x̄")]
    assert len({lang.width(line) for line in lines}) == 1          # the bars line up


# --------------------------------------------------------------------------- separators
def test_labelled_joins_a_label_as_each_language_writes_it():
    assert lang.labelled("shape", "[2, 3]", lang="en") == "shape: [2, 3]"
    assert lang.labelled("formă", "[2, 3]", lang="ro") == "formă: [2, 3]"
    assert lang.labelled("forme", "[2, 3]", lang="fr") == "forme\u00a0: [2, 3]"
    assert lang.labelled("形状", "[2, 3]", lang="zh") == "形状：[2, 3]"


def test_labelled_follows_the_current_language(fr, restore_language):
    set_language("fr")
    assert lang.labelled("x") == "x\u00a0: "


# --------------------------------------------------------------------------- plurals
@pytest.mark.parametrize("lang_, counts", [
    ("en", {"one": [1], "other": [0, 2, 20, 101]}),
    ("fr", {"one": [0, 1], "other": [2, 20, 85, 1000]}),
    ("ro", {"one": [1], "few": [0, 2, 19, 101, 119], "other": [20, 85, 100, 120, 7642]}),
    ("zh", {"other": [0, 1, 2, 85]}),
])
def test_plural_category_follows_each_languages_rule(lang_, counts):
    for category, ns in counts.items():
        assert category in lang.PLURAL_FORMS[lang_]
        for n in ns:
            assert lang.plural_category(n, lang_) == category, (lang_, n)


NODES = {"ro": {"one": "{n} nod", "few": "{n} noduri", "other": "{n} de noduri"},
         "fr": {"one": "{n} nœud", "other": "{n} nœuds"},
         "zh": "{n} 个节点"}


@pytest.fixture
def nodes(monkeypatch):
    for code, forms in NODES.items():
        monkeypatch.setitem(lang._tables, code, {"{n} nodes": forms, "by hand:": "x"})


@pytest.mark.parametrize("lang_, n, expected", [
    ("en", 1, "1 node"), ("en", 0, "0 nodes"), ("en", 85, "85 nodes"),
    ("ro", 1, "1 nod"), ("ro", 3, "3 noduri"), ("ro", 85, "85 de noduri"),
    ("ro", 119, "119 noduri"), ("fr", 0, "0 nœud"), ("fr", 1, "1 nœud"), ("fr", 2, "2 nœuds"),
    ("zh", 1, "1 个节点"), ("zh", 85, "85 个节点"),
])
def test_ntr_picks_the_form_of_the_count(nodes, lang_, n, expected):
    assert lang.ntr("{n} node", "{n} nodes", n=n, lang=lang_) == expected


def test_ntr_names_a_missing_form_and_tr_refuses_a_plural_entry(nodes, monkeypatch):
    monkeypatch.setitem(lang._tables, "ro", {"{n} nodes": {"one": "{n} nod", "few": "{n} noduri"}})
    with pytest.raises(MissingTranslation, match="'other'"):
        lang.ntr("{n} node", "{n} nodes", n=20, lang="ro")
    with pytest.raises(TypeError, match="ntr"):
        tr("{n} nodes", lang="ro", n=2)


def test_strings_and_plurals_find_ntr_calls(tree):
    (tree / "minigrad" / "sub" / "p.py").write_text(
        'ntr("{n} leaf", "{n} leaves", n=k)\n', encoding="utf-8")
    assert "{n} leaves" in T.strings(tree) and "{n} leaf" not in T.strings(tree)
    assert T.plurals(tree) == {"{n} leaves": "{n} leaf"}


@pytest.mark.parametrize("lang_", ["ro", "fr", "zh"])
@pytest.mark.parametrize("n", [0, 1, 3, 20, 85, 101])
def test_untranslate_inverts_ntr_with_english_singular_or_plural(nodes, monkeypatch, lang_, n):
    monkeypatch.setattr(T, "_singulars", lambda: {"{n} nodes": "{n} node"})
    printed = lang.ntr("{n} node", "{n} nodes", n=n, lang=lang_)
    assert T.untranslate(f"a DAG: {printed}.", lang_) == \
        f"a DAG: {lang.ntr('{n} node', '{n} nodes', n=n)}."


@pytest.mark.parametrize("lang_", ["fr", "zh"])
def test_untranslate_turns_the_label_separator_back_into_englishs(nodes, lang_):
    printed = lang.labelled("∂L/∂W", "max |Δ| = 2.2e-16 ✓", lang=lang_)
    assert printed != "∂L/∂W: max |Δ| = 2.2e-16 ✓"
    assert T.untranslate(printed, lang_) == "∂L/∂W: max |Δ| = 2.2e-16 ✓"


def test_the_trace_table_lines_up_in_chinese(monkeypatch):
    """The trace table's columns start at the same screen column on every line, in Chinese as
    in English (its header words are two columns per character)."""
    import minigrad as mg
    from minigrad.trace import trace
    W = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = mg.tensor([1.0, -1.0])
    for code in ("en", "zh"):
        monkeypatch.setitem(lang._current, "lang", code)
        with trace({"W": W}) as t:
            (x @ W).relu().sum().backward()
        lines = t.table().split("\n\n")[0].splitlines()
        head = lines[0]
        # where the "grad in" column starts: after the step and node columns and two spaces
        col = [lang.width(line[:line.index("(")]) for line in lines[1:] if "(" in line]
        words = head.split()
        start = lang.width(head[:head.index(words[2])])
        assert col and set(col) == {start}, (code, lines)


def test_the_operator_table_is_in_the_readers_language(monkeypatch):
    """Families, cases and the words of the formulas go through the table; the words that are
    code (x.shape, approximate='tanh') stay as they are; every such word is a key of strings()."""
    from minigrad.course.catalogue import Verification, catalogue_markdown, table_words, tr_formula
    from minigrad.ops.registry import OPS
    leaky = next(op for op in OPS if op.name == "leaky_relu" and op.variant)
    maxed = next(op for op in OPS if op.name == "max" and op.variant == "whole tensor")
    monkeypatch.setitem(lang._tables, "fr", {
        "operator": "opérateur", "family": "famille", "node": "nœud", "forward": "avant",
        "backward (VJP)": "arrière (VJP)", "verified vs torch": "vérifié",
        "activation": "activation", "reduction": "réduction", "if": "si", "else": "sinon",
        "whole tensor": "tenseur entier", "shared among ties": "partagé entre les ex æquo"})
    monkeypatch.setitem(lang._current, "lang", "fr")
    table = catalogue_markdown([Verification(leaky, True, 0.0), Verification(maxed, True, 0.0)],
                               columns=("operator", "family", "forward", "vjp"))
    assert r"\text{ si } x > 0 \text{ sinon }" in table
    assert "(negative_slope=0.2)" in table                     # a case that is code
    assert "`max` (tenseur entier) | réduction" in table
    assert r"\text{partagé entre les ex æquo}" in table
    assert tr_formula(r"\operatorname{reshape}(\bar y, x.\text{shape})") == \
        r"\operatorname{reshape}(\bar y, x.\text{shape})"
    words = table_words()
    assert {"elementwise", "whole tensor", "if", "shared among ties"} <= set(words)
    assert "shape" not in words and "negative_slope=0.2" not in words
    assert set(words) <= set(T.strings())
