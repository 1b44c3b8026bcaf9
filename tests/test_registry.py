"""The registry itself: it covers every Function in minigrad/ops/, every entry leaves the
node it declares, and the catalogue of the course is all there."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF
import minigrad.ops
from minigrad.autograd import Function
from minigrad.ops.registry import FAMILIES, OPS, OpInfo, sample_inputs, to_args


def op_functions():
    """Every Function subclass defined in a module of minigrad/ops/, as (module, class)."""
    found = []
    for mod in pkgutil.iter_modules(minigrad.ops.__path__):
        module = importlib.import_module(f"minigrad.ops.{mod.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Function) and cls is not Function \
                    and cls.__module__ == module.__name__:
                found.append((mod.name, cls))
    return found


def test_introspection_finds_the_functions():
    names = {cls.__name__ for _, cls in op_functions()}
    assert {"Add", "MatMul", "Softmax", "ScaledDotProductAttention", "IndexAdd"} <= names
    assert len(names) >= 40


@pytest.mark.parametrize("module, cls", op_functions(),
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_every_function_has_an_entry_in_its_family(module, cls):
    """A new op without a registry entry fails here: add an OpInfo for it."""
    node = cls._backward_cls.__name__
    families = {op.family for op in OPS if op.node == node}
    assert families, f"minigrad/ops/{module}.py defines {cls.__name__} but no registry entry " \
                     f"produces {node}"
    assert module in families, f"{node} is only reached from {families}, not from {module}"


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("info", OPS, ids=lambda op: op.id)
def test_entry_produces_the_node_it_declares(info, seed):
    args = to_args(mg, sample_inputs(info, np.random.default_rng(seed)),
                   no_grad_args=info.no_grad_args)
    if info.random:
        mg.manual_seed(seed)
    out = info.fn(mg, MF, *args)
    outs = out if isinstance(out, tuple) else (out,)
    for k, o in enumerate(outs):
        assert isinstance(o, mg.Tensor) and o.requires_grad, f"output {k} has no graph"
        assert o.grad_fn.name() == info.node, f"output {k}: {o.grad_fn.name()} != {info.node}"


def test_ids_are_unique_and_fields_are_filled():
    ids = [op.id for op in OPS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for op in OPS:
        assert isinstance(op, OpInfo)
        assert op.family in FAMILIES, op.id
        assert op.node.endswith("Backward") or op.node == "CopySlices", op.id   # torch's name
        assert callable(op.fn) and op.inputs
        assert not op.random or op.fixed_fn is not None, f"{op.id}: a random op needs fixed_fn"
        for formula in (op.forward, op.vjp):
            assert formula.strip(), op.id
            assert formula.count("{") == formula.count("}"), f"{op.id}: unbalanced {formula!r}"


def test_every_family_is_represented():
    assert {op.family for op in OPS} == set(FAMILIES)


CATALOGUE = [
    "add", "sub", "mul", "div", "pow[integer exponent]", "pow[float exponent]",
    "pow[tensor exponent]", "neg", "exp", "log", "sqrt", "abs", "sin", "cos", "erf", "clamp",
    "where", "relu", "leaky_relu", "sigmoid", "tanh", "gelu[approximate='none']",
    "gelu[approximate='tanh']", "silu", "swiglu[composed]", "matmul[2-D]",
    "matmul[batched, broadcast batch]", "matmul[vector @ matrix]", "matmul[matrix @ vector]",
    "matmul[vector @ vector]", "linear[bias]", "linear[no bias]", "transpose", "permute", ".T",
    "reshape", "view", "unsqueeze", "squeeze[all]", "squeeze[dim]", "expand", "index[slices]",
    "index[integer array, repeats]", "index[boolean mask]", "cat", "stack", "split[size]",
    "chunk", "sum", "mean", "var[unbiased=False]", "var[unbiased=True]", "max[whole tensor]",
    "max[dim -> values]", "amax", "layer_norm[weight and bias]", "rms_norm[weight]", "softmax",
    "log_softmax", "cross_entropy[mean]", "cross_entropy[sum]", "cross_entropy[none]",
    "cross_entropy[label_smoothing=0.1]", "cross_entropy[ignore_index]", "nll_loss[mean]",
    "mse_loss[mean]", "mse_loss[sum]", "mse_loss[none]", "embedding[repeated indices]",
    "scaled_dot_product_attention[no mask]", "scaled_dot_product_attention[causal]",
    "scaled_dot_product_attention[boolean mask]", "scaled_dot_product_attention[float mask]",
    "scaled_dot_product_attention[custom scale]", "dropout",
]


@pytest.mark.parametrize("op_id", CATALOGUE)
def test_catalogue_entry_exists(op_id):
    assert op_id in {op.id for op in OPS}


def test_linear_is_sampled_with_3d_input():
    info = next(op for op in OPS if op.id == "linear[bias]")
    ranks = {sample_inputs(info, np.random.default_rng(s))[0].ndim for s in range(40)}
    assert ranks == {1, 2, 3}


def test_sampler_covers_zero_dim_and_broadcasting():
    info = next(op for op in OPS if op.id == "mul")
    shapes = [tuple(a.shape for a in sample_inputs(info, np.random.default_rng(s)))
              for s in range(60)]
    assert any(() in pair for pair in shapes), "no 0-d operand drawn"
    assert any(a != b for a, b in shapes), "no broadcast pair drawn"
    for a, b in shapes:
        np.broadcast_shapes(a, b)                 # every pair is a valid broadcast


@pytest.mark.parametrize("info", OPS, ids=lambda op: op.id)
def test_sampler_is_deterministic_and_float64(info):
    a = sample_inputs(info, np.random.default_rng(11))
    b = sample_inputs(info, np.random.default_rng(11))
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y)
            assert x.dtype in (np.float64, np.int64, np.bool_), f"{info.id}: dtype {x.dtype}"
        else:
            assert x == y
    floats = [i for i, x in enumerate(a) if isinstance(x, np.ndarray) and x.dtype == np.float64
              and i not in info.no_grad_args]
    assert floats, f"{info.id}: the sample has no differentiable input"


def _array_vjp_classes():
    return sorted((cls for _, cls in op_functions() if cls.array_backward is not None),
                  key=lambda c: c.__name__)


def _grads(info, seed, array_vjps):
    rng = np.random.default_rng(seed)
    args = to_args(mg, sample_inputs(info, rng), no_grad_args=info.no_grad_args)
    if info.random:
        mg.manual_seed(seed)
    out = info.fn(mg, MF, *args)
    outs = out if isinstance(out, tuple) else (out,)
    ran = set()
    mg.autograd._Mode.observers.append(lambda node, g, gi: ran.add(node._forward_cls))
    try:
        with mg.autograd.array_vjps(array_vjps):
            mg.autograd.backward(outs, [mg.tensor(rng.standard_normal(o.shape)).to(o.dtype)
                                        for o in outs])
    finally:
        mg.autograd._Mode.observers.pop()
    leaves = [a for a in args if isinstance(a, mg.Tensor) and a.requires_grad]
    return [np.asarray(a.grad) if a.grad is not None else None for a in leaves], ran


_FAST_NODES = {cls._backward_cls.__name__ for cls in _array_vjp_classes()}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("info", [op for op in OPS if op.node in _FAST_NODES],
                         ids=lambda op: op.id)
def test_array_vjps_equal_the_differentiable_vjps(info, seed):
    """A backward without create_graph runs an op's ``array_backward`` (numpy arrays in and
    out) where the op has one; the book shows ``backward``, made of minigrad ops. The two give
    the same numbers, for a random upstream gradient, on every registry entry."""
    fast, ran = _grads(info, seed, True)
    slow, _ = _grads(info, seed, False)
    assert any(cls.array_backward is not None for cls in ran)
    for f, s in zip(fast, slow):
        assert (f is None) == (s is None)
        if f is not None:
            assert f.dtype == s.dtype and f.shape == s.shape
            np.testing.assert_allclose(f, s, rtol=1e-12, atol=0, equal_nan=True)


def test_every_array_vjp_is_reached_by_a_registry_entry():
    """An ``array_backward`` that no registry entry runs would be tested by nothing."""
    reached = set()
    for info in OPS:
        reached |= _grads(info, 0, True)[1]
    missing = [cls.__name__ for cls in _array_vjp_classes() if cls not in reached]
    assert not missing, f"no registry entry runs the array_backward of {missing}"
