"""What the differential fuzzer (tests/fuzz.py) found, each kept as a test against torch:
the same call on both libraries, values, dtypes and gradients for a random upstream
gradient compared, or both raising."""
import math

import numpy as np
import pytest
import torch

import minigrad as mg

LIBS = {"minigrad": mg, "torch": torch}
rng = np.random.default_rng(0)
X = rng.standard_normal((2, 4, 5))
B = np.array([True, False, True])
I = np.array([2, 1, -1, 0, 3])


def run(lib, fn, arrays, grad=True):
    ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return ts, fn(lib, *ts)


def same(fn, *arrays):
    """fn on both libraries: equal dtype, values and (for a float result) input gradients."""
    (ts_t, out_t), (ts_m, out_m) = run(torch, fn, arrays), run(mg, fn, arrays)
    assert str(out_m.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
    assert tuple(out_m.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(np.asarray(out_m.detach()), out_t.detach().numpy(), rtol=1e-7,
                               atol=1e-12, equal_nan=True)
    if out_t.requires_grad:
        up = rng.standard_normal(tuple(out_t.shape))
        out_t.backward(torch.tensor(up))
        out_m.backward(mg.tensor(up))
        for a, b in zip(ts_m, ts_t):
            if b.grad is not None:
                np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), rtol=1e-7,
                                           atol=1e-12, equal_nan=True)


def both_raise(fn, *arrays, match):
    for lib in LIBS.values():
        with pytest.raises((RuntimeError, NotImplementedError), match=match):
            run(lib, fn, arrays)


@pytest.mark.parametrize("fn, match", [
    (lambda lib, b: b - b, "Subtraction, the `-` operator, with two bool tensors"),
    (lambda lib, b: b - 1, "Subtraction, the `-` operator, with a bool tensor"),
    (lambda lib, b: 2.0 - b, "Subtraction, the `-` operator, with a bool tensor"),
    (lambda lib, b: lib.tensor([1, 2, 3]) - b, "Subtraction, the `-` operator, with a bool"),
    (lambda lib, b: -b, "Negation, the `-` operator, on a bool tensor"),
    (lambda lib, b: b.abs(), "not implemented for"),
    (lambda lib, b: lib.sub(lib.tensor([1, 2, 3]), lib.tensor([1, 1, 1]), alpha=True),
     "Boolean alpha only supported for Boolean results"),
    (lambda lib, b: lib.tensor([1, 2, 3]).masked_fill(b, -math.inf),
     "cannot be converted to"),
])
def test_bool_and_integer_rules(fn, match):
    both_raise(fn, B, match=match)


@pytest.mark.parametrize("fn", [
    lambda lib, b: lib.add(b, b, alpha=2),                       # bool result, bool alpha
    lambda lib, b: b.amin(), lambda lib, b: b.min(), lambda lib, b: b.min(0).values,
    lambda lib, b: b.masked_fill(b, math.inf),                   # inf → True in a bool
    lambda lib, b: lib.tensor([2.254], dtype=lib.float64).float() == lib.tensor(
        2.254, dtype=lib.float64),                               # compared in float32
])
def test_bool_results(fn):
    same(fn, B)


def test_integer_tensor_to_negative_integer_tensor_powers():
    same(lambda lib, a: a ** lib.tensor(-1), I)                 # a 0-d exponent tensor
    same(lambda lib, a: a ** lib.tensor([-1, -1, -1, 2, -2]), I)
    both_raise(lambda lib, a: a ** -1, I, match="ntegers to negative integer powers")


@pytest.mark.parametrize("key", [
    (1, slice(None), [4, 4, 3]), (slice(None), 1, [0, 2]), ([0, 1], 2, [1, 1]),
    (1, Ellipsis, [0, 1]), (None, 1, [0, 1]), ([1], slice(1, 3), 0), (slice(None), 0, [-1], ...),
])
def test_integers_are_applied_before_index_arrays(key):
    """torch selects with an integer first: x[1, :, [4, 4, 3]] is (4, 3), numpy's (3, 4)."""
    def fn(lib, x):
        return x[tuple(lib.tensor(k) if isinstance(k, list) else k for k in key)]
    same(fn, X)


def test_empty_and_degenerate_shapes():
    same(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v),
         np.zeros((2, 3, 0)), np.zeros((2, 2, 0)), rng.standard_normal((2, 2, 3)))
    same(lambda lib, x, w: lib.nn.functional.linear(x, w), np.zeros((2, 1, 0)),
         np.zeros((3, 0)))
    for lib in LIBS.values():
        pieces = lib.zeros(0, 3).chunk(2)
        assert [tuple(p.shape) for p in pieces] == [(0, 3), (0, 3)]


