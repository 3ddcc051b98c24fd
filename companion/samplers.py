r"""MCMC samplers, written once and used by every chapter that samples.

Every sampler takes the energy as an argument: ``energy_fn(x)`` maps a batch of states
``x`` of shape (B, ...) to energies of shape (B,), and the target distribution is
$p(x) \propto \exp(-E(x))$ (the book's one sign convention). Each row of ``x`` is an
independent chain. Randomness comes from an explicit ``torch.Generator``.

* :func:`langevin`: the unadjusted Langevin algorithm,
  $x_{t+1} = x_t - \eta \nabla E(x_t) + \sqrt{2\eta}\,\xi_t$, $\xi_t \sim \mathcal N(0, I)$.
* :func:`mala`: the Metropolis-adjusted Langevin algorithm: a Langevin step as the
  proposal, accepted or rejected so that $e^{-E}$ is exactly stationary.
* :func:`metropolis_hastings`: random-walk Metropolis with a Gaussian proposal.
* :func:`gibbs`: single-site Gibbs sampling for states whose coordinates take a few
  discrete values (binary units, spins).
* :class:`ReplayBuffer`: persistent chains with random restarts, as in Du and Mordatch
  (2019): short Langevin runs start from earlier samples, a few from fresh noise.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor

from ._checks import (check_callable, check_generator, check_int, check_interval,
                      check_number, check_numbers, check_probability, check_tensor)
from .seeding import rand, randn, randperm

__all__ = ["ReplayBuffer", "energy_and_grad", "gibbs", "langevin", "mala", "metropolis_hastings"]

EnergyFn = Callable[[Tensor], Tensor]


def _energies(energy_fn: EnergyFn, x: Tensor) -> Tensor:
    e = energy_fn(x)
    if not isinstance(e, Tensor) or e.shape != x.shape[:1]:
        got = tuple(e.shape) if isinstance(e, Tensor) else type(e).__name__
        raise ValueError(f"energy_fn must map a batch of shape {tuple(x.shape)} to energies of "
                         f"shape ({x.shape[0]},), got {got}")
    return e


def energy_and_grad(energy_fn: EnergyFn, x: Tensor) -> tuple[Tensor, Tensor]:
    r"""$E(x)$ and $\nabla_x E(x)$ for a batch ``x``; both detached.

    Gradients flow only to ``x``: the parameters of a model used as ``energy_fn`` are not
    touched (their ``.grad`` stays as it was).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x", x, floating=True)
    if x.dim() == 0:
        raise ValueError("x must be a batch of states (B, ...), got a 0-dimensional tensor")
    return _energy_and_grad(energy_fn, x)


def _energy_and_grad(energy_fn: EnergyFn, x: Tensor) -> tuple[Tensor, Tensor]:
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        e = _energies(energy_fn, x)
        (grad,) = torch.autograd.grad(e.sum(), x)
    return e.detach(), grad.detach()


