"""The math API real PyTorch code calls, against torch: log10/log2/log1p/expm1, // % fmod,
all/any, cumsum, prod, norm, isclose/equal, keepdims=, the binary cross-entropies, tril/triu,
repeat and repeat_interleave. Values, dtypes, gradients for a random upstream gradient (and
second derivatives through create_graph), edge values (0-d and empty tensors, negative dims,
±inf, NaN, ties, zeros) and the errors torch raises. (The registry's tests check these ops too,
on sampled shapes; here are the cases a sampler does not draw.)"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.testing import assert_close

LIBS = ((mg, MF), (torch, TF))
INF, NAN = math.inf, math.nan
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-8, INF, -INF, NAN])


def both(fn, *arrays, grad=True, upstream_seed=0, create_graph=False):
    """``fn(lib, F, *tensors)`` on minigrad and on torch from the same arrays; float arrays
    require grad when ``grad``. Returns (minigrad output, torch output, minigrad grads, torch
    grads), the grads for one random upstream gradient (None where there is no graph)."""
    out = []
    for lib, F in LIBS:
        ts = [lib.tensor(a) for a in arrays]
        leaves = [t.requires_grad_(True) for t in ts if grad and t.dtype in (lib.float32,
                                                                             lib.float64)]
        y = fn(lib, F, *ts)
        grads = None
        if leaves and y.requires_grad:
            g = lib.tensor(np.random.default_rng(upstream_seed).standard_normal(tuple(y.shape)),
                           dtype=y.dtype)
            try:
                grads = lib.autograd.grad(y, leaves, g, create_graph=create_graph,
                                          allow_unused=True)
            except RuntimeError as e:              # no derivative (floor_divide)
                grads = f"refused: {e}"
        out.append((y, grads))
    (ym, gm), (yt, gt) = out
    return ym, yt, gm, gt


def same(ym, yt, rtol=1e-7, atol=1e-12, name="output"):
    """Equal values (NaN where torch has NaN, the same infinities) and the same dtype."""
    assert str(ym.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1], \
        f"{name}: dtype {ym.dtype} vs torch's {yt.dtype}"
    assert tuple(ym.shape) == tuple(yt.shape), f"{name}: shape {ym.shape} vs {yt.shape}"
    a, b = np.asarray(ym.detach().numpy()), yt.detach().numpy()
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        assert_close(a, b, rtol, atol, name=name)


def same_grads(gm, gt, rtol=1e-7, atol=1e-12):
    assert (gm is None) == (gt is None), f"gradients: {gm} vs torch's {gt}"
    if isinstance(gt, str) or isinstance(gm, str):          # torch refused backward
        assert isinstance(gm, str) and isinstance(gt, str), f"gradients: {gm} vs {gt}"
        return
    for i, (a, b) in enumerate(zip(gm or (), gt or ())):
        if b is None:
            assert a is None or not np.any(a.detach().numpy()), f"gradient {i}"
            continue
        same(a, b, rtol, atol, name=f"gradient {i}")


def check(fn, *arrays, rtol=1e-7, atol=1e-12, **kw):
    ym, yt, gm, gt = both(fn, *arrays, **kw)
    same(ym, yt, rtol, atol)
    same_grads(gm, gt, rtol, atol)
    return ym, yt


def raises_like_torch(fn, *arrays, match=None):
    """torch refuses; minigrad refuses with an error of the same type, raised on purpose."""
    errors = []
    for lib, F in LIBS:
        with pytest.raises(Exception) as info:
            fn(lib, F, *[lib.tensor(a) for a in arrays])
        errors.append(info)
    m, t = errors
    assert isinstance(m.value, t.type), f"minigrad raised {m.type.__name__}, torch {t.type.__name__}"
    if match:
        assert m.match(match)
    return str(m.value)


def rng(seed=0):
    return np.random.default_rng(seed)


# =========================================================================== elementwise
UNARY = {"log10": lambda lib, F, x: lib.log10(x), "log2": lambda lib, F, x: x.log2(),
         "log1p": lambda lib, F, x: x.log1p(), "expm1": lambda lib, F, x: lib.expm1(x)}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log_exp_family_on_edge_values(name, dtype):
    x = np.concatenate([SPECIAL, [-1.0, -0.5, 1e-20, 50.0, 1e3, -1e3]]).astype(dtype)
    check(UNARY[name], x, rtol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 4)])
def test_log_exp_family_shapes_and_second_derivative(name, shape):
    x = rng(1).uniform(0.2, 3.0, shape)
    check(UNARY[name], x)
    # the derivative of the VJP (create_graph) against torch's
    outs = []
    for lib, F in LIBS:
        t = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(UNARY[name](lib, F, t).sum(), t, create_graph=True)
        outs.append(lib.autograd.grad(g.sum(), t)[0] if g.requires_grad else None)
    same(*outs, name="second derivative")


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_log_exp_family_of_integers_is_float(name, dtype):
    check(UNARY[name], np.array([0, 1, 3, 7]).astype(dtype))


@pytest.mark.parametrize("name", UNARY)
def test_log_exp_family_in_place(name):
    x = rng(2).uniform(0.2, 3.0, (3, 2))
    for lib, F in LIBS:
        t = lib.tensor(x)
        assert getattr(t, name + "_")() is t
        same(t, UNARY[name](torch, TF, torch.tensor(x)), name=f"{lib.__name__} {name}_")
    raises_like_torch(lambda lib, F, t: getattr(t, name + "_")(), np.array([1, 2]))


DIVISION = {"remainder": lambda lib, F, a, b: lib.remainder(a, b),
            "%": lambda lib, F, a, b: a % b,
            "fmod": lambda lib, F, a, b: lib.fmod(a, b),
            "floor_divide": lambda lib, F, a, b: lib.floor_divide(a, b),
            "//": lambda lib, F, a, b: a // b}


@pytest.mark.parametrize("name", DIVISION)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_division_family_on_every_pair_of_edge_values(name, dtype):
    """Every pair of signed zeros, ±1, ±2.5, a tiny number, ±inf and NaN: torch's sign rules
    (remainder takes the divisor's sign, fmod the dividend's), x % 0 = NaN, x // 0 = ±inf."""
    a, b = SPECIAL[:, None].astype(dtype), SPECIAL[None, :].astype(dtype)
    ym, yt, _, _ = both(DIVISION[name], a, b, grad=False)
    same(ym, yt, 0, 0)
    zero = yt.numpy() == 0
    np.testing.assert_array_equal(np.signbit(ym.numpy())[zero], np.signbit(yt.numpy())[zero])


