r"""Chapter 10: generative adversarial networks, read as contrastive energy-based models.

A GAN trains two networks against each other (Goodfellow et al., 2014). The
discriminator $D$ tells data from the samples of the generator $G$, which maps noise
$z \sim \mathcal N(0, I)$ to samples $G(z)$. With $D(x) = \sigma(\ell(x))$, write the
discriminator's *energy* as $E(x) = -\ell(x)$, so that $D(x) = \sigma(-E(x))$. Then

* the discriminator's loss pushes $E$ down on the data and up on the generator's samples,
  a contrastive loss (chapter 2) whose contrastive points come from a network rather than
  from MCMC: :func:`discriminator_loss`;
* the generator pulls the energy of its samples down: :func:`generator_loss`, in the
  *saturating* form $\log(1 - D(G(z)))$ of the minimax game or the *non-saturating* form
  $-\log D(G(z))$ used in practice.

The module holds: a pair of multilayer perceptrons for 2-D data (:class:`MLPGenerator`,
:class:`MLPDiscriminator`); a DCGAN pair sized for 28 x 28 images (:class:`DCGenerator`,
:class:`DCDiscriminator`); the energy-based GAN of Zhao, Mathieu and LeCun (2017), whose
discriminator is an autoencoder with the reconstruction error as energy
(:class:`AutoencoderDiscriminator`, :func:`ebgan_discriminator_loss`,
:func:`ebgan_generator_loss`, :func:`pulling_away_term`); the critic loss, weight clipping
and gradient penalty of the Wasserstein GAN (Arjovsky, Chintala and Bottou, 2017; Gulrajani
et al., 2017: :func:`wgan_critic_loss`, :func:`clip_weights_`, :func:`gradient_penalty`);
one training step per player (:func:`discriminator_step`, :func:`generator_step` and their
EBGAN and WGAN versions); a trainer for :func:`companion.training.fit` (:class:`GANTrainer`);
critics trained against fixed points and the per-layer gradient norms that show what
clipping does to a deep critic (:func:`train_critic`, :func:`train_deep_critic`,
:func:`layer_gradient_norms`, :func:`clipping_experiment`); the bilinear game
$\min_x \max_y xy$ whose gradient dynamics show why GAN training oscillates
(:func:`bilinear_game`); the Jensen-Shannon divergence by quadrature
(:func:`jensen_shannon`); and a classifier-based measure of sample quality
(:func:`inception_score`). Losses are computed outside ``forward``; noise is drawn with an
explicit ``torch.Generator`` (:func:`sample_noise`).
"""
from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import (check_choice, check_generator, check_int, check_number, check_numbers,
                      check_tensor)
from .data import ring_of_gaussians
from .ebm import mlp
from .seeding import rand, randn

__all__ = [
    "AutoencoderDiscriminator",
    "DCDiscriminator",
    "DCGenerator",
    "GANTrainer",
    "MLPDiscriminator",
    "MLPGenerator",
    "bilinear_game",
    "clip_weights_",
    "clipping_experiment",
    "critic_gradient_profile",
    "dcgan_init_",
    "discriminator_loss",
    "discriminator_step",
    "ebgan_discriminator_loss",
    "ebgan_discriminator_step",
    "ebgan_generator_loss",
    "ebgan_generator_step",
    "generator_gradient_norm",
    "generator_loss",
    "generator_step",
    "gradient_penalty",
    "inception_score",
    "jensen_shannon",
    "layer_gradient_norms",
    "lipschitz_bound",
    "nonsaturating_generator_loss",
    "optimal_discriminator",
    "pulling_away_term",
    "sample",
    "sample_noise",
    "saturating_generator_loss",
    "to_pixels",
    "to_tanh_range",
    "train_critic",
    "train_deep_critic",
    "wgan_critic_loss",
    "wgan_critic_step",
    "wgan_generator_loss",
    "wgan_generator_step",
]

Shape = Union[int, Sequence[int]]


def _check_module(name: str, value) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _check_trainable(name: str, value: nn.Module) -> nn.Module:
    if not any(p.requires_grad for p in value.parameters()):
        raise ValueError(f"{name} must have parameters to train")
    return value


def _check_optimizer(name: str, value) -> torch.optim.Optimizer:
    if not isinstance(value, torch.optim.Optimizer):
        raise TypeError(f"{name} must be a torch.optim.Optimizer, got {type(value).__name__}")
    return value


def _check_logits(name: str, value: Tensor) -> Tensor:
    check_tensor(name, value, ndim=1, floating=True, min_batch=1)
    return value


def _latent_shape(latent_shape: Shape) -> tuple[int, ...]:
    if isinstance(latent_shape, numbers.Integral):
        latent_shape = (latent_shape,)
    if isinstance(latent_shape, (str, bytes)) or not hasattr(latent_shape, "__iter__"):
        raise TypeError(f"latent_shape must be an int or a sequence of ints, got "
                        f"{type(latent_shape).__name__} {latent_shape!r}")
    shape = tuple(latent_shape)
    if not shape:
        raise ValueError("latent_shape must hold at least one size")
    return tuple(check_int(f"latent_shape[{i}]", s, min_value=1) for i, s in enumerate(shape))


# Layers that keep the shape of their input: a Sequential's input and output sizes are
# those of its first and last layer that is not one of these.
_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.ELU, nn.GELU,
                nn.Softplus, nn.Identity, nn.Dropout)


def _input_shapes(net: nn.Module) -> Optional[tuple[tuple[int, ...], ...]]:
    """The shapes one input of ``net`` may have (without the batch dimension): known for this
    module's networks, ``nn.Linear`` and a ``nn.Sequential`` that starts with one; None for
    any other module (whose own ``forward`` judges its input)."""
    if isinstance(net, (MLPDiscriminator, AutoencoderDiscriminator)):
        return ((net.in_dim,),)
    if isinstance(net, MLPGenerator):
        return ((net.latent_dim,),)
    if isinstance(net, DCGenerator):
        return ((net.nz,), (net.nz, 1, 1))
    if isinstance(net, DCDiscriminator):
        return ((net.nc, 28, 28),)
    if isinstance(net, nn.Linear):
        return ((net.in_features,),)
    if isinstance(net, nn.Sequential):
        for layer in net:
            if not isinstance(layer, _ELEMENTWISE):
                return _input_shapes(layer)
    return None


def _output_shape(net: nn.Module) -> Optional[tuple[int, ...]]:
    """The shape of one output of a generator ``net`` (without the batch dimension), or None."""
    if isinstance(net, MLPGenerator):
        return (net.out_dim,)
    if isinstance(net, DCGenerator):
        return (net.nc, 28, 28)
    if isinstance(net, nn.Linear):
        return (net.out_features,)
    if isinstance(net, nn.Sequential):
        for layer in reversed(net):
            if not isinstance(layer, _ELEMENTWISE):
                return _output_shape(layer)
    return None


