"""The custom-Function API, against torch.autograd.Function.

Each Function below is written once, inside a function that takes the base class, and built
twice: on ``minigrad.autograd.Function`` and on ``torch.autograd.Function``. The same class
body must then behave the same way in both: same node names, same ``ctx`` contract, same
values and gradients (float64, random upstream gradients).
"""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.testing import assert_close

LIBS = [pytest.param(mg, id="minigrad"), pytest.param(torch, id="torch")]


def rnd(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(lib, array, requires_grad=True):
    return lib.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def arr(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


# --------------------------------------------------------------------------- the Functions
def make_exp(base):
    class MyExp(base):
        """y = eˣ, saving its output."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y
    return MyExp


def make_scaled_mul(base, log=None):
    """y = k · a · b with a Python number k: backward returns None for it."""
    class ScaledMul(base):
        @staticmethod
        def forward(ctx, a, b, k):
            if log is not None:
                log.append(tuple(ctx.needs_input_grad))
            ctx.save_for_backward(a, b)
            ctx.k = k                               # plain attributes ride on ctx
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ga = grad * b * ctx.k if ctx.needs_input_grad[0] else None
            gb = grad * a * ctx.k if ctx.needs_input_grad[1] else None
            return ga, gb, None
    return ScaledMul


def make_sincos(base):
    """Two outputs; backward receives one gradient per output."""
    class SinCos(base):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            x, = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()
    return SinCos


def make_with_mask(base):
    """Returns (2x, a 0/1 mask of x > 0); the mask is marked non-differentiable."""
    class WithMask(base):
        @staticmethod
        def forward(ctx, x):
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            return grad * 2
    return WithMask


def make_lazy_pair(base, seen):
    """Two outputs, with set_materialize_grads(False): an unused output's gradient is None."""
    class LazyPair(base):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g2, g3):
            seen.append((g2 is None, g3 is None))
            out = 0
            if g2 is not None:
                out = out + g2 * 2
            if g3 is not None:
                out = out + g3 * 3
            return out
    return LazyPair


def make_save_none(base):
    """save_for_backward accepts None, and gives it back."""
    class SaveNone(base):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * 2 if w is None else x * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return (grad * 2 if w is None else grad * w), None
    return SaveNone


def make_identity(base):
    """forward returns its input unchanged: the output is a new tensor in the graph."""
    class Ident(base):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad
    return Ident


def base_of(lib):
    return lib.autograd.Function


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("lib", LIBS)
def test_forward_backward_and_node_name(lib):
    MyExp = make_exp(base_of(lib))
    x = leaf(lib, rnd(0, 3, 4))
    y = MyExp.apply(x)
    assert type(y.grad_fn).__name__ == "MyExpBackward"
    assert y.requires_grad and not y.is_leaf
    (acc, nr), = y.grad_fn.next_functions
    assert acc.variable is x and nr == 0
    y.backward(leaf(lib, rnd(1, 3, 4), requires_grad=False))
    assert_close(arr(y), np.exp(rnd(0, 3, 4)))
    assert_close(arr(x.grad), rnd(1, 3, 4) * np.exp(rnd(0, 3, 4)))


@pytest.mark.parametrize("lib", LIBS)
def test_needs_input_grad_and_non_tensor_arguments(lib):
    log = []
    ScaledMul = make_scaled_mul(base_of(lib), log)
    a = leaf(lib, rnd(0, 3))
    b = leaf(lib, rnd(1, 3), requires_grad=False)
    y = ScaledMul.apply(a, b, 2.5)
    assert log == [(True, False, False)]
    y.backward(leaf(lib, rnd(2, 3), requires_grad=False))
    assert_close(arr(a.grad), rnd(2, 3) * rnd(1, 3) * 2.5)
    assert b.grad is None
    b.requires_grad_()
    ScaledMul.apply(a, b, -1.0).backward(leaf(lib, rnd(3, 3), requires_grad=False))
    assert log[-1] == (True, True, False)
    assert_close(arr(b.grad), -rnd(3, 3) * rnd(0, 3))


@pytest.mark.parametrize("lib", LIBS)
def test_multiple_outputs_and_materialized_zero_gradient(lib):
    SinCos = make_sincos(base_of(lib))
    x = leaf(lib, rnd(0, 5))
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn
    assert type(s.grad_fn).__name__ == "SinCosBackward"
    (s * leaf(lib, rnd(1, 5), requires_grad=False)).sum().backward()  # only s is used:
    assert_close(arr(x.grad), rnd(1, 5) * np.cos(rnd(0, 5)))            # c's gradient is 0
    x.grad = None
    s, c = SinCos.apply(x)
    lib.autograd.backward([s, c], [leaf(lib, rnd(2, 5), requires_grad=False),
                                   leaf(lib, rnd(3, 5), requires_grad=False)])
    assert_close(arr(x.grad), rnd(2, 5) * np.cos(rnd(0, 5)) - rnd(3, 5) * np.sin(rnd(0, 5)))


@pytest.mark.parametrize("lib", LIBS)
def test_set_materialize_grads_false_passes_none(lib):
    seen = []
    LazyPair = make_lazy_pair(base_of(lib), seen)
    x = leaf(lib, rnd(0, 4))
    p, q = LazyPair.apply(x)
    q.backward(leaf(lib, rnd(1, 4), requires_grad=False))
    assert seen == [(True, False)]
    assert_close(arr(x.grad), 3 * rnd(1, 4))


@pytest.mark.parametrize("lib", LIBS)
def test_mark_non_differentiable(lib):
    WithMask = make_with_mask(base_of(lib))
    x = leaf(lib, rnd(0, 6))
    y, mask = WithMask.apply(x)
    assert y.requires_grad and not mask.requires_grad and mask.grad_fn is None
    assert_close(arr(mask), (rnd(0, 6) > 0).astype(float))
    (y * mask).backward(leaf(lib, rnd(1, 6), requires_grad=False))
    assert_close(arr(x.grad), 2 * rnd(1, 6) * (rnd(0, 6) > 0))


@pytest.mark.parametrize("lib", LIBS)
def test_save_for_backward_with_none(lib):
    SaveNone = make_save_none(base_of(lib))
    x = leaf(lib, rnd(0, 3))
    SaveNone.apply(x, None).backward(leaf(lib, rnd(1, 3), requires_grad=False))
    assert_close(arr(x.grad), 2 * rnd(1, 3))


@pytest.mark.parametrize("lib", LIBS)
def test_returning_an_input_makes_a_new_tensor(lib):
    Ident = make_identity(base_of(lib))
    x = leaf(lib, rnd(0, 3))
    h = x * 1.0
    y = Ident.apply(h)
    assert y is not h and type(y.grad_fn).__name__ == "IdentBackward"
    assert y.grad_fn.next_functions == ((h.grad_fn, 0),)
    y.backward(leaf(lib, rnd(1, 3), requires_grad=False))
    assert_close(arr(x.grad), rnd(1, 3))


@pytest.mark.parametrize("lib", LIBS)
def test_apply_under_no_grad_records_nothing(lib):
    MyExp = make_exp(base_of(lib))
    x = leaf(lib, rnd(0, 3))
    with lib.no_grad():
        y = MyExp.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    assert_close(arr(y), np.exp(rnd(0, 3)))


@pytest.mark.parametrize("lib", LIBS)
def test_forward_runs_without_recording(lib):
    seen = []

    class Probe(base_of(lib)):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            seen.append((lib.is_grad_enabled(), inner.requires_grad))
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2
    Probe.apply(leaf(lib, rnd(0, 3)))
    assert seen == [(False, False)]


@pytest.mark.parametrize("lib", LIBS)
def test_function_used_twice_accumulates(lib):
    MyExp = make_exp(base_of(lib))
    x = leaf(lib, rnd(0, 4))
    y = MyExp.apply(x) * MyExp.apply(x * 2)
    y.backward(leaf(lib, rnd(1, 4), requires_grad=False))
    assert_close(arr(x.grad), rnd(1, 4) * 3 * np.exp(3 * rnd(0, 4)))


@pytest.mark.parametrize("lib", LIBS)
def test_saved_tensors_are_freed_after_backward(lib):
    MyExp = make_exp(base_of(lib))
    x = leaf(lib, rnd(0, 3))
    y = MyExp.apply(x)
    g = leaf(lib, rnd(1, 3), requires_grad=False)
    y.backward(g)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward(g)


def test_double_backward_through_a_custom_function_matches_torch():
    """backward is written with differentiable operations, so create_graph=True sees it."""
    def run(lib):
        ScaledMul = make_scaled_mul(base_of(lib))
        MyExp = make_exp(base_of(lib))
        a, b = leaf(lib, rnd(0, 4)), leaf(lib, rnd(1, 4))
        y = MyExp.apply(ScaledMul.apply(a, b, 0.7))
        ga, gb = lib.autograd.grad(y, [a, b], leaf(lib, rnd(2, 4), requires_grad=False),
                                   create_graph=True)
        s = (ga * leaf(lib, rnd(3, 4), requires_grad=False)).sum() + (gb * gb).sum()
        ha, hb = lib.autograd.grad(s, [a, b])
        return [arr(t) for t in (y, ga, gb, ha, hb)]
    got, want = run(mg), run(torch)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, rtol=1e-10, atol=1e-12, name=f"result {i}")


def test_minigrad_forward_may_return_a_numpy_array():
    """A minigrad convenience (torch requires a Tensor): forward may return numpy data."""
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.detach().numpy() ** 2

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return 2 * x * grad
    x = leaf(mg, rnd(0, 3))
    y = Square.apply(x)
    assert isinstance(y, mg.Tensor) and type(y.grad_fn).__name__ == "SquareBackward"
    y.backward(leaf(mg, rnd(1, 3), requires_grad=False))
    assert_close(arr(x.grad), 2 * rnd(0, 3) * rnd(1, 3))
