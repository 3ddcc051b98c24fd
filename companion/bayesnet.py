r"""Chapter 3: discrete Bayesian networks.

A Bayesian network is a directed acyclic graph over random variables $X_1, \dots, X_n$,
each with a finite set of named states, and one conditional probability table (CPT) per
variable. The joint distribution is the product of the conditionals,

$$P(X_1, \dots, X_n) = \prod_{i=1}^n P(X_i \mid \mathrm{pa}(X_i)),$$

so its negative logarithm is an energy that is a *sum of local terms*,
$E(x) = \sum_i -\log P(x_i \mid \mathrm{pa}_i)$, with $P(x) = e^{-E(x)}$ and $Z = 1$.

* :class:`Node` and :class:`BayesianNetwork`: the model, validated on construction;
  :meth:`BayesianNetwork.log_prob`, :meth:`~BayesianNetwork.energy`,
  :meth:`~BayesianNetwork.joint` (the factorisation), :meth:`~BayesianNetwork.sample`
  (ancestral sampling).
* :class:`Factor`: a table over named variables, with product, sum-out and reduction.
* :func:`enumeration` and :func:`variable_elimination`: exact queries
  $P(\text{query} \mid \text{evidence})$; :func:`elimination_order` (greedy min-fill,
  :func:`min_fill_order`, on the tables the query depends on);
  :func:`evidence_probability`.
* :func:`d_separated` and :func:`d_connected`: conditional independences read off the
  graph; :func:`independence_gap` measures them in the joint.
* :func:`gibbs_sample` and :func:`gibbs_running_estimate`: the posterior by MCMC, each
  variable redrawn from its exact conditional given its Markov blanket
  (:func:`markov_blanket_conditional`); :func:`gibbs_ergodicity_problem` refuses chains
  that zeros in the tables trap (:func:`deterministic_nodes`,
  :func:`single_site_components`).
* Diagnostics: :func:`autocorrelation`, :func:`integrated_autocorrelation_time`,
  :func:`effective_sample_size`, and the exact values from the sweep's transition matrix,
  :func:`gibbs_sweep_matrix` and :func:`exact_iat`.
* :func:`likelihood_weighting`: importance sampling with the evidence clamped.
* Learning the tables from complete data: :func:`cpt_counts`, :func:`fit_cpts`
  (maximum likelihood, or a Dirichlet prior).
* Builders: :func:`sprinkler`, :func:`asia`, :func:`random_network`, :func:`hmm_network`,
  :func:`sigmoid_belief_network`, with :func:`hmm_forward` for comparison;
  :func:`from_pgmpy` and :func:`to_pgmpy` convert from and to pgmpy, and
  :func:`pgmpy_query` asks pgmpy for a posterior (an independent check).
* The coin of the four-step Bayesian analysis: :func:`beta_posterior`,
  :func:`beta_summary`, :func:`beta_log_density`, :func:`coin_logit_energy`.

Tables are float64 tensors on the CPU: these networks are small, and exact answers are
compared to 1e-6 and better.
"""
from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ._checks import (check_generator, check_int, check_number, check_probability,
                      check_tensor)
from .seeding import rand

__all__ = [
    "BayesianNetwork",
    "Factor",
    "Node",
    "NotErgodicError",
    "WeightedEstimate",
    "asia",
    "autocorrelation",
    "beta_log_density",
    "beta_posterior",
    "beta_summary",
    "coin_logit_energy",
    "cpt_counts",
    "d_connected",
    "d_separated",
    "deterministic_nodes",
    "draw_network",
    "effective_sample_size",
    "elimination_order",
    "enumeration",
    "evidence_probability",
    "exact_iat",
    "fit_cpts",
    "from_pgmpy",
    "gibbs_ergodicity_problem",
    "gibbs_running_estimate",
    "gibbs_sample",
    "gibbs_sweep_matrix",
    "hmm_forward",
    "hmm_network",
    "independence_gap",
    "integrated_autocorrelation_time",
    "likelihood_log_weights",
    "likelihood_weighting",
    "markov_blanket_conditional",
    "min_fill_order",
    "pgmpy_query",
    "random_network",
    "sigmoid_belief_network",
    "single_site_components",
    "sprinkler",
    "to_pgmpy",
    "variable_elimination",
]

DTYPE = torch.float64
State = Union[str, int]
Evidence = Optional[Mapping[str, State]]


# ------------------------------------------------------------------------------ factors

class Factor:
    """A non-negative table over named discrete variables: one tensor axis per variable.

    ``variables`` (names), ``states`` (the state names of each variable) and ``table``
    (a tensor whose axis k has ``len(states[k])`` entries). CPTs, the joint, intermediate
    results of variable elimination and query answers are all factors.
    """

    def __init__(self, variables: Sequence[str], states: Sequence[Sequence[str]], table: Tensor):
        _check_names("variables", variables)
        if isinstance(states, (str, bytes)) or not isinstance(states, Sequence) or any(
                isinstance(s, (str, bytes)) or not isinstance(s, Sequence) for s in states):
            raise TypeError(f"states must be a sequence of state-name sequences, one per "
                            f"variable, got {states!r}")
        check_tensor("table", table)
        if table.is_complex() or table.dtype == torch.bool:
            raise TypeError(f"table must hold real numbers, got dtype {table.dtype}")
        if table.numel() and bool((table < 0).any()):
            raise ValueError(f"table must be non-negative, got the entry "
                             f"{table.min().item():.6g}")
        self.variables = tuple(variables)
        self.states = tuple(tuple(s) for s in states)
        if len(set(self.variables)) != len(self.variables):
            raise ValueError(f"variables must be distinct, got {self.variables}")
        if len(self.states) != len(self.variables):
            raise ValueError(f"states must list the states of each of the {len(self.variables)} "
                             f"variables, got {len(self.states)} lists")
        want = tuple(len(s) for s in self.states)
        if tuple(table.shape) != want:
            raise ValueError(f"table must have shape {want} for variables {self.variables}, "
                             f"got {tuple(table.shape)}")
        self.table = table

    def __repr__(self) -> str:
        return f"Factor({', '.join(self.variables)}; shape {tuple(self.table.shape)})"

    @property
    def size(self) -> int:
        """Number of entries of the table."""
        return self.table.numel()

    def aligned(self, variables: Sequence[str]) -> Tensor:
        """The table with one axis per name in ``variables`` (in that order); axes of names
        this factor does not hold have size 1, so tables broadcast against each other."""
        missing = [v for v in self.variables if v not in variables]
        if missing:
            raise ValueError(f"variables must include all of {self.variables}, missing {missing}")
        mine = [v for v in variables if v in self.variables]
        t = self.table.permute([self.variables.index(v) for v in mine])
        return t.reshape([len(self.states[self.variables.index(v)]) if v in self.variables
                          else 1 for v in variables])

    def __mul__(self, other: "Factor") -> "Factor":
        r"""Factor product: $(f\,g)(x_{A \cup B}) = f(x_A)\, g(x_B)$, by broadcasting."""
        if not isinstance(other, Factor):
            return NotImplemented
        extra = [v for v in other.variables if v not in self.variables]
        variables = self.variables + tuple(extra)
        states = self.states + tuple(other.states[other.variables.index(v)] for v in extra)
        for v in other.variables:
            if v in self.variables and self.states[self.variables.index(v)] != \
                    other.states[other.variables.index(v)]:
                raise ValueError(f"the two factors disagree on the states of {v!r}")
        return Factor(variables, states, self.aligned(variables) * other.aligned(variables))

    def sum_out(self, variable: str) -> "Factor":
        r"""Marginalise ``variable``: $g(x_{A \setminus v}) = \sum_{x_v} f(x_A)$."""
        k = self._axis(variable)
        keep = [i for i in range(len(self.variables)) if i != k]
        return Factor([self.variables[i] for i in keep], [self.states[i] for i in keep],
                      self.table.sum(dim=k))

    def reduce(self, variable: str, index: int) -> "Factor":
        """Condition on ``variable`` taking state number ``index``: keep that slice."""
        k = self._axis(variable)
        index = check_int("index", index, min_value=0, max_value=len(self.states[k]) - 1)
        keep = [i for i in range(len(self.variables)) if i != k]
        return Factor([self.variables[i] for i in keep], [self.states[i] for i in keep],
                      self.table.select(k, index))

    def normalize(self) -> "Factor":
        """Divide by the sum of all entries (the table then sums to 1)."""
        total = self.table.sum()
        if not total > 0:
            raise ValueError("cannot normalise a factor whose entries sum to 0")
        return Factor(self.variables, self.states, self.table / total)

    def permute(self, variables: Sequence[str]) -> "Factor":
        """The same factor with its axes in the order ``variables``."""
        if sorted(variables) != sorted(self.variables):
            raise ValueError(f"variables must be a reordering of {self.variables}, got {variables}")
        return Factor(variables, [self.states[self._axis(v)] for v in variables],
                      self.aligned(variables))

    def value(self, assignment: Mapping[str, State]) -> float:
        """The entry for a full assignment, e.g. ``f.value({"Rain": "T"})``."""
        if not isinstance(assignment, Mapping) or set(assignment) != set(self.variables):
            raise ValueError(f"assignment must give a state for exactly the variables "
                             f"{self.variables}, got {assignment!r}")
        idx = tuple(_state_index(v, self.states[self._axis(v)], assignment[v])
                    for v in self.variables)
        return float(self.table[idx])

    def _axis(self, variable: str) -> int:
        if variable not in self.variables:
            raise ValueError(f"variable {variable!r} is not in this factor; it holds "
                             f"{self.variables}")
        return self.variables.index(variable)


