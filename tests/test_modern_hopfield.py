import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from companion import modern_hopfield as mh


def gaussian(shape, g, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def spins(shape, g):
    return torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).double()


def convex_combinations(patterns, n, g):
    """n random points of the convex hull of the rows of patterns (N, d) or (K, N, d)."""
    shape = (*patterns.shape[:-2], n, patterns.shape[-2])
    w = -torch.log(torch.rand(shape, generator=g, dtype=torch.float64))   # Dirichlet(1, ..., 1)
    return (w / w.sum(-1, keepdim=True)) @ patterns


# --- lse and the energy ---------------------------------------------------------------------

def test_lse_is_the_formula_and_a_smooth_maximum(gen):
    z = gaussian((7, 5), gen, 3.0)
    for beta in (0.1, 1.0, 10.0):
        want = torch.log(torch.exp(beta * z).sum(-1)) / beta
        assert torch.allclose(mh.lse(beta, z), want, atol=1e-12)
        assert (mh.lse(beta, z) >= z.max(-1).values - 1e-12).all()
        assert (mh.lse(beta, z) <= z.max(-1).values + math.log(5) / beta + 1e-12).all()


def test_energy_is_the_explicit_formula(gen):
    X, xi, beta = gaussian((6, 4), gen), gaussian((3, 4), gen, 2.0), 0.7
    e = mh.energy(xi, X, beta)
    M = max(float(x.norm()) for x in X)
    for b in range(3):
        s = sum(math.exp(beta * float(X[i] @ xi[b])) for i in range(6))
        want = -math.log(s) / beta + 0.5 * float(xi[b] @ xi[b]) + math.log(6) / beta + 0.5 * M * M
        assert abs(e[b].item() - want) < 1e-12
    assert torch.allclose(mh.energy(xi[0], X, beta), e[0])            # a single state


def test_batched_memories_equal_one_memory_at_a_time(gen):
    X, xi = gaussian((4, 6, 3), gen), gaussian((4, 5, 3), gen)
    for fn in (mh.energy, mh.update, mh.softmax_weights):
        out = fn(xi, X, 1.3)
        for k in range(4):
            assert torch.allclose(out[k], fn(xi[k], X[k], 1.3), atol=1e-12)


def test_energy_is_nonnegative_everywhere(gen):
    for n, d, beta in [(1, 3, 1.0), (5, 2, 0.01), (20, 8, 5.0), (50, 16, 100.0)]:
        X = gaussian((30, n, d), gen, 2.0)
        xi = gaussian((30, 40, d), gen, 10.0)                         # far outside the patterns too
        assert (mh.energy(xi, X, beta) >= -1e-9).all()


def test_energy_upper_bounds_hold_on_the_convex_hull(gen):
    for n, d, beta in [(2, 3, 1.0), (5, 2, 0.01), (20, 8, 5.0), (50, 16, 100.0)]:
        X = gaussian((30, n, d), gen, 2.0)
        xi = convex_combinations(X, 40, gen)
        e = mh.energy(xi, X, beta)
        M = X.norm(dim=-1).amax(-1, keepdim=True)
        assert (e <= 2 * M ** 2 + 1e-9).all(), "Lemma A1: E <= 2 M^2"
        assert (e <= math.log(n) / beta + 0.5 * M ** 2 + 1e-9).all(), "Lemma A1: E <= ln N / beta + M^2 / 2"


def test_the_upper_bound_needs_the_convex_hull(gen):
    X = gaussian((5, 3), gen)
    M = X.norm(dim=-1).max()
    far = 3 * M * torch.nn.functional.normalize(gaussian((10, 3), gen), dim=-1)
    assert (mh.energy(far, X, 1.0) > 2 * M ** 2).all()


# --- the update ------------------------------------------------------------------------------

def test_update_is_the_gradient_of_lse(gen):
    X = gaussian((7, 5), gen)
    xi = gaussian((4, 5), gen, 2.0).requires_grad_(True)
    for beta in (0.3, 2.0):
        grad, = torch.autograd.grad(mh.lse(beta, xi @ X.T).sum(), xi)
        assert torch.allclose(mh.update(xi.detach(), X, beta), grad, atol=1e-12)


