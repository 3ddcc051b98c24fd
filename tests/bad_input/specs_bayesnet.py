"""Bad-input specs for chapter 3's module, companion.bayesnet.

Variable names, states, queries and evidence are strings and mappings, which the framework
does not corrupt; what it corrupts here are the tensors (assignments, tables, chains, HMM
and sigmoid-belief-network parameters), the numbers and the generators. The named-argument
errors for names and states are tested in tests/test_bayesnet.py.
"""
from __future__ import annotations

import numpy as np
import torch

from companion import bayesnet as bn
from framework import exempt, spec

F64 = torch.float64
FT = ("F", "T")


def g():
    return torch.Generator().manual_seed(0)


def net():
    return bn.sprinkler()


def assignments(n=5):
    """n full assignments of the sprinkler network, (n, 4) state indices."""
    return net().sample(n, g())


def factor():
    return bn.Factor(("A", "B"), (FT, ("x", "y", "z")),
                     torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.0, 0.5]], dtype=F64))


def hmm():
    return dict(initial=torch.tensor([0.6, 0.4], dtype=F64),
                transition=torch.tensor([[0.7, 0.3], [0.2, 0.8]], dtype=F64),
                emission=torch.tensor([[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]], dtype=F64))


def chains():
    return torch.randn(3, 40, generator=g(), dtype=F64).cumsum(1)


EVIDENCE = {"WetGrass": "T"}

exempt("bayesnet.NotErgodicError", "an exception type")
exempt("bayesnet.WeightedEstimate", "a result type that likelihood_weighting builds")
exempt("bayesnet.sprinkler", "takes no argument")

# A batch of assignments x (B, n) may be empty: zero assignments have zero log-probabilities,
# zero counts (and fit_cpts then gives every row the uniform estimate its docstring defines).
ROWS = {"x": {"empty"}}


# ----------------------------------------------------------------------------- factors
@spec("bayesnet.Factor")
def _():
    return bn.Factor, dict(variables=("A", "B"), states=(FT, ("x", "y", "z")),
                           table=torch.rand(2, 3, generator=g(), dtype=F64))


@spec("bayesnet.Factor.reduce")
def _():
    return factor().reduce, dict(variable="B", index=2)


@spec("bayesnet.Factor.reduce")          # an integer-like index (numpy) is an index
def _():
    return factor().reduce, dict(variable="B", index=np.int64(1))


@spec("bayesnet.Factor.value")
def _():
    return factor().value, dict(assignment={"A": "T", "B": np.int64(2)})


@spec("bayesnet.Factor.sum_out")
def _():
    return factor().sum_out, dict(variable="A")


@spec("bayesnet.Factor.permute")
def _():
    return factor().permute, dict(variables=("B", "A"))


@spec("bayesnet.Factor.aligned")
def _():
    return factor().aligned, dict(variables=("C", "B", "A"))


@spec("bayesnet.Factor.normalize")
def _():
    return factor().normalize, dict()


@spec("bayesnet.Factor.__mul__")
def _():
    other = bn.Factor(("B", "C"), (("x", "y", "z"), FT), torch.rand(3, 2, generator=g(), dtype=F64))
    return factor().__mul__, dict(other=other)


# ----------------------------------------------------------------------------- the network
@spec("bayesnet.Node")
def _():
    return bn.Node, dict(name="B", states=FT, parents=("A",),
                         cpt=torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=F64))


@spec("bayesnet.BayesianNetwork")
def _():
    return bn.BayesianNetwork, dict(nodes=[bn.Node("A", FT, (), [0.7, 0.3]),
                                           bn.Node("B", FT, ("A",), [[0.9, 0.1], [0.2, 0.8]])],
                                    atol=1e-6)


for _method in ("log_prob", "prob", "energy"):
    spec(f"bayesnet.BayesianNetwork.{_method}", allow=ROWS)(
        lambda _m=_method: (getattr(net(), _m), dict(x=assignments())))


@spec("bayesnet.BayesianNetwork.local_log_prob", allow=ROWS)
def _():
    return net().local_log_prob, dict(x=assignments(), name="Rain")


