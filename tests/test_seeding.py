import random

import numpy as np
import pytest
import torch

from companion.seeding import rand, randint, randn, randperm, seed_everything


def test_same_seed_same_numbers_everywhere():
    draws = []
    for _ in range(2):
        g = seed_everything(7)
        draws.append((random.random(), np.random.rand(), torch.rand(3), randn((2, 2), g)))
    (a1, b1, c1, d1), (a2, b2, c2, d2) = draws
    assert a1 == a2 and b1 == b2
    assert torch.equal(c1, c2) and torch.equal(d1, d2)


def test_different_seeds_differ():
    assert not torch.equal(randn(5, seed_everything(0)), randn(5, seed_everything(1)))


def test_draws_do_not_depend_on_the_target_device():
    # numbers are drawn on the generator's device, then moved: same numbers on any device
    x = randn((3, 4), seed_everything(3), device="cpu")
    y = randn((3, 4), seed_everything(3))
    assert torch.equal(x, y) and x.device.type == "cpu"


def test_distributions_have_the_right_support_and_moments():
    g = seed_everything(0)
    u = rand(100_000, g)
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 5 * (1 / 12) ** 0.5 / 100_000 ** 0.5
    z = randn(100_000, g)
    assert abs(z.mean().item()) < 5 / 100_000 ** 0.5
    k = randint(6, (60_000,), g)
    assert set(k.unique().tolist()) == set(range(6))
    p = randperm(10, g)
    assert sorted(p.tolist()) == list(range(10))


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="seed must be an integer"):
        seed_everything(1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        seed_everything(-1)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        randn(3, generator=42)
    with pytest.raises(ValueError, match=r"shape\[0\] must be >= 0"):
        randn((-1, 2))
    with pytest.raises(ValueError, match="high must be >= 1"):
        randint(0, 3)