@pytest.mark.parametrize("name", DIVISION)
def test_division_family_of_integers(name):
    a, b = np.arange(-7, 8)[:, None], np.array([-3, -2, -1, 1, 2, 3])[None, :]
    check(DIVISION[name], a, b)
    raises_like_torch(DIVISION[name], np.array([5, -5]), np.array([2, 0]),
                      match="ZeroDivisionError")
    raises_like_torch(DIVISION[name], np.array([True]), np.array([True]))


@pytest.mark.parametrize("name", ["remainder", "%", "//", "floor_divide"])
@pytest.mark.parametrize("a, b", [(7, "int64"), (-7.5, "int64"), (2.5, "float32"), (3, "bool")],
                         ids=str)
def test_division_with_a_number_and_promotion(name, a, b):
    """tensor op number and number op tensor (__rmod__, __rfloordiv__), with torch's dtypes:
    an integer tensor with a float number gives the default float dtype, a bool tensor with an
    int gives int64."""
    t = np.array([4, -3, 2]).astype(b)
    fn = DIVISION[name]
    check(lambda lib, F, x: fn(lib, F, x, a), t)
    rev = {"remainder": lambda lib, F, x: lib.remainder(a, x), "%": lambda lib, F, x: a % x,
           "//": lambda lib, F, x: a // x, "floor_divide": lambda lib, F, x: a // x}[name]
    check(rev, t)


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_remainder_and_fmod_gradients(name):
    """ā = ȳ, b̄ = −floor(a/b)·ȳ (remainder) or −trunc(a/b)·ȳ (fmod), broadcast and summed
    back; with a 0 divisor b̄ is ∓inf as torch's; the same values under create_graph."""
    r = rng(3)
    a, b = r.standard_normal((3, 4)) * 4, r.standard_normal((4,)) + 0.3
    fn = DIVISION[name]
    check(fn, a, b)
    check(fn, a, b, create_graph=True)
    check(fn, np.array(5.5), b)                              # 0-d dividend
    check(fn, np.array([1.0, 2.0, -3.0]), np.array([0.0, 0.5, 0.0]))
    check(lambda lib, F, x: fn(lib, F, x, -1.5), a)


@pytest.mark.parametrize("fn", [lambda x: x // 2, lambda x: 2.0 // x, lambda x: 7 % x,
                                lambda x: x.floor_divide(x + 4)],
                         ids=["x // 2", "2.0 // x", "7 % x", "floor_divide(x, x + 4)"])
def test_no_derivative_refuses_backward_as_torch(fn):
    """torch has no derivative for floor_divide nor for remainder(number, tensor): the result
    is in the graph (a NotImplemented node) and a backward through it raises, even when the
    loss also depends on x another way."""
    a = np.array([5.0, -5.0, 3.0])
    for lib, F in LIBS:
        x = lib.tensor(a, requires_grad=True)
        y = fn(x)
        assert y.requires_grad and type(y.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for .* not implemented"):
            (x * 2 + y).sum().backward()
        with lib.no_grad():
            assert not fn(x).requires_grad


@pytest.mark.parametrize("op", ["//=", "%="])
@pytest.mark.parametrize("dtype, other", [("int64", 2), ("float64", 1.5), ("int64", 1.5),
                                          ("float32", -2)], ids=str)
def test_in_place_division(op, dtype, other):
    x = np.array([5, -5, 7, 0]).astype(dtype)

    def fn(lib, F, t):
        t = t.clone()
        if op == "//=":
            t //= other
        else:
            t %= other
        return t

    if dtype == "int64" and isinstance(other, float):
        raises_like_torch(fn, x)
    else:
        check(fn, x, grad=False)
    check(lambda lib, F, t: t.clone().remainder_(lib.tensor([2.0, -2.0, 3.0, 1.0])),
          x.astype("float64"))
    check(lambda lib, F, t: t.clone().fmod_(-1.5), x.astype("float64"))


# =========================================================================== all, any
@pytest.mark.parametrize("how", ["all", "any"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool", "uint8"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (-1, True), ((0, 2), False),
                                          (1, True)], ids=str)
def test_all_any(how, dtype, dim, keepdim):
    """Any dtype in, bool out (uint8 stays uint8, as torch); NaN counts as nonzero."""
    x = rng(4).integers(0, 2, (2, 3, 4)).astype(dtype)
    if dtype.startswith("float"):
        x[0, 0] = [NAN, -0.0, INF, 0.0]
    fn = (lambda lib, F, t: getattr(t, how)()) if dim is None else \
        (lambda lib, F, t: getattr(lib, how)(t, dim=dim, keepdim=keepdim))
    check(fn, x, grad=False)
    check(lambda lib, F, t: getattr(t, how)(dim=dim, keepdims=keepdim), x, grad=False)


@pytest.mark.parametrize("how", ["all", "any"])
@pytest.mark.parametrize("shape, dim", [((0,), None), ((2, 0), 1), ((2, 0), 0), ((), None),
                                        ((), 0), ((), -1)], ids=str)
def test_all_any_of_empty_and_0d(how, shape, dim):
    x = np.ones(shape)
    check(lambda lib, F, t: getattr(t, how)() if dim is None else getattr(t, how)(dim), x,
          grad=False)


# =========================================================================== keepdims=
KEEPDIMS = ["sum", "mean", "var", "std", "amax", "amin", "prod", "all", "any", "argmax",
            "argmin", "logsumexp"]


@pytest.mark.parametrize("name", KEEPDIMS)
@pytest.mark.parametrize("how", ["method", "function"])
def test_keepdims_alias(name, how):
    """torch's reductions accept numpy's spelling keepdims= as well as keepdim=."""
    x = rng(5).standard_normal((3, 4))
    fn = (lambda lib, F, t: getattr(t, name)(1, keepdims=True)) if how == "method" else \
        (lambda lib, F, t: getattr(lib, name)(t, dim=-2, keepdims=True))
    ym, yt = check(fn, x)
    assert ym.ndim == 2


@pytest.mark.parametrize("name", ["max", "min"])
def test_keepdims_on_max_and_min_with_dim(name):
    x = rng(6).standard_normal((3, 4))
    for k in (0, 1):
        check(lambda lib, F, t: getattr(t, name)(1, keepdims=True)[k], x)


def test_keepdim_and_keepdims_together_are_refused():
    raises_like_torch(lambda lib, F, t: t.sum(0, keepdim=True, keepdims=True), np.ones((2, 3)))


# =========================================================================== prod
ZEROS = {"none": [], "one zero": [(0, 1)], "two zeros in a slice": [(0, 1), (0, 3)],
         "zeros in two slices": [(0, 1), (2, 2)], "a zero row": [(1, 0), (1, 1), (1, 2), (1, 3)]}


@pytest.mark.parametrize("zeros", ZEROS, ids=str)
@pytest.mark.parametrize("how", ["whole", "dim 1", "dim -2 keepdim", "dim 0"])
def test_prod_gradient_with_zeros(zeros, how):
    """With no zero x̄ = ȳ·y/x; one zero in a slice: only the zero gets a gradient, the
    product of the others; two zeros: the slice gets none. Second derivatives as torch's."""
    x = rng(7).standard_normal((3, 4))
    for at in ZEROS[zeros]:
        x[at] = 0.0
    fn = {"whole": lambda lib, F, t: t.prod(),
          "dim 1": lambda lib, F, t: t.prod(1),
          "dim -2 keepdim": lambda lib, F, t: lib.prod(t, -2, keepdim=True),
          "dim 0": lambda lib, F, t: lib.prod(t, dim=0)}[how]
    check(fn, x)
    second = []
    for lib, F in LIBS:
        t = lib.tensor(x, requires_grad=True)
        up = lib.tensor(rng(8).standard_normal(tuple(fn(lib, F, t).shape)))
        g, = lib.autograd.grad(fn(lib, F, t), t, up, create_graph=True)
        second.append(lib.autograd.grad((g * g).sum(), t)[0])
    same(*second, name="second derivative")


@pytest.mark.parametrize("values", [[INF, 2.0, 3.0], [NAN, 1.0], [0.0, INF, 2.0], [-0.0, -1.0],
                                    [1e200, 1e200]], ids=str)
def test_prod_on_edge_values(values):
    check(lambda lib, F, t: t.prod(), np.array(values))
    check(lambda lib, F, t: t.prod(0, keepdim=True), np.array(values))


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "int32"])
def test_prod_dtypes(dtype):
    x = np.array([[1, 2, 3], [0, 1, 4]]).astype(dtype)
    check(lambda lib, F, t: t.prod(), x)
    check(lambda lib, F, t: t.prod(1), x)
    check(lambda lib, F, t: t.prod(dtype=lib.float64), x)
    check(lambda lib, F, t: lib.prod(t, 0, dtype=lib.float32), x)