def langevin(energy_fn: EnergyFn, x0: Tensor, *, n_steps: int, step_size: float,
             generator: Optional[torch.Generator] = None, noise_scale: float = 1.0,
             grad_clip: Optional[float] = None, bounds: Optional[tuple[float, float]] = None,
             noise: Optional[Tensor] = None,
             return_trajectory: bool = False) -> Union[Tensor, tuple[Tensor, Tensor]]:
    r"""Run the unadjusted Langevin algorithm from ``x0`` for ``n_steps`` steps.

    $$x_{t+1} = x_t - \eta\,\nabla_x E(x_t) + s\,\sqrt{2\eta}\;\xi_t,\qquad
      \xi_t \sim \mathcal N(0, I)$$

    with step size $\eta$ = ``step_size`` and $s$ = ``noise_scale``. With $s = 1$ the chain
    samples $p(x) \propto e^{-E(x)}$ up to a discretisation bias that vanishes as
    $\eta \to 0$ (for a Gaussian of variance $\sigma^2$ the chain's stationary variance is
    $\sigma^2 / (1 - \eta / 2\sigma^2)$). Energy-based models are often trained with
    $s < 1$, which samples a colder distribution.

    ``grad_clip`` clips each gradient coordinate to [-grad_clip, grad_clip]; ``bounds``
    clamps the states after each step; ``noise`` (n_steps, *x0.shape) replaces the random
    draws (for tests). Returns the final states, and with ``return_trajectory`` also the
    states at every step, (n_steps + 1, *x0.shape).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x0", x0, floating=True, min_batch=1)
    n_steps = check_int("n_steps", n_steps, min_value=0)
    step_size = check_number("step_size", step_size, positive=True)
    noise_scale = check_number("noise_scale", noise_scale, nonnegative=True)
    check_generator("generator", generator)
    if grad_clip is not None:
        grad_clip = check_number("grad_clip", grad_clip, positive=True)
    if bounds is not None:
        bounds = check_interval("bounds", bounds)
    if noise is not None:
        check_tensor("noise", noise, floating=True)
        if noise.shape != (n_steps, *x0.shape):
            raise ValueError(f"noise must have shape (n_steps, *x0.shape) = {(n_steps, *x0.shape)}, "
                             f"got {tuple(noise.shape)}")
    std = noise_scale * math.sqrt(2.0 * step_size)
    x = x0.detach().clone()
    path = [x] if return_trajectory else None
    for t in range(n_steps):
        _, grad = _energy_and_grad(energy_fn, x)
        if grad_clip is not None:
            grad = grad.clamp(-grad_clip, grad_clip)
        xi = noise[t] if noise is not None else randn(x.shape, generator, x.device, x.dtype)
        x = x - step_size * grad + std * xi
        if bounds is not None:
            x = x.clamp(bounds[0], bounds[1])
        if path is not None:
            path.append(x)
    if not torch.isfinite(x.sum()) and not torch.isfinite(x).all():
        raise ValueError(f"the Langevin chain diverged (states not finite after {n_steps} steps): "
                         f"lower step_size (got {step_size}), or pass grad_clip or bounds")
    if path is not None:
        return x, torch.stack(path)
    return x


def _metropolis_test(log_a: Tensor, x: Tensor, generator: Optional[torch.Generator]
                     ) -> tuple[Tensor, Tensor]:
    """Accept each chain's proposal with probability min(1, exp(log_a)): returns the (B,)
    decisions and the same as a mask that broadcasts against ``x`` (B, ...)."""
    log_u = rand(log_a.shape, generator, x.device, log_a.dtype).clamp_min(1e-30).log()
    accept = log_u < log_a
    return accept, accept.view(-1, *([1] * (x.dim() - 1)))


def _chain_result(x: Tensor, accepted: Tensor, n_steps: int, path: Optional[list]):
    """``(x, acceptance_rate)``, and the stacked trajectory when one was kept."""
    rate = (accepted / max(1, n_steps * x.shape[0])).item()
    if path is not None:
        return x, rate, torch.stack(path)
    return x, rate


def mala(energy_fn: EnergyFn, x0: Tensor, *, n_steps: int, step_size: float,
         generator: Optional[torch.Generator] = None, return_trajectory: bool = False):
    r"""The Metropolis-adjusted Langevin algorithm (MALA) targeting $p(x) \propto e^{-E(x)}$.

    Each step proposes a Langevin move and corrects it by a Metropolis-Hastings test:

    $$x' = x - \eta\,\nabla E(x) + \sqrt{2\eta}\,\xi,\qquad
      \log a = -E(x') + E(x) - \frac{\lVert x - x' + \eta\nabla E(x')\rVert^2
      - \lVert x' - x + \eta\nabla E(x)\rVert^2}{4\eta},$$

    accepting $x'$ with probability $\min(1, a)$. The proposal is the step of
    :func:`langevin`; the test makes the chain reversible with respect to $e^{-E}$, so the
    discretisation bias of the unadjusted algorithm is gone at every step size $\eta$
    (Roberts and Tweedie, 1996). Each row of ``x0`` (B, ...) is an independent chain.

    Returns ``(x, acceptance_rate)``, or ``(x, acceptance_rate, trajectory)`` with
    ``return_trajectory`` (trajectory: (n_steps + 1, *x0.shape)).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x0", x0, floating=True, min_batch=1)
    n_steps = check_int("n_steps", n_steps, min_value=0)
    step_size = check_number("step_size", step_size, positive=True)
    check_generator("generator", generator)
    eta = step_size
    x = x0.detach().clone()
    e, grad = energy_and_grad(energy_fn, x)
    dims = tuple(range(1, x.dim()))
    accepted = torch.zeros((), device=x.device)
    path = [x] if return_trajectory else None
    for _ in range(n_steps):
        prop = x - eta * grad + math.sqrt(2 * eta) * randn(x.shape, generator, x.device, x.dtype)
        e_prop, grad_prop = energy_and_grad(energy_fn, prop)
        log_q_forward = -((prop - x + eta * grad) ** 2).sum(dims) / (4 * eta)   # log q(x'|x)
        log_q_reverse = -((x - prop + eta * grad_prop) ** 2).sum(dims) / (4 * eta)  # log q(x|x')
        accept, mask = _metropolis_test(-e_prop + e + log_q_reverse - log_q_forward, x, generator)
        x = torch.where(mask, prop, x)
        e = torch.where(accept, e_prop, e)
        grad = torch.where(mask, grad_prop, grad)
        accepted += accept.sum()
        if path is not None:
            path.append(x)
    return _chain_result(x, accepted, n_steps, path)


@torch.no_grad()
def metropolis_hastings(energy_fn: EnergyFn, x0: Tensor, *, n_steps: int, proposal_std: float,
                        generator: Optional[torch.Generator] = None, beta: float = 1.0,
                        return_trajectory: bool = False):
    r"""Random-walk Metropolis-Hastings targeting $p(x) \propto e^{-\beta E(x)}$.

    Proposes $x' = x + \sigma\,\xi$ ($\sigma$ = ``proposal_std``), which is symmetric, and
    accepts with probability $\min\{1, e^{-\beta (E(x') - E(x))}\}$. Unlike
    :func:`langevin` it has no discretisation bias.

    Returns ``(x, acceptance_rate)``, or ``(x, acceptance_rate, trajectory)`` with
    ``return_trajectory`` (trajectory: (n_steps + 1, *x0.shape)).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x0", x0, floating=True, min_batch=1)
    n_steps = check_int("n_steps", n_steps, min_value=0)
    proposal_std = check_number("proposal_std", proposal_std, positive=True)
    beta = check_number("beta", beta, positive=True)
    check_generator("generator", generator)
    x = x0.clone()
    e = _energies(energy_fn, x)
    accepted = torch.zeros((), device=x.device)
    path = [x] if return_trajectory else None
    for _ in range(n_steps):
        proposal = x + proposal_std * randn(x.shape, generator, x.device, x.dtype)
        e_new = _energies(energy_fn, proposal)
        accept, mask = _metropolis_test(-beta * (e_new - e), x, generator)
        x = torch.where(mask, proposal, x)
        e = torch.where(accept, e_new, e)
        accepted += accept.sum()
        if path is not None:
            path.append(x)
    return _chain_result(x, accepted, n_steps, path)


@torch.no_grad()
def gibbs(energy_fn: EnergyFn, x0: Tensor, *, n_sweeps: int,
          generator: Optional[torch.Generator] = None, values: Sequence[float] = (0.0, 1.0),
          beta: float = 1.0, return_trajectory: bool = False):
    r"""Single-site Gibbs sampling for $p(x) \propto e^{-\beta E(x)}$ on discrete states.

    ``x0`` is (B, D); every coordinate takes one of ``values`` (e.g. (0, 1) for binary
    units, (-1, 1) for spins). One sweep visits the coordinates in order and redraws each
    from its exact conditional
    $p(x_i = v \mid x_{-i}) = e^{-\beta E(x_{i \leftarrow v})} / \sum_{u} e^{-\beta E(x_{i \leftarrow u})}$,
    computed from the energy alone (|values| energy evaluations per coordinate).
    Returns the final states, and with ``return_trajectory`` also the states after every
    sweep, (n_sweeps + 1, B, D).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x0", x0, ndim=2, floating=True, min_batch=1)
    n_sweeps = check_int("n_sweeps", n_sweeps, min_value=0)
    beta = check_number("beta", beta, positive=True)
    check_generator("generator", generator)
    vals = check_numbers("values", values)
    if len(vals) < 2:
        raise ValueError(f"values must list at least two states, got {values!r}")
    vals = torch.as_tensor(vals, dtype=x0.dtype, device=x0.device)
    if len(torch.unique(vals)) != len(vals):
        raise ValueError(f"values must list distinct states, got {values!r}")
    if not torch.isin(x0, vals).all():
        raise ValueError(f"x0 must contain only the values {tuple(vals.tolist())}")
    x = x0.clone()
    path = [x.clone()] if return_trajectory else None
    for _ in range(n_sweeps):
        for i in range(x.shape[1]):
            energies = []
            for v in vals:
                x[:, i] = v
                energies.append(_energies(energy_fn, x))
            logits = -beta * torch.stack(energies, dim=1)            # (B, |values|)
            probs = torch.softmax(logits, dim=1)
            u = rand((x.shape[0], 1), generator, x.device, probs.dtype)
            choice = (probs.cumsum(dim=1) < u).sum(dim=1).clamp_max(len(vals) - 1)
            x[:, i] = vals[choice]
        if path is not None:
            path.append(x.clone())
    if path is not None:
        return x, torch.stack(path)
    return x


class ReplayBuffer:
    r"""A buffer of persistent chains with random restarts (Du and Mordatch, 2019).

    Holds ``capacity`` states. :meth:`sample` draws ``n`` of them at random and replaces
    each, with probability ``reinit_prob``, by a fresh state from ``init_fn``; the caller
    advances them (e.g. with :func:`langevin`) and writes them back with :meth:`update`.
    With ``reinit_prob = 0`` each slot is a persistent Markov chain, so the buffer's
    contents converge to the sampler's stationary distribution.

    ``init_fn(n, generator)`` returns ``n`` fresh states (the initial noise).
    """

    def __init__(self, capacity: int, init_fn: Callable[[int, Optional[torch.Generator]], Tensor],
                 *, reinit_prob: float = 0.05, generator: Optional[torch.Generator] = None):
        self.capacity = check_int("capacity", capacity, min_value=1)
        self.init_fn = check_callable("init_fn", init_fn)
        self.reinit_prob = check_probability("reinit_prob", reinit_prob)
        check_generator("generator", generator)
        states = init_fn(self.capacity, generator)
        check_tensor("init_fn(capacity, generator)", states, floating=True)
        if states.dim() == 0 or states.shape[0] != self.capacity:
            raise ValueError(f"init_fn must return {self.capacity} states, got shape "
                             f"{tuple(states.shape)}")
        self.states = states.detach().clone()

    def __len__(self) -> int:
        return self.capacity

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> tuple[Tensor, Tensor]:
        """``n`` states from distinct slots, and the slots' indices; each state is, with
        probability ``reinit_prob``, replaced by a fresh one from ``init_fn``."""
        n = check_int("n", n, min_value=1, max_value=self.capacity)
        check_generator("generator", generator)
        device = self.states.device
        idx = randperm(self.capacity, generator, device)[:n]  # distinct slots
        x = self.states[idx].clone()
        if self.reinit_prob > 0:
            fresh = rand((n,), generator, device) < self.reinit_prob
            k = int(fresh.sum().item())
            if k:
                new = self.init_fn(k, generator)
                check_tensor("init_fn(n, generator)", new, floating=True)
                if new.shape != (k, *x.shape[1:]):
                    raise ValueError(f"init_fn must return {k} states of shape "
                                     f"{tuple(x.shape[1:])}, got shape {tuple(new.shape)}")
                x[fresh] = new.to(device=device, dtype=x.dtype)
        return x, idx

    def update(self, idx: Tensor, x: Tensor) -> None:
        """Write the advanced states ``x`` back into slots ``idx``."""
        check_tensor("idx", idx, ndim=1)
        check_tensor("x", x, floating=True)
        if idx.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
            raise TypeError(f"idx must be an integer tensor of slot indices, got dtype {idx.dtype}")
        if idx.numel() and not (0 <= int(idx.min()) and int(idx.max()) < self.capacity):
            raise ValueError(f"idx must hold slot indices in [0, {self.capacity - 1}], got values "
                             f"from {int(idx.min())} to {int(idx.max())}")
        if x.dim() == 0 or x.shape[0] != idx.shape[0]:
            raise ValueError(f"x must hold one state per entry of idx ({idx.shape[0]}), got x of "
                             f"shape {tuple(x.shape)} and idx of shape {tuple(idx.shape)}")
        if x.shape[1:] != self.states.shape[1:]:
            raise ValueError(f"x must have shape {(idx.shape[0], *self.states.shape[1:])}, "
                             f"got {tuple(x.shape)}")
        self.states[idx.to(self.states.device)] = x.detach().to(self.states.device,
                                                                 self.states.dtype)
