"""Generate the exercise notebooks from the solution notebooks.

    python -m minigrad.course.exercises.make            # write exercises/<lang>/*.ipynb
    python -m minigrad.course.exercises.make --check    # exit 1 if any is out of date
    python -m minigrad.course.exercises.make 01 02      # only these chapters
    python -m minigrad.course.exercises.make --headers  # task headers from the registry first

For every ``solutions/<lang>/NN_slug.ipynb``, ``exercises/<lang>/NN_slug.ipynb`` is the same
notebook with

- every block between a ``### BEGIN SOLUTION`` line and a ``### END SOLUTION`` line
  replaced by ``raise NotImplementedError("Task NN.k: <title>")`` at the block's
  indentation, the task being the one of the closest ``## Task NN.k — <title>`` heading
  above the cell;
- every code cell's outputs and execution count cleared;
- every cell tagged ``solution-notes`` (a task's common mistakes, which only a solution shows)
  left out.

``--notes`` first rewrites, in every solution notebook, the cell after each task's check cell
that lists the task's common mistakes: for each wrong answer of the checker's ``WRONG`` table,
the message its check prints, in the notebook's language.

Run from the repository root (or give ``--root``).
"""
import argparse
import json
import pathlib
import re
import sys

import nbformat

from ..lang import tr

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NOTES_TAG = "solution-notes"
CHECK = re.compile(r"""^check\(\s*["'](\d\d\.\d+)["']""", re.MULTILINE)
# "## Task 01.2 — title" in English, "## Sarcina 01.2 — titlu" in Romanian, "## 任务 01.2 — …"
HEADING = re.compile(r"^##\s+\S+\s+(\d\d\.\d+)\s+[—-]+\s+(.+?)\s*$", re.MULTILINE)


def heading(task, lang="en"):
    """The markdown heading of ``task`` in ``lang``: ``## Task 01.2 — <title>``."""
    return f"## {tr('Task {id}', lang, id=task.id)} — {tr(task.title, lang)}"


def goal_line(task, lang="en"):
    """The line under a task's heading: its aim (what to compute and why), difficulty and
    time, in ``lang``."""
    from .guide import guide
    return tr("**Goal:** {goal}  ·  **Difficulty:** {stars}  ·  **Time:** ~{minutes} min",
              lang, goal=guide(task.id, lang).aim, stars=task.stars, minutes=task.minutes)


def context_line(task, lang="en"):
    """The tasks a task builds on and its importance (● per point, of 3), in ``lang``."""
    from .guide import IMPORTANCE, REQUIRES
    n = IMPORTANCE[task.id]
    rating = "●" * n + "○" * (3 - n)
    needs = REQUIRES.get(task.id, ())
    if not needs:
        return tr("**Importance:** {rating}", lang, rating=rating)
    return tr("**Builds on:** {tasks}  ·  **Importance:** {rating}", lang, rating=rating,
              tasks=", ".join(tr("Task {id}", lang, id=t) for t in needs))


def hint_blocks(task, lang="en"):
    """The task's hints, each folded (``<details>``): the book shows them closed, a click
    opens one; in a notebook ``hint("NN.k")`` prints them one at a time."""
    from .core import hints_of
    texts = hints_of(task.id, lang)
    blocks = []
    for k, text in enumerate(texts, 1):
        summary = tr("Hint {k} of {n}: the rule", lang, k=k, n=len(texts)) \
            if k == len(texts) else tr("Hint {k} of {n}", lang, k=k, n=len(texts))
        blocks.append(f"<details><summary>{summary}</summary>\n\n{text}\n\n</details>")
    return "\n".join(blocks)


def task_header(task, lang="en"):
    """The top of a task's markdown cell: heading, goal line, context line, folded hints."""
    return "\n\n".join([heading(task, lang), goal_line(task, lang), context_line(task, lang),
                        hint_blocks(task, lang)])


def with_header(source, task, lang="en"):
    """``source`` (a task's markdown cell) with its header made anew from the registry:
    everything before the first paragraph of the task's own text is replaced."""
    lines = source.split("\n")
    i, folded = 1, False
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("<details>"):
            folded = True
        if folded or not line or line.startswith("**"):
            folded = folded and "</details>" not in line
            i += 1
            continue
        break
    rest = "\n".join(lines[i:]).strip("\n")
    return task_header(task, lang) + ("\n\n" + rest if rest else "")


def strip_solutions(source, task_id, title, where="cell", lang="en"):
    """``source`` with each BEGIN/END SOLUTION block replaced by a ``raise``."""
    out, inside, indent = [], False, ""
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{where}: '{BEGIN}' inside another solution block")
            if task_id is None:
                raise ValueError(f"{where}: a solution block before any '## Task NN.k — ...' "
                                 f"heading")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            message = json.dumps(f"{tr('Task {id}', lang, id=task_id)}: {title}",
                                 ensure_ascii=False)     # a Python string literal, quotes escaped
            out.append(f'{indent}raise NotImplementedError({message})')
        elif stripped == END:
            if not inside:
                raise ValueError(f"{where}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{BEGIN}' without '{END}'")
    return "\n".join(out)


def make_exercise(solution_nb, lang="en"):
    """The exercise notebook (a new NotebookNode) made from a solution notebook."""
    nb = nbformat.from_dict(solution_nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)          # a deep copy
    nb.cells = [c for c in nb.cells if NOTES_TAG not in c.metadata.get("tags", [])]
    task_id = title = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            m = HEADING.search(cell.source)
            if m:
                task_id, title = m.group(1), m.group(2)
        elif cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, task_id, title, where=f"cell {i}",
                                          lang=lang)
            cell.outputs = []
            cell.execution_count = None
    return nb


