"""The rendered book in a real browser (headless Chromium driven by Playwright).

Every page of the built book, in each of its four languages (``make book`` writes
``_build/html/<lang>/``), is opened from a local web server and must: load every image and
local asset, typeset its math with the bundled MathJax, ask nothing of the internet, log no
console error, and carry a language switcher whose links open the same page in each other
language. Every figure's text is drawn with glyphs of a real font (no missing-glyph boxes), and
in the Chinese book, every figure text that holds Chinese characters is drawn with a CJK font
(figures are SVG: each text is a comment followed by the glyphs it was drawn with, named after
their font). Every page also fits the window at a phone's width (390 px) and a desktop's (1280
px): nothing sticks out of its column but code blocks, tables and formulas that scroll in their
own box, the header's items sit side by side, and at desktop width no display formula needs
scrolling sideways. A full-page screenshot of each page is written to ``_build/screenshots/``.

``make test`` builds the book first. Chromium comes from Debian's ``chromium`` package
(``make browser`` installs it when it is missing).
"""
import functools
import http.server
import pathlib
import re
import shutil
import threading

import pytest

from minigrad.course.lang import CJK_FONTS, LANGUAGES

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def book_pages():
    """The pages the English table of contents promises: the root and every page it lists."""
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


def in_language(page, lang):
    """An English page name (``chapters/en/01_x``) as the page of ``lang``'s book."""
    return page.replace("/en/", f"/{lang}/", 1)


EN_PAGES = book_pages()
# Every page of every language, as its path under _build/html without ".html".
PAGES = [f"{lang}/{in_language(page, lang)}" for lang in LANGUAGES for page in EN_PAGES]
CJK = re.compile(r"[\u3400-\u9fff]")
CJK_FONT_IDS = tuple(name.replace(" ", "") for name in CJK_FONTS)


def test_the_toc_lists_pages():
    assert EN_PAGES and EN_PAGES[0].endswith("index"), EN_PAGES
    for lang in LANGUAGES:
        for page in EN_PAGES:
            assert list(ROOT.glob(in_language(page, lang) + ".*")), \
                f"{in_language(page, lang)} is missing: every page exists in every language"


@pytest.fixture(scope="module")
def server():
    if not (HTML / "en" / "index.html").exists():
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


def figure_texts(svg):
    """(text, [glyph ids]) for every text matplotlib drew in an SVG figure."""
    out = []
    for m in re.finditer(r'<g id="text_\d+">\s*<!--(.*?)-->(.*?)</g>\s*</g>', svg, re.S):
        glyphs = re.findall(r'(?:xlink:)?href="#([^"]+)"', m.group(2))
        out.append((m.group(1).strip(), glyphs))
    return out


def page_figures(page):
    """The SVG source of every figure on the page: <img> files and inline <svg> elements."""
    svgs = page.evaluate("""async () => {
        const out = [];
        for (const img of document.images) {
            if (img.src.split('?')[0].endsWith('.svg')) out.push(await (await fetch(img.src)).text());
        }
        for (const s of document.querySelectorAll('svg')) out.push(s.outerHTML);
        return out;
    }""")
    return [s for s in svgs if "<!--" in s]


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

    lang, name = page_name.split("/", 1)
    switcher = page.evaluate("Array.from(document.querySelectorAll('a.course-language'))"
                             ".map(a => [a.hreflang, a.href, a.classList.contains('current')])")
    assert sorted(h for h, _, _ in switcher) == sorted(LANGUAGES), \
        f"{page_name}: the language switcher offers {switcher}"
    for other, href, current in switcher:
        assert current == (other == lang), f"{page_name}: wrong current language in {switcher}"
        want = f"{server}/{other}/{name.replace(f'/{lang}/', f'/{other}/', 1)}.html"
        assert href == want, f"{page_name}: the {other} link goes to {href}, not {want}"
        assert page.request.get(href).ok, f"{page_name}: the {other} link {href} does not resolve"

    for svg in page_figures(page):
        for text, glyphs in figure_texts(svg):
            assert not any(g.endswith("-0") for g in glyphs), \
                f"{page_name}: figure text {text!r} has a missing-glyph box"
            assert lang == "zh" or not CJK.search(text), \
                f"{page_name}: Chinese text {text!r} in a {lang} figure"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (page_name.replace("/", "__") + ".png")), full_page=True)
    page.close()


