import math

import numpy as np
import pytest
import torch
from scipy import stats

from companion import ebm
from companion.boltzmann import all_binary_states
from helpers import within_se


def test_mlp_and_energy_shapes():
    net = ebm.mlp([3, 8, 8, 2])
    assert [m.__class__.__name__ for m in net] == ["Linear", "SiLU", "Linear", "SiLU", "Linear"]
    e = ebm.MLPEnergy(3, hidden=8)
    assert e(torch.zeros(5, 3)).shape == (5,)


def test_contrastive_loss_and_its_gradient():
    e_pos = torch.tensor([0.5, -1.0], requires_grad=True)
    e_neg = torch.tensor([2.0, 1.0, 0.0], requires_grad=True)
    loss, stats_ = ebm.contrastive_loss(e_pos, e_neg, alpha=0.1)
    want = (0.5 - 1.0) / 2 - 1.0 + 0.1 * ((0.25 + 1.0) / 2 + (4 + 1 + 0) / 3)
    assert abs(loss.item() - want) < 1e-6 and abs(stats_["e_neg"].item() - 1.0) < 1e-6
    loss.backward()
    # d/dE(x+) = 1/B + 2 alpha E/B: data energies are pushed down, samples' pushed up
    assert torch.allclose(e_pos.grad, (1 + 0.2 * e_pos.detach()) / 2)
    assert torch.allclose(e_neg.grad, (-1 + 0.2 * e_neg.detach()) / 3)


def test_langevin_ebm_step_advances_the_buffer_and_returns_the_loss():
    g = torch.Generator().manual_seed(0)
    model = ebm.MLPEnergy(2, hidden=8)
    cfg = ebm.LangevinConfig(n_steps=3, step_size=0.01, buffer_size=50, reinit_prob=0.0)
    trainer = ebm.LangevinEBM(model, 2, cfg, generator=g)
    before = trainer.buffer.states.clone()
    out = trainer.step(torch.randn(10, 2, generator=g))
    changed = (trainer.buffer.states != before).any(dim=1)
    assert changed.sum() == 10, "the ten sampled slots were advanced and written back"
    assert set(out) == {"loss", "e_pos", "e_neg"} and out["loss"].requires_grad
    assert before.abs().max() <= cfg.init_range


def test_contrastive_backprop_gradient_is_the_corrected_rule():
    g = torch.Generator().manual_seed(1)
    model = ebm.MLPEnergy(4, hidden=6)
    x = torch.rand(8, 4, generator=g)
    loss, x_hat = ebm.contrastive_backprop_loss(model, x, n_steps=5, step_size=0.05,
                                                generator=g)
    params = list(model.parameters())
    got = torch.autograd.grad(loss, params)
    d_data = torch.autograd.grad(model(x).mean(), params)
    d_conf = torch.autograd.grad(model(x_hat).mean(), params)
    for a, b, c in zip(got, d_data, d_conf):
        # the gradient is dE(x)/dw - dE(x_hat)/dw, so a descent step is the rule
        # Delta w = a (-dE(x)/dw + dE(x_hat)/dw)
        assert torch.allclose(a, b - c, atol=1e-6)
    assert not x_hat.requires_grad and (x_hat != x).any()


def test_nce_loss_is_log4_when_model_equals_noise():
    noise = ebm.GaussianNoise(torch.zeros(2), torch.eye(2))

    class Exact(torch.nn.Module):       # energy whose density is the noise density
        def forward(self, x):
            return 0.5 * (x**2).sum(1)

    model = ebm.NCEModel(Exact())
    with torch.no_grad():
        model.log_z.fill_(math.log(2 * math.pi))
    x = torch.randn(100, 2)
    assert abs(model.loss(x, torch.randn(100, 2), noise.log_prob).item() - 2 * math.log(2)) < 1e-6


