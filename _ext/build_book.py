"""Build the book in every language: ``make book`` runs this.

    python _ext/build_book.py                 # all four languages, then the site root
    python _ext/build_book.py en fr           # only these (the site root is written anyway)
    python _ext/build_book.py --out DIR       # into DIR instead of _build (the tests do this)

``_config.yml`` and ``_toc.yml`` describe the English book. For each other language this writes
``_build/config/<lang>/_config.yml`` and ``_toc.yml``: the same book with ``/en/`` replaced by
``/<lang>/`` in every page path, the title and part captions from the language's table
(``minigrad/course/locales/<lang>.json``), Sphinx's ``language`` set (the theme's own words:
"Contents", "Search", "Launch"...), and the other languages' folders excluded. Each language
is built by Jupyter Book into ``_build/lang/<lang>`` and copied to ``_build/html/<lang>/``;
``_build/html/index.html`` lets the reader pick a language. The language switcher on every
page is ``_ext/languages.py``.

Extra arguments after ``--`` go to ``jupyter-book build`` (the Makefile passes
``--warningiserror --nitpick --keep-going --all``). The exit status is non-zero when any
language's build failed; every language is still attempted.
"""
import html
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from minigrad.course.lang import LANGUAGES, NAMES, tr  # noqa: E402

# The language codes Sphinx and sphinx-book-theme know (they have zh_CN, not zh).
SPHINX_LANGUAGE = {"en": "en", "ro": "ro", "fr": "fr", "zh": "zh_CN"}
# Where the book's page files live, one sub-folder per language.
PAGE_FOLDERS = ("chapters", "solutions", "exercises")


def _localise_paths(entries, lang):
    """The toc entries with every ``chapters/en/…`` page path moved to ``chapters/<lang>/…``."""
    out = []
    for e in entries:
        e = dict(e)
        for key in ("file", "glob"):
            if key in e:
                e[key] = e[key].replace("/en/", f"/{lang}/", 1)
        if "caption" in e:
            e["caption"] = tr(e["caption"], lang)
        for key in ("chapters", "sections", "parts"):
            if key in e:
                e[key] = _localise_paths(e[key], lang)
        out.append(e)
    return out


def toc_for(lang):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    toc["root"] = toc["root"].replace("/en/", f"/{lang}/", 1)
    for key in ("chapters", "parts"):
        if key in toc:
            toc[key] = _localise_paths(toc[key], lang)
    return toc


def config_for(lang):
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cfg["title"] = tr(cfg["title"], lang)
    cfg["author"] = tr(cfg["author"], lang)
    cfg["exclude_patterns"] = cfg["exclude_patterns"] + [
        f"{folder}/{other}" for folder in PAGE_FOLDERS for other in LANGUAGES if other != lang]
    sphinx = cfg.setdefault("sphinx", {})
    # local extensions are found relative to the config file: this one is not in ROOT
    sphinx["local_extensions"] = {name: str(ROOT / path)
                                  for name, path in sphinx.get("local_extensions", {}).items()}
    sphinx.setdefault("config", {})
    sphinx["config"]["language"] = SPHINX_LANGUAGE[lang]
    sphinx["config"]["course_language"] = lang
    return cfg


def build(lang, extra_args, out_root):
    """Build one language; its HTML ends up in ``<out_root>/html/<lang>``; the exit code."""
    conf_dir = out_root / "config" / lang
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "_config.yml").write_text(yaml.safe_dump(config_for(lang), allow_unicode=True,
                                                         sort_keys=False), encoding="utf-8")
    (conf_dir / "_toc.yml").write_text(yaml.safe_dump(toc_for(lang), allow_unicode=True,
                                                      sort_keys=False), encoding="utf-8")
    out = out_root / "lang" / lang
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT),
           "--config", str(conf_dir / "_config.yml"), "--toc", str(conf_dir / "_toc.yml"),
           "--path-output", str(out), *extra_args]
    print(f"--- {NAMES[lang]} ({lang})", flush=True)
    code = subprocess.run(cmd, cwd=ROOT).returncode
    site = out_root / "html" / lang
    if site.exists():
        shutil.rmtree(site)
    if (out / "_build" / "html").exists():
        shutil.copytree(out / "_build" / "html", site)
    return code


def write_site_root(out_root):
    """``_build/html/index.html``: the four languages, each linking to its book's first page."""
    links = "\n".join(
        f'    <li><a href="{lang}/index.html" hreflang="{lang}" lang="{lang}">'
        f"{html.escape(NAMES[lang])}</a> — {html.escape(tr('minigrad: autograd from the inside', lang))}</li>"
        for lang in LANGUAGES)
    alternates = "\n".join(f'  <link rel="alternate" hreflang="{lang}" href="{lang}/index.html">'
                           for lang in LANGUAGES)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>minigrad — choose a language</title>
  <link rel="icon" href="en/_static/favicon.png">
{alternates}
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem;
           line-height: 1.6; }}
    li {{ margin: 0.5rem 0; font-size: 1.2rem; }}
  </style>
</head>
<body>
  <h1>minigrad</h1>
  <p>Choose a language · Alegeți limba · Choisissez la langue · 选择语言</p>
  <ul class="languages">
{links}
  </ul>
</body>
</html>
"""
    (out_root / "html").mkdir(parents=True, exist_ok=True)
    (out_root / "html" / "index.html").write_text(page, encoding="utf-8")


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        langs, extra = argv[:i], argv[i + 1:]
    else:
        langs, extra = argv, []
    out_root = ROOT / "_build"
    if "--out" in langs:
        i = langs.index("--out")
        out_root = pathlib.Path(langs[i + 1]).resolve()
        langs = langs[:i] + langs[i + 2:]
    langs = langs or list(LANGUAGES)
    for lang in langs:
        if lang not in LANGUAGES:
            sys.exit(f"build_book: unknown language {lang!r}; the book has {', '.join(LANGUAGES)}")
    failed = [lang for lang in langs if build(lang, extra, out_root) != 0]
    write_site_root(out_root)
    print(f"Open {out_root / 'html' / 'index.html'} in your browser.")
    if failed:
        print(f"build_book: the build failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