def test_nan_and_inf_gradients_as_torch():
    x = np.array([np.nan, 0.0, -0.0, 1.0, -2.0])
    same(lambda lib, a: a.abs(), x)                              # sign(NaN) is 0 in torch
    same(lambda lib, a: lib.sign(a.detach()), x)
    # x ** 0: zero gradient even where the upstream is NaN (0 · NaN is not asked)
    same(lambda lib, a: (a ** 0 @ lib.tensor([1.0, -1, 2, -3, 1]).double()).sqrt(),
         rng.standard_normal((3, 5)))
    # a tensor exponent multiplies the masked factor: a NaN upstream stays NaN, as torch
    same(lambda lib, a, n: (a.abs() ** n * a) / (a.abs() ** n), np.array([0.0, 2.0, -3.0]),
         np.array(0.081))
    # nll_loss scatters the upstream to the targets: an infinite one stays off the others
    same(lambda lib, z: lib.nn.functional.nll_loss(z, lib.tensor([-100]), reduction="sum")
         .log(), np.array([[-0.4]]))


def _layout(lib, t):
    return t.is_contiguous(), (t.stride() if lib is torch else
                               tuple(s // t._data.itemsize for s in t._data.strides))


@pytest.mark.parametrize("fn", [
    # a cast of an expanded integer tensor, then a binary op with a broadcast operand
    lambda lib: lib.minimum(lib.tensor([1.5, -2.0], dtype=lib.float64).unsqueeze(1),
                            lib.stack([lib.tensor([1, -2])] * 2).expand(2, -1, -1)),
    lambda lib: lib.stack([lib.tensor([1, -2])] * 2).expand(3, -1, -1).double() + 1,
    lambda lib: lib.ones(3, 4).t() + 1,                       # follows the transposed input
    lambda lib: lib.ones(3, 4).t() * lib.ones(4, 1),
    lambda lib: lib.ones(4, 3) + lib.ones(3, 4).t(),         # the first full-size input leads
])
def test_elementwise_results_are_laid_out_as_torch(fn):
    """Whether ``.view`` of a result works depends on its layout: torch's, not numpy's."""
    assert _layout(mg, fn(mg)) == _layout(torch, fn(torch))


def _no_grad_view_programs(lib):
    def changed(v):          # the view itself changed in place in grad mode
        v.mul_(2)

    def view_of_view(v):
        v[:1].mul_(2)

    def base_changed(v):     # the base changed, then the view used in grad mode
        v._base.mul_(2)
        return v * 2

    def base_changed_under_no_grad(v):
        with lib.no_grad():
            v._base.mul_(2)
        return v * 2
    return changed, view_of_view, base_changed, base_changed_under_no_grad


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("leaf", [True, False])
def test_a_view_taken_under_no_grad_is_refused_in_grad_mode_as_torch(k, leaf):
    rule = None
    for lib in (torch, mg):          # the rule torch's message names, then minigrad's the same
        x = lib.ones(3, requires_grad=True)
        h = x if leaf else x * 1
        with lib.no_grad():
            v = h[:2]
        with pytest.raises(RuntimeError, match=rule or "") as e:
            _no_grad_view_programs(lib)[k](v)
        rule = rule or next(r for r in ("created in no_grad mode", "a leaf Variable that "
                                        "requires grad") if r in str(e.value))


@pytest.mark.parametrize("case", ["no_grad", "no_requires_grad", "detached"])
def test_a_view_taken_under_no_grad_is_fine_where_torch_allows_it(case):
    got = {}
    for name, lib in LIBS.items():
        x = lib.ones(3, requires_grad=case != "no_requires_grad")
        h = x * 1
        with lib.no_grad():
            v = (h.detach() if case == "detached" else h)[:2]
        if case == "no_grad":
            with lib.no_grad():
                v.mul_(3)
                h.add_(1)
                got[name] = (v * 2).tolist(), h.tolist()
        else:
            v.mul_(3)
            got[name] = (v * 2).tolist(), h.tolist()
    assert got["minigrad"] == got["torch"]


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[:, lib.tensor([0, 1, 1, 3])].view(-1),
    lambda lib, x: x.repeat_interleave(lib.tensor([1, 2, 1, 1, 2]), dim=-1).view(8, -1),
    lambda lib, x: x[:, None, lib.tensor([[0], [1]]), 1:].view(-1),
    lambda lib, x: x[lib.tensor([1, 0]), :, lib.tensor([4, 2])].view(-1),
    lambda lib, x: x.permute(2, 0, 1)[:, lib.tensor([1, 1, 0])].transpose(0, 1).reshape(-1),
])
def test_an_index_with_arrays_is_laid_out_as_torch(fn):
    """numpy lays out x[:, idx] column by column; torch row by row, so .view of it works."""
    same(fn, X)
    a, b = fn(mg, mg.tensor(X)), fn(torch, torch.tensor(X))
    assert _layout(mg, a) == _layout(torch, b)


