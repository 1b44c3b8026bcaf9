"""minigrad.viz: the graph data, the matplotlib drawing and the DOT text.

What is checked against something independent of viz itself:
- the op nodes of ``graph()`` and of the figure are exactly the BackwardNodes reachable from
  ``grad_fn``, counted here by walking the engine's own ``_edges``;
- the same expression built with minigrad and with torch gives the same graph shape;
- the DOT text parses (a small structural parser below) and names what the graph holds;
- the drawing keeps every arrow pointing down and no two boxes of a row overlapping.
"""
import io
import os
import re
import subprocess
import sys
from collections import Counter

import matplotlib
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import viz
from minigrad.autograd import AccumulateGrad, BackwardNode

matplotlib.use("Agg")


# --------------------------------------------------------------------------- helpers
def engine_walk(tensor):
    """(BackwardNodes, leaf tensors) reachable from tensor.grad_fn, found through the engine's
    ``_edges`` (not through next_functions, which viz uses)."""
    ops, leaves, seen = [], {}, set()
    stack = [tensor.grad_fn] if tensor.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaves[id(node.variable)] = node.variable
            continue
        assert isinstance(node, BackwardNode)
        ops.append(node)
        stack.extend(e[0] for e in node._edges if e is not None)
    return ops, list(leaves.values())


def torch_walk(tensor):
    """The same count for a torch graph, through next_functions."""
    ops, leaves, seen = [], {}, set()
    stack = [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):
            leaves[id(node.variable)] = node.variable
            continue
        ops.append(node)
        stack.extend(n for n, _ in node.next_functions)
    return ops, list(leaves.values())


def artists(fig, prefix):
    """Patches of the figure whose gid starts with ``prefix`` ("op:", "tensor:", "edge:")."""
    return [a for ax in fig.axes for a in ax.get_children()
            if (a.get_gid() or "").startswith(prefix)]


def gpt_light(lib, n_layer=2, vocab=11, d=8, n_head=2, T=5, B=2, seed=0):
    """A 2-layer GPT loss written once for minigrad or torch: token + position embedding,
    pre-LN blocks (layer_norm, fused qkv linear, causal SDPA, output projection, GELU MLP,
    residuals), final layer_norm, tied output head, cross_entropy. Returns (loss, params)."""
    F = lib.nn.functional
    rng = np.random.default_rng(seed)
    P = {}

    def p(name, value):
        P[name] = lib.tensor(value, dtype=lib.float64, requires_grad=True)

    p("tok_emb.weight", rng.normal(0, 0.3, (vocab, d)))
    p("pos_emb.weight", rng.normal(0, 0.3, (T, d)))
    for l in range(n_layer):
        for ln in ("ln1", "ln2"):
            p(f"h{l}.{ln}.weight", 1 + rng.normal(0, 0.1, d))
            p(f"h{l}.{ln}.bias", rng.normal(0, 0.1, d))
        for name, (o, i) in {"attn.qkv": (3 * d, d), "attn.proj": (d, d),
                             "mlp.fc": (4 * d, d), "mlp.proj": (d, 4 * d)}.items():
            p(f"h{l}.{name}.weight", rng.normal(0, 0.3, (o, i)))
            p(f"h{l}.{name}.bias", rng.normal(0, 0.1, o))
    p("ln_f.weight", 1 + rng.normal(0, 0.1, d))
    p("ln_f.bias", rng.normal(0, 0.1, d))
    idx = lib.tensor(rng.integers(0, vocab, (B, T)))
    tgt = lib.tensor(rng.integers(0, vocab, (B * T,)))
    x = F.embedding(idx, P["tok_emb.weight"]) + F.embedding(lib.arange(T), P["pos_emb.weight"])
    hd = d // n_head
    for l in range(n_layer):
        h = F.layer_norm(x, (d,), P[f"h{l}.ln1.weight"], P[f"h{l}.ln1.bias"])
        qkv = F.linear(h, P[f"h{l}.attn.qkv.weight"], P[f"h{l}.attn.qkv.bias"])
        q, k, v = [t.reshape(B, T, n_head, hd).transpose(1, 2) for t in qkv.split(d, dim=-1)]
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        a = a.transpose(1, 2).reshape(B, T, d)
        x = x + F.linear(a, P[f"h{l}.attn.proj.weight"], P[f"h{l}.attn.proj.bias"])
        h = F.layer_norm(x, (d,), P[f"h{l}.ln2.weight"], P[f"h{l}.ln2.bias"])
        h = F.gelu(F.linear(h, P[f"h{l}.mlp.fc.weight"], P[f"h{l}.mlp.fc.bias"]))
        x = x + F.linear(h, P[f"h{l}.mlp.proj.weight"], P[f"h{l}.mlp.proj.bias"])
    x = F.layer_norm(x, (d,), P["ln_f.weight"], P["ln_f.bias"])
    logits = x @ P["tok_emb.weight"].T
    return F.cross_entropy(logits.reshape(B * T, vocab), tgt), P


