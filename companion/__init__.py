"""Companion code for *{Artificial, Biological} Neural Nets*.

The shared core: :mod:`companion.device`, :mod:`companion.seeding`, :mod:`companion.data`,
:mod:`companion.samplers`, :mod:`companion.training`, :mod:`companion.plotting` and
:mod:`companion.sliders`. Each chapter has its own module (e.g. :mod:`companion.energy`
for chapter 1), imported by name: ``from companion import energy``.
"""
from .device import get_device
from .notebook import show_source
from .seeding import seed_everything
from .sliders import slider

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "show_source", "slider"]
