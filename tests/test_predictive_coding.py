import math

import numpy as np
import pytest
import torch
from scipy import integrate

from companion import predictive_coding as pc

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # these tensors are tiny: one thread is faster, and immune to a busy machine's
    # oversubscription (two spinning threads per process on a shared CPU)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _t(*values):
    return torch.tensor(values, dtype=F64)


# ------------------------------------------------------------------ free energy, Gaussian

def test_linear_gaussian_three_forms_agree_in_closed_form():
    model = pc.GaussianModel(prior_mean=1.0, prior_var=2.0, sensory_var=0.5, a=1.5, b=0.0)
    m, v = _t(1.0, 0.0, 2.0, -3.0), _t(2.0, 1.0, 0.3, 5.0)
    t = model.terms(2.3, m, v)
    assert torch.allclose(t.free_energy, t.surprise_plus_divergence, atol=1e-12)
    # the evidence is the Gaussian N(s; a mu_p, a^2 s_p^2 + s_s^2), written out independently
    var = 1.5**2 * 2.0 + 0.5
    log_ps = -0.5 * math.log(2 * math.pi * var) - (2.3 - 1.5) ** 2 / (2 * var)
    assert torch.allclose(t.surprise, torch.full_like(m, -log_ps), atol=1e-12)


def test_closed_forms_agree_with_quadrature():
    model = pc.GaussianModel(prior_mean=1.0, prior_var=2.0, sensory_var=0.5, a=1.5, b=0.0)
    m, v = _t(1.0, 0.0, 2.0), _t(2.0, 1.0, 0.3)
    closed = model.terms(2.3, m, v)
    quad = model.terms(2.3, m, v, grid=model.default_grid())
    assert torch.allclose(closed.surprise, quad.surprise, atol=1e-10)
    assert torch.allclose(closed.divergence, quad.divergence, atol=1e-9)


def test_expected_energy_matches_gauss_hermite_quadrature():
    # -log p(s, psi) is a polynomial of degree 4 in psi: Gauss-Hermite with 5 nodes is exact
    nodes, weights = np.polynomial.hermite_e.hermegauss(5)
    model = pc.GaussianModel(prior_mean=3.0, prior_var=1.0, sensory_var=0.7, a=-0.4, b=1.3)
    for m, v in [(1.0, 2.0), (0.0, 1.0), (2.0, 0.3), (-1.5, 0.05)]:
        psi = torch.as_tensor(m + math.sqrt(v) * nodes, dtype=F64)
        gh = float((model.energy(2.0, psi).numpy() * weights).sum() / math.sqrt(2 * math.pi))
        assert abs(model.expected_energy(2.0, m, v).item() - gh) < 1e-10


def test_log_evidence_matches_scipy_quad_for_a_nonlinear_model():
    model = pc.GaussianModel()                                  # Bogacz's g(v) = v^2
    for s in (0.5, 2.0, 7.0):
        value, _ = integrate.quad(lambda p: math.exp(-model.energy(s, _t(p)).item()),
                                  -10, 16, limit=400, points=[0, 3])
        assert abs(model.log_evidence(s).item() - math.log(value)) < 1e-8


def test_nonlinear_three_forms_agree_by_quadrature():
    model = pc.GaussianModel()
    m, v = _t(1.0, 1.6, 3.0, 0.0), _t(2.0, 0.05, 1.0, 0.5)
    t = model.terms(2.0, m, v)
    assert torch.allclose(t.free_energy, t.surprise_plus_divergence, atol=1e-8)
    assert (t.divergence > 0).all(), "no Gaussian q is the (non-Gaussian) posterior"


def test_free_energy_bounds_the_surprise_and_touches_it_at_the_posterior():
    model = pc.GaussianModel(prior_mean=-0.5, prior_var=1.5, sensory_var=0.2, a=2.0, b=0.0)
    g = torch.Generator().manual_seed(0)
    m = 4 * torch.randn(500, generator=g, dtype=F64)
    v = torch.exp(2 * torch.randn(500, generator=g, dtype=F64))
    t = model.terms(1.0, m, v)
    assert (t.free_energy >= t.surprise).all()
    m_star, v_star = model.posterior(1.0)
    at_post = model.terms(1.0, m_star, v_star)
    assert abs(at_post.free_energy - at_post.surprise).item() < 1e-12


