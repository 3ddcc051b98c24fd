"""Tests of companion.diffusion against mathematics: autograd, simulation, Gaussian
conditioning, torch.distributions, and the modern Hopfield update of chapter 12."""
import math

import pytest
import torch

from companion import diffusion as df
from companion import modern_hopfield as mh
from companion import samplers

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def mixture(dtype=torch.float64):
    return df.GaussianMixture(torch.tensor([0.2, 0.5, 0.3], dtype=dtype),
                              torch.tensor([[-2.0, 1.0], [1.5, 0.5], [0.0, -2.0]], dtype=dtype),
                              torch.tensor([0.5, 0.8, 0.3], dtype=dtype))


# --------------------------------------------------------------------------- the mixture
def test_mixture_score_is_the_gradient_of_its_log_density():
    mix = mixture()
    x = torch.randn(50, 2, generator=gen(), dtype=torch.float64).mul(2).requires_grad_(True)
    (grad,) = torch.autograd.grad(mix.log_prob(x).sum(), x)
    assert torch.allclose(mix.score(x.detach()), grad, atol=1e-10)
    assert torch.allclose(mix.energy(x.detach()), -mix.log_prob(x.detach()))


def test_mixture_density_integrates_to_one_on_a_grid():
    mix = mixture()
    g = torch.linspace(-8, 8, 801, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    p = mix.log_prob(torch.stack([xx, yy], -1)).exp()
    assert abs(p.sum().item() * (g[1] - g[0]).item() ** 2 - 1) < 1e-6


def test_convolved_mixture_is_the_law_of_the_noised_samples():
    """p_sigma(x) = E_{x0 ~ p} N(x; a x0, sigma^2 I), estimated by Monte Carlo."""
    mix, a, sigma = mixture(), 0.7, 0.6
    x0 = mix.sample(200_000, gen(1))
    x = torch.tensor([[0.0, 0.0], [-1.0, 1.0], [1.0, -1.5]], dtype=torch.float64)
    sq = ((x[:, None, :] - a * x0[None]) ** 2).sum(-1)
    mc = torch.exp(-sq / (2 * sigma ** 2)).mean(1) / (2 * math.pi * sigma ** 2)
    exact = mix.convolved(a, sigma).log_prob(x).exp()
    assert torch.allclose(mc, exact, rtol=0.02)


def test_mixture_samples_have_the_right_weights_and_mean():
    mix = mixture()
    x = mix.sample(40_000, gen(2))
    w = mix.mode_weights(x)
    assert torch.allclose(w, mix.weights, atol=4 * math.sqrt(0.25 / 40_000) + 0.01)
    mean = (mix.weights[:, None] * mix.means).sum(0)
    assert torch.allclose(x.mean(0), mean, atol=4 * x.std(0).max().item() / 200)


# --------------------------------------------------------------------------- score matching
def test_dsm_minus_explicit_score_matching_is_a_constant():
    """Vincent (2011): J_DSM(s) = J_ESM(s) + C for every score function s."""
    mix, sigma = mixture(), 0.5
    noised = mix.convolved(noise_std=sigma)
    x0 = mix.sample(400_000, gen(3))
    eps = torch.randn(x0.shape, generator=gen(4), dtype=torch.float64)
    x = x0 + sigma * eps
    gaps = []
    for f in (lambda v: noised.score(v), lambda v: 0 * v, lambda v: -v,
              lambda v: 0.5 * noised.score(v) + 1.0):
        dsm = df.dsm_loss(lambda v, s: f(v), x0, sigma, eps=eps).item() / sigma ** 2
        esm = 0.5 * ((f(x) - noised.score(x)) ** 2).sum(-1).mean().item()
        gaps.append(dsm - esm)
    assert max(gaps) - min(gaps) < 0.02 * abs(gaps[0]) + 1e-3


def test_dsm_loss_at_the_exact_score_is_below_any_other():
    mix, sigma = mixture(), 0.4
    x0 = mix.sample(50_000, gen(5))
    eps = torch.randn(x0.shape, generator=gen(6), dtype=torch.float64)
    exact = df.dsm_loss(lambda v, s: mix.convolved(noise_std=sigma).score(v), x0, sigma, eps=eps)
    for scale in (0.8, 1.2):
        other = df.dsm_loss(lambda v, s: scale * mix.convolved(noise_std=sigma).score(v), x0,
                            sigma, eps=eps)
        assert other > exact


def test_energy_network_score_and_training_gradient():
    net = df.NoiseConditionalEnergy(2, 16, 2, generator=gen()).double()
    x = torch.randn(8, 2, generator=gen(), dtype=torch.float64)
    e = net(x, 0.5)
    assert e.shape == (8,)
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(xr, 0.5).sum(), xr)
    assert torch.allclose(net.score(x, 0.5), -g)
    loss = df.dsm_loss(net.score, x, torch.full((8,), 0.3, dtype=torch.float64), gen())
    loss.backward()          # the score is differentiable in the parameters (double backprop)
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    # the energy's additive constant (the last bias) does not change the score
    assert net.net[-1].bias.grad is None


