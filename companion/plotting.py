"""Figures: one call per figure, labelled axes, the book's look.

Each function draws on ``ax`` if given (so figures can be composed) or on a new figure,
and returns ``(fig, ax)``. Energies are evaluated under ``torch.no_grad`` on the CPU
unless a ``device`` is given.
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from ._checks import check_callable, check_int, check_interval, check_tensor

__all__ = [
    "curves",
    "energy_landscape",
    "evaluate_on_grid",
    "histograms",
    "image_grid",
    "new_axes",
    "plot_paths",
    "scatter_2d",
]

ArrayLike = Union[Tensor, np.ndarray, Sequence[float]]


def _np(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a NumPy array of numbers, refusing NaN and infinity (naming ``name``)."""
    try:
        a = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{name} must hold finite values, got NaN or infinity")
    return a


def new_axes(ax=None, figsize=(4.5, 4.0)):
    """``(fig, ax)``: the figure of ``ax``, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


@torch.no_grad()
def evaluate_on_grid(fn: Callable[[Tensor], Tensor], xlim=(-3, 3), ylim=(-3, 3), n: int = 150,
                     device=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate ``fn`` ((B, 2) -> (B,)) on an ``n`` x ``n`` grid; returns X, Y, Z arrays (n, n)."""
    check_callable("fn", fn)
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    n = check_int("n", n, min_value=2)
    xs = torch.linspace(*xlim, n)
    ys = torch.linspace(*ylim, n)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    if device is not None:
        pts = pts.to(device)
    z = fn(pts)
    if not isinstance(z, Tensor) or z.shape != (n * n,):
        raise ValueError(f"fn must map points of shape ({n * n}, 2) to shape ({n * n},)")
    return gx.numpy(), gy.numpy(), z.reshape(n, n).float().cpu().numpy()


def energy_landscape(energy_fn: Callable[[Tensor], Tensor], *, xlim=(-3, 3), ylim=(-3, 3),
                     n: int = 150, ax=None, levels: int = 30, cmap: str = "viridis",
                     title: Optional[str] = None, xlabel: str = "$y_1$", ylabel: str = "$y_2$",
                     colorbar: bool = True, clip_quantile: Optional[float] = 0.98,
                     cbar_label: str = "energy", device=None):
    """Filled contours of a 2-D energy ``energy_fn`` ((B, 2) -> (B,)); returns ``(fig, ax)``.

    (Any scalar field works, e.g. a density: set ``cbar_label`` accordingly.)

    ``clip_quantile`` caps the colour scale at that quantile of the energy, so that a few
    huge values far from the minima do not wash out the structure near them.
    """
    check_callable("energy_fn", energy_fn)
    levels = check_int("levels", levels, min_value=2)
    X, Y, Z = evaluate_on_grid(energy_fn, xlim, ylim, n, device)
    fig, ax = new_axes(ax)
    vmax = float(np.quantile(Z, clip_quantile)) if clip_quantile else float(Z.max())
    vmin = float(Z.min())
    if not vmax > vmin:
        vmax = vmin + 1e-6
    cs = ax.contourf(X, Y, np.minimum(Z, vmax), levels=np.linspace(vmin, vmax, levels),
                     cmap=cmap, extend="max" if clip_quantile else "neither")
    if colorbar:
        fig.colorbar(cs, ax=ax, label=cbar_label)
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim, aspect="equal")
    if title:
        ax.set_title(title)
    return fig, ax


def plot_paths(paths: ArrayLike, ax=None, *, color: str = "white", start_color: str = "red",
               end_color: str = "orange", label: Optional[str] = None, lw: float = 1.2):
    """Draw trajectories ``paths`` of shape (T, B, 2): lines, a dot at each start, a star at each end."""
    p = _np(paths, "paths")
    if p.ndim != 3 or p.shape[-1] != 2 or p.size == 0:
        raise ValueError(f"paths must have shape (T, B, 2), got {p.shape}")
    fig, ax = new_axes(ax)
    for b in range(p.shape[1]):
        ax.plot(p[:, b, 0], p[:, b, 1], color=color, lw=lw, alpha=0.9,
                label=label if b == 0 else None)
    ax.scatter(p[0, :, 0], p[0, :, 1], s=18, color=start_color, zorder=3, label="start")
    ax.scatter(p[-1, :, 0], p[-1, :, 1], s=70, marker="*", color=end_color, zorder=4,
               edgecolor="black", linewidth=0.5, label="end")
    return fig, ax


