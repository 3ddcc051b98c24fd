r"""Helmholtz machines and the wake-sleep algorithm (chapter 6).

A Helmholtz machine (Dayan, Hinton, Neal and Zemel, 1995) has layers of binary stochastic
units $s_0 = v$ (visible), $s_1, \dots, s_L$ (hidden, $s_L$ on top) and two networks:

* a **generative** network, top-down:
  $p(s_L) = \prod_j \sigma(b_j)^{s_{L,j}}(1-\sigma(b_j))^{1-s_{L,j}}$ and, for each layer
  below, $p(s_{l-1} = 1 \mid s_l) = \sigma(G_l s_l + g_{l-1})$ unit by unit, so
  $p(v, h) = p(s_L) \prod_{l=1}^{L} p(s_{l-1} \mid s_l)$ and $p(v) = \sum_h p(v, h)$;
* a **recognition** network, bottom-up: $q(s_l = 1 \mid s_{l-1}) = \sigma(R_l s_{l-1} + r_l)$, so
  $q(h \mid v) = \prod_{l=1}^{L} q(s_l \mid s_{l-1})$.

The wake-sleep algorithm (Hinton, Dayan, Frey and Neal, 1995) trains them with two local
delta rules, :func:`wake_phase` and :func:`sleep_phase`. For small machines everything
can be computed exactly by enumerating the hidden configurations:
:meth:`HelmholtzMachine.log_marginal`, :meth:`HelmholtzMachine.free_energy`,
:meth:`HelmholtzMachine.enumerate_hidden` and :func:`kl_divergence`.

The gradient of the free energy with respect to the recognition weights, which the sleep
phase stands in for, has an unbiased score-function (REINFORCE) estimate,
:func:`score_function_gradient`, whose exact mean and variance :func:`score_function_moments`
computes by enumeration. Small hand-built machines (:func:`bars_machine`,
:func:`two_cause_machine`) and the factorised densities closest to a posterior in either
direction of the KL divergence (:func:`factorised_fit`, :func:`factorised_q`) serve the
chapter's experiments on what the sleep phase gets wrong.

Sign convention of the book: the directed model's energy of a configuration is
$E(v, h) = -\log p(v, h)$ (its normaliser is 1), and the variational free energy of a
data vector is $F(v) = \mathbb E_{q(h \mid v)}[E(v, h) + \log q(h \mid v)]
= -\log p(v) + \mathrm{KL}(q(h\mid v)\,\|\,p(h\mid v))$.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from ._checks import (check_choice, check_generator, check_int, check_number, check_probability,
                      check_tensor, check_widths)
from .boltzmann import all_binary_states
from .seeding import rand, randn

__all__ = [
    "HelmholtzMachine",
    "SigmoidLayer",
    "bars_machine",
    "factorised_fit",
    "factorised_q",
    "kl_divergence",
    "recognition_score",
    "score_function_gradient",
    "score_function_moments",
    "sleep_phase",
    "two_cause_machine",
    "wake_phase",
]

MAX_HIDDEN_ENUMERATION = 20   # 2^20 joint hidden configurations at most
MAX_PAIR_ENUMERATION = 22     # adjacent hidden layers: a 2^a x 2^b table with a + b <= 22


def _bernoulli_log_prob(x: Tensor, logits: Tensor) -> Tensor:
    r"""$\sum_i x_i \log\sigma(a_i) + (1 - x_i)\log\sigma(-a_i)
    = \sum_i x_i a_i - \log(1 + e^{a_i})$ over the last axis (``x`` and ``logits`` broadcast)."""
    return (x * logits - nn.functional.softplus(logits)).sum(-1)


def _bernoulli_table(x: Tensor, logits: Tensor) -> Tensor:
    r"""$\log P(x_n \mid a_k) = x_n^\top a_k - \sum_i \log(1 + e^{a_{ki}})$ for every pair of a row
    of ``x`` (N, D) and a row of ``logits`` (K, D): an (N, K) table, one matrix product."""
    return x @ logits.T - nn.functional.softplus(logits).sum(-1)[None]


class SigmoidLayer(nn.Module):
    r"""A layer of ``n_out`` binary stochastic units driven by a layer of ``n_in`` units:
    $P(y_i = 1 \mid x) = \sigma(W_{i:} x + b_i)$, with ``weight`` $W$ (n_out, n_in) and
    ``bias`` $b$ (n_out,)."""

    def __init__(self, n_in: int, n_out: int, *, init_std: float = 0.0,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.n_out = check_int("n_out", n_out, min_value=1)
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        self.weight = nn.Parameter(init_std * randn((self.n_out, self.n_in), generator))
        self.bias = nn.Parameter(torch.zeros(self.n_out))

    def _check_x(self, x: Tensor) -> Tensor:
        return check_tensor("x", x, ndim=2, last_dim=self.n_in, floating=True)

    def logits(self, x: Tensor) -> Tensor:
        r"""$W x + b$ for each row of ``x`` (B, n_in); returns (B, n_out)."""
        return self._check_x(x) @ self.weight.T + self.bias

    def prob(self, x: Tensor) -> Tensor:
        r"""$P(y = 1 \mid x) = \sigma(W x + b)$: (B, n_out)."""
        return torch.sigmoid(self.logits(x))

    @torch.no_grad()
    def sample(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """One binary draw of y given each row of ``x``: (B, n_out)."""
        p = self.prob(x)
        return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)

    def log_prob(self, y: Tensor, x: Tensor) -> Tensor:
        r"""$\log P(y \mid x) = \sum_i y_i\log\sigma(a_i) + (1-y_i)\log\sigma(-a_i)$ with
        $a = Wx + b$: (B,)."""
        check_tensor("y", y, ndim=2, last_dim=self.n_out, floating=True)
        self._check_x(x)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y and x must have one row per example each, got {y.shape[0]} "
                             f"and {x.shape[0]} rows")
        return _bernoulli_log_prob(y, self.logits(x))


class HelmholtzMachine(nn.Module):
    r"""A binary stochastic Helmholtz machine with layer sizes ``sizes = (n_0, n_1, ..., n_L)``,
    visible layer first, at least one hidden layer.

    ``top_bias`` ($b$, (n_L,)) is the generative prior of the top layer;
    ``generative[l-1]`` maps $s_l \to s_{l-1}$ (weights $G_l$, (n_{l-1}, n_l));
    ``recognition[l-1]`` maps $s_{l-1} \to s_l$ (weights $R_l$, (n_l, n_{l-1})).
    Weights start as $\mathcal N(0, \text{init\_std}^2)$ draws from ``generator``, biases at 0.
    """

    def __init__(self, sizes: Sequence[int], *, init_std: float = 0.1,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.sizes = check_widths("sizes", sizes)
        if len(self.sizes) < 2:
            raise ValueError(f"sizes must list the visible layer and at least one hidden layer, "
                             f"got {list(self.sizes)}")
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))          # (n_{l-1}, n_l), l = 1..L
        self.top_bias = nn.Parameter(torch.zeros(self.sizes[-1]))
        self.generative = nn.ModuleList(
            SigmoidLayer(above, below, init_std=init_std, generator=generator)
            for below, above in pairs)
        self.recognition = nn.ModuleList(
            SigmoidLayer(below, above, init_std=init_std, generator=generator)
            for below, above in pairs)

    @torch.no_grad()
    def init_visible_bias_(self, v: Tensor) -> "HelmholtzMachine":
        r"""Set the generative biases of the visible units to the log-odds of each unit being
        on in the data ``v`` (B, n_0), $g_{0,i} = \log(p_i / (1 - p_i))$: the generative
        network then starts as the best independent-pixel model."""
        p = self._check_v(v, min_batch=1).mean(0).clamp(1e-3, 1 - 1e-3)
        self.generative[0].bias.copy_(torch.log(p / (1 - p)))
        return self

    @property
    def n_layers(self) -> int:
        """L, the number of hidden layers."""
        return len(self.sizes) - 1

    def generative_parameters(self) -> list[nn.Parameter]:
        """The top biases, then each generative layer's weight and bias (bottom layer first)."""
        layers = [(layer.weight, layer.bias) for layer in self.generative]
        return [self.top_bias] + [p for pair in layers for p in pair]

    def recognition_parameters(self) -> list[nn.Parameter]:
        """Each recognition layer's weight and bias (bottom layer first)."""
        return [p for layer in self.recognition for p in (layer.weight, layer.bias)]

    def _check_v(self, v: Tensor, name: str = "v", *, min_batch: int | None = None) -> Tensor:
        check_tensor(name, v, ndim=2, last_dim=self.sizes[0], floating=True, min_batch=min_batch)
        if v.numel() and not bool(((v >= 0) & (v <= 1)).all()):
            raise ValueError(f"{name} must hold the states of binary units, values in [0, 1], got "
                             f"range [{v.min().item():.3g}, {v.max().item():.3g}]")
        return v

    def _check_states(self, states: Sequence[Tensor]) -> list[Tensor]:
        if not isinstance(states, (list, tuple)):
            raise TypeError(f"states must be a list of tensors, one per layer, "
                            f"got {type(states).__name__}")
        if len(states) != len(self.sizes):
            raise ValueError(f"states must be a list of {len(self.sizes)} tensors "
                             f"(visible layer first), got {len(states)}")
        for l, (s, n) in enumerate(zip(states, self.sizes)):
            check_tensor(f"states[{l}]", s, ndim=2, last_dim=n, floating=True)
            if s.shape[0] != states[0].shape[0]:
                raise ValueError(f"states must share one batch size, got {states[0].shape[0]} "
                                 f"and {s.shape[0]} (states[{l}])")
        return list(states)

    # ---------------------------------------------------------------- the two networks

    @torch.no_grad()
    def generate(self, n: int, generator: Optional[torch.Generator] = None) -> list[Tensor]:
        r"""Dream: ancestral sampling top-down, $s_L \sim p(s_L)$, then
        $s_{l-1} \sim p(s_{l-1} \mid s_l)$. Returns $[s_0, s_1, \dots, s_L]$, each (n, n_l)."""
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        p_top = torch.sigmoid(self.top_bias).expand(n, -1)
        top = (rand(p_top.shape, generator, p_top.device, p_top.dtype) < p_top).to(p_top.dtype)
        states = [top]
        for layer in reversed(self.generative):              # G_L first, G_1 last
            states.insert(0, layer.sample(states[0], generator))
        return states

    @torch.no_grad()
    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """``n`` visible vectors from the generative network: (n, n_0)."""
        return self.generate(n, generator)[0]

    @torch.no_grad()
    def recognize(self, v: Tensor, generator: Optional[torch.Generator] = None) -> list[Tensor]:
        r"""Perceive: sample the hidden causes bottom-up, $s_l \sim q(s_l \mid s_{l-1})$, from
        $s_0 = v$ (B, n_0). Returns $[v, s_1, \dots, s_L]$."""
        self._check_v(v)
        check_generator("generator", generator)
        states = [v]
        for layer in self.recognition:
            states.append(layer.sample(states[-1], generator))
        return states

    def log_joint(self, states: Sequence[Tensor]) -> Tensor:
        r"""$\log p(s_0, \dots, s_L) = \log p(s_L) + \sum_{l=1}^{L} \log p(s_{l-1} \mid s_l)$:
        (B,)."""
        states = self._check_states(states)
        logp = _bernoulli_log_prob(states[-1], self.top_bias.expand_as(states[-1]))
        for l, layer in enumerate(self.generative):
            logp = logp + layer.log_prob(states[l], states[l + 1])
        return logp

    def log_recognition(self, states: Sequence[Tensor]) -> Tensor:
        r"""$\log q(s_1, \dots, s_L \mid s_0) = \sum_{l=1}^{L} \log q(s_l \mid s_{l-1})$: (B,)."""
        states = self._check_states(states)
        logq = torch.zeros(states[0].shape[0], dtype=states[0].dtype, device=states[0].device)
        for l, layer in enumerate(self.recognition):
            logq = logq + layer.log_prob(states[l + 1], states[l])
        return logq

    # ---------------------------------------------------------------- exact quantities

    def log_marginal(self, v: Tensor) -> Tensor:
        r"""Exact $\log p(v) = \log \sum_h p(h)\,p(v \mid h)$ for each row of ``v`` (B, n_0).

        Enumerates one hidden layer at a time: $p(s_L)$ on all $2^{n_L}$ states, then
        $p(s_{l-1}) = \sum_{s_l} p(s_l)\, p(s_{l-1} \mid s_l)$ down to $s_1$, and finally
        $p(v) = \sum_{s_1} p(s_1)\, p(v \mid s_1)$ (all in log space). Small models only:
        every hidden layer at most 20 units and adjacent hidden layers at most 22 together.
        Computed in the dtype of the parameters (use ``.double()`` for exact sums).
        """
        self._check_v(v)
        self._check_enumerable()
        dtype, device = self.top_bias.dtype, self.top_bias.device
        v = v.to(dtype)
        top = all_binary_states(self.sizes[-1], dtype, device)           # (2^n_L, n_L)
        log_prior = _bernoulli_log_prob(top, self.top_bias.expand_as(top))  # log p(s_L)
        above = top
        for l in range(self.n_layers - 1, 0, -1):                        # layers L-1, ..., 1
            below = all_binary_states(self.sizes[l], dtype, device)      # (2^n_l, n_l)
            logits = self.generative[l].logits(above)                    # (2^n_{l+1}, n_l)
            log_cond = _bernoulli_table(below, logits)                   # (2^n_l, 2^n_{l+1})
            log_prior = torch.logsumexp(log_cond + log_prior[None], dim=1)  # log p(s_l)
            above = below
        logits = self.generative[0].logits(above)                        # (2^n_1, n_0)
        log_lik = _bernoulli_table(v, logits)                            # (B, 2^n_1): log p(v|s_1)
        return torch.logsumexp(log_lik + log_prior[None], dim=1)

    def _check_enumerable(self, joint: bool = False) -> None:
        hidden = self.sizes[1:]
        if joint and sum(hidden) > MAX_HIDDEN_ENUMERATION:
            raise ValueError(f"exact enumeration needs at most {MAX_HIDDEN_ENUMERATION} hidden "
                             f"units in all, got {sum(hidden)} (sizes {self.sizes})")
        if max(hidden) > MAX_HIDDEN_ENUMERATION:
            raise ValueError(f"exact p(v) needs every hidden layer to have at most "
                             f"{MAX_HIDDEN_ENUMERATION} units, got sizes {self.sizes}")
        for a, b in zip(hidden[:-1], hidden[1:]):
            if a + b > MAX_PAIR_ENUMERATION:
                raise ValueError(f"exact p(v) needs adjacent hidden layers of at most "
                                 f"{MAX_PAIR_ENUMERATION} units together, got {a} + {b} "
                                 f"(sizes {self.sizes})")

    def enumerate_hidden(self, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""Every joint hidden configuration $h = (s_1, \dots, s_L)$ scored for each row of ``v``.

        Returns ``h`` (K, n_1 + ... + n_L), the $K = 2^{n_1 + \dots + n_L}$ configurations
        (layer 1's units first), and two (B, K) tables: $\log q(h \mid v)$ and $\log p(v, h)$.
        The exact posterior is ``log_joint.softmax(1)`` $= p(h \mid v)$. At most 20 hidden
        units in all.
        """
        self._check_v(v)
        self._check_enumerable(joint=True)
        dtype, device = self.top_bias.dtype, self.top_bias.device
        v = v.to(dtype)
        h = all_binary_states(sum(self.sizes[1:]), dtype, device)        # (K, H)
        k = h.shape[0]
        layers = [s.repeat(v.shape[0], 1) for s in torch.split(h, list(self.sizes[1:]), dim=1)]
        states = [v.repeat_interleave(k, dim=0)] + layers                 # each (B K, n_l)
        log_q = self.log_recognition(states).view(-1, k)
        log_joint = self.log_joint(states).view(-1, k)
        return h, log_q, log_joint

    def free_energy(self, v: Tensor) -> Tensor:
        r"""Exact variational free energy of each row of ``v`` under the recognition network,
        $F(v) = \sum_h q(h \mid v)\,[\log q(h \mid v) - \log p(v, h)]$: (B,).

        $F(v) = -\log p(v) + \mathrm{KL}(q(h \mid v)\,\|\,p(h \mid v)) \ge -\log p(v)$.
        Sums over all $2^{n_1 + \dots + n_L}$ hidden configurations (at most 20 hidden units).
        """
        _, log_q, log_joint = self.enumerate_hidden(v)
        return (log_q.exp() * (log_q - log_joint)).sum(dim=1)


# -------------------------------------------------------------------- wake and sleep

def _check_model(model) -> HelmholtzMachine:
    if not isinstance(model, HelmholtzMachine):
        raise TypeError(f"model must be a HelmholtzMachine, got {type(model).__name__}")
    return model


@torch.no_grad()
def wake_phase(model: HelmholtzMachine, v: Tensor, lr: float,
               generator: Optional[torch.Generator] = None) -> Tensor:
    r"""The wake phase: perceive real data bottom-up, then learn to generate it top-down.

    1. Drive the hidden units with the recognition network from data:
       $s_0 = v$, $s_l \sim q(s_l \mid s_{l-1})$.
    2. Adapt the generative weights by the delta rule so that each layer better predicts the
       layer below, ascending $\log p(s_{l-1} \mid s_l)$ (and $\log p(s_L)$ for the top biases):
       $\Delta G_l = \varepsilon\,(s_{l-1} - p_{l-1})\,s_l^\top$ and
       $\Delta g_{l-1} = \varepsilon\,(s_{l-1} - p_{l-1})$, with
       $p_{l-1} = \sigma(G_l s_l + g_{l-1})$;
       $\Delta b = \varepsilon\,(s_L - \sigma(b))$.

    ``v``: (B, n_0) data; each update is averaged over the batch. Returns (B,) the one-sample
    estimate $\log q(h \mid v) - \log p(v, h)$ of each free energy $F(v)$, taken before the update.
    """
    _check_model(model)
    lr = check_number("lr", lr, positive=True)
    model._check_v(v, min_batch=1)
    states = model.recognize(v, generator)                       # [v, s_1, ..., s_L] from q
    free_energy = model.log_recognition(states) - model.log_joint(states)
    batch = v.shape[0]
    top = states[-1]
    model.top_bias += lr * (top - torch.sigmoid(model.top_bias)).mean(0)   # Δb = ε (s_L - σ(b))
    for l, layer in enumerate(model.generative):                 # G_{l+1}: s_{l+1} -> s_l
        below, above = states[l], states[l + 1]
        error = below - layer.prob(above)                        # s_l - p(s_l = 1 | s_{l+1})
        layer.weight += lr * error.T @ above / batch             # (n_l, n_{l+1})
        layer.bias += lr * error.mean(0)
    return free_energy


@torch.no_grad()
def sleep_phase(model: HelmholtzMachine, n: int, lr: float,
                generator: Optional[torch.Generator] = None) -> Tensor:
    r"""The sleep phase: dream top-down, then learn to recognise the dream bottom-up.

    1. Drive all units with the generative network: $s_L \sim p(s_L)$,
       $s_{l-1} \sim p(s_{l-1} \mid s_l)$, down to a fantasy $s_0$.
    2. Adapt the recognition weights by the delta rule so that each layer better predicts the
       layer above, ascending $\log q(s_l \mid s_{l-1})$:
       $\Delta R_l = \varepsilon\,(s_l - q_l)\,s_{l-1}^\top$ and
       $\Delta r_l = \varepsilon\,(s_l - q_l)$, with $q_l = \sigma(R_l s_{l-1} + r_l)$.

    Each update is averaged over ``n`` dreams. Returns (n,) $-\log q(h \mid s_0)$ for each
    dream, the recognition network's surprise at the dream's true causes, before the update.
    """
    _check_model(model)
    lr = check_number("lr", lr, positive=True)
    states = model.generate(n, generator)                         # [s_0, ..., s_L] from p
    surprise = -model.log_recognition(states)
    for l, layer in enumerate(model.recognition):                 # R_{l+1}: s_l -> s_{l+1}
        below, above = states[l], states[l + 1]
        error = above - layer.prob(below)                         # s_{l+1} - q(s_{l+1} = 1 | s_l)
        layer.weight += lr * error.T @ below / n                  # (n_{l+1}, n_l)
        layer.bias += lr * error.mean(0)
    return surprise


def recognition_score(model: HelmholtzMachine, states: Sequence[Tensor]) -> list[Tensor]:
    r"""Per-sample gradient of $\log q(s_1, \dots, s_L \mid s_0)$ with respect to each
    recognition parameter: the delta-rule terms
    $\nabla_{R_l} \log q = (s_l - q_l)\,s_{l-1}^\top$ and $\nabla_{r_l} \log q = s_l - q_l$,
    with $q_l = \sigma(R_l s_{l-1} + r_l)$.

    ``states`` $[s_0, \dots, s_L]$, each (B, n_l). Returns a list in the order of
    :meth:`HelmholtzMachine.recognition_parameters`, each (B, *parameter shape). The sleep
    phase's update is ``lr`` times the batch mean of this score on dreams.
    """
    _check_model(model)
    states = model._check_states(states)
    score = []
    with torch.no_grad():
        for l, layer in enumerate(model.recognition):
            below, above = states[l], states[l + 1]
            error = above - layer.prob(below)                        # (B, n_{l+1})
            score += [error[:, :, None] * below[:, None, :], error]  # (B, n_{l+1}, n_l), (B, n_{l+1})
    return score


@torch.no_grad()
def score_function_gradient(model: HelmholtzMachine, v: Tensor,
                            generator: Optional[torch.Generator] = None,
                            baseline: float = 0.0) -> list[Tensor]:
    r"""Score-function (REINFORCE) estimates of the gradient of the free energy $F(v)$ with
    respect to the recognition parameters $\phi$, one per row of ``v`` (B, n_0).

    With $h \sim q_\phi(h \mid v)$ and the learning signal
    $f(v, h) = \log q_\phi(h \mid v) - \log p(v, h)$,
    $\hat g = \big(f(v, h) - c\big)\,\nabla_\phi \log q_\phi(h \mid v)$, an unbiased
    estimate of $\nabla_\phi F(v) = \mathbb E_q[f\,\nabla_\phi \log q]$ for any constant
    ``baseline`` $c$ (because $\mathbb E_q[\nabla_\phi \log q] = 0$). Returns a list in the
    order of :meth:`HelmholtzMachine.recognition_parameters`, each (B, *parameter shape).
    """
    _check_model(model)
    baseline = check_number("baseline", baseline)
    states = model.recognize(v, generator)                        # h ~ q(h | v)
    signal = model.log_recognition(states) - model.log_joint(states) - baseline   # (B,)
    return [g * signal.view(-1, *[1] * (g.dim() - 1)) for g in recognition_score(model, states)]


def _check_distribution(model: HelmholtzMachine, images: Tensor, probs: Tensor) -> None:
    """A distribution over visible states: ``images`` (K, n_0), ``probs`` (K,) positive, sum 1."""
    _check_model(model)
    model._check_v(images, "images", min_batch=1)
    check_tensor("probs", probs, ndim=1, floating=True)
    if probs.shape[0] != images.shape[0]:
        raise ValueError(f"probs must hold one probability per image, got {probs.shape[0]} "
                         f"for {images.shape[0]} images")
    p = probs.to(torch.float64)
    if (p <= 0).any() or abs(p.sum().item() - 1.0) > 1e-9:
        raise ValueError("probs must be positive and sum to 1 (list only the states with "
                         f"non-zero probability), got sum {p.sum().item():.6g}")


@torch.no_grad()
def score_function_moments(model: HelmholtzMachine, images: Tensor, probs: Tensor,
                           baselines: Sequence[float] = (0.0,)) -> tuple[Tensor, Tensor]:
    r"""Exact mean and variance of the one-sample score-function estimate
    $\hat g = (f - c)\,\nabla_\phi \log q_\phi(h \mid v)$ (see :func:`score_function_gradient`)
    when $v$ is drawn from ``probs`` over ``images`` (K, n_0) and $h \sim q_\phi(h \mid v)$,
    by enumerating every hidden configuration (at most 20 hidden units).

    The mean, $\mathbb E[f\,\nabla_\phi \log q] = \nabla_\phi \sum_v p(v) F(v)$, does not depend
    on $c$; the variance of each component is
    $\mathbb E[(f - c)^2 s^2] - (\mathbb E[f s])^2 = \mathbb E[f^2 s^2] - 2c\,\mathbb E[f s^2]
    + c^2\,\mathbb E[s^2] - (\mathbb E[f s])^2$ with $s$ the component of the score.
    Returns the mean (P,) and the variances (len(baselines), P), flattened over the
    recognition parameters in the order of :meth:`HelmholtzMachine.recognition_parameters`.
    """
    _check_distribution(model, images, probs)
    c = torch.tensor([check_number(f"baselines[{i}]", b) for i, b in enumerate(baselines)],
                     dtype=probs.dtype, device=probs.device)
    h, log_q, log_joint = model.enumerate_hidden(images)                # (K_h, H), (B, K_h) x 2
    n_img, n_h = log_q.shape
    layers = torch.split(h, list(model.sizes[1:]), dim=1)
    states = [images.to(h.dtype).repeat_interleave(n_h, 0)] + [s.repeat(n_img, 1) for s in layers]
    weight = (probs.to(h.dtype)[:, None] * log_q.exp()).reshape(-1, 1)  # p(v) q(h | v)
    f = (log_q - log_joint).reshape(-1, 1)                              # learning signal
    s = torch.cat([g.reshape(g.shape[0], -1) for g in recognition_score(model, states)], 1)
    mean = (weight * f * s).sum(0)                                      # E[f s] = grad of E[F]
    f2s2, fs2, s2 = ((weight * f**2 * s**2).sum(0), (weight * f * s**2).sum(0),
                     (weight * s**2).sum(0))
    var = f2s2 - 2 * c[:, None] * fs2 + c[:, None] ** 2 * s2 - mean**2
    return mean, var


def kl_divergence(model: HelmholtzMachine, images: Tensor, probs: Tensor) -> Tensor:
    r"""Exact $\mathrm{KL}(p_{\text{true}}\,\|\,p_{\text{model}}) = \sum_v p_{\text{true}}(v)
    \log \frac{p_{\text{true}}(v)}{p_{\text{model}}(v)}$ in nats, a 0-dim float64 tensor.

    ``images`` (K, n_0) are the states with non-zero true probability and ``probs`` (K,)
    their probabilities (summing to 1, e.g. from :func:`companion.data.bars_distribution`);
    $p_{\text{model}}$ is :meth:`HelmholtzMachine.log_marginal`, computed in float64 on the
    CPU (on a copy of the model).
    """
    _check_distribution(model, images, probs)
    p = probs.to(torch.float64)
    with torch.no_grad():
        exact = copy.deepcopy(model).cpu().double()                 # exact sums in float64
        log_model = exact.log_marginal(images.detach().cpu().double())
    p = p.detach().cpu()
    return (p * (p.log() - log_model)).sum()


# -------------------------------------------------------------------- small hand-built machines

def bars_machine(size: int = 4, *, p_bar: float = 0.2, p_vertical: float = 0.5,
                 scale: float = 30.0) -> HelmholtzMachine:
    r"""A (size², 2 size, 1) Helmholtz machine whose generative network is built by hand to
    make the bars of :func:`companion.data.bars`, in float64.

    The top unit is the orientation, $p(\text{top} = 1) = $ ``p_vertical`` (1 = vertical).
    Hidden units $1, \dots, $ size are the columns, the next ``size`` the rows; each is on with
    probability $\sigma(\operatorname{logit} p_{\text{bar}}) = p_{\text{bar}}$ when the top unit
    selects its orientation and $\sigma(\operatorname{logit} p_{\text{bar}} - w)$ otherwise
    (top-down weights $\pm w$, $w$ = ``scale``). A pixel has input $w\,(\text{number of its
    bars that are on}) - w/2$: off with probability $\sigma(w/2)$ when none is on. As
    $w \to \infty$ the machine's $p(v)$ tends to the true distribution. Recognition
    weights are zero.
    """
    size = check_int("size", size, min_value=1, max_value=8)
    p_bar, p_vertical = check_probability("p_bar", p_bar), check_probability("p_vertical", p_vertical)
    w = check_number("scale", scale, nonnegative=True)
    n = size * size
    model = HelmholtzMachine((n, 2 * size, 1), init_std=0.0).double()
    masks = torch.zeros(2 * size, size, size, dtype=torch.float64)
    for j in range(size):
        masks[j, :, j] = 1                        # unit j: column j
        masks[size + j, j, :] = 1                 # unit size + j: row j
    logit_bar = torch.logit(torch.tensor(p_bar, dtype=torch.float64)).item()
    sign = torch.tensor([1.0] * size + [-1.0] * size, dtype=torch.float64)
    with torch.no_grad():
        model.top_bias.fill_(torch.logit(torch.tensor(p_vertical, dtype=torch.float64)).item())
        model.generative[1].weight.copy_(w * sign[:, None])                      # (2 size, 1)
        model.generative[1].bias.copy_(logit_bar - w * (sign > 0).double())      # columns gated
        model.generative[0].weight.copy_(w * masks.reshape(2 * size, n).T)       # (n, 2 size)
        model.generative[0].bias.fill_(-w / 2)
    return model


def two_cause_machine(prior_logit: float = -3.0, *, weight: float = 10.0,
                      bias: float = -8.0) -> HelmholtzMachine:
    r"""The explaining-away machine, in float64: one visible unit and two independent hidden
    causes, $p(h_j = 1) = \sigma(b)$ with $b$ = ``prior_logit``, and
    $p(v = 1 \mid h) = \sigma(w (h_1 + h_2) + c)$ with $w$ = ``weight``, $c$ = ``bias``.
    Recognition weights are zero."""
    b = check_number("prior_logit", prior_logit)
    w, c = check_number("weight", weight), check_number("bias", bias)
    model = HelmholtzMachine((1, 2), init_std=0.0).double()
    with torch.no_grad():
        model.top_bias.fill_(b)
        model.generative[0].weight.fill_(w)
        model.generative[0].bias.fill_(c)
    return model


def _factorised_table(m: Tensor, states: Tensor) -> Tensor:
    r"""$q(h) = \prod_j m_j^{h_j}(1 - m_j)^{1 - h_j}$ for marginals ``m`` (S, n) and every row
    of ``states`` (K, n): (S, K)."""
    return torch.exp(states @ torch.log(m).T + (1 - states) @ torch.log1p(-m).T).T


def factorised_q(marginals: Tensor) -> Tensor:
    r"""The factorised density $q(h) = \prod_j m_j^{h_j}(1 - m_j)^{1 - h_j}$ with marginals
    $m_j = q(h_j = 1)$ (``marginals``, (n,), each in (0, 1)) on every binary state $h$, in the
    order of :func:`companion.boltzmann.all_binary_states`: (2^n,)."""
    m = check_tensor("marginals", marginals, ndim=1, floating=True, nonempty=True)
    if m.shape[0] > MAX_HIDDEN_ENUMERATION:
        raise ValueError(f"marginals must hold at most {MAX_HIDDEN_ENUMERATION} units (the result "
                         f"has 2^n entries), got {m.shape[0]}")
    if ((m <= 0) | (m >= 1)).any():
        raise ValueError("marginals must lie strictly between 0 and 1")
    states = all_binary_states(m.shape[0], m.dtype, m.device)
    return _factorised_table(m[None], states)[0]


def factorised_fit(posterior: Tensor, kl: str = "q||p", *, n_start: int = 5,
                   n_iter: int = 500) -> Tensor:
    r"""The factorised $q(h) = \prod_j q_j(h_j)$ closest to ``posterior`` in one direction of
    the KL divergence; returns its marginals $q(h_j = 1)$, (n,).

    ``posterior`` (2^n,) lists $p(h)$ over the binary states $h$ in the order of
    :func:`companion.boltzmann.all_binary_states` (for n = 2: 00, 01, 10, 11), all positive.

    * ``kl="p||q"`` (what the sleep phase minimises): the marginals of $p$,
      $q_j = \sum_h p(h)\,h_j$, since $\mathrm{KL}(p\,\|\,q) = -\sum_j [p_j \log q_j +
      (1 - p_j)\log(1 - q_j)] + \text{const}$.
    * ``kl="q||p"`` (the free energy's divergence): no closed form; coordinate descent on
      the mean-field equations $q_j = \sigma\big(\mathbb E_{q_{-j}}[\log p(h_j{=}1, h_{-j})
      - \log p(h_j{=}0, h_{-j})]\big)$ from ``n_start``$^n$ starting points on a grid
      (each sweep lowers the divergence; at most ``n_iter`` sweeps, fewer once no marginal
      moves by more than 1e-13), keeping the lowest end point.
    """
    check_tensor("posterior", posterior, ndim=1, floating=True)
    kl = check_choice("kl", kl, ("q||p", "p||q"))
    k = posterior.shape[0]
    n = k.bit_length() - 1
    if k < 2 or 2**n != k:
        raise ValueError(f"posterior must list 2^n probabilities (n >= 1), got {k}")
    if (posterior <= 0).any() or abs(posterior.sum().item() - 1) > 1e-9:
        raise ValueError("posterior must be positive and sum to 1")
    n_start = check_int("n_start", n_start, min_value=1)
    n_iter = check_int("n_iter", n_iter, min_value=1)
    p = posterior.detach().to(torch.float64)
    states = all_binary_states(n, torch.float64, p.device)                 # (K, n)
    if kl == "p||q":
        return states.T @ p
    log_p = p.log()
    axis = torch.linspace(0.05, 0.95, n_start, dtype=torch.float64, device=p.device)
    m = torch.cartesian_prod(*[axis] * n).reshape(-1, n).clone()           # (S, n) starts
    pairs = [(states[:, j] == 1, states[:, j] == 0) for j in range(n)]     # paired in order
    for _ in range(n_iter):
        before = m.clone()
        for j, (on, off) in enumerate(pairs):
            gap = log_p[on] - log_p[off]                                   # (K/2,)
            others = _factorised_table(m, states)[:, off] / (1 - m[:, j:j + 1])   # q(h_-j)
            m[:, j] = torch.sigmoid(others @ gap).clamp(1e-12, 1 - 1e-12)
        if (m - before).abs().max() < 1e-13:
            break
    q = _factorised_table(m, states)                                       # (S, K)
    div = (q * (q.log() - log_p)).sum(1)
    return m[div.argmin()]
