"""Indexing by tensors, sorting, unique, einsum and attention's dropout, against torch.

gather, scatter, scatter_add (and their in-place forms), index_select, take_along_dim, sort,
argsort, topk, kthvalue, median, unique, unique_consecutive and einsum: the same code on minigrad and torch,
values, dtypes and every input's gradient for a random upstream gradient compared (through
``check`` of test_torch_edges), at the edges — 0-d and empty tensors, negative dims, ±inf and
NaN, ties, integer, bool, float32 and float64 inputs — to second order where the VJP is again
differentiable, and the errors torch raises raised too. The registry's tests
(test_ops_vs_torch, test_gradcheck, test_registry) cover the same ops on sampled shapes.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.tensor import _Defaults
from minigrad.testing import gradcheck
from test_torch_edges import FUNCTIONAL, check

inf, nan = float("inf"), float("nan")
RNG = np.random.default_rng(13)


def A(*values, dtype=np.float64):
    return np.array(values, dtype=dtype)


def I(*values):
    return np.array(values, dtype=np.int64)


def normal(*shape):
    return RNG.standard_normal(shape)


def raises_like_torch(fn, *args):
    """Both libraries refuse fn(*args), with the same kind of exception."""
    kinds = []
    for lib in (mg, torch):
        ts = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        with pytest.raises(Exception) as info:
            fn(lib, FUNCTIONAL[lib], *ts)
        kinds.append(info.type)
    m, t = kinds
    assert issubclass(m, t) or issubclass(t, m), f"minigrad raises {m.__name__}, torch {t.__name__}"


@pytest.fixture(autouse=True)
def _keep_minigrad_rng():
    saved = _Defaults.rng
    yield
    _Defaults.rng = saved


# --------------------------------------------------------------------------- gather
X34 = normal(3, 4)
EDGE = A(1.0, nan, -inf, inf, 0.0, -0.0, 2.0, 2.0, -1.0, 3.0, nan, 0.5).reshape(3, 4)


@pytest.mark.parametrize("x", [X34, EDGE], ids=["normal", "inf-nan-ties"])
@pytest.mark.parametrize("dim, idx", [
    (1, I(0, 0, 3, 1, 2, 2, 0, 1).reshape(2, 4)),          # rows 0..1, repeats
    (-1, I(3, 3, 3, 3, 3, 3).reshape(3, 2)),                # every row reads one place twice
    (0, I(2, 0, 1, 1, 0, 2, 2, 2, 0).reshape(3, 3)),        # index narrower than x
    (-2, np.zeros((0, 4), np.int64)),                       # empty
])
def test_gather(x, dim, idx):
    check(lambda L, F, x, i: x.gather(dim, i), x, idx)
    check(lambda L, F, x, i: L.gather(x, dim, i), x, idx)


@pytest.mark.parametrize("x", [np.array(2.5), np.array(3, np.int64)], ids=["float", "int"])
@pytest.mark.parametrize("idx", [np.array(0, np.int64), I(0, 0, 0)], ids=["0-d", "1-d"])
def test_gather_of_a_0d_tensor(x, idx):
    check(lambda L, F, x, i: x.gather(0, i), x, idx)
    check(lambda L, F, x, i: x.gather(-1, i), x, idx)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_, np.int32])
def test_gather_keeps_the_dtype(dtype):
    x = (normal(3, 4) * 3).astype(dtype)
    check(lambda L, F, x, i: x.gather(1, i), x, I(1, 0, 3, 3, 2, 1).reshape(3, 2))


def test_gather_takes_an_int32_index_as_torch_does():
    check(lambda L, F, x, i: x.gather(1, i), X34, np.array([[1, 0], [3, 3]], np.int32))


@pytest.mark.parametrize("name, x, idx", [
    ("index past the end", X34, I(4).reshape(1, 1)),
    ("negative index", X34, I(-1).reshape(1, 1)),
    ("index of another rank", X34, I(0, 1)),
    ("index larger in another dim", X34, I(0, 0, 0, 0).reshape(4, 1)),
    ("float index", X34, A(0.0).reshape(1, 1)),
    ("bool index", X34, np.array([[True]])),
])
def test_gather_errors(name, x, idx):
    raises_like_torch(lambda L, F, x, i: x.gather(1, i), x, idx)


def test_gather_dim_out_of_range():
    raises_like_torch(lambda L, F, x, i: x.gather(2, i), X34, I(0).reshape(1, 1))
    raises_like_torch(lambda L, F, x, i: x.gather(-3, i), X34, I(0).reshape(1, 1))


# --------------------------------------------------------------------------- scatter
DISTINCT = I(3, 0, 1, 2, 0, 3).reshape(2, 3)       # each row names each place once


@pytest.mark.parametrize("x", [X34, EDGE], ids=["normal", "inf-nan-ties"])
def test_scatter_src(x):
    src = normal(2, 3)
    check(lambda L, F, x, i, s: x.scatter(1, i, s), x, DISTINCT, src)
    check(lambda L, F, x, i, s: L.scatter(x, -1, i, s), x, DISTINCT, src)
    check(lambda L, F, x, i, s: x.scatter(0, i.T.contiguous() % 2, s.T.contiguous()),
          x, DISTINCT, src)


@pytest.mark.parametrize("value", [-1.5, 0.0, inf, nan])
def test_scatter_value(value):
    check(lambda L, F, x, i: x.scatter(1, i, value), X34, DISTINCT)
    check(lambda L, F, x, i: L.scatter(x, 1, i, value=value), X34, DISTINCT)


def test_scatter_zeroes_the_gradient_of_what_it_overwrote_even_an_infinite_one():
    """x̄ = ȳ with the written places set to 0: selected, so ∞ or NaN upstream stays off."""
    up = A(inf, nan, 1.0, -inf, 2.0, inf, nan, 3.0, 4.0, 5.0, 6.0, 7.0).reshape(3, 4)
    grads = []
    for lib in (mg, torch):
        x = lib.tensor(X34, requires_grad=True)
        s = lib.tensor(normal(2, 3), requires_grad=True)
        x.scatter(1, lib.tensor(DISTINCT), s).backward(lib.tensor(up))
        grads.append((x.grad.numpy(), s.grad.numpy()))
    for m, t in zip(*grads):
        np.testing.assert_array_equal(m, t)
    written = np.zeros((3, 4), bool)
    written[[0, 0, 0, 1, 1, 1], DISTINCT.reshape(-1)] = True
    assert (grads[0][0][written] == 0).all() and not np.isfinite(up[written]).all()
    np.testing.assert_array_equal(grads[0][0][~written], up[~written])


@pytest.mark.parametrize("x, idx", [
    (X34, I(0, 0, 3, 1, 1, 1).reshape(2, 3)),               # repeats add up
    (EDGE, I(3, 3, 3, 3, 3, 3, 3, 3, 3).reshape(3, 3)),
    (X34, np.zeros((2, 0), np.int64)),
])
def test_scatter_add(x, idx):
    src = normal(*idx.shape)
    check(lambda L, F, x, i, s: x.scatter_add(1, i, s), x, idx, src)
    check(lambda L, F, x, i, s: L.scatter_add(x, -1, i, s), x, idx, src)


def test_scatter_add_into_zeros_is_gathers_vjp():
    """x.gather(d, i)'s VJP is scatter_add(zeros, d, i, ȳ): the same numbers."""
    up = normal(2, 4)
    x = mg.tensor(X34, requires_grad=True)
    i = mg.tensor(I(0, 0, 2, 1, 2, 2, 0, 1).reshape(2, 4))
    x.gather(0, i).backward(mg.tensor(up))
    ref = torch.zeros(3, 4, dtype=torch.float64).scatter_add(0, torch.tensor(i.numpy()),
                                                              torch.tensor(up))
    np.testing.assert_allclose(x.grad.numpy(), ref.numpy(), rtol=0, atol=1e-15)


