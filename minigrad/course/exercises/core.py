r"""The exercise checker: a registry of tasks, ``check``, and diagnostics that teach.

A learner writes a backward pass in an exercise notebook and runs a check cell::

    check("02.3", unbroadcast)
    # ✓ Task 02.3: unbroadcast
    # or   ✗ Task 02.3: your gradient for b has shape (32, 10) but b is (10,) — did you sum
    #      over the broadcast (batch) dimensions? ...
    # or   … Task 02.3: not implemented yet

How a task is written (in ``chNN.py``, one module per chapter)::

    from .core import Misconception, task, assert_close_or_explain

    @task("02.3", title="unbroadcast", goal="Sum a gradient back to its variable's shape",
          difficulty=2, minutes=10)
    def _(unbroadcast):                       # receives what the learner passed to check()
        for case in ...:                      # several random float64 cases
            got = unbroadcast(grad, shape)
            assert_close_or_explain("b", got, expected, formula="b̄ = Σ over batch of ȳ")

A checker raises :class:`Misconception` with a message that names the likely mistake; it
never prints. ``check`` turns the outcome into one printed line and returns True/False:

- success                                  → ``✓ Task NN.k: <title>``
- :class:`Misconception`                   → ``✗ Task NN.k: <message>``
- ``NotImplementedError("Task NN.k: …")``  → ``… Task NN.k: not implemented yet`` (the
  exercise notebook's stub of this very task; another task's stub names that task)
- any other exception in the learner's code → ``✗ Task NN.k: your code raised <Type>: <msg>``
- an exception of the checker itself        → ``⚠ Task NN.k: the checker itself failed …``

Conventions every chapter module follows:

- ``@task(...)`` registers the checker in :data:`TASKS` under its id ``"NN.k"``;
- the module exposes ``WRONG = {"NN.k": [(wrong_impl, "expected message fragment"), ...]}``:
  for EVERY task of the module at least one deliberately wrong implementation (missing
  transpose, ``=`` instead of ``+=``, forgot to return, ...) and a fragment of the message
  ``check`` must print for it. ``wrong_impl`` is what the learner would pass to ``check``;
  when the task takes several objects, give a tuple (it is unpacked into ``check``'s
  arguments). ``tests/test_exercises.py`` feeds each one to the checker and fails for a task
  with no entry: proof that every checker can fail, and with the right message;
- a module may expose ``RIGHT = {"NN.k": [right_impl, ...]}``: correct answers written
  differently from the solution (einsum instead of ``@``, Kahn's algorithm, …), each of
  which the tests require to pass, also with the grader's secret seed offset (:data:`SEED`);
- each task has an aim, hints, prerequisites and an importance in ``guide.py``; a failed
  check states its ``formula`` (:func:`reveal`) only after the task's last hint was shown
  (:func:`hint`) or after two failed checks, and points to ``hint("NN.k")`` before that;
- a checker that asks for a backward written by hand runs the learner's call inside
  :func:`by_hand`, where autograd (minigrad's or torch's) refuses to run;
- in the solution notebook, every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block sits
  inside a function or method body, and only check cells call the learner's code, so the
  generated exercise notebook (where each block is ``raise NotImplementedError(...)``) runs
  to the end, every check printing "not implemented yet";
- every word a learner reads goes through :func:`~minigrad.course.lang.tr`, called when the
  message is built (never at import: the notebook may switch language after importing):
  one key per message, a string literal with named fields,
  ``Misconception(tr("{what} is None — did you forget to return?", what=what))``; a message
  built from fragments gets one key per fragment; ``check`` prints ``tr("Task {id}")`` and
  ``tr(task.title)``, the titles and goals staying plain strings in ``@task(...)``. A text
  the language's table lacks raises ``MissingTranslation`` out of ``check`` (it is not the
  learner's mistake). The ``WRONG`` fragments are English: the tests run in English;
- checkers are deterministic (seeded ``np.random.default_rng``), run the learner's code on
  several random float64 cases with random upstream gradients, and compare with
  ``torch.autograd`` and with finite differences (:func:`gradcheck_or_explain`).
"""
import contextlib
import functools
import math
import pathlib
import re
import types
from dataclasses import dataclass, field

import numpy as np

from ..lang import LANGUAGES, MissingTranslation, ntr, tr

__all__ = ["Task", "TASKS", "task", "Misconception", "check", "evaluate", "Result",
           "assert_close_or_explain", "as_numpy", "explain_vjp_count", "function_vjp",
           "check_function_vjp", "gradcheck_or_explain", "torch_vjp", "tasks_of_chapter",
           "by_hand", "stub_task", "learner_code", "seeded", "seeded_torch", "SEED", "hint",
           "hints_of", "reveal", "PROGRESS", "explain_upstream"]


