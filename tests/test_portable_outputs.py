"""Stored notebook outputs that hold on any machine.

A numeric check prints the measured difference, its bound and the verdict
(``max |Δ| = 2.8e-17 ≤ 1e-12 ✓``, :func:`minigrad.course.compare.verdict`). The measured figure
depends on round-off: the BLAS kernel, the CPU's vector unit, the number of threads. nbval
compares outputs after the patterns of ``tests/nbval_sanitize.cfg`` are applied, and the
"measured differences" pattern replaces exactly that figure, so what nbval compares is the
bound and the verdict. These tests hold the two halves together: the printed form, the
pattern, and every stored output of the book (any figure on a check line is one the pattern
replaces; no cell shows a bare float of round-off size or of full precision).
"""
import configparser
import math
import pathlib
import re

import nbformat
import numpy as np
import pytest

from minigrad.course import compare, verdict
from minigrad.course.compare import CheckFailed

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for d in ("chapters", "solutions") for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
SCIENTIFIC = re.compile(r"(?<![\w.])-?\d\.\d+e[+-]\d+")
# A bare float as a cell's whole output line: round-off size, or more digits than a reader needs.
BARE_FLOAT = re.compile(r"^\s*-?(\d\.\d+e[+-]\d+|\d+\.\d{7,})\s*$")


def sanitizers():
    """The (regex, replacement) pairs of tests/nbval_sanitize.cfg, as nbval reads them."""
    text = (ROOT / "tests" / "nbval_sanitize.cfg").read_text(encoding="utf-8")
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)


def sanitize(text):
    for regex, replace in sanitizers():
        text = re.sub(regex, replace, text)
    return text


def output_lines(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                yield i, line


# ---------------------------------------------------------------------- the printed form
@pytest.mark.parametrize("diff, tol, differs, expected", [
    (2.8e-17, 1e-12, False, "2.8e-17 ≤ 1e-12 ✓"),
    (0.0, 0.0, False, "0.0e+00 ≤ 0e+00 ✓"),
    (3e-12, 1e-12, False, "3.0e-12 > 1e-12 ✗"),
    (2.0, 0.1, True, "2.0e+00 > 1e-01 ✓"),
    (1e-16, 0.1, True, "1.0e-16 ≤ 1e-01 ✗"),
    (math.nan, 1e-12, False, "nan > 1e-12 ✗"),
    (math.inf, 1e-12, False, "inf > 1e-12 ✗"),
])
def test_verdict_prints_figure_bound_and_verdict(diff, tol, differs, expected):
    assert verdict(diff, tol, differs) == expected


def test_compare_prints_the_verdict_and_raises_on_a_failed_check(capsys):
    a = np.array([1.0, 2.0])
    assert compare("x", a, a + [0.0, 3e-13]) == pytest.approx(3e-13)
    assert capsys.readouterr().out == "x: max |Δ| = 3.0e-13 ≤ 1e-12 ✓\n"
    with pytest.raises(CheckFailed, match="exceeds the tolerance"):
        compare("x", a, a + 1e-9)
    assert capsys.readouterr().out.endswith("> 1e-12 ✗\n")
    compare("off", a, a + 1.0, tol=0.1, differs=True)
    assert capsys.readouterr().out == "off: max |Δ| = 1.0e+00 > 1e-01 ✓\n"
    with pytest.raises(CheckFailed, match="is not above the tolerance"):
        compare("off", a, a, tol=0.1, differs=True)
    with pytest.raises(CheckFailed, match="NaN|nan|exceeds"):
        compare("x", a, [np.nan, 2.0])


# ------------------------------------------------------------------------ the sanitizer
def test_sanitizer_keeps_bound_and_verdict_and_drops_only_the_figure():
    same = ["∂L/∂W: max |Δ| = 0.0e+00 ≤ 1e-12 ✓", "∂L/∂W: max |Δ| = 2.8e-17 ≤ 1e-12 ✓"]
    assert sanitize(same[0]) == sanitize(same[1]) == "∂L/∂W: max |Δ| = Δ ≤ 1e-12 ✓"
    table = ["blocks.0.attn.W_q.weight  (16, 16)  3.9e-18 ≤ 1e-12 ✓",
             "blocks.0.attn.W_q.weight  (16, 16)  1.0e-17 ≤ 1e-12 ✓"]
    assert sanitize(table[0]) == sanitize(table[1])
    # What a reader relies on still differs after sanitizing: the bound, the verdict, the
    # label, the shape, and a figure that is not a check's.
    for a, b in [("x: max |Δ| = 1.0e-16 ≤ 1e-12 ✓", "x: max |Δ| = 1.0e-16 ≤ 1e-10 ✓"),
                 ("x: max |Δ| = 1.0e-16 ≤ 1e-12 ✓", "x: max |Δ| = 1.0e-11 > 1e-12 ✗"),
                 ("x: max |Δ| = 2.0e+00 > 1e-01 ✓", "x: max |Δ| = 1.0e-16 ≤ 1e-01 ✗"),
                 ("x (2, 3): max |Δ| = 1.0e-16 ≤ 1e-12 ✓", "x (3, 2): max |Δ| = 1.0e-16 ≤ 1e-12 ✓"),
                 ("eps = 1e-06: x̄ = [9.9e+05, 1]", "eps = 1e-06: x̄ = [9.8e+05, 1]")]:
        assert sanitize(a) != sanitize(b), (a, b)


# ----------------------------------------------------------------- every stored output
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_print_checks_in_the_portable_form(path):
    """A check line (✓ or ✗) carries its measured figure only in front of its bound, where
    the sanitizer replaces it; a cell never shows a bare float (a forgotten ``_ =`` in front
    of a last-line ``compare(...)`` shows its return value, round-off and all)."""
    nb = nbformat.read(path, as_version=4)
    bad = []
    for i, line in output_lines(nb):
        if ("✓" in line or "✗" in line) and SCIENTIFIC.search(sanitize(line)):
            bad.append((i, line))
        elif BARE_FLOAT.match(line):
            bad.append((i, line))
    assert not bad, "outputs that depend on round-off (cell index, line): " + repr(bad[:10])
