"""The book builds, with zero warnings, and a reader can open it without an internet connection.

Builds the HTML book in its four languages exactly as ``make book`` does
(``_ext/build_book.py``: Jupyter Book 1, warnings as errors, nit-picky references, stored
notebook outputs, no execution) into a temporary directory, then reads the pages it wrote. Also checks that the environment Binder builds for the launch
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

from minigrad.course.lang import LANGUAGES, tr

ROOT = Path(__file__).resolve().parents[1]
SPHINX_LANG = {"en": "en", "ro": "ro", "fr": "fr", "zh": "zh-CN"}
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
def site(tmp_path_factory):
    """Build the four books once for this module, as ``make book`` does; the site's folder."""
    out = tmp_path_factory.mktemp("book")
    cmd = [sys.executable, str(ROOT / "_ext" / "build_book.py"), "--out", str(out), "--",
           "--all", "--warningiserror", "--nitpick", "--keep-going"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, f"the book build failed (warnings count as errors):\n{log}"
    assert "WARNING" not in proc.stdout + proc.stderr, f"the build printed a warning:\n{log}"
    return out / "html"


@pytest.fixture(scope="module")
def html(site):
    """The English book."""
    return site / "en"


@pytest.mark.book
def test_welcome_page_is_the_root(html):
    welcome = html / "chapters" / "en" / "index.html"
    assert welcome.is_file(), f"no welcome page at {welcome.relative_to(html)}"
    text = " ".join(" ".join(_parse(welcome).text).split())
    assert WELCOME_SENTENCE in text, "the welcome page does not state the course's one idea"
    # The English book's front door (en/index.html) leads to the welcome page.
    front = (html / "index.html").read_text(encoding="utf-8")
    assert "chapters/en/index.html" in front, "en/index.html does not lead to the welcome page"


@pytest.mark.book
@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_is_a_whole_book(site, lang):
    """Every page of the English book exists in each language, in that language."""
    book = site / lang
    en_pages = sorted(p.relative_to(site / "en").as_posix().replace("/en/", f"/{lang}/")
                      for p in (site / "en").glob("*/en/*.html"))
    pages = sorted(p.relative_to(book).as_posix() for p in book.glob(f"*/{lang}/*.html"))
    assert pages == en_pages, f"{lang}: pages differ from English's: {set(pages) ^ set(en_pages)}"
    front = (book / "index.html").read_text(encoding="utf-8")
    assert f"chapters/{lang}/index.html" in front, f"{lang}/index.html does not lead to its welcome"
    welcome = (book / "chapters" / lang / "index.html").read_text(encoding="utf-8")
    assert re.search(rf'<html[^>]*\blang="{SPHINX_LANG[lang]}"', welcome), \
        f"{lang}: the pages do not declare their language"
    # the theme's own words and the book's title are in the page's language
    assert tr("Search this book...", lang) in welcome, f"{lang}: the search box is not translated"
    assert tr("minigrad: autograd from the inside", lang) in welcome, f"{lang}: title not translated"
    other = [o for o in LANGUAGES if o != lang]
    assert not any(f"/{o}/" in p for p in pages for o in other)


@pytest.mark.book
def test_the_site_root_offers_every_language(site):
    root = (site / "index.html").read_text(encoding="utf-8")
    for lang in LANGUAGES:
        assert f'href="{lang}/index.html"' in root, f"the site root has no link to {lang}"
        assert (site / lang / "index.html").is_file()


@pytest.mark.book
def test_no_page_loads_a_script_from_the_internet(site):
    html = site
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
