r"""Restricted Boltzmann machines (chapter 2 uses them for contrastive divergence; chapter 9
builds on them).

An RBM has binary visible units $v \in \{0,1\}^{D}$ and hidden units $h \in \{0,1\}^{H}$
(Smolensky, 1986) with energy

$$E(v, h) = -a^\top v - b^\top h - v^\top W h,\qquad p(v, h) = e^{-E(v, h)} / Z.$$

Summing out $h$ gives the free energy of a visible vector,

$$F(v) = -\log \sum_h e^{-E(v, h)} = -a^\top v - \sum_j \operatorname{softplus}(b_j + v^\top W_{:j}),$$

and $p(v) = e^{-F(v)} / Z$. The conditionals factorise:
$p(h_j = 1 \mid v) = \sigma(b_j + v^\top W_{:j})$ and
$p(v_i = 1 \mid h) = \sigma(a_i + W_{i:} h)$, which is what makes block Gibbs sampling cheap.

Chapter 9 adds:

* :class:`BoltzmannMachine`: a small fully connected Boltzmann machine with hidden units
  (Ackley, Hinton and Sejnowski, 1985), exact by enumeration, whose
  :meth:`~BoltzmannMachine.correlations` are the two terms of its learning rule;
* :func:`gibbs_transition_matrix`: the exact block Gibbs kernel of a small RBM (what CD-k's
  negative samples are drawn from);
* :class:`PersistentChains` and :meth:`RBM.pcd_loss`: persistent contrastive divergence
  (Tieleman, 2008), whose negative chains carry on from one update to the next;
* :func:`ais_log_weights` and :func:`ais_log_partition`: annealed importance sampling
  (Neal, 2001) of $\log Z$, from an independent-unit base model to the RBM (Salakhutdinov
  and Murray, 2008); :func:`marginal_logits` and :func:`independent_log_prob` for that
  base model, which is also the independent-pixel baseline; :class:`AnnealingPath`, the
  intermediate distributions and their Gibbs steps;
* :func:`reverse_ais_log_weights`, :func:`reverse_ais_log_partition` and
  :func:`raise_log_prob`: AIS run backwards, from the RBM to the base model, which errs the
  other way (bidirectional Monte Carlo, Grosse, Ghahramani and Adams, 2015; RAISE, Burda,
  Grosse and Salakhutdinov, 2015);
* :class:`DBM`: a two-layer deep Boltzmann machine (Salakhutdinov and Hinton, 2009) with
  mean-field inference, persistent Gibbs chains and an exact $\log Z$ for small models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Union

import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from ._checks import (check_float_dtype, check_generator, check_int, check_like, check_number,
                      check_tensor)
from .seeding import rand, randn

__all__ = [
    "AISResult",
    "AnnealingPath",
    "BoltzmannMachine",
    "DBM",
    "PersistentChains",
    "RBM",
    "ais_betas",
    "ais_log_partition",
    "ais_log_weights",
    "all_binary_states",
    "gibbs_transition_matrix",
    "independent_log_prob",
    "marginal_logits",
    "raise_log_prob",
    "reverse_ais_log_partition",
    "reverse_ais_log_weights",
]


def all_binary_states(n: int, dtype=torch.float32, device=None) -> Tensor:
    """Every vector in {0, 1}^n, as rows of a (2^n, n) tensor (n <= 24)."""
    n = check_int("n", n, min_value=1, max_value=24)
    check_float_dtype("dtype", dtype)
    codes = torch.arange(2**n, device=device)
    return ((codes[:, None] >> torch.arange(n - 1, -1, -1, device=device)) & 1).to(dtype)


class RBM(nn.Module):
    """A binary-binary restricted Boltzmann machine with ``n_visible`` and ``n_hidden`` units.

    ``init_std`` is the standard deviation of the initial weights (biases start at zero);
    pass a ``generator`` for reproducible initialisation.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, init_std: float = 0.01,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, min_value=1)
        self.n_hidden = check_int("n_hidden", n_hidden, min_value=1)
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        self.W = nn.Parameter(init_std * randn((self.n_visible, self.n_hidden), generator))
        self.a = nn.Parameter(torch.zeros(self.n_visible))   # visible biases
        self.b = nn.Parameter(torch.zeros(self.n_hidden))    # hidden biases

    @torch.no_grad()
    def init_visible_bias_(self, v: Tensor) -> "RBM":
        r"""Set the visible biases to the log-odds of each unit being on in the data ``v``,
        $a_i = \log(p_i / (1 - p_i))$ (Hinton, 2012): with $W = 0$ the RBM is then the
        best independent-pixel model, and learning starts from there."""
        # any floating dtype and device (copied into a); not empty: the mean of no rows is NaN
        check_tensor("v", v, ndim=2, last_dim=self.n_visible, floating=True, min_batch=1)
        p = v.mean(0).clamp(1e-3, 1 - 1e-3)
        self.a.copy_(torch.log(p / (1 - p)))
        return self

    def _check_v(self, v: Tensor, name: str = "v", *, min_batch: Optional[int] = None,
                 convert: bool = False) -> Tensor:
        """A batch of visible vectors (B, D), finite, in the RBM's dtype (any floating dtype
        with ``convert``, for callers that convert it) and on its device."""
        check_tensor(name, v, ndim=2, last_dim=self.n_visible, floating=True, min_batch=min_batch)
        check_like(name, v, self.W, dtype=not convert)
        return v

    def _check_h(self, h: Tensor, name: str = "h") -> Tensor:
        check_tensor(name, h, ndim=2, last_dim=self.n_hidden, floating=True)
        check_like(name, h, self.W)
        return h

    def energy(self, v: Tensor, h: Tensor) -> Tensor:
        r"""$E(v, h) = -a^\top v - b^\top h - v^\top W h$ for (B, D) and (B, H); returns (B,)."""
        self._check_v(v), self._check_h(h)
        _check_rows(v=v, h=h)
        return -(v @ self.a) - (h @ self.b) - ((v @ self.W) * h).sum(dim=1)

    def free_energy(self, v: Tensor) -> Tensor:
        r"""$F(v) = -a^\top v - \sum_j \operatorname{softplus}(b_j + (v^\top W)_j)$; returns (B,)."""
        self._check_v(v)
        return -(v @ self.a) - nn.functional.softplus(v @ self.W + self.b).sum(dim=1)

    forward = free_energy

    def p_h_given_v(self, v: Tensor) -> Tensor:
        r"""$p(h_j = 1 \mid v) = \sigma(b_j + (v^\top W)_j)$: (B, H)."""
        return torch.sigmoid(self._check_v(v) @ self.W + self.b)

    def p_v_given_h(self, h: Tensor) -> Tensor:
        r"""$p(v_i = 1 \mid h) = \sigma(a_i + (W h)_i)$: (B, D)."""
        return torch.sigmoid(self._check_h(h) @ self.W.T + self.a)

    @torch.no_grad()
    def sample_h(self, v: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """One draw of h ~ p(h | v) per row of ``v`` (B, D): (B, H)."""
        check_generator("generator", generator)
        p = self.p_h_given_v(v)
        return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)

    @torch.no_grad()
    def sample_v(self, h: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """One draw of v ~ p(v | h) per row of ``h`` (B, H): (B, D)."""
        check_generator("generator", generator)
        p = self.p_v_given_h(h)
        return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)

    @torch.no_grad()
    def gibbs(self, v: Tensor, k: int = 1, generator: Optional[torch.Generator] = None) -> Tensor:
        """``k`` steps of block Gibbs sampling, v -> h -> v, from each row of ``v``."""
        k = check_int("k", k, min_value=0)
        check_generator("generator", generator)
        if k == 0:                                 # (otherwise the first step checks v)
            self._check_v(v)
        for _ in range(k):
            v = self.sample_v(self.sample_h(v, generator), generator)
        return v

    def cd_loss(self, v_data: Tensor, k: int = 1,
                generator: Optional[torch.Generator] = None) -> tuple[Tensor, Tensor]:
        r"""Contrastive divergence CD-k (Hinton, 2002).

        Returns ``(loss, v_k)``: ``v_k`` is the data after ``k`` Gibbs steps (the
        "confabulations"), and the gradient of
        ``loss`` $= \overline{F(v_{\text{data}})} - \overline{F(v_k)}$ (with $v_k$ held fixed)
        is the CD-k estimate of $-\nabla \log p(v_{\text{data}})$: lower the free energy of
        the data, raise it where the chain went.
        """
        self._check_v(v_data, "v_data", min_batch=1)       # a mean over no rows is NaN
        v_k = self.gibbs(v_data, k, generator)
        return self.free_energy(v_data).mean() - self.free_energy(v_k).mean(), v_k

    def pcd_loss(self, v_data: Tensor, chains: "PersistentChains", k: int = 1,
                 generator: Optional[torch.Generator] = None) -> tuple[Tensor, Tensor]:
        r"""Persistent contrastive divergence, PCD-k (Tieleman, 2008).

        Like :meth:`cd_loss`, but the negative samples do not start at the data: they come
        from ``chains``, Markov chains that are never restarted. Each call advances them
        ``k`` block Gibbs steps under the current parameters, from where the previous call
        left them, and stores the new states in ``chains``. Returns ``(loss, v_neg)``, where
        the gradient of ``loss`` $= \overline{F(v_{\text{data}})} - \overline{F(v_{\text{neg}})}$
        (with $v_{\text{neg}}$ held fixed) estimates $-\nabla \log p(v_{\text{data}})$.
        """
        self._check_v(v_data, "v_data", min_batch=1)       # a mean over no rows is NaN
        if not isinstance(chains, PersistentChains):
            raise TypeError(f"chains must be a PersistentChains, got {type(chains).__name__}")
        self._check_v(chains.state, "chains.state")
        k = check_int("k", k, min_value=1)
        v_neg = self.gibbs(chains.state, k, generator)
        chains.update(v_neg, k)
        return self.free_energy(v_data).mean() - self.free_energy(v_neg).mean(), v_neg

    @torch.no_grad()
    def reconstruction_error(self, v: Tensor) -> float:
        """Mean squared error of the mean-field reconstruction v -> p(h|v) -> p(v|h)."""
        self._check_v(v, min_batch=1)                     # a mean over no rows is NaN
        recon = self.p_v_given_h(self.p_h_given_v(v))
        return float(((v - recon) ** 2).mean())

    def log_partition(self) -> Tensor:
        r"""$\log Z$ by exact enumeration over the smaller layer (at most 20 units)."""
        if min(self.n_visible, self.n_hidden) > 20:
            raise ValueError(f"exact log Z needs a layer of at most 20 units, got "
                             f"{self.n_visible} visible and {self.n_hidden} hidden")
        if self.n_visible <= self.n_hidden:
            v = all_binary_states(self.n_visible, self.W.dtype, self.W.device)
            return torch.logsumexp(-self.free_energy(v), dim=0)
        h = all_binary_states(self.n_hidden, self.W.dtype, self.W.device)
        f_h = -(h @ self.b) - nn.functional.softplus(h @ self.W.T + self.a).sum(dim=1)
        return torch.logsumexp(-f_h, dim=0)

    @torch.no_grad()
    def sample_exact(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        r"""``n`` exact, independent samples of $p(v)$ (no Markov chain), for RBMs with at most
        20 hidden units: draw $h$ from its marginal $p(h) \propto e^{b^\top h}
        \prod_i (1 + e^{a_i + W_{i:} h})$, enumerated over all $2^H$ states, then
        $v \sim p(v \mid h)$. Returns (n, D)."""
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        if self.n_hidden > 20:
            raise ValueError(f"exact sampling enumerates the hidden layer, at most 20 units, "
                             f"got {self.n_hidden}")
        h = all_binary_states(self.n_hidden, self.W.dtype, self.W.device)
        log_p_h = h @ self.b + nn.functional.softplus(h @ self.W.T + self.a).sum(dim=1)
        idx = torch.multinomial(torch.softmax(log_p_h.double().cpu(), 0), n, replacement=True,
                                generator=generator)
        return self.sample_v(h[idx.to(h.device)], generator)

    def log_prob(self, v: Tensor) -> Tensor:
        r"""$\log p(v) = -F(v) - \log Z$, exact (small models only, see :meth:`log_partition`)."""
        return -self.free_energy(v) - self.log_partition()


def _bernoulli_log_prob(s: Tensor, p: Tensor) -> Tensor:
    r"""$\log \prod_i p_i^{s_i} (1 - p_i)^{1 - s_i}$ for every pair of rows: probabilities
    ``p`` (B, N) and states ``s`` (S, N); returns (B, S)."""
    xlogy = torch.special.xlogy
    return (xlogy(s[None], p[:, None]) + xlogy(1 - s[None], 1 - p[:, None])).sum(-1)


@torch.no_grad()
def gibbs_transition_matrix(rbm: RBM) -> Tensor:
    r"""The exact transition matrix of one block Gibbs step $v \to h \to v'$ of a small RBM,

    $$T(v' \mid v) = \sum_h p(h \mid v)\, p(v' \mid h),$$

    by enumeration: a $(2^D, 2^D)$ tensor whose row $v$ (in the order of
    :func:`all_binary_states`) is the distribution of $v'$. At most 12 visible and 16 hidden
    units. Its stationary distribution is the RBM's $p(v)$; the distribution of CD-$k$'s
    negative samples is the data distribution times $T^k$.
    """
    rbm = _check_rbm(rbm)
    if rbm.n_visible > 12 or rbm.n_hidden > 16:
        raise ValueError(f"an exact transition matrix needs at most 12 visible and 16 hidden "
                         f"units, got {rbm.n_visible} and {rbm.n_hidden}")
    v = all_binary_states(rbm.n_visible, rbm.W.dtype, rbm.W.device)
    h = all_binary_states(rbm.n_hidden, rbm.W.dtype, rbm.W.device)
    p_h = _bernoulli_log_prob(h, rbm.p_h_given_v(v)).exp()       # (V, 2^H): p(h | v)
    p_v = _bernoulli_log_prob(v, rbm.p_v_given_h(h)).exp()       # (2^H, V): p(v' | h)
    return p_h @ p_v


class BoltzmannMachine(nn.Module):
    r"""A general Boltzmann machine (Ackley, Hinton and Sejnowski, 1985), small enough to
    enumerate: $N$ = ``n_visible`` + ``n_hidden`` binary units $s \in \{0, 1\}^N$ (the
    visible ones first), every pair connected by a symmetric weight, no self-connections:

    $$E(s) = -\sum_{i<j} w_{ij} s_i s_j - \sum_i \theta_i s_i
      = -\tfrac12 s^\top W s - \theta^\top s, \qquad p(s) = e^{-E(s)} / Z.$$

    The parameter ``U`` holds the weights: $w_{ij} = U_{ij}$ for $i < j$ (the rest of ``U``
    is ignored), so the gradient with respect to ``U`` above its diagonal is the gradient with
    respect to the weights $w_{ij}$. ``theta``: the biases. Everything is exact, by
    enumeration of all $2^N$ states ($N \le 20$).
    """

    def __init__(self, n_visible: int, n_hidden: int, *, init_std: float = 0.1,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, min_value=1)
        self.n_hidden = check_int("n_hidden", n_hidden, min_value=0)
        n = self.n_visible + self.n_hidden
        if n > 20:
            raise ValueError(f"n_visible + n_hidden must be <= 20 (every state is enumerated), "
                             f"got {n}")
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        self.U = nn.Parameter(torch.triu(init_std * randn((n, n), generator), diagonal=1))
        self.theta = nn.Parameter(torch.zeros(n))

    @property
    def weights(self) -> Tensor:
        """The symmetric weight matrix W (N, N), zero on the diagonal."""
        upper = torch.triu(self.U, diagonal=1)
        return upper + upper.T

    def energy(self, s: Tensor) -> Tensor:
        r"""$E(s) = -\tfrac12 s^\top W s - \theta^\top s$ for each row of ``s`` (B, N); (B,)."""
        check_tensor("s", s, ndim=2, last_dim=self.U.shape[0], floating=True)
        check_like("s", s, self.U)
        return -0.5 * ((s @ self.weights) * s).sum(1) - s @ self.theta

    def _states(self) -> Tensor:
        return all_binary_states(self.U.shape[0], self.U.dtype, self.U.device)

    def log_partition(self) -> Tensor:
        r"""$\log Z = \log \sum_s e^{-E(s)}$, over all $2^N$ states."""
        return torch.logsumexp(-self.energy(self._states()), dim=0)

    def _clamped_log_joint(self, v: Tensor) -> tuple[Tensor, Tensor]:
        """For each row of v (B, D): all states with v clamped, (B, 2^H, N), and -E of each."""
        check_tensor("v", v, ndim=2, last_dim=self.n_visible, floating=True, min_batch=1)
        check_like("v", v, self.U)
        h = all_binary_states(self.n_hidden, v.dtype, v.device) if self.n_hidden else \
            v.new_zeros(1, 0)
        s = torch.cat([v[:, None, :].expand(-1, len(h), -1),
                       h[None].expand(len(v), -1, -1)], dim=2)
        return s, -self.energy(s.reshape(-1, s.shape[-1])).reshape(len(v), len(h))

    def log_prob(self, v: Tensor) -> Tensor:
        r"""$\log p(v) = \log \sum_h e^{-E(v, h)} - \log Z$ for each row of ``v`` (B, D); (B,)."""
        _, neg_e = self._clamped_log_joint(v)
        return torch.logsumexp(neg_e, dim=1) - self.log_partition()

    @torch.no_grad()
    def correlations(self, v: Tensor) -> tuple[Tensor, Tensor]:
        r"""The two statistics of the learning rule, by enumeration: ``(clamped, free)``, each
        (N, N), with

        $$\text{clamped}_{ij} = \frac1B \sum_{b} \mathbb E_{p(h \mid v_b)}[s_i s_j], \qquad
          \text{free}_{ij} = \mathbb E_{p(s)}[s_i s_j]$$

        for the data ``v`` (B, D). The diagonal holds the means ($s_i^2 = s_i$)."""
        s, neg_e = self._clamped_log_joint(v)
        post = torch.softmax(neg_e, dim=1)                                  # p(h | v_b)
        clamped = torch.einsum("bk,bki,bkj->ij", post, s, s) / len(v)
        states = self._states()
        p = torch.softmax(-self.energy(states), dim=0)
        return clamped, torch.einsum("k,ki,kj->ij", p, states, states)


def _bernoulli(p: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    """One binary draw per entry of the probabilities ``p``, drawn with ``generator``."""
    return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)


def _bernoulli_entropy(mu: Tensor) -> Tensor:
    r"""$H(\mu) = -\sum_j \mu_j \log \mu_j + (1 - \mu_j) \log(1 - \mu_j)$ over the last axis."""
    return -(torch.special.xlogy(mu, mu) + torch.special.xlogy(1 - mu, 1 - mu)).sum(-1)


class PersistentChains:
    r"""Markov chains that persist across parameter updates: the "fantasy particles" of
    persistent contrastive divergence (Tieleman, 2008).

    ``state`` holds the chains' current states, one row per chain: a (n, D) tensor for an
    :class:`RBM` (see :meth:`RBM.pcd_loss`), a tuple ``(v, h1, h2)`` of tensors for a
    :class:`DBM` (see :meth:`DBM.loss`). ``n_steps`` counts the Gibbs steps run so far.
    """

    def __init__(self, state: Union[Tensor, tuple[Tensor, ...]]):
        self.state = self._check(state)
        self.n_steps = 0

    @staticmethod
    def _check(state):
        parts = (state,) if isinstance(state, Tensor) else state
        if not isinstance(parts, tuple) or not parts:
            raise TypeError(f"state must be a tensor or a tuple of tensors, "
                            f"got {type(state).__name__}")
        for i, t in enumerate(parts):
            check_tensor(f"state[{i}]" if len(parts) > 1 else "state", t, ndim=2,
                         floating=True, min_batch=1)
        if len({t.shape[0] for t in parts}) != 1:
            raise ValueError(f"state tensors must hold the same number of chains, got shapes "
                             f"{[tuple(t.shape) for t in parts]}")
        return tuple(t.detach() for t in parts) if isinstance(state, tuple) else state.detach()

    def __len__(self) -> int:
        return (self.state if isinstance(self.state, Tensor) else self.state[0]).shape[0]

    def update(self, state: Union[Tensor, tuple[Tensor, ...]], k: int) -> None:
        """Store the chains' new ``state`` after ``k`` more Gibbs steps."""
        self.state = self._check(state)
        self.n_steps += check_int("k", k, min_value=0)


def marginal_logits(v: Tensor, pseudocount: float = 1.0) -> Tensor:
    r"""Log-odds of each unit being on in the data ``v`` (N, D), smoothed with a pseudocount:
    $\log\frac{n_i + \alpha}{N - n_i + \alpha}$ with $n_i = \sum_n v_{ni}$ and
    $\alpha$ = ``pseudocount``. Returns (D,). They define the smoothed maximum-likelihood
    independent-unit model: :func:`independent_log_prob` evaluates it, and
    :func:`ais_log_partition` can start from it."""
    check_tensor("v", v, ndim=2, floating=True, min_batch=1)
    if v.min() < 0 or v.max() > 1:
        raise ValueError(f"v must hold values in [0, 1], got range "
                         f"[{v.min().item():.3g}, {v.max().item():.3g}]")
    alpha = check_number("pseudocount", pseudocount, positive=True)
    n_on = v.sum(0)
    return torch.log(n_on + alpha) - torch.log(v.shape[0] - n_on + alpha)


def independent_log_prob(v: Tensor, logits: Tensor) -> Tensor:
    r"""$\log p(v) = \sum_i v_i c_i - \log(1 + e^{c_i})$ under independent Bernoulli units
    with log-odds $c$ = ``logits`` (D,), for each row of ``v`` (B, D); returns (B,)."""
    check_tensor("logits", logits, ndim=1, floating=True, nonempty=True)
    check_tensor("v", v, ndim=2, last_dim=logits.shape[0], floating=True)
    return (v * logits - nn.functional.softplus(logits)).sum(-1)


def _check_betas(betas: Tensor) -> Tensor:
    check_tensor("betas", betas, ndim=1, floating=True)
    if len(betas) < 2 or betas[0].item() != 0.0 or betas[-1].item() != 1.0:
        raise ValueError(f"betas must run from 0 to 1 (at least 2 values), got "
                         f"{len(betas)} values from {betas[0].item() if len(betas) else None}")
    if (betas[1:] < betas[:-1]).any():
        raise ValueError("betas must be non-decreasing")
    return betas


def ais_betas(n_steps: int, dtype: torch.dtype = torch.float64) -> Tensor:
    r"""A schedule of ``n_steps`` + 1 inverse temperatures from 0 to 1, spaced uniformly
    on [0, 0.5], [0.5, 0.9] and [0.9, 1] with 1 : 4 : 10 of the steps: like the schedule of
    Salakhutdinov and Murray (2008), piecewise uniform on these three intervals and dense
    near $\beta = 1$, where the distributions change fastest. Returns (n_steps + 1,)."""
    n_steps = check_int("n_steps", n_steps, min_value=3)
    check_float_dtype("dtype", dtype)
    n1 = max(1, round(n_steps / 15))
    n2 = max(1, round(4 * n_steps / 15))
    n3 = n_steps - n1 - n2
    return torch.cat([torch.linspace(0.0, 0.5, n1 + 1, dtype=dtype)[:-1],
                      torch.linspace(0.5, 0.9, n2 + 1, dtype=dtype)[:-1],
                      torch.linspace(0.9, 1.0, n3 + 1, dtype=dtype)])


@torch.no_grad()
def ais_log_weights(rbm: RBM, betas: Tensor, v0: Tensor, *, base_logits: Optional[Tensor] = None,
                    generator: Optional[torch.Generator] = None) -> Tensor:
    r"""Log importance weights of annealed importance sampling (Neal, 2001) from a base model
    to ``rbm``, one AIS run per row of ``v0`` (M, D), which must be samples of the base model.

    The base model has independent visible units with log-odds $c$ = ``base_logits``
    (default 0) and the RBM's hidden units disconnected. With $x_j = b_j + (v^\top W)_j$,
    the intermediate distributions (Salakhutdinov and Murray, 2008) are

    $$f_\beta(v) = e^{(1 - \beta) c^\top v + \beta a^\top v}\prod_j \big(1 + e^{\beta x_j}\big),$$

    $f_0$ the base model ($Z_0 = 2^H \prod_i (1 + e^{c_i})$) and $f_1 = e^{-F(v)}$ the RBM.
    Run $m$ starts at $v^{(1)} = v_0$ and accumulates, for $k = 1, \dots, K$,
    $\log w \mathrel{+}= \log f_{\beta_k}(v^{(k)}) - \log f_{\beta_{k-1}}(v^{(k)})$, then
    moves by one block Gibbs step that leaves $f_{\beta_k}$ invariant:
    $h_j \sim \sigma(\beta_k x_j)$,
    $v_i \sim \sigma((1 - \beta_k) c_i + \beta_k (a_i + W_{i:} h))$.
    Then $\mathbb E[w] = Z / Z_0$. ``betas``: $\beta_0 = 0 \le \beta_1 \le \dots \le \beta_K = 1$.
    Returns the (M,) log weights, in float64 where the device has it.
    """
    _check_rbm(rbm)._check_v(v0, "v0", convert=True)
    path, beta_list, v, log_w = _start_annealing(rbm, betas, v0, base_logits, generator)
    for k in range(1, len(beta_list)):
        x = path.hidden_input(v)                                     # (M, H)
        log_w += path.log_f_ratio(v, x, beta_list[k], beta_list[k - 1])
        if k < len(beta_list) - 1:           # move with T_k, which leaves f_{beta_k} invariant
            v = path.gibbs(x, beta_list[k], generator)
    return log_w


class AnnealingPath:
    r"""The intermediate distributions of AIS between the base model (log-odds $c$, hidden
    units disconnected) and ``rbm``, with the hidden units summed out: $\log f_\beta(v) =
    (1 - \beta) c^\top v + \beta a^\top v + \sum_j \operatorname{softplus}(\beta x_j)$,
    $x = v^\top W + b$; and the block Gibbs step that leaves $f_\beta$ invariant."""

    def __init__(self, rbm: RBM, c: Tensor, v: Tensor):
        _check_rbm(rbm)._check_v(v, convert=True)        # v (B, D): only its dtype and device
        check_tensor("c", c, ndim=1, last_dim=rbm.n_visible, floating=True)
        check_like("c", c, rbm.W)
        self.W, self.a, self.b = rbm.W.detach(), rbm.a.detach(), rbm.b.detach()
        self.c, self.a_minus_c = c, self.a - c
        self.acc = v.dtype if v.device.type == "mps" else torch.float64   # MPS has no float64
        self._trusted_inputs = False   # set by _start_annealing for its own inner loop

    def hidden_input(self, v: Tensor) -> Tensor:
        if not self._trusted_inputs:   # see _start_annealing
            check_tensor("v", v, ndim=2, last_dim=self.W.shape[0], floating=True)
            check_like("v", v, self.W)
        return v @ self.W + self.b

    def log_f_ratio(self, v: Tensor, x: Tensor, beta_to: float, beta_from: float) -> Tensor:
        r"""$\log f_{\beta_{to}}(v) - \log f_{\beta_{from}}(v)$ for each row; (M,)."""
        if not self._trusted_inputs:   # see _start_annealing
            check_tensor("v", v, ndim=2, last_dim=self.W.shape[0], floating=True)
            check_tensor("x", x, ndim=2, last_dim=self.W.shape[1], floating=True)
            check_like("v", v, self.W), _check_rows(v=v, x=x)
            check_number("beta_to", beta_to, within=(0, 1)), check_number("beta_from", beta_from, within=(0, 1))
        x_acc = x.to(self.acc)
        return ((beta_to - beta_from) * (v @ self.a_minus_c).to(self.acc)      # visible biases
                + (softplus(beta_to * x_acc) - softplus(beta_from * x_acc)).sum(1))  # hidden

    def gibbs(self, x: Tensor, beta: float, generator: Optional[torch.Generator]) -> Tensor:
        r"""One block Gibbs step at $\beta$ from the states whose hidden input is ``x``:
        $h_j \sim \sigma(\beta x_j)$, then $v_i \sim \sigma((1-\beta) c_i + \beta(a_i + W_{i:} h))$."""
        if not self._trusted_inputs:   # see _start_annealing
            check_tensor("x", x, ndim=2, last_dim=self.W.shape[1], floating=True)
            check_like("x", x, self.W)
            check_number("beta", beta, within=(0, 1)), check_generator("generator", generator)
        h = _bernoulli(torch.sigmoid(beta * x), generator)
        return _bernoulli(torch.sigmoid(beta * (h @ self.W.T) + ((1 - beta) * self.c
                                                                 + beta * self.a)), generator)


@torch.no_grad()
def reverse_ais_log_weights(rbm: RBM, betas: Tensor, v_start: Tensor, *,
                            base_logits: Optional[Tensor] = None,
                            generator: Optional[torch.Generator] = None) -> Tensor:
    r"""Log weights of annealed importance sampling run *backwards*, from ``rbm`` to the base
    model of :func:`ais_log_weights`, one run per row of ``v_start`` (M, D).

    ``betas`` is the forward schedule $0 = \beta_0 \le \dots \le \beta_K = 1$. Each run goes down
    it: for $k = K, \dots, 1$ it moves $v$ by one block Gibbs step that leaves $f_{\beta_k}$
    invariant, then accumulates $\log w \mathrel{+}= \log f_{\beta_{k-1}}(v) - \log f_{\beta_k}(v)$.

    * Started at exact samples of the RBM, $\mathbb E[w] = Z_0 / Z$ (Neal's identity for the
      reversed sequence of distributions), so $\log Z_0 - \log \frac1M\sum_m w_m$
      overestimates $\log Z$ on average: the other side of forward AIS (Grosse, Ghahramani
      and Adams, 2015). See :func:`reverse_ais_log_partition`.
    * Started at a data vector $v$, $\mathbb E[e^{-F(v)} w] / Z_0 = p_{\text{ann}}(v)$, the
      probability of $v$ under the annealing model that draws $x_0$ from the base and moves it
      by the block Gibbs steps at $\beta_1, \dots, \beta_K$: RAISE (Burda, Grosse and
      Salakhutdinov, 2015). See :func:`raise_log_prob`.

    Returns the (M,) log weights, in float64 where the device has it.
    """
    _check_rbm(rbm)._check_v(v_start, "v_start", convert=True)
    path, beta_list, v, log_w = _start_annealing(rbm, betas, v_start, base_logits, generator)
    x = path.hidden_input(v)
    for k in range(len(beta_list) - 1, 0, -1):
        v = path.gibbs(x, beta_list[k], generator)             # T_k, which keeps f_{beta_k}
        x = path.hidden_input(v)
        log_w += path.log_f_ratio(v, x, beta_list[k - 1], beta_list[k])
    return log_w


def _start_annealing(rbm: RBM, betas: Tensor, v: Tensor, base_logits: Optional[Tensor],
                     generator: Optional[torch.Generator]):
    """Checked arguments of an AIS run (``rbm`` and the start states ``v`` are checked by the
    caller, which knows the name of ``v``): the path, the betas as floats, the start states in
    the RBM's dtype and zero log weights (float64 where the device has it)."""
    betas = _check_betas(betas)
    check_generator("generator", generator)
    path = AnnealingPath(rbm, _base_logits(base_logits, rbm), v)
    # The AIS runs pass the path their own states, from a checked start: the path skips its
    # per-step argument checks (which would cost as much as a step of a small model).
    path._trusted_inputs = True
    log_w = torch.zeros(v.shape[0], dtype=path.acc, device=v.device)
    return path, betas.tolist(), v.to(path.W.dtype), log_w


def _check_rbm(rbm) -> RBM:
    """An :class:`RBM` whose parameters are finite (a diverged model would give NaN weights)."""
    if not isinstance(rbm, RBM):
        raise TypeError(f"rbm must be an RBM, got {type(rbm).__name__}")
    for name, p in (("W", rbm.W), ("a", rbm.a), ("b", rbm.b)):
        if not torch.isfinite(p).all():
            raise ValueError(f"rbm must have finite parameters, got non-finite values in rbm.{name}")
    return rbm


def _check_rows(**tensors: Tensor) -> None:
    """Tensors that pair up row by row (one row per state) must have as many rows each."""
    if len({t.shape[0] for t in tensors.values()}) > 1:
        names = list(tensors)
        shapes = [tuple(t.shape) for t in tensors.values()]
        raise ValueError(f"{', '.join(names[:-1])} and {names[-1]} must have the same number "
                         f"of rows (one per state), got shapes "
                         f"{', '.join(map(str, shapes[:-1]))} and {shapes[-1]}")


def _base_logits(base_logits: Optional[Tensor], rbm: RBM) -> Tensor:
    if base_logits is None:
        return torch.zeros_like(rbm.a.detach())
    check_tensor("base_logits", base_logits, ndim=1, floating=True)
    if base_logits.shape[0] != rbm.n_visible:
        raise ValueError(f"base_logits must have {rbm.n_visible} entries (one per visible unit), "
                         f"got {base_logits.shape[0]}")
    return base_logits.detach().to(rbm.a.device, rbm.a.dtype)


@dataclass
class AISResult:
    r"""What :func:`ais_log_partition` and :func:`reverse_ais_log_partition` return.

    ``log_z``: the estimate, $\log \hat Z = \log Z_0 + \log \frac1M \sum_m w_m$ (forward),
    or $\log Z_0 - \log \frac1M \sum_m w_m$ (``reverse``, where $\mathbb E[w] = Z_0 / Z$);
    ``log_z_base``: $\log Z_0$; ``log_weights``: the $M$ values $\log w_m$.
    """

    log_z: float
    log_z_base: float
    log_weights: Tensor
    reverse: bool = False

    @property
    def effective_sample_size(self) -> float:
        r"""$(\sum_m w_m)^2 / \sum_m w_m^2$: between 1 (one run dominates) and $M$."""
        lw = self.log_weights.double()
        return float(torch.exp(2 * torch.logsumexp(lw, 0) - torch.logsumexp(2 * lw, 0)))

    def interval(self, n_std: float = 3.0) -> tuple[float, float]:
        r"""$\log(\hat Z \pm$ ``n_std`` standard errors of $\hat Z)$, as Salakhutdinov and Murray
        (2008) report it; the lower end is $-\infty$ when the interval reaches 0. For a
        ``reverse`` estimate, the interval $\bar w \pm$ ``n_std`` s.e. of the weights, mapped
        through $\log Z_0 - \log \bar w$ (the upper end is $+\infty$ when it reaches 0)."""
        n_std = check_number("n_std", n_std, nonnegative=True)
        lw = self.log_weights.double()
        top = lw.max()
        w = torch.exp(lw - top)                                  # rescaled weights, max 1
        mean = w.mean()
        se = w.std() / math.sqrt(len(w)) if len(w) > 1 else torch.zeros((), dtype=w.dtype)
        low, high = mean - n_std * se, mean + n_std * se
        log_low = math.log(low.item()) + top.item() if low > 0 else -math.inf
        log_high = math.log(high.item()) + top.item()
        if self.reverse:
            return self.log_z_base - log_high, self.log_z_base - log_low
        return self.log_z_base + log_low, self.log_z_base + log_high


def _log_z_base(rbm: RBM, c: Tensor) -> float:
    r"""$\log Z_0 = H \log 2 + \sum_i \log(1 + e^{c_i})$: independent visible units with
    log-odds $c$, and $H$ disconnected hidden units that each contribute a factor 2."""
    return rbm.n_hidden * math.log(2.0) + nn.functional.softplus(c.cpu().double()).sum().item()


@torch.no_grad()
def ais_log_partition(rbm: RBM, betas: Tensor, n_runs: int, *,
                      base_logits: Optional[Tensor] = None,
                      generator: Optional[torch.Generator] = None) -> AISResult:
    r"""Estimate $\log Z$ of ``rbm`` by annealed importance sampling with ``n_runs``
    independent runs over the inverse temperatures ``betas`` (see :func:`ais_log_weights`).

    $$\log \hat Z = \log Z_0 + \log \frac1M \sum_{m=1}^{M} w_m
      = \log Z_0 + \operatorname{logsumexp}_m(\log w_m) - \log M .$$

    $\hat Z$ is unbiased, $\mathbb E[\hat Z] = Z$; by Jensen's inequality $\log \hat Z$ then
    underestimates $\log Z$ on average, so log-likelihoods $-F(v) - \log \hat Z$ computed
    with it are optimistic on average.
    """
    n_runs = check_int("n_runs", n_runs, min_value=1)
    c = _base_logits(base_logits, _check_rbm(rbm))
    check_generator("generator", generator)
    v0 = _bernoulli(torch.sigmoid(c).expand(n_runs, -1), generator)   # exact base samples
    log_w = ais_log_weights(rbm, betas, v0, base_logits=c, generator=generator)
    log_z_base = _log_z_base(rbm, c)
    log_z = log_z_base + (torch.logsumexp(log_w, 0) - math.log(n_runs)).item()
    return AISResult(log_z, log_z_base, log_w.cpu())


@torch.no_grad()
def reverse_ais_log_partition(rbm: RBM, betas: Tensor, v_model: Tensor, *,
                              base_logits: Optional[Tensor] = None,
                              generator: Optional[torch.Generator] = None) -> AISResult:
    r"""Estimate $\log Z$ of ``rbm`` from above by reverse AIS (see
    :func:`reverse_ais_log_weights`), one run from each row of ``v_model`` (M, D), which
    should be samples of the RBM:

    $$\log \check Z = \log Z_0 - \log \frac1M \sum_{m=1}^{M} w_m .$$

    With exact samples $\mathbb E[w] = Z_0 / Z$, so $1/\check Z$ is unbiased for $1/Z$ and, by
    Jensen's inequality, $\mathbb E[\log \check Z] \ge \log Z$; by Markov's inequality
    $P(\log \check Z < \log Z - t) \le e^{-t}$. Together with forward AIS this brackets
    $\log Z$ (bidirectional Monte Carlo, Grosse, Ghahramani and Adams, 2015). With samples
    that miss part of the model's probability the guarantee is lost: the bracket is only as
    good as the samples.
    """
    # not empty: the mean of no weights is undefined
    _check_rbm(rbm)._check_v(v_model, "v_model", min_batch=1, convert=True)
    c = _base_logits(base_logits, rbm)
    log_w = reverse_ais_log_weights(rbm, betas, v_model, base_logits=c, generator=generator)
    log_z_base = _log_z_base(rbm, c)
    log_z = log_z_base - (torch.logsumexp(log_w, 0) - math.log(len(log_w))).item()
    return AISResult(log_z, log_z_base, log_w.cpu(), reverse=True)


@torch.no_grad()
def raise_log_prob(rbm: RBM, betas: Tensor, v: Tensor, *, n_runs: int = 1,
                   base_logits: Optional[Tensor] = None,
                   generator: Optional[torch.Generator] = None) -> Tensor:
    r"""RAISE, the reverse AIS estimator of Burda, Grosse and Salakhutdinov (2015): for each
    row of ``v`` (B, D), an estimate of $\log p_{\text{ann}}(v)$ from ``n_runs`` reverse AIS
    runs started at $v$ itself (see :func:`reverse_ais_log_weights`):

    $$\log \hat p(v) = -F(v) - \log Z_0 + \log \frac1R \sum_{r=1}^{R} w_r(v).$$

    $\hat p(v)$ is unbiased for $p_{\text{ann}}(v)$, the probability of $v$ under the
    annealing model (a base draw moved by the block Gibbs steps at
    $\beta_1, \dots, \beta_K = 1$), which approaches the RBM's $p(v)$ as the schedule
    lengthens; $\log \hat p(v)$ is therefore a stochastic lower bound on
    $\log p_{\text{ann}}(v)$: a conservative estimate, the opposite of forward AIS's error.
    Needs no samples of the model. Returns (B,).
    """
    c = _base_logits(base_logits, _check_rbm(rbm))
    rbm._check_v(v)
    n_runs = check_int("n_runs", n_runs, min_value=1)
    starts = v.repeat_interleave(n_runs, dim=0)
    log_w = reverse_ais_log_weights(rbm, betas, starts, base_logits=c, generator=generator)
    log_mean_w = torch.logsumexp(log_w.view(len(v), n_runs), 1) - math.log(n_runs)
    return -rbm.free_energy(v).to(log_w.dtype) - _log_z_base(rbm, c) + log_mean_w


DBMState = tuple[Tensor, Tensor, Tensor]


class DBM(nn.Module):
    r"""A deep Boltzmann machine with two hidden layers (Salakhutdinov and Hinton, 2009):
    binary units $v \in \{0,1\}^D$, $h^1 \in \{0,1\}^{H_1}$, $h^2 \in \{0,1\}^{H_2}$, with

    $$E(v, h^1, h^2) = -v^\top W^1 h^1 - {h^1}^\top W^2 h^2 - a^\top v - {b^1}^\top h^1
      - {b^2}^\top h^2, \qquad p(v, h^1, h^2) = e^{-E} / Z.$$

    There are no connections within a layer, nor between $v$ and $h^2$: given $h^1$, the
    units of $v$ and $h^2$ are all independent, and given $v$ and $h^2$ so are those of
    $h^1$. The graph is bipartite, $\{h^1\}$ against $\{v, h^2\}$, so the DBM *is* an RBM
    with visible layer $(v, h^2)$ (see :meth:`as_rbm`); what makes it deep is that only
    $v$ is observed. ``init_std``: standard deviation of the initial weights.
    """

    def __init__(self, n_visible: int, n_hidden1: int, n_hidden2: int, *, init_std: float = 0.01,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, min_value=1)
        self.n_hidden1 = check_int("n_hidden1", n_hidden1, min_value=1)
        self.n_hidden2 = check_int("n_hidden2", n_hidden2, min_value=1)
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        self.W1 = nn.Parameter(init_std * randn((self.n_visible, self.n_hidden1), generator))
        self.W2 = nn.Parameter(init_std * randn((self.n_hidden1, self.n_hidden2), generator))
        self.a = nn.Parameter(torch.zeros(self.n_visible))     # visible biases
        self.b1 = nn.Parameter(torch.zeros(self.n_hidden1))    # first hidden layer's biases
        self.b2 = nn.Parameter(torch.zeros(self.n_hidden2))    # second hidden layer's biases

    def _check(self, name: str, x: Tensor, width: int, *,
               min_batch: Optional[int] = None) -> Tensor:
        """A batch (B, width), finite, in the DBM's dtype and on its device."""
        check_tensor(name, x, ndim=2, last_dim=width, floating=True, min_batch=min_batch)
        check_like(name, x, self.W1)
        return x

    @torch.no_grad()
    def init_visible_bias_(self, v: Tensor) -> "DBM":
        r"""Set $a_i$ to the log-odds of unit $i$ being on in the data ``v`` (N, D), clamped
        to [0.001, 0.999] as in :meth:`RBM.init_visible_bias_`."""
        # any floating dtype and device (copied into a); not empty: the mean of no rows is NaN
        check_tensor("v", v, ndim=2, last_dim=self.n_visible, floating=True, min_batch=1)
        p = v.mean(0).clamp(1e-3, 1 - 1e-3)
        self.a.copy_(torch.log(p / (1 - p)))
        return self

    def energy(self, v: Tensor, h1: Tensor, h2: Tensor) -> Tensor:
        r"""$E(v, h^1, h^2)$ for (B, D), (B, H1), (B, H2); returns (B,). Multilinear, so for
        a factorised $Q$ with means $\mu^1, \mu^2$:
        $\mathbb E_Q[E(v, h^1, h^2)] = E(v, \mu^1, \mu^2)$."""
        self._check("v", v, self.n_visible)
        self._check("h1", h1, self.n_hidden1)
        self._check("h2", h2, self.n_hidden2)
        _check_rows(v=v, h1=h1, h2=h2)
        return (-((v @ self.W1) * h1).sum(1) - ((h1 @ self.W2) * h2).sum(1)
                - v @ self.a - h1 @ self.b1 - h2 @ self.b2)

    def p_h1(self, v: Tensor, h2: Tensor) -> Tensor:
        r"""$p(h^1_j = 1 \mid v, h^2) = \sigma((v^\top W^1)_j + (W^2 h^2)_j + b^1_j)$: (B, H1)."""
        self._check("v", v, self.n_visible), self._check("h2", h2, self.n_hidden2)
        _check_rows(v=v, h2=h2)
        return torch.sigmoid(v @ self.W1 + h2 @ self.W2.T + self.b1)

    def p_v(self, h1: Tensor) -> Tensor:
        r"""$p(v_i = 1 \mid h^1) = \sigma((W^1 h^1)_i + a_i)$: (B, D)."""
        return torch.sigmoid(self._check("h1", h1, self.n_hidden1) @ self.W1.T + self.a)

    def p_h2(self, h1: Tensor) -> Tensor:
        r"""$p(h^2_k = 1 \mid h^1) = \sigma(({h^1}^\top W^2)_k + b^2_k)$: (B, H2)."""
        return torch.sigmoid(self._check("h1", h1, self.n_hidden1) @ self.W2 + self.b2)

    def _check_state(self, state) -> DBMState:
        if not (isinstance(state, tuple) and len(state) == 3):
            raise TypeError(f"state must be a tuple (v, h1, h2) of tensors, got "
                            f"{type(state).__name__}")
        v, h1, h2 = state
        self._check("state v", v, self.n_visible)
        self._check("state h1", h1, self.n_hidden1)
        self._check("state h2", h2, self.n_hidden2)
        _check_rows(**{"state v": v, "state h1": h1, "state h2": h2})
        return v, h1, h2

    @torch.no_grad()
    def gibbs(self, state: DBMState, k: int = 1,
              generator: Optional[torch.Generator] = None) -> DBMState:
        r"""``k`` steps of block Gibbs sampling from ``state`` = (v, h1, h2), one chain per
        row. One step draws $v \sim p(v \mid h^1)$ and $h^2 \sim p(h^2 \mid h^1)$ together,
        then $h^1 \sim p(h^1 \mid v, h^2)$."""
        v, h1, h2 = self._check_state(state)
        k = check_int("k", k, min_value=0)
        check_generator("generator", generator)
        for _ in range(k):
            v, h2 = _bernoulli(self.p_v(h1), generator), _bernoulli(self.p_h2(h1), generator)
            h1 = _bernoulli(self.p_h1(v, h2), generator)
        return v, h1, h2

    @torch.no_grad()
    def init_chains(self, n: int, generator: Optional[torch.Generator] = None,
                    v: Optional[Tensor] = None) -> PersistentChains:
        r"""``n`` persistent chains, started at ``v`` (n, D) if given, else at draws from
        the visible biases alone; $h^1, h^2$ drawn upwards from there ($h^2 = 0$ for $h^1$)."""
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        if v is None:
            v = _bernoulli(torch.sigmoid(self.a.detach()).expand(n, -1), generator)
        elif self._check("v", v, self.n_visible).shape[0] != n:
            raise ValueError(f"v must have {n} rows (one per chain), got shape {tuple(v.shape)}")
        h1 = _bernoulli(self.p_h1(v, v.new_zeros(n, self.n_hidden2)), generator)
        h2 = _bernoulli(self.p_h2(h1), generator)
        return PersistentChains((v.clone(), h1, h2))

    @torch.no_grad()
    def mean_field(self, v: Tensor, n_steps: int = 10, *, history: bool = False):
        r"""Mean-field inference of $Q(h^1, h^2) = \prod_j q(h^1_j) \prod_k q(h^2_k)$ given
        ``v`` (B, D), by the fixed-point updates (Salakhutdinov and Hinton, 2009)

        $$\mu^1 \leftarrow \sigma(v^\top W^1 + W^2 \mu^2 + b^1), \qquad
          \mu^2 \leftarrow \sigma({\mu^1}^\top W^2 + b^2),$$

        started from a bottom-up pass ($\mu^1 = \sigma(v^\top W^1 + b^1)$, then $\mu^2$).
        Each update maximises :meth:`variational_bound` exactly over one layer with the
        other fixed (units within a layer do not interact), so the bound never decreases.
        Returns ``(mu1, mu2)``; with ``history`` also the bound after the start and after
        each of the ``n_steps`` steps, (n_steps + 1, B).
        """
        self._check("v", v, self.n_visible)
        n_steps = check_int("n_steps", n_steps, min_value=0)
        bottom_up = v @ self.W1 + self.b1                           # (B, H1), computed once
        mu1 = torch.sigmoid(bottom_up)
        mu2 = self.p_h2(mu1)
        bounds = [self.variational_bound(v, mu1, mu2)] if history else None
        for _ in range(n_steps):
            mu1 = torch.sigmoid(bottom_up + mu2 @ self.W2.T)        # = p_h1(v, mu2)
            mu2 = self.p_h2(mu1)
            if bounds is not None:
                bounds.append(self.variational_bound(v, mu1, mu2))
        if bounds is not None:
            return mu1, mu2, torch.stack(bounds)
        return mu1, mu2

    @torch.no_grad()
    def mean_field_residual(self, v: Tensor, mu1: Tensor, mu2: Tensor) -> float:
        """Largest violation of the two fixed-point equations of :meth:`mean_field`."""
        self._check("v", v, self.n_visible, min_batch=1)       # the max over no rows is undefined
        self._check("mu1", mu1, self.n_hidden1), self._check("mu2", mu2, self.n_hidden2)
        _check_rows(v=v, mu1=mu1, mu2=mu2)
        r1 = (mu1 - self.p_h1(v, mu2)).abs().max()
        r2 = (mu2 - self.p_h2(mu1)).abs().max()
        return float(torch.maximum(r1, r2))

    def variational_bound(self, v: Tensor, mu1: Tensor, mu2: Tensor) -> Tensor:
        r"""$\mathcal L(v) = -E(v, \mu^1, \mu^2) + H(\mu^1) + H(\mu^2)$ for each row; (B,).

        For the factorised $Q$ with means $\mu^1, \mu^2$,
        $\mathcal L(v) = \log \sum_{h} e^{-E(v, h)} - \mathrm{KL}(Q \,\|\, p(h \mid v))
        \le -F(v)$, so $\log p(v) \ge \mathcal L(v) - \log Z$.
        """
        self._check("v", v, self.n_visible)
        self._check("mu1", mu1, self.n_hidden1), self._check("mu2", mu2, self.n_hidden2)
        _check_rows(v=v, mu1=mu1, mu2=mu2)
        for name, mu in (("mu1", mu1), ("mu2", mu2)):
            if mu.numel() and (mu.min() < 0 or mu.max() > 1):
                raise ValueError(f"{name} must hold probabilities in [0, 1], got range "
                                 f"[{mu.min().item():.3g}, {mu.max().item():.3g}]")
        return -self.energy(v, mu1, mu2) + _bernoulli_entropy(mu1) + _bernoulli_entropy(mu2)

    def loss(self, v_data: Tensor, chains: PersistentChains, *, n_mean_field: int = 10,
             k: int = 1, generator: Optional[torch.Generator] = None) -> tuple[Tensor, tuple]:
        r"""The surrogate loss of the DBM's learning rule (Salakhutdinov and Hinton, 2009):

        $$\mathcal J = \overline{E(v, \mu^1, \mu^2)}_{\text{data}}
          - \overline{E(\tilde v, \tilde h^1, \tilde h^2)}_{\text{chains}},$$

        with $\mu$ from :meth:`mean_field` (data-dependent term) and $(\tilde v, \tilde
        h^1, \tilde h^2)$ the persistent ``chains`` advanced ``k`` Gibbs steps (model term),
        both held fixed. Its gradient is $-\big(\mathbb E_{\text{data},Q}[\,\cdot\,] -
        \mathbb E_{\text{model}}[\,\cdot\,]\big)$, e.g. $-(\overline{v {\mu^1}^\top} -
        \overline{\tilde v {\tilde h^{1\top}}})$ for $W^1$: gradient descent on it is the
        stochastic-approximation update. Returns ``(loss, (mu1, mu2))``.
        """
        self._check("v_data", v_data, self.n_visible, min_batch=1)   # a mean over no rows is NaN
        if not isinstance(chains, PersistentChains):
            raise TypeError(f"chains must be a PersistentChains, got {type(chains).__name__}")
        n_mean_field = check_int("n_mean_field", n_mean_field, min_value=0)
        k = check_int("k", k, min_value=1)
        mu1, mu2 = self.mean_field(v_data, n_mean_field)
        neg = self.gibbs(self._check_state(chains.state), k, generator)
        chains.update(neg, k)
        return self.energy(v_data, mu1, mu2).mean() - self.energy(*neg).mean(), (mu1, mu2)

    @torch.no_grad()
    def as_rbm(self) -> RBM:
        r"""The same distribution as an :class:`RBM` whose visible layer is $(v, h^2)$
        (D + H2 units) and whose hidden layer is $h^1$: weights $[W^1; {W^2}^\top]$, visible
        biases $[a; b^2]$, hidden biases $b^1$. A copy, on the same device and dtype."""
        rbm = RBM(self.n_visible + self.n_hidden2, self.n_hidden1, init_std=0.0,
                  generator=torch.Generator().manual_seed(0))
        rbm = rbm.to(self.W1.device, self.W1.dtype)
        rbm.W.copy_(torch.cat([self.W1, self.W2.T], dim=0))
        rbm.a.copy_(torch.cat([self.a, self.b2]))
        rbm.b.copy_(self.b1)
        return rbm

    def log_partition(self) -> Tensor:
        r"""$\log Z$ exactly, by :meth:`RBM.log_partition` of :meth:`as_rbm`: it sums out
        one side analytically and enumerates the other (at most 20 units)."""
        return self.as_rbm().log_partition()

    def free_energy(self, v: Tensor) -> Tensor:
        r"""$F(v) = -\log \sum_{h^1, h^2} e^{-E(v, h^1, h^2)}$, exactly, for (B, D); (B,).
        Enumerates $h^2$ (at most 20 units) and sums $h^1$ out analytically:
        $F(v) = -a^\top v - \log\sum_{h^2} e^{{b^2}^\top h^2}
        \prod_j (1 + e^{(v^\top W^1)_j + (W^2 h^2)_j + b^1_j})$. Memory: B x 2^H2 x H1."""
        self._check("v", v, self.n_visible)
        if self.n_hidden2 > 20:
            raise ValueError(f"exact F(v) needs at most 20 units in h2, got {self.n_hidden2}")
        h2 = all_binary_states(self.n_hidden2, self.W1.dtype, self.W1.device)   # (S, H2)
        x = (v @ self.W1 + self.b1)[:, None, :] + (h2 @ self.W2.T)[None]     # (B, S, H1)
        log_terms = (h2 @ self.b2)[None] + nn.functional.softplus(x).sum(-1)   # (B, S)
        return -(v @ self.a) - torch.logsumexp(log_terms, dim=1)

    def log_prob(self, v: Tensor) -> Tensor:
        r"""$\log p(v) = -F(v) - \log Z$, exact (small models only)."""
        return -self.free_energy(v) - self.log_partition()