def test_update_minimises_the_cccp_upper_bound(gen):
    """E = E1 + E2 with E1 = xi^T xi / 2 + const convex and E2 = -lse concave; the CCCP bound
    E_C(v, xi) = E1(v) + E2(xi) + (v - xi)^T grad E2(xi) lies above E, touches it at xi, and
    its minimiser is the update."""
    X, beta = gaussian((6, 3), gen), 1.5
    xi = gaussian((5, 3), gen, 2.0).requires_grad_(True)
    g2, = torch.autograd.grad(-mh.lse(beta, xi @ X.T).sum(), xi)        # grad E2(xi) by autograd
    xi = xi.detach()
    c1 = math.log(6) / beta + 0.5 * X.norm(dim=-1).max() ** 2
    e2 = -mh.lse(beta, xi @ X.T)

    def bound(v):                                                      # written out by hand
        return 0.5 * (v * v).sum(-1) + c1 + e2 + ((v - xi) * g2).sum(-1)

    assert torch.allclose(bound(xi), mh.energy(xi, X, beta), atol=1e-12)
    for _ in range(20):
        v = gaussian((5, 3), gen, 3.0)
        assert torch.allclose(mh.cccp_bound(v, xi, X, beta), bound(v), atol=1e-12)
        assert (bound(v) >= mh.energy(v, X, beta) - 1e-12).all()
    new = mh.update(xi, X, beta)
    assert torch.allclose(new, -g2, atol=1e-12), "the minimiser of E_C is -grad E2"
    for _ in range(20):
        assert (bound(new) <= bound(new + 0.1 * gaussian((5, 3), gen))).all()


def test_the_energy_never_increases_under_the_update(gen):
    for n, d in [(2, 2), (10, 5), (40, 16)]:
        X = gaussian((100, n, d), gen, 1.5)
        xi = gaussian((100, 8, d), gen, 4.0)
        for beta in (0.05, 1.0, 20.0):
            state = xi
            e = mh.energy(state, X, beta)
            for _ in range(15):
                state = mh.update(state, X, beta)
                e_new = mh.energy(state, X, beta)
                assert (e_new <= e + 1e-10).all(), "the energy went up"
                e = e_new


def test_the_update_lands_in_the_convex_hull(gen):
    X, xi = gaussian((9, 4), gen), gaussian((50, 4), gen, 20.0)
    p = mh.softmax_weights(xi, X, 0.8)
    assert (p >= 0).all() and torch.allclose(p.sum(-1), torch.ones(50, dtype=torch.float64))
    assert (mh.update(xi, X, 0.8).norm(dim=-1) <= X.norm(dim=-1).max() + 1e-12).all()


def test_retrieve_stops_at_a_fixed_point(gen):
    X, xi = gaussian((8, 3), gen), gaussian((6, 3), gen)
    out = mh.retrieve(xi, X, 2.0, max_steps=500, tol=1e-12, return_trajectory=True)
    assert out.converged.all()
    assert torch.allclose(mh.update(out.state, X, 2.0), out.state, atol=1e-10)
    assert out.trajectory.shape[1:] == xi.shape and torch.equal(out.trajectory[0], xi)
    assert int(out.steps.max()) <= out.trajectory.shape[0] - 1
    fixed = mh.retrieve(xi, X, 2.0, n_steps=3)
    manual = mh.update(mh.update(mh.update(xi, X, 2.0), X, 2.0), X, 2.0)
    assert torch.allclose(fixed.state, manual)
    single = mh.retrieve(xi[0], X, 2.0, max_steps=500, tol=1e-12)
    assert torch.allclose(single.state, out.state[0]) and single.state.shape == (3,)


def test_small_beta_averages_large_beta_retrieves(gen):
    X = mh.sphere_patterns(10, 6, 1.0, gen, dtype=torch.float64)
    mean = X.mean(0)
    low = mh.retrieve(X, X, 1e-3, max_steps=200).state
    assert (low - mean).norm(dim=-1).max() < 1e-2, "small beta: the fixed point is near the mean"
    high = mh.retrieve(X, X, 200.0, max_steps=200).state
    assert (high - X).norm(dim=-1).max() < 1e-6, "large beta: every pattern is a fixed point"


# --- one-step retrieval ------------------------------------------------------------------------

