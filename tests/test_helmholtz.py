import itertools
import math

import numpy as np
import pytest
import torch

from companion import data
from companion.boltzmann import all_binary_states
from companion.helmholtz import (HelmholtzMachine, SigmoidLayer, bars_machine, factorised_fit,
                                 factorised_q,
                                 kl_divergence, recognition_score, score_function_gradient,
                                 score_function_moments,
                                 sleep_phase, two_cause_machine, wake_phase)


def machine(sizes=(5, 3, 2), seed=0, init_std=1.5):
    return HelmholtzMachine(sizes, init_std=init_std,
                            generator=torch.Generator().manual_seed(seed)).double()


def with_random_biases(hm, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in hm.parameters():
            if p.dim() == 1:
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return hm


def bernoulli(x, prob):
    """prod_i prob_i^x_i (1 - prob_i)^(1 - x_i) for python lists."""
    return math.prod(p if xi else 1 - p for xi, p in zip(x, prob))


def brute_force_p(hm, v):
    """p(v) = sum over every joint hidden configuration, written with plain python loops."""
    sig = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    top_p = [sig(b) for b in hm.top_bias.tolist()]
    total = 0.0
    hidden = [list(itertools.product([0, 1], repeat=n)) for n in hm.sizes[1:]]
    for config in itertools.product(*hidden):
        layers = [list(v)] + [list(s) for s in config]
        prob = bernoulli(layers[-1], top_p)
        for l, layer in enumerate(hm.generative):
            W, b = layer.weight.tolist(), layer.bias.tolist()
            above = layers[l + 1]
            p_below = [sig(sum(w * a for w, a in zip(row, above)) + bi) for row, bi in zip(W, b)]
            prob *= bernoulli(layers[l], p_below)
        total += prob
    return total


def codes(x):
    return (x @ (2.0 ** torch.arange(x.shape[1] - 1, -1, -1, dtype=x.dtype))).long()


@pytest.mark.parametrize("sizes", [(5, 3), (5, 3, 2), (4, 2, 3, 2)])
def test_marginal_sums_to_one_and_matches_brute_force(sizes):
    hm = with_random_biases(machine(sizes))
    v = all_binary_states(sizes[0], torch.float64)
    p = hm.log_marginal(v).exp()
    assert abs(p.sum().item() - 1) < 1e-12
    for i in [0, 3, 7, len(v) - 1]:
        assert abs(p[i].item() - brute_force_p(hm, v[i].int().tolist())) < 1e-12


def test_marginal_of_a_float32_model_and_of_float32_data():
    hm = HelmholtzMachine((5, 3, 2), init_std=1.0, generator=torch.Generator().manual_seed(0))
    v = all_binary_states(5)
    assert abs(hm.log_marginal(v).exp().sum().item() - 1) < 1e-5
    assert torch.allclose(hm.double().log_marginal(v), hm.log_marginal(v.double()))


def test_ancestral_samples_match_the_enumerated_marginal():
    hm = with_random_biases(machine((5, 3, 2)))
    g = torch.Generator().manual_seed(2)
    samples = hm.sample(100_000, g)
    freq = torch.bincount(codes(samples), minlength=32).double() / len(samples)
    p = hm.log_marginal(all_binary_states(5, torch.float64)).exp().detach()
    assert 0.5 * (freq - p).abs().sum() < 0.015
    states = hm.generate(10, g)
    assert [tuple(s.shape) for s in states] == [(10, 5), (10, 3), (10, 2)]


def test_recognition_samples_follow_q():
    hm = with_random_biases(machine((5, 3, 2)))
    v = torch.tensor([[1.0, 0, 1, 1, 0]], dtype=torch.float64)
    h, log_q, _ = hm.enumerate_hidden(v)
    states = hm.recognize(v.expand(100_000, -1), torch.Generator().manual_seed(3))
    freq = torch.bincount(codes(torch.cat(states[1:], 1)), minlength=len(h)).double() / 100_000
    assert 0.5 * (freq - log_q.exp()[0].detach()).abs().sum() < 0.015
    assert abs(log_q.exp().sum().item() - 1) < 1e-12


def test_free_energy_is_surprise_plus_divergence():
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)
    _, log_q, log_joint = hm.enumerate_hidden(v)
    log_post = log_joint.log_softmax(1)                                  # log p(h | v)
    kl = (log_q.exp() * (log_q - log_post)).sum(1)
    f = hm.free_energy(v)
    assert torch.allclose(f, -hm.log_marginal(v) + kl)
    assert (kl > 0).all() and (f > -hm.log_marginal(v)).all()
    assert torch.allclose(torch.logsumexp(log_joint, 1), hm.log_marginal(v))