def _check_names(what: str, names) -> None:
    """A sequence of variable names (strings), not a single string."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not all(
            isinstance(n, str) for n in names):
        raise TypeError(f"{what} must be a sequence of variable names (strings), got {names!r}")


def _state_index(variable: str, states: Sequence[str], state: State) -> int:
    """Index of ``state`` (a state name, or an index: any integer, numpy's included)."""
    if isinstance(state, str):
        if state not in states:
            raise ValueError(f"unknown state {state!r} of variable {variable!r}; its states "
                             f"are {tuple(states)}")
        return list(states).index(state)
    if isinstance(state, (bool, np.bool_)) or not isinstance(state, numbers.Integral):
        raise TypeError(f"the state of {variable!r} must be a state name or an index, got "
                        f"{type(state).__name__} {state!r}")
    state = int(state)
    if not 0 <= state < len(states):
        raise ValueError(f"state index {state} of variable {variable!r} is out of range; "
                         f"it has {len(states)} states {tuple(states)}")
    return state


# ------------------------------------------------------------------------------ network

@dataclass
class Node:
    r"""One variable of a network: its ``name``, its ``states`` (names), its ``parents``
    (names) and its CPT.

    ``cpt[j_1, ..., j_k, s]`` $= P(X = s \mid \mathrm{pa}_1 = j_1, \dots, \mathrm{pa}_k = j_k)$:
    one axis per parent, in the order of ``parents``, and the variable's own states last,
    so that every *row* ``cpt[j_1, ..., j_k, :]`` sums to 1. Lists and arrays are accepted.

    Checked on construction: the name, the states, the parents, and that the CPT is an
    array of finite, non-negative numbers with one axis per parent and ``len(states)``
    entries along the last; :class:`BayesianNetwork` checks the rest (the parents' numbers
    of states, rows summing to 1), which needs the other variables.
    """

    name: str
    states: Sequence[str]
    parents: Sequence[str] = ()
    cpt: object = field(default=None, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        states = _valid_states(self.name, self.states)
        if isinstance(self.parents, (str, bytes)) or not isinstance(self.parents, Sequence) \
                or not all(isinstance(p, str) for p in self.parents):
            raise TypeError(f"parents of {self.name!r} must be a sequence of variable names, "
                            f"got {self.parents!r}")
        if len(set(self.parents)) != len(self.parents):
            raise ValueError(f"parents of {self.name!r} must be distinct, got {tuple(self.parents)!r}")
        t = _cpt_tensor(self.name, self.cpt)
        axes = ", ".join([*self.parents, self.name])
        if not self.parents and tuple(t.shape) != (len(states),):
            raise ValueError(f"cpt of {self.name!r} must have shape {(len(states),)} (axes "
                             f"{axes}), got {tuple(t.shape)}")
        if t.dim() != len(self.parents) + 1 or t.shape[-1] != len(states):
            raise ValueError(f"cpt of {self.name!r} must have {len(self.parents) + 1} axes "
                             f"({axes}), the last with {len(states)} entries, got shape "
                             f"{tuple(t.shape)}")


def _cpt_tensor(name: str, cpt) -> Tensor:
    """The CPT of ``name`` as a float64 CPU tensor of finite, non-negative numbers."""
    if cpt is None:
        raise ValueError(f"cpt of {name!r} is missing")
    if isinstance(cpt, (str, bytes)):
        raise TypeError(f"cpt of {name!r} must be an array of numbers, got {type(cpt).__name__}")
    try:
        t = torch.as_tensor(cpt, dtype=DTYPE).detach().cpu().clone()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"cpt of {name!r} must be an array of numbers, got "
                        f"{type(cpt).__name__}") from exc
    if t.numel() == 0 or not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"cpt of {name!r} must hold finite, non-negative probabilities, "
                         f"got shape {tuple(t.shape)}"
                         + ("" if t.numel() == 0 else f" with entries in [{t.min().item():.6g}, "
                                                      f"{t.max().item():.6g}]"))
    return t


class BayesianNetwork:
    """A discrete Bayesian network, validated on construction.

    >>> net = BayesianNetwork([Node("A", ("F", "T"), (), [0.7, 0.3]),
    ...                        Node("B", ("F", "T"), ("A",), [[0.9, 0.1], [0.2, 0.8]])])
    >>> round(net.joint().table.sum().item(), 12)
    1.0

    Checks: names are distinct strings; every variable has at least two distinct state
    names; every parent is a variable of the network (and appears once); the graph has no
    directed cycle (the error names one); each CPT has the shape
    (cards of the parents..., card of the variable), no negative entry, and every row sums
    to 1 within ``atol``.

    Attributes: ``names`` (in the order given; this is the column order of assignments and
    the axis order of :meth:`joint`), ``states``, ``card``, ``parents``, ``cpt`` (dicts by
    name), ``order`` (a topological order: parents before children).
    """

    def __init__(self, nodes: Sequence[Node], *, atol: float = 1e-6):
        atol = check_number("atol", atol, positive=True)
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence) or not nodes:
            raise TypeError("nodes must be a non-empty sequence of Node")
        for i, node in enumerate(nodes):
            if not isinstance(node, Node):
                raise TypeError(f"nodes[{i}] must be a Node, got {type(node).__name__}")
        names = [n.name for n in nodes]
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"variable names must be non-empty strings, got {name!r}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"variable names must be distinct, repeated: {dupes}")
        self.names: tuple[str, ...] = tuple(names)
        self.states: dict[str, tuple[str, ...]] = {}
        self.parents: dict[str, tuple[str, ...]] = {}
        for node in nodes:
            self.states[node.name] = _valid_states(node.name, node.states)
            self.parents[node.name] = _valid_parents(node.name, node.parents, self.names)
        self.card = {n: len(s) for n, s in self.states.items()}
        self.order: tuple[str, ...] = _topological_order(self.names, self.parents)
        self.cpt: dict[str, Tensor] = {
            node.name: _valid_cpt(node.name, node.cpt, self.parents[node.name], self.states, atol)
            for node in nodes}
        self.children: dict[str, tuple[str, ...]] = {
            n: tuple(c for c in self.names if n in self.parents[c]) for n in self.names}
        self._index = {n: i for i, n in enumerate(self.names)}

    def __repr__(self) -> str:
        edges = sum(len(p) for p in self.parents.values())
        return f"BayesianNetwork({len(self.names)} variables, {edges} edges)"

    # ---------------------------------------------------------------- small helpers
    def index(self, name: str) -> int:
        """Column of variable ``name`` in an assignment tensor."""
        self._check_name("variable", name)
        return self._index[name]

    def _check_name(self, what: str, name) -> str:
        if not isinstance(name, str) or name not in self._index:
            raise ValueError(f"unknown {what} {name!r}; the network's variables are {self.names}")
        return name

    def state_index(self, name: str, state: State) -> int:
        """Index of ``state`` (a name like "T", or an index) of variable ``name``."""
        return _state_index(self._check_name("variable", name), self.states[name], state)

    def encode(self, assignment: Mapping[str, State]) -> Tensor:
        """A full assignment {name: state} as a (1, n) long tensor in the order of ``names``."""
        if not isinstance(assignment, Mapping) or set(assignment) != set(self.names):
            raise ValueError(f"assignment must give a state for every variable {self.names}")
        return torch.tensor([[self.state_index(n, assignment[n]) for n in self.names]])

    def markov_blanket(self, name: str) -> tuple[str, ...]:
        """Parents, children and the children's other parents of ``name`` (in ``names`` order)."""
        self._check_name("variable", name)
        mb = set(self.parents[name]) | set(self.children[name])
        for c in self.children[name]:
            mb |= set(self.parents[c])
        mb.discard(name)
        return tuple(n for n in self.names if n in mb)

    def factor(self, name: str) -> Factor:
        """The CPT of ``name`` as a factor over (parents..., name)."""
        self._check_name("variable", name)
        family = self.parents[name] + (name,)
        return Factor(family, [self.states[v] for v in family], self.cpt[name])

    def _check_assignments(self, x: Tensor, name: str = "x") -> Tensor:
        check_tensor(name, x, ndim=2, last_dim=len(self.names))
        if x.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise TypeError(f"{name} must hold state indices (an integer tensor), got dtype {x.dtype}")
        cards = torch.tensor([self.card[n] for n in self.names], device=x.device)
        if x.numel() and ((x < 0) | (x >= cards)).any():
            raise ValueError(f"{name} must hold, in column i, a state index below the cardinality "
                             f"of {self.names} = {tuple(cards.tolist())}")
        return x.long()

    # ------------------------------------------------------------ the factorisation
    def local_log_prob(self, x: Tensor, name: str) -> Tensor:
        r"""$\log P(x_i \mid \mathrm{pa}_i)$ for each row of ``x`` (B, n); returns (B,)."""
        x = self._check_assignments(x).cpu()
        cols = [x[:, self._index[p]] for p in self.parents[self._check_name("variable", name)]]
        return self.cpt[name][tuple(cols) + (x[:, self._index[name]],)].log()

    def log_prob(self, x: Tensor) -> Tensor:
        r"""$\log P(x) = \sum_i \log P(x_i \mid \mathrm{pa}_i)$ for assignments ``x`` (B, n); (B,)."""
        x = self._check_assignments(x)
        return torch.stack([self.local_log_prob(x, n) for n in self.names]).sum(0)

    def prob(self, x: Tensor) -> Tensor:
        r"""$P(x) = \prod_i P(x_i \mid \mathrm{pa}_i)$ for assignments ``x`` (B, n); (B,)."""
        return self.log_prob(x).exp()

    def energy(self, x: Tensor) -> Tensor:
        r"""$E(x) = -\log P(x) = \sum_i -\log P(x_i \mid \mathrm{pa}_i)$ for ``x`` (B, n); (B,).
        $P(x) = e^{-E(x)}$ with $Z = 1$."""
        return -self.log_prob(x)

    def joint(self, max_entries: int = 2**24) -> Factor:
        r"""The full joint table $\prod_i P(X_i \mid \mathrm{pa}_i)$, one axis per variable
        (in ``names`` order), as the product of all CPT factors."""
        max_entries = check_int("max_entries", max_entries, min_value=1)
        size = math.prod(self.card.values())
        if size > max_entries:
            raise ValueError(f"the joint has {size} entries, more than max_entries = "
                             f"{max_entries}; use variable_elimination")
        table = torch.ones([1] * len(self.names), dtype=DTYPE)
        for name in self.names:
            table = table * self.factor(name).aligned(self.names)   # broadcasting product
        return Factor(self.names, [self.states[n] for n in self.names], table)

    def all_assignments(self, max_entries: int = 2**20) -> Tensor:
        """Every full assignment, as rows of a long tensor (prod of cards, n), in the
        row-major order of :meth:`joint`'s table."""
        size = math.prod(self.card.values())
        if size > check_int("max_entries", max_entries, min_value=1):
            raise ValueError(f"there are {size} assignments, more than max_entries = {max_entries}")
        grids = torch.meshgrid(*[torch.arange(self.card[n]) for n in self.names], indexing="ij")
        return torch.stack([g.reshape(-1) for g in grids], dim=1)

    # ----------------------------------------------------------- ancestral sampling
    @torch.no_grad()
    def sample(self, n: int, generator: Optional[torch.Generator] = None,
               evidence: Evidence = None) -> Tensor:
        """``n`` independent samples of the joint by ancestral sampling: (n, len(names)) long.

        Variables are drawn in topological order, each from its CPT row given the parents
        already drawn. With ``evidence``, those variables are set instead of drawn (the
        result is *not* a sample of the posterior; :func:`gibbs_sample` uses it as a start).
        """
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        fixed = self._check_evidence(evidence)
        x = torch.zeros(n, len(self.names), dtype=torch.long)
        u = rand((n, len(self.names)), generator, dtype=DTYPE)            # one uniform per draw
        for name in self.order:
            i = self._index[name]
            if name in fixed:
                x[:, i] = fixed[name]
                continue
            rows = self.cpt[name][tuple(x[:, self._index[p]] for p in self.parents[name])]
            x[:, i] = _categorical(rows.expand(n, -1), u[:, i])           # rows: (n, card)
        return x

    def _check_evidence(self, evidence: Evidence) -> dict[str, int]:
        if evidence is None:
            return {}
        if not isinstance(evidence, Mapping):
            raise TypeError(f"evidence must be a mapping {{variable: state}}, got "
                            f"{type(evidence).__name__}")
        return {self._check_name("evidence variable", k): self.state_index(k, v)
                for k, v in evidence.items()}

    def format_cpt(self, name: str, digits: int = 3) -> str:
        """The CPT of ``name`` as a small text table, one row per parent configuration."""
        self._check_name("variable", name)
        digits = check_int("digits", digits, min_value=0, max_value=17)
        pa = self.parents[name]
        title = f"P({name} | {', '.join(pa)})" if pa else f"P({name})"
        sep = ["|"] if pa else []
        head = [*pa, *sep, *[f"{name}={s}" for s in self.states[name]]]
        rows = []
        for combo in itertools.product(*[range(self.card[p]) for p in pa]):
            probs = self.cpt[name][combo]
            rows.append([*[self.states[p][j] for p, j in zip(pa, combo)], *sep,
                         *[f"{v:.{digits}f}" for v in probs.tolist()]])
        widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
        fmt = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))  # noqa: E731
        return "\n".join([title, fmt(head)] + [fmt(r) for r in rows])


