"""Checkers for the exercises of chapter 7, autoencoders.

Every checker compares the reader's answer with an independent computation: a linear
autoencoder trained to convergence by a numerical optimiser (scipy's L-BFGS on the
backpropagated gradient) for the PCA exercises, quadrature for the continuous Bernoulli normaliser, and
the companion's own tested implementations on fresh random inputs for the code exercises.
The explore exercises recompute what the chapter's sliders show.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy import integrate, optimize

from .. import autoencoder as ae
from .. import data
from ._core import Mistake, Wrong, custom_exercise, function_exercise, mistake_message, \
    value_exercise

F64 = torch.float64

# ------------------------------------------------------------------ linear autoencoders


def _pca_data(m: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """m points in R^n with well separated variances along random orthogonal axes and a
    mean far from the origin (so that centring matters)."""
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=F64))
    jitter = 1 + 0.1 * torch.rand(n, generator=gen, dtype=F64)
    scales = torch.linspace(3.0, 0.3, n, dtype=F64) * jitter
    z = torch.randn(m, n, generator=gen, dtype=F64)
    offset = 3 * torch.randn(n, generator=gen, dtype=F64)
    return z * scales @ q.T + offset


def train_linear_autoencoder(x: torch.Tensor, d: int, seed: int = 0):
    r"""A linear autoencoder $\hat x = W_x (W_h x + b_h) + b_x$ with a ``d``-dimensional code,
    fitted to the rows of ``x`` (m, n) by L-BFGS on the mean squared error (summed over the
    n coordinates, averaged over the rows), from a random start. Knows nothing of PCA.
    Returns (W_x (n, d), the loss at convergence).

    The gradient is backpropagation written out in numpy (tiny matrices: much faster than
    autograd's per-operation overhead): with the code $H = X W_h^\top + b_h$ and the residual
    $R = H W_x^\top + b_x - X$, $\partial L/\partial W_x = \tfrac2m R^\top H$,
    $\partial L/\partial b_x = \tfrac2m \sum_j R_j$, and with $G = \tfrac2m R W_x$,
    $\partial L/\partial W_h = G^\top X$, $\partial L/\partial b_h = \sum_j G_j$."""
    xs = x.detach().to("cpu", F64).numpy()
    m, n = xs.shape
    sizes = [d * n, d, n * d, n]
    cuts = np.cumsum(sizes)[:-1]
    start = 0.1 * torch.randn(sum(sizes), generator=torch.Generator().manual_seed(seed),
                              dtype=F64).numpy()

    def loss_and_grad(theta):
        w_h, b_h, w_x, b_x = np.split(theta, cuts)
        w_h, w_x = w_h.reshape(d, n), w_x.reshape(n, d)
        h = xs @ w_h.T + b_h
        r = h @ w_x.T + b_x - xs
        g = 2 / m * r @ w_x
        grad = [g.T @ xs, g.sum(0), 2 / m * r.T @ h, 2 / m * r.sum(0)]
        return float((r ** 2).sum() / m), np.concatenate([a.ravel() for a in grad])

    res = optimize.minimize(loss_and_grad, start, jac=True, method="L-BFGS-B",
                            options={"maxiter": 20_000, "ftol": 1e-16, "gtol": 1e-11})
    w_x = np.split(res.x, cuts)[2].reshape(n, d)
    return torch.from_numpy(w_x), float(res.fun)


def _centred_svd(x: torch.Tensor):
    xc = x.to(F64) - x.to(F64).mean(0)
    return torch.linalg.svd(xc, full_matrices=False)


def _basis_uncentred(x, d):
    return torch.linalg.svd(x.to(F64), full_matrices=False)[2][:d].T


def _basis_ascending(x, d):
    xc = x.to(F64) - x.to(F64).mean(0)
    return torch.linalg.eigh(xc.T @ xc / len(x)).eigenvectors[:, :d]


_SUBSPACE_MISTAKES = [
    Mistake("forgetting to centre the data",
            "with the biases b_h and b_x the autoencoder reconstructs x - mean; take the principal "
            "directions of the centred data (the covariance), not of x^T x.",
            _basis_uncentred),
    Mistake("eigh's ascending order",
            "torch.linalg.eigh (and numpy's) returns the eigenvalues in ascending order: the first "
            "d eigenvectors are the least important directions; take the last d.",
            _basis_ascending),
]


def _as_basis(answer, n: int, d: int) -> torch.Tensor:
    if answer is None:
        raise Wrong("it returned None: did you forget `return`?")
    try:
        b = torch.as_tensor(np.asarray(answer), dtype=F64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise Wrong(f"could not read the answer as an ({n}, {d}) matrix: {exc}") from exc
    if b.shape != (n, d):
        raise Wrong(f"expected an ({n}, {d}) matrix whose columns span the subspace, got shape "
                    f"{tuple(b.shape)}")
    if not torch.isfinite(b).all() or torch.linalg.matrix_rank(b) < d:
        raise Wrong(f"the {d} columns must be finite and linearly independent.")
    return b


def _subspace_check(answer, gen):
    for m, n, d in ((60, 6, 2), (90, 8, 3)):
        x = _pca_data(m, n, gen)
        got = _as_basis(answer(x.clone(), d), n, d)
        w_x, _ = train_linear_autoencoder(x, d)
        angle = ae.principal_angles(got, w_x).max().item()
        if angle > 1e-4:
            for mk in _SUBSPACE_MISTAKES:
                if ae.principal_angles(got, mk.answer(x, d)).max().item() < 1e-6:
                    raise Wrong(mistake_message(mk))
            raise Wrong(f"on fresh data (m = {m}, n = {n}, d = {d}) your subspace is "
                        f"{math.degrees(angle):.1f} degrees away from the trained autoencoder's. "
                        "Hint: centre the data and take the directions of largest variance.")
    return ("the decoders of linear autoencoders trained by L-BFGS span your subspaces (every "
            "principal angle below 1e-4 rad).")


custom_exercise("07-principal-subspace", kind="derive", section="Against PCA",
                checker=_subspace_check, mistakes=_SUBSPACE_MISTAKES)


def _error_cases(gen: torch.Generator):
    return [(_pca_data(m, n, gen), d) for m, n, d in ((50, 5, 2), (80, 7, 3), (40, 6, 1))]


function_exercise(
    "07-pca-error", kind="derive", section="Against PCA",
    cases=_error_cases, reference=lambda x, d: train_linear_autoencoder(x, d)[1],
    rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("normalising by the wrong count",
                "the error is averaged over the m examples, so the eigenvalues are those of the "
                "covariance with 1/m, not the unbiased 1/(m - 1).",
                lambda x, d: (_centred_svd(x)[1][d:] ** 2).sum().item() / (len(x) - 1)),
        Mistake("the kept eigenvalues instead of the discarded ones",
                "the top d eigenvalues are the variance the code keeps; the error is what is "
                "left: the sum of the other n - d.",
                lambda x, d: (_centred_svd(x)[1][:d] ** 2).sum().item() / len(x)),
        Mistake("singular values instead of eigenvalues",
                "the covariance's eigenvalues are the squared singular values of the centred "
                "data divided by m.",
                lambda x, d: _centred_svd(x)[1][d:].sum().item() / len(x)),
    ],
    hint="the error of the best rank-d affine reconstruction is the variance the projection "
         "leaves out: a sum of eigenvalues of the covariance (1/m) sum_j (x_j - mean)(x_j - mean)^T.")


# ------------------------------------------------------ the continuous Bernoulli normaliser


def _log_normaliser_by_quadrature(lam: torch.Tensor) -> torch.Tensor:
    """log C(lambda) with 1/C = int_0^1 lambda^x (1 - lambda)^(1 - x) dx, by scipy's quad."""
    out = []
    for v in lam.tolist():
        mass, _ = integrate.quad(lambda t: v ** t * (1 - v) ** (1 - t), 0.0, 1.0,
                                 epsabs=1e-14, epsrel=1e-13)
        out.append(-math.log(mass))
    return torch.tensor(out, dtype=F64)


def _normaliser_cases(gen: torch.Generator):
    cases = [(0.02 + 0.96 * torch.rand(6, generator=gen, dtype=F64),)]
    lam = 0.3 + 0.4 * torch.rand(5, generator=gen, dtype=F64)
    lam[2] = 0.5                                                   # where the formula is 0/0
    return cases + [(lam,)]


function_exercise(
    "07-cb-normaliser", kind="derive", section="The model",
    cases=_normaliser_cases, reference=_log_normaliser_by_quadrature, rtol=1e-7, atol=1e-9,
    mistakes=[
        Mistake("reading the binary cross-entropy as a log-likelihood",
                "lambda^x (1 - lambda)^(1 - x) is normalised over x in {0, 1}, not over the "
                "interval [0, 1]: its integral over [0, 1] is at most 1/2, so log C >= log 2, "
                "never zero.",
                lambda lam: torch.zeros_like(lam)),
        Mistake("the normaliser inverted",
                "C is the constant that makes C * lambda^x (1 - lambda)^(1 - x) integrate to 1: "
                "one over the integral, so log C = -log(integral).",
                lambda lam: -_log_normaliser_by_quadrature(lam)),
    ],
    hint="the integral of exp(x log(lambda) + (1 - x) log(1 - lambda)) over [0, 1] is elementary; "
         "at lambda = 1/2 take the limit (torch.where).")


# ----------------------------------------------------------------------- code exercises


def _random_model(gen: torch.Generator, n: int, d: int, hidden=(6,), output="sigmoid"):
    return ae.Autoencoder(n, d, hidden, generator=gen, output=output).double()


def _denoising_cases(gen: torch.Generator):
    cases = []
    for b, n, d in ((16, 10, 3), (9, 7, 2)):
        model = _random_model(gen, n, d)
        x = torch.rand(b, n, generator=gen, dtype=F64)
        keep = (torch.rand(b, n, generator=gen) > 0.25).to(F64)
        eps = torch.randn(b, n, generator=gen, dtype=F64)
        sigma = 0.1 + 0.4 * torch.rand(1, generator=gen).item()
        cases.append((model, x, keep, eps, sigma))
    return cases


def _dae_reference(model, x, keep, eps, noise_std):
    with torch.no_grad():
        return ae.denoising_loss(model, x, noise_std=noise_std, keep=keep, eps=eps)


def _no_grad(fn: Callable) -> Callable:
    def wrapped(*args):
        with torch.no_grad():
            return fn(*args)
    return wrapped


function_exercise(
    "07-denoising-loss", kind="code", section="Denoising autoencoders",
    cases=_denoising_cases, reference=_dae_reference, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("the loss against the noisy input",
                "the target is the clean x: a network asked to reproduce x_tilde learns to copy "
                "its input, noise and all.",
                _no_grad(lambda model, x, keep, eps, s:
                         ((model(keep * x + s * eps) - (keep * x + s * eps)) ** 2).mean())),
        Mistake("normalising by the wrong count",
                "the chapter's loss is the mean squared error per pixel, averaged over the batch: "
                "divide by m n, not by m.",
                _no_grad(lambda model, x, keep, eps, s:
                         ((model(keep * x + s * eps) - x) ** 2).sum(1).mean())),
        Mistake("the clean input fed to the network",
                "the network must see the corrupted x_tilde = keep * x + noise_std * eps, and "
                "be compared with the clean x.",
                _no_grad(lambda model, x, keep, eps, s: ((model(x) - x) ** 2).mean())),
        Mistake("masking after adding the noise",
                "the corruption masks the clean pixels and then adds noise everywhere: "
                "keep * x + noise_std * eps, not keep * (x + noise_std * eps).",
                _no_grad(lambda model, x, keep, eps, s:
                         ((model(keep * (x + s * eps)) - x) ** 2).mean())),
    ],
    hint="x_tilde = keep * x + noise_std * eps; then the mean over all entries of "
         "(model(x_tilde) - x) ** 2.")