def test_a_0d_bool_tensor_is_its_own_kth_value():
    for k in (True, False):
        same(lambda lib, b: lib.stack(list(b.kthvalue(1, 0, keepdim=k))), np.array(True))
    both_raise(lambda lib, b: b.kthvalue(1), np.array([True]), match="not implemented|not sup")


def test_products_of_zeros_pass_an_infinite_gradient_as_torch():
    z = np.array([0.0, -0.0, 1.5, 0.0])
    # two zeros or more: zeros for the product of all elements (torch does not multiply)
    same(lambda lib, x: x.prod() * math.inf, z)
    same(lambda lib, x: (x.prod() * math.inf).sin() + x.sum(), z)
    # cumprod along a dimension of one element is x itself: gradient ȳ, even at inf
    same(lambda lib, x: (x.cumprod(0) * 2).exp(), np.array([math.inf]))
    same(lambda lib, x: x.cumprod(1) + x, np.array([[math.inf], [-2.0]]))


def test_reading_grad_fn_of_a_view_whose_sibling_changed_regenerates_it():
    """torch gives a view a new grad_fn when it is read after its base (through another view)
    changed in place; the old one would route the gradient around the change."""
    got = {}
    for name, lib in LIBS.items():
        x = lib.ones(4, requires_grad=True)
        h = x * 1
        v1, v2 = h[:2], h[1:]
        old = v2.grad_fn
        v1.mul_(3)
        new = v2.grad_fn
        assert new is not old
        (v2 * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        got[name] = x.grad.tolist()
    assert got["minigrad"] == got["torch"] == [0.0, 3.0, 2.0, 3.0]


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.repeat_interleave(1, dim=-1),
    lambda lib, x: x[:, :1].repeat_interleave(2, dim=-1),
    lambda lib, x: x.permute(2, 0, 1).repeat_interleave(lib.tensor([2]), dim=1),
    lambda lib, x: x.permute(2, 0, 1).repeat_interleave(lib.tensor([1, 2]), dim=1),
])
def test_repeat_interleave_gives_a_new_tensor_row_by_row(fn):
    """Never a view of its input (writing into it leaves the input alone), always viewable."""
    same(lambda lib, x: fn(lib, x).view(-1) * 2, X)
    for lib in LIBS.values():
        x = lib.tensor(X)
        fn(lib, x).add_(1)
        assert lib.equal(x, lib.tensor(X))


@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5, math.inf])
def test_the_norm_of_zeros_passes_an_infinite_gradient_as_torch(p):
    """For p = 2 torch multiplies ȳ by x / ‖x‖ after masking it to 0: inf · 0 is NaN; for
    other p the mask comes after ȳ is divided in: 0."""
    z = np.array([[0.0, -0.0, 0.0], [0.5, -1.0, 2.0]])
    same(lambda lib, x: lib.linalg.vector_norm(x, p, dim=1) * math.inf, z)
    same(lambda lib, x: lib.linalg.vector_norm(x, p, dim=1) + x.sum(), z)


@pytest.mark.parametrize("a, b", [
    (np.zeros(0, bool), np.zeros(0, np.float32)), (B, np.zeros(0, np.float32)),
    (np.zeros(0, np.float32), I), (np.zeros((2, 3), np.int64), np.zeros(0)),
    (np.zeros(0), X[0]), (np.zeros((0, 3), bool), np.zeros((2, 3), np.int64)),
])
def test_an_empty_tensor_cat_skips_still_counts_in_its_dtype(a, b):
    same(lambda lib, x, y: lib.cat([x, y]), a, b)
    same(lambda lib, x, y: lib.cat([y, x, y]), a, b)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_through_zeros_passes_an_infinite_gradient_as_torch(dim):
    """Without a graph of the backward, torch masks each line after its first zero instead
    of multiplying by 0, so log10(cumprod(x)) of an x holding zeros has finite gradients."""
    z = np.array([[0.5, 0.0, -1.2, 0.0], [0.0, 2.0, 0.7, 1.5], [0.3, -0.4, 1.1, 0.9],
                  [1.3, 0.0, 0.0, 0.2]])
    same(lambda lib, x: x.cumprod(dim).log10(), z)
    same(lambda lib, x: x.cumprod(dim) * math.inf, z)
    same(lambda lib, x: (x.cumprod(dim) * 3).sin(), z)


