"""The engine's behaviour, run side by side with torch.autograd.

Most tests are written once and run twice, with ``lib = minigrad`` and ``lib = torch``: the
same code must give the same graph, the same flags and the same gradients. Everything is
float64 and every backward starts from a random upstream gradient, so a gradient that is
right only for ``.sum()`` (an upstream of ones) cannot pass.
"""
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.tensor import _Defaults
from minigrad.testing import assert_close

pytestmark = [
    pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf"),
    pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled"),
    pytest.mark.filterwarnings("ignore:Error detected in"),
    pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True"),
]

LIBS = [pytest.param(mg, id="minigrad"), pytest.param(torch, id="torch")]
FUNCTIONAL = {mg: MF, torch: TF}


# --------------------------------------------------------------------------- utilities
def rnd(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(lib, array, requires_grad=True):
    return lib.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def arr(t):
    """A tensor of either library as a numpy copy (None stays None)."""
    return None if t is None else np.array(t.detach().numpy(), copy=True)


def both(fn):
    """Run ``fn(lib)`` with minigrad and with torch; return (minigrad result, torch result)."""
    return fn(mg), fn(torch)


def assert_same(fn, rtol=1e-9, atol=1e-10):
    """``fn(lib)`` returns a list of tensors or arrays; the minigrad and torch lists must agree
    element by element."""
    got, want = both(fn)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"result {i}: minigrad {g!r}, torch {w!r}"
        if g is not None:
            assert_close(arr(g) if hasattr(g, "detach") else g,
                         arr(w) if hasattr(w, "detach") else w, rtol=rtol, atol=atol,
                         name=f"result {i}")


def node_name(t):
    """The grad_fn's class name without torch's overload number (MulBackward0 -> MulBackward)."""
    return type(t.grad_fn).__name__.rstrip("0123456789")


def dtype_name(dt):
    return str(dt).replace("torch.", "").replace("minigrad.", "")


@pytest.fixture(autouse=True)
def _keep_rng_and_modes():
    """Leave the random generators and the grad mode as we found them."""
    saved, torch_state = _Defaults.rng, torch.get_rng_state()
    yield
    _Defaults.rng = saved
    torch.set_rng_state(torch_state)
    assert mg.is_grad_enabled() and torch.is_grad_enabled(), "a test leaked a grad mode"


# =========================================================================== the graph
# (op, code run on both libraries, minigrad's node name, torch's node name)
GRAPH_OPS = [
    ("mul", lambda L, F, a, b: a * b, "MulBackward", "MulBackward"),
    ("add", lambda L, F, a, b: a + b, "AddBackward", "AddBackward"),
    ("sub", lambda L, F, a, b: a - b, "SubBackward", "SubBackward"),
    ("div", lambda L, F, a, b: a / b, "DivBackward", "DivBackward"),
    ("neg", lambda L, F, a, b: -a, "NegBackward", "NegBackward"),
    ("pow", lambda L, F, a, b: a ** 2, "PowBackward", "PowBackward"),
    ("exp", lambda L, F, a, b: a.exp(), "ExpBackward", "ExpBackward"),
    ("abs", lambda L, F, a, b: a.abs(), "AbsBackward", "AbsBackward"),
    ("relu", lambda L, F, a, b: F.relu(a), "ReluBackward", "ReluBackward"),
    ("tanh", lambda L, F, a, b: a.tanh(), "TanhBackward", "TanhBackward"),
    ("sigmoid", lambda L, F, a, b: a.sigmoid(), "SigmoidBackward", "SigmoidBackward"),
    ("gelu", lambda L, F, a, b: F.gelu(a), "GeluBackward", "GeluBackward"),
    ("silu", lambda L, F, a, b: F.silu(a), "SiluBackward", "SiluBackward"),
    ("softmax", lambda L, F, a, b: F.softmax(a, dim=-1), "SoftmaxBackward", "SoftmaxBackward"),
    ("sum", lambda L, F, a, b: a.sum(), "SumBackward", "SumBackward"),
    ("mean", lambda L, F, a, b: a.mean(), "MeanBackward", "MeanBackward"),
    ("clone", lambda L, F, a, b: a.clone(), "CloneBackward", "CloneBackward"),
    ("permute", lambda L, F, a, b: a.permute(1, 0), "PermuteBackward", "PermuteBackward"),
    ("cat", lambda L, F, a, b: L.cat([a, b]), "CatBackward", "CatBackward"),
    ("expand", lambda L, F, a, b: a[:1].expand(3, 4), "ExpandBackward", "ExpandBackward"),
    # torch picks a kernel per case (Mm for 2-D, View/Select for reshapes and indexing),
    # minigrad has one node per operation
    ("matmul", lambda L, F, a, b: a @ b.T, "MatMulBackward", "MmBackward"),
    ("reshape", lambda L, F, a, b: a.reshape(12), "ReshapeBackward", "ViewBackward"),
    ("index", lambda L, F, a, b: a[0], "IndexBackward", "SelectBackward"),
]


@pytest.mark.parametrize("op, fn, mg_name, torch_name", GRAPH_OPS, ids=[o[0] for o in GRAPH_OPS])
@pytest.mark.parametrize("lib", LIBS)
def test_grad_fn_names(lib, op, fn, mg_name, torch_name):
    a, b = leaf(lib, rnd(0, 3, 4)), leaf(lib, rnd(1, 3, 4))
    y = fn(lib, FUNCTIONAL[lib], a, b)
    assert node_name(y) == (mg_name if lib is mg else torch_name)
    assert node_name(y) in repr(y.grad_fn) and node_name(y) in str(y.grad_fn)
    assert node_name(y) in repr(y)             # tensor(..., grad_fn=<MulBackward...>)


@pytest.mark.parametrize("lib", LIBS)
def test_next_functions_lead_to_parents_and_leaves(lib):
    a = leaf(lib, rnd(0, 3, 4))                        # leaf that requires grad
    c = leaf(lib, rnd(1, 3, 4), requires_grad=False)   # a constant
    h = a * c
    y = h.exp()
    (acc, nr_a), (none, nr_c) = h.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr_a == 0
    assert acc.variable is a
    assert (none, nr_c) == (None, 0)
    assert y.grad_fn.next_functions == ((h.grad_fn, 0),)
    # a leaf used twice is reached through one and the same AccumulateGrad node
    z = a * a
    (n0, _), (n1, _) = z.grad_fn.next_functions
    assert n0 is n1 and n0.variable is a


@pytest.mark.parametrize("lib", LIBS)
def test_next_functions_output_nr_of_multi_output_op(lib):
    a = leaf(lib, rnd(0, 6, 2))
    p, q, r = a.split(2)
    y = r * p
    (n0, nr0), (n1, nr1) = y.grad_fn.next_functions
    assert n0 is n1 is p.grad_fn is r.grad_fn
    assert (nr0, nr1) == (2, 0)


@pytest.mark.parametrize("lib", LIBS)
def test_leaf_flags_and_requires_grad_propagation(lib):
    a = leaf(lib, rnd(0, 3))
    c = leaf(lib, rnd(1, 3), requires_grad=False)
    assert a.is_leaf and a.requires_grad and a.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    k = c * 2 + 1                     # built from constants only: still a leaf, no graph
    assert k.is_leaf and not k.requires_grad and k.grad_fn is None
    h = a * c                         # one input requires grad: so does the result
    assert not h.is_leaf and h.requires_grad and h.grad_fn is not None


@pytest.mark.parametrize("lib", LIBS)
def test_grad_is_kept_on_leaves_only_unless_retain_grad(lib):
    a = leaf(lib, rnd(0, 3, 4))
    h = a.sin()
    k = h * 3.0
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad and not a.retains_grad
    g = leaf(lib, rnd(1, 3, 4), requires_grad=False)
    y = k.exp()
    y.backward(g, retain_graph=True)
    assert h.grad is None                          # a non-leaf: not kept
    assert_close(arr(k.grad), rnd(1, 3, 4) * np.exp(arr(k)))
    y.backward(g)                                   # a retained grad accumulates, like a leaf's
    assert_close(arr(k.grad), 2 * rnd(1, 3, 4) * np.exp(arr(k)))
    assert_close(arr(a.grad), 2 * rnd(1, 3, 4) * np.exp(arr(k)) * 3 * np.cos(rnd(0, 3, 4)))


# =========================================================================== diamonds, reuse
@pytest.mark.parametrize("lib", LIBS)
def test_diamond_sums_gradients(lib):
    a = leaf(lib, rnd(0, 3, 4))
    b = a + a
    c = b + b
    c.backward(leaf(lib, rnd(1, 3, 4), requires_grad=False))
    assert_close(arr(a.grad), 4 * rnd(1, 3, 4))


def _qkv(lib):
    """x cloned into three branches (Q, K, V), recombined through attention weights."""
    x = leaf(lib, rnd(0, 5, 8))
    wq, wk, wv = (leaf(lib, rnd(s, 8, 8) / 3) for s in (1, 2, 3))
    xs = x.clone()
    q, k, v = xs @ wq, xs @ wk, xs @ wv
    a = (q @ k.T / 8 ** 0.5).softmax(dim=-1)
    out = a @ v + q + k + v
    out.backward(leaf(lib, rnd(4, 5, 8), requires_grad=False))
    return [x.grad, wq.grad, wk.grad, wv.grad]


def test_qkv_branches_match_torch():
    assert_same(_qkv)


@pytest.mark.parametrize("lib", LIBS)
def test_three_linear_branches_sum_in_closed_form(lib):
    x = leaf(lib, rnd(0, 5, 8))
    ws = [leaf(lib, rnd(s, 8, 6), requires_grad=False) for s in (1, 2, 3)]
    (x @ ws[0] + x @ ws[1] + x @ ws[2]).backward(leaf(lib, rnd(4, 5, 6), requires_grad=False))
    assert_close(arr(x.grad), rnd(4, 5, 6) @ (rnd(1, 8, 6) + rnd(2, 8, 6) + rnd(3, 8, 6)).T)


@pytest.mark.parametrize("bias_shape", [(6,), (1, 6), (4, 1), (1, 1, 6), ()])
@pytest.mark.parametrize("lib", LIBS)
def test_unbroadcast_bias_gradient_is_the_batch_sum(lib, bias_shape):
    x = leaf(lib, rnd(0, 3, 4, 6))
    b = leaf(lib, rnd(1, *bias_shape))
    g = rnd(2, 3, 4, 6)
    (x + b).backward(leaf(lib, g, requires_grad=False))
    lead = g.ndim - len(bias_shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(bias_shape) if n == 1)
    assert b.grad.shape == b.shape
    assert_close(arr(b.grad), g.sum(axis=dims, keepdims=True).reshape(bias_shape))
    assert_close(arr(x.grad), g)


# =========================================================================== grad modes
@pytest.mark.parametrize("lib", LIBS)
def test_no_grad_and_enable_grad_as_context_managers(lib):
    a = leaf(lib, rnd(0, 3))
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        y = a * 2
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            z = a * 2
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert z.requires_grad and node_name(z) == "MulBackward"


@pytest.mark.parametrize("lib", LIBS)
def test_set_grad_enabled_as_context_call_and_decorator(lib):
    a = leaf(lib, rnd(0, 3))
    with lib.set_grad_enabled(False):
        assert not (a * 2).requires_grad
    assert lib.is_grad_enabled()
    lib.set_grad_enabled(False)               # as a plain call it switches the mode
    try:
        assert not lib.is_grad_enabled() and not (a * 2).requires_grad
    finally:
        lib.set_grad_enabled(True)

    @lib.set_grad_enabled(False)
    def doubled(x):
        return x * 2
    assert lib.is_grad_enabled()              # building the decorator changed nothing
    assert not doubled(a).requires_grad
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", LIBS)
def test_no_grad_and_enable_grad_as_decorators(lib):
    a = leaf(lib, rnd(0, 3))

    @lib.no_grad()
    def frozen(x):
        return x * 2

    @lib.no_grad                               # without parentheses too
    def frozen_bare(x):
        return x * 2

    @lib.enable_grad()
    def recorded(x):
        return x * 2

    assert not frozen(a).requires_grad and not frozen_bare(a).requires_grad
    assert lib.is_grad_enabled()
    with lib.no_grad():
        assert recorded(a).requires_grad
        assert not lib.is_grad_enabled()


@pytest.mark.parametrize("lib", LIBS)
def test_building_a_no_grad_object_does_not_switch_the_mode(lib):
    ctx = lib.no_grad()
    assert lib.is_grad_enabled()
    with ctx:
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", LIBS)
def test_no_grad_restores_the_mode_after_an_exception(lib):
    with pytest.raises(ZeroDivisionError):
        with lib.no_grad():
            1 / 0
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", LIBS)
def test_detach_shares_memory_and_version(lib):
    a = leaf(lib, rnd(0, 3, 4))
    h = a * 2
    d = h.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    v0 = h._version
    d.mul_(0.5)                      # through the detached alias...
    assert_close(arr(h), rnd(0, 3, 4))        # ...the original sees the change
    assert h._version == d._version == v0 + 1


@pytest.mark.parametrize("lib", LIBS)
def test_requires_grad_(lib):
    a = leaf(lib, rnd(0, 3), requires_grad=False)
    assert a.requires_grad_() is a and a.requires_grad
    (a * a).backward(leaf(lib, rnd(1, 3), requires_grad=False))
    assert_close(arr(a.grad), 2 * rnd(0, 3) * rnd(1, 3))
    a.requires_grad_(False)
    assert not (a * a).requires_grad


# =========================================================================== accumulation
@pytest.mark.parametrize("lib", LIBS)
def test_grad_accumulates_across_backward_calls_and_zero_(lib):
    a = leaf(lib, rnd(0, 3, 4))
    g1, g2, g3 = (leaf(lib, rnd(s, 3, 4), requires_grad=False) for s in (1, 2, 3))
    (a * 3).backward(g1)
    (a.sin()).backward(g2)
    assert_close(arr(a.grad), 3 * rnd(1, 3, 4) + np.cos(rnd(0, 3, 4)) * rnd(2, 3, 4))
    a.grad.zero_()
    assert_close(arr(a.grad), np.zeros((3, 4)))
    (a * 3).backward(g3)
    assert_close(arr(a.grad), 3 * rnd(3, 3, 4))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("lib", LIBS)
def test_two_leaves_never_share_a_grad_object(lib, create_graph):
    a, c = leaf(lib, rnd(0, 3, 4)), leaf(lib, rnd(1, 3, 4))
    g = leaf(lib, rnd(2, 3, 4), requires_grad=False)
    (a + c).backward(g, create_graph=create_graph)      # Add sends one gradient to both
    assert a.grad is not c.grad
    with lib.no_grad():
        a.grad.mul_(10)
    assert_close(arr(c.grad), rnd(2, 3, 4))             # c's gradient did not move
    assert_close(arr(g), rnd(2, 3, 4))                  # nor did the upstream gradient


@pytest.mark.parametrize("lib", LIBS)
def test_grad_of_an_output_is_a_copy_of_the_upstream(lib):
    a = leaf(lib, rnd(0, 3))
    h = a * 2
    h.retain_grad()
    g = leaf(lib, rnd(1, 3), requires_grad=False)
    a.backward(g)
    h.backward(g)
    with lib.no_grad():
        g.mul_(0)
    assert_close(arr(a.grad), 3 * rnd(1, 3))
    assert_close(arr(h.grad), rnd(1, 3))


# =========================================================================== graph lifetime
@pytest.mark.parametrize("lib", LIBS)
def test_saved_intermediate_is_freed_by_backward(lib):
    a = leaf(lib, rnd(0, 3, 4))
    h = a * 2
    ref = weakref.ref(h)
    y = h * h                     # MulBackward saves h
    del h
    assert ref() is not None      # kept alive by the graph only
    y.backward(leaf(lib, rnd(1, 3, 4), requires_grad=False))
    assert ref() is None          # backward released it although y (and its graph) lives on
    assert y.grad_fn is not None


@pytest.mark.parametrize("lib", LIBS)
def test_graph_is_freed_with_its_output_without_the_garbage_collector(lib):
    gc.disable()                  # freed by reference counting alone: the graph has no cycle
    try:
        a = leaf(lib, rnd(0, 3, 4))
        h = a * 2
        ref = weakref.ref(h)
        y = (h * h).exp().sum()   # ExpBackward saves its own output: still no cycle
        del h
        assert ref() is not None
        node_ref = weakref.ref(y.grad_fn) if lib is mg else None   # torch's nodes: no weakref
        del y
        assert ref() is None
        assert node_ref is None or node_ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("lib", LIBS)
def test_retain_graph_allows_a_second_backward_that_sums(lib):
    a = leaf(lib, rnd(0, 3, 4))
    y = (a * a).sin()
    g = leaf(lib, rnd(1, 3, 4), requires_grad=False)
    y.backward(g, retain_graph=True)
    y.backward(g)
    x, gn = rnd(0, 3, 4), rnd(1, 3, 4)
    assert_close(arr(a.grad), 2 * gn * np.cos(x * x) * 2 * x)


@pytest.mark.parametrize("lib", LIBS)
def test_second_backward_without_retain_graph_raises(lib):
    a = leaf(lib, rnd(0, 3, 4))
    y = a * a
    g = leaf(lib, rnd(1, 3, 4), requires_grad=False)
    y.backward(g)
    with pytest.raises(RuntimeError, match="second time") as info:
        y.backward(g)
    assert "retain_graph" in str(info.value)
    if lib is mg:
        assert "MulBackward" in str(info.value)


@pytest.mark.parametrize("lib", LIBS)
def test_second_backward_through_nodes_that_saved_nothing_works(lib):
    a = leaf(lib, rnd(0, 3, 4))
    y = a + 1.0                   # AddBackward keeps nothing: nothing to free
    g = leaf(lib, rnd(1, 3, 4), requires_grad=False)
    y.backward(g)
    y.backward(g)
    assert_close(arr(a.grad), 2 * rnd(1, 3, 4))


@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("lib", LIBS)
def test_deep_chain_of_50000_ops(lib, op):
    """The walk is iterative: a chain far deeper than Python's recursion limit works."""
    n = 50_000
    x0 = leaf(lib, [1.0, 2.0])
    x = x0
    for _ in range(n):
        x = x * 1.0001 if op == "mul" else x + 1.0
    g = np.array([0.3, -1.7])
    x.backward(leaf(lib, g, requires_grad=False))
    scale = 1.0001 ** n if op == "mul" else 1.0
    assert_close(arr(x0.grad), g * scale, rtol=1e-9)
    del x                         # freeing the 50,000-node graph must not recurse either
    gc.collect()


@pytest.mark.parametrize("lib", LIBS)
def test_deep_chain_freed_without_backward(lib):
    x = leaf(lib, [1.0])
    for _ in range(50_000):
        x = x.sin()
    del x
    gc.collect()


# =========================================================================== higher order
def _second_order(lib, fn, arrays, seed=0):
    """Gradients (with create_graph) and the second-order VJP of ``fn`` at ``arrays``.

    Float arrays become leaves that require grad; integer arrays are passed as they are.
    Returns [g_1..g_n, h_1..h_n] where g = VJP(u) and h = d(Σ g·v)/d(inputs) for random
    u and v (None second derivatives -- inputs with a zero second derivative -- are zeros)."""
    rng = np.random.default_rng(seed)
    ts = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    diff = [t for t in ts if t.requires_grad]
    y = fn(lib, FUNCTIONAL[lib], *ts)
    u = lib.tensor(rng.standard_normal(tuple(y.shape)))
    gs = lib.autograd.grad(y, diff, u, create_graph=True)
    assert any(g.requires_grad for g in gs), "create_graph=True gave constant gradients"
    s = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in gs)
    hs = lib.autograd.grad(s, diff, allow_unused=True)
    return list(gs) + [np.zeros(tuple(t.shape)) if h is None else h for t, h in zip(diff, hs)]