@pytest.mark.parametrize("shape, dim", [((), None), ((), 0), ((0,), None), ((2, 0), 1),
                                        ((2, 0), 0)], ids=str)
def test_prod_of_0d_and_empty(shape, dim):
    x = np.full(shape, 1.5)
    check(lambda lib, F, t: t.prod() if dim is None else t.prod(dim), x)


def test_prod_refuses_what_torch_refuses():
    raises_like_torch(lambda lib, F, t: t.prod(2), np.ones((2, 3)))
    raises_like_torch(lambda lib, F, t: t.prod(dim=(0, 1)), np.ones((2, 3)))


# =========================================================================== cumsum, cumprod
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
def test_cumsum_cumprod(name, dim):
    x = rng(9).standard_normal((2, 3, 4))
    check(lambda lib, F, t: getattr(t, name)(dim), x)
    check(lambda lib, F, t: getattr(lib, name)(t, dim=dim), x, create_graph=True)


@pytest.mark.parametrize("zeros", ZEROS, ids=str)
def test_cumprod_gradient_with_zeros(zeros):
    x = rng(10).standard_normal((3, 4))
    for at in ZEROS[zeros]:
        x[at] = 0.0
    for dim in (0, 1):
        check(lambda lib, F, t: t.cumprod(dim), x)
        second = []
        for lib, F in LIBS:
            t = lib.tensor(x, requires_grad=True)
            up = lib.tensor(rng(11).standard_normal(x.shape))
            g, = lib.autograd.grad(t.cumprod(dim), t, up, create_graph=True)
            second.append(lib.autograd.grad((g * g).sum(), t)[0])
        same(*second, name="second derivative")


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "int32"])
def test_cumsum_cumprod_dtypes(name, dtype):
    x = np.array([[1, 2, 3], [0, 1, 4]]).astype(dtype)
    check(lambda lib, F, t: getattr(t, name)(1), x)
    check(lambda lib, F, t: getattr(t, name)(0, dtype=lib.float64), x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape, dim", [((), 0), ((), -1), ((0,), 0), ((2, 0), 1), ((2, 0), 0)],
                         ids=str)