def _energy_cases(gen: torch.Generator):
    return [(_random_model(gen, n, d, hidden), torch.rand(b, n, generator=gen, dtype=F64))
            for b, n, d, hidden in ((8, 12, 3, (6,)), (5, 9, 2, ()))]


function_exercise(
    "07-energy", kind="code", section="The energy view",
    cases=_energy_cases, reference=_no_grad(ae.reconstruction_energy), rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("the mean over pixels instead of the sum",
                "E(x) is the squared distance ||x - dec(enc(x))||^2, a sum over the n pixels; "
                "the mean is the training loss per pixel, n times smaller.",
                _no_grad(lambda model, x: ((x - model(x)) ** 2).mean(1))),
        Mistake("the norm instead of its square",
                "E is the squared distance; the distance itself grows linearly, not quadratically.",
                _no_grad(lambda model, x: (x - model(x)).norm(dim=1))),
        Mistake("averaged over the batch",
                "return one energy per example, shape (B,), not the batch mean.",
                _no_grad(lambda model, x: ((x - model(x)) ** 2).sum(1).mean())),
    ],
    hint="one number per row: the sum over pixels of (x - model(x)) ** 2.")


def _auc_cases(gen: torch.Generator):
    cases = []
    for n_low, n_high, top in ((40, 30, 6), (25, 60, 4), (7, 5, 3)):      # few values: ties
        low = torch.randint(0, top, (n_low,), generator=gen).to(F64)
        high = torch.randint(1, top + 1, (n_high,), generator=gen).to(F64)
        cases.append((low, high))
    return cases