def test_separation_is_the_brute_force_minimum(gen):
    X = gaussian((7, 4), gen)
    delta = mh.separation(X)
    for i in range(7):
        want = min(float(X[i] @ X[i] - X[i] @ X[j]) for j in range(7) if j != i)
        assert abs(delta[i].item() - want) < 1e-12
    S = mh.sphere_patterns(7, 4, 2.0, gen, dtype=torch.float64)
    half_dist = 0.5 * torch.cdist(S, S).add(torch.eye(7, dtype=torch.float64) * 1e9).amin(-1) ** 2
    assert torch.allclose(mh.separation(S), half_dist, atol=1e-12)


def test_one_step_error_for_two_patterns_is_a_logistic_of_beta_delta(gen):
    x = gaussian((2, 5), gen)
    delta = float(x[0] @ x[0] - x[0] @ x[1])
    for beta in (0.1, 1.0, 3.0, 10.0):
        err = (mh.update(x[0], x, beta) - x[0]).norm().item()
        want = (x[0] - x[1]).norm().item() / (1 + math.exp(beta * delta))
        assert abs(err - want) <= 1e-12 * (1 + want)


def test_one_step_error_is_below_the_bound_of_theorem_5(gen):
    for n, d, beta in [(5, 8, 1.0), (30, 16, 0.5), (100, 32, 2.0)]:
        X = gaussian((n, d), gen)
        idx = torch.arange(n)
        xi = X + gaussian((n, d), gen, 0.05)
        err = (mh.update(xi, X, beta) - X).norm(dim=-1)
        star = mh.retrieve(X, X, beta, max_steps=1000, tol=1e-13).state
        assert (err <= mh.retrieval_error_bound(xi, X, beta, idx) * (1 + 1e-9)).all()
        assert (err <= mh.retrieval_error_bound(xi, X, beta, idx, fixed_point=star) * (1 + 1e-9)).all()


def test_one_step_error_decays_exponentially_with_separation(gen):
    """For patterns on a sphere, a larger beta Delta gives a smaller one-step error, and the
    logarithm of the error falls with slope about -1 in beta Delta."""
    X = mh.sphere_patterns(20, 8, 2.0, gen, dtype=torch.float64)
    delta = mh.separation(X)
    betas = [2.0, 4.0, 6.0, 8.0]
    errs = torch.stack([(mh.update(X, X, b) - X).norm(dim=-1) for b in betas])   # (4, 20)
    assert (errs[1:] < errs[:-1]).all()
    slopes = (errs[-1].log() - errs[-2].log()) / ((betas[-1] - betas[-2]) * delta)
    assert ((slopes + 1).abs() < 0.3).all(), slopes


def test_fixed_point_lies_as_close_as_equation_9_says(gen):
    X = mh.sphere_patterns(12, 10, 3.0, gen, dtype=torch.float64)
    beta = 3.0
    star = mh.retrieve(X, X, beta, max_steps=1000, tol=1e-14).state
    dist = (star - X).norm(dim=-1)
    ok = dist <= 1 / (2 * beta * 3.0)                                  # the condition of Eq. 9
    assert ok.any()
    assert (dist[ok] <= mh.fixed_point_error_bound(X, beta)[ok]).all()


# --- capacity -------------------------------------------------------------------------------------

def test_lambert_w0_inverts_w_exp_w():
    for x in (-1 / math.e + 1e-9, -0.2, 1e-8, 0.39, 1.0, math.e, 3.57, 1e6):
        w = mh.lambert_w0(x)
        assert abs(w * math.exp(w) - x) <= 1e-12 * max(1.0, abs(x))
    scipy_special = pytest.importorskip("scipy.special")
    for x in (0.1, 2.0, 50.0):
        assert abs(mh.lambert_w0(x) - scipy_special.lambertw(x).real) < 1e-12
    assert abs(mh.lambert_w0(1.0) - 0.56714329040978) < 1e-12          # the omega constant


def test_storage_capacity_reproduces_the_constants_of_theorem_3():
    high = mh.storage_capacity(beta=1.0, K=3.0, d=20, p=0.001)
    low = mh.storage_capacity(beta=1.0, K=1.0, d=75, p=0.001)
    assert abs(high.c - 3.1546) < 1e-4 and high.a + math.log(high.b) > 1.27
    assert abs(low.c - 1.3718) < 1e-4 and low.a + math.log(low.b) < -0.94
    assert high.holds and low.holds
    assert high.n_patterns == pytest.approx(math.sqrt(0.001) * high.c ** (19 / 4))
    assert high.radius == pytest.approx(3 * math.sqrt(19))


