import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from companion import autoencoder as ae
from companion import training
from helpers import within_se


# ------------------------------------------------------------------------------ model

def test_shapes_and_layers():
    model = ae.Autoencoder(12, 3, hidden=(8, 5), activation="tanh")
    x = torch.rand(7, 12)
    assert model.encode(x).shape == (7, 3)
    assert model.decode(torch.zeros(7, 3)).shape == (7, 12)
    assert model(x).shape == (7, 12) and model.energy(x).shape == (7,)
    widths = [(m.in_features, m.out_features) for m in model.modules()
              if isinstance(m, torch.nn.Linear)]
    assert widths == [(12, 8), (8, 5), (5, 3), (3, 5), (5, 8), (8, 12)], "decoder mirrors encoder"
    names = [m.__class__.__name__ for m in model.encoder]
    assert names == ["Linear", "Tanh", "Linear", "Tanh", "Linear"], "code layer linear by default"
    assert model.decoder[-1].__class__.__name__ == "Sigmoid"


def test_one_layer_model_is_the_equations():
    g = torch.Generator().manual_seed(0)
    model = ae.Autoencoder(6, 2, code_activation="tanh", output="sigmoid", generator=g).double()
    (enc,), (dec,) = [[m for m in part if isinstance(m, torch.nn.Linear)]
                      for part in (model.encoder, model.decoder)]
    x = torch.rand(4, 6, generator=g, dtype=torch.float64)
    h = torch.tanh(x @ enc.weight.T + enc.bias)                     # h = f(W_h x + b_h)
    x_hat = torch.sigmoid(h @ dec.weight.T + dec.bias)              # x_hat = g(W_x h + b_x)
    assert enc.weight.shape == (2, 6) and dec.weight.shape == (6, 2)
    assert torch.allclose(model.encode(x), h) and torch.allclose(model(x), x_hat)
    assert model(x).min() > 0 and model(x).max() < 1, "sigmoid output stays in (0, 1)"


def test_generator_makes_initialisation_reproducible_and_in_range():
    a = ae.Autoencoder(50, 4, (20,), generator=torch.Generator().manual_seed(3))
    b = ae.Autoencoder(50, 4, (20,), generator=torch.Generator().manual_seed(3))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name
    first = a.encoder[0]
    assert first.weight.abs().max() <= 1 / math.sqrt(50) and first.weight.std() > 0.05