def _pos(seed, *shape):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def _cls_targets(seed, n, c):
    return np.random.default_rng(seed).integers(0, c, n)


SECOND_ORDER = [
    ("mul", lambda L, F, x, y: x * y * x, [rnd(0, 3, 4), rnd(1, 3, 4)]),
    ("div", lambda L, F, x, y: x / y, [rnd(0, 3, 4), _pos(1, 3, 4)]),
    ("pow_const", lambda L, F, x: x ** 3, [rnd(0, 3, 4)]),
    ("pow_tensor", lambda L, F, x, y: x ** y, [_pos(0, 3, 4), rnd(1, 3, 4)]),
    ("broadcast_sub", lambda L, F, x, y: (x - y) * (x - y), [rnd(0, 3, 4), rnd(1, 4)]),
    ("exp", lambda L, F, x: x.exp(), [rnd(0, 3, 4)]),
    ("log", lambda L, F, x: x.log(), [_pos(0, 3, 4)]),
    ("sqrt", lambda L, F, x: x.sqrt(), [_pos(0, 3, 4)]),
    ("sin_cos", lambda L, F, x: x.sin() * x.cos(), [rnd(0, 3, 4)]),
    ("erf", lambda L, F, x: L.erf(x), [rnd(0, 3, 4)]),
    ("tanh", lambda L, F, x: x.tanh(), [rnd(0, 3, 4)]),
    ("sigmoid", lambda L, F, x: x.sigmoid(), [rnd(0, 3, 4)]),
    ("gelu", lambda L, F, x: F.gelu(x), [rnd(0, 3, 4)]),
    ("gelu_tanh", lambda L, F, x: F.gelu(x, approximate="tanh"), [rnd(0, 3, 4)]),
    ("silu", lambda L, F, x: F.silu(x), [rnd(0, 3, 4)]),
    ("relu_times_x", lambda L, F, x: F.relu(x) * x, [rnd(0, 3, 4)]),
    ("softmax", lambda L, F, x: F.softmax(x, dim=-1), [rnd(0, 3, 5)]),
    ("log_softmax", lambda L, F, x: F.log_softmax(x, dim=0), [rnd(0, 3, 5)]),
    ("mean_var", lambda L, F, x: x.var(dim=1) * x.mean(dim=1), [rnd(0, 3, 5)]),
    ("layer_norm", lambda L, F, x, w, b: F.layer_norm(x, (5,), w, b),
     [rnd(0, 3, 5), rnd(1, 5), rnd(2, 5)]),
    ("matmul", lambda L, F, a, b: a @ b, [rnd(0, 3, 4), rnd(1, 4, 2)]),
    ("matmul_batched", lambda L, F, a, b: (a @ b).tanh(), [rnd(0, 2, 3, 4), rnd(1, 4, 2)]),
    ("linear", lambda L, F, x, w, b: F.linear(x, w, b).tanh(),
     [rnd(0, 3, 4), rnd(1, 2, 4), rnd(2, 2)]),
    ("cross_entropy", lambda L, F, z, t: F.cross_entropy(z, t),
     [rnd(0, 4, 5), _cls_targets(1, 4, 5)]),
    ("mse_loss", lambda L, F, x, y: F.mse_loss(x.tanh(), y), [rnd(0, 3, 4), rnd(1, 3, 4)]),
    ("sdpa", lambda L, F, q, k, v: F.scaled_dot_product_attention(q, k, v),
     [rnd(0, 2, 3, 4), rnd(1, 2, 5, 4), rnd(2, 2, 5, 4)]),
    ("sdpa_causal", lambda L, F, q, k, v: F.scaled_dot_product_attention(q, k, v,
                                                                         is_causal=True),
     [rnd(0, 2, 4, 3), rnd(1, 2, 4, 3), rnd(2, 2, 4, 3)]),
]


