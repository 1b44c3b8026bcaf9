"""The rendered book in a real browser (headless Chromium driven by Playwright).

Every page of the built book (``make book`` writes ``_build/html``) is opened from a local
web server and must: load every image and local asset, typeset its math with the bundled
MathJax, ask nothing of the internet, and log no console error. A full-page screenshot of
each page is written to ``_build/screenshots/`` for a person to look at.

``make test`` builds the book first. Chromium comes from Debian's ``chromium`` package
(``make browser`` installs it when it is missing).
"""
import functools
import http.server
import pathlib
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def book_pages():
    """The pages the table of contents promises: the root and every chapter notebook/page."""
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                pages.append(e["file"])
            if "glob" in e:
                pages.extend(sorted(str(p.with_suffix("").relative_to(ROOT)).replace("\\", "/")
                                    for p in ROOT.glob(e["glob"])
                                    if p.suffix in (".md", ".ipynb")))
            walk(e.get("sections"))
            for part in e.get("parts", []) if isinstance(e, dict) else []:
                walk(part.get("chapters"))
    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return pages


PAGES = book_pages()


def test_the_toc_lists_pages():
    assert PAGES and PAGES[0].endswith("index"), PAGES


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (make test does it first)")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed: run `make browser` (Debian's chromium package)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders(browser, server, page_name):
    html = HTML / f"{page_name}.html"
    assert html.exists(), f"{page_name}.html was not built"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside, failed = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((server, "data:", "blob:", "about:")) else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    response = page.goto(f"{server}/{page_name}.html", wait_until="networkidle")
    assert response.ok, f"{page_name}: HTTP {response.status}"

    has_math = page.evaluate(
        "document.querySelectorAll('.math, div.math, span.math').length") > 0
    if has_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=20000)
        typeset = page.evaluate("MathJax.startup.promise.then("
                                "() => document.querySelectorAll('mjx-container').length)")
        assert typeset > 0, f"{page_name}: math on the page was not typeset by MathJax"
        assert page.evaluate("document.querySelectorAll('mjx-merror').length") == 0, \
            f"{page_name}: MathJax reported an error in a formula"

    broken = page.evaluate("Array.from(document.images)"
                           ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    assert not broken, f"{page_name}: images that did not load: {broken}"
    assert not failed, f"{page_name}: requests that failed: {failed}"
    assert not outside, f"{page_name}: the page asked the internet for {outside}"
    assert not errors, f"{page_name}: console errors: {errors}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (page_name.replace("/", "__") + ".png")), full_page=True)
    page.close()