def _valid_states(name: str, states) -> tuple[str, ...]:
    if isinstance(states, (str, bytes)) or not isinstance(states, Sequence):
        raise TypeError(f"states of {name!r} must be a sequence of state names such as "
                        f"('F', 'T'), got {states!r}")
    states = tuple(states)
    if not all(isinstance(s, str) for s in states):
        raise TypeError(f"states of {name!r} must be strings, got {states!r}")
    if len(states) < 2 or len(set(states)) != len(states):
        raise ValueError(f"states of {name!r} must be at least two distinct names, got {states!r}")
    return states


def _valid_parents(name: str, parents, names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(parents, (str, bytes)) or not isinstance(parents, Sequence):
        raise TypeError(f"parents of {name!r} must be a sequence of variable names, got "
                        f"{parents!r}")
    parents = tuple(parents)
    for p in parents:
        if p not in names:
            raise ValueError(f"unknown parent {p!r} of {name!r}; the network's variables are "
                             f"{tuple(names)}")
    if len(set(parents)) != len(parents):
        raise ValueError(f"parents of {name!r} must be distinct, got {parents!r}")
    return parents


def _topological_order(names: Sequence[str], parents: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Parents before children (depth-first search); raise naming a cycle if there is one."""
    order: list[str] = []
    status: dict[str, int] = {}                 # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(v: str) -> None:
        status[v] = 1
        path.append(v)
        for p in parents[v]:
            if status.get(p) == 1:              # p is an ancestor of itself
                # path[k + 1] is a parent of path[k]; written as edges parent -> child:
                loop = list(reversed(path[path.index(p):])) + [v]
                raise ValueError("the graph must be acyclic, found the cycle "
                                 + " -> ".join(loop))
            if p not in status:
                visit(p)
        path.pop()
        status[v] = 2
        order.append(v)

    for v in names:
        if v not in status:
            visit(v)
    return tuple(order)


def _valid_cpt(name: str, cpt, parents: Sequence[str], states: Mapping[str, Sequence[str]],
               atol: float) -> Tensor:
    t = _cpt_tensor(name, cpt)
    want = tuple(len(states[p]) for p in parents) + (len(states[name]),)
    if tuple(t.shape) != want:
        axes = ", ".join(list(parents) + [name])
        raise ValueError(f"cpt of {name!r} must have shape {want} (axes {axes}), got "
                         f"{tuple(t.shape)}")
    sums = t.sum(-1)
    bad = (sums - 1).abs() > atol
    if bad.any():
        combo = tuple(torch.nonzero(bad)[0].tolist())
        where = ", ".join(f"{p}={states[p][j]}" for p, j in zip(parents, combo))
        raise ValueError(f"cpt of {name!r}: every row must sum to 1 (within {atol:g}); the row "
                         f"{'for ' + where if where else 'of the prior'} sums to "
                         f"{sums[combo].item():.6g}")
    return t


def _categorical(probs: Tensor, u: Tensor) -> Tensor:
    r"""Inverse-CDF draw: the first $k$ with $\sum_{j \le k} p_j > u$. probs (B, K), u (B,)."""
    cdf = probs.cumsum(dim=1)
    return (cdf < u[:, None] * cdf[:, -1:]).sum(dim=1).clamp_max(probs.shape[1] - 1)


# ----------------------------------------------------------------------- exact queries

def _check_query(net: BayesianNetwork, query, evidence: Evidence) -> tuple[tuple[str, ...], dict]:
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    query = (query,) if isinstance(query, str) else tuple(query)
    if not query:
        raise ValueError("query must name at least one variable")
    for q in query:
        net._check_name("query variable", q)
    if len(set(query)) != len(query):
        raise ValueError(f"query variables must be distinct, got {query}")
    ev = net._check_evidence(evidence)
    both = [q for q in query if q in ev]
    if both:
        raise ValueError(f"query variables {both} also appear in the evidence")
    return query, ev


def _normalize_posterior(f: Factor, evidence: dict) -> Factor:
    if not f.table.sum() > 0:
        raise ValueError(f"the evidence {evidence} has probability 0 under this network")
    return f.normalize()


def enumeration(net: BayesianNetwork, query: Union[str, Sequence[str]],
                evidence: Evidence = None) -> Factor:
    r"""$P(\text{query} \mid e)$ by brute force: build the joint, keep the slice that agrees
    with the evidence, sum out everything else, normalise:
    $P(q \mid e) = \sum_h P(q, h, e) / \sum_{q, h} P(q, h, e)$."""
    query, ev = _check_query(net, query, evidence)
    f = net.joint()
    for name, j in ev.items():
        f = f.reduce(name, j)
    for name in net.names:
        if name not in query and name not in ev:
            f = f.sum_out(name)
    return _normalize_posterior(f, evidence).permute(query)


def _relevant(net: BayesianNetwork, query: Sequence[str], ev: Mapping[str, int]
              ) -> tuple[list[str], float]:
    r"""The variables whose tables matter for $P(\text{query} \mid e)$ (in ``net.order``),
    and the product of the tables that hold evidence variables only.

    1. *Barren* variables go: a variable with no queried or observed descendant sums out
       to 1, so only the ancestors of the query and the evidence count.
    2. With the evidence fixed, the remaining tables fall into groups linked by shared
       unobserved variables (the moral graph without the evidence); a group that does not
       hold a query variable only multiplies the answer by a constant, which the
       normalisation removes. A search from the query variables, table by table, finds
       the tables that do hold one.

    The tables over evidence variables alone are constants: their product is returned, so
    that evidence they make impossible is still reported (a contradiction confined to a
    group the query does not depend on is not looked for; :func:`evidence_probability`
    finds it).
    """
    ancestors = _ancestors(net, list(query) + list(ev))
    kept: set[str] = set()                          # tables, named by their child variable
    seen, stack = set(query), list(query)
    while stack:
        u = stack.pop()
        for c in (u,) + tuple(c for c in net.children[u] if c in ancestors):
            if c not in kept:
                kept.add(c)
                fresh = [w for w in net.parents[c] + (c,) if w not in ev and w not in seen]
                seen.update(fresh)
                stack += fresh
    constant = 1.0
    for c in ancestors:
        family = net.parents[c] + (c,)
        if all(v in ev for v in family):
            constant *= float(net.cpt[c][tuple(ev[v] for v in family)])
    return [n for n in net.order if n in kept], constant


def _reduced_tables(net: BayesianNetwork, families: Sequence[str], ev: Mapping[str, int]
                    ) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """The CPTs of ``families`` with the evidence fixed: (array, its variables) pairs."""
    out = []
    for c in families:
        family = net.parents[c] + (c,)
        table = net.cpt[c].numpy()
        if any(v in ev for v in family):
            table = table[tuple(ev[v] if v in ev else slice(None) for v in family)]
        out.append((table, tuple(v for v in family if v not in ev)))
    return out


def _contract(tables: Sequence[tuple[np.ndarray, Sequence[str]]], out: Sequence[str]) -> np.ndarray:
    r"""$\sum_{\text{variables not in out}} \prod_f f$ over ``out``, in one ``numpy.einsum``
    call (labels renumbered from 0, since einsum takes fewer than 52). numpy rather than
    torch here: on tables this small the per-call overhead is the running time, and
    numpy's is a few microseconds against tens for ``torch.einsum``."""
    label: dict[str, int] = {}
    args: list = []
    for table, variables in tables:
        args += [table, [label.setdefault(v, len(label)) for v in variables]]
    return np.einsum(*args, [label.setdefault(v, len(label)) for v in out])


def _check_min_fill(scopes, hidden, card) -> None:
    """Scopes: a sequence of sequences of names; hidden: a sequence of distinct names; card:
    a mapping giving every one of those names a number of states >= 1."""
    if isinstance(scopes, (str, bytes)) or not isinstance(scopes, Sequence) or any(
            isinstance(s, (str, bytes)) or not isinstance(s, Sequence) for s in scopes):
        raise TypeError(f"scopes must be a sequence of sequences of variable names, got {scopes!r}")
    _check_names("hidden", hidden)
    if len(set(hidden)) != len(hidden):
        raise ValueError(f"hidden must list distinct variables, got {list(hidden)}")
    if not isinstance(card, Mapping):
        raise TypeError(f"card must be a mapping {{variable: number of states}}, got "
                        f"{type(card).__name__}")
    for v in {*hidden, *(u for s in scopes for u in s)}:
        if v not in card:
            raise ValueError(f"card must give the number of states of {v!r}")
        check_int(f"card[{v!r}]", card[v], min_value=1)


def min_fill_order(scopes: Sequence[Sequence[str]], hidden: Sequence[str],
                   card: Mapping[str, int]) -> list[str]:
    """Greedy min-fill order of the variables ``hidden``: eliminate next the one whose
    elimination adds the fewest new edges between its neighbours in the interaction
    graph of the tables ``scopes`` (two variables are neighbours when a table holds both;
    ties: the fewest joint states of it and its neighbours, with ``card`` the numbers of
    states, then the order of ``hidden``); then connect its neighbours, as its
    elimination creates a table over all of them. Only the costs of variables within two
    steps of the eliminated one change, and only those are recomputed."""
    _check_min_fill(scopes, hidden, card)
    nbrs: dict[str, set[str]] = {v: set() for v in hidden}
    for scope in scopes:
        for a in scope:
            nbrs.setdefault(a, set()).update(b for b in scope if b != a)

    def cost(v: str) -> tuple[int, int]:
        ns = list(nbrs[v])
        fill = sum(1 for i, a in enumerate(ns) for b in ns[i + 1:] if b not in nbrs[a])
        return fill, math.prod(card[u] for u in ns) * card[v]

    costs = {v: cost(v) for v in hidden}
    remaining, order = list(hidden), []
    while remaining:
        v = min(remaining, key=costs.__getitem__)          # first minimum wins
        for a in nbrs[v]:
            nbrs[a].discard(v)
            nbrs[a].update(b for b in nbrs[v] if b != a)
        remaining.remove(v)
        order.append(v)
        # only variables within two steps of v see their neighbourhoods change
        near = set(nbrs.pop(v))
        near.update(*(nbrs[a] for a in list(near)))
        costs.update((u, cost(u)) for u in near if u in costs and u != v)
    return order


def elimination_order(net: BayesianNetwork, query: Union[str, Sequence[str]],
                      evidence: Evidence = None) -> list[str]:
    """The order in which :func:`variable_elimination` sums out the hidden variables that
    matter for the query (see ``_relevant``: barren and disconnected ones are left
    out): greedy min-fill on the interaction graph of their tables, two variables being
    neighbours when a table holds both."""
    query, ev = _check_query(net, query, evidence)
    families, _ = _relevant(net, query, ev)
    tables = _reduced_tables(net, families, ev)
    scopes = [variables for _, variables in tables]
    hidden = [n for n in net.order if any(n in s for s in scopes) and n not in query]
    return min_fill_order(scopes, hidden, net.card)


def _check_order(net: BayesianNetwork, query: Sequence[str], ev: Mapping[str, int],
                 order: Optional[Sequence[str]]) -> None:
    """``order`` is None or lists every hidden variable (neither query nor evidence) once."""
    if order is None:
        return
    hidden = [n for n in net.names if n not in query and n not in ev]
    if isinstance(order, str) or not isinstance(order, Sequence):
        raise TypeError(f"order must be a sequence of variable names, got {order!r}")
    if sorted(order) != sorted(hidden):
        raise ValueError(f"order must list each hidden variable once, i.e. a permutation "
                         f"of {hidden}, got {list(order)}")


def variable_elimination(net: BayesianNetwork, query: Union[str, Sequence[str]],
                         evidence: Evidence = None, order: Optional[Sequence[str]] = None,
                         return_trace: bool = False):
    r"""$P(\text{query} \mid e)$ by variable elimination, never building the joint.

    Keep the tables that matter (``_relevant``: no barren variables, nothing the
    evidence cuts off from the query) with the evidence fixed; then for each hidden
    variable $v$ in ``order`` (default: :func:`elimination_order`, greedy min-fill),
    multiply the tables that mention $v$ and sum $v$ out,
    $\tau(\cdot) = \sum_{x_v} \prod_{f \ni v} f$; finally multiply what is left and
    normalise. An explicit ``order`` lists every hidden variable once (those that do not
    matter are skipped). With ``return_trace`` also returns a list of (eliminated
    variable, number of entries of the product it summed).
    """
    query, ev = _check_query(net, query, evidence)
    _check_order(net, query, ev, order)
    families, constant = _relevant(net, query, ev)
    tables = _reduced_tables(net, families, ev)              # CPTs with the evidence fixed
    in_tables = {v for _, variables in tables for v in variables}
    if order is None:
        order = min_fill_order([s for _, s in tables],
                               [n for n in net.order if n in in_tables and n not in query],
                               net.card)
    trace = []
    for v in (v for v in order if v in in_tables):
        touching = [t for t in tables if v in t[1]]
        tables = [t for t in tables if v not in t[1]]
        scope = list(dict.fromkeys(u for _, s in touching for u in s))
        trace.append((v, math.prod(net.card[u] for u in scope)))
        rest = tuple(u for u in scope if u != v)
        tables.append((_contract(touching, rest), rest))     # tau = sum_v prod_f f
    table = torch.from_numpy(np.asarray(_contract(tables, query) * constant, dtype=np.float64))
    result = _normalize_posterior(Factor(query, [net.states[q] for q in query], table), evidence)
    return (result, trace) if return_trace else result


def evidence_probability(net: BayesianNetwork, evidence: Evidence) -> float:
    r"""$P(e) = \sum_h \prod_i P(x_i \mid \mathrm{pa}_i)\big|_e$ by variable elimination: the
    normaliser of every posterior given $e$ (and $-\log P(e)$ is its free energy). Only
    the barren variables are left out (they sum to 1); every table over an ancestor of
    the evidence counts, constants included."""
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    ev = net._check_evidence(evidence)
    ancestors = _ancestors(net, list(ev))
    tables = _reduced_tables(net, [n for n in net.order if n in ancestors], ev)
    hidden = [n for n in net.order if n in ancestors and n not in ev]
    for v in min_fill_order([s for _, s in tables], hidden, net.card):
        touching = [t for t in tables if v in t[1]]
        tables = [t for t in tables if v not in t[1]]
        rest = tuple(dict.fromkeys(u for _, s in touching for u in s if u != v))
        tables.append((_contract(touching, rest), rest))
    return float(math.prod(float(t) for t, _ in tables))


# ------------------------------------------------------------------------ d-separation

def _name_set(net: BayesianNetwork, what: str, names) -> frozenset[str]:
    """A variable name, or a sequence of them, as a set of checked names."""
    if names is None:
        return frozenset()
    names = (names,) if isinstance(names, str) else names
    if not isinstance(names, (Sequence, set, frozenset)):
        raise TypeError(f"{what} must be a variable name or a sequence of names, got {names!r}")
    return frozenset(net._check_name(f"{what} variable", n) for n in names)


def _ancestors(net: BayesianNetwork, names) -> set[str]:
    """``names`` and all their ancestors."""
    found: set[str] = set()
    stack = list(names)
    while stack:
        v = stack.pop()
        if v not in found:
            found.add(v)
            stack.extend(net.parents[v])
    return found


def d_connected(net: BayesianNetwork, x: Union[str, Sequence[str]],
                given: Union[str, Sequence[str], None] = ()) -> tuple[str, ...]:
    r"""The variables reachable from ``x`` by an *active trail* given ``given`` (= $Z$),
    in ``names`` order, ``x`` itself included (unless observed).

    A trail is active when at each of its inner nodes $v$: for a chain
    $a \to v \to b$ or a fork $a \leftarrow v \to b$, $v \notin Z$; for a collider
    $a \to v \leftarrow b$, $v$ or one of its descendants is in $Z$. The search is the
    "reachable" algorithm of Koller and Friedman (2009, Alg. 3.1): a breadth-first
    search over (node, direction) pairs, "up" when the trail arrived from a child (or
    starts here), "down" when it arrived from a parent; a collider is entered down and
    left up, which is allowed only when the node is an ancestor of $Z$ (itself included).
    """
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    xs, zs = _name_set(net, "x", x), _name_set(net, "given", given)
    if not xs:
        raise ValueError("x must name at least one variable")
    open_colliders = _ancestors(net, zs)         # v in Z or a descendant of v in Z
    reached: set[str] = set()
    seen: set[tuple[str, str]] = set()
    stack = [(v, "up") for v in xs]
    while stack:
        v, direction = stack.pop()
        if (v, direction) in seen:
            continue
        seen.add((v, direction))
        if v not in zs:
            reached.add(v)
        if direction == "up" and v not in zs:          # chain upwards, or a fork at v
            stack += [(p, "up") for p in net.parents[v]]
            stack += [(c, "down") for c in net.children[v]]
        elif direction == "down":
            if v not in zs:                            # chain downwards through v
                stack += [(c, "down") for c in net.children[v]]
            if v in open_colliders:                    # collider at v, opened by Z
                stack += [(p, "up") for p in net.parents[v]]
    return tuple(n for n in net.names if n in reached)


def d_separated(net: BayesianNetwork, x: Union[str, Sequence[str]],
                y: Union[str, Sequence[str]],
                given: Union[str, Sequence[str], None] = ()) -> bool:
    r"""True when $X$ and $Y$ are d-separated by $Z$ = ``given``: no active trail joins a
    variable of ``x`` to one of ``y`` (see :func:`d_connected`). Then
    $X \perp Y \mid Z$ in *every* distribution that factorises along the graph
    (Pearl, 1988); when they are d-connected, they are dependent for almost all tables."""
    xs, ys, zs = (_name_set(net, w, v) for w, v in (("x", x), ("y", y), ("given", given)))
    if not xs or not ys:
        raise ValueError("x and y must each name at least one variable")
    if xs & ys or (xs | ys) & zs:
        raise ValueError(f"x, y and given must be disjoint, got x={sorted(xs)}, y={sorted(ys)}, "
                         f"given={sorted(zs)}")
    return not set(d_connected(net, tuple(xs), tuple(zs))) & ys


def independence_gap(net: BayesianNetwork, x: Union[str, Sequence[str]],
                     y: Union[str, Sequence[str]],
                     given: Union[str, Sequence[str], None] = ()) -> float:
    r"""$\max |P(x, y \mid z) - P(x \mid z)\, P(y \mid z)|$ over all states, with
    $P(z) > 0$, computed from the joint table (enumeration): 0 (to rounding) exactly when
    $X \perp Y \mid Z$ holds in this network's distribution."""
    xs, ys, zs = (_name_set(net, w, v) for w, v in (("x", x), ("y", y), ("given", given)))
    if not xs or not ys or xs & ys or (xs | ys) & zs:
        raise ValueError("x and y must be non-empty, and x, y and given disjoint")
    order = [n for n in net.names if n in zs] + [n for n in net.names if n in xs] + \
        [n for n in net.names if n in ys]
    f = net.joint()
    for n in net.names:
        if n not in order:
            f = f.sum_out(n)
    size = lambda vs: math.prod(net.card[n] for n in net.names if n in vs)  # noqa: E731
    p = f.aligned(order).reshape(size(zs), size(xs), size(ys))   # P(z, x, y)
    pz = p.sum(dim=(1, 2))
    cond = p[pz > 0] / pz[pz > 0, None, None]                    # P(x, y | z)
    product = cond.sum(2, keepdim=True) * cond.sum(1, keepdim=True)
    return float((cond - product).abs().max())


# ---------------------------------------------------------------- Gibbs sampling (MCMC)

def markov_blanket_conditional(net: BayesianNetwork, name: str) -> Factor:
    r"""$P(x_i \mid \mathrm{mb}(x_i))$ as a factor over (Markov blanket..., ``name``):

    $$P(x_i \mid x_{-i}) \propto P(x_i \mid \mathrm{pa}_i)
      \prod_{c \in \mathrm{ch}(i)} P(x_c \mid \mathrm{pa}_c),$$

    normalised over $x_i$. Every other CPT does not mention $x_i$ and cancels. Rows where
    all terms vanish (unreachable blanket states) are set uniform.
    """
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    net._check_name("variable", name)
    f = net.factor(name)
    for c in net.children[name]:
        f = f * net.factor(c)
    f = f.permute(net.markov_blanket(name) + (name,))
    total = f.table.sum(-1, keepdim=True)
    k = net.card[name]
    table = torch.where(total > 0, f.table / total.clamp_min(1e-300),
                        torch.full_like(f.table, 1.0 / k))
    return Factor(f.variables, f.states, table)


def _initial_states(net: BayesianNetwork, evidence: Evidence, n_chains: int,
                    generator: Optional[torch.Generator], max_rounds: int = 100) -> Tensor:
    """Ancestral samples with the evidence clamped; any that have probability 0 (a CPT
    entry of 0 contradicts the evidence) are replaced by ancestral samples that happen to
    agree with the evidence (rejection sampling)."""
    ev = net._check_evidence(evidence)
    x = net.sample(n_chains, generator, evidence=evidence)
    bad = net.log_prob(x) == -math.inf
    cols = torch.tensor([net.index(v) for v in ev], dtype=torch.long)
    vals = torch.tensor(list(ev.values()), dtype=torch.long)
    for _ in range(max_rounds):
        if not bad.any():
            return x
        draws = net.sample(max(1000, n_chains), generator)
        good = draws[(draws[:, cols] == vals).all(dim=1)]
        k = min(len(good), int(bad.sum()))
        x[torch.nonzero(bad)[:k, 0]] = good[:k]
        bad = net.log_prob(x) == -math.inf
    raise ValueError(f"could not start the chains in a state of positive probability that "
                     f"agrees with the evidence {dict(evidence or {})}; pass init")


class NotErgodicError(ValueError):
    """Single-site Gibbs sampling cannot reach every state of the posterior: zeros in the
    tables split the state space, and the chain stays in the part where it starts."""


def deterministic_nodes(net: BayesianNetwork) -> tuple[str, ...]:
    """The variables that are functions of their parents: every row of the CPT has a
    single nonzero entry (and not every row picks the same state)."""
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    out = []
    for name in net.names:
        rows = net.cpt[name].reshape(-1, net.card[name])
        if len(rows) > 1 and bool(((rows > 0).sum(1) == 1).all()) \
                and len(set(rows.argmax(1).tolist())) > 1:
            out.append(name)
    return tuple(out)


def _hidden_table(net: BayesianNetwork, ev: Mapping[str, int], hidden: Sequence[str]) -> Tensor:
    """$P(h, e)$ as a tensor with one axis per hidden variable (in the order given)."""
    table = torch.ones([1] * len(hidden), dtype=DTYPE)
    for name in net.names:
        f = net.factor(name)
        for v, j in ev.items():
            if v in f.variables:
                f = f.reduce(v, j)
        table = table * f.aligned(hidden)
    return table


def single_site_components(net: BayesianNetwork, evidence: Evidence = None, *,
                           max_states: int = 2**20) -> tuple[Tensor, Tensor]:
    r"""The states of positive probability $P(h, e) > 0$ of the hidden variables, and which
    part of the state space each lies in, when two states are joined if they differ in a
    single variable (the moves of single-site Gibbs sampling; such a move has positive
    probability exactly when both states do). Label propagation on the table of states:
    every state takes the smallest label along each of its axes until nothing changes.

    Returns ``states`` (S, len(net.names)) long, evidence filled in, and ``component``
    (S,): 0, 1, ... The chain is irreducible exactly when there is one component.
    Raises when the hidden state space has more than ``max_states`` states.
    """
    ev = net._check_evidence(evidence)
    max_states = check_int("max_states", max_states, min_value=1)
    hidden = [n for n in net.names if n not in ev]
    size = math.prod(net.card[n] for n in hidden)
    if size > max_states:
        raise ValueError(f"the hidden variables have {size} joint states, more than "
                         f"max_states = {max_states}")
    support = _hidden_table(net, ev, hidden) > 0 if hidden else torch.ones((), dtype=torch.bool)
    big = size + 1
    label = torch.where(support, torch.arange(size).reshape(support.shape), big)
    while True:
        old = label
        for axis in range(len(hidden)):               # join states along each variable
            label = torch.where(support, torch.minimum(label, label.amin(axis, keepdim=True)), big)
        if torch.equal(label, old):
            break
    flat = label.reshape(-1)
    keep = flat < big
    idx = torch.nonzero(keep)[:, 0]
    _, component = torch.unique(flat[keep], return_inverse=True)
    states = torch.zeros(len(idx), len(net.names), dtype=torch.long)
    rest = idx.clone()
    for name in reversed(hidden):                     # unravel the row-major index
        states[:, net.index(name)] = rest % net.card[name]
        rest = rest // net.card[name]
    for v, j in ev.items():
        states[:, net.index(v)] = j
    return states, component


def gibbs_ergodicity_problem(net: BayesianNetwork, evidence: Evidence = None, *,
                             max_states: int = 2**16) -> Optional[str]:
    r"""Why single-site Gibbs sampling of $P(h \mid e)$ cannot reach the whole posterior,
    or None when it can (or when that cannot be decided cheaply).

    Two tests. (1) A hidden variable that is a deterministic function of its parents
    (:func:`deterministic_nodes`) can never change in a single-site update: its
    conditional given its Markov blanket, which contains its parents, puts all its mass on
    one state. (2) When the hidden variables have at most ``max_states`` joint states, the
    states of positive probability are enumerated and split into the parts that
    single-variable changes connect (:func:`single_site_components`); more than one part
    means the chain is reducible, whatever the cause (a deterministic node, or zeros that
    forbid every single-variable path, as for an observed XOR of two parents). Without
    zeros in the tables neither can happen.
    """
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    ev = net._check_evidence(evidence)
    max_states = check_int("max_states", max_states, min_value=1)
    hidden = [n for n in net.names if n not in ev]
    frozen = [n for n in deterministic_nodes(net) if n in hidden]
    size = math.prod(net.card[n] for n in hidden)
    if size > max_states:
        if not frozen:
            return None
        parts = None
    else:
        states, component = single_site_components(net, evidence, max_states=max_states)
        parts = int(component.max()) + 1 if len(component) else 1
        if parts == 1:
            return None
        # the variables that keep one value in each part (they cannot change)
        frozen = [n for n in hidden
                  if all(len(states[component == c, net.index(n)].unique()) == 1
                         for c in range(parts))] or frozen
    what = []
    for n in frozen:
        pa = ", ".join(net.parents[n])
        det = (f" is a deterministic function of its parents ({pa})"
               if n in deterministic_nodes(net) else " can never change")
        what.append(f"{n!r}{det}")
    head = ("single-site Gibbs sampling cannot reach the whole posterior"
            + (f" given {dict(evidence)}" if evidence else ""))
    split = (f": its states of positive probability fall into {parts} parts that no change "
             f"of a single variable connects, and a chain never leaves the part it starts in"
             if parts else "")
    return (f"{head}{split}. {'; '.join(what)}: a single-site update, which draws a "
            f"variable given its Markov blanket (parents included), never changes it. "
            f"Use exact inference or likelihood_weighting, or pass check_ergodicity=False "
            f"to run the chain anyway.")


@torch.no_grad()
def gibbs_sample(net: BayesianNetwork, evidence: Evidence = None, *, n_chains: int,
                 n_sweeps: int, burn_in: int = 0,
                 generator: Optional[torch.Generator] = None,
                 init: Optional[Tensor] = None, check_ergodicity: bool = True) -> Tensor:
    r"""Gibbs sampling of $P(x_{\text{hidden}} \mid e)$ with ``n_chains`` chains in parallel.

    Chains start from ``init`` ((n_chains, n) state indices; evidence columns are
    overwritten) or, by default, from ancestral samples with the evidence clamped (those
    of probability 0 redrawn by rejection). One sweep redraws every non-evidence variable
    (in topological order) from its exact conditional given its Markov blanket,
    :func:`markov_blanket_conditional`, read off a table precomputed once. The first
    ``burn_in`` sweeps are discarded. Returns the states after each later sweep,
    (n_sweeps, n_chains, len(net.names)) long.

    With positive tables the chain is ergodic. Zeros can split the state space into parts
    that single-variable changes do not connect (a deterministic node is the common
    case); the chain then stays in the part it starts in and its averages are wrong. With
    ``check_ergodicity`` (the default) :func:`gibbs_ergodicity_problem` looks for this
    first and raises :class:`NotErgodicError` saying which variables are frozen.
    """
    n_chains = check_int("n_chains", n_chains, min_value=1)
    n_sweeps = check_int("n_sweeps", n_sweeps, min_value=1)
    burn_in = check_int("burn_in", burn_in, min_value=0)
    check_generator("generator", generator)
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    ev = net._check_evidence(evidence)
    if check_ergodicity:
        problem = gibbs_ergodicity_problem(net, evidence)
        if problem:
            raise NotErgodicError(problem)
    if init is None:
        x = _initial_states(net, evidence, n_chains, generator)
    else:
        x = net._check_assignments(init, "init").clone()
        if x.shape[0] != n_chains:
            raise ValueError(f"init must hold n_chains = {n_chains} rows, got {x.shape[0]}")
        for v, j in ev.items():
            x[:, net.index(v)] = j
        if (net.log_prob(x) == -math.inf).any():
            raise ValueError("init must give every chain a state of positive probability")
    free = [n for n in net.order if n not in ev]
    # For each free variable: the columns of its Markov blanket, their strides in the
    # flattened table, and the conditional CDF, one row per blanket state.
    plan = []
    for name in free:
        mb = markov_blanket_conditional(net, name)
        cols = [net.index(v) for v in mb.variables[:-1]]
        strides = torch.tensor([math.prod(mb.table.shape[k + 1:-1]) for k in range(len(cols))],
                               dtype=torch.long)
        cdf = mb.table.reshape(-1, net.card[name]).cumsum(dim=1)
        cdf[:, -1] = 1.0                               # guard against rounding below u
        plan.append((net.index(name), cols, strides, cdf))
    out = torch.empty(n_sweeps, n_chains, len(net.names), dtype=torch.long)
    for sweep in range(burn_in + n_sweeps):
        u = rand((n_chains, len(free)), generator, dtype=DTYPE)
        for k, (i, cols, strides, cdf) in enumerate(plan):
            row = x[:, cols] @ strides if cols else torch.zeros(n_chains, dtype=torch.long)
            x[:, i] = (cdf[row] < u[:, k:k + 1]).sum(dim=1)             # inverse-CDF draw
        if sweep >= burn_in:
            out[sweep - burn_in] = x
    return out


def gibbs_running_estimate(net: BayesianNetwork, query: str, state: State,
                           evidence: Evidence = None, *, n_chains: int, n_samples: int,
                           burn_in: int = 100,
                           generator: Optional[torch.Generator] = None,
                           check_ergodicity: bool = True) -> Tensor:
    r"""Running Gibbs estimate of $P(\text{query} = \text{state} \mid e)$ for each chain:
    the mean of the indicator over the first $t$ samples after ``burn_in`` sweeps, for
    $t = 1, \dots,$ ``n_samples``. Returns (n_chains, n_samples)."""
    query_t, _ = _check_query(net, query, evidence)
    if len(query_t) != 1:
        raise ValueError(f"query must name one variable, got {query_t}")
    j = net.state_index(query_t[0], state)
    n_samples = check_int("n_samples", n_samples, min_value=1)
    samples = gibbs_sample(net, evidence, n_chains=n_chains, n_sweeps=n_samples,
                           burn_in=burn_in, generator=generator,
                           check_ergodicity=check_ergodicity)
    hits = (samples[:, :, net.index(query_t[0])] == j).to(DTYPE).T    # (n_chains, n_samples)
    return hits.cumsum(dim=1) / torch.arange(1, n_samples + 1, dtype=DTYPE)


def gibbs_sweep_matrix(net: BayesianNetwork, evidence: Evidence = None, *,
                       max_states: int = 4096) -> tuple[Tensor, Tensor, Tensor]:
    r"""The exact transition matrix of one sweep of :func:`gibbs_sample`, over the hidden
    states of positive probability.

    One sweep redraws the free variables $v_1, \dots, v_m$ (in ``net.order``) in turn, so
    $K = K_{v_1} K_{v_2} \cdots K_{v_m}$ with
    $K_v[s, s'] = P(x'_v \mid \mathrm{mb}(v))$ when $s'$ equals $s$ except perhaps at $v$,
    and 0 otherwise. Returns ``states`` (S, len(net.names)) long, ``K`` (S, S) (rows sum
    to 1) and the posterior ``pi`` (S,), which every $K_v$, and so $K$, leaves invariant.
    """
    ev = net._check_evidence(evidence)
    max_states = check_int("max_states", max_states, min_value=1)
    states, _ = single_site_components(net, evidence, max_states=max_states)
    free = [n for n in net.order if n not in ev]
    pi = net.prob(states)
    pi = pi / pi.sum()
    n = len(states)
    K = torch.eye(n, dtype=DTYPE)
    for name in free:
        i = net.index(name)
        others = [j for j in range(len(net.names)) if j != i]
        same_rest = (states[:, None, others] == states[None, :, others]).all(-1)   # (S, S)
        cond = pi[None, :] * same_rest                    # P(s') on the line through s
        K = K @ (cond / cond.sum(1, keepdim=True))
    return states, K, pi


def exact_iat(K: Tensor, pi: Tensor, f: Tensor) -> float:
    r"""Integrated autocorrelation time $\tau = 1 + 2\sum_{k \ge 1} \rho_k$ of $f(X_t)$
    for a stationary Markov chain with transition matrix ``K`` (S, S) and stationary
    distribution ``pi`` (S,), ``f`` (S,): with $g = f - \pi^\top f$, $D = \mathrm{diag}(\pi)$
    and $\Pi = \mathbf 1 \pi^\top$, $\rho_k = g^\top D K^k g / g^\top D g$ and
    $\sum_{k \ge 0} K^k g = (I - K + \Pi)^{-1} g$, so
    $\tau = \bigl(2\, g^\top D (I - K + \Pi)^{-1} g - g^\top D g\bigr) / g^\top D g$."""
    check_tensor("K", K, ndim=2, floating=True, nonempty=True)
    n = K.shape[0]
    if K.shape[1] != n:
        raise ValueError(f"K must be square, got shape {tuple(K.shape)}")
    if (K < 0).any() or ((K.sum(1) - 1).abs() > 1e-6).any():
        raise ValueError("K must be a transition matrix: non-negative, every row summing to 1")
    check_tensor("pi", pi, ndim=1, last_dim=n, floating=True)
    if (pi < 0).any() or abs(pi.sum().item() - 1) > 1e-6:
        raise ValueError(f"pi must be a distribution: non-negative and summing to 1, got sum "
                         f"{pi.sum().item():.6g}")
    check_tensor("f", f, ndim=1, last_dim=n)
    K, pi, f = K.to(DTYPE), pi.to(DTYPE), f.to(DTYPE)
    g = f - pi @ f
    var = pi @ (g * g)
    if not var > 0:
        raise ValueError("f must not be constant on the support of pi")
    h = torch.linalg.solve(torch.eye(n, dtype=DTYPE) - K + pi[None, :].expand(n, n), g)
    return float((2 * (pi * g) @ h - var) / var)


def autocorrelation(x: Tensor, max_lag: Optional[int] = None) -> Tensor:
    r"""Autocorrelation $\rho_k = \gamma_k / \gamma_0$, $k = 0, \dots,$ ``max_lag``, of the
    chains ``x`` (n_chains, T) (or one chain, (T,)), with
    $\gamma_k = \frac{1}{n_\text{chains} T} \sum_c \sum_{t=1}^{T-k} (x_{c,t} - \mu)(x_{c,t+k} - \mu)$
    and $\mu$ the mean over *all* chains: chains stuck at different values then show as
    a correlation that does not decay. Computed with the FFT."""
    check_tensor("x", x, ndim=(1, 2), nonempty=True)
    x = x.to(DTYPE).reshape(-1, x.shape[-1])
    T = x.shape[1]
    max_lag = T - 1 if max_lag is None else check_int("max_lag", max_lag, min_value=0,
                                                         max_value=T - 1)
    y = x - x.mean()
    spec = torch.fft.rfft(y, n=2 * T)
    gamma = torch.fft.irfft(spec * spec.conj(), n=2 * T)[:, :max_lag + 1].sum(0) / y.numel()
    if not gamma[0] > 0:
        raise ValueError("x must not be constant")
    return gamma / gamma[0]


def integrated_autocorrelation_time(x: Tensor, c: float = 5.0) -> float:
    r"""$\hat\tau = 1 + 2 \sum_{k=1}^{M} \hat\rho_k$ of the chains ``x`` (n_chains, T) or
    (T,), with Sokal's automatic window: the smallest $M$ with $M \ge c\, \hat\tau(M)$
    (the noisy tail of $\hat\rho_k$ is left out; if no such $M$ exists, the chains are too
    short and $M = T - 1$). The variance of the mean of $N$ correlated samples is
    $\tau\,\sigma^2 / N$: $\tau$ samples of the chain are worth one independent one."""
    c = check_number("c", c, positive=True)
    check_tensor("x", x, ndim=(1, 2), nonempty=True)
    rho = autocorrelation(x)
    if len(rho) == 1:                                    # a single sample per chain
        return 1.0
    tau = 1 + 2 * torch.cumsum(rho[1:], 0)               # tau(M) for M = 1, 2, ...
    m = torch.arange(1, len(rho), dtype=DTYPE)
    ok = torch.nonzero(m >= c * tau)                     # windows long enough
    return float(tau[ok[0, 0]] if len(ok) else tau[-1])


def effective_sample_size(x: Tensor, c: float = 5.0) -> float:
    r"""$N_\text{eff} = n_\text{chains}\, T / \hat\tau$: the number of independent samples
    whose mean would be as precise as the mean of the chains ``x`` (n_chains, T) or (T,)
    (:func:`integrated_autocorrelation_time`)."""
    check_tensor("x", x, ndim=(1, 2), nonempty=True)
    return x.numel() / integrated_autocorrelation_time(x, c)


# ------------------------------------------------------------------ likelihood weighting

def likelihood_log_weights(net: BayesianNetwork, x: Tensor, evidence: Evidence) -> Tensor:
    r"""$\log w = \sum_{i \in E} \log P(e_i \mid \mathrm{pa}_i)$ for samples ``x`` (B, n):
    the likelihood of the evidence variables given their (sampled) parents; (B,)."""
    ev = net._check_evidence(evidence)
    x = net._check_assignments(x)
    w = torch.zeros(x.shape[0], dtype=DTYPE)
    for name in ev:
        w = w + net.local_log_prob(x, name)
    return w


@dataclass
class WeightedEstimate:
    """What :func:`likelihood_weighting` returns: the estimated ``posterior`` (a Factor
    over the query), the standard error ``se`` of each entry (delta method), and the
    effective sample size ``ess`` of the weights, $(\\sum w)^2 / \\sum w^2$."""

    posterior: Factor
    se: Tensor
    ess: float


@torch.no_grad()
def likelihood_weighting(net: BayesianNetwork, query: Union[str, Sequence[str]],
                         evidence: Evidence, *, n_samples: int,
                         generator: Optional[torch.Generator] = None) -> WeightedEstimate:
    r"""$P(\text{query} \mid e)$ by likelihood weighting (Fung and Chang, 1990; Shachter
    and Peot, 1990): draw the variables in topological order, each from its CPT row, but
    *set* the evidence variables to their observed states instead of drawing them, and
    weight each sample by the probability the evidence would have had,
    $w = \prod_{i \in E} P(e_i \mid \mathrm{pa}_i)$ (:func:`likelihood_log_weights`).
    Then $\hat P(q \mid e) = \sum_s w_s [q_s = q] / \sum_s w_s$, a ratio of two unbiased
    estimates. No Markov chain: every sample is drawn afresh, so zeros in the tables do
    not trap it; its weakness is evidence of low probability, where a few samples carry
    all the weight (the ``ess`` says how many count).
    """
    query_t, ev = _check_query(net, query, evidence)
    n_samples = check_int("n_samples", n_samples, min_value=1)
    x = net.sample(n_samples, generator, evidence=evidence)
    log_w = likelihood_log_weights(net, x, evidence)
    if not torch.isfinite(log_w).any():
        raise ValueError(f"every sample has weight 0 given the evidence {dict(evidence)}")
    w = torch.exp(log_w - log_w.max())
    w = w / w.sum()
    shape = [net.card[q] for q in query_t]
    code = torch.zeros(n_samples, dtype=torch.long)
    for q in query_t:
        code = code * net.card[q] + x[:, net.index(q)]
    p = torch.zeros(math.prod(shape), dtype=DTYPE).index_add_(0, code, w)
    onehot = torch.nn.functional.one_hot(code, len(p)).to(DTYPE)
    se = ((w[:, None] * (onehot - p)) ** 2).sum(0).sqrt()
    post = Factor(query_t, [net.states[q] for q in query_t], p.reshape(shape))
    return WeightedEstimate(post, se.reshape(shape), float(1 / (w * w).sum()))


# -------------------------------------------------------------------------- builders

def sprinkler() -> BayesianNetwork:
    """The classic sprinkler network (Cloudy -> Sprinkler, Rain -> WetGrass), states
    ('F', 'T'), with the CPT values of Russell and Norvig's textbook:
    P(C) = 0.5; P(S | C) = 0.1, P(S | not C) = 0.5; P(R | C) = 0.8, P(R | not C) = 0.2;
    P(W | S, R) = 0.99, P(W | S, not R) = P(W | not S, R) = 0.9, P(W | not S, not R) = 0."""
    ft = ("F", "T")
    return BayesianNetwork([
        Node("Cloudy", ft, (), [0.5, 0.5]),
        Node("Sprinkler", ft, ("Cloudy",), [[0.5, 0.5], [0.9, 0.1]]),
        Node("Rain", ft, ("Cloudy",), [[0.8, 0.2], [0.2, 0.8]]),
        Node("WetGrass", ft, ("Sprinkler", "Rain"), [[[1.0, 0.0], [0.1, 0.9]],
                                                     [[0.1, 0.9], [0.01, 0.99]]]),
    ])


def asia(noise: float = 0.0) -> BayesianNetwork:
    r"""The "Asia" chest-clinic network of Lauritzen and Spiegelhalter (1988), with the
    tables that bnlearn and pgmpy ship: a visit to Asia raises the chance of tuberculosis
    (``tub``), smoking that of lung cancer (``lung``) and bronchitis (``bronc``);
    ``either`` is tuberculosis OR lung cancer, a deterministic node; it raises the chance
    of a positive X-ray (``xray``) and, with bronchitis, of shortness of breath
    (``dysp``). States ('yes', 'no'), in pgmpy's order.

    ``noise`` $= \varepsilon$ replaces the OR by a noisy one: ``either`` takes the value
    of the OR with probability $1 - \varepsilon$ and the other value with probability
    $\varepsilon$ (0: the original, deterministic table).
    """
    eps = check_probability("noise", noise)
    yn = ("yes", "no")

    def row(p_yes):
        return [p_yes, 1 - p_yes]

    # either[lung, tub, either]: OR of lung and tub, flipped with probability eps
    either = [[row(1 - eps), row(1 - eps)], [row(1 - eps), row(eps)]]
    return BayesianNetwork([
        Node("asia", yn, (), row(0.01)),
        Node("tub", yn, ("asia",), [row(0.05), row(0.01)]),
        Node("smoke", yn, (), row(0.5)),
        Node("lung", yn, ("smoke",), [row(0.1), row(0.01)]),
        Node("bronc", yn, ("smoke",), [row(0.6), row(0.3)]),
        Node("either", yn, ("lung", "tub"), either),
        Node("xray", yn, ("either",), [row(0.98), row(0.05)]),
        Node("dysp", yn, ("bronc", "either"), [[row(0.9), row(0.8)], [row(0.7), row(0.1)]]),
    ])


def to_pgmpy(net: BayesianNetwork):
    """The network as a pgmpy ``DiscreteBayesianNetwork`` (pgmpy must be installed), for
    cross-checks with an independent implementation. pgmpy's table of a variable is
    (variable, parents...) with the first parent varying slowest; ours is
    (parents..., variable)."""
    import warnings

    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    with warnings.catch_warnings():                    # pgmpy warns about deprecations
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.names)
    model.add_edges_from((p, c) for c in net.names for p in net.parents[c])
    for name in net.names:
        pa = list(net.parents[name])
        values = net.cpt[name].reshape(-1, net.card[name]).T.numpy()
        model.add_cpds(TabularCPD(name, net.card[name], values, evidence=pa or None,
                                  evidence_card=[net.card[p] for p in pa] or None,
                                  state_names={v: list(net.states[v]) for v in pa + [name]}))
    if not model.check_model():
        raise ValueError("pgmpy does not accept the converted network")
    return model


def pgmpy_query(net: BayesianNetwork, query: Union[str, Sequence[str]],
                evidence: Evidence = None) -> Factor:
    r"""$P(\text{query} \mid e)$ computed by pgmpy's ``VariableElimination`` on
    :func:`to_pgmpy` of ``net``: an independent implementation, for cross-checks (pgmpy
    must be installed). Returns a :class:`Factor` over ``query``, in that order."""
    import warnings

    query_t, ev = _check_query(net, query, evidence)
    model = to_pgmpy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination

        named = {v: net.states[v][j] for v, j in ev.items()}
        q = VariableElimination(model).query(list(query_t), evidence=named or None,
                                             show_progress=False)
    table = torch.as_tensor(q.values, dtype=DTYPE).permute([q.variables.index(v) for v in query_t])
    for k, v in enumerate(query_t):                    # pgmpy's state order -> ours
        order = [q.state_names[v].index(s) for s in net.states[v]]
        table = table.index_select(k, torch.tensor(order))
    return Factor(query_t, [net.states[v] for v in query_t], table)


def from_pgmpy(model) -> BayesianNetwork:
    """A pgmpy ``DiscreteBayesianNetwork`` (e.g. ``pgmpy.utils.get_example_model("asia")``)
    as a :class:`BayesianNetwork`: the same variables (in ``model.nodes()`` order), state
    names and tables. pgmpy stores a CPT as (variable, parents...); ours is
    (parents..., variable)."""
    cpds = getattr(model, "get_cpds", None)
    if cpds is None:
        raise TypeError(f"model must be a pgmpy DiscreteBayesianNetwork, got {type(model).__name__}")
    nodes = []
    for name in model.nodes():
        cpd = model.get_cpds(name)
        parents = tuple(cpd.variables[1:])
        values = torch.as_tensor(cpd.values, dtype=DTYPE).movedim(0, -1)
        nodes.append(Node(str(name), tuple(str(s) for s in cpd.state_names[name]),
                          parents, values))
    return BayesianNetwork(nodes)


def _random_rows(shape: Sequence[int], generator: Optional[torch.Generator]) -> Tensor:
    """CPT rows drawn from a flat Dirichlet: normalised standard exponentials."""
    e = -rand(tuple(shape), generator, dtype=DTYPE).clamp_min(1e-12).log()
    return e / e.sum(-1, keepdim=True)


def random_network(n_vars: int, *, max_parents: int = 2, cards: Sequence[int] = (2, 3),
                   generator: Optional[torch.Generator] = None) -> BayesianNetwork:
    """A random network on variables X0, X1, ...: each X_i draws up to ``max_parents``
    parents among X0..X_{i-1} (so the graph is acyclic), a cardinality from ``cards``, and
    CPT rows from a flat Dirichlet distribution. States are named s0, s1, ..."""
    n_vars = check_int("n_vars", n_vars, min_value=1)
    max_parents = check_int("max_parents", max_parents, min_value=0)
    cards = [check_int(f"cards[{i}]", c, min_value=2) for i, c in enumerate(cards)]
    if not cards:
        raise ValueError("cards must list at least one cardinality")
    check_generator("generator", generator)
    nodes: list[Node] = []
    card = {}
    for i in range(n_vars):
        name = f"X{i}"
        card[name] = cards[int(rand((1,), generator).item() * len(cards)) % len(cards)]
        k = min(i, int(rand((1,), generator).item() * (max_parents + 1)) % (max_parents + 1))
        order = torch.argsort(rand((i,), generator)) if i else torch.zeros(0, dtype=torch.long)
        parents = tuple(f"X{j}" for j in sorted(order[:k].tolist()))
        cpt = _random_rows([card[p] for p in parents] + [card[name]], generator)
        nodes.append(Node(name, tuple(f"s{j}" for j in range(card[name])), parents, cpt))
    return BayesianNetwork(nodes)


def _check_hmm(initial, transition, emission) -> None:
    """pi (K,), A (K, K) and B (K, M) of a hidden Markov model, each row a distribution."""
    check_tensor("initial", initial, ndim=1, nonempty=True)
    k = initial.shape[0]
    check_tensor("transition", transition, ndim=2, last_dim=k)
    if transition.shape[0] != k:
        raise ValueError(f"transition must have shape ({k}, {k}), got {tuple(transition.shape)}")
    check_tensor("emission", emission, ndim=2, nonempty=True)
    if emission.shape[0] != k:
        raise ValueError(f"emission must have shape ({k}, M), one row per hidden state, got "
                         f"{tuple(emission.shape)}")
    for name, t in (("initial", initial), ("transition", transition), ("emission", emission)):
        t = t.to(DTYPE)
        if (t < 0).any() or ((t.sum(-1) - 1).abs() > 1e-6).any():
            raise ValueError(f"{name} must hold probabilities, non-negative and summing to 1"
                             + (" along each row" if t.dim() == 2 else ""))


def hmm_network(initial: Tensor, transition: Tensor, emission: Tensor,
                length: int) -> BayesianNetwork:
    r"""A hidden Markov model unrolled for ``length`` steps as a Bayesian network:
    hidden H1 -> H2 -> ... with $P(H_1) = \pi$ (``initial``, (K,)), $P(H_{t+1} \mid H_t) = A$
    (``transition``, (K, K), rows sum to 1), and observations $H_t \to O_t$ with
    $P(O_t \mid H_t) = B$ (``emission``, (K, M)). States: h0.. and o0.."""
    length = check_int("length", length, min_value=1)
    _check_hmm(initial, transition, emission)
    k = initial.shape[0]
    hs = tuple(f"h{j}" for j in range(k))
    os_ = tuple(f"o{j}" for j in range(emission.shape[1]))
    nodes = []
    for t in range(1, length + 1):
        nodes.append(Node(f"H{t}", hs, (f"H{t - 1}",) if t > 1 else (),
                          transition if t > 1 else initial))
        nodes.append(Node(f"O{t}", os_, (f"H{t}",), emission))
    return BayesianNetwork(nodes)


def hmm_forward(initial: Tensor, transition: Tensor, emission: Tensor,
                observations: Sequence[int]) -> float:
    r"""$\log P(o_1, \dots, o_T)$ of an HMM by the forward recursion
    $\alpha_1 = \pi \odot B_{:, o_1}$, $\alpha_{t+1} = (\alpha_t A) \odot B_{:, o_{t+1}}$,
    $P(o) = \sum_k \alpha_T(k)$ (float64; fine for short sequences)."""
    _check_hmm(initial, transition, emission)
    if isinstance(observations, (str, bytes)) or not isinstance(observations, Sequence) \
            or not observations:
        raise ValueError("observations must be a non-empty sequence of symbol indices")
    for t, o in enumerate(observations):
        check_int(f"observations[{t}]", o, min_value=0, max_value=emission.shape[1] - 1)
    a = initial.to(DTYPE) * emission[:, observations[0]].to(DTYPE)
    for o in observations[1:]:
        a = (a @ transition.to(DTYPE)) * emission[:, o].to(DTYPE)
    return a.sum().log().item()


def sigmoid_belief_network(W: Tensor, a: Tensor, c: Tensor) -> BayesianNetwork:
    r"""A two-layer sigmoid belief network (Neal, 1992) as a Bayesian network: binary
    hidden units H_j with $P(H_j = 1) = \sigma(c_j)$, binary visible units V_i with
    parents all H_j and $P(V_i = 1 \mid h) = \sigma(a_i + \sum_j W_{ij} h_j)$.
    ``W``: (D, H), ``a``: (D,), ``c``: (H,); states ('0', '1')."""
    check_tensor("W", W, ndim=2, nonempty=True)
    d, h = W.shape
    if h > 20:
        raise ValueError(f"W must have at most 20 columns (hidden units; each visible CPT has "
                         f"2^H rows), got shape {tuple(W.shape)}")
    check_tensor("a", a, ndim=1, last_dim=d)
    check_tensor("c", c, ndim=1, last_dim=h)
    W, a, c = (t.detach().to(DTYPE).cpu() for t in (W, a, c))
    bits = ("0", "1")
    hidden = tuple(f"H{j + 1}" for j in range(h))
    nodes = [Node(hidden[j], bits, (), torch.stack([torch.sigmoid(-c[j]), torch.sigmoid(c[j])]))
             for j in range(h)]
    configs = torch.cartesian_prod(*[torch.tensor([0.0, 1.0], dtype=DTYPE)] * h).reshape(-1, h)
    for i in range(d):
        p1 = torch.sigmoid(a[i] + configs @ W[i])                      # (2^H,)
        cpt = torch.stack([1 - p1, p1], dim=-1).reshape(*([2] * h), 2)
        nodes.append(Node(f"V{i + 1}", bits, hidden, cpt))
    return BayesianNetwork(nodes)


def draw_network(net: BayesianNetwork, ax=None, pos: Optional[Mapping[str, tuple]] = None,
                 node_size: int = 2600, font_size: int = 9):
    """Draw the graph with networkx and matplotlib; returns ``(fig, ax)``. Without ``pos``,
    variables are placed in layers by their depth (longest path from a root)."""
    import networkx as nx

    from .plotting import new_axes

    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    node_size = check_number("node_size", node_size, positive=True)
    font_size = check_number("font_size", font_size, positive=True)
    g = nx.DiGraph()
    g.add_nodes_from(net.names)
    g.add_edges_from((p, c) for c in net.names for p in net.parents[c])
    if pos is None:
        depth: dict[str, int] = {}
        for n in net.order:
            depth[n] = 1 + max((depth[p] for p in net.parents[n]), default=-1)
        nx.set_node_attributes(g, depth, "layer")
        pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal", scale=1.0)
        pos = {n: (x, -y) for n, (x, y) in pos.items()}
    fig, ax = new_axes(ax)
    nx.draw_networkx(g, pos=pos, ax=ax, node_size=node_size, node_color="#cfe2f3",
                     edgecolors="#3d6b99", font_size=font_size, arrowsize=18,
                     min_source_margin=22, min_target_margin=22)
    ax.set_axis_off()
    ax.margins(0.2)
    return fig, ax


# --------------------------------------------------------------- learning the tables

def cpt_counts(net: BayesianNetwork, data: Tensor, name: str) -> Tensor:
    r"""$N_{jk}$: how many rows of ``data`` (N, len(net.names)) state indices have the
    parents of ``name`` in configuration $j$ and ``name`` in state $k$; a tensor shaped
    like the CPT of ``name`` (parents..., name)."""
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    data = net._check_assignments(data, "data")
    net._check_name("variable", name)
    family = net.parents[name] + (name,)
    shape = [net.card[v] for v in family]
    code = torch.zeros(len(data), dtype=torch.long)
    for v in family:
        code = code * net.card[v] + data[:, net.index(v)]
    return torch.bincount(code, minlength=math.prod(shape)).to(DTYPE).reshape(shape)


def fit_cpts(net: BayesianNetwork, data: Tensor, pseudo_count: float = 0.0) -> BayesianNetwork:
    r"""The graph of ``net`` with tables estimated from complete data ``data``
    (N, len(net.names)) state indices:

    $$\hat\theta_{jk} = \frac{N_{jk} + \alpha}{N_j + K \alpha},$$

    with $N_{jk}$ the counts (:func:`cpt_counts`), $N_j = \sum_k N_{jk}$, $K$ the number
    of states and $\alpha$ = ``pseudo_count``. With $\alpha = 0$ this is the maximum
    likelihood estimate (the observed frequencies); with $\alpha > 0$ it is the posterior
    mean of each row under a symmetric $\mathrm{Dirichlet}(\alpha, \dots, \alpha)$ prior,
    which is conjugate to the counts just as the Beta is to the coin. A row whose parent
    configuration never occurs in the data ($N_j = 0$) has no maximum likelihood
    estimate; it is set uniform (what any $\alpha > 0$ gives).
    """
    if not isinstance(net, BayesianNetwork):
        raise TypeError(f"net must be a BayesianNetwork, got {type(net).__name__}")
    alpha = check_number("pseudo_count", pseudo_count, nonnegative=True)
    net._check_assignments(data, "data")
    nodes = []
    for name in net.names:
        counts = cpt_counts(net, data, name) + alpha
        total = counts.sum(-1, keepdim=True)
        cpt = torch.where(total > 0, counts / total.clamp_min(1e-300),
                          torch.full_like(counts, 1.0 / net.card[name]))
        nodes.append(Node(name, net.states[name], net.parents[name], cpt))
    return BayesianNetwork(nodes)


# ------------------------------------------------------------- the coin (Beta-Bernoulli)

def _check_beta(a, b) -> tuple[float, float]:
    return check_number("a", a, positive=True), check_number("b", b, positive=True)


def beta_posterior(a: float, b: float, heads: int, tails: int) -> tuple[float, float]:
    r"""Conjugate update: prior $\mathrm{Beta}(a, b)$ and $h$ heads, $t$ tails give the
    posterior $\mathrm{Beta}(a + h, b + t)$, because
    $\theta^{a-1}(1-\theta)^{b-1} \cdot \theta^h (1-\theta)^t = \theta^{a+h-1}(1-\theta)^{b+t-1}$."""
    a, b = _check_beta(a, b)
    heads = check_int("heads", heads, min_value=0)
    tails = check_int("tails", tails, min_value=0)
    return a + heads, b + tails


def beta_log_density(theta: Tensor, a: float, b: float) -> Tensor:
    r"""$\log \mathrm{Beta}(\theta; a, b) = (a-1)\log\theta + (b-1)\log(1-\theta) - \log B(a, b)$,
    $\log B(a, b) = \log\Gamma(a) + \log\Gamma(b) - \log\Gamma(a+b)$; ``theta`` in (0, 1)."""
    a, b = _check_beta(a, b)
    check_tensor("theta", theta, floating=True)
    if theta.numel() and not bool(((theta > 0) & (theta < 1)).all()):
        raise ValueError(f"theta must lie strictly between 0 and 1, got values in "
                         f"[{theta.min().item():.6g}, {theta.max().item():.6g}]")
    log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return (a - 1) * torch.log(theta) + (b - 1) * torch.log1p(-theta) - log_b


def beta_summary(a: float, b: float, level: float = 0.95) -> dict[str, float]:
    r"""Mean $a/(a+b)$, median, standard deviation $\sqrt{ab / ((a+b)^2 (a+b+1))}$ and the
    central ``level`` interval of $\mathrm{Beta}(a, b)$. Quantiles invert the regularised
    incomplete beta function (``scipy.special.betaincinv``)."""
    from scipy.special import betaincinv

    a, b = _check_beta(a, b)
    level = check_number("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1 - level) / 2
    return {"mean": a / (a + b),
            "median": float(betaincinv(a, b, 0.5)),
            "sd": math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))),
            "lo": float(betaincinv(a, b, tail)),
            "hi": float(betaincinv(a, b, 1 - tail))}


