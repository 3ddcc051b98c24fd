import math

import pytest
import torch

from companion import stdp
from companion.stdp import STDPRule


def test_window_values_and_signs():
    rule = STDPRule(a_plus=0.01, a_minus=0.012, tau_plus=20.0, tau_minus=30.0)
    dt = torch.tensor([-60.0, -10.0, 0.0, 10.0, 60.0], dtype=torch.float64)
    w = stdp.stdp_window(dt, rule)
    want = [-0.012 * math.exp(-2), -0.012 * math.exp(-1 / 3), 0.0, 0.01 * math.exp(-0.5),
            0.01 * math.exp(-3)]
    assert torch.allclose(w, torch.tensor(want, dtype=torch.float64))
    assert (w[:2] < 0).all() and (w[3:] > 0).all(), "pre leads: potentiation; lags: depression"
    ts = torch.linspace(0.1, 100, 50, dtype=torch.float64)
    assert (stdp.stdp_window(ts, rule).diff() < 0).all()        # decays with |dt|
    assert (stdp.stdp_window(-ts, rule).diff() > 0).all()


def test_window_integral_is_the_closed_form():
    rule = STDPRule()
    dt = torch.linspace(-400, 400, 800_001, dtype=torch.float64)
    area = torch.trapezoid(stdp.stdp_window(dt, rule), dt).item()
    assert area == pytest.approx(rule.integral, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_online_traces_equal_the_sum_over_all_pairs(seed):
    g = torch.Generator().manual_seed(seed)
    pre = stdp.poisson_spikes(30.0, 2000.0, g)
    post = stdp.poisson_spikes(25.0, 2000.0, g)
    post = torch.cat([post, pre[:5]]).sort().values             # a few simultaneous spikes
    times, weights = stdp.online_stdp(pre, post, w0=0.3)
    assert weights[-1].item() == pytest.approx(0.3 + stdp.pairwise_weight_change(pre, post).item(),
                                               abs=1e-12)
    assert len(times) == len(set(pre.tolist()) | set(post.tolist()))


def test_a_single_pair_changes_the_weight_by_the_window():
    rule = STDPRule()
    for d in (-15.0, 5.0):
        pre = torch.tensor([100.0], dtype=torch.float64)
        post = pre + d
        _, w = stdp.online_stdp(pre, post.sort().values, rule)
        assert w[-1].item() == pytest.approx(stdp.stdp_window(torch.tensor([d]).double(), rule).item())


def test_bounds_hold():
    g = torch.Generator().manual_seed(3)
    out = stdp.two_neuron_simulation(5.0, rate_hz=40, duration_ms=20_000, generator=g)
    assert out["weights"].min() >= 0 and out["weights"].max() <= 1
    assert out["weights"][-1] == 1.0, "a causal pair saturates at the upper bound"


def test_pre_leading_strengthens_and_lagging_weakens():
    g = torch.Generator().manual_seed(4)
    lead = stdp.two_neuron_simulation(10.0, generator=g)
    lag = stdp.two_neuron_simulation(-10.0, generator=g)
    assert lead["weights"][-1] > 0.5 > lag["weights"][-1]
    assert (lead["post"] - 10.0 >= 0).all()


def test_drift_of_independent_poisson_trains_matches_the_rates_times_the_integral():
    g = torch.Generator().manual_seed(5)
    rule = STDPRule()
    changes = torch.tensor([stdp.pairwise_weight_change(stdp.poisson_spikes(20, 20_000, g),
                                                        stdp.poisson_spikes(20, 20_000, g),
                                                        rule).item() for _ in range(40)])
    want = stdp.expected_drift(20, 20, rule) * 20.0             # per second, times 20 s
    se = changes.std().item() / math.sqrt(40)
    assert abs(changes.mean().item() - want) < 4 * se


def test_drift_with_a_fixed_latency():
    g = torch.Generator().manual_seed(6)
    rule = STDPRule()
    changes = []
    for _ in range(20):
        pre = stdp.poisson_spikes(10, 20_000, g)
        changes.append(stdp.pairwise_weight_change(pre, pre + 8.0, rule).item())
    changes = torch.tensor(changes)
    want = stdp.expected_drift(10, 10, rule, latency_ms=8.0) * 20.0
    assert abs(changes.mean().item() - want) < 4 * changes.std().item() / math.sqrt(20) + 1e-3


def test_poisson_spike_count():
    g = torch.Generator().manual_seed(7)
    t = stdp.poisson_spikes(50.0, 100_000.0, g)                 # 5,000 spikes expected
    assert abs(len(t) - 5000) < 5 * math.sqrt(5000)
    assert (t.diff() > 0).all() and t.min() >= 0 and t.max() < 100_000


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: STDPRule(a_plus=-1.0), ValueError, "a_plus must be > 0"),
    (lambda: STDPRule(tau_minus=0.0), ValueError, "tau_minus must be > 0"),
    (lambda: stdp.stdp_window([1.0]), TypeError, "dt must be a torch.Tensor"),
    (lambda: stdp.stdp_window(torch.ones(2), rule="x"), TypeError, "rule must be an STDPRule"),
    (lambda: stdp.online_stdp(torch.tensor([2.0, 1.0]), torch.tensor([1.0])), ValueError,
     "pre must be sorted"),
    (lambda: stdp.online_stdp(torch.ones(2, 2), torch.ones(1)), ValueError, "pre must have 1"),
    (lambda: stdp.online_stdp(torch.ones(1), torch.ones(1), w_min=1.0, w_max=0.0), ValueError,
     "w_min must be <= w_max"),
    (lambda: stdp.poisson_spikes(-1.0, 10.0), ValueError, "rate_hz must be >= 0"),
    (lambda: stdp.poisson_spikes(1.0, 10.0, generator=0), TypeError, "torch.Generator"),
    (lambda: stdp.two_neuron_simulation(5.0, jitter_ms=-1.0), ValueError, "jitter_ms must be >= 0"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# --- bad input found by tests/bad_input (specs_stdp.py) -------------------------------------

@pytest.mark.parametrize("call, exc, msg", [
    (lambda: stdp.online_stdp(torch.ones(1), torch.ones(1), w0=2.0, w_min=0.0, w_max=1.0),
     ValueError, r"w0 must lie within the bounds \[w_min, w_max\]"),
    (lambda: stdp.online_stdp(torch.tensor([1.0, float("nan")]), torch.ones(1)), ValueError,
     "pre must hold finite values"),
    (lambda: stdp.pairwise_weight_change(torch.ones(1), torch.tensor([float("inf")])), ValueError,
     "post must hold finite values"),
    (lambda: stdp.two_neuron_simulation(5.0, w0=1.5, w_max=1.0), ValueError,
     r"w0 must lie within the bounds \[0, w_max\]"),
    (lambda: stdp.two_neuron_simulation(5.0, w_max=-1.0), ValueError, "w_max must be >= 0"),
    (lambda: stdp.two_neuron_simulation(5.0, rule="x"), TypeError, "rule must be an STDPRule"),
    (lambda: stdp.two_neuron_simulation(5.0, jitter_ms=1.0, generator="g"), TypeError,
     "generator must be a torch.Generator"),
    (lambda: stdp.two_neuron_simulation(5.0, rate_hz=float("inf")), ValueError,
     "rate_hz must be finite"),
    (lambda: stdp.expected_drift(10.0, float("nan")), ValueError, "rate_post_hz must be finite"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bad_input_empty_spike_trains_are_valid_trains():
    pre, none = torch.tensor([1.0, 5.0], dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
    assert stdp.pairwise_weight_change(pre, none).item() == 0.0
    times, weights = stdp.online_stdp(pre, none, w0=0.3)
    assert times.tolist() == [1.0, 5.0] and weights.tolist() == [0.3, 0.3]
    times, weights = stdp.online_stdp(none, none)
    assert times.numel() == 0 and weights.numel() == 0
