import pytest
import torch

from companion import training
from companion.seeding import randn


def test_fit_recovers_least_squares(gen):
    X = randn((512, 3), gen)
    w_true = torch.tensor([[1.5], [-2.0], [0.5]])
    y = X @ w_true + 0.1 * randn((512, 1), gen)
    model = torch.nn.Linear(3, 1, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = training.fit(lambda b: ((model(b[0]) - b[1]) ** 2).mean(), opt, (X, y),
                        batch_size=64, n_steps=600, generator=gen, progress=False)
    w_ls = torch.linalg.lstsq(X, y).solution
    assert torch.allclose(model.weight.T.detach(), w_ls, atol=0.02)
    assert len(hist["loss"]) == 600 and hist.seconds > 0
    assert hist.mean_last("loss", 50) < hist["loss"][0]


def test_epochs_and_metrics(gen):
    X = torch.arange(10.0).unsqueeze(1)
    seen = []

    def step(batch):
        seen.append(batch.squeeze(1))
        return {"loss": torch.tensor(1.0), "size": batch.shape[0]}

    hist = training.fit(step, None, X, batch_size=3, n_epochs=2, generator=gen, progress=False)
    assert len(hist) == 6 and hist["size"] == [3.0] * 6     # 3 full batches per epoch
    first_epoch = torch.cat(seen[:3])
    assert len(first_epoch.unique()) == 9                     # no repeats within an epoch


def test_batches_cover_every_row_once(gen):
    X, Y = torch.arange(10.0), torch.arange(10) * 2
    got = list(training.batches((X, Y), 4, gen, drop_last=False))
    xs = torch.cat([b[0] for b in got])
    assert sorted(xs.tolist()) == list(range(10))
    assert all(torch.equal(b[1], b[0].long() * 2) for b in got), "rows stay aligned"
    assert [len(b[0]) for b in training.batches((X, Y), 4, gen)] == [4, 4]


def test_callback_and_manual_updates(gen):
    calls = []
    training.fit(lambda b: 0.5, None, torch.zeros(8, 1), batch_size=2, n_steps=5,
                 generator=gen, progress=False, callback=lambda s, h: calls.append(s))
    assert calls == [1, 2, 3, 4, 5]


def test_history_smoothing_is_a_running_mean():
    h = training.History()
    for v in [1, 2, 3, 4, 5]:
        h.record({"loss": v})
    assert h.smoothed("loss", 2) == [1.0, 1.5, 2.5, 3.5, 4.5]
    with pytest.raises(KeyError, match="no metric 'acc'"):
        h["acc"]


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(n_steps=None, n_epochs=None), ValueError, "exactly one of n_steps and n_epochs"),
    (dict(n_steps=1, n_epochs=1), ValueError, "exactly one of n_steps and n_epochs"),
    (dict(n_steps=0), ValueError, "n_steps must be >= 1"),
    (dict(n_steps=1, batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(n_steps=1, clip_grad_norm=-1.0), ValueError, "clip_grad_norm must be > 0"),
])
def test_bad_arguments(kwargs, exc, msg):
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    args = dict(batch_size=2, progress=False)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        training.fit(lambda b: model(b).mean(), opt, torch.zeros(4, 1), **args)


def test_bad_data_and_losses():
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="share a non-empty first dimension"):
        training.fit(lambda b: 0, None, (torch.zeros(4, 1), torch.zeros(3)), batch_size=2,
                     n_steps=1, progress=False)
    with pytest.raises(TypeError, match="data must be a tensor"):
        training.fit(lambda b: 0, None, [[1.0]], batch_size=1, n_steps=1, progress=False)
    with pytest.raises(ValueError, match="scalar loss tensor"):
        training.fit(lambda b: model(b), opt, torch.zeros(4, 1), batch_size=2, n_steps=1,
                     progress=False)
    with pytest.raises(ValueError, match="must contain a 'loss'"):
        training.fit(lambda b: {"acc": 1.0}, None, torch.zeros(4, 1), batch_size=2, n_steps=1,
                     progress=False)
    with pytest.raises(TypeError, match="optimizer must be"):
        training.fit(lambda b: 0, "sgd", torch.zeros(4, 1), batch_size=2, n_steps=1)


def test_snapshots_keep_weights_and_extras(gen):
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    snaps = training.Snapshots(model, every=2, extra=lambda: model.weight.item())
    w0 = model.weight.item()
    training.fit(lambda b: (model(b) - 1).pow(2).mean(), opt, torch.ones(8, 1), batch_size=2,
                 n_steps=4, generator=gen, progress=False, callback=snaps)
    assert snaps.steps == [0, 2, 4] and snaps.extras[0] == w0
    twin = snaps.load(0, torch.nn.Linear(1, 1))
    assert twin.weight.item() == w0 and snaps.extras[4] == model.weight.item()
    with pytest.raises(KeyError, match="no snapshot at step 3"):
        snaps.load(3, twin)


def test_scheduler_is_stepped(gen):
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    training.fit(lambda b: model(b).mean(), opt, torch.ones(4, 1), batch_size=2, n_steps=3,
                 generator=gen, progress=False, scheduler=sched)
    assert abs(opt.param_groups[0]["lr"] - 0.125) < 1e-12
    with pytest.raises(TypeError, match="scheduler must be"):
        training.fit(lambda b: model(b).mean(), opt, torch.ones(4, 1), batch_size=2, n_steps=1,
                     progress=False, scheduler=3)


def test_knn_accuracy_matches_a_brute_force_vote():
    g = torch.Generator().manual_seed(0)
    # two classes and an odd k: a vote can never tie
    zt, yt = torch.randn(200, 2, generator=g), torch.randint(2, (200,), generator=g)
    zq, yq = torch.randn(50, 2, generator=g), torch.randint(2, (50,), generator=g)
    correct = 0
    for z, y in zip(zq, yq):
        d = ((zt - z) ** 2).sum(1)
        votes = yt[d.argsort()[:3]].tolist()
        winner = max(set(votes), key=votes.count)
        correct += int(winner == y.item())
    assert abs(training.knn_accuracy(zt, yt, zq, yq, k=3) - correct / 50) < 1e-6


def test_progress_bar_respects_tqdm_disable(gen, monkeypatch, capsys):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    training.fit(lambda b: 0.0, None, torch.zeros(4, 1), batch_size=2, n_steps=2, generator=gen)
    assert capsys.readouterr().err == ""


def test_bad_input_knn_accuracy_with_labels_shorter_than_the_data():
    """Reported as a crash deep inside torch; now a clear error naming the argument."""
    z, y = torch.randn(10, 3), torch.arange(10) % 2
    with pytest.raises(ValueError, match="y_train"):
        training.knn_accuracy(z, y[:7], z[:4], y[:4], k=3)
    with pytest.raises(ValueError, match="y_test"):
        training.knn_accuracy(z, y, z[:4], y[:3], k=3)
