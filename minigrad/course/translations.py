"""Keep the translated notebooks in step with the English ones.

    python -m minigrad.course.translations sync            # ro, fr and zh
    python -m minigrad.course.translations sync ro         # one language
    python -m minigrad.course.translations check           # exit 1 on any drift
    python -m minigrad.course.translations missing ro      # the texts ro.json still lacks

The English notebooks (``chapters/en``, ``solutions/en``) are the source of the code. A
translation, ``chapters/ro/NN_slug.ipynb``, has the same cells in the same order, with the same
cell ids: its markdown cells are translated, its code cells are the English ones, source and
all. The one exception is the *language cell* (tag ``language``), which calls
``set_language("ro")``.

``sync`` rebuilds each translation in the English order: code cells are copied from English
(source, tags; a cell whose code did not change keeps the outputs it printed in its language,
a changed one gets English's until the notebook runs again — ``sync --execute`` does it), markdown cells keep their translation, found by cell id, and a markdown
cell that English gained since is inserted in English with the tag ``untranslated``, for a
translator to find. A cell that English lost is dropped. Links into the English book
(``/en/``) become links into the translation's own language.

``check`` (and ``tests/test_translations.py``) fails when a translation is missing, when its
code cells differ from English, or when a cell is still tagged ``untranslated``.
``exercises/<lang>`` is generated from ``solutions/<lang>`` as for English
(``python -m minigrad.course.exercises.make``).

What the code cells print is translated by ``tr("English text")`` (:mod:`.lang`).
:func:`strings` lists every such text; ``missing <lang>`` prints, as JSON, ``{"text": ""}``
for each one ``minigrad/course/locales/<lang>.json`` lacks (paste it into the table and fill
in the translations; nothing is written, so an empty string never passes for a translation)
and names on stderr the table's keys no text uses any more. :func:`untranslate` maps a
translated output back to English, for comparing a translated notebook's outputs with
English's.
"""
import argparse
import ast
import copy
import functools
import json
import pathlib
import re
import string
import sys

import nbformat

from .lang import DECIMAL_MARKS, LANGUAGES, SEPARATORS, in_formula, is_cjk, table

SOURCES = ("chapters", "solutions")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
LANGUAGE_TAG, UNTRANSLATED_TAG = "language", "untranslated"
_EN_LINK = re.compile(r"(?<=/)en(?=/)")


def language_cell_source(lang):
    return f'from minigrad.course import set_language\nset_language("{lang}")'


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def is_language_cell(cell):
    return cell.cell_type == "code" and LANGUAGE_TAG in tags(cell)


def english_notebooks(root="."):
    root = pathlib.Path(root)
    for folder in SOURCES:
        yield from sorted((root / folder / "en").glob("*.ipynb"))


def translation_path(en_path, lang):
    return en_path.parent.parent / lang / en_path.name


def relink(text, lang):
    """Links into the English book (``../../chapters/en/01_x``) pointed at ``lang``'s."""
    return _EN_LINK.sub(lang, text)


def synced(en_nb, old, lang):
    """The translation of ``en_nb`` in ``lang``, keeping the translated markdown of ``old``."""
    kept = {c.get("id"): c for c in (old.cells if old is not None else [])}
    nb = copy.deepcopy(en_nb)
    if old is not None:
        nb.metadata = copy.deepcopy(old.metadata)
    cells = []
    for cell in en_nb.cells:
        mine = kept.get(cell.get("id"))
        if cell.cell_type == "markdown":
            if mine is not None and mine.cell_type == "markdown":
                cells.append(mine)
            else:
                new = copy.deepcopy(cell)
                new.source = relink(new.source, lang)
                new.metadata.setdefault("tags", []).append(UNTRANSLATED_TAG)
                cells.append(new)
        elif is_language_cell(cell):
            new = copy.deepcopy(cell)
            new.source = language_cell_source(lang)
            cells.append(new)
        else:
            new = copy.deepcopy(cell)
            if mine is not None and mine.cell_type == "code" and mine.source == cell.source:
                # the same code: keep what it printed in this language
                new.outputs = copy.deepcopy(mine.outputs)
                new.execution_count = mine.execution_count
                new.metadata = copy.deepcopy(mine.metadata)          # its run's timings
                if "tags" in cell.metadata:
                    new.metadata["tags"] = list(cell.metadata["tags"])
                else:
                    new.metadata.pop("tags", None)
            cells.append(new)
    nb.cells = cells
    return nb


