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
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

FT = ("F", "T")


def to_pgmpy(net: bn.BayesianNetwork) -> DiscreteBayesianNetwork:
    """The companion's converter; the round trip through from_pgmpy, pgmpy's bundled Asia
    network and every query compared below check it."""
    model = bn.to_pgmpy(net)
    assert isinstance(model, DiscreteBayesianNetwork) and model.check_model()
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


def chain(n=6):
    nodes = [bn.Node("X0", FT, (), [0.5, 0.5])]
    nodes += [bn.Node(f"X{i}", FT, (f"X{i - 1}",), [[0.9, 0.1], [0.2, 0.8]]) for i in range(1, n)]
    return bn.BayesianNetwork(nodes)


def test_min_fill_eliminates_the_end_of_a_chain_first_and_drops_barren_variables():
    net = chain()
    assert bn.elimination_order(net, "X3") == ["X0", "X1", "X2"]      # X4, X5: barren
    assert bn.elimination_order(net, "X3", {"X5": "T"}) == ["X0", "X1", "X2", "X4"]
    _, trace = bn.variable_elimination(net, "X3", {"X5": "T"}, return_trace=True)
    assert max(size for _, size in trace) == 4, "a chain never needs a factor over > 2 variables"


def brute_force_min_fill(scopes, hidden, card):
    """Min-fill recomputing every cost at every step (the companion updates them)."""
    nbrs = {v: set() for v in hidden}
    for scope in scopes:
        for a in scope:
            nbrs.setdefault(a, set()).update(b for b in scope if b != a)
    remaining, order = list(hidden), []
    while remaining:
        def cost(v):
            ns = sorted(nbrs[v])
            fill = sum(1 for a, b in itertools.combinations(ns, 2) if b not in nbrs[a])
            return fill, math.prod(card[u] for u in ns) * card[v]
        v = min(remaining, key=cost)
        for a in nbrs[v]:
            nbrs[a] |= nbrs[v] - {a}
            nbrs[a].discard(v)
        remaining.remove(v)
        order.append(v)
    return order


@pytest.mark.parametrize("seed", range(5))
def test_min_fill_order_matches_a_brute_force_min_fill(seed):
    g = torch.Generator().manual_seed(seed)
    net = bn.random_network(25, max_parents=3, cards=(2, 3, 4), generator=g)
    scopes = [net.parents[n] + (n,) for n in net.names]
    hidden = list(net.order[:-2])
    assert bn.min_fill_order(scopes, hidden, net.card) == brute_force_min_fill(scopes, hidden, net.card)


def test_evidence_cuts_off_what_the_query_does_not_depend_on():
    net = chain()
    # given X2, X3 depends on nothing upstream: only its own table is used
    assert bn.elimination_order(net, "X3", {"X2": "T"}) == []
    p = bn.variable_elimination(net, "X3", {"X2": "T", "X0": "F"})
    assert torch.allclose(p.table, net.cpt["X3"][1])
    assert torch.allclose(p.table, bn.enumeration(net, "X3", {"X2": "T", "X0": "F"}).table)
    # an explicit order lists every hidden variable; those that do not matter are skipped
    _, trace = bn.variable_elimination(net, "X3", {"X2": "T"}, order=["X5", "X4", "X1", "X0"],
                                       return_trace=True)
    assert trace == []


def test_impossible_evidence_confined_to_a_cut_off_part_shows_in_evidence_probability():
    """X0 -> X1 -> X2 and Z -> W with P(W = T | Z) = 0: the query X2 given X1 does not
    depend on Z or W (a documented blind spot of the pruning), P(e) reports the zero."""
    nodes = [bn.Node("X0", FT, (), [0.5, 0.5]),
             bn.Node("X1", FT, ("X0",), [[0.9, 0.1], [0.2, 0.8]]),
             bn.Node("X2", FT, ("X1",), [[0.7, 0.3], [0.4, 0.6]]),
             bn.Node("Z", FT, (), [0.5, 0.5]), bn.Node("W", FT, ("Z",), [[1.0, 0.0], [1.0, 0.0]])]
    net = bn.BayesianNetwork(nodes)
    assert bn.evidence_probability(net, {"X1": "T", "W": "T"}) == 0.0
    with pytest.raises(ValueError, match="has probability 0"):
        bn.enumeration(net, "X2", {"X1": "T", "W": "T"})
    with pytest.raises(ValueError, match="has probability 0"):         # a constant table
        bn.variable_elimination(net, "X2", {"X1": "T", "W": "T", "Z": "F"})