def generative_snapshot(hm):
    return [p.detach().clone() for p in hm.generative_parameters()]


def recognition_snapshot(hm):
    return [p.detach().clone() for p in hm.recognition_parameters()]


def test_wake_update_is_the_gradient_of_log_p_layer_below_given_layer_above():
    hm = with_random_biases(machine((5, 4, 3, 2)))
    v = (torch.rand(16, 5, generator=torch.Generator().manual_seed(4)) < 0.5).double()
    # the same seed gives wake_phase the same recognition samples
    states = hm.recognize(v, torch.Generator().manual_seed(5))
    log_top = torch.distributions.Bernoulli(logits=hm.top_bias).log_prob(states[-1]).sum(1)
    grads = list(torch.autograd.grad(log_top.mean(), [hm.top_bias]))     # log p(s_L)
    for l, layer in enumerate(hm.generative):                            # log p(s_l | s_{l+1})
        grads += torch.autograd.grad(layer.log_prob(states[l], states[l + 1]).mean(),
                                     [layer.weight, layer.bias])
    full = torch.autograd.grad(hm.log_joint(states).mean(), hm.generative_parameters())
    expected_f = (hm.log_recognition(states) - hm.log_joint(states)).detach()
    before, rec_before = generative_snapshot(hm), recognition_snapshot(hm)
    lr = 0.1
    f = wake_phase(hm, v, lr, torch.Generator().manual_seed(5))
    for b, a, g, g_full in zip(before, hm.generative_parameters(), grads, full):
        assert torch.allclose((a.detach() - b) / lr, g, atol=1e-12)
        assert torch.allclose(g, g_full, atol=1e-12)
    assert all(torch.equal(b, a) for b, a in zip(rec_before, hm.recognition_parameters()))
    assert torch.allclose(f, expected_f)


def test_sleep_update_is_the_gradient_of_log_q_layer_above_given_layer_below():
    hm = with_random_biases(machine((5, 4, 3, 2)))
    dreams = hm.generate(16, torch.Generator().manual_seed(6))
    grads = []
    for l, layer in enumerate(hm.recognition):                           # log q(s_{l+1} | s_l)
        grads += torch.autograd.grad(layer.log_prob(dreams[l + 1], dreams[l]).mean(),
                                     [layer.weight, layer.bias])
    full = torch.autograd.grad(hm.log_recognition(dreams).mean(), hm.recognition_parameters())
    expected = -hm.log_recognition(dreams).detach()
    before, gen_before = recognition_snapshot(hm), generative_snapshot(hm)
    lr = 0.1
    surprise = sleep_phase(hm, 16, lr, torch.Generator().manual_seed(6))
    for b, a, g, g_full in zip(before, hm.recognition_parameters(), grads, full):
        assert torch.allclose((a.detach() - b) / lr, g, atol=1e-12)
        assert torch.allclose(g, g_full, atol=1e-12)
    assert all(torch.equal(b, a) for b, a in zip(gen_before, hm.generative_parameters()))
    assert torch.allclose(surprise, expected)