def problems(en_nb, nb, lang, name="notebook"):
    """What keeps translation ``nb`` from matching the English ``en_nb`` (a list of strings)."""
    out = []
    en_ids = [(c.get("id"), c.cell_type) for c in en_nb.cells]
    ids = [(c.get("id"), c.cell_type) for c in nb.cells]
    if en_ids != ids:
        return [f"{name}: its cells (ids and types) are not English's: run "
                f"`python -m minigrad.course.translations sync {lang}`"]
    for i, (a, b) in enumerate(zip(en_nb.cells, nb.cells)):
        where = f"{name}, cell {i} ({a.get('id')})"
        if a.cell_type == "code":
            if is_language_cell(a) != is_language_cell(b):
                out.append(f"{where}: the language cell must be the same cell in both")
            elif is_language_cell(b):
                if b.source != language_cell_source(lang):
                    out.append(f"{where}: the language cell must be exactly "
                               f"{language_cell_source(lang)!r}")
            elif a.source != b.source:
                out.append(f"{where}: code differs from English (edit English, then sync)")
            elif tags(a) != tags(b):
                out.append(f"{where}: tags {tags(b)} differ from English's {tags(a)}")
        else:
            if UNTRANSLATED_TAG in tags(b):
                out.append(f"{where}: still tagged '{UNTRANSLATED_TAG}' (translate it)")
            elif "/en/" in b.source:
                out.append(f"{where}: links into the English book (/en/)")
    return out


# --------------------------------------------------------------------------- the tr keys
BOOK_STRINGS = (
    # _config.yml's title and author, _toc.yml's part captions (_ext/build_book.py)
    "minigrad: autograd from the inside", "The minigrad course authors",
    "Chapters", "Exercises", "Reference",
    # the search box and the language switcher (_ext/languages.py)
    "Search this book...", "Language",
)
"""Texts the book translates that no ``tr("…")`` call in the package or the notebooks spells
out: the book's title and captions, and the words of its Sphinx extensions in ``_ext/``."""

_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)


def cell_code(source):
    """A code cell's source as Python: IPython magics and shell lines (``%pip …``) become
    ``pass``, keeping their indentation so the surrounding block still parses."""
    return _MAGIC.sub(r"\1pass", source)


