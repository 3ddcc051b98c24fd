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
"""
from __future__ import annotations

import itertools
from typing import Optional

import torch
from torch import Tensor, nn

from ._checks import check_generator, check_int, check_number, check_tensor
from .seeding import rand, randn

__all__ = ["RBM", "all_binary_states"]


def all_binary_states(n: int, dtype=torch.float32, device=None) -> Tensor:
    """Every vector in {0, 1}^n, as rows of a (2^n, n) tensor (n <= 24)."""
    n = check_int("n", n, min_value=1, max_value=24)
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
        self.W = nn.Parameter(init_std * randn((self.n_visible, self.n_hidden), generator))
        self.a = nn.Parameter(torch.zeros(self.n_visible))   # visible biases
        self.b = nn.Parameter(torch.zeros(self.n_hidden))    # hidden biases

    @torch.no_grad()
    def init_visible_bias_(self, v: Tensor) -> "RBM":
        r"""Set the visible biases to the log-odds of each unit being on in the data ``v``,
        $a_i = \log(p_i / (1 - p_i))$ (Hinton, 2012): with $W = 0$ the RBM is then the
        best independent-pixel model, and learning starts from there."""
        p = self._check_v(v).mean(0).clamp(1e-3, 1 - 1e-3)
        self.a.copy_(torch.log(p / (1 - p)))
        return self

    def _check_v(self, v: Tensor) -> Tensor:
        check_tensor("v", v, ndim=2, last_dim=self.n_visible, floating=True)
        return v

    def _check_h(self, h: Tensor) -> Tensor:
        check_tensor("h", h, ndim=2, last_dim=self.n_hidden, floating=True)
        return h

    def energy(self, v: Tensor, h: Tensor) -> Tensor:
        r"""$E(v, h) = -a^\top v - b^\top h - v^\top W h$ for (B, D) and (B, H); returns (B,)."""
        self._check_v(v), self._check_h(h)
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
        p = self.p_h_given_v(v)
        return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)

    @torch.no_grad()
    def sample_v(self, h: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        p = self.p_v_given_h(h)
        return (rand(p.shape, generator, p.device, p.dtype) < p).to(p.dtype)

    @torch.no_grad()
    def gibbs(self, v: Tensor, k: int = 1, generator: Optional[torch.Generator] = None) -> Tensor:
        """``k`` steps of block Gibbs sampling, v -> h -> v, from each row of ``v``."""
        k = check_int("k", k, min_value=0)
        check_generator("generator", generator)
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
        self._check_v(v_data)
        v_k = self.gibbs(v_data, k, generator)
        return self.free_energy(v_data).mean() - self.free_energy(v_k).mean(), v_k

    @torch.no_grad()
    def reconstruction_error(self, v: Tensor) -> float:
        """Mean squared error of the mean-field reconstruction v -> p(h|v) -> p(v|h)."""
        recon = self.p_v_given_h(self.p_h_given_v(self._check_v(v)))
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

    def log_prob(self, v: Tensor) -> Tensor:
        r"""$\log p(v) = -F(v) - \log Z$, exact (small models only, see :meth:`log_partition`)."""
        return -self.free_energy(v) - self.log_partition()