def test_average_wake_update_descends_the_free_energy():
    # E_q[delta rule] = E_q[grad log p(v, h)] = -grad_theta F(v): checked with 200,000 samples
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)[[3, 12, 30]]
    exact = torch.autograd.grad(-hm.free_energy(v).mean(), hm.generative_parameters())
    before = generative_snapshot(hm)
    wake_phase(hm, v.repeat(200_000 // 3, 1), 1.0, torch.Generator().manual_seed(7))
    for b, a, g in zip(before, hm.generative_parameters(), exact):
        assert torch.allclose(a.detach() - b, g, atol=0.01), (a.detach() - b, g)


def test_average_sleep_update_descends_the_reverse_kl():
    # E_p(v,h)[delta rule] = grad_phi E_p(v)[-KL(p(h | v) || q(h | v))], exact by enumeration
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)
    _, log_q, log_joint = hm.enumerate_hidden(v)
    p_vh = log_joint.exp().detach()                                      # (32, 32), sums to 1
    log_post = (log_joint - torch.logsumexp(log_joint, 1, keepdim=True)).detach()
    reverse_kl = (p_vh * (log_post - log_q)).sum()                       # E_p(v) KL(p || q)
    exact = torch.autograd.grad(-reverse_kl, hm.recognition_parameters())
    before = recognition_snapshot(hm)
    sleep_phase(hm, 200_000, 1.0, torch.Generator().manual_seed(8))
    for b, a, g in zip(before, hm.recognition_parameters(), exact):
        assert torch.allclose(a.detach() - b, g, atol=0.01), (a.detach() - b, g)


def test_kl_divergence_against_a_brute_force_sum():
    hm = with_random_biases(machine((5, 3, 2)))
    g = torch.Generator().manual_seed(9)
    images = all_binary_states(5)[torch.randperm(32, generator=g)[:12]]
    probs = torch.rand(12, generator=g, dtype=torch.float64) + 0.1
    probs = probs / probs.sum()
    brute = sum(p * math.log(p / brute_force_p(hm, img.int().tolist()))
                for img, p in zip(images, probs.tolist()))
    assert abs(kl_divergence(hm, images, probs).item() - brute) < 1e-10
    assert abs(kl_divergence(hm.float(), images, probs).item() - brute) < 1e-6
    own = hm.double().log_marginal(all_binary_states(5, torch.float64)).exp().detach()
    assert abs(kl_divergence(hm, all_binary_states(5), own / own.sum()).item()) < 1e-12


def test_kl_on_bars_starts_at_the_uniform_value():
    images, probs = data.bars_distribution(4)
    hm = HelmholtzMachine((16, 8, 1), init_std=0.0)                      # p(v) uniform
    entropy = -(probs * probs.log()).sum().item()
    assert abs(kl_divergence(hm, images, probs).item() - (16 * math.log(2) - entropy)) < 1e-9


def test_init_visible_bias_gives_the_data_marginals():
    v = data.bars(5000, torch.Generator().manual_seed(10))
    hm = HelmholtzMachine((16, 4, 1), init_std=0.0).init_visible_bias_(v)
    dreams = hm.sample(20_000, torch.Generator().manual_seed(11))
    assert torch.allclose(dreams.mean(0), v.mean(0), atol=0.02)


@pytest.fixture
def one_thread():
    """Tiny tensors: thread synchronisation would cost more than the arithmetic (and much
    more on a busy machine), so run this test on one thread and restore the setting."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_wake_sleep_learns_the_bars(one_thread):
    g = torch.Generator().manual_seed(0)
    images, probs = data.bars_distribution(4)
    hm = HelmholtzMachine((16, 8, 1), init_std=0.1, generator=g)
    x = data.bars(60_000, g)
    kl_before = kl_divergence(hm, images, probs).item()
    for v in x.split(50):
        wake_phase(hm, v, 2.0, g)
        sleep_phase(hm, 50, 2.0, g)
    kl_after = kl_divergence(hm, images, probs).item()
    assert kl_before > 8 and kl_after < 2.0, (kl_before, kl_after)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: HelmholtzMachine([16]), ValueError, "at least one hidden layer"),
    (lambda: HelmholtzMachine("16,8"), TypeError, "sizes must be a sequence"),
    (lambda: HelmholtzMachine((16, 0)), ValueError, r"sizes\[1\] must be >= 1"),
    (lambda: HelmholtzMachine((16, 8), init_std=-1.0), ValueError, "init_std must be >= 0"),
    (lambda: HelmholtzMachine((16, 8), generator=0), TypeError,
     "generator must be a torch.Generator"),
    (lambda: HelmholtzMachine((4, 21)).log_marginal(torch.zeros(1, 4)), ValueError,
     "every hidden layer to have at most 20 units"),
    (lambda: HelmholtzMachine((4, 12, 12)).log_marginal(torch.zeros(1, 4)), ValueError,
     "adjacent hidden layers of at most 22 units together"),
    (lambda: HelmholtzMachine((4, 12, 10)).free_energy(torch.zeros(1, 4)), ValueError,
     "at most 20 hidden units in all"),
    (lambda: HelmholtzMachine((4, 2)).log_marginal(torch.zeros(1, 5)), ValueError,
     "v must have last dimension 4"),
    (lambda: HelmholtzMachine((4, 2)).recognize(torch.zeros(4)), ValueError,
     "v must have 2 dimensions"),
    (lambda: HelmholtzMachine((4, 2)).sample(0), ValueError, "n must be >= 1"),
    (lambda: HelmholtzMachine((4, 2)).log_joint([torch.zeros(1, 4)]), ValueError,
     "states must be a list of 2 tensors"),
    (lambda: HelmholtzMachine((4, 2)).log_joint(torch.zeros(1, 4)), TypeError,
     "states must be a list of tensors"),
    (lambda: HelmholtzMachine((4, 2)).log_joint([torch.zeros(2, 4), torch.zeros(3, 2)]),
     ValueError, "states must share one batch size"),
    (lambda: wake_phase(HelmholtzMachine((4, 2)), torch.zeros(3, 4), lr=0.0), ValueError,
     "lr must be > 0"),
    (lambda: wake_phase("model", torch.zeros(3, 4), lr=0.1), TypeError,
     "model must be a HelmholtzMachine"),
    (lambda: wake_phase(HelmholtzMachine((4, 2)), torch.zeros(3, 4), 0.1, generator=1), TypeError,
     "generator must be a torch.Generator"),
    (lambda: sleep_phase(HelmholtzMachine((4, 2)), 0, lr=0.1), ValueError, "n must be >= 1"),
    (lambda: kl_divergence(HelmholtzMachine((4, 2)), torch.zeros(2, 4),
                           torch.tensor([0.5, 0.4], dtype=torch.float64)), ValueError,
     "probs must be positive and sum to 1"),
    (lambda: kl_divergence(HelmholtzMachine((4, 2)), torch.zeros(2, 4),
                           torch.tensor([1.0], dtype=torch.float64)), ValueError,
     "one probability per image"),
    (lambda: kl_divergence(HelmholtzMachine((4, 2)), torch.zeros(2, 3), torch.ones(2) / 2),
     ValueError, "images must have last dimension 4"),
    (lambda: SigmoidLayer(3, 2).log_prob(torch.zeros(1, 3), torch.zeros(1, 3)), ValueError,
     "y must have last dimension 2"),
    (lambda: score_function_gradient(HelmholtzMachine((4, 2)), torch.zeros(3, 4),
                                     baseline="mean"), TypeError, "baseline must be a real number"),
    (lambda: recognition_score(HelmholtzMachine((4, 2)), [torch.zeros(3, 4)]), ValueError,
     "states must be a list of 2 tensors"),
    (lambda: bars_machine(4, p_bar=1.5), ValueError, "p_bar must be a probability"),
    (lambda: bars_machine(4, scale=-1.0), ValueError, "scale must be >= 0"),
    (lambda: factorised_fit(torch.ones(3, dtype=torch.float64) / 3), ValueError,
     "posterior must list 2\\^n probabilities"),
    (lambda: factorised_fit(torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)),
     ValueError, "posterior must be positive and sum to 1"),
    (lambda: factorised_fit(torch.ones(4, dtype=torch.float64) / 4, kl="forward"), ValueError,
     "kl must be one of"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ----------------------------------------------------------------- score-function gradients

def test_recognition_score_is_the_per_sample_gradient_of_log_q():
    hm = with_random_biases(machine((5, 4, 3)))
    states = hm.generate(6, torch.Generator().manual_seed(12))
    score = recognition_score(hm, states)
    for b in range(6):
        one = [s[b:b + 1] for s in states]
        grads = torch.autograd.grad(hm.log_recognition(one).sum(), hm.recognition_parameters())
        for s, g in zip(score, grads):
            assert torch.allclose(s[b], g, atol=1e-12)


@pytest.mark.parametrize("baseline", [0.0, 3.0])
def test_score_function_gradient_is_unbiased_for_the_free_energy(baseline):
    # E_q[(f - c) grad log q] = grad_phi F(v) for any constant c; 200,000 samples, 5 s.e.
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)[[3, 12, 30]]
    exact = torch.autograd.grad(hm.free_energy(v).mean(), hm.recognition_parameters())
    est = score_function_gradient(hm, v.repeat(200_000 // 3, 1),
                                  torch.Generator().manual_seed(13), baseline=baseline)
    for e, g in zip(est, exact):
        se = e.std(0) / e.shape[0] ** 0.5
        assert ((e.mean(0) - g).abs() < 5 * se + 1e-12).all(), (e.mean(0), g)


def test_a_baseline_near_the_mean_signal_lowers_the_variance():
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)[[3, 12, 30]].repeat(20_000, 1)
    states = hm.recognize(v, torch.Generator().manual_seed(14))
    mean_f = (hm.log_recognition(states) - hm.log_joint(states)).mean().item()
    var = {c: sum(g.var(0).sum().item() for g in
                  score_function_gradient(hm, v, torch.Generator().manual_seed(14), baseline=c))
           for c in (0.0, mean_f)}
    assert var[mean_f] < var[0.0]


# ----------------------------------------------------------------- hand-built machines

def test_bars_machine_approaches_the_true_distribution():
    for size, scale, bound in [(4, 30.0, 1e-5), (3, 40.0, 1e-7)]:
        images, probs = data.bars_distribution(size)
        assert kl_divergence(bars_machine(size, scale=scale), images, probs).item() < bound
    images, probs = data.bars_distribution(4)
    kls = [kl_divergence(bars_machine(scale=w), images, probs).item() for w in (4, 8, 16)]
    assert kls[0] > kls[1] > kls[2]
    dreams = bars_machine(scale=30.0).sample(2000, torch.Generator().manual_seed(15)).float()
    valid = {tuple(x) for x in images.tolist()}
    assert all(tuple(x) in valid for x in dreams.tolist())


def test_two_cause_machine_posterior_by_bayes_rule():
    hm = two_cause_machine(-2.0, weight=5.0, bias=-3.0)
    h, _, log_joint = hm.enumerate_hidden(torch.ones(1, 1, dtype=torch.float64))
    sig = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    joint = [bernoulli(hs, [sig(-2.0)] * 2) * sig(5.0 * sum(hs) - 3.0)
             for hs in h.int().tolist()]
    post = torch.tensor(joint, dtype=torch.float64) / sum(joint)
    assert torch.allclose(log_joint.softmax(1)[0], post, atol=1e-12)


def _random_posterior(k, seed):
    p = torch.softmax(2 * torch.randn(k, generator=torch.Generator().manual_seed(seed),
                                      dtype=torch.float64), 0) + 1e-3
    return p / p.sum()


def _kl_pair(p, m, states):
    """KL(p || q) and KL(q || p) for the factorised q with marginals m (numpy arrays)."""
    q = (m ** states * (1 - m) ** (1 - states)).prod(1)
    return (p * np.log(p / q)).sum(), (q * np.log(q / p)).sum()


@pytest.mark.parametrize("n,seed", [(2, 0), (2, 1), (3, 2)])
def test_factorised_fits_against_scipy(n, seed):
    from scipy import optimize

    p, states = _random_posterior(2**n, seed), all_binary_states(n, torch.float64)
    p_np, s_np = p.numpy(), states.numpy()
    for kl, which in (("p||q", 0), ("q||p", 1)):
        ours = _kl_pair(p_np, factorised_fit(p, kl).numpy(), s_np)[which]
        best = min(optimize.minimize(lambda x: _kl_pair(p_np, x, s_np)[which], x0=x0,
                                     method="L-BFGS-B", bounds=[(1e-9, 1 - 1e-9)] * n).fun
                   for x0 in itertools.product([0.15, 0.5, 0.85], repeat=n))
        assert ours <= best + 1e-7, (kl, ours, best)
    assert torch.allclose(factorised_fit(p, "p||q"), states.T @ p)


def test_factorised_fit_commits_to_one_mode_of_the_two_cause_posterior():
    hm = two_cause_machine(-3.0)
    _, _, log_joint = hm.enumerate_hidden(torch.ones(1, 1, dtype=torch.float64))
    m = factorised_fit(log_joint.softmax(1)[0].detach())
    assert sorted(m.tolist())[0] < 0.1 and sorted(m.tolist())[1] > 0.9


def test_factorised_q_is_a_product_of_bernoullis():
    m = torch.tensor([0.2, 0.7, 0.9], dtype=torch.float64)
    q = factorised_q(m)
    states = all_binary_states(3, torch.float64)
    brute = torch.tensor([bernoulli(s, m.tolist()) for s in states.int().tolist()],
                         dtype=torch.float64)
    assert torch.allclose(q, brute, atol=1e-15)
    assert torch.allclose(states.T @ q, m)
    with pytest.raises(ValueError, match="marginals must lie strictly between 0 and 1"):
        factorised_q(torch.tensor([0.0, 0.5], dtype=torch.float64))


def test_score_function_moments_by_enumeration():
    hm = with_random_biases(machine((5, 3, 2)))
    v = all_binary_states(5, torch.float64)
    p = torch.rand(32, generator=torch.Generator().manual_seed(16), dtype=torch.float64) + 0.2
    p = p / p.sum()
    exact = torch.autograd.grad((p * hm.free_energy(v)).sum(), hm.recognition_parameters())
    mean, var = score_function_moments(hm, v, p, baselines=[0.0, 2.5])
    assert torch.allclose(mean, torch.cat([g.flatten() for g in exact]), atol=1e-12)
    # against the sample variance of 200,000 draws of score_function_gradient
    g = torch.Generator().manual_seed(17)
    draws = v[torch.multinomial(p, 200_000, replacement=True, generator=g)]
    for row, c in enumerate([0.0, 2.5]):
        est = score_function_gradient(hm, draws, torch.Generator().manual_seed(18), baseline=c)
        sample_var = torch.cat([e.reshape(len(draws), -1) for e in est], 1).var(0)
        assert torch.allclose(sample_var, var[row], rtol=0.05, atol=1e-4), (sample_var, var[row])


# ------------------------------------------- bad input found by the bad-input suite (issue)

@pytest.mark.parametrize("call,exc,msg", [
    (lambda: wake_phase(HelmholtzMachine((4, 2)), torch.zeros(0, 4), lr=0.1), ValueError,
     "v must hold at least 1 rows"),
    (lambda: HelmholtzMachine((4, 2)).init_visible_bias_(torch.zeros(0, 4)), ValueError,
     "v must hold at least 1 rows"),
    (lambda: HelmholtzMachine((4, 2)).log_marginal(torch.full((2, 4), 2.0)), ValueError,
     r"v must hold the states of binary units, values in \[0, 1\]"),
    (lambda: HelmholtzMachine((4, 2)).free_energy(torch.full((2, 4), float("nan"))), ValueError,
     "v must hold finite values"),
    (lambda: kl_divergence(HelmholtzMachine((4, 2)), torch.zeros(0, 4), torch.ones(0)), ValueError,
     "images must hold at least 1 rows"),
    (lambda: SigmoidLayer(3, 2, generator="seed"), TypeError, "generator must be a torch.Generator"),
    (lambda: SigmoidLayer(3, 2).log_prob(torch.zeros(2, 2), torch.zeros(3, 3)), ValueError,
     "y and x must have one row per example each"),
    (lambda: factorised_q(torch.zeros(0, dtype=torch.float64)), ValueError,
     "marginals must not be empty"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
