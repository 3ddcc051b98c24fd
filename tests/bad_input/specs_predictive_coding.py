"""Bad-input specs for chapter 5's module, companion.predictive_coding."""
from __future__ import annotations

import numpy as np
import torch

from companion import predictive_coding as pc
from framework import exempt, spec

F64 = torch.float64


def g():
    return torch.Generator().manual_seed(0)


def data(*shape, dtype=F64):
    return torch.randn(*shape, generator=g(), dtype=dtype)


def bogacz():
    return pc.GaussianModel()                     # g(psi) = psi^2: quadrature


def linear():
    return pc.GaussianModel(prior_mean=1.0, prior_var=2.0, sensory_var=0.5, a=1.5, b=0.0)


def grid():
    return torch.linspace(-5.0, 11.0, 801, dtype=F64)


def discrete():
    return pc.DiscreteModel(prior=torch.tensor([0.5, 0.3, 0.2], dtype=F64),
                            likelihood=torch.tensor([[0.7, 0.3], [0.4, 0.6], [0.1, 0.9]], dtype=F64))


def network():
    return pc.PCNetwork([4, 5, 3], generator=g())


def batch():
    return torch.rand(6, 4, generator=g()), torch.rand(6, 3, generator=g())


def state():
    x, y = batch()
    return network().infer(x, y, n_iters=3)


exempt("predictive_coding.FreeEnergyTerms", "a result type that the models' terms() build")
exempt("predictive_coding.PCState", "a result type that PCNetwork.infer builds")

# Elementwise arguments: any shape, an empty one included.
ANY = {"extra_dim", "fewer_dims", "empty"}


# ----------------------------------------------------------------------------- free energy
@spec("predictive_coding.gaussian_entropy", allow={"v": ANY})
def _():
    return pc.gaussian_entropy, dict(v=torch.tensor([0.5, 1.0, 2.0], dtype=F64))


@spec("predictive_coding.gaussian_entropy")
def _():
    return pc.gaussian_entropy, dict(v=0.5)


@spec("predictive_coding.GaussianModel")
def _():
    return pc.GaussianModel, dict(prior_mean=3.0, prior_var=1.0, sensory_var=1.0, a=0.5, b=1.0)


for _method in ("g", "dg"):
    spec(f"predictive_coding.GaussianModel.{_method}", allow={"psi": ANY})(
        lambda _m=_method: (getattr(bogacz(), _m), dict(psi=data(4))))

for _method in ("prediction_errors", "energy"):
    spec(f"predictive_coding.GaussianModel.{_method}", allow={"psi": ANY})(
        lambda _m=_method: (getattr(bogacz(), _m), dict(s=2.0, psi=data(4))))


# energy_gradient is the vector field of perception's gradient descent; the exercise on the
# step size and its solution in chapter 5 run many step sizes at once, and the runs that
# diverge hold infinities and NaN, which keep their gradient NaN (documented).
@spec("predictive_coding.GaussianModel.energy_gradient", allow={"psi": ANY | {"nan", "inf"}})
def _():
    return bogacz().energy_gradient, dict(s=2.0, psi=data(4))


@spec("predictive_coding.GaussianModel.energy", allow={"psi": ANY})   # s a tensor too
def _():
    return bogacz().energy, dict(s=torch.tensor(2.0, dtype=F64), psi=data(4))


@spec("predictive_coding.GaussianModel.default_grid")
def _():
    return bogacz().default_grid, dict(n=201)


for _method in ("expected_energy", "free_energy"):
    spec(f"predictive_coding.GaussianModel.{_method}")(
        lambda _m=_method: (getattr(bogacz(), _m), dict(s=2.0, m=1.5, v=0.3)))
    # m and v broadcast against each other: one more dimension, or a single value, is valid
    spec(f"predictive_coding.GaussianModel.{_method}",
         allow={"m": {"extra_dim", "fewer_dims"}, "v": {"extra_dim", "fewer_dims"}})(
        lambda _m=_method: (getattr(bogacz(), _m),
                            dict(s=2.0, m=data(3), v=torch.tensor([0.2, 0.5, 1.0], dtype=F64))))