@pytest.mark.parametrize("fn", [
    lambda lib, a: lib.fmod(a, lib.tensor(0)), lambda lib, a: lib.remainder(a, lib.tensor([0])),
    lambda lib, a: a // lib.tensor(0), lambda lib, a: a.fmod(0),
    lambda lib, a: lib.remainder(3, a * 0),
    lambda lib, a: lib.fmod(a.reshape(-1, 1), lib.zeros(2, dtype=lib.int64)),
])
def test_an_integer_division_by_zero_with_no_elements_divides_nothing(fn):
    same(fn, np.zeros(0, np.int64))
    both_raise(fn, np.arange(1, 4), match="ZeroDivisionError")   # with elements: refused


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.softmax(x, -1), lambda lib, x: x.log_softmax(0),
    lambda lib, x: lib.nn.functional.layer_norm(x, (x.shape[-1],)),
    lambda lib, x: lib.nn.functional.rms_norm(x, x.shape[-2:]),
    lambda lib, x: x.cumsum(0), lambda lib, x: x.cumprod(-1),
    lambda lib, x: x.index_select(1, lib.tensor([0, 1, 1])),
    lambda lib, x: lib.cat([x, x], 1), lambda lib, x: lib.stack([x, x], -1),
])
@pytest.mark.parametrize("perm", [(0, 2, 1), (2, 1, 0), (1, 0, 2)])
def test_new_tensors_are_laid_out_row_by_row_as_torch(fn, perm):
    """Whatever the order of the input's dimensions, these give a tensor laid out row by row
    in torch, so .view of it works (numpy kept the input's order)."""
    same(lambda lib, x: fn(lib, x.permute(*perm)).view(-1), X)
    a, b = fn(mg, mg.tensor(X).permute(*perm)), fn(torch, torch.tensor(X).permute(*perm))
    assert _layout(mg, a) == _layout(torch, b)


@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_layer_norm_with_an_infinite_upstream_gradient_as_torch(weight, create_graph):
    """A row whose upstream gradient holds ±inf or NaN has no gradient the formula's order
    decides (the exact limit, ±inf by each Jacobian entry's sign, is neither library's):
    minigrad gives torch's NaN and ±inf, row by row; finite rows are untouched."""
    x = rng.standard_normal((4, 5))
    g = rng.standard_normal((4, 5))
    g[0, 1], g[1, 3], g[1, 0], g[2, 2] = math.inf, -math.inf, math.inf, math.nan
    w = rng.standard_normal(5)
    got = []
    for lib in (torch, mg):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.layer_norm(xt, (5,), lib.tensor(w) if weight else None)
        gx, = lib.autograd.grad(y, xt, lib.tensor(g), create_graph=create_graph)
        got.append(np.asarray(gx.detach()))
    np.testing.assert_allclose(got[1], got[0], rtol=1e-7, atol=1e-12, equal_nan=True)
    assert np.isinf(got[0]).any() or np.isnan(got[0][:3]).all()
    assert np.isfinite(got[1][3]).all()


def test_float32_layer_norm_of_equal_values_is_exact_as_torch():
    """torch's kernel gives x − μ = 0 for a row of equal float32 values, so y = β exactly;
    a float32 mean is off by round-off, which 1/√ε scales up to 1e-5."""
    rows = np.array([[0.643] * 6, [-1.7] * 6, [0.1] * 6], np.float32)
    for lib in LIBS.values():
        y = lib.nn.functional.layer_norm(lib.tensor(rows).reshape(3, 2, 3), (2, 3))
        assert np.asarray(y.detach() if lib is mg else y.numpy()).tolist() == [[[0.0] * 3] * 2] * 3
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    for lib in LIBS.values():
        y = lib.nn.functional.layer_norm(lib.tensor(rows), (6,), lib.tensor(w), lib.tensor(b))
        np.testing.assert_array_equal(np.asarray(y.detach() if lib is mg else y.numpy()),
                                      np.broadcast_to(b, (3, 6)))


ONE_CLASS, ZERO_LOG_PROB = np.array([[5.0]]), np.array([[-1.0, 0.0]])


@pytest.mark.parametrize("fn, z", [
    (lambda F, lib, z: F.cross_entropy(z, lib.tensor([0]), reduction="none"), ONE_CLASS),
    (lambda F, lib, z: F.cross_entropy(z, lib.tensor([0]), reduction="none", ignore_index=0),
     ONE_CLASS),
    (lambda F, lib, z: F.cross_entropy(z, lib.tensor([0]), reduction="none", ignore_index=0,
                                       label_smoothing=0.1), ONE_CLASS),
    (lambda F, lib, z: F.cross_entropy(z, lib.tensor([[1.0]]), reduction="none"), ONE_CLASS),
    (lambda F, lib, z: F.nll_loss(z, lib.tensor([1]), reduction="none"), ZERO_LOG_PROB),
    (lambda F, lib, z: F.nll_loss(z, lib.tensor([1]), reduction="none", ignore_index=1),
     ZERO_LOG_PROB),
    (lambda F, lib, z: F.cross_entropy(z[0], lib.tensor(0), reduction="none"), ONE_CLASS),
    (lambda F, lib, z: F.nll_loss(z[0], lib.tensor(1), reduction="none"), ZERO_LOG_PROB),
    (lambda F, lib, z: F.cross_entropy(z[0], lib.tensor([1.0]), reduction="none"), ONE_CLASS),
    (lambda F, lib, z: F.cross_entropy(z, lib.tensor([0]), reduction="sum"), ONE_CLASS),
])
def test_losses_of_zero_have_torchs_sign(fn, z):
    """1 / loss tells +0 from −0: −z[target] is −0 where z[target] = 0, an ignored target
    gives +0, and so does a class index without a batch dimension (torch sums it into 0)."""
    same(lambda lib, z: 1 / fn(lib.nn.functional, lib, z), z)


