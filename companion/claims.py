r"""Results from the literature, reproduced in the chapters and checked against the paper.

A chapter states a claim where it measures it::

    claims.claim("04-alpha-c", quantity="retrieval capacity alpha_c of the Hopfield network",
                 paper=0.138, measured=alpha_measured, tol=0.02, source="amit1985storing",
                 setting="N = 1,000 neurons, 3 networks x 20 cues per load")

The call asserts that the measurement lies within the tolerance of the paper's value (or
on the right side of a bound, with ``relation="<="`` or ``">="``), raising
:class:`ClaimError` with a message naming the claim if it does not, and displays one line.
In the built book the line also carries the claim's data, from which the "Reproduced
results" appendix is generated (``_ext/book_fixes.py``): nothing in that table is typed
by hand, and a claim outside its tolerance fails the notebook, the test run and the build.
"""
from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from typing import Optional

from ._checks import check_number

__all__ = ["Claim", "ClaimError", "claim"]

RELATIONS = ("~", "<=", ">=")
KEY_RE = re.compile(r"^\d\d-[a-z0-9][a-z0-9-]*$")


class ClaimError(AssertionError):
    """A reproduced result fell outside its tolerance."""


@dataclasses.dataclass(frozen=True)
class Claim:
    key: str
    quantity: str
    paper: float
    measured: float
    tol: float
    relation: str
    source: str
    setting: str
    unit: str = ""

    @property
    def chapter(self) -> int:
        return int(self.key[:2])

    @property
    def holds(self) -> bool:
        if self.relation == "<=":
            return self.measured <= self.paper + self.tol
        if self.relation == ">=":
            return self.measured >= self.paper - self.tol
        return abs(self.measured - self.paper) <= self.tol

    def _fmt(self, x: float) -> str:
        return f"{x:.6g}" + (f" {self.unit}" if self.unit else "")

    @property
    def expectation(self) -> str:
        """The paper's value and the tolerance, e.g. '0.138 ± 0.02' or '<= 2'."""
        if self.relation == "~":
            return f"{self._fmt(self.paper)} ± {self.tol:.3g}"
        return f"{self.relation} {self._fmt(self.paper)}" + (f" (+{self.tol:.3g})" if self.tol else "")

    def line(self) -> str:
        mark = "✔" if self.holds else "✘"
        return (f"{mark} Reproduced [{self.key}] {self.quantity}: ours {self._fmt(self.measured)}, "
                f"paper {self.expectation} ({self.source}; {self.setting})")

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["holds"] = self.holds
        return json.dumps(data, sort_keys=True)

    def _repr_html_(self) -> str:
        return (f'<div class="abnn-claim" data-claim="{html.escape(self.to_json(), quote=True)}">'
                f"{html.escape(self.line())}</div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.line(), "text/html": self._repr_html_()}

    def __str__(self) -> str:
        return self.line()

    def _ipython_display_(self) -> None:  # claim() displayed it already
        pass


def claim(key: str, *, quantity: str, paper: float, measured: float, source: str,
          setting: str, tol: Optional[float] = None, rtol: Optional[float] = None,
          relation: str = "~", unit: str = "", display: bool = True) -> Claim:
    r"""State that ``measured`` reproduces the paper's ``paper`` value within a tolerance.

    ``tol`` is absolute; ``rtol`` is relative to ``|paper|`` (give one of them; with
    ``relation="<="`` or ``">="`` the tolerance may be 0). ``key`` is ``NN-name`` with the
    chapter's number; ``source`` is a key of ``references.bib``; ``setting`` says what was
    measured (sizes, data, steps). Displays one line and returns the :class:`Claim`;
    raises :class:`ClaimError` if the claim does not hold.
    """
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError(f"key must look like '04-alpha-c' (chapter number, then a name), got {key!r}")
    for name, value in (("quantity", quantity), ("source", source), ("setting", setting)):
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"{name} must be a non-empty string, got {value!r}")
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
    paper = check_number("paper", paper)
    measured = check_number("measured", measured)
    if (tol is None) == (rtol is None):
        raise ValueError("give exactly one of tol (absolute) and rtol (relative to |paper|)")
    if tol is not None:
        tol = check_number("tol", tol, nonnegative=True)
    else:
        tol = check_number("rtol", rtol, nonnegative=True) * abs(paper)
    if relation == "~" and tol == 0:
        raise ValueError("a claim of agreement (relation '~') needs a tolerance > 0")
    c = Claim(key, quantity.strip(), paper, measured, tol, relation, source.strip(),
              setting.strip(), unit)
    if display:
        _show(c)
    if not c.holds:
        raise ClaimError(f"claim {key} ({quantity}) does not hold: measured "
                         f"{measured:.6g}, paper {c.expectation}")
    if not math.isfinite(measured):  # pragma: no cover - check_number already refuses it
        raise ClaimError(f"claim {key}: measured value is not finite")
    return c


def _show(c: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(c.line())
        return
    if get_ipython() is None:
        print(c.line())
    else:
        display(c._repr_mimebundle_(), raw=True)