@pytest.mark.parametrize("name, fn, arrays", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_match_torch(name, fn, arrays):
    assert_same(lambda lib: _second_order(lib, fn, arrays), rtol=1e-8, atol=1e-10)


def test_third_derivative_of_tanh_matches_torch():
    def third(lib):
        x = leaf(lib, rnd(0, 6))
        g1, = lib.autograd.grad(x.tanh().sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g1, x, leaf(lib, rnd(1, 6), requires_grad=False),
                                create_graph=True)
        g3, = lib.autograd.grad(g2, x, leaf(lib, rnd(2, 6), requires_grad=False))
        return [g1, g2, g3]
    assert_same(third)
    t = np.tanh(rnd(0, 6))                 # and the closed form: tanh''' = -2(1 - t²)(1 - 3t²)
    assert_close(arr(third(mg)[2]), -2 * (1 - t * t) * (1 - 3 * t * t) * rnd(1, 6) * rnd(2, 6))


def _mlp_loss(lib, params, x, t):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).tanh()
    return FUNCTIONAL[lib].cross_entropy(h @ w2 + b2, t)


MLP = [rnd(1, 4, 6), rnd(2, 6), rnd(3, 6, 3), rnd(4, 3)]
MLP_X, MLP_T, MLP_V = rnd(5, 5, 4), _cls_targets(6, 5, 3), [rnd(7 + i, *p.shape)
                                                             for i, p in enumerate(MLP)]