@spec("predictive_coding.GaussianModel.log_evidence")
def _():
    return bogacz().log_evidence, dict(s=2.0, grid=grid())


@spec("predictive_coding.GaussianModel.log_evidence")
def _():
    return linear().log_evidence, dict(s=2.0)


@spec("predictive_coding.GaussianModel.posterior")
def _():
    return linear().posterior, dict(s=2.0)


@spec("predictive_coding.GaussianModel.posterior_on_grid")
def _():
    return bogacz().posterior_on_grid, dict(s=2.0, grid=grid())


for _method in ("divergence", "terms"):
    spec(f"predictive_coding.GaussianModel.{_method}")(
        lambda _m=_method: (getattr(bogacz(), _m), dict(s=2.0, m=1.5, v=0.3, grid=grid())))
    spec(f"predictive_coding.GaussianModel.{_method}")(
        lambda _m=_method: (getattr(linear(), _m), dict(s=2.0, m=1.5, v=0.3)))
    spec(f"predictive_coding.GaussianModel.{_method}",
         allow={"m": {"extra_dim", "fewer_dims"}, "v": {"extra_dim", "fewer_dims"}})(
        lambda _m=_method: (getattr(bogacz(), _m),
                            dict(s=2.0, m=data(3), v=torch.tensor([0.2, 0.5, 1.0], dtype=F64),
                                 grid=grid())))


@spec("predictive_coding.GaussianModel.perceive", allow={"phi0": ANY})
def _():
    return bogacz().perceive, dict(s=2.0, phi0=data(3), n_steps=5, dt=0.01,
                                   return_trajectory=True)


@spec("predictive_coding.GaussianModel.perceive_with_errors", allow={"phi0": ANY})
def _():
    return bogacz().perceive_with_errors, dict(s=2.0, phi0=data(3), n_steps=5, dt=0.01)


@spec("predictive_coding.DiscreteModel")
def _():
    return pc.DiscreteModel, dict(prior=torch.tensor([0.5, 0.3, 0.2], dtype=F64),
                                  likelihood=torch.tensor([[0.7, 0.3], [0.4, 0.6], [0.1, 0.9]],
                                                          dtype=F64))


for _method in ("log_joint", "posterior"):
    spec(f"predictive_coding.DiscreteModel.{_method}")(
        lambda _m=_method: (getattr(discrete(), _m), dict(s=np.int64(1))))


# q (K,) is one recognition distribution; a batch of them (..., K) is as valid.
@spec("predictive_coding.DiscreteModel.terms", allow={"q": {"extra_dim"}})
def _():
    return discrete().terms, dict(s=1, q=torch.tensor([0.2, 0.3, 0.5], dtype=F64))


# ----------------------------------------------------------------------------- the network
@spec("predictive_coding.PCNetwork")
def _():
    return pc.PCNetwork, dict(sizes=[4, np.int64(5), 3], activation="sigmoid", generator=g())


# forward and feedforward map a batch to a batch: an empty batch to an empty one.
for _method in ("forward", "feedforward"):
    spec(f"predictive_coding.PCNetwork.{_method}", allow={"x": {"empty"}})(
        lambda _m=_method: (getattr(network(), _m), dict(x=batch()[0])))


@spec("predictive_coding.PCNetwork.errors")
def _():
    x, _ = batch()
    return network().errors, dict(values=network().feedforward(x))


@spec("predictive_coding.PCNetwork.energy")
def _():
    x, y = batch()
    values = network().feedforward(x)
    return network().energy, dict(values=values[:-1] + [y], output_precision=0.5)


@spec("predictive_coding.PCNetwork.value_gradients")
def _():
    s = state()
    return network().value_gradients, dict(errors=s.errors, pre=s.pre, output_precision=0.5)


