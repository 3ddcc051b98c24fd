import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from companion import seed_everything  # noqa: E402

# The unit tests run on two pytest-xdist workers on a 2-core machine: one torch thread each,
# or the workers' thread pools contend (a test of many small operations then runs 20x slower).
torch.set_num_threads(1)


@pytest.fixture
def gen() -> torch.Generator:
    return seed_everything(1234)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")

