import base64
import io
import re

import matplotlib.pyplot as plt
import pytest

from companion import sliders
from companion.sliders import WIDGET_MIME


def line(v):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, v])
    ax.set_ylim(0, 3)
    return fig


@pytest.fixture
def s():
    return sliders.slider(line, [0.5, 1.0, 2.0], label="beta", fmt="{:.1f}")


def test_static_html_is_self_contained(s):
    html = s.to_html()
    assert 'type="range"' in html and 'max="2"' in html and 'value="1"' in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html), "no network requests"
    assert "<script src" not in html
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(set(frames)) == 3, "one distinct frame per value"
    png = base64.b64decode(frames[0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_frames_show_the_figure_for_each_value(s):
    # the frame for value v equals a fresh rendering of line(v)
    for v, frame in zip(s.values, s.frames):
        assert frame == sliders.figure_to_png(line(v), dpi=s.dpi)
    assert len(set(s.frames)) == 3


def test_display_gives_the_static_copy_then_the_live_widget(s, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.delenv("ABNN_STATIC_SLIDERS", raising=False)
    s._ipython_display_()
    assert len(shown) == 2
    assert "text/html" in shown[0] and WIDGET_MIME not in shown[0]
    assert shown[1][WIDGET_MIME]["model_id"] == s.widget().model_id
    # the widget hides the static copy while it lives; the copy hides a dead widget after it
    assert f":has(#{s.uid})" in s.widget().children[-1].value
    assert f":has(#{s.uid}) + " in shown[0]["text/html"]
    monkeypatch.setenv("ABNN_STATIC_SLIDERS", "1")
    shown.clear()
    s._ipython_display_()
    assert len(shown) == 1 and WIDGET_MIME not in shown[0]
    assert WIDGET_MIME not in s._repr_mimebundle_()


def test_live_frame_keeps_its_native_size_and_log_values_are_rounded():
    s = sliders.slider(line, [0.01, 0.1, 1.0], label="beta", live_range=(0.01, 10, 0.1),
                       log=True)
    w = s.widget()
    width, height = s._frame_size()
    png = s.frames[0]
    assert png[12:16] == b"IHDR" and (width, height) == (160, 120)   # figsize (2, 1.5) at 80 dpi
    assert w.image.layout.width == f"{width}px" and w.image.layout.height == f"{height}px"
    assert w.control.readout_format == ".3g"
    assert w.layout.align_items == "flex-start", "the frame is not stretched to the cell width"


def test_live_slider_switches_frames(s):
    w = s.widget()
    assert w.image.value == s.frames[1]
    w.control.value = 2
    assert w.image.value == s.frames[2] and w.caption.value == "beta = 2.0"


def test_live_range_redraws_with_the_frame_function():
    calls = []

    def frame(v):
        calls.append(v)
        return line(v)

    s = sliders.slider(frame, [1.0, 2.0], label="x", live_range=(0.0, 3.0, 0.5))
    w = s.widget()
    w.control.value = 2.5
    assert calls[-1] == 2.5 and w.image.value == sliders.figure_to_png(line(2.5), dpi=s.dpi)


def test_figures_are_closed_after_rendering(s):
    assert plt.get_fignums() == []


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(values=[]), ValueError, "values must hold at least one value"),
    (dict(initial=5), ValueError, "initial must be <= 2"),
    (dict(fmt="{:d}"), ValueError, "fmt '{:d}' cannot format"),
    (dict(live_range=(1, 0, 0.1)), ValueError, "live_range must satisfy"),
    (dict(live_range=(0, 1)), ValueError, r"live_range must be \(min, max, step\)"),
    (dict(label=3), TypeError, "label must be a string"),
])
def test_bad_input_gets_a_clear_error(kwargs, exc, msg):
    args = dict(values=[0.5, 1.0, 2.0])
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        sliders.slider(line, **args)


def test_frame_function_must_return_a_figure():
    with pytest.raises(TypeError, match="frame_fn must return a matplotlib Figure"):
        sliders.slider(lambda v: v, [1])
    with pytest.raises(TypeError, match="frame_fn must be callable"):
        sliders.slider(None, [1])


def test_static_only_when_executing_without_a_reader(s, monkeypatch):
    monkeypatch.setenv("ABNN_STATIC_SLIDERS", "1")
    bundle = s._repr_mimebundle_()
    assert WIDGET_MIME not in bundle and "text/html" in bundle