def coin_logit_energy(phi: Tensor, a: float, b: float, heads: int, tails: int,
                      jacobian: bool = True) -> Tensor:
    r"""Energy of the coin's posterior in logit space, $\theta = \sigma(\varphi)$.

    $E(\varphi) = -\log p(\theta) - \log p(\text{data} \mid \theta)
    - \log\left|\frac{d\theta}{d\varphi}\right|$ with
    $\frac{d\theta}{d\varphi} = \theta(1-\theta)$, which simplifies (up to a constant) to
    $E(\varphi) = -(a + h)\log\sigma(\varphi) - (b + t)\log\sigma(-\varphi)$.
    ``phi`` (B, 1); returns (B,). Samples of $\varphi$ mapped through $\sigma$ are then
    samples of $\mathrm{Beta}(a + h, b + t)$. ``jacobian=False`` leaves out the last term
    (a mistake, kept to show what it costs: $\theta$ then follows
    $\mathrm{Beta}(a + h - 1, b + t - 1)$).
    """
    a, b = _check_beta(a, b)
    heads = check_int("heads", heads, min_value=0)
    tails = check_int("tails", tails, min_value=0)
    check_tensor("phi", phi, ndim=2, last_dim=1, floating=True)
    log_s = torch.nn.functional.logsigmoid(phi[:, 0])                # log theta
    log_1ms = torch.nn.functional.logsigmoid(-phi[:, 0])             # log (1 - theta)
    energy_prior = -(a - 1) * log_s - (b - 1) * log_1ms             # -log p(theta) + const
    energy_data = -heads * log_s - tails * log_1ms                  # -log p(data | theta)
    energy_jacobian = -(log_s + log_1ms)                            # -log theta (1 - theta)
    return energy_prior + energy_data + (energy_jacobian if jacobian else 0.0)
