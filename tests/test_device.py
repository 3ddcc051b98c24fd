import pytest
import torch

from companion.device import available_devices, get_device


def test_default_is_the_best_available():
    assert get_device() == torch.device(available_devices()[0])
    assert available_devices()[-1] == "cpu"


def test_cpu_always_works():
    assert get_device("cpu") == torch.device("cpu")
    # a tensor made on the chosen device really lives there
    assert torch.zeros(1, device=get_device("cpu")).device.type == "cpu"


def test_bad_names_are_rejected():
    with pytest.raises(ValueError, match="prefer must be one of"):
        get_device("tpu")
    with pytest.raises(TypeError, match="prefer must be a string"):
        get_device(0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_device_says_what_is_available():
    with pytest.raises(ValueError, match="not available.*available"):
        get_device("cuda")
