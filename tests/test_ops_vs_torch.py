"""Every registry op against torch.autograd, in float64: forward value and every gradient.

Each entry's ``fn`` is run unchanged with (minigrad, minigrad.nn.functional) and with
(torch, torch.nn.functional) on the same arrays; the outputs are pulled back with the same
random upstream gradient and every input's gradient is compared. hypothesis chooses the
shapes (broadcast pairs, 0-d tensors where the op allows them, batch dims), the values'
seed, and whether each 2-D+ input is handed to the op as a transposed, non-contiguous
view of its leaf.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.ops.registry import OPS, sample_inputs
from minigrad.tensor import _Defaults
from minigrad.testing import assert_close

RTOL, ATOL = 1e-7, 1e-10
SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _keep_minigrad_rng():
    """Dropout draws from minigrad's global generator: leave it as we found it."""
    saved = _Defaults.rng
    yield
    _Defaults.rng = saved


@st.composite
def cases(draw, info):
    """(sample, transposed, upstream seed) for one registry entry; hypothesis makes every
    structural choice of the sampler, so it can shrink a failure to the smallest shapes."""
    seed = draw(st.integers(0, 2**32 - 1), label="value seed")
    sample = sample_inputs(info, np.random.default_rng(seed),
                           pick=lambda lo, hi: draw(st.integers(lo, hi)))
    transposed = not info.contiguous_only and draw(st.booleans(), label="transposed")
    return sample, transposed, draw(st.integers(0, 2**32 - 1), label="upstream seed")


def build(lib, info, sample, transposed):
    """Tensors of ``lib`` for a sample. Returns (args for fn, leaves whose .grad is checked).

    With ``transposed``, an array of 2+ dims is stored transposed in its leaf and handed to
    the op as ``leaf.transpose(-1, -2)``: a non-contiguous view with the sample's shape."""
    args, leaves = [], []
    for i, a in enumerate(sample):
        if not isinstance(a, np.ndarray):
            args.append(a)
            continue
        diff = a.dtype.kind == "f" and i not in info.no_grad_args
        view = transposed and a.ndim >= 2
        leaf = lib.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)) if view else a)
        if diff:
            leaf.requires_grad_(True)
            leaves.append(leaf)
        args.append(leaf.transpose(-1, -2) if view else leaf)
    return args, leaves


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def run(lib, F, info, sample, transposed, upstream_seed, fn=None, extra=()):
    """Forward with ``lib``, then backward with a random upstream gradient per output."""
    args, leaves = build(lib, info, sample, transposed)
    outs = as_tuple((fn or info.fn)(lib, F, *extra, *args))
    rng = np.random.default_rng(upstream_seed)
    upstream = [rng.standard_normal(tuple(o.shape)) for o in outs]
    pairs = [(o, lib.tensor(g)) for o, g in zip(outs, upstream) if o.requires_grad]
    assert pairs, f"{info.id}: no output requires grad"
    lib.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    return outs, leaves


def grad_of(leaf):
    return np.zeros(tuple(leaf.shape)) if leaf.grad is None else leaf.grad


def compare(info, m_outs, t_outs, m_leaves, t_leaves):
    assert len(m_outs) == len(t_outs), f"{info.id}: number of outputs differs"
    for k, (m, t) in enumerate(zip(m_outs, t_outs)):
        assert m.dtype == mg.float64 and t.dtype == torch.float64, \
            f"{info.id}: output {k} is {m.dtype} (minigrad) / {t.dtype} (torch), not float64"
        assert_close(m, t, RTOL, ATOL, name=f"{info.id}: output {k}")
    assert len(m_leaves) == len(t_leaves)
    for i, (m, t) in enumerate(zip(m_leaves, t_leaves)):
        if m.grad is not None:
            assert m.grad.dtype == mg.float64, f"{info.id}: gradient {i} is {m.grad.dtype}"
        assert_close(grad_of(m), grad_of(t), RTOL, ATOL, name=f"{info.id}: gradient of input {i}")


@pytest.mark.parametrize("info", [op for op in OPS if not op.random], ids=lambda op: op.id)
@SETTINGS
@given(data=st.data())
def test_op_matches_torch(info, data):
    sample, transposed, up = data.draw(cases(info), label="case")
    m_outs, m_leaves = run(mg, MF, info, sample, transposed, up)
    t_outs, t_leaves = run(torch, TF, info, sample, transposed, up)
    compare(info, m_outs, t_outs, m_leaves, t_leaves)