@spec("bayesnet.BayesianNetwork.joint")
def _():
    return net().joint, dict(max_entries=100)


@spec("bayesnet.BayesianNetwork.all_assignments")
def _():
    return net().all_assignments, dict(max_entries=100)


@spec("bayesnet.BayesianNetwork.sample")
def _():
    return net().sample, dict(n=4, generator=g(), evidence={"Rain": np.int64(1)})


@spec("bayesnet.BayesianNetwork.format_cpt")
def _():
    return net().format_cpt, dict(name="WetGrass", digits=2)


@spec("bayesnet.BayesianNetwork.state_index")
def _():
    return net().state_index, dict(name="Rain", state=np.int64(1))


@spec("bayesnet.BayesianNetwork.encode")
def _():
    return net().encode, dict(assignment={"Cloudy": "T", "Sprinkler": 0, "Rain": np.int32(1),
                                          "WetGrass": "T"})


for _method in ("index", "markov_blanket", "factor"):
    spec(f"bayesnet.BayesianNetwork.{_method}")(
        lambda _m=_method: (getattr(net(), _m), dict(name="Rain")))


# ----------------------------------------------------------------------------- exact queries
for _name in ("enumeration", "variable_elimination", "elimination_order", "pgmpy_query"):
    spec(f"bayesnet.{_name}")(
        lambda _n=_name: (getattr(bn, _n), dict(net=net(), query="Rain",
                                                evidence={"WetGrass": np.int64(1)})))


@spec("bayesnet.variable_elimination")
def _():
    return bn.variable_elimination, dict(net=net(), query=("Cloudy", "Rain"), evidence=EVIDENCE,
                                         order=["Sprinkler"], return_trace=True)


@spec("bayesnet.evidence_probability")
def _():
    return bn.evidence_probability, dict(net=net(), evidence=EVIDENCE)


@spec("bayesnet.min_fill_order")
def _():
    return bn.min_fill_order, dict(scopes=[("A", "B"), ("B", "C"), ("C", "D")],
                                   hidden=["B", "C"], card={"A": 2, "B": 3, "C": 2, "D": 2})


# ----------------------------------------------------------------------------- d-separation
@spec("bayesnet.d_connected")
def _():
    return bn.d_connected, dict(net=net(), x="Sprinkler", given=("WetGrass",))


for _name in ("d_separated", "independence_gap"):
    spec(f"bayesnet.{_name}")(
        lambda _n=_name: (getattr(bn, _n), dict(net=net(), x="Sprinkler", y="Rain",
                                                given="Cloudy")))


# ----------------------------------------------------------------------------- Gibbs sampling
@spec("bayesnet.markov_blanket_conditional")
def _():
    return bn.markov_blanket_conditional, dict(net=net(), name="Rain")


@spec("bayesnet.deterministic_nodes")
def _():
    return bn.deterministic_nodes, dict(net=bn.asia())


@spec("bayesnet.single_site_components")
def _():
    return bn.single_site_components, dict(net=net(), evidence=EVIDENCE, max_states=100)


@spec("bayesnet.gibbs_ergodicity_problem")
def _():
    return bn.gibbs_ergodicity_problem, dict(net=net(), evidence=EVIDENCE, max_states=100)


@spec("bayesnet.gibbs_sample")
def _():
    return bn.gibbs_sample, dict(net=net(), evidence=EVIDENCE, n_chains=3, n_sweeps=4, burn_in=1,
                                 generator=g(), check_ergodicity=True)


@spec("bayesnet.gibbs_sample")          # chains started from given states
def _():
    init = torch.tensor([[1, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1]])
    return bn.gibbs_sample, dict(net=net(), evidence={"WetGrass": np.int64(1)}, n_chains=3,
                                 n_sweeps=2, generator=g(), init=init)


@spec("bayesnet.gibbs_running_estimate")
def _():
    return bn.gibbs_running_estimate, dict(net=net(), query="Rain", state="T", evidence=EVIDENCE,
                                           n_chains=2, n_samples=5, burn_in=3, generator=g())