def _hvp(lib, arrays=MLP):
    params = [leaf(lib, p) for p in arrays]
    loss = _mlp_loss(lib, params, lib.tensor(MLP_X), lib.tensor(MLP_T))
    grads = lib.autograd.grad(loss, params, create_graph=True)
    gv = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, MLP_V))
    return list(grads) + list(lib.autograd.grad(gv, params))


def test_hessian_vector_product_of_an_mlp_matches_torch():
    assert_same(_hvp)


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    eps = 1e-5
    plus = _hvp(mg, [p + eps * v for p, v in zip(MLP, MLP_V)])[:4]
    minus = _hvp(mg, [p - eps * v for p, v in zip(MLP, MLP_V)])[:4]
    hv = _hvp(mg)[4:]
    for i, (p, m, h) in enumerate(zip(plus, minus, hv)):
        assert_close(arr(h), (arr(p) - arr(m)) / (2 * eps), rtol=1e-6, atol=1e-8,
                     name=f"Hv of parameter {i}")


# =========================================================================== autograd.grad
@pytest.mark.parametrize("lib", LIBS)
def test_autograd_grad_leaves_dot_grad_alone(lib):
    a, b = leaf(lib, rnd(0, 3, 4)), leaf(lib, rnd(1, 3, 4))
    u = leaf(lib, rnd(2, 3, 4), requires_grad=False)
    ga, = lib.autograd.grad(a * b, a, u)
    assert a.grad is None and b.grad is None
    assert not ga.requires_grad
    assert_close(arr(ga), rnd(2, 3, 4) * rnd(1, 3, 4))
    (a * b).backward(u)                       # a .grad already there is not touched either
    before = arr(a.grad)
    lib.autograd.grad((a * b).exp(), [a, b], u)
    assert_close(arr(a.grad), before)


