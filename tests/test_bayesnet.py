import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

from companion import bayesnet as bn
from companion import ebm, samplers
from helpers import within_se

with warnings.catch_warnings():          # pgmpy warns about deprecations on import
    warnings.simplefilter("ignore")
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

FT = ("F", "T")


def to_pgmpy(net: bn.BayesianNetwork) -> DiscreteBayesianNetwork:
    """The same network in pgmpy. Our CPT is (parents..., child) with rows summing to 1;
    pgmpy's values are (child, product of parents) with the first parent varying slowest."""
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.names)
    model.add_edges_from((p, c) for c in net.names for p in net.parents[c])
    for name in net.names:
        pa = list(net.parents[name])
        values = net.cpt[name].reshape(-1, net.card[name]).T.numpy()
        model.add_cpds(TabularCPD(name, net.card[name], values, evidence=pa or None,
                                  evidence_card=[net.card[p] for p in pa] or None,
                                  state_names={v: list(net.states[v]) for v in pa + [name]}))
    assert model.check_model()
    return model


def pgmpy_query(infer, query, evidence):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = infer.query(list(query), evidence=evidence or None, show_progress=False)
    order = [q.variables.index(v) for v in query]
    return torch.as_tensor(np.transpose(q.values, order), dtype=torch.float64)


def random_queries(net, gen, n_evidence):
    """For each variable: its marginal given n_evidence other variables at random states."""
    out = []
    for q in net.names:
        others = [v for v in net.names if v != q]
        picks = torch.randperm(len(others), generator=gen)[:n_evidence].tolist()
        ev = {others[i]: net.states[others[i]][int(torch.randint(net.card[others[i]], (1,),
                                                                 generator=gen))]
              for i in picks}
        out.append(((q,), ev))
    return out


@pytest.fixture(scope="module")
def networks():
    g = torch.Generator().manual_seed(7)
    return {"sprinkler": bn.sprinkler(),
            "random6": bn.random_network(6, max_parents=3, cards=(2, 3), generator=g),
            "random8": bn.random_network(8, max_parents=2, cards=(3, 2, 2), generator=g)}


# ------------------------------------------------------------------- the factorisation

def test_joint_is_the_product_of_the_conditionals_and_sums_to_one():
    net = bn.sprinkler()
    joint = net.joint()
    assert abs(joint.table.sum().item() - 1) < 1e-12
    cpt = net.cpt
    for c, s, r, w in itertools.product(range(2), repeat=4):
        by_hand = (cpt["Cloudy"][c] * cpt["Sprinkler"][c, s] * cpt["Rain"][c, r]
                   * cpt["WetGrass"][s, r, w])
        assert abs(joint.table[c, s, r, w].item() - by_hand.item()) < 1e-15
    x = net.all_assignments()
    assert torch.allclose(net.prob(x), joint.table.reshape(-1), atol=1e-15)
    assert torch.allclose(net.energy(x), -net.log_prob(x))


def test_random_network_is_a_valid_distribution(networks):
    for net in networks.values():
        joint = net.joint()
        assert abs(joint.table.sum().item() - 1) < 1e-12
        assert torch.allclose(net.prob(net.all_assignments()), joint.table.reshape(-1))
    net = networks["random6"]
    assert any(net.card[n] == 3 for n in net.names) and any(net.parents[n] for n in net.names)


def test_energy_is_a_sum_of_local_terms(networks):
    net = networks["random6"]
    x = net.all_assignments()
    local = sum(-net.local_log_prob(x, n) for n in net.names)
    assert torch.allclose(net.energy(x), local)
    assert abs(torch.exp(-net.energy(x)).sum().item() - 1) < 1e-12   # Z = 1


# ------------------------------------------------------------------------ exact queries

def sprinkler_queries():
    return [(("Rain",), {}), (("WetGrass",), {}), (("Sprinkler",), {"WetGrass": "T"}),
            (("Rain",), {"WetGrass": "T"}), (("Rain",), {"WetGrass": "T", "Sprinkler": "T"}),
            (("Cloudy",), {"WetGrass": "T", "Rain": "F"}), (("Rain", "Cloudy"), {"WetGrass": "T"}),
            (("Cloudy", "Sprinkler", "Rain"), {"WetGrass": "F"}),
            (("Sprinkler", "Rain"), {}), (("WetGrass",), {"Cloudy": "T"})]


