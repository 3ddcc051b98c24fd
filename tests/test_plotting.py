import numpy as np
import pytest
import torch

from companion import plotting


def bowl(p):
    return (p**2).sum(dim=1)


def test_grid_evaluation_is_the_function_at_the_grid_points():
    X, Y, Z = plotting.evaluate_on_grid(bowl, (-1, 2), (-3, 1), n=7)
    np.testing.assert_allclose(Z, X**2 + Y**2, rtol=1e-6)
    assert X[0, 0] == -1 and X[0, -1] == 2 and Y[0, 0] == -3 and Y[-1, 0] == 1


def test_energy_landscape_draws_labelled_axes():
    fig, ax = plotting.energy_landscape(bowl, xlim=(-1, 1), ylim=(-1, 1), n=20, title="bowl")
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "bowl"
    assert len(fig.axes) == 2, "the landscape and its colour bar"


def test_image_grid_places_the_images():
    imgs = torch.rand(6, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    fig, ax = plotting.image_grid(imgs.reshape(6, 25), nrow=3, padding=2)
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(shown[2:7, 2:7], imgs[0, 0].numpy(), rtol=1e-6)   # first tile
    np.testing.assert_allclose(shown[2:7, 9:14], imgs[1, 0].numpy(), rtol=1e-6)  # second tile


def test_paths_curves_histograms_scatter():
    paths = torch.cumsum(torch.ones(5, 3, 2), dim=0)
    fig, ax = plotting.plot_paths(paths)
    assert len(ax.lines) == 3
    fig, ax = plotting.curves({"a": [1, 2, 3], "b": [3, 2, 1]}, xlabel="step", ylabel="loss")
    assert [l.get_label() for l in ax.lines] == ["a", "b"]
    fig, ax = plotting.histograms({"x": np.arange(10.0), "y": np.arange(5.0)}, xlabel="energy")
    assert ax.get_xlabel() == "energy"
    fig, ax = plotting.scatter_2d(torch.zeros(4, 2), centers=torch.ones(2, 2), lim=3)
    assert ax.get_xlim() == (-3, 3)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: plotting.evaluate_on_grid(bowl, (1, -1)), ValueError, "xlim must satisfy low < high"),
    (lambda: plotting.evaluate_on_grid(bowl, 5), TypeError, "xlim must be a pair"),
    (lambda: plotting.evaluate_on_grid(lambda p: p, n=4), ValueError, "fn must map points"),
    (lambda: plotting.image_grid(torch.rand(3, 10)), ValueError, "not square; pass image_shape"),
    (lambda: plotting.image_grid(np.zeros((2, 4))), TypeError, "images must be a torch.Tensor"),
    (lambda: plotting.plot_paths(torch.zeros(3, 2)), ValueError, r"paths must have shape \(T, B, 2\)"),
    (lambda: plotting.curves([1, 2]), TypeError, "series must be a non-empty mapping"),
    (lambda: plotting.scatter_2d(torch.zeros(3, 3)), ValueError, r"points must have shape \(n, 2\)"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
