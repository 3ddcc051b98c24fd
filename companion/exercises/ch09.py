"""Checkers for the exercises of chapter 9, Boltzmann machines.

Every checker compares the reader's answer with an independent computation: sums over all
hidden (or all joint) states, autograd of an exact log-likelihood, the companion's own AIS
code, or exact propagation of distributions through enumerated Gibbs kernels; never with
the same formula typed twice.
"""
from __future__ import annotations

import math

import torch

from .. import boltzmann as bz
from ._core import Mistake, function_exercise, value_exercise
from ._inputs import binary, rbm_from

softplus = torch.nn.functional.softplus

# the toy machine of the section "Persistent contrastive divergence": 10 visible and 4 hidden
# units, weights of standard deviation TOY_STD, 20 random training vectors, all from seed 2
TOY_SEED = 2
CD_K_ANGLE = 10.0                              # degrees
AIS_STEP_GRID = (3, 10, 30, 100, 300, 1000)
AIS_TOLERANCE = 0.1                            # nats


def _random_rbm(n_visible: int, n_hidden: int, gen: torch.Generator, std: float = 1.5) -> bz.RBM:
    """A float64 RBM with N(0, std^2) weights and N(0, 1) biases drawn from ``gen``."""
    rbm = bz.RBM(n_visible, n_hidden, init_std=std, generator=gen).double()
    with torch.no_grad():
        rbm.a.copy_(torch.randn(n_visible, generator=gen, dtype=torch.float64))
        rbm.b.copy_(torch.randn(n_hidden, generator=gen, dtype=torch.float64))
    return rbm


def _sizes(gen: torch.Generator, shapes=((3, 2), (5, 4), (6, 7))):
    return [(d, h, int(torch.randint(2, 9, (1,), generator=gen))) for d, h in shapes]


# ------------------------------------------------------------------ 09-free-energy (derive)
def _free_energy_cases(gen):
    cases = []
    for d, h, b in _sizes(gen):
        rbm = _random_rbm(d, h, gen)
        cases.append((binary(gen, b, d), rbm.W.detach(), rbm.a.detach(), rbm.b.detach()))
    return cases


def _free_energy_by_enumeration(v, W, a, b):
    r"""$-\log \sum_h e^{-E(v, h)}$, summing over all $2^H$ hidden states."""
    h = bz.all_binary_states(W.shape[1], torch.float64)                  # (S, H)
    neg_e = (v @ a)[:, None] + (h @ b)[None] + v @ W @ h.T               # (B, S)
    return -torch.logsumexp(neg_e, dim=1)


function_exercise(
    "09-free-energy", kind="derive", section="From Hopfield networks to Boltzmann machines",
    cases=_free_energy_cases, reference=_free_energy_by_enumeration, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("a missing minus sign",
                "F(v) = -log sum_h exp(-E(v, h)): the free energy is low where the machine puts "
                "high probability.",
                lambda v, W, a, b: -_free_energy_by_enumeration(v, W, a, b)),
        Mistake("forgetting the visible bias",
                "the term -a^T v does not depend on h and comes out of the sum unchanged.",
                lambda v, W, a, b: -softplus(v @ W + b).sum(1)),
        Mistake("the minimum energy instead of the free energy",
                "sum over h, do not minimise: log(1 + e^x) for each hidden unit, not max(0, x); "
                "the two agree only at zero temperature.",
                lambda v, W, a, b: -(v @ a) - torch.relu(v @ W + b).sum(1)),
    ],
    hint="E(v, h) is linear in each h_j, so the sum over h factorises into one sum over "
         "h_j in {0, 1} per hidden unit.")