def test_minimising_free_energy_over_q_finds_the_posterior():
    model = pc.GaussianModel(prior_mean=-0.5, prior_var=1.5, sensory_var=0.2, a=2.0, b=0.0)
    params = torch.tensor([0.0, 0.0], dtype=F64, requires_grad=True)   # (m, log v)
    opt = torch.optim.LBFGS([params], max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = model.free_energy(1.0, params[0], params[1].exp())
        f.backward()
        return f

    opt.step(closure)
    m_star, v_star = model.posterior(1.0)
    assert abs(params[0].item() - m_star.item()) < 1e-7
    assert abs(params[1].exp().item() - v_star.item()) < 1e-7


def test_gradient_of_energy_is_the_prediction_error_formula():
    model = pc.GaussianModel(prior_mean=3.0, prior_var=0.8, sensory_var=1.2, a=0.3, b=1.0)
    psi = torch.linspace(-3, 4, 50, dtype=F64).requires_grad_(True)
    (auto,) = torch.autograd.grad(model.energy(2.0, psi).sum(), psi)
    assert torch.allclose(model.energy_gradient(2.0, psi.detach()), auto, atol=1e-12)


def test_perception_finds_the_posterior_mode_of_bogacz_example():
    model = pc.GaussianModel()
    grid = torch.linspace(-2, 6, 80001, dtype=F64)
    mode = grid[model.posterior_on_grid(2.0, grid).argmax()]
    phi = model.perceive(2.0, _t(3.0), n_steps=2000, dt=0.01)
    assert abs(phi.item() - mode.item()) < 2e-4
    # the mode solves dE/dphi = 0: 2 phi^3 - 3 phi - 3 = 0 for u = 2, v_p = 3, unit variances
    assert abs(2 * phi.item() ** 3 - 3 * phi.item() - 3) < 1e-8


def test_error_units_converge_to_their_definitions():
    model = pc.GaussianModel()
    out = model.perceive_with_errors(2.0, _t(3.0), n_steps=3000, dt=0.01)
    phi = out["phi"][-1]
    eps_p, eps_s = model.prediction_errors(2.0, phi)
    assert torch.allclose(out["eps_p"][-1], eps_p, atol=1e-8)
    assert torch.allclose(out["eps_s"][-1], eps_s, atol=1e-8)
    assert torch.allclose(phi, model.perceive(2.0, _t(3.0), n_steps=3000, dt=0.01), atol=1e-8)
    assert out["t"][-1].item() == pytest.approx(30.0)


# ------------------------------------------------------------------ free energy, discrete

def _discrete():
    prior = _t(0.5, 0.3, 0.2)
    likelihood = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]], dtype=F64)
    return pc.DiscreteModel(prior, likelihood)


def test_discrete_three_forms_agree_by_enumeration():
    model = _discrete()
    q = torch.tensor([[1 / 3, 1 / 3, 1 / 3], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]], dtype=F64)
    t = model.terms(2, q)
    assert torch.allclose(t.free_energy, t.surprise_plus_divergence, atol=1e-12)
    p_s = sum(model.prior[k] * model.likelihood[k, 2] for k in range(3))
    assert torch.allclose(t.surprise, -torch.log(p_s).expand(3))


def test_discrete_free_energy_is_minimised_at_the_posterior():
    model = _discrete()
    # every q on a fine grid of the simplex
    n = 60
    pts = [(i / n, j / n, (n - i - j) / n) for i in range(n + 1) for j in range(n + 1 - i)]
    q = torch.tensor(pts, dtype=F64)
    t = model.terms(1, q)
    assert (t.free_energy >= t.surprise - 1e-12).all()
    post = model.posterior(1)
    at_post = model.terms(1, post)
    assert abs((at_post.free_energy - at_post.surprise).item()) < 1e-12
    assert at_post.free_energy <= t.free_energy.min()


# --------------------------------------------------------------- predictive-coding network

def _net_and_batch(sizes=(12, 16, 8, 5), activation="tanh", seed=0):
    g = torch.Generator().manual_seed(seed)
    net = pc.PCNetwork(list(sizes), activation, generator=g).double()
    x = torch.randn(32, sizes[0], generator=g, dtype=F64)
    y = torch.nn.functional.one_hot(torch.randint(sizes[-1], (32,), generator=g), sizes[-1]).double()
    return net, x, y