def test_annealed_langevin_is_langevin_with_song_and_ermons_steps():
    energy = lambda x, s: 0.5 * (x ** 2).sum(-1) / (1 + s ** 2)
    x0 = torch.randn(5, 2, generator=gen(), dtype=torch.float64)
    out = df.annealed_langevin(energy, x0, [2.0, 1.0], n_steps_each=3, eps=0.01, generator=gen(9))
    g, x = gen(9), x0
    for s in (2.0, 1.0):
        x = samplers.langevin(lambda v: energy(v, s), x, n_steps=3, step_size=0.01 * s ** 2 / 2,
                              generator=g)
    assert torch.allclose(out, x)


def test_annealed_langevin_recovers_the_mode_weights():
    mix = df.GaussianMixture(torch.tensor([0.2, 0.8]), torch.tensor([[-5.0, -5.0], [5.0, 5.0]]),
                             torch.tensor([1.0, 1.0]))
    x0 = 16 * torch.rand((1000, 2), generator=gen()) - 8
    sig = df.geometric_noise_levels(20, 1, 10).tolist()
    out = df.annealed_langevin(lambda x, s: mix.convolved(noise_std=s).energy(x), x0, sig,
                               n_steps_each=100, eps=0.1, generator=gen(1))
    assert abs(mix.mode_weights(out)[0].item() - 0.2) < 0.05


# --------------------------------------------------------------------------- DDPM
def test_schedule_matches_its_definition():
    s = df.linear_schedule(1000)
    assert s.T == 1000 and s.alpha_bars[0] == 1
    assert math.isclose(s.betas[1].item(), 1e-4) and math.isclose(s.betas[1000].item(), 0.02)
    assert math.isclose(s.alpha_bars[500].item(), math.prod(1 - b for b in s.betas[1:501].tolist()),
                        rel_tol=1e-10)


@pytest.mark.parametrize("t", [1, 10, 300, 1000])
def test_closed_form_forward_process_matches_the_simulated_chain(t):
    s = df.linear_schedule(1000)
    x0 = torch.tensor([[1.0, -0.5]], dtype=torch.float64).expand(20_000, 2).contiguous()
    chain = df.forward_chain(x0, t, s, gen(t))
    closed = df.q_sample(x0, t, s, gen(t + 1))
    ab = s.alpha_bars[t].item()
    se_mean = math.sqrt((1 - ab) / 20_000)
    for x in (chain, closed):
        assert torch.allclose(x.mean(0), math.sqrt(ab) * x0[0], atol=5 * se_mean)
        assert torch.allclose(x.var(0), torch.full((2,), 1 - ab, dtype=torch.float64),
                              rtol=5 * math.sqrt(2 / 20_000))


def test_posterior_is_gaussian_conditioning_of_the_joint():
    s = df.linear_schedule(100, 1e-3, 0.1)
    x0 = torch.randn(6, 3, generator=gen(), dtype=torch.float64)
    xt = torch.randn(6, 3, generator=gen(1), dtype=torch.float64)
    for t in (1, 2, 50, 100):
        ab_prev, ab, a = (s.alpha_bars[t - 1].item(), s.alpha_bars[t].item(), s.alphas[t].item())
        var_prev, cov, var_t = 1 - ab_prev, math.sqrt(a) * (1 - ab_prev), 1 - ab
        mean = math.sqrt(ab_prev) * x0 + cov / var_t * (xt - math.sqrt(ab) * x0)
        var = var_prev - cov ** 2 / var_t
        m, v = df.q_posterior(x0, xt, t, s)
        assert torch.allclose(m, mean, atol=1e-12) and torch.allclose(v, torch.tensor(var, dtype=v.dtype), atol=1e-12)


