import itertools
import math

import pytest
import torch

from companion import samplers
from companion.seeding import randn
from helpers import within_se

MU = torch.tensor([1.0, -2.0])
SIGMA = torch.tensor([1.0, 0.5])


def gaussian_energy(x):
    """E(x) = sum_i (x_i - mu_i)^2 / (2 sigma_i^2): the target is N(mu, diag(sigma^2))."""
    return (((x - MU) / SIGMA) ** 2).sum(dim=1) / 2


def check_moments(x, mean, var):
    n = x.shape[0]
    for j in range(x.shape[1]):
        assert within_se(x[:, j].mean().item(), mean[j].item(), (var[j] / n).sqrt().item()), \
            f"mean of coordinate {j}"
        assert within_se(x[:, j].var().item(), var[j].item(), var[j].item() * (2 / n) ** 0.5), \
            f"variance of coordinate {j}"


def test_langevin_matches_its_exact_stationary_gaussian(gen):
    # For a Gaussian target the unadjusted chain is itself Gaussian with variance
    # sigma^2 / (1 - eta / (2 sigma^2)): check the sampler against that exact answer.
    eta = 0.05
    x0 = randn((8000, 2), gen)
    x = samplers.langevin(gaussian_energy, x0, n_steps=400, step_size=eta, generator=gen)
    var = SIGMA**2 / (1 - eta / (2 * SIGMA**2))
    check_moments(x, MU, var)


def test_langevin_step_is_the_formula():
    x0 = torch.tensor([[0.3, 0.7]])
    noise = torch.tensor([[[0.5, -1.0]]])
    x = samplers.langevin(gaussian_energy, x0, n_steps=1, step_size=0.1, noise=noise)
    grad = (x0 - MU) / SIGMA**2
    assert torch.allclose(x, x0 - 0.1 * grad + math.sqrt(0.2) * noise[0])


def test_langevin_trajectory_and_bounds(gen):
    x0 = torch.zeros(5, 2)
    x, path = samplers.langevin(gaussian_energy, x0, n_steps=10, step_size=0.5, generator=gen,
                                bounds=(-0.5, 0.5), return_trajectory=True)
    assert path.shape == (11, 5, 2) and torch.equal(path[-1], x) and torch.equal(path[0], x0)
    assert x.abs().max() <= 0.5


def test_langevin_leaves_model_gradients_alone(gen):
    model = torch.nn.Linear(2, 1)
    x = samplers.langevin(lambda z: model(z).squeeze(1), torch.zeros(4, 2), n_steps=3,
                          step_size=0.1, generator=gen)
    assert model.weight.grad is None and not x.requires_grad


def test_energy_and_grad_agrees_with_the_hand_derived_gradient():
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    e, g = samplers.energy_and_grad(gaussian_energy, x)
    assert torch.allclose(e, gaussian_energy(x)) and torch.allclose(g, (x - MU) / SIGMA**2)


def test_metropolis_hastings_is_exact_on_a_gaussian(gen):
    x, rate = samplers.metropolis_hastings(gaussian_energy, randn((6000, 2), gen), n_steps=300,
                                           proposal_std=0.8, generator=gen)
    check_moments(x, MU, SIGMA**2)
    assert 0.2 < rate < 0.9


def test_metropolis_hastings_tempering(gen):
    # at inverse temperature beta the target is N(mu, sigma^2 / beta)
    x, _ = samplers.metropolis_hastings(gaussian_energy, randn((6000, 2), gen), n_steps=300,
                                        proposal_std=0.5, generator=gen, beta=4.0)
    check_moments(x, MU, SIGMA**2 / 4)


def test_mala_removes_the_langevin_bias_on_a_gaussian(gen):
    # at a step size where the unadjusted chain's variance is off by a third (or more),
    # the Metropolis-adjusted chain samples the target exactly
    eta = 0.5
    x0 = 3 * randn((8000, 2), gen)                      # far from the target
    x, rate = samplers.mala(gaussian_energy, x0, n_steps=300, step_size=eta, generator=gen)
    check_moments(x, MU, SIGMA**2)
    assert 0.3 < rate < 1.0
    # the bias MALA removes: for N(0, 1) the unadjusted chain's variance is 1 / (1 - eta / 2)
    standard = lambda x: 0.5 * (x**2).sum(1)       # noqa: E731
    y, _ = samplers.mala(standard, x0[:, :1], n_steps=300, step_size=eta, generator=gen)
    biased = samplers.langevin(standard, x0[:, :1], n_steps=300, step_size=eta, generator=gen)
    n = x0.shape[0]
    assert within_se(y.var().item(), 1.0, (2 / n) ** 0.5)
    assert within_se(biased.var().item(), 1 / (1 - eta / 2), (2 / n) ** 0.5 / (1 - eta / 2))


