"""Bad-input specs for chapter 10's module, companion.gan."""
from __future__ import annotations

import torch
from torch import nn

from companion import gan
from framework import spec


def g():
    return torch.Generator().manual_seed(0)


def data(*shape):
    return torch.randn(*shape, generator=g())


def mlp_pair(hidden=8):
    """A small 2-D generator and discriminator."""
    return gan.MLPGenerator(2, 2, hidden=hidden), gan.MLPDiscriminator(2, hidden=hidden)


def sgd(module):
    return torch.optim.SGD(module.parameters(), lr=1e-3)


def images(n):
    return 2 * torch.rand(n, 1, 28, 28, generator=g()) - 1


# An MLP maps an empty batch (0, d) to an empty batch of outputs: nothing is averaged, so
# nothing becomes NaN, and the answer (no rows) is the right one.
EMPTY_BATCH = {"x": {"empty"}}


# ----------------------------------------------------------------------------- noise, networks
@spec("gan.sample_noise")
def _():
    return gan.sample_noise, dict(n=3, latent_shape=2, generator=g(), device=None)


@spec("gan.sample")
def _():
    return gan.sample, dict(G=gan.MLPGenerator(2, 2, hidden=8), z=data(3, 2))


@spec("gan.sample")
def _():
    return gan.sample, dict(G=gan.DCGenerator(nz=4, ngf=2), z=data(2, 4, 1, 1))


@spec("gan.MLPGenerator")
def _():
    return gan.MLPGenerator, dict(latent_dim=2, out_dim=3, hidden=8, n_hidden_layers=2)


@spec("gan.MLPGenerator.forward", allow={"z": {"empty"}})     # see EMPTY_BATCH
def _():
    return gan.MLPGenerator(2, 3, hidden=8).forward, dict(z=data(4, 2))


@spec("gan.MLPDiscriminator")
def _():
    return gan.MLPDiscriminator, dict(in_dim=2, hidden=8, n_hidden_layers=2)


for _method in ("forward", "energy"):
    spec(f"gan.MLPDiscriminator.{_method}", allow=EMPTY_BATCH)(
        lambda _m=_method: (getattr(gan.MLPDiscriminator(2, hidden=8), _m), dict(x=data(4, 2))))


@spec("gan.DCGenerator")
def _():
    return gan.DCGenerator, dict(nz=4, ngf=2, nc=1)


@spec("gan.DCGenerator.forward")
def _():
    return gan.DCGenerator(nz=4, ngf=2).forward, dict(z=data(2, 4))


@spec("gan.DCDiscriminator")
def _():
    return gan.DCDiscriminator, dict(ndf=2, nc=1)


for _method in ("forward", "energy"):
    spec(f"gan.DCDiscriminator.{_method}")(
        lambda _m=_method: (getattr(gan.DCDiscriminator(ndf=2), _m), dict(x=images(2))))


@spec("gan.dcgan_init_")
def _():
    return gan.dcgan_init_, dict(module=gan.DCGenerator(nz=4, ngf=2), generator=g())


# Pixel conversions work elementwise on any shape, an empty one included.
@spec("gan.to_tanh_range", allow={"x": {"empty", "extra_dim", "fewer_dims"}})
def _():
    return gan.to_tanh_range, dict(x=torch.rand(2, 1, 4, 4, generator=g()))


@spec("gan.to_pixels", allow={"x": {"empty", "extra_dim", "fewer_dims"}})
def _():
    return gan.to_pixels, dict(x=images(2))


# ----------------------------------------------------------------------------- losses
@spec("gan.discriminator_loss")
def _():
    return gan.discriminator_loss, dict(logits_real=data(4), logits_fake=data(5))


for _name in ("saturating_generator_loss", "nonsaturating_generator_loss", "wgan_generator_loss"):
    _arg = "e_fake" if _name.startswith("wgan") else "logits_fake"
    spec(f"gan.{_name}")(lambda _n=_name, _a=_arg: (getattr(gan, _n), {_a: data(5)}))