# --------------------------------------------------------------------------- the registry
class Misconception(Exception):
    """Raised by a checker: the learner's answer is wrong, and the message says how."""


@dataclass
class Task:
    """One exercise: its id ``"NN.k"``, what the notebook shows, and its checker."""
    id: str
    title: str
    goal: str
    difficulty: int
    minutes: int
    checker: object = field(repr=False)

    @property
    def chapter(self):
        """The two-digit chapter number, ``"02"`` for task ``"02.3"``."""
        return self.id.split(".")[0]

    @property
    def stars(self):
        return "★" * self.difficulty + "☆" * (3 - self.difficulty)


TASKS = {}
"""Every registered task, by id ("01.1", "01.2", …), in registration order."""


def task(task_id, *, title, goal, difficulty, minutes):
    """Register the decorated function as the checker of task ``task_id`` ("NN.k")."""
    parts = task_id.split(".")
    if len(parts) != 2 or len(parts[0]) != 2 or not (parts[0] + parts[1]).isdigit():
        raise ValueError(f"task: the id {task_id!r} must look like 'NN.k' (e.g. '02.3').")
    if difficulty not in (1, 2, 3):
        raise ValueError(f"task {task_id}: difficulty must be 1, 2 or 3, not {difficulty!r}.")

    def register(checker):
        old = TASKS.get(task_id)
        if old is not None and (old.checker.__module__ != checker.__module__):
            raise ValueError(f"task {task_id} is registered twice: in {old.checker.__module__} "
                             f"and in {checker.__module__}.")
        TASKS[task_id] = Task(task_id, title, goal, difficulty, minutes, checker)
        return checker
    return register


def tasks_of_chapter(chapter):
    """The tasks of chapter ``chapter`` ("02" or 2), sorted by their number."""
    chapter = f"{int(chapter):02d}"
    found = [t for t in TASKS.values() if t.chapter == chapter]
    return sorted(found, key=lambda t: int(t.id.split(".")[1]))


# --------------------------------------------------------------------------- seeds
SEED = {"offset": 0}
"""The grader's secret: with ``offset`` non-zero every checker draws other random cases
(and other initial weights) than the ones a notebook sees, so an answer cannot be fitted to
the cases. 0 in a notebook and in the tests."""


def seeded(seed):
    """``np.random.default_rng(seed)``, moved by :data:`SEED`'s offset when it is not 0."""
    offset = SEED["offset"]
    return np.random.default_rng(seed if not offset else [seed, offset])


def seeded_torch(seed):
    """``torch.manual_seed(seed)``, moved by :data:`SEED`'s offset when it is not 0."""
    import torch
    torch.manual_seed(seed if not SEED["offset"] else (seed * 1_000_003 + SEED["offset"]) %
                      (2 ** 63))


# --------------------------------------------------------------------------- running a check
@dataclass
class Result:
    """The outcome of one check: ``status`` is "pass", "fail", "todo" (not implemented) or
    "error" (the checker itself failed: not the learner's mistake)."""
    task_id: str
    status: str
    message: str

    @property
    def line(self):
        """The line ``check`` prints."""
        mark = {"pass": "✓", "fail": "✗", "todo": "…", "error": "⚠"}[self.status]
        return f"{mark} {tr('Task {id}', id=self.task_id)}: {self.message}"


def evaluate(task_id, *learner_objects):
    """Run the checker of ``task_id`` on the learner's objects; return a :class:`Result`.

    Only the learner's code is blamed: an exception is "your code raised …" when a frame of
    the learner's code (the functions and classes passed in, and what they define) or of
    minigrad's engine running it is on its way; raised by the checker itself, by torch or
    numpy called by the checker, it is the course's fault (status "error"). A
    ``NotImplementedError`` means "not implemented yet" only when its message starts with
    this task's id (what the exercise notebook's stubs raise); another task's stub names
    that task as the one to do first."""
    if task_id not in TASKS:
        known = ", ".join(sorted(TASKS)) or "none"
        raise KeyError(f"check: there is no task {task_id!r} (known tasks: {known}).")
    t = TASKS[task_id]
    result = _run(t, learner_objects)
    if result.status == "fail":
        PROGRESS["fails"][task_id] = PROGRESS["fails"].get(task_id, 0) + 1
    return result


