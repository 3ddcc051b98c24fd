"""Exercises with checked answers, for every chapter.

In a chapter, a code exercise gives a stub and one call::

    def my_hebbian_weights(patterns):
        ...

    exercises.check("04-hebbian", my_hebbian_weights)

which prints one line: ``○`` not attempted yet (the stub as shipped), ``✔`` right, or
``✘`` wrong with a hint that names the mistake when it is a known one. The checker tests
the answer on fresh random inputs against the companion's own implementation or against
mathematics. Derive and explore exercises are checked the same way: the reader passes the
derived formula as a function, or the value read off a slider.

The checkers live in one module per chapter (``ch04.py`` for chapter 4), each registering
its exercises with the builders of ``companion.exercises._core`` (``function_exercise``,
``value_exercise``, ``custom_exercise``); all of them are imported here.
"""
from __future__ import annotations

import importlib
import pkgutil

from ._core import (Exercise, Mistake, Result, Status, Wrong, check, get, is_stub,
                    last_result, registry)

__all__ = ["Exercise", "Mistake", "Result", "Status", "Wrong", "check", "get", "is_stub",
           "last_result", "registry"]

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("ch"):
        importlib.import_module(f"{__name__}.{_info.name}")