# ----------------------------------------------------------------- 09-rbm-gradient (derive)
def _gradient_cases(gen):
    cases = []
    for d, h, _ in _sizes(gen, ((3, 2), (4, 5), (6, 3))):
        rbm = _random_rbm(d, h, gen)
        vs, hs = bz.all_binary_states(d, torch.float64), bz.all_binary_states(h, torch.float64)
        with torch.no_grad():
            p = torch.softmax(-torch.stack([rbm.energy(vs, hh.expand(len(vs), -1))
                                            for hh in hs], 1).flatten(), 0).view(len(vs), len(hs))
        model_vh = torch.einsum("ab,ai,bj->ij", p, vs, hs)                   # E_model[v h^T]
        cases.append((binary(gen, 7, d), rbm.W.detach(), rbm.a.detach(), rbm.b.detach(),
                      model_vh))
    return cases


def _gradient_by_autograd(v, W, a, b, model_vh):
    """d/dW of the exact mean log-likelihood, by autograd through the enumerated log Z."""
    rbm = rbm_from(W, a, b)
    return torch.autograd.grad(rbm.log_prob(v).mean(), rbm.W)[0]


def _positive_phase(v, W, b):
    return v.T @ torch.sigmoid(v @ W + b) / len(v)


function_exercise(
    "09-rbm-gradient", kind="derive", section="The learning rule",
    cases=_gradient_cases, reference=_gradient_by_autograd, rtol=1e-7, atol=1e-9,
    mistakes=[
        Mistake("a missing minus sign",
                "the log-likelihood rises with the data's correlations and falls with the "
                "model's: data minus model.",
                lambda v, W, a, b, m: m - _positive_phase(v, W, b)),
        Mistake("normalising by the wrong count",
                "average the positive phase over the B training vectors (the model term is "
                "already an expectation): (1/B) sum_n v_n sigma(b + v_n^T W)^T.",
                lambda v, W, a, b, m: v.T @ torch.sigmoid(v @ W + b) - m),
        Mistake("the hidden units' bias left out",
                "p(h_j = 1 | v) = sigma(b_j + v^T W_{:j}): the bias is part of the hidden "
                "unit's input.",
                lambda v, W, a, b, m: v.T @ torch.sigmoid(v @ W) / len(v) - m),
    ],
    hint="the clamped correlation <v_i h_j> needs no sampling in an RBM: given v, h_j is on "
         "with probability sigma(b_j + v^T W_{:j}).")


# ------------------------------------------------------------------ 09-base-log-z (derive)
def _base_cases(gen):
    return [(torch.randn(d, generator=gen, dtype=torch.float64) * 2, h)
            for d, h in ((3, 2), (6, 1), (8, 5))]


def _base_log_z_by_enumeration(c, n_hidden):
    r"""$\log \sum_{v, h} f_0(v, h)$ with $f_0 = e^{c^\top v}$, over all joint states."""
    v = bz.all_binary_states(len(c), torch.float64)
    h = bz.all_binary_states(n_hidden, torch.float64)
    return torch.logsumexp((v @ c)[:, None] + 0.0 * h.sum(1)[None], dim=(0, 1)).item()


function_exercise(
    "09-base-log-z", kind="derive", section="Annealed importance sampling",
    cases=_base_cases, reference=_base_log_z_by_enumeration, rtol=1e-10, atol=1e-10,
    mistakes=[
        Mistake("forgetting the hidden units in Z_0",
                "at beta = 0 the hidden units are disconnected but still there: each of the "
                "H of them can be on or off, a factor 2 each.",
                lambda c, n_hidden: softplus(c).sum().item()),
        Mistake("the log of a sum for a sum of logs",
                "the pixels are independent, so Z_0 is a product over pixels of (1 + e^{c_i}): "
                "its log is a sum of log(1 + e^{c_i}).",
                lambda c, n_hidden: n_hidden * math.log(2) + softplus(c.sum()).item()),
    ],
    hint="f_0(v, h) = exp(c^T v) does not depend on h; sum over h first, then over each v_i.")


# ---------------------------------------------------------------- 09-ais-increment (code)
def _increment_cases(gen):
    cases = []
    for d, h, bsz in _sizes(gen, ((4, 3), (7, 5), (12, 2))):
        rbm = _random_rbm(d, h, gen)
        betas = torch.rand(2, generator=gen, dtype=torch.float64).sort().values
        cases.append((binary(gen, bsz, d), rbm.W.detach(), rbm.a.detach(), rbm.b.detach(),
                      torch.randn(d, generator=gen, dtype=torch.float64),
                      betas[0].item(), betas[1].item()))
    return cases