@pytest.mark.parametrize("method", [bn.enumeration, bn.variable_elimination])
def test_sprinkler_queries_match_pgmpy(method):
    net = bn.sprinkler()
    infer = VariableElimination(to_pgmpy(net))
    for query, ev in sprinkler_queries():
        ours = method(net, query, ev)
        assert ours.variables == query
        want = pgmpy_query(infer, query, ev)
        assert torch.allclose(ours.table, want, atol=1e-6, rtol=0), (query, ev)


@pytest.mark.parametrize("name", ["random6", "random8"])
@pytest.mark.parametrize("n_evidence", [0, 1, 2, 3])
def test_random_network_queries_match_pgmpy(networks, name, n_evidence):
    net = networks[name]
    infer = VariableElimination(to_pgmpy(net))
    g = torch.Generator().manual_seed(n_evidence)
    queries = random_queries(net, g, n_evidence)
    queries.append(((net.names[-1], net.names[0]), {}))                       # a joint query
    for query, ev in queries:
        want = pgmpy_query(infer, query, ev)
        for method in (bn.enumeration, bn.variable_elimination):
            assert torch.allclose(method(net, query, ev).table, want, atol=1e-6, rtol=0), \
                (method.__name__, query, ev)


def test_elimination_order_does_not_change_the_answer(networks):
    net = networks["random8"]
    ev = {"X7": "s0"}
    exact = bn.enumeration(net, "X3", ev).table
    hidden = [n for n in net.names if n not in ("X3", "X7")]
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        order = [hidden[i] for i in torch.randperm(len(hidden), generator=g)]
        assert torch.allclose(bn.variable_elimination(net, "X3", ev, order=order).table, exact)


def test_min_degree_eliminates_the_end_of_a_chain_first():
    nodes = [bn.Node("X0", FT, (), [0.5, 0.5])]
    nodes += [bn.Node(f"X{i}", FT, (f"X{i - 1}",), [[0.9, 0.1], [0.2, 0.8]]) for i in range(1, 6)]
    net = bn.BayesianNetwork(nodes)
    order = bn.elimination_order(net, "X3")
    assert order[0] == "X0" and sorted(order) == ["X0", "X1", "X2", "X4", "X5"]
    _, trace = bn.variable_elimination(net, "X3", return_trace=True)
    assert max(size for _, size in trace) == 4, "a chain never needs a factor over > 2 variables"


def test_evidence_probability_is_the_normaliser(networks):
    net = networks["random6"]
    ev = {"X1": 1, "X4": 0}
    joint = net.joint()
    want = joint.reduce("X1", 1).reduce("X4", 0).table.sum().item()
    assert abs(bn.evidence_probability(net, ev) - want) < 1e-12
    assert abs(bn.evidence_probability(net, {}) - 1) < 1e-12


def test_factor_product_and_sum_out_by_brute_force():
    g = torch.Generator().manual_seed(0)
    b_states = ("b0", "b1", "b2")
    f = bn.Factor(("A", "B"), (("a0", "a1"), b_states), torch.rand(2, 3, generator=g).double())
    h = bn.Factor(("C", "B"), (("c0", "c1"), b_states), torch.rand(2, 3, generator=g).double())
    p = f * h
    assert p.variables == ("A", "B", "C")
    for a, b, c in itertools.product(range(2), range(3), range(2)):
        assert abs(p.table[a, b, c] - f.table[a, b] * h.table[c, b]) < 1e-15
    s = p.sum_out("B")
    for a, c in itertools.product(range(2), range(2)):
        assert abs(s.table[a, c] - sum(f.table[a, b] * h.table[c, b] for b in range(3))) < 1e-14
    assert p.value({"A": "a1", "B": "b2", "C": 0}) == p.table[1, 2, 0].item()


