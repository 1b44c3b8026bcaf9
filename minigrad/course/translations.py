"""Keep the translated notebooks in step with the English ones.

    python -m minigrad.course.translations sync            # ro, fr and zh
    python -m minigrad.course.translations sync ro         # one language
    python -m minigrad.course.translations check           # exit 1 on any drift

The English notebooks (``chapters/en``, ``solutions/en``) are the source of the code. A
translation, ``chapters/ro/NN_slug.ipynb``, has the same cells in the same order, with the same
cell ids: its markdown cells are translated, its code cells are the English ones, source and
all. The one exception is the *language cell* (tag ``language``), which calls
``set_language("ro")``.

``sync`` rebuilds each translation in the English order: code cells are copied from English
(with their outputs: execute the notebook again when English code changed — ``sync
--execute`` does it), markdown cells keep their translation, found by cell id, and a markdown
cell that English gained since is inserted in English with the tag ``untranslated``, for a
translator to find. A cell that English lost is dropped. Links into the English book
(``/en/``) become links into the translation's own language.

``check`` (and ``tests/test_translations.py``) fails when a translation is missing, when its
code cells differ from English, or when a cell is still tagged ``untranslated``.
``exercises/<lang>`` is generated from ``solutions/<lang>`` as for English
(``python -m minigrad.course.exercises.make``).
"""
import argparse
import copy
import pathlib
import re
import sys

import nbformat

from .lang import LANGUAGES

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
            cells.append(copy.deepcopy(cell))
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


def _execute(path):
    import subprocess
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--inplace", str(path)], check=True, cwd=path.parent.parent.parent)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("sync", "check"))
    parser.add_argument("languages", nargs="*", default=list(TRANSLATED))
    parser.add_argument("--execute", action="store_true",
                        help="sync: run every translation whose code changed")
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    args = parser.parse_args(argv)
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
                _execute(path)
                print(f"executed {path}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
