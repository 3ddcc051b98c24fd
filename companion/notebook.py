"""Small helpers for the chapters: show the companion's source where the reader should see it."""
from __future__ import annotations

import inspect
import sys
import textwrap

__all__ = ["in_colab", "show_source"]


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


class _Source:
    def __init__(self, code: str, name: str):
        self.code, self.name = code, name

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.code}\n```"

    def __repr__(self) -> str:
        return self.code


def show_source(obj) -> _Source:
    """The source of a function, class or method, displayed as a highlighted code block.

    >>> from companion import samplers
    >>> show_source(samplers.langevin)  # doctest: +SKIP
    """
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show_source needs a function, class or method defined in Python, "
                        f"got {type(obj).__name__}") from exc
    return _Source(textwrap.dedent(code).rstrip(), getattr(obj, "__qualname__", repr(obj)))