def test_reverse_mean_with_the_true_noise_is_the_posterior_mean():
    s = df.linear_schedule(1000)
    x0 = torch.randn(5, 4, generator=gen(), dtype=torch.float64)
    eps = torch.randn(5, 4, generator=gen(1), dtype=torch.float64)
    t = torch.tensor([1, 2, 10, 500, 1000])
    xt = df.q_sample(x0, t, s, eps=eps)
    assert torch.allclose(df.p_mean(xt, eps, t, s), df.q_posterior(x0, xt, t, s)[0], atol=1e-9)
    assert torch.allclose(df.predict_x0(xt, eps, t, s), x0, atol=1e-9)


def test_gaussian_kl_matches_torch_distributions():
    from torch.distributions import Independent, Normal, kl_divergence

    mq, mp = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    vq, vp = torch.rand(4, 1, dtype=torch.float64) + 0.1, torch.rand(4, 1, dtype=torch.float64) + 0.1
    ref = kl_divergence(Independent(Normal(mq, vq.sqrt().expand(4, 3)), 1),
                        Independent(Normal(mp, vp.sqrt().expand(4, 3)), 1))
    assert torch.allclose(df.gaussian_kl(mq, vq, mp, vp), ref, atol=1e-12)


@pytest.mark.parametrize("sigma2", ["beta", "posterior"])
def test_elbo_term_is_a_weighted_noise_prediction_error(sigma2):
    s = df.linear_schedule(1000)
    x0 = torch.randn(6, 5, generator=gen(), dtype=torch.float64)
    eps = torch.randn(6, 5, generator=gen(1), dtype=torch.float64)
    eps_hat = eps + 0.3 * torch.randn(6, 5, generator=gen(2), dtype=torch.float64)
    for t in (2, 20, 700):
        xt = df.q_sample(x0, t, s, eps=eps)
        mq, vq = df.q_posterior(x0, xt, t, s)
        vp = s.betas[t] if sigma2 == "beta" else vq
        kl = df.gaussian_kl(mq, vq, df.p_mean(xt, eps_hat, t, s), vp)
        kl_best = df.gaussian_kl(mq, vq, mq, vp)
        w = df.elbo_weight(t, s, sigma2)
        assert torch.allclose(kl - kl_best, w * ((eps - eps_hat) ** 2).sum(-1), rtol=1e-9)


def test_ancestral_sampling_with_the_exact_noise_recovers_the_mixture():
    mix = df.GaussianMixture(torch.tensor([0.3, 0.7]), torch.tensor([[-2.0, 0.0], [2.0, 1.0]]),
                             torch.tensor([0.5, 0.5]))
    s = df.linear_schedule(200, 1e-3, 0.1)

    def eps_exact(x, t):
        ab = s.alpha_bars[int(t[0])].item()
        return -math.sqrt(1 - ab) * mix.convolved(math.sqrt(ab), math.sqrt(1 - ab)).score(x)

    x = df.ddpm_sample(eps_exact, 4000, 2, s, gen())
    assert abs(mix.mode_weights(x)[0].item() - 0.3) < 4 * math.sqrt(0.21 / 4000) + 0.01
    near = x[mix.assign(x) == 1]
    assert torch.allclose(near.mean(0), mix.means[1], atol=0.05)
    assert torch.allclose(near.std(0), torch.full((2,), 0.5), atol=0.05)


