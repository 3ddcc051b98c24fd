import math

import pytest
import torch
from torch import nn

from companion import data, gan, training
from companion.seeding import seed_everything


@pytest.fixture
def one_thread():
    """The networks in these tests are tiny: one thread avoids the synchronisation cost."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ----------------------------------------------------------------------------- losses

def test_discriminator_loss_matches_hand_computed_values():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 3.0])
    # -mean log sigmoid(l_real) - mean log(1 - sigmoid(l_fake))
    expected = (-(math.log(0.5) + math.log(1 / (1 + math.exp(-2)))) / 2
                - (math.log(1 - 1 / (1 + math.exp(1))) + math.log(1 - 1 / (1 + math.exp(-3)))) / 2)
    assert gan.discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_discriminator_loss_is_stable_for_huge_logits():
    # a confident, correct discriminator: loss ~ 0; a confident, wrong one: loss = |logit|
    right = gan.discriminator_loss(torch.tensor([200.0]), torch.tensor([-200.0]))
    wrong = gan.discriminator_loss(torch.tensor([-200.0]), torch.tensor([300.0]))
    assert right.item() == pytest.approx(0.0, abs=1e-30)
    assert wrong.item() == pytest.approx(500.0, rel=1e-6)    # no clamping at 100 per term


def test_generator_losses_match_hand_computed_values():
    logits = torch.tensor([-2.0, 0.5, 4.0], dtype=torch.float64)
    d = [1 / (1 + math.exp(-v)) for v in logits.tolist()]
    sat = sum(math.log(1 - di) for di in d) / 3
    ns = -sum(math.log(di) for di in d) / 3
    assert gan.saturating_generator_loss(logits).item() == pytest.approx(sat, rel=1e-12)
    assert gan.nonsaturating_generator_loss(logits).item() == pytest.approx(ns, rel=1e-12)
    assert gan.generator_loss(logits, "saturating").item() == pytest.approx(sat, rel=1e-12)
    assert gan.generator_loss(logits).item() == pytest.approx(ns, rel=1e-12)


def test_generator_loss_gradients_match_closed_forms():
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l);  d/dl -log sigmoid(l) = -(1 - sigmoid(l))
    logits = torch.linspace(-30, 30, 61, dtype=torch.float64, requires_grad=True)
    n = logits.shape[0]
    (g_sat,) = torch.autograd.grad(n * gan.saturating_generator_loss(logits), logits)
    (g_ns,) = torch.autograd.grad(n * gan.nonsaturating_generator_loss(logits), logits)
    s = torch.sigmoid(logits.detach())
    assert torch.allclose(g_sat, -s, rtol=1e-12, atol=1e-300)
    assert torch.allclose(g_ns, -(1 - s), rtol=1e-12, atol=1e-300)
    # where the discriminator rejects the samples (l << 0) the saturating gradient vanishes
    assert g_sat[0].abs() < 1e-12 and g_ns[0].abs() > 0.999


def test_discriminator_loss_is_the_binary_cross_entropy_of_sigmoid(gen):
    real = torch.randn(50, generator=gen, dtype=torch.float64)
    fake = torch.randn(40, generator=gen, dtype=torch.float64)
    bce = nn.BCELoss()
    expected = bce(torch.sigmoid(real), torch.ones(50, dtype=torch.float64)) + bce(
        torch.sigmoid(fake), torch.zeros(40, dtype=torch.float64))
    assert torch.allclose(gan.discriminator_loss(real, fake), expected, rtol=1e-12)


# ------------------------------------------------------------- optimal discriminator

def _normal_pdf(x, mu, sd):
    return torch.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def test_optimal_discriminator_minimises_the_expected_loss():
    # the expected loss is int p_data(x) softplus(-l(x)) + p_g(x) softplus(l(x)) dx: for a
    # free logit l(x) it is minimised point by point, and each term is convex in l
    x = torch.linspace(-4, 6, 41, dtype=torch.float64)
    p_data, p_g = _normal_pdf(x, 0.0, 1.0), _normal_pdf(x, 2.0, 1.5)
    d_star = gan.optimal_discriminator(p_data, p_g)
    l_star = torch.logit(d_star).requires_grad_(True)

    def pointwise(l):
        return p_data * nn.functional.softplus(-l) + p_g * nn.functional.softplus(l)

    (grad,) = torch.autograd.grad(pointwise(l_star).sum(), l_star)
    assert grad.abs().max() < 1e-15                            # stationary ...
    l_grid = torch.linspace(-15, 15, 30001, dtype=torch.float64)[:, None]   # ... and the minimum
    best = l_grid[pointwise(l_grid).argmin(dim=0), 0]
    assert (torch.sigmoid(best) - d_star).abs().max() < 1e-3


def test_a_trained_discriminator_approaches_the_optimal_one(gen, one_thread):
    # data N(0, 1), generator N(1.5, 1): log D*/(1 - D*) = log p_data - log p_g is linear in
    # x, so a logistic regression (one linear unit) can represent D* exactly
    G = nn.Linear(1, 1)
    with torch.no_grad():
        G.weight.fill_(1.0), G.bias.fill_(1.5)
    D = nn.Sequential(nn.Linear(1, 1), nn.Flatten(0))
    opt = torch.optim.Adam(D.parameters(), lr=0.05)
    for _ in range(400):
        x_real = torch.randn(4096, 1, generator=gen)
        z = torch.randn(4096, 1, generator=gen)
        gan.discriminator_step(G, D, opt, x_real, z)
    xs = torch.linspace(-2, 3.5, 23)[:, None]
    d_star = gan.optimal_discriminator(_normal_pdf(xs, 0.0, 1.0), _normal_pdf(xs, 1.5, 1.0))
    with torch.no_grad():
        d_learned = torch.sigmoid(D(xs))
    assert (d_learned - d_star.flatten()).abs().max() < 0.03
    # the true logit is -1.5 x + 1.125
    assert D[0].weight.item() == pytest.approx(-1.5, abs=0.1)
    assert D[0].bias.item() == pytest.approx(1.125, abs=0.1)


def test_at_the_global_optimum_the_discriminator_says_one_half():
    p = _normal_pdf(torch.linspace(-3, 3, 7, dtype=torch.float64), 0.0, 1.0)
    assert torch.allclose(gan.optimal_discriminator(p, p), torch.full_like(p, 0.5))


def test_jensen_shannon_against_scipy_and_its_extremes(gen):
    from scipy.spatial.distance import jensenshannon

    p = torch.rand(3, 6, generator=gen, dtype=torch.float64)
    q = torch.rand(3, 6, generator=gen, dtype=torch.float64)
    p, q = p / p.sum(1, keepdim=True), q / q.sum(1, keepdim=True)
    # scipy returns the Jensen-Shannon *distance*, the square root of the divergence
    expected = torch.tensor([jensenshannon(a, b) ** 2 for a, b in zip(p.numpy(), q.numpy())])
    assert torch.allclose(gan.jensen_shannon(p, q), expected.double(), rtol=1e-10)
    assert gan.jensen_shannon(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])).item() == \
        pytest.approx(math.log(2))
    # densities on a grid: two Gaussians, against a grid twice as fine
    def jsd(n):
        x = torch.linspace(-12, 12, n, dtype=torch.float64)
        return gan.jensen_shannon(_normal_pdf(x, 0.0, 1.0), _normal_pdf(x, 1.0, 2.0),
                                  (x[1] - x[0]).item()).item()
    assert jsd(4001) == pytest.approx(jsd(8001), rel=1e-9)


# ---------------------------------------------------------------------------- networks

def test_dcgan_shapes_at_28x28(one_thread):
    G, D = gan.DCGenerator(nz=10, ngf=8), gan.DCDiscriminator(ndf=8)
    sizes = []
    for m in list(G.main) + list(D.main):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.register_forward_hook(lambda mod, inp, out: sizes.append(tuple(out.shape[1:])))
    x = G(torch.randn(5, 10))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1                      # Tanh
    assert G(torch.randn(5, 10, 1, 1)).shape == (5, 1, 28, 28)
    sizes.clear()
    G(torch.randn(2, 10))
    D(torch.randn(2, 1, 28, 28))
    assert sizes == [(32, 7, 7), (16, 14, 14), (1, 28, 28), (8, 14, 14), (16, 7, 7), (1, 1, 1)]
    assert D(x).shape == (5,)
    assert torch.allclose(D.energy(x), -D(x))


def test_mlp_pair_shapes_and_energy():
    G, D = gan.MLPGenerator(3, 2, hidden=16), gan.MLPDiscriminator(2, hidden=16)
    x = G(torch.randn(7, 3))
    assert x.shape == (7, 2) and D(x).shape == (7,)
    assert torch.allclose(D.energy(x), -D(x))


def test_dcgan_init_sets_the_papers_statistics(gen):
    G = gan.dcgan_init_(gan.DCGenerator(nz=64, ngf=32), gen)
    w = G.main[3].weight                                       # 128 x 64 x 4 x 4 weights
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.02)
    bn = G.main[1]
    assert bn.bias.abs().max() == 0 and (bn.weight - 1).std().item() == pytest.approx(0.02, rel=0.3)


def test_sample_uses_eval_mode_and_restores_training_mode(gen):
    G = gan.DCGenerator(nz=4, ngf=4).train()
    z = gan.sample_noise(3, 4, gen)
    x = gan.sample(G, z)
    assert G.training and not x.requires_grad
    with torch.no_grad():
        assert torch.allclose(x, G.eval()(z))


def test_noise_is_reproducible_and_shaped():
    a = gan.sample_noise(4, (3, 1, 1), seed_everything(5))
    b = gan.sample_noise(4, (3, 1, 1), seed_everything(5))
    assert a.shape == (4, 3, 1, 1) and torch.equal(a, b)


def test_pixel_range_conversions_are_inverse(gen):
    x = torch.rand(3, 1, 28, 28, generator=gen)
    y = gan.to_tanh_range(x)
    assert y.min() >= -1 and y.max() <= 1
    assert torch.allclose(gan.to_pixels(y), x)


# ----------------------------------------------------------------------------- EBGAN

def test_ebgan_margin_loss_values():
    e_real, e_fake = torch.tensor([0.5, 1.5]), torch.tensor([0.2, 3.0])
    # mean(0.5, 1.5) + mean(max(0, 1 - 0.2), max(0, 1 - 3))
    assert gan.ebgan_discriminator_loss(e_real, e_fake, margin=1.0).item() == pytest.approx(1.4)
    e_fake = torch.tensor([0.2, 3.0], requires_grad=True)
    gan.ebgan_discriminator_loss(e_real, e_fake, margin=1.0).backward()
    # samples above the margin no longer push: zero gradient for the second one
    assert torch.equal(e_fake.grad, torch.tensor([-0.5, 0.0]))
    assert gan.ebgan_generator_loss(torch.tensor([0.2, 3.0])).item() == pytest.approx(1.6)


def test_autoencoder_energy_is_the_reconstruction_error(gen):
    D = gan.AutoencoderDiscriminator(3, hidden=8, code_dim=2)
    x = torch.randn(6, 3, generator=gen)
    e, s = D.energy_and_code(x)
    assert s.shape == (6, 2)
    assert torch.allclose(e, ((D.dec(D.enc(x)) - x) ** 2).sum(1).sqrt())
    assert torch.allclose(D(x), e) and (e >= 0).all()


def test_pulling_away_term_against_a_double_loop(gen):
    s = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    total = 0.0
    for i in range(5):
        for j in range(5):
            if i != j:
                total += (s[i] @ s[j] / (s[i].norm() * s[j].norm())).item() ** 2
    assert gan.pulling_away_term(s).item() == pytest.approx(total / 20, rel=1e-12)
    same = torch.ones(4, 3)
    assert gan.pulling_away_term(same).item() == pytest.approx(1.0)        # collapse
    assert gan.pulling_away_term(torch.eye(3)).item() == pytest.approx(0.0)  # orthogonal
    loss = gan.ebgan_generator_loss(torch.tensor([1.0, 2.0]), torch.eye(2), pt_weight=0.1)
    assert loss.item() == pytest.approx(1.5)


# ------------------------------------------------------------------------------ WGAN

def test_weight_clipping_and_the_lipschitz_bound(gen):
    critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.ReLU(),
                           nn.Linear(16, 1))
    gan.clip_weights_(critic, 0.05)
    assert all(p.abs().max() <= 0.05 for p in critic.parameters())
    bound = gan.lipschitz_bound(critic)
    # each layer's spectral norm is at most its Frobenius norm, at most c sqrt(n_in n_out)
    assert bound <= 0.05**3 * math.sqrt(2 * 16) * 16 * math.sqrt(16) + 1e-12
    x = (4 * torch.randn(2000, 2, generator=gen)).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x)
    assert g.norm(dim=1).max().item() <= bound * (1 + 1e-6)
    assert gan.wgan_critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([5.0])).item() == -3.0


def test_gradient_penalty_of_a_linear_and_a_quadratic_critic(gen):
    # f(x) = w.x + b has gradient w everywhere: the penalty is (|w| - 1)^2, and its gradient
    # with respect to w (through create_graph) is 2 (|w| - 1) w / |w|
    lin = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0)).double()
    x_r = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    x_f = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    gp = gan.gradient_penalty(lin, x_r, x_f, generator=gen)
    w = lin[0].weight.detach().flatten()
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-12)
    (dw,) = torch.autograd.grad(gp, lin[0].weight)
    assert torch.allclose(dw.flatten(), 2 * (w.norm() - 1) * w / w.norm(), rtol=1e-10)

    # f(x) = |x|^2 / 2 has gradient x: the penalty is the mean of (|x_hat| - 1)^2 at the
    # interpolates x_hat = eps x_r + (1 - eps) x_f
    class Half(nn.Module):
        def forward(self, x):
            return 0.5 * (x ** 2).sum(1)

    eps = torch.rand(20, generator=gen, dtype=torch.float64)
    x_hat = eps[:, None] * x_r + (1 - eps[:, None]) * x_f
    expected = ((x_hat.norm(dim=1) - 1) ** 2).mean()
    assert gan.gradient_penalty(Half(), x_r, x_f, eps).item() == pytest.approx(expected.item(),
                                                                               rel=1e-12)


def test_the_gradient_penalty_critic_estimates_the_wasserstein_distance(one_thread):
    # data N(2, 0.1^2), samples N(-2, 0.1^2): W1 = 4. On the segment between them a critic of
    # slope s earns a gap of 4 s and pays lambda (s - 1)^2, so the penalised optimum has
    # s = 1 + 2 / lambda and gap 4 + 8 / lambda (4.8 for lambda = 10), not 4 exactly
    gen = seed_everything(0)
    x_r = 2 + 0.1 * torch.randn(512, 1, generator=gen)
    x_f = -2 + 0.1 * torch.randn(512, 1, generator=gen)
    critic = gan.MLPDiscriminator(1, hidden=32)
    gan.train_critic(critic, x_r, x_f, 400, lr=2e-3, gp_weight=10.0, optimizer="adam",
                     generator=gen)
    with torch.no_grad():
        gap = (critic(x_r).mean() - critic(x_f).mean()).item()
    assert gap == pytest.approx(4.8, rel=0.08)
    # a clipped critic's gap is bounded by its Lipschitz bound times W1
    clipped = gan.MLPDiscriminator(1, hidden=32)
    gan.train_critic(clipped, x_r, x_f, 100, lr=1e-2, clip=0.05, generator=gen)
    assert all(p.abs().max() <= 0.05 for p in clipped.parameters())
    with torch.no_grad():
        gap_c = (clipped(x_r).mean() - clipped(x_f).mean()).item()
    assert 0 < gap_c <= gan.lipschitz_bound(clipped.net) * 4.1


def test_layer_gradient_norms_against_products_of_weights(gen):
    # without activations the gradient of f with respect to layer l's input is the product
    # of the later weight matrices, W_L ... W_l (a row vector), the same for every point
    net = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 4), nn.Linear(4, 1)).double()
    x = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    w = [m.weight.detach() for m in net]
    expected = [(w[2] @ w[1] @ w[0]).norm().item(), (w[2] @ w[1]).norm().item(), w[2].norm().item()]
    assert gan.layer_gradient_norms(net, x) == pytest.approx(expected, rel=1e-12)
    # with LeakyReLU: the first entry is the mean norm of the input gradient, by autograd
    leaky = gan.MLPDiscriminator(3, hidden=6, n_hidden_layers=3).double()
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(leaky(xg).sum(), xg)
    norms = gan.layer_gradient_norms(leaky.net, x)
    assert len(norms) == 4 and norms[0] == pytest.approx(g.norm(dim=1).mean().item(), rel=1e-12)


def test_clipped_deep_critics_vanish_or_explode_and_the_penalised_one_does_not(one_thread):
    gen = torch.Generator().manual_seed(0)
    x_r, x_f = data.ring_of_gaussians(128, gen), 0.3 * torch.randn(128, 2, generator=gen)
    small = gan.critic_gradient_profile(x_r, x_f, clip=0.001, depth=6, n_steps=20, generator=gen)
    large = gan.critic_gradient_profile(x_r, x_f, clip=0.3, depth=6, n_steps=20, generator=gen)
    penal = gan.critic_gradient_profile(x_r, x_f, gp_weight=10.0, depth=6, n_steps=60, lr=1e-3,
                                        generator=gen)
    # every weight of the last layer sits at +-c: its gradient norm is c sqrt(width)
    assert small[-1] == pytest.approx(0.001 * math.sqrt(32), rel=1e-4)
    assert large[-1] == pytest.approx(0.3 * math.sqrt(32), rel=0.05)
    assert all(a < b for a, b in zip(small, small[1:]))           # shrinks towards the input
    assert small[0] < 1e-12 and large[0] > 1e3
    assert all(0.2 < v < 5 for v in penal)
    # the experiment's weight norms: a matrix of +-c entries lies between the random-sign
    # value and the aligned bound n c (n = 32)
    out = gan.clipping_experiment([0.001, 0.3], gp_weight=None, n_points=64)
    assert out["gp"] is None and set(out["clip"]) == {0.001, 0.3}
    for ratios in out["weight_norm"].values():
        assert len(ratios) == 7 and all(5 < r <= 32 * (1 + 1e-5) for r in ratios)
    assert min(out["weight_norm"][0.3]) > 25 > max(out["weight_norm"][0.001])   # aligned by training


def test_inception_score_against_scipy_and_its_extremes(gen):
    from scipy.stats import entropy

    p = torch.softmax(2 * torch.randn(30, 4, generator=gen, dtype=torch.float64), dim=1)
    marginal = p.mean(0).numpy()
    expected = math.exp(sum(entropy(row, marginal) for row in p.numpy()) / 30)
    assert gan.inception_score(p) == pytest.approx(expected, rel=1e-10)
    assert gan.inception_score(torch.eye(5).repeat(3, 1)) == pytest.approx(5.0)  # balanced
    assert gan.inception_score(p[:1].repeat(10, 1)) == pytest.approx(1.0)        # all the same


def test_a_wgan_trainer_keeps_its_critic_clipped_and_records_the_penalty(gen):
    G, D = gan.MLPGenerator(2, 2, 8), gan.MLPDiscriminator(2, 8)
    tr = gan.GANTrainer(G, D, 2, kind="wgan", clip=0.02, optimizer="rmsprop", d_steps=2,
                        generator=gen)
    assert all(p.abs().max() <= 0.02 for p in D.parameters())
    for _ in range(3):
        out = tr.step(data.ring_of_gaussians(32, gen))
    assert all(p.abs().max() <= 0.02 for p in D.parameters()) and out["gp"] == 0.0
    D2 = gan.MLPDiscriminator(2, 8)
    tr2 = gan.GANTrainer(G, D2, 2, kind="wgan", gp_weight=1.0, generator=gen)
    out = tr2.step(data.ring_of_gaussians(32, gen))
    assert out["gp"] > 0 and math.isfinite(out["g_loss"])
    assert torch.allclose(tr2.energy(torch.zeros(1, 2)), -D2(torch.zeros(1, 2)))


# --------------------------------------------------------------------- training steps

def test_each_step_moves_only_its_own_player(gen):
    G, D = gan.MLPGenerator(2, 2, 8), gan.MLPDiscriminator(2, 8)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    x, z = torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen)
    g0 = [p.clone() for p in G.parameters()]
    d0 = [p.clone() for p in D.parameters()]
    gan.discriminator_step(G, D, opt_d, x, z)
    assert all(torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))
    d1 = [p.clone() for p in D.parameters()]
    out = gan.generator_step(G, D, opt_g, z)
    assert all(torch.equal(a, b) for a, b in zip(d1, D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    assert out["g_grad_norm"] > 0


def test_generator_gradient_norms_differ_by_the_logit_derivative(gen):
    # one sample: both losses back-propagate the same vector, scaled by -D and -(1 - D)
    G, D = gan.MLPGenerator(2, 2, 8).double(), gan.MLPDiscriminator(2, 8).double()
    z = torch.randn(1, 2, generator=gen, dtype=torch.float64)
    d = torch.sigmoid(D(G(z))).item()
    sat = gan.generator_gradient_norm(G, D, z, "saturating")
    ns = gan.generator_gradient_norm(G, D, z, "nonsaturating")
    assert sat / ns == pytest.approx(d / (1 - d), rel=1e-10)
    # nothing is changed or left behind, and it agrees with generator_step's record
    before = [p.clone() for p in G.parameters()]
    assert all(p.grad is None for p in list(G.parameters()) + list(D.parameters()))
    out = gan.generator_step(G, D, torch.optim.SGD(G.parameters(), lr=0.0), z)
    assert out["g_grad_norm"] == pytest.approx(ns, rel=1e-10)
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))


def test_a_small_discriminator_step_lowers_its_loss(gen):
    G, D = gan.MLPGenerator(2, 2, 8), gan.MLPDiscriminator(2, 8)
    opt = torch.optim.SGD(D.parameters(), lr=1e-3)
    x, z = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen)
    before = gan.discriminator_step(G, D, opt, x, z)["d_loss"]
    with torch.no_grad():
        after = gan.discriminator_loss(D(x), D(G(z))).item()
    assert after < before


def test_a_gan_learns_a_one_dimensional_gaussian(one_thread):
    # data N(3, 0.5^2); a linear generator G(z) = a z + b started at a = 0.05, b = 0
    gen = seed_everything(0)
    x = 3.0 + 0.5 * torch.randn(4096, 1, generator=gen)
    G = nn.Linear(1, 1)
    with torch.no_grad():
        G.weight.fill_(0.05), G.bias.fill_(0.0)
    D = gan.MLPDiscriminator(1, hidden=16, n_hidden_layers=1)
    tr = gan.GANTrainer(G, D, 1, lr_g=5e-3, lr_d=5e-3, n_fixed=4000, generator=gen)
    training.fit(tr.step, None, x, batch_size=128, n_steps=1000, generator=gen, progress=False)
    s = gan.sample(G, tr.fixed_noise)
    assert s.mean().item() == pytest.approx(3.0, abs=0.15)
    assert s.std().item() == pytest.approx(0.5, abs=0.15)


def test_trainer_records_energy_moves(gen):
    G, D = gan.MLPGenerator(2, 2, 8), gan.MLPDiscriminator(2, 8)
    tr = gan.GANTrainer(G, D, 2, track_energy=True, generator=gen, d_steps=2)
    out = tr.step(data.ring_of_gaussians(32, gen))
    for key in ["loss", "e_real", "e_fake", "e_gen", "d_moves_e_real", "d_moves_e_fake",
                "g_moves_e_gen", "g_grad_norm"]:
        assert key in out and math.isfinite(out[key])
    eb = gan.GANTrainer(G, gan.AutoencoderDiscriminator(2, 8, 4), 2, kind="ebgan",
                        pt_weight=0.1, generator=gen)
    assert math.isfinite(eb.step(data.ring_of_gaussians(32, gen))["loss"])


# ------------------------------------------------------------------- the bilinear game

@pytest.mark.parametrize("lr", [0.05, 0.3, 1.0])
def test_simultaneous_steps_grow_the_distance_by_sqrt_one_plus_lr_squared(lr):
    path = gan.bilinear_game(1.0, 0.5, lr, 50, "simultaneous")
    r = path.norm(dim=1)
    assert torch.allclose(r[1:] / r[:-1], torch.full((50,), math.sqrt(1 + lr**2),
                                                     dtype=torch.float64), rtol=1e-12)


@pytest.mark.parametrize("lr", [0.05, 0.3, 1.0])
def test_alternating_steps_conserve_a_quadratic_form(lr):
    # the alternating map has determinant 1 and keeps x^2 + y^2 - lr x y fixed
    path = gan.bilinear_game(1.0, 0.5, lr, 2000, "alternating")
    q = path[:, 0] ** 2 + path[:, 1] ** 2 - lr * path[:, 0] * path[:, 1]
    assert torch.allclose(q, q[0].expand_as(q), rtol=1e-9)
    assert path.norm(dim=1).max() < 3 * path[0].norm()


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, exc, msg", [
    (lambda: gan.discriminator_loss(torch.zeros(2, 1), torch.zeros(2)), ValueError,
     "logits_real must have 1 dimensions"),
    (lambda: gan.discriminator_loss(torch.zeros(2), torch.zeros(2, dtype=torch.long)), TypeError,
     "logits_fake must be a floating-point tensor"),
    (lambda: gan.generator_loss(torch.zeros(2), "minimax"), ValueError, "kind must be one of"),
    (lambda: gan.saturating_generator_loss([0.0]), TypeError, "logits_fake must be a torch.Tensor"),
    (lambda: gan.optimal_discriminator(torch.ones(3), torch.ones(2)), ValueError,
     "must share a shape"),
    (lambda: gan.optimal_discriminator(torch.zeros(2), torch.zeros(2)), ValueError,
     "must be densities"),
    (lambda: gan.MLPGenerator(0), ValueError, "latent_dim must be >= 1"),
    (lambda: gan.MLPGenerator(2)(torch.zeros(3, 3)), ValueError, "z must have last dimension 2"),
    (lambda: gan.MLPDiscriminator(2)(torch.zeros(3)), ValueError, "x must have 2 dimensions"),
    (lambda: gan.DCGenerator(nz=8)(torch.zeros(2, 9)), ValueError, r"z must have shape \(B, 8\)"),
    (lambda: gan.DCDiscriminator()(torch.zeros(2, 1, 64, 64)), ValueError,
     r"x must have shape \(B, 1, 28, 28\)"),
    (lambda: gan.DCGenerator(ngf=2.5), TypeError, "ngf must be an integer"),
    (lambda: gan.to_tanh_range(torch.full((2,), 2.0)), ValueError, "pixel values in"),
    (lambda: gan.sample_noise(0, 2), ValueError, "n must be >= 1"),
    (lambda: gan.sample_noise(2, 2, generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: gan.sample_noise(2, ()), ValueError, "latent_shape must hold at least one"),
    (lambda: gan.sample("G", torch.zeros(2, 2)), TypeError, "G must be a torch.nn.Module"),
    (lambda: gan.ebgan_discriminator_loss(torch.zeros(2), torch.zeros(2), margin=0), ValueError,
     "margin must be > 0"),
    (lambda: gan.ebgan_generator_loss(torch.zeros(2), pt_weight=0.5), ValueError,
     "s_fake"),
    (lambda: gan.pulling_away_term(torch.zeros(1, 3)), ValueError, "s must hold at least 2 rows"),
    (lambda: gan.clip_weights_(nn.Linear(2, 2), -1), ValueError, "c must be > 0"),
    (lambda: gan.lipschitz_bound(nn.Sequential(nn.Linear(2, 2), nn.Tanh())), TypeError,
     "only Linear, ReLU and LeakyReLU"),
    (lambda: gan.discriminator_step(gan.MLPGenerator(), gan.MLPDiscriminator(), "adam",
                                    torch.zeros(2, 2), torch.zeros(2, 2)), TypeError,
     "optimizer must be a torch.optim.Optimizer"),
    (lambda: gan.generator_step(gan.MLPGenerator(), gan.MLPDiscriminator(),
                                torch.optim.SGD(gan.MLPGenerator().parameters(), lr=0.1),
                                torch.zeros(2, 2), kind="wasserstein"), ValueError,
     "kind must be one of"),
    (lambda: gan.ebgan_discriminator_step(gan.MLPGenerator(), gan.MLPDiscriminator(),
                                          torch.optim.SGD(gan.MLPGenerator().parameters(), lr=1),
                                          torch.zeros(2, 2), torch.zeros(2, 2), 1.0), TypeError,
     "D must be an AutoencoderDiscriminator"),
    (lambda: gan.GANTrainer(gan.MLPGenerator(), gan.MLPDiscriminator(), 2, kind="ebgan"),
     TypeError, "D must be an AutoencoderDiscriminator when kind='ebgan'"),
    (lambda: gan.GANTrainer(gan.MLPGenerator(), gan.MLPDiscriminator(), 2, betas=(0.5, 1.0)),
     ValueError, "betas must be a pair of numbers in"),
    (lambda: gan.generator_gradient_norm(gan.MLPGenerator(), gan.MLPDiscriminator(),
                                         torch.zeros(2, 2), kind="minimax"), ValueError,
     "kind must be one of"),
    (lambda: gan.generator_gradient_norm(gan.MLPGenerator(), gan.MLPDiscriminator(), [0.0]),
     TypeError, "z must be a torch.Tensor"),
    (lambda: gan.GANTrainer(gan.MLPGenerator(), gan.MLPDiscriminator(), 2, d_steps=0),
     ValueError, "d_steps must be >= 1"),
    (lambda: gan.GANTrainer(gan.MLPGenerator(), gan.MLPDiscriminator(), 2, lr_d=-1.0),
     ValueError, "lr_d must be > 0"),
    (lambda: gan.bilinear_game(1.0, 1.0, 0.1, 5, mode="leapfrog"), ValueError,
     "mode must be one of"),
    (lambda: gan.bilinear_game(1.0, 1.0, 0.0, 5), ValueError, "lr must be > 0"),
    (lambda: gan.gradient_penalty(nn.Linear(2, 1), torch.zeros(3, 2), torch.zeros(4, 2)),
     ValueError, "x_real and x_fake must share a shape"),
    (lambda: gan.gradient_penalty(nn.Linear(2, 1), torch.zeros(3, 2), torch.zeros(3, 2),
                                  eps=torch.zeros(2)), ValueError, "eps must hold one value"),
    (lambda: gan.layer_gradient_norms(nn.Linear(2, 1), torch.zeros(3, 2)), TypeError,
     "net must be a torch.nn.Sequential"),
    (lambda: gan.layer_gradient_norms(nn.Sequential(nn.ReLU()), torch.zeros(3, 2)), ValueError,
     "at least one nn.Linear"),
    (lambda: gan.inception_score(torch.ones(3, 2)), ValueError, "probability vectors"),
    (lambda: gan.jensen_shannon(torch.ones(3), torch.ones(2)), ValueError, "must share a shape"),
    (lambda: gan.critic_gradient_profile(torch.zeros(3, 2), torch.zeros(3, 2)), ValueError,
     "exactly one of clip and gp_weight"),
    (lambda: gan.train_critic(nn.Linear(2, 1), torch.zeros(3, 2), torch.zeros(3, 2), 5, lr=0.1,
                              optimizer="sgd"), ValueError, "optimizer must be one of"),
    (lambda: gan.GANTrainer(gan.MLPGenerator(), gan.MLPDiscriminator(), 2, clip=0.01), ValueError,
     "clip and gp_weight are for kind='wgan'"),
    (lambda: gan.wgan_critic_step(gan.MLPGenerator(), gan.MLPDiscriminator(),
                                  torch.optim.SGD(gan.MLPDiscriminator().parameters(), lr=1),
                                  torch.zeros(2, 2), torch.zeros(2, 2), clip=-1.0), ValueError,
     "clip must be > 0"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------------- bad input found by tests/bad_input

def _players():
    return gan.MLPGenerator(2, 2, hidden=8), gan.MLPDiscriminator(2, hidden=8)


def test_bad_input_steps_name_the_batch_not_the_network_inside():
    G, D = _players()
    opt = torch.optim.SGD(D.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"x_real must have shape \(B, 2\) to fit D"):
        gan.discriminator_step(G, D, opt, torch.zeros(2, 4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="x_real must hold finite values"):
        gan.wgan_critic_step(G, D, opt, torch.tensor([[float("nan"), 0.0]]), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="z must hold at least 1 rows"):
        gan.generator_step(G, D, torch.optim.SGD(G.parameters(), lr=0.1), torch.zeros(0, 2))
    with pytest.raises(ValueError, match=r"x_real must have shape \(B, 1, 28, 28\)"):
        gan.GANTrainer(gan.DCGenerator(nz=4, ngf=2), gan.DCDiscriminator(ndf=2), 4).step(
            torch.zeros(2, 2, 1, 28, 28))


def test_bad_input_a_generator_whose_samples_do_not_fit_the_discriminator():
    G, D = gan.MLPGenerator(2, 3, hidden=8), gan.MLPDiscriminator(2, hidden=8)
    with pytest.raises(ValueError, match=r"G makes samples of shape \(3,\) but D takes"):
        gan.GANTrainer(G, D, 2)
    with pytest.raises(ValueError, match="latent_shape must be the shape of G's input"):
        gan.GANTrainer(gan.MLPGenerator(2, 2, hidden=8), D, 3)


def test_bad_input_ebgan_generator_loss_checks_s_fake_by_name():
    with pytest.raises(ValueError, match="s_fake must hold at least 2 rows"):
        gan.ebgan_generator_loss(torch.ones(1), torch.ones(1, 3), pt_weight=0.1)
    with pytest.raises(ValueError, match="s_fake must hold one code per sample"):
        gan.ebgan_generator_loss(torch.ones(4), torch.ones(3, 3), pt_weight=0.1)
    with pytest.raises(TypeError, match="s_fake must be a torch.Tensor"):
        gan.ebgan_generator_loss(torch.ones(4), "codes", pt_weight=0.0)


def test_bad_input_clip_is_named_clip_not_c():
    x = torch.randn(6, 2)
    for call in (lambda: gan.train_critic(gan.MLPDiscriminator(2, hidden=4), x, x, 1, lr=0.1,
                                          clip=float("nan")),
                 lambda: gan.train_deep_critic(x, x, clip=float("nan"))):
        with pytest.raises(ValueError, match="clip must be finite"):
            call()
    with pytest.raises(ValueError, match=r"clips\[1\] must be finite"):
        gan.clipping_experiment([0.1, float("nan")], gp_weight=None, n_points=4)


def test_bad_input_gradient_penalty_checks_its_generator_and_eps():
    critic, x = gan.MLPDiscriminator(2, hidden=4), torch.randn(3, 2)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        gan.gradient_penalty(critic, x, x, eps=torch.full((3,), 0.5), generator=0)
    with pytest.raises(ValueError, match=r"eps must hold interpolation weights in \[0, 1\]"):
        gan.gradient_penalty(critic, x, x, eps=torch.tensor([0.5, 2.0, 0.5]))


def test_bad_input_layer_gradient_norms_checks_x_against_the_first_layer():
    with pytest.raises(ValueError, match=r"x must have shape \(B, 2\) to fit net"):
        gan.layer_gradient_norms(gan.MLPDiscriminator(2, hidden=4).net, torch.zeros(3, 5))


def test_bad_input_negative_densities_and_out_of_range_pixels():
    with pytest.raises(ValueError, match=r"q must be a density \(>= 0\)"):
        gan.jensen_shannon(torch.tensor([0.5, 0.5]), torch.tensor([1.5, -0.5]))
    with pytest.raises(ValueError, match=r"x must hold values in \[-1, 1\]"):
        gan.to_pixels(torch.tensor([0.0, 1.5]))


def test_bad_input_numpy_integers_are_accepted_like_ints():
    np = pytest.importorskip("numpy")
    z = gan.sample_noise(np.int64(3), np.int64(2), seed_everything(0))
    assert z.shape == (3, 2)
    trainer = gan.GANTrainer(*_players(), np.int64(2), d_steps=np.int64(1), n_fixed=np.int64(4),
                             betas=(np.float32(0.5), np.float32(0.9)))
    assert trainer.latent_shape == (2,) and trainer.fixed_noise.shape == (4, 2)
    runs = gan.clipping_experiment([np.float32(0.1)], gp_weight=None, n_points=np.int64(4),
                                   seed=np.int64(0))
    assert list(runs["clip"]) == [pytest.approx(0.1)]