def test_cumsum_cumprod_of_0d_and_empty(name, shape, dim):
    check(lambda lib, F, t: getattr(t, name)(dim), np.full(shape, 1.5))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumsum_cumprod_edge_values_and_errors(name):
    check(lambda lib, F, t: getattr(t, name)(0), np.array([1.0, INF, -INF, 2.0, NAN]))
    raises_like_torch(lambda lib, F, t: getattr(t, name)(2), np.ones((2, 3)))


# =========================================================================== norm
NORMS = [2, 1, INF, -INF, 0, 3, 1.5, 0.5, -1]


@pytest.mark.parametrize("p", NORMS, ids=str)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (-1, True), ((0, 1), False),
                                          ((-1, 0), True)], ids=str)
def test_norm_values_and_gradients(p, dim, keepdim):
    x = rng(12).standard_normal((3, 4))
    x[1, 1] = x[1, 2] = -abs(x).max() - 1           # a tie for the largest |x|
    x[2, 0] = 0.0
    check(lambda lib, F, t: t.norm(p, dim, keepdim), x)
    check(lambda lib, F, t: lib.norm(t, p=p, dim=dim, keepdim=keepdim), x)
    check(lambda lib, F, t: lib.linalg.vector_norm(t, ord=p, dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("p", NORMS, ids=str)
def test_norm_gradient_at_the_zero_vector(p):
    """The norm of 0 has no derivative; torch's gradient there is 0 (not 0/0 = NaN) for
    p ≥ 1 and NaN or inf where it divides by 0 for p < 1: the same here."""
    x = np.zeros((2, 3))
    x[1] = [1.0, -2.0, 0.5]
    check(lambda lib, F, t: t.norm(p, dim=1), x)
    check(lambda lib, F, t: t[0].norm(p), x)


@pytest.mark.parametrize("p", [2, 1, INF, 3, 1.5], ids=str)
def test_norm_second_derivative(p):
    x = rng(13).standard_normal((3, 4))
    check(lambda lib, F, t: t.norm(p, dim=0), x, create_graph=True)
    outs = []
    for lib, F in LIBS:
        t = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(t.norm(p, dim=1).sum(), t, create_graph=True)
        outs.append(lib.autograd.grad((g * g).sum(), t, allow_unused=True)[0]
                    if g.requires_grad else None)
    if outs[0] is None or outs[1] is None:          # a first derivative constant in x
        assert all(o is None or not (o + 0).detach().numpy().any() for o in outs)
    else:
        same(*outs, name="second derivative")


def test_norm_forms():
    """'fro' is the 2-norm (one or two dims); a tensor with inf and NaN; float32 stays
    float32; dtype= casts first; 0-d and empty tensors."""
    x = rng(14).standard_normal((2, 3, 4))
    check(lambda lib, F, t: t.norm(p="fro"), x)
    check(lambda lib, F, t: lib.norm(t, "fro", dim=(0, 2), keepdim=True), x)
    check(lambda lib, F, t: t.norm(dim=1), x)
    check(lambda lib, F, t: lib.linalg.norm(t), x)
    check(lambda lib, F, t: lib.linalg.norm(t, ord=1, dim=-1), x)
    check(lambda lib, F, t: t.norm(), x.astype("float32"), rtol=1e-6)
    check(lambda lib, F, t: t.norm(dtype=lib.float64), x.astype("float32"), rtol=1e-6)
    check(lambda lib, F, t: t.norm(), np.array([1.0, INF, 2.0]))
    check(lambda lib, F, t: t.norm(1), np.array([1.0, NAN, 2.0]))
    check(lambda lib, F, t: t.norm(), np.array(-3.0))
    check(lambda lib, F, t: t.norm(), np.zeros(0))
    check(lambda lib, F, t: t.norm(dim=0), np.zeros((0, 2)))


def test_norm_refuses_what_torch_refuses():
    raises_like_torch(lambda lib, F, t: t.norm(), np.array([1, 2]))
    raises_like_torch(lambda lib, F, t: t.norm(INF), np.zeros(0))
    raises_like_torch(lambda lib, F, t: lib.linalg.vector_norm(t, -INF, dim=1), np.zeros((2, 0)))
    raises_like_torch(lambda lib, F, t: t.norm(dim=2), np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="nuc"):
        mg.tensor(np.ones((2, 2))).norm(p="nuc")


# =========================================================================== isclose, equal
def test_isclose_allclose_equal():
    a = np.array([1.0, 2.0, NAN, INF, -INF, 0.0, 1e-9])
    b = np.array([1.0 + 1e-6, 2.1, NAN, INF, INF, 1e-9, 0.0])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.0, "rtol": 0.0}):
        check(lambda lib, F, x, y: lib.isclose(x, y, **kw), a, b, grad=False)
        check(lambda lib, F, x, y: x.isclose(y, **kw), a, b, grad=False)
        ym, yt, _, _ = both(lambda lib, F, x, y: lib.tensor(lib.allclose(x, y, **kw)), a, b)
        assert ym.item() == yt.item()
    check(lambda lib, F, x, y: lib.isclose(x, y[:1]), a, b, grad=False)     # broadcast
    for x, y in [(a, a), (a, b), (a[:2], a[:2].copy()), (a[:2], a[:3]), (np.ones((2, 1)),
                 np.ones(2)), (np.array([1, 2]), np.array([1.0, 2.0]))]:
        ym, yt, _, _ = both(lambda lib, F, p, q: lib.tensor(lib.equal(p, q)), x, y, grad=False)
        assert ym.item() == yt.item(), (x, y)
        ym, yt, _, _ = both(lambda lib, F, p, q: lib.tensor(p.equal(q)), x, y, grad=False)
        assert ym.item() == yt.item(), (x, y)
    raises_like_torch(lambda lib, F, x, y: lib.isclose(x, y), np.array([1, 2]), np.array([1.0, 2]))
    raises_like_torch(lambda lib, F, x, y: lib.allclose(x, y), np.array([1.0]),
                      np.array([1.0], dtype=np.float32))


