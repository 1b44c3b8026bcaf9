"""Grade exercise notebooks: the checker decides, never what a notebook printed.

    python -m minigrad.course.exercises.grade my_notebook.ipynb
    python -m minigrad.course.exercises.grade --task 04.1 my_notebook.ipynb
    python -m minigrad.course.exercises.grade submissions/ --csv class.csv --json class.json
    python -m minigrad.course.exercises.grade --timeout 60 submissions/

How one notebook is graded:

- its code cells run, in order, in a fresh IPython process (a *worker*; its output is thrown
  away, so a printed "✓ Task 01.2" counts for nothing), each cell with at most ``--timeout``
  seconds; a cell that raises or runs out of time is noted and the next one runs;
- the worker then calls the checker of every task itself, on the objects the course's own
  check cell of that task passes (``check("04.1", parameters_of)`` → ``parameters_of``), with
  the checker taken before the notebook ran (a ``check`` redefined by the notebook is never
  called) and with random cases drawn from a secret seed (``--seed``, random by default), not
  the ones the notebook saw; each task gets at most ``--timeout`` seconds;
- a worker that hangs beyond that or dies (a crash, ``os._exit``, a dead kernel) is recorded
  against the task or cell it was running, and a new worker goes on with the rest (skipping
  a cell that killed or hung its worker).

A folder is searched for notebooks (``*.ipynb``); a notebook's *student* is the first folder
under the one given (``submissions/alice/04_….ipynb`` → alice), or else its file name. The
CSV and JSON reports hold one row per student × notebook × task: status (pass, fail, todo —
not implemented, error — the checker's own failure, timeout, crash, missing — no object
to check) and message. The exit status is 0 when every task of every notebook passed, 1
otherwise.

This makes a printed line or a redefined ``check`` worthless; it is not a sandbox against
code written to tamper with the course's package on purpose.
"""
import argparse
import ast
import csv
import json
import os
import pathlib
import re
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from ..lang import LANGUAGES, tr

# "✓ Task 01.2: …" — the word "Task" is the notebook's language's ("Sarcina", "任务", …)
LINE = re.compile(r"^(✓|✗|…) [^\d:]*?(\d\d\.\d+): (.*)$")
MARKS = {"pass": "✓", "fail": "✗", "todo": "…", "error": "⚠", "timeout": "⏱", "crash": "☠",
         "missing": "·"}
STARTUP = 180           # seconds a worker may take to import torch and minigrad
ROOT = pathlib.Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- for the tests
def run_notebook(path, timeout=600):
    """Execute the notebook at ``path`` (cwd = its folder) with nbclient; return it, run."""
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
    """Every check line an executed notebook printed: (mark, task id, message), in order.
    (What a notebook shows its reader; the grader never counts these.)"""
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
    """(cell index, "Type: message") of every cell of an executed notebook that raised."""
    errs = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                errs.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
    return errs


# --------------------------------------------------------------------------- reading notebooks
def _python(source):
    """A code cell's source as plain Python (IPython's magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell(source)


def check_calls(nb):
    """{task id: [source of each object passed]} from the ``check("NN.k", …)`` calls of a
    notebook's code cells (the last call of a task counts)."""
    calls = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id == "check" and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                calls[node.args[0].value] = [ast.unparse(a) for a in node.args[1:]]
    return calls


def course_check_calls():
    """The check calls of the course's own exercise notebooks (English), by task id: what
    the grader passes to each checker."""
    import nbformat
    calls = {}
    for path in sorted((ROOT / "exercises" / "en").glob("[0-9][0-9]_*.ipynb")):
        calls.update(check_calls(nbformat.read(path, as_version=4)))
    return calls


def notebook_tasks(nb):
    """The registered tasks a notebook holds: its ``## Task NN.k — …`` headings (in any of
    the course's languages), else its check calls."""
    from . import TASKS
    from .make import HEADING
    ids = [m.group(1) for c in nb.cells if c.cell_type == "markdown"
           for m in HEADING.finditer(c.source) if m.group(1) in TASKS]
    ids = ids or [t for t in check_calls(nb) if t in TASKS]
    return list(dict.fromkeys(ids))


def notebook_language(nb, path):
    """The language a notebook speaks: its ``set_language("ro")`` call, else its folder."""
    for cell in nb.cells:
        m = re.search(r"set_language\(\s*['\"](\w+)['\"]", cell.source) \
            if cell.cell_type == "code" else None
        if m and m.group(1) in LANGUAGES:
            return m.group(1)
    parent = pathlib.Path(path).parent.name
    return parent if parent in LANGUAGES else "en"


def find_notebooks(paths):
    """(student, notebook path) for every notebook given or found in a folder given."""
    found = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                rel = nb.relative_to(p)
                if ".ipynb_checkpoints" in rel.parts:
                    continue
                found.append((rel.parts[0] if len(rel.parts) > 1 else nb.stem, nb))
        else:
            found.append((p.stem, p))
    return found