def test_feedforward_state_has_zero_energy_and_is_the_forward_pass():
    net, x, _ = _net_and_batch()
    values = net.feedforward(x)
    assert net.energy(values).abs().max() == 0
    assert torch.equal(values[-1], net(x))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_value_gradients_match_autograd(activation):
    net, x, y = _net_and_batch(activation=activation)
    state = net.infer(x, y, n_iters=5, step_size=0.1, output_precision=0.3)
    values = [v.clone().requires_grad_(True) for v in state.values]
    grads = torch.autograd.grad(net.energy(values, output_precision=0.3).sum(), values[1:-1])
    errors = net.errors(state.values)
    pre = [state.values[l] @ net.weights[l].T + net.biases[l] for l in range(net.n_layers)]
    mine = net.value_gradients(errors, pre, output_precision=0.3)
    for a, b in zip(mine, grads):
        assert torch.allclose(a, b.detach(), atol=1e-12)


def test_weight_updates_are_minus_the_energy_gradient_at_the_relaxed_state():
    net, x, y = _net_and_batch()
    state = net.infer(x, y, n_iters=30, step_size=0.1, output_precision=0.5)
    params = [p for pair in zip(net.weights, net.biases) for p in pair]
    auto = torch.autograd.grad(net.energy(state.values, output_precision=0.5).mean(), params)
    for l, (dw, db) in enumerate(net.weight_updates(state)):
        assert torch.allclose(dw, -auto[2 * l], atol=1e-12)
        assert torch.allclose(db, -auto[2 * l + 1], atol=1e-12)


def test_strict_inference_lowers_the_energy():
    net, x, y = _net_and_batch()
    e = net.infer(x, y, n_iters=100, step_size=0.05).energies
    assert (e[1:] <= e[:-1] + 1e-12).all() and e[-1] < 0.9 * e[0]
    assert abs(e[0].item() - pc.mse_loss(net(x), y).item()) < 1e-12


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_fixed_prediction_updates_equal_backprop_gradients(activation):
    net, x, y = _net_and_batch(sizes=(10, 20, 15, 12, 4), activation=activation, seed=3)
    state = net.infer(x, y, n_iters=150, step_size=0.2, fixed_predictions=True)
    grads = pc.backprop_gradients(net, x, y)
    updates = net.weight_updates(state)
    for (dw, db), (gw, gb) in zip(updates, grads):
        assert torch.allclose(dw, -gw, atol=1e-10) and torch.allclose(db, -gb, atol=1e-10)
    assert min(pc.alignment(updates, grads)["cosine"]) > 0.999


def test_fixed_prediction_alignment_in_float32():
    net, x, y = _net_and_batch(seed=5)
    net, x, y = net.float(), x.float(), y.float()
    state = net.infer(x, y, n_iters=100, step_size=0.2, fixed_predictions=True)
    cos = pc.alignment(net.weight_updates(state), pc.backprop_gradients(net, x, y))["cosine"]
    assert min(cos) > 0.999


def test_strict_updates_approach_backprop_as_output_precision_vanishes():
    net, x, y = _net_and_batch(seed=1)
    grads = pc.backprop_gradients(net, x, y)
    errors = []
    for gamma in (1.0, 1e-1, 1e-2, 1e-3):
        state = net.infer(x, y, n_iters=300, step_size=0.1, output_precision=gamma)
        errors.append(max(pc.alignment(net.weight_updates(state), grads, scale=gamma)["relative_error"]))
    assert all(a > 5 * b for a, b in zip(errors, errors[1:])), errors   # roughly linear in gamma
    assert errors[-1] < 5e-3


def test_nudging_the_target_alone_does_not_approach_backprop():
    # the linear response of the strict equilibrium is not backprop: only the relative
    # weight of the output error matters, not its size
    net, x, y = _net_and_batch(seed=1)
    grads = pc.backprop_gradients(net, x, y)
    out = net(x).detach()
    cos = []
    for gamma in (1e-2, 1e-4):
        state = net.infer(x, pc.nudged_target(out, y, gamma), n_iters=300, step_size=0.1)
        cos.append(min(pc.alignment(net.weight_updates(state), grads, scale=gamma)["cosine"]))
    assert abs(cos[0] - cos[1]) < 1e-3 and cos[1] < 0.999