@pytest.mark.parametrize("lib", LIBS)
def test_autograd_grad_allow_unused(lib):
    a, b = leaf(lib, rnd(0, 3)), leaf(lib, rnd(1, 3))
    y = a.exp()
    u = leaf(lib, rnd(2, 3), requires_grad=False)
    with pytest.raises(RuntimeError, match="allow_unused"):
        lib.autograd.grad(y, [a, b], u, retain_graph=True)
    ga, gb = lib.autograd.grad(y, [a, b], u, allow_unused=True)
    assert gb is None
    assert_close(arr(ga), rnd(2, 3) * np.exp(rnd(0, 3)))


@pytest.mark.parametrize("lib", LIBS)
def test_autograd_grad_of_several_outputs_with_grad_outputs(lib):
    a = leaf(lib, rnd(0, 3, 4))
    y1, y2 = a.sin(), (a * a).sum(dim=0)
    u1, u2 = rnd(1, 3, 4), rnd(2, 4)
    ga, = lib.autograd.grad([y1, y2], [a], grad_outputs=[lib.tensor(u1), lib.tensor(u2)])
    assert_close(arr(ga), u1 * np.cos(rnd(0, 3, 4)) + 2 * rnd(0, 3, 4) * u2)


@pytest.mark.parametrize("lib", LIBS)
def test_autograd_grad_with_respect_to_non_leaves(lib):
    a = leaf(lib, rnd(0, 3, 4))
    h = a * 2
    k = h.sin()
    y = k * h
    u = leaf(lib, rnd(1, 3, 4), requires_grad=False)
    gh, gk, ga = lib.autograd.grad(y, [h, k, a], u)
    hv = 2 * rnd(0, 3, 4)
    assert_close(arr(gk), rnd(1, 3, 4) * hv)
    assert_close(arr(gh), rnd(1, 3, 4) * (np.sin(hv) + hv * np.cos(hv)))
    assert_close(arr(ga), 2 * arr(gh))
    assert a.grad is None and h.grad is None