def _run(t, learner_objects):
    task_id = t.id
    _ACTIVE.update(task=task_id, withheld=False)
    try:
        with np.errstate(all="ignore"):
            t.checker(*learner_objects)
    except Misconception as e:
        message = str(e)
        if _ACTIVE["withheld"]:
            message += tr(" — hint(\"{id}\") gives a hint", id=task_id)
        return Result(task_id, "fail", message)
    except MissingTranslation:                # the course's table lacks a text: not the learner's
        raise
    except RecursionError:
        return Result(task_id, "fail", tr("your code raised RecursionError: maximum recursion "
                                          "depth exceeded — a deep graph needs a loop, not "
                                          "recursion"))
    except Exception as e:
        return _explain_exception(task_id, e, learner_objects)
    finally:
        _ACTIVE["task"] = None
    return Result(task_id, "pass", tr(t.title))


# --------------------------------------------------------------------------- hints
PROGRESS = {"hints": {}, "fails": {}}
"""Per task: how many hints ``hint`` has shown, how many checks failed (this session)."""
_ACTIVE = {"task": None, "withheld": False}


def hints_of(task_id, lang=None):
    """The hints of a task in ``lang``, first a direction, the last one its formula."""
    from .guide import guide
    try:
        first = guide(task_id, lang).hints
    except KeyError:                          # a task without a guide (a test's scratch task)
        first = ()
    return first + (tr(TASKS[task_id].goal, lang),)


def hint(task_id):
    """Print the next hint of ``task_id`` (the first call a direction, the last the formula;
    after the last, it is shown again). From the last hint on — or after two failed checks —
    a failed check's message also states the rule."""
    if task_id not in TASKS:
        raise KeyError(f"hint: there is no task {task_id!r} (known tasks: "
                       f"{', '.join(sorted(TASKS))}).")
    texts = hints_of(task_id)
    k = min(PROGRESS["hints"].get(task_id, 0), len(texts) - 1)
    PROGRESS["hints"][task_id] = k + 1
    print(tr("Hint {k}/{n} for task {id}: {hint}", k=k + 1, n=len(texts), id=task_id,
             hint=texts[k]))


def reveal(formula):
    """``formula`` when a check may state it: outside a check, after the task's last hint was
    shown, or after two failed checks of the task; else None (and the message will say that
    a hint is there)."""
    tid = _ACTIVE["task"]
    if formula is None or tid is None:
        return formula
    if PROGRESS["hints"].get(tid, 0) >= len(hints_of(tid)) or \
            PROGRESS["fails"].get(tid, 0) >= 2:
        return formula
    _ACTIVE["withheld"] = True
    return None


def stub_task(error):
    """The task id a ``NotImplementedError`` names at the start of its message, as the
    exercise notebooks' stubs do ("Task 01.2: …" in any of the course's languages, or
    "01.2 …"); None for any other one."""
    text = str(error).strip()
    m = re.match(r"^(\d\d\.\d+)\b", text)
    if m:
        return m.group(1)
    for tid in TASKS:
        for lang in LANGUAGES:
            if text.startswith(tr("Task {id}", lang, id=tid) + ":"):
                return tid
    return None


def _explain_exception(task_id, e, learner_objects):
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if isinstance(e, NotImplementedError):
        stub = stub_task(e)
        if stub == task_id:
            return Result(task_id, "todo", tr("not implemented yet"))
        if stub is not None:
            return Result(task_id, "fail", tr("your code calls the function of task {other}, "
                                              "which is not implemented yet — do task {other} "
                                              "first", other=stub))
        base = _unimplemented_base(e)
        if base is not None:
            return Result(task_id, "fail", tr(
                "{cls}.{method} was not written: minigrad's Function.{method} ran instead — "
                "is it spelled `{method}`, and decorated with @staticmethod?",
                cls=base[0], method=base[1]))
    if isinstance(e, AttributeError) and any(getattr(e, "obj", None) is o
                                             for o in learner_objects):
        return Result(task_id, "fail", tr("what you passed to check is a {type} without "
                                          ".{name} — is it the object the task asks for (and "
                                          "was its cell run)?", type=type(e.obj).__name__,
                                          name=e.name))
    if _learners_fault(e, learner_objects):
        return Result(task_id, "fail", tr("your code raised {error}: {message}",
                                          error=type(e).__name__, message=msg).rstrip(": "))
    return Result(task_id, "error", tr("the checker itself failed ({error}: {message}) — this "
                                       "is not your mistake: please report it to the course, "
                                       "with this line", error=type(e).__name__, message=msg))