def test_sphere_patterns_have_the_radius(gen):
    X = mh.sphere_patterns(100, 7, 2.5, gen, dtype=torch.float64)
    assert torch.allclose(X.norm(dim=-1), torch.full((100,), 2.5, dtype=torch.float64))
    assert mh.sphere_patterns(5, 3, n_sets=4, generator=gen).shape == (4, 5, 3)


def test_noisy_queries_keep_the_norm_and_sit_at_the_expected_cosine(gen):
    X = mh.sphere_patterns(500, 256, 3.0, gen, dtype=torch.float64)
    X = X * (0.5 + torch.rand(500, 1, generator=gen, dtype=torch.float64))   # unequal norms
    for noise in (0.5, 1.0, 2.0):
        q, i = mh.noisy_queries(X, 400, gen, noise=noise)
        assert len(set(i.tolist())) == 400                        # without replacement
        assert torch.allclose(q.norm(dim=-1), X[i].norm(dim=-1), atol=1e-12)
        cos = F.cosine_similarity(q, X[i], dim=-1)
        # x + s|x| z / sqrt(d) with |z|^2 / d -> 1: the cosine tends to 1 / sqrt(1 + s^2)
        want = 1 / math.sqrt(1 + noise ** 2)
        assert abs(cos.mean().item() - want) < 4 * cos.std().item() / 20 + 0.01, (noise, cos.mean())
    q, i = mh.noisy_queries(X[:3], 50, gen, noise=0.0)             # more queries than patterns
    assert i.max() < 3 and torch.allclose(q, X[:3][i])


def test_circle_groups_are_spaced_on_the_circle():
    X, group = mh.circle_groups([20.0, 120.0, 235.0], [5, 4, 3], 11.0, 2.0)
    assert X.shape == (12, 2) and group.tolist() == [0] * 5 + [1] * 4 + [2] * 3
    assert torch.allclose(X.norm(dim=-1), torch.full((12,), 2.0, dtype=torch.float64))
    for c, centre in enumerate((20.0, 120.0, 235.0)):
        P = X[group == c]
        angles = torch.rad2deg(torch.acos((P[1:] * P[:-1]).sum(-1) / 4))   # between neighbours
        assert torch.allclose(angles, torch.full_like(angles, 11.0), atol=1e-9)
        mean = P.mean(0)                                          # points along the centre angle
        assert abs(math.degrees(math.atan2(mean[1], mean[0])) % 360 - centre) < 1e-9


def test_count_distinct_counts_clusters(gen):
    centres = 10 * gaussian((5, 3), gen)
    points = centres[torch.randint(5, (200,), generator=gen)] + 1e-5 * gaussian((200, 3), gen)
    assert mh.count_distinct(points, tol=1e-3) == len(set(torch.cdist(points, centres).argmin(-1).tolist()))
    assert mh.count_distinct(points, tol=0.0) == 200             # no two noisy points coincide
    assert mh.count_distinct(points, tol=1e3) == 1


# --- binary dense associative memory with F(x) = exp(x) ---------------------------------------

def test_exp_dam_energy_is_the_direct_sum(gen):
    X, s = spins((9, 6), gen), spins((5, 6), gen)
    e = mh.exp_dam_energy(s, X)
    for b in range(5):
        want = -sum(math.exp(float(X[m] @ s[b])) for m in range(9))
        assert abs(e[b].item() - want) <= 1e-12 * abs(want)


def test_exp_dam_flip_delta_is_a_difference_of_energies(gen):
    X, s = spins((11, 7), gen), spins((4, 7), gen)
    delta = mh.exp_dam_flip_delta(s, X)
    for j in range(7):
        flipped = s.clone()
        flipped[:, j] *= -1
        want = mh.exp_dam_energy(flipped, X) - mh.exp_dam_energy(s, X)
        assert torch.allclose(delta[:, j], want, rtol=1e-10)


