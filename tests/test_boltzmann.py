import math

import pytest
import torch

from companion import boltzmann
from companion.boltzmann import (DBM, RBM, AISResult, PersistentChains, ais_betas,
                                  ais_log_partition, ais_log_weights, all_binary_states,
                                  gibbs_transition_matrix, independent_log_prob,
                                  marginal_logits, raise_log_prob, reverse_ais_log_partition,
                                  reverse_ais_log_weights)


@pytest.fixture
def rbm():
    return RBM(5, 3, init_std=1.0, generator=torch.Generator().manual_seed(0)).double()


def joint_energies(rbm):
    v = all_binary_states(rbm.n_visible, torch.float64)
    h = all_binary_states(rbm.n_hidden, torch.float64)
    e = torch.stack([rbm.energy(v, hh.expand(len(v), -1)) for hh in h], dim=1)   # (V, H)
    return v, h, e


def test_all_binary_states_enumerates_every_vector():
    s = all_binary_states(3)
    assert s.shape == (8, 3) and len({tuple(r.tolist()) for r in s}) == 8


def test_energy_is_the_formula(rbm):
    v = torch.tensor([[1.0, 0, 1, 1, 0]], dtype=torch.float64)
    h = torch.tensor([[0.0, 1, 1]], dtype=torch.float64)
    want = -(v @ rbm.a) - (h @ rbm.b) - (v @ rbm.W @ h.T).squeeze()
    assert torch.allclose(rbm.energy(v, h), want)


def test_free_energy_sums_out_the_hidden_units(rbm):
    v, _, e = joint_energies(rbm)
    assert torch.allclose(rbm.free_energy(v), -torch.logsumexp(-e, dim=1))


def test_conditionals_match_enumeration(rbm):
    v, h, e = joint_energies(rbm)
    post = torch.softmax(-e, dim=1)                         # p(h | v) for every v
    assert torch.allclose(rbm.p_h_given_v(v), post @ h)     # marginals p(h_j = 1 | v)
    # p(v | h) from the joint, for every h
    joint = torch.softmax(-e.flatten(), 0).reshape(e.shape)
    p_v_given_h = joint / joint.sum(0, keepdim=True)
    assert torch.allclose(rbm.p_v_given_h(h), p_v_given_h.T @ v)


def test_log_partition_three_ways(rbm):
    _, _, e = joint_energies(rbm)
    brute = torch.logsumexp(-e.flatten(), 0)
    assert torch.allclose(rbm.log_partition(), brute)
    wide = RBM(3, 5, init_std=1.0, generator=torch.Generator().manual_seed(1)).double()
    _, _, e2 = joint_energies(wide)
    assert torch.allclose(wide.log_partition(), torch.logsumexp(-e2.flatten(), 0))
    v = all_binary_states(5, torch.float64)
    assert abs(rbm.log_prob(v).exp().sum().item() - 1) < 1e-12


def test_block_gibbs_samples_the_model(rbm):
    g = torch.Generator().manual_seed(2)
    v = (torch.rand(40000, 5, generator=g) < 0.5).double()
    v = rbm.gibbs(v, k=30, generator=g)
    codes = (v @ (2.0 ** torch.arange(4, -1, -1, dtype=torch.float64))).long()
    freq = torch.bincount(codes, minlength=32).double() / len(v)
    p = rbm.log_prob(all_binary_states(5, torch.float64)).exp().detach()
    assert 0.5 * (freq - p).abs().sum() < 0.02


def test_cd_with_long_chains_estimates_the_likelihood_gradient(rbm):
    # with k large the chains reach equilibrium and E[grad of CD loss] = -grad log p(v)
    g = torch.Generator().manual_seed(3)
    v_data = torch.tensor([[1.0, 0, 1, 1, 0]], dtype=torch.float64)
    params = list(rbm.parameters())
    exact = torch.autograd.grad(-rbm.log_prob(v_data).sum(), params)
    loss, v_k = rbm.cd_loss(v_data.expand(40000, -1).contiguous(), k=30, generator=g)
    approx = torch.autograd.grad(loss, params)
    for a, b in zip(exact, approx):
        assert torch.allclose(a, b, atol=0.03), (a, b)
    assert v_k.shape == (40000, 5) and not v_k.requires_grad


def test_visible_bias_initialisation_matches_the_data_marginals():
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    r = RBM(2, 3, init_std=0.0).init_visible_bias_(v)
    assert torch.allclose(torch.sigmoid(r.a), torch.tensor([0.75, 0.25]), atol=1e-6)
    # with W = 0 the RBM is the independent model with those marginals
    assert torch.allclose(r.p_v_given_h(torch.zeros(1, 3)), torch.tensor([[0.75, 0.25]]))