def test_scatter_add_with_src_larger_than_the_index():
    """Only src's leading block (the index's shape) is read; its gradient is the gathered
    ȳ there and 0 elsewhere — torch computes the same through src sliced (torch 2.13's own
    backward refuses a src larger than the index)."""
    idx = I(0, 2, 2, 1).reshape(2, 2)
    check(lambda L, F, x, i, s: x.scatter_add(1, i, s if L is mg else s[:2, :2]),
          X34, idx, normal(3, 3))
    check(lambda L, F, x, i, s: x.scatter(1, i, s if L is mg else s[:2, :2]),
          X34, I(0, 2, 3, 1).reshape(2, 2), normal(3, 3))


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_keeps_the_dtype(dtype):
    x = (normal(3, 4) * 3).astype(dtype)
    src = (normal(2, 3) * 3).astype(dtype)
    check(lambda L, F, x, i, s: x.scatter(1, i, s), x, DISTINCT, src)
    check(lambda L, F, x, i, s: x.scatter_add(1, i, s), x, DISTINCT, src)
    check(lambda L, F, x, i: x.scatter(1, i, 2.7), x, DISTINCT)


def test_scatter_of_a_0d_tensor():
    # (a 0-d src too, but torch 2.13's backward refuses its gradient's shape)
    check(lambda L, F, x, i, s: x.scatter(0, i, s), np.array(3.0), I(0), A(4.0))
    check(lambda L, F, x, i: x.scatter(0, i, -1.0), np.array(3.0), np.array(0, np.int64))
    check(lambda L, F, x, i, s: x.scatter_add(0, i, s), np.array(3.0), I(0, 0), A(4.0, 5.0))


