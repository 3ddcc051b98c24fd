"""Bad-input specs for chapter 12's module, companion.modern_hopfield."""
from __future__ import annotations

import torch

from companion import modern_hopfield as mh
from framework import exempt, spec


def g():
    return torch.Generator().manual_seed(0)


def data(*shape):
    return torch.randn(*shape, generator=g(), dtype=torch.float64)


def spins(*shape):
    return torch.where(torch.rand(*shape, generator=g()) < 0.5, -1.0, 1.0).double()


exempt("modern_hopfield.Retrieval", "a result type (NamedTuple) returned by retrieve")
exempt("modern_hopfield.StorageCapacity", "a result type (NamedTuple) returned by storage_capacity")

# A batch of states xi (B, d) may also be one state (d,) or an empty batch (0, d); a batch z
# of logits (B, N) may have any number of leading dimensions.
STATES = {"xi": {"fewer_dims", "empty"}}


# ----------------------------------------------------------------------------- energy, update
@spec("modern_hopfield.lse", allow={"z": {"fewer_dims", "extra_dim", "empty"}})
def _():
    return mh.lse, dict(beta=2.0, z=data(4, 6))


for _name in ("energy", "softmax_weights", "update"):
    spec(f"modern_hopfield.{_name}", allow=STATES)(
        lambda _n=_name: (getattr(mh, _n), dict(xi=data(3, 5), patterns=data(7, 5), beta=1.5)))


@spec("modern_hopfield.cccp_bound", allow={"xi": {"empty"}, "xi_t": {"empty"}})
def _():
    return mh.cccp_bound, dict(xi=data(3, 5), xi_t=data(3, 5) + 1, patterns=data(7, 5), beta=1.5)


@spec("modern_hopfield.retrieve", allow=STATES)
def _():
    return mh.retrieve, dict(xi=data(3, 5), patterns=data(7, 5), beta=1.5, n_steps=None,
                             max_steps=20, tol=1e-6)


@spec("modern_hopfield.retrieve", allow=STATES)
def _():
    return mh.retrieve, dict(xi=data(3, 5), patterns=data(7, 5), beta=1.5, n_steps=3)


@spec("modern_hopfield.count_distinct")
def _():
    return mh.count_distinct, dict(points=data(6, 2), tol=1e-3)


@spec("modern_hopfield.circle_groups")
def _():
    return mh.circle_groups, dict(centres=torch.tensor([20.0, 120.0]), sizes=[3, 2], spacing=11.0,
                                  radius=2.0)


@spec("modern_hopfield.noisy_queries")
def _():
    return mh.noisy_queries, dict(patterns=data(10, 4), n_queries=5, generator=g(), noise=1.0)


# ----------------------------------------------------------------------------- one-step retrieval
@spec("modern_hopfield.separation", allow={"patterns": {"extra_dim"}})   # (K, N, d): K memories
def _():
    return mh.separation, dict(patterns=data(6, 3))


@spec("modern_hopfield.retrieval_error_bound", allow={"xi": {"fewer_dims"}})
def _():
    X = data(6, 3)
    return mh.retrieval_error_bound, dict(xi=X + 0.01, patterns=X, beta=2.0,
                                          index=torch.arange(6), fixed_point=X.clone())


@spec("modern_hopfield.retrieval_error_bound", allow=STATES)   # one state, or an empty batch
def _():
    X = data(6, 3)
    return mh.retrieval_error_bound, dict(xi=X[:2] + 0.01, patterns=X, beta=2.0, index=1)


@spec("modern_hopfield.fixed_point_error_bound")
def _():
    return mh.fixed_point_error_bound, dict(patterns=data(6, 3), beta=2.0)


@spec("modern_hopfield.lambert_w0")
def _():
    return mh.lambert_w0, dict(x=2.5)


@spec("modern_hopfield.storage_capacity")
def _():
    return mh.storage_capacity, dict(beta=1.0, K=3.0, d=20, p=0.001)


@spec("modern_hopfield.sphere_patterns")
def _():
    return mh.sphere_patterns, dict(n=5, d=3, radius=2.0, generator=g(), n_sets=None)


# ----------------------------------------------------------------------------- binary exponential DAM
@spec("modern_hopfield.exp_dam_energy", allow={"s": {"fewer_dims", "extra_dim", "empty"}})
def _():
    return mh.exp_dam_energy, dict(s=spins(4, 6), patterns=spins(5, 6))


@spec("modern_hopfield.exp_dam_flip_delta", allow={"s": {"fewer_dims", "extra_dim", "empty"}})
def _():
    return mh.exp_dam_flip_delta, dict(s=spins(4, 6), patterns=spins(5, 6))


@spec("modern_hopfield.exp_dam_update", allow={"s": {"fewer_dims", "extra_dim", "empty"}})
def _():
    return mh.exp_dam_update, dict(s=spins(4, 6), patterns=spins(5, 6), chunk=2)


@spec("modern_hopfield.exp_dam_unstable_bits")
def _():
    return mh.exp_dam_unstable_bits, dict(patterns=spins(8, 6), n_test=4, chunk=3)


# ----------------------------------------------------------------------------- layers
@spec("modern_hopfield.hopfield_attention",
      allow={"q": {"extra_dim", "empty"}, "k": {"extra_dim"}, "v": {"extra_dim"}})
def _():
    return mh.hopfield_attention, dict(q=data(2, 3, 4), k=data(2, 5, 4), v=data(2, 5, 6), beta=0.5,
                                       n_steps=2)


@spec("modern_hopfield.HopfieldLayer")
def _():
    return mh.HopfieldLayer, dict(query_dim=4, stored_dim=3, hopfield_dim=5, value_dim=2, beta=0.7,
                                  n_steps=2, generator=g())


@spec("modern_hopfield.HopfieldLayer.forward", allow={"R": {"empty"}})
def _():
    layer = mh.HopfieldLayer(4, 3, 5, generator=g()).double()
    return layer.forward, dict(R=data(2, 6, 4), Y=data(2, 7, 3))


@spec("modern_hopfield.HopfieldPooling")
def _():
    return mh.HopfieldPooling, dict(stored_dim=3, hopfield_dim=5, value_dim=2, n_queries=2,
                                    beta=0.7, generator=g())


@spec("modern_hopfield.HopfieldPooling.forward", allow={"Y": {"empty"}})
def _():
    return mh.HopfieldPooling(3, 5, generator=g()).double().forward, dict(Y=data(2, 7, 3))


@spec("modern_hopfield.BagClassifier")
def _():
    return mh.BagClassifier, dict(dim=3, hopfield_dim=4, beta=0.5, generator=g())


for _method in ("forward", "attention"):
    spec(f"modern_hopfield.BagClassifier.{_method}", allow={"Y": {"empty"}})(
        lambda _m=_method: (getattr(mh.BagClassifier(3, 4, generator=g()).double(), _m),
                            dict(Y=data(2, 7, 3))))


@spec("modern_hopfield.motif_bags")
def _():
    return mh.motif_bags, dict(n_bags=4, bag_size=5, motif=torch.ones(3), noise=0.5,
                               generator=g())