@pytest.mark.parametrize("lib", LIBS)
def test_backward_inputs_accumulates_only_into_those(lib):
    a, b, c = leaf(lib, rnd(0, 3)), leaf(lib, rnd(1, 3)), leaf(lib, rnd(2, 3))
    h = a * b
    y = h + c
    u = leaf(lib, rnd(3, 3), requires_grad=False)
    y.backward(u, inputs=[a, c], retain_graph=True)
    assert b.grad is None
    assert_close(arr(a.grad), rnd(3, 3) * rnd(1, 3))
    assert_close(arr(c.grad), rnd(3, 3))
    y.backward(u, inputs=[h])                 # a non-leaf input gets its .grad too
    assert_close(arr(h.grad), rnd(3, 3))
    assert b.grad is None
    assert_close(arr(a.grad), rnd(3, 3) * rnd(1, 3))


# =========================================================================== in place
def _inplace_chain(lib):
    a, c = leaf(lib, rnd(0, 3, 4)), leaf(lib, rnd(1, 3, 4))
    h = a * 2
    h *= c
    h += 1
    h -= a
    h /= c.exp()
    h.add_(c, alpha=2)
    h.sub_(a)
    h.mul_(3)
    h.div_(2)
    y = h.sin()
    y.backward(leaf(lib, rnd(2, 3, 4), requires_grad=False))
    return [h, y, a.grad, c.grad, np.array(h._version)]