def _pairs(low, high):
    return high[None, :] - low[:, None]                           # (n_low, n_high)


function_exercise(
    "07-auc", kind="code", section="The energy view",
    cases=_auc_cases, reference=ae.ranking_auc, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("ties counted as wins",
                "a pair with equal values is a coin toss: it counts one half, not one.",
                lambda low, high: (_pairs(low, high) >= 0).double().mean().item()),
        Mistake("ties counted as losses",
                "a pair with equal values is a coin toss: it counts one half, not zero.",
                lambda low, high: (_pairs(low, high) > 0).double().mean().item()),
        Mistake("the two groups swapped",
                "the AUC is the probability that a value from `high` exceeds one from `low`.",
                lambda low, high: 1 - ae.ranking_auc(low, high)),
    ],
    hint="compare every value of `high` with every value of `low` (broadcasting); count "
         "greater as 1 and equal as 1/2, and average over all pairs.")


# --------------------------------------------------------------------- explore exercises

PCA_KS = list(range(10, 160, 10))        # the slider of the PCA reconstructions
VARIANCE_KEPT = 0.9


def pca_variance_kept(ks=PCA_KS) -> dict:
    """For each k, the share of the test digits' variance (about the training mean) that
    the projection onto the top k principal directions of the training digits keeps (the
    eigenvectors of their covariance, a route independent of the chapter's SVD)."""
    mnist = data.load_mnist(verbose=False)
    x_train = mnist.x_train.reshape(len(mnist.x_train), -1).to(F64)
    x_test = mnist.x_test.reshape(len(mnist.x_test), -1).to(F64)
    mean = x_train.mean(0)
    centred = x_train - mean
    _, vectors = torch.linalg.eigh(centred.T @ centred / len(x_train))   # ascending order
    comps = vectors.flip(1)[:, :max(ks)]                                # (n, k), largest first
    proj = (x_test - mean) @ comps
    total = ((x_test - mean) ** 2).sum(1).mean()
    kept = (proj ** 2).sum(0).cumsum(0) / len(x_test) / total
    return {k: kept[k - 1].item() for k in ks}


