"""Grade an exercise notebook: run it and count the tasks whose check passed.

    python -m minigrad.course.exercises.grade exercises/en/01_computational_graphs.ipynb

The notebook is executed top to bottom in a fresh kernel (``nbclient``; a cell that raises
does not stop the run), every line a check printed (``✓ Task NN.k: …``, ``✗ Task NN.k: …``,
``… Task NN.k: not implemented yet``) is collected, and a score per task and a total are
printed. A task of the chapter whose check never ran counts as "not run". The exit status is
0 when every task of the chapter passed, 1 otherwise.
"""
import argparse
import pathlib
import re
import sys

from ..lang import LANGUAGES, tr

# "✓ Task 01.2: …" — the word "Task" is the notebook's language's ("Sarcina", "任务", …)
LINE = re.compile(r"^(✓|✗|…) [^\d:]*?(\d\d\.\d+): (.*)$")


def run_notebook(path, timeout=600):
    """Execute the notebook at ``path`` (cwd = its folder); return the executed notebook."""
    import nbclient
    import nbformat
    path = pathlib.Path(path)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, allow_errors=True,
                                     kernel_name=nb.metadata.get("kernelspec", {}).get(
                                         "name", "python3"),
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def check_lines(nb):
    """Every check line the executed notebook printed: (mark, task id, message), in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                for line in out.get("text", "").splitlines():
                    m = LINE.match(line.strip())
                    if m:
                        found.append(m.groups())
    return found


def cell_errors(nb):
    """(cell index, "Type: message") of every cell that raised."""
    errs = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                errs.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
    return errs


def grade(path, *, out=print):
    """Run and score one notebook; return (points, total)."""
    from . import tasks_of_chapter
    path = pathlib.Path(path)
    lang = path.parent.name if path.parent.name in LANGUAGES else "en"
    nb = run_notebook(path)
    results = {}
    for mark, tid, msg in check_lines(nb):
        results[tid] = (mark, msg)                    # the last run of a check counts
    chapter = path.name[:2]
    ids = [t.id for t in tasks_of_chapter(chapter)] if chapter.isdigit() else []
    ids += sorted(t for t in results if t not in ids)
    points = 0
    out(f"{path.name}")
    for tid in ids:
        mark, msg = results.get(tid, ("·", tr("not run", lang)))
        points += mark == "✓"
        out(f"  {mark} {tid}  {msg}")
    for i, err in cell_errors(nb):
        out("  ! " + tr("cell {i} raised {error}", lang, i=i, error=err))
    out(tr("score: {points}/{total}", lang, points=points, total=len(ids)))
    return points, len(ids)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="exercise notebooks to grade")
    args = parser.parse_args(argv)
    all_pass = True
    for path in args.notebooks:
        points, total = grade(path)
        all_pass &= points == total
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