def _check_batch(name: str, x, net_name: str, net: nn.Module, min_batch: int = 1) -> Tensor:
    """``x`` is a finite floating batch (B, ...) with B >= ``min_batch`` that ``net`` accepts."""
    check_tensor(name, x, floating=True, min_batch=min_batch)
    shapes = _input_shapes(net)
    if shapes is not None and tuple(x.shape[1:]) not in shapes:
        want = " or ".join("(B, " + ", ".join(map(str, s)) + ")" for s in shapes)
        raise ValueError(f"{name} must have shape {want} to fit {net_name} "
                         f"({type(net).__name__}), got {tuple(x.shape)}")
    return x


def _check_players(g_name: str, G, d_name: str, D) -> None:
    """``G`` and ``D`` are modules, and ``G``'s samples fit ``D`` when both shapes are known."""
    _check_module(g_name, G)
    _check_module(d_name, D)
    out, shapes = _output_shape(G), _input_shapes(D)
    if out is not None and shapes is not None and out not in shapes:
        raise ValueError(f"{g_name} makes samples of shape {out} but {d_name} takes inputs of "
                         f"shape {shapes[0]}")


# ------------------------------------------------------------------------------ noise

def sample_noise(n: int, latent_shape: Shape, generator: Optional[torch.Generator] = None,
                 device=None) -> Tensor:
    r"""$z \sim \mathcal N(0, I)$: ``n`` draws of shape ``latent_shape``, i.e. (n, *latent_shape),
    drawn with ``generator`` and placed on ``device``. Draw a *fixed* batch once, at the
    start, to watch the same samples change over training."""
    n = check_int("n", n, min_value=1)
    check_generator("generator", generator)
    return randn((n, *_latent_shape(latent_shape)), generator, device)


@torch.no_grad()
def sample(G: nn.Module, z: Tensor) -> Tensor:
    """``G(z)`` without gradients and in evaluation mode (batch normalisation uses its
    running statistics), then ``G`` is put back in the mode it was in."""
    _check_module("G", G)
    _check_batch("z", z, "G", G)
    was_training = G.training
    G.eval()
    try:
        return G(z)
    finally:
        G.train(was_training)


# ------------------------------------------------------------------------ 2-D networks

class MLPGenerator(nn.Module):
    """G: noise z (B, latent_dim) -> samples x (B, out_dim), a multilayer perceptron with
    ``n_hidden_layers`` ReLU layers of width ``hidden`` and a linear output."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: int = 128,
                 n_hidden_layers: int = 2):
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, min_value=1)
        self.out_dim = check_int("out_dim", out_dim, min_value=1)
        hidden = check_int("hidden", hidden, min_value=1)
        n_hidden_layers = check_int("n_hidden_layers", n_hidden_layers, min_value=1)
        self.net = mlp([latent_dim] + [hidden] * n_hidden_layers + [out_dim], nn.ReLU)

    def forward(self, z: Tensor) -> Tensor:
        check_tensor("z", z, ndim=2, last_dim=self.latent_dim, floating=True)
        return self.net(z)


class MLPDiscriminator(nn.Module):
    r"""The discriminator's logit $\ell(x)$: (B, in_dim) -> (B,), with $D(x) = \sigma(\ell(x))$
    the probability that $x$ is data. Its energy is $E(x) = -\ell(x)$ (:meth:`energy`), so
    that $D(x) = \sigma(-E(x))$: low energy means "looks like data".
    LeakyReLU(0.2) hidden units, as in DCGAN's discriminator."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, n_hidden_layers: int = 2):
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, min_value=1)
        hidden = check_int("hidden", hidden, min_value=1)
        n_hidden_layers = check_int("n_hidden_layers", n_hidden_layers, min_value=1)
        self.net = mlp([in_dim] + [hidden] * n_hidden_layers + [1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, last_dim=self.in_dim, floating=True)
        return self.net(x).squeeze(1)

    def energy(self, x: Tensor) -> Tensor:
        r"""$E(x) = -\ell(x)$: (B, in_dim) -> (B,)."""
        return -self(x)


# ---------------------------------------------------------------------- DCGAN, 28 x 28

class DCGenerator(nn.Module):
    r"""A DCGAN generator for 28 x 28 images (Radford, Metz and Chintala, 2016), resized from
    the 64 x 64 original: three transposed convolutions instead of five.

    z (B, nz) or (B, nz, 1, 1) -> images (B, nc, 28, 28) in [-1, 1] (Tanh output).
    A transposed convolution maps a side $n$ to $(n - 1)s - 2p + k$:
    1 -> 7 (k=7, s=1, p=0), 7 -> 14 and 14 -> 28 (k=4, s=2, p=1).
    """

    def __init__(self, nz: int = 32, ngf: int = 32, nc: int = 1):
        super().__init__()
        self.nz = check_int("nz", nz, min_value=1)
        ngf = check_int("ngf", ngf, min_value=1)
        self.nc = check_int("nc", nc, min_value=1)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),       # (B, 4 ngf, 7, 7)
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # (B, 2 ngf, 14, 14)
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),       # (B, nc, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        check_tensor("z", z, ndim=(2, 4), floating=True, min_batch=1)
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.shape[1:] != (self.nz, 1, 1):
            raise ValueError(f"z must have shape (B, {self.nz}) or (B, {self.nz}, 1, 1), "
                             f"got {tuple(z.shape)}")
        return self.main(z)


class DCDiscriminator(nn.Module):
    r"""A DCGAN discriminator for 28 x 28 images, returning the logit $\ell(x)$ (no sigmoid:
    the loss is computed from logits, see :func:`discriminator_loss`).

    images (B, nc, 28, 28) -> logits (B,). A convolution maps a side $n$ to
    $\lfloor (n + 2p - k)/s \rfloor + 1$: 28 -> 14 -> 7 (k=4, s=2, p=1), then 7 -> 1 (k=7).
    """

    def __init__(self, ndf: int = 32, nc: int = 1):
        super().__init__()
        ndf = check_int("ndf", ndf, min_value=1)
        self.nc = check_int("nc", nc, min_value=1)
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),                    # (B, ndf, 14, 14)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),               # (B, 2 ndf, 7, 7)
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),                 # (B, 1, 1, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=4, floating=True, min_batch=1)
        if x.shape[1:] != (self.nc, 28, 28):
            raise ValueError(f"x must have shape (B, {self.nc}, 28, 28), got {tuple(x.shape)}")
        return self.main(x).flatten()

    def energy(self, x: Tensor) -> Tensor:
        r"""$E(x) = -\ell(x)$: (B, nc, 28, 28) -> (B,)."""
        return -self(x)


