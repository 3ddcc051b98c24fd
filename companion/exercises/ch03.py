"""Checkers for the exercises of chapter 3, Bayesian networks.

Every checker compares the reader's answer with an independent computation: enumeration
of the joint table, a Monte Carlo estimate that does not assume the result, a sum of
matrix powers, or the companion's own implementation on fresh random networks.
"""
from __future__ import annotations


import numpy as np
import torch

from .. import bayesnet as bn
from ._core import (Mistake, Wrong, close, custom_exercise, function_exercise, mistake_message,
                    value_exercise)

SEC_ELIMINATION = "Variable elimination"
SEC_DSEP = "Reading independences off the graph"
SEC_ESS = "What a chain is worth: autocorrelation and effective sample size"
SEC_DETERMINISTIC = "When Gibbs sampling fails: deterministic nodes"
SEC_LW = "Likelihood weighting"
SEC_PRIOR = "How the prior and the data combine"
SEC_LEARNING = "Learning the tables from data"

FT = ("F", "T")


def _u(gen: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


# ------------------------------------------------------------------- 03-wet-marginal
def _sprinkler_with(c, s, r, w) -> bn.BayesianNetwork:
    """The sprinkler graph with P(C=T) = c, P(S=T | C) = s[C], P(R=T | C) = r[C],
    P(W=T | S, R) = w[S][R]."""
    row = lambda p: [1 - p, p]  # noqa: E731
    return bn.BayesianNetwork([
        bn.Node("Cloudy", FT, (), row(c)),
        bn.Node("Sprinkler", FT, ("Cloudy",), [row(s[0]), row(s[1])]),
        bn.Node("Rain", FT, ("Cloudy",), [row(r[0]), row(r[1])]),
        bn.Node("WetGrass", FT, ("Sprinkler", "Rain"),
                [[row(w[0][0]), row(w[0][1])], [row(w[1][0]), row(w[1][1])]]),
    ])


def _wet_cases(gen):
    return [(_u(gen), [_u(gen), _u(gen)], [_u(gen), _u(gen)],
             [[_u(gen), _u(gen)], [_u(gen), _u(gen)]]) for _ in range(6)]


def _wet_by_enumeration(c, s, r, w):
    return bn.enumeration(_sprinkler_with(c, s, r, w), "WetGrass").value({"WetGrass": "T"})


def _wet_independent(c, s, r, w):
    p_s = (1 - c) * s[0] + c * s[1]
    p_r = (1 - c) * r[0] + c * r[1]
    return sum((p_s if i else 1 - p_s) * (p_r if j else 1 - p_r) * w[i][j]
               for i in (0, 1) for j in (0, 1))


function_exercise(
    "03-wet-marginal", kind="derive", section=SEC_ELIMINATION,
    cases=_wet_cases, reference=_wet_by_enumeration, rtol=0.0, atol=1e-10,
    mistakes=[Mistake(
        "treating Sprinkler and Rain as independent",
        "P(s, r) is not P(s) P(r): both depend on Cloudy (a fork), so sum Cloudy out of "
        "P(c) P(s | c) P(r | c) for each (s, r) before multiplying by P(W = T | s, r).",
        _wet_independent)],
    hint="P(W=T) = sum_{s,r} tau(s, r) P(W=T | s, r) with tau(s, r) = sum_c P(c) P(s|c) P(r|c); "
         "P(S=F | c) = 1 - s[c].")


# ----------------------------------------------------------------- 03-dirichlet-mean
def _dirichlet_cases(gen):
    cases = []
    for k in (2, 3, 4):
        counts = torch.randint(0, 7, (k,), generator=gen).to(torch.float64)
        counts[int(torch.randint(k, (1,), generator=gen))] += 1          # at least one count
        alpha = 0.5 + 2.5 * torch.rand(k, generator=gen, dtype=torch.float64)
        cases.append((counts, alpha))
    return cases


def _posterior_mean_by_importance(counts, alpha, rng, n=400_000):
    r"""$\mathbb E[\theta \mid N]$ by self-normalised importance sampling: $\theta$ drawn
    from the prior $\mathrm{Dir}(\alpha)$, weighted by the likelihood $\prod_k \theta_k^{N_k}$.
    Returns the estimate and its standard error (delta method)."""
    theta = rng.dirichlet(alpha.numpy(), size=n)
    log_w = (counts.numpy() * np.log(np.clip(theta, 1e-300, None))).sum(1)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    mean = w @ theta
    se = np.sqrt(((w[:, None] * (theta - mean)) ** 2).sum(0))
    return torch.as_tensor(mean), torch.as_tensor(se)


_DIRICHLET_MISTAKES = [
    Mistake("the maximum-likelihood estimate (prior ignored)",
            "the prior adds alpha_k pseudo-counts to every cell: the posterior is "
            "Dir(alpha + N), not a point at N / sum(N).",
            lambda counts, alpha: counts / counts.sum()),
    Mistake("the posterior mode instead of the mean",
            "(N_k + alpha_k - 1) / (N + sum(alpha) - K) is the mode of Dir(alpha + N); "
            "the mean of Dir(beta) is beta_k / sum(beta).",
            lambda counts, alpha: (counts + alpha - 1) / (counts + alpha - 1).sum()),
]


def _dirichlet_checker(answer, gen):
    rng = np.random.default_rng(int(torch.randint(2**31 - 1, (1,), generator=gen)))
    for counts, alpha in _dirichlet_cases(gen):
        got = answer(counts.clone(), alpha.clone())
        mc, se = _posterior_mean_by_importance(counts, alpha, rng)
        tol = torch.clamp(5 * se, min=2e-3)
        diff = close(got, mc, rtol=0.0, atol=float(tol.max()))
        if diff is None:
            continue
        for m in _DIRICHLET_MISTAKES:
            if close(got, m.answer(counts, alpha), rtol=1e-9, atol=1e-12) is None:
                raise Wrong(mistake_message(m))
        raise Wrong(f"for counts {counts.tolist()} and alpha {[round(a, 3) for a in alpha.tolist()]}"
                    f", a Monte Carlo estimate of the posterior mean is "
                    f"{[round(v, 4) for v in mc.tolist()]} (within {float(tol.max()):.3f}); {diff}.")
    return None


custom_exercise("03-dirichlet-mean", kind="derive", section=SEC_LEARNING,
                checker=_dirichlet_checker, mistakes=_DIRICHLET_MISTAKES)


# ----------------------------------------------------------------- 03-two-state-iat
def _two_state_cases(gen):
    return [(_u(gen, 0.02, 0.9), _u(gen, 0.02, 0.9)) for _ in range(5)]


def _iat_by_matrix_powers(a, b):
    r"""$1 + 2\sum_{k \ge 1} \rho_k$ with $\rho_k = g^\top D K^k g / g^\top D g$, summed
    power by power until the terms vanish."""
    K = torch.tensor([[1 - a, a], [b, 1 - b]], dtype=torch.float64)
    pi = torch.tensor([b, a], dtype=torch.float64) / (a + b)
    g = torch.tensor([0.0, 1.0], dtype=torch.float64) - pi[1]
    var = pi @ (g * g)
    total, v = 1.0, g.clone()
    for _ in range(100_000):
        v = K @ v
        rho = float((pi * g) @ v / var)
        total += 2 * rho
        if abs(rho) < 1e-15:
            break
    return total


function_exercise(
    "03-two-state-iat", kind="derive", section=SEC_ESS,
    cases=_two_state_cases, reference=_iat_by_matrix_powers, rtol=1e-8, atol=1e-10,
    mistakes=[
        Mistake("summing the autocorrelations on one side only",
                "tau = 1 + 2 sum_{k>=1} rho_k: the lags -k and +k both count, hence the 2.",
                lambda a, b: 1 + (1 - a - b) / (a + b)),
        Mistake("counting the lag 0 twice",
                "rho_0 = 1 is the leading 1 of tau = 1 + 2 sum_{k>=1} rho_k; the sum in the "
                "2 sum starts at k = 1.",
                lambda a, b: 1 + 2 / (a + b)),
    ],
    hint="rho_k = lambda^k with lambda = 1 - a - b; sum the geometric series.")


# ---------------------------------------------------------------------- 03-eliminate
def _random_factor(gen, variables, cards):
    k = 1 + int(torch.randint(3, (1,), generator=gen))
    pick = sorted(torch.randperm(len(variables), generator=gen)[:k].tolist())
    vs = [variables[i] for i in pick]
    states = [tuple(f"{v.lower()}{j}" for j in range(cards[v])) for v in vs]
    table = torch.rand([cards[v] for v in vs], generator=gen, dtype=torch.float64)
    return bn.Factor(vs, states, table)


def _elimination_cases(gen):
    cases = []
    for _ in range(4):
        variables = ["A", "B", "C", "D"]
        cards = {v: 2 + int(torch.randint(2, (1,), generator=gen)) for v in variables}
        factors = [_random_factor(gen, variables, cards) for _ in range(4)]
        touching = [f for f in factors if "A" in f.variables]
        while len(touching) < 2:                       # A in at least two factors
            factors.append(_random_factor(gen, variables, cards))
            touching = [f for f in factors if "A" in f.variables]
        cases.append((factors, "A"))
    return cases


def _product(factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


def _sum_each_separately(factors, var):
    return ([f for f in factors if var not in f.variables]
            + [f.sum_out(var) for f in factors if var in f.variables])


_ELIMINATE_MISTAKES = [Mistake(
    "summing out of each factor separately",
    "sum_v f(v) g(v) is not (sum_v f(v)) (sum_v g(v)): multiply the factors that mention "
    "the variable first, then sum it out of their product, once.",
    _sum_each_separately)]


def _eliminate_checker(answer, gen):
    for factors, var in _elimination_cases(gen):
        got = answer(list(factors), var)
        if not isinstance(got, (list, tuple)) or not all(isinstance(f, bn.Factor) for f in got):
            raise Wrong("return a list of Factor objects")
        if any(var in f.variables for f in got):
            raise Wrong(f"a returned factor still mentions {var!r}: sum it out")
        truth = _product(factors).sum_out(var)       # brute force: the whole product, summed
        mine = _product(list(got)) if got else None
        if mine is None or sorted(mine.variables) != sorted(truth.variables):
            raise Wrong(f"the product of your factors should be over {sorted(truth.variables)}")
        if close(mine.permute(truth.variables).table, truth.table, rtol=1e-10, atol=1e-12) is None:
            n_rest = sum(var not in f.variables for f in factors)
            if len(got) > n_rest + 1:
                raise Wrong("the values are right, but you returned more factors than needed: "
                            "one new factor replaces all those that mention the variable")
            continue
        wrong = _product(_sum_each_separately(factors, var)).permute(truth.variables)
        if close(mine.permute(truth.variables).table, wrong.table, rtol=1e-10, atol=1e-12) is None:
            raise Wrong(mistake_message(_ELIMINATE_MISTAKES[0]))
        raise Wrong("the product of your factors differs from the product of the input "
                    f"factors with {var!r} summed out")
    return None


custom_exercise("03-eliminate", kind="code", section=SEC_ELIMINATION,
                checker=_eliminate_checker, mistakes=_ELIMINATE_MISTAKES)


# --------------------------------------------------------------------- 03-lw-weights
def _lw_cases(gen):
    cases = []
    for n_ev in (1, 2, 3):
        net = bn.random_network(7, max_parents=2, cards=(2, 3), generator=gen)
        names = [net.names[i] for i in torch.randperm(len(net.names), generator=gen)[:n_ev]]
        ev = {v: net.states[v][int(torch.randint(net.card[v], (1,), generator=gen))]
              for v in names}
        cases.append((net, net.sample(50, gen, evidence=ev), ev))
    return cases


function_exercise(
    "03-lw-weights", kind="code", section=SEC_LW,
    cases=_lw_cases, reference=bn.likelihood_log_weights, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("weighting by the whole joint",
                "the hidden variables were drawn from their own tables already; only the "
                "evidence variables, which were set and not drawn, enter the weight.",
                lambda net, x, ev: net.log_prob(x)),
        Mistake("clamping without weighting",
                "setting the evidence is not enough: each sample must be weighted by "
                "prod_{i in E} P(e_i | pa_i), or the answer is the prior, not the posterior.",
                lambda net, x, ev: torch.zeros(len(x), dtype=torch.float64)),
        Mistake("weighting by the hidden variables",
                "the weight is the probability of the evidence variables given their "
                "parents, not of the variables that were sampled.",
                lambda net, x, ev: net.log_prob(x) - bn.likelihood_log_weights(net, x, ev)),
    ],
    hint="log w = sum over the evidence variables e of log cpt[e][parents' states..., e's state], "
         "read row by row from x.")


# ------------------------------------------------------------------------- 03-dsep
def _dsep_cases(gen):
    cases = []
    for _ in range(3):
        net = bn.random_network(8, max_parents=3, cards=(2,), generator=gen)
        for _ in range(15):
            perm = torch.randperm(8, generator=gen).tolist()
            k = int(torch.randint(0, 4, (1,), generator=gen))
            cases.append((net, net.names[perm[0]], net.names[perm[1]],
                          [net.names[i] for i in perm[2:2 + k]]))
    asia = bn.asia()          # colliders whose descendants (xray, dysp) are observed
    cases += [(asia, "lung", "tub", ["xray"]), (asia, "tub", "smoke", ["dysp"]),
              (asia, "asia", "bronc", ["dysp"]), (asia, "lung", "tub", []),
              (asia, "asia", "smoke", ["either", "bronc"])]
    return cases


def _skeleton_separated(net, x, y, given):
    """Separation in the undirected graph with the observed variables removed: right for
    chains and forks, wrong for colliders (an observed collider connects its parents)."""
    seen, stack = {x}, [x]
    while stack:
        v = stack.pop()
        for w in set(net.parents[v]) | set(net.children[v]):
            if w not in seen and w not in given:
                seen.add(w)
                stack.append(w)
    return y not in seen


def _colliders_opened_only_by_themselves(net, x, y, given):
    """Every simple trail from x to y, each inner node checked on its own: a chain or fork
    blocks when observed, a collider is open only when it is itself observed."""
    given = set(given)
    nbrs = {v: set(net.parents[v]) | set(net.children[v]) for v in net.names}

    def active(path):
        for a, v, b in zip(path, path[1:], path[2:]):
            collider = a in net.parents[v] and b in net.parents[v]
            if collider != (v in given):
                return False
        return True

    def trails(path):
        if path[-1] == y:
            yield path
            return
        for w in nbrs[path[-1]] - set(path):
            yield from trails(path + [w])

    return not any(active(p) for p in trails([x]))


function_exercise(
    "03-dsep", kind="code", section=SEC_DSEP,
    cases=_dsep_cases, reference=lambda net, x, y, given: bn.d_separated(net, x, y, given),
    rtol=0.0, atol=0.0,
    mistakes=[
        Mistake("separation in the undirected graph",
                "d-separation is not ordinary graph separation: a collider a -> v <- b blocks "
                "the trail unless v or one of its descendants is observed, and observing it "
                "opens the trail (explaining away).",
                _skeleton_separated),
        Mistake("ignoring the descendants of a collider",
                "a collider is also opened when one of its descendants is observed: seeing "
                "an effect of v tells about v.",
                _colliders_opened_only_by_themselves),
    ],
    hint="return True when every trail from x to y is blocked given `given`; one way is the "
         "moral graph of the ancestors of {x, y} and `given`.")


# ---------------------------------------------------------------- 03-gibbs-sweeps
GIBBS_EPS, GIBBS_SE = 1e-3, 0.01
ASIA_EVIDENCE = {"xray": "yes", "dysp": "yes"}


def _asia_p_tau(eps: float) -> tuple[float, float]:
    """Exact P(lung = yes | evidence) and the exact autocorrelation time of its indicator
    along the Gibbs chain of the noisy-OR Asia network."""
    net = bn.asia(noise=eps)
    states, K, pi = bn.gibbs_sweep_matrix(net, ASIA_EVIDENCE)
    f = (states[:, net.index("lung")] == net.state_index("lung", "yes")).double()
    return float(pi @ f), bn.exact_iat(K, pi, f)


def _sweeps_needed() -> float:
    p, tau = _asia_p_tau(GIBBS_EPS)
    return tau * p * (1 - p) / GIBBS_SE**2


value_exercise(
    "03-gibbs-sweeps", kind="explore", section=SEC_DETERMINISTIC,
    expected=_sweeps_needed, rtol=0.1,
    mistakes=[Mistake("treating the chain's samples as independent",
                      "the variance of a chain's mean is tau p (1 - p) / N, not p (1 - p) / N: "
                      "multiply by the autocorrelation time read off the slider.",
                      2368.0)],        # p (1 - p) / 0.01^2 with p = 0.615 at eps = 1e-3
    hint="the standard error of the mean of N sweeps is sqrt(tau p (1 - p) / N); solve for N.",
    show=lambda v: f"about {v:,.0f} sweeps.")


# ---------------------------------------------------------------- 03-prior-strength
PRIOR_MEAN, HEADS, FLIPS = 0.3, 35, 50
PRIOR_SLIDER = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def _prior_wins(strength: float) -> bool:
    """The posterior mean is closer to the prior mean than to the sample frequency."""
    a, b = bn.beta_posterior(strength * PRIOR_MEAN, strength * (1 - PRIOR_MEAN), HEADS,
                             FLIPS - HEADS)
    mean = a / (a + b)
    return abs(mean - PRIOR_MEAN) < abs(mean - HEADS / FLIPS)


def _crossing() -> tuple[float, float]:
    """The first slider value at which the prior wins, and the exact threshold (bisection
    between it and the slider value before it)."""
    first = next(v for v in PRIOR_SLIDER if _prior_wins(v))
    lo, hi = PRIOR_SLIDER[PRIOR_SLIDER.index(first) - 1], float(first)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if _prior_wins(mid) else (mid, hi)
    return first, hi


def _prior_checker(answer, gen):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise Wrong("type a number: the value of a + b on the slider") from None
    first, threshold = _crossing()
    if threshold - 1e-6 <= value <= first:
        return (f"on the slider the first such value is {first:g}; exactly, the prior wins "
                f"for every a + b > {threshold:.4g}.")
    if value < threshold:
        raise Wrong(f"at a + b = {value:g} the posterior mean is still closer to the sample "
                    "frequency: move the slider further right.")
    raise Wrong(f"at a + b = {value:g} the prior wins, but it already does at a smaller "
                "value on the slider.")


custom_exercise("03-prior-strength", kind="explore", section=SEC_PRIOR,
                checker=_prior_checker, answer_type="value")