@pytest.mark.parametrize("name, fn, args", [
    ("index past the end", lambda L, F, x, i, s: x.scatter(1, i, s), (I(4).reshape(1, 1),)),
    ("negative index", lambda L, F, x, i, s: x.scatter_add(1, i, s), (I(-1).reshape(1, 1),)),
    ("index of another rank", lambda L, F, x, i, s: x.scatter(1, i, s), (I(0, 1),)),
    ("index larger than src", lambda L, F, x, i, s: x.scatter_add(1, i, s[:1, :1]),
     (I(0, 1).reshape(1, 2),)),
    ("index larger than x", lambda L, F, x, i, s: x.scatter(1, i, s),
     (I(0, 0, 0, 0).reshape(4, 1),)),
    ("float index", lambda L, F, x, i, s: x.scatter(1, i, s), (A(0.0).reshape(1, 1),)),
    ("src of another dtype", lambda L, F, x, i, s: x.scatter(1, i, s.float()),
     (I(0).reshape(1, 1),)),
    ("scatter_add src of another dtype", lambda L, F, x, i, s: x.scatter_add(1, i, s.long()),
     (I(0).reshape(1, 1),)),
])
def test_scatter_errors(name, fn, args):
    raises_like_torch(fn, X34, *args, normal(4, 4))


def test_in_place_scatter_and_scatter_add():
    src = normal(2, 3)

    def inplace(L, F, x, i, s):
        h = x * 1
        h.scatter_(1, i, s)
        h.scatter_add_(0, i % 2, s * 2)
        return h.scatter_(1, i, 0.5) * h
    check(inplace, X34, DISTINCT, src)

    def on_a_view(L, F, x, i, s):          # the base takes a CopySlices history
        h = x * 1
        h[1:].scatter_add_(1, i, s)
        return h
    check(on_a_view, X34, DISTINCT, src)


