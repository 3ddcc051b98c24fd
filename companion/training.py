"""A short training loop with a progress bar, and nothing else: no framework.

``fit(step_fn, optimizer, data, ...)`` draws mini-batches, calls ``step_fn(batch)`` for the
loss, back-propagates, steps the optimizer and records what ``step_fn`` reports. The model,
its loss and its sampler stay where the reader can see them: in the chapter's module.

In Jupyter and Colab the progress bar is a widget; it is switched off with ``progress=False``
or the environment variable ``TQDM_DISABLE=1`` (the book's build sets it, so built pages
show results, not progress bars).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ._checks import check_callable, check_generator, check_int, check_number, check_tensor
from .seeding import randperm

__all__ = ["History", "Snapshots", "batches", "fit", "knn_accuracy"]

Data = Union[Tensor, Sequence[Tensor]]


@dataclass
class History:
    """What :func:`fit` recorded: one value per step for each metric, and the wall time."""

    metrics: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; recorded: {sorted(self.metrics)}")
        return self.metrics[name]

    def __len__(self) -> int:
        return max((len(v) for v in self.metrics.values()), default=0)

    def record(self, values: Mapping[str, float]) -> None:
        for k, v in values.items():
            self.metrics.setdefault(k, []).append(float(v))

    def mean_last(self, name: str, n: int = 50) -> float:
        """Mean of the last ``n`` recorded values of ``name``."""
        values = self[name][-check_int("n", n, min_value=1):]
        return sum(values) / len(values)

    def smoothed(self, name: str, window: int = 25) -> list[float]:
        """Running mean of ``name`` over ``window`` steps (for plots)."""
        window = check_int("window", window, min_value=1)
        values, out, acc = self[name], [], 0.0
        for i, v in enumerate(values):
            acc += v
            if i >= window:
                acc -= values[i - window]
            out.append(acc / min(i + 1, window))
        return out


class Snapshots:
    """A :func:`fit` callback that keeps a copy of ``model``'s weights every ``every`` steps
    (and at step 0, when created), plus whatever ``extra()`` returns at those steps: the
    frames of a slider over training."""

    def __init__(self, model: torch.nn.Module, every: int,
                 extra: Optional[Callable[[], object]] = None):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model, self.every, self.extra = model, check_int("every", every, min_value=1), extra
        if extra is not None:
            check_callable("extra", extra)
        self.steps: list[int] = []
        self.states: dict[int, dict] = {}
        self.extras: dict[int, object] = {}
        self._keep(0)

    def _keep(self, step: int) -> None:
        self.steps.append(step)
        self.states[step] = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        if self.extra is not None:
            self.extras[step] = self.extra()

    def __call__(self, step: int, history: History) -> None:
        if step % self.every == 0:
            self._keep(step)

    def load(self, step: int, into: torch.nn.Module) -> torch.nn.Module:
        """Load the weights kept at ``step`` into ``into`` (a module of the same shape)."""
        if step not in self.states:
            raise KeyError(f"no snapshot at step {step}; kept: {self.steps}")
        into.load_state_dict(self.states[step])
        return into


@torch.no_grad()
def knn_accuracy(z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor,
                 k: int = 5) -> float:
    """Accuracy of a ``k``-nearest-neighbour vote (Euclidean) in an embedding space.

    ``z_train`` (N, d) and ``z_test`` (M, d) are embeddings, ``y_train`` (N,) and ``y_test``
    (M,) their integer labels; ``k`` <= N neighbours vote.
    """
    check_tensor("z_train", z_train, ndim=2, floating=True, min_batch=1)
    check_tensor("z_test", z_test, ndim=2, floating=True, min_batch=1)
    for name, y, z in (("y_train", y_train, z_train), ("y_test", y_test, z_test)):
        check_tensor(name, y, ndim=1)
        if y.is_floating_point() or y.is_complex():
            raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
        if len(y) != len(z):
            raise ValueError(f"{name} must hold one label per row of "
                             f"{'z_train' if name == 'y_train' else 'z_test'}, got {len(y)} "
                             f"labels for {len(z)} rows")
    k = check_int("k", k, min_value=1, max_value=len(z_train))
    if z_train.shape[1:] != z_test.shape[1:]:
        raise ValueError(f"z_train and z_test must have the same width, got "
                         f"{tuple(z_train.shape)} and {tuple(z_test.shape)}")
    nearest = torch.cdist(z_test, z_train).topk(k, largest=False).indices
    votes = y_train[nearest]                                   # (n_test, k)
    return float((votes.mode(dim=1).values == y_test).float().mean())


def _as_tuple(name: str, data: Data) -> tuple[Tensor, ...]:
    tensors = (data,) if isinstance(data, Tensor) else tuple(data)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{name} must be a tensor or a sequence of tensors")
    n = tensors[0].shape[0] if tensors[0].dim() else 0
    if n == 0 or any(t.dim() == 0 or t.shape[0] != n for t in tensors):
        raise ValueError(f"{name} tensors must share a non-empty first dimension, got shapes "
                         f"{[tuple(t.shape) for t in tensors]}")
    return tensors


def batches(data: Data, batch_size: int, generator: Optional[torch.Generator] = None, *,
            shuffle: bool = True, drop_last: bool = True) -> Iterator:
    """One epoch of mini-batches of ``data`` (a tensor or tensors sharing the first axis).

    Yields a tensor (or a tuple of tensors) per batch, in an order drawn with ``generator``.
    """
    tensors = _as_tuple("data", data)
    n = tensors[0].shape[0]
    batch_size = check_int("batch_size", batch_size, min_value=1)
    check_generator("generator", generator)
    order = randperm(n, generator, tensors[0].device) if shuffle else torch.arange(
        n, device=tensors[0].device)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        picked = tuple(t[idx] for t in tensors)
        yield picked[0] if isinstance(data, Tensor) else picked


def fit(step_fn: Callable, optimizer: Optional[torch.optim.Optimizer], data: Data, *,
        batch_size: int, n_steps: Optional[int] = None, n_epochs: Optional[int] = None,
        generator: Optional[torch.Generator] = None, clip_grad_norm: Optional[float] = None,
        scheduler=None, progress: bool = True, desc: str = "training",
        callback: Optional[Callable[[int, History], None]] = None) -> History:
    """Train for ``n_steps`` mini-batches (or ``n_epochs`` passes) over ``data``.

    ``step_fn(batch)`` returns the loss, a scalar tensor, or a dict with key ``"loss"`` and
    any other numbers to record. When ``optimizer`` is given, ``fit`` zeroes the
    gradients, calls ``loss.backward()``, clips the gradient norm to ``clip_grad_norm`` if
    set, and steps (then steps ``scheduler``, a ``torch.optim.lr_scheduler`` object, if
    given). With ``optimizer=None``, ``step_fn`` updates the parameters itself (e.g.
    a Hebbian or wake-sleep rule) and may return plain numbers. ``callback(step, history)``
    runs after every step. Returns the :class:`History` of every recorded value.
    """
    check_callable("step_fn", step_fn)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or None, "
                        f"got {type(optimizer).__name__}")
    tensors = _as_tuple("data", data)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    if (n_steps is None) == (n_epochs is None):
        raise ValueError("give exactly one of n_steps and n_epochs")
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, min_value=1)
        per_epoch = max(1, tensors[0].shape[0] // batch_size)
        n_steps = n_epochs * per_epoch
    n_steps = check_int("n_steps", n_steps, min_value=1)
    if clip_grad_norm is not None:
        clip_grad_norm = check_number("clip_grad_norm", clip_grad_norm, positive=True)
    if callback is not None:
        check_callable("callback", callback)
    if scheduler is not None and not hasattr(scheduler, "step"):
        raise TypeError(f"scheduler must be a torch.optim.lr_scheduler object, "
                        f"got {type(scheduler).__name__}")
    params = ([p for group in optimizer.param_groups for p in group["params"]]
              if optimizer is not None else [])

    history = History()
    # tqdm's notebook bar ignores TQDM_DISABLE, so honour it here for every front end
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):
        progress = False
    bar = tqdm(total=n_steps, desc=desc, leave=False, disable=not progress)
    start = time.perf_counter()
    step = 0
    try:
        while step < n_steps:
            for batch in batches(data, batch_size, generator):
                out = step_fn(batch)
                if isinstance(out, Mapping) and "loss" not in out:
                    raise ValueError(f"a dict returned by step_fn must contain a 'loss' entry, "
                                     f"got keys {sorted(out)}")
                loss = out["loss"] if isinstance(out, Mapping) else out
                if optimizer is not None:
                    if not isinstance(loss, Tensor) or loss.dim() != 0:
                        raise ValueError("step_fn must return a scalar loss tensor when an "
                                         "optimizer is given")
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if clip_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                record = dict(out) if isinstance(out, Mapping) else {"loss": out}
                history.record({k: (v.detach().item() if isinstance(v, Tensor) else v)
                                for k, v in record.items()})
                step += 1
                bar.update(1)
                if step % 25 == 0 or step == n_steps:
                    bar.set_postfix(loss=f"{history['loss'][-1]:.4g}")
                if callback is not None:
                    callback(step, history)
                if step >= n_steps:
                    break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
    return history