_PACKAGE = pathlib.Path(__file__).resolve().parent.parent.parent     # minigrad/
_ENGINE = pathlib.Path(__file__).resolve().parent.parent              # minigrad/course/


def _in_library(filename):
    """Is ``filename`` minigrad's own code outside the course (the engine, ops, layers)?"""
    try:
        path = pathlib.Path(filename).resolve()
    except (OSError, ValueError):
        return False
    return path.is_relative_to(_PACKAGE) and not path.is_relative_to(_ENGINE)


def _in_package(filename):
    try:
        return pathlib.Path(filename).resolve().is_relative_to(_PACKAGE)
    except (OSError, ValueError):
        return False


def learner_code(objects):
    """The code objects of what the learner passed to ``check`` (functions, lambdas, the
    methods of classes, nested functions) and the files they come from (files of the course
    itself left out, so the checker's own deliberately wrong answers count by code object)."""
    codes, files, seen = set(), set(), set()

    def add(code):
        if code in codes:
            return
        codes.add(code)
        if not _in_package(code.co_filename):
            files.add(code.co_filename)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                add(c)

    def visit(obj, depth=0):
        if depth > 4 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
            obj = obj.__func__
        if isinstance(obj, functools.partial):
            visit(obj.func, depth + 1)
            return
        code = getattr(obj, "__code__", None)
        if isinstance(code, types.CodeType):
            add(code)
            return
        if isinstance(obj, type):
            module = obj.__module__ or ""
            if module == "builtins" or module.split(".")[0] in ("numpy", "torch") or (
                    module.startswith("minigrad") and
                    not module.startswith("minigrad.course.exercises")):
                return
            for klass in obj.__mro__:
                for value in vars(klass).values():
                    visit(value, depth + 1)
        elif isinstance(obj, (tuple, list)):
            for item in obj:
                visit(item, depth + 1)
        elif isinstance(obj, dict):
            for item in obj.values():
                visit(item, depth + 1)
        elif callable(obj):
            visit(type(obj), depth + 1)

    for obj in objects:
        visit(obj)
    return codes, files


def _frames(e):
    tb = e.__traceback__
    while tb is not None:
        yield tb.tb_frame.f_code
        tb = tb.tb_next


def _learners_fault(e, learner_objects):
    """Did the exception come from the learner's code, or from minigrad's engine running
    it (a gradient of the wrong shape, a tensor that requires grad passed to numpy)?"""
    codes, files = learner_code(learner_objects)
    frames = list(_frames(e))
    if any(c in codes or c.co_filename in files for c in frames):
        return True
    return bool(frames) and _in_library(frames[-1].co_filename)


def _unimplemented_base(e):
    """(class name, "forward"/"backward") when minigrad's Function.forward/backward raised
    because the learner's class did not define its own."""
    from ... import autograd
    frames = list(_frames(e))
    if not frames:
        return None
    for method in ("forward", "backward"):
        if frames[-1] is getattr(autograd.Function, method).__code__:
            tb = e.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            ctx = tb.tb_frame.f_locals.get("ctx")
            owner = getattr(type(ctx), "_forward_cls", None)
            return (owner.__name__ if owner is not None else "Function"), method
    return None


@contextlib.contextmanager
def by_hand(task_id):
    """Inside it, calling autograd (``backward()``, ``autograd.grad``, of minigrad or torch)
    raises a :class:`Misconception`: the tasks that ask for a backward written by hand
    wrap the learner's call in it."""
    import minigrad as mg
    import torch

    def refuse(name):
        def call(*args, **kwargs):
            raise Misconception(tr(
                "task {id} asks for the backward by hand, but your code called {call} — "
                "compute each gradient yourself with the chain rule, from the forward's "
                "tensors (autograd is what the task is teaching you to replace)",
                id=task_id, call=name))
        return call

    patches = [(mg.Tensor, "backward", "backward()"), (mg.autograd, "grad", "autograd.grad"),
               (mg.autograd, "backward", "autograd.backward"),
               (torch.Tensor, "backward", "backward()"),
               (torch.autograd, "grad", "torch.autograd.grad"),
               (torch.autograd, "backward", "torch.autograd.backward")]
    saved = [(owner, attr, owner.__dict__[attr]) for owner, attr, _ in patches]
    try:
        for owner, attr, name in patches:
            setattr(owner, attr, refuse(name))
        yield
    finally:
        for owner, attr, value in saved:
            setattr(owner, attr, value)