def _increment_reference(v, W, a, b, c, beta_from, beta_to):
    rbm = rbm_from(W, a, b)
    path = bz.AnnealingPath(rbm, c, v)
    return path.log_f_ratio(v, path.hidden_input(v), beta_to, beta_from)


function_exercise(
    "09-ais-increment", kind="code", section="Annealed importance sampling",
    cases=_increment_cases, reference=_increment_reference, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("forgetting the base distribution's term",
                "f_beta(v) carries (1 - beta) c^T v from the base model as well as beta a^T v "
                "from the RBM: the visible part of the increment is (beta' - beta)(a - c)^T v.",
                lambda v, W, a, b, c, b0, b1:
                (b1 - b0) * (v @ a) + (softplus(b1 * (v @ W + b))
                                       - softplus(b0 * (v @ W + b))).sum(1)),
        Mistake("a missing minus sign",
                "the weight is multiplied by f_{beta'}(v) / f_beta(v), the new distribution "
                "over the old one.",
                lambda v, W, a, b, c, b0, b1: -_increment_reference(v, W, a, b, c, b0, b1)),
        Mistake("annealing the free energy instead of the energy",
                "beta multiplies the energy E(v, h), before h is summed out: each hidden unit "
                "contributes softplus(beta x_j), not beta softplus(x_j); only the former "
                "matches the Gibbs steps at beta.",
                lambda v, W, a, b, c, b0, b1:
                (b1 - b0) * (v @ (a - c)) + (b1 - b0) * softplus(v @ W + b).sum(1)),
    ],
    hint="log f_beta(v) = (1 - beta) c^T v + beta a^T v + sum_j softplus(beta (b_j + v^T W_{:j})); "
         "return log f_{beta_to}(v) - log f_{beta_from}(v) for each row of v.")


# --------------------------------------------------------------- 09-reverse-log-z (code)
def _log_weight_cases(gen):
    cases = []
    for m, centre, spread in ((5, -800.0, 3.0), (40, 650.0, 5.0), (200, 0.3, 0.2)):
        cases.append((centre + spread * torch.randn(m, generator=gen, dtype=torch.float64),
                      float(torch.randn(1, generator=gen)) * 50))
    return cases


function_exercise(
    "09-reverse-log-z", kind="code", section="Running AIS backwards",
    cases=_log_weight_cases,
    # reverse AIS averages the weights w = Z_base / Z: log Z = log Z_base - log mean(w)
    reference=lambda log_w, log_z_base: (
        log_z_base - (torch.logsumexp(log_w, 0).item() - math.log(len(log_w)))),
    rtol=1e-10, atol=1e-9,
    mistakes=[
        Mistake("averaging the log weights",
                "the estimate is unbiased for 1/Z through the mean of the weights, not of their "
                "logs: log Z_0 - log((1/M) sum_m w_m), computed with logsumexp.",
                lambda log_w, z0: z0 - log_w.mean().item()),
        Mistake("the forward formula",
                "reverse weights estimate Z_0 / Z, not Z / Z_0: subtract their log-mean from "
                "log Z_0.",
                lambda log_w, z0: z0 + torch.logsumexp(log_w, 0).item() - math.log(len(log_w))),
        Mistake("normalising by the wrong count",
                "average the weights, (1/M) sum_m w_m: subtract log M from their logsumexp.",
                lambda log_w, z0: z0 - torch.logsumexp(log_w, 0).item()),
    ],
    hint="log Z = log Z_0 - (logsumexp(log_w) - log M); with log weights near -800 or +650, "
         "exp() underflows or overflows, so stay in logs.")


