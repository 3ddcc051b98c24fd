"""Bad-input specs for chapters 2 and 9's module, companion.boltzmann."""
from __future__ import annotations

import numpy as np
import torch

from companion import boltzmann as bz
from framework import spec

F64 = torch.float64


def g():
    return torch.Generator().manual_seed(0)


def rbm():
    r = bz.RBM(4, 3, init_std=0.5, generator=g()).double()
    with torch.no_grad():
        r.a.copy_(torch.randn(4, generator=g(), dtype=F64))
        r.b.copy_(torch.randn(3, generator=g(), dtype=F64))
    return r


def dbm():
    return bz.DBM(4, 3, 2, init_std=0.5, generator=g()).double()


def bm():
    return bz.BoltzmannMachine(3, 2, init_std=0.5, generator=g()).double()


def binary(n, d):
    return (torch.rand(n, d, generator=g(), dtype=F64) < 0.5).double()


def probs(n, d):
    return torch.rand(n, d, generator=g(), dtype=F64)


def betas():
    return bz.ais_betas(6)


# A batch (B, D) may be empty where the result is one value (or row) per row of the batch;
# an empty batch is refused where the result is a mean over it.
ROWS = {"empty"}


# ----------------------------------------------------------------------------- states
@spec("boltzmann.all_binary_states")
def _():
    return bz.all_binary_states, dict(n=np.int64(3), dtype=F64, device=None)


# ----------------------------------------------------------------------------- RBM
@spec("boltzmann.RBM")
def _():
    return bz.RBM, dict(n_visible=4, n_hidden=np.int64(3), init_std=0.1, generator=g())


@spec("boltzmann.RBM.init_visible_bias_")
def _():
    return rbm().init_visible_bias_, dict(v=binary(5, 4))


@spec("boltzmann.RBM.energy")   # one empty batch against a full one: mismatched
def _():
    return rbm().energy, dict(v=binary(5, 4), h=binary(5, 3))


for _method in ("free_energy", "forward", "p_h_given_v", "log_prob"):
    spec(f"boltzmann.RBM.{_method}", allow={"v": ROWS})(
        lambda _m=_method: (getattr(rbm(), _m), dict(v=binary(5, 4))))


@spec("boltzmann.RBM.p_v_given_h", allow={"h": ROWS})
def _():
    return rbm().p_v_given_h, dict(h=binary(5, 3))


@spec("boltzmann.RBM.sample_h", allow={"v": ROWS})
def _():
    return rbm().sample_h, dict(v=binary(5, 4), generator=g())


@spec("boltzmann.RBM.sample_v", allow={"h": ROWS})
def _():
    return rbm().sample_v, dict(h=binary(5, 3), generator=g())


@spec("boltzmann.RBM.gibbs", allow={"v": ROWS})
def _():
    return rbm().gibbs, dict(v=binary(5, 4), k=np.int64(2), generator=g())


@spec("boltzmann.RBM.gibbs", allow={"v": ROWS})
def _():                                       # zero steps: v is still checked
    return rbm().gibbs, dict(v=binary(5, 4), k=0, generator=g())


@spec("boltzmann.RBM.cd_loss")
def _():
    return rbm().cd_loss, dict(v_data=binary(5, 4), k=1, generator=g())


@spec("boltzmann.RBM.pcd_loss")
def _():
    return rbm().pcd_loss, dict(v_data=binary(5, 4), chains=bz.PersistentChains(binary(6, 4)),
                                k=np.int64(2), generator=g())


@spec("boltzmann.RBM.reconstruction_error")
def _():
    return rbm().reconstruction_error, dict(v=binary(5, 4))


@spec("boltzmann.RBM.sample_exact")
def _():
    return rbm().sample_exact, dict(n=np.int64(6), generator=g())


@spec("boltzmann.RBM.log_partition")
def _():
    return rbm().log_partition, dict()


@spec("boltzmann.gibbs_transition_matrix")
def _():
    return bz.gibbs_transition_matrix, dict(rbm=rbm())


# ----------------------------------------------------------------------------- Boltzmann machine
@spec("boltzmann.BoltzmannMachine")
def _():
    return bz.BoltzmannMachine, dict(n_visible=3, n_hidden=np.int64(2), init_std=0.1,
                                     generator=g())


@spec("boltzmann.BoltzmannMachine", skip=("generator",))   # no hidden units at all
def _():
    return bz.BoltzmannMachine, dict(n_visible=3, n_hidden=0, init_std=0.1)


@spec("boltzmann.BoltzmannMachine.energy", allow={"s": ROWS})
def _():
    return bm().energy, dict(s=binary(6, 5))


@spec("boltzmann.BoltzmannMachine.log_prob")   # refuses an empty batch, naming v
def _():
    return bm().log_prob, dict(v=binary(6, 3))


@spec("boltzmann.BoltzmannMachine.correlations")
def _():
    return bm().correlations, dict(v=binary(6, 3))


# ----------------------------------------------------------------------------- persistent chains
@spec("boltzmann.PersistentChains")
def _():
    return bz.PersistentChains, dict(state=binary(5, 4))


@spec("boltzmann.PersistentChains.update")
def _():
    return bz.PersistentChains(binary(5, 4)).update, dict(state=binary(5, 4), k=np.int64(3))


# ----------------------------------------------------------------------------- independent units
@spec("boltzmann.marginal_logits")
def _():
    return bz.marginal_logits, dict(v=binary(8, 4), pseudocount=0.5)


@spec("boltzmann.independent_log_prob", allow={"v": ROWS})
def _():
    return bz.independent_log_prob, dict(v=binary(5, 4),
                                         logits=torch.randn(4, generator=g(), dtype=F64))


