import itertools
import math

import pytest
import torch

from companion import hopfield as hf


def spins(shape, g, dtype=torch.float64):
    return torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).to(dtype)


def random_symmetric(n, g, batch=()):
    a = torch.randn(*batch, n, n, generator=g, dtype=torch.float64)
    w = (a + a.transpose(-1, -2)) / 2
    w.diagonal(dim1=-2, dim2=-1).zero_()
    return w


def all_spin_states(n):
    return torch.tensor(list(itertools.product([-1.0, 1.0], repeat=n)), dtype=torch.float64)


# --- storage and energy ---------------------------------------------------------------------

def test_hebbian_weights_are_the_formula(gen):
    xi = spins((4, 7), gen)
    W = hf.hebbian_weights(xi)
    for i in range(7):
        for j in range(7):
            want = 0.0 if i == j else sum(xi[m, i] * xi[m, j] for m in range(4)) / 7
            assert abs(W[i, j].item() - float(want)) < 1e-12
    assert torch.equal(W, W.T)
    assert torch.equal(hf.hebbian_weights(xi, normalize=False), W * 7)


def test_hebbian_weights_batched_equal_one_network_at_a_time(gen):
    xi = spins((3, 5, 9), gen)
    W = hf.hebbian_weights(xi)
    for k in range(3):
        assert torch.allclose(W[k], hf.hebbian_weights(xi[k]))


def test_energy_is_the_explicit_double_sum(gen):
    n = 6
    W, theta = random_symmetric(n, gen), torch.randn(n, generator=gen, dtype=torch.float64)
    s = spins((5, n), gen)
    e = hf.energy(s, W, theta)
    for b in range(5):
        want = -0.5 * sum(W[i, j] * s[b, i] * s[b, j] for i in range(n) for j in range(n))
        want = want + sum(theta[i] * s[b, i] for i in range(n))
        assert abs(e[b].item() - float(want)) < 1e-12


def test_energy_of_a_batch_of_networks(gen):
    W = random_symmetric(5, gen, batch=(3,))
    s = spins((3, 4, 5), gen)
    e = hf.energy(s, W)
    for k in range(3):
        assert torch.allclose(e[k], hf.energy(s[k], W[k]))


def test_negated_patterns_have_the_same_energy_without_thresholds(gen):
    xi = spins((3, 20), gen)
    W = hf.hebbian_weights(xi)
    assert torch.allclose(hf.energy(xi, W), hf.energy(-xi, W))
    theta = torch.full((20,), 0.1, dtype=torch.float64)
    assert not torch.allclose(hf.energy(xi, W, theta), hf.energy(-xi, W, theta))


# --- dynamics and descent -------------------------------------------------------------------

def test_fixed_points_are_the_local_minima_of_the_enumerated_energy(gen):
    n = 10
    W, theta = random_symmetric(n, gen), 0.3 * torch.randn(n, generator=gen, dtype=torch.float64)
    states = all_spin_states(n)                                 # all 1024 states
    e = hf.energy(states, W, theta)
    flip = 1 - 2 * torch.eye(n, dtype=torch.float64)            # row i flips neuron i
    neighbours = torch.stack([hf.energy(states * flip[i], W, theta) for i in range(n)])
    local_min = (e[None, :] <= neighbours).all(0)               # single-flip local minima
    fixed = (hf.sync_update(states, W, theta) == states).all(1)
    assert local_min.any()
    assert torch.equal(local_min, fixed), "no ties: fixed points = single-flip local minima"
    ends, _, converged = hf.run_async(spins((50, n), gen), W, theta, generator=gen)
    assert converged.all()
    codes = ((ends + 1) / 2) @ (2.0 ** torch.arange(n - 1, -1, -1, dtype=torch.float64))
    assert local_min[codes.long()].all(), "every end point is a minimum of the enumeration"


