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

from ._checks import check_generator, check_int, check_number, check_tensor
from .boltzmann import all_binary_states
from .seeding import rand, randn

__all__ = [
    "HelmholtzMachine",
    "SigmoidLayer",
    "kl_divergence",
    "sleep_phase",
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
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"sizes must be a sequence of layer sizes, visible first, "
                            f"got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list the visible layer and at least one hidden layer, "
                             f"got {list(sizes)}")
        self.sizes = tuple(check_int(f"sizes[{i}]", n, min_value=1) for i, n in enumerate(sizes))
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
        p = self._check_v(v).mean(0).clamp(1e-3, 1 - 1e-3)
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

    def _check_v(self, v: Tensor) -> Tensor:
        return check_tensor("v", v, ndim=2, last_dim=self.sizes[0], floating=True)

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


def kl_divergence(model: HelmholtzMachine, images: Tensor, probs: Tensor) -> Tensor:
    r"""Exact $\mathrm{KL}(p_{\text{true}}\,\|\,p_{\text{model}}) = \sum_v p_{\text{true}}(v)
    \log \frac{p_{\text{true}}(v)}{p_{\text{model}}(v)}$ in nats, a 0-dim float64 tensor.

    ``images`` (K, n_0) are the states with non-zero true probability and ``probs`` (K,)
    their probabilities (summing to 1, e.g. from :func:`companion.data.bars_distribution`);
    $p_{\text{model}}$ is :meth:`HelmholtzMachine.log_marginal`, computed in float64 on the
    CPU (on a copy of the model).
    """
    _check_model(model)
    check_tensor("images", images, ndim=2, last_dim=model.sizes[0], floating=True)
    check_tensor("probs", probs, ndim=1, floating=True)
    if probs.shape[0] != images.shape[0]:
        raise ValueError(f"probs must hold one probability per image, got {probs.shape[0]} "
                         f"for {images.shape[0]} images")
    p = probs.to(torch.float64)
    if (p <= 0).any() or abs(p.sum().item() - 1.0) > 1e-9:
        raise ValueError("probs must be positive and sum to 1 (list only the states with "
                         f"non-zero probability), got sum {p.sum().item():.6g}")
    with torch.no_grad():
        exact = copy.deepcopy(model).cpu().double()                 # exact sums in float64
        log_model = exact.log_marginal(images.detach().cpu().double())
    p = p.detach().cpu()
    return (p * (p.log() - log_model)).sum()