# ----------------------------------------------------------------------------- AIS
@spec("boltzmann.ais_betas")
def _():
    return bz.ais_betas, dict(n_steps=np.int64(15), dtype=F64)


def _c():
    return torch.randn(4, generator=g(), dtype=F64)


# one run per row: no rows, no runs, no weights (an empty result, not an error)
@spec("boltzmann.ais_log_weights", allow={"v0": ROWS})
def _():
    return bz.ais_log_weights, dict(rbm=rbm(), betas=betas(), v0=binary(5, 4), base_logits=_c(),
                                    generator=g())


@spec("boltzmann.reverse_ais_log_weights", allow={"v_start": ROWS})
def _():
    return bz.reverse_ais_log_weights, dict(rbm=rbm(), betas=betas(), v_start=binary(5, 4),
                                            base_logits=_c(), generator=g())


@spec("boltzmann.ais_log_partition")
def _():
    return bz.ais_log_partition, dict(rbm=rbm(), betas=betas(), n_runs=np.int64(5),
                                      base_logits=_c(), generator=g())


@spec("boltzmann.reverse_ais_log_partition")
def _():
    return bz.reverse_ais_log_partition, dict(rbm=rbm(), betas=betas(), v_model=binary(5, 4),
                                              base_logits=_c(), generator=g())


@spec("boltzmann.raise_log_prob", allow={"v": ROWS})
def _():
    return bz.raise_log_prob, dict(rbm=rbm(), betas=betas(), v=binary(3, 4), n_runs=np.int64(2),
                                   base_logits=_c(), generator=g())


@spec("boltzmann.AnnealingPath", allow={"v": ROWS})   # v: only its dtype and device are used
def _():
    return bz.AnnealingPath, dict(rbm=rbm(), c=_c(), v=binary(5, 4))


def _path():
    return bz.AnnealingPath(rbm(), _c(), binary(5, 4))


@spec("boltzmann.AnnealingPath.hidden_input", allow={"v": ROWS})
def _():
    return _path().hidden_input, dict(v=binary(5, 4))


@spec("boltzmann.AnnealingPath.log_f_ratio")
def _():
    v = binary(5, 4)
    path = _path()
    return path.log_f_ratio, dict(v=v, x=path.hidden_input(v), beta_to=0.5, beta_from=0.25)


@spec("boltzmann.AnnealingPath.gibbs", allow={"x": ROWS})
def _():
    path = _path()
    return path.gibbs, dict(x=path.hidden_input(binary(5, 4)), beta=0.5, generator=g())


@spec("boltzmann.AISResult.interval")
def _():
    result = bz.AISResult(log_z=3.0, log_z_base=2.0,
                          log_weights=torch.randn(6, generator=g(), dtype=F64))
    return result.interval, dict(n_std=2.0)


# ----------------------------------------------------------------------------- DBM
@spec("boltzmann.DBM")
def _():
    return bz.DBM, dict(n_visible=4, n_hidden1=np.int64(3), n_hidden2=2, init_std=0.1,
                        generator=g())


@spec("boltzmann.DBM.init_visible_bias_")
def _():
    return dbm().init_visible_bias_, dict(v=binary(5, 4))


@spec("boltzmann.DBM.energy")   # one empty batch against full ones: mismatched
def _():
    return dbm().energy, dict(v=binary(5, 4), h1=binary(5, 3), h2=binary(5, 2))


@spec("boltzmann.DBM.p_h1")
def _():
    return dbm().p_h1, dict(v=binary(5, 4), h2=binary(5, 2))


for _method in ("p_v", "p_h2"):
    spec(f"boltzmann.DBM.{_method}", allow={"h1": ROWS})(
        lambda _m=_method: (getattr(dbm(), _m), dict(h1=binary(5, 3))))


@spec("boltzmann.DBM.gibbs", skip=("state",))   # a tuple of tensors: see test_boltzmann.py
def _():
    return dbm().gibbs, dict(state=(binary(5, 4), binary(5, 3), binary(5, 2)), k=np.int64(2),
                             generator=g())


@spec("boltzmann.DBM.init_chains")
def _():
    return dbm().init_chains, dict(n=np.int64(5), generator=g(), v=binary(5, 4))


@spec("boltzmann.DBM.mean_field", allow={"v": ROWS})
def _():
    return dbm().mean_field, dict(v=probs(5, 4), n_steps=np.int64(3), history=True)


@spec("boltzmann.DBM.mean_field_residual")
def _():
    d, v = dbm(), probs(5, 4)
    mu1, mu2 = d.mean_field(v, 3)
    return d.mean_field_residual, dict(v=v, mu1=mu1, mu2=mu2)


@spec("boltzmann.DBM.variational_bound")
def _():
    d, v = dbm(), probs(5, 4)
    mu1, mu2 = d.mean_field(v, 3)
    return d.variational_bound, dict(v=v, mu1=mu1, mu2=mu2)


@spec("boltzmann.DBM.loss")
def _():
    d = dbm()
    return d.loss, dict(v_data=binary(5, 4), chains=d.init_chains(6, g()),
                        n_mean_field=np.int64(3), k=np.int64(2), generator=g())


for _method in ("free_energy", "log_prob"):
    spec(f"boltzmann.DBM.{_method}", allow={"v": ROWS})(
        lambda _m=_method: (getattr(dbm(), _m), dict(v=binary(5, 4))))

for _method in ("as_rbm", "log_partition"):
    spec(f"boltzmann.DBM.{_method}")(lambda _m=_method: (getattr(dbm(), _m), dict()))