def small(lib, seed=0):
    """y = relu(x @ W + b).sum() with x, W, b all requiring grad."""
    rng = np.random.default_rng(seed)
    x, W, b = (lib.tensor(rng.normal(size=s), requires_grad=True) for s in [(5, 4), (4, 3), (3,)])
    return lib.relu(x @ W + b).sum(), {"x": x, "W": W, "b": b}


def ops_of(g):
    return [n for n in g["nodes"] if n["kind"] == "op"]


def tensors_of(g):
    return [n for n in g["nodes"] if n["kind"] != "op"]


# --------------------------------------------------------------------------- graph()
@pytest.mark.parametrize("build", [lambda: small(mg), lambda: gpt_light(mg)], ids=["small", "gpt"])
def test_op_nodes_are_the_backward_nodes(build):
    loss, params = build()
    engine_ops, engine_leaves = engine_walk(loss)
    g = viz.graph(loss, params)
    ops = ops_of(g)
    assert len(ops) == len(engine_ops)
    assert {id(g["objects"][n["id"]]) for n in ops} == {id(n) for n in engine_ops}
    assert Counter(n["name"] for n in ops) == Counter(n.name() for n in engine_ops)
    leaves = [n for n in g["nodes"] if n["kind"] in ("param", "leaf")]
    assert {id(g["objects"][n["id"]]) for n in leaves} == {id(t) for t in engine_leaves}
    assert all(n["kind"] == "param" for n in leaves)          # every leaf is a named parameter
    assert sorted(n["name"] for n in leaves) == sorted(params)
    by_name = {n["name"]: n for n in leaves}
    for name, p in params.items():
        assert by_name[name]["shape"] == tuple(p.shape)
    # one edge per (op input that needs grad) plus the edge into the output box
    n_edges = sum(e is not None for node in engine_ops for e in node._edges) + 1
    assert len(g["edges"]) == n_edges
    # forward direction and depth: every edge goes down one row or more
    depth = {n["id"]: n["depth"] for n in g["nodes"]}
    assert all(depth[s] < depth[d] for s, d in g["edges"])
    # ... and every node sits in the row just above its first user (short edges)
    for n in g["nodes"]:
        users = [depth[d] for s, d in g["edges"] if s == n["id"]]
        if n["kind"] != "output":
            assert n["depth"] == min(users) - 1, n
    out = g["nodes"][g["output"]]
    assert out["kind"] == "output" and out["depth"] == max(depth.values())
    assert out["shape"] == tuple(loss.shape)


def test_graph_is_deterministic_and_plain():
    g1, g2 = viz.graph(*small(mg)), viz.graph(*small(mg))
    assert g1["nodes"] == g2["nodes"] and g1["edges"] == g2["edges"]
    for n in g1["nodes"]:
        assert set(n) == {"id", "kind", "name", "label", "shape", "depth"}
        assert "0x" not in repr(n)


def test_labels():
    assert viz.op_label("MatMulBackward") == "MatMul"
    assert viz.op_label("AddmmBackward0") == "Addmm"
    assert viz.op_label("torch::autograd::AccumulateGrad") == "AccumulateGrad"