def test_explaining_away_in_the_sprinkler_network():
    net = bn.sprinkler()
    p_w = bn.enumeration(net, "Rain", {"WetGrass": "T"}).value({"Rain": "T"})
    p_ws = bn.enumeration(net, "Rain", {"WetGrass": "T", "Sprinkler": "T"}).value({"Rain": "T"})
    p_s = bn.enumeration(net, "Rain", {"Sprinkler": "T"}).value({"Rain": "T"})
    # the sprinkler explains the wet grass: rain becomes less likely than given W alone,
    # and barely more likely than given S alone
    assert p_s < p_ws < p_w and p_ws - p_s < 0.05 < p_w - p_ws


def test_hmm_as_a_bayesian_network_matches_the_forward_algorithm():
    pi = torch.tensor([0.6, 0.4], dtype=torch.float64)
    A = torch.tensor([[0.7, 0.3], [0.2, 0.8]], dtype=torch.float64)
    B = torch.tensor([[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]], dtype=torch.float64)
    obs = [0, 2, 1, 2, 2]
    net = bn.hmm_network(pi, A, B, len(obs))
    ev = {f"O{t + 1}": o for t, o in enumerate(obs)}
    assert abs(math.log(bn.evidence_probability(net, ev)) - bn.hmm_forward(pi, A, B, obs)) < 1e-12


def test_sigmoid_belief_network_as_a_bayesian_network():
    g = torch.Generator().manual_seed(5)
    sbn = ebm.SigmoidBeliefNet(3, 2, generator=g).double()
    net = bn.sigmoid_belief_network(sbn.W, sbn.a, sbn.c)
    p = bn.variable_elimination(net, ["V1", "V2", "V3"]).table.reshape(-1)
    v = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)
    assert torch.allclose(p, sbn.log_prob(v).exp().detach(), atol=1e-12)


# ----------------------------------------------------------------------------- sampling

def test_ancestral_sample_frequencies_match_the_exact_joint(gen):
    net = bn.sprinkler()
    n = 200_000
    x = net.sample(n, gen)
    codes = (x * torch.tensor([8, 4, 2, 1])).sum(1)
    freq = torch.bincount(codes, minlength=16).double() / n
    p = net.joint().table.reshape(-1)
    se = (p * (1 - p) / n).sqrt()
    assert all(within_se(f, q, s, k=5) for f, q, s in zip(freq, p, se) if q > 0)
    assert (freq[p == 0] == 0).all(), "impossible assignments are never drawn"


def test_ancestral_marginals_on_a_random_network(gen, networks):
    net = networks["random6"]
    n = 100_000
    x = net.sample(n, gen)
    for name in net.names:
        p = bn.enumeration(net, name).table
        freq = torch.bincount(x[:, net.index(name)], minlength=net.card[name]).double() / n
        assert torch.all((freq - p).abs() <= 5 * (p * (1 - p) / n).sqrt() + 1e-12), name


def test_markov_blanket_conditional_is_the_full_conditional(networks):
    net = networks["random6"]
    joint = net.joint().table
    x = net.all_assignments()
    for name in net.names:
        mb = bn.markov_blanket_conditional(net, name)
        i = net.index(name)
        # P(x_i | x_-i) from the joint: divide by the sum over the states of x_i
        full = joint / joint.sum(dim=i, keepdim=True)
        got = mb.table[tuple(x[:, net.index(v)] for v in mb.variables)]
        assert torch.allclose(got, full.reshape(-1), atol=1e-12), name
    assert net.markov_blanket("X2") == tuple(
        n for n in net.names if n != "X2" and (n in net.parents["X2"] or n in net.children["X2"]
                                               or any(n in net.parents[c] for c in net.children["X2"])))


def test_gibbs_converges_to_the_exact_posterior(gen):
    net = bn.sprinkler()
    ev = {"WetGrass": "T"}
    samples = bn.gibbs_sample(net, ev, n_chains=200, n_sweeps=1500, burn_in=50, generator=gen)
    assert (samples[:, :, net.index("WetGrass")] == 1).all()
    for name in ["Cloudy", "Sprinkler", "Rain"]:
        exact = bn.enumeration(net, name, ev).value({name: "T"})
        est = (samples[:, :, net.index(name)] == 1).double().mean().item()
        assert abs(est - exact) < 0.01, (name, est, exact)


