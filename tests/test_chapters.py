"""What every chapter notebook promises, read from the stored notebooks.

nbval (``make test``) re-runs each chapter and compares every output; these tests check the
book's own rules on what is stored: each chapter sets its answers beside torch's and prints
no failing check, cells stay short, outputs are stored, and nothing names this machine.
"""
import json
import pathlib
import re

import pytest

from minigrad.course.lang import LANGUAGES

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The chapters of every language (chapters/<lang>/NN_slug.ipynb): the same rules hold for all.
CHAPTERS = sorted((ROOT / "chapters").glob("*/[0-9][0-9]_*.ipynb"))
MAX_CELL_LINES = 20


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def printed(cell):
    """All text a code cell printed or displayed."""
    out = []
    for o in cell.get("outputs", []):
        out.append("".join(o.get("text", "")))
        for kind in ("text/plain", "text/markdown", "text/html"):
            out.append("".join(o.get("data", {}).get(kind, "")))
    return "\n".join(out)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_there_are_twelve_chapters(lang):
    found = [p.name[:2] for p in CHAPTERS if p.parent.name == lang]
    assert found == [f"{i:02d}" for i in range(1, 13)], f"chapters/{lang}: {found}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_checks_against_torch_and_never_fails(path):
    nb = load(path)
    text = "\n".join(printed(c) for c in code_cells(nb))
    sources = "\n".join("".join(c["source"]) for c in code_cells(nb))
    assert "import torch" in sources, f"{path.name} never uses torch"
    assert re.search(r"max \|Δ\| = \S+ [≤>] \S+ ✓", text), f"{path.name} prints no check"
    assert "✗" not in text, f"{path.name} stores a failing check"
    errors = [o for c in code_cells(nb) for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert not errors, f"{path.name} stores an uncaught error: {errors[0]['ename']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_is_stored_executed_with_short_cells(path):
    nb = load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# ")
    for i, cell in enumerate(code_cells(nb)):
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) <= MAX_CELL_LINES, (
            f"{path.name}: code cell {i} has {len(lines)} lines; longer helpers belong in "
            f"minigrad/course/")
        if "colab-install" in cell.get("metadata", {}).get("tags", []):
            continue
        assert cell.get("execution_count") is not None, f"{path.name}: cell {i} never ran"
    stderr = [o for c in code_cells(nb) for o in c.get("outputs", [])
              if o.get("name") == "stderr"]
    assert not stderr, f"{path.name} stores warnings: {stderr[0]['text'][:200]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_names_no_machine_path(path):
    raw = path.read_text(encoding="utf-8")
    for pattern in ("/work/", "/root/", "/tmp/", "/home/", "site-packages"):
        assert pattern not in raw, f"{path.name} contains {pattern!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_has_the_colab_install_cell(path):
    cells = code_cells(load(path))
    first = "".join(cells[0]["source"])
    assert "except ImportError:" in first and "%pip install" in first


NOTEBOOKS = sorted((ROOT / "chapters").glob("*/*.ipynb")) + \
    sorted((ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}")
def test_markdown_has_no_control_characters(path):
    """A LaTeX command written in a non-raw Python string loses its backslash: "\\bar" becomes
    a backspace and "\\top" a tab, and MathJax then fails on the page."""
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "markdown":
            bad = [ch for ch in "".join(cell["source"]) if ord(ch) < 32 and ch != "\n"]
            assert not bad, f"{path.name}: markdown cell {i} contains {bad[:3]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}")
def test_no_widget_state_is_stored(path):
    """A notebook executed with widget state stored makes the book load the widgets'
    JavaScript from the internet; the book shows each widget's static figure instead. Execute
    with ``--ExecutePreprocessor.store_widget_state=False`` (as
    ``python -m minigrad.course.translations sync --execute`` does)."""
    assert "widgets" not in load(path).get("metadata", {}), \
        f"{path.name} stores widget state in its metadata"
