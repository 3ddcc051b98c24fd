r"""Chapter 11: transformers, in one readable file.

The transformer of Vaswani et al. (2017), "Attention is all you need" (NeurIPS), built from
its parts:

* :func:`scaled_dot_product_attention`,
  $\mathrm{Attention}(Q, K, V) = \mathrm{softmax}(Q K^\top / \sqrt{d_k})\,V$, with an
  optional boolean mask (:func:`causal_mask`, :func:`padding_mask`); it returns the
  attention weights too, so that they can be looked at;
* :class:`MultiHeadAttention`: project, split into heads, attend, merge, project;
* :func:`sinusoidal_encoding`, the fixed positional encoding of the paper (learned position
  embeddings are the alternative, ``TransformerConfig(positions="learned")``);
* :class:`Block`: attention and an MLP, each inside a residual connection, with layer norm
  *before* each sublayer (pre-norm, as in GPT-2 and Xiong et al. 2020; the 2017 paper
  normalises after the residual sum);
* :class:`DecoderBlock`: the decoder's block of an encoder-decoder transformer, with
  cross-attention from the decoder's positions to the encoder's output;
* :class:`Transformer`: token embedding + positions + blocks + a final layer norm and a
  linear output head, with a ``@torch.no_grad()`` :meth:`Transformer.generate`.

The loss lives outside the model (:func:`next_token_loss`). The toy task of the chapter,
sorting short sequences of digits, is :func:`sorting_split` and :func:`sorting_accuracy`.
The softmax's Jacobian and saturation (:func:`softmax_jacobian`, :func:`softmax_saturation`,
:func:`random_scores`) show why the scores are scaled; the cost of attention is counted by
:func:`attention_flops` and measured by :func:`measure_cost`.

Masks follow the convention of ``torch.nn.functional.scaled_dot_product_attention``:
a boolean ``mask`` is **True where a query may attend to a key**. (``nn.MultiheadAttention``
and ``nn.TransformerEncoderLayer`` use the opposite convention for their boolean masks:
True there means "may not attend".)
"""
from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

from ._checks import (check_broadcasts_to, check_callable, check_choice, check_generator, check_int, check_number,
                      check_qkv, check_tensor)
from .seeding import rand, randint, randn

__all__ = [
    "Block",
    "Cost",
    "DecoderBlock",
    "MultiHeadAttention",
    "Transformer",
    "TransformerConfig",
    "attention_flops",
    "causal_mask",
    "init_weights_",
    "measure_cost",
    "next_token_loss",
    "padding_mask",
    "random_scores",
    "scaled_dot_product_attention",
    "sinusoidal_encoding",
    "sinusoidal_shift",
    "softmax_jacobian",
    "softmax_saturation",
    "sorting_accuracy",
    "sorting_split",
]

Device = Union[str, torch.device, None]


# ----------------------------------------------------------------------------- attention
def _check_mask(mask: Tensor, scores_shape: torch.Size, name: str = "mask") -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a boolean torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a boolean tensor (True where a query may attend to a "
                        f"key), got dtype {mask.dtype}")
    check_broadcasts_to(name, mask, scores_shape, "the attention scores' shape (..., L, S) = ")
    if not mask.any(dim=-1).all():
        raise ValueError(f"{name} leaves a query with no key to attend to (a row of the mask "
                         "is all False)")