def test_gibbs_on_a_random_network_with_evidence(gen, networks):
    net = networks["random8"]
    ev = {"X7": "s1", "X2": "s0"}
    samples = bn.gibbs_sample(net, ev, n_chains=100, n_sweeps=1000, burn_in=50, generator=gen)
    for name in ["X0", "X4", "X6"]:
        exact = bn.variable_elimination(net, name, ev).table
        freq = torch.bincount(samples[:, :, net.index(name)].reshape(-1),
                              minlength=net.card[name]).double() / samples[:, :, 0].numel()
        assert (freq - exact).abs().max() < 0.015, (name, freq, exact)


def test_gibbs_running_estimate(gen):
    net = bn.sprinkler()
    est = bn.gibbs_running_estimate(net, "Rain", "T", {"WetGrass": "T"}, n_chains=100,
                                    n_samples=2000, burn_in=50, generator=gen)
    assert est.shape == (100, 2000)
    assert ((est[:, 0] == 0) | (est[:, 0] == 1)).all()
    exact = bn.enumeration(net, "Rain", {"WetGrass": "T"}).value({"Rain": "T"})
    assert abs(est[:, -1].mean().item() - exact) < 0.01
    assert est[:, -1].std() < est[:, 99].std(), "the spread across chains shrinks"


def test_gibbs_start_from_init():
    net = bn.sprinkler()
    g = torch.Generator().manual_seed(0)
    init = torch.tensor([[0, 1, 0, 1]] * 4)
    out = bn.gibbs_sample(net, {"WetGrass": "T"}, n_chains=4, n_sweeps=1, generator=g, init=init)
    assert out.shape == (1, 4, 4)


# --------------------------------------------------------------------------- the coin

@pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.5, 0.5), (2.0, 8.0), (30.5, 12.0)])
def test_beta_summary_matches_scipy(a, b):
    s = bn.beta_summary(a, b)
    ref = stats.beta(a, b)
    lo, hi = ref.interval(0.95)
    for key, want in [("mean", ref.mean()), ("median", ref.median()), ("sd", ref.std()),
                      ("lo", lo), ("hi", hi)]:
        assert abs(s[key] - want) < 1e-9, key
    theta = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    assert np.allclose(bn.beta_log_density(theta, a, b).numpy(), ref.logpdf(theta.numpy()))


def test_beta_posterior_is_bayes_theorem_on_a_grid():
    a, b, h, t = 2.0, 3.0, 7, 4
    theta = torch.linspace(1e-4, 1 - 1e-4, 20001, dtype=torch.float64)
    d = theta[1] - theta[0]
    unnorm = bn.beta_log_density(theta, a, b).exp() * theta**h * (1 - theta) ** t
    posterior = unnorm / (unnorm.sum() * d)                  # prior x likelihood, normalised
    a_post, b_post = bn.beta_posterior(a, b, h, t)
    assert (a_post, b_post) == (9.0, 7.0)
    assert torch.allclose(posterior, bn.beta_log_density(theta, a_post, b_post).exp(), atol=1e-6)


def test_coin_logit_energy_is_the_beta_posterior_in_logit_space():
    a, b, h, t = 2.0, 3.0, 7, 4
    phi = torch.linspace(-4, 4, 41, dtype=torch.float64)[:, None]
    theta = torch.sigmoid(phi[:, 0])
    log_target = bn.beta_log_density(theta, a + h, b + t) + torch.log(theta * (1 - theta))
    diff = bn.coin_logit_energy(phi, a, b, h, t) + log_target
    assert diff.max() - diff.min() < 1e-10, "E = -log density + a constant"