# =========================================================================== binary cross-entropy
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    """Gradients for x and t; the log clamped at −100, so x = 0 and x = 1 give finite losses
    and the gradient there is bounded by the 1e-12 floor, as torch's."""
    r = rng(15)
    x = r.uniform(0.01, 0.99, (4, 3))
    x[0] = [0.0, 1.0, 0.5]
    x[1, 0] = 1e-30
    t = r.uniform(0, 1, (4, 3))
    t[0] = [1.0, 0.0, 0.5]
    t[1] = [0.0, 1.0, 1.0]
    w = r.uniform(0.5, 2, (3,))
    if weighted:
        fn = lambda lib, F, a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction)
        args = (x, t, w)
    else:
        fn = lambda lib, F, a, b: F.binary_cross_entropy(a, b, reduction=reduction)
        args = (x, t)
    ym, yt, gm, gt = both(lambda lib, F, *ts: fn(lib, F, *[u.detach() if i == 2 else u
                                                         for i, u in enumerate(ts)]), *args)
    same(ym, yt)
    same_grads(gm[:2], gt[:2])
    mid = x.copy()
    mid[0], mid[1, 0] = [0.3, 0.7, 0.5], 0.2                 # second derivatives: inside (0, 1)
    check(lambda lib, F, a, b: F.binary_cross_entropy(a, b, reduction=reduction), mid, t,
          create_graph=True, rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_with_logits(reduction, pos_weight, weighted):
    """Stable for large |logits|: ±1e4 and ±inf logits give finite losses and gradients where
    torch's are finite (log σ(x) is never log of an underflowed exp)."""
    r = rng(16)
    x = r.standard_normal((4, 3)) * 3
    x[0] = [1e4, -1e4, 0.0]
    x[1] = [40.0, -40.0, 800.0]
    t = r.uniform(0, 1, (4, 3))
    t[0] = [0.0, 1.0, 1.0]
    extra = {}
    if weighted:
        extra["weight"] = r.uniform(0.5, 2, (4, 1))
    if pos_weight:
        extra["pos_weight"] = r.uniform(0.5, 3, (3,))
    names = list(extra)

    def fn(lib, F, a, b, *c):
        kw = {k: v.detach() for k, v in zip(names, c)}
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw)

    ym, yt, gm, gt = both(fn, x, t, *extra.values())
    same(ym, yt)
    same_grads(gm[:2], gt[:2])
    assert np.isfinite(ym.detach().numpy()).all()
    ym, yt, gm, gt = both(fn, x, t, *extra.values(), create_graph=True)
    same_grads(gm[:2], gt[:2])
    second = []
    for lib, F in LIBS:
        a = lib.tensor(x, requires_grad=True)
        ts = [lib.tensor(v) for v in extra.values()]
        g, = lib.autograd.grad(fn(lib, F, a, lib.tensor(t), *ts).sum(), a, create_graph=True)
        second.append(lib.autograd.grad((g * g).sum(), a)[0])
    same(*second, name="second derivative")