def test_ddpm_loss_is_zero_for_the_true_noise_and_sample_keeps_steps():
    s = df.linear_schedule(50)
    x0 = torch.randn(7, 3, generator=gen())
    eps = torch.randn(7, 3, generator=gen(1))
    t = torch.randint(1, 51, (7,), generator=gen(2))
    assert df.ddpm_loss(lambda x, tt: eps, x0, s, t=t, eps=eps).item() == 0
    model = df.EpsilonMLP(3, 50, hidden=8, n_layers=2, generator=gen())
    x, kept = df.ddpm_sample(model, 4, 3, s, gen(), keep=[50, 10, 0], clip=(-1.0, 1.0))
    assert x.shape == (4, 3) and sorted(kept) == [0, 10, 50]
    assert kept[10][1].abs().max() <= 1


# --------------------------------------------------------------------------- memory
def _memory(n=30, d=6, seed=0):
    train = torch.randn(n, d, generator=gen(seed), dtype=torch.float64)
    train = train * (0.5 + torch.rand(n, 1, generator=gen(seed + 1), dtype=torch.float64))
    x_t = torch.randn(10, d, generator=gen(seed + 2), dtype=torch.float64)
    return train, x_t


@pytest.mark.parametrize("alpha_bar", [0.01, 0.3, 0.9, 0.999])
def test_ideal_denoiser_is_one_modern_hopfield_update(alpha_bar):
    train, x_t = _memory()
    a = df.ideal_denoiser(x_t, train, alpha_bar)
    b = df.hopfield_denoiser(x_t, train, alpha_bar)
    assert (a - b).abs().max() < 1e-6 * max(1.0, a.abs().max().item())


def test_equal_norm_patterns_need_no_extra_coordinate():
    train, x_t = _memory()
    train = train / train.norm(dim=1, keepdim=True) * 2.0
    ab = 0.5
    plain = mh.update(x_t, train, df.hopfield_beta(ab))
    assert torch.allclose(df.ideal_denoiser(x_t, train, ab), plain, atol=1e-10)


def test_ideal_denoiser_is_tweedies_formula_by_autograd():
    """E[x0 | xt] = (xt + (1 - ab) grad log q_t(xt)) / sqrt(ab), q_t the noised empirical law."""
    train, x_t = _memory(12, 3)
    ab = 0.6
    q_t = df.GaussianMixture(torch.full((12,), 1 / 12, dtype=torch.float64), math.sqrt(ab) * train,
                             torch.full((12,), math.sqrt(1 - ab), dtype=torch.float64))
    x = x_t.clone().requires_grad_(True)
    (score,) = torch.autograd.grad(q_t.log_prob(x).sum(), x)
    tweedie = (x_t + (1 - ab) * score) / math.sqrt(ab)
    assert torch.allclose(df.ideal_denoiser(x_t, train, ab), tweedie, atol=1e-10)


def test_sampling_with_the_ideal_denoiser_returns_training_points():
    train, _ = _memory(8, 4)
    s = df.linear_schedule(300, 1e-3, 0.05)
    x = df.ddpm_sample(df.IdealEpsilon(train, s), 64, 4, s, gen(), dtype=torch.float64)
    assert df.nearest_distance(x, train).max() < 0.05


def test_nearest_distance_is_brute_force():
    a, b = torch.randn(37, 5, generator=gen()), torch.randn(23, 5, generator=gen(1))
    brute = torch.tensor([min((ai - bj).norm().item() for bj in b) for ai in a])
    assert torch.allclose(df.nearest_distance(a, b, chunk=7), brute, atol=1e-5)


def test_class_spread_extremes():
    c = 10
    uniform = torch.eye(c, dtype=torch.float64).repeat(3, 1)
    ent, conf = df.class_spread(uniform)
    assert math.isclose(ent, math.log(c)) and conf == 1
    one = torch.full((5, c), 1 / c, dtype=torch.float64)
    one[:, 3] += 0.01
    ent, conf = df.class_spread(one / one.sum(1, keepdim=True))
    assert ent == 0 and conf < 0.12


