"""Bad-input specs for chapter 13's module, companion.diffusion."""
from __future__ import annotations

import torch

from companion import diffusion as df
from framework import spec


def g():
    return torch.Generator().manual_seed(0)


def data(*shape):
    return torch.randn(*shape, generator=g())


def mixture():
    return df.GaussianMixture(weights=torch.tensor([0.3, 0.7]),
                              means=torch.tensor([[-1.0, 0.0], [1.0, 0.5]]),
                              stds=torch.tensor([0.5, 0.8]))


def schedule():
    return df.linear_schedule(10, 1e-3, 0.1)


# ----------------------------------------------------------------------------- the mixture
@spec("diffusion.GaussianMixture")
def _():
    return df.GaussianMixture, dict(weights=torch.tensor([0.3, 0.7]), means=data(2, 2),
                                    stds=torch.tensor([0.5, 0.8]))


for _method in ("log_prob", "energy", "score", "responsibilities", "component_log_probs",
                "assign"):
    spec(f"diffusion.GaussianMixture.{_method}", allow={"x": {"empty", "extra_dim", "fewer_dims"}})(
        lambda _m=_method: (getattr(mixture(), _m), dict(x=data(4, 2))))


@spec("diffusion.GaussianMixture.mode_weights")
def _():
    return mixture().mode_weights, dict(x=data(6, 2))


@spec("diffusion.GaussianMixture.convolved")
def _():
    return mixture().convolved, dict(scale=0.8, noise_std=0.5)


@spec("diffusion.GaussianMixture.sample")
def _():
    return mixture().sample, dict(n=5, generator=g())


# ----------------------------------------------------------------------------- score matching
@spec("diffusion.geometric_noise_levels")
def _():
    return df.geometric_noise_levels, dict(sigma_max=5.0, sigma_min=0.5, n=4)


@spec("diffusion.dsm_loss")
def _():
    return df.dsm_loss, dict(score_fn=lambda v, s: -v, x0=data(4, 2), sigma=0.5, generator=g(),
                             eps=data(4, 2))


@spec("diffusion.NoiseConditionalEnergy")
def _():
    return df.NoiseConditionalEnergy, dict(dim=2, hidden=8, n_layers=2, n_features=4, generator=g())


@spec("diffusion.NoiseConditionalEnergy.score")
def _():
    net = df.NoiseConditionalEnergy(2, 8, 2, generator=g())
    return net.score, dict(x=data(3, 2), sigma=0.5)


@spec("diffusion.annealed_langevin", names={"x0": ("energy_fn",)})    # its batch shape is the message
def _():
    return df.annealed_langevin, dict(energy_fn=lambda x, s: 0.5 * (x ** 2).sum(-1), x0=data(3, 2),
                                      sigmas=[2.0, 1.0], n_steps_each=2, eps=0.1, generator=g())


# ----------------------------------------------------------------------------- DDPM
@spec("diffusion.Schedule.from_betas")
def _():
    return df.Schedule.from_betas, dict(betas=torch.tensor([0.1, 0.2, 0.3]))


@spec("diffusion.linear_schedule")
def _():
    return df.linear_schedule, dict(T=10, beta_1=1e-3, beta_T=0.1)


@spec("diffusion.q_sample")
def _():
    return df.q_sample, dict(x0=data(3, 2), t=4, schedule=schedule(), generator=g(), eps=data(3, 2))


@spec("diffusion.forward_chain")
def _():
    return df.forward_chain, dict(x0=data(3, 2), t=4, schedule=schedule(), generator=g())


@spec("diffusion.q_posterior")
def _():
    return df.q_posterior, dict(x0=data(3, 2), x_t=data(3, 2), t=4, schedule=schedule())


for _name in ("predict_x0", "p_mean"):
    spec(f"diffusion.{_name}")(lambda _n=_name: (getattr(df, _n), dict(
        x_t=data(3, 2), eps_hat=data(3, 2), t=4, schedule=schedule())))


@spec("diffusion.gaussian_kl", allow={"var_q": {"fewer_dims"}, "var_p": {"fewer_dims"}})
def _():
    return df.gaussian_kl, dict(mean_q=data(3, 2), var_q=torch.full((3, 1), 0.5),
                                mean_p=data(3, 2), var_p=torch.tensor(0.7))


@spec("diffusion.elbo_weight", allow={"t": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return df.elbo_weight, dict(t=torch.tensor([1, 5, 10]), schedule=schedule(), sigma2="beta")


@spec("diffusion.ddpm_loss")
def _():
    return df.ddpm_loss, dict(eps_model=lambda x, t: torch.zeros_like(x), x0=data(3, 2),
                              schedule=schedule(), generator=g())


@spec("diffusion.ddpm_sample")
def _():
    return df.ddpm_sample, dict(eps_model=lambda x, t: torch.zeros_like(x), n=3, dim=2,
                                schedule=schedule(), generator=g())


@spec("diffusion.EpsilonMLP")
def _():
    return df.EpsilonMLP, dict(dim=2, T=10, hidden=8, n_layers=2, n_features=4, generator=g())


@spec("diffusion.EpsilonMLP.forward", allow={"t": {"extra_dim", "fewer_dims"}})
def _():
    model = df.EpsilonMLP(2, 10, hidden=8, n_layers=2, generator=g())
    return model, dict(x=data(3, 2), t=torch.tensor([1, 4, 10]))


# ----------------------------------------------------------------------------- memory
for _name in ("ideal_denoiser", "denoiser_weights", "hopfield_denoiser"):
    spec(f"diffusion.{_name}", allow={"x_t": {"empty"}})(lambda _n=_name: (getattr(df, _n), dict(
        x_t=data(3, 4), train=data(5, 4), alpha_bar=0.5)))


@spec("diffusion.hopfield_beta")
def _():
    return df.hopfield_beta, dict(alpha_bar=0.5)


@spec("diffusion.IdealEpsilon")
def _():
    return df.IdealEpsilon, dict(train=data(5, 2), schedule=schedule())


@spec("diffusion.IdealEpsilon.__call__", allow={"t": {"extra_dim", "fewer_dims"}})
def _():
    return df.IdealEpsilon(data(5, 2), schedule()), dict(x_t=data(3, 2), t=torch.tensor([4, 4, 4]))


@spec("diffusion.nearest_distance", allow={"x": {"empty"}})
def _():
    return df.nearest_distance, dict(x=data(4, 3), reference=data(6, 3), chunk=2)


@spec("diffusion.copy_ratio")
def _():
    return df.copy_ratio, dict(x=data(4, 2), train=data(3, 2), held_out=data(8, 2), n_draws=2,
                               generator=g())


@spec("diffusion.DigitClassifier")
def _():
    return df.DigitClassifier, dict(dim=4, hidden=8, n_classes=3, generator=g())


@spec("diffusion.class_spread")
def _():
    return df.class_spread, dict(probs=torch.softmax(data(5, 3), -1))