PGMPY_NETWORKS = ["asia", "sachs", "child", "insurance", "alarm", "water"]


@pytest.mark.parametrize("name", PGMPY_NETWORKS)
def test_variable_elimination_agrees_with_pgmpy_on_its_bundled_networks(name):
    """Agreement to 1e-9 with pgmpy on the networks it ships, for random queries with
    evidence drawn from an ancestral sample (so that it has positive probability)."""
    model = pgmpy_example(name)
    net = bn.from_pgmpy(model)
    infer = VariableElimination(model)
    g = torch.Generator().manual_seed(1)
    for k in range(12):
        x = net.sample(1, g)[0]
        perm = torch.randperm(len(net.names), generator=g).tolist()
        query = (net.names[perm[0]],) if k % 4 else (net.names[perm[0]], net.names[perm[1]])
        ev = {net.names[i]: net.states[net.names[i]][int(x[i])]
              for i in perm[len(query):len(query) + k % 5]}
        ours = bn.variable_elimination(net, query, ev).table
        theirs = pgmpy_query(infer, query, ev)       # pgmpy's own model, state order kept
        assert torch.allclose(ours, theirs, atol=1e-9, rtol=0), (name, query, ev)


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
     r"cpt of 'B' must have 2 axes \(A, B\), the last with 2 entries, got shape \(2,\)"),
    (lambda: bn.BayesianNetwork([node("A"), node("B", ("A",), [[0.5, 0.5]] * 3)]), ValueError,
     r"cpt of 'B' must have shape \(2, 2\) \(axes A, B\), got \(3, 2\)"),
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
     ValueError, "initial must hold probabilities, non-negative and summing to 1"),
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


# ------------------------------------------------------------------ pgmpy's networks

