"""The book builds, with zero warnings, and a reader can open it without an internet connection.

Builds the HTML book exactly as ``make book`` does (Jupyter Book 1, warnings as errors,
nit-picky references, stored notebook outputs, no execution) into a temporary directory, then
reads the pages it wrote. Also checks that the environment Binder builds for the launch
buttons pins the same versions as pyproject.toml.

Run the build tests alone with::

    python -m pytest -m book
"""
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import tomllib

import pytest

ROOT = Path(__file__).resolve().parents[1]
WELCOME_SENTENCE = "The tensor that comes out remembers who made it."


def _jupyter_book():
    """The jupyter-book command of the environment running the tests."""
    beside = Path(sys.executable).with_name("jupyter-book")
    if beside.exists():
        return str(beside)
    found = shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed in this environment: run `make install`")
    return found


class _Page(HTMLParser):
    """Collects the script tags (their src, if any) and the visible text of one HTML page."""

    def __init__(self):
        super().__init__()
        self.script_srcs = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            src = dict(attrs).get("src")
            if src is not None:
                self.script_srcs.append(src)

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _is_remote(url):
    """True for http://, https:// and protocol-relative //host/ addresses."""
    parts = urlsplit(url)
    return bool(parts.scheme) or bool(parts.netloc)


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """Build the book once for this module; return the directory of the HTML pages."""
    out = tmp_path_factory.mktemp("book")
    cmd = [_jupyter_book(), "build", str(ROOT), "--path-output", str(out),
           "--all", "--warningiserror", "--nitpick", "--keep-going"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, f"the book build failed (warnings count as errors):\n{log}"
    assert "WARNING" not in proc.stdout + proc.stderr, f"the build printed a warning:\n{log}"
    return out / "_build" / "html"


@pytest.mark.book
def test_welcome_page_is_the_root(html):
    welcome = html / "chapters" / "en" / "index.html"
    assert welcome.is_file(), f"no welcome page at {welcome.relative_to(html)}"
    text = " ".join(" ".join(_parse(welcome).text).split())
    assert WELCOME_SENTENCE in text, "the welcome page does not state the course's one idea"
    # The book's front door (index.html) leads to the welcome page.
    front = (html / "index.html").read_text(encoding="utf-8")
    assert "chapters/en/index.html" in front, "index.html does not lead to the welcome page"


@pytest.mark.book
def test_mathjax_is_served_from_the_book_itself(html):
    welcome = html / "chapters" / "en" / "index.html"
    assert 'class="math' in welcome.read_text(encoding="utf-8"), \
        "the welcome page has no formula, so this test would not see MathJax being loaded"
    mathjax = [src for src in _parse(welcome).script_srcs if "mathjax" in src.lower()]
    assert len(mathjax) == 1, f"expected one MathJax script tag, found {mathjax}"
    src = mathjax[0]
    assert not _is_remote(src), f"MathJax is loaded from the internet: {src}"
    local = (welcome.parent / urlsplit(src).path).resolve()
    assert local.is_file(), f"the MathJax script tag points at {src}, which was not copied"
    # MathJax's CommonHTML output loads its fonts relative to its own script.
    fonts = local.parent / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), f"no MathJax fonts in {fonts.relative_to(html)}"


@pytest.mark.book
def test_no_page_loads_a_script_from_the_internet(html):
    pages = sorted(html.rglob("*.html"))
    assert pages, "the build wrote no HTML pages"
    remote = {str(p.relative_to(html)): [s for s in _parse(p).script_srcs if _is_remote(s)]
              for p in pages}
    remote = {page: srcs for page, srcs in remote.items() if srcs}
    assert not remote, f"pages that load scripts from the internet: {remote}"


def _pins(lines):
    """{name: version} of the `name==version` lines; torch's local label (+cpu) dropped."""
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;+]+)(\+\w+)?\s*", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_binder_pins_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["course"])
    binder = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pinned = _pins(line for line in binder if not line.lstrip().startswith(("#", "-")))
    assert "torch" in wanted and "numpy" in wanted, f"unexpected pyproject pins: {wanted}"
    assert pinned == wanted, (
        "binder/requirements.txt must pin exactly the runtime and [course] packages of "
        f"pyproject.toml:\n  binder:    {pinned}\n  pyproject: {wanted}")
    index = [line.split() for line in binder if line.startswith("--extra-index-url")]
    assert index == [["--extra-index-url", "https://download.pytorch.org/whl/cpu"]], \
        "binder/requirements.txt must take torch from the CPU index (no CUDA packages)"