@spec("gan.generator_loss")
def _():
    return gan.generator_loss, dict(logits_fake=data(5), kind="saturating")


# Densities on a grid (or at any set of points): any shape, the same for both.
@spec("gan.optimal_discriminator")
def _():
    return gan.optimal_discriminator, dict(p_data=torch.rand(6, generator=g()) + 0.1,
                                           p_g=torch.rand(6, generator=g()))


@spec("gan.jensen_shannon")
def _():
    p = torch.rand(3, 6, generator=g())
    return gan.jensen_shannon, dict(p=p / p.sum(-1, keepdim=True),
                                    q=torch.full((3, 6), 1 / 6), dx=1.0)


@spec("gan.ebgan_discriminator_loss")
def _():
    return gan.ebgan_discriminator_loss, dict(e_real=data(4).abs(), e_fake=data(5).abs(),
                                              margin=1.0)


@spec("gan.ebgan_generator_loss")
def _():
    return gan.ebgan_generator_loss, dict(e_fake=data(4).abs(), s_fake=data(4, 3), pt_weight=0.1)


@spec("gan.pulling_away_term")
def _():
    return gan.pulling_away_term, dict(s=data(4, 3))


@spec("gan.wgan_critic_loss")
def _():
    return gan.wgan_critic_loss, dict(e_real=data(4), e_fake=data(5))


@spec("gan.inception_score")
def _():
    return gan.inception_score, dict(probs=torch.softmax(data(6, 3), -1))


# ----------------------------------------------------------------------------- EBGAN network
@spec("gan.AutoencoderDiscriminator")
def _():
    return gan.AutoencoderDiscriminator, dict(in_dim=2, hidden=8, code_dim=3)


for _method in ("forward", "energy", "energy_and_code"):
    spec(f"gan.AutoencoderDiscriminator.{_method}", allow=EMPTY_BATCH)(
        lambda _m=_method: (getattr(gan.AutoencoderDiscriminator(2, 8, 3), _m),
                            dict(x=data(4, 2))))


# ----------------------------------------------------------------------------- WGAN tools
@spec("gan.clip_weights_")
def _():
    return gan.clip_weights_, dict(module=nn.Linear(2, 2), c=0.1)


@spec("gan.lipschitz_bound")
def _():
    return gan.lipschitz_bound, dict(net=gan.MLPDiscriminator(2, hidden=8).net)


@spec("gan.gradient_penalty")
def _():
    return gan.gradient_penalty, dict(critic=gan.MLPDiscriminator(2, hidden=8), x_real=data(4, 2),
                                      x_fake=data(4, 2) + 1, eps=torch.rand(4, generator=g()),
                                      generator=g())


@spec("gan.gradient_penalty")
def _():
    return gan.gradient_penalty, dict(critic=gan.MLPDiscriminator(2, hidden=8), x_real=data(4, 2),
                                      x_fake=data(4, 2) + 1, generator=g())


@spec("gan.layer_gradient_norms")
def _():
    return gan.layer_gradient_norms, dict(net=gan.MLPDiscriminator(2, hidden=8).net, x=data(5, 2))


@spec("gan.train_critic")
def _():
    return gan.train_critic, dict(critic=gan.MLPDiscriminator(2, hidden=8), x_real=data(6, 2),
                                  x_fake=data(5, 2) + 1, n_steps=2, lr=1e-3, clip=0.1,
                                  gp_weight=1.0, batch_size=4, optimizer="rmsprop", generator=g())


def _deep_critic_kwargs(**kw):
    return dict(x_real=data(6, 2), x_fake=data(5, 2) + 1, depth=2, width=4, n_steps=2, lr=1e-3,
                generator=g(), **kw)


for _name in ("train_deep_critic", "critic_gradient_profile"):
    spec(f"gan.{_name}")(lambda _n=_name: (getattr(gan, _n), _deep_critic_kwargs(clip=0.1)))
    spec(f"gan.{_name}")(lambda _n=_name: (getattr(gan, _n), _deep_critic_kwargs(gp_weight=1.0)))