def test_rms_norm_rounds_as_torch():
    """x · (1/√(⟨x²⟩ + ε)) in torch's order: near −1 (one element, ε = float64's eps) log1p
    turns a last-bit difference into a visible one (the values; its gradient, the product
    of a tiny derivative and a huge one, is round-off in both libraries)."""
    x = np.array([[-0.257], [-1.3]])
    got = [np.asarray(lib.nn.functional.rms_norm(lib.tensor(x), (1,)).log1p())
           for lib in LIBS.values()]
    np.testing.assert_allclose(got[0], got[1], rtol=1e-7)
    same(lambda lib, x: lib.nn.functional.rms_norm(x, (3,)), X[0, :, :3])


@pytest.mark.parametrize("fn", [
    lambda lib: lib.ones(4, 2, 1).transpose(-3, 1) * 1,
    lambda lib: lib.ones(3, 1, 4).transpose(0, 2) + lib.ones(3, 1, 4).transpose(0, 2),
])
def test_elementwise_results_with_a_dimension_of_one_are_laid_out_as_torch(fn):
    """A dimension of size 1 has no order: x.transpose(0, 1) * 1 of a (4, 2, 1) tensor keeps
    the transposed layout, as in torch (not viewable), instead of becoming row by row."""
    assert mg.Tensor.is_contiguous(fn(mg)) == fn(torch).is_contiguous()
    for lib in LIBS.values():
        with pytest.raises(RuntimeError):
            fn(lib).view(-1)


def test_a_tensor_exponent_of_zero_gives_the_base_no_gradient_as_torch():
    """x ** n with n = 0 somewhere: the base's gradient there is 0 whatever the upstream
    (an infinite or NaN one too, at x = ∞ or 0), as torch selects it; elsewhere NaN stays."""
    def fn(lib, x, n):
        y = x ** n
        return y * lib.tensor([-math.inf, math.nan, math.inf, math.nan]).double()
    same(fn, np.array([math.inf, 2.0, 0.0, 3.0]), np.array([0.0, 0.0, 0.0, 0.5]))


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.permute(1, 0) * x,                      # the first operand leads
    lambda lib, x: x * x.permute(1, 0),
    lambda lib, x: x.permute(1, 0) * x[0],                   # a broadcast second operand
    lambda lib, x: lib.where(x > 0, x.t(), x),               # the condition leads where
    lambda lib, x: lib.where((x > 0).t(), x, x.t()),
    lambda lib, x: x.t().masked_fill(x[0] > 0, 1.5),         # a row-by-row clone
    lambda lib, x: x.unsqueeze(1).expand(3, 1, 3) * x.t().unsqueeze(1),
])
def test_elementwise_results_follow_torchs_iterator_layout(fn):
    """An element-wise result is laid out as torch's TensorIterator orders its dimensions
    (from its operands' strides, the first operand first), so ``.view`` of it works, or is
    refused, as in torch; the gradient through the reshape is torch's."""
    x = np.array([[0.388, 0.232, -0.463], [-0.554, -1.42, 0.864], [-1.503, 1.124, -1.039]])
    (_, a), (_, b) = run(mg, fn, [x]), run(torch, fn, [x])
    assert _layout(mg, a) == _layout(torch, b)
    same(lambda lib, x: fn(lib, x).reshape(9, 1), x)
    try:
        fn(torch, torch.tensor(x)).view(9, 1)
    except RuntimeError:
        both_raise(lambda lib, x: fn(lib, x).view(9, 1), x, match="view")
    else:
        same(lambda lib, x: fn(lib, x).view(9, 1), x)


def test_expand_keeps_torchs_strides_in_dimensions_of_one():
    """torch's expand keeps the stride of a dimension of size 1 it does not expand (a new
    leading one gets the next size times stride), which orders a later result's dimensions."""
    for shape, to in [((3,), (1, 1, 3)), ((2, 1), (3, 1, 2, 4)), ((2, 1), (1, 2, 1))]:
        a = np.arange(float(np.prod(shape))).reshape(shape)
        assert _layout(mg, mg.tensor(a).expand(*to)) == _layout(torch, torch.tensor(a).expand(*to))
    fn = lambda lib, x: (x[:, :1].expand(1, 3, 1) * x.t()[None, :, :1]).view(-1)  # noqa: E731
    same(fn, np.arange(9.0).reshape(3, 3))