def _head_mask(mask: Optional[Tensor], B: int, L: int, S: int,
               name: str = "mask") -> Optional[Tensor]:
    """A multi-head module's mask: boolean (L, S), (B, L, S) or (B, 1, S); returned ready to
    broadcast over the heads."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor) or mask.dim() not in (2, 3):
        raise ValueError(f"{name} must be a boolean tensor of shape (L, S) or (B, L, S), "
                         f"got {tuple(mask.shape) if isinstance(mask, Tensor) else mask!r}")
    _check_mask(mask, torch.Size((B, L, S)) if mask.dim() == 3 else torch.Size((L, S)), name)
    return mask.unsqueeze(1) if mask.dim() == 3 else mask      # (B, 1, L, S): same for all heads


def _check_head_mask(mask: Optional[Tensor], B: int, L: int, S: int, name: str = "mask") -> None:
    """Check a mask as :func:`_head_mask` does, for the callers that pass it on as given."""
    _head_mask(mask, B, L, S, name)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor] = None,
                                 scale: Optional[float] = None) -> tuple[Tensor, Tensor]:
    r"""$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\big(Q K^\top / \sqrt{d_k}\big)\, V$.

    q: (..., L, d_k) queries; k: (..., S, d_k) keys; v: (..., S, d_v) values, with the same
    leading (batch, head) dimensions. mask: optional boolean tensor that broadcasts to
    (..., L, S), True where query i may attend to key j (masked scores become $-\infty$,
    so their weights are exactly 0). scale: defaults to $1/\sqrt{d_k}$.

    Returns ``(output, weights)``: output (..., L, d_v), weights (..., L, S), each row of
    the weights summing to one.
    """
    check_qkv(q, k, v)
    d_k = q.shape[-1]
    scale = 1.0 / math.sqrt(d_k) if scale is None else check_number("scale", scale, positive=True)

    scores = (q @ k.transpose(-2, -1)) * scale                # (..., L, S)  Q K^T / sqrt(d_k)
    if mask is not None:
        _check_mask(mask, scores.shape)
        scores = scores.masked_fill(~mask, float("-inf"))     # forbidden pairs get weight 0
    weights = torch.softmax(scores, dim=-1)                   # (..., L, S)  rows sum to 1
    return weights @ v, weights                               # (..., L, d_v), (..., L, S)


def causal_mask(length: int, device: Device = None) -> Tensor:
    """(length, length) boolean mask, True on and below the diagonal: position t may attend
    to positions 0..t and not to the future."""
    length = check_int("length", length, min_value=1)
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: Tensor, size: int) -> Tensor:
    """(B, 1, size) boolean mask, True for the first ``lengths[b]`` keys of sequence b (the
    real tokens) and False for the padding after them; it broadcasts over the queries.
    Combine with a causal mask by ``&``."""
    check_tensor("lengths", lengths, ndim=1, nonempty=True)
    size = check_int("size", size, min_value=1)
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor, got dtype {lengths.dtype}")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > size):
        raise ValueError(f"lengths must lie in 1..{size}, got {lengths.tolist()}")
    return (torch.arange(size, device=lengths.device) < lengths[:, None]).unsqueeze(1)


# ------------------------------------------------------------------ the softmax and its scale
def softmax_jacobian(scores: Tensor) -> Tensor:
    r"""The Jacobian of the softmax, $\partial \alpha_i / \partial s_j = \alpha_i(\delta_{ij} -
    \alpha_j)$, i.e. $\operatorname{diag}(\alpha) - \alpha\alpha^\top$ with
    $\alpha = \operatorname{softmax}(s)$. scores: (..., S); returns (..., S, S)."""
    check_tensor("scores", scores, floating=True, nonempty=True)
    if scores.dim() == 0:
        raise ValueError("scores must have at least 1 dimension (..., S), got a scalar")
    p = torch.softmax(scores, dim=-1)                                   # (..., S)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)      # diag(p) - p p^T


def softmax_saturation(scores: Tensor) -> tuple[float, float]:
    r"""How saturated the softmax of each row of ``scores`` (..., S) is: the mean, over the
    rows, of the largest weight $\max_j \alpha_j$ (1 for a hard one-key lookup, 1/S for a
    uniform one) and of the Frobenius norm of the Jacobian :func:`softmax_jacobian` (0 when
    the gradient through the weights has died out)."""
    check_tensor("scores", scores, floating=True, nonempty=True)
    if scores.dim() == 0:
        raise ValueError("scores must have at least 1 dimension (..., S), got a scalar")
    p = torch.softmax(scores, dim=-1)
    jacobian = softmax_jacobian(scores)
    return p.amax(-1).mean().item(), jacobian.flatten(-2).norm(dim=-1).mean().item()


def random_scores(d_k: int, n_queries: int, n_keys: int,
                  generator: Optional[torch.Generator] = None,
                  dtype: torch.dtype = torch.float64) -> Tensor:
    r"""Unscaled dot products $q \cdot k_j$ of ``n_queries`` independent queries with
    ``n_keys`` keys each, all of width ``d_k`` with independent standard normal components;
    returns (n_queries, n_keys). Their variance is $d_k$."""
    d_k = check_int("d_k", d_k, min_value=1)
    n_queries = check_int("n_queries", n_queries, min_value=1)
    n_keys = check_int("n_keys", n_keys, min_value=1)
    check_generator("generator", generator)
    q = randn((n_queries, 1, d_k), generator, dtype=dtype)
    k = randn((n_queries, n_keys, d_k), generator, dtype=dtype)
    return (q * k).sum(-1)                                              # (n_queries, n_keys)


# --------------------------------------------------------------------------- parameters
@torch.no_grad()
def init_weights_(module: nn.Module, generator: Optional[torch.Generator] = None) -> nn.Module:
    r"""Re-draw the parameters of every ``nn.Linear`` and ``nn.Embedding`` inside ``module``
    with ``generator``, from the same distributions as PyTorch's defaults: linear weights and
    biases uniform on $\pm 1/\sqrt{\text{fan\_in}}$, embeddings $\mathcal N(0, 1)$. Layer norms
    are reset to weight 1 and bias 0. Returns ``module``."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    check_generator("generator", generator)
    for m in module.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            m.weight.copy_((2 * rand(m.weight.shape, generator, dtype=m.weight.dtype) - 1) * bound)
            if m.bias is not None:
                m.bias.copy_((2 * rand(m.bias.shape, generator, dtype=m.bias.dtype) - 1) * bound)
        elif isinstance(m, nn.Embedding):
            m.weight.copy_(randn(m.weight.shape, generator, dtype=m.weight.dtype))
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module


