"""minigrad.course.graphs: printing the backward graph and walking it by hand.

What the checks rest on, independently of the module itself:
- the nodes it lists are those found by walking the engine's own ``_edges`` (minigrad) or
  torch's ``next_functions``, each exactly once, output first and every node before its inputs;
- the gradients of the hand walk equal what ``.backward()`` puts into ``.grad`` in the same
  library, what torch's ``.backward()`` gives on the same graph, and central finite differences;
- for minigrad the walk visits the op nodes in the order the engine runs them (recorded by
  ``minigrad.trace``).
Every walk uses a random upstream gradient.
"""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.autograd import AccumulateGrad, BackwardNode
from minigrad.course.graphs import (_topological, grad_fn_chain, graph_lines, node_name,
                                    print_graph, print_graph_pair, side_by_side, walk_backward)
from minigrad.trace import trace

LIBS = (mg, torch)
TOL = 1e-12


def np_of(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def engine_nodes(t):
    """minigrad: every node reachable from t.grad_fn through the engine's ``_edges``."""
    seen, stack = [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if any(node is s for s in seen):
            continue
        seen.append(node)
        if not isinstance(node, AccumulateGrad):
            assert isinstance(node, BackwardNode)
            stack.extend(e[0] for e in node._edges if e is not None)
    return seen


# --------------------------------------------------------------------------- graphs to test
def mlp_free(lib, arrays):
    """The notes' Linear → ReLU → Linear with free tensors: MatMul, Add, ReLU nodes."""
    P = {k: lib.tensor(arrays[k], dtype=lib.float64, requires_grad=True)
         for k in ("W1", "b1", "W2", "b2")}
    x = lib.tensor(arrays["x"], dtype=lib.float64)
    return (x @ P["W1"] + P["b1"]).relu() @ P["W2"] + P["b2"], P


def mlp_modules(lib, arrays):
    """The same network as nn.Linear modules (weights (out, in), i.e. the transposes)."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.ReLU(), lib.nn.Linear(5, 2)).double()
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor(arrays["W1"].T))
        model[0].bias.copy_(lib.tensor(arrays["b1"]))
        model[2].weight.copy_(lib.tensor(arrays["W2"].T))
        model[2].bias.copy_(lib.tensor(arrays["b2"]))
    P = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[2].weight, "b2": model[2].bias}
    return model(lib.tensor(arrays["x"], dtype=lib.float64)), P


def diamond(lib, arrays):
    """x used by three operations: its gradient is the sum of three contributions."""
    x = lib.tensor(arrays["x"], dtype=lib.float64, requires_grad=True)
    W = lib.tensor(arrays["W1"], dtype=lib.float64, requires_grad=True)
    return (x @ W).sin() * (x @ W) + (x ** 2).sum(1, keepdim=True) * x.exp().mean(), \
        {"x": x, "W": W}


def broadcast(lib, arrays):
    """Broadcasting on both sides of an add and a mul: (4, 1) with (5,) then (4, 5)."""
    a = lib.tensor(arrays["x"][:, :1], dtype=lib.float64, requires_grad=True)
    b = lib.tensor(arrays["b1"], dtype=lib.float64, requires_grad=True)
    return (a + b) * b - a, {"a": a, "b": b}


def split_unused(lib, arrays):
    """A multi-output op (split) whose second piece is never used: it gets zeros."""
    x = lib.tensor(arrays["W1"], dtype=lib.float64, requires_grad=True)   # (3, 5)
    first, second = x.split([2, 3], dim=1)
    return first.tanh() * 2.0, {"x": x}


def split_second_output(lib, arrays):
    """The walk starts from output 1 of a multi-output node."""
    x = lib.tensor(arrays["W1"], dtype=lib.float64, requires_grad=True)
    return x.split([2, 3], dim=1)[1], {"x": x}


def linear_no_bias(lib, arrays):
    """F.linear with bias None: a forward argument that is not a tensor."""
    W = lib.tensor(arrays["W2"].T, dtype=lib.float64, requires_grad=True)  # (2, 5)
    h = lib.tensor(arrays["h"], dtype=lib.float64, requires_grad=True)     # (4, 5)
    return lib.nn.functional.linear(h, W) ** 3, {"W": W, "h": h}


BUILDERS = [mlp_free, mlp_modules, diamond, broadcast, split_unused, split_second_output,
            linear_no_bias]


@pytest.fixture
def arrays():
    rng = np.random.default_rng(7)
    return {"x": rng.standard_normal((4, 3)), "W1": rng.standard_normal((3, 5)),
            "b1": rng.standard_normal(5), "W2": rng.standard_normal((5, 2)),
            "b2": rng.standard_normal(2), "h": rng.standard_normal((4, 5))}


# --------------------------------------------------------------------------- reading
def test_chain_of_the_notes_network_both_libraries(arrays):
    y, P = mlp_free(mg, arrays)
    yt, Pt = mlp_free(torch, arrays)
    chain, chain_t = grad_fn_chain(y, P), grad_fn_chain(yt, Pt)
    assert chain == ["AddBackward", "AccumulateGrad (b2)", "MatMulBackward",
                     "AccumulateGrad (W2)", "ReluBackward", "AddBackward",
                     "AccumulateGrad (b1)", "MatMulBackward", "AccumulateGrad (W1)"]
    # torch's names for the same nodes (2-D matmul is "Mm", and it numbers node classes)
    rename = {"MatMulBackward": "MmBackward0", "AddBackward": "AddBackward0",
              "ReluBackward": "ReluBackward0"}
    assert chain_t == [rename.get(n, n) for n in chain]


@pytest.mark.parametrize("build", BUILDERS)
def test_chain_lists_every_node_once_before_its_inputs(build, arrays):
    y, _ = build(mg, arrays)
    nodes = engine_nodes(y)
    chain = grad_fn_chain(y)
    assert sorted(chain) == sorted(node_name(n) for n in nodes)
    # the same order, rebuilt as node objects, must put each node before its inputs
    yt, _ = build(torch, arrays)
    for t in (y, yt):
        order, seen, stack = [], set(), [t.grad_fn]
        while stack:                                   # collect nodes independently
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(p for p, _ in n.next_functions if p is not None)
        assert len(grad_fn_chain(t)) == len(seen)
    for t in (y, yt):
        topo = _topological(t.grad_fn)
        pos = {n: i for i, n in enumerate(topo)}
        assert topo[0] is t.grad_fn and len(pos) == len(topo)
        for n in topo:
            for p, _ in n.next_functions:
                if p is not None:
                    assert pos[p] > pos[n], (node_name(n), node_name(p))


def test_graph_lines_shows_the_tree_and_marks_shared_nodes(arrays):
    for lib in LIBS:
        y, P = diamond(lib, arrays)
        lines = graph_lines(y, P)
        assert lines[0] == node_name(y.grad_fn) and not lines[0].startswith(" ")
        # x feeds two matmuls, a pow and an exp; W feeds the two matmuls
        assert sum(s.strip().startswith("AccumulateGrad (x)") for s in lines) == 4
        assert sum("AccumulateGrad (x) (↑ seen)" in s for s in lines) == 3
        assert sum("AccumulateGrad (W) (↑ seen)" in s for s in lines) == 1
        # a child is indented one level (two spaces) deeper than the node above it
        depths = [(len(s) - len(s.lstrip())) // 2 for s in lines]
        assert all(b <= a + 1 for a, b in zip(depths, depths[1:]))


def test_tree_of_the_notes_network_side_by_side(arrays, capsys):
    y, P = mlp_free(mg, arrays)
    yt, Pt = mlp_free(torch, arrays)
    print_graph_pair(y, yt, P, Pt)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["minigrad", "torch"]
    body = out[2:]
    assert len(body) == 9
    left_width = out[0].index("torch")
    assert [s[:left_width].rstrip() for s in body] == graph_lines(y, P)
    assert [s[left_width:] for s in body] == graph_lines(yt, Pt)
    print_graph(y, P)
    assert capsys.readouterr().out.splitlines() == graph_lines(y, P)


def test_side_by_side_pads_the_shorter_column():
    text = side_by_side(["a", "bbb"], ["x"], titles=("L", "R"), gap=2)
    assert text.splitlines() == ["L    R", "-    -", "a    x", "bbb"]
    assert side_by_side([], ["only"]) == "    only"


def test_reading_a_leaf_is_a_clear_error():
    for lib in LIBS:
        w = lib.ones(2, requires_grad=True)
        for fn in (grad_fn_chain, graph_lines, walk_backward):
            with pytest.raises(ValueError, match=r"shape \(2,\) has no grad_fn"):
                fn(w)


# --------------------------------------------------------------------------- walking
def upstream(t, seed=3):
    return np.random.default_rng(seed).standard_normal(tuple(t.shape))


@pytest.mark.parametrize("build", BUILDERS)
def test_walk_equals_backward_in_both_libraries(build, arrays):
    results = {}
    for lib in LIBS:
        y, P = build(lib, arrays)
        g = upstream(y)
        walk = walk_backward(y, g, P, verbose=False)
        for t in P.values():                           # the walk writes no .grad
            assert t.grad is None
        y.backward(lib.tensor(g))                      # and frees nothing
        for name, t in P.items():
            assert tuple(walk.grads[name].shape) == tuple(t.shape)
            assert np.abs(np_of(walk.grads[name]) - np_of(t.grad)).max() <= TOL, name
            assert walk.grad_of(t) is walk.grads[name]
        results[lib] = {k: np_of(v) for k, v in walk.grads.items()}
    for name in results[mg]:
        assert np.abs(results[mg][name] - results[torch][name]).max() <= TOL, name


def test_walk_against_finite_differences(arrays):
    """The second oracle: central differences of <ȳ, y(W1)> for the notes' network."""
    y, P = mlp_free(mg, arrays)
    g = upstream(y)
    walk = walk_backward(y, g, P, verbose=False)
    W1 = arrays["W1"].copy()
    fd, eps = np.zeros_like(W1), 1e-6
    for idx in np.ndindex(W1.shape):
        vals = []
        for s in (+1, -1):
            a = dict(arrays, W1=W1.copy())
            a["W1"][idx] += s * eps
            vals.append(float((np_of(mlp_free(mg, a)[0]) * g).sum()))
        fd[idx] = (vals[0] - vals[1]) / (2 * eps)
    assert np.abs(np_of(walk.grads["W1"]) - fd).max() < 1e-6


@pytest.mark.parametrize("build", BUILDERS)
def test_walk_runs_the_engine_order(build, arrays):
    y, P = build(mg, arrays)
    g = upstream(y)
    walk = walk_backward(y, g, P, verbose=False)
    with trace(P) as t:
        y.backward(mg.tensor(g))
    ops = [s for s in walk.steps if s.leaf is None]           # op nodes, not AccumulateGrad
    ran = [s for s in ops if any(gi is not None for gi in s.grads_in)]
    assert [s.node for s in ran] == [s.node for s in t.steps]
    # every node is visited once
    assert len({id(s.node) for s in walk.steps}) == len(walk.steps)


def test_walk_sums_what_a_shared_node_receives(arrays):
    x = mg.tensor(arrays["x"], requires_grad=True)
    h = x * 2.0                                     # one node, used by two operations
    y = h.sin() + h ** 2
    g = upstream(y)
    walk = walk_backward(y, g, {"x": x}, verbose=False)
    step = next(s for s in walk.steps if s.name == "MulBackward")
    hv = 2.0 * arrays["x"]
    expected = g * np.cos(hv) + g * 2 * hv          # the two contributions, summed
    assert np.abs(np_of(step.grads_in[0]) - expected).max() <= TOL
    assert np.abs(np_of(walk.grads["x"]) - 2 * expected).max() <= TOL


def test_walk_prints_each_step(arrays, capsys):
    for lib in LIBS:
        y, P = mlp_free(lib, arrays)
        walk = walk_backward(y, upstream(y), P)
        out = capsys.readouterr().out.splitlines()
        assert out == walk.lines() == str(walk).splitlines()
        assert len(out) == 9
        assert out[1].split() == ["1.", "AccumulateGrad", "b2.grad", "+=", "(2,)"]
        if lib is torch:      # torch's AddBackward0 leaves the bias sum to its engine
            assert "(4, 2) summed to (2,) to b2" in out[0]
        else:                 # minigrad's Add sums inside its VJP
            assert out[0].endswith("sends (4, 2) to MatMulBackward, (2,) to b2")


def test_walk_names_unnamed_leaves_in_order(arrays):
    a = mg.tensor(arrays["b1"], requires_grad=True)
    b = mg.tensor(arrays["b1"][::-1].copy(), requires_grad=True)
    y = (a * b).sum()
    walk = walk_backward(y, verbose=False)          # a one-element output: gradient 1
    assert sorted(walk.grads) == ["leaf0", "leaf1"]
    assert np.abs(np_of(walk.grad_of(a)) - arrays["b1"][::-1]).max() == 0
    assert np.abs(np_of(walk.grad_of(b)) - arrays["b1"]).max() == 0


def test_walk_rejects_bad_upstream_gradients(arrays):
    for lib in LIBS:
        y, P = mlp_free(lib, arrays)
        with pytest.raises(RuntimeError, match=r"shape \(4, 2\).*gradient="):
            walk_backward(y, verbose=False)
        with pytest.raises(RuntimeError, match=r"gradient has shape \(2, 4\).*\(4, 2\)"):
            walk_backward(y, np.zeros((2, 4)), verbose=False)