@pytest.mark.parametrize("weight", [False, True])
def test_rms_norm_of_one_element_has_torchs_gradient_bit_for_bit(weight):
    """Normalizing one element, x̄ = ĝ·r·(1 − x²r²) is all cancellation (ε-small, times a
    large upstream): only torch's order of operations (its autograd through x · rsqrt(⟨x²⟩
    + ε)) gives its last bits, which a later log1p near −1 would magnify."""
    x = rng.standard_normal((40, 3, 1))
    g, w = rng.standard_normal((40, 3, 1)) * 1e15, rng.standard_normal(1)
    grads = []
    for lib in LIBS.values():
        tx, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        lib.nn.functional.rms_norm(tx, (1,), tw if weight else None).backward(lib.tensor(g))
        grads.append([np.asarray(tx.grad)] + ([np.asarray(tw.grad)] if weight else []))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    if weight:                     # a sum over 120 rows: torch's order of summing is its own
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-13)
    same(lambda lib, x: lib.nn.functional.rms_norm(x, (4,)), X[..., :4])


@pytest.mark.parametrize("eq, shapes", [
    (",->", [(), ()]), ("i,j->ij", [(2,), (3,)]), ("i,i->i", [(3,), (3,)]),
    ("i,i", [(1,), (1,)]), ("bij,bjk->bik", [(2, 3, 1), (2, 1, 2)]),
])
def test_einsum_without_a_sum_keeps_the_sign_of_a_zero_product_as_torch(eq, shapes):
    """Where no two products are added, each element is one product, and torch gives its
    sign of zero (0.787 · −0 = −0, so 1 / it is −inf); numpy adds it to a +0."""
    arrays = [np.where(rng.random(s) < 0.5, -0.0, rng.standard_normal(s)) for s in shapes]
    same(lambda lib, *xs: 1 / lib.einsum(eq, *xs), *arrays)


def test_einsum_of_an_expanded_operand_multiplies_element_by_element_as_torch():
    """-inf expanded along j, times y, summed over j: -inf · y has both signs, so the sum
    is NaN in torch; numpy factored the stride-0 operand out, -inf · Σy = +inf."""
    y = np.array([-1.758, 1.5, -0.203])
    same(lambda lib, x, y: lib.einsum("...j,j", x.expand(1, 3), y), np.array([-np.inf]), y)
    same(lambda lib, x, y: lib.einsum("ij,j->i", x.expand(2, 3), y), np.array([[0.5], [-2.0]]),
         y)


@pytest.mark.parametrize("lo, hi", [(0.0, None), (-0.0, None), (None, 0.0), (None, -0.0),
                                    (0.0, 0.0), (-0.0, 0.5), (0.5, -0.0)])
def test_clamp_keeps_a_zero_input_s_sign_as_torch(lo, hi):
    """torch keeps x where it equals the bound: -0 clamped at min=0 stays -0, so sqrt of it
    is -0 and its gradient -inf (numpy's clip gave the bound's +0); lo > hi gives hi."""
    x = np.array([-0.0, 0.0, -1.0, 2.0, np.nan])
    same(lambda lib, x: 1 / x.clamp(min=lo, max=hi), x)
    if hi is None:
        same(lambda lib, x: x.clamp(min=lo, max=hi).sqrt(), x)


def test_clamp_by_tensors_keeps_a_zero_input_s_sign_as_torch():
    x, lo = np.array([-0.0, 0.0, -0.0, 1.0]), np.array([0.0, -0.0, np.nan, 0.0])
    same(lambda lib, x, lo: 1 / x.clamp(min=lo), x, lo)
    same(lambda lib, x, hi: 1 / x.clamp(max=hi), x, lo)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("target", [[2, 0, -100], [2, 0, 1], 2])