def test_mala_matches_quadrature_on_a_bimodal_target(gen):
    # a mixture of two Gaussians (means -1.5 and 1.5, sd 0.5), started at exact draws: the
    # chains must keep the target's second and fourth moments at a step size where the
    # unadjusted chain visibly broadens each mode
    def mixture(x):
        z = torch.stack([-(x[:, 0] - 1.5) ** 2, -(x[:, 0] + 1.5) ** 2]) / (2 * 0.25)
        return -torch.logsumexp(z, dim=0)
    y = torch.linspace(-5, 5, 40001, dtype=torch.float64)
    p = torch.exp(-mixture(y[:, None]))
    p = p / p.sum()
    m2, m4 = (p * y**2).sum().item(), (p * y**4).sum().item()
    sign = torch.where(torch.rand(20000, generator=gen) < 0.5, 1.0, -1.0).double()
    x0 = (1.5 * sign + 0.5 * torch.randn(20000, generator=gen, dtype=torch.float64))[:, None]
    x, rate = samplers.mala(mixture, x0, n_steps=200, step_size=0.3, generator=gen)
    n = x.shape[0]
    assert within_se((x**2).mean().item(), m2, ((m4 - m2**2) / n) ** 0.5)
    assert 0.5 < rate < 0.95
    ula = samplers.langevin(mixture, x0, n_steps=200, step_size=0.3, generator=gen)
    assert (ula**2).mean().item() > m2 + 10 * ((m4 - m2**2) / n) ** 0.5


def test_mala_acceptance_is_the_metropolis_hastings_ratio():
    # one step with a fixed proposal: for a quadratic energy the acceptance probability
    # can be written out by hand (Gaussian proposal densities in both directions)
    g = torch.Generator().manual_seed(5)
    x0 = torch.tensor([[0.2]], dtype=torch.float64)
    eta = 0.8
    energy = lambda x: 2.0 * x[:, 0] ** 2          # noqa: E731 - E'(x) = 4x
    n = 20000
    x, rate = samplers.mala(energy, x0.expand(n, 1).clone(), n_steps=1, step_size=eta, generator=g)
    # the exact acceptance probability, by quadrature over the proposal
    xp = torch.linspace(-8, 8, 200001, dtype=torch.float64)
    mean_f = x0[0, 0] - eta * 4 * x0[0, 0]
    q_f = torch.exp(-(xp - mean_f) ** 2 / (4 * eta)) / math.sqrt(4 * math.pi * eta)
    log_a = (-2 * xp**2 + 2 * x0[0, 0] ** 2 - (x0[0, 0] - xp + eta * 4 * xp) ** 2 / (4 * eta)
             + (xp - mean_f) ** 2 / (4 * eta))
    exact = (q_f * torch.exp(log_a.clamp(max=0.0))).sum() * (xp[1] - xp[0])
    assert within_se(rate, exact.item(), (exact.item() * (1 - exact.item()) / n) ** 0.5)
    assert x.shape == (n, 1)


def _ising(J, h):
    def energy(s):
        return -0.5 * torch.einsum("bi,ij,bj->b", s, J, s) - s @ h
    return energy


@pytest.mark.parametrize("values", [(-1.0, 1.0), (0.0, 1.0)])
def test_gibbs_matches_enumeration(gen, values):
    d = 5
    g = torch.Generator().manual_seed(0)
    J = torch.randn(d, d, generator=g) * 0.6
    J = (J + J.T) / 2
    J.fill_diagonal_(0)
    h = torch.randn(d, generator=g) * 0.5
    energy = _ising(J, h)
    states = torch.tensor(list(itertools.product(values, repeat=d)))
    p = torch.softmax(-energy(states), dim=0)
    mean_exact = p @ states
    x0 = torch.tensor(values)[torch.randint(2, (6000, d), generator=gen)]
    x = samplers.gibbs(energy, x0, n_sweeps=30, generator=gen, values=values)
    n = x.shape[0]
    var = p @ states**2 - mean_exact**2
    for i in range(d):
        assert within_se(x[:, i].mean().item(), mean_exact[i].item(), (var[i] / n).sqrt().item())
    # the whole distribution: total variation against the exact one
    codes = (x != values[0]).long() @ (2 ** torch.arange(d - 1, -1, -1))
    freq = torch.bincount(codes, minlength=2**d).double() / n
    assert 0.5 * (freq - p.double()).abs().sum() < 0.05