def pgmpy_example(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model
        return get_example_model(name)


def test_asia_is_pgmpys_bundled_network():
    ours, theirs = bn.asia(), bn.from_pgmpy(pgmpy_example("asia"))
    assert set(ours.names) == set(theirs.names)
    for name in ours.names:
        assert ours.parents[name] == theirs.parents[name]
        assert ours.states[name] == theirs.states[name] == ("yes", "no")
        assert torch.allclose(ours.cpt[name], theirs.cpt[name], atol=1e-15, rtol=0), name
    assert bn.deterministic_nodes(ours) == ("either",)
    noisy = bn.asia(noise=0.1)
    assert bn.deterministic_nodes(noisy) == ()
    assert abs(noisy.cpt["either"][1, 1, 0].item() - 0.1) < 1e-15   # lung=no, tub=no: yes w.p. eps


def test_pgmpy_query_reorders_pgmpys_answer(networks):
    net = networks["random6"]
    infer = VariableElimination(to_pgmpy(net))
    for query, ev in [(("X5", "X0"), {"X2": "s1"}), (("X3",), {})]:
        got = bn.pgmpy_query(net, query, ev)
        assert got.variables == query
        assert torch.allclose(got.table, pgmpy_query(infer, query, ev), atol=1e-12)


def test_from_pgmpy_keeps_the_tables(networks):
    for net in networks.values():
        back = bn.from_pgmpy(to_pgmpy(net))
        for name in net.names:
            assert back.parents[name] == net.parents[name] and back.states[name] == net.states[name]
            assert torch.allclose(back.cpt[name], net.cpt[name], atol=1e-12)


# ------------------------------------------------------------------------ d-separation

def moral_ancestral_separated(net, x, y, z):
    """Lauritzen's criterion, an independent route: X and Y are d-separated by Z iff they
    are separated by Z in the moral graph of the ancestral set of X, Y and Z."""
    keep = set()
    stack = [x, y, *z]
    while stack:
        v = stack.pop()
        if v not in keep:
            keep.add(v)
            stack += list(net.parents[v])
    nbrs = {v: set() for v in keep}
    for c in keep:
        pa = list(net.parents[c])
        for p in pa:
            nbrs[c].add(p)
            nbrs[p].add(c)
        for a, b in itertools.combinations(pa, 2):          # marry the parents
            nbrs[a].add(b)
            nbrs[b].add(a)
    seen, stack = {x}, [x]
    while stack:
        v = stack.pop()
        for w in nbrs[v] - set(z) - seen:
            seen.add(w)
            stack.append(w)
    return y not in seen


def random_triples(net, g, n):
    out = []
    for _ in range(n):
        perm = torch.randperm(len(net.names), generator=g).tolist()
        k = int(torch.randint(0, len(net.names) - 1, (1,), generator=g))
        out.append((net.names[perm[0]], net.names[perm[1]], [net.names[i] for i in perm[2:2 + k]]))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_d_separation_matches_pgmpy_and_the_moral_graph(seed):
    g = torch.Generator().manual_seed(seed)
    net = bn.random_network(9, max_parents=3, cards=(2,), generator=g)
    dag = to_pgmpy(net)
    for x, y, z in random_triples(net, g, 60):
        ours = bn.d_separated(net, x, y, z)
        assert ours == (not dag.is_dconnected(x, y, observed=z)), (x, y, z)
        assert ours == moral_ancestral_separated(net, x, y, z), (x, y, z)


def test_d_separation_agrees_with_the_joint(networks):
    """d-separated => independent in the joint (always); d-connected => dependent (for
    random tables, almost surely)."""
    g = torch.Generator().manual_seed(11)
    net = networks["random8"]
    seen = set()
    for x, y, z in random_triples(net, g, 80):
        sep = bn.d_separated(net, x, y, z)
        gap = bn.independence_gap(net, x, y, z)
        assert (gap < 1e-12) if sep else (gap > 1e-6), (x, y, z, sep, gap)
        seen.add(sep)
    assert seen == {True, False}


def test_d_separation_in_the_sprinkler_network():
    net = bn.sprinkler()
    assert not bn.d_separated(net, "Sprinkler", "Rain")                  # fork via Cloudy
    assert bn.d_separated(net, "Sprinkler", "Rain", "Cloudy")
    assert not bn.d_separated(net, "Sprinkler", "Rain", ["Cloudy", "WetGrass"])   # collider
    assert bn.d_separated(net, "Cloudy", "WetGrass", ["Sprinkler", "Rain"])
    assert bn.d_connected(net, "Cloudy", ["Sprinkler", "Rain"]) == ("Cloudy",)
    assert bn.d_separated(net, ["Cloudy"], ["WetGrass"], ["Sprinkler", "Rain"])


def test_a_descendant_of_a_collider_opens_it():
    nodes = [bn.Node("A", FT, (), [0.5, 0.5]), bn.Node("B", FT, (), [0.3, 0.7]),
             bn.Node("C", FT, ("A", "B"), [[[0.9, 0.1], [0.2, 0.8]], [[0.4, 0.6], [0.1, 0.9]]]),
             bn.Node("D", FT, ("C",), [[0.8, 0.2], [0.3, 0.7]])]
    net = bn.BayesianNetwork(nodes)
    assert bn.d_separated(net, "A", "B")
    assert not bn.d_separated(net, "A", "B", "D")
    assert bn.independence_gap(net, "A", "B") < 1e-15 < 1e-6 < bn.independence_gap(net, "A", "B", "D")


# ----------------------------------------------------- Gibbs: ergodicity and diagnostics

ASIA_EVIDENCE = {"xray": "yes", "dysp": "yes"}


def test_gibbs_refuses_the_deterministic_asia_network(gen):
    net = bn.asia()
    with pytest.raises(bn.NotErgodicError, match=r"'either' is a deterministic function of "
                       r"its parents \(lung, tub\)"):
        bn.gibbs_sample(net, ASIA_EVIDENCE, n_chains=10, n_sweeps=10, generator=gen)
    states, comp = bn.single_site_components(net, ASIA_EVIDENCE)
    assert len(states) == 32 and comp.max() == 1   # 4 (lung, tub) x 8 (asia, smoke, bronc); 2 parts
    either = states[:, net.index("either")]
    assert all(len(either[comp == c].unique()) == 1 for c in (0, 1))
    # what the check prevents: the chain stays where it starts, far from the posterior
    x = bn.gibbs_sample(net, ASIA_EVIDENCE, n_chains=100, n_sweeps=300, generator=gen,
                        check_ergodicity=False)
    assert (x[:, :, net.index("either")] == x[0, :, net.index("either")]).all()
    exact = bn.variable_elimination(net, "lung", ASIA_EVIDENCE).value({"lung": "yes"})
    assert abs((x[:, :, net.index("lung")] == 0).double().mean().item() - exact) > 0.3


def test_gibbs_ergodicity_check_finds_an_observed_xor():
    """No deterministic hidden node, but C = A xor B observed: A and B can only change
    together, which a single-site update never does."""
    xor = [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]
    net = bn.BayesianNetwork([bn.Node("A", FT, (), [0.5, 0.5]), bn.Node("B", FT, (), [0.4, 0.6]),
                              bn.Node("C", FT, ("A", "B"), xor)])
    problem = bn.gibbs_ergodicity_problem(net, {"C": "T"})
    assert "2 parts" in problem and "'A' can never change" in problem
    assert bn.gibbs_ergodicity_problem(net) is not None          # C hidden: deterministic
    assert bn.gibbs_ergodicity_problem(bn.asia(noise=1e-3), ASIA_EVIDENCE) is None
    assert bn.gibbs_ergodicity_problem(bn.sprinkler(), {"WetGrass": "T"}) is None


def test_sweep_matrix_is_stochastic_keeps_the_posterior_and_matches_sampled_sweeps(gen):
    net = bn.sprinkler()
    ev = {"WetGrass": "T"}
    states, K, pi = bn.gibbs_sweep_matrix(net, ev)
    assert len(states) == 6                   # 8 states of (C, S, R), but not S = R = F
    assert torch.allclose(K.sum(1), torch.ones(len(K), dtype=torch.float64))
    assert torch.allclose(pi @ K, pi, atol=1e-14)
    exact = bn.enumeration(net, ["Cloudy", "Sprinkler", "Rain"], ev).table
    assert torch.allclose(pi, exact[tuple(states[:, :3].T)], atol=1e-14)
    # one sampled sweep from each state, many times: frequencies of the next state
    n = 20_000
    codes = states[:, :3] @ torch.tensor([4, 2, 1])
    for s in range(len(states)):
        init = states[s].repeat(n, 1)
        nxt = bn.gibbs_sample(net, ev, n_chains=n, n_sweeps=1, generator=gen, init=init)[0]
        hit = nxt[:, :3] @ torch.tensor([4, 2, 1])
        freq = (hit[:, None] == codes[None, :]).double().mean(0)
        se = (K[s] * (1 - K[s]) / n).sqrt()
        assert ((freq - K[s]).abs() <= 5 * se + 1e-12).all(), s


def test_exact_iat_against_matrix_powers_and_a_two_state_chain():
    net = bn.asia(noise=0.05)
    states, K, pi = bn.gibbs_sweep_matrix(net, ASIA_EVIDENCE)
    f = (states[:, net.index("lung")] == 0).double()
    g = f - pi @ f
    var = pi @ (g * g)
    rho, v = [], g.clone()
    for _ in range(400):                                  # rho_k = g' D K^k g / g' D g
        v = K @ v
        rho.append(((pi * g) @ v / var).item())
    assert abs(rho[-1]) < 1e-12
    assert abs(bn.exact_iat(K, pi, f) - (1 + 2 * sum(rho))) < 1e-9
    q = 0.1                                               # flip with probability q:
    K2 = torch.tensor([[1 - q, q], [q, 1 - q]], dtype=torch.float64)   # rho_k = (1 - 2q)^k
    tau = bn.exact_iat(K2, torch.tensor([0.5, 0.5], dtype=torch.float64),
                       torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert abs(tau - (1 - q) / q) < 1e-12


def test_autocorrelation_matches_numpy():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 200, generator=g, dtype=torch.float64).cumsum(1)
    rho = bn.autocorrelation(x, max_lag=20).numpy()
    y = (x - x.mean()).numpy()
    gamma = [sum(np.dot(c[: len(c) - k], c[k:]) for c in y) / y.size for k in range(21)]
    assert np.allclose(rho, np.array(gamma) / gamma[0], atol=1e-12)


def ar1(phi, n_chains, T, g):
    """x_t = phi x_{t-1} + noise, started stationary: tau = (1 + phi) / (1 - phi)."""
    e = torch.randn(n_chains, T, generator=g, dtype=torch.float64)
    x = torch.empty_like(e)
    x[:, 0] = e[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, T):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_integrated_autocorrelation_time_of_an_ar1_process(phi):
    g = torch.Generator().manual_seed(3)
    x = ar1(phi, 20, 5000, g)
    tau = bn.integrated_autocorrelation_time(x)
    want = (1 + phi) / (1 - phi)
    # Sokal: var(tau_hat) / tau^2 ~ 2 (2M + 1) / N with window M ~ 5 tau; allow 4 sd
    assert abs(tau / want - 1) < 4 * math.sqrt(2 * (10 * want + 1) / x.numel()), (tau, want)
    assert abs(bn.effective_sample_size(x) - x.numel() / tau) < 1e-6
    # and what tau means: the spread of the chains' means is sqrt(tau) times the iid one
    assert abs(x.mean(1).std().item() / math.sqrt(want / (1 - phi**2) / 5000) - 1) < 0.4


def test_estimated_iat_of_a_gibbs_chain_matches_the_exact_value(gen):
    net = bn.sprinkler()
    ev = {"WetGrass": "T"}
    states, K, pi = bn.gibbs_sweep_matrix(net, ev)
    exact = bn.exact_iat(K, pi, (states[:, net.index("Rain")] == 1).double())
    x = bn.gibbs_sample(net, ev, n_chains=100, n_sweeps=2000, burn_in=50, generator=gen)
    est = bn.integrated_autocorrelation_time((x[:, :, net.index("Rain")] == 1).double().T)
    assert abs(est / exact - 1) < 0.1, (est, exact)


def test_stuck_chains_have_a_large_autocorrelation_time():
    x = torch.zeros(10, 500, dtype=torch.float64)
    x[:5] = 1.0                                        # half the chains stuck at 1
    assert bn.integrated_autocorrelation_time(x) > 400


# ---------------------------------------------------------------- likelihood weighting

@pytest.mark.parametrize("query,ev", [("lung", ASIA_EVIDENCE), ("tub", ASIA_EVIDENCE),
                                      ("either", {"xray": "no", "smoke": "yes"}),
                                      ("bronc", {"dysp": "no"}), ("smoke", {})])
def test_likelihood_weighting_on_asia_matches_exact_inference(gen, query, ev):
    net = bn.asia()
    est = bn.likelihood_weighting(net, query, ev, n_samples=100_000, generator=gen)
    exact = bn.variable_elimination(net, query, ev).table
    assert ((est.posterior.table - exact).abs() <= 5 * est.se + 1e-12).all(), (est, exact)
    assert 1 <= est.ess <= 100_000
    if not ev:
        assert abs(est.ess - 100_000) < 1e-6             # no evidence: equal weights


def test_likelihood_weighting_on_a_random_network(gen, networks):
    net = networks["random8"]
    ev = {"X7": "s1", "X2": "s0"}
    for q in ["X0", ("X4", "X6")]:
        est = bn.likelihood_weighting(net, q, ev, n_samples=50_000, generator=gen)
        exact = bn.variable_elimination(net, q, ev).table
        assert ((est.posterior.table - exact).abs() <= 5 * est.se + 1e-12).all()


def test_likelihood_weights_are_the_evidence_likelihood():
    net = bn.sprinkler()
    ev = {"WetGrass": "T", "Cloudy": "F"}
    x = net.all_assignments()
    x = x[(x[:, 0] == 0) & (x[:, 3] == 1)]
    w = bn.likelihood_log_weights(net, x, ev).exp()
    for row, wi in zip(x.tolist(), w.tolist()):
        c, s, r, _ = row
        want = net.cpt["Cloudy"][0] * net.cpt["WetGrass"][s, r, 1]
        assert abs(wi - want.item()) < 1e-15


# ------------------------------------------------------------- learning the tables

def pgmpy_cpt(cpd, net, name):
    """A pgmpy CPD as a tensor in our layout (parents..., name) and our state order."""
    values = cpd.values
    axes = [cpd.variables.index(v) for v in net.parents[name] + (name,)]
    values = np.transpose(values, axes)
    for k, v in enumerate(net.parents[name] + (name,)):
        order = [cpd.state_names[v].index(s) for s in net.states[v]]
        values = np.take(values, order, axis=k)
    return torch.as_tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.5])
