"""minigrad.course.checkpoint: the same gradients as without checkpointing and as torch's
checkpoint, for fewer saved bytes; and its limits, which raise or warn clearly."""
import weakref

import numpy as np
import pytest
import torch
from torch.utils.checkpoint import checkpoint as torch_checkpoint

import minigrad as mg
from minigrad.course.checkpoint import checkpoint
from minigrad.course.memory import saved_bytes, total_saved_bytes
from minigrad.tensor import _Defaults

DEPTH, WIDTH, BATCH, SEGMENT = 6, 8, 5, 2


@pytest.fixture(autouse=True)
def _keep_minigrad_rng():
    saved = _Defaults.rng
    yield
    _Defaults.rng = saved


@pytest.fixture
def arrays():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, WIDTH))
    ws = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(DEPTH)]
    bs = [rng.standard_normal(WIDTH) * 0.1 for _ in range(DEPTH)]
    upstream = rng.standard_normal((BATCH, WIDTH))
    return x, ws, bs, upstream


def segment(ws, bs):
    def fn(h):
        for w, b in zip(ws, bs):
            h = (h @ w + b).tanh()
        return h
    return fn


def forward(lib, arrays, ckpt):
    """A DEPTH-layer tanh MLP, checkpointed every SEGMENT layers with ``ckpt`` (or not)."""
    x, ws, bs, _ = arrays
    x = lib.tensor(x, requires_grad=True)
    params = [lib.tensor(a, requires_grad=True) for a in ws + bs]
    W, B = params[:DEPTH], params[DEPTH:]
    h = x
    for i in range(0, DEPTH, SEGMENT):
        fn = segment(W[i:i + SEGMENT], B[i:i + SEGMENT])
        h = ckpt(fn, h) if ckpt else fn(h)
    return h, [x] + params


def grads(lib, arrays, ckpt):
    out, leaves = forward(lib, arrays, ckpt)
    out.backward(lib.tensor(arrays[3]))             # a random upstream gradient
    return [leaf.grad.numpy() for leaf in leaves]


def assert_all_close(a, b, tol=1e-12):
    assert len(a) == len(b)
    for i, (p, q) in enumerate(zip(a, b)):
        np.testing.assert_allclose(p, q, rtol=0, atol=tol, err_msg=f"leaf {i}")


def test_gradients_equal_the_plain_ones(arrays):
    assert_all_close(grads(mg, arrays, checkpoint), grads(mg, arrays, None), tol=0)


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradients_equal_torch_checkpoint(arrays, reentrant):
    theirs = grads(torch, arrays,
                   lambda fn, h: torch_checkpoint(fn, h, use_reentrant=reentrant))
    assert_all_close(grads(mg, arrays, checkpoint), theirs)


def test_fewer_saved_bytes(arrays):
    plain, plain_leaves = forward(mg, arrays, None)
    ckpt, ckpt_leaves = forward(mg, arrays, checkpoint)
    params_p, params_c = plain_leaves[1:], ckpt_leaves[1:]
    saved_plain = total_saved_bytes(plain, exclude=params_p)
    saved_ckpt = total_saved_bytes(ckpt, exclude=params_c)
    act = BATCH * WIDTH * 8
    # plain: every layer keeps its input and its tanh output; checkpointed: segment inputs
    assert saved_plain == (1 + DEPTH) * act
    assert saved_ckpt == (DEPTH // SEGMENT) * act
    names = [r.name for r in saved_bytes(ckpt)]
    assert names.count("CheckpointBackward") == DEPTH // SEGMENT
    assert "TanhBackward" not in names


def test_nothing_inside_is_kept_alive():
    x = mg.randn(3, 4, requires_grad=True)
    inside = []

    def fn(h):
        a = h.exp()
        inside.append(weakref.ref(a))
        return a.sin()

    y = checkpoint(fn, x)
    assert y.grad_fn.name() == "CheckpointBackward"
    assert inside[0]() is None                       # exp(x) was not saved
    y.backward(mg.ones(3, 4))
    np.testing.assert_allclose(x.grad.numpy(), np.cos(np.exp(x.detach().numpy())) * np.exp(x.detach().numpy()))


def test_several_outputs_constants_and_an_unused_output():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    g = rng.standard_normal((3, 2))

    def fn(x, y, scale):
        return x * y * scale, x - y

    def run(lib, ckpt):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        p, _unused = ckpt(fn, x, y, 3.0) if ckpt else fn(x, y, 3.0)
        p.backward(lib.tensor(g))
        return [x.grad.numpy(), y.grad.numpy()]

    ours = run(mg, checkpoint)
    assert_all_close(ours, run(mg, None), tol=0)
    assert_all_close(ours, run(torch, lambda f, *a: torch_checkpoint(f, *a, use_reentrant=True)))


def test_dropout_sees_the_same_mask_when_recomputed():
    x0 = np.random.default_rng(3).standard_normal((6, 5))
    w0 = np.random.default_rng(4).standard_normal((5, 5))

    def run(ckpt, **kw):
        mg.manual_seed(7)
        x, w = mg.tensor(x0, requires_grad=True), mg.tensor(w0, requires_grad=True)
        fn = lambda h: mg.nn.functional.dropout(h @ w, p=0.5).tanh()   # noqa: E731
        y = ckpt(fn, x, **kw) if ckpt else fn(x)
        y.backward(mg.ones(6, 5))
        return [x.grad.numpy(), w.grad.numpy()]

    plain = run(None)
    assert_all_close(run(checkpoint), plain, tol=0)
    fresh = run(checkpoint, preserve_rng_state=False)   # a new mask in backward: wrong grads
    assert not np.allclose(fresh[1], plain[1])


def test_backward_leaves_the_generator_where_it_was():
    mg.manual_seed(11)
    x = mg.randn(4, 4, requires_grad=True)
    y = checkpoint(lambda h: mg.nn.functional.dropout(h, p=0.3), x)
    after_forward = mg.rand(3).numpy().copy()
    mg.manual_seed(11)
    x2 = mg.randn(4, 4, requires_grad=True)
    y2 = checkpoint(lambda h: mg.nn.functional.dropout(h, p=0.3), x2)
    y2.sum().backward()                              # recomputing must not consume draws
    np.testing.assert_array_equal(mg.rand(3).numpy(), after_forward)
    assert y.shape == y2.shape


def test_no_input_requiring_grad_warns_as_torch():
    w = mg.randn(3, 3, requires_grad=True)
    with pytest.warns(UserWarning, match="none of the inputs has requires_grad=True"):
        y = checkpoint(lambda h: h @ w, mg.randn(2, 3))
    assert y.grad_fn is None


def test_create_graph_is_refused():
    x = mg.randn(3, requires_grad=True)
    y = checkpoint(lambda h: (h * h).sum(), x)
    with pytest.raises(RuntimeError, match="create_graph=True"):
        mg.autograd.grad(y, x, create_graph=True)


def test_non_reentrant_is_not_implemented():
    with pytest.raises(NotImplementedError, match="reentrant"):
        checkpoint(lambda h: h, mg.randn(2, requires_grad=True), use_reentrant=False)


def test_input_changed_in_place_after_forward_is_caught():
    x = mg.randn(3, requires_grad=True)
    h = x * 1.0
    y = checkpoint(lambda t: t.exp(), h)
    h += 1.0                                         # the saved input no longer is what ran
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