# -------------------------------------------------------------------------- 09-ess (code)
function_exercise(
    "09-ess", kind="code", section="Annealed importance sampling",
    cases=lambda gen: [(log_w,) for log_w, _ in _log_weight_cases(gen)],
    reference=lambda log_w: bz.AISResult(0.0, 0.0, log_w).effective_sample_size,
    rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("normalising by the wrong count",
                "(sum w)^2 / sum w^2 counts runs: between 1 and M. With means instead of sums "
                "the ratio is divided by M.",
                lambda log_w: math.exp(2 * torch.logsumexp(log_w, 0).item()
                                       - torch.logsumexp(2 * log_w, 0).item()) / len(log_w)),
        Mistake("the inverse ratio",
                "(sum w)^2 / sum w^2, not sum w^2 / (sum w)^2: equal weights give M, one "
                "dominant weight gives 1.",
                lambda log_w: math.exp(torch.logsumexp(2 * log_w, 0).item()
                                       - 2 * torch.logsumexp(log_w, 0).item())),
    ],
    hint="(sum_m w_m)^2 / sum_m w_m^2 = exp(2 logsumexp(log_w) - logsumexp(2 log_w)).")


# ---------------------------------------------------------------- the toy machine (explore)
def toy_machine(std: float) -> tuple[bz.RBM, torch.Tensor]:
    """The chapter's toy RBM (10 visible, 4 hidden units, weights of standard deviation
    ``std``) and its 20 training vectors, as the cell in the section on PCD makes them."""
    g = torch.Generator().manual_seed(TOY_SEED)
    toy = bz.RBM(10, 4, init_std=std, generator=g).double()
    return toy, (torch.rand(20, 10, generator=g) < 0.5).double()


def cd_k_angles(std: float, k_max: int) -> list[float]:
    """Angle (degrees) between the expected CD-k update and the log-likelihood gradient of
    the toy machine, for k = 1..k_max, by exact propagation of the data distribution through
    the enumerated Gibbs kernel; the gradient by autograd of the exact log-likelihood."""
    toy, toy_data = toy_machine(std)
    v = bz.all_binary_states(10, torch.float64)
    codes = (toy_data @ 2.0 ** torch.arange(9, -1, -1, dtype=torch.float64)).long()
    q_data = torch.bincount(codes, minlength=1024).double() / len(toy_data)
    params = list(toy.parameters())
    grad = torch.cat([g.flatten() for g in torch.autograd.grad(toy.log_prob(toy_data).mean(),
                                                                params)])
    kernel, q, angles = bz.gibbs_transition_matrix(toy), q_data, []
    for _ in range(k_max):
        q = q @ kernel
        update = torch.autograd.grad(-(q_data - q) @ toy.free_energy(v), params)
        cos = torch.nn.functional.cosine_similarity(torch.cat([u.flatten() for u in update]),
                                                    grad, dim=0)
        angles.append(math.degrees(math.acos(min(1.0, cos.item()))))
    return angles


def smallest_cd_k(std: float, angle: float = CD_K_ANGLE, k_max: int = 300) -> int:
    """The smallest k whose expected CD-k update is within ``angle`` degrees of the gradient."""
    return next(k for k, a in enumerate(cd_k_angles(std, k_max), start=1) if a < angle)


value_exercise(
    "09-cd-k", kind="explore", section="Persistent contrastive divergence",
    expected=lambda: smallest_cd_k(3.0), rtol=0.0, atol=1.0,
    mistakes=[Mistake("the toy machine of the chapter (TOY_STD = 2)",
                      "that is the answer for TOY_STD = 2.0: set TOY_STD = 3.0 in the "
                      "configuration cell and run the toy cells again.",
                      lambda: smallest_cd_k(2.0))],
    hint="print the angle for every k from 1 to 100 (not only the chapter's five values) and "
         "find the first one below 10 degrees.",
    show=lambda k: f"CD-k needs k = {k} steps on this machine: its chains must nearly reach "
                   "equilibrium before the update points the right way.")


