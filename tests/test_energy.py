import math

import pytest
import torch
from scipy import integrate

from companion import energy, samplers


def test_gradient_descent_finds_the_minimum_of_a_quadratic():
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    b = torch.tensor([1.0, -1.0])
    fn = lambda y: 0.5 * torch.einsum("bi,ij,bj->b", y, A, y) - y @ b   # noqa: E731
    y = energy.gradient_descent(fn, torch.zeros(3, 2), n_steps=500, step_size=0.3)
    assert torch.allclose(y, torch.linalg.solve(A, b).expand(3, 2), atol=1e-5)


def test_gradient_descent_is_noiseless_langevin():
    fn = lambda y: (y**4).sum(1)   # noqa: E731
    y0 = torch.tensor([[0.5, -1.0]])
    a = energy.gradient_descent(fn, y0, n_steps=7, step_size=0.01)
    b = samplers.langevin(fn, y0, n_steps=7, step_size=0.01, noise=torch.randn(7, 1, 2),
                          noise_scale=0.0)
    assert torch.equal(a, b)


def test_wells_is_the_soft_minimum_of_its_wells():
    w = energy.Wells()
    y = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    x = 0.37
    terms = torch.stack([((y - w.centers[k]) ** 2).sum(1) / (2 * w.width**2)
                         + (x - w.preferred[k]) ** 2 for k in range(3)], dim=1)
    assert torch.allclose(w(x, y), -torch.log(torch.exp(-terms).sum(1)), atol=1e-5)
    assert torch.allclose(w(torch.full((50,), x), y), w(x, y))
    # F is bounded above by each well: the soft minimum is below the hard minimum
    assert (w(x, y) <= terms.min(1).values + 1e-6).all()


def test_ellipse_energy_is_zero_exactly_on_the_ellipse():
    lvm = energy.EllipseLVM()
    z = torch.linspace(0, 6, 20)
    for x in (-1.0, 0.0, 0.7):
        y = lvm.decode(x, z)
        a, b = lvm.axes(x)
        assert torch.allclose((y[:, 0] / a) ** 2 + (y[:, 1] / b) ** 2, torch.ones(20), atol=1e-5)
        assert lvm.energy(x, y, z).abs().max() < 1e-10