def test_asynchronous_updates_never_increase_the_energy(gen):
    n = 12
    W = random_symmetric(n, gen, batch=(200,))                  # 200 random networks
    theta = torch.randn(200, 1, n, generator=gen, dtype=torch.float64)
    s = spins((200, 3, n), gen)
    for _ in range(3):
        for i in torch.randperm(n, generator=gen).tolist():
            h = hf.local_field(s, W)[..., i]
            new = hf.async_update(s, W, i, theta)
            e0, e1 = hf.energy(s, W, theta), hf.energy(new, W, theta)
            assert (e1 <= e0 + 1e-12).all()
            predicted = -(new[..., i] - s[..., i]) * (h - theta[..., i])
            assert torch.allclose(e1 - e0, predicted, atol=1e-12)
            s = new


def test_a_negative_self_coupling_can_raise_the_energy():
    W = torch.tensor([[-2.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    s = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    new = hf.async_update(s, W, 0)
    assert new[0, 0] == -1 and hf.energy(new, W) > hf.energy(s, W)


def test_run_async_is_repeated_sweeps_with_a_fixed_order(gen):
    xi = spins((16, 50), gen, torch.float32)
    W = hf.hebbian_weights(xi, normalize=False)                 # integers: exact ties
    s0 = hf.corrupt(xi[:10], 0.3, gen)
    s = s0
    for k in range(1, 6):
        s = hf.async_sweep(s, W, order="fixed")
        ends, sweeps, _ = hf.run_async(s0, W, order="fixed", max_sweeps=k)
        assert torch.equal(ends, s), f"after {k} sweeps"
        assert (sweeps <= k).all()


def test_run_async_reaches_fixed_points_and_is_reproducible(gen):
    xi = spins((2, 12, 80), gen, torch.float32)
    W = hf.hebbian_weights(xi)
    cues = hf.corrupt(xi[:, :5], 0.2, gen)
    a = hf.run_async(cues, W, generator=torch.Generator().manual_seed(5))
    b = hf.run_async(cues, W, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    ends, _, converged = a
    assert converged.all()
    assert torch.equal(hf.sync_update(ends, W), ends), "no neuron would change"


def test_synchronous_updates_can_cycle_and_the_two_step_function_never_increases(gen):
    W = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    traj = hf.sync_trajectory(torch.tensor([1.0, -1.0], dtype=torch.float64), W, n_steps=4)
    assert torch.equal(traj[0], traj[2]) and not torch.equal(traj[0], traj[1])
    Wb, theta = random_symmetric(15, gen, batch=(100,)), torch.randn(100, 1, 15, generator=gen,
                                                                     dtype=torch.float64)
    traj = hf.sync_trajectory(spins((100, 4, 15), gen), Wb, theta, n_steps=30)
    lyap = torch.stack([hf.sync_lyapunov(traj[t - 1], traj[t], Wb, theta)
                        for t in range(1, 31)])
    assert (lyap[1:] <= lyap[:-1] + 1e-12).all()
    assert torch.equal(traj[-1], traj[-3]), "period one or two at the end"


def test_unstable_bits_counts_what_the_update_rule_would_flip(gen):
    xi = spins((3, 21, 100), gen, torch.float32)                # N even, P odd: no ties
    W = hf.hebbian_weights(xi)
    want = (hf.sync_update(xi, W) != xi).sum(-1)
    assert torch.equal(hf.unstable_bits(xi), want)


def test_overlap_and_corrupt(gen):
    xi = spins((4, 50), gen)
    cue = hf.corrupt(xi, 0.2, gen)
    assert ((cue != xi).sum(1) == 10).all()
    m = hf.overlap(cue, xi)
    assert torch.allclose(m.diagonal(), torch.full((4,), 1 - 2 * 10 / 50, dtype=torch.float64))


def test_picture_patterns_are_orthogonal():
    names, p = hf.picture_patterns(32)
    assert len(names) == p.shape[0] == 6 and p.shape[1] == 1024
    assert torch.equal(p @ p.T / 1024, torch.eye(6))


def test_retrieval_breaks_down_at_high_load(gen):
    m = hf.retrieval_overlaps(200, [0.03, 0.4], starts_per_network=5, networks_per_load=2,
                              generator=gen)
    assert m.shape == (2, 10)
    assert m[0].min() > 0.95 and m[1].mean() < 0.8


def test_correlated_patterns_have_the_stated_overlaps(gen):
    c = 0.09
    xi = hf.correlated_patterns(6, 20_000, c, gen, n_networks=3, dtype=torch.float64)
    assert xi.shape == (3, 6, 20_000) and set(xi.unique().tolist()) == {-1.0, 1.0}
    m = xi @ xi.transpose(-1, -2) / 20_000                      # (3, 6, 6) overlaps
    off = m[:, ~torch.eye(6, dtype=torch.bool)]
    assert (off - c).abs().max() < 5 / math.sqrt(20_000), "pairwise overlaps are about c"
    # each pattern agrees with the prototype (the bitwise majority here) on (1 + sqrt c)/2
    xi_p = hf.correlated_patterns(999, 400, 0.25, gen, dtype=torch.float64)
    proto = torch.sign(xi_p.sum(0))                             # = the prototype, whp
    agree = (xi_p == proto).double().mean().item()              # 999 x 400 bits
    assert abs(agree - (1 + math.sqrt(0.25)) / 2) < 0.005
    xi0 = hf.correlated_patterns(2000, 10, 0.0, gen, dtype=torch.float64)
    assert (xi0.mean(0)).abs().max() < 5 / math.sqrt(2000), "c = 0: unbiased bits"
    assert (xi0.T @ xi0 / 2000 - torch.eye(10, dtype=torch.float64)).abs().max() < 0.12


def test_correlations_lower_the_retrieval_capacity(gen):
    kw = dict(starts_per_network=10, networks_per_load=3, max_sweeps=20)
    plain = hf.retrieval_overlaps(300, [0.08], generator=gen, **kw)
    corr = hf.retrieval_overlaps(300, [0.08], correlation=0.1, generator=gen, **kw)
    assert (plain > 0.9).float().mean() > 0.9 and (corr > 0.9).float().mean() < 0.5


def test_corrupt_and_retrieve_is_corrupt_then_run_async(gen):
    xi = spins((5, 64), gen)
    W = hf.hebbian_weights(xi)
    cues, ends = hf.corrupt_and_retrieve(xi[:3], W, 0.2, torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    want_cues = hf.corrupt(xi[:3], 0.2, g)
    want_ends, _, _ = hf.run_async(want_cues, W, generator=g)
    assert torch.equal(cues, want_cues) and torch.equal(ends, want_ends)
    assert (hf.sync_update(ends, W) == ends).all(), "the ends are fixed points"


@pytest.mark.parametrize("n", [2, 3])
def test_fixed_point_fraction_counts_patterns_no_single_flip_improves(n):
    frac = hf.fixed_point_fraction(12, 9, n, n_networks=4, n_test=5,
                                   generator=torch.Generator().manual_seed(3))
    xi = hf.random_patterns(9, 12, torch.Generator().manual_seed(3), n_networks=4,
                            dtype=torch.float64)
    flip = 1 - 2 * torch.eye(12, dtype=torch.float64)           # row i flips neuron i
    want = []
    for k in range(4):                                          # brute force: every flip
        e = hf.dense_energy(xi[k, :5], xi[k], n)
        worse = torch.stack([hf.dense_energy(xi[k, :5] * flip[i], xi[k], n) for i in range(12)])
        want.append((worse >= e).all(0).double().mean().item())
    assert frac.tolist() == pytest.approx(want)


@pytest.mark.parametrize("n_neurons, n", [(200, 2), (1000, 2), (100, 3)])
def test_snr_capacity_is_where_the_estimate_crosses_the_fraction(n_neurons, n):
    p = hf.snr_capacity(n_neurons, n, 0.9)
    below, above = math.floor(p), math.ceil(p)
    assert hf.fixed_point_probability(n_neurons, below, n) >= 0.9
    assert hf.fixed_point_probability(n_neurons, above, n) < 0.9
    # the same order as the asymptotic formula, and moving towards it as N grows
    assert 0.7 < p / hf.krotov_hopfield_capacity(n_neurons, n) < 1.3
    if n == 2:
        ratio = [hf.snr_capacity(k) / hf.mceliece_capacity(k) for k in (100, 10_000, 10**6)]
        assert abs(ratio[2] - 1) < abs(ratio[0] - 1)


def test_level_crossing_interpolates():
    x = [1.0, 2.0, 3.0, 4.0]
    assert hf.level_crossing(x, [1.0 - 0.2 * v for v in x], 0.5) == pytest.approx(2.5)
    p = [10.0, 20.0, 40.0, 80.0]                                # y linear in log x
    y = [1 - 0.3 * math.log2(v / 10) for v in p]
    assert hf.level_crossing(p, y, 0.5, log_x=True) == pytest.approx(10 * 2 ** (0.5 / 0.3))
    assert math.isnan(hf.level_crossing(x, [1, 1, 1, 1], 0.5))
    with pytest.raises(ValueError, match="same length"):
        hf.level_crossing(x, [1.0], 0.5)


# --- theory ---------------------------------------------------------------------------------

def test_ags_solution_agrees_with_scipy():
    from scipy.optimize import brentq, minimize_scalar
    from scipy.special import erf

    for alpha in [0.01, 0.05, 0.1, 0.13]:
        def gap(y):
            return erf(y) - y * (math.sqrt(2 * alpha) + 2 / math.sqrt(math.pi) * math.exp(-y * y))
        y_max = 1 / math.sqrt(2 * alpha) + 1                    # the gap is negative beyond
        peak = minimize_scalar(lambda y: -gap(y), bounds=(0.5, y_max), method="bounded").x
        y = brentq(gap, peak, y_max)                            # the largest root
        assert hf.ags_retrieval_overlap(alpha) == pytest.approx(erf(y), abs=1e-10)
        assert 0.98 < erf(y) <= 1
    alpha_c = hf.ags_critical_load()
    assert abs(alpha_c - 0.138) < 0.001                         # Amit et al.: 0.138
    assert hf.ags_retrieval_overlap(alpha_c + 0.001) == 0.0
    assert 0.96 < hf.ags_retrieval_overlap(alpha_c - 1e-5) < 0.975     # m_c about 0.967


def test_capacity_formulas():
    assert hf.mceliece_capacity(1000) == pytest.approx(1000 / (2 * math.log(1000)))
    assert hf.mceliece_capacity(1000, every_pattern=True) == pytest.approx(
        1000 / (4 * math.log(1000)))
    assert hf.krotov_hopfield_capacity(1000, 2) == pytest.approx(hf.mceliece_capacity(1000))
    assert hf.krotov_hopfield_capacity(100, 3) == pytest.approx(100**2 / (6 * math.log(100)))
    probs = [hf.fixed_point_probability(500, p) for p in (1, 20, 40, 80)]
    assert probs[0] == 1.0 and all(a > b for a, b in zip(probs, probs[1:]))


def test_fixed_point_probability_estimate_matches_simulation(gen):
    xi = spins((100, 40, 500), gen, torch.float32)
    measured = (hf.unstable_bits(xi) == 0).double().mean().item()      # 4,000 patterns
    se = math.sqrt(measured * (1 - measured) / 4000)
    assert abs(measured - hf.fixed_point_probability(500, 40)) < 5 * se + 0.02


# --- dense associative memory ---------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4])
def test_dense_flip_delta_is_the_difference_of_energies(gen, n):
    xi, s = spins((7, 9), gen), spins((5, 9), gen)
    e = hf.dense_energy(s, xi, n)
    flipped = torch.stack([hf.dense_energy(s * torch.where(torch.arange(9) == i, -1.0, 1.0)
                                           .double(), xi, n) for i in range(9)], dim=-1)
    assert torch.allclose(hf.dense_flip_delta(s, xi, n), flipped - e[:, None])


def test_dense_energy_is_the_sum_over_patterns(gen):
    xi, s = spins((4, 6), gen), spins((3, 6), gen)
    for n in (2, 3):
        want = torch.tensor([-sum(float(xi[m] @ s[b]) ** n for m in range(4)) for b in range(3)],
                            dtype=torch.float64)
        assert torch.allclose(hf.dense_energy(s, xi, n), want)


def test_dense_memory_with_n_2_is_the_classical_network(gen):
    xi, s = spins((11, 40), gen), spins((6, 40), gen)           # N even, P odd: no ties
    W = hf.hebbian_weights(xi)
    n_, p_ = 40, 11
    assert torch.allclose(hf.dense_energy(s, xi, 2), 2 * n_ * hf.energy(s, W) - p_ * n_)
    h = hf.local_field(s, W)
    assert torch.allclose(hf.dense_flip_delta(s, xi, 2), 2 * n_ * (2 * s * h))
    a, _ = hf.dense_async_sweep(s, xi, 2, order="fixed")
    assert torch.equal(a, hf.async_sweep(s, W, order="fixed"))
    assert torch.equal(hf.dense_unstable_bits(xi, 2), hf.unstable_bits(xi))


def test_dense_dynamics_descend_and_stop_at_fixed_points(gen):
    xi = spins((60, 30), gen)
    cues = hf.corrupt(xi[:8], 0.2, gen)
    e0 = hf.dense_energy(cues, xi, 3)
    s, flips = hf.dense_async_sweep(cues, xi, 3, generator=gen)
    assert (hf.dense_energy(s, xi, 3) <= e0).all() and flips.sum() > 0
    ends, converged = hf.dense_run_async(cues, xi, 3, generator=gen)
    assert converged.all()
    assert (hf.dense_flip_delta(ends, xi, 3) >= 0).all(), "no single flip lowers the energy"


def test_dense_memory_stores_many_more_patterns(gen):
    xi = spins((120, 60), gen)                                  # P = 2 N
    assert (hf.dense_unstable_bits(xi, 3) == 0).double().mean() > 0.85
    assert (hf.dense_unstable_bits(xi, 2) == 0).double().mean() < 0.1


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, exc, msg", [
    (lambda: hf.hebbian_weights(torch.tensor([[0.0, 1.0, 1.0]])), ValueError,
     r"patterns must contain only -1 and \+1, got values \{0, 1\}"),
    (lambda: hf.hebbian_weights(torch.tensor([[1.0, -1.0, 0.5]])), ValueError, "0.5"),
    (lambda: hf.hebbian_weights(torch.ones(4)), ValueError, "patterns must have 2 or 3 dim"),
    (lambda: hf.hebbian_weights(torch.ones(2, 3, dtype=torch.long)), TypeError, "floating"),
    (lambda: hf.energy(torch.ones(2, 3), torch.zeros(4, 4)), ValueError, "last dimension N = 4"),
    (lambda: hf.energy(torch.ones(3), torch.zeros(3, 4)), ValueError, "W must be square"),
    (lambda: hf.energy(torch.ones(2, 3), torch.zeros(2, 3, 3)), ValueError, r"\(K, B, N\)"),
    (lambda: hf.energy(torch.ones(2, 3), torch.zeros(3, 3), torch.zeros(4)), ValueError,
     r"theta must broadcast to the states. shape \(2, 3\), got shape \(4,\)"),
    (lambda: hf.async_update(torch.ones(2, 3), torch.zeros(3, 3), 3), ValueError, "i must be <= 2"),
    (lambda: hf.async_sweep(torch.ones(2, 3), torch.zeros(3, 3), order="any"), ValueError,
     "order must be one of"),
    (lambda: hf.run_async(torch.ones(2, 3), torch.zeros(3, 3), max_sweeps=0), ValueError,
     "max_sweeps must be >= 1"),
    (lambda: hf.run_async(torch.ones(2, 3), torch.zeros(3, 3), generator=1), TypeError,
     "torch.Generator"),
    (lambda: hf.corrupt(torch.ones(2, 3), 1.5), ValueError, "fraction must be in"),
    (lambda: hf.overlap(torch.ones(2, 3), torch.ones(2, 4)), ValueError, "same last dimension"),
    (lambda: hf.dense_energy(torch.ones(2, 3), torch.ones(2, 3), 1), ValueError, "n must be >= 2"),
    (lambda: hf.dense_flip_delta(torch.ones(2, 3), torch.zeros(2, 3), 3), ValueError,
     "patterns must contain only"),
    (lambda: hf.random_patterns(0, 5), ValueError, "n_patterns must be >= 1"),
    (lambda: hf.mceliece_capacity(1), ValueError, "n_neurons must be > 1"),
    (lambda: hf.picture_patterns(20), ValueError, "multiple of 16"),
    (lambda: hf.retrieval_overlaps(100, [], starts_per_network=2, networks_per_load=1),
     ValueError, "loads must not be empty"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# --- bad input found by tests/bad_input (specs_hopfield.py) ---------------------------------

W3 = hf.hebbian_weights(torch.tensor([[1.0, -1.0, 1.0]]))


@pytest.mark.parametrize("call, exc, msg", [
    # states checked even when no step is taken
    (lambda: hf.sync_trajectory("x", W3, n_steps=0), TypeError, "s must be a torch.Tensor"),
    (lambda: hf.sync_trajectory(torch.ones(2, 4), W3, n_steps=0), ValueError,
     "s must have last dimension N = 3"),
    # the states' own argument names, not the helper's
    (lambda: hf.sync_lyapunov(torch.zeros(2, 3), torch.ones(2, 3), W3), ValueError,
     "s_prev must contain only -1 and"),
    (lambda: hf.corrupt_and_retrieve(torch.full((2, 3), float("nan")), W3, 0.1), ValueError,
     "patterns must hold finite values"),
    (lambda: hf.corrupt_and_retrieve(torch.ones(2, 4), W3, 0.1), ValueError,
     "patterns must have last dimension N = 3"),
    (lambda: hf.dense_run_async("x", torch.ones(2, 3), 3), TypeError, "s must be a torch.Tensor"),
    (lambda: hf.dense_run_async(torch.ones(2, 3), torch.ones(2, 3), 3, order="any"), ValueError,
     "order must be one of"),
    # thresholds of the sign rule: finite and broadcastable to h
    (lambda: hf.sign_update(torch.zeros(2, 3), float("nan")), ValueError, "theta must be finite"),
    (lambda: hf.sign_update(torch.zeros(2, 3), "0"), TypeError, "theta must be a real number"),
    (lambda: hf.sign_update(torch.zeros(2, 3), torch.zeros(2)), ValueError,
     r"theta must broadcast to the shape of h \(2, 3\), got shape \(2,\)"),
    (lambda: hf.sign_update(torch.zeros(3), torch.zeros(2, 3)), ValueError,
     r"theta must broadcast to the shape of h \(3,\), got shape \(2, 3\)"),
    # loads, flip_fraction and the other arguments of retrieval_overlaps, before any work
    (lambda: hf.retrieval_overlaps(20, [0.1, float("nan")], starts_per_network=1,
                                   networks_per_load=1), ValueError, r"loads\[1\] must be finite, got nan"),
    (lambda: hf.retrieval_overlaps(20, [0.1, float("inf")], starts_per_network=1,
                                   networks_per_load=1), ValueError, r"loads\[1\] must be finite, got inf"),
    (lambda: hf.retrieval_overlaps(20, torch.tensor(0.1), starts_per_network=1,
                                   networks_per_load=1), ValueError, "loads must be one-dim"),
    (lambda: hf.retrieval_overlaps(20, "0.1", starts_per_network=1, networks_per_load=1),
     TypeError, "loads must be a sequence"),
    (lambda: hf.retrieval_overlaps(20, [0.1], starts_per_network=1, networks_per_load=1,
                                   flip_fraction=float("nan")), ValueError,
     "flip_fraction must be finite"),
    (lambda: hf.retrieval_overlaps(20, [0.1], starts_per_network=1, networks_per_load=1,
                                   flip_fraction=1.5), ValueError,
     r"flip_fraction must be in \[0, 1\]"),
    (lambda: hf.retrieval_overlaps(20, [0.1], starts_per_network=1, networks_per_load=1,
                                   correlation=1.5), ValueError,
     r"correlation must be in \[0, 1\]"),
    (lambda: hf.retrieval_overlaps(20, [0.1], starts_per_network=1, networks_per_load=1,
                                   generator=0), TypeError, "generator must be a torch.Generator"),
    # level_crossing: sequences of finite numbers, named
    (lambda: hf.level_crossing(torch.tensor(1.0), [1.0], 0.5), ValueError, "x must be one-dim"),
    (lambda: hf.level_crossing([1.0, 2.0], [1.0, float("nan")], 0.5), ValueError,
     r"y\[1\] must be finite, got nan"),
    (lambda: hf.level_crossing([1.0, -2.0], [1.0, 0.0], 0.5, log_x=True), ValueError,
     r"x\[1\] must be > 0, got -2.0"),
    (lambda: hf.level_crossing([1.0, 2.0], [1.0, "a"], 0.5), TypeError,
     r"y\[1\] must be a real number, got str 'a'"),
    # integer arguments of fixed_point_fraction, checked before any work
    (lambda: hf.fixed_point_fraction(30, 4, 3, n_networks="2"), TypeError,
     "n_networks must be an integer"),
    (lambda: hf.fixed_point_fraction(30.0, 4), TypeError, "n_neurons must be an integer"),
    (lambda: hf.fixed_point_fraction(30, 4, generator=1), TypeError, "torch.Generator"),
    # an empty batch of states; states and weights of different dtypes
    (lambda: hf.local_field(torch.zeros(0, 3), W3), ValueError, "s must not be empty"),
    (lambda: hf.energy(torch.ones(2, 3, dtype=torch.float64), W3), TypeError,
     "s and W must have the same dtype"),
    (lambda: hf.overlap(torch.ones(2, 3, dtype=torch.float64), torch.ones(1, 3)), TypeError,
     "s and patterns must have the same dtype"),
    # the helper's own arguments, and flags
    (lambda: hf.check_spins("x", torch.ones(3), ndim="2"), TypeError, "ndim must be None"),
    (lambda: hf.check_spins(3, torch.ones(3)), TypeError, "name must be a string"),
    (lambda: hf.mceliece_capacity(100, every_pattern=1), TypeError, "every_pattern must be True"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bad_input_integer_likes_are_accepted_as_ints():
    np = pytest.importorskip("numpy")
    xi = hf.random_patterns(np.int64(3), np.int32(6), torch.Generator().manual_seed(0))
    assert xi.shape == (3, 6)
    s = xi.clone()
    W = hf.hebbian_weights(xi)
    assert torch.equal(hf.async_update(s, W, np.int64(2)), hf.async_update(s, W, 2))
    assert torch.equal(hf.dense_flip_delta(s, xi, np.int64(3)), hf.dense_flip_delta(s, xi, 3))
    g = torch.Generator
    assert torch.equal(hf.fixed_point_fraction(np.int64(30), np.int64(4), n_networks=np.int64(2),
                                               generator=g().manual_seed(1)),
                       hf.fixed_point_fraction(30, 4, n_networks=2, generator=g().manual_seed(1)))


def test_bad_input_sequences_may_be_tensors_or_arrays():
    np = pytest.importorskip("numpy")
    x, y = [1.0, 2.0, 3.0, 4.0], [1.0, 0.8, 0.4, 0.2]
    want = hf.level_crossing(x, y, 0.5)
    assert hf.level_crossing(torch.tensor(x), torch.tensor(y), 0.5) == pytest.approx(want)
    assert hf.level_crossing(np.array(x), np.array(y), 0.5) == pytest.approx(want)
    kw = dict(starts_per_network=2, networks_per_load=2, max_sweeps=10)
    m_list = hf.retrieval_overlaps(30, [0.05, 0.1], generator=torch.Generator().manual_seed(0),
                                   **kw)
    m_tensor = hf.retrieval_overlaps(30, torch.tensor([0.05, 0.1]),
                                     generator=torch.Generator().manual_seed(0), **kw)
    assert torch.equal(m_list, m_tensor)


def test_bad_input_sign_update_takes_a_threshold_per_neuron():
    h = torch.tensor([[0.5, -0.5, 0.0], [1.0, 0.2, -1.0]])
    theta = torch.tensor([0.6, -0.6, 0.0])
    assert torch.equal(hf.sign_update(h, theta), torch.tensor([[-1.0, 1.0, 1.0], [1.0, 1.0, -1.0]]))
    assert torch.equal(hf.sign_update(h, torch.tensor(0.0)), hf.sign_update(h, 0.0))
