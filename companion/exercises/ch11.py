"""Checkers for the exercises of chapter 11, Transformers."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from .. import transformer as tf
from ._core import Mistake, Wrong, custom_exercise, function_exercise, name_mistake, \
    value_exercise

# the sliders of the chapter: the query length of the lookup (section "Attention: a soft
# dictionary lookup") and the key width d_k (section "Why divide by sqrt(d_k)?"), whose
# frames draw SATURATION_QUERIES queries against SATURATION_KEYS keys with
# torch.Generator().manual_seed(d_k)
LOOKUP_SLIDER = tuple(range(1, 17))
DK_SLIDER = tuple(2 ** i for i in range(11))
SATURATION_QUERIES, SATURATION_KEYS = 1024, 16


# --------------------------------------------------------------------------- 11-qk-variance
def _dot_products(d_k: int, var_q: float, var_k: float, n: int, gen: torch.Generator):
    """n dot products q.k of vectors with independent *uniform* components of mean 0 and
    variances var_q, var_k (uniform on +-sqrt(3 var)): nothing Gaussian is assumed."""
    q = (2 * torch.rand(n, d_k, generator=gen, dtype=torch.float64) - 1) * math.sqrt(3 * var_q)
    k = (2 * torch.rand(n, d_k, generator=gen, dtype=torch.float64) - 1) * math.sqrt(3 * var_k)
    return (q * k).sum(-1)


_QK_MISTAKES = [
    Mistake("the standard deviation instead of the variance",
            "that is the spread (standard deviation) of q.k; the question asks for its "
            "variance, the square of it.",
            lambda d_k, var_q, var_k: math.sqrt(d_k * var_q * var_k)),
    Mistake("forgetting the sum over the d_k components",
            "q.k is a sum of d_k independent products q_i k_i; the variances of independent "
            "terms add up.",
            lambda d_k, var_q, var_k: var_q * var_k),
    Mistake("adding the variances of the factors",
            "for independent, mean-zero q_i and k_i, Var(q_i k_i) = E[q_i^2] E[k_i^2] is the "
            "product of the variances, not their sum.",
            lambda d_k, var_q, var_k: d_k * (var_q + var_k)),
]


def _check_qk_variance(answer, gen):
    cases = [(int(torch.randint(4, 49, (1,), generator=gen)),
              float(0.25 + 3.75 * torch.rand(1, generator=gen, dtype=torch.float64)),
              float(0.25 + 3.75 * torch.rand(1, generator=gen, dtype=torch.float64)))
             for _ in range(3)]
    n = 40_000
    for d_k, var_q, var_k in cases:
        got = float(answer(d_k, var_q, var_k))
        s = _dot_products(d_k, var_q, var_k, n, gen)
        var = s.var().item()
        se = math.sqrt(max(((s - s.mean()) ** 4).mean().item() - var ** 2, 0.0) / n)
        if abs(got - var) > 5 * se:
            name_mistake([float(answer(*c)) for c in cases], _QK_MISTAKES, cases)
            raise Wrong(f"for d_k = {d_k}, Var(q_i) = {var_q:.3f}, Var(k_i) = {var_k:.3f} your "
                        f"formula gives {got:.4f}, but {n:,} simulated dot products have "
                        f"variance {var:.4f} ± {se:.4f}.")
    return (f"Checked against the variance of {n:,} simulated dot products (uniform, not "
            "Gaussian, components) for three widths and variances.")


custom_exercise("11-qk-variance", kind="derive", section="Why divide by sqrt(d_k)?",
                checker=_check_qk_variance, mistakes=_QK_MISTAKES)


# ------------------------------------------------------------------------ 11-softmax-jacobian
def _softmax_jacobian_by_autograd(z):
    return torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), z)


def _p(z):
    return torch.softmax(z, -1)


function_exercise(
    "11-softmax-jacobian", kind="derive", section="Why divide by sqrt(d_k)?",
    cases=lambda gen: [(scale * torch.randn(n, generator=gen, dtype=torch.float64),)
                       for n, scale in [(3, 1.0), (5, 3.0), (8, 0.5)]],
    reference=_softmax_jacobian_by_autograd, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("forgetting the off-diagonal terms",
                "alpha_i depends on every score through the denominator: d alpha_i / d s_j = "
                "-alpha_i alpha_j for j != i, not 0.",
                lambda z: torch.diag(_p(z) * (1 - _p(z)))),
        Mistake("a missing minus sign",
                "raising s_i raises alpha_i: the diagonal entries alpha_i (1 - alpha_i) are "
                "positive.",
                lambda z: torch.outer(_p(z), _p(z)) - torch.diag(_p(z))),
        Mistake("the derivative of the exponential alone",
                "differentiate the quotient exp(s_i) / sum_j exp(s_j), denominator included.",
                lambda z: torch.diag(torch.exp(z))),
    ],
    hint="write alpha_i = exp(s_i) / Z with Z = sum_k exp(s_k) and use the quotient rule; "
         "the result is diag(alpha) - alpha alpha^T.")


# ------------------------------------------------------------------------ 11-causal-attention
def _qkv_cases(gen):
    cases = []
    for lead, T, d, d_v in [((), 5, 4, 3), ((2,), 7, 8, 8), ((2, 3), 6, 16, 5)]:
        cases.append(tuple(torch.randn(*lead, T, w, generator=gen, dtype=torch.float64)
                           for w in (d, d, d_v)))
    return cases


def _wrong_triangle(q, k, v):
    upper = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).triu()
    return F.scaled_dot_product_attention(q, k, v, attn_mask=upper)


def _mask_after_softmax(q, k, v):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return (weights * torch.ones_like(weights).tril()) @ v


function_exercise(
    "11-causal-attention", kind="code", section="Masks: causal and padding",
    cases=_qkv_cases,
    reference=lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
    rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("mask of the wrong triangle",
                "position t may attend to 0..t: keep the scores on and *below* the diagonal "
                "(torch.tril), and set those above it (the future) to -inf.",
                _wrong_triangle),
        Mistake("masking after the softmax",
                "zeroing the future weights after the softmax leaves rows that no longer sum "
                "to one, and the denominators still contain the future keys; set the future "
                "scores to -inf *before* the softmax.",
                _mask_after_softmax),
        Mistake("dividing by d_k instead of its square root",
                "the scores are q.k / sqrt(d_k): the variance of q.k is d_k, so its standard "
                "deviation is sqrt(d_k).",
                lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                               scale=1 / q.shape[-1])),
    ],
    hint="scores = q @ k^T / sqrt(d_k); fill the entries above the diagonal with -inf; "
         "softmax over the last dimension; multiply by v.")


# ------------------------------------------------------------------------ 11-attention-flops
def measured_attention_flops(n_queries: int, n_keys: int, d_k: int, d_v: int,
                             n_heads: int) -> int:
    """The FLOPs of one call of the chapter's attention on n_heads heads of these sizes, as
    torch.utils.flop_counter counts them (2 per multiply-add)."""
    q = torch.zeros(n_heads, n_queries, d_k)
    k, v = torch.zeros(n_heads, n_keys, d_k), torch.zeros(n_heads, n_keys, d_v)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        tf.scaled_dot_product_attention(q, k, v)
    return int(counter.get_total_flops())


def _flop_cases(gen):
    cases = []
    while len(cases) < 4:
        L, S, d_k, d_v = (int(x) for x in torch.randint(2, 65, (4,), generator=gen))
        if d_k != d_v:
            cases.append((L, S, d_k, d_v, int(torch.randint(3, 9, (1,), generator=gen))))
    return cases


function_exercise(
    "11-attention-flops", kind="code", section="The cost of attention",
    cases=_flop_cases, reference=measured_attention_flops, rtol=0.0, atol=0.5,
    mistakes=[
        Mistake("counting a multiply-add as one FLOP",
                "a multiply-add is two floating-point operations, a multiplication and an "
                "addition: an (m, k) by (k, n) product costs 2 m k n.",
                lambda L, S, d_k, d_v, h: h * L * S * (d_k + d_v)),
        Mistake("forgetting the product with the values",
                "attention makes two products: the scores Q K^T and then the weighted sum "
                "of the values, alpha V.",
                lambda L, S, d_k, d_v, h: 2 * h * L * S * d_k),
        Mistake("counting one head only",
                "each of the n_heads heads computes its own scores and its own weighted sum.",
                lambda L, S, d_k, d_v, h: 2 * L * S * (d_k + d_v)),
    ],
    hint="count 2 m k n for an (m, k) by (k, n) matrix product, for Q K^T and for alpha V, "
         "in every head.")


# ------------------------------------------------------------------------ 11-crossover
def _block_flops(d_model: int, length: int) -> tuple[int, int]:
    """(FLOPs of the attention products, FLOPs of the linear layers) of one pre-norm block
    of width d_model (two heads, d_ff = 4 d_model) on one sequence, counted by torch."""
    block = tf.Block(d_model, 2)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        block(torch.zeros(1, length, d_model))
    counts = {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}
    attention = sum(n for op, n in counts.items() if "bmm" in op)
    return attention, sum(counts.values()) - attention


_CROSSOVER_MISTAKES = [
    Mistake("forgetting the MLP",
            "the two linear layers of the MLP, d_model -> 4 d_model -> d_model, cost twice "
            "as much as the four projections W^Q, W^K, W^V, W^O together.",
            lambda d: 2 * d),
    Mistake("counting only the scores Q K^T",
            "the weighted sum alpha V costs as much as the scores: 2 L^2 d_model each.",
            lambda d: 12 * d),
]


def _check_crossover(answer, gen):
    widths = [8 * int(torch.randint(1, 5, (1,), generator=gen)), 20, 32]
    for d in widths:
        got = answer(d)
        try:
            length = int(round(float(got)))
        except (TypeError, ValueError) as exc:
            raise Wrong(f"expected a number (a sequence length), got {got!r}") from exc
        if length < 1 or abs(float(got) - length) > 1e-9:
            raise Wrong(f"for d_model = {d} your answer {got!r} is not a whole, positive "
                        "sequence length.")
        attention, linear = _block_flops(d, length)
        if attention != linear:
            name_mistake([float(answer(w)) for w in widths], _CROSSOVER_MISTAKES,
                         [(w,) for w in widths])
            raise Wrong(f"for d_model = {d} and L = {length}, torch's FLOP counter finds "
                        f"{attention:,} FLOPs in the attention products and {linear:,} in the "
                        f"linear layers: not equal.")
    return "At that length torch's FLOP counter finds equal costs, for three widths."


custom_exercise("11-crossover", kind="derive", section="The cost of attention",
                checker=_check_crossover, mistakes=_CROSSOVER_MISTAKES)


# ------------------------------------------------------------------------ 11-lookup-slider
def lookup_result(length: float) -> float:
    """The chapter's lookup: four unit keys at 0, 90, 180 and 270 degrees with values 10, 20,
    30, 40, and a query of the given length pointing at 80 degrees (scale 1)."""
    angles = torch.tensor([0.0, 90.0, 180.0, 270.0], dtype=torch.float64) * math.pi / 180
    keys = torch.stack([angles.cos(), angles.sin()], dim=1)
    values = torch.tensor([[10.0], [20.0], [30.0], [40.0]], dtype=torch.float64)
    query = length * torch.tensor([[math.cos(1.4), math.sin(1.4)]], dtype=torch.float64)
    return tf.scaled_dot_product_attention(query, keys, values, scale=1.0)[0].item()


def smallest_sharp_length(within: float = 0.1) -> int:
    """The smallest query length on the slider at which the result lies within ``within``
    of 20, the value of the best-matching key."""
    return next(b for b in LOOKUP_SLIDER if abs(lookup_result(b) - 20) < within)


value_exercise(
    "11-lookup-slider", kind="explore", section="Attention: a soft dictionary lookup",
    expected=smallest_sharp_length, rtol=0.0, atol=1.0,
    hint="step through the slider and read the result printed above the bars; the answer is "
         "one of the slider's lengths (one step either way is accepted).")


# ------------------------------------------------------------------------ 11-dk-slider
def saturation_on_slider(d_k: int) -> tuple[float, float]:
    """Mean largest weight of the softmax of the raw and of the scaled scores, for the
    slider's frame at width d_k."""
    scores = tf.random_scores(d_k, SATURATION_QUERIES, SATURATION_KEYS,
                              torch.Generator().manual_seed(d_k))
    return (tf.softmax_saturation(scores)[0],
            tf.softmax_saturation(scores / math.sqrt(d_k))[0])


def first_width_above(threshold: float = 0.8) -> int:
    """The smallest d_k on the slider at which the raw softmax's mean largest weight
    exceeds ``threshold``."""
    return next(d for d in DK_SLIDER if saturation_on_slider(d)[0] > threshold)


value_exercise(
    "11-dk-slider", kind="explore", section="Why divide by sqrt(d_k)?",
    expected=first_width_above, rtol=0.0, atol=0.5,
    mistakes=[Mistake("the last width below the threshold",
                      "the question asks for the first width at which the mean largest weight "
                      "is *above* 0.8.", lambda: first_width_above() // 2)],
    hint="move the slider from d_k = 1 upwards and read the mean largest weight of the "
         "unscaled softmax in the left panel's title.")