# ---------------------------------------------------------------------------- multi-head
class MultiHeadAttention(nn.Module):
    r"""$\mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\, W^O$,
    $\mathrm{head}_i = \mathrm{Attention}(X W_i^Q, C W_i^K, C W_i^V)$, with $C = X$
    (self-attention) unless a ``context`` is given (cross-attention).

    The h heads share one (d_model, d_model) projection per role, split into h slices of
    width d_k = d_model / h, so the cost is that of a single head of full width. With a
    ``generator``, the parameters are drawn from it (:func:`init_weights_`); otherwise
    PyTorch's default initialisation draws them from the global random state.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.d_model = check_int("d_model", d_model, min_value=1)
        self.n_heads = check_int("n_heads", n_heads, min_value=1)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model} "
                             f"and n_heads={n_heads}")
        self.d_k = d_model // n_heads
        self.w_q = nn.Linear(d_model, d_model, bias=bias)      # W^Q for all heads at once
        self.w_k = nn.Linear(d_model, d_model, bias=bias)      # W^K
        self.w_v = nn.Linear(d_model, d_model, bias=bias)      # W^V
        self.w_o = nn.Linear(d_model, d_model, bias=bias)      # W^O
        if generator is not None:
            init_weights_(self, generator)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> "MultiHeadAttention":
        """A copy of PyTorch's ``nn.MultiheadAttention`` (with biases, equal q/k/v widths):
        its ``in_proj_weight`` stacks $W^Q$, $W^K$, $W^V$ (each (d_model, d_model))."""
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(f"module must be an nn.MultiheadAttention, got {type(module).__name__}")
        if module.in_proj_weight is None or module.in_proj_bias is None:
            raise ValueError("module must use one in_proj_weight and biases (equal q, k, v "
                             "widths, bias=True)")
        p = module.in_proj_weight
        ours = cls(module.embed_dim, module.num_heads).to(device=p.device, dtype=p.dtype)
        w_q, w_k, w_v = module.in_proj_weight.detach().chunk(3)
        b_q, b_k, b_v = module.in_proj_bias.detach().chunk(3)
        with torch.no_grad():
            for lin, w, b in ((ours.w_q, w_q, b_q), (ours.w_k, w_k, b_k), (ours.w_v, w_v, b_v),
                              (ours.w_o, module.out_proj.weight, module.out_proj.bias)):
                lin.weight.copy_(w)
                lin.bias.copy_(b)
        return ours

    def _split(self, x: Tensor) -> Tensor:
        """(B, T, d_model) -> (B, h, T, d_k)."""
        B, T, _ = x.shape
        return x.reshape(B, T, self.n_heads, self.d_k).transpose(1, 2)

    def forward(self, x: Tensor, context: Optional[Tensor] = None,
                mask: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        """x: (B, L, d_model) queries' source; context: (B, S, d_model) keys' and values'
        source (default: x); mask: boolean (L, S) or (B, L, S) (or (B, 1, S)), True where
        query i may attend to key j, the same for every head.

        Returns ``(output, weights)``: output (B, L, d_model), weights (B, h, L, S).
        """
        check_tensor("x", x, ndim=3, last_dim=self.d_model, floating=True, nonempty=True)
        if context is None:
            context = x
        else:
            check_tensor("context", context, ndim=3, last_dim=self.d_model, floating=True,
                         nonempty=True)
            if context.shape[0] != x.shape[0]:
                raise ValueError(f"context must have the same batch size as x, got shapes "
                                 f"{tuple(context.shape)} and {tuple(x.shape)}")
        B, L, _ = x.shape
        S = context.shape[1]
        mask = _head_mask(mask, B, L, S)                  # (B, 1, L, S) or (L, S)
        q = self._split(self.w_q(x))                           # (B, h, L, d_k)
        k = self._split(self.w_k(context))                     # (B, h, S, d_k)
        v = self._split(self.w_v(context))                     # (B, h, S, d_k)
        out, weights = scaled_dot_product_attention(q, k, v, mask)   # (B, h, L, d_k)
        out = out.transpose(1, 2).reshape(B, L, self.d_model)  # Concat(head_1, ..., head_h)
        return self.w_o(out), weights                          # (B, L, d_model), (B, h, L, S)


# ----------------------------------------------------------------------------- positions
def sinusoidal_encoding(n_positions: int, d_model: int, base: float = 10000.0,
                        device: Device = None, dtype: torch.dtype = torch.float32) -> Tensor:
    r"""The fixed positional encoding of Vaswani et al. (2017), (n_positions, d_model):

    $PE_{(pos, 2i)} = \sin(pos / base^{2i/d_{model}})$,
    $PE_{(pos, 2i+1)} = \cos(pos / base^{2i/d_{model}})$, with base = 10000.

    Each pair of columns is a clock turning at its own frequency, from one radian per
    position down to $1/base$ radian per position.
    """
    n_positions = check_int("n_positions", n_positions, min_value=1)
    d_model = check_int("d_model", d_model, min_value=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even for sine/cosine pairs, got {d_model}")
    base = check_number("base", base, positive=True)
    pos = torch.arange(n_positions, device=device, dtype=torch.float64)[:, None]    # (n, 1)
    two_i = torch.arange(0, d_model, 2, device=device, dtype=torch.float64)          # (d/2,)
    angle = pos / base ** (two_i / d_model)                                           # (n, d/2)
    pe = torch.empty(n_positions, d_model, device=device, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(dtype)


def sinusoidal_shift(offset: int, d_model: int, base: float = 10000.0,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    r"""The (d_model, d_model) matrix $R_k$ with $PE_{pos+k} = PE_{pos} R_k$ for every
    position (row vectors), k = ``offset``: block-diagonal, one 2 x 2 rotation by
    $k\,\omega_i$ for each (sin, cos) pair of frequency $\omega_i = base^{-2i/d_{model}}$,
    since $(\sin(a + b), \cos(a + b)) = (\sin a, \cos a)
    \begin{pmatrix}\cos b & -\sin b\\ \sin b & \cos b\end{pmatrix}$."""
    offset = check_int("offset", offset)
    d_model = check_int("d_model", d_model, min_value=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even for sine/cosine pairs, got {d_model}")
    base = check_number("base", base, positive=True)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    b = offset / base ** (two_i / d_model)                                  # (d/2,) angles
    R = torch.zeros(d_model, d_model, dtype=torch.float64)
    R[0::2, 0::2] = torch.diag(torch.cos(b))
    R[0::2, 1::2] = torch.diag(-torch.sin(b))
    R[1::2, 0::2] = torch.diag(torch.sin(b))
    R[1::2, 1::2] = torch.diag(torch.cos(b))
    return R.to(dtype)


# --------------------------------------------------------------------------------- block
def _check_torch_layer(layer: Any, kind: type) -> None:
    """A PyTorch encoder or decoder layer that computes what our pre-norm GELU blocks do."""
    if not isinstance(layer, kind):
        raise TypeError(f"layer must be an nn.{kind.__name__}, got {type(layer).__name__}")
    if not layer.norm_first or layer.activation is not F.gelu:
        raise ValueError("layer must be built with norm_first=True and activation='gelu' "
                         "to match this pre-norm GELU block")


@torch.no_grad()
def _copy_parameters(pairs: Sequence[tuple[nn.Module, nn.Module]]) -> None:
    """Copy the weight and bias (and a layer norm's eps) of each (ours, theirs) pair."""
    for mine, theirs in pairs:
        mine.weight.copy_(theirs.weight)
        mine.bias.copy_(theirs.bias)
        if isinstance(mine, nn.LayerNorm):
            mine.eps = theirs.eps


class Block(nn.Module):
    r"""A pre-norm transformer block:

    $x \leftarrow x + \mathrm{MultiHead}(\mathrm{LN}_1(x))$,
    $x \leftarrow x + \mathrm{MLP}(\mathrm{LN}_2(x))$, with
    $\mathrm{MLP}(x) = W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2$.

    The residual stream x is never normalised itself, only the input of each sublayer;
    this is ``nn.TransformerEncoderLayer(norm_first=True, activation="gelu")``. With a
    ``generator``, the parameters are drawn from it (:func:`init_weights_`).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: Optional[int] = None,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        d_model = check_int("d_model", d_model, min_value=1)
        check_int("n_heads", n_heads, min_value=1)
        d_ff = 4 * d_model if d_ff is None else check_int("d_ff", d_ff, min_value=1)
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.d_model = d_model
        if generator is not None:
            init_weights_(self, generator)

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> "Block":
        """A copy of a pre-norm GELU ``nn.TransformerEncoderLayer`` (``norm_first=True``,
        ``activation="gelu"``), the same computation when its dropout is off."""
        _check_torch_layer(layer, nn.TransformerEncoderLayer)
        ours = cls._copy_of(layer)
        _copy_parameters([(ours.norm2, layer.norm2)])
        return ours

    @classmethod
    def _copy_of(cls, layer: nn.Module) -> "Block":
        """A new block with the sizes, self-attention, first norm and MLP of a PyTorch layer."""
        d_model, d_ff = layer.linear1.in_features, layer.linear1.out_features
        p = layer.linear1.weight
        ours = cls(d_model, layer.self_attn.num_heads, d_ff).to(device=p.device, dtype=p.dtype)
        ours.attn = MultiHeadAttention.from_torch(layer.self_attn)
        _copy_parameters([(ours.norm1, layer.norm1), (ours.mlp[0], layer.linear1),
                          (ours.mlp[2], layer.linear2)])
        return ours

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        """x: (B, T, d_model); mask as in :class:`MultiHeadAttention`.
        Returns ``(x, weights)``: (B, T, d_model) and the attention weights (B, h, T, T)."""
        check_tensor("x", x, ndim=3, last_dim=self.d_model, floating=True, nonempty=True)
        _check_head_mask(mask, x.shape[0], x.shape[1], x.shape[1])
        a, weights = self.attn(self.norm1(x), mask=mask)
        x = x + a                                              # x + MultiHead(LN(x))
        x = x + self.mlp(self.norm2(x))                        # x + MLP(LN(x))
        return x, weights


class DecoderBlock(Block):
    r"""The decoder's block of an encoder-decoder transformer, pre-norm:

    $x \leftarrow x + \mathrm{MultiHead}(\mathrm{LN}_1(x))$ (masked self-attention),
    $x \leftarrow x + \mathrm{MultiHead}(\mathrm{LN}_c(x),\ \text{context} = m)$
    (cross-attention: queries from the decoder, keys and values from the encoder's output
    $m$, the "memory"), $x \leftarrow x + \mathrm{MLP}(\mathrm{LN}_2(x))$.

    A :class:`Block` with a cross-attention sublayer (``norm_cross``, ``cross_attn``)
    between its two; the same computation as ``nn.TransformerDecoderLayer(norm_first=True,
    activation="gelu")`` without dropout (see :meth:`from_torch`). The memory is not
    normalised here: the encoder's final layer norm does that.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: Optional[int] = None,
                 generator: Optional[torch.Generator] = None):
        super().__init__(d_model, n_heads, d_ff)
        self.norm_cross = nn.LayerNorm(d_model)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        if generator is not None:
            init_weights_(self, generator)

    @classmethod
    def from_torch(cls, layer: nn.TransformerDecoderLayer) -> "DecoderBlock":
        """A copy of a pre-norm GELU ``nn.TransformerDecoderLayer`` (``norm_first=True``,
        ``activation="gelu"``), the same computation when its dropout is off: its norm1,
        norm2 and norm3 are our norm1, norm_cross and norm2."""
        _check_torch_layer(layer, nn.TransformerDecoderLayer)
        ours = cls._copy_of(layer)
        ours.cross_attn = MultiHeadAttention.from_torch(layer.multihead_attn)
        _copy_parameters([(ours.norm_cross, layer.norm2), (ours.norm2, layer.norm3)])
        return ours

    def forward(self, x: Tensor, memory: Tensor, mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
        """x: (B, L, d_model) the decoder's positions; memory: (B, S, d_model) the encoder's
        output; mask: boolean (L, L) or (B, L, L) for the self-attention (usually
        :func:`causal_mask`); memory_mask: boolean (L, S), (B, L, S) or (B, 1, S) (e.g.
        :func:`padding_mask` of the source), True where attention is allowed.

        Returns ``(x, self_weights, cross_weights)``: (B, L, d_model), (B, h, L, L) and
        (B, h, L, S).
        """
        check_tensor("x", x, ndim=3, last_dim=self.d_model, floating=True, nonempty=True)
        check_tensor("memory", memory, ndim=3, last_dim=self.d_model, floating=True,
                     nonempty=True)
        if memory.shape[0] != x.shape[0]:
            raise ValueError(f"memory must have the same batch size as x, got shapes "
                             f"{tuple(memory.shape)} and {tuple(x.shape)}")
        _check_head_mask(mask, x.shape[0], x.shape[1], x.shape[1], "mask")
        _check_head_mask(memory_mask, x.shape[0], x.shape[1], memory.shape[1], "memory_mask")
        a, self_weights = self.attn(self.norm1(x), mask=mask)
        x = x + a                                                 # x + MultiHead(LN_1(x))
        c, cross_weights = self.cross_attn(self.norm_cross(x), context=memory, mask=memory_mask)
        x = x + c                                                 # x + MultiHead(LN_c(x), m)
        x = x + self.mlp(self.norm2(x))                           # x + MLP(LN_2(x))
        return x, self_weights, cross_weights


# --------------------------------------------------------------------------------- model
@dataclass
class TransformerConfig:
    """Sizes of a :class:`Transformer`.

    positions: ``"sinusoidal"`` (fixed, :func:`sinusoidal_encoding`) or ``"learned"`` (one
    trained vector per position). causal: whether position t may only attend to 0..t (a
    decoder, trained to predict the next token) or to every position (an encoder).
    """

    vocab_size: int
    max_len: int
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: Optional[int] = None                 # default 4 * d_model
    positions: str = "sinusoidal"
    causal: bool = True

    def __post_init__(self):
        check_int("vocab_size", self.vocab_size, min_value=1)
        check_int("max_len", self.max_len, min_value=1)
        check_int("d_model", self.d_model, min_value=2)
        check_int("n_heads", self.n_heads, min_value=1)
        check_int("n_layers", self.n_layers, min_value=1)
        if self.d_ff is not None:
            check_int("d_ff", self.d_ff, min_value=1)
        check_choice("positions", self.positions, ("sinusoidal", "learned"))
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model="
                             f"{self.d_model} and n_heads={self.n_heads}")
        if self.positions == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"d_model must be even for sinusoidal positions, got {self.d_model}")
        if not isinstance(self.causal, bool):
            raise TypeError(f"causal must be a bool, got {type(self.causal).__name__}")


