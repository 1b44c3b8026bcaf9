"""minigrad.course.training: the tasks, the library-agnostic training loop (minigrad and torch
trained from the same weights must give the same losses and weights), accuracy, the
per-parameter comparison, the graph's leaf nodes, and AdamW written out in numpy against
torch.optim.AdamW and minigrad.optim.AdamW."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.course.compare import CheckFailed
from minigrad.course.training import (accuracy, adamw_step, compare_parameters, digits_data,
                                      flat_parameters, leaf_nodes, make_mlp, minibatches,
                                      shifted_copy_task, train)
from minigrad.nn import make_blocks

TB = make_blocks(torch.nn)


@pytest.fixture(autouse=True)
def float64():
    old_mg, old_t = mg.get_default_dtype(), torch.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    torch.set_default_dtype(torch.float64)
    yield
    mg.set_default_dtype(old_mg)
    torch.set_default_dtype(old_t)


def twins(make, seed=0):
    """A torch model and a minigrad model with the torch model's initial weights."""
    torch.manual_seed(seed)
    ref, mine = make(torch), make(mg)
    mine.load_state_dict(ref.state_dict())
    return mine, ref


# ------------------------------------------------------------------ tasks
def test_digits_data_split():
    X, y, Xt, yt = digits_data(test_fraction=0.25, seed=3)
    assert X.shape == (1348, 64) and Xt.shape == (449, 64)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() > 0.9
    assert set(np.unique(y)) == set(range(10)) and set(np.unique(yt)) <= set(range(10))
    # the split is a partition of the 1797 images: no image in both halves
    from sklearn.datasets import load_digits
    full = load_digits().data / 16.0
    both = np.concatenate([X, Xt])
    assert sorted(map(bytes, both)) == sorted(map(bytes, full))
    X2, y2, _, _ = digits_data(test_fraction=0.25, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(y, digits_data(seed=4)[1])


def test_digits_data_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        digits_data(test_fraction=1.5)


def test_shifted_copy_task_rule():
    idx, tg = shifted_copy_task(50, 7, 6, shift=3, seed=1)
    assert idx.shape == tg.shape == (50, 7) and idx.dtype == np.int64
    assert idx.min() >= 1 and idx.max() <= 5
    assert (tg[:, :3] == -100).all()
    for t in range(3, 7):
        np.testing.assert_array_equal(tg[:, t], idx[:, t - 3])
    np.testing.assert_array_equal(shifted_copy_task(50, 7, 6, 3, seed=1)[0], idx)


@pytest.mark.parametrize("kw, match", [(dict(shift=0), "shift"), (dict(shift=7), "shift"),
                                       (dict(vocab_size=2), "vocab_size")])
def test_shifted_copy_task_errors(kw, match):
    args = dict(n=4, length=7, vocab_size=6, shift=2)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        shifted_copy_task(**args)


# ------------------------------------------------------------------ models and loops
def test_make_mlp_both_libraries():
    mine, ref = twins(lambda lib: make_mlp(lib, (5, 4, 3, 2)))
    names = [n for n, _ in mine.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    x = np.random.default_rng(0).standard_normal((6, 5))
    np.testing.assert_allclose(mine(mg.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="sizes"):
        make_mlp(mg, (5,))


def test_minibatches():
    full = minibatches(10, None, 3)
    assert len(full) == 3 and all((b == np.arange(10)).all() for b in full)
    batches = minibatches(10, 3, 7, seed=2)
    assert len(batches) == 7 and all(len(b) == 3 for b in batches)
    # 3 batches per epoch (the 10th example is dropped), each epoch without repeats
    for epoch in (batches[0:3], batches[3:6]):
        seen = np.concatenate(epoch)
        assert len(set(seen)) == 9
    assert not all((a == b).all() for a, b in zip(batches[0:3], batches[3:6]))
    for b1, b2 in zip(batches, minibatches(10, 3, 7, seed=2)):
        np.testing.assert_array_equal(b1, b2)
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(10, 11, 1)


def test_train_records_the_loss_before_each_step():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)
    mine, _ = twins(lambda lib: make_mlp(lib, (5, 4, 3)))
    first = float(mg.nn.functional.cross_entropy(mine(mg.tensor(X)), mg.tensor(y)).item())
    w_before = flat_parameters(mine)
    opt = mg.optim.SGD(mine.parameters(), lr=0.1)
    losses = train(mg, mine, opt, X, y, steps=2)
    assert losses.shape == (2,)
    assert losses[0] == pytest.approx(first, rel=1e-14)
    assert losses[1] < losses[0]
    assert not np.allclose(flat_parameters(mine), w_before)


def test_train_is_the_usual_torch_loop():
    """``train`` against the loop written out with torch alone, on the same batches."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    mine, ref = twins(lambda lib: make_mlp(lib, (5, 6, 3)))
    opt = mg.optim.SGD(mine.parameters(), lr=0.3, momentum=0.9)
    losses = train(mg, mine, opt, X, y, steps=8, batch_size=6, seed=5)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.3, momentum=0.9)
    expected = []
    for idx in minibatches(20, 6, 8, seed=5):
        loss = torch.nn.functional.cross_entropy(ref(torch.tensor(X[idx])), torch.tensor(y[idx]))
        opt_t.zero_grad()
        loss.backward()
        opt_t.step()
        expected.append(loss.item())
    np.testing.assert_allclose(losses, expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(flat_parameters(mine), flat_parameters(ref), rtol=0, atol=1e-13)


@pytest.mark.parametrize("opt_name, kw, batch_size", [
    ("SGD", dict(lr=0.2, momentum=0.9), 32),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05), None),
])
def test_train_mlp_minigrad_equals_torch(opt_name, kw, batch_size):
    X, y, Xt, yt = digits_data()
    X, y = X[:200], y[:200]
    mine, ref = twins(lambda lib: make_mlp(lib, (64, 16, 10)))
    curves = []
    for lib, model in ((mg, mine), (torch, ref)):
        opt = getattr(lib.optim, opt_name)(model.parameters(), **kw)
        curves.append(train(lib, model, opt, X, y, steps=15, batch_size=batch_size))
    np.testing.assert_allclose(curves[0], curves[1], rtol=0, atol=1e-12)
    assert curves[0][-1] < curves[0][0]
    np.testing.assert_allclose(flat_parameters(mine), flat_parameters(ref), rtol=0, atol=1e-12)
    assert accuracy(mg, mine, Xt, yt) == accuracy(torch, ref, Xt, yt)


def test_train_gpt_minigrad_equals_torch():
    cfg = dict(vocab_size=6, context_length=6, d_model=8, n_heads=2, n_layers=1)
    idx, tg = shifted_copy_task(40, 6, 6, shift=2)
    mine, ref = twins(lambda lib: (mg.nn.GPT if lib is mg else TB.GPT)(**cfg))
    curves = []
    for lib, model in ((mg, mine), (torch, ref)):
        opt = lib.optim.AdamW(model.parameters(), lr=1e-2)
        curves.append(train(lib, model, opt, idx, tg, steps=6, batch_size=8,
                            loss_fn=lambda m, a, b: m(a, b)[1]))
    np.testing.assert_allclose(curves[0], curves[1], rtol=0, atol=1e-12)
    # the key bias gets a zero gradient in exact arithmetic (softmax ignores a constant added
    # to a row of scores), so Adam moves it by rounding noise; ε bounds that step to ~lr·1e-9
    np.testing.assert_allclose(flat_parameters(mine), flat_parameters(ref), rtol=0, atol=1e-9)


def test_accuracy_counts_only_real_targets():
    mine, ref = twins(lambda lib: make_mlp(lib, (4, 5)))
    X = np.random.default_rng(1).standard_normal((3, 6, 4))
    pred = ref(torch.tensor(X)).argmax(-1).numpy()
    y = pred.copy()
    y[0, :2] = -100                      # not counted
    y[1, 0] = (pred[1, 0] + 1) % 5       # one wrong out of 16 counted
    for lib, model in ((mg, mine), (torch, ref)):
        assert accuracy(lib, model, X, y) == pytest.approx(15 / 16)
    assert mg.is_grad_enabled() and torch.is_grad_enabled()   # accuracy's no_grad ended
    assert mine(mg.tensor(X)).requires_grad


# ------------------------------------------------------------------ comparing parameters
def test_compare_parameters_values_and_grads(capsys):
    mine, ref = twins(lambda lib: make_mlp(lib, (3, 4, 2)))
    assert compare_parameters(mine, ref) <= 1e-15
    out = capsys.readouterr().out
    assert "0.weight" in out and "(4, 3)" in out and "4 parameters" in out
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    mine(mg.tensor(x)).backward(mg.tensor(g))
    ref(torch.tensor(x)).backward(torch.tensor(g))
    assert compare_parameters(mine, ref, grad=True) <= 1e-12
    np.testing.assert_allclose(flat_parameters(mine, grad=True), flat_parameters(ref, grad=True),
                               atol=1e-12)
    with torch.no_grad():
        ref[2].bias[1] += 1e-3
    with pytest.raises(CheckFailed, match="exceeds"):
        compare_parameters(mine, ref)
    assert "✗" in capsys.readouterr().out


def test_compare_parameters_refuses_mismatches():
    a = make_mlp(mg, (3, 4, 2))
    with pytest.raises(CheckFailed, match="names"):
        compare_parameters(a, make_mlp(mg, (3, 2)))
    with pytest.raises(CheckFailed, match="shape"):
        compare_parameters(a, make_mlp(mg, (3, 5, 2)))
    with pytest.raises(CheckFailed, match="no .grad"):
        compare_parameters(a, make_mlp(mg, (3, 4, 2)), grad=True)
    with pytest.raises(ValueError, match="no .grad"):
        flat_parameters(a, grad=True)


# ------------------------------------------------------------------ the graph's leaves
@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_leaf_nodes_hold_the_parameters(lib):
    model = make_mlp(lib, (3, 4, 2))
    x = lib.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    out = model(x)
    leaves = leaf_nodes(out)
    params = list(model.parameters())
    assert len(leaves) == len(params)
    for p in params:                              # each parameter appears once, as itself
        assert sum(node.variable is p for node in leaves) == 1
    g = np.random.default_rng(1).standard_normal((5, 2))
    out.backward(lib.tensor(g))
    for node in leaves:
        assert node.variable.grad is not None
    assert leaf_nodes(x) == []                    # no grad_fn: nothing behind it


def test_leaf_nodes_of_a_shared_leaf_and_the_gpt():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w + w).sum()                         # w used three times: one AccumulateGrad
    assert [n.variable for n in leaf_nodes(y)] == [w]
    model = mg.nn.GPT(vocab_size=5, context_length=4, d_model=8, n_heads=2, n_layers=1)
    idx = mg.tensor(np.random.default_rng(0).integers(0, 5, (2, 4)))
    _, loss = model(idx, idx)
    ids = {id(n.variable) for n in leaf_nodes(loss)}
    assert ids == {id(p) for p in model.parameters()}


# ------------------------------------------------------------------ AdamW by hand
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.1, weight_decay=0.3),
                                dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0)])
def test_adamw_step_equals_torch_and_minigrad(kw):
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    pt = torch.nn.Parameter(torch.tensor(theta0))
    pm = mg.nn.Parameter(mg.tensor(theta0))
    opt_t, opt_m = torch.optim.AdamW([pt], **kw), mg.optim.AdamW([pm], **kw)
    theta, m, v = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
    for t, g in enumerate(grads, start=1):
        theta, m, v = adamw_step(theta, g, m, v, t, **kw)
        pt.grad, pm.grad = torch.tensor(g), mg.tensor(g)
        opt_t.step()
        opt_m.step()
        np.testing.assert_allclose(theta, pt.detach().numpy(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(theta, pm.detach().numpy(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(m, opt_t.state[pt]["exp_avg"].numpy(), rtol=0, atol=1e-15)
        np.testing.assert_allclose(v, opt_t.state[pt]["exp_avg_sq"].numpy(), rtol=0, atol=1e-15)


def test_adamw_step_first_step_is_about_lr_times_sign():
    g = np.array([1e-3, -5.0, 200.0])
    theta, m, v = adamw_step(np.zeros(3), g, np.zeros(3), np.zeros(3), 1, lr=0.1)
    np.testing.assert_allclose(theta, -0.1 * np.sign(g), rtol=1e-4)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-15)              # m = (1 − β₁)·g
    np.testing.assert_allclose(v, 0.001 * g ** 2, rtol=1e-15)       # v = (1 − β₂)·g²


def test_adamw_step_leaves_its_arguments_alone_and_checks_t():
    theta, g, m, v = np.ones(2), np.ones(2), np.zeros(2), np.zeros(2)
    adamw_step(theta, g, m, v, 1)
    assert (theta == 1).all() and (m == 0).all() and (v == 0).all()
    with pytest.raises(ValueError, match="starts at 1"):
        adamw_step(theta, g, m, v, 0)