def dcgan_init_(module: nn.Module, generator: Optional[torch.Generator] = None) -> nn.Module:
    r"""DCGAN's initialisation, in place: convolution weights $\sim \mathcal N(0, 0.02^2)$,
    batch-norm scales $\sim \mathcal N(1, 0.02^2)$ and shifts 0. Returns ``module``."""
    _check_module("module", module)
    check_generator("generator", generator)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.copy_(0.02 * randn(m.weight.shape, generator, m.weight.device))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.02 * randn(m.weight.shape, generator, m.weight.device))
                m.bias.zero_()
    return module


def to_tanh_range(x: Tensor) -> Tensor:
    """Pixels in [0, 1] -> [-1, 1], the range of a Tanh generator: 2x - 1."""
    check_tensor("x", x, floating=True)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"x must hold pixel values in [0, 1], got range "
                         f"[{x.min().item():.3g}, {x.max().item():.3g}]")
    return 2 * x - 1


def to_pixels(x: Tensor) -> Tensor:
    """The inverse of :func:`to_tanh_range`: [-1, 1] -> [0, 1], (x + 1) / 2."""
    check_tensor("x", x, floating=True)
    if x.numel() and (x.min() < -1 or x.max() > 1):
        raise ValueError(f"x must hold values in [-1, 1] (a Tanh output), got range "
                         f"[{x.min().item():.3g}, {x.max().item():.3g}]")
    return (x + 1) / 2


# ----------------------------------------------------------------------------- losses

def discriminator_loss(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    r"""The discriminator's loss, minus the value function of the minimax game:

    $$\mathcal L_D = -\mathbb E_x[\log D(x)] - \mathbb E_z[\log(1 - D(G(z)))]
      = \mathbb E_x[\operatorname{softplus}(E(x))] + \mathbb E_z[\operatorname{softplus}(-E(G(z)))]$$

    with $D = \sigma(\ell)$ and $E = -\ell$. Computed from the logits (B,) by
    ``binary_cross_entropy_with_logits``, which never takes the log of a rounded sigmoid.
    As a function of the energies it falls as $E$ falls on data and rises on samples.
    """
    _check_logits("logits_real", logits_real)
    _check_logits("logits_fake", logits_fake)
    real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return real + fake


def saturating_generator_loss(logits_fake: Tensor) -> Tensor:
    r"""The generator's side of the minimax game, minimised by $G$:

    $$\mathcal L_G^{\text{sat}} = \mathbb E_z[\log(1 - D(G(z)))] = -\mathbb E_z[\operatorname{softplus}(\ell)].$$

    Its derivative with respect to the logit is $-\sigma(\ell) = -D(G(z))$, which vanishes
    when the discriminator confidently rejects the samples ($D(G(z)) \to 0$). Computed as
    minus the cross-entropy of the logits with the label 0 ("fake").
    """
    _check_logits("logits_fake", logits_fake)
    return -F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))


def nonsaturating_generator_loss(logits_fake: Tensor) -> Tensor:
    r"""The non-saturating generator loss of Goodfellow et al. (2014):

    $$\mathcal L_G^{\text{ns}} = -\mathbb E_z[\log D(G(z))] = \mathbb E_z[\operatorname{softplus}(-\ell)]
      = \mathbb E_z[\operatorname{softplus}(E(G(z)))].$$

    Its derivative with respect to the logit is $-(1 - \sigma(\ell)) = -(1 - D(G(z)))$, largest
    exactly when the discriminator rejects the samples. Computed as the cross-entropy of the
    logits with the label 1 ("real"): the generator wants its samples called real.
    """
    _check_logits("logits_fake", logits_fake)
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def generator_loss(logits_fake: Tensor, kind: str = "nonsaturating") -> Tensor:
    """:func:`nonsaturating_generator_loss` or :func:`saturating_generator_loss`, by ``kind``."""
    check_choice("kind", kind, ("nonsaturating", "saturating"))
    if kind == "saturating":
        return saturating_generator_loss(logits_fake)
    return nonsaturating_generator_loss(logits_fake)


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    r"""$D^*(x) = p_{\text{data}}(x) / (p_{\text{data}}(x) + p_g(x))$, the discriminator that
    minimises :func:`discriminator_loss` for a fixed generator (Goodfellow et al., 2014,
    Proposition 1), from the two densities at the same points (any shape)."""
    check_tensor("p_data", p_data, floating=True)
    check_tensor("p_g", p_g, floating=True)
    if p_data.shape != p_g.shape:
        raise ValueError(f"p_data and p_g must share a shape, got {tuple(p_data.shape)} and "
                         f"{tuple(p_g.shape)}")
    if (p_data < 0).any() or (p_g < 0).any() or ((p_data + p_g) <= 0).any():
        raise ValueError("p_data and p_g must be densities: >= 0, and not both 0 at a point")
    return p_data / (p_data + p_g)