# --------------------------------------------------------------------------- the worker
class _OutOfTime(BaseException):
    """Raised by the alarm in a cell or check that ran out of time (a BaseException, so
    that neither the checker nor a learner's ``except Exception`` stops it)."""


def _alarm(signum, frame):
    raise _OutOfTime()


def _worker():
    """Run one notebook's cells, then check the tasks asked; report each step as one JSON
    line on the file descriptor the job names."""
    job = json.loads(sys.stdin.read())
    report = os.fdopen(job["fd"], "w", buffering=1, encoding="utf-8")

    def send(**message):
        report.write(json.dumps(message, ensure_ascii=False) + "\n")
        report.flush()

    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    from .. import lang
    from . import TASKS, core
    evaluate, registered = core.evaluate, dict(TASKS)      # before any learner code runs
    core.SEED["offset"] = job["seed"]

    def quiet_check(task_id, *objects):                    # a notebook's check cells: nothing
        return core.Passed(False)
    from minigrad.course import exercises
    exercises.check = core.check = quiet_check
    signal.signal(signal.SIGALRM, _alarm)
    timeout = job["timeout"]

    def limited(run):
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return run()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    path = pathlib.Path(job["notebook"])
    nb = nbformat.read(path, as_version=4)
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    shell = InteractiveShell.instance()
    send(kind="ready")
    cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(cells):
        if i in job["skip"]:
            continue
        send(kind="cell", index=i)
        try:
            result = limited(lambda: shell.run_cell(cell.source, store_history=False))
            error = result.error_in_exec or result.error_before_exec
        except _OutOfTime as e:
            error = e
        if error is not None:
            send(kind="cell_error", index=i, out_of_time=isinstance(error, _OutOfTime),
                 error=f"{type(error).__name__}: {str(error).strip()}".rstrip(": "))
    for tid, exprs in job["tasks"]:
        send(kind="task", task=tid)
        TASKS.clear()
        TASKS.update(registered)
        lang._current["lang"] = job["lang"]
        try:
            objects = [eval(e, shell.user_ns) for e in exprs]   # noqa: S307 (the names)
        except Exception as e:
            send(kind="result", task=tid, status="missing",
                 message=tr("nothing to check: the notebook does not define {what} ({error})",
                            what=", ".join(exprs), error=f"{type(e).__name__}: {e}"))
            continue
        try:
            r = limited(lambda: evaluate(tid, *objects))
            send(kind="result", task=tid, status=r.status, message=r.message)
        except _OutOfTime:
            send(kind="result", task=tid, status="timeout",
                 message=tr("the check took longer than {seconds} s: an endless loop, or far "
                            "too slow?", seconds=timeout))
        except BaseException as e:
            send(kind="result", task=tid, status="error",
                 message=tr("the checker itself failed ({error}: {message}) — this is not "
                            "your mistake: please report it to the course, with this line",
                            error=type(e).__name__, message=str(e).strip()))
    send(kind="done")


# --------------------------------------------------------------------------- the grader
@dataclass
class Row:
    """One line of a class report."""
    student: str
    notebook: str
    task: str
    status: str
    message: str


def _messages(proc, fd, timeout):
    """The worker's JSON lines, as they come; a message that does not come within its time
    (the start, a cell, a check) ends the iteration with the worker killed."""
    buffer = b""
    limit = STARTUP
    while True:
        ready, _, _ = select.select([fd], [], [], limit)
        if not ready:
            proc.kill()
            proc.wait()
            yield {"kind": "hung"}
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            proc.wait()
            yield {"kind": "died", "code": proc.returncode}
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            yield message
            if message["kind"] == "done":
                proc.wait()
                return
            limit = timeout + 30 if message["kind"] in ("cell", "task") else STARTUP


def _start_worker(job):
    read, write = os.pipe()
    job = dict(job, fd=write)
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "minigrad.course.exercises.grade",
                             "--worker"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=stderr, pass_fds=(write,),
                            cwd=str(pathlib.Path(job["notebook"]).parent))
    os.close(write)
    proc.stdin.write(json.dumps(job).encode())
    proc.stdin.close()
    return proc, read, stderr


