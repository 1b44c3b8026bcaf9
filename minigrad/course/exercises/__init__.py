"""The exercises of the course: tasks, their checkers, and ``check`` for the notebooks.

    from minigrad.course.exercises import check
    check("01.2", Value)          # prints  ✓ Task 01.2: ...  or what is wrong
    hint("01.2")                  # the next hint: a direction first, the formula last

Every chapter module ``chNN.py`` present in this package is imported, so that all its tasks
are registered in :data:`TASKS`. The framework is in ``core.py``; the generator of the
exercise notebooks in ``make.py``; the command-line grader in ``grade.py``.
"""
import importlib
import pathlib

from .core import (TASKS, Misconception, Result, check, evaluate, hint,  # noqa: F401
                   task, tasks_of_chapter)

CHAPTER_MODULES = {}
"""The imported chapter modules, by two-digit chapter number ("01": ch01, ...)."""

for _path in sorted(pathlib.Path(__file__).parent.glob("ch[0-9][0-9].py")):
    CHAPTER_MODULES[_path.stem[2:]] = importlib.import_module(f".{_path.stem}", __name__)