def scatter_2d(points: ArrayLike, ax=None, *, labels: Optional[ArrayLike] = None,
               centers: Optional[ArrayLike] = None, lim: Optional[float] = None, s: float = 4,
               alpha: float = 0.5, title: Optional[str] = None, xlabel: str = "$x_1$",
               ylabel: str = "$x_2$", color: str = "C0", label: Optional[str] = None):
    """Scatter plot of 2-D points (n, 2), coloured by integer ``labels`` if given; ``centers`` as crosses."""
    p = _np(points, "points")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {p.shape}")
    fig, ax = new_axes(ax)
    if labels is not None:
        sc = ax.scatter(p[:, 0], p[:, 1], c=_np(labels, "labels"), cmap="tab10", s=s, alpha=alpha)
        fig.colorbar(sc, ax=ax, label="label")
    else:
        ax.scatter(p[:, 0], p[:, 1], s=s, alpha=alpha, color=color, label=label)
    if centers is not None:
        c = _np(centers, "centers")
        ax.scatter(c[:, 0], c[:, 1], marker="x", s=60, color="black", label="mode centres")
    if lim is not None:
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
    ax.set(xlabel=xlabel, ylabel=ylabel, aspect="equal")
    if title:
        ax.set_title(title)
    return fig, ax


def image_grid(images: Tensor, *, nrow: int = 10, ax=None, title: Optional[str] = None,
               image_shape: Optional[tuple[int, int]] = None, padding: int = 2,
               value_range: Optional[tuple[float, float]] = (0.0, 1.0), cmap: str = "gray",
               figsize=(5, 5)):
    """Show a batch of images as a grid, made with ``torchvision.utils.make_grid``.

    ``images``: (N, C, H, W), (N, H, W), or (N, D) flattened with ``image_shape=(H, W)``
    (square images are unflattened automatically). ``value_range`` fixes the grey scale
    (``None`` rescales the whole grid to its own min and max).
    """
    from torchvision.utils import make_grid

    check_tensor("images", images, ndim=(2, 3, 4), nonempty=True)
    if images.dim() == 4 and images.shape[1] not in (1, 3):
        raise ValueError(f"images of shape (N, C, H, W) must have 1 or 3 channels, got shape "
                         f"{tuple(images.shape)}")
    nrow = check_int("nrow", nrow, min_value=1)
    x = images.detach().float().cpu()
    if x.dim() == 2:
        if image_shape is None:
            side = int(round(x.shape[1] ** 0.5))
            if side * side != x.shape[1]:
                raise ValueError(f"images of {x.shape[1]} values are not square; pass image_shape")
            image_shape = (side, side)
        x = x.reshape(x.shape[0], 1, *image_shape)
    elif x.dim() == 3:
        x = x.unsqueeze(1)
    if value_range is None:
        lo, hi = x.min().item(), x.max().item()
    else:
        lo, hi = value_range
    x = ((x - lo) / max(hi - lo, 1e-12)).clamp(0, 1)
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=1.0)
    fig, ax = new_axes(ax, figsize=figsize)
    img = grid.permute(1, 2, 0).numpy()
    ax.imshow(img[..., 0] if img.shape[-1] in (1, 3) and x.shape[1] == 1 else img,
              cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig, ax


def curves(series: Mapping[str, ArrayLike], *, x: Optional[ArrayLike] = None, ax=None,
           xlabel: str = "step", ylabel: str = "", title: Optional[str] = None,
           logx: bool = False, logy: bool = False, hline: Optional[float] = None,
           hline_label: Optional[str] = None, markers: bool = False):
    """Line plot of named series (name -> values) against ``x`` (default 0, 1, 2, ...)."""
    if not isinstance(series, Mapping) or not series:
        raise TypeError("series must be a non-empty mapping from names to sequences of values")
    fig, ax = new_axes(ax, figsize=(5.5, 3.6))
    for name, values in series.items():
        v = _np(values, f"series[{name!r}]")
        xs = _np(x, "x") if x is not None else np.arange(len(v))
        ax.plot(xs, v, marker="o" if markers else None, ms=3, label=name)
    if hline is not None:
        ax.axhline(hline, color="gray", ls="--", lw=1, label=hline_label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return fig, ax


def histograms(samples: Mapping[str, ArrayLike], *, ax=None, bins: int = 50,
               xlabel: str = "", title: Optional[str] = None, density: bool = True):
    """Overlaid histograms of named samples (name -> values)."""
    if not isinstance(samples, Mapping) or not samples:
        raise TypeError("samples must be a non-empty mapping from names to arrays")
    bins = check_int("bins", bins, min_value=1)
    fig, ax = new_axes(ax, figsize=(5.5, 3.6))
    arrays = {k: _np(v, f"samples[{k!r}]").ravel() for k, v in samples.items()}
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for name, a in arrays.items():
        ax.hist(a, bins=edges, density=density, alpha=0.55, label=name)
    ax.set(xlabel=xlabel, ylabel="density" if density else "count")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return fig, ax