def test_chinese_figure_text_is_drawn_with_a_cjk_font(browser, server):
    """Every text with Chinese characters in a figure of the Chinese book is drawn with glyphs
    of a CJK font, one at least per Chinese character; and there is such text to check."""
    seen = []
    for page_name in (p for p in PAGES if p.startswith("zh/")):
        page = browser.new_page()
        page.goto(f"{server}/{page_name}.html", wait_until="load")
        for svg in page_figures(page):
            for text, glyphs in figure_texts(svg):
                if not CJK.search(text):
                    continue
                cjk = [g for g in glyphs if g.startswith(CJK_FONT_IDS)]
                assert len(cjk) >= len(CJK.findall(text)), \
                    f"{page_name}: figure text {text!r} is not drawn with a CJK font: {glyphs}"
                seen.append(text)
        page.close()
    assert seen, "no figure of the Chinese book has Chinese text: the check saw nothing"


def test_site_root_picks_a_language(browser, server):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assert page.goto(f"{server}/index.html").ok
    links = page.evaluate("Array.from(document.querySelectorAll('ul.languages a'))"
                          ".map(a => [a.hreflang, a.href])")
    assert sorted(h for h, _ in links) == sorted(LANGUAGES), links
    for lang, href in links:
        page2 = browser.new_page()
        page2.goto(href, wait_until="load")        # a redirect to the book's welcome page
        page2.wait_for_url(f"**/{lang}/chapters/{lang}/index.html", timeout=10000)
        page2.close()
    assert not errors, errors
    page.close()