def test_reconstruction_error_of_a_perfect_copy_is_small():
    r = RBM(4, 4, init_std=0.0)
    with torch.no_grad():
        r.W.copy_(torch.eye(4) * 20), r.a.fill_(-10), r.b.fill_(-10)
    v = torch.tensor([[1.0, 0, 1, 0], [0, 1, 1, 1]])
    assert r.reconstruction_error(v) < 1e-6


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: RBM(0, 3), ValueError, "n_visible must be >= 1"),
    (lambda: RBM(3, 2).free_energy(torch.zeros(2, 4)), ValueError, "v must have last dimension 3"),
    (lambda: RBM(3, 2).p_v_given_h(torch.zeros(2, 3)), ValueError, "h must have last dimension 2"),
    (lambda: RBM(3, 2).gibbs(torch.zeros(2, 3), k=-1), ValueError, "k must be >= 0"),
    (lambda: RBM(30, 30).log_partition(), ValueError, "at most 20 units"),
    (lambda: RBM(3, 2).free_energy(torch.zeros(2, 3, dtype=torch.long)), TypeError,
     "floating-point"),
    (lambda: all_binary_states(30), ValueError, "n must be <= 24"),
    # chapter 9
    (lambda: RBM(3, 2).pcd_loss(torch.zeros(2, 3), torch.zeros(2, 3)), TypeError,
     "chains must be a PersistentChains"),
    (lambda: RBM(3, 2).pcd_loss(torch.zeros(2, 3), PersistentChains(torch.zeros(4, 5))),
     ValueError, "chains.state must have last dimension 3"),
    (lambda: RBM(3, 2).pcd_loss(torch.zeros(2, 3), PersistentChains(torch.zeros(4, 3)), k=0),
     ValueError, "k must be >= 1"),
    (lambda: PersistentChains([1, 2]), TypeError, "state must be a tensor or a tuple"),
    (lambda: PersistentChains((torch.zeros(2, 3), torch.zeros(3, 3))), ValueError,
     "same number of chains"),
    (lambda: PersistentChains(torch.zeros(3)), ValueError, "state must have 2 dimensions"),
    (lambda: marginal_logits(torch.full((2, 3), 2.0)), ValueError, r"values in \[0, 1\]"),
    (lambda: marginal_logits(torch.zeros(2, 3), pseudocount=0), ValueError,
     "pseudocount must be > 0"),
    (lambda: independent_log_prob(torch.zeros(2, 4), torch.zeros(3)), ValueError,
     "v must have last dimension 3"),
    (lambda: ais_betas(2), ValueError, "n_steps must be >= 3"),
    (lambda: ais_log_weights(RBM(3, 2), torch.tensor([0.0, 0.5]), torch.zeros(2, 3)),
     ValueError, "betas must run from 0 to 1"),
    (lambda: ais_log_weights(RBM(3, 2), torch.tensor([0.0, 0.7, 0.5, 1.0]), torch.zeros(2, 3)),
     ValueError, "non-decreasing"),
    (lambda: ais_log_weights("rbm", torch.tensor([0.0, 1.0]), torch.zeros(2, 3)), TypeError,
     "rbm must be an RBM"),
    (lambda: ais_log_weights(RBM(3, 2), torch.tensor([0.0, 1.0]), torch.zeros(2, 4)),
     ValueError, "v0 must have last dimension 3"),
    (lambda: ais_log_partition(RBM(3, 2), torch.tensor([0.0, 1.0]), 0), ValueError,
     "n_runs must be >= 1"),
    (lambda: ais_log_partition(RBM(3, 2), torch.tensor([0.0, 1.0]), 5,
                               base_logits=torch.zeros(4)), ValueError,
     "base_logits must have 3 entries"),
    (lambda: ais_log_partition(RBM(3, 2), torch.tensor([0.0, 1.0]), 5, generator=0), TypeError,
     "generator must be a torch.Generator"),
    (lambda: AISResult(0.0, 0.0, torch.zeros(3)).interval(-1), ValueError, "n_std must be >= 0"),
    (lambda: DBM(3, 0, 2), ValueError, "n_hidden1 must be >= 1"),
    (lambda: DBM(3, 2, 2).energy(torch.zeros(1, 3), torch.zeros(1, 2), torch.zeros(1, 3)),
     ValueError, "h2 must have last dimension 2"),
    (lambda: DBM(3, 2, 2).p_h1(torch.zeros(1, 4), torch.zeros(1, 2)), ValueError,
     "v must have last dimension 3"),
    (lambda: DBM(3, 2, 2).gibbs(torch.zeros(1, 3)), TypeError, "state must be a tuple"),
    (lambda: DBM(3, 2, 2).gibbs((torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 2))),
     ValueError, "state h1 must have last dimension 2"),
    (lambda: DBM(3, 2, 2).init_chains(4, v=torch.zeros(3, 3)), ValueError, "v must have 4 rows"),
    (lambda: DBM(3, 2, 2).mean_field(torch.zeros(1, 3), n_steps=-1), ValueError,
     "n_steps must be >= 0"),
    (lambda: DBM(3, 2, 2).variational_bound(torch.zeros(1, 3), torch.full((1, 2), 1.5),
                                            torch.zeros(1, 2)), ValueError, "mu1 must hold"),
    (lambda: DBM(3, 2, 2).loss(torch.zeros(2, 3), None), TypeError,
     "chains must be a PersistentChains"),
    (lambda: DBM(3, 2, 2).loss(torch.zeros(2, 3), PersistentChains(torch.zeros(2, 3))),
     TypeError, "state must be a tuple"),
    (lambda: DBM(3, 2, 30).free_energy(torch.zeros(1, 3)), ValueError,
     "at most 20 units in h2"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()



# ---------------------------------------------------------------- chapter 9: PCD, AIS, DBM

def random_rbm(n_visible, n_hidden, seed, std=1.0):
    g = torch.Generator().manual_seed(seed)
    r = RBM(n_visible, n_hidden, init_std=std, generator=g).double()
    with torch.no_grad():
        r.a.copy_(torch.randn(n_visible, generator=g, dtype=torch.float64))
        r.b.copy_(torch.randn(n_hidden, generator=g, dtype=torch.float64))
    return r


def test_pcd_chains_persist_between_calls(rbm):
    g = torch.Generator().manual_seed(4)
    v_data = (torch.rand(8, 5, generator=g) < 0.5).double()
    start = (torch.rand(6, 5, generator=g) < 0.5).double()
    chains = PersistentChains(start.clone())
    _, v1 = rbm.pcd_loss(v_data, chains, k=2, generator=g)
    assert torch.equal(chains.state, v1) and chains.n_steps == 2
    # the second call continues from v1, not from the data or the start
    g_copy = torch.Generator().manual_seed(0)
    g_copy.set_state(g.get_state())
    _, v2 = rbm.pcd_loss(v_data, chains, k=3, generator=g)
    assert torch.equal(v2, rbm.gibbs(v1, k=3, generator=g_copy))
    assert torch.equal(chains.state, v2) and chains.n_steps == 5 and len(chains) == 6


def test_pcd_with_equilibrated_chains_estimates_the_likelihood_gradient(rbm):
    g = torch.Generator().manual_seed(5)
    v_data = torch.tensor([[0.0, 1, 1, 0, 1]], dtype=torch.float64)
    start = (torch.rand(40000, 5, generator=g, dtype=torch.float64) < 0.5).double()
    chains = PersistentChains(start)
    rbm.pcd_loss(v_data, chains, k=30, generator=g)            # burn in
    params = list(rbm.parameters())
    exact = torch.autograd.grad(-rbm.log_prob(v_data).sum(), params)
    loss, _ = rbm.pcd_loss(v_data, chains, k=1, generator=g)
    for a, b in zip(exact, torch.autograd.grad(loss, params)):
        assert torch.allclose(a, b, atol=0.03), (a, b)


def test_marginal_logits_and_the_independent_model():
    v = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    c = marginal_logits(v, pseudocount=0.5)
    p = torch.sigmoid(c)
    assert torch.allclose(p, (v.sum(0) + 0.5) / (4 + 1.0))       # smoothed frequencies
    states = all_binary_states(3)
    assert abs(independent_log_prob(states, c).exp().sum().item() - 1) < 1e-6
    want = (states * p.log() + (1 - states) * (1 - p).log()).sum(1)
    assert torch.allclose(independent_log_prob(states, c), want, atol=1e-6)


def test_ais_betas_follow_the_salakhutdinov_murray_proportions():
    b = ais_betas(15000)
    assert len(b) == 15001 and b[0] == 0 and b[-1] == 1 and (b[1:] >= b[:-1]).all()
    assert int((b < 0.5).sum()) == 1000 and int(((b >= 0.5) & (b < 0.9)).sum()) == 4000


def test_a_single_ais_step_is_exact_importance_sampling():
    # with betas (0, 1), w(v) = f_1(v) / f_0(v) and E_{p_0}[w] = Z / Z_0 exactly
    rbm = random_rbm(6, 3, seed=6)
    c = torch.randn(6, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    v = all_binary_states(6, torch.float64)                           # every v, weighted by p_0
    log_w = ais_log_weights(rbm, torch.tensor([0.0, 1.0], dtype=torch.float64), v, base_logits=c)
    log_z0 = 3 * math.log(2) + torch.nn.functional.softplus(c).sum()
    estimate = torch.logsumexp(independent_log_prob(v, c) + log_w, 0) + log_z0
    assert abs(estimate.item() - rbm.log_partition().item()) < 1e-10
    # and each weight is the ratio of the unnormalised densities
    assert torch.allclose(log_w, -rbm.free_energy(v) - v @ c - 3 * math.log(2))


def test_ais_weights_are_unbiased_for_the_ratio_of_partition_functions():
    # E[w] = Z / Z_0 holds for any number of steps when each transition leaves its
    # intermediate distribution invariant (Neal, 2001)
    rbm = random_rbm(5, 3, seed=8)
    g = torch.Generator().manual_seed(9)
    res = ais_log_partition(rbm, torch.tensor([0.0, 0.3, 0.6, 1.0], dtype=torch.float64), 200_000,
                            generator=g)
    w = torch.exp(res.log_weights + res.log_z_base - rbm.log_partition().item())  # w Z_0 / Z
    se = w.std() / math.sqrt(len(w))
    assert abs(w.mean().item() - 1) < 4 * se.item(), (w.mean(), se)


@pytest.mark.parametrize("n_visible, n_hidden, seed, base", [
    (20, 10, 10, False), (12, 18, 11, True), (30, 8, 12, True)])
def test_ais_agrees_with_the_exact_log_partition(n_visible, n_hidden, seed, base):
    rbm = random_rbm(n_visible, n_hidden, seed)
    g = torch.Generator().manual_seed(seed)
    c = None
    if base:   # the data's marginals: exact samples of the RBM, through long Gibbs chains
        v = rbm.gibbs((torch.rand(500, n_visible, generator=g) < 0.5).double(), 50, g)
        c = marginal_logits(v)
    res = ais_log_partition(rbm, ais_betas(500), 100, base_logits=c, generator=g)
    exact = rbm.log_partition().item()
    assert abs(res.log_z - exact) < 0.1, (res.log_z, exact)
    low, high = res.interval(3.0)
    assert low <= res.log_z <= high and 1 <= res.effective_sample_size <= 100


def test_ais_result_with_equal_weights():
    res = AISResult(log_z=2.0 + math.log(1.0), log_z_base=2.0, log_weights=torch.zeros(50))
    assert abs(res.effective_sample_size - 50) < 1e-9
    assert res.interval(3.0) == pytest.approx((2.0, 2.0))


# ---- deep Boltzmann machine

@pytest.fixture
def dbm():
    return DBM(4, 3, 2, init_std=1.0, generator=torch.Generator().manual_seed(13)).double()


def _randomise_biases(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in (model.a, model.b1, model.b2):
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    return model


def dbm_table(dbm):
    """Energies of every joint state, as a (V, H1, H2) table."""
    v = all_binary_states(dbm.n_visible, torch.float64)
    h1 = all_binary_states(dbm.n_hidden1, torch.float64)
    h2 = all_binary_states(dbm.n_hidden2, torch.float64)
    vv, hh1, hh2 = torch.meshgrid(torch.arange(len(v)), torch.arange(len(h1)),
                                  torch.arange(len(h2)), indexing="ij")
    e = dbm.energy(v[vv.flatten()], h1[hh1.flatten()], h2[hh2.flatten()])
    return v, h1, h2, e.reshape(len(v), len(h1), len(h2))


def test_dbm_energy_is_the_formula(dbm):
    _randomise_biases(dbm, 14)
    v = torch.tensor([[1.0, 0, 1, 1]], dtype=torch.float64)
    h1 = torch.tensor([[0.0, 1, 1]], dtype=torch.float64)
    h2 = torch.tensor([[1.0, 0]], dtype=torch.float64)
    want = -(v @ dbm.W1 @ h1.T) - (h1 @ dbm.W2 @ h2.T) - v @ dbm.a - h1 @ dbm.b1 - h2 @ dbm.b2
    assert torch.allclose(dbm.energy(v, h1, h2), want.flatten())


def test_dbm_conditionals_match_enumeration(dbm):
    _randomise_biases(dbm, 15)
    v, h1, h2, e = dbm_table(dbm)
    with torch.no_grad():
        # p(h1 | v, h2): normalise over the h1 axis, for every (v, h2)
        post1 = torch.softmax(-e, dim=1)                                  # (V, H1s, H2s)
        marg1 = torch.einsum("ajc,jk->ack", post1, h1)                    # (V, H2s, n_h1)
        for c in range(len(h2)):
            assert torch.allclose(dbm.p_h1(v, h2[c].expand(len(v), -1)), marg1[:, c])
        # p(v | h1, h2) does not depend on h2, and p(h2 | h1, v) does not depend on v
        post_v = torch.softmax(-e, dim=0)                                 # (Vs, H1s, H2s)
        marg_v = torch.einsum("ajc,ai->jci", post_v, v)                   # (H1s, H2s, n_v)
        post2 = torch.softmax(-e, dim=2)
        marg2 = torch.einsum("ajc,ck->ajk", post2, h2)                    # (V, H1s, n_h2)
        for c in range(len(h2)):
            assert torch.allclose(dbm.p_v(h1), marg_v[:, c])
        for a in range(len(v)):
            assert torch.allclose(dbm.p_h2(h1), marg2[a])


def test_dbm_as_rbm_and_exact_quantities(dbm):
    _randomise_biases(dbm, 16)
    v, h1, h2, e = dbm_table(dbm)
    rbm = dbm.as_rbm()
    n = 32
    g = torch.Generator().manual_seed(17)
    vs, h1s, h2s = [(torch.rand(n, k, generator=g) < 0.5).double() for k in (4, 3, 2)]
    assert torch.allclose(rbm.energy(torch.cat([vs, h2s], 1), h1s), dbm.energy(vs, h1s, h2s))
    brute = torch.logsumexp(-e.flatten(), 0)
    assert torch.allclose(dbm.log_partition(), brute)
    assert torch.allclose(dbm.free_energy(v), -torch.logsumexp(-e.flatten(1), 1))
    assert abs(dbm.log_prob(v).exp().sum().item() - 1) < 1e-12


def test_dbm_gibbs_samples_the_model(dbm):
    _randomise_biases(dbm, 18)
    g = torch.Generator().manual_seed(19)
    chains = dbm.init_chains(40000, g)
    v, _, _ = dbm.gibbs(chains.state, k=30, generator=g)
    codes = (v @ (2.0 ** torch.arange(3, -1, -1, dtype=torch.float64))).long()
    freq = torch.bincount(codes, minlength=16).double() / len(v)
    p = dbm.log_prob(all_binary_states(4, torch.float64)).exp().detach()
    assert 0.5 * (freq - p).abs().sum() < 0.02


def test_mean_field_fixed_point_bound_and_gap(dbm):
    _randomise_biases(dbm, 20)
    v, h1, h2, e = dbm_table(dbm)
    mu1, mu2, bounds = dbm.mean_field(v, n_steps=300, history=True)
    # the bound never decreases along the fixed-point iteration
    assert (bounds[1:] - bounds[:-1] >= -1e-12).all()
    # at convergence both fixed-point equations hold
    assert dbm.mean_field_residual(v, mu1, mu2) < 1e-10
    assert torch.allclose(mu1, torch.sigmoid(v @ dbm.W1 + mu2 @ dbm.W2.T + dbm.b1), atol=1e-10)
    assert torch.allclose(mu2, torch.sigmoid(mu1 @ dbm.W2 + dbm.b2), atol=1e-10)
    with torch.no_grad():
        bound = dbm.variational_bound(v, mu1, mu2)
        exact = -dbm.free_energy(v)                      # log sum_h exp(-E(v, h))
        assert (bound <= exact + 1e-12).all()
        # the gap is KL(Q || p(h | v)), with Q the product of the mean-field marginals
        q1 = (h1[None] * mu1[:, None].log() + (1 - h1[None]) * (1 - mu1[:, None]).log()).sum(-1)
        q2 = (h2[None] * mu2[:, None].log() + (1 - h2[None]) * (1 - mu2[:, None]).log()).sum(-1)
        log_q = q1[:, :, None] + q2[:, None, :]                             # (V, H1s, H2s)
        log_post = -e - torch.logsumexp(-e.flatten(1), 1)[:, None, None]
        kl = (log_q.exp() * (log_q - log_post)).flatten(1).sum(1)
        assert torch.allclose(exact - bound, kl, atol=1e-10)


def test_dbm_loss_is_the_stochastic_approximation_update(dbm):
    _randomise_biases(dbm, 21)
    g = torch.Generator().manual_seed(22)
    v_data = (torch.rand(7, 4, generator=g) < 0.5).double()
    chains = dbm.init_chains(9, g)
    before = chains.state
    g_copy = torch.Generator().manual_seed(0)
    g_copy.set_state(g.get_state())
    loss, (mu1, mu2) = dbm.loss(v_data, chains, n_mean_field=20, k=2, generator=g)
    # the chains continued from where they were (mean field draws no random numbers)
    assert chains.n_steps == 2
    for got, want in zip(chains.state, dbm.gibbs(before, k=2, generator=g_copy)):
        assert torch.equal(got, want)
    assert torch.allclose(mu1, dbm.mean_field(v_data, 20)[0])
    vn, h1n, h2n = chains.state
    grads = torch.autograd.grad(loss, [dbm.W1, dbm.W2, dbm.a, dbm.b1, dbm.b2])
    want = [-(v_data.T @ mu1 / 7 - vn.T @ h1n / 9), -(mu1.T @ mu2 / 7 - h1n.T @ h2n / 9),
            -(v_data.mean(0) - vn.mean(0)), -(mu1.mean(0) - h1n.mean(0)),
            -(mu2.mean(0) - h2n.mean(0))]
    for got, w in zip(grads, want):
        assert torch.allclose(got, w)


# ---- the learning rule of a general Boltzmann machine

def random_bm(n_visible, n_hidden, seed):
    g = torch.Generator().manual_seed(seed)
    bm = boltzmann.BoltzmannMachine(n_visible, n_hidden, init_std=1.0, generator=g).double()
    with torch.no_grad():
        bm.theta.copy_(torch.randn(n_visible + n_hidden, generator=g, dtype=torch.float64))
    return bm, (torch.rand(7, n_visible, generator=g) < 0.5).double()


def test_boltzmann_machine_energy_is_the_pairwise_sum():
    bm, _ = random_bm(3, 2, seed=30)
    s = all_binary_states(5, torch.float64)
    w = bm.weights
    pairs = sum(w[i, j] * s[:, i] * s[:, j] for i in range(5) for j in range(i + 1, 5))
    assert torch.allclose(bm.energy(s), -pairs - s @ bm.theta)
    assert torch.equal(w, w.T) and torch.all(w.diagonal() == 0)


def test_boltzmann_machine_with_rbm_connectivity_is_the_rbm():
    # keep only the visible-hidden weights: the same distribution as an RBM
    bm, v = random_bm(4, 3, seed=31)
    with torch.no_grad():
        bm.U[:4, :4] = 0
        bm.U[4:, 4:] = 0
    rbm = RBM(4, 3, init_std=0.0).double()
    with torch.no_grad():
        rbm.W.copy_(bm.U[:4, 4:]), rbm.a.copy_(bm.theta[:4]), rbm.b.copy_(bm.theta[4:])
    assert torch.allclose(bm.log_prob(v), rbm.log_prob(v))


@pytest.mark.parametrize("n_visible, n_hidden, seed", [(4, 3, 32), (5, 0, 33), (3, 5, 34)])
def test_learning_rule_is_the_gradient_of_the_log_likelihood(n_visible, n_hidden, seed):
    # d/dw_ij mean log p(v) = <s_i s_j>_clamped - <s_i s_j>_free (Ackley et al., 1985)
    bm, v = random_bm(n_visible, n_hidden, seed)
    clamped, free = bm.correlations(v)
    bm.log_prob(v).mean().backward()
    assert torch.allclose(bm.U.grad, torch.triu(clamped - free, 1), atol=1e-12)
    assert torch.allclose(bm.theta.grad, (clamped - free).diagonal(), atol=1e-12)


# ---- exact Gibbs kernel, reverse AIS and RAISE

def exact_samples(rbm, n, g):
    """Exact samples of a small RBM's p(v), drawn from the enumerated distribution."""
    v = all_binary_states(rbm.n_visible, torch.float64)
    p = rbm.log_prob(v).exp().detach()
    return v[torch.multinomial(p, n, replacement=True, generator=g)]


def test_sample_exact_draws_the_model_distribution():
    rbm = random_rbm(5, 4, seed=39)
    v = rbm.sample_exact(50000, torch.Generator().manual_seed(39))
    codes = (v @ (2.0 ** torch.arange(4, -1, -1, dtype=torch.float64))).long()
    freq = torch.bincount(codes, minlength=32).double() / len(v)
    p = rbm.log_prob(all_binary_states(5, torch.float64)).exp().detach()
    assert 0.5 * (freq - p).abs().sum() < 0.015


def test_gibbs_transition_matrix_leaves_the_model_invariant_and_matches_sampling():
    rbm = random_rbm(5, 3, seed=40)
    T = gibbs_transition_matrix(rbm)
    v = all_binary_states(5, torch.float64)
    p = rbm.log_prob(v).exp().detach()
    assert torch.allclose(p @ T, p, atol=1e-12)                       # p is stationary
    g = torch.Generator().manual_seed(41)
    start = 19                                                        # v = 10011
    moved = rbm.gibbs(v[start].expand(40000, -1), k=1, generator=g)
    codes = (moved @ (2.0 ** torch.arange(4, -1, -1, dtype=torch.float64))).long()
    freq = torch.bincount(codes, minlength=32).double() / 40000
    assert 0.5 * (freq - T[start]).abs().sum() < 0.02


def test_reverse_ais_from_exact_samples_is_unbiased_for_the_inverse_ratio():
    # E[w] = Z_0 / Z for the reversed sequence of distributions, however short
    rbm = random_rbm(5, 3, seed=42)
    g = torch.Generator().manual_seed(43)
    c = torch.randn(5, generator=g, dtype=torch.float64)
    betas = torch.tensor([0.0, 0.3, 0.6, 1.0], dtype=torch.float64)
    res = reverse_ais_log_partition(rbm, betas, exact_samples(rbm, 200_000, g), base_logits=c,
                                    generator=g)
    w = torch.exp(res.log_weights - res.log_z_base + rbm.log_partition().item())   # w Z / Z_0
    se = w.std() / math.sqrt(len(w))
    assert abs(w.mean().item() - 1) < 4 * se.item(), (w.mean(), se)
    low, high = res.interval(3.0)
    assert res.reverse and low <= res.log_z <= high


def test_forward_and_reverse_ais_bracket_the_exact_log_partition():
    rbm = random_rbm(16, 10, seed=44, std=1.5)
    g = torch.Generator().manual_seed(45)
    exact = rbm.log_partition().item()
    fwd, rev = [], []
    for _ in range(30):                      # a short bridge: both biased, in opposite ways
        fwd.append(ais_log_partition(rbm, ais_betas(5), 10, generator=g).log_z)
        rev.append(reverse_ais_log_partition(rbm, ais_betas(5), exact_samples(rbm, 10, g),
                                             generator=g).log_z)
    assert sum(fwd) / 30 < exact < sum(rev) / 30, (sum(fwd) / 30, exact, sum(rev) / 30)
    # a long bridge: both close to the exact value
    long_rev = reverse_ais_log_partition(rbm, ais_betas(1000), exact_samples(rbm, 100, g),
                                         generator=g)
    assert abs(long_rev.log_z - exact) < 0.1, (long_rev.log_z, exact)


def annealed_model(rbm, betas, c):
    """p_ann(v) exactly: the base distribution moved by the Gibbs kernels at betas[1:]."""
    v = all_binary_states(rbm.n_visible, torch.float64)
    p = independent_log_prob(v, c).exp()
    for beta in betas[1:].tolist():
        step = RBM(rbm.n_visible, rbm.n_hidden, init_std=0.0).double()
        with torch.no_grad():
            step.W.copy_(beta * rbm.W), step.b.copy_(beta * rbm.b)
            step.a.copy_((1 - beta) * c + beta * rbm.a)
        p = p @ gibbs_transition_matrix(step)
    return p


def test_raise_is_unbiased_for_the_annealed_model():
    rbm = random_rbm(4, 3, seed=46)
    g = torch.Generator().manual_seed(47)
    c = torch.randn(4, generator=g, dtype=torch.float64)
    betas = torch.tensor([0.0, 0.4, 0.8, 1.0], dtype=torch.float64)
    p_ann = annealed_model(rbm, betas, c)
    v = all_binary_states(4, torch.float64)
    est = raise_log_prob(rbm, betas, v.repeat(20000, 1), base_logits=c, generator=g).exp()
    est = est.view(20000, 16)
    se = est.std(0) / math.sqrt(20000)
    assert ((est.mean(0) - p_ann).abs() < 4 * se + 1e-12).all(), (est.mean(0), p_ann)
    # with several runs per vector it averages them: same expectation, shape (B,)
    assert raise_log_prob(rbm, betas, v, n_runs=3, base_logits=c, generator=g).shape == (16,)


def test_the_annealed_model_approaches_the_rbm():
    rbm = random_rbm(4, 3, seed=48)
    c = torch.zeros(4, dtype=torch.float64)
    p = rbm.log_prob(all_binary_states(4, torch.float64)).exp().detach()
    gaps = [0.5 * (annealed_model(rbm, ais_betas(k), c) - p).abs().sum().item()
            for k in (3, 30, 300)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.01, gaps


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: boltzmann.BoltzmannMachine(12, 10), ValueError, "must be <= 20"),
    (lambda: boltzmann.BoltzmannMachine(3, 2).log_prob(torch.zeros(2, 4)), ValueError,
     "v must have last dimension 3"),
    (lambda: gibbs_transition_matrix(RBM(13, 2)), ValueError, "at most 12 visible"),
    (lambda: RBM(3, 21).sample_exact(5), ValueError, "at most 20 units"),
    (lambda: RBM(3, 2).sample_exact(0), ValueError, "n must be >= 1"),
    (lambda: gibbs_transition_matrix("rbm"), TypeError, "rbm must be an RBM"),
    (lambda: reverse_ais_log_partition(RBM(3, 2), torch.tensor([0.0, 1.0]), torch.zeros(2, 4)),
     ValueError, "v_model must have last dimension 3"),
    (lambda: reverse_ais_log_weights(RBM(3, 2), torch.tensor([1.0, 0.0]), torch.zeros(2, 3)),
     ValueError, "betas must run from 0 to 1"),
    (lambda: raise_log_prob(RBM(3, 2), torch.tensor([0.0, 1.0]), torch.zeros(2, 3), n_runs=0),
     ValueError, "n_runs must be >= 1"),
    (lambda: raise_log_prob(None, torch.tensor([0.0, 1.0]), torch.zeros(2, 3)), TypeError,
     "rbm must be an RBM"),
])
def test_bad_input_to_the_chapter_9_additions(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ---------------------------------------------------------------- bad input (the cases)

def test_bad_input_rbm_energy_with_mismatched_batch_sizes_names_both_arguments():
    r = RBM(3, 2)
    for h_rows in (4, 1, 0):       # 1 used to broadcast silently, 4 and 0 crashed inside torch
        with pytest.raises(ValueError, match=r"v and h must have the same number of rows"):
            r.energy(torch.zeros(2, 3), torch.zeros(h_rows, 2))
    assert r.energy(torch.zeros(0, 3), torch.zeros(0, 2)).shape == (0,)


def test_bad_input_dbm_energy_with_mismatched_batch_sizes_names_the_arguments():
    d = DBM(3, 2, 2)
    v, h1, h2 = torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2, 2)
    for bad in ((torch.zeros(5, 3), h1, h2), (v, torch.zeros(1, 2), h2), (v, h1, torch.zeros(0, 2))):
        with pytest.raises(ValueError, match=r"v, h1 and h2 must have the same number of rows"):
            d.energy(*bad)
    with pytest.raises(ValueError, match=r"v and h2 must have the same number of rows"):
        d.p_h1(torch.zeros(1, 3), torch.zeros(4, 2))          # used to broadcast to (4, H1)
    with pytest.raises(ValueError, match=r"v, mu1 and mu2 must have the same number of rows"):
        d.variational_bound(v, torch.full((3, 2), 0.5), torch.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"state v, state h1 and state h2 must have the same"):
        d.gibbs((v, torch.zeros(3, 2), h2))


@pytest.mark.parametrize("call, exc, msg", [
    # a mean over an empty batch would be NaN
    (lambda: RBM(3, 2).cd_loss(torch.zeros(0, 3)), ValueError, "v_data must hold at least 1"),
    (lambda: RBM(3, 2).init_visible_bias_(torch.zeros(0, 3)), ValueError, "v must hold at least 1"),
    (lambda: RBM(3, 2).reconstruction_error(torch.zeros(0, 3)), ValueError,
     "v must hold at least 1"),
    (lambda: DBM(3, 2, 2).loss(torch.zeros(0, 3), DBM(3, 2, 2).init_chains(2)), ValueError,
     "v_data must hold at least 1"),
    (lambda: reverse_ais_log_partition(RBM(3, 2), torch.tensor([0.0, 1.0]), torch.zeros(0, 3)),
     ValueError, "v_model must hold at least 1"),
    # dtypes that used to fail inside a matrix product
    (lambda: RBM(3, 2).free_energy(torch.zeros(2, 3, dtype=torch.float64)), TypeError,
     "v must have the model's dtype torch.float32"),
    (lambda: DBM(3, 2, 2).p_v(torch.zeros(2, 2, dtype=torch.float64)), TypeError,
     "h1 must have the model's dtype"),
    (lambda: boltzmann.BoltzmannMachine(3, 2).energy(torch.zeros(2, 5, dtype=torch.float64)),
     TypeError, "s must have the model's dtype"),
    # arguments named as the caller named them
    (lambda: RBM(3, 2).cd_loss(torch.zeros(2, 4)), ValueError, "v_data must have last dimension"),
    (lambda: reverse_ais_log_weights(RBM(3, 2), torch.tensor([0.0, 1.0]), torch.zeros(2, 4)),
     ValueError, "v_start must have last dimension"),
    (lambda: DBM(3, 2, 2).variational_bound(torch.zeros(1, 3), "mu", torch.zeros(1, 2)),
     TypeError, "mu1 must be a torch.Tensor"),
    (lambda: independent_log_prob(torch.zeros(2, 0), torch.zeros(0)), ValueError,
     "logits must not be empty"),
    # the annealing path, which had no checks
    (lambda: boltzmann.AnnealingPath("rbm", torch.zeros(3), torch.zeros(2, 3)), TypeError,
     "rbm must be an RBM"),
    (lambda: boltzmann.AnnealingPath(RBM(3, 2), torch.zeros(4), torch.zeros(2, 3)), ValueError,
     "c must have last dimension 3"),
    (lambda: boltzmann.AnnealingPath(RBM(3, 2), torch.zeros(3), torch.zeros(2, 3)).log_f_ratio(
        torch.zeros(2, 3), torch.zeros(2, 2), 1.5, 0.5), ValueError,
     r"beta_to must be in \[0, 1\], got 1.5"),
    (lambda: boltzmann.AnnealingPath(RBM(3, 2), torch.zeros(3), torch.zeros(2, 3)).gibbs(
        torch.zeros(2, 3), 0.5, None), ValueError, "x must have last dimension 2"),
    # a diverged model is refused, not estimated
    (lambda: ais_log_partition(_nan_rbm(), ais_betas(5), 4), ValueError,
     "rbm must have finite parameters"),
    (lambda: all_binary_states(3, dtype="float"), TypeError, "dtype must be a floating"),
])
def test_bad_input_more_cases_get_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def _nan_rbm():
    r = RBM(3, 2)
    with torch.no_grad():
        r.W[0, 0] = float("nan")
    return r


def test_bad_input_integer_likes_and_empty_batches_are_accepted():
    np = pytest.importorskip("numpy")
    r = random_rbm(4, 3, seed=0)
    v = (torch.rand(5, 4, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    assert r.gibbs(v, k=np.int64(2), generator=torch.Generator().manual_seed(0)).shape == (5, 4)
    assert r.sample_exact(np.int64(3)).shape == (3, 4)
    assert len(ais_betas(np.int64(15))) == 16
    d = DBM(4, np.int64(3), np.int64(2)).double()
    assert len(d.init_chains(np.int64(3))) == 3
    # one value per row: an empty batch gives an empty result, not an error
    betas = ais_betas(6)
    assert raise_log_prob(r, betas, v[:0], n_runs=2).shape == (0,)
    assert ais_log_weights(r, betas, v[:0]).shape == (0,)
    assert r.free_energy(v[:0]).shape == (0,)
