import itertools

import pytest
import torch

from companion import boltzmann
from companion.boltzmann import RBM, all_binary_states


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
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