def test_nce_learns_the_normaliser_of_a_gaussian():
    g = torch.Generator().manual_seed(2)
    data = 0.7 * torch.randn(20000, 1, generator=g) + 1.0

    class Quadratic(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m, self.log_s = torch.nn.Parameter(torch.zeros(())), torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return 0.5 * ((x[:, 0] - self.m) / self.log_s.exp()) ** 2

    model = ebm.NCEModel(Quadratic())
    noise = ebm.GaussianNoise(torch.tensor([0.5]), torch.tensor([[4.0]]))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(600):
        x = data[torch.randint(len(data), (512,), generator=g)]
        loss = model.loss(x, noise.sample(1024, g), noise.log_prob)
        opt.zero_grad(), loss.backward(), opt.step()
    s = model.energy.log_s.exp().item()
    assert abs(model.energy.m.item() - 1.0) < 0.05 and abs(s - 0.7) < 0.05
    # the learned log-normaliser is that of the fitted Gaussian: log sqrt(2 pi) s
    assert abs(model.log_z.item() - math.log(math.sqrt(2 * math.pi) * s)) < 0.05


def test_score_matching_loss_is_the_fisher_divergence_up_to_a_constant():
    # J(theta) = 1/2 E|grad log p_theta - grad log p_data|^2 + const: for Gaussian data
    # (score -x) and a Gaussian model N(m, s^2) the Fisher divergence is known in closed
    # form, so J(model) - J(true model) must equal it (up to Monte Carlo error)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(200000, 1, generator=g, dtype=torch.float64)

    def gaussian(m, s):
        return lambda z: 0.5 * ((z[:, 0] - m) / s) ** 2

    j_true = ebm.score_matching_loss(gaussian(0.0, 1.0), x).item()
    for m, s in [(0.5, 1.0), (0.0, 2.0), (-1.0, 0.7)]:
        # score difference: -(x - m)/s^2 + x = x (1 - 1/s^2) + m/s^2; E[x] = 0, E[x^2] = 1
        fisher = 0.5 * ((1 - 1 / s**2) ** 2 + (m / s**2) ** 2)
        got = ebm.score_matching_loss(gaussian(m, s), x).item() - j_true
        assert abs(got - fisher) < 0.02 * max(fisher, 0.1), (m, s, got, fisher)


def test_score_matching_laplacian_agrees_with_a_hand_derived_one():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(50, 3, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    energy = lambda z: (torch.cosh(z @ w)).log()           # noqa: E731 - E = log cosh(w.x)
    loss = ebm.score_matching_loss(energy, x)
    u = x @ w
    # grad E = tanh(u) w, Laplacian = (1 - tanh(u)^2) |w|^2
    want = (0.5 * torch.tanh(u) ** 2 * (w**2).sum() - (1 - torch.tanh(u) ** 2) * (w**2).sum()).mean()
    assert torch.allclose(loss, want)
    (grad_auto,) = torch.autograd.grad(loss, w)
    (grad_want,) = torch.autograd.grad(want, w)
    assert torch.allclose(grad_auto, grad_want), "differentiable in the parameters"


def test_score_matching_recovers_a_gaussian_without_its_normaliser():
    # for a Gaussian model the score-matching estimate is the sample mean and variance
    g = torch.Generator().manual_seed(6)
    x = 1.5 + 0.6 * torch.randn(5000, 1, generator=g, dtype=torch.float64)
    m = torch.zeros((), dtype=torch.float64, requires_grad=True)
    log_s = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([m, log_s], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ebm.score_matching_loss(lambda z: 0.5 * ((z[:, 0] - m) / log_s.exp()) ** 2, x)
        loss.backward()
        return loss

    opt.step(closure)
    assert abs(m.item() - x.mean().item()) < 1e-5
    assert abs(log_s.exp().item() ** 2 - x.var(unbiased=False).item()) < 1e-5


def test_gaussian_energy_and_its_normaliser_agree_with_scipy():
    mean = torch.tensor([0.5, -1.0], dtype=torch.float64)
    cov = torch.tensor([[1.5, 0.4], [0.4, 0.8]], dtype=torch.float64)
    e = ebm.GaussianEnergy(mean, cov)
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    ref = stats.multivariate_normal(mean.numpy(), cov.numpy()).logpdf(x.numpy())
    np.testing.assert_allclose((-e(x) - e.log_normaliser()).numpy(), ref, rtol=1e-10)
    assert not list(e.parameters()), "fixed: nothing to learn"


def test_nce_learns_the_exact_normaliser_of_a_known_shape():
    # only c is learned; the energy is the data's own: c must converge to log Z = log 2 pi
    g = torch.Generator().manual_seed(10)
    model = ebm.NCEModel(ebm.GaussianEnergy(torch.zeros(2), torch.eye(2)))
    noise = ebm.GaussianNoise(torch.zeros(2), 2 * torch.eye(2))
    x, y = torch.randn(40000, 2, generator=g), noise.sample(160000, g)
    opt = torch.optim.LBFGS([model.log_z], max_iter=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = model.loss(x, y, noise.log_prob)
        loss.backward()
        return loss

    opt.step(closure)
    assert abs(model.log_z.item() - math.log(2 * math.pi)) < 0.03


def test_gaussian_noise_agrees_with_scipy():
    mean, cov = torch.tensor([1.0, -1.0]), torch.tensor([[2.0, 0.3], [0.3, 0.5]])
    noise = ebm.GaussianNoise(mean, cov)
    x = noise.sample(50000, torch.Generator().manual_seed(3))
    assert torch.allclose(x.mean(0), mean, atol=0.03)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.05)
    pts = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    ref = stats.multivariate_normal(mean.numpy(), cov.numpy()).logpdf(pts.numpy())
    np.testing.assert_allclose(noise.log_prob(pts).numpy(), ref, rtol=1e-5)


def test_siamese_loss_values():
    za = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    zb = torch.tensor([[3.0, 4.0], [0.6, 0.8], [3.0, 4.0]])
    same = torch.tensor([1.0, 0.0, 0.0])
    # similar pair: D^2 = 25; dissimilar pair at D = 1 < m = 2: (2 - 1)^2; far pair: 0
    assert abs(ebm.siamese_loss(za, zb, same, margin=2.0).item() - (25 + 1 + 0) / 3) < 1e-5


def test_make_pairs_balances_similar_and_dissimilar_pairs():
    g = torch.Generator().manual_seed(4)
    labels = torch.randint(10, (4000,), generator=g)
    i, j, same = ebm.make_pairs(labels, g, p_same=0.5)
    assert torch.equal(same, (labels[i] == labels[j]).float())
    assert within_se(same.mean().item(), 0.5, 0.5 / 4000**0.5, k=6)
    assert (i != j).float().mean() > 0.99


def test_sparse_coding_inference_agrees_with_sklearn_lasso():
    from sklearn.linear_model import Lasso

    g = torch.Generator().manual_seed(5)
    sc = ebm.SparseCoding(30, 12, lam=0.3, generator=g).double()
    x = torch.randn(4, 30, generator=g, dtype=torch.float64)
    z = sc.infer(x, n_steps=3000)
    D = sc.D.numpy()
    for row, zr in zip(x.numpy(), z.numpy()):
        # sklearn minimises (1 / (2 n)) ||y - X w||^2 + alpha ||w||_1 with n = len(y)
        ref = Lasso(alpha=0.3 / 30, fit_intercept=False, tol=1e-12, max_iter=100000).fit(D, row)
        np.testing.assert_allclose(zr, ref.coef_, atol=1e-5)


def test_sparse_coding_optimality_conditions():
    g = torch.Generator().manual_seed(6)
    sc = ebm.SparseCoding(20, 40, lam=0.2, generator=g).double()
    x = torch.randn(10, 20, generator=g, dtype=torch.float64)
    z = sc.infer(x, n_steps=2000)
    grad = (x - z @ sc.D.T) @ sc.D
    on = z != 0
    assert torch.allclose(grad[on], 0.2 * z[on].sign(), atol=1e-6)
    assert (grad[~on].abs() <= 0.2 + 1e-6).all()
    assert torch.allclose(sc.free_energy(x, 2000), sc.energy(x, z))


def test_dictionary_step_lowers_the_error_and_keeps_unit_atoms():
    g = torch.Generator().manual_seed(7)
    sc = ebm.SparseCoding(16, 8, lam=0.1, generator=g)
    x = torch.rand(64, 16, generator=g)
    sc.init_from_data_(x, g)
    assert torch.allclose(sc.D.norm(dim=0), torch.ones(8), atol=1e-6)
    z = sc.infer(x)
    err0 = sc.dictionary_step(x, z, lr=0.1)
    err1 = 0.5 * ((x - z @ sc.D.T) ** 2).sum(1).mean().item()
    assert err1 < err0 and torch.allclose(sc.D.norm(dim=0), torch.ones(8), atol=1e-6)


def test_sigmoid_belief_net_is_normalised_and_samples_itself():
    g = torch.Generator().manual_seed(8)
    sbn = ebm.SigmoidBeliefNet(4, 3, generator=g).double()
    v = all_binary_states(4, torch.float64)
    p = sbn.log_prob(v).exp().detach()
    assert abs(p.sum().item() - 1) < 1e-12
    s = sbn.sample(40000, g)
    freq = torch.bincount((s @ (2.0 ** torch.arange(3, -1, -1, dtype=torch.float64))).long(),
                          minlength=16) / 40000
    assert 0.5 * (freq - p).abs().sum() < 0.02


def test_mixture_and_product_energies():
    y = torch.linspace(-10, 10, 20001, dtype=torch.float64)
    dy = (y[1] - y[0]).item()
    e1, e2 = 0.5 * y**2 + 0.5 * math.log(2 * math.pi), 0.5 * (y - 2) ** 2 + 0.5 * math.log(2 * math.pi)
    mix = torch.exp(-ebm.mixture_energy([e1, e2], [0.3, 0.7]))
    assert torch.allclose(mix, 0.3 * torch.exp(-e1) + 0.7 * torch.exp(-e2))
    prod = torch.exp(-ebm.product_energy([e1, e2]))
    prod = prod / (prod.sum() * dy)
    # N(0,1) N(2,1) is proportional to N(1, 1/2)
    ref = torch.exp(-((y - 1) ** 2)) / math.sqrt(math.pi)
    assert torch.allclose(prod, ref, atol=1e-9)


def test_two_mode_rbm_is_symmetric_and_its_exact_autocorrelation_matches_simulation():
    rbm = ebm.two_mode_rbm(6, 2.5)
    v = all_binary_states(6, torch.float64)
    p = rbm.log_prob(v).exp().detach()
    s = v.sum(1)
    p_s = torch.stack([p[s == k].sum() for k in range(7)])
    assert torch.allclose(p_s, p_s.flip(0)), "p(s) = p(n - s): two equally likely modes"
    rho = ebm.gibbs_autocorrelation(rbm, 8)
    assert rho[0].item() == pytest.approx(1.0) and (rho[1:] < rho[:-1]).all()
    # simulation: equilibrium chains (exact start), correlation of s_0 and s_k
    g = torch.Generator().manual_seed(7)
    n = 40000
    chains = v[torch.multinomial(p, n, replacement=True, generator=g)]
    s0 = chains.sum(1)
    for k in range(1, 9):
        chains = rbm.gibbs(chains, 1, generator=g)
        r = torch.corrcoef(torch.stack([s0, chains.sum(1)]))[0, 1].item()
        assert within_se(r, rho[k].item(), (1 - rho[k].item() ** 2) / n ** 0.5), (k, r, rho[k])


def test_gibbs_autocorrelation_of_an_independent_chain_vanishes():
    # with W = 0 the visible units are redrawn independently at every step: rho_k = 0
    rbm = ebm.two_mode_rbm(4, 0.0)
    rho = ebm.gibbs_autocorrelation(rbm, 3)
    assert torch.allclose(rho, torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64), atol=1e-12)


def test_gaussian_mixture_energy_is_the_negative_log_mixture_density():
    means = torch.tensor([[-1.5, 0.0], [1.0, 2.0]], dtype=torch.float64)
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    dens = sum(stats.multivariate_normal(m.numpy(), 0.49 * np.eye(2)).pdf(x.numpy()) for m in means)
    # up to the constant 2 pi s^2 of each (equal-weight) component
    want = -np.log(dens * 2 * np.pi * 0.49)
    np.testing.assert_allclose(ebm.gaussian_mixture_energy(x, means, 0.7).numpy(), want, rtol=1e-10)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: ebm.mlp([3]), ValueError, "at least an input and an output"),
    (lambda: ebm.MLPEnergy(2)(torch.zeros(3, 3)), ValueError, "x must have last dimension 2"),
    (lambda: ebm.contrastive_loss(torch.zeros(2), torch.zeros(2), alpha=-1), ValueError,
     "alpha must be >= 0"),
    (lambda: ebm.contrastive_loss(torch.zeros(2, 1), torch.zeros(2)), ValueError,
     "e_pos must have 1 dimensions"),
    (lambda: ebm.LangevinEBM("model", 2), TypeError, "model must be a torch.nn.Module"),
    (lambda: ebm.LangevinEBM(ebm.MLPEnergy(2), 2, config={}), TypeError,
     "config must be a LangevinConfig"),
    (lambda: ebm.LangevinEBM(ebm.MLPEnergy(2), 2).step(torch.zeros(3, 3)), ValueError,
     "x_pos must have last dimension 2"),
    (lambda: ebm.siamese_loss(torch.zeros(3, 2), torch.zeros(2, 2), torch.zeros(3)), ValueError,
     "must share a shape"),
    (lambda: ebm.siamese_loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), margin=0),
     ValueError, "margin must be > 0"),
    (lambda: ebm.make_pairs(torch.zeros(5), p_same=2.0), ValueError, "p_same must be a probability"),
    (lambda: ebm.SparseCoding(10, 5, lam=-1.0), ValueError, "lam must be >= 0"),
    (lambda: ebm.SparseCoding(10, 5).infer(torch.zeros(2, 9)), ValueError,
     "x must have last dimension 10"),
    (lambda: ebm.SparseCoding(10, 5).init_from_data_(torch.zeros(3, 10)), ValueError,
     "x must hold at least 5 rows"),
    (lambda: ebm.GaussianNoise(torch.zeros(2), torch.eye(3)), ValueError, "cov must have shape"),
    (lambda: ebm.GaussianEnergy(torch.zeros(2), torch.eye(3)), ValueError, "cov must have shape"),
    (lambda: ebm.GaussianNoise(torch.zeros(2), torch.eye(2)).log_prob(torch.zeros(3)), ValueError,
     "x must have 2 dimensions"),
    (lambda: ebm.SparseCoding(10, 5).dictionary_step(torch.zeros(4, 10), torch.zeros(3, 5), 0.1),
     ValueError, "z must hold one code per row of x"),
    (lambda: ebm.NCEModel(lambda x: x), TypeError, "energy must be a torch.nn.Module"),
    (lambda: ebm.score_matching_loss(lambda x: x, torch.zeros(3, 2)), ValueError,
     "energy_fn must map x of shape"),
    (lambda: ebm.score_matching_loss(lambda x: x.sum(1), torch.zeros(3)), ValueError,
     "x must have 2 dimensions"),
    (lambda: ebm.mixture_energy([torch.zeros(3)] * 2, [0.5, 0.6]), ValueError,
     "weights must be 2 non-negative numbers summing to 1"),
    (lambda: ebm.product_energy([]), ValueError, "energies must hold at least one tensor"),
    (lambda: ebm.gibbs_autocorrelation(ebm.two_mode_rbm(13), 3), ValueError,
     "at most 12 visible"),
    (lambda: ebm.gibbs_autocorrelation("rbm", 3), TypeError, "rbm must be a boltzmann.RBM"),
    (lambda: ebm.gaussian_mixture_energy(torch.zeros(3, 2), torch.zeros(2, 3), 1.0), ValueError,
     "means must have last dimension 2"),
    (lambda: ebm.gaussian_mixture_energy(torch.zeros(3, 2), torch.zeros(2, 2), 0.0), ValueError,
     "std must be > 0"),
    (lambda: ebm.SigmoidBeliefNet(3, 30), ValueError, "n_hidden must be <= 20"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ----------------------------------------------------------------------------- bad input
def _nan(*shape):
    t = torch.zeros(*shape)
    t.view(-1)[0] = float("nan")
    return t


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: ebm.mlp([3, 4, 1], "relu"), TypeError, "activation must be callable"),
    (lambda: ebm.mlp([3, 4, 1], lambda: "relu"), TypeError, "activation must build a torch.nn.Module"),
    (lambda: ebm.MLPEnergy("2"), TypeError, "in_dim must be an integer"),
    (lambda: ebm.MLPEnergy(2, hidden=0), ValueError, "hidden must be >= 1"),
    (lambda: ebm.contrastive_loss(torch.zeros(0), torch.zeros(2)), ValueError,
     "e_pos must hold at least 1 rows"),
    (lambda: ebm.contrastive_loss(torch.zeros(2), _nan(2)), ValueError, "e_neg must hold finite"),
    (lambda: ebm.LangevinConfig(step_size=float("nan")), ValueError, "step_size must be finite"),
    (lambda: ebm.LangevinConfig(n_steps="30"), TypeError, "n_steps must be an integer"),
    (lambda: ebm.LangevinConfig(reinit_prob=1.5), ValueError, "reinit_prob must be a probability"),
    (lambda: ebm.LangevinConfig(grad_clip=0.0), ValueError, "grad_clip must be > 0"),
    (lambda: ebm.LangevinEBM(ebm.MLPEnergy(2), 2, config=ebm.LangevinConfig(buffer_size=4))
     .step(torch.zeros(0, 2)), ValueError, "x_pos must hold at least 1 rows"),
    (lambda: ebm.LangevinEBM(ebm.MLPEnergy(2), 2, config=ebm.LangevinConfig(buffer_size=4))
     .step(torch.zeros(5, 2)), ValueError, "x_pos must hold at most config.buffer_size = 4"),
    (lambda: ebm.LangevinEBM(ebm.MLPEnergy(2), 2, config=ebm.LangevinConfig(buffer_size=4))
     .sample(torch.zeros(2, 2, 2)), ValueError, "x0 must have 2 dimensions"),
    (lambda: ebm.contrastive_backprop_loss(ebm.MLPEnergy(2), torch.zeros(3, 2), n_steps=1,
                                           step_size=0.1, alpha=float("inf")),
     ValueError, "alpha must be finite"),
    (lambda: ebm.GaussianNoise(torch.zeros(0), torch.eye(2)), ValueError, "mean must not be empty"),
    (lambda: ebm.GaussianNoise(torch.zeros(2), torch.tensor([[1.0, 2.0], [2.0, 1.0]])), ValueError,
     "cov must be positive definite"),
    (lambda: ebm.GaussianEnergy(torch.zeros(2), torch.tensor([[1.0, 0.5], [0.0, 1.0]])), ValueError,
     "cov must be symmetric"),
    (lambda: ebm.GaussianEnergy(torch.zeros(2), _nan(2, 2)), ValueError, "cov must hold finite"),
    (lambda: ebm.NCEModel(torch.nn.Linear(2, 1)).log_prob(torch.zeros(3, 2)), ValueError,
     "energy must map x of shape"),
    (lambda: ebm.make_pairs(torch.tensor([0, 1, 0, 1]), generator="gen"), TypeError,
     "generator must be a torch.Generator"),
    (lambda: ebm.siamese_loss(torch.zeros(2, 2), torch.zeros(2, 2), torch.tensor([0.5, 1.0])),
     ValueError, "same must hold only 0 and 1"),
    (lambda: ebm.siamese_loss(torch.zeros(2, 2), torch.zeros(2, 2), [1, 0]), TypeError,
     "same must be a torch.Tensor"),
    (lambda: ebm.siamese_loss(torch.zeros(0, 2), torch.zeros(0, 2), torch.zeros(0)), ValueError,
     "z_a must hold at least 1 rows"),
    (lambda: ebm.SparseCoding(5, 3).energy(torch.zeros(4, 5), torch.zeros(1, 3)), ValueError,
     "z must hold one code per row of x"),
    (lambda: ebm.SparseCoding(5, 3).infer(torch.zeros(4, 5), z0=torch.zeros(2, 3)), ValueError,
     "z0 must hold one code per row of x"),
    (lambda: ebm.SparseCoding(5, 3, generator="gen"), TypeError, "generator must be a torch.Generator"),
    (lambda: ebm.SigmoidBeliefNet(3, 2, init_std=float("nan")), ValueError, "init_std must be finite"),
    (lambda: ebm.SigmoidBeliefNet(3, 2).log_prob(torch.full((2, 3), 0.5)), ValueError,
     "v must hold binary states"),
    (lambda: ebm.product_energy([torch.zeros(3), torch.zeros(4)]), ValueError,
     "energies must all have one shape"),
    (lambda: ebm.product_energy([torch.zeros(3), _nan(3)]), ValueError, r"energies\[1\] must hold no NaN"),
    (lambda: ebm.mixture_energy([torch.zeros(3)] * 2, [float("nan"), 1.0]), ValueError,
     r"weights\[0\] must be finite"),
    (lambda: ebm.gaussian_mixture_energy(torch.zeros(3, 2), torch.zeros(0, 2), 1.0), ValueError,
     "means must hold at least 1 rows"),
    (lambda: ebm.gibbs_autocorrelation(ebm.two_mode_rbm(3), 2, statistic="sum"), TypeError,
     "statistic must be callable"),
    (lambda: ebm.gibbs_autocorrelation(ebm.two_mode_rbm(3), 2, statistic=lambda v: v), ValueError,
     r"statistic must map states \(N, D\) to values \(N,\)"),
])
def test_bad_input_ebm_refuses_with_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bad_input_a_config_changed_after_it_was_made_is_checked_again():
    cfg = ebm.LangevinConfig(n_steps=2, buffer_size=4)
    model = ebm.LangevinEBM(ebm.MLPEnergy(2, hidden=4), 2, config=cfg)
    cfg.step_size = -1.0
    with pytest.raises(ValueError, match="config.step_size must be > 0"):
        model.step(torch.zeros(2, 2))


def test_bad_input_integer_likes_are_accepted_and_infinite_energies_are_valid():
    assert ebm.MLPEnergy(np.int64(2), hidden=np.int32(4))(torch.zeros(3, 2)).shape == (3,)
    assert ebm.LangevinConfig(n_steps=np.int64(3)).n_steps == 3
    assert ebm.two_mode_rbm(np.int64(4)).n_visible == 4
    assert ebm.SparseCoding(5, 3).infer(torch.zeros(2, 5), n_steps=np.int64(3)).shape == (2, 3)
    # +inf is the energy of an impossible state: a product with it is impossible too
    inf = torch.tensor([0.0, math.inf])
    assert torch.equal(ebm.product_energy([inf, torch.ones(2)]), torch.tensor([1.0, math.inf]))
    assert ebm.mixture_energy([inf, torch.zeros(2)])[1].item() == pytest.approx(math.log(2))