class Passed(int):
    """What ``check`` returns: True or False (an int 1/0, equal to them), which a notebook
    does not echo after the printed line (so a check cell shows only ✓ or the message)."""

    def __new__(cls, ok):
        return super().__new__(cls, bool(ok))

    def __repr__(self):
        return repr(bool(self))

    __str__ = __repr__

    def _ipython_display_(self):
        pass


def check(task_id, *learner_objects):
    """Check the learner's answer to task ``task_id``, print one line, return True/False
    (as :class:`Passed`, which equals True/False and is not echoed by a notebook)."""
    result = evaluate(task_id, *learner_objects)
    print(result.line)
    return Passed(result.status == "pass")


# --------------------------------------------------------------------------- diagnostics
def _is_tensor(x):
    return hasattr(x, "detach") and hasattr(x, "numpy") and hasattr(x, "shape")


def as_numpy(x):
    """A numpy array from a minigrad or torch tensor, an array or a number (no dtype change)."""
    if isinstance(x, np.ndarray):
        return x
    if _is_tensor(x):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def _factor(got, expected):
    """The number r with got ≈ r·expected, when there is one (else None)."""
    denom = float(np.vdot(expected, expected))
    if denom == 0.0 or not np.isfinite(denom):
        return None
    r = float(np.vdot(expected, got)) / denom
    if np.allclose(got, r * expected, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(expected).max())):
        return r
    return None


def _factor_words(r, batch, reuse=False):
    """Name an exact factor: a sign, a batch size, a 2 (a reused tensor's only where the task
    has reuse)."""
    if abs(r) < 1e-12:
        return tr("is all zeros — did the gradient reach this variable at all?")
    if math.isclose(r, -1.0, rel_tol=1e-6):
        return tr("has the wrong sign (it is −1× the right value)")
    if batch and math.isclose(r, batch, rel_tol=1e-6):
        return tr("is exactly {batch}× the right value: {batch} is the batch size — was a mean "
                  "taken in the forward pass (divide by N in the backward)?", batch=batch)
    if batch and math.isclose(r, 1.0 / batch, rel_tol=1e-6):
        return tr("is exactly 1/{batch} of the right value: {batch} is the batch size — did "
                  "you divide by N where the forward pass took a sum?", batch=batch)
    if math.isclose(r, 2.0, rel_tol=1e-6):
        if reuse:
            return tr("is exactly 2× the right value — a tensor used twice must receive each "
                      "use's contribution once: did you count one contribution twice?")
        return tr("is exactly 2× the right value — a factor of 2 too many: a ½ of the forward "
                  "pass forgotten, or one term counted twice?")
    if math.isclose(r, 0.5, rel_tol=1e-6):
        if reuse:
            return tr("is exactly half the right value — a tensor used twice (b = a + a) must "
                      "accumulate both contributions: use += instead of =")
        return tr("is exactly half the right value — a factor ½ too many, or one of two equal "
                  "terms left out?")
    return tr("is exactly {r:.4g}× the right value", r=r)


def _sums_to(big, shape):
    """Can ``big`` be summed over broadcast dimensions (leading ones, or size-1 ones of
    ``shape``) to give ``shape``?"""
    big = tuple(big)
    lead = len(big) - len(shape)
    if lead < 0 or math.prod(big) <= math.prod(shape):
        return False
    return all(n == 1 or n == m for n, m in zip(shape, big[lead:]))


def _what(kind, name):
    """"your gradient for W", "your value for c", "your W" (``kind`` None), … in the current
    language: each ``kind`` a checker uses is its own text."""
    if kind is None:
        return tr("your {name}", name=name)
    texts = {"gradient": lambda: tr("your gradient for {name}", name=name),
             "value": lambda: tr("your value for {name}", name=name),
             "output": lambda: tr("your output for {name}", name=name),
             "result": lambda: tr("your result for {name}", name=name),
             "second derivative": lambda: tr("your second derivative for {name}", name=name)}
    if kind not in texts:
        raise ValueError(f"assert_close_or_explain: kind must be one of {sorted(texts)} or "
                         f"None, not {kind!r}.")
    return texts[kind]()