class Transformer(nn.Module):
    r"""Token embedding + positions + ``n_layers`` :class:`Block` s + layer norm + linear head.

    ``forward(idx)`` maps token indices (B, T) to logits (B, T, vocab_size); with
    ``causal=True`` the logits at position t depend on tokens 0..t only, and predict
    token t + 1. The loss is computed outside, by :func:`next_token_loss`. The parameters
    are drawn with ``generator`` (:func:`init_weights_`).
    """

    def __init__(self, config: TransformerConfig, generator: Optional[torch.Generator] = None):
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
        self.config = c = config
        self.token_embedding = nn.Embedding(c.vocab_size, c.d_model)
        if c.positions == "learned":
            self.position_embedding = nn.Embedding(c.max_len, c.d_model)
        else:   # a buffer: moves with .to(device), is not trained, is not saved
            self.register_buffer("pe", sinusoidal_encoding(c.max_len, c.d_model), persistent=False)
        self.blocks = nn.ModuleList(Block(c.d_model, c.n_heads, c.d_ff) for _ in range(c.n_layers))
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        init_weights_(self, generator)

    def positions(self, length: int) -> Tensor:
        """(length, d_model): what is added to the token embeddings at positions 0..length-1."""
        length = check_int("length", length, min_value=1, max_value=self.config.max_len)
        if self.config.positions == "learned":
            return self.position_embedding.weight[:length]
        return self.pe[:length]

    def forward(self, idx: Tensor, mask: Optional[Tensor] = None,
                return_attention: bool = False) -> Union[Tensor, tuple[Tensor, list[Tensor]]]:
        """idx: (B, T) token indices, T <= max_len; mask: optional extra boolean (T, T) or
        (B, T, T) mask (e.g. padding), combined with the causal mask.

        Returns logits (B, T, vocab_size), and with ``return_attention=True`` also the list
        of every block's attention weights, each (B, n_heads, T, T).
        """
        check_tensor("idx", idx, ndim=2, nonempty=True)
        if idx.is_floating_point() or idx.dtype == torch.bool:
            raise TypeError(f"idx must hold integer token indices, got dtype {idx.dtype}")
        T = idx.shape[1]
        _check_head_mask(mask, idx.shape[0], T, T)
        if not 1 <= T <= self.config.max_len:
            raise ValueError(f"idx must have between 1 and max_len={self.config.max_len} "
                             f"positions, got shape {tuple(idx.shape)}")
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.config.vocab_size):
            raise ValueError(f"idx must hold tokens in 0..{self.config.vocab_size - 1}, got "
                             f"values in {idx.min().item()}..{idx.max().item()}")
        x = self.token_embedding(idx) + self.positions(T)        # (B, T, d_model)
        if self.config.causal:
            causal = causal_mask(T, idx.device)
            mask = causal if mask is None else mask & causal
        maps = []
        for block in self.blocks:
            x, weights = block(x, mask)
            maps.append(weights)
        logits = self.head(self.norm(x))                          # (B, T, vocab_size)
        return (logits, maps) if return_attention else logits

    @torch.no_grad()
    def generate(self, idx: Tensor, n_new: int, temperature: Optional[float] = None,
                 generator: Optional[torch.Generator] = None) -> Tensor:
        """Append ``n_new`` tokens to ``idx`` (B, T), one at a time, each predicted from
        everything before it; returns (B, T + n_new). The model reads at most
        T + n_new - 1 tokens, which must not exceed ``max_len``. ``temperature=None`` picks the most
        likely token (greedy); otherwise tokens are sampled from
        softmax(logits / temperature) with ``generator``."""
        check_tensor("idx", idx, ndim=2, nonempty=True)
        n_new = check_int("n_new", n_new, min_value=0)
        if temperature is not None:
            temperature = check_number("temperature", temperature, positive=True)
        check_generator("generator", generator)
        if idx.shape[1] + n_new - 1 > self.config.max_len:   # the last new token is not read
            raise ValueError(f"idx of length {idx.shape[1]} plus n_new={n_new} minus 1 exceeds "
                             f"max_len={self.config.max_len}")
        for _ in range(n_new):
            logits = self(idx)[:, -1]                               # (B, vocab_size)
            if temperature is None:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(logits.double() / temperature, dim=-1).cpu()
                nxt = torch.multinomial(probs, 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def next_token_loss(logits: Tensor, targets: Tensor, ignore_index: int = -1) -> Tensor:
    r"""Mean cross-entropy $-\log p(\text{target})$ over the positions whose target is not
    ``ignore_index``. logits: (B, T, V); targets: (B, T) integers."""
    check_tensor("logits", logits, ndim=3, floating=True, nonempty=True)
    check_tensor("targets", targets, ndim=2, nonempty=True)
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"targets must have shape (B, T) = {tuple(logits.shape[:2])}, got "
                         f"{tuple(targets.shape)}")
    if targets.is_floating_point():
        raise TypeError(f"targets must hold integer class indices, got dtype {targets.dtype}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=ignore_index)


# ----------------------------------------------------------------------- the cost of attention
def attention_flops(n_queries: int, n_keys: int, d_k: int, d_v: Optional[int] = None) -> int:
    r"""Floating-point operations of the two matrix products of one attention head,
    $QK^\top$ ((L, d_k) by (d_k, S)) and $\alpha V$ ((L, S) by (S, d_v)), counting a
    multiply-add as 2 (the convention of ``torch.utils.flop_counter``):
    $2LSd_k + 2LSd_v$, quadratic in the sequence length when $L = S$. The softmax and the
    scaling add a few operations per score, $O(LS)$, not counted here. d_v defaults to d_k."""
    n_queries = check_int("n_queries", n_queries, min_value=1)
    n_keys = check_int("n_keys", n_keys, min_value=1)
    d_k = check_int("d_k", d_k, min_value=1)
    d_v = d_k if d_v is None else check_int("d_v", d_v, min_value=1)
    return 2 * n_queries * n_keys * d_k + 2 * n_queries * n_keys * d_v


@dataclass(frozen=True)
class Cost:
    """What one call cost (see :func:`measure_cost`): ``flops`` of its matrix products,
    ``peak_bytes`` of memory held at once by the tensors it created, and ``seconds``, the
    fastest of a few wall-clock timings (machine-dependent: compare, never quote)."""

    flops: int
    peak_bytes: int
    seconds: float


class _PeakMemory(TorchDispatchMode):
    """Follows every tensor that an operation creates while the mode is active (views share
    their storage's count) and records the largest total held at once."""

    def __init__(self):
        super().__init__()
        self.live = self.peak = 0
        self._bytes: dict = {}          # storage address -> bytes
        self._refs: dict = {}           # storage address -> live tensors using it

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {t.untyped_storage().data_ptr()
                  for t in tree_leaves((args, kwargs)) if isinstance(t, Tensor)}
        for t in tree_leaves(out):
            if not isinstance(t, Tensor):
                continue
            ptr = t.untyped_storage().data_ptr()
            if ptr == 0 or ptr in inputs and ptr not in self._bytes:
                continue                                  # a view of (or into) an outside tensor
            if ptr not in self._bytes:
                self._bytes[ptr] = t.untyped_storage().nbytes()
                self._refs[ptr] = 0
                self.live += self._bytes[ptr]
                self.peak = max(self.peak, self.live)
            self._refs[ptr] += 1
            weakref.finalize(t, self._release, ptr)
        return out

    def _release(self, ptr: int) -> None:
        if ptr in self._refs:
            self._refs[ptr] -= 1
            if self._refs[ptr] == 0:
                del self._refs[ptr]
                self.live -= self._bytes.pop(ptr)


def measure_cost(fn: Callable[..., Any], args: Sequence[Any], repeats: int = 3) -> Cost:
    """Run ``fn(*args)`` (without gradients) and measure what it costs: the FLOPs of its
    matrix products, counted by ``torch.utils.flop_counter.FlopCounterMode`` (2 per
    multiply-add), the peak memory held by the tensors it creates (followed operation by
    operation through a ``TorchDispatchMode``; the inputs are not counted, the output is),
    and the fastest wall-clock time of ``repeats`` plain calls."""
    check_callable("fn", fn)
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"args must be a tuple or list of fn's arguments, got "
                        f"{type(args).__name__}")
    repeats = check_int("repeats", repeats, min_value=1)
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            fn(*args)
        tracker = _PeakMemory()
        with tracker:
            out = fn(*args)
            del out
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - start)
    return Cost(int(counter.get_total_flops()), int(tracker.peak), min(times))


