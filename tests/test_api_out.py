"""``out=`` on minigrad's functions, against torch: the result written into the given tensor
(resized when its shape differs), the tensor returned, and torch's refusals."""
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg

rng = np.random.default_rng(0)
A, B = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
C = rng.standard_normal((2, 3))
CALLS = {
    "add": lambda lib, a, b, c, out: lib.add(a, c, out=out),
    "sub": lambda lib, a, b, c, out: lib.sub(a, c, out=out),
    "mul": lambda lib, a, b, c, out: lib.mul(a, c, out=out),
    "div": lambda lib, a, b, c, out: lib.div(a, c, out=out),
    "pow": lambda lib, a, b, c, out: lib.pow(a.abs(), c, out=out),
    "exp": lambda lib, a, b, c, out: lib.exp(a, out=out),
    "tanh": lambda lib, a, b, c, out: lib.tanh(a, out=out),
    "matmul": lambda lib, a, b, c, out: lib.matmul(a, b, out=out),
    "mm": lambda lib, a, b, c, out: lib.mm(a, b, out=out),
    "cat": lambda lib, a, b, c, out: lib.cat([a, c], dim=1, out=out),
    "stack": lambda lib, a, b, c, out: lib.stack([a, c], out=out),
    "sum": lambda lib, a, b, c, out: lib.sum(a, 1, out=out),
    "mean": lambda lib, a, b, c, out: lib.mean(a, 0, out=out),
    "maximum": lambda lib, a, b, c, out: lib.maximum(a, c, out=out),
    "clamp": lambda lib, a, b, c, out: lib.clamp(a, -0.5, 0.5, out=out),
}


def run(lib, name, out_shape, dtype="float64"):
    a, b, c = (lib.tensor(x) for x in (A, B, C))
    out = lib.empty(out_shape, dtype=getattr(lib, dtype))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = CALLS[name](lib, a, b, c, out)
    return r, out, [str(w.message).split(" since")[0] for w in caught]


@pytest.mark.parametrize("out_shape", [(0,), (5,)], ids=["empty", "wrong shape"])
@pytest.mark.parametrize("name", list(CALLS))
def test_out_receives_the_result_as_in_torch(name, out_shape):
    r_t, out_t, warned_t = run(torch, name, out_shape)
    r_m, out_m, warned_m = run(mg, name, out_shape)
    assert r_m is out_m and r_t is out_t
    assert tuple(out_m.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.numpy(), out_t.numpy(), rtol=1e-12)
    assert bool(warned_m) == bool(warned_t) == (out_shape == (5,))


@pytest.mark.parametrize("name, dtype", [("matmul", "float32"), ("exp", "int64"),
                                         ("mean", "int64"), ("cat", "int64")])
def test_results_out_cannot_hold_are_refused(name, dtype):
    with pytest.raises((RuntimeError, TypeError)):
        run(torch, name, (0,), dtype)
    with pytest.raises(RuntimeError, match=f"{name}\\(\\)"):
        run(mg, name, (0,), dtype)


def test_integer_results_cast_up_and_sums_compute_in_out_dtype():
    for lib in (torch, mg):
        i = lib.tensor([1, 2])
        out = lib.empty(2)
        assert lib.add(i, i, out=out).tolist() == [2.0, 4.0]
        assert lib.sum(lib.tensor([[1.5, 2.0]]), 1, out=lib.empty(0, dtype=lib.int64)).tolist() == [3]


def test_out_refuses_arguments_that_require_grad_in_grad_mode():
    for lib in (torch, mg):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.mul(x, x, out=lib.empty(2))
        with lib.no_grad():
            assert lib.mul(x, x, out=lib.empty(2)).tolist() == [1.0, 1.0]


def test_a_view_given_as_out_writes_its_base():
    for lib in (torch, mg):
        base = lib.zeros(2, 3)
        lib.add(lib.ones(3), lib.ones(3), out=base[1])
        assert base.tolist() == [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]