def _calls(tree, name, n_literals):
    """The calls named ``name`` in an ``ast`` tree whose first ``n_literals`` arguments are
    string literals: a list of those strings per call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) < n_literals:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else None
        first = node.args[:n_literals]
        if called == name and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                  for a in first):
            yield [a.value for a in first]


def tr_keys(tree):
    """The table keys an ``ast`` tree asks for: the string-literal first argument of every
    call named ``tr``, and the plural (second) argument of every ``ntr(singular, plural, …)``."""
    for (text,) in _calls(tree, "tr", 1):
        yield text
    for _, plural in _calls(tree, "ntr", 2):
        yield plural


def plural_keys(tree):
    """``{plural: singular}`` of the ``ntr(singular, plural, …)`` calls of an ``ast`` tree."""
    return {plural: one for one, plural in _calls(tree, "ntr", 2)}


def _trees(root):
    """The ``ast`` of every module of the package and of every code cell of the English
    notebooks under ``root``."""
    root = pathlib.Path(root)
    for path in sorted((root / "minigrad").rglob("*.py")):
        yield ast.parse(path.read_text(encoding="utf-8"), str(path))
    for path in english_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                yield ast.parse(cell_code(cell.source))
            except SyntaxError as e:
                raise ValueError(f"{path}: code cell {i} ({cell.get('id')}) does not parse: "
                                 f"{e.msg}, line {e.lineno}") from None


def strings(root="."):
    """Every text the course translates, sorted: the first argument of each ``tr("…")`` (and
    the plural of each ``ntr``) in the package (``minigrad/**/*.py``) and in the code cells of
    the English notebooks, every exercise's title and goal, the words of the operator table
    (:func:`~minigrad.course.catalogue.table_words`) and :data:`BOOK_STRINGS`."""
    keys = set(BOOK_STRINGS)
    for tree in _trees(root):
        keys.update(tr_keys(tree))
    from .exercises import TASKS
    for task in TASKS.values():
        keys.update((task.title, task.goal))
    from .catalogue import table_words
    keys.update(table_words())
    return sorted(keys)


def plurals(root="."):
    """``{plural: singular}`` of every ``ntr`` text of the package and the English notebooks."""
    out = {}
    for tree in _trees(root):
        out.update(plural_keys(tree))
    return out


_ROOT = pathlib.Path(__file__).resolve().parents[2]


@functools.cache
def _singulars():
    """:func:`plurals` of this repository, read once."""
    return plurals(_ROOT)


def missing(lang, root="."):
    """``(missing, unused)`` for ``lang``'s table: the keys of :func:`strings` it lacks, and
    the keys it has that no longer exist, both sorted."""
    keys, have = set(strings(root)), table(lang)
    return sorted(keys - set(have)), sorted(set(have) - keys)


# --------------------------------------------------------------------------- back to English
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _literal(text):
    """A regex for the literal ``text``; at a Latin letter on either end it must not sit
    inside a longer word (so "pas" is not found in "passe")."""
    pattern = re.escape(text)
    if text and _LATIN.match(text[0]):
        pattern = r"(?<![A-Za-z\u00c0-\u024f])" + pattern
    if text and _LATIN.match(text[-1]):
        pattern += r"(?![A-Za-z\u00c0-\u024f])"
    return pattern


def _parts(template):
    """``[(literal, field name or None), …]`` of a format string."""
    return [(lit, name) for lit, name, _, _ in string.Formatter().parse(template)]


def _template(value):
    """The parts of a table value that has ``{fields}``; None for a plain text, which ``tr``
    prints as it is (a brace in it is only a brace)."""
    try:
        parts = _parts(value)
    except ValueError:
        return None
    return parts if any(name is not None for _, name in parts) else None


_NUMBER = r"\s*(?:[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?(?:\u202f?%)?|[-+]?(?:nan|inf))"


def _template_regex(translated, counts=(), to_the_end=(), cjk=False):
    """A regex matching the output of the format string ``translated``, one group per field
    (a field used twice must capture the same text twice). A field's text is looked for
    within one line, as little of it as the template allows; a field that ends the template
    and is named in ``to_the_end`` (English writes words after it) takes the rest of the line;
    a field named in ``counts`` (the ``{n}`` of a plural form) holds a whole number only, and
    a field with a number's format (``{loss:.4f}``) a number only. With ``cjk`` (Chinese), the
    space between a field and a Chinese character beside it may be missing, as
    :func:`~minigrad.course.lang.join_cjk` leaves it out when the field is Chinese too."""
    out, groups = [], {}
    parts = _parts(translated)
    numeric = {name for _, name, spec, _ in string.Formatter().parse(translated)
               if name is not None and spec and spec[-1] in "eEfFgGn%"}
    for k, (lit, name) in enumerate(parts):
        text = re.escape(lit)
        if cjk and k and parts[k - 1][1] is not None and lit[:1] == " " and is_cjk(lit[1:2] or " "):
            text = "(?: )?" + re.escape(lit[1:])
        if cjk and name is not None and lit[-1:] == " " and len(lit) > 1 and is_cjk(lit[-2]):
            text = text[:-2] + "(?: )?" if text.endswith("\\ ") else text
        out.append(text)
        if name is None:
            continue
        if name in groups:
            out.append(f"(?P={groups[name]})")
        else:
            groups[name] = f"f{len(groups)}"
            last = k == len(parts) - 1
            text = r"\s*\d+" if name in counts else _NUMBER if name in numeric \
                else ".*" if last and name in to_the_end else ".*?"
            out.append(f"(?P<{groups[name]}>{text})")
    return re.compile("".join(out)), groups


def _prose_numbers(template):
    """The fields of ``template`` that may hold a number ``tr`` wrote with the language's
    decimal mark: a field with a number's format, or none, and not in a formula
    (:func:`~minigrad.course.lang.in_formula`)."""
    return {name for lit, name, spec, _ in string.Formatter().parse(template)
            if name is not None and not in_formula(lit) and (not spec or spec[-1] in "eEfFgGn%")}


def _point(text):
    """A number written with a decimal comma (and a French percentage) back in code's form."""
    return re.sub(r"(?<=\d)\u202f%", "%", re.sub(r"(?<=\d),(?=\d)", ".", text))


