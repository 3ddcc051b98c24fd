import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from companion import vae
from companion.seeding import seed_everything
from helpers import within_se


def _tiny_model(x_dim=6, z_dim=1, hidden=5, seed=0, scale=3.0):
    torch.manual_seed(seed)
    model = vae.VAE(x_dim, z_dim, hidden).double()
    with torch.no_grad():              # spread the weights so the posterior is not trivial
        for p in model.parameters():
            p.mul_(scale)
    return model


def _binary(b, d, gen):
    return (torch.rand(b, d, generator=gen) < 0.5).double()


# ------------------------------------------------------------------ reparameterisation

def test_reparameterize_with_given_noise_is_mu_plus_std_times_eps(gen):
    mu = torch.randn(4, 3, generator=gen)
    logvar = torch.randn(4, 3, generator=gen)
    eps = torch.randn(4, 3, generator=gen)
    z = vae.reparameterize(mu, logvar, eps=eps)
    assert torch.allclose(z, mu + torch.exp(logvar / 2) * eps)
    assert torch.allclose(z, mu + logvar.exp().sqrt() * eps)       # the std, not the variance
    many = torch.randn(7, 4, 3, generator=gen)                      # k samples each
    assert vae.reparameterize(mu, logvar, eps=many).shape == (7, 4, 3)


def test_reparameterized_samples_have_the_right_mean_and_variance(gen):
    mu = torch.tensor([[-1.0, 0.5, 3.0]], dtype=torch.float64)
    var = torch.tensor([[0.25, 1.0, 4.0]], dtype=torch.float64)
    n = 200_000
    z = vae.reparameterize(mu.expand(n, 3), var.log().expand(n, 3), generator=gen)
    assert z.dtype == torch.float64
    se_mean = (var / n).sqrt()
    assert ((z.mean(0) - mu[0]).abs() < 5 * se_mean[0]).all()
    se_var = var[0] * math.sqrt(2 / n)                             # sd of a Gaussian sample variance
    assert ((z.var(0) - var[0]).abs() < 5 * se_var).all()


def test_reparameterization_passes_gradients_to_mu_and_logvar():
    mu = torch.zeros(2, requires_grad=True)
    logvar = torch.zeros(2, requires_grad=True)
    eps = torch.tensor([0.5, -2.0])
    vae.reparameterize(mu, logvar, eps=eps).sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2))
    assert torch.allclose(logvar.grad, 0.5 * eps)                   # dz/dlogvar = sigma eps / 2


# ----------------------------------------------------------------------- ELBO terms