def test_binary_cross_entropy_edge_shapes_and_modules():
    for shape in [(), (0,), (2, 0)]:
        x, t = np.full(shape, 0.3), np.full(shape, 1.0)
        for red in REDUCTIONS:
            check(lambda lib, F, a, b: F.binary_cross_entropy(a, b, reduction=red), x, t)
            check(lambda lib, F, a, b: F.binary_cross_entropy_with_logits(a, b, reduction=red),
                  x, t)
    x, t = rng(17).uniform(0.1, 0.9, (3, 2)), rng(18).uniform(0, 1, (3, 2))
    check(lambda lib, F, a, b: lib.nn.BCELoss()(a, b), x, t)
    check(lambda lib, F, a, b: lib.nn.BCELoss(weight=lib.tensor([1.0, 2.0], dtype=a.dtype),
                                              reduction="sum")(a, b), x, t)
    check(lambda lib, F, a, b: lib.nn.BCEWithLogitsLoss(
        pos_weight=lib.tensor([3.0, 0.5], dtype=a.dtype))(a, b), x, t)
    check(lambda lib, F, a, b: lib.nn.BCEWithLogitsLoss(reduction="none")(a, b), x, t)
    check(lambda lib, F, a, b: F.binary_cross_entropy(a, b, size_average=False), x, t)
    check(lambda lib, F, a, b: F.binary_cross_entropy_with_logits(a, b, reduce=False), x, t)
    check(lambda lib, F, a, b: F.binary_cross_entropy(a, b), x.astype("float32"),
          t.astype("float32"), rtol=1e-6)
    for lib in (mg, torch):
        m = lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([3.0, 0.5]))
        assert list(m.state_dict()) == ["pos_weight"]