def jensen_shannon(p: Tensor, q: Tensor, dx: float = 1.0) -> Tensor:
    r"""The Jensen-Shannon divergence in nats,

    $$\mathrm{JSD}(p \,\Vert\, q) = \tfrac12 \mathrm{KL}(p \,\Vert\, m) + \tfrac12 \mathrm{KL}(q \,\Vert\, m),
      \qquad m = \tfrac12 (p + q),$$

    from two densities tabulated on the same grid of spacing ``dx`` (a Riemann sum; with
    ``dx = 1`` two probability vectors). Along the last dimension, so a batch of pairs
    (..., n) gives (...). Between 0 (p = q) and $\log 2$ (disjoint supports)."""
    check_tensor("p", p, floating=True)
    check_tensor("q", q, floating=True)
    if p.shape != q.shape:
        raise ValueError(f"p and q must share a shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    for name, t in (("p", p), ("q", q)):
        if (t < 0).any():
            raise ValueError(f"{name} must be a density (>= 0), got a minimum of "
                             f"{t.min().item():.3g}")
    dx = check_number("dx", dx, positive=True)
    m = 0.5 * (p + q)
    xlogy = torch.special.xlogy
    kl_p = (xlogy(p, p) - xlogy(p, m)).sum(-1)
    kl_q = (xlogy(q, q) - xlogy(q, m)).sum(-1)
    return 0.5 * (kl_p + kl_q) * dx


# ---------------------------------------------------------------------------- EBGAN

class AutoencoderDiscriminator(nn.Module):
    r"""The discriminator of the energy-based GAN (Zhao, Mathieu and LeCun, 2017): an
    autoencoder whose reconstruction error is the energy,

    $$D(x) = \lVert \operatorname{Dec}(\operatorname{Enc}(x)) - x \rVert.$$

    x (B, in_dim) -> energy (B,), >= 0. Encoder and decoder are ReLU perceptrons with
    one hidden layer of width ``hidden``; the code has ``code_dim`` units.
    """

    def __init__(self, in_dim: int = 2, hidden: int = 128, code_dim: int = 16):
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, min_value=1)
        hidden = check_int("hidden", hidden, min_value=1)
        code_dim = check_int("code_dim", code_dim, min_value=1)
        self.enc = mlp([in_dim, hidden, code_dim], nn.ReLU)
        self.dec = mlp([code_dim, hidden, in_dim], nn.ReLU)

    def energy_and_code(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The energy (B,) and the encoder's code s = Enc(x) (B, code_dim)."""
        check_tensor("x", x, ndim=2, last_dim=self.in_dim, floating=True)
        s = self.enc(x)
        return torch.linalg.vector_norm(self.dec(s) - x, dim=1), s

    def forward(self, x: Tensor) -> Tensor:
        return self.energy_and_code(x)[0]

    def energy(self, x: Tensor) -> Tensor:
        """The same as calling the module: the reconstruction error, (B,)."""
        return self(x)


def ebgan_discriminator_loss(e_real: Tensor, e_fake: Tensor, margin: float) -> Tensor:
    r"""EBGAN's margin loss for the discriminator,
    $\mathcal L_D = \mathbb E_x[D(x)] + \mathbb E_z\big[[m - D(G(z))]^+\big]$ with
    $[u]^+ = \max(0, u)$: the data's energy is pushed down, and the samples' energy up,
    but only while it is below the margin $m$. e_real, e_fake: energies (B,)."""
    _check_logits("e_real", e_real)
    _check_logits("e_fake", e_fake)
    margin = check_number("margin", margin, positive=True)
    return e_real.mean() + F.relu(margin - e_fake).mean()


def pulling_away_term(s: Tensor) -> Tensor:
    r"""EBGAN's pulling-away term on a batch of codes s (N, k), N >= 2:

    $$f_{PT}(S) = \frac{1}{N(N-1)} \sum_i \sum_{j \ne i}
      \left(\frac{s_i^\top s_j}{\lVert s_i\rVert\,\lVert s_j\rVert}\right)^2,$$

    the mean squared cosine similarity between different samples' codes: small when the
    samples point in different directions, 1 when they all coincide (mode collapse).
    """
    check_tensor("s", s, ndim=2, floating=True, min_batch=2)
    unit = s / torch.linalg.vector_norm(s, dim=1, keepdim=True).clamp_min(1e-12)
    cos2 = (unit @ unit.T) ** 2                                   # (N, N)
    n = s.shape[0]
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


def ebgan_generator_loss(e_fake: Tensor, s_fake: Optional[Tensor] = None,
                         pt_weight: float = 0.0) -> Tensor:
    r"""EBGAN's generator loss $\mathcal L_G = \mathbb E_z[D(G(z))]$ (pull the samples'
    energy down), plus ``pt_weight`` times :func:`pulling_away_term` of the samples' codes
    ``s_fake`` when given."""
    _check_logits("e_fake", e_fake)
    pt_weight = check_number("pt_weight", pt_weight, nonnegative=True)
    if s_fake is None and pt_weight > 0:
        raise ValueError("s_fake (the codes of the samples) is needed when pt_weight > 0")
    if s_fake is not None:
        check_tensor("s_fake", s_fake, ndim=2, floating=True, min_batch=2 if pt_weight > 0 else 1)
    if s_fake is not None and s_fake.shape[0] != e_fake.shape[0]:
        raise ValueError(f"s_fake must hold one code per sample ({e_fake.shape[0]}), got shape "
                         f"{tuple(s_fake.shape)}")
    loss = e_fake.mean()
    if pt_weight > 0:
        loss = loss + pt_weight * pulling_away_term(s_fake)
    return loss


# ----------------------------------------------------------------------------- WGAN

def wgan_critic_loss(e_real: Tensor, e_fake: Tensor) -> Tensor:
    r"""The Wasserstein GAN's critic loss (Arjovsky, Chintala and Bottou, 2017) in energy
    form. The critic $f = -E$ maximises $\mathbb E_x[f(x)] - \mathbb E_z[f(G(z))]$, an
    estimate of the Wasserstein-1 distance when $f$ is 1-Lipschitz; minimising
    $\mathcal L = \mathbb E_x[E(x)] - \mathbb E_z[E(G(z))]$ is the same thing, and the
    contrastive loss of chapter 2 with no regulariser. e_real, e_fake: (B,)."""
    _check_logits("e_real", e_real)
    _check_logits("e_fake", e_fake)
    return e_real.mean() - e_fake.mean()


def wgan_generator_loss(e_fake: Tensor) -> Tensor:
    r"""The WGAN generator's loss $\mathbb E_z[E(G(z))] = -\mathbb E_z[f(G(z))]$. e_fake: (B,)."""
    _check_logits("e_fake", e_fake)
    return e_fake.mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> nn.Module:
    """WGAN's weight clipping, in place: every parameter of ``module`` clamped to [-c, c]."""
    _check_module("module", module)
    c = check_number("c", c, positive=True)
    for p in module.parameters():
        p.clamp_(-c, c)
    return module


@torch.no_grad()
def lipschitz_bound(net: nn.Sequential) -> float:
    r"""An upper bound on the Lipschitz constant of ``net``, a ``nn.Sequential`` of
    ``nn.Linear`` layers and 1-Lipschitz activations (ReLU, LeakyReLU with slope <= 1):
    the product of the layers' spectral norms, $\prod_l \lVert W_l \rVert_2$."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"net must be a torch.nn.Sequential, got {type(net).__name__}")
    bound = 1.0
    for layer in net:
        if isinstance(layer, nn.Linear):
            bound *= torch.linalg.matrix_norm(layer.weight, ord=2).item()
        elif isinstance(layer, nn.LeakyReLU):
            if not 0 <= layer.negative_slope <= 1:
                raise ValueError(f"LeakyReLU slope must be in [0, 1], got {layer.negative_slope}")
        elif not isinstance(layer, nn.ReLU):
            raise TypeError(f"net may hold only Linear, ReLU and LeakyReLU layers, got "
                            f"{type(layer).__name__}")
    return bound


def gradient_penalty(critic: nn.Module, x_real: Tensor, x_fake: Tensor,
                     eps: Optional[Tensor] = None,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    r"""The gradient penalty of WGAN-GP (Gulrajani et al., 2017),

    $$\mathbb E_{\hat x}\big[(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1)^2\big],\qquad
      \hat x = \epsilon x + (1 - \epsilon)\tilde x,\quad \epsilon \sim U[0, 1],$$

    at random points on the segments between data ``x_real`` (B, ...) and samples ``x_fake``
    (same shape), one $\epsilon$ per pair (``eps`` (B,), drawn with ``generator`` if not
    given). The critic ``critic`` returns f (B,). The graph is kept
    (``create_graph=True``), so the penalty can be back-propagated to the critic's weights.
    """
    _check_module("critic", critic)
    _check_batch("x_real", x_real, "critic", critic)
    _check_batch("x_fake", x_fake, "critic", critic)
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real and x_fake must share a shape, got {tuple(x_real.shape)} and "
                         f"{tuple(x_fake.shape)}")
    check_generator("generator", generator)
    n = x_real.shape[0]
    if eps is None:
        eps = rand((n,), generator, x_real.device, x_real.dtype)
    check_tensor("eps", eps, ndim=1, floating=True)
    if eps.shape[0] != n:
        raise ValueError(f"eps must hold one value per pair ({n}), got {eps.shape[0]}")
    if (eps < 0).any() or (eps > 1).any():
        raise ValueError(f"eps must hold interpolation weights in [0, 1], got range "
                         f"[{eps.min().item():.3g}, {eps.max().item():.3g}]")
    e = eps.reshape(n, *([1] * (x_real.dim() - 1)))
    x_hat = (e * x_real + (1 - e) * x_fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def layer_gradient_norms(net: nn.Sequential, x: Tensor) -> list[float]:
    r"""How the gradient grows or shrinks on its way back through a deep critic: for every
    ``nn.Linear`` layer $l$ of ``net`` (an ``nn.Sequential``, output (B, 1)), the mean over the
    batch ``x`` of $\lVert \partial f(x) / \partial h_l \rVert_2$, where $h_l$ is that layer's
    input ($h_0 = x$). Returned from the first layer to the last (whose value is the norm of
    its weight row). Gulrajani et al. (2017, figure 1b) plot these for clipped critics: with
    every weight near $\pm c$ they fall or grow geometrically with depth, by roughly a fixed
    factor per layer that depends on $c$.
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"net must be a torch.nn.Sequential, got {type(net).__name__}")
    check_tensor("x", x, ndim=2, floating=True, min_batch=1)
    _check_batch("x", x, "net", net)
    inputs, h = [], x.detach().requires_grad_(True)
    for layer in net:
        if isinstance(layer, nn.Linear):
            inputs.append(h)                    # the layer's input, a node of the graph
        h = layer(h)
    if not inputs:
        raise ValueError("net must contain at least one nn.Linear layer")
    grads = torch.autograd.grad(h.sum(), inputs)
    return [g.norm(dim=1).mean().item() for g in grads]