def assert_close_or_explain(name, got, expected, *, formula=None, rtol=1e-7, atol=1e-9,
                            kind="gradient", batch=None, unstable_hint=None, reuse=False):
    """Raise :class:`Misconception` with the likely mistake when ``got`` is not ``expected``.

    Args:
        name: the variable, as the learner knows it ("W", "x", "b").
        got: what the learner's code returned (a minigrad/torch tensor, an array, a number).
        expected: the reference (from torch.autograd, or computed here).
        formula: the rule, appended to shape and value messages ("∂L/∂W = Xᵀ·∂L/∂Y").
        kind: "gradient" → "your gradient for W ..."; likewise "value", "output", "result"
            and "second derivative" ("your value for W ..."); None → "your W ...".
        batch: the batch size, so a result off by exactly that factor is named as such.
        unstable_hint: the advice for a NaN/inf where the reference is finite.
        reuse: the task uses a tensor more than once, so a result of exactly 2× or ½× is
            named as a contribution counted twice or overwritten (``=`` instead of ``+=``).

    ``name``, ``formula`` and ``unstable_hint`` are printed as they are: a caller passes them
    through ``tr`` when they hold words ("x at the bottom of a chain"), not when they are
    pure math ("b̄ += c̄").

    The diagnoses, in order: None (forgot to return), not a tensor, wrong dtype, wrong shape
    (transposed? broadcast dimensions not summed? summed too much?), NaN/inf (unstable),
    values a tiny relative error away (an ε in another place, a rounding step), values off by
    an exact factor (sign, batch size, 2× — of a reused tensor with ``reuse``; never for a
    single number, where any wrong number is "a factor"), a transpose of the right matrix,
    and otherwise the worst element with both values. The hints about broadcast dimensions
    and transposes are given for gradients only (``kind="gradient"``).
    """
    what = _what(kind, name)
    formula = reveal(formula)
    rule = f" — {formula}" if formula else ""
    if got is None:
        raise Misconception(tr("{what} is None — did you forget to return?", what=what))
    if isinstance(got, (tuple, list)):
        raise Misconception(tr("{what} is a {type}, not a tensor — return the tensor itself",
                               what=what, type=type(got).__name__))
    if not (_is_tensor(got) or isinstance(got, (np.ndarray, np.generic, int, float))):
        raise Misconception(tr("{what} is a {type}, not a tensor", what=what,
                               type=type(got).__name__))
    exp = np.asarray(as_numpy(expected))
    g = as_numpy(got)
    if g.dtype.kind in "biu" and exp.dtype.kind == "f":
        raise Misconception(tr("{what} has the integer dtype {dtype}; it must be floating "
                               "point ({expected})", what=what, dtype=g.dtype,
                               expected=exp.dtype))
    if exp.dtype == np.float64 and g.dtype not in (np.float64,) and g.dtype.kind == "f" and \
            (g.shape != exp.shape or np.allclose(g.astype(np.float64), exp, rtol=1e-4,
                                                 atol=1e-6, equal_nan=True)):
        raise Misconception(tr("{what} has dtype {dtype} but float64 was expected — did a "
                               "tensor get created without dtype (the default is float32)?",
                               what=what, dtype=g.dtype))
    gs, es = tuple(g.shape), tuple(exp.shape)
    if gs != es:
        head = tr("{what} has shape {shape} but {name} is {expected}", what=what, shape=gs,
                  name=name, expected=es)
        if math.prod(gs) == math.prod(es) and g.size and \
                np.allclose(g.astype(np.float64).reshape(es), exp.astype(np.float64),
                            rtol=rtol, atol=atol):
            raise Misconception(tr("{head} — the values are right but the shape is not: keep "
                                   "the summed dimensions (keepdim=True) or reshape to "
                                   "{shape}", head=head, shape=es) + rule)
        if kind != "gradient":
            raise Misconception(head + rule)
        if len(es) >= 2 and (gs == es[::-1] or gs == es[:-2] + es[-1:] + es[-2:-1]):
            raise Misconception(tr("{head} — missing transpose?", head=head) + rule)
        if _sums_to(gs, es):
            raise Misconception(tr("{head} — did you sum over the broadcast (batch) "
                                   "dimensions?", head=head) + rule)
        if math.prod(gs) < math.prod(es) and _sums_to(es, gs):
            raise Misconception(tr("{head} — summed over too many dimensions? a gradient "
                                   "always has its variable's shape", head=head) + rule)
        raise Misconception(tr("{head} — a gradient always has its variable's shape",
                               head=head) + rule)
    g64, e64 = g.astype(np.float64), exp.astype(np.float64)
    bad_special = ~np.isfinite(g64) & np.isfinite(e64)
    if bad_special.any():
        hint = unstable_hint or tr("unstable: subtract the max before exp")
        kinds = "NaN" if np.isnan(g64[bad_special]).any() else "inf"
        raise Misconception(tr("{what} contains {values} where the right value is finite — "
                               "{hint}", what=what, values=kinds, hint=hint))
    ok = np.isclose(g64, e64, rtol=rtol, atol=atol) | (~np.isfinite(e64) & (g64 == e64))
    if ok.all():
        return
    fin = np.isfinite(e64)
    scale = float(np.abs(e64[fin]).max()) if fin.any() else 0.0
    if scale > 0 and fin.all() and np.isfinite(g64).all():
        relative = float(np.abs(g64 - e64).max()) / scale
        if relative < 1e-4:
            raise Misconception(tr("{what} is close but not exact (largest relative error "
                                   "{err:.1g}): an ε in another place (inside or outside a "
                                   "square root?), or a rounding step", what=what,
                                   err=relative) + rule)
    r = _factor(g64[fin], e64[fin]) if fin.any() and e64.size > 1 else None
    if r is not None:
        raise Misconception(f"{what} {_factor_words(r, batch, reuse)}{rule}")
    if e64.ndim == 2 and es[0] == es[1] and es[0] > 1 and \
            np.allclose(g64, e64.T, rtol=rtol, atol=atol):
        raise Misconception(tr("{what} is the transpose of the right value — missing "
                               "transpose?", what=what) + rule)
    with np.errstate(invalid="ignore"):
        excess = np.where(ok, -np.inf, np.abs(g64 - e64))
    j = int(np.argmax(excess))
    idx = tuple(int(i) for i in np.unravel_index(j, es)) if es else ()
    values = dict(yours=g64.flat[j], expected=e64.flat[j], bad=int((~ok).sum()), n=ok.size)
    if es:
        text = ntr("{what} is wrong at index {index}: yours {yours:.6g}, expected "
                   "{expected:.6g} ({bad} of {n} element differs)",
                   "{what} is wrong at index {index}: yours {yours:.6g}, expected "
                   "{expected:.6g} ({bad} of {n} elements differ)", what=what, index=idx,
                   **values)
    else:
        text = ntr("{what} is wrong: yours {yours:.6g}, expected {expected:.6g} ({bad} of {n} "
                   "element differs)",
                   "{what} is wrong: yours {yours:.6g}, expected {expected:.6g} ({bad} of {n} "
                   "elements differ)", what=what, **values)
    raise Misconception(text + rule)