def test_replay_buffer_persistent_chains_reach_the_target(gen):
    eta = 0.05
    buf = samplers.ReplayBuffer(4000, lambda n, g: randn((n, 2), g), reinit_prob=0.0,
                                generator=gen)
    for _ in range(60):
        x, idx = buf.sample(1000, gen)
        x = samplers.langevin(gaussian_energy, x, n_steps=20, step_size=eta, generator=gen)
        buf.update(idx, x)
    # every slot has been advanced many times; the buffer holds the stationary law
    var = SIGMA**2 / (1 - eta / (2 * SIGMA**2))
    check_moments(buf.states, MU, var)


def test_replay_buffer_restarts_at_the_requested_rate(gen):
    buf = samplers.ReplayBuffer(5000, lambda n, g: torch.full((n, 1), 7.0), reinit_prob=0.2,
                                generator=gen)
    buf.states.zero_()
    x, idx = buf.sample(5000, gen)
    fresh = (x == 7.0).float().mean().item()
    assert within_se(fresh, 0.2, (0.2 * 0.8 / 5000) ** 0.5)
    assert len(idx.unique()) == 5000, "slots are drawn without replacement"


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2), n_steps=1, step_size=0),
     ValueError, "step_size must be > 0"),
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2), n_steps=-1, step_size=0.1),
     ValueError, "n_steps must be >= 0"),
    (lambda: samplers.langevin(lambda x: x, torch.zeros(2, 2), n_steps=1, step_size=0.1),
     ValueError, "energy_fn must map a batch"),
    (lambda: samplers.langevin(gaussian_energy, [[0.0, 0.0]], n_steps=1, step_size=0.1),
     TypeError, "x0 must be a torch.Tensor"),
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2), n_steps=1, step_size=0.1,
                               noise=torch.zeros(3, 2, 2)), ValueError, "noise must have shape"),
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2), n_steps=1, step_size=0.1,
                               bounds=(1, -1)), ValueError, "bounds must satisfy low < high"),
    (lambda: samplers.langevin("E", torch.zeros(2, 2), n_steps=1, step_size=0.1),
     TypeError, "energy_fn must be callable"),
    (lambda: samplers.metropolis_hastings(gaussian_energy, torch.zeros(2, 2), n_steps=1,
                                          proposal_std=-1), ValueError, "proposal_std must be > 0"),
    (lambda: samplers.mala(gaussian_energy, torch.zeros(2, 2), n_steps=1, step_size=0),
     ValueError, "step_size must be > 0"),
    (lambda: samplers.mala(lambda x: x, torch.zeros(2, 2), n_steps=1, step_size=0.1),
     ValueError, "energy_fn must map a batch"),
    (lambda: samplers.gibbs(gaussian_energy, torch.full((2, 2), 0.5), n_sweeps=1),
     ValueError, "x0 must contain only the values"),
    (lambda: samplers.gibbs(gaussian_energy, torch.zeros(2, 2), n_sweeps=1, values=(1.0,)),
     ValueError, "values must list at least two"),
    (lambda: samplers.ReplayBuffer(0, lambda n, g: torch.zeros(n, 1)), ValueError,
     "capacity must be >= 1"),
    (lambda: samplers.ReplayBuffer(3, lambda n, g: torch.zeros(2, 1)), ValueError,
     "init_fn must return 3 states"),
    (lambda: samplers.ReplayBuffer(3, lambda n, g: torch.zeros(n, 1)).sample(4), ValueError,
     "n must be <= 3"),
    (lambda: samplers.ReplayBuffer(3, lambda n, g: torch.zeros(n, 1)).update(
        torch.tensor([0]), torch.zeros(1, 2)), ValueError, "x must have shape"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ----------------------------------------------------------------------------- bad input
def _init(n, g):
    return torch.zeros(n, 2)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: samplers.energy_and_grad(gaussian_energy, torch.tensor([[float("nan"), 0.0]])),
     ValueError, "x must hold finite values"),
    (lambda: samplers.energy_and_grad("E", torch.zeros(2, 2)), TypeError, "energy_fn must be callable"),
    (lambda: samplers.energy_and_grad(gaussian_energy, [[0.0, 0.0]]), TypeError,
     "x must be a torch.Tensor"),
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2), n_steps=1, step_size=0.1,
                               bounds=(float("nan"), 1.0)), ValueError, "bounds must satisfy"),
    (lambda: samplers.langevin(gaussian_energy, torch.zeros(2, 2, 1), n_steps=2, step_size=0.1,
                               noise=torch.zeros(2, 2, 2)), ValueError,
     r"noise must have shape \(n_steps, \*x0.shape\)"),
    (lambda: samplers.mala(gaussian_energy, torch.zeros(0, 2), n_steps=1, step_size=0.1),
     ValueError, "x0 must hold at least 1 rows"),
    (lambda: samplers.metropolis_hastings(gaussian_energy, torch.zeros(2, 2), n_steps=1,
                                          proposal_std=float("inf")), ValueError,
     "proposal_std must be finite"),
    (lambda: samplers.gibbs(gaussian_energy, torch.zeros(2, 2), n_sweeps=1,
                            values=(0.0, float("nan"))), ValueError, r"values\[1\] must be finite"),
    (lambda: samplers.gibbs(gaussian_energy, torch.zeros(2, 2), n_sweeps=1, values=(0.0, 0.0)),
     ValueError, "values must list distinct states"),
    (lambda: samplers.ReplayBuffer(3, _init).update(torch.tensor([0, 3]), torch.zeros(2, 2)),
     ValueError, r"idx must hold slot indices in \[0, 2\]"),
    (lambda: samplers.ReplayBuffer(3, _init).update(torch.tensor([0.0, 1.0]), torch.zeros(2, 2)),
     TypeError, "idx must be an integer tensor"),
    (lambda: samplers.ReplayBuffer(3, _init).update(torch.tensor([], dtype=torch.long),
                                                    torch.zeros(2, 2)),
     ValueError, r"x must hold one state per entry of idx \(0\)"),
    (lambda: samplers.ReplayBuffer(3, lambda n, g: torch.zeros(n, 2) if n == 3 else torch.zeros(n, 5),
                                   reinit_prob=1.0).sample(2),
     ValueError, "init_fn must return 2 states of shape"),
])
def test_bad_input_samplers_refuse_with_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bad_input_integer_likes_and_any_state_shape_are_accepted(gen):
    import numpy as np

    quad = lambda x: 0.5 * x.pow(2).reshape(len(x), -1).sum(1)   # noqa: E731
    for x0 in (torch.zeros(4), torch.zeros(4, 2), torch.zeros(4, 2, 3)):
        x = samplers.langevin(quad, x0, n_steps=np.int64(2), step_size=0.1, generator=gen)
        assert x.shape == x0.shape
        assert samplers.mala(quad, x0, n_steps=np.int32(2), step_size=0.1, generator=gen)[0].shape \
            == x0.shape
    buffer = samplers.ReplayBuffer(np.int64(4), _init)
    x, idx = buffer.sample(np.int64(2))
    buffer.update(idx, x + 1)
    assert buffer.states[idx].eq(1).all()


def test_bad_input_a_diverging_langevin_chain_is_refused():
    """On E = x^2 / 2 the update is x <- (1 - eta) x + noise: for eta > 2 it grows without
    bound, and the chain must say so rather than return infinities or NaN."""
    x0 = torch.ones(4, 1, dtype=torch.float64)
    quadratic = lambda x: 0.5 * (x ** 2).sum(-1)  # noqa: E731
    with pytest.raises(ValueError, match="diverged.*step_size"):
        samplers.langevin(quadratic, x0, n_steps=2000, step_size=3.0,
                          generator=torch.Generator().manual_seed(0))
    x = samplers.langevin(quadratic, x0, n_steps=2000, step_size=1.5,
                          generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all()
    # MALA rejects the diverging proposals instead: its states stay finite.
    x, rate = samplers.mala(quadratic, x0, n_steps=200, step_size=50.0,
                            generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all() and rate < 0.5