def inception_score(probs: Tensor) -> float:
    r"""The Inception score of Salimans et al. (2016) computed with any classifier's predicted
    class probabilities ``probs`` (B, C) for B samples:

    $$\mathrm{IS} = \exp\big(\mathbb E_x\,\mathrm{KL}(p(y \mid x) \,\Vert\, p(y))\big),\qquad
      p(y) = \mathbb E_x\, p(y \mid x),$$

    which is large when each sample is classified confidently (low entropy of $p(y \mid x)$)
    *and* the classes are spread (high entropy of $p(y)$). It lies between 1 (every sample
    gets the same prediction, e.g. a collapsed generator) and C (confident, balanced).
    """
    check_tensor("probs", probs, ndim=2, floating=True, min_batch=1)
    if (probs < 0).any() or not torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]),
                                               atol=1e-4):
        raise ValueError("probs must hold probability vectors: >= 0, rows summing to 1")
    p = probs.double()
    marginal = p.mean(0, keepdim=True)
    kl = torch.special.xlogy(p, p).sum(1) - torch.special.xlogy(p, marginal).sum(1)
    return kl.mean().exp().item()


# ---------------------------------------------------------------------- training steps

def _update(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _grad_norm(module: nn.Module) -> float:
    norms = [p.grad.norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0


def discriminator_step(G: nn.Module, D: nn.Module, optimizer: torch.optim.Optimizer,
                       x_real: Tensor, z: Tensor) -> dict:
    r"""One gradient step of the discriminator on :func:`discriminator_loss`: push the
    energy $E = -\ell$ down on the data ``x_real`` and up on the samples $G(z)$ (held fixed).
    Returns the loss, the mean energies before the step and the mean of $D$ on each side."""
    _check_players("G", G, "D", D)
    _check_optimizer("optimizer", optimizer)
    _check_batch("x_real", x_real, "D", D)
    _check_batch("z", z, "G", G)
    with torch.no_grad():
        x_fake = G(z)
    l_real, l_fake = D(x_real), D(x_fake)
    loss = discriminator_loss(l_real, l_fake)
    _update(optimizer, loss)
    return {"d_loss": loss.item(), "e_real": -l_real.mean().item(), "e_fake": -l_fake.mean().item(),
            "d_real": torch.sigmoid(l_real).mean().item(),
            "d_fake": torch.sigmoid(l_fake).mean().item()}


def generator_step(G: nn.Module, D: nn.Module, optimizer: torch.optim.Optimizer, z: Tensor,
                   kind: str = "nonsaturating") -> dict:
    r"""One gradient step of the generator on :func:`generator_loss` (``kind``
    ``"nonsaturating"`` or ``"saturating"``): pull the energy of its samples $G(z)$ down.
    Only ``G``'s parameters move (``optimizer`` must hold them). Returns the loss, the
    samples' mean energy before the step and the norm of the gradient on ``G``'s parameters."""
    _check_players("G", G, "D", D)
    _check_optimizer("optimizer", optimizer)
    _check_batch("z", z, "G", G)
    check_choice("kind", kind, ("nonsaturating", "saturating"))
    logits = D(G(z))
    loss = generator_loss(logits, kind)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = _grad_norm(G)
    optimizer.step()
    return {"g_loss": loss.item(), "e_gen": -logits.mean().item(), "g_grad_norm": grad_norm}


def generator_gradient_norm(G: nn.Module, D: nn.Module, z: Tensor,
                            kind: str = "nonsaturating") -> float:
    r"""The norm of the gradient of :func:`generator_loss` (``kind``) with respect to all of
    ``G``'s parameters, $\lVert \nabla_\theta \mathcal L_G \rVert$, at the noise z, without
    changing anything (the gradients are computed with ``torch.autograd.grad``). By the
    chain rule it is the logit derivative ($-D(G(z))$ for the saturating loss,
    $-(1 - D(G(z)))$ for the non-saturating one) times the same backward pass through
    $D$ and $G$, so the two norms differ only by that factor, sample by sample."""
    _check_players("G", G, "D", D)
    _check_batch("z", z, "G", G)
    check_choice("kind", kind, ("nonsaturating", "saturating"))
    params = [p for p in G.parameters() if p.requires_grad]
    if not params:
        raise ValueError("G must have parameters that require gradients")
    grads = torch.autograd.grad(generator_loss(D(G(z)), kind), params, allow_unused=True)
    norms = [g.norm() for g in grads if g is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0


def ebgan_discriminator_step(G: nn.Module, D: AutoencoderDiscriminator,
                             optimizer: torch.optim.Optimizer, x_real: Tensor, z: Tensor,
                             margin: float) -> dict:
    """One step of EBGAN's discriminator on :func:`ebgan_discriminator_loss`."""
    if not isinstance(D, AutoencoderDiscriminator):
        raise TypeError(f"D must be an AutoencoderDiscriminator, got {type(D).__name__}")
    _check_players("G", G, "D", D)
    _check_optimizer("optimizer", optimizer)
    _check_batch("x_real", x_real, "D", D)
    _check_batch("z", z, "G", G)
    check_number("margin", margin, positive=True)
    with torch.no_grad():
        x_fake = G(z)
    e_real, e_fake = D(x_real), D(x_fake)
    loss = ebgan_discriminator_loss(e_real, e_fake, margin)
    _update(optimizer, loss)
    return {"d_loss": loss.item(), "e_real": e_real.mean().item(), "e_fake": e_fake.mean().item()}


def ebgan_generator_step(G: nn.Module, D: AutoencoderDiscriminator,
                         optimizer: torch.optim.Optimizer, z: Tensor,
                         pt_weight: float = 0.0) -> dict:
    """One step of EBGAN's generator on :func:`ebgan_generator_loss` (with the pulling-away
    term weighted by ``pt_weight``; it needs at least two samples)."""
    if not isinstance(D, AutoencoderDiscriminator):
        raise TypeError(f"D must be an AutoencoderDiscriminator, got {type(D).__name__}")
    _check_players("G", G, "D", D)
    _check_optimizer("optimizer", optimizer)
    check_number("pt_weight", pt_weight, nonnegative=True)
    _check_batch("z", z, "G", G, min_batch=2 if pt_weight > 0 else 1)
    e_fake, s_fake = D.energy_and_code(G(z))
    loss = ebgan_generator_loss(e_fake, s_fake, pt_weight)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = _grad_norm(G)
    optimizer.step()
    return {"g_loss": loss.item(), "e_gen": e_fake.mean().item(), "g_grad_norm": grad_norm}


def wgan_critic_step(G: nn.Module, critic: nn.Module, optimizer: torch.optim.Optimizer,
                     x_real: Tensor, z: Tensor, clip: Optional[float] = 0.01,
                     gp_weight: float = 0.0, generator: Optional[torch.Generator] = None) -> dict:
    r"""One step of the WGAN critic. ``critic`` returns the critic value f (B,); its energy is
    -f. The loss is :func:`wgan_critic_loss`, plus ``gp_weight`` times
    :func:`gradient_penalty` (WGAN-GP, Gulrajani et al. 2017; its interpolation weights drawn
    with ``generator``) when ``gp_weight > 0``; after the step every weight is clipped to
    [-clip, clip] (the original WGAN) unless ``clip`` is None. Returns the loss, the mean
    energies before the step and the penalty (0 without one)."""
    _check_players("G", G, "critic", critic)
    _check_optimizer("optimizer", optimizer)
    _check_batch("x_real", x_real, "critic", critic)
    _check_batch("z", z, "G", G)
    gp_weight = check_number("gp_weight", gp_weight, nonnegative=True)
    if clip is not None:
        clip = check_number("clip", clip, positive=True)
    check_generator("generator", generator)
    with torch.no_grad():
        x_fake = G(z)
    e_real, e_fake = -critic(x_real), -critic(x_fake)
    loss = wgan_critic_loss(e_real, e_fake)
    penalty = gradient_penalty(critic, x_real, x_fake, generator=generator) if gp_weight else None
    _update(optimizer, loss if penalty is None else loss + gp_weight * penalty)
    if clip is not None:
        clip_weights_(critic, clip)
    return {"d_loss": loss.item(), "e_real": e_real.mean().item(), "e_fake": e_fake.mean().item(),
            "gp": 0.0 if penalty is None else penalty.item()}


def wgan_generator_step(G: nn.Module, critic: nn.Module, optimizer: torch.optim.Optimizer,
                        z: Tensor) -> dict:
    r"""One step of the WGAN generator on :func:`wgan_generator_loss`: pull the critic's
    energy $-f$ of its samples $G(z)$ down. Only ``G``'s parameters move. Returns the loss,
    the samples' mean energy before the step and the norm of the gradient on ``G``."""
    _check_players("G", G, "critic", critic)
    _check_optimizer("optimizer", optimizer)
    _check_batch("z", z, "G", G)
    e_fake = -critic(G(z))
    loss = wgan_generator_loss(e_fake)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = _grad_norm(G)
    optimizer.step()
    return {"g_loss": loss.item(), "e_gen": e_fake.mean().item(), "g_grad_norm": grad_norm}


def train_critic(critic: nn.Module, x_real: Tensor, x_fake: Tensor, n_steps: int, *,
                 lr: float, clip: Optional[float] = None, gp_weight: float = 0.0,
                 batch_size: int = 64, optimizer: str = "rmsprop",
                 generator: Optional[torch.Generator] = None) -> list[float]:
    r"""Train a WGAN critic for ``n_steps`` against a frozen generator, given as two fixed
    sets of points: ``x_real`` (N, d) and ``x_fake`` (M, d). Each step draws ``batch_size``
    points from each set (with ``generator``) and calls :func:`wgan_critic_step` with
    ``clip`` and ``gp_weight``. ``optimizer``: ``"rmsprop"`` (the original WGAN's) or
    ``"adam"`` with $\beta = (0, 0.9)$ (WGAN-GP's). Returns the critic losses."""
    _check_module("critic", critic)
    check_tensor("x_real", x_real, ndim=2, floating=True, min_batch=1)
    check_tensor("x_fake", x_fake, ndim=2, floating=True, min_batch=1)
    _check_batch("x_real", x_real, "critic", critic)
    _check_batch("x_fake", x_fake, "critic", critic)
    if x_fake.shape[1] != x_real.shape[1]:
        raise ValueError(f"x_real and x_fake must hold points of the same dimension, got shapes "
                         f"{tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    n_steps = check_int("n_steps", n_steps, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    lr = check_number("lr", lr, positive=True)
    if clip is not None:
        clip = check_number("clip", clip, positive=True)
    gp_weight = check_number("gp_weight", gp_weight, nonnegative=True)
    check_choice("optimizer", optimizer, ("rmsprop", "adam"))
    check_generator("generator", generator)
    opt = (torch.optim.RMSprop(critic.parameters(), lr=lr) if optimizer == "rmsprop"
           else torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.0, 0.9)))
    if clip is not None:
        clip_weights_(critic, clip)                 # start inside the box
    losses = []
    for _ in range(n_steps):
        i = torch.randint(len(x_real), (batch_size,), generator=generator).to(x_real.device)
        j = torch.randint(len(x_fake), (batch_size,), generator=generator).to(x_fake.device)
        out = wgan_critic_step(nn.Identity(), critic, opt, x_real[i], x_fake[j], clip,
                               gp_weight, generator)
        losses.append(out["d_loss"])
    return losses


def train_deep_critic(x_real: Tensor, x_fake: Tensor, *, clip: Optional[float] = None,
                      gp_weight: float = 0.0, depth: int = 8, width: int = 32,
                      n_steps: int = 30, lr: float = 5e-3,
                      generator: Optional[torch.Generator] = None) -> MLPDiscriminator:
    r"""A deep critic, as in figure 1b of Gulrajani et al. (2017): an :class:`MLPDiscriminator`
    with ``depth`` hidden layers of ``width`` units, its weights and biases drawn from
    $U(\pm 1/\sqrt{\text{fan-in}})$ with ``generator``, trained for ``n_steps`` by
    :func:`train_critic` against the fixed points ``x_real`` and ``x_fake`` (N, d), either
    with weight clipping at ``clip`` (RMSProp) or with the gradient penalty ``gp_weight``
    (Adam). Give exactly one of the two. Returns the trained critic."""
    if clip is not None:
        clip = check_number("clip", clip, positive=True)
    gp_weight = check_number("gp_weight", gp_weight, nonnegative=True)
    if (clip is None) == (gp_weight == 0):
        raise ValueError("give exactly one of clip and gp_weight (> 0)")
    check_tensor("x_real", x_real, ndim=2, floating=True, min_batch=1)
    check_tensor("x_fake", x_fake, ndim=2, floating=True, min_batch=1)
    if x_fake.shape[1] != x_real.shape[1]:
        raise ValueError(f"x_real and x_fake must hold points of the same dimension, got shapes "
                         f"{tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    check_int("n_steps", n_steps, min_value=1)
    check_number("lr", lr, positive=True)
    check_generator("generator", generator)
    critic = MLPDiscriminator(x_real.shape[1], hidden=check_int("width", width, min_value=1),
                              n_hidden_layers=check_int("depth", depth, min_value=1))
    critic = critic.to(device=x_real.device, dtype=x_real.dtype)
    with torch.no_grad():
        for m in critic.modules():
            if isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                for p in (m.weight, m.bias):
                    p.copy_((2 * rand(p.shape, generator, p.device, p.dtype) - 1) * bound)
    train_critic(critic, x_real, x_fake, n_steps, lr=lr, clip=clip, gp_weight=gp_weight,
                 optimizer="rmsprop" if clip is not None else "adam", generator=generator)
    return critic


def critic_gradient_profile(x_real: Tensor, x_fake: Tensor, **kwargs) -> list[float]:
    """:func:`layer_gradient_norms` of :func:`train_deep_critic` (same arguments), measured
    on all the points ``x_real`` and ``x_fake``: from the input layer to the last."""
    critic = train_deep_critic(x_real, x_fake, **kwargs)
    return layer_gradient_norms(critic.net, torch.cat([x_real, x_fake]))


def clipping_experiment(clips: Sequence[float], *, gp_weight: Optional[float] = 10.0,
                        n_points: int = 512, blob_std: float = 0.3, seed: int = 0) -> dict:
    r"""Chapter 10's version of figure 1b of Gulrajani et al. (2017): the data are
    ``n_points`` from the ring of 8 Gaussians, the frozen generator's samples as many points
    of $\mathcal N(0, \sigma^2 I)$ with $\sigma$ = ``blob_std``, all drawn from a generator
    seeded with ``seed``; with the same generator, one deep critic is trained
    (:func:`train_deep_critic`) for each clipping constant in ``clips`` (30 RMSProp steps)
    and then one with the gradient penalty ``gp_weight`` (50 Adam steps; ``None`` skips
    it). Returns ``{"clip": {c: norms}, "gp": norms or None, "weight_norm": {c: ratios}}``:
    each ``norms`` the per-layer gradient norms (:func:`layer_gradient_norms`) from the
    input layer to the last, and each ``ratios`` the spectral norms of the clipped critic's
    hidden-to-hidden weight matrices divided by $c$. (A width-$n$ matrix of $\pm c$ entries
    has spectral norm about $2\sqrt n\,c$ if its signs are random, and up to $n c$ if they
    are aligned.)"""
    clips = check_numbers("clips", clips, positive=True)
    if gp_weight is not None:
        gp_weight = check_number("gp_weight", gp_weight, positive=True)
    n_points = check_int("n_points", n_points, min_value=2)
    blob_std = check_number("blob_std", blob_std, positive=True)
    g = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    x_real = ring_of_gaussians(n_points, g)
    x_fake = blob_std * randn((n_points, 2), g)
    points = torch.cat([x_real, x_fake])
    profiles, weight_norms = {}, {}
    for c in clips:
        critic = train_deep_critic(x_real, x_fake, clip=c, generator=g)
        profiles[c] = layer_gradient_norms(critic.net, points)
        linear = [m for m in critic.net if isinstance(m, nn.Linear)][1:-1]
        weight_norms[c] = [torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() / c
                           for m in linear]
    gp = None
    if gp_weight is not None:
        gp = critic_gradient_profile(x_real, x_fake, n_steps=50, lr=1e-3, generator=g,
                                     gp_weight=gp_weight)
    return {"clip": profiles, "gp": gp, "weight_norm": weight_norms}


# ---------------------------------------------------------------------------- trainer

class GANTrainer:
    """Alternating updates of a GAN (``kind="gan"``), an EBGAN (``kind="ebgan"``) or a
    Wasserstein GAN (``kind="wgan"``), one :meth:`step` per mini-batch of data, for
    :func:`companion.training.fit` (with ``optimizer=None``).

    Each step makes ``d_steps`` discriminator updates on the batch, each with fresh noise,
    then one generator update. Adam with ``betas=(0.5, 0.999)`` as in DCGAN by default, or
    RMSProp (``optimizer="rmsprop"``, as the original WGAN). A WGAN's critic clips its
    weights to [-clip, clip] (``clip=None``: no clipping) and adds ``gp_weight`` times the
    gradient penalty (WGAN-GP) if ``gp_weight > 0``. With
    ``track_energy=True`` it also measures, on the step's own batches, how much the
    discriminator's update moved the energy of the data and of the samples and how much
    the generator's update moved the energy of its samples (three extra forward passes).
    ``nets`` holds both networks, for :class:`companion.training.Snapshots`; ``fixed_noise``
    is a batch of ``n_fixed`` noise vectors drawn once, for monitoring.
    """

    def __init__(self, G: nn.Module, D: nn.Module, latent_shape: Shape, *, kind: str = "gan",
                 g_loss: str = "nonsaturating", lr_g: float = 2e-4, lr_d: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), d_steps: int = 1,
                 margin: float = 1.0, pt_weight: float = 0.0, clip: Optional[float] = None,
                 gp_weight: float = 0.0, optimizer: str = "adam", n_fixed: int = 64,
                 track_energy: bool = False, generator: Optional[torch.Generator] = None,
                 device=None):
        self.G, self.D = _check_module("G", G), _check_module("D", D)
        self.kind = check_choice("kind", kind, ("gan", "ebgan", "wgan"))
        if kind == "ebgan" and not isinstance(D, AutoencoderDiscriminator):
            raise TypeError(f"D must be an AutoencoderDiscriminator when kind='ebgan' (the "
                            f"energy is its reconstruction error), got {type(D).__name__}")
        _check_players("G", G, "D", D)
        _check_trainable("G", G), _check_trainable("D", D)
        self.g_loss = check_choice("g_loss", g_loss, ("nonsaturating", "saturating"))
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, numbers.Real) and not isinstance(b, bool)
                           and 0 <= b < 1 for b in betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        betas = (float(betas[0]), float(betas[1]))
        self.latent_shape = _latent_shape(latent_shape)
        shapes = _input_shapes(G)
        if shapes is not None and self.latent_shape not in shapes:
            raise ValueError(f"latent_shape must be the shape of G's input, {shapes[0]}, got "
                             f"{self.latent_shape}")
        self.d_steps = check_int("d_steps", d_steps, min_value=1)
        self.margin = check_number("margin", margin, positive=True)
        self.pt_weight = check_number("pt_weight", pt_weight, nonnegative=True)
        self.track_energy = bool(track_energy)
        self.generator, self.device = check_generator("generator", generator), device
        self.clip = None if clip is None else check_number("clip", clip, positive=True)
        self.gp_weight = check_number("gp_weight", gp_weight, nonnegative=True)
        if kind != "wgan" and (clip is not None or gp_weight > 0):
            raise ValueError(f"clip and gp_weight are for kind='wgan', got kind={kind!r}")
        check_choice("optimizer", optimizer, ("adam", "rmsprop"))
        lr_g = check_number("lr_g", lr_g, positive=True)
        lr_d = check_number("lr_d", lr_d, positive=True)
        if optimizer == "adam":
            self.opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
            self.opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
        else:
            self.opt_g = torch.optim.RMSprop(G.parameters(), lr=lr_g)
            self.opt_d = torch.optim.RMSprop(D.parameters(), lr=lr_d)
        if kind == "wgan" and self.clip is not None:
            clip_weights_(D, self.clip)             # the critic starts inside the box
        self.nets = nn.ModuleDict({"G": G, "D": D})
        self.fixed_noise = self.noise(check_int("n_fixed", n_fixed, min_value=1))

    def noise(self, n: int) -> Tensor:
        """``n`` fresh noise vectors, (n, *latent_shape), drawn with the trainer's generator."""
        return sample_noise(n, self.latent_shape, self.generator, self.device)

    def energy(self, x: Tensor) -> Tensor:
        """The discriminator's energy: -logit for a GAN, -f for a WGAN critic, reconstruction
        error for an EBGAN."""
        _check_batch("x", x, "D", self.D)
        return self.D(x) if self.kind == "ebgan" else -self.D(x)

    def step(self, x_real: Tensor) -> dict:
        """``d_steps`` discriminator updates and one generator update on the batch ``x_real``."""
        _check_batch("x_real", x_real, "D", self.D,
                     min_batch=2 if self.kind == "ebgan" and self.pt_weight > 0 else 1)
        n = x_real.shape[0]
        for _ in range(self.d_steps):
            z = self.noise(n)
            if self.track_energy:
                with torch.no_grad():
                    x_fake = self.G(z)
            if self.kind == "ebgan":
                d = ebgan_discriminator_step(self.G, self.D, self.opt_d, x_real, z, self.margin)
            elif self.kind == "wgan":
                d = wgan_critic_step(self.G, self.D, self.opt_d, x_real, z, self.clip,
                                     self.gp_weight, self.generator)
            else:
                d = discriminator_step(self.G, self.D, self.opt_d, x_real, z)
        z = self.noise(n)
        if self.kind == "ebgan":
            g = ebgan_generator_step(self.G, self.D, self.opt_g, z, self.pt_weight)
        elif self.kind == "wgan":
            g = wgan_generator_step(self.G, self.D, self.opt_g, z)
        else:
            g = generator_step(self.G, self.D, self.opt_g, z, self.g_loss)
        out = {"loss": d["d_loss"], **d, **g}
        if self.track_energy:
            with torch.no_grad():
                out["d_moves_e_real"] = self.energy(x_real).mean().item() - d["e_real"]
                out["d_moves_e_fake"] = self.energy(x_fake).mean().item() - d["e_fake"]
                out["g_moves_e_gen"] = self.energy(self.G(z)).mean().item() - g["e_gen"]
        return out


# ------------------------------------------------------------------- the bilinear game

def bilinear_game(x0: float, y0: float, lr: float, n_steps: int,
                  mode: str = "simultaneous") -> Tensor:
    r"""Gradient play on $\min_x \max_y f(x, y) = xy$, whose only equilibrium is (0, 0).

    ``"simultaneous"``: $x_{t+1} = x_t - \eta y_t$, $y_{t+1} = y_t + \eta x_t$, which
    multiplies the distance from the origin by exactly $\sqrt{1 + \eta^2}$ at every step
    (an outward spiral). ``"alternating"``: $x_{t+1} = x_t - \eta y_t$,
    $y_{t+1} = y_t + \eta x_{t+1}$, an area-preserving map whose iterates stay on a closed
    curve for $\eta < 2$. Returns the iterates (n_steps + 1, 2) in float64.
    """
    x, y = check_number("x0", x0), check_number("y0", y0)
    lr = check_number("lr", lr, positive=True)
    n_steps = check_int("n_steps", n_steps, min_value=0)
    check_choice("mode", mode, ("simultaneous", "alternating"))
    path = [(x, y)]
    for _ in range(n_steps):
        if mode == "simultaneous":
            x, y = x - lr * y, y + lr * x       # both gradients at the old point
        else:
            x = x - lr * y                      # x moves first ...
            y = y + lr * x                      # ... and y sees the new x
        path.append((x, y))
    return torch.tensor(path, dtype=torch.float64)
