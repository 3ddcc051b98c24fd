"""Sliders that work in the static HTML book and in a live kernel, from one call.

``slider(frame_fn, values, label="β")`` calls ``frame_fn(value)`` (which returns a
matplotlib figure) for every value and keeps each figure as a PNG frame. What it returns
displays in two ways, and the front end picks:

* **static** (``text/html``): the frames as data URIs behind an ``<input type="range">``
  and a few lines of inline JavaScript. No kernel, no network, no CDN: it works in the
  built book, in a saved notebook, offline.
* **live** (``application/vnd.jupyter.widget-view+json``): an ipywidgets slider (>= 7.7,
  so Colab's bundled version works). It shows the precomputed frames at once and, when
  ``live_range`` is given, lets the reader pick any value in that range, calling
  ``frame_fn`` again in the kernel.

The book's build prefers the static form (``_config.yml`` drops the widget mime type) and
sets ``ABNN_STATIC_SLIDERS=1``, which leaves the live form out altogether: executed without
a reader, the widget would only add its saved state (every frame again) to the page.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import os
from typing import Callable, Optional, Sequence

import matplotlib.pyplot as plt

from ._checks import check_callable, check_int

__all__ = ["SliderFigure", "figure_to_png", "slider"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def figure_to_png(fig, dpi: int = 80, close: bool = True) -> bytes:
    """Render a matplotlib figure to PNG bytes (without a timestamp, so output is stable)."""
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_int("dpi", dpi, min_value=20, max_value=600)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    if close:
        plt.close(fig)
    return buf.getvalue()


class SliderFigure:
    """Frames of a figure over a sequence of values; displays as a static or a live slider."""

    _count = 0

    def __init__(self, frame_fn: Callable, values: Sequence, *, label: str = "value",
                 fmt: str = "{:.3g}", initial: Optional[int] = None, dpi: int = 80,
                 live_range: Optional[tuple] = None, log: bool = False,
                 alt: Optional[str] = None, description: Optional[str] = None):
        self.frame_fn = check_callable("frame_fn", frame_fn)
        values = list(values)
        if not values:
            raise ValueError("values must hold at least one value")
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        try:
            fmt.format(values[0])
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ValueError(f"fmt {fmt!r} cannot format the value {values[0]!r}: {exc}") from exc
        self.values, self.label, self.fmt = values, label, fmt
        self.initial = check_int("initial", len(values) // 2 if initial is None else initial,
                                 min_value=0, max_value=len(values) - 1)
        self.dpi = check_int("dpi", dpi, min_value=20, max_value=300)
        if live_range is not None:
            if len(live_range) != 3:
                raise ValueError(f"live_range must be (min, max, step), got {live_range!r}")
            lo, hi, step = live_range
            if not (lo < hi and step > 0) or (log and lo <= 0):
                raise ValueError(f"live_range must satisfy min < max, step > 0 (and min > 0 "
                                 f"with log=True), got {live_range!r}")
        self.live_range, self.log = live_range, bool(log)
        self.alt = alt or f"figure for {label}"
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}")
        self.description = description
        self.frames = [figure_to_png(self._figure(v), dpi=self.dpi) for v in values]
        digest = hashlib.sha1(b"".join(self.frames) + label.encode()).hexdigest()[:10]
        SliderFigure._count += 1
        self.uid = f"abnn-slider-{digest}-{SliderFigure._count}"
        self._widget = None

    def _figure(self, value):
        fig = self.frame_fn(value)
        if not hasattr(fig, "savefig"):
            raise TypeError(f"frame_fn must return a matplotlib Figure, got {type(fig).__name__}")
        return fig

    def caption(self, value) -> str:
        return f"{self.label} = {self.fmt.format(value)}"

    # ------------------------------------------------------------------ static form
    def to_html(self) -> str:
        """Self-contained HTML: the frames as data URIs, a range input and inline JavaScript."""
        uris = ["data:image/png;base64," + base64.b64encode(f).decode("ascii") for f in self.frames]
        captions = [self.caption(v) for v in self.values]
        i0, uid = self.initial, self.uid
        desc = (f'<p id="{uid}-desc" class="abnn-sr-only">{html.escape(self.description)}</p>\n'
                if self.description else "")
        described = f' aria-describedby="{uid}-desc"' if self.description else ""
        return (
            f'<div class="abnn-slider" id="{uid}" role="group" '
            f'aria-label="{html.escape(self.label)}: figure with a slider"{described} '
            f'style="max-width:100%">\n{desc}'
            f'<img id="{uid}-img" src="{uris[i0]}" alt="{html.escape(self.alt)}" '
            f'style="max-width:100%;height:auto;display:block"/>\n'
            f'<div style="display:flex;align-items:center;gap:0.8em;margin:0.3em 0">'
            f'<input type="range" id="{uid}-input" min="0" max="{len(uris) - 1}" step="1" '
            f'value="{i0}" aria-label="{html.escape(self.label)}" style="flex:1;max-width:28em"/>'
            f'<output id="{uid}-out" for="{uid}-input" style="font-family:monospace">'
            f'{html.escape(captions[i0])}</output></div>\n'
            f"<style>.jp-OutputArea-child:has(#{uid}) + .jp-OutputArea-child:not(:has(.widget-image)),"
            f".output_area:has(#{uid}) + .output_area:not(:has(.widget-image)) {{display:none}}"
            f"</style>\n"
            f'<p id="{uid}-note" class="abnn-slider-note" style="font-size:0.85em;margin:0">'
            f'This is a saved copy of the figure: run this cell (or trust the notebook) to '
            f'move the slider.</p>\n'
            f"<script>(function(){{\n"
            f"var frames={json.dumps(uris)};\nvar captions={json.dumps(captions)};\n"
            f"var input=document.getElementById('{uid}-input');\n"
            f"var img=document.getElementById('{uid}-img');\n"
            f"var out=document.getElementById('{uid}-out');\n"
            f"var note=document.getElementById('{uid}-note');\n"
            f"if(note){{note.style.display='none';}}\n"
            f"if(!input||!img||!out){{return;}}\n"
            f"input.addEventListener('input',function(){{var i=parseInt(input.value,10);"
            f"img.src=frames[i];out.textContent=captions[i];}});\n"
            f"}})();</script>\n</div>"
        )

    # -------------------------------------------------------------------- live form
    def widget(self):
        """The live ipywidgets version (built once, on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _frame_size(self) -> tuple[int, int]:
        """Width and height in pixels of the PNG frames (from the first frame's header)."""
        png = self.frames[0]
        return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")

    def _build_widget(self):
        import ipywidgets as W

        width, height = self._frame_size()
        # the frame at its native size (not stretched to the notebook's width), with the
        # slider and its caption directly below it
        image = W.Image(value=self.frames[self.initial], format="png",
                        layout=W.Layout(width=f"{width}px", height=f"{height}px",
                                        object_fit="contain"))
        caption = W.Label(self.caption(self.values[self.initial]))
        layout = W.Layout(width=f"{max(width, 320)}px")
        if self.live_range is None:
            control = W.SelectionSlider(
                options=[(self.fmt.format(v), i) for i, v in enumerate(self.values)],
                value=self.initial, description=self.label, continuous_update=True,
                readout=True, layout=layout)

            def show(change):
                i = change["new"]
                image.value = self.frames[i]
                caption.value = self.caption(self.values[i])
        else:
            lo, hi, step = self.live_range
            v0 = min(max(float(self.values[self.initial]), lo), hi)
            if self.log:
                control = W.FloatLogSlider(value=v0, base=10, min=math.log10(lo),
                                           max=math.log10(hi), step=step,
                                           description=self.label, continuous_update=False,
                                           readout_format=".3g", layout=layout)
            else:
                control = W.FloatSlider(value=v0, min=lo, max=hi, step=step,
                                        description=self.label, continuous_update=False,
                                        readout_format=".3g", layout=layout)

            def show(change):
                v = change["new"]
                image.value = figure_to_png(self._figure(v), dpi=self.dpi)
                caption.value = self.caption(v)

        control.observe(show, names="value")
        # While the live widget is on the page it hides the saved static copy displayed just
        # before it (see _ipython_display_): ipywidgets inserts an HTML widget's value as
        # markup, so this <style> applies; with no kernel the widget is gone and so is the rule.
        hide = W.HTML(f"<style>.jp-OutputArea-child:has(#{self.uid}), "
                      f".output_area:has(#{self.uid}) {{display: none;}}</style>",
                      layout=W.Layout(height="0px", margin="0px"))
        box = W.VBox([image, W.HBox([control, caption]), hide],
                     layout=W.Layout(align_items="flex-start"))
        box.control, box.image, box.caption = control, image, caption
        return box

    def _static_bundle(self) -> dict:
        return {"text/plain": f"<slider over {self.label}: {len(self.frames)} frames>",
                "text/html": self.to_html()}

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The static form (self-contained HTML), for front ends that ask for a bundle."""
        return self._static_bundle()

    def _ipython_display_(self) -> None:
        """In a live kernel: the saved static copy, then the live widget.

        The two outputs make a saved notebook robust. While the kernel runs, the widget
        hides the static copy (a <style> inside it). Reopened without a kernel, the widget's
        model is gone: the static copy shows again, and its own <style> hides the widget's
        "model not found" output that follows it; if the notebook is untrusted, its script
        does not run and one line says that the slider comes alive when the cell runs.
        Executed without a reader (``ABNN_STATIC_SLIDERS=1``: the book, the tests) only the
        static copy is displayed.
        """
        from IPython.display import display

        display(self._static_bundle(), raw=True)
        if os.environ.get("ABNN_STATIC_SLIDERS", "") not in ("", "0"):
            return
        try:
            w = self.widget()
        except Exception:  # noqa: BLE001 - no widget support: the static form still works
            return
        display({WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": w.model_id},
                 "text/plain": ""}, raw=True)

    def __repr__(self) -> str:
        return f"SliderFigure(label={self.label!r}, frames={len(self.frames)})"


def slider(frame_fn: Callable, values: Sequence, *, label: str = "value", fmt: str = "{:.3g}",
           initial: Optional[int] = None, dpi: int = 80, live_range: Optional[tuple] = None,
           log: bool = False, alt: Optional[str] = None,
           description: Optional[str] = None) -> SliderFigure:
    """A figure with a slider over ``values``, for the static book and a live kernel alike.

    ``frame_fn(value)`` returns a matplotlib figure (it is closed after rendering).
    ``label`` names the slider, ``fmt`` formats its values, ``initial`` is the index shown
    first (default: the middle). In a live kernel the slider steps through the precomputed
    ``values``; with ``live_range=(min, max, step)`` (``log=True`` for a log scale, with
    ``step`` in decades) it covers that range instead and redraws with ``frame_fn``.
    ``alt`` is the frames' alternative text (what the figure shows) and ``description`` a
    longer account for screen readers (what changes as the slider moves).
    Display the result (make it the last expression of a cell).
    """
    return SliderFigure(frame_fn, values, label=label, fmt=fmt, initial=initial, dpi=dpi,
                        live_range=live_range, log=log, alt=alt, description=description)