def explain_upstream(name, got, ref, up):
    """Say "the upstream gradient left out" when ``got`` is the right gradient divided by the
    random upstream ``up`` (a number, or an array of the gradient's shape: an elementwise
    operation's local derivative returned alone)."""
    up = np.asarray(as_numpy(up), dtype=float)
    ref = np.asarray(as_numpy(ref), dtype=float)
    if got is None or np.all(up == 1.0) or not (up.ndim == 0 or up.shape == ref.shape) or \
            np.any(np.abs(up) < 1e-6):
        return
    g = as_numpy(got)
    if g.shape != ref.shape or g.dtype.kind not in "fiub":
        return
    g = g.astype(np.float64)
    if np.allclose(g, ref, rtol=1e-7, atol=1e-9) or not np.allclose(g, ref / up, rtol=1e-7,
                                                                    atol=1e-9):
        return
    if up.ndim == 0:
        raise Misconception(tr(
            "your gradient for {name} leaves out the upstream gradient: it is the right value "
            "divided by ȳ = {up:.4g} — multiply by the gradient backward receives (the check "
            "sends a random one, not 1)", name=name, up=float(up)))
    raise Misconception(tr(
        "your gradient for {name} leaves out the upstream gradient: it is the local derivative "
        "alone, the right value divided by ȳ elementwise — multiply it by the gradient backward "
        "receives (the check sends a random one, not ones)", name=name))


def explain_vjp_count(fn_name, grads, n_args):
    """``backward`` must return one gradient per forward argument: say so when it does not."""
    if grads is None:
        raise Misconception(tr("{fn}.backward returned None — did you forget to return?",
                               fn=fn_name))
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != n_args:
        raise Misconception(tr("{fn}.backward returned {grads} but forward took {args} — "
                               "return one per forward argument (None for a non-tensor one)",
                               fn=fn_name, grads=ntr("{n} gradient", "{n} gradients",
                                                     n=len(grads)),
                               args=ntr("{n} argument", "{n} arguments", n=n_args)))
    return grads