def _last_line(stderr):
    stderr.seek(0)
    lines = [ln for ln in stderr.read().decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def grade_notebook(path, *, tasks=None, timeout=120, seed=None, calls=None):
    """Grade one notebook; returns (lang, {task: (status, message)}, notes), notes being
    the cells that failed (index among the code cells, message)."""
    import nbformat
    path = pathlib.Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    lang = notebook_language(nb, path)
    ids = tasks or notebook_tasks(nb)
    own = check_calls(nb)
    calls = course_check_calls() if calls is None else calls
    results, notes, skip = {}, {}, set()
    for tid in ids:
        if tid not in calls and tid not in own:
            results[tid] = ("missing", tr("nothing to check: no check cell for task {id}",
                                          lang, id=tid))
    remaining = [t for t in ids if t not in results]
    seed = secrets.randbelow(2 ** 31) + 1 if seed is None else seed
    while remaining:
        job = {"notebook": str(path), "tasks": [(t, calls.get(t, own.get(t))) for t in remaining],
               "skip": sorted(skip), "timeout": timeout, "seed": seed, "lang": lang}
        proc, fd, stderr = _start_worker(job)
        cell = task = None
        try:
            for m in _messages(proc, fd, timeout):
                if m["kind"] == "cell":
                    cell = m["index"]
                elif m["kind"] == "cell_error":
                    notes.setdefault(m["index"], tr("cell {i} took longer than {seconds} s: "
                                                    "stopped", lang, i=m["index"],
                                                    seconds=timeout)
                                     if m["out_of_time"] else
                                     tr("cell {i} raised {error}", lang, i=m["index"],
                                        error=m["error"]))
                elif m["kind"] == "task":
                    task = m["task"]
                elif m["kind"] == "result":
                    results[m["task"]] = (m["status"], m["message"])
                    remaining.remove(m["task"])
                    task = None
                elif m["kind"] in ("hung", "died"):
                    why = tr("it ran out of time ({seconds} s)", lang, seconds=timeout) \
                        if m["kind"] == "hung" else \
                        tr("the kernel died (exit status {code}{detail})", lang, code=m["code"],
                           detail=f": {_last_line(stderr)}" if _last_line(stderr) else "")
                    status = "timeout" if m["kind"] == "hung" else "crash"
                    if task is not None:
                        results[task] = (status, tr("the check was stopped: {why}", lang,
                                                    why=why))
                        remaining.remove(task)
                    elif cell is not None:
                        skip.add(cell)
                        notes[cell] = tr("cell {i} was skipped: {why}", lang, i=cell, why=why)
                    else:
                        for t in remaining:
                            results[t] = ("crash", tr("the notebook could not be run: {why}",
                                                      lang, why=why))
                        remaining = []
        finally:
            os.close(fd)
            stderr.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return lang, {t: results[t] for t in ids}, sorted(notes.items())


def grade(paths, *, tasks=None, timeout=120, seed=None, out=print):
    """Grade every notebook of ``paths`` (files or folders); print a summary per notebook;
    return the report's rows (:class:`Row`) and notes."""
    calls = course_check_calls()
    rows, all_notes = [], []
    for student, path in find_notebooks(paths):
        lang, results, notes = grade_notebook(path, tasks=tasks, timeout=timeout, seed=seed,
                                              calls=calls)
        out(f"{student}  {path.name}" if student != path.stem else path.name)
        for tid, (status, message) in results.items():
            out(f"  {MARKS[status]} {tid}  {message}")
            rows.append(Row(student, path.name, tid, status, message))
        for i, note in notes:
            out(f"  ! {note}")
            all_notes.append({"student": student, "notebook": path.name, "cell": i,
                              "message": note})
        points = sum(s == "pass" for s, _ in results.values())
        out(tr("score: {points}/{total}", lang, points=points, total=len(results)))
    return rows, all_notes


def write_csv(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "notebook", "task", "status", "message"])
        for r in rows:
            w.writerow([r.student, r.notebook, r.task, r.status, r.message])


def write_json(rows, notes, path):
    pathlib.Path(path).write_text(json.dumps({"results": [asdict(r) for r in rows],
                                              "notes": notes}, ensure_ascii=False, indent=1)
                                  + "\n", encoding="utf-8")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--worker"]:
        _worker()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="notebooks, or folders of submissions")
    parser.add_argument("--task", action="append", metavar="NN.k",
                        help="grade only this task (may be given several times)")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds per cell and per check (default 120)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the checkers' secret seed (default: a random one)")
    parser.add_argument("--csv", help="write one row per student × task to this CSV file")
    parser.add_argument("--json", help="write the results and notes to this JSON file")
    args = parser.parse_args(argv)
    from . import TASKS
    unknown = [t for t in args.task or [] if t not in TASKS]
    if unknown:
        parser.error(f"no task {', '.join(unknown)} (known: {', '.join(sorted(TASKS))})")
    started = time.monotonic()
    rows, notes = grade(args.paths, tasks=args.task, timeout=args.timeout, seed=args.seed)
    if args.csv:
        write_csv(rows, args.csv)
    if args.json:
        write_json(rows, notes, args.json)
    print(f"({len(rows)} checks in {time.monotonic() - started:.0f} s)", file=sys.stderr)
    return 0 if rows and all(r.status == "pass" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
