"""Numerical stability: extreme inputs give finite values and torch's gradients.

A naive softmax computes e^10000 = inf and then inf/inf = NaN; a naive sigmoid computes
1/(1 + e^1000) through an overflow. minigrad subtracts the row maximum (softmax,
log_softmax, cross_entropy, attention) and uses scipy's expit (sigmoid), so none of these
overflow. Each test checks finiteness *and* equality with torch, value and gradient, with
a random upstream gradient.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.testing import assert_close

RTOL, ATOL = 1e-7, 1e-10


def logits(seed, shape=(4, 5), scale=1e4):
    """Logits of magnitude ~1e4, with ±1e4 exactly in each row."""
    x = np.random.default_rng(seed).uniform(-1, 1, shape) * scale
    x[..., 0], x[..., -1] = scale, -scale
    return x


def both(fn_m, fn_t, arrays, seed=0, no_grad=()):
    """Run fn on minigrad and torch tensors of the same arrays, backpropagate the same random
    upstream gradient, and check values and gradients are finite and equal."""
    m = [mg.tensor(a, requires_grad=i not in no_grad) if a.dtype.kind == "f" else mg.tensor(a)
         for i, a in enumerate(arrays)]
    t = [torch.tensor(a, requires_grad=i not in no_grad) if a.dtype.kind == "f"
         else torch.tensor(a) for i, a in enumerate(arrays)]
    ym, yt = fn_m(*m), fn_t(*t)
    assert np.all(np.isfinite(ym.detach().numpy())), "non-finite output"
    assert_close(ym, yt, RTOL, ATOL, name="output")
    g = np.random.default_rng(seed).standard_normal(tuple(ym.shape))
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(m, t)):
        if b.requires_grad:
            assert a.grad is not None, f"no gradient for input {i}"
            assert np.all(np.isfinite(a.grad.numpy())), f"non-finite gradient for input {i}"
            assert_close(a.grad, b.grad, RTOL, ATOL, name=f"gradient of input {i}")
    return ym


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_huge_logits(name, dim):
    y = both(lambda x: getattr(MF, name)(x, dim=dim), lambda x: getattr(TF, name)(x, dim=dim),
             [logits(1)])
    if name == "softmax":
        assert_close(y.detach().numpy().sum(dim), np.ones(y.shape[1 - dim % 2]), 1e-12, 1e-12)


def test_log_softmax_keeps_the_log_of_tiny_probabilities():
    """log softmax([1e4, −1e4]) = [0, −2e4]: a naive log(softmax) would give log(0) = −inf."""
    y = both(lambda x: MF.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1),
             [np.array([1e4, -1e4])])
    assert_close(y.detach().numpy(), np.array([0.0, -2e4]), 0, 0)


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                    {"label_smoothing": 0.1}],
                         ids=["mean", "sum", "none", "label_smoothing"])
def test_cross_entropy_of_huge_logits(kwargs):
    x = logits(2, (6, 5))
    target = np.array([0, 4, 4, 2, 0, 1])       # the largest, the smallest, and others
    y = both(lambda x, t: MF.cross_entropy(x, t, **kwargs),
             lambda x, t: TF.cross_entropy(x, t, **kwargs), [x, target])
    # the row whose target is the −1e4 logit costs ≈ 2e4, finite
    per_item = MF.cross_entropy(mg.tensor(x), mg.tensor(target), reduction="none").numpy()
    assert per_item[1] == pytest.approx(2e4)


def test_cross_entropy_of_huge_logits_with_spatial_dims_and_ignore_index():
    x = logits(3, (2, 4, 3)).transpose(0, 2, 1).copy()           # (N, C, d) = (2, 3, 4)
    target = np.array([[0, 2, -100, 1], [2, -100, 0, 0]])
    both(lambda x, t: MF.cross_entropy(x, t, ignore_index=-100),
         lambda x, t: TF.cross_entropy(x, t, ignore_index=-100), [x, target])


@pytest.mark.parametrize("value", [1000.0, -1000.0, 1e4, -1e4])
def test_sigmoid_of_extreme_inputs(value):
    x = np.array([value, -value, 0.0, value / 2])
    y = both(mg.sigmoid, torch.sigmoid, [x])
    assert set(np.round(y.detach().numpy()[:2])) == {0.0, 1.0}


@pytest.mark.parametrize("name", ["silu", "gelu", "tanh"])
def test_saturating_activations_of_extreme_inputs(name):
    fm = getattr(MF, name) if name != "tanh" else mg.tanh
    ft = getattr(TF, name) if name != "tanh" else torch.tanh
    both(fm, ft, [np.array([-1000.0, -40.0, 0.5, 40.0, 1000.0])])


def test_logsumexp_of_huge_values():
    both(lambda x: mg.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), [logits(4)])


def test_attention_with_huge_scores():
    """Scores of ~1e4 after scaling: the fused softmax inside attention is shifted too."""
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((3, 2, 4)) * 100, rng.standard_normal((3, 5, 4)) * 100, \
        rng.standard_normal((3, 5, 6))
    both(lambda q, k, v: MF.scaled_dot_product_attention(q, k, v),
         lambda q, k, v: TF.scaled_dot_product_attention(q, k, v), [q, k, v])


def test_causal_attention_masks_with_minus_infinity_yet_stays_finite():
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    both(lambda q, k, v: MF.scaled_dot_product_attention(q, k, v, is_causal=True),
         lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v])


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning",
                            "ignore:var:UserWarning")
def test_unbiased_variance_of_one_element_is_nan_like_torch():
    """n − 1 = 0 degrees of freedom: torch returns NaN, for the value and the gradient;
    minigrad must do the same (and not raise in backward)."""
    a = np.array([0.5])
    xm, xt = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ym, yt = xm.var(), xt.var()
    assert np.isnan(ym.item()) and torch.isnan(yt).item()
    ym.backward()
    yt.backward()
    assert_close(xm.grad, xt.grad, name="gradient of a 0-dof variance")     # NaN == NaN here
    assert np.isnan(xm.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dims", [((8, 16, 32), (2,)), ((3, 5, 7), (1, 2)),
                                         ((1000, 777), (1,)), ((777, 1000), (0,)),
                                         ((5, 3), (0, 1)), ((4, 0), (1,))])
def test_layer_norm_means_are_numpys_means_bit_for_bit(dtype, shape, dims):
    """The normalization ops take their means as numpy's sum and division, without its
    wrapper: the numbers must be numpy's mean's exactly (chapter 11 shows the array VJPs
    equal to the differentiable ones, whose means are numpy's), empty rows NaN as there."""
    from minigrad.ops.normalization import _mean_over
    a = (np.random.default_rng(1).standard_normal(shape) * 10).astype(dtype)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for acc in (None, np.float64):
            ours, numpys = _mean_over(a, dims, acc), a.mean(axis=dims, keepdims=True, dtype=acc)
            assert ours.dtype == numpys.dtype and ours.shape == numpys.shape
            assert np.array_equal(ours, numpys, equal_nan=True)


def test_float32_erf_is_within_an_ulp_of_the_exact_erf():
    """erf of float32 (exact GELU's Φ) is a vectorized rational approximation, evaluated in
    float64: every result within 0.54 ulp of erf computed exactly in float64, over a dense
    grid of [−6, 6] and tiny values of both signs; ±0, ±inf and NaN kept; float64 inputs
    unchanged (scipy's erf)."""
    from scipy import special
    from minigrad.ops.elementwise import erf_array
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-6, 6, 1_000_001), rng.uniform(-4.5, 4.5, 1_000_000),
                        np.geomspace(1e-38, 1, 20_000), -np.geomspace(1e-38, 1, 20_000)]
                       ).astype(np.float32)
    exact = special.erf(x.astype(np.float64))
    got = erf_array(x)
    assert got.dtype == np.float32
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert (np.abs(got - exact) / ulp).max() <= 0.54
    edge = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 4.0, -4.0], np.float32)
    out = erf_array(edge)
    assert np.array_equal(out, [0, 0, 1, -1, np.nan, 1, -1], equal_nan=True)
    assert np.signbit(out[1]) and not np.signbit(out[0])
    d = rng.standard_normal(1000)
    assert np.array_equal(erf_array(d), special.erf(d))
    t = torch.erf(torch.from_numpy(x)).numpy()
    assert np.abs(got - t).max() <= 2 * np.spacing(np.float32(1))       # and with torch's