def test_binary_cross_entropy_refuses_what_torch_refuses():
    x, t = np.array([0.2, 0.7, 0.4]), np.array([0.0, 1.0, 1.0])
    bce, bcel = (lambda lib, F, a, b: F.binary_cross_entropy(a, b),
                 lambda lib, F, a, b: F.binary_cross_entropy_with_logits(a, b))
    assert "between 0 and 1" in raises_like_torch(bce, np.array([1.5, 0.5, 0.2]), t)
    raises_like_torch(bce, np.array([NAN, 0.5, 0.2]), t)
    assert "target" in raises_like_torch(bce, x, np.array([0.0, 1.5, 1.0]))
    raises_like_torch(bce, x, np.array([0.0, NAN, 1.0]))
    check(bcel, x, np.array([0.0, 1.5, NAN]))           # with logits: not checked, as torch
    for fn in (bce, bcel):
        raises_like_torch(fn, x, t[:2])                                  # target size
    raises_like_torch(bce, x, t.astype("float32"))                       # target dtype
    raises_like_torch(bce, x, np.array([0, 1, 1]))
    raises_like_torch(bcel, x, np.array([0, 1, 1]))
    check(bcel, x, t.astype("float32"), rtol=1e-6)        # the target's dtype, as torch
    check(bcel, x.astype("float32"), t, rtol=1e-6)
    for fn in (bce, bcel):
        raises_like_torch(lambda lib, F, a, b: fn(lib, F, a, b) if False else
                          (F.binary_cross_entropy(a, b, reduction="bad") if fn is bce else
                           F.binary_cross_entropy_with_logits(a, b, reduction="bad")), x, t)
    raises_like_torch(lambda lib, F, a, b, w: F.binary_cross_entropy(a, b, weight=w), x, t,
                      np.ones(2))
    for kw in ("weight", "pos_weight"):
        def grad_weight(lib, F, a, b, w, kw=kw):
            return F.binary_cross_entropy_with_logits(a, b, **{kw: w.requires_grad_(True)})
        raises_like_torch(grad_weight, x, t, np.ones(3))