def test_output_bias_starts_the_output_at_the_data_mean(gen):
    x = torch.rand(300, 6, generator=gen) * torch.tensor([1.0, 0.5, 0.2, 0.1, 0.0, 1.0])
    x[:, 5] = 1.0                                                    # a pixel always on
    for output in ("sigmoid", "tanh", "identity"):
        model = ae.Autoencoder(6, 2, (4,), output=output, generator=gen).init_output_bias_(x)
        last = [m for m in model.decoder if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.zero_()                                      # a silent decoder
            out = model(x[:3])
        low = {"sigmoid": 1e-3, "tanh": -1 + 1e-3, "identity": -math.inf}[output]
        want = x.mean(0).clamp(low, 1 - 1e-3 if output != "identity" else math.inf)
        assert torch.allclose(out, want.expand(3, 6), atol=1e-5), output


# ----------------------------------------------------------------------------- losses

def test_losses_match_hand_computed_values():
    x_hat = torch.tensor([[0.5, 0.25], [0.9, 0.1]])
    x = torch.tensor([[1.0, 0.0], [1.0, 0.5]])
    mse = ae.mean_squared_error(x_hat, x)
    assert torch.allclose(mse, torch.tensor([(0.25 + 0.0625) / 2, (0.01 + 0.16) / 2]))
    bce = ae.binary_cross_entropy(x_hat, x)
    want0 = -(math.log(0.5) + math.log(0.75)) / 2
    want1 = -(math.log(0.9) + 0.5 * math.log(0.1) + 0.5 * math.log(0.9)) / 2
    assert torch.allclose(bce, torch.tensor([want0, want1]))


def test_losses_match_torch_with_matching_reductions():
    g = torch.Generator().manual_seed(1)
    x_hat = torch.rand(9, 30, generator=g)
    x = torch.rand(9, 30, generator=g)
    for ours, theirs in ((ae.mean_squared_error, F.mse_loss),
                         (ae.binary_cross_entropy, F.binary_cross_entropy)):
        per_example = ours(x_hat, x)
        assert torch.allclose(per_example, theirs(x_hat, x, reduction="none").mean(1))
        assert torch.allclose(per_example.mean(), theirs(x_hat, x))            # reduction="mean"
        assert torch.allclose(per_example.sum() * 30, theirs(x_hat, x, reduction="sum"))
    # saturated outputs: torch clamps the logarithms at -100, and so do we
    edge = torch.tensor([[0.0, 1.0, 1.0]])
    target = torch.tensor([[1.0, 0.0, 1.0]])
    assert torch.allclose(ae.binary_cross_entropy(edge, target),
                          F.binary_cross_entropy(edge, target, reduction="none").mean(1))


def test_bce_is_minimised_at_the_target_where_it_equals_the_entropy():
    x = torch.tensor([[0.2, 0.7, 1.0]], dtype=torch.float64)
    entropy = -(x * x.log().nan_to_num() + (1 - x) * (1 - x).log().clamp(min=-100)).mean()
    assert torch.allclose(ae.binary_cross_entropy(x.clamp(1e-12, 1 - 1e-12), x)[0], entropy)
    p = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
    losses = torch.stack([ae.binary_cross_entropy(torch.full((1, 1), q.item(), dtype=torch.float64),
                                                  x[:, :1])[0] for q in p])
    assert abs(p[losses.argmin()].item() - 0.2) < 0.011


def test_reconstruction_loss_is_the_batch_mean():
    g = torch.Generator().manual_seed(2)
    model = ae.Autoencoder(10, 3, generator=g)
    x = torch.rand(5, 10, generator=g)
    assert torch.allclose(ae.reconstruction_loss(model, x), F.mse_loss(model(x), x))
    assert torch.allclose(ae.reconstruction_loss(model, x, "bce"),
                          F.binary_cross_entropy(model(x), x))


# -------------------------------------------------------------------- linear = PCA

def test_pca_matches_sklearn():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(200, 6, generator=g, dtype=torch.float64) @ torch.randn(6, 6, generator=g,
                                                                             dtype=torch.float64)
    mean, comps = ae.pca(x, 3)
    ref = PCA(3).fit(x.numpy())
    assert np.allclose(mean.numpy(), ref.mean_)
    assert np.allclose(np.abs(comps.numpy() @ ref.components_.T), np.eye(3), atol=1e-8)
    x_hat = ae.pca_reconstruct(x, mean, comps)
    assert np.allclose(x_hat.numpy(), ref.inverse_transform(ref.transform(x.numpy())))
    assert torch.allclose(comps @ comps.T, torch.eye(3, dtype=torch.float64))


def test_linear_autoencoder_reaches_the_pca_optimum(gen):
    """Baldi and Hornik (1989): a linear autoencoder's best error is PCA's, and its decoder
    spans the principal subspace."""
    n, d, m = 8, 3, 300
    scales = torch.tensor([3.0, 2.5, 2.0, 0.6, 0.5, 0.4, 0.3, 0.2])
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen))
    x = (torch.randn(m, n, generator=gen) * scales) @ q.T + 1.0           # off-centre data
    mean, comps = ae.pca(x, d)
    pca_error = ((x - ae.pca_reconstruct(x, mean, comps)) ** 2).sum(1).mean().item()

    model = ae.Autoencoder(n, d, code_activation="identity", output="identity", generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    training.fit(lambda b: ae.reconstruction_loss(model, b), opt, x, batch_size=m, n_steps=400,
                 generator=gen, progress=False)
    with torch.no_grad():
        ae_error = model.energy(x).mean().item()
    assert pca_error <= ae_error + 1e-4, "nothing linear beats PCA"
    assert ae_error < 1.001 * pca_error, (ae_error, pca_error)
    dec = model.decoder[0].weight.detach()                                # W_x: (n, d)
    angles = ae.principal_angles(dec, comps.T)
    assert angles.max() < 0.01, angles


def test_principal_angles_match_scipy():
    g = torch.Generator().manual_seed(5)
    a = torch.randn(10, 3, generator=g, dtype=torch.float64)
    b = torch.randn(10, 4, generator=g, dtype=torch.float64)
    ours = ae.principal_angles(a, b).numpy()
    assert np.allclose(ours, np.sort(subspace_angles(a.numpy(), b.numpy())), atol=1e-7)
    mixed = a @ torch.randn(3, 3, generator=g, dtype=torch.float64)      # same column space
    assert ae.principal_angles(a, mixed).max() < 1e-6


# ------------------------------------------------------------------------- corruption

def test_masking_noise_has_the_right_fraction(gen):
    x = torch.ones(200, 500)
    p = 0.3
    x_tilde = ae.corrupt(x, gen, mask_prob=p)
    frac = (x_tilde == 0).float().mean().item()
    assert within_se(frac, p, math.sqrt(p * (1 - p) / x.numel()))
    assert set(x_tilde.unique().tolist()) == {0.0, 1.0}, "masked components are zero, the rest kept"


def test_gaussian_noise_has_the_right_variance(gen):
    x = torch.rand(200, 500, generator=gen)
    sigma = 0.4
    noise = ae.corrupt(x, gen, noise_std=sigma) - x
    n = noise.numel()
    assert within_se(noise.mean().item(), 0.0, sigma / math.sqrt(n))
    assert within_se(noise.var().item(), sigma**2, sigma**2 * math.sqrt(2 / (n - 1)))
    fourth = (noise**4).mean().item() / sigma**4                       # Gaussian kurtosis is 3
    assert abs(fourth - 3) < 0.05


def test_corruption_combined_clamped_reproducible_and_identity_when_off(gen):
    x = torch.rand(50, 40, generator=gen)
    assert torch.equal(ae.corrupt(x, gen), x)
    a = ae.corrupt(x, torch.Generator().manual_seed(7), noise_std=0.5, mask_prob=0.2, clamp=(0, 1))
    b = ae.corrupt(x, torch.Generator().manual_seed(7), noise_std=0.5, mask_prob=0.2, clamp=(0, 1))
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
    x64 = torch.zeros(3, 4, dtype=torch.float64)
    assert ae.corrupt(x64, gen, noise_std=1.0, mask_prob=0.5).dtype == torch.float64


def test_denoising_loss_uses_the_clean_target(gen):
    model = ae.Autoencoder(20, 4, generator=gen)
    x = torch.rand(16, 20, generator=gen)
    seed = 11
    loss = ae.denoising_loss(model, x, torch.Generator().manual_seed(seed), noise_std=0.3,
                             mask_prob=0.1)
    x_tilde = ae.corrupt(x, torch.Generator().manual_seed(seed), noise_std=0.3, mask_prob=0.1)
    assert torch.allclose(loss, F.mse_loss(model(x_tilde), x))
    assert loss.requires_grad


def test_noise_passed_in_gives_the_formula_and_the_same_draws(gen):
    x = torch.rand(30, 12, generator=gen, dtype=torch.float64)
    keep = (torch.rand(30, 12, generator=gen) > 0.3).double()
    eps = torch.randn(30, 12, generator=gen, dtype=torch.float64)
    got = ae.corrupt(x, noise_std=0.2, keep=keep, eps=eps)
    assert torch.equal(got, keep * x + 0.2 * eps), "x_tilde = m * x + sigma * eps"
    assert torch.equal(ae.corrupt(x, keep=keep), keep * x)
    # the drawn corruption is the same formula with the generator's mask and noise
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    drawn = ae.corrupt(x, g1, noise_std=0.3, mask_prob=0.25)
    m = (torch.rand(x.shape, generator=g2, dtype=torch.float64) >= 0.25).double()
    e = torch.randn(x.shape, generator=g2, dtype=torch.float64)
    assert torch.allclose(drawn, m * x + 0.3 * e)
    model = ae.Autoencoder(12, 3, generator=gen).double()
    loss = ae.denoising_loss(model, x, noise_std=0.2, keep=keep, eps=eps)
    assert torch.allclose(loss, F.mse_loss(model(keep * x + 0.2 * eps), x))
    with pytest.raises(ValueError, match="keep and x must have the same shape"):
        ae.corrupt(x, keep=keep[:, :5])


def test_denoising_training_lowers_the_denoising_error(gen):
    x = torch.zeros(400, 16)
    x[:200, :8], x[200:, 8:] = 1.0, 1.0                                  # two prototypes
    model = ae.Autoencoder(16, 2, (16,), generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    fit = lambda b: ae.denoising_loss(model, b, gen, noise_std=0.3)     # noqa: E731
    hist = training.fit(fit, opt, x, batch_size=50, n_steps=200, generator=gen, progress=False)
    assert hist.mean_last("loss", 20) < 0.1 * hist["loss"][0]
    with torch.no_grad():
        noisy = ae.corrupt(x, gen, noise_std=0.3)
        assert ((model(noisy) - x) ** 2).sum(1).mean() < 0.2 * ((noisy - x) ** 2).sum(1).mean()


# ----------------------------------------------------------------------------- energy

def test_energy_is_zero_for_exact_reconstruction():
    model = ae.Autoencoder(5, 5, output="identity")
    with torch.no_grad():
        for layer in (model.encoder[0], model.decoder[0]):
            layer.weight.copy_(torch.eye(5))
            layer.bias.zero_()
    x = torch.randn(10, 5)
    assert torch.equal(model.energy(x), torch.zeros(10))


def test_energy_is_zero_on_the_code_subspace_and_the_squared_distance_off_it(gen):
    n, d = 7, 3
    u, _ = torch.linalg.qr(torch.randn(n, d, generator=gen, dtype=torch.float64))   # (n, d)
    model = ae.Autoencoder(n, d, output="identity").double()
    with torch.no_grad():
        model.encoder[0].weight.copy_(u.T), model.encoder[0].bias.zero_()
        model.decoder[0].weight.copy_(u), model.decoder[0].bias.zero_()
    inside = torch.randn(6, d, generator=gen, dtype=torch.float64) @ u.T
    assert model.energy(inside).abs().max() < 1e-24
    off = torch.randn(6, n, generator=gen, dtype=torch.float64)
    off = off - off @ u @ u.T                                           # orthogonal to span(u)
    assert torch.allclose(model.energy(inside + off), (off**2).sum(1)), "E = squared distance"
    assert torch.allclose(ae.reconstruction_energy(model, off), model.energy(off))


def test_energy_gradient_matches_hand_derivation_and_finite_differences(gen):
    """For a linear model, E = ||r||^2 with r = W_x (W_h x + b_h) + b_x - x, so
    dE/dW_x = 2 r h^T, dE/db_x = 2 r, dE/dW_h = 2 W_x^T r x^T, dE/db_h = 2 W_x^T r."""
    model = ae.Autoencoder(6, 2, output="identity", generator=gen).double()
    enc, dec = model.encoder[0], model.decoder[0]
    x = torch.randn(1, 6, generator=gen, dtype=torch.float64)
    e = model.energy(x).sum()
    grads = torch.autograd.grad(e, [enc.weight, enc.bias, dec.weight, dec.bias])
    with torch.no_grad():
        h = x[0] @ enc.weight.T + enc.bias
        r = dec.weight @ h + dec.bias - x[0]
        want = [2 * torch.outer(dec.weight.T @ r, x[0]), 2 * dec.weight.T @ r,
                2 * torch.outer(r, h), 2 * r]
    for got, w in zip(grads, want):
        assert torch.allclose(got, w)
    # a nonlinear model: autograd against central finite differences, in x and in the weights
    deep = ae.Autoencoder(5, 2, (4,), activation="tanh", code_activation="tanh",
                          generator=gen).double()
    x = torch.rand(3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: deep.energy(v), (x,))
    assert torch.autograd.gradcheck(lambda v: ae.denoising_loss(deep, v, None, loss="bce"), (x,))


def test_energy_follows_the_device_and_dtype_of_the_input():
    model = ae.Autoencoder(4, 2).double()
    x = torch.rand(3, 4, dtype=torch.float64)
    e = model.energy(x)
    assert e.dtype == torch.float64 and e.device == x.device


# ------------------------------------------------------------------------- tangents

def test_tangents_of_a_linear_autoencoder_lie_in_its_decoder_columns(gen):
    model = ae.Autoencoder(9, 3, output="identity", generator=gen).double()
    x = torch.randn(20, 9, generator=gen, dtype=torch.float64)
    u = ae.tangent_directions(model, x, gen)
    assert u.shape == (20, 9) and torch.allclose(u.norm(dim=1), torch.ones(20, dtype=u.dtype))
    w = model.decoder[0].weight                                        # (9, 3)
    residual = u - u @ w @ torch.linalg.pinv(w)                        # part outside span(W_x)
    assert residual.abs().max() < 1e-10


def test_tangents_match_finite_differences_of_the_decoder(gen):
    model = ae.Autoencoder(7, 2, (5,), activation="tanh", generator=gen).double()
    x = torch.rand(6, 7, generator=gen, dtype=torch.float64)
    u = ae.tangent_directions(model, x, torch.Generator().manual_seed(3))
    h = model.encode(x).detach()
    v = torch.randn(h.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    t = 1e-6
    with torch.no_grad():
        fd = (model.decode(h + t * v) - model.decode(h - t * v)) / (2 * t)
    assert torch.allclose(u, fd / fd.norm(dim=1, keepdim=True), atol=1e-7)


# ------------------------------------------------------------- the optimal denoiser

def test_ring_mixture_is_a_normalised_density_with_its_modes_on_the_circle():
    mix = ae.ring_mixture(3, radius=1.5, std=0.4, dtype=torch.float64)
    assert torch.allclose(mix.means.norm(dim=1), torch.full((3,), 1.5, dtype=torch.float64))
    grid = torch.linspace(-4, 4, 401, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    density = mix.log_prob(torch.stack([xx, yy], -1)).exp()
    mass = torch.trapezoid(torch.trapezoid(density, grid, dim=1), grid)
    assert abs(mass.item() - 1) < 1e-6


def test_optimal_denoiser_is_the_posterior_mean_by_monte_carlo(gen):
    """E[x | x_tilde] by self-normalised importance sampling: x_i ~ p, weights N(x_tilde; x_i, s^2)."""
    mix = ae.ring_mixture(dtype=torch.float64)
    sigma = 0.6
    x = mix.sample(200_000, gen)
    probes = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.5, -0.5]], dtype=torch.float64)
    for probe in probes:
        w = torch.softmax(-((x - probe) ** 2).sum(1) / (2 * sigma**2), 0)
        mc = (w[:, None] * x).sum(0)
        se = (w[:, None] ** 2 * (x - mc) ** 2).sum(0).sqrt()           # delta-method SE
        exact = ae.optimal_denoiser(mix, probe[None], sigma)[0]
        assert all(within_se(mc[i].item(), exact[i].item(), se[i].item()) for i in range(2)), \
            (probe, mc, exact)


def test_optimal_denoiser_beats_perturbed_denoisers_and_tends_to_the_score(gen):
    mix = ae.ring_mixture(dtype=torch.float64)
    sigma = 0.5
    x = mix.sample(100_000, gen)
    x_tilde = x + sigma * torch.randn(x.shape, generator=gen, dtype=torch.float64)
    best = ae.optimal_denoiser(mix, x_tilde, sigma)
    loss = lambda r: ((r - x) ** 2).sum(1).mean().item()               # noqa: E731
    for other in (x_tilde, x_tilde + 1.1 * (best - x_tilde), x_tilde + 0.9 * (best - x_tilde)):
        assert loss(best) < loss(other)
    # Alain and Bengio: (r*(x) - x) / sigma^2 -> grad log p(x) as sigma -> 0
    probe = mix.sample(500, gen)
    errors = [((ae.optimal_denoiser(mix, probe, s) - probe) / s**2 - mix.score(probe)).norm()
              for s in (0.2, 0.1, 0.05)]
    assert errors[0] > 3.5 * errors[1] > 3.5**2 * errors[2], "the error shrinks as sigma^2"


# ------------------------------------------------------------------------- ranking AUC

def test_ranking_auc_matches_sklearn_with_ties(gen):
    low = torch.randint(0, 6, (300,), generator=gen).double()
    high = torch.randint(2, 9, (200,), generator=gen).double()
    labels = np.r_[np.zeros(300), np.ones(200)]
    want = roc_auc_score(labels, np.r_[low.numpy(), high.numpy()])
    assert abs(ae.ranking_auc(low, high) - want) < 1e-12
    assert ae.ranking_auc(torch.zeros(3), torch.ones(2)) == 1.0
    assert ae.ranking_auc(torch.ones(3), torch.ones(2)) == 0.5


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, exc, msg", [
    (lambda: ae.Autoencoder(0, 2), ValueError, "n_inputs must be >= 1"),
    (lambda: ae.Autoencoder(5, 2.5), TypeError, "d must be an integer"),
    (lambda: ae.Autoencoder(5, 2, hidden=8), TypeError, "hidden must be a sequence"),
    (lambda: ae.Autoencoder(5, 2, hidden=(8, 0)), ValueError, r"hidden\[1\] must be >= 1"),
    (lambda: ae.Autoencoder(5, 2, output="softmax"), ValueError, "output must be one of"),
    (lambda: ae.Autoencoder(5, 2, generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: ae.Autoencoder(5, 2)(torch.zeros(3, 4)), ValueError, "x must have last dimension 5"),
    (lambda: ae.Autoencoder(5, 2)(torch.zeros(3, 1, 5)), ValueError, "x must have 2 dimensions"),
    (lambda: ae.Autoencoder(5, 2).decode(torch.zeros(3, 5)), ValueError,
     "h must have last dimension 2"),
    (lambda: ae.Autoencoder(5, 2)(torch.zeros(3, 5, dtype=torch.long)), TypeError,
     "x must be a floating-point tensor"),
    (lambda: ae.mean_squared_error(torch.zeros(3, 4), torch.zeros(3, 5)), ValueError,
     "x_hat and x must have the same shape"),
    (lambda: ae.binary_cross_entropy(torch.full((2, 2), 1.5), torch.zeros(2, 2)), ValueError,
     r"x_hat must lie in \[0, 1\]"),
    (lambda: ae.binary_cross_entropy(torch.zeros(2, 2), -torch.ones(2, 2)), ValueError,
     r"x must lie in \[0, 1\]"),
    (lambda: ae.reconstruction_loss(ae.Autoencoder(5, 2), torch.zeros(3, 5), loss="l1"),
     ValueError, "loss must be one of"),
    (lambda: ae.reconstruction_loss(lambda x: x, torch.zeros(3, 5)), TypeError,
     "model must be a torch.nn.Module"),
    (lambda: ae.corrupt(torch.zeros(3, 5), noise_std=-0.1), ValueError, "noise_std must be >= 0"),
    (lambda: ae.corrupt(torch.zeros(3, 5), mask_prob=1.5), ValueError,
     "mask_prob must be a probability"),
    (lambda: ae.corrupt(torch.zeros(3, 5), clamp=(1, 0)), ValueError, "clamp must satisfy"),
    (lambda: ae.corrupt(torch.zeros(3, 5), clamp=3), TypeError, "clamp must be a pair"),
    (lambda: ae.corrupt(torch.zeros(3, 5), generator=1, noise_std=1.0), TypeError,
     "generator must be a torch.Generator"),
    (lambda: ae.corrupt([0.0, 1.0]), TypeError, "x must be a torch.Tensor"),
    (lambda: ae.reconstruction_energy(ae.Autoencoder(5, 2), torch.zeros(5)), ValueError,
     "x must have 2 dimensions"),
    (lambda: ae.reconstruction_energy(lambda x: x[:, :2], torch.zeros(3, 5)), ValueError,
     "reconstruction of the same shape"),
    (lambda: ae.reconstruction_energy("model", torch.zeros(3, 5)), TypeError,
     "model must be callable"),
    (lambda: ae.pca(torch.zeros(10, 4), 5), ValueError, "d must be <= 4"),
    (lambda: ae.pca(torch.zeros(1, 4), 1), ValueError, "x must hold at least 2 rows"),
    (lambda: ae.pca_reconstruct(torch.zeros(3, 4), torch.zeros(5), torch.zeros(2, 4)), ValueError,
     "mean must have last dimension 4"),
    (lambda: ae.principal_angles(torch.zeros(4, 2), torch.zeros(5, 2)), ValueError,
     "same number of rows"),
    (lambda: ae.Autoencoder(5, 2).init_output_bias_(torch.zeros(3, 4)), ValueError,
     "x must have last dimension 5"),
    (lambda: ae.Autoencoder(5, 2, output="relu").init_output_bias_(torch.zeros(3, 5)),
     ValueError, "supports sigmoid, tanh and identity outputs"),
    (lambda: ae.ranking_auc(torch.zeros(0), torch.ones(3)), ValueError,
     "low must hold at least 1 rows"),
    (lambda: ae.tangent_directions(lambda x: x, torch.zeros(3, 5)), TypeError,
     "model must be an Autoencoder"),
    (lambda: ae.optimal_denoiser(ae.ring_mixture(), torch.zeros(3, 2), 0.0), ValueError,
     "noise_std must be > 0"),
    (lambda: ae.ring_mixture(std=0.0), ValueError, "std must be > 0"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------- bad input found by tests/bad_input and review

def test_bad_input_pca_reconstruct_refuses_empty_non_orthonormal_or_mixed_dtype_components(gen):
    x = torch.randn(20, 6, generator=gen)
    mean, comps = ae.pca(x, 3)
    assert torch.allclose(ae.pca_reconstruct(x, mean, comps),
                          mean + (x - mean) @ comps.T @ comps)
    with pytest.raises(ValueError, match="components must hold at least 1 rows"):
        ae.pca_reconstruct(x, mean, comps[:0])                          # silently gave the mean
    with pytest.raises(ValueError, match="components must have orthonormal rows"):
        ae.pca_reconstruct(x, mean, 2 * comps)                          # not a projection
    with pytest.raises(TypeError, match="components must have the dtype of x"):
        ae.pca_reconstruct(x, mean, comps.double())                     # crashed in matmul
    with pytest.raises(TypeError, match="mean must have the dtype of x"):
        ae.pca_reconstruct(x, mean.double(), comps)
    with pytest.raises(TypeError, match="components must be a floating-point tensor"):
        ae.pca_reconstruct(x, mean, comps.long())


def test_bad_input_model_and_input_dtypes_must_agree(gen):
    model = ae.Autoencoder(6, 2, (5,), generator=gen)
    x = torch.rand(4, 6, generator=gen, dtype=torch.float64)
    for call in (model.encode, model, model.energy, lambda v: ae.reconstruction_loss(model, v),
                 lambda v: ae.tangent_directions(model, v)):
        with pytest.raises(TypeError, match="x must have the model's dtype torch.float32"):
            call(x)                                                     # crashed inside torch
    with pytest.raises(TypeError, match="h must have the model's dtype"):
        model.decode(torch.zeros(4, 2, dtype=torch.float64))
    assert model.double().energy(x).dtype == torch.float64


def test_bad_input_corrupt_keep_must_be_a_mask_and_clamp_is_checked_before_drawing(gen):
    x = torch.rand(3, 5, generator=gen)
    with pytest.raises(ValueError, match="keep must hold only zeros and ones"):
        ae.corrupt(x, keep=torch.full_like(x, 0.5))
    assert torch.equal(ae.corrupt(x, keep=torch.ones_like(x, dtype=torch.bool)), x)
    with pytest.raises(TypeError, match="eps must be a floating-point tensor"):
        ae.corrupt(x, noise_std=0.1, eps=torch.ones_like(x, dtype=torch.long))
    g = torch.Generator().manual_seed(3)
    state = g.get_state()
    with pytest.raises(ValueError, match="clamp must satisfy"):
        ae.corrupt(x, g, noise_std=0.5, clamp=(1.0, 0.0))
    assert torch.equal(g.get_state(), state), "no noise drawn before the error"


def test_bad_input_principal_angles_refuses_dependent_columns(gen):
    b = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    with pytest.raises(ValueError, match="a must have linearly independent columns"):
        ae.principal_angles(torch.zeros(5, 2, dtype=torch.float64), b)  # gave arbitrary angles
    dependent = torch.cat([b[:, :1], 2 * b[:, :1]], dim=1)
    with pytest.raises(ValueError, match="b must have linearly independent columns"):
        ae.principal_angles(b, dependent)
    assert ae.principal_angles(b, b @ torch.tensor([[1.0, 2.0], [0.0, 1.0]],
                                                   dtype=torch.float64)).abs().max() < 1e-7


def test_bad_input_reconstruction_names_the_model(gen):
    x = torch.rand(4, 6, generator=gen)
    with pytest.raises(ValueError, match="model must map x of shape"):
        ae.reconstruction_loss(torch.nn.Linear(6, 3), x)                # named x_hat before
    with pytest.raises(ValueError, match="model must map x of shape"):
        ae.denoising_loss(torch.nn.Linear(6, 3), x, noise_std=0.1)
    with pytest.raises(ValueError, match="model must give a finite reconstruction"):
        ae.reconstruction_energy(lambda v: v * float("nan"), x)         # returned NaN energies


def test_bad_input_other_arguments_named(gen):
    with pytest.raises(TypeError, match="mixture must be a companion.diffusion.GaussianMixture"):
        ae.optimal_denoiser("ring", torch.zeros(3, 2), 0.4)             # AttributeError before
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype, got .float32."):
        ae.ring_mixture(dtype="float32")
    with pytest.raises(ValueError, match="eps must be < 0.5"):
        ae.Autoencoder(6, 2).init_output_bias_(torch.rand(4, 6, generator=gen), eps=0.7)
    with pytest.raises(TypeError, match="low must hold real values"):
        ae.ranking_auc(torch.tensor([1j]), torch.tensor([1.0 + 0j]))
    with pytest.raises(TypeError, match=r"hidden\[0\] must be an integer"):
        ae.Autoencoder(6, 2, np.array([5.0]))


def test_bad_input_integer_likes_are_accepted_like_ints():
    a = ae.Autoencoder(np.int64(6), np.int64(2), (np.int64(5),), generator=torch.Generator())
    b = ae.Autoencoder(6, 2, np.array([5]), generator=torch.Generator())
    assert a.hidden == b.hidden == (5,) and type(a.hidden[0]) is int
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert ae.pca(torch.randn(10, 6), np.int64(2))[1].shape == (2, 6)
    assert len(ae.ring_mixture(np.int64(3)).means) == 3
