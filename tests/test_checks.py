"""The shared argument checks in companion/_checks.py: what they accept, and that every
rejection names the argument (the element, for sequences) and what was expected."""
import numpy as np
import pytest
import torch

from companion._checks import (check_bool, check_broadcast_together, check_broadcasts_to,
                               check_float_dtype, check_like, check_number, check_numbers,
                               check_sequence, check_widths)


@pytest.mark.parametrize("values", [[0.5, 2], (0.5, 2), torch.tensor([0.5, 2.0]),
                                    np.array([0.5, 2.0]), [np.float32(0.5), np.int64(2)],
                                    [torch.tensor(0.5), 2]])
def test_check_numbers_accepts_sequences_of_real_numbers(values):
    assert check_numbers("x", values) == [0.5, 2.0]


@pytest.mark.parametrize("values, exc, msg", [
    ("12", TypeError, "x must be a sequence of numbers, got str"),
    (3.0, TypeError, "x must be a sequence of numbers, got float"),
    (torch.zeros(2, 2), ValueError, r"x must be one-dimensional, a sequence of numbers, got shape \(2, 2\)"),
    ([], ValueError, "x must not be empty"),
    ([1.0, float("nan")], ValueError, r"x\[1\] must be finite, got nan"),
    ([1.0, True], TypeError, r"x\[1\] must be a real number, got bool True"),
    ([1.0, -1.0], ValueError, r"x\[1\] must be > 0, got -1.0"),
])
def test_check_numbers_names_the_bad_element(values, exc, msg):
    with pytest.raises(exc, match=msg):
        check_numbers("x", values, positive=True)


def test_check_sequence_may_be_empty_when_asked():
    assert check_sequence("x", [], nonempty=False) == []


def test_check_number_within_a_closed_interval():
    assert check_number("p", 0) == 0.0 and check_number("p", 1, within=(0, 1)) == 1.0
    for bad in (-1e-9, 1 + 1e-9):
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got"):
            check_number("p", bad, within=(0, 1))


@pytest.mark.parametrize("shape, ok", [((3,), True), ((1, 3), True), ((), True), ((2, 3), True),
                                       ((2,), False), ((3, 3), False), ((1, 2, 3), False)])
def test_check_broadcasts_to_keeps_the_target_shape(shape, ok):
    t = torch.zeros(shape)
    if ok:
        check_broadcasts_to("theta", t, (2, 3))
    else:
        with pytest.raises(ValueError, match=r"theta must broadcast to \(2, 3\), got shape"):
            check_broadcasts_to("theta", t, (2, 3))


def test_check_broadcast_together_names_every_tensor():
    check_broadcast_together(m=torch.zeros(4, 1), v=torch.zeros(3))
    with pytest.raises(ValueError, match=r"m and v must have shapes that broadcast against each "
                                         r"other, got m \(4, 2\), v \(3,\)"):
        check_broadcast_together(m=torch.zeros(4, 2), v=torch.zeros(3))


@pytest.mark.parametrize("widths", [[3, 4], (3, 4), torch.tensor([3, 4]), np.array([3, 4]),
                                    [np.int64(3), 4]])
def test_check_widths_accepts_sequences_of_positive_ints(widths):
    assert check_widths("sizes", widths) == (3, 4)


@pytest.mark.parametrize("widths, exc, msg", [
    (5, TypeError, "sizes must be a sequence of layer widths, got int"),
    ("34", TypeError, "sizes must be a sequence of layer widths, got str"),
    ([3, 0], ValueError, r"sizes\[1\] must be >= 1, got 0"),
    ([3, 2.5], TypeError, r"sizes\[1\] must be an integer, got float 2.5"),
])
def test_check_widths_names_the_bad_width(widths, exc, msg):
    with pytest.raises(exc, match=msg):
        check_widths("sizes", widths)


def test_check_float_dtype():
    assert check_float_dtype("dtype", torch.float64) is torch.float64
    for bad in (torch.int64, "float32", float):
        with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
            check_float_dtype("dtype", bad)


def test_check_like_compares_dtype_unless_told_not_to():
    param = torch.zeros(2, dtype=torch.float64)
    check_like("v", torch.zeros(3, dtype=torch.float64), param)
    check_like("v", torch.zeros(3), param, dtype=False)
    with pytest.raises(TypeError, match=r"v must have the model's dtype torch.float64, got "
                                        r"torch.float32 \(convert one of them with "):
        check_like("v", torch.zeros(3), param)


def test_check_bool_refuses_truthy_stand_ins():
    assert check_bool("flag", True) is True and check_bool("flag", False) is False
    for bad in (0, 1, "yes", None, np.bool_(True)):
        with pytest.raises(TypeError, match="flag must be True or False, got"):
            check_bool("flag", bad)