value_exercise(
    "07-pca-variance", kind="explore", section="Against PCA",
    expected=lambda: next(k for k, v in pca_variance_kept().items() if v >= VARIANCE_KEPT),
    rtol=0.0, atol=10.0,
    hint="the title of each frame gives the share of the variance kept; find the first k at "
         "which it reaches 90%.",
    show=lambda k: f"PCA needs about {k:g} components to keep 90% of the variance; the "
                   "autoencoders of the chapter reconstruct digits recognisably from far fewer "
                   "numbers.")


DENOISER_SIGMAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8]   # the slider of the optimal denoiser
SCORE_TOLERANCE = 0.1


def denoiser_score_error(noise_std: float, n: int = 4000, seed: int = 0) -> float:
    r"""Relative squared error of the optimal denoiser's $(r^*(x) - x)/\sigma^2$ as an
    estimate of the score $\nabla\log p(x)$, over points $x \sim p$ of the ring mixture."""
    mix = ae.ring_mixture(dtype=F64)
    x = mix.sample(n, torch.Generator().manual_seed(seed))
    est = (ae.optimal_denoiser(mix, x, noise_std) - x) / noise_std ** 2
    score = mix.score(x)
    return (((est - score) ** 2).sum() / (score ** 2).sum()).item()


value_exercise(
    "07-score-sigma", kind="explore", section="What a denoising autoencoder learns",
    expected=lambda: max(s for s in DENOISER_SIGMAS if denoiser_score_error(s) <= SCORE_TOLERANCE),
    rtol=0.0, atol=0.05,
    hint="read the relative error in the title of each frame; the answer is the largest σ "
         "at which it is at most 10%.",
    show=lambda s: f"Up to σ = {s:g} the optimal denoiser's displacement, divided by σ², is "
                   "within 10% of the data's score; beyond, it follows the score of the "
                   "smoothed density p_σ instead.")