# --------------------------------------------------------------------------- random ops
# torch's generator is not minigrad's, so dropout's outputs cannot be compared directly.
# The fair check: read the mask m off minigrad's output (y ≠ 0 exactly where it kept the
# unit), then give torch the same computation with that mask, x ⊙ m / (1 − p) — which is
# what torch's own dropout computes for a given mask, forward and backward. (Attention's
# dropout shows its dropped weights in extra output columns: see its registry entry.)
@pytest.mark.parametrize("info", [op for op in OPS if op.random], ids=lambda op: op.id)
@SETTINGS
@given(data=st.data())
def test_random_op_matches_torch_given_its_mask(info, data):
    sample, transposed, up = data.draw(cases(info), label="case")
    mg.manual_seed(data.draw(st.integers(0, 2**32 - 1), label="minigrad seed"))
    m_outs, m_leaves = run(mg, MF, info, sample, transposed, up)
    y = m_outs[0].detach().numpy()
    if info.name == "dropout":
        x, p = sample[0], 0.3
        assert np.all(x != 0), "the sampler must give nonzero inputs, or the mask is ambiguous"
        kept = y != 0
        # the output is x/(1-p) where kept and exactly 0 elsewhere: nothing else is possible
        assert_close(y[kept], x[kept] / (1 - p), RTOL, 0.0, name=f"{info.id}: kept units")
    t_outs, t_leaves = run(torch, TF, info, sample, transposed, up, fn=info.fixed_fn,
                           extra=(torch.tensor(y),))
    compare(info, m_outs, t_outs, m_leaves, t_leaves)


def test_dropout_keeps_the_expected_fraction():
    """With p = 0.3 about 70% of units survive and E[y] = x (inverted dropout)."""
    mg.manual_seed(0)
    x = mg.tensor(np.ones((200, 200)), requires_grad=True)
    y = MF.dropout(x, p=0.3)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.015            # 5 standard deviations of a 40000-unit mean
    assert abs(y.detach().numpy().mean() - 1.0) < 0.025
    g = np.random.default_rng(1).standard_normal((200, 200))
    y.backward(mg.tensor(g))
    mask = y.detach().numpy() != 0
    assert_close(x.grad, g * mask / 0.7, 1e-12, 0.0, name="dropout gradient")


def test_dropout_is_reproducible_with_a_seed():
    x = mg.tensor(np.random.default_rng(2).standard_normal((5, 7)))
    mg.manual_seed(7)
    a = MF.dropout(x, p=0.5).numpy()
    mg.manual_seed(7)
    b = MF.dropout(x, p=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, MF.dropout(x, p=0.5).numpy())   # the generator moved on


@pytest.mark.parametrize("kwargs", [{"p": 0.0}, {"p": 0.7, "training": False}, {"p": 1.0}],
                         ids=["p=0", "eval", "p=1"])
def test_dropout_deterministic_cases_match_torch(kwargs):
    """p = 0, training=False (identity) and p = 1 (all zeros) have no randomness left."""
    a = np.random.default_rng(3).standard_normal((4, 6))
    g = np.random.default_rng(4).standard_normal((4, 6))
    xm, xt = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ym, yt = MF.dropout(xm, **kwargs), TF.dropout(xt, **kwargs)
    assert_close(ym, yt, RTOL, ATOL, name="dropout output")
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad, RTOL, ATOL, name="dropout gradient")


def test_swiglu_function_matches_its_composition():
    """The registry tests SwiGLU as silu(x W_g) ⊙ (x W_u), written with torch's names; here
    minigrad's own ``swiglu`` is checked against torch's composition, gradients included."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)),
              rng.standard_normal((4, 5))]
    g = rng.standard_normal((2, 3, 5))
    m = [mg.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    ym = mg.swiglu(*m)
    yt = TF.silu(t[0] @ t[1]) * (t[0] @ t[2])
    assert_close(ym, yt, RTOL, ATOL, name="swiglu")
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(m, t)):
        assert_close(a.grad, b.grad, RTOL, ATOL, name=f"swiglu gradient {i}")