def test_exp_dam_update_is_demircigils_map(gen):
    X, s = spins((10, 6), gen), spins((8, 6), gen)
    new = mh.exp_dam_update(s, X)
    for b, j in itertools.product(range(8), range(6)):
        rest = [float(sum(X[m, l] * s[b, l] for l in range(6) if l != j)) for m in range(10)]
        t = sum(math.exp(X[m, j].item() + rest[m]) - math.exp(-X[m, j].item() + rest[m])
                for m in range(10))
        assert new[b, j].item() == (1.0 if t > 0 else -1.0)


def test_exp_dam_stores_many_patterns_and_counts_unstable_bits(gen):
    X = spins((200, 20), gen)                                          # 10 times the neurons
    bad = mh.exp_dam_unstable_bits(X, chunk=37)
    assert torch.equal(bad, (mh.exp_dam_update(X, X) != X).sum(-1))
    assert (bad == 0).double().mean() > 0.95
    assert mh.exp_dam_unstable_bits(X, n_test=10).shape == (10,)
    assert (mh.exp_dam_update(X, X) == X).all(-1).double().mean() > 0.95
    cues = spins((3, 7, 20), gen)
    assert torch.equal(mh.exp_dam_update(cues, X, chunk=4), mh.exp_dam_update(cues, X))


# --- Hopfield layers and attention -------------------------------------------------------------

def _layer(gen, **kw):
    return mh.HopfieldLayer(8, 5, 8, generator=gen, **kw).double()


def test_hopfield_layer_is_scaled_dot_product_attention(gen):
    layer = _layer(gen)
    R, Y = gaussian((3, 4, 8), gen), gaussian((3, 6, 5), gen)
    q, k, v = layer.q_proj(R), layer.k_proj(Y), layer.v_proj(Y)
    with torch.no_grad():
        assert torch.allclose(layer(R, Y), F.scaled_dot_product_attention(q, k, v), atol=1e-12)
        hot = _layer(gen, beta=3.0)
        q, k, v = hot.q_proj(R), hot.k_proj(Y), hot.v_proj(Y)
        assert torch.allclose(hot(R, Y), F.scaled_dot_product_attention(q, k, v, scale=3.0),
                              atol=1e-12)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_hopfield_layer_equals_multihead_attention_with_copied_weights(gen, dtype, tol):
    layer = mh.HopfieldLayer(8, 5, 8, generator=gen).to(dtype)
    mha = torch.nn.MultiheadAttention(8, 1, kdim=5, vdim=5, batch_first=True).to(dtype)
    with torch.no_grad():
        mha.q_proj_weight.copy_(layer.q_proj.weight)
        mha.k_proj_weight.copy_(layer.k_proj.weight)
        mha.v_proj_weight.copy_(layer.v_proj.weight)
        mha.in_proj_bias.copy_(torch.cat([layer.q_proj.bias, layer.k_proj.bias, layer.v_proj.bias]))
        mha.out_proj.weight.copy_(torch.eye(8))
        mha.out_proj.bias.zero_()
        R, Y = gaussian((3, 4, 8), gen).to(dtype), gaussian((3, 6, 5), gen).to(dtype)
        z_mha, w_mha = mha(R, Y, Y)
        z, w = layer(R, Y, return_weights=True)
    assert (z - z_mha).abs().max() < tol and (w - w_mha).abs().max() < tol


def test_hopfield_layer_is_the_update_in_the_hopfield_space(gen):
    layer = _layer(gen, n_steps=3)
    R, Y = gaussian((2, 4, 8), gen), gaussian((2, 6, 5), gen)
    with torch.no_grad():
        q, k, v = layer.q_proj(R), layer.k_proj(Y), layer.v_proj(Y)
        xi = mh.retrieve(q, k, layer.beta, n_steps=2).state
        want = mh.softmax_weights(xi, k, layer.beta) @ v
        assert torch.allclose(layer(R, Y), want, atol=1e-12)
        assert torch.allclose(layer(R[0], Y[0]), want[0], atol=1e-12)      # unbatched


def test_hopfield_pooling_is_permutation_invariant_attention(gen):
    pool = mh.HopfieldPooling(5, 6, 4, n_queries=2, generator=gen).double()
    Y = gaussian((3, 7, 5), gen)
    with torch.no_grad():
        z, w = pool(Y, return_weights=True)
        q = pool.query.expand(3, -1, -1)
        want = F.scaled_dot_product_attention(q, pool.k_proj(Y), pool.v_proj(Y))
        assert torch.allclose(z, want, atol=1e-12)
        assert z.shape == (3, 2, 4) and torch.allclose(w.sum(-1), torch.ones(3, 2, dtype=torch.float64))
        perm = torch.randperm(7, generator=gen)
        assert torch.allclose(pool(Y[:, perm]), z, atol=1e-12)