@spec("bayesnet.gibbs_sweep_matrix")
def _():
    return bn.gibbs_sweep_matrix, dict(net=net(), evidence=EVIDENCE, max_states=100)


@spec("bayesnet.exact_iat")
def _():
    states, K, pi = bn.gibbs_sweep_matrix(net(), EVIDENCE)
    return bn.exact_iat, dict(K=K, pi=pi, f=states[:, 2].double())


# One chain (T,) is as valid as a batch of chains (n_chains, T).
@spec("bayesnet.autocorrelation", allow={"x": {"fewer_dims"}})
def _():
    return bn.autocorrelation, dict(x=chains(), max_lag=10)


for _name in ("integrated_autocorrelation_time", "effective_sample_size"):
    spec(f"bayesnet.{_name}", allow={"x": {"fewer_dims"}})(
        lambda _n=_name: (getattr(bn, _n), dict(x=chains(), c=5.0)))


# ----------------------------------------------------------------------------- likelihood weighting
@spec("bayesnet.likelihood_log_weights", allow=ROWS)
def _():
    return bn.likelihood_log_weights, dict(net=net(), x=assignments(), evidence=EVIDENCE)


@spec("bayesnet.likelihood_weighting")
def _():
    return bn.likelihood_weighting, dict(net=net(), query="Rain", evidence=EVIDENCE, n_samples=50,
                                         generator=g())


# ----------------------------------------------------------------------------- learning
@spec("bayesnet.cpt_counts", allow={"data": {"empty"}})
def _():
    return bn.cpt_counts, dict(net=net(), data=assignments(8), name="WetGrass")


@spec("bayesnet.fit_cpts", allow={"data": {"empty"}})
def _():
    return bn.fit_cpts, dict(net=net(), data=assignments(8), pseudo_count=1.0)


# ----------------------------------------------------------------------------- builders
@spec("bayesnet.asia")
def _():
    return bn.asia, dict(noise=0.1)


@spec("bayesnet.random_network")
def _():
    return bn.random_network, dict(n_vars=4, max_parents=2, cards=(2, 3), generator=g())


@spec("bayesnet.hmm_network")
def _():
    return bn.hmm_network, dict(**hmm(), length=3)


@spec("bayesnet.hmm_forward")
def _():
    return bn.hmm_forward, dict(**hmm(), observations=[0, 2, np.int64(1)])


@spec("bayesnet.sigmoid_belief_network")
def _():
    return bn.sigmoid_belief_network, dict(W=torch.randn(3, 2, generator=g()),
                                           a=torch.randn(3, generator=g()),
                                           c=torch.randn(2, generator=g()))


@spec("bayesnet.draw_network")
def _():
    return bn.draw_network, dict(net=net(), node_size=800, font_size=8)


@spec("bayesnet.to_pgmpy")
def _():
    return bn.to_pgmpy, dict(net=net())


@spec("bayesnet.from_pgmpy")
def _():
    return bn.from_pgmpy, dict(model=bn.to_pgmpy(net()))


# ----------------------------------------------------------------------------- the coin
@spec("bayesnet.beta_posterior")
def _():
    return bn.beta_posterior, dict(a=2.0, b=3.0, heads=np.int64(4), tails=1)


@spec("bayesnet.beta_summary")
def _():
    return bn.beta_summary, dict(a=2.0, b=3.0, level=0.9)


# theta is elementwise: any shape, an empty one included.
@spec("bayesnet.beta_log_density", allow={"theta": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return bn.beta_log_density, dict(theta=torch.tensor([0.1, 0.5, 0.9], dtype=F64), a=2.0, b=3.0)


# phi is a batch of points (B, 1); an empty batch has an empty batch of energies.
@spec("bayesnet.coin_logit_energy", allow={"phi": {"empty"}})
def _():
    return bn.coin_logit_energy, dict(phi=torch.randn(4, 1, generator=g(), dtype=F64), a=2.0,
                                      b=2.0, heads=3, tails=np.int64(1), jacobian=True)