def test_in_place_scatter_of_a_leaf_that_requires_grad_is_refused():
    for lib in (mg, torch):
        x = lib.tensor(X34, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            x.scatter_add_(1, lib.tensor(DISTINCT), lib.tensor(normal(2, 3)))
        with lib.no_grad():
            x.scatter_(1, lib.tensor(DISTINCT), 1.0)
        assert x.detach().numpy()[0, 3] == 1.0


def test_scatter_with_reduce_is_not_supported():
    with pytest.raises(NotImplementedError, match="scatter_add"):
        mg.tensor(X34).scatter(1, mg.tensor(DISTINCT), mg.tensor(normal(2, 3)), reduce="add")


# --------------------------------------------------------------------------- index_select
@pytest.mark.parametrize("x", [X34, EDGE], ids=["normal", "inf-nan-ties"])
@pytest.mark.parametrize("dim, idx", [(0, I(2, 0, 2)), (-1, I(3, 3, 1, 0)), (1, I()),
                                      (1, np.array(2, np.int64)),
                                      (0, np.array([1, 1], np.int32))])
def test_index_select(x, dim, idx):
    check(lambda L, F, x, i: x.index_select(dim, i), x, idx)
    check(lambda L, F, x, i: L.index_select(x, dim, i), x, idx)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_index_select_keeps_the_dtype(dtype):
    check(lambda L, F, x, i: x.index_select(1, i), (X34 * 3).astype(dtype), I(0, 3, 0))


@pytest.mark.parametrize("idx", [I(4), I(-1), I(0, 1).reshape(1, 2), A(1.0)],
                         ids=["past the end", "negative", "2-D", "float"])
def test_index_select_errors(idx):
    raises_like_torch(lambda L, F, x, i: x.index_select(1, i), X34, idx)


# --------------------------------------------------------------------------- take_along_dim
@pytest.mark.parametrize("dim, idx", [
    (1, I(0, 3, 3, 1, 2, 2).reshape(3, 2)),
    (-1, I(1, 0).reshape(1, 2)),                           # broadcast over the rows
    (0, I(2, 2, 0, 1).reshape(1, 4)),
    (0, I(0, 2).reshape(2, 1)),                             # broadcast over the columns
])
def test_take_along_dim(dim, idx):
    check(lambda L, F, x, i: L.take_along_dim(x, i, dim), X34, idx)
    check(lambda L, F, x, i: x.take_along_dim(i, dim=dim), EDGE, idx)


def test_take_along_dim_of_the_flattened_tensor_and_of_argsort():
    check(lambda L, F, x, i: L.take_along_dim(x, i), X34, I(0, 11, 5, 5))
    check(lambda L, F, x: L.take_along_dim(x, x.argsort(1), 1), X34)
    check(lambda L, F, x: L.take_along_dim(x, x.argmax(0, keepdim=True), 0), X34)


@pytest.mark.parametrize("idx", [I(0, 1), np.array([[0]], np.int32)], ids=["rank", "int32"])
def test_take_along_dim_errors(idx):
    raises_like_torch(lambda L, F, x, i: L.take_along_dim(x, i, 1), X34, idx)


# --------------------------------------------------------------------------- sort, argsort
SORTABLE = [
    A(3.0, 1.0, nan, 1.0, 3.0, inf, -inf, 1.0, -0.0, 0.0),   # ties, NaN the largest, ±0
    A(nan, nan, 2.0, nan, -1.0),
    normal(3, 4, 2),
    np.array(1.5),
    np.zeros((0, 3)),
    np.array([3, 1, 2, 1, -5, 3], np.int64),
    np.array([True, False, True, False]),
    normal(5).astype(np.float32),
]
SORT_IDS = ["ties-nan-inf-zeros", "nans", "3-D", "0-d", "empty", "int", "bool", "float32"]


@pytest.mark.parametrize("x", SORTABLE, ids=SORT_IDS)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_sort_values_indices_and_gradient(x, descending, dim):
    """Ties keep their order (torch's sort is stable on the CPU), NaN is the largest."""
    check(lambda L, F, x: tuple(x.sort(dim, descending)), x)
    check(lambda L, F, x: tuple(L.sort(x, dim=dim, descending=descending, stable=True)), x)
    check(lambda L, F, x: x.argsort(dim, descending=descending), x)
    check(lambda L, F, x: L.argsort(x, dim=dim, descending=descending), x)


def test_sort_along_the_middle_dim_and_the_default_last():
    x = normal(3, 4, 2)
    x[1, 2] = x[1, 0]
    check(lambda L, F, x: tuple(x.sort(1)), x)
    check(lambda L, F, x: x.sort().values * x.sort(-2, True).values.sum(), x)


def test_sort_returns_a_named_pair_like_max():
    x = mg.tensor([3.0, 1.0, 2.0])
    values, indices = x.sort()
    r = x.sort(descending=True)
    assert type(r).__name__ == "sort" and type(x.topk(2)).__name__ == "topk"
    assert r.values.tolist() == [3.0, 2.0, 1.0] and r.indices.tolist() == [0, 2, 1]
    assert values.tolist() == [1.0, 2.0, 3.0] and indices.dtype == mg.int64
    assert repr(x.topk(1)) == "topk(values=tensor([3.]), indices=tensor([0]))"


def test_sort_dim_out_of_range():
    raises_like_torch(lambda L, F, x: x.sort(2), X34)
    raises_like_torch(lambda L, F, x: x.argsort(-3), X34)


# --------------------------------------------------------------------------- topk
@pytest.mark.parametrize("x", [normal(4, 5), normal(2, 3, 4), A(3.0, nan, -inf, inf, 0.5),
                               np.array([5, -2, 7, 0], np.int64), normal(6).astype(np.float32)],
                         ids=["2-D", "3-D", "nan-inf", "int", "float32"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, -1])
def test_topk_without_ties(x, largest, dim):
    for k in range(x.shape[dim] + 1):
        check(lambda L, F, x: tuple(x.topk(k, dim, largest)), x)
        check(lambda L, F, x: tuple(L.topk(x, k, dim=dim, largest=largest, sorted=True)), x)


def test_topk_of_a_0d_tensor():
    for k in (0, 1):
        check(lambda L, F, x: tuple(x.topk(k)), np.array(2.0))


@pytest.mark.parametrize("largest", [True, False])
def test_topk_with_ties_takes_equal_values(largest):
    """Among equal values torch's choice is its own (neither first nor stable); minigrad
    takes the first ones. The values are torch's; the indices name places holding them, each
    once; the gradient goes to those places."""
    x = A(2.0, 1.0, 2.0, nan, 1.0, 2.0, -inf, 1.0, nan)
    for k in range(len(x) + 1):
        vm, im = mg.tensor(x).topk(k, largest=largest)
        vt, _ = torch.tensor(x).topk(k, largest=largest)
        np.testing.assert_array_equal(vm.numpy(), vt.numpy())
        assert len(set(im.tolist())) == k
        np.testing.assert_array_equal(x[im.numpy()], vm.numpy())
    t = mg.tensor(x, requires_grad=True)
    v, i = t.topk(4, largest=largest)
    g = normal(4)
    v.backward(mg.tensor(g))
    expected = np.zeros(len(x))
    expected[i.numpy()] = g
    np.testing.assert_array_equal(t.grad.numpy(), expected)


@pytest.mark.parametrize("name, fn", [
    ("k too large", lambda L, F, x: x.topk(5, 1)),
    ("k negative", lambda L, F, x: x.topk(-1)),
    ("k too large for a 0-d", lambda L, F, x: x.sum().topk(2)),
    ("bool", lambda L, F, x: (x > 0).topk(1)),
    ("dim out of range", lambda L, F, x: x.topk(1, 2)),
])
def test_topk_errors(name, fn):
    raises_like_torch(fn, X34)


# --------------------------------------------------------------------------- kthvalue, median
@pytest.mark.parametrize("x", [normal(4, 5), normal(2, 3, 4), A(3.0, nan, -inf, inf, 0.5),
                               np.array([5, -2, 7, 0], np.int64), normal(6).astype(np.float32),
                               np.array(1.5)],
                         ids=["2-D", "3-D", "nan-inf", "int", "float32", "0-d"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_kthvalue_and_median_without_ties(x, keepdim, dim):
    """NaN counts as the largest for kthvalue; median(dim) of a line holding a NaN is NaN, at
    the line's first NaN."""
    n = x.shape[dim] if x.ndim else 1
    for k in range(1, n + 1):
        check(lambda L, F, x: tuple(x.kthvalue(k, dim, keepdim)), x)
    check(lambda L, F, x: tuple(x.median(dim, keepdim=keepdim)), x)
    check(lambda L, F, x: tuple(L.median(x, dim, keepdim)), x)
    check(lambda L, F, x: x.median(), x)


@pytest.mark.parametrize("x", [A(2.0, 1.0, 2.0, 1.0, 2.0, 1.0), A(1.0, nan, 3.0, nan),
                               A(0.0, -0.0, 1.0), np.array([[4, 1], [3, 2]], np.int64),
                               np.zeros(0)], ids=["ties", "nans", "signed zeros", "int", "empty"])
def test_median_of_all_elements_shares_the_gradient_among_ties(x):
    check(lambda L, F, x: x.median(), x)


def test_kthvalue_with_ties_takes_an_equal_value():
    """As topk: torch's index among equal values is its own; the value is torch's, and the
    gradient goes to the returned index."""
    x = A(3.0, 1.0, 2.0, 1.0, 3.0, 1.0, 2.0)
    for k in range(1, 8):
        vm, im = mg.tensor(x).kthvalue(k)
        assert vm.item() == torch.tensor(x).kthvalue(k).values.item() == x[im.item()]
    assert mg.tensor(x).median(0).values.item() == torch.tensor(x).median(0).values.item()


@pytest.mark.parametrize("name, fn", [
    ("k = 0", lambda L, F, x: x.kthvalue(0, 1)),
    ("k too large", lambda L, F, x: x.kthvalue(5, 1)),
    ("an empty dim", lambda L, F, x: x[:0].kthvalue(1, 0)),
    ("median over an empty dim", lambda L, F, x: x[:0].median(0)),
    ("bool kthvalue", lambda L, F, x: (x > 0).kthvalue(1)),
    ("bool median", lambda L, F, x: (x > 0).median()),
    ("dim out of range", lambda L, F, x: x.median(2)),
])
def test_kthvalue_and_median_errors(name, fn):
    raises_like_torch(fn, X34)


# --------------------------------------------------------------------------- second order
SECOND_ORDER = [
    ("gather", lambda L, a, b: (a * b).gather(1, L.tensor([[0, 0, 3], [2, 1, 1], [3, 3, 3]]))),
    ("scatter", lambda L, a, b: a.scatter(1, L.tensor([[3, 0], [1, 2], [0, 1]]), b[:, :2] * a[:, 2:])),
    ("scatter_add", lambda L, a, b: (a * a).scatter_add(0, L.tensor([[2, 0, 0, 1], [2, 2, 0, 1]]),
                                                        b[:2] * a[1:])),
    ("index_select", lambda L, a, b: (a * b).index_select(1, L.tensor([3, 0, 3]))),
    ("take_along_dim", lambda L, a, b: L.take_along_dim(a * b, L.tensor([[1], [0], [3]]), 1)),
    ("sort", lambda L, a, b: (a * b).sort(0).values * a),
    ("topk", lambda L, a, b: (a * b).topk(2).values * a[:, :2]),
    ("kthvalue", lambda L, a, b: (a * b).kthvalue(2, 0, keepdim=True).values * a),
    ("median", lambda L, a, b: (a * b).median(1, True).values * a + (a * b).median() * b),
    ("einsum", lambda L, a, b: L.einsum("ij,kj,ik->ik", a, b, a[:, :3] * a[:, 1:])),
    ("einsum diagonal", lambda L, a, b: L.einsum("ii,ij->j", a[:, :3] * b[:, 1:], b)),
]


@pytest.mark.parametrize("name, fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_as_torch(name, fn):
    """The VJPs are written with ops (scatter_add, gather, einsum…): create_graph=True
    differentiates them again, with respect to the inputs and the upstream gradient, as
    torch does; finite differences agree."""
    arrays = [normal(3, 4), normal(3, 4)]
    grads = {}
    for lib in (mg, torch):
        a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
        out = fn(lib, a, b)
        if "u" not in grads:
            grads["u"] = normal(*out.shape)
        u = lib.tensor(grads["u"], requires_grad=True)
        ga, gb = lib.autograd.grad(out, (a, b), u, create_graph=True)
        second = lib.autograd.grad((ga * ga).sum() + (gb * a).sum(), (a, b, u))
        grads[lib] = [g.detach().numpy() for g in (out, ga, gb) + second]
    for k, (m, t) in enumerate(zip(grads[mg], grads[torch])):
        np.testing.assert_allclose(m, t, rtol=1e-7, atol=1e-10, err_msg=f"{name}: result {k}")

    def first(a, b, u):
        return mg.autograd.grad(fn(mg, a, b), (a, b), u, create_graph=True)
    gradcheck(first, tuple(mg.tensor(x, requires_grad=True) for x in arrays + [grads["u"]]))


# --------------------------------------------------------------------------- unique
UNIQUABLE = [
    A(3.0, 1.0, nan, 1.0, 3.0, nan, 2.0, -inf, inf, -inf),
    np.array([[3, 1, 3], [2, 1, 2]], np.int64),
    np.array([True, False, True]),
    np.array(2.5),
    np.zeros(0),
    normal(4).astype(np.float32),
]
UNIQUE_IDS = ["nan-inf", "int-2-D", "bool", "0-d", "empty", "float32"]


@pytest.mark.parametrize("x", UNIQUABLE, ids=UNIQUE_IDS)
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_unique(x, inverse, counts):
    """Sorted (also for sorted=False, as torch on the CPU); every NaN is its own value."""
    for sorted_ in (True, False):
        check(lambda L, F, x: L.unique(x, sorted_, inverse, counts), x, grad=False)
        check(lambda L, F, x: x.unique(sorted=sorted_, return_inverse=inverse,
                                       return_counts=counts), x, grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_a_dim(dim):
    x = np.array([[3, 1, 3, 1], [2, 1, 2, 1], [3, 1, 3, 1]], np.int64)
    check(lambda L, F, x: L.unique(x, return_inverse=True, return_counts=True, dim=dim), x,
          grad=False)
    check(lambda L, F, x: x.float().unique(dim=dim), x, grad=False)


def test_unique_along_a_dim_of_empty_tensors():
    check(lambda L, F, x: L.unique(x, return_inverse=True, return_counts=True, dim=0),
          np.zeros((0, 2)), grad=False)
    raises_like_torch(lambda L, F, x: L.unique(x, dim=0), np.zeros((2, 0)))
    raises_like_torch(lambda L, F, x: L.unique(x, dim=0), np.array(1.0))
    raises_like_torch(lambda L, F, x: L.unique(x, dim=2), X34)


def test_unique_has_no_gradient():
    """torch marks the result with a node whose backward refuses; minigrad gives none."""
    x = mg.tensor(X34, requires_grad=True)
    assert not x.unique().requires_grad
    with pytest.raises(RuntimeError):
        torch.tensor(X34, requires_grad=True).unique().sum().backward()


@pytest.mark.parametrize("x", [np.array([1, 1, 2, 2, 3, 1, 1, 2], np.int64),
                               A(1.0, nan, nan, 2.0, 2.0, -0.0, 0.0), np.array(4.0), np.zeros(0),
                               np.array([[1, 1, 2], [1, 1, 2], [2, 1, 2]], np.int64)],
                         ids=["int", "nan-zeros", "0-d", "empty", "2-D"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_unique_consecutive(x, dim):
    if dim is not None and x.ndim == 0:
        return
    check(lambda L, F, x: L.unique_consecutive(x, True, True, dim), x, grad=False)
    check(lambda L, F, x: x.unique_consecutive(return_counts=True, dim=dim), x, grad=False)


# --------------------------------------------------------------------------- einsum
EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("bii->bi", [(2, 3, 3)]),
    ("i,j", [(2,), (3,)]),
    ("i,i", [(1,), (3,)]),                       # a size-1 subscript broadcasts
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("bij,bj->i", [(2, 3, 4), (1, 4)]),
    ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk->ik", [(5, 2, 3), (3, 4)]),    # the ellipsis dims summed
    ("i...->...", [(5, 2, 3)]),
    ("...,...", [(2, 1), (3,)]),
    ("zA,Ba", [(2, 3), (4, 5)]),                 # implicit: capitals first, as ASCII
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,k->", [(2, 3), (4,)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    ("", [()]),
    ("->", [()]),
    (",->", [(), ()]),
    ("i,i", [(0,), (0,)]),
    ("ij,jk->ik", [(2, 0), (0, 4)]),
    ("bij,bjk->bik", [(0, 2, 3), (0, 3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum(equation, shapes):
    arrays = [normal(*s) for s in shapes]
    check(lambda L, F, *xs: L.einsum(equation, *xs), *arrays)
    check(lambda L, F, *xs: L.einsum(equation, list(xs)), *arrays)


def test_einsum_with_inf_and_nan():
    a, b = A(1.0, inf, 0.0, nan, -inf, 2.0).reshape(2, 3), normal(3, 2)
    check(lambda L, F, a, b: L.einsum("ij,jk->ik", a, b), a, b)
    check(lambda L, F, a, b: L.einsum("ij,jk->ijk", a, b), a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_einsum_keeps_the_dtype(dtype):
    a, b = (normal(2, 3) * 4).astype(dtype), (normal(3, 4) * 4).astype(dtype)
    check(lambda L, F, a, b: L.einsum("ij,jk->ik", a, b), a, b, rtol=1e-5, atol=1e-5)
    check(lambda L, F, a: L.einsum("ii->", a[:, :2]), a, rtol=1e-6)


def test_einsum_sublist_form():
    a, b = normal(2, 3), normal(3, 4)
    check(lambda L, F, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]), a, b)
    check(lambda L, F, a, b: L.einsum(a, [0, 1], b, [1, 27]), a, b)
    check(lambda L, F, a: L.einsum(a, [Ellipsis, 1], [1, Ellipsis]), normal(2, 3, 4))


@pytest.mark.parametrize("equation, shapes", [
    ("ijk", [(2, 3)]),                     # more subscripts than dimensions
    ("i", [(2, 3)]),                       # fewer, no ellipsis
    ("...ijk", [(2, 3)]),
    ("ij,jk->ik", [(2, 3)]),               # fewer operands than terms
    ("ij", [(2, 3), (3,)]),                # more operands
    ("ij->ik", [(2, 3)]),                  # an output subscript no operand has
    ("ij->ii", [(2, 3)]),                  # one twice in the output
    ("i1", [(2, 3)]),                      # not a letter
    ("i.j", [(2, 3)]),                     # a lone dot
    ("i->->", [(2,)]),
    ("ii->i", [(3, 4)]),                   # a repeated subscript of two sizes
    ("ij,jk->ik", [(2, 3), (4, 4)]),       # sizes that do not broadcast
    ("b...,...b", [(5, 2, 3), (3, 1, 5)]),  # ellipsis dims that do not broadcast
])
def test_einsum_errors(equation, shapes):
    raises_like_torch(lambda L, F, *xs: L.einsum(equation, *xs), *[normal(*s) for s in shapes])


def test_einsum_refuses_mixed_dtypes_bool_and_nothing():
    raises_like_torch(lambda L, F, a, b: L.einsum("ij,jk", a, b.float()), normal(2, 3),
                      normal(3, 2))
    raises_like_torch(lambda L, F, a, b: L.einsum("ij,jk", a > 0, b > 0), normal(2, 3),
                      normal(3, 2))
    raises_like_torch(lambda L, F: L.einsum("ij,jk->ik"))


# --------------------------------------------------------------------------- attention dropout
def _qkv(lib, seed=0, L_=5, S=6, E=4):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(s), requires_grad=True)
            for s in [(2, L_, E), (2, S, E), (2, S, 3)]]


def _weights(q, k, p, lib=mg, F=MF):
    """The dropped attention weights, read off the output of V = identity."""
    eye = lib.eye(k.shape[-2], dtype=q.dtype).expand(k.shape[0], -1, -1)
    return F.scaled_dot_product_attention(q, k, eye, dropout_p=p)


def test_attention_dropout_drops_weights_scales_the_rest_and_is_reproducible():
    q, k, v = _qkv(mg, L_=40, S=50)
    mg.manual_seed(3)
    w = _weights(q, k, 0.25).detach().numpy()
    a = MF.softmax(q @ k.mT / 2.0, -1).detach().numpy()
    kept = w != 0
    assert abs(kept.mean() - 0.75) < 0.03             # 4000 weights: over 6 standard deviations
    np.testing.assert_allclose(w[kept], a[kept] / 0.75, rtol=1e-12)
    mg.manual_seed(3)
    np.testing.assert_array_equal(_weights(q, k, 0.25).detach().numpy(), w)
    assert not np.array_equal(_weights(q, k, 0.25).detach().numpy(), w)


@pytest.mark.parametrize("kind", ["causal", "bool", "float"])
def test_attention_dropout_with_a_mask_matches_torch_given_the_mask(kind):
    """The mask read off minigrad's output (through V extended by the identity) and given to
    torch's own computation: the same output and gradients, masks and all."""
    L_, S = 4, 4
    rng = np.random.default_rng(5)
    masks = {"causal": None, "bool": rng.random((L_, S)) < 0.7, "float": rng.standard_normal((L_, S))}
    if kind == "bool":
        masks["bool"][:, 0] = True
    up = rng.standard_normal((2, L_, 3 + S))
    mg.manual_seed(8)
    outs = {}
    for lib, F in ((mg, MF), (torch, TF)):
        q, k, v = _qkv(lib, 1, L_, S)
        m = None if masks[kind] is None else lib.tensor(masks[kind])
        eye = lib.eye(S, dtype=v.dtype).expand(2, S, S)
        if lib is mg:
            out = F.scaled_dot_product_attention(q, k, lib.cat([v, eye], -1), attn_mask=m,
                                                 dropout_p=0.4, is_causal=kind == "causal")
            kept = out.detach().numpy()[..., 3:] != 0
        else:
            s = q @ k.mT / 2.0
            if kind == "causal":
                s = s.masked_fill(~torch.ones(L_, S, dtype=torch.bool).tril(), -inf)
            elif kind == "bool":
                s = s.masked_fill(~m, -inf)
            else:
                s = s + m
            a = F.softmax(s, -1) * torch.tensor(kept) / 0.6
            out = lib.cat([a @ v, a], -1)
        out.backward(lib.tensor(up))
        outs[lib] = [out.detach().numpy()] + [t.grad.numpy() for t in (q, k, v)]
    for a, b in zip(outs[mg], outs[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_attention_dropout_applies_whatever_the_mode_and_p_1_gives_zeros():
    q, k, v = _qkv(mg)
    with mg.no_grad():
        assert (_weights(q, k, 0.5).numpy() == 0).any()        # no training flag to turn it off
    check(lambda L, F, q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=1.0),
          *(t.detach().numpy() for t in _qkv(mg)))


def test_attention_dropout_second_derivative_passes_gradcheck():
    def fn(q, k, v):
        mg.manual_seed(21)
        return MF.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)

    def first(q, k, v):
        return mg.autograd.grad(fn(q, k, v), (q, k, v), mg.tensor(np.ones((2, 5, 3))),
                                create_graph=True)
    assert gradcheck(fn, tuple(_qkv(mg, 2)))
    assert gradcheck(first, tuple(_qkv(mg, 3)))


@pytest.mark.parametrize("p", [1.5, -0.1])
def test_attention_dropout_probability_out_of_range(p):
    q, k, v = (t.detach().numpy() for t in _qkv(mg))
    if p > 1:
        raises_like_torch(lambda L, F, q, k, v: F.scaled_dot_product_attention(
            q, k, v, dropout_p=p), q, k, v)
    else:             # torch 2.13 takes a negative p (and scales by 1/(1 − p)); minigrad refuses
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            MF.scaled_dot_product_attention(*(mg.tensor(a) for a in (q, k, v)), dropout_p=p)


# --------------------------------------------------------------------------- as real code uses them
def test_idioms_of_real_code():
    """What training and sampling scripts write with these ops, unchanged on both libraries."""
    logits, y = normal(4, 6), I(2, 0, 5, 2)

    def top_k_filter(L, F, z):           # nanoGPT's generate: keep the k largest logits
        v, _ = L.topk(z, 3)
        z = z * 1
        z[z < v[:, [-1]]] = -float("inf")
        return F.softmax(z, dim=-1)
    check(top_k_filter, logits)

    def picked_log_probs(L, F, z, t):    # the log-likelihood of each target, by gather
        return F.log_softmax(z, -1).gather(1, t.unsqueeze(1)).squeeze(1).mean()
    check(picked_log_probs, logits, y)

    def one_hot_by_scatter(L, F, z, t):
        hot = L.zeros(4, 6, dtype=z.dtype).scatter_(1, t.unsqueeze(1), 1.0)
        return (hot * z).sum(1), hot
    check(one_hot_by_scatter, logits, y)

    def class_sums(L, F, z, t):          # the sum of the rows of each class
        return L.zeros(3, 6, dtype=z.dtype).scatter_add(0, (t % 3).unsqueeze(1).expand(4, 6), z)
    check(class_sums, logits, y)

    def sorted_probs(L, F, z):           # top-p sampling's first step
        p, order = F.softmax(z, -1).sort(descending=True)
        return p, order, z.gather(1, order)
    check(sorted_probs, logits)

    def attention_by_einsum(L, F, q, k, v):
        w = F.softmax(L.einsum("bqd,bkd->bqk", q, k) / 2.0, -1)
        return L.einsum("bqk,bkd->bqd", w, v)
    check(attention_by_einsum, normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 4))

    check(lambda L, F, t: L.unique(t, return_counts=True), y, grad=False)


@pytest.mark.parametrize("out_shape, idx_shape", [((27, 10), (32, 3)), ((7,), (40,)),
                                                  ((5, 3, 4), (6, 2)), ((9, 2), (0,)),
                                                  ((4, 3), ())])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_scatter_adds_as_numpys_add_at(out_shape, idx_shape, dtype):
    """The backward of W[idx] and of an embedding adds whole rows by one flat add.at: the
    same numbers, bit for bit, as numpy's add.at row by row (repeats and negative indices
    included)."""
    from minigrad.ops.shape import index_add_array
    rng = np.random.default_rng(3)
    idx = rng.integers(-out_shape[0], out_shape[0], idx_shape)
    g = (rng.standard_normal(idx_shape + out_shape[1:]) * 10).astype(dtype)
    expected = np.zeros(out_shape, dtype)
    np.add.at(expected, idx, g)
    for key in (idx, (idx,)):
        got = index_add_array(g, out_shape, key)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
        assert not np.signbit(got[got == 0]).any()
