"""The grader: it runs the learner's code and calls the checkers itself, so a printed ✓ or a
redefined ``check`` earns nothing; a hanging or crashing notebook is graded task by task; a
folder of submissions becomes one class report."""
import csv
import json

import nbformat
import pytest

from minigrad.course.exercises import grade

TOPO = '''\
def topo_sort(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if id(p) not in seen)
    return order
'''
HEADINGS = ["## Task 01.2 — A topological sort without recursion",
            "## Task 01.5 — The VJP of tanh as an mg.autograd.Function"]
TIMEOUT = 20          # seconds per cell and per check given to the grader (not a test limit)


def _notebook(path, *cells):
    """A notebook with the two task headings and ``cells`` as its code cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(h) for h in HEADINGS]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _statuses(path, timeout=TIMEOUT, **kw):
    _, results, notes = grade.grade_notebook(path, timeout=timeout, seed=12345, **kw)
    return {t: s for t, (s, _) in results.items()}, results, notes


def test_printed_check_lines_and_a_redefined_check_earn_nothing(tmp_path):
    printed = _notebook(tmp_path / "printed.ipynb",
                        'print("✓ Task 01.2: A topological sort without recursion")\n'
                        'print("✓ Task 01.5: The VJP of tanh as an mg.autograd.Function")')
    statuses, results, _ = _statuses(printed)
    assert statuses == {"01.2": "missing", "01.5": "missing"}
    assert "topo_sort" in results["01.2"][1]
    redefined = _notebook(tmp_path / "redefined.ipynb",
                          "def check(*args):\n    print('✓ Task ' + args[0] + ': passed')\n"
                          "    return True",
                          "def topo_sort(root):\n    return [root]\nTanh = None",
                          'check("01.2", topo_sort)\ncheck("01.5", Tanh)')
    statuses, results, _ = _statuses(redefined)
    assert statuses == {"01.2": "fail", "01.5": "fail"}, results


def test_a_right_answer_passes_and_the_exercise_stub_is_todo(tmp_path):
    nb = _notebook(tmp_path / "mixed.ipynb", TOPO,
                   "class Tanh:\n    pass\n",
                   'raise NotImplementedError("Task 01.5: not yet")')
    statuses, results, notes = _statuses(nb)
    assert statuses["01.2"] == "pass", results
    assert statuses["01.5"] == "fail"
    assert [i for i, _ in notes] == [2] and "NotImplementedError" in notes[0][1]


def test_a_hanging_cell_and_a_hanging_check_are_stopped_and_the_rest_is_graded(tmp_path):
    nb = _notebook(tmp_path / "hangs.ipynb",
                   "while True:\n    pass",
                   TOPO,
                   "from minigrad.course.exercises import check\n"
                   "import minigrad as mg\n"
                   "class Tanh(mg.autograd.Function):\n"
                   "    @staticmethod\n"
                   "    def forward(ctx, x):\n"
                   "        while True:\n"
                   "            pass\n")
    statuses, results, notes = _statuses(nb, timeout=5)
    assert statuses == {"01.2": "pass", "01.5": "timeout"}, results
    assert notes[0][0] == 0 and "longer than 5" in notes[0][1]


def test_a_crashing_cell_and_a_crashing_check_are_recorded_and_the_rest_is_graded(tmp_path):
    nb = _notebook(tmp_path / "crashes.ipynb",
                   "import os\nos._exit(3)",
                   TOPO,
                   "import os\nclass Tanh:\n    @classmethod\n    def apply(cls, *args):\n"
                   "        os._exit(4)\n")
    statuses, results, notes = _statuses(nb)
    assert statuses == {"01.2": "pass", "01.5": "crash"}, results
    assert "exit status 4" in results["01.5"][1]
    assert notes == [(0, notes[0][1])] and "skipped" in notes[0][1] and "3" in notes[0][1]


def test_a_class_folder_becomes_one_csv_and_json_and_the_exit_status_says_so(tmp_path):
    subs = tmp_path / "submissions"
    _notebook(subs / "alice" / "01_graphs.ipynb", TOPO)
    _notebook(subs / "bob" / "01_graphs.ipynb", "def topo_sort(root):\n    return None")
    out_csv, out_json = tmp_path / "class.csv", tmp_path / "class.json"
    code = grade.main([str(subs), "--timeout", str(TIMEOUT), "--seed", "7",
                       "--csv", str(out_csv), "--json", str(out_json)])
    assert code == 1
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    table = {(r["student"], r["task"]): r["status"] for r in rows}
    assert table == {("alice", "01.2"): "pass", ("alice", "01.5"): "missing",
                     ("bob", "01.2"): "fail", ("bob", "01.5"): "missing"}
    bob = next(r for r in rows if r["student"] == "bob" and r["task"] == "01.2")
    assert "forget to return" in bob["message"]
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert len(report["results"]) == 4 and report["notes"] == []


def test_one_task_from_the_terminal(tmp_path, capsys):
    nb = _notebook(tmp_path / "mine.ipynb", TOPO)
    assert grade.main(["--task", "01.2", "--timeout", str(TIMEOUT), str(nb)]) == 0
    out = capsys.readouterr().out
    assert "✓ 01.2" in out and "01.5" not in out and "score: 1/1" in out
    with pytest.raises(SystemExit):
        grade.main(["--task", "98.1", str(nb)])