def test_metropolis_on_the_coin_energy_recovers_the_beta_posterior(gen):
    a, b, h, t = 2.0, 2.0, 14, 6
    energy = lambda phi: bn.coin_logit_energy(phi, a, b, h, t)  # noqa: E731
    phi, rate = samplers.metropolis_hastings(energy, torch.zeros(1000, 1, dtype=torch.float64),
                                             n_steps=120, proposal_std=0.8, generator=gen)
    theta = torch.sigmoid(phi[:, 0])
    s = bn.beta_summary(a + h, b + t)
    assert 0.2 < rate < 0.9
    assert within_se(theta.mean().item(), s["mean"], s["sd"] / math.sqrt(1000))
    assert abs(theta.std().item() - s["sd"]) < 0.1 * s["sd"]


def test_coin_energy_without_the_jacobian_targets_the_wrong_beta():
    a, b, h, t = 2.0, 3.0, 7, 4
    phi = torch.linspace(-4, 4, 41, dtype=torch.float64)[:, None]
    theta = torch.sigmoid(phi[:, 0])
    # without the Jacobian, exp(-E) as a density in phi is Beta(a+h-1, b+t-1)(theta) |dtheta/dphi|
    log_target = bn.beta_log_density(theta, a + h - 1, b + t - 1) + torch.log(theta * (1 - theta))
    diff = bn.coin_logit_energy(phi, a, b, h, t, jacobian=False) + log_target
    assert diff.max() - diff.min() < 1e-10


# ------------------------------------------------------------------------------ errors

def node(name, parents=(), cpt=(0.5, 0.5), states=FT):
    return bn.Node(name, states, parents, cpt)