def function_vjp(Fn, inputs, upstream):
    """Apply the ``mg.autograd.Function`` ``Fn`` to ``inputs`` and call its ``backward``
    DIRECTLY with ``upstream`` (so a wrong shape is reported by the checker, not by the
    engine). Returns ``(output, grads)`` with grads a tuple, one entry per input."""
    out = Fn.apply(*inputs)
    if out.grad_fn is None:
        raise Misconception(tr("{fn}.apply recorded no graph node — does forward return a "
                               "tensor?", fn=Fn.__name__))
    grads = Fn.backward(out.grad_fn, upstream)
    grads = explain_vjp_count(Fn.__name__, grads, len(inputs))
    return out, grads


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def torch_vjp(torch_fn, arrays, upstream):
    """The reference: ``torch_fn(*args)`` with float64 torch leaves made from the float numpy
    arrays of ``arrays`` (other items — a shape, a permutation, a count — are passed as they
    are), and its VJP with the numpy ``upstream``. Returns (output, grads) as numpy arrays,
    grads holding None at the positions of the non-array items."""
    import torch
    args = [torch.tensor(a, dtype=torch.float64, requires_grad=True) if _is_float_array(a)
            else a for a in arrays]
    leaves = [t for t in args if isinstance(t, torch.Tensor)]
    y = torch_fn(*args)
    gs = iter(torch.autograd.grad(y, leaves, torch.tensor(upstream, dtype=torch.float64),
                                  allow_unused=True))
    out = []
    for a in arrays:
        if _is_float_array(a):
            g = next(gs)
            out.append(np.zeros_like(a) if g is None else g.numpy())
        else:
            out.append(None)
    return y.detach().numpy(), tuple(out)


def gradcheck_or_explain(fn, inputs, what):
    """Finite differences as the second oracle: ``minigrad.testing.gradcheck`` on
    ``fn(*inputs)``, a mismatch reported as a :class:`Misconception` about ``what``."""
    from ...testing import GradcheckError, gradcheck
    try:
        gradcheck(fn, tuple(inputs))
    except GradcheckError as e:
        first = str(e).strip().splitlines()[0]
        raise Misconception(tr("{what} disagrees with finite differences: {error}",
                               what=what, error=first)) from None


def check_function_vjp(Fn, torch_fn, make_inputs, *, names, formulas, cases=3, seed=0,
                       batch=None, diagnose=None):
    """The whole check of an ``mg.autograd.Function`` whose backward the learner wrote.

    For ``cases`` random cases ``make_inputs(rng)`` (a list of forward arguments: float64
    numpy arrays, which become tensors that require grad, and anything else — a shape, a
    permutation — passed as it is): run ``Fn.apply``, call ``Fn.backward`` directly with a
    random upstream gradient and compare every gradient with torch's (``torch_fn`` on the same
    arguments), with a message per mistake; then run it through the engine
    (``y.backward(gradient=ȳ)``) and through finite differences.

    ``names``/``formulas``: one per forward argument ("x", "x̄ = ȳ·…"; None for a non-array
    one). ``diagnose(args, upstream, grads)``, when given, may raise a :class:`Misconception`
    naming a specific mistake before the generic comparison (``args`` the numpy arguments,
    ``grads`` the learner's gradients as returned)."""
    import minigrad as mg

    def tensors(arrays):
        return [mg.tensor(a, dtype=mg.float64, requires_grad=True) if _is_float_array(a)
                else a for a in arrays]

    rng = seeded(seed)
    for _ in range(cases):
        arrays = make_inputs(rng)
        xs = tensors(arrays)
        out = Fn.apply(*xs)
        up = rng.standard_normal(out.shape)
        y_ref, g_ref = torch_vjp(torch_fn, arrays, up)
        assert_close_or_explain(tr("{fn}'s output", fn=Fn.__name__), out, y_ref, kind=None,
                                formula=tr("the forward pass is given: keep it as it is"))
        _, grads = function_vjp(Fn, xs, mg.tensor(up))
        if diagnose is not None:
            diagnose(arrays, up, grads)
        for g, ref, name in zip(grads, g_ref, names):
            if ref is not None:
                explain_upstream(name, g, ref, up)
        for g, ref, name, formula in zip(grads, g_ref, names, formulas):
            if ref is not None:
                assert_close_or_explain(name, g, ref, formula=formula, batch=batch)
        y = Fn.apply(*xs)
        y.backward(gradient=mg.tensor(up))
        for x, ref, name, formula in zip(xs, g_ref, names, formulas):
            if ref is not None:
                assert_close_or_explain(name, x.grad, ref, formula=formula, batch=batch)
    xs = tensors(make_inputs(rng))
    gradcheck_or_explain(lambda *t: Fn.apply(*t), xs, f"{Fn.__name__}.backward")