def test_min_energy_on_a_circle_is_the_squared_distance():
    circle = energy.EllipseLVM(a=(0.8, 0.0), b=(0.8, 0.0))
    y = torch.randn(200, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    f, z = circle.min_energy(0.0, y)
    assert torch.allclose(f, (y.norm(dim=1) - 0.8) ** 2, atol=1e-9)
    # the minimiser points along y (away from the centre, where every angle is nearly as good)
    far = y.norm(dim=1) > 0.3
    direction = y[far] / y[far].norm(dim=1, keepdim=True)
    assert torch.allclose(torch.stack([z[far].cos(), z[far].sin()], 1), direction, atol=1e-6)


def test_joint_minimisation_reaches_zero_energy():
    lvm = energy.EllipseLVM()
    u0 = torch.tensor([[0.3, 0.2, 1.0], [-1.0, 1.5, 4.0]])
    u = energy.gradient_descent(lvm.joint(0.4), u0, n_steps=500, step_size=0.1)
    assert lvm.joint(0.4)(u).max() < 1e-8


def test_free_energy_of_a_gaussian_bump_is_exact():
    # E(z) = a (z - z0)^2 on a wide grid: F_beta = -(1/beta) log sqrt(pi / (beta a))
    a, z0 = 3.0, 0.2
    z = torch.linspace(-20, 20, 40001, dtype=torch.float64)
    e = a * (z - z0) ** 2
    for beta in (0.5, 2.0, 50.0):
        exact = -math.log(math.sqrt(math.pi / (beta * a))) / beta
        got = energy.free_energy(e, beta, dz=(z[1] - z[0]).item()).item()
        assert abs(got - exact) < 1e-9
        # and Laplace's approximation is exact for a quadratic
        assert abs(energy.laplace_free_energy(0.0, 2 * a, beta) - exact) < 1e-12


def test_free_energy_of_the_ellipse_agrees_with_quadrature():
    lvm = energy.EllipseLVM()
    y = torch.tensor([[1.1, -0.4]], dtype=torch.float64)
    for beta in (0.3, 3.0, 30.0):
        integrand = lambda zz: math.exp(-beta * lvm.energy(  # noqa: E731
            0.2, y, torch.tensor([zz], dtype=torch.float64)).item())
        value, _ = integrate.quad(integrand, 0, 2 * math.pi, limit=200)
        assert abs(lvm.free_energy(0.2, y, beta, n_z=2048).item() + math.log(value) / beta) < 1e-8


def test_free_energy_tends_to_the_minimum_not_the_argmin():
    lvm = energy.EllipseLVM()
    y = torch.tensor([[1.9, 0.6]], dtype=torch.float64)
    e_min, z_min = lvm.min_energy(0.0, y)
    gaps = [abs(lvm.free_energy(0.0, y, b, n_z=8192) - e_min).item() for b in (1e2, 1e3, 1e4)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3
    assert abs(z_min.item() - e_min.item()) > 0.01, "argmin and min are different numbers"


def test_boltzmann_normalises_and_interpolates_between_uniform_and_argmin():
    e = torch.tensor([[0.0, 1.0], [2.0, 0.5]], dtype=torch.float64)
    p = energy.boltzmann(e, 1.0, cell=0.5)
    assert abs((p.sum() * 0.5).item() - 1) < 1e-12 and p.shape == e.shape
    assert torch.allclose(p.reshape(-1), torch.softmax(-e.reshape(-1), 0) / 0.5)
    cold = energy.boltzmann(e, 1e4)
    assert cold[0, 0] > 1 - 1e-12
    hot = energy.boltzmann(e, 1e-9)
    assert torch.allclose(hot, torch.full_like(e, 0.25))


def test_entropy_of_a_uniform_density():
    density = torch.full((100,), 1 / 2.0, dtype=torch.float64)   # uniform on a length-2 interval
    assert abs(energy.entropy(density, cell=0.02) - math.log(2.0)) < 1e-12


def test_marginal_of_the_joint_is_the_boltzmann_of_the_free_energy():
    # the grid marginal must be proportional to exp(-beta F_beta) with F_beta from quadrature
    lvm, beta = energy.EllipseLVM(), 2.0
    pts, cell = energy.grid((-2, 2), (-2, 2), 31)
    e, _, dz = lvm.energy_grid(0.0, pts.double(), n_z=64)
    marginal = energy.boltzmann(e, beta, cell * dz).sum(1) * dz
    log_z = []
    for i in (0, 100, 480, 777):
        y = pts[i:i + 1].double()
        integrand = lambda zz: math.exp(-beta * lvm.energy(  # noqa: E731
            0.0, y, torch.tensor([zz], dtype=torch.float64)).item())
        value, _ = integrate.quad(integrand, 0, 2 * math.pi, epsabs=0, epsrel=1e-12, limit=200)
        log_z.append(marginal[i].log().item() - math.log(value))
    assert max(log_z) - min(log_z) < 1e-10
    # and the companion's two functions say the same on the grid
    assert torch.allclose(marginal, energy.boltzmann(energy.free_energy(e, beta, dz), beta, cell),
                          atol=1e-14)


def test_log_partition_of_the_wells_agrees_with_quadrature():
    w = energy.Wells()
    for x, box in [(0.3, ((-3, 3), (-3, 3))), (-1.2, ((-2, 1), (-1.5, 2.5)))]:
        (x0, x1), (y0, y1) = box
        f = lambda yy, xx: math.exp(-w(x, torch.tensor([[xx, yy]], dtype=torch.float64)).item())  # noqa: E731
        value, _ = integrate.dblquad(f, x0, x1, y0, y1, epsabs=0, epsrel=1e-9)
        assert abs(energy.wells_log_partition(w, x, *box) - math.log(value)) < 1e-8
    with pytest.raises(ValueError, match="xlim must satisfy low < high"):
        energy.wells_log_partition(w, 0.0, (1, 0), (0, 1))
    with pytest.raises(TypeError, match="wells must be a Wells energy"):
        energy.wells_log_partition(energy.EllipseLVM(), 0.0, (0, 1), (0, 1))


def test_grid_covers_the_box():
    pts, cell = energy.grid((0, 1), (0, 2), 3)
    assert pts.shape == (9, 2) and abs(cell - 0.5) < 1e-12
    # the cell area is exact, not a difference of float32 grid points
    assert abs(energy.grid((-3, 3), (-3, 3), 1201)[1] - 0.005**2) < 1e-18
    assert pts[0].tolist() == [0.0, 0.0] and pts[-1].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: energy.free_energy(torch.zeros(3), beta=0.0), ValueError, "beta must be > 0"),
    (lambda: energy.free_energy(torch.zeros(3), beta=1.0, dz=-1), ValueError, "dz must be > 0"),
    (lambda: energy.boltzmann(torch.zeros(3), beta=-1.0), ValueError, "beta must be > 0"),
    (lambda: energy.boltzmann([0.0, 1.0], beta=1.0), TypeError, "energies must be a torch.Tensor"),
    (lambda: energy.Wells()(0.0, torch.zeros(3, 3)), ValueError, "y must have last dimension 2"),
    (lambda: energy.Wells()(torch.zeros(2), torch.zeros(3, 2)), ValueError, "x must be a number"),
    (lambda: energy.Wells(width=0), ValueError, "width must be > 0"),
    (lambda: energy.Wells(preferred=(0.0,)), ValueError, "preferred must hold one value"),
    (lambda: energy.EllipseLVM().axes(-5.0), ValueError, "both must be > 0"),
    (lambda: energy.EllipseLVM().energy(0.0, torch.zeros(3, 2), torch.zeros(2)), ValueError,
     "z must hold one angle per row"),
    (lambda: energy.EllipseLVM().energy_grid(0.0, torch.zeros(3, 2), n_z=2), ValueError,
     "n_z must be >= 4"),
    (lambda: energy.grid((1, 0), (0, 1), 5), ValueError, "low < high"),
    (lambda: energy.laplace_free_energy(0.0, -1.0, 1.0), ValueError, "curvature must be > 0"),
    (lambda: energy.gradient_descent(lambda y: y.sum(1), torch.zeros(2, 2), n_steps=3,
                                     step_size=0), ValueError, "step_size must be > 0"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_moments_of_a_gaussian_on_a_grid():
    y = torch.linspace(-10, 10, 4001, dtype=torch.float64)
    p = torch.exp(-0.5 * ((y - 1.5) / 0.7) ** 2)              # unnormalised is fine
    mean, std = energy.moments(y, p, (y[1] - y[0]).item())
    assert abs(mean - 1.5) < 1e-9 and abs(std - 0.7) < 1e-9
    with pytest.raises(ValueError, match="same shape"):
        energy.moments(y, p[:-1])


def test_bad_input_entropy_refuses_a_negative_density():
    density = torch.tensor([0.5, 0.7, -0.2], dtype=torch.float64)
    with pytest.raises(ValueError, match="density must be non-negative"):
        energy.entropy(density, cell=1.0)
