"""Bad-input specs for chapter 6's module, companion.helmholtz."""
from __future__ import annotations

import numpy as np
import torch

from companion import data as cdata
from companion import helmholtz as hz
from framework import spec

F64 = torch.float64


def g():
    return torch.Generator().manual_seed(0)


def machine():
    return hz.HelmholtzMachine((6, 3, 2), init_std=0.5, generator=g()).double()


def visible(n=4):
    return (torch.rand(n, 6, generator=g()) < 0.5).double()


def states(n=4):
    return machine().generate(n, g())


def bars():
    images, probs = cdata.bars_distribution(2, p_bar=0.3)
    return images.reshape(len(images), -1).double(), probs.double()


# A batch of visible vectors v (B, n_0) may be empty where the result is one value per row.
ROWS = {"v": {"empty"}}


# ----------------------------------------------------------------------------- layers, machine
@spec("helmholtz.SigmoidLayer")
def _():
    return hz.SigmoidLayer, dict(n_in=3, n_out=np.int64(2), init_std=0.5, generator=g())


for _method in ("logits", "prob"):
    spec(f"helmholtz.SigmoidLayer.{_method}", allow={"x": {"empty"}})(
        lambda _m=_method: (getattr(hz.SigmoidLayer(3, 2, init_std=0.5, generator=g()), _m),
                            dict(x=torch.rand(4, 3, generator=g()))))


@spec("helmholtz.SigmoidLayer.sample", allow={"x": {"empty"}})
def _():
    return hz.SigmoidLayer(3, 2, init_std=0.5).sample, dict(x=torch.rand(4, 3, generator=g()),
                                                            generator=g())


@spec("helmholtz.SigmoidLayer.log_prob")
def _():
    layer = hz.SigmoidLayer(3, 2, init_std=0.5, generator=g())
    return layer.log_prob, dict(y=(torch.rand(4, 2, generator=g()) < 0.5).float(),
                                x=torch.rand(4, 3, generator=g()))


@spec("helmholtz.HelmholtzMachine")
def _():
    return hz.HelmholtzMachine, dict(sizes=(6, np.int64(3), 2), init_std=0.1, generator=g())


@spec("helmholtz.HelmholtzMachine.init_visible_bias_")
def _():
    return machine().init_visible_bias_, dict(v=visible())


for _method in ("generate", "sample"):
    spec(f"helmholtz.HelmholtzMachine.{_method}")(
        lambda _m=_method: (getattr(machine(), _m), dict(n=5, generator=g())))


@spec("helmholtz.HelmholtzMachine.recognize", allow=ROWS)
def _():
    return machine().recognize, dict(v=visible(), generator=g())


for _method in ("log_marginal", "enumerate_hidden", "free_energy"):
    spec(f"helmholtz.HelmholtzMachine.{_method}", allow=ROWS)(
        lambda _m=_method: (getattr(machine(), _m), dict(v=visible())))

for _method in ("log_joint", "log_recognition"):
    spec(f"helmholtz.HelmholtzMachine.{_method}")(
        lambda _m=_method: (getattr(machine(), _m), dict(states=states())))

for _method in ("generative_parameters", "recognition_parameters"):
    spec(f"helmholtz.HelmholtzMachine.{_method}")(
        lambda _m=_method: (getattr(machine(), _m), dict()))


# ----------------------------------------------------------------------------- wake and sleep
@spec("helmholtz.wake_phase")
def _():
    return hz.wake_phase, dict(model=machine(), v=visible(), lr=0.1, generator=g())


@spec("helmholtz.sleep_phase")
def _():
    return hz.sleep_phase, dict(model=machine(), n=np.int64(5), lr=0.1, generator=g())


@spec("helmholtz.recognition_score")
def _():
    return hz.recognition_score, dict(model=machine(), states=states())


@spec("helmholtz.score_function_gradient", allow=ROWS)
def _():
    return hz.score_function_gradient, dict(model=machine(), v=visible(), generator=g(),
                                            baseline=1.5)


@spec("helmholtz.score_function_moments")
def _():
    images, probs = bars()
    model = hz.HelmholtzMachine((4, 2, 1), init_std=0.5, generator=g()).double()
    return hz.score_function_moments, dict(model=model, images=images, probs=probs,
                                           baselines=(0.0, 2.0))


@spec("helmholtz.kl_divergence")
def _():
    images, probs = bars()
    model = hz.HelmholtzMachine((4, 2, 1), init_std=0.5, generator=g())
    return hz.kl_divergence, dict(model=model, images=images, probs=probs)


# ----------------------------------------------------------------------------- hand-built machines
@spec("helmholtz.bars_machine")
def _():
    return hz.bars_machine, dict(size=2, p_bar=0.3, p_vertical=0.5, scale=20.0)


@spec("helmholtz.two_cause_machine")
def _():
    return hz.two_cause_machine, dict(prior_logit=-3.0, weight=10.0, bias=-8.0)


@spec("helmholtz.factorised_q")
def _():
    return hz.factorised_q, dict(marginals=torch.tensor([0.2, 0.7], dtype=F64))


@spec("helmholtz.factorised_fit")
def _():
    return hz.factorised_fit, dict(posterior=torch.tensor([0.1, 0.4, 0.3, 0.2], dtype=F64),
                                   kl="q||p", n_start=3, n_iter=50)