HALF = [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: bn.BayesianNetwork([node("A", cpt=[0.5, 0.6])]), ValueError,
     r"cpt of 'A': every row must sum to 1 .* prior sums to 1.1"),
    (lambda: bn.BayesianNetwork([node("A"), node("B", ("A",), [[0.5, 0.5], [0.3, 0.6]])]),
     ValueError, r"the row for A=T sums to 0.9"),
    (lambda: bn.BayesianNetwork([node("A", cpt=[1.5, -0.5])]), ValueError,
     "must hold finite, non-negative probabilities"),
    (lambda: bn.BayesianNetwork([node("A", ("Z",), HALF)]), ValueError, "unknown parent 'Z' of 'A'"),
    (lambda: bn.BayesianNetwork([node("A", ("C",), HALF), node("B", ("A",), HALF),
                                 node("C", ("B",), HALF)]), ValueError,
     "found the cycle B -> C -> A -> B"),
    (lambda: bn.BayesianNetwork([node("A", ("A",), HALF)]), ValueError, "cycle A -> A"),
    (lambda: bn.BayesianNetwork([node("A"), node("B", ("A",), [0.5, 0.5])]), ValueError,
     r"cpt of 'B' must have shape \(2, 2\) \(axes A, B\), got \(2,\)"),
    (lambda: bn.BayesianNetwork([node("A", cpt=[0.2, 0.3, 0.5])]), ValueError,
     r"must have shape \(2,\)"),
    (lambda: bn.BayesianNetwork([node("A"), node("A")]), ValueError, "names must be distinct"),
    (lambda: bn.BayesianNetwork([node("A", states="FT")]), TypeError, "sequence of state names"),
    (lambda: bn.BayesianNetwork([node("A", states=("T", "T"))]), ValueError,
     "at least two distinct names"),
    (lambda: bn.BayesianNetwork([node("A", cpt=None)]), ValueError, "cpt of 'A' is missing"),
    (lambda: bn.BayesianNetwork([node("A"), node("B", ("A", "A"), HALF)]), ValueError,
     "parents of 'B' must be distinct"),
    (lambda: bn.BayesianNetwork([]), TypeError, "non-empty sequence of Node"),
    (lambda: bn.BayesianNetwork([("A", FT)]), TypeError, r"nodes\[0\] must be a Node"),
    (lambda: bn.enumeration(bn.sprinkler(), "Snow"), ValueError, "unknown query variable 'Snow'"),
    (lambda: bn.variable_elimination(bn.sprinkler(), "Rain", {"Wet": "T"}), ValueError,
     "unknown evidence variable 'Wet'"),
    (lambda: bn.variable_elimination(bn.sprinkler(), "Rain", {"WetGrass": "yes"}), ValueError,
     r"unknown state 'yes' of variable 'WetGrass'; its states are \('F', 'T'\)"),
    (lambda: bn.enumeration(bn.sprinkler(), "Rain", {"WetGrass": 2}), ValueError,
     "state index 2 of variable 'WetGrass' is out of range"),
    (lambda: bn.enumeration(bn.sprinkler(), "Rain", {"Rain": "T"}), ValueError,
     "also appear in the evidence"),
    (lambda: bn.enumeration(bn.sprinkler(), "Cloudy",
                            {"WetGrass": "T", "Sprinkler": "F", "Rain": "F"}),
     ValueError, "has probability 0"),
    (lambda: bn.variable_elimination(bn.sprinkler(), "Cloudy",
                                     {"WetGrass": "T", "Sprinkler": "F", "Rain": "F"}),
     ValueError, "has probability 0"),
    (lambda: bn.variable_elimination(bn.sprinkler(), "Rain", order=["Cloudy"]), ValueError,
     "order must list each hidden variable once"),
    (lambda: bn.enumeration("net", "Rain"), TypeError, "net must be a BayesianNetwork"),
    (lambda: bn.sprinkler().sample(10, generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: bn.sprinkler().sample(0), ValueError, "n must be >= 1"),
    (lambda: bn.sprinkler().log_prob(torch.zeros(3, 4)), TypeError, "integer tensor"),
    (lambda: bn.sprinkler().log_prob(torch.full((3, 4), 2)), ValueError,
     "state index below the cardinality"),
    (lambda: bn.sprinkler().log_prob(torch.zeros(3, 5, dtype=torch.long)), ValueError,
     "x must have last dimension 4"),
    (lambda: bn.gibbs_sample(bn.sprinkler(), n_chains=0, n_sweeps=5), ValueError,
     "n_chains must be >= 1"),
    (lambda: bn.gibbs_sample(bn.sprinkler(), {"WetGrass": "T"}, n_chains=1, n_sweeps=1,
                             init=torch.tensor([[0, 0, 0, 0]])), ValueError,
     "init must give every chain a state of positive probability"),
    (lambda: bn.gibbs_running_estimate(bn.sprinkler(), "Rain", "maybe", n_chains=2,
                                       n_samples=5), ValueError, "unknown state 'maybe'"),
    (lambda: bn.Factor(("A",), (FT,), torch.zeros(3)), ValueError, r"table must have shape \(2,\)"),
    (lambda: bn.sprinkler().joint(max_entries=8), ValueError, "use variable_elimination"),
    (lambda: bn.beta_posterior(0.0, 1.0, 3, 2), ValueError, "a must be > 0"),
    (lambda: bn.beta_posterior(1.0, 1.0, -3, 2), ValueError, "heads must be >= 0"),
    (lambda: bn.beta_summary(1.0, 1.0, level=1.5), ValueError, r"level must be in \(0, 1\)"),
    (lambda: bn.coin_logit_energy(torch.zeros(3), 1.0, 1.0, 1, 1), ValueError,
     "phi must have 2 dimensions"),
    (lambda: bn.random_network(5, cards=(1,)), ValueError, r"cards\[0\] must be >= 2"),
    (lambda: bn.hmm_network(torch.ones(2) / 2, torch.eye(3), torch.ones(2, 2) / 2, 3),
     ValueError, "transition must have last dimension 2"),
    (lambda: bn.hmm_network(torch.tensor([0.5, 0.6]), torch.eye(2), torch.ones(2, 2) / 2, 3),
     ValueError, "cpt of 'H1': every row must sum to 1"),
    (lambda: bn.hmm_forward(torch.ones(2) / 2, torch.eye(2), torch.ones(2, 3) / 3, [0, 3]),
     ValueError, r"observations\[1\] must be <= 2"),
    (lambda: bn.sigmoid_belief_network(torch.zeros(3, 2), torch.zeros(4), torch.zeros(2)),
     ValueError, "a must have last dimension 3"),
    (lambda: bn.draw_network("net"), TypeError, "net must be a BayesianNetwork"),
    (lambda: bn.markov_blanket_conditional(bn.sprinkler(), "Snow"), ValueError,
     "unknown variable 'Snow'"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