@spec("predictive_coding.PCNetwork.infer")
def _():
    x, y = batch()
    return network().infer, dict(x=x, target=y, n_iters=3, step_size=0.1, fixed_predictions=False,
                                 output_precision=0.5)


@spec("predictive_coding.PCNetwork.weight_updates")
def _():
    return network().weight_updates, dict(state=state())


@spec("predictive_coding.PCNetwork.set_gradients")
def _():
    net = network()
    return net.set_gradients, dict(updates=net.weight_updates(state()))


@spec("predictive_coding.mse_loss")
def _():
    x, y = batch()
    return pc.mse_loss, dict(output=network()(x), target=y)


@spec("predictive_coding.nudged_target")
def _():
    x, y = batch()
    return pc.nudged_target, dict(output=network()(x), target=y, gamma=0.1)


@spec("predictive_coding.backprop_gradients")
def _():
    x, y = batch()
    return pc.backprop_gradients, dict(net=network(), x=x, target=y)


@spec("predictive_coding.cosine_similarity")
def _():
    return pc.cosine_similarity, dict(u=data(3, 2), v=data(3, 2) + 1)


@spec("predictive_coding.alignment")
def _():
    x, y = batch()
    net = network()
    return pc.alignment, dict(updates=net.weight_updates(state()),
                              gradients=pc.backprop_gradients(net, x, y), scale=2.0)


@spec("predictive_coding.pc_train_step")
def _():
    x, y = batch()
    net = network()
    return pc.pc_train_step, dict(net=net, optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                                  x=x, target=y, n_iters=3, step_size=0.1, fixed_predictions=True)


# ----------------------------------------------------------------------------- active inference
@spec("predictive_coding.heat_source", allow={"x": ANY})
def _():
    return pc.heat_source, dict(x=data(5), peak=20.0)


@spec("predictive_coding.ThermalAgent")
def _():
    return pc.ThermalAgent, dict(preferred=4.0, prior_var=1.0, sensory_var=0.25,
                                 perception_rate=1.0, action_rate=0.05, learning_rate=0.1)


def agent():
    return pc.ThermalAgent()


# s and mu broadcast against each other: one more dimension, or a single value, is valid.
BROADCAST = {"s": {"extra_dim", "fewer_dims"}, "mu": {"extra_dim", "fewer_dims"},
             "prior_mean": {"extra_dim", "fewer_dims"}}

for _method in ("prediction_errors", "free_energy"):
    spec(f"predictive_coding.ThermalAgent.{_method}", allow=BROADCAST)(
        lambda _m=_method: (getattr(agent(), _m), dict(s=data(4) + 4, mu=data(4) + 4)))
    spec(f"predictive_coding.ThermalAgent.{_method}", allow=BROADCAST)(
        lambda _m=_method: (getattr(agent(), _m), dict(s=data(4) + 4, mu=data(4) + 4,
                                                       prior_mean=data(4) + 3)))
    spec(f"predictive_coding.ThermalAgent.{_method}", allow=BROADCAST)(
        lambda _m=_method: (getattr(agent(), _m), dict(s=data(4) + 4, mu=data(4) + 4,
                                                       prior_mean=3.5)))


@spec("predictive_coding.ThermalAgent.surprise", allow={"s": ANY})
def _():
    return agent().surprise, dict(s=data(4) + 4)


@spec("predictive_coding.ThermalAgent.surprise", allow=BROADCAST)
def _():
    return agent().surprise, dict(s=data(4) + 4, prior_mean=data(4) + 3)


@spec("predictive_coding.active_inference")
def _():
    return pc.active_inference, dict(agent=agent(), x0=data(4), n_steps=5, dt=0.01,
                                     mu0=data(4) + 4, peak=20.0, noise=data(5, 4))


# x0 holds one agent per entry, any shape: mu0 and the noise follow it.
@spec("predictive_coding.active_inference", allow={"x0": ANY})
def _():
    return pc.active_inference, dict(agent=agent(), x0=data(4), n_steps=5, generator=g())