def test_pc_train_step_with_fixed_predictions_is_a_backprop_sgd_step():
    net, x, y = _net_and_batch(seed=2)
    twin, _, _ = _net_and_batch(seed=2)
    loss_before = pc.mse_loss(twin(x), y)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    stats = pc.pc_train_step(net, opt, x, y, n_iters=150, step_size=0.2, fixed_predictions=True)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    twin_opt.zero_grad()
    loss_before.backward()
    twin_opt.step()
    for p, q in zip(net.parameters(), twin.parameters()):
        assert torch.allclose(p, q, atol=1e-10)
    assert abs(float(stats["loss"]) - loss_before.item()) < 1e-12   # the energy before inference


def test_pc_training_lowers_the_loss():
    net, x, y = _net_and_batch(seed=4)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    before = pc.mse_loss(net(x), y).item()
    for _ in range(100):
        pc.pc_train_step(net, opt, x, y, n_iters=20, step_size=0.2)
    assert pc.mse_loss(net(x), y).item() < 0.3 * before


def test_initialisation_is_reproducible_with_a_generator():
    a = pc.PCNetwork([5, 4, 3], generator=torch.Generator().manual_seed(7))
    b = pc.PCNetwork([5, 4, 3], generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert a.weights[0].abs().max() <= 1 / math.sqrt(5)


# ------------------------------------------------------------------------ active inference

def test_agent_free_energy_is_energy_minus_entropy_and_surprise_plus_kl():
    agent = pc.ThermalAgent(preferred=4.0, prior_var=1.3, sensory_var=0.4)
    g = torch.Generator().manual_seed(0)
    s, mu = 3 + 4 * torch.rand(20, generator=g, dtype=F64), 10 * torch.rand(20, generator=g, dtype=F64)
    # independent: E_q[-log p] - H[q] in closed form, for q = N(mu, v*), by GaussianModel
    model = pc.GaussianModel(prior_mean=4.0, prior_var=1.3, sensory_var=0.4, a=1.0, b=0.0)
    for si, mi in zip(s.tolist(), mu.tolist()):
        f = agent.free_energy(_t(si), _t(mi))
        assert abs(f.item() - model.free_energy(si, mi, agent.posterior_var).item()) < 1e-12
        assert abs(agent.surprise(_t(si)).item() + model.log_evidence(si).item()) < 1e-12
        kl = model.divergence(si, mi, agent.posterior_var)
        assert abs((f - agent.surprise(_t(si))).item() - kl.item()) < 1e-12
    # the surprise by quadrature over the hidden temperature
    value, _ = integrate.quad(lambda p: math.exp(-model.energy(5.0, _t(p)).item()), -20, 30, points=[4, 5])
    assert abs(agent.surprise(_t(5.0)).item() + math.log(value)) < 1e-9


def test_agent_prediction_errors_are_free_energy_gradients():
    agent = pc.ThermalAgent(preferred=3.0, prior_var=0.7, sensory_var=0.3)
    s, mu, m = (torch.tensor([1.0, 5.0, 2.5], dtype=F64, requires_grad=True) for _ in range(3))
    f = agent.free_energy(s, mu * 1.3, m * 0.9)
    ds, dmu, dm = torch.autograd.grad(f.sum(), (s, mu, m))
    eps_s, eps_p = agent.prediction_errors(s.detach(), 1.3 * mu.detach(), 0.9 * m.detach())
    assert torch.allclose(ds, eps_s, atol=1e-12)                     # dF/ds = eps_s
    assert torch.allclose(dmu / 1.3, eps_p - eps_s, atol=1e-12)      # dF/dmu = eps_p - eps_s
    assert torch.allclose(dm / 0.9, -eps_p, atol=1e-12)              # dF/dm = -eps_p


def test_heat_source_slope_matches_autograd():
    x = torch.linspace(-4, 4, 41, dtype=F64).requires_grad_(True)
    temp, slope = pc.heat_source(x, peak=7.0)
    (auto,) = torch.autograd.grad(temp.sum(), x)
    assert torch.allclose(slope, auto, atol=1e-12)
    assert temp[20].item() == pytest.approx(7.0)


def test_action_is_gradient_descent_on_free_energy_through_the_sensation():
    agent = pc.ThermalAgent(action_rate=0.3)
    x0, mu0 = _t(0.5, 1.0, 2.5), _t(4.0, 9.0, 2.0)
    out = pc.active_inference(agent, x0, mu0=mu0, n_steps=1, noise=torch.zeros(1, 3, dtype=F64))
    x = x0.clone().requires_grad_(True)
    (dfdx,) = torch.autograd.grad(agent.free_energy(pc.heat_source(x)[0], mu0).sum(), x)
    assert torch.allclose(out["action"][0], -0.3 * dfdx, atol=1e-12)


def test_without_noise_free_energy_never_increases_and_action_reaches_the_preference():
    agent = pc.ThermalAgent()
    out = pc.active_inference(agent, _t(1.0, 3.0), n_steps=3000, noise=torch.zeros(3000, 2, dtype=F64))
    f = out["free_energy"]
    assert (f[1:] <= f[:-1] + 1e-12).all()
    assert torch.allclose(out["temperature"][-1], _t(4.0, 4.0), atol=1e-2)
    # the agents end at x = sqrt(T0 / T* - 1) = 2, where the world is at the preferred temperature
    assert torch.allclose(out["x"][-1], _t(2.0, 2.0), atol=1e-2)


def test_perception_alone_finds_the_posterior_mean_and_cannot_lower_the_surprise():
    agent = pc.ThermalAgent(action_rate=0.0, prior_var=0.5, sensory_var=0.25)
    out = pc.active_inference(agent, _t(1.0), n_steps=2000, noise=torch.zeros(2000, 1, dtype=F64))
    model = pc.GaussianModel(prior_mean=4.0, prior_var=0.5, sensory_var=0.25, a=1.0, b=0.0)
    m_star, _ = model.posterior(10.0)                                 # T(1) = 20 / 2 = 10
    assert abs(out["mu"][-1].item() - m_star.item()) < 1e-9
    assert torch.allclose(out["surprise"], out["surprise"][0].expand_as(out["surprise"]))
    assert abs(out["free_energy"][-1].item() - out["surprise"][-1].item()) < 1e-9


def test_learning_moves_the_prior_to_the_input_and_lowers_the_surprise():
    agent = pc.ThermalAgent(action_rate=0.0, learning_rate=1.0)
    out = pc.active_inference(agent, _t(1.0), n_steps=6000, noise=torch.zeros(6000, 1, dtype=F64))
    assert abs(out["prior_mean"][-1].item() - 10.0) < 1e-2
    assert out["surprise"][-1] < 0.2 * out["surprise"][0]


def test_active_inference_noise_comes_from_the_generator():
    agent = pc.ThermalAgent()
    a = pc.active_inference(agent, _t(1.0, 1.5), n_steps=50, generator=torch.Generator().manual_seed(3))
    b = pc.active_inference(agent, _t(1.0, 1.5), n_steps=50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a["s"], b["s"])
    noise = (a["s"] - a["temperature"]) / math.sqrt(agent.sensory_var)
    c = pc.active_inference(agent, _t(1.0, 1.5), n_steps=50, noise=noise)
    assert torch.allclose(a["x"], c["x"], atol=1e-12)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: pc.GaussianModel(prior_var=0.0), ValueError, "prior_var must be > 0"),
    (lambda: pc.GaussianModel(sensory_var=-1.0), ValueError, "sensory_var must be > 0"),
    (lambda: pc.GaussianModel().expected_energy(2.0, 0.0, -1.0), ValueError, "v must hold variances"),
    (lambda: pc.GaussianModel().posterior(2.0), ValueError, "needs a linear g"),
    (lambda: pc.GaussianModel().log_evidence(2.0, grid=torch.tensor([0.0, 1.0, 3.0])), ValueError,
     "equally spaced"),
    (lambda: pc.GaussianModel().energy(2.0, [1.0]), TypeError, "psi must be a torch.Tensor"),
    (lambda: pc.GaussianModel().energy("2", torch.zeros(2)), TypeError, "s must be a real number"),
    (lambda: pc.GaussianModel().perceive(2.0, torch.zeros(1), n_steps=10, dt=0.0), ValueError,
     "dt must be > 0"),
    (lambda: pc.gaussian_entropy(0.0), ValueError, "v must hold variances"),
    (lambda: pc.DiscreteModel(_t(0.5, 0.6), torch.eye(2, dtype=F64)), ValueError,
     "prior must hold non-negative probabilities"),
    (lambda: pc.DiscreteModel(_t(0.5, 0.5), torch.eye(3, dtype=F64)), ValueError,
     "one row per hidden state"),
    (lambda: _discrete().terms(5, _t(1.0, 0.0, 0.0)), ValueError, "s must be <= 2"),
    (lambda: _discrete().terms(0, _t(0.5, 0.0, 0.0)), ValueError, "q must hold non-negative"),
    (lambda: pc.PCNetwork([4]), ValueError, "at least an input and an output"),
    (lambda: pc.PCNetwork([4, 3], activation="softmax"), ValueError, "activation must be one of"),
    (lambda: pc.PCNetwork([4, 3], generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: pc.PCNetwork([4, 3])(torch.zeros(2, 5)), ValueError, "x must have last dimension 4"),
    (lambda: pc.PCNetwork([4, 3])(torch.zeros(2, 4, dtype=F64)), ValueError,
     "x must be on the network's device and dtype"),
    (lambda: pc.PCNetwork([4, 3]).infer(torch.zeros(2, 4), torch.zeros(3, 3)), ValueError,
     "target must have one row per row of x"),
    (lambda: pc.PCNetwork([4, 3]).infer(torch.zeros(2, 4), torch.zeros(2, 3), n_iters=-1),
     ValueError, "n_iters must be >= 0"),
    (lambda: pc.PCNetwork([4, 3]).infer(torch.zeros(2, 4), torch.zeros(2, 3), output_precision=0),
     ValueError, "output_precision must be > 0"),
    (lambda: pc.PCNetwork([4, 3]).weight_updates("state"), TypeError, "state must be a PCState"),
    (lambda: pc.PCNetwork([4, 3]).energy([torch.zeros(2, 4)]), ValueError, "values must hold 2"),
    (lambda: pc.PCNetwork([4, 3]).set_gradients([]), ValueError, "updates must hold 1"),
    (lambda: pc.nudged_target(torch.zeros(2, 3), torch.zeros(2, 3), 0.0), ValueError,
     "gamma must be > 0"),
    (lambda: pc.mse_loss(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError, "same shape"),
    (lambda: pc.cosine_similarity(torch.zeros(3), torch.ones(3)), ValueError, "zero tensor"),
    (lambda: pc.alignment([], [(torch.zeros(1), torch.zeros(1))]), ValueError, "as many layers"),
    (lambda: pc.backprop_gradients(torch.nn.Linear(2, 2), torch.zeros(1, 2), torch.zeros(1, 2)),
     TypeError, "net must be a PCNetwork"),
    (lambda: pc.pc_train_step(pc.PCNetwork([4, 3]), None, torch.zeros(2, 4), torch.zeros(2, 3)),
     TypeError, "optimizer must be a torch.optim.Optimizer"),
    (lambda: pc.ThermalAgent(sensory_var=0.0), ValueError, "sensory_var must be > 0"),
    (lambda: pc.ThermalAgent(action_rate=-1.0), ValueError, "action_rate must be >= 0"),
    (lambda: pc.heat_source([1.0]), TypeError, "x must be a torch.Tensor"),
    (lambda: pc.active_inference("agent", torch.zeros(2), n_steps=5), TypeError,
     "agent must be a ThermalAgent"),
    (lambda: pc.active_inference(pc.ThermalAgent(), torch.zeros(2), n_steps=0), ValueError,
     "n_steps must be >= 1"),
    (lambda: pc.active_inference(pc.ThermalAgent(), torch.zeros(2), n_steps=5,
                                 noise=torch.zeros(4, 2)), ValueError, "noise must have shape"),
    (lambda: pc.active_inference(pc.ThermalAgent(), torch.zeros(2), n_steps=5,
                                 mu0=torch.zeros(3)), ValueError, "same shape"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------- bad input found by the bad-input suite (issue)

NAN = float("nan")


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: pc.gaussian_entropy(_t(1.0, NAN)), ValueError, "v must hold finite values"),
    (lambda: pc.gaussian_entropy("1"), TypeError, "v must be a real number"),
    (lambda: pc.GaussianModel().g(_t(1.0, NAN)), ValueError, "psi must hold finite values"),
    (lambda: pc.GaussianModel().dg([1.0]), TypeError, "psi must be a torch.Tensor"),
    (lambda: pc.GaussianModel().energy(_t(1.0, 2.0), _t(1.0, 2.0, 3.0)), ValueError,
     "s and psi must have shapes that broadcast"),
    (lambda: pc.GaussianModel().free_energy(2.0, _t(1.0, NAN), 0.5), ValueError,
     "m must hold finite values"),
    (lambda: pc.GaussianModel().terms(2.0, _t(1.0, 2.0, 3.0), _t(0.5, 0.5)), ValueError,
     "m and v must have shapes that broadcast"),
    (lambda: pc.DiscreteModel(torch.zeros(0, dtype=F64), torch.zeros(0, 2, dtype=F64)), ValueError,
     "prior must not be empty"),
    (lambda: pc.PCNetwork([4, 5, 3]).value_gradients([torch.zeros(2, 5), torch.zeros(2, 3)],
                                                       [torch.zeros(2, 5), torch.zeros(2, 3)],
                                                       output_precision=NAN),
     ValueError, "output_precision must be finite"),
    (lambda: pc.PCNetwork([4, 5, 3]).value_gradients([torch.zeros(2, 5)], [torch.zeros(2, 5)]),
     ValueError, "errors must hold 2 tensors"),
    (lambda: pc.PCNetwork([4, 3]).infer(torch.zeros(0, 4), torch.zeros(0, 3)), ValueError,
     "x must hold at least 1 rows"),
    (lambda: pc.PCNetwork([4, 3]).weight_updates(
        pc.PCNetwork([4, 5, 3]).infer(torch.zeros(2, 4), torch.zeros(2, 3))), ValueError,
     "state must come from this network's infer"),
    (lambda: pc.PCNetwork([4, 3]).set_gradients([("dW", "db")]), TypeError,
     r"updates\[0\] \(weight\) must be a torch.Tensor"),
    (lambda: pc.mse_loss(torch.zeros(0, 3), torch.zeros(0, 3)), ValueError,
     "output must hold at least 1 rows"),
    (lambda: pc.backprop_gradients(pc.PCNetwork([4, 3]), torch.zeros(0, 4), torch.zeros(0, 3)),
     ValueError, "x must hold at least 1 rows"),
    (lambda: pc.alignment([(torch.zeros(2, 3), torch.zeros(2))], [(torch.zeros(3, 3), torch.zeros(3))]),
     ValueError, r"updates\[0\] and gradients\[0\] must have the same shapes"),
    (lambda: pc.pc_train_step("net", None, torch.zeros(2, 4), torch.zeros(2, 3)), TypeError,
     "net must be a PCNetwork"),
    (lambda: pc.ThermalAgent().free_energy(_t(1.0, NAN), _t(1.0, 2.0)), ValueError,
     "s must hold finite values"),
    (lambda: pc.ThermalAgent().prediction_errors(_t(1.0, 2.0), _t(1.0, 2.0, 3.0)), ValueError,
     "s and mu must have shapes that broadcast"),
    (lambda: pc.ThermalAgent().surprise(_t(1.0, 2.0), prior_mean="warm"), TypeError,
     "prior_mean must be a real number"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bad_input_energy_gradient_lets_diverged_runs_stay_nan():
    # the step-size exercise runs many steps at once; the diverged runs hold inf and NaN
    model = pc.GaussianModel()
    grad = model.energy_gradient(2.0, _t(3.0, float("inf"), NAN))
    assert torch.isfinite(grad[0]) and not torch.isfinite(grad[1:]).any()
    with pytest.raises(ValueError, match="s must be finite"):
        model.energy_gradient(NAN, _t(3.0))


def test_bad_input_terms_broadcast_m_and_v_to_one_shape():
    t = pc.GaussianModel().terms(2.0, _t(1.0, 1.5, 2.0), _t(0.5), grid=torch.linspace(-5, 11, 801, dtype=F64))
    assert {tuple(x.shape) for x in (t.energy, t.entropy, t.surprise, t.divergence)} == {(3,)}
    assert torch.allclose(t.free_energy, t.surprise_plus_divergence, atol=1e-8)