@pytest.mark.parametrize("expr", [
    lambda lib, x, W, b: lib.relu(x @ W + b).sum(),
    lambda lib, x, W, b: ((x @ W + b).tanh() * (x @ W) - b).exp().mean(),
    lambda lib, x, W, b: (lib.sigmoid(x @ W) * b).sum() + (b * b).sum(),
])
def test_minigrad_and_torch_give_the_same_graph(expr):
    rng = np.random.default_rng(1)
    data = [rng.normal(size=s) for s in [(5, 4), (4, 3), (3,)]]
    mg_in = [mg.tensor(a, requires_grad=True) for a in data]
    th_in = [torch.tensor(a, requires_grad=True) for a in data]
    names = ["x", "W", "b"]
    g_mg = viz.graph(expr(mg, *mg_in), dict(zip(names, mg_in)))
    g_th = viz.graph(expr(torch, *th_in), dict(zip(names, th_in)))
    # torch's own count agrees with what graph() found in torch's graph
    assert len(ops_of(g_th)) == len(torch_walk(expr(torch, *th_in))[0])
    assert len(ops_of(g_mg)) == len(ops_of(g_th))
    assert len(g_mg["edges"]) == len(g_th["edges"])
    assert Counter(n["name"] for n in tensors_of(g_mg)) == \
        Counter(n["name"] for n in tensors_of(g_th))
    assert {n["name"]: n["shape"] for n in tensors_of(g_mg)} == \
        {n["name"]: n["shape"] for n in tensors_of(g_th)}
    # op names where the libraries use the same word (torch calls 2-D matmul "Mm")
    lab_mg = Counter(n["label"] for n in ops_of(g_mg))
    lab_th = Counter(n["label"] for n in ops_of(g_th))
    common = set(lab_mg) & set(lab_th)
    assert common >= {"Sum"} or common >= {"Mean"}
    assert all(lab_mg[k] == lab_th[k] for k in common)
    assert lab_mg["MatMul"] == lab_th["Mm"]
    # the same rows: depth of every parameter and of the output
    d_mg = {n["name"]: n["depth"] for n in tensors_of(g_mg)}
    d_th = {n["name"]: n["depth"] for n in tensors_of(g_th)}
    assert d_mg == d_th


def test_torch_gpt_light_graph():
    loss, P = gpt_light(torch)
    g = viz.graph(loss, P)
    ops, leaves = torch_walk(loss)
    assert len(ops_of(g)) == len(ops)
    assert sorted(n["name"] for n in g["nodes"] if n["kind"] == "param") == sorted(P)


def test_graph_of_a_leaf_and_of_a_constant():
    w = mg.randn(3, requires_grad=True)
    g = viz.graph(w, {"w": w})
    assert [n["kind"] for n in g["nodes"]] == ["output"] and g["edges"] == []
    g = viz.graph(mg.randn(2, 2))
    assert len(g["nodes"]) == 1 and g["edges"] == []
    fig = viz.draw(w)
    assert len(artists(fig, "op:")) == 0 and len(artists(fig, "tensor:")) == 1


def test_intermediates_put_a_box_between_ops():
    loss, params = small(mg)
    g = viz.graph(loss, params, intermediates=True)
    n_ops = len(ops_of(g))
    inter = [n for n in g["nodes"] if n["kind"] == "tensor"]
    assert len(inter) == n_ops - 1                 # a chain: every op but the last feeds one
    shapes = {n["label"]: n["shape"] for n in ops_of(g)}
    assert sorted(n["shape"] for n in inter) == sorted(
        [shapes["MatMul"], shapes["Add"], shapes["Relu"]])
    assert shapes["MatMul"] == (5, 3)


def test_a_tensor_used_twice_gives_two_edges():
    x = mg.randn(3, requires_grad=True)
    g = viz.graph((x * x).sum(), {"x": x})
    mul = next(n for n in g["nodes"] if n["label"] == "Mul")
    leaf = next(n for n in g["nodes"] if n["name"] == "x")
    assert g["edges"].count((leaf["id"], mul["id"])) == 2