# --------------------------------------------------------------------------- shapes, devices
@pytest.mark.parametrize("device", DEVICES)
def test_modules_and_functions_run_on_the_inputs_device(device):
    s = df.linear_schedule(20)
    x0 = torch.randn(4, 3, device=device)
    model = df.EpsilonMLP(3, 20, hidden=8, generator=gen()).to(device)
    assert df.ddpm_loss(model, x0, s, gen()).device.type == device
    assert df.q_sample(x0, 5, s, gen()).device.type == device
    assert df.ddpm_sample(model, 2, 3, s, gen(), device=device).device.type == device
    net = df.NoiseConditionalEnergy(3, 8, generator=gen()).to(device)
    assert net.score(x0, 0.5).device.type == device
    assert df.ideal_denoiser(x0, x0, 0.5).device.type == device


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match="weights"):
        df.GaussianMixture(torch.tensor([0.5, 0.6]), torch.zeros(2, 2), torch.ones(2))
    with pytest.raises(ValueError, match="stds"):
        df.GaussianMixture(torch.tensor([0.5, 0.5]), torch.zeros(2, 2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="x must have last dimension"):
        mixture().score(torch.zeros(3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="sigma"):
        df.dsm_loss(lambda v, s: v, torch.zeros(3, 2), -1.0)
    with pytest.raises(ValueError, match="sigmas must decrease"):
        df.annealed_langevin(lambda x, s: x.sum(-1), torch.zeros(2, 2), [1.0, 2.0],
                             n_steps_each=1, eps=0.1)
    s = df.linear_schedule(10)
    with pytest.raises(ValueError, match="t must lie"):
        df.q_sample(torch.zeros(2, 2), 11, s)
    with pytest.raises(ValueError, match="t must lie in 1"):
        df.q_posterior(torch.zeros(2, 2), torch.zeros(2, 2), 0, s)
    with pytest.raises(TypeError, match="schedule"):
        df.q_sample(torch.zeros(2, 2), 1, "linear")
    with pytest.raises(ValueError, match="T must be"):
        df.linear_schedule(0)
    with pytest.raises(ValueError, match="alpha_bar"):
        df.ideal_denoiser(torch.zeros(2, 2), torch.zeros(3, 2), 1.0)
    with pytest.raises(ValueError, match="same width"):
        df.ideal_denoiser(torch.zeros(2, 2), torch.zeros(3, 4), 0.5)
    with pytest.raises(ValueError, match="same width"):
        df.nearest_distance(torch.zeros(2, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="eps must have shape"):
        df.q_sample(torch.zeros(2, 2), 1, s, eps=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="sigma_max must exceed"):
        df.geometric_noise_levels(1.0, 2.0, 5)


def test_copy_ratio_tells_copies_from_fresh_samples():
    pool = torch.randn(4000, 2, generator=gen(7))
    train, held = pool[:50], pool[50:]
    copies = train[torch.randint(0, 50, (200,), generator=gen(8))] + 1e-3
    fresh = torch.randn(200, 2, generator=gen(9))
    assert df.copy_ratio(copies, train, held, n_draws=10, generator=gen()) < 0.01
    assert 0.7 < df.copy_ratio(fresh, train, held, n_draws=10, generator=gen()) < 1.4
    with pytest.raises(ValueError, match="held_out must hold at least"):
        df.copy_ratio(fresh, pool, train)


def test_clean_image_parametrisation_gives_the_noise_by_the_forward_identity():
    s = df.linear_schedule(30)
    model = df.EpsilonMLP(3, 30, hidden=8, n_layers=2, generator=gen(), predict="x0", schedule=s).double()
    x0 = torch.randn(5, 3, generator=gen(1), dtype=torch.float64)
    eps = torch.randn(5, 3, generator=gen(2), dtype=torch.float64)
    t = torch.tensor([1, 5, 10, 20, 30])
    x_t = df.q_sample(x0, t, s, eps=eps)
    clean_guess = df.predict_x0(x_t, model(x_t, t), t, s)
    assert clean_guess.shape == x0.shape
    # x_t = sqrt(ab) D + sqrt(1 - ab) eps_hat, for any network output D
    ab = s.alpha_bars[t].unsqueeze(1)
    assert torch.allclose(ab.sqrt() * clean_guess + (1 - ab).sqrt() * model(x_t, t), x_t, atol=1e-10)
    with pytest.raises(TypeError, match="schedule"):
        df.EpsilonMLP(3, 30, predict="x0")
    with pytest.raises(ValueError, match="predict"):
        df.EpsilonMLP(3, 30, predict="v")