SEARCH_WORD = {"en": "gradient", "ro": "gradientul", "fr": "gradient", "zh": "梯度"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_finds_pages_of_its_own_language(browser, server, lang):
    """Each book has its own search index, built with its language's word splitting (jieba
    for Chinese): a common word finds pages, all of them in the same book."""
    page = browser.new_page()
    page.goto(f"{server}/{lang}/search.html?q={SEARCH_WORD[lang]}", wait_until="networkidle")
    page.wait_for_function("document.querySelectorAll('ul.search li').length > 0", timeout=20000)
    hits = page.evaluate("Array.from(document.querySelectorAll('ul.search li a'))"
                         ".map(a => a.href)")
    assert len(hits) >= 5, f"{lang}: searching {SEARCH_WORD[lang]!r} found only {hits}"
    assert all(f"/{lang}/" in h for h in hits), f"{lang}: results outside its book: {hits}"
    page.close()


# --------------------------------------------------------------------------- layout
WIDTHS = {"phone": 390, "desktop": 1280}
LAYOUT_JS = """(checkMath) => {
    const out = [];
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (el.classList.length ? '.' + Array.from(el.classList).slice(0, 2).join('.') : '');
    const shown = el => {
        const s = getComputedStyle(el), r = el.getBoundingClientRect();
        return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
    };
    // the nearest ancestor that clips its content (the column an element must fit in)
    const clip = el => {
        for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') return p;
        }
        return null;
    };
    const scrolls = p => ['auto', 'scroll'].includes(getComputedStyle(p).overflowX);
    const offCanvas = el => {            // a drawer the theme slides out of view (the sidebar)
        for (let p = el; p; p = p.parentElement) {
            const s = getComputedStyle(p);
            if ((s.position === 'fixed' || p.tagName === 'DIALOG') && p !== document.body) {
                const r = p.getBoundingClientRect();
                if (r.right <= 0 || r.left >= innerWidth || s.visibility === 'hidden') return true;
            }
        }
        return false;
    };
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1)
        out.push(`the page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
    for (const el of document.querySelectorAll('body *')) {
        // a glyph of a formula may overhang its box by a pixel or two (italics, accents)
        if (el.tagName === 'MJX-C' || !shown(el) || offCanvas(el)
            || el.closest('mjx-assistive-mml, .visually-hidden, .sr-only')) continue;
        const r = el.getBoundingClientRect(), c = clip(el);
        if (c && scrolls(c)) continue;     // a code block, table or formula with its scrollbar
        const box = c ? c.getBoundingClientRect() : {left: 0, right: root.clientWidth};
        if (r.right > box.right + 1 || r.left < box.left - 1)
            out.push(`${name(el)} (${Math.round(r.left)}..${Math.round(r.right)}px) sticks out of `
                     + `${c ? name(c) : 'the window'} (${Math.round(box.left)}..${Math.round(box.right)}px)`);
    }
    // the header's items: side by side, none over another, no short label wrapping
    const items = Array.from(document.querySelectorAll(
        '.bd-header-article .header-article-item a, .bd-header-article .header-article-item button,'
        + ' .bd-header-article .header-article-item label, .bd-header a, .bd-header button'))
        .filter(el => shown(el) && !offCanvas(el));
    for (let i = 0; i < items.length; i++) {
        const a = items[i].getBoundingClientRect();
        const st = getComputedStyle(items[i]);
        const line = parseFloat(st.lineHeight) || 1.2 * parseFloat(st.fontSize);
        if (items[i].matches('a.course-language')
            && a.height - parseFloat(st.paddingTop) - parseFloat(st.paddingBottom) > 1.5 * line)
            out.push(`the language link ${items[i].textContent.trim()} wraps onto two lines`);
        for (let j = i + 1; j < items.length; j++) {
            if (items[i].contains(items[j]) || items[j].contains(items[i])) continue;
            const b = items[j].getBoundingClientRect();
            const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (w > 1 && h > 1)
                out.push(`${name(items[i])} "${items[i].textContent.trim()}" overlaps `
                         + `${name(items[j])} "${items[j].textContent.trim()}"`);
        }
    }
    if (checkMath) {                      // display math read without scrolling sideways
        for (const m of document.querySelectorAll('mjx-container[display="true"]')) {
            const box = m.parentElement.getBoundingClientRect(), r = m.getBoundingClientRect();
            const wide = Math.max(m.scrollWidth - m.clientWidth,
                                  ...Array.from(m.children).map(k => k.getBoundingClientRect().width - box.width));
            if (wide > 1)
                out.push(`display math ${Math.round(wide)}px wider than its column: `
                         + (m.querySelector('mjx-assistive-mml math')?.getAttribute('alttext')
                            || m.textContent).slice(0, 80));
        }
    }
    return Array.from(new Set(out)).slice(0, 20);
}"""


@pytest.mark.parametrize("width", WIDTHS, ids=str)
@pytest.mark.parametrize("page_name", PAGES)
def test_page_fits_the_window(browser, server, page_name, width):
    """At a phone's width (390 px) and a desktop's (1280 px), nothing is wider than the column
    it sits in but code blocks, tables and formulas that scroll inside their own box, the
    header's buttons and language links sit side by side on one line each, and at desktop width
    every display formula fits the column: none needs scrolling sideways to be read."""
    page = browser.new_page(viewport={"width": WIDTHS[width], "height": 900})
    page.goto(f"{server}/{page_name}.html", wait_until="networkidle")
    if page.evaluate("document.querySelectorAll('.math, div.math, span.math').length") > 0:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=20000)
        page.evaluate("MathJax.startup.promise")
    found = page.evaluate(LAYOUT_JS, width == "desktop")
    if found:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{page_name.replace('/', '__')}@{WIDTHS[width]}.png"))
    page.close()
    assert not found, f"{page_name} at {WIDTHS[width]} px:\n  " + "\n  ".join(found)


BAD_LAYOUT = """<html><body style="margin:0">
<div class="bd-header-article"><div class="header-article-item" style="display:flex; width:200px">
  <a class="course-language" style="display:inline-block; width:20px" href="#">中文 中文</a>
  <button style="margin-left:-10px; width:60px">search</button></div></div>
<div style="width:300px; overflow:hidden"><p style="width:500px">a line too wide</p></div>
<div style="width:300px; overflow-x:auto"><pre style="width:800px">code scrolls in its box</pre></div>
<div style="width:300px"><mjx-container display="true" style="display:block; overflow-x:auto">
  <span style="display:inline-block; width:700px">x</span></mjx-container></div>
</body></html>"""


def test_the_layout_check_finds_what_it_looks_for(browser):
    page = browser.new_page(viewport={"width": 390, "height": 600})
    page.set_content(BAD_LAYOUT)
    found = "\n".join(page.evaluate(LAYOUT_JS, True))
    assert "p (0..500px) sticks out of div" in found, found
    assert "pre" not in found, found                     # it scrolls in its own box
    assert "wraps onto two lines" in found and "overlaps" in found, found
    assert "display math" in found and "wider than its column" in found, found
    page.set_content("<html><body><p>fits</p><div style='overflow-x:auto'>"
                     "<pre style='width:900px'>x</pre></div></body></html>")
    assert page.evaluate(LAYOUT_JS, True) == []
    page.close()