def test_backward_path():
    W, b = mg.randn(4, 3, requires_grad=True), mg.randn(3, requires_grad=True)
    x = mg.randn(5, 4)
    loss = (x @ W).sum() + (b * b).sum()
    path = viz.backward_path(loss, W)
    names = sorted(o.name() for o in path if hasattr(o, "next_functions"))
    assert names == ["AddBackward", "MatMulBackward", "SumBackward"]
    assert path[0] is loss and path[-1] is W
    assert not any(o is b for o in path)
    assert viz.backward_path(loss, mg.randn(2, requires_grad=True)) == []
    # ordered from the output back to the target; a non-leaf target stands for its grad_fn
    h = mg.randn(3, 4) @ W
    out = h.relu().sum()
    assert [o.name() for o in viz.backward_path(out, h)[1:]] == \
        ["SumBackward", "ReluBackward", "MatMulBackward"]


# --------------------------------------------------------------------------- DOT
_NODE = re.compile(r'^\t(n\d+) \[label="((?:[^"\\]|\\.)*)" fillcolor=([\w]+)\]$')
_EDGE = re.compile(r"^\t(n\d+) -> (n\d+)$")


def parse_dot(text):
    """A strict little parser for the DOT that to_dot writes: returns ({name: label}, edges)."""
    assert text.count("{") == text.count("}")
    lines = text.strip("\n").split("\n")
    assert lines[0] == "digraph {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if line.startswith("\tgraph [") or line.startswith("\tnode ["):
            assert line.endswith("]")
            continue
        m = _NODE.match(line)
        if m:
            assert m.group(1) not in nodes, f"{m.group(1)} declared twice"
            nodes[m.group(1)] = m.group(2)
            continue
        m = _EDGE.match(line)
        assert m, f"not a DOT statement: {line!r}"
        edges.append((m.group(1), m.group(2)))
    for s, d in edges:
        assert s in nodes and d in nodes, f"edge {s} -> {d} to an undeclared node"
    return nodes, edges


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_dot_parses_and_matches_the_graph(lib):
    loss, P = gpt_light(lib)
    nodes, edges = parse_dot(viz.to_dot(loss, P))
    g = viz.graph(loss, P)
    assert len(nodes) == len(g["nodes"]) and len(edges) == len(g["edges"])
    labels = list(nodes.values())
    for n in ops_of(g):
        assert n["name"] in labels
    for name, p in P.items():
        assert f"{name}\\n {tuple(p.shape)}" in labels


def test_dot_escapes_quotes():
    w = mg.randn(2, requires_grad=True)
    nodes, _ = parse_dot(viz.to_dot((w * 2).sum(), {'w"1\\': w}))
    assert any(lab.startswith('w\\"1\\\\') for lab in nodes.values())


# --------------------------------------------------------------------------- drawing
def boxes(fig):
    """(row y, left, right) of every node patch, in data coordinates."""
    out = []
    for a in artists(fig, "op:") + artists(fig, "tensor:"):
        if isinstance(a, matplotlib.patches.Ellipse):
            (x, y), w = a.center, a.width
        else:
            x, y, w = a.get_x() + a.get_width() / 2, a.get_y() + a.get_height() / 2, a.get_width()
        out.append((a.axes, round(y, 6), x - w / 2, x + w / 2))
    return out


def assert_rows_do_not_overlap(fig):
    rows = {}
    for ax, y, left, right in boxes(fig):
        rows.setdefault((id(ax), y), []).append((left, right))
    for spans in rows.values():
        spans.sort()
        for (l0, r0), (l1, r1) in zip(spans, spans[1:]):
            assert r0 <= l1 + 1e-9, f"boxes overlap in a row: {(l0, r0)} and {(l1, r1)}"


def test_draw_gpt_light_counts_and_renders():
    loss, P = gpt_light(mg)
    W = P["h0.attn.qkv.weight"]
    fig = viz.draw(loss, P, highlight=viz.backward_path(loss, W), title="GPT-light")
    engine_ops, engine_leaves = engine_walk(loss)
    g = viz.graph(loss, P)
    assert len(artists(fig, "op:")) == len(engine_ops) == len(ops_of(g))
    assert len(artists(fig, "tensor:")) == len(engine_leaves) + 1
    assert len(artists(fig, "edge:")) == len(g["edges"])
    assert_rows_do_not_overlap(fig)
    # arrows run downward: source above destination
    y = {}
    for a in artists(fig, "op:") + artists(fig, "tensor:"):
        i = int(a.get_gid().split(":")[1])
        y[i] = a.center[1] if hasattr(a, "center") else a.get_y() + a.get_height() / 2
    assert all(y[s] > y[d] for s, d in g["edges"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_intermediates_and_values():
    loss, params = small(mg)
    loss.backward(mg.tensor(np.random.default_rng(2).normal()))
    fig = viz.draw(loss, params, show_data=True, show_grad=True, intermediates=True)
    g = viz.graph(loss, params, intermediates=True)
    assert len(artists(fig, "tensor:")) == len(tensors_of(g))
    assert_rows_do_not_overlap(fig)
    texts = [t.get_text() for t in fig.axes[0].texts]
    wtext = next(t for t in texts if t.startswith("W\n"))
    assert "(4, 3)" in wtext
    assert f"{params['W'].detach().numpy().ravel()[0]:.3g}" in wtext
    assert f"grad [{params['W'].grad.detach().numpy().ravel()[0]:.3g}" in wtext


def test_highlight_colours_exactly_the_path():
    W, b = mg.randn(4, 3, requires_grad=True), mg.randn(3, requires_grad=True)
    loss = (mg.randn(5, 4) @ W).sum() + (b * b).sum()
    path = viz.backward_path(loss, W)
    fig = viz.draw(loss, {"W": W, "b": b}, highlight=path)
    g = viz.graph(loss, {"W": W, "b": b})
    want = {i for i, o in g["objects"].items() if any(o is p for p in path)}
    lit = {int(a.get_gid().split(":")[1]) for a in artists(fig, "op:") + artists(fig, "tensor:")
           if matplotlib.colors.to_hex(a.get_edgecolor()) == viz._HIGHLIGHT}
    assert lit == want and len(want) == 5        # loss, Add, Sum, MatMul, W
    # by name: every MatMul and the parameter b
    fig = viz.draw(loss, {"W": W, "b": b}, highlight=["MatMul", "b"])
    lit = {int(a.get_gid().split(":")[1]) for a in artists(fig, "op:") + artists(fig, "tensor:")
           if matplotlib.colors.to_hex(a.get_edgecolor()) == viz._HIGHLIGHT}
    assert {g["nodes"][i]["name"] for i in lit} == {"MatMulBackward", "b"}


def test_draw_torch_and_pair():
    loss_mg, P_mg = gpt_light(mg)
    loss_th, P_th = gpt_light(torch)
    fig = viz.draw(loss_th, P_th)
    assert len(artists(fig, "op:")) == len(torch_walk(loss_th)[0])
    fig = viz.draw_pair(loss_mg, loss_th, P_mg, P_th)
    ax_mg, ax_th = fig.axes
    assert len([a for a in artists(fig, "op:") if a.axes is ax_mg]) == len(engine_walk(loss_mg)[0])
    assert len([a for a in artists(fig, "op:") if a.axes is ax_th]) == len(torch_walk(loss_th)[0])
    assert [ax.get_title() for ax in fig.axes] == ["minigrad", "torch"]
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_draw_into_a_given_axes():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4))
    ax1, ax2 = fig.subplots(1, 2)
    loss, params = small(mg)
    assert viz.draw(loss, params, ax=ax2, title="here") is fig
    assert len([a for a in artists(fig, "op:") if a.axes is ax2]) == 4
    assert not artists(fig, "op:") or all(a.axes is ax2 for a in artists(fig, "op:"))
    fig.savefig(io.BytesIO(), format="png")


def test_import_minigrad_does_not_import_matplotlib():
    code = "import sys, minigrad, minigrad.viz, minigrad.trace; print('matplotlib' in sys.modules)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(mg.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env)
    assert out.stdout.strip() == "False"