def test_gaussian_kl_matches_torch_distributions(gen):
    mu = 2 * torch.randn(5, 4, generator=gen, dtype=torch.float64)
    logvar = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    q = Independent(Normal(mu, (logvar / 2).exp()), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    assert torch.allclose(vae.gaussian_kl(mu, logvar), kl_divergence(q, p), atol=1e-12)
    assert torch.allclose(vae.gaussian_kl(torch.zeros(3), torch.zeros(3)), torch.tensor(0.0))


def test_gaussian_kl_matches_monte_carlo(gen):
    mu = torch.tensor([0.7, -1.2], dtype=torch.float64)
    logvar = torch.tensor([-0.5, 0.8], dtype=torch.float64)
    z = vae.reparameterize(mu, logvar, eps=torch.randn(400_000, 2, generator=gen,
                                                      dtype=torch.float64))
    log_ratio = vae.log_normal(z, mu, logvar) - vae.log_normal(z)    # log q - log p
    se = log_ratio.std().item() / math.sqrt(len(z))
    assert within_se(log_ratio.mean().item(), vae.gaussian_kl(mu, logvar).item(), se)


def test_log_normal_and_entropy_match_torch_distributions(gen):
    mu = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    logvar = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    z = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    q = Independent(Normal(mu, (logvar / 2).exp()), 1)
    assert torch.allclose(vae.log_normal(z, mu, logvar), q.log_prob(z))
    assert torch.allclose(vae.log_normal(z), Independent(Normal(0.0 * z, 1.0 + 0 * z), 1).log_prob(z))
    assert torch.allclose(vae.gaussian_entropy(logvar), q.entropy())


def test_bernoulli_log_likelihood_by_hand(gen):
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    logits = torch.tensor([[2.0, -1.0, 0.3], [40.0, -50.0, 60.0]], dtype=torch.float64)
    p = torch.sigmoid(logits)
    by_hand = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    got = vae.bernoulli_log_likelihood(x, logits)
    assert torch.allclose(got[0], by_hand[0])
    assert torch.allclose(got, Independent(Bernoulli(logits=logits), 1).log_prob(x))
    assert torch.isfinite(got).all() and got[1] < -39              # stable: sigmoid(40) = 1 in floats
    # grey levels: the negative cross-entropy, maximised at p = x
    xg = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    best = vae.bernoulli_log_likelihood(xg, torch.logit(xg))
    assert best > vae.bernoulli_log_likelihood(xg, torch.logit(xg) + 0.1)
    # k samples of logits per example
    assert vae.bernoulli_log_likelihood(x, logits.expand(4, 2, 3)).shape == (4, 2)


def test_negative_elbo_is_the_sum_of_its_terms(gen):
    model = _tiny_model(z_dim=2)
    x = _binary(5, 6, gen)
    eps = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    out = model(x, eps=eps)
    recon = vae.bernoulli_log_likelihood(x, out.logits)
    kl = vae.gaussian_kl(out.mu, out.logvar)
    for beta in (0.0, 0.5, 1.0, 4.0):
        assert torch.allclose(vae.negative_elbo(x, out.logits, out.mu, out.logvar, beta),
                              -recon + beta * kl)
    stats = vae.elbo_loss(model, x, beta=2.0, eps=eps)
    assert torch.allclose(stats["loss"], (-recon + 2.0 * kl).mean())
    assert torch.allclose(stats["recon"], -recon.mean()) and torch.allclose(stats["kl"], kl.mean())
    stats["loss"].backward()
    assert all(p.grad is not None for p in model.parameters())


def test_elbo_terms_average_the_reconstruction_over_samples(gen):
    model = _tiny_model(z_dim=2)
    x = _binary(4, 6, gen)
    eps = torch.randn(3, 4, 2, generator=gen, dtype=torch.float64)
    terms = vae.elbo_terms(model, x, eps=eps)
    each = [vae.elbo_terms(model, x, eps=e)["recon"] for e in eps]
    assert torch.allclose(terms["recon"], torch.stack(each).mean(0))
    assert terms["kl"].shape == (4,) and terms["mu"].shape == (4, 2)
    assert vae.elbo_terms(model, x, n_samples=5, generator=gen)["recon"].shape == (4,)


def test_elbo_as_free_energy_equals_expected_energy_minus_entropy(gen):
    """-ELBO = E_q[-log p(x|z) - log p(z)] - H[q], the variational free energy."""
    model = _tiny_model(z_dim=2)
    x = _binary(3, 6, gen)
    mu, logvar = model.encode(x)
    eps = torch.randn(200_000, 3, 2, generator=gen, dtype=torch.float64)
    z = vae.reparameterize(mu, logvar, eps=eps)
    with torch.no_grad():
        recon = -vae.bernoulli_log_likelihood(x, model.decode(z))       # (S, B)
        energy = recon - vae.log_normal(z)
        free = energy.mean(0) - vae.gaussian_entropy(logvar)
        nelbo = recon.mean(0) + vae.gaussian_kl(mu, logvar)
    se = energy.std(0) / math.sqrt(len(z))
    assert ((free - nelbo).abs() < 5 * se).all()


# ----------------------------------------------------------------- importance weights

def test_iwae_with_one_sample_is_the_single_sample_elbo(gen):
    model = _tiny_model(z_dim=2)
    x = _binary(4, 6, gen)
    eps = torch.randn(1, 4, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        iw1 = vae.iwae_log_likelihood(model, x, k=1, eps=eps)
        mu, logvar = model.encode(x)
        z = mu + (logvar / 2).exp() * eps[0]
        by_hand = (vae.bernoulli_log_likelihood(x, model.decode(z)) + vae.log_normal(z)
                   - vae.log_normal(z, mu, logvar))
    assert torch.allclose(iw1, by_hand)
    # its expectation over eps is the ELBO with the analytic KL
    eps = torch.randn(200_000, 4, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        log_w = vae.log_importance_weights(model, x, k=200_000, eps=eps)
        elbo = -vae.negative_elbo(x, model.decode(vae.reparameterize(mu, logvar, eps=eps)), mu, logvar)
    se = log_w.std(0) / math.sqrt(len(eps))
    assert ((log_w.mean(0) - elbo).abs() < 5 * se).all()


def _exact_log_px(model, x, n=20_001, lim=12.0):
    """log p(x) = log int p(x|z) N(z; 0, 1) dz by the trapezoid rule on a 1-D latent."""
    z = torch.linspace(-lim, lim, n, dtype=torch.float64)[:, None]        # (n, 1)
    with torch.no_grad():
        logits = model.decode(z)[:, None, :].expand(n, x.shape[0], x.shape[1])
        log_joint = vae.bernoulli_log_likelihood(x, logits) + vae.log_normal(z)[:, None]  # (n, B)
    dz = 2 * lim / (n - 1)
    w = torch.full((n, 1), math.log(dz), dtype=torch.float64)
    w[0] = w[-1] = math.log(dz / 2)
    return torch.logsumexp(log_joint + w, dim=0)


def test_iwae_bound_rises_with_k_towards_the_exact_log_likelihood(gen):
    """L_1 <= L_10 <= L_100 <= L_1000 <= log p(x), with log p(x) by quadrature over z."""
    model = _tiny_model(x_dim=8, z_dim=1, hidden=6, seed=3, scale=1.5)
    x = _binary(6, 8, gen)
    exact = _exact_log_px(model, x)
    gaps, ses = [], []
    with torch.no_grad():
        for k, reps in ((1, 400), (10, 200), (100, 100), (1000, 40)):
            # reps independent estimates for each example, in one batched call
            est = vae.iwae_log_likelihood(model, x.repeat(reps, 1), k, gen).reshape(reps, -1)
            gap = exact - est                                    # (reps, B)
            gaps.append(gap.mean().item())                       # mean over reps and examples
            ses.append(gap.mean(1).std().item() / math.sqrt(reps))
    for (g_lo, s_lo), (g_hi, s_hi) in zip(zip(gaps, ses), zip(gaps[1:], ses[1:])):
        assert g_hi < g_lo + 4 * math.hypot(s_lo, s_hi), f"the gap shrinks with k: {gaps}"
    assert gaps[0] > 0.2 and gaps[0] > 10 * ses[0], f"the ELBO is below log p(x): {gaps}"
    assert gaps[-1] > -4 * ses[-1], f"L_k stays below log p(x): {gaps}"
    assert abs(gaps[-1]) < 0.05 and abs(gaps[-1]) < 0.15 * gaps[0], f"L_1000 near log p(x): {gaps}"


def test_log_p_of_the_exact_posterior_integrates_to_one():
    """Sanity check of the quadrature: sum over all 2^4 binary x of p(x) is 1."""
    model = _tiny_model(x_dim=4, z_dim=1, hidden=4, seed=1)
    codes = torch.arange(16)
    x = ((codes[:, None] >> torch.arange(4)) & 1).double()
    assert abs(_exact_log_px(model, x).exp().sum().item() - 1.0) < 1e-6


def test_iwae_chunks_do_not_change_the_result(gen):
    model = _tiny_model(z_dim=2)
    x = _binary(7, 6, gen)
    eps = torch.randn(5, 7, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        a = vae.iwae_log_likelihood(model, x, 5, eps=eps)
        b = vae.iwae_log_likelihood(model, x, 5, eps=eps, chunk_size=3)
    assert torch.allclose(a, b)


def test_quadrature_matches_the_trapezoid_rule_in_one_dimension(gen):
    """log_marginal_quadrature (matrix form) against the direct sum of _exact_log_px."""
    model = _tiny_model(x_dim=8, z_dim=1, hidden=6, seed=3, scale=1.5)
    x = _binary(6, 8, gen)
    got = vae.log_marginal_quadrature(model, x, n=4001, lim=12.0)
    assert torch.allclose(got, _exact_log_px(model, x), atol=1e-6)


def test_quadrature_in_two_dimensions_sums_to_one_over_all_binary_images():
    model = _tiny_model(x_dim=4, z_dim=2, hidden=4, seed=2, scale=2.0)
    codes = torch.arange(16)
    x = ((codes[:, None] >> torch.arange(4)) & 1).double()
    coarse = vae.log_marginal_quadrature(model, x, n=161, lim=8.0)
    assert abs(coarse.exp().sum().item() - 1.0) < 1e-6
    # a finer grid agrees: the rule has converged
    fine = vae.log_marginal_quadrature(model, x, n=321, lim=8.0)
    assert torch.allclose(coarse, fine, atol=1e-6)


def test_quadrature_of_a_linear_gaussian_decoder_is_the_exact_marginal(gen):
    """A VAE whose decoder is linear with Gaussian noise is the linear-Gaussian model."""
    model = vae.VAE(3, 2, 4, likelihood="gaussian", x_std=0.7).double()
    model.decoder = torch.nn.Linear(2, 3).double()
    W, b = model.decoder.weight.detach(), model.decoder.bias.detach()
    x = torch.rand(5, 3, generator=gen, dtype=torch.float64)
    exact = vae.LinearGaussian(W, b, 0.49).log_marginal(x)
    assert torch.allclose(vae.log_marginal_quadrature(model, x, n=801, lim=9.0), exact, atol=1e-8)


def test_iwae_approaches_the_quadrature_from_below_in_two_dimensions(gen):
    model = _tiny_model(x_dim=8, z_dim=2, hidden=6, seed=4, scale=1.5)
    x = _binary(5, 8, gen)
    exact = vae.log_marginal_quadrature(model, x, n=401, lim=8.0)
    with torch.no_grad():
        est = vae.iwae_log_likelihood(model, x.repeat(50, 1), 2000, gen).reshape(50, -1)
    gap = exact - est.mean(0)                                      # >= 0 in expectation
    se = est.std(0) / math.sqrt(50)
    assert (gap > -4 * se).all() and (gap < 0.05).all(), gap


def test_log_likelihood_matrix_matches_the_elementwise_formula(gen):
    for likelihood in ("bernoulli", "gaussian"):
        model = vae.VAE(7, 2, 5, likelihood=likelihood, x_std=0.4).double()
        x = _binary(3, 7, gen) if likelihood == "bernoulli" else torch.rand(3, 7, generator=gen,
                                                                            dtype=torch.float64)
        z = torch.randn(4, 2, generator=gen, dtype=torch.float64)
        decoded = model.decode(z)                                                   # (G, D)
        direct = model.log_likelihood(x, decoded[:, None, :].expand(4, 3, 7)).T     # (B, G)
        assert torch.allclose(vae._log_likelihood_matrix(model, x, decoded), direct)


# --------------------------------------------------------------------- Gaussian decoder

def test_gaussian_log_likelihood_matches_torch_distributions(gen):
    x = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    mean = torch.randn(3, 4, 6, generator=gen, dtype=torch.float64)
    for std in (0.1, 1.0, torch.rand(6, generator=gen, dtype=torch.float64) + 0.2):
        want = Independent(Normal(mean, torch.as_tensor(std, dtype=torch.float64)), 1).log_prob(x)
        assert torch.allclose(vae.gaussian_log_likelihood(x, mean, std), want)


def test_gaussian_decoder_vae_uses_the_gaussian_likelihood(gen):
    model = vae.VAE(6, 2, 5, likelihood="gaussian", x_std=0.3).double()
    x = torch.rand(4, 6, generator=gen, dtype=torch.float64)
    eps = torch.randn(1, 4, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        terms = vae.elbo_terms(model, x, eps=eps)
        mu, logvar = model.encode(x)
        mean = model.decode(mu + (logvar / 2).exp() * eps[0])
        want = Independent(Normal(mean, 0.3), 1).log_prob(x)
        assert torch.allclose(terms["recon"], -want)
        iw1 = vae.iwae_log_likelihood(model, x, k=1, eps=eps)
        assert torch.allclose(iw1, want + vae.log_normal(mu + (logvar / 2).exp() * eps[0])
                              - vae.log_normal(mu + (logvar / 2).exp() * eps[0], mu, logvar))
        assert torch.equal(model.decode_mean(mu), model.decode(mu))          # no sigmoid
    with pytest.raises(ValueError, match="binary=True needs a Bernoulli decoder"):
        vae.sample_prior(model, 2, gen, binary=True)


# ---------------------------------------------------------------- linear-Gaussian model

def _linear_model(gen, D=4, d=2, s2=0.3):
    W = torch.randn(D, d, generator=gen, dtype=torch.float64)
    b = torch.randn(D, generator=gen, dtype=torch.float64)
    return vae.LinearGaussian(W, b, s2)


def test_linear_gaussian_marginal_and_posterior(gen):
    from torch.distributions import MultivariateNormal

    lg = _linear_model(gen)
    x = lg.sample(6, gen)
    C = lg.W @ lg.W.T + lg.noise_var * torch.eye(4, dtype=torch.float64)
    assert torch.allclose(lg.log_marginal(x), MultivariateNormal(lg.b, C).log_prob(x))
    # the posterior by conditioning the joint Gaussian of (z, x): independent formula
    mean, cov = lg.posterior(x)
    cross = lg.W.T                                                 # Cov(z, x) = W^T
    gain = cross @ torch.linalg.inv(C)
    assert torch.allclose(mean, (x - lg.b) @ gain.T)
    assert torch.allclose(cov, torch.eye(2, dtype=torch.float64) - gain @ cross.T)
    # Bayes: log p(x, z) - log p(z | x) = log p(x) at any z
    z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    log_post = MultivariateNormal(mean, cov).log_prob(z)
    assert torch.allclose(lg.log_joint(x, z) - log_post, lg.log_marginal(x))


def test_linear_gaussian_elbo_closed_form_matches_monte_carlo_and_the_gap(gen):
    from torch.distributions import MultivariateNormal

    lg = _linear_model(gen)
    x = lg.sample(3, gen)
    mu = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    logvar = torch.randn(3, 2, generator=gen, dtype=torch.float64) - 1
    eps = torch.randn(200_000, 3, 2, generator=gen, dtype=torch.float64)
    z = vae.reparameterize(mu, logvar, eps=eps)
    log_w = lg.log_joint(x, z) - vae.log_normal(z, mu, logvar)     # (S, B)
    se = log_w.std(0) / math.sqrt(len(eps))
    elbo = lg.elbo(x, mu, logvar)
    assert ((log_w.mean(0) - elbo).abs() < 5 * se).all()
    mean, cov = lg.posterior(x)
    q = MultivariateNormal(mu, torch.diag_embed(logvar.exp()))
    gap = torch.distributions.kl_divergence(q, MultivariateNormal(mean, cov))
    assert torch.allclose(lg.log_marginal(x) - elbo, gap)            # log p = ELBO + KL(q||post)


def test_linear_vae_kl_is_the_optimum_of_the_beta_elbo(gen):
    """Maximise the expected beta-ELBO of a linear VAE (decoder W, encoder N(Vx, diag v)) on
    data with a known covariance, numerically, and compare its per-dimension KL."""
    lam = torch.tensor([4.0, 2.0, 1.2, 0.5, 0.2], dtype=torch.float64)
    U, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=torch.float64))
    S = U @ torch.diag(lam) @ U.T                                   # data covariance
    for beta, s2 in ((1.0, 1.0), (3.0, 1.0), (0.5, 2.0)):
        W = (0.1 * torch.randn(5, 3, generator=gen, dtype=torch.float64)).requires_grad_()
        V = (0.1 * torch.randn(3, 5, generator=gen, dtype=torch.float64)).requires_grad_()
        logv = torch.zeros(3, dtype=torch.float64, requires_grad=True)

        def per_dim_kl():
            return 0.5 * (logv.exp() + torch.diagonal(V @ S @ V.T) - 1 - logv)

        def loss():
            R = torch.eye(5, dtype=torch.float64) - W @ V
            sq = torch.trace(R @ S @ R.T) + (logv.exp() * (W**2).sum(0)).sum()
            return sq / (2 * s2) + beta * per_dim_kl().sum()         # -beta-ELBO + const

        opt = torch.optim.LBFGS([W, V, logv], max_iter=2000, tolerance_grad=1e-12,
                                tolerance_change=1e-15, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            value = loss()
            value.backward()
            return value

        opt.step(closure)
        got = per_dim_kl().detach().sort(descending=True).values
        want = vae.linear_vae_kl(lam, s2, beta)[:3]
        assert torch.allclose(got, want, atol=1e-4), (beta, s2, got, want)


def test_kl_per_dimension_sums_to_the_mean_kl(gen):
    mu = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    per_dim = vae.kl_per_dimension(mu, logvar)
    assert per_dim.shape == (3,) and (per_dim >= 0).all()
    assert torch.allclose(per_dim.sum(), vae.gaussian_kl(mu, logvar).mean())
    one = vae.kl_per_dimension(mu[:, :1], logvar[:, :1])                 # dimension 0 alone
    assert torch.allclose(one, per_dim[:1])


def test_latent_activity_is_the_variance_of_the_means_over_examples(gen):
    mu = torch.randn(50, 3, generator=gen) * torch.tensor([2.0, 0.01, 0.5])
    act = vae.latent_activity(mu)
    assert torch.allclose(act, torch.tensor(mu.numpy().var(axis=0, ddof=1)))
    assert (act > vae.ACTIVE_THRESHOLD).tolist() == [True, False, True]


# ------------------------------------------------------------------- shapes, devices

def test_shapes_and_generation(gen):
    model = vae.VAE(784, 2, 32)
    x = torch.rand(5, 784, generator=gen)
    out = model(x, generator=gen)
    assert out.logits.shape == (5, 784) and out.mu.shape == out.logvar.shape == out.z.shape == (5, 2)
    assert vae.negative_elbo(x, out.logits, out.mu, out.logvar).shape == (5,)
    assert vae.iwae_log_likelihood(model, x, 3, gen).shape == (5,)
    assert vae.log_importance_weights(model, x, 3, gen).shape == (3, 5)
    s = vae.sample_prior(model, 4, gen)
    assert s.shape == (4, 784) and 0 <= s.min() and s.max() <= 1
    sb = vae.sample_prior(model, 4, gen, binary=True)
    assert set(sb.unique().tolist()) <= {0.0, 1.0}
    imgs, path = vae.interpolate(model, torch.zeros(2), torch.ones(2), torch.linspace(0, 1, 5))
    assert imgs.shape == (5, 784) and torch.allclose(path[2], torch.full((2,), 0.5))
    assert torch.allclose(imgs[0], torch.sigmoid(model.decode(torch.zeros(1, 2)))[0])
    grid, z = vae.latent_grid(model, n=4)
    assert grid.shape == (16, 784) and z.shape == (16, 2)
    assert z[0, 0] < z[1, 0] and z[0, 1] > z[4, 1]              # z1 grows along rows, z2 falls down
    assert torch.allclose(z[:4, 0], -z[:4, 0].flip(0))           # symmetric quantiles


def test_same_generator_seed_gives_the_same_sample():
    model = vae.VAE(10, 3, 8)
    x = torch.rand(4, 10)
    a = model(x, generator=seed_everything(5)).z
    b = model(x, generator=seed_everything(5)).z
    assert torch.equal(a, b)


# ---------------------------------------------------------------------- bad input

_m = vae.VAE(6, 2, 4)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: _m(torch.full((2, 6), 1.5)), ValueError, r"x must hold pixel values in \[0, 1\]"),
    (lambda: _m(torch.full((2, 6), -0.1)), ValueError, r"x must hold pixel values in \[0, 1\]"),
    (lambda: _m(torch.zeros(2, 5)), ValueError, "x must have last dimension 6"),
    (lambda: _m(torch.zeros(2, 1, 6)), ValueError, "x must have 2 dimensions"),
    (lambda: _m(torch.zeros(2, 6, dtype=torch.long)), TypeError, "x must be a floating-point"),
    (lambda: _m(torch.zeros(2, 6), eps=torch.zeros(2, 3)), ValueError, "eps must have shape"),
    (lambda: _m(torch.zeros(2, 6), generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: _m.decode(torch.zeros(2, 3)), ValueError, "z must have last dimension 2"),
    (lambda: vae.VAE(784, 0), ValueError, "z_dim must be >= 1"),
    (lambda: vae.VAE(784, 2, likelihood="poisson"), ValueError, "likelihood must be one of"),
    (lambda: vae.VAE(784, 2, likelihood="gaussian", x_std=0.0), ValueError, "x_std must be > 0"),
    (lambda: vae.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 4), 1.0), ValueError,
     "mean must have shape"),
    (lambda: vae.log_marginal_quadrature(vae.VAE(6, 3, 4), torch.zeros(2, 6)), ValueError,
     "needs z_dim = 1 or 2"),
    (lambda: vae.latent_activity(torch.zeros(1, 3)), ValueError, "at least 2 rows"),
    (lambda: vae.linear_vae_kl(torch.tensor([1.0, -0.5]), 1.0), ValueError, "eigvals must be >= 0"),
    (lambda: vae.linear_vae_kl(torch.tensor([1.0]), 0.0), ValueError, "noise_var must be > 0"),
    (lambda: vae.LinearGaussian(torch.zeros(3, 2), torch.zeros(4), 1.0), ValueError,
     "b must have last dimension 3"),
    (lambda: vae.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), -1.0), ValueError,
     "noise_var must be > 0"),
    (lambda: vae.reparameterize(torch.zeros(2, 3), torch.zeros(2, 2)), ValueError,
     "mu and logvar must share a shape"),
    (lambda: vae.gaussian_kl(torch.zeros(3), torch.zeros(4)), ValueError, "must share a shape"),
    (lambda: vae.bernoulli_log_likelihood(torch.zeros(2, 6), torch.zeros(2, 5)), ValueError,
     "logits must have shape"),
    (lambda: vae.bernoulli_log_likelihood(torch.full((2, 6), 2.0), torch.zeros(2, 6)), ValueError,
     r"x must hold pixel values in \[0, 1\]"),
    (lambda: vae.negative_elbo(torch.zeros(2, 6), torch.zeros(2, 6), torch.zeros(2, 2),
                               torch.zeros(2, 2), beta=-1.0), ValueError, "beta must be >= 0"),
    (lambda: vae.negative_elbo(torch.zeros(2, 6), torch.zeros(2, 6), torch.zeros(3, 2),
                               torch.zeros(3, 2)), ValueError, "one row per example"),
    (lambda: vae.elbo_loss(_m, torch.zeros(2, 6), beta=-0.5), ValueError, "beta must be >= 0"),
    (lambda: vae.elbo_loss("model", torch.zeros(2, 6)), TypeError, "model must be a companion.vae.VAE"),
    (lambda: vae.iwae_log_likelihood(_m, torch.zeros(2, 6), k=0), ValueError, "k must be >= 1"),
    (lambda: vae.iwae_log_likelihood(_m, torch.zeros(2, 6), k=2.5), TypeError, "k must be an integer"),
    (lambda: vae.iwae_log_likelihood(_m, torch.zeros(2, 6), k=3, eps=torch.zeros(2, 2, 2)),
     ValueError, "eps must have shape"),
    (lambda: vae.elbo_terms(_m, torch.zeros(2, 6), n_samples=0), ValueError,
     "n_samples must be >= 1"),
    (lambda: vae.elbo_terms(_m, torch.zeros(2, 6), eps=torch.zeros(3, 2, 3)), ValueError,
     "eps must have shape"),
    (lambda: vae.log_importance_weights(_m, torch.zeros(2, 6), k=0), ValueError, "k must be >= 1"),
    (lambda: vae.log_normal(torch.zeros(2, 2), mu=torch.zeros(2, 2)), ValueError,
     "give both mu and logvar"),
    (lambda: vae.sample_prior(_m, 0), ValueError, "n must be >= 1"),
    (lambda: vae.interpolate(_m, torch.zeros(3), torch.zeros(2), 0.5), ValueError,
     "z_start must have last dimension 2"),
    (lambda: vae.interpolate(_m, torch.zeros(2), torch.zeros(2), float("nan")), ValueError,
     "t must hold finite numbers"),
    (lambda: vae.latent_grid(vae.VAE(6, 3, 4)), ValueError, "needs a model with z_dim = 2"),
    (lambda: vae.latent_grid(_m, tail=0.7), ValueError, r"tail must be in \(0, 0.5\)"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------- bad input found by the bad-input suite (issue)

@pytest.mark.parametrize("call,exc,msg", [
    (lambda: _m.log_likelihood(torch.zeros(2, 6), torch.zeros(6)), ValueError,
     r"decoded must have shape \(\.\.\., 2, 6\)"),
    (lambda: _m.log_likelihood(torch.zeros(2, 6), torch.full((2, 6), float("nan"))), ValueError,
     "decoded must hold finite values"),
    (lambda: _m(torch.zeros(2, 6), eps=torch.zeros(3, 2, 2)), ValueError, "eps must have 2 dimensions"),
    (lambda: vae.elbo_loss(_m, torch.zeros(2, 6), eps=torch.zeros(3, 2, 2)), ValueError,
     "eps must have 2 dimensions"),
    (lambda: vae.elbo_terms(_m, torch.zeros(2, 6), eps=torch.zeros(0, 2, 2)), ValueError,
     "eps must not be empty"),
    (lambda: vae.reparameterize(torch.zeros(2, 2), torch.zeros(2, 2), eps=torch.zeros(0, 2, 2)),
     ValueError, "eps must not be empty"),
    (lambda: vae.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2)),
     ValueError, r"x_std must broadcast to mean's shape \(2, 3\), got shape \(2,\)"),
    (lambda: vae.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3),
                                         torch.tensor([1.0, float("inf"), 1.0])), ValueError,
     "x_std must hold finite values"),
    (lambda: vae.log_normal(torch.zeros(0, 2), torch.zeros(3, 2), torch.zeros(3, 2)), ValueError,
     r"z and mu must have shapes that broadcast against each other, got z \(0, 2\), mu \(3, 2\)"),
    (lambda: vae.negative_elbo("x", torch.zeros(2, 6), torch.zeros(2, 2), torch.zeros(2, 2)),
     TypeError, "x must be a torch.Tensor"),
    (lambda: vae.interpolate(_m, torch.zeros(2), torch.ones(2), torch.zeros(2, 3)), ValueError,
     r"t must be a number or a non-empty \(T,\) sequence"),
    (lambda: vae.interpolate(_m, torch.zeros(2), torch.ones(2), "half"), TypeError,
     "t must be a number"),
    (lambda: vae.kl_per_dimension(torch.zeros(0, 2), torch.zeros(0, 2)), ValueError, "N >= 1"),
    (lambda: vae.LinearGaussian(torch.zeros(0, 2), torch.zeros(0), 1.0), ValueError,
     "W must not be empty"),
    (lambda: vae.LinearGaussian(torch.ones(3, 2), torch.zeros(3), 1.0).log_joint(
        torch.zeros(4, 3), torch.zeros(2)), ValueError, r"z must have shape \(\.\.\., 4, 2\)"),
    (lambda: vae.LinearGaussian(torch.ones(3, 2), torch.zeros(3), 1.0).elbo(
        torch.zeros(4, 3), torch.zeros(2, 2), torch.zeros(2, 2)), ValueError,
     r"mu and logvar must have shape \(4, 2\)"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