def _markdown_text(message):
    """A checker's message as literal markdown text: code spans kept, the characters markdown
    or MyST would read as emphasis, math or HTML escaped, round-off figures left out."""
    message = re.sub(r"max \|Δ\| = [-+0-9.e]+", "max |Δ| = …", message)
    parts = message.split("`")
    for k in range(0, len(parts), 2):                # outside code spans
        parts[k] = re.sub(r"([\\*_$|\[\]#])", r"\\\1", parts[k]).replace("<", "&lt;")
    return "`".join(parts)


def mistakes_markdown(task, lang="en"):
    """The task's common mistakes: the message ``check`` prints, in ``lang``, for each wrong
    answer of its chapter's ``WRONG`` table (as a learner who has read every hint sees it)."""
    from ..lang import get_language, set_language
    from . import CHAPTER_MODULES
    from .core import PROGRESS, evaluate
    module = CHAPTER_MODULES[task.chapter]
    entries = getattr(module, "WRONG", {}).get(task.id, [])
    note = getattr(module, "note_text", lambda task_id, message, lang: message)
    saved, before = get_language(), {k: dict(v) for k, v in PROGRESS.items()}
    lines = []
    try:
        set_language(lang)
        for impl, _ in entries:
            PROGRESS["hints"][task.id] = 99
            result = evaluate(task.id, *(impl if isinstance(impl, tuple) else (impl,)))
            message = note(task.id, result.message, lang)
            if result.status == "fail" and message not in lines:
                lines.append(message)
    finally:
        set_language(saved)
        for k, v in before.items():
            PROGRESS[k].clear()
            PROGRESS[k].update(v)
    items = "\n".join(f"- ✗ {_markdown_text(m)}" for m in lines)
    summary = tr("Common mistakes, and what the check says to them", lang)
    return f"<details><summary>{summary}</summary>\n\n{items}\n\n</details>"


def refresh_notes(sol_path):
    """Write, after each task's check cell of a solution notebook, the cell of its common
    mistakes (tagged ``solution-notes``, id ``mistakes-NN-k``); True when it changed."""
    from . import TASKS
    lang = sol_path.parent.name
    nb = nbformat.read(sol_path, as_version=4)
    old = nbformat.writes(nb)
    is_mistakes = lambda c: str(c.get("id", "")).startswith("mistakes-")
    kept = {c.get("id"): c for c in nb.cells if is_mistakes(c)}
    out, pending = [], None
    for cell in [c for c in nb.cells if not is_mistakes(c)]:
        if pending is not None and NOTES_TAG not in cell.metadata.get("tags", []):
            out.append(pending)             # after the check cell and the task's other notes
            pending = None
        out.append(cell)
        m = CHECK.search(cell.source) if cell.cell_type == "code" else None
        if m and m.group(1) in TASKS:
            cid = "mistakes-" + m.group(1).replace(".", "-")
            pending = kept.get(cid) or nbformat.v4.new_markdown_cell(
                metadata={"tags": [NOTES_TAG]})
            pending["id"] = cid
            pending.source = mistakes_markdown(TASKS[m.group(1)], lang)
    if pending is not None:
        out.append(pending)
    nb.cells = out
    if nbformat.writes(nb) == old:
        return False
    nbformat.write(nb, sol_path)
    return True


def pairs(root):
    """(solution path, exercise path) for every solution notebook under ``root``."""
    root = pathlib.Path(root)
    for sol in sorted((root / "solutions").glob("*/[0-9][0-9]_*.ipynb")):
        yield sol, root / "exercises" / sol.parent.name / sol.name


def render(sol_path):
    """The exercise notebook's text, as it is written to disk."""
    nb = make_exercise(nbformat.read(sol_path, as_version=4), lang=sol_path.parent.name)
    return nbformat.writes(nb) + "\n"


def refresh_headers(sol_path):
    """Rewrite the header of every task cell of a solution notebook from the registry (the
    words from the notebook's language's table); True when the notebook changed."""
    from . import TASKS
    lang = sol_path.parent.name
    nb = nbformat.read(sol_path, as_version=4)
    changed = False
    for cell in nb.cells:
        m = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
        if m and m.group(1) in TASKS:
            new = with_header(cell.source, TASKS[m.group(1)], lang)
            changed |= new != cell.source
            cell.source = new
    if changed:
        nbformat.write(nb, sol_path)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if an exercise notebook differs")
    parser.add_argument("--headers", action="store_true",
                        help="first rewrite each task's header (heading, goal, hints) in the "
                             "solution notebooks from the registry")
    parser.add_argument("--notes", action="store_true",
                        help="first rewrite each task's common mistakes in the solution "
                             "notebooks from the checkers' WRONG tables")
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    parser.add_argument("chapters", nargs="*",
                        help="only these chapters (two-digit numbers, e.g. 01 02); default: all")
    args = parser.parse_args(argv)
    wanted = {f"{int(c):02d}" for c in args.chapters}
    stale = []
    for sol, ex in pairs(args.root):
        if wanted and sol.name[:2] not in wanted:
            continue
        if args.headers and not args.check and refresh_headers(sol):
            print(f"wrote {sol}")
        if args.notes and not args.check and refresh_notes(sol):
            print(f"wrote {sol}")
        text = render(sol)
        current = ex.read_text(encoding="utf-8") if ex.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(ex)
            print(f"out of date: {ex} (regenerate from {sol})")
        else:
            ex.parent.mkdir(parents=True, exist_ok=True)
            ex.write_text(text, encoding="utf-8")
            print(f"wrote {ex}")
    if args.check and stale:
        print("run: python -m minigrad.course.exercises.make")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