@pytest.mark.parametrize("create_graph", [False, True])
def test_cross_entropy_with_an_infinite_upstream_gradient_as_torch(reduction, smoothing, target,
                                                                   create_graph):
    """L / 0 makes L̄ infinite: torch's composite (log_softmax, nll_loss, the smoothing
    term) gives ∞ − ∞ = NaN where the fused (S − y)·L̄ gave ±∞; computed in its order."""
    x = np.array([[-0.336, -1.808, -2.059, 0.067], [-np.inf, 0.825, -0.79, 1.02],
                  [0.3, 0.1, -0.2, 0.5]])
    x = x[0] if isinstance(target, int) else x
    out = []
    for lib in LIBS.values():
        tx = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(tx, lib.tensor(target), reduction=reduction,
                                               label_smoothing=smoothing)
        y = loss / 0.0
        up = lib.tensor(np.linspace(-1.0, 1.3, y.numel()).reshape(tuple(y.shape)))
        g, = lib.autograd.grad(y, tx, up, create_graph=create_graph)
        out.append((np.asarray(y.detach()), np.asarray(g.detach())))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.t().clone(),                     # transposed: a transposed copy
    lambda lib, x: x[:, ::2].clone(),
    lambda lib, x: x.t()[::2].clone(),
    lambda lib, x: x[:1].expand(3, 4).clone(),        # expanded: row by row
    lambda lib, x: x[:1].t().expand(4, 3).clone(),
    lambda lib, x: x.t().contiguous(),
    lambda lib, x: x.t().to(lib.float64, copy=True),
])
def test_clone_keeps_its_input_s_order_of_dimensions_as_torch(fn):
    """torch's clone (preserve_format) lays the copy out in its input's order, so
    ``c = x.t().clone(); c *= 2; c.view(-1)`` is refused as in torch; .contiguous() and a
    leaf's .grad are row by row."""
    x = rng.standard_normal((3, 4))
    (_, a), (_, b) = run(mg, fn, [x]), run(torch, fn, [x])
    assert _layout(mg, a) == _layout(torch, b)
    same(lambda lib, x: (fn(lib, x) * 2).reshape(-1), x)
    if not b.is_contiguous():
        both_raise(lambda lib, x: (fn(lib, x) * 2).view(-1), x, match="view")


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_leaf_s_gradient_is_row_by_row_as_torch(create_graph):
    out = []
    for lib in LIBS.values():
        x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        y = x.t() * lib.tensor(rng.standard_normal((4, 3)))
        y.retain_grad()
        lib.autograd.backward([y.t().clone() * 1.5], [lib.ones(3, 4, dtype=lib.float64)],
                              create_graph=create_graph)
        out.append((_layout(lib, x.grad), _layout(lib, y.grad)))
    assert out[0] == out[1]


@pytest.mark.parametrize("p", [3, 0.5, -1, 1.5, 2, math.inf, 1])
@pytest.mark.parametrize("dim", [1, (0, 1), None])
def test_the_norm_of_one_element_is_its_absolute_value_as_torch(p, dim):
    """(|x|^p)^(1/p) is |x| only to within an ulp; torch gives |x| itself, so x == ‖x‖ holds
    for a positive x, in torch and in minigrad."""
    x = np.array([[0.111], [0.402], [-1.382], [0.0]]) if dim == 1 else np.array([[0.111]])
    kw = {} if dim is None else {"dim": dim}
    same(lambda lib, x: lib.linalg.vector_norm(x, ord=p, **kw), x)
    for lib in LIBS.values():
        t = lib.tensor(x)
        n = lib.linalg.vector_norm(t, ord=p, **kw)
        assert bool((t.abs().reshape(n.shape) == n).all())


@pytest.mark.parametrize("shapes", [
    ((1, 0, 3), (1, 3, 3), (1, 3, 2)), ((1, 2, 3), (1, 0, 3), (1, 0, 2)),
    ((1, 2, 3), (1, 3, 3), (1, 3, 0)), ((0, 2, 3), (0, 3, 3), (0, 3, 2)),
    ((1, 2, 0), (1, 3, 0), (1, 3, 2))])
@pytest.mark.parametrize("q_grad", [False, True])
def test_attention_with_nothing_to_attend_takes_no_gradient_from_the_mask_as_torch(shapes, q_grad):
    """No query, no key or an empty value: torch's result does not require grad through a
    float mask (only through q, k, v); with E = 0 (scores of zeros) it does."""
    out = []
    for lib in LIBS.values():
        q, k, v = (lib.tensor(np.ones(s), requires_grad=q_grad and i == 0)
                   for i, s in enumerate(shapes))
        m = lib.tensor(np.zeros((shapes[0][-2], shapes[1][-2])), requires_grad=True)
        o = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
        out.append((o.requires_grad, tuple(o.shape), np.asarray(o.detach()).tolist()))
    assert out[0] == out[1]


@pytest.mark.parametrize("a_shape, b_shape", [((3, 1), (1, 4)), ((2, 3, 1), (1, 4)),
                                              ((2, 3, 1), (2, 1, 4)), ((1,), (1, 4)),
                                              ((3, 1), (1,))])
def test_a_product_over_one_inner_element_keeps_torch_s_zeros(a_shape, b_shape):
    """torch computes a matrix product whose second operand is a matrix (or a batch folded
    into one) with an inner dimension of 1 as the products themselves, 0 · −1 = −0, where
    numpy's BLAS adds them to +0: the sign shows in what follows (1 / y, y % ·); a batched
    product, and one with a vector, give +0 in both."""
    a = np.zeros(a_shape)
    b = -np.ones(b_shape)
    b.flat[0] = 2.0
    signs = [np.signbit(np.asarray((lib.tensor(a) @ lib.tensor(b)))).tolist()
             for lib in LIBS.values()]
    assert signs[0] == signs[1]
    x = np.array([[0.0], [0.3], [-1.2]])
    w = np.array([[1.5, -0.5, 2.0]])
    same(lambda lib, x, w: 1 / (x @ w), x, w)
    same(lambda lib, x, w: lib.nn.functional.linear(x, w.T) % (x @ w + 1), x, w)