def test_inplace_ops_in_the_graph_match_torch():
    assert_same(_inplace_chain)


@pytest.mark.parametrize("lib", LIBS)
def test_inplace_on_a_tensor_that_needs_no_grad_with_a_grad_operand(lib):
    a = leaf(lib, rnd(0, 3))
    acc = leaf(lib, np.zeros(3), requires_grad=False)     # an accumulator, no grad itself
    acc += a * a
    acc += a.sin()
    assert acc.requires_grad and not acc.is_leaf
    acc.backward(leaf(lib, rnd(1, 3), requires_grad=False))
    assert_close(arr(a.grad), rnd(1, 3) * (2 * rnd(0, 3) + np.cos(rnd(0, 3))))


@pytest.mark.parametrize("lib", LIBS)
def test_inplace_under_no_grad_modifies_data_in_place(lib):
    p = leaf(lib, rnd(0, 3, 4))                # a parameter update
    alias = p.detach()
    v0 = p._version
    with lib.no_grad():
        p -= 0.5 * leaf(lib, rnd(1, 3, 4), requires_grad=False)
        p.mul_(2)
    expected = 2 * (rnd(0, 3, 4) - 0.5 * rnd(1, 3, 4))
    assert_close(arr(p), expected)
    assert_close(arr(alias), expected)         # the same memory was written
    assert p.is_leaf and p.requires_grad and p._version == v0 + 2


INPLACE = [
    ("iadd", lambda t: t.__iadd__(1.0)),
    ("isub", lambda t: t.__isub__(1.0)),
    ("imul", lambda t: t.__imul__(2.0)),
    ("itruediv", lambda t: t.__itruediv__(2.0)),
    ("add_", lambda t: t.add_(1.0)),
    ("sub_", lambda t: t.sub_(1.0)),
    ("mul_", lambda t: t.mul_(2.0)),
    ("div_", lambda t: t.div_(2.0)),
    ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(3.0)),
    ("copy_", lambda t: t.copy_(t * 0 + 5)),
]


@pytest.mark.parametrize("name, op", INPLACE, ids=[c[0] for c in INPLACE])
@pytest.mark.parametrize("lib", LIBS)
def test_every_inplace_op_bumps_the_version(lib, name, op):
    t = leaf(lib, rnd(0, 3, 4), requires_grad=False)
    before = t._version
    assert op(t) is t
    assert t._version == before + 1


@pytest.mark.parametrize("lib", LIBS)
def test_views_share_the_version_counter(lib):
    t = leaf(lib, rnd(0, 3, 4), requires_grad=False)
    views = [t[0], t.reshape(12), t.transpose(0, 1), t.detach(), t.view(4, 3)]
    t.add_(1.0)
    views[0].mul_(2.0)                     # through a view: the base sees data and version
    assert all(v._version == t._version == 2 for v in views)
    x = rnd(0, 3, 4) + 1
    x[0] *= 2
    assert_close(arr(t), x)
    assert_close(arr(views[1]), x.reshape(12))