# ---------------------------------------------------------------------- the sorting task
def _multiset_hash(seq: Tensor, n_digits: int, coeffs: Tensor, prime: int) -> Tensor:
    """(N, L) digits -> (N,) hash in 0..prime-1 of the multiset of each row: a random linear
    function of the digit counts, modulo ``prime`` (equal multisets, equal hashes)."""
    counts = F.one_hot(seq, n_digits).sum(dim=1)                 # (N, n_digits)
    acc = torch.zeros(len(seq), dtype=torch.long, device=seq.device)
    for c in range(n_digits):
        acc = (acc + counts[:, c] * coeffs[c]) % prime
    return acc


def sorting_split(n_train: int, n_test: int, length: int, n_digits: int,
                  generator: Optional[torch.Generator] = None, test_fraction: float = 0.2,
                  device: Device = None) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """Sequences of ``length`` random digits in 0..n_digits-1 and their sorted versions,
    split so that no multiset of digits in the test set occurs, in any order, in the
    training set (a random ``test_fraction`` of all multisets is held out).

    Returns ``((x_train, y_train), (x_test, y_test))``. x: (N, 2 length - 1) model inputs,
    the digits followed by the first length-1 sorted digits; y: (N, 2 length - 1) targets,
    -1 (ignored by :func:`next_token_loss`) on the first length-1 positions, then the
    sorted digits: at the position of the last input digit the model must output the
    smallest digit, and so on.
    """
    n_train = check_int("n_train", n_train, min_value=1)
    n_test = check_int("n_test", n_test, min_value=1)
    length = check_int("length", length, min_value=2)
    n_digits = check_int("n_digits", n_digits, min_value=2)
    test_fraction = check_number("test_fraction", test_fraction, positive=True)
    if not test_fraction < 1:
        raise ValueError(f"test_fraction must be < 1, got {test_fraction}")
    # a random hash of the multiset decides whether it is held out
    prime = 2**31 - 1
    coeffs = randint(prime - 1, (n_digits,), generator) + 1
    train, test = [], []
    n_have = [0, 0]
    while n_have[0] < n_train or n_have[1] < n_test:
        seq = randint(n_digits, (4 * (n_train + n_test), length), generator)
        held_out = _multiset_hash(seq, n_digits, coeffs, prime) < test_fraction * prime
        train.append(seq[~held_out])
        test.append(seq[held_out])
        n_have = [sum(len(t) for t in train), sum(len(t) for t in test)]

    def pack(seq: Tensor) -> tuple[Tensor, Tensor]:
        ordered = seq.sort(dim=1).values
        x = torch.cat([seq, ordered[:, :-1]], dim=1)
        y = torch.cat([torch.full((len(seq), length - 1), -1), ordered], dim=1)
        return x.to(device), y.to(device)

    return pack(torch.cat(train)[:n_train]), pack(torch.cat(test)[:n_test])


@torch.no_grad()
def sorting_accuracy(model: Transformer, x: Tensor, length: int) -> tuple[float, float]:
    """Greedy generation of the sorted digits from the first ``length`` tokens of each row
    of ``x`` (as made by :func:`sorting_split`). Returns ``(exact, per_token)``: the
    fraction of sequences sorted without a single mistake, and of output digits right."""
    if not isinstance(model, Transformer):
        raise TypeError(f"model must be a Transformer, got {type(model).__name__}")
    check_tensor("x", x, ndim=2, nonempty=True)
    length = check_int("length", length, min_value=1)
    if x.shape[1] != 2 * length - 1:
        raise ValueError(f"x must have 2 * length - 1 = {2 * length - 1} columns, got shape "
                         f"{tuple(x.shape)}")
    was_training = model.training
    model.eval()
    out = model.generate(x[:, :length], length)[:, length:]      # (N, length)
    model.train(was_training)
    right = out == x[:, :length].sort(dim=1).values
    return right.all(dim=1).float().mean().item(), right.float().mean().item()