def test_attention_over_one_key_keeps_torch_s_zeros():
    """With one key each output is its one product, as torch's attention gives it: a query
    whose key is masked out (or whose score is −∞) has weight 0 and output 0 · v, −0 where v
    is negative."""
    q = np.array([[-1.1, -0.9], [np.inf, np.inf], [-1.0, -0.5]])
    k = np.array([[-0.6, -1.0]])
    v = np.array([[1.4, -0.7]])
    outs = [np.signbit(np.asarray(lib.nn.functional.scaled_dot_product_attention(
        *(lib.tensor(t) for t in (q, k, v)), is_causal=True))).tolist() for lib in LIBS.values()]
    assert outs[0] == outs[1]
    same(lambda lib, k, v: k / lib.nn.functional.scaled_dot_product_attention(
        lib.tensor(q), k, v, is_causal=True), k, v)


@pytest.mark.parametrize("eq, shapes", [("i,i", [(4,), (1,)]), ("i,i", [(1,), (4,)]),
                                        ("ij,j->i", [(2, 3), (1,)]), ("bij,j->bi", [(2, 2, 3), (1,)])])
def test_einsum_broadcast_along_a_summed_subscript_sums_the_other_first_as_torch(eq, shapes):
    """An operand of size 1 along a summed subscript: torch sums the other operand along it
    first, so its gradient is ȳ · Σy: an infinite ȳ (1 / 0 downstream) gives ±inf, not the
    NaN of Σ ȳ · yᵢ over yᵢ of both signs."""
    arrays = [np.array([-0.457, -0.345, 0.32, 1.515][:int(np.prod(s))] if np.prod(s) <= 4 else
                       rng.standard_normal(int(np.prod(s)))).reshape(s) for s in shapes]
    same(lambda lib, *xs: lib.einsum(eq, *xs) / 0.0, *arrays)
    same(lambda lib, *xs: lib.einsum(eq, *xs), *arrays)


@pytest.mark.parametrize("sizes", [(1, 1), (1, 1, 1), (2, 1), (1, 2, 1)])
def test_repeat_gives_a_new_tensor_row_by_row_as_torch(sizes):
    """Every count 1 too: x.t().repeat(1, 1) is row by row in torch, so .view of it works
    (np.tile copied it in x's order)."""
    same(lambda lib, x: (x * x).t().repeat(*sizes).view(-1, 1), X[0, :, :2])


@pytest.mark.parametrize("x_shape", [(0,), (3, 0), (2, 3, 0)])
def test_linear_without_input_features_is_its_bias_as_torch(x_shape):
    """With in_features = 0 there is no product to add the bias to: torch's result is the bias
    itself, −0 kept (adding it to a sum of nothing, +0, would give +0)."""
    b = np.array([-0.0, 1.5])
    signs = [np.signbit(np.asarray(lib.nn.functional.linear(
        lib.tensor(np.zeros(x_shape)), lib.tensor(np.zeros((2, 0))), lib.tensor(b)))).tolist()
        for lib in LIBS.values()]
    assert signs[0] == signs[1]
    same(lambda lib, x, w, b: lib.sqrt(lib.nn.functional.linear(x, w, b)), np.zeros(x_shape),
         np.zeros((2, 0)), b)


@pytest.mark.parametrize("a_shape, b_shape", [((1, 1), (1, 1)), ((1, 1), (1, 3)), ((2, 1), (1, 1)),
                                              ((4, 2, 1), (1, 1)), ((1, 1, 1), (1, 3)),
                                              ((4, 1, 1), (1, 3)), ((1, 2, 1), (1, 1, 3))])
def test_a_product_over_one_inner_element_with_one_row_or_column_adds_to_zero_as_torch(
        a_shape, b_shape):
    """torch's matrix-vector product (one row or one column, batch folded in) and its batched
    product add each product to +0, as numpy: 0 · −1 is +0 there; only a product with rows
    and columns (gemm) keeps −0."""
    a, b = np.zeros(a_shape), -np.ones(b_shape)
    same(lambda lib, a, b: 1 / (a @ b), a, b)


@pytest.mark.parametrize("batch", [(), (1,), (2,)])
@pytest.mark.parametrize("L, Ev", [(1, 1), (1, 3), (2, 1), (3, 3)])
def test_attention_over_one_key_has_torch_s_zeros(batch, L, Ev):
    """One key: torch's attention is its matmul of the weights and v, so a zero product keeps
    its −0 only in a 2-d product with rows and columns; batched, or with one row or column,
    it is +0."""
    q, k = np.ones(batch + (L, 2)), np.ones(batch + (1, 2))
    v = np.where(np.arange(Ev) % 2 == 0, -0.0, -1.0) * np.ones(batch + (1, Ev))
    mask = np.where(np.arange(L)[:, None] % 2 == 0, -np.inf, 0.0)
    for m in (None, mask):
        same(lambda lib, q, k, v: 1 / lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=None if m is None else lib.tensor(m)), q, k, v)