def test_view_sees_an_inplace_op_recorded_in_the_graph():
    def run(lib):
        a = leaf(lib, rnd(0, 3, 4))
        h = a * 2
        v = h[0]
        h += 1
        return [v]
    assert_same(run)


# =========================================================================== dtypes
@pytest.mark.parametrize("lib", LIBS)
def test_float32_is_the_default(lib):
    made = [lib.tensor([1.0, 2.0]), lib.zeros(2), lib.ones(2, 3), lib.randn(2), lib.rand(2),
            lib.full((2,), 1.5), lib.arange(0.0, 3.0), lib.linspace(0, 1, 5), lib.eye(2)]
    assert all(dtype_name(t.dtype) == "float32" for t in made)
    assert dtype_name(lib.get_default_dtype()) == "float32"


@pytest.mark.parametrize("lib", LIBS)
def test_float64_is_preserved_through_ops_and_gradients(lib):
    a = leaf(lib, rnd(0, 3, 4))
    w = leaf(lib, rnd(1, 4, 2))
    y = FUNCTIONAL[lib].softmax((a @ w).tanh() * 2.0 + 1, dim=-1)
    assert dtype_name(y.dtype) == "float64"
    y.backward(lib.tensor(rnd(2, 3, 2)))
    assert dtype_name(a.grad.dtype) == dtype_name(w.grad.dtype) == "float64"


@pytest.mark.parametrize("lib", LIBS)
def test_float32_and_float64_promote_and_each_gradient_keeps_its_dtype(lib):
    a32 = lib.tensor(rnd(0, 3).astype(np.float32), requires_grad=True)
    b64 = leaf(lib, rnd(1, 3))
    for y in (a32 + b64, b64 * a32, a32 / b64, b64 - a32):
        assert dtype_name(y.dtype) == "float64"
    (a32 * b64).backward(lib.tensor(rnd(2, 3)))
    assert dtype_name(a32.grad.dtype) == "float32" and dtype_name(b64.grad.dtype) == "float64"
    assert_close(arr(a32.grad), rnd(2, 3) * rnd(1, 3), rtol=1e-6, atol=1e-6)
    assert dtype_name((a32 * 2.0).dtype) == "float32"    # a Python float does not promote


@pytest.mark.parametrize("lib", LIBS)
def test_integer_tensors_index_and_carry_no_gradient(lib):
    idx = lib.tensor([0, 2, 2, 1])
    assert dtype_name(idx.dtype) == "int64" and not idx.requires_grad
    w = leaf(lib, rnd(0, 3, 5))
    g = rnd(1, 4, 5)
    w[idx].backward(lib.tensor(g))
    expected = np.zeros((3, 5))
    np.add.at(expected, [0, 2, 2, 1], g)        # a row read twice gets both gradients
    assert_close(arr(w.grad), expected)
    e = FUNCTIONAL[lib].embedding(idx, w)
    assert dtype_name(e.dtype) == "float64" and e.shape == (4, 5)


# =========================================================================== seeds
@pytest.mark.parametrize("lib", LIBS)
def test_manual_seed_makes_randn_reproducible(lib):
    lib.manual_seed(1234)
    first = [arr(lib.randn(3, 4)), arr(lib.rand(5))]
    lib.manual_seed(1234)
    again = [arr(lib.randn(3, 4)), arr(lib.rand(5))]
    lib.manual_seed(4321)
    other = arr(lib.randn(3, 4))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other)


# =========================================================================== anomaly
NAN_BACKWARDS = [
    ("SqrtBackward", lambda x: x.sqrt() * 0.0),      # 0 / (2·√0) = 0/0
    ("LogBackward", lambda x: x.log() * 0.0),        # 0 / 0
]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # log(0)·0
@pytest.mark.parametrize("node, fn", NAN_BACKWARDS, ids=[c[0] for c in NAN_BACKWARDS])
@pytest.mark.parametrize("lib", LIBS)
def test_detect_anomaly_names_the_node_that_made_nan(lib, node, fn):
    x = leaf(lib, [0.0, 1.0])
    g = lib.tensor([1.0, 1.0], dtype=lib.float64)
    fn(x).backward(g)                                # without it: a silent NaN
    assert np.isnan(arr(x.grad)[0])
    x.grad = None
    with lib.autograd.detect_anomaly():
        y = fn(x)
        with pytest.raises(RuntimeError, match=node):
            y.backward(g)
    assert x.grad is None


@pytest.mark.parametrize("lib", LIBS)
def test_detect_anomaly_lets_an_infinite_gradient_through(lib):
    """torch flags NaN only: sqrt's gradient at 0 is +inf, a legitimate value."""
    x = leaf(lib, [0.0, 4.0])
    with lib.autograd.detect_anomaly():
        x.sqrt().backward(lib.tensor([1.0, 1.0], dtype=lib.float64))
    assert_close(arr(x.grad), np.array([np.inf, 0.25]))