def test_bag_classifier_and_motif_bags(gen):
    motif = 5 * torch.nn.functional.normalize(gaussian((8,), gen), dim=0)
    bags, labels, where = mh.motif_bags(200, 10, motif, noise=0.0, generator=gen)
    assert bags.shape == (200, 10, 8) and set(labels.tolist()) <= {0.0, 1.0}
    pos = labels > 0
    assert torch.equal(bags[pos, where[pos]], motif.expand(int(pos.sum()), 8))
    assert (where[~pos] == -1).all()
    mean_model = mh.BagClassifier(8, pooling="mean", generator=gen).double()
    with torch.no_grad():
        assert torch.allclose(mean_model(bags), mean_model.readout(bags.mean(1)).squeeze(-1))
        assert torch.allclose(mean_model.attention(bags), torch.full((200, 10), 0.1, dtype=torch.float64))


def test_hopfield_pooling_learns_to_find_the_motif(gen):
    motif = 5 * torch.nn.functional.normalize(torch.randn(8, generator=gen), dim=0)
    bags, labels, where = mh.motif_bags(600, 16, motif, generator=gen)
    model = mh.BagClassifier(8, 8, generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(3):
        for i in range(0, 600, 50):
            loss = F.binary_cross_entropy_with_logits(model(bags[i:i + 50]), labels[i:i + 50])
            opt.zero_grad()
            loss.backward()
            opt.step()
    test, test_labels, test_where = mh.motif_bags(400, 16, motif, generator=gen)
    with torch.no_grad():
        acc = ((model(test) > 0).float() == test_labels).float().mean()
        pos = test_labels > 0
        on_motif = model.attention(test)[pos, test_where[pos]].mean()
    assert acc > 0.9 and on_motif > 0.5, (acc, on_motif)


# --- errors ------------------------------------------------------------------------------------------

X3 = torch.ones(4, 3)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: mh.energy(torch.ones(3), X3, 0.0), ValueError, "beta must be > 0, got 0.0"),
    (lambda: mh.energy(torch.ones(3), X3, -1.0), ValueError, "beta must be > 0"),
    (lambda: mh.update(torch.ones(3), X3, float("nan")), ValueError, "beta must be finite"),
    (lambda: mh.energy(torch.ones(3), X3, "1"), TypeError, "beta must be a real number"),
    (lambda: mh.update(torch.ones(4), X3, 1.0), ValueError, "xi must have last dimension d = 3"),
    (lambda: mh.energy(torch.ones(2, 5, 3), X3, 1.0), ValueError, r"shape \(d,\) or \(B, d\)"),
    (lambda: mh.energy(torch.ones(2, 3), torch.ones(2, 4, 3), 1.0), ValueError, r"\(K, B, d\)"),
    (lambda: mh.update(torch.ones(3), torch.ones(0, 3), 1.0), ValueError, "patterns must not be empty"),
    (lambda: mh.update(torch.ones(0), torch.ones(4, 0), 1.0), ValueError, "patterns must not be empty"),
    (lambda: mh.update(torch.ones(3), torch.ones(3), 1.0), ValueError, "patterns must have 2 or 3 dim"),
    (lambda: mh.update(torch.ones(3), torch.ones(4, 3, dtype=torch.long), 1.0), TypeError, "floating"),
    (lambda: mh.update(torch.ones(3), X3.double(), 1.0), TypeError, "same dtype"),
    (lambda: mh.lse(1.0, torch.ones(2, 0)), ValueError, "non-empty last axis"),
    (lambda: mh.cccp_bound(torch.ones(2, 3), torch.ones(3), X3, 1.0), ValueError, "xi must have xi_t's shape"),
    (lambda: mh.retrieve(torch.ones(3), X3, 1.0, max_steps=0), ValueError, "max_steps must be >= 1"),
    (lambda: mh.retrieve(torch.ones(3), X3, 1.0, tol=-1.0), ValueError, "tol must be >= 0"),
    (lambda: mh.separation(torch.ones(1, 3)), ValueError, "at least two patterns"),
    (lambda: mh.retrieval_error_bound(torch.ones(3), X3, 1.0, 4), ValueError, r"index must lie in \[0, 3\]"),
    (lambda: mh.retrieval_error_bound(torch.ones(2, 3), X3, 1.0, torch.zeros(3, dtype=torch.long)),
     ValueError, "leading shape"),
    (lambda: mh.retrieval_error_bound(torch.ones(3), X3, 1.0, 0.5), TypeError, "index must be an integer"),
    (lambda: mh.retrieval_error_bound(torch.ones(3), X3, 1.0, 0, fixed_point=torch.ones(2)),
     ValueError, "fixed_point must have xi's shape"),
    (lambda: mh.storage_capacity(1.0, 3.0, 20, 1.5), ValueError, r"p must be a failure probability in \(0, 1\]"),
    (lambda: mh.storage_capacity(0.0, 3.0, 20, 0.1), ValueError, "beta must be > 0"),
    (lambda: mh.storage_capacity(1.0, 3.0, 1, 0.1), ValueError, "d must be >= 2"),
    (lambda: mh.lambert_w0(-1.0), ValueError, "x must be >= -1/e"),
    (lambda: mh.sphere_patterns(0, 3), ValueError, "n must be >= 1"),
    (lambda: mh.exp_dam_energy(torch.ones(2, 3), torch.zeros(4, 3)), ValueError, "only -1 and \\+1"),
    (lambda: mh.exp_dam_update(torch.ones(2, 4), torch.ones(4, 3)), ValueError, "same last dimension d"),
    (lambda: mh.exp_dam_unstable_bits(torch.ones(4, 3), n_test=5), ValueError, "n_test must be <= 4"),
    (lambda: mh.HopfieldLayer(8, 5, 8)(torch.ones(4, 7), torch.ones(6, 5)), ValueError,
     "R must have last dimension 8"),
    (lambda: mh.HopfieldLayer(8, 5, 8)(torch.ones(2, 4, 8), torch.ones(6, 5)), ValueError,
     "both be batched"),
    (lambda: mh.HopfieldLayer(8, 5, 8, beta=-1.0), ValueError, "beta must be > 0"),
    (lambda: mh.HopfieldLayer(8, 5, 0), ValueError, "hopfield_dim must be >= 1"),
    (lambda: mh.HopfieldPooling(5, 6)(torch.ones(7, 5)), ValueError, "Y must have 3 dim"),
    (lambda: mh.hopfield_attention(torch.ones(2, 4), torch.ones(3, 5), torch.ones(3, 2), 1.0),
     ValueError, "same last dimension d_k"),
    (lambda: mh.hopfield_attention(torch.ones(2, 4), torch.ones(3, 4), torch.ones(2, 2), 1.0),
     ValueError, "same, non-zero number of keys and values"),
    (lambda: mh.hopfield_attention(torch.ones(2, 4), torch.ones(3, 4), torch.ones(3, 2), 1.0, 0),
     ValueError, "n_steps must be >= 1"),
    (lambda: mh.BagClassifier(5, pooling="max"), ValueError, "pooling must be one of"),
    (lambda: mh.motif_bags(10, 4, torch.ones(3), noise=-0.1), ValueError, "noise must be >= 0"),
    (lambda: mh.motif_bags(10, 4, torch.ones(3), generator=3), TypeError, "torch.Generator"),
    (lambda: mh.motif_bags(10, 4, torch.ones(0)), ValueError, "motif must not be empty"),
    (lambda: mh.cccp_bound(torch.full((3,), float("nan")), torch.ones(3), X3, 1.0), ValueError,
     "xi must hold finite values"),
    (lambda: mh.noisy_queries(X3, 0), ValueError, "n_queries must be >= 1"),
    (lambda: mh.noisy_queries(torch.zeros(4, 3), 2), ValueError, "non-zero norm"),
    (lambda: mh.circle_groups([0.0, 90.0], [3], 10.0), ValueError, "same length"),
    (lambda: mh.circle_groups([0.0], [0], 10.0), ValueError, r"sizes\[0\] must be >= 1, got 0"),
    (lambda: mh.count_distinct(torch.ones(0, 2)), ValueError, "points must not be empty"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