def test_fit_cpts_matches_pgmpy_estimators(gen, networks, alpha):
    import pandas as pd
    from pgmpy.estimators import BayesianEstimator, MaximumLikelihoodEstimator

    net = networks["random6"]
    data = net.sample(3000, gen)
    frame = pd.DataFrame({n: [net.states[n][j] for j in data[:, i].tolist()]
                          for i, n in enumerate(net.names)})
    model = to_pgmpy(net)
    fitted = bn.fit_cpts(net, data, pseudo_count=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in net.names:
            if alpha == 0:
                cpd = MaximumLikelihoodEstimator(model, frame).estimate_cpd(name)
            else:
                cpd = BayesianEstimator(model, frame).estimate_cpd(
                    name, prior_type="dirichlet", pseudo_counts=alpha)
            assert torch.allclose(fitted.cpt[name], pgmpy_cpt(cpd, net, name), atol=1e-12), name


def test_cpt_counts_by_brute_force(gen):
    net = bn.sprinkler()
    data = net.sample(500, gen)
    counts = bn.cpt_counts(net, data, "WetGrass")
    for s, r, w in itertools.product(range(2), repeat=3):
        want = sum(1 for row in data.tolist() if row[1:] == [s, r, w])
        assert counts[s, r, w].item() == want
    assert counts.sum().item() == 500


def test_fitted_tables_converge_to_the_true_ones(gen):
    net = bn.sprinkler()
    data = net.sample(200_000, gen)
    fitted = bn.fit_cpts(net, data)
    for name in net.names:
        n_j = bn.cpt_counts(net, data, name).sum(-1, keepdim=True)
        p = net.cpt[name]
        se = (p * (1 - p) / n_j).sqrt()
        assert ((fitted.cpt[name] - p).abs() <= 5 * se + 1e-12).all(), name


def test_unseen_parent_configurations_get_uniform_rows():
    net = bn.sprinkler()
    data = torch.tensor([[0, 0, 0, 0], [1, 0, 1, 1]])
    ml = bn.fit_cpts(net, data)
    assert torch.allclose(ml.cpt["WetGrass"][1, 1], torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert ml.cpt["WetGrass"][0, 0, 0] == 1.0                           # seen once, always F
    smooth = bn.fit_cpts(net, data, pseudo_count=1.0)
    assert torch.allclose(smooth.cpt["WetGrass"][0, 0], torch.tensor([2 / 3, 1 / 3], dtype=torch.float64))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: bn.d_separated(bn.sprinkler(), "Rain", "Rain"), ValueError, "must be disjoint"),
    (lambda: bn.d_separated(bn.sprinkler(), "Rain", "Cloudy", "Rain"), ValueError, "disjoint"),
    (lambda: bn.d_separated(bn.sprinkler(), "Rain", "Snow"), ValueError, "unknown y variable 'Snow'"),
    (lambda: bn.d_connected(bn.sprinkler(), [], "Rain"), ValueError, "x must name at least one"),
    (lambda: bn.independence_gap(bn.sprinkler(), "Rain", "Rain"), ValueError, "disjoint"),
    (lambda: bn.asia(noise=1.5), ValueError, r"noise must be a probability in \[0, 1\]"),
    (lambda: bn.from_pgmpy("asia"), TypeError, "pgmpy DiscreteBayesianNetwork"),
    (lambda: bn.likelihood_weighting(bn.asia(), "lung", ASIA_EVIDENCE, n_samples=0),
     ValueError, "n_samples must be >= 1"),
    (lambda: bn.likelihood_weighting(bn.asia(), "lung", {"lung": "yes"}, n_samples=5),
     ValueError, "also appear in the evidence"),
    (lambda: bn.integrated_autocorrelation_time(torch.ones(3, 10)), ValueError,
     "x must not be constant"),
    (lambda: bn.autocorrelation(torch.zeros(2, 3, 4)), ValueError, "x must have 1 or 2 dimensions"),
    (lambda: bn.exact_iat(torch.eye(2, dtype=torch.float64), torch.ones(3, dtype=torch.float64) / 3,
                          torch.zeros(2)), ValueError, "pi must have last dimension 2"),
    (lambda: bn.single_site_components(bn.asia(), max_states=10), ValueError,
     "more than max_states = 10"),
    (lambda: bn.fit_cpts(bn.sprinkler(), torch.zeros(3, 4, dtype=torch.long), pseudo_count=-1),
     ValueError, "pseudo_count must be >= 0"),
    (lambda: bn.cpt_counts(bn.sprinkler(), torch.zeros(3, 4), "Rain"), TypeError, "integer tensor"),
])
def test_bad_input_to_the_new_functions(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------------ bad input never passes silently (issue)

def test_bad_input_factor_refuses_a_negative_table():
    with pytest.raises(ValueError, match="table must be non-negative, got the entry -0.1"):
        bn.Factor(("A",), (FT,), torch.tensor([1.1, -0.1], dtype=torch.float64))
    with pytest.raises(ValueError, match="table must hold finite values"):
        bn.Factor(("A",), (FT,), torch.tensor([0.5, float("nan")], dtype=torch.float64))
    with pytest.raises(TypeError, match="variables must be a sequence of variable names"):
        bn.Factor("AB", (FT, FT), torch.ones(2, 2))
    # zeros are fine: a factor is non-negative, not positive
    assert bn.Factor(("A",), (FT,), torch.tensor([1.0, 0.0])).normalize().value({"A": "F"}) == 1.0


@pytest.mark.parametrize("integer", [np.int64(1), np.int32(1), np.uint8(1), torch.tensor(1).item()])
def test_bad_input_evidence_accepts_numpy_integers_like_an_int(integer):
    net = bn.sprinkler()
    want = bn.enumeration(net, "Rain", {"WetGrass": 1}).table
    for method in (bn.enumeration, bn.variable_elimination, bn.pgmpy_query):
        got = method(net, "Rain", {"WetGrass": integer}).table
        assert torch.allclose(got, want, atol=1e-12)
    assert bn.evidence_probability(net, {"WetGrass": integer}) == \
        pytest.approx(bn.evidence_probability(net, {"WetGrass": "T"}), abs=1e-15)
    assert net.state_index("WetGrass", integer) == 1 and isinstance(
        net.state_index("WetGrass", integer), int)
    x = net.sample(20, torch.Generator().manual_seed(0), evidence={"WetGrass": integer})
    assert (x[:, net.index("WetGrass")] == 1).all()
    assert net.factor("Rain").reduce("Rain", integer).table.shape == (2,)
    # numpy's booleans and floats are not indices
    for bad in (np.bool_(True), np.float64(1.0), 1.0):
        with pytest.raises(TypeError, match="the state of 'WetGrass' must be a state name or an index"):
            bn.enumeration(net, "Rain", {"WetGrass": bad})


def test_bad_input_beta_log_density_refuses_theta_outside_the_unit_interval():
    for theta in ([0.5, 1.2], [-0.1, 0.5], [0.0, 0.5], [0.5, 1.0]):
        with pytest.raises(ValueError, match=r"theta must lie strictly between 0 and 1"):
            bn.beta_log_density(torch.tensor(theta, dtype=torch.float64), 2.0, 3.0)
    with pytest.raises(ValueError, match="theta must hold finite values"):
        bn.beta_log_density(torch.tensor([0.5, float("nan")], dtype=torch.float64), 2.0, 3.0)
    inside = torch.tensor([1e-9, 0.5, 1 - 1e-9], dtype=torch.float64)
    assert torch.isfinite(bn.beta_log_density(inside, 2.0, 3.0)).all()


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: bn.Node("A", FT, (), [0.5, float("nan")]), ValueError,
     "cpt of 'A' must hold finite, non-negative probabilities"),
    (lambda: bn.Node("A", FT, (), "0.5 0.5"), TypeError, "cpt of 'A' must be an array of numbers"),
    (lambda: bn.Node("A", FT, (), [[0.5, 0.5]]), ValueError, r"cpt of 'A' must have shape \(2,\)"),
    (lambda: bn.Node("A", FT, "B", [[0.5, 0.5]] * 2), TypeError,
     "parents of 'A' must be a sequence of variable names"),
    (lambda: bn.Node(3, FT, (), [0.5, 0.5]), TypeError, "name must be a non-empty string"),
    (lambda: bn.sprinkler().format_cpt("Rain", digits="2"), TypeError, "digits must be an integer"),
    (lambda: bn.draw_network(bn.sprinkler(), node_size="big"), TypeError,
     "node_size must be a real number"),
    (lambda: bn.exact_iat(torch.zeros(0, 0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64),
                          torch.zeros(0)), ValueError, "K must not be empty"),
    (lambda: bn.exact_iat(torch.ones(2, 2, dtype=torch.float64), torch.ones(2, dtype=torch.float64) / 2,
                          torch.arange(2.0)), ValueError, "K must be a transition matrix"),
    (lambda: bn.exact_iat(torch.eye(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64),
                          torch.arange(2.0)), ValueError, "pi must be a distribution"),
    (lambda: bn.autocorrelation(torch.zeros(3, 0)), ValueError, "x must not be empty"),
    (lambda: bn.hmm_forward(torch.zeros(0), torch.zeros(0, 0), torch.zeros(0, 2), [0]),
     ValueError, "initial must not be empty"),
    (lambda: bn.hmm_forward(torch.ones(2) / 2, 2 * torch.eye(2), torch.ones(2, 3) / 3, [0]),
     ValueError, "transition must hold probabilities"),
    (lambda: bn.sigmoid_belief_network(torch.zeros(0, 2), torch.zeros(0), torch.zeros(2)),
     ValueError, "W must not be empty"),
    (lambda: bn.gibbs_ergodicity_problem(bn.sprinkler(), max_states="all"), TypeError,
     "max_states must be an integer"),
    (lambda: bn.gibbs_running_estimate(bn.sprinkler(), "Rain", "T", n_chains=2, n_samples=0),
     ValueError, "n_samples must be >= 1"),
    (lambda: bn.gibbs_running_estimate(bn.sprinkler(), ("Rain", "Cloudy"), "T", n_chains=2,
                                       n_samples=3), ValueError, "query must name one variable"),
    (lambda: bn.gibbs_sample(bn.sprinkler(), n_chains=2, n_sweeps=2, init=torch.zeros(2, 4)),
     TypeError, "init must hold state indices"),
    (lambda: bn.cpt_counts(bn.sprinkler(), torch.zeros(3, 5, dtype=torch.long), "Rain"),
     ValueError, "data must have last dimension 4"),
    (lambda: bn.fit_cpts(bn.sprinkler(), "data"), TypeError, "data must be a torch.Tensor"),
    (lambda: bn.min_fill_order([("A", "B")], ["A"], {"A": 2}), ValueError,
     "card must give the number of states of 'B'"),
    (lambda: bn.min_fill_order([("A", "B")], "A", {"A": 2, "B": 2}), TypeError,
     "hidden must be a sequence of variable names"),
])
def test_bad_input_found_by_the_bad_input_suite(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
