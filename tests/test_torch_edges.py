"""Edge cases where minigrad must give torch's numbers: ±inf, NaN, ties, 0-d and empty tensors,
negative dims, integer and bool dtypes, and torch's type promotion table.

Each case runs the same code on minigrad and on torch with the same inputs, compares values
(NaN with NaN, inf with inf) and dtypes, then backpropagates the same random upstream
gradient and compares every input's gradient. Where an input has inf or NaN, a gradient of
"0 times inf" would show up here as NaN against torch's 0.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.testing import gradcheck

FUNCTIONAL = {mg: MF, torch: TF}
inf, nan = float("inf"), float("nan")


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "").replace("minigrad.", "")


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _close(a, b, what, rtol=1e-7, atol=1e-10):
    assert _dtype_name(a.dtype) == _dtype_name(b.dtype), f"{what}: dtype {a.dtype} != {b.dtype}"
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def run(lib, fn, args, grad):
    ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f")
          if isinstance(a, np.ndarray) else a for a in args]
    return ts, fn(lib, FUNCTIONAL[lib], *ts)


def check(fn, *args, grad=True, seed=0, rtol=1e-7, atol=1e-10):
    """fn(lib, F, *tensors) on both libraries: the same value, dtype and input gradients.
    Array arguments become tensors (float ones require grad); others pass unchanged."""
    (tm, ym), (tt, yt) = run(mg, fn, args, grad), run(torch, fn, args, grad)
    outs_m = ym if isinstance(ym, tuple) else (ym,)
    outs_t = yt if isinstance(yt, tuple) else (yt,)
    for k, (a, b) in enumerate(zip(outs_m, outs_t)):
        _close(a, b, f"output {k}", rtol, atol)
    diff = [(a, b) for a, b in zip(outs_m, outs_t) if b.requires_grad]
    if not grad or not diff:
        return ym, yt
    rng = np.random.default_rng(seed)
    gs = [rng.standard_normal(tuple(b.shape)) for _, b in diff]
    mg.autograd.backward([a for a, _ in diff],
                         [mg.tensor(g).to(a.dtype) for (a, _), g in zip(diff, gs)])
    torch.autograd.backward([b for _, b in diff],
                            [torch.tensor(g).to(b.dtype) for (_, b), g in zip(diff, gs)])
    for i, (a, b) in enumerate(zip(tm, tt)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            if b.grad is None:
                assert a.grad is None, f"input {i}: minigrad has a gradient, torch none"
            else:
                assert a.grad is not None, f"input {i}: no gradient"
                _close(a.grad, b.grad, f"gradient of input {i}", rtol, atol)
    return ym, yt


def A(*values, dtype=np.float64):
    return np.array(values, dtype=dtype)


# --------------------------------------------------------------------------- masks select
@pytest.mark.parametrize("name, fn", [
    ("sqrt(relu)", lambda L, F, x: F.relu(x).sqrt()),
    ("clamp(min=0).sqrt", lambda L, F, x: x.clamp(min=0).sqrt()),
    ("clamp(max=0) then sqrt(-)", lambda L, F, x: (-x.clamp(max=0)).sqrt()),
    ("relu", lambda L, F, x: F.relu(x)),
    ("clamp", lambda L, F, x: x.clamp(-1.0, 1.0)),
    ("leaky_relu", lambda L, F, x: F.leaky_relu(x, 0.1)),
    ("max", lambda L, F, x: x.max()),
    ("max(dim)", lambda L, F, x: x.reshape(2, 3).max(1).values),
    ("amax", lambda L, F, x: x.reshape(2, 3).amax(1)),
    ("min", lambda L, F, x: x.min()),
    ("log(relu)", lambda L, F, x: F.relu(x).log()),
])
@pytest.mark.parametrize("values", [
    A(-2.0, -0.5, 0.0, 0.5, 2.0, 3.0),
    A(nan, -1.0, 2.0, 2.0, inf, -inf),
    A(1.0, nan, 3.0, nan, -1.0, 0.0),
], ids=["finite", "inf-nan-tie", "nans"])
def test_masks_select_instead_of_multiplying(name, fn, values):
    check(fn, values)


@pytest.mark.parametrize("fn", [
    lambda L, F, x: x.std(),
    lambda L, F, x: x.std(correction=0),
    lambda L, F, x: x.std(dim=1),
    lambda L, F, x: x.std(dim=0, keepdim=True),
    lambda L, F, x: x.var(dim=1),
], ids=["std", "std-population", "std-dim", "std-keepdim", "var"])
def test_std_of_a_constant_has_gradient_zero(fn):
    check(fn, np.array([[2.0, 2.0, 2.0], [1.0, -1.0, 3.0]]))


def test_std_second_derivative_is_finite_at_a_constant_row():
    x = mg.tensor([[2.0, 2.0, 2.0], [1.0, -1.0, 3.0]], requires_grad=True)
    g, = mg.autograd.grad(x.std(dim=1).sum(), x, create_graph=True)
    gg, = mg.autograd.grad((g * g).sum(), x)
    assert np.all(np.isfinite(gg.numpy()))
    gradcheck(lambda x: x.std(dim=1), (mg.tensor(np.random.default_rng(0).standard_normal(
        (2, 4)), requires_grad=True),))


def test_max_with_nan_routes_the_gradient_to_the_nan():
    ym, _ = check(lambda L, F, x: x.max(), A(1.0, nan, 3.0))
    assert np.isnan(ym.item())


# --------------------------------------------------------------------------- -inf in losses
@pytest.mark.parametrize("fn", [
    lambda L, F, x: F.cross_entropy(x, L.tensor([0])),
    lambda L, F, x: F.cross_entropy(x, L.tensor([1])),                  # the -inf is the target
    lambda L, F, x: F.cross_entropy(x, L.tensor([0]), reduction="none"),
    lambda L, F, x: F.cross_entropy(x, L.tensor([0]), label_smoothing=0.1),
    lambda L, F, x: F.nll_loss(x, L.tensor([0])),
    lambda L, F, x: F.nll_loss(F.log_softmax(x, 1), L.tensor([2])),
    lambda L, F, x: F.cross_entropy(x, L.tensor([[0.5, 0.0, 0.5]])),    # torch: NaN, both
], ids=["ce", "ce-target-is-inf", "ce-none", "ce-smoothing", "nll", "nll-log-softmax",
        "ce-probabilities"])
def test_minus_inf_logit_in_losses(fn):
    check(fn, np.array([[0.0, -inf, 1.0]]))


def test_cross_entropy_with_a_minus_inf_logit_is_finite():
    ym, _ = check(lambda L, F, x: F.cross_entropy(x, L.tensor([0])), np.array([[0.0, -inf, 1.0]]))
    assert abs(ym.item() - 1.3132616875182228) < 1e-12


@pytest.mark.parametrize("rows", [[[-inf, -inf], [1.0, inf]], [[-inf, 0.0], [inf, inf]],
                                  [[nan, 1.0], [2.0, 3.0]]], ids=["-inf,inf", "mixed", "nan"])
@pytest.mark.parametrize("dim, keepdim", [(1, False), (-1, True), (0, False), ((0, 1), False)])
def test_logsumexp_with_infinite_rows(rows, dim, keepdim):
    check(lambda L, F, x: L.logsumexp(x, dim, keepdim=keepdim), np.array(rows))


# --------------------------------------------------------------------------- max/min of two
@pytest.mark.parametrize("op", ["max", "min", "maximum", "minimum"])
def test_max_min_of_two_tensors_split_ties_and_propagate_nan(op):
    a = A(1.0, nan, 2.0, 3.0, 5.0, -inf)
    b = A(1.0, 1.0, nan, 4.0, 2.0, -inf)
    ym, _ = check(lambda L, F, a, b: getattr(L, op)(a, b), a, b)
    assert ym.grad_fn.name() == ("MaximumBackward" if op in ("max", "maximum")
                                 else "MinimumBackward")


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_max_min_of_two_tensors_broadcast(op):
    rng = np.random.default_rng(3)
    check(lambda L, F, a, b: getattr(L, op)(a, b), rng.standard_normal((3, 1)),
          np.round(rng.standard_normal(4), 1))
    check(lambda L, F, a, b: getattr(a, op)(b), rng.standard_normal((2, 3)), np.array(0.0))


def test_min_with_dim_returns_a_min_pair():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 0.0, 5.0]])
    for lib in (mg, torch):
        out = lib.tensor(x).min(1)
        assert type(out).__name__ == "min"
        assert out.indices.tolist() == [1, 0]
    check(lambda L, F, x: x.min(1).values, x)


# --------------------------------------------------------------------------- dim=() and dim=[]
@pytest.mark.parametrize("fn, torch_grad_right", [
    (lambda L, F, x: x.sum(dim=()), True), (lambda L, F, x: x.sum(dim=[]), True),
    (lambda L, F, x: x.mean(dim=[]), True), (lambda L, F, x: x.mean(dim=(), keepdim=True), True),
    (lambda L, F, x: x.amax(dim=()), True),
    (lambda L, F, x: x.var(dim=()), False), (lambda L, F, x: x.std(dim=[]), False),
], ids=["sum()", "sum[]", "mean[]", "mean()-keepdim", "amax()", "var()", "std[]"])
def test_empty_dim_list_reduces_over_all_dimensions(fn, torch_grad_right):
    """torch 2.13 reduces over everything, but its var/std gradient for dim=() divides by
    n − 1 with n = 1 (the empty product): ±inf. Finite differences referee those."""
    x = np.random.default_rng(0).standard_normal((2, 3))
    check(fn, x, grad=torch_grad_right)
    gradcheck(lambda t: fn(mg, MF, t), (mg.tensor(x, requires_grad=True),))
    if not torch_grad_right:
        t = torch.tensor(x, requires_grad=True)
        fn(torch, TF, t).backward()
        assert np.isinf(t.grad.numpy()).all(), "torch fixed its dim=() gradient: compare again"


# --------------------------------------------------------------------------- attention
def _qkv(seed=0, L=3, S=3, E=4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((2, L, E)), rng.standard_normal((2, S, E)),
            rng.standard_normal((2, S, E)))


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_row_gives_zeros(kind):
    allowed = np.ones((3, 3), bool)
    allowed[1] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -inf)
    ym, _ = check(lambda L, F, q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=L.tensor(mask)), *_qkv())
    np.testing.assert_array_equal(ym.detach().numpy()[:, 1], 0.0)


def test_sdpa_float_mask_gradient_with_a_dead_row():
    mask = np.random.default_rng(5).standard_normal((3, 3))
    mask[2] = -inf
    check(lambda L, F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
          *_qkv(), mask)


def test_sdpa_second_derivative_through_a_float_mask():
    """The create_graph gradient must carry its dependence on the mask (finite differences
    referee)."""
    q, k, v = (mg.tensor(a, requires_grad=True) for a in _qkv(1))
    m = mg.tensor(np.random.default_rng(2).standard_normal((3, 3)), requires_grad=True)

    def grad_wrt_q(q, k, v, m):
        out = MF.scaled_dot_product_attention(q, k, v, attn_mask=m)
        g, = mg.autograd.grad((out * out).sum(), q, create_graph=True)
        return g
    gradcheck(grad_wrt_q, (q, k, v, m))
    dead = np.zeros((3, 3))
    dead[0] = -inf
    gradcheck(lambda q, k, v, m: grad_wrt_q(q, k, v, m + mg.tensor(dead)), (q, k, v, m))


@pytest.mark.parametrize("L_, S_", [(3, 0), (0, 3)])
def test_sdpa_over_empty_sequences(L_, S_):
    check(lambda L, F, q, k, v: F.scaled_dot_product_attention(q, k, v), *_qkv(0, L_, S_))


# --------------------------------------------------------------------------- indexing
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("key", [
    [[1, -1, 1]], [[0, 1], [2, 0]], [slice(None), 1], [[1], slice(0, 2)], [1, 2], [[1, 1]],
], ids=["nested", "two-lists", "slice-in-list", "list-slice", "flat-list", "nested-repeat"])
def test_a_list_holding_sequences_indexes_as_a_tuple(key):
    check(lambda L, F, x: x[key], np.random.default_rng(0).standard_normal((3, 4)))


def test_a_list_of_0d_tensors_indexes_as_a_tuple():
    x = np.arange(6.0).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda L, F, x: x[[L.tensor(1), L.tensor(2)]], x)


# --------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1.0), (100.0, 2.0)])
def test_embedding_max_norm_renormalises_the_rows_it_reads(max_norm, norm_type):
    w = np.random.default_rng(0).standard_normal((5, 3)) * 2
    idx = np.array([[0, 2, 2], [4, 0, 1]])
    (wm,), ym = run(mg, lambda L, F, w: F.embedding(L.tensor(idx), w, max_norm=max_norm,
                                                    norm_type=norm_type), [w], True)
    (wt,), yt = run(torch, lambda L, F, w: F.embedding(L.tensor(idx), w, max_norm=max_norm,
                                                       norm_type=norm_type), [w], True)
    _close(ym, yt, "output")
    _close(wm, wt, "renormalised weight")
    g = np.random.default_rng(1).standard_normal(ym.shape)
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    _close(wm.grad, wt.grad, "weight gradient")


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_scale_grad_by_freq(padding_idx):
    idx = np.array([[0, 2, 2], [4, 0, 0]])
    check(lambda L, F, w: F.embedding(L.tensor(idx), w, padding_idx=padding_idx,
                                      scale_grad_by_freq=True),
          np.random.default_rng(0).standard_normal((5, 3)))


def test_embedding_module_passes_max_norm_and_scale_grad_by_freq():
    emb = mg.nn.Embedding(5, 3, max_norm=1.0, scale_grad_by_freq=True)
    out = emb(mg.tensor([[0, 1, 1]]))
    assert np.all(np.linalg.norm(out.detach().numpy(), axis=-1) <= 1.0 + 1e-6)
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy()[1], 1.0, rtol=1e-6)


def test_embedding_padding_row_gets_no_gradient_even_from_inf():
    check(lambda L, F, w: F.embedding(L.tensor([0, 1, 1]), w, padding_idx=1),
          np.random.default_rng(0).standard_normal((3, 2)))


# --------------------------------------------------------------------------- type promotion
I64 = np.int64
PROMOTION = [
    ("int/int", lambda L, F: L.tensor([1, 2]) / L.tensor([2, 4])),
    ("int/number", lambda L, F: L.tensor([1, 2]) / 2),
    ("number/int", lambda L, F: 2 / L.tensor([1, 2])),
    ("int.div(int)", lambda L, F: L.tensor([3]).div(L.tensor([2]))),
    ("exp(int)", lambda L, F: L.tensor([1, 2]).exp()),
    ("log(int)", lambda L, F: L.log(L.tensor([1, 2]))),
    ("sqrt(int)", lambda L, F: L.tensor([1, 4]).sqrt()),
    ("sin(bool)", lambda L, F: L.tensor([True, False]).sin()),
    ("sigmoid(int)", lambda L, F: L.tensor([1, 2]).sigmoid()),
    ("tanh(int)", lambda L, F: L.tensor([1, 2]).tanh()),
    ("2.0**int", lambda L, F: 2.0 ** L.tensor([1, 2])),
    ("2**int", lambda L, F: 2 ** L.tensor([1, 2])),
    ("int**2.0", lambda L, F: L.tensor([1, 2]) ** 2.0),
    ("int**2", lambda L, F: L.tensor([1, 2]) ** 2),
    ("int-float", lambda L, F: L.tensor([1, 2]) - 0.5),
    ("float-int", lambda L, F: 0.5 - L.tensor([1, 2])),
    ("int*float", lambda L, F: L.tensor([1, 2]) * 0.5),
    ("bool+int", lambda L, F: L.tensor([True, False]) + 1),
    ("bool+bool", lambda L, F: L.tensor([True, False]) * True),
    ("int32+int64 0-d", lambda L, F: L.tensor([1, 2], dtype=L.int32) + L.tensor(3)),
    ("int64+float64 0-d", lambda L, F: L.tensor([1, 2]) + L.tensor(0.5, dtype=L.float64)),
    ("f32+f64 0-d", lambda L, F: L.tensor([1.0, 2.0]) + L.tensor(0.5, dtype=L.float64)),
    ("f64 0-d*f32", lambda L, F: L.tensor(0.5, dtype=L.float64) * L.tensor([1.0, 2.0])),
    ("f32+f64", lambda L, F: L.tensor([1.0, 2.0]) + L.tensor([0.5, 1.5], dtype=L.float64)),
    ("int64+f32", lambda L, F: L.tensor([1, 2]) + L.tensor([0.5, 1.5])),
    ("cat(int, f32)", lambda L, F: L.cat([L.tensor([1, 2]), L.tensor([0.5])])),
    ("cat(f64, f32)", lambda L, F: L.cat([L.tensor([1.0], dtype=L.float64), L.tensor([0.5])])),
    ("cat(bool, int)", lambda L, F: L.cat([L.tensor([True]), L.tensor([3])])),
    ("clamp(int, 2.5)", lambda L, F: L.tensor([1, 3]).clamp(2.5)),
    ("clamp(int, 2)", lambda L, F: L.tensor([1, 3]).clamp(2)),
    ("clamp(int, max=2.5)", lambda L, F: L.tensor([1, 3]).clamp(max=2.5)),
    ("full int", lambda L, F: L.full((2,), 7)),
    ("full bool", lambda L, F: L.full((2,), True)),
    ("full float", lambda L, F: L.full((2, 1), 7.0)),
    ("masked_fill(int, 0.5)", lambda L, F: L.tensor([1, 2]).masked_fill(L.tensor([True, False]),
                                                                        0.5)),
    ("masked_fill(f32, f64 0-d)", lambda L, F: L.tensor([1.0, 2.0]).masked_fill(
        L.tensor([True, False]), L.tensor(0.5, dtype=L.float64))),
    ("where(int, float)", lambda L, F: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0.5)),
    ("where(float, float)", lambda L, F: L.where(L.tensor([True, False]), 1.0, 0.0)),
    ("where(int, int)", lambda L, F: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0)),
    ("maximum(int, f32)", lambda L, F: L.maximum(L.tensor([1, 2]), L.tensor([1.5, 0.5]))),
    ("logsumexp(int)", lambda L, F: L.logsumexp(L.tensor([1, 2]), 0)),
]


@pytest.mark.parametrize("name, fn", PROMOTION, ids=[c[0] for c in PROMOTION])
def test_type_promotion_as_torch(name, fn):
    check(fn, grad=False)


def test_a_0d_float64_gets_its_own_gradient_dtype_back():
    check(lambda L, F, a, b: a.to(L.float32) * b, np.array([1.0, 2.0]), np.array(3.0))


# --------------------------------------------------------------------------- pow
def test_exponent_gradient_of_zero_to_a_power():
    check(lambda L, F, x: L.tensor([0.0, 0.0, 0.0, 2.0], dtype=L.float64) ** x,
          A(-1.0, 0.0, 2.0, -1.0))
    check(lambda L, F, b, x: b ** x, A(0.0, 0.0, 0.0, 2.0), A(-1.0, 0.0, 2.0, -1.0))


def test_integer_tensor_to_negative_integer_tensor_powers():
    check(lambda L, F: L.tensor([2, 1, -1, -1, 3, 5]) ** L.tensor([-1, -3, -3, -2, 2, 0]),
          grad=False)


# --------------------------------------------------------------------------- 0-d tensors
@pytest.mark.parametrize("name, fn", [
    ("squeeze(-1)", lambda L, F, x: x.squeeze(-1)),
    ("squeeze(0)", lambda L, F, x: x.squeeze(0)),
    ("transpose(0, -1)", lambda L, F, x: x.transpose(0, -1)),
    ("unsqueeze(-1)", lambda L, F, x: x.unsqueeze(-1)),
    ("logsumexp(-1)", lambda L, F, x: L.logsumexp(x, -1)),
    ("sum(-1)", lambda L, F, x: x.sum(-1)),
    ("mean(0, keepdim)", lambda L, F, x: x.mean(0, keepdim=True)),
    ("softmax(-1)", lambda L, F, x: F.softmax(x, -1)),
    ("log_softmax(0)", lambda L, F, x: F.log_softmax(x, 0)),
    ("max(0)", lambda L, F, x: x.max(0).values),
    ("max(-1, keepdim)", lambda L, F, x: x.max(-1, keepdim=True).values),
    ("min(0)", lambda L, F, x: x.min(0).values),
    ("amax(-1)", lambda L, F, x: x.amax(-1)),
    ("flatten", lambda L, F, x: x.flatten()),
    ("flatten(0, -1)", lambda L, F, x: x.flatten(0, -1)),
    ("permute(())", lambda L, F, x: x.permute(())),
    ("t", lambda L, F, x: x.t()),
    ("expand", lambda L, F, x: (x * 2).expand(3)),
])
def test_0d_tensors_with_dims(name, fn):
    check(fn, np.array(1.5))


def test_0d_dimension_out_of_range_message_is_consistent():
    with pytest.raises(IndexError) as info:
        mg.tensor(2.0).sum(-2)
    assert "valid: -1 to 0" in str(info.value)
    with pytest.raises(IndexError) as info:
        mg.tensor(2.0).squeeze(1)
    assert "valid: -1 to 0" in str(info.value)


# --------------------------------------------------------------------------- empty tensors
@pytest.mark.parametrize("name, fn, shape", [
    ("mean", lambda L, F, x: x.mean(), (0,)),
    ("mean(dim)", lambda L, F, x: x.mean(0), (0, 3)),
    ("sum", lambda L, F, x: x.sum(), (0, 3)),
    ("var(dim 1)", lambda L, F, x: x.var(1), (0, 3)),
    ("softmax over empty", lambda L, F, x: F.softmax(x, 1), (2, 0)),
    ("softmax of empty batch", lambda L, F, x: F.softmax(x, 1), (0, 3)),
    ("log_softmax over empty", lambda L, F, x: F.log_softmax(x, -1), (2, 0)),
    ("logsumexp over empty", lambda L, F, x: L.logsumexp(x, 1), (2, 0)),
    ("logsumexp of empty batch", lambda L, F, x: L.logsumexp(x, 1), (0, 2)),
    ("flatten", lambda L, F, x: x.flatten(), (0, 2, 3)),
    ("flatten(1)", lambda L, F, x: x.flatten(1), (0, 2, 3)),
    ("flatten(0, 1)", lambda L, F, x: x.flatten(0, 1), (2, 0, 3)),
    ("reshape", lambda L, F, x: x.reshape(0, 6), (0, 2, 3)),
    ("cross_entropy", lambda L, F, x: F.cross_entropy(x, L.zeros(0, dtype=L.int64)), (0, 3)),
    ("cross_entropy sum", lambda L, F, x: F.cross_entropy(x, L.zeros(0, dtype=L.int64),
                                                          reduction="sum"), (0, 3)),
    ("nll_loss", lambda L, F, x: F.nll_loss(x, L.zeros(0, dtype=L.int64)), (0, 3)),
    ("mse_loss", lambda L, F, x: F.mse_loss(x, x.detach() * 0), (0,)),
    ("mse_loss 2-d", lambda L, F, x: F.mse_loss(x, x.detach() * 0), (0, 4)),
    ("split", lambda L, F, x: x.split(0), (0,)),
    ("chunk", lambda L, F, x: x.chunk(2)[0], (0,)),
    ("cat", lambda L, F, x: L.cat([x, x]), (0, 2)),
    ("max(dim) of empty batch", lambda L, F, x: x.max(1).values, (0, 3)),
    ("layer_norm of empty batch", lambda L, F, x: F.layer_norm(x, (3,)), (0, 3)),
])
def test_empty_tensors(name, fn, shape):
    check(fn, np.zeros(shape))


@pytest.mark.parametrize("x_shape, w_shape", [((0, 3), (2, 3)), ((4, 0), (2, 0)),
                                              ((4, 3), (0, 3))])
def test_linear_on_size_0(x_shape, w_shape):
    rng = np.random.default_rng(0)
    check(lambda L, F, x, w, b: F.linear(x, w, b), rng.standard_normal(x_shape),
          rng.standard_normal(w_shape), rng.standard_normal(w_shape[:1]))


def test_cat_skips_1d_empty_tensors_as_torch():
    check(lambda L, F, a, b: L.cat([a, b], 1), np.ones((2, 3)), np.zeros(0))
    check(lambda L, F, a, b: L.cat([b, a, b]), np.ones((2, 3)), np.zeros(0))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_with_every_target_ignored(reduction, smoothing):
    ym, _ = check(lambda L, F, x: F.cross_entropy(x, L.tensor([-100, -100, -100]),
                                                  reduction=reduction, label_smoothing=smoothing),
                  np.random.default_rng(0).standard_normal((3, 4)))
    if reduction == "mean":
        assert np.isnan(ym.item())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_loss_with_every_target_ignored(reduction):
    check(lambda L, F, x: F.nll_loss(x, L.tensor([7, 7]), ignore_index=7, reduction=reduction),
          np.random.default_rng(0).standard_normal((2, 4)))


# --------------------------------------------------------------------------- former crashes
@pytest.mark.parametrize("name, fn, args", [
    ("clamp(min=tensor)", lambda L, F, x, lo: x.clamp(min=lo), (A(1.0, 5.0, -1.0),
                                                                A(2.0, 2.0, 3.0))),
    ("clamp(max=tensor)", lambda L, F, x, hi: x.clamp(max=hi), (A(1.0, 5.0, nan),
                                                                A(2.0, 2.0, 3.0))),
    ("clamp(tensor, tensor)", lambda L, F, x, lo, hi: L.clamp(x, lo, hi),
     (A(1.0, 5.0, -1.0, 0.5), A(2.0, 2.0, 3.0, 1.0), A(4.0, 3.0, 2.0, 0.0))),
    ("clamp broadcast", lambda L, F, x, lo: x.clamp(min=lo),
     (np.random.default_rng(0).standard_normal((3, 1)), np.array([-0.5, 0.0, 0.5, 1.0]))),
    ("squeeze([0, 2])", lambda L, F, x: x.squeeze([0, 2]), (np.ones((1, 2, 1)),)),
    ("squeeze((0, -1))", lambda L, F, x: x.squeeze((0, -1)), (np.ones((1, 2, 1)),)),
    ("split(0) of empty", lambda L, F, x: x.split(0, 1)[0], (np.ones((2, 0)),)),
])
def test_former_crashes(name, fn, args):
    check(fn, *args)


def test_randint_with_high_and_size():
    for lib in (mg, torch):
        out = lib.randint(5, (3, 2))
        assert tuple(out.shape) == (3, 2) and _dtype_name(out.dtype) == "int64"
        assert 0 <= int(out.min()) and int(out.max()) < 5
        out = lib.randint(2, 4, size=(10,))
        assert 2 <= int(out.min()) and int(out.max()) < 4


def test_relu_second_derivative_selects_too():
    x = mg.tensor([-1.0, 2.0, 0.0], requires_grad=True)
    g, = mg.autograd.grad(F_sqrt_relu(x).sum(), x, create_graph=True)
    assert g.detach().numpy()[0] == 0.0


def F_sqrt_relu(x):
    return MF.relu(x).sqrt()


# --------------------------------------------------------------------------- register_hook
@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_sees_and_replaces_gradients(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.detach().clone()))
    handle = h.register_hook(lambda g: g * 10)
    h.retain_grad()
    x_seen = []
    x.register_hook(lambda g: x_seen.append(g.detach().clone()))
    (h * h).sum().backward()
    np.testing.assert_allclose(_np(seen[0]), [4.0, 8.0, 12.0])
    np.testing.assert_allclose(_np(h.grad), [40.0, 80.0, 120.0])     # after the hooks
    np.testing.assert_allclose(_np(x.grad), [80.0, 160.0, 240.0])
    np.testing.assert_allclose(_np(x_seen[0]), [80.0, 160.0, 240.0])
    handle.remove()
    x.grad = None
    h2 = x * 2
    (h2 * h2).sum().backward()
    np.testing.assert_allclose(_np(x.grad), [8.0, 16.0, 24.0])


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_on_a_leaf_can_replace_its_gradient(lib):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g.clamp(min=0))
    (x * lib.tensor([3.0, -4.0])).sum().backward()
    np.testing.assert_allclose(_np(x.grad), [3.0, 0.0])
    handle.remove()
    (x * 1).sum().backward()
    np.testing.assert_allclose(_np(x.grad), [4.0, 1.0])


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_runs_in_autograd_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g + 1)
    g, = lib.autograd.grad((h * 1).sum(), x)
    np.testing.assert_allclose(_np(g), [6.0, 6.0])


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_needs_a_tensor_that_requires_grad(lib):
    with pytest.raises(RuntimeError) as info:
        lib.tensor([1.0]).register_hook(lambda g: g)
    assert "require" in str(info.value)


# --------------------------------------------------------------------------- .grad of a non-leaf
@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_reading_grad_of_a_non_leaf_warns(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.warns(UserWarning, match="(?i)not a leaf|retain_grad"):
        assert h.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None                 # a leaf: no warning
        r = x * 3
        r.retain_grad()
        r.sum().backward()
        assert r.grad is not None                 # retained: no warning
        assert lib.tensor([1.0]).grad is None     # a leaf without grad: no warning


# --------------------------------------------------------------------------- second derivatives
SECOND_ORDER = [
    ("maximum", lambda L, F, a, b: L.maximum(a, b) * a),
    ("minimum", lambda L, F, a, b: L.minimum(a * b, b)),
    ("clamp tensors", lambda L, F, a, b: L.clamp(a * a, b, b + 1.0) * a),
    ("std", lambda L, F, a, b: (a * b).std(dim=1) * a.sum()),
    ("relu", lambda L, F, a, b: F.relu(a * b) * a),
    ("max", lambda L, F, a, b: (a * b).max() * a),
    ("max(dim)", lambda L, F, a, b: (a * b).max(1).values * a.sum(1)),
    ("pow exponent", lambda L, F, a, b: (a * a + 0.5) ** (b * a)),
    ("logsumexp", lambda L, F, a, b: L.logsumexp(a * b, 1)),
    ("where", lambda L, F, a, b: L.where(a > 0, a * b, b * b)),
]


@pytest.mark.parametrize("name, fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_of_the_selecting_vjps(name, fn):
    """The new VJPs are written with minigrad ops: create_graph=True differentiates them
    again, as torch does (and finite differences agree)."""
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    grads = {}
    for lib in (mg, torch):
        a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
        out = fn(lib, FUNCTIONAL[lib], a, b)
        u = lib.tensor(rng.standard_normal(tuple(out.shape)) if lib is mg else grads["u"])
        grads.setdefault("u", u.numpy())
        ga, gb = lib.autograd.grad(out, (a, b), u, create_graph=True)
        second = lib.autograd.grad((ga * ga).sum() + (gb * a).sum(), (a, b))
        grads[lib] = [g.detach().numpy() for g in (ga, gb) + second]
    for m, t in zip(grads[mg], grads[torch]):
        np.testing.assert_allclose(m, t, rtol=1e-7, atol=1e-10)

    def first(a, b):
        out = fn(mg, MF, a, b)
        return mg.autograd.grad(out, (a, b), mg.tensor(grads["u"]), create_graph=True)
    gradcheck(first, tuple(mg.tensor(x, requires_grad=True) for x in arrays))


@pytest.mark.parametrize("values", [A(0.0, -0.0, 0.0), A(2.0, 2.0, 1.0), A(1.0, nan, nan)],
                         ids=["signed-zero-ties", "ties", "nans"])
def test_max_dim_of_1d_routes_to_its_index_even_with_ties(values):
    """A 1-D max(dim) returns a numpy scalar index: the gradient still goes to that index
    alone (not shared as whole-tensor max() shares ties), also with a NaN upstream."""
    check(lambda L, F, x: (x * 1).max(0).values, values)
    check(lambda L, F, x: (x * 1).min(-1).values, values)
    x = mg.tensor(np.zeros_like(values), requires_grad=True)
    (x * 1).max(0).values.backward(mg.tensor(nan, dtype=mg.float64))
    assert np.isnan(x.grad.numpy()[0]) and not np.isnan(x.grad.numpy()[1:]).any()
@pytest.mark.parametrize("fn", [
    lambda L, F, x: (x ** 0) @ L.tensor([1.0, -1.0, 0.0], dtype=L.float64),
    lambda L, F, x: x.abs(),
    lambda L, F, x: L.sign(x) * x,
    lambda L, F, x: (x @ L.tensor([[1.0], [2.0], [3.0]], dtype=L.float64)).abs(),
], ids=["pow-0", "abs", "sign", "matmul-abs"])
def test_abs_sign_and_power_0_with_nan_and_inf(fn):
    check(fn, A(nan, -0.0, 2.0))
    check(lambda L, F, x: fn(L, F, x).sqrt(), A(nan, 0.0, 2.0))


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_on_one_output_of_a_multi_output_op(lib):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = x.split(2)
    a.register_hook(lambda g: g * 100)
    (a * b).sum().backward()
    np.testing.assert_allclose(_np(x.grad), [300.0, 400.0, 1.0, 2.0])


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_register_hook_with_create_graph_sees_a_differentiable_gradient(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad))
    g, = lib.autograd.grad((y * x).sum(), x, create_graph=True)
    g.sum().backward()             # the second walk passes y's node again, without a graph
    assert seen == [True, False]
    np.testing.assert_allclose(_np(x.grad), [6.0, 12.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target", [[-100, -100], [1, -100]], ids=["all-ignored", "one-ignored"])
@pytest.mark.parametrize("nll", [False, True], ids=["cross_entropy", "nll_loss"])
def test_ignored_rows_get_zero_gradient_even_from_a_nan_upstream(reduction, target, nll):
    """sqrt of a NaN (or infinite) loss sends NaN back; the ignored rows still get 0."""
    loss = (lambda L, F, x: F.nll_loss(x, L.tensor(target), reduction=reduction)) if nll else \
        (lambda L, F, x: F.cross_entropy(x, L.tensor(target), reduction=reduction))
    check(lambda L, F, x: (loss(L, F, x) * L.tensor(nan, dtype=L.float64)).sqrt(),
          np.array([[0.4, -inf], [-inf, -0.4]]))
    check(lambda L, F, x: F.relu(loss(L, F, x) - 1.0).sqrt(), np.array([[0.4, -inf], [1.0, 2.0]]))


def test_relu_keeps_negative_zero_and_nan():
    check(lambda L, F, x: 1.0 / F.relu(x), A(-0.0, 0.0, nan, -1.0, 2.0))


def test_an_ignored_row_with_nan_logits_keeps_torch_s_nan():
    """torch's cross_entropy is log_softmax then nll_loss: an ignored row gets 0 − S · 0,
    which is NaN where the row's own logits are NaN, whatever the upstream gradient."""
    x = np.array([[nan, 1.0, 2.0], [0.5, -1.0, 2.0], [1.0, inf, 0.0]])
    for reduction in ("mean", "sum", "none"):
        check(lambda L, F, x: F.cross_entropy(x, L.tensor([-100, 2, -100]), reduction=reduction),
              x)