def untranslate(text, lang):
    """``text``, printed in ``lang``, mapped back to English: each value of ``lang``'s table
    is replaced by its key, longest values first; a value with ``{fields}`` is found with a
    regex (its literal parts, any text in each field) and replaced by the English template
    with the captured texts. English text put in is not looked at again, so a short value
    cannot match inside it. ``untranslate(tr(key, lang=lang, **f), lang) == tr(key, **f)``
    when the field values are themselves untranslated text. Each plural form of an ``ntr``
    text becomes English's singular when its ``{n}`` is 1, the plural otherwise; what is
    left of the language's label separator (:data:`~minigrad.course.lang.SEPARATORS`)
    becomes English's ``": "``; a number a field wrote with the language's decimal mark
    (:func:`~minigrad.course.lang.decimal`) gets its point back."""
    if lang == "en":
        return text
    singular = _singulars()
    entries = []
    for key, forms in table(lang).items():
        for value in (forms.values() if isinstance(forms, dict) else (forms,)):
            parts = _template(value)
            literal = value if parts is None else "".join(lit for lit, _ in parts)
            if literal.strip():
                entries.append((len(literal), key, value, parts))
    done = []                                       # English pieces, kept out of later passes

    def keep(english):
        done.append(english)
        return f"\ue000{len(done) - 1}\ue001"

    for _, key, value, parts in sorted(entries, key=lambda e: (-e[0], e[1])):
        if parts is None:
            text = re.sub(_literal(value), lambda m, k=key: keep(k), text)
            continue
        if not all(lit.strip(" ") in text for lit, _ in parts):
            continue                                # cheap: most templates are not there
        key_parts = _parts(key)
        followed = {name for (_, name), (lit, _) in zip(key_parts, key_parts[1:]) if lit}
        regex, groups = _template_regex(value, counts=("n",) if key in singular else (),
                                        to_the_end=followed, cjk=lang == "zh")
        numbers = _prose_numbers(value) if DECIMAL_MARKS[lang] != "." or lang == "fr" else set()

        def english(m, key=key, groups=groups, numbers=numbers):
            out = []
            if key in singular and "n" in groups and m.group(groups["n"]).strip() == "1":
                key = singular[key]
            for lit, name in _parts(key):
                out.append(keep(lit) if lit else "")
                if name is not None:
                    if name not in groups:
                        out.append(keep(f"{{{name}}}"))
                    else:
                        field = m.group(groups[name])
                        out.append(_point(field) if name in numbers else field)
            return "".join(out)
        text = regex.sub(english, text)
    if SEPARATORS[lang] != SEPARATORS["en"]:
        text = text.replace(SEPARATORS[lang], SEPARATORS["en"])
    return re.sub("\ue000(\\d+)\ue001", lambda m: done[int(m.group(1))], text)


def execute(path):
    """Run the notebook at ``path`` in place, as nbval will (from the repository root), without
    storing widget state: the book shows each widget's static figure and must not fetch the
    widgets' JavaScript."""
    import subprocess
    path = pathlib.Path(path).resolve()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--inplace", "--ExecutePreprocessor.store_widget_state=False", str(path)],
                   check=True, cwd=path.parent.parent.parent)


def _print_missing(languages, root):
    """``missing``: one JSON object of the missing texts per language on stdout (keys sorted),
    the unused keys on stderr; exit status 1 when anything is missing or unused."""
    status = 0
    for lang in languages:
        if lang not in TRANSLATED:
            print(f"missing: {lang!r} is not one of {', '.join(TRANSLATED)}", file=sys.stderr)
            return 2
        lacking, unused = missing(lang, root)
        print(json.dumps({key: "" for key in lacking}, ensure_ascii=False, indent=2))
        for key in unused:
            print(f"unused in {lang}.json: {key!r}", file=sys.stderr)
        status |= bool(lacking or unused)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("sync", "check", "missing"))
    parser.add_argument("languages", nargs="*", default=list(TRANSLATED))
    parser.add_argument("--execute", action="store_true",
                        help="sync: run every translation whose code changed")
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    args = parser.parse_args(argv)
    if args.command == "missing":
        return _print_missing(args.languages, args.root)
    bad = []
    for en_path in english_notebooks(args.root):
        en_nb = nbformat.read(en_path, as_version=4)
        for lang in args.languages:
            path = translation_path(en_path, lang)
            old = nbformat.read(path, as_version=4) if path.exists() else None
            if args.command == "check":
                found = (problems(en_nb, old, lang, str(path)) if old is not None
                         else [f"{path}: missing"])
                bad += found
                continue
            new = synced(en_nb, old, lang)
            if old is not None and nbformat.writes(new) == nbformat.writes(old):
                continue
            code_changed = old is None or [c.source for c in old.cells if c.cell_type == "code"] \
                != [c.source for c in new.cells if c.cell_type == "code"]
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(new, path)
            print(f"wrote {path}")
            if args.execute and code_changed:
                execute(path)
                print(f"executed {path}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