def _moved(q: torch.Tensor, rbm: bz.RBM, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The distribution q over the visible states v after one block Gibbs step of rbm:
    q T, computed as (q P(h | v)) P(v' | h) without forming the (V, V) kernel T."""
    log_sig = torch.nn.functional.logsigmoid

    def table(states, logits):                    # p(each state | each row of logits)
        return (log_sig(logits) @ states.T + log_sig(-logits) @ (1 - states).T).exp()

    return (q @ table(h, v @ rbm.W + rbm.b)) @ table(v, h @ rbm.W.T + rbm.a)


@torch.no_grad()
def single_run_bias(std: float, n_steps: int) -> float:
    r"""$\mathbb E[\log Z_0 + \log w] - \log Z$ for one forward AIS run on the toy machine
    (uniform base model, :func:`~companion.boltzmann.ais_betas` schedule), exactly: the
    distribution of the run's state is propagated
    through the Gibbs steps of the intermediate machines, over all 1,024 visible states."""
    toy, _ = toy_machine(std)
    c = torch.zeros(10, dtype=torch.float64)
    betas = bz.ais_betas(n_steps).tolist()
    v, h = bz.all_binary_states(10, torch.float64), bz.all_binary_states(4, torch.float64)
    path = bz.AnnealingPath(toy, c, v)
    x, q, mean_log_w = path.hidden_input(v), bz.independent_log_prob(v, c).exp(), 0.0
    step = bz.RBM(10, 4, init_std=0.0).double()
    for k in range(1, len(betas)):
        mean_log_w += (q * path.log_f_ratio(v, x, betas[k], betas[k - 1])).sum().item()
        if k < len(betas) - 1:                      # the state moves with the kernel at beta_k
            step.W.copy_(betas[k] * toy.W), step.b.copy_(betas[k] * toy.b)
            step.a.copy_(betas[k] * toy.a)
            q = _moved(q, step, v, h)
    log_z_base = 4 * math.log(2) + 10 * math.log(2)        # 2^H (1 + e^0)^D
    return log_z_base + mean_log_w - toy.log_partition().item()


def _smallest_steps_many_runs(std: float, n_runs: int = 1_000) -> int:
    """What res.log_z (all runs together) would suggest: the first K on the grid at which a
    1,000-run estimate is within the tolerance (by simulation, seed 0)."""
    toy, _ = toy_machine(std)
    g, exact = torch.Generator().manual_seed(0), toy.log_partition().item()
    for k in AIS_STEP_GRID:
        res = bz.ais_log_partition(toy, bz.ais_betas(k), n_runs, generator=g)
        if abs(res.log_z - exact) < AIS_TOLERANCE:
            return k
    return AIS_STEP_GRID[-1]


def smallest_ais_steps(std: float) -> int:
    return next(k for k in AIS_STEP_GRID if abs(single_run_bias(std, k)) < AIS_TOLERANCE)


value_exercise(
    "09-ais-steps", kind="explore", section="Annealed importance sampling",
    expected=lambda: smallest_ais_steps(3.0), rtol=0.0, atol=0.5,
    mistakes=[Mistake("the toy machine of the chapter (TOY_STD = 2)",
                      "that is the answer for TOY_STD = 2.0: set TOY_STD = 3.0 in the "
                      "configuration cell and run the toy cell again (with 3.0, a single run "
                      "at this K is still more than 0.1 nats low).",
                      lambda: smallest_ais_steps(2.0)),
              Mistake("the estimate of many runs instead of a single run",
                      "here the question is about a single run: average log Z_0 + log w over "
                      "the runs (res.log_z_base + res.log_weights.mean()); res.log_z, the "
                      "logsumexp of 1,000 runs, is much closer to log Z.",
                      lambda: _smallest_steps_many_runs(3.0))],
    hint="for each K in (3, 10, 30, 100, 300, 1000) run ais_log_partition on the toy "
         "machine with 1,000 runs and base_logits=None, and compare "
         "res.log_z_base + res.log_weights.mean() with toy.log_partition().",
    show=lambda k: f"K = {k}: the stronger the weights, the longer the bridge a single run "
                   "needs to be right on average.")