@spec("gan.clipping_experiment")
def _():
    return gan.clipping_experiment, dict(clips=[0.05], gp_weight=1.0, n_points=8, blob_std=0.3,
                                         seed=0)


@spec("gan.bilinear_game")
def _():
    return gan.bilinear_game, dict(x0=1.0, y0=0.5, lr=0.1, n_steps=5, mode="alternating")


# ----------------------------------------------------------------------------- training steps
@spec("gan.discriminator_step")
def _():
    G, D = mlp_pair()
    return gan.discriminator_step, dict(G=G, D=D, optimizer=sgd(D), x_real=data(4, 2), z=data(5, 2))


@spec("gan.generator_step")
def _():
    G, D = mlp_pair()
    return gan.generator_step, dict(G=G, D=D, optimizer=sgd(G), z=data(5, 2), kind="saturating")


@spec("gan.generator_gradient_norm")
def _():
    G, D = mlp_pair()
    return gan.generator_gradient_norm, dict(G=G, D=D, z=data(5, 2), kind="nonsaturating")


@spec("gan.ebgan_discriminator_step")
def _():
    G, D = gan.MLPGenerator(2, 2, hidden=8), gan.AutoencoderDiscriminator(2, 8, 3)
    return gan.ebgan_discriminator_step, dict(G=G, D=D, optimizer=sgd(D), x_real=data(4, 2),
                                              z=data(5, 2), margin=1.0)


@spec("gan.ebgan_generator_step")
def _():
    G, D = gan.MLPGenerator(2, 2, hidden=8), gan.AutoencoderDiscriminator(2, 8, 3)
    return gan.ebgan_generator_step, dict(G=G, D=D, optimizer=sgd(G), z=data(5, 2), pt_weight=0.1)


@spec("gan.wgan_critic_step")
def _():
    G, D = mlp_pair()
    return gan.wgan_critic_step, dict(G=G, critic=D, optimizer=sgd(D), x_real=data(4, 2),
                                      z=data(4, 2), clip=0.1, gp_weight=1.0, generator=g())


@spec("gan.wgan_generator_step")
def _():
    G, D = mlp_pair()
    return gan.wgan_generator_step, dict(G=G, critic=D, optimizer=sgd(G), z=data(5, 2))


# ----------------------------------------------------------------------------- the trainer
def _trainer_kwargs(kind="gan"):
    G, D = mlp_pair()
    kw = dict(G=G, D=D, latent_shape=2, kind=kind, g_loss="nonsaturating", lr_g=1e-3, lr_d=1e-3,
              betas=(0.5, 0.999), d_steps=1, margin=1.0, pt_weight=0.0, clip=None, gp_weight=0.0,
              optimizer="adam", n_fixed=4, track_energy=True, generator=g(), device=None)
    if kind == "ebgan":
        kw.update(D=gan.AutoencoderDiscriminator(2, 8, 3), pt_weight=0.1)
    if kind == "wgan":
        kw.update(clip=0.1, gp_weight=1.0, optimizer="rmsprop")
    return kw


for _kind in ("gan", "ebgan", "wgan"):
    spec("gan.GANTrainer")(lambda _k=_kind: (gan.GANTrainer, _trainer_kwargs(_k)))
    spec("gan.GANTrainer.step")(
        lambda _k=_kind: (gan.GANTrainer(**_trainer_kwargs(_k)).step, dict(x_real=data(4, 2))))


@spec("gan.GANTrainer.step")
def _():
    G = gan.DCGenerator(nz=4, ngf=2)
    trainer = gan.GANTrainer(G, gan.DCDiscriminator(ndf=2), 4, n_fixed=2, generator=g())
    return trainer.step, dict(x_real=images(2))


@spec("gan.GANTrainer.noise")
def _():
    return gan.GANTrainer(**_trainer_kwargs()).noise, dict(n=3)


@spec("gan.GANTrainer.energy")
def _():
    return gan.GANTrainer(**_trainer_kwargs()).energy, dict(x=data(4, 2))