# =========================================================================== tril, triu
@pytest.mark.parametrize("how", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [0, 1, -1, 3, -5])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3), (2, 1, 2, 5), (0, 3), (2, 0, 0)],
                         ids=str)
def test_tril_triu(how, diagonal, shape):
    x = rng(19).standard_normal(shape)
    check(lambda lib, F, t: getattr(t, how)(diagonal), x)
    check(lambda lib, F, t: getattr(lib, how)(t, diagonal=diagonal), x, create_graph=True)


@pytest.mark.parametrize("how", ["tril", "triu"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
def test_tril_triu_dtypes_in_place_and_errors(how, dtype):
    x = (rng(20).standard_normal((3, 3)) * 3).astype(dtype)
    check(lambda lib, F, t: getattr(t, how)(), x)
    check(lambda lib, F, t: getattr(t.clone(), how + "_")(-1), x, grad=False)
    x = rng(21).standard_normal((3, 3))
    check(lambda lib, F, t: getattr(t * 1, how + "_")(1), x)         # in the graph
    raises_like_torch(lambda lib, F, t: getattr(t, how)(), np.ones(3))
    raises_like_torch(lambda lib, F, t: getattr(t, how)(), np.array(1.0))


def test_tril_of_nan_and_inf_keeps_them_where_kept():
    x = np.array([[NAN, INF], [-INF, NAN]])
    check(lambda lib, F, t: t.tril(), x)
    check(lambda lib, F, t: t.triu(), x)


# =========================================================================== repeat
@pytest.mark.parametrize("shape, sizes", [((3,), (2,)), ((3,), (2, 2)), ((2, 3), (1, 1)),
                                          ((2, 3), (2, 1, 3)), ((), (3,)), ((), (2, 2)),
                                          ((2, 3), (0, 2)), ((0, 2), (2, 2)), ((2, 1, 3), (1, 4, 1))],
                         ids=str)
def test_repeat(shape, sizes):
    """More sizes than dims (leading dims added), zeros (an empty result), 0-d input."""
    x = rng(22).standard_normal(shape)
    check(lambda lib, F, t: t.repeat(*sizes), x, create_graph=True)
    check(lambda lib, F, t: t.repeat(sizes), x)
    check(lambda lib, F, t: t.repeat(list(sizes)), x.astype("float32"), rtol=1e-6)
    check(lambda lib, F, t: t.repeat(lib.Size(sizes)), (x > 0))


def test_repeat_refuses_what_torch_refuses():
    raises_like_torch(lambda lib, F, t: t.repeat(2), np.ones((2, 3)))
    raises_like_torch(lambda lib, F, t: t.repeat(-1), np.ones(3))
    raises_like_torch(lambda lib, F, t: t.repeat(), np.ones(3))


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("repeats", [2, 0, "tensor", "one-element tensor"])
def test_repeat_interleave(dim, repeats):
    x = rng(23).standard_normal((3, 4))

    def fn(lib, F, t):
        n = t.numel() if dim is None else t.shape[dim]
        r = {2: 2, 0: 0, "tensor": lib.tensor([k % 3 for k in range(n)]),
             "one-element tensor": lib.tensor([3])}[repeats]
        return t.repeat_interleave(r, dim=dim)

    check(fn, x)
    check(lambda lib, F, t: lib.repeat_interleave(t, 2, dim), x.astype("int64"))
    check(lambda lib, F, t: lib.repeat_interleave(t, 3), np.array(1.5))


def test_repeat_interleave_of_counts_and_errors():
    check(lambda lib, F, t: lib.repeat_interleave(t), np.array([2, 0, 3]))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(lib.tensor([1, 2]), dim=0),
                      np.ones((3, 2)))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(-1), np.ones(3))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(lib.tensor([1, -1, 1])), np.ones(3))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(2, dim=2), np.ones((3, 2)))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(2, dim=0), np.array(1.0))
    raises_like_torch(lambda lib, F, t: t.repeat_interleave(lib.tensor([2]), dim=-1),
                      np.array(1.0))
