"""The course's widgets (minigrad.course.widgets), without a kernel or a browser.

Each widget is driven the way a reader drives it (setting its controls' values), and what it
then shows — its state, the highlighted nodes or blocks, the numbers of its text panel, the
SVG of its view — is checked against something computed independently: minigrad's own
backward and torch's for the gradients, ``tiled_matmul``'s counters for the tiles, torch's
training loop for the optimizers. The last test executes a scratch notebook in a real kernel
(nbclient) and checks that every widget's output carries a static SVG and a stable text.
"""
import re

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
from minigrad.course import get_language, set_language
from minigrad.course.attention import merge_heads, split_heads
from minigrad.course.tiling import Traffic, block, matmul_traffic, tiled_matmul
from minigrad.course.widgets import (AttentionExplorer, BackwardStepper, OptimizerPlayground,
                                     TiledMatmulExplorer)
from minigrad.course.widgets import attention as attn_widget
from minigrad.course.widgets import optimizers as opt_widget
from minigrad.course.widgets import tiles as tiles_widget
from minigrad.trace import _fmt

MODEL_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def english():
    """The panels' texts are checked in English (another test may have switched language)."""
    previous = get_language()
    set_language("en")
    yield
    set_language(previous)


# --------------------------------------------------------------------------- helpers
def build(lib, arrays):
    """loss = sum(u ⊙ tanh(W·x + b)) + sum(x ⊙ x)·c: x is used twice (its gradients add up),
    u is a random upstream gradient for tanh's output."""
    x, W, b, u, c = (lib.tensor(arrays[k], dtype=lib.float64, requires_grad=k in "xWb")
                     for k in ("x", "W", "b", "u", "c"))
    h = lib.tanh(W @ x + b)
    loss = (h * u).sum() + (x * x).sum() * c
    return loss, {"x": x, "W": W, "b": b}


def random_arrays(seed):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(3), "W": rng.standard_normal((2, 3)),
            "b": rng.standard_normal(2), "u": rng.standard_normal(2),
            "c": rng.standard_normal(())}


def panel_text(w):
    """The text panel as plain text (the HTML of a <pre>, unescaped)."""
    import html
    return html.unescape(re.sub(r"<[^>]+>", "", w.panel.value))


# --------------------------------------------------------------------------- stepper
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stepper_leaf_sums_equal_backward_and_torch(seed):
    arrays = random_arrays(seed)
    loss, leaves = build(mg, arrays)
    stepper = BackwardStepper(loss, names={t: k for k, t in leaves.items()})
    assert all(t.grad is None for t in leaves.values()), "the stepper touched .grad"
    final = stepper.leaf_grads(len(stepper.steps))
    loss.backward()                       # the graph is still there: the stepper retained it
    loss_t, leaves_t = build(torch, arrays)
    loss_t.backward()
    for name, t in leaves.items():
        np.testing.assert_allclose(final[name], t.grad.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(final[name], leaves_t[name].grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_stepper_each_node_receives_what_was_sent_to_it(lib):
    """Step by step, in the recorded order: what a node receives is 1 for the root, else
    the sum of what earlier steps sent it — so the order is the engine's topological one."""
    loss, leaves = build(lib, random_arrays(3))
    stepper = BackwardStepper(loss, names={t: k for k, t in leaves.items()})
    assert stepper.steps[0].node is loss.grad_fn
    np.testing.assert_array_equal(stepper.steps[0].received[0], 1.0)
    arrived = {}
    for k, step in enumerate(stepper.steps):
        if k:
            np.testing.assert_allclose(step.received[0], arrived.pop(id(step.node)), atol=1e-14)
        for dest, value in step.sent:
            arrived[id(dest)] = arrived.get(id(dest), 0) + value
    leaf_ids = {id(t) for t in leaves.values()}
    assert set(arrived) == leaf_ids, "something sent to an op node that never ran"


def test_stepper_torch_matches_torch_backward():
    arrays = random_arrays(4)
    loss_t, leaves_t = build(torch, arrays)
    stepper = BackwardStepper(loss_t, names={t: k for k, t in leaves_t.items()})
    final = stepper.leaf_grads(len(stepper.steps))
    assert all(t.grad is None for t in leaves_t.values())
    loss_t.backward()
    for name, t in leaves_t.items():
        np.testing.assert_allclose(final[name], t.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
def test_stepper_from_a_given_gradient(lib):
    """A non-scalar output with a random upstream gradient Ȳ, as y.backward(Ȳ) takes it."""
    rng = np.random.default_rng(6)
    arrays = {"W1": rng.standard_normal((3, 5)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((5, 2)), "b2": rng.standard_normal(2)}
    X, Ybar = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))

    def forward(lib):
        P = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        return (lib.tensor(X) @ P["W1"] + P["b1"]).relu() @ P["W2"] + P["b2"], P

    y, P = forward(lib)
    w = BackwardStepper(y, names={**P, "y": y}, gradient=Ybar)
    np.testing.assert_array_equal(w.steps[0].received[0], Ybar)
    assert "the given gradient" in panel_text(w) and _fmt(Ybar, 4) in panel_text(w)
    final = w.leaf_grads(len(w.steps))
    for other in (mg, torch):
        y2, P2 = forward(other)
        y2.backward(other.tensor(Ybar))
        for name, t in P2.items():
            np.testing.assert_allclose(final[name], t.grad.numpy(), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"gradient has shape \(2, 4\)"):
        BackwardStepper(y, gradient=Ybar.T)


def test_stepper_controls_show_the_step():
    x = mg.tensor(2.0, requires_grad=True)
    y = mg.tensor(3.0, requires_grad=True)
    z = x * y + mg.sin(x)
    w = BackwardStepper(z, names={x: "x", y: "y", z: "z"})
    assert [s.node.name() for s in w.steps] == ["AddBackward", "SinBackward", "MulBackward"]
    assert w.slider.max == w.play.max == 3
    text0, svg0 = panel_text(w), w.view.value
    assert "z receives 1" in text0 and w.highlighted(0) == [z]
    assert w.render().startswith("<?xml") and "<svg" in svg0

    w.slider.value = 3                                   # MulBackward: sends y to x, x to y
    text3 = panel_text(w)
    assert w.view.value != svg0
    lit = w.highlighted(3)
    assert lit[0] is z.grad_fn.next_functions[0][0] and lit[1] is x and lit[2] is y
    assert "→ x: 3" in text3 and "→ y: 2" in text3
    x_sum = _fmt(3.0 + np.cos(2.0), 4)                   # y + cos x, from both steps
    assert f"x: {x_sum}" in text3

    w.play.value = 2                                     # the Play control moves the slider
    assert w.slider.value == 2 and "Sin runs" in panel_text(w)
    assert f"→ x: {_fmt(np.cos(2.0), 4)}" in panel_text(w)


def test_stepper_panel_shows_the_recorded_values():
    loss, leaves = build(mg, random_arrays(5))
    w = BackwardStepper(loss, names={t: k for k, t in leaves.items()})
    seen = set()
    for k, step in enumerate(w.steps, start=1):
        w.slider.value = k
        text = panel_text(w)
        assert f"receives: {_fmt(step.received[0], 4)}" in text
        for dest, value in step.sent:
            assert f"→ {w.label(dest)}: {_fmt(value, 4)}" in text
        seen.add(w.view.value)
    assert len(seen) == len(w.steps), "two steps drew the same picture"


def test_stepper_keeps_retained_grads():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    loss = h.tanh().sum()
    BackwardStepper(loss)
    assert h.grad is None and x.grad is None


def test_stepper_bad_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        BackwardStepper(x * 2)
    with pytest.raises(ValueError, match="no grad_fn"):
        BackwardStepper(x)
    with pytest.raises(TypeError, match="minigrad or torch tensor"):
        BackwardStepper(3.0)
    with pytest.raises(TypeError, match="names must map tensors"):
        BackwardStepper((x * x).sum(), names={x: 1})
    loss = (x.sin() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="before calling loss.backward"):
        BackwardStepper(loss)
    w = BackwardStepper((x * x).sum())
    with pytest.raises(ValueError, match="step 9 does not exist"):
        w._figure({"step": 9})


# --------------------------------------------------------------------------- tiles
@pytest.mark.parametrize("sizes", [(4, 4, 4, 2), (5, 3, 7, 2), (6, 5, 4, 4), (3, 3, 3, 1),
                                   (2, 7, 3, 8)])
def test_tiles_counts_and_c_agree_with_tiling(sizes):
    m, k, n, tile = sizes
    w = TiledMatmulExplorer(m, k, n, tile)
    a, b = tiles_widget.notes_matrices(m, k, n)
    traffic, trace = Traffic(), []
    c = tiled_matmul(a, b, tile, traffic=traffic, trace=trace)
    assert w.step.max == len(trace) == traffic.tile_products
    w.step.value = w.step.max
    loads, madds, stores = tiles_widget.counts(m, k, n, tile, w.step.value)
    assert (loads, 2 * madds, stores) == (traffic.loads, traffic.flops, traffic.stores)
    ref = matmul_traffic(m, k, n, tile)
    assert (loads, 2 * madds, stores) == (ref.loads, ref.flops, ref.stores)
    np.testing.assert_array_equal(tiles_widget.partial_c(m, k, n, tile, w.step.max), c)
    np.testing.assert_array_equal(c, a @ b)
    text = panel_text(w)
    assert f"numbers loaded: {loads}" in text and f"multiply-adds: {madds}" in text
    assert f"numbers stored: {stores}" in text


def test_tiles_steps_follow_the_loop_and_show_partial_blocks():
    m, k, n, tile = 5, 5, 3, 2
    w = TiledMatmulExplorer(m, k, n, tile)
    a, b = tiles_widget.notes_matrices(m, k, n)
    trace = []
    tiled_matmul(a, b, tile, trace=trace)
    svgs = {w.view.value}
    for s, ((i, j, t), _) in enumerate(trace, start=1):
        w.step.value = s
        assert w.current() == (i, j, t)
        assert f"C[{i},{j}] += A[{i},{t}]·B[{t},{j}]" in panel_text(w)
        c = tiles_widget.partial_c(m, k, n, tile, s)
        expected = sum(block(a, i, u, tile) @ block(b, u, j, tile) for u in range(t + 1))
        np.testing.assert_array_equal(block(c, i, j, tile), expected)
        done = [ijt for ijt, _p in trace[:s]]
        loads = sum(block(a, i2, t2, tile).size + block(b, t2, j2, tile).size
                    for i2, j2, t2 in done)
        madds = sum(block(a, i2, t2, tile).size * block(b, t2, j2, tile).shape[1]
                    for i2, j2, t2 in done)
        complete = {(i2, j2) for i2, j2, _t in done} - \
            {(i2, j2) for (i2, j2, _t), _p in trace[s:]}
        stores = sum(block(c, i2, j2, tile).size for i2, j2 in complete)
        assert tiles_widget.counts(m, k, n, tile, s) == (loads, madds, stores)
        assert ("is complete and is stored" in panel_text(w)) == ((i, j) in complete)
        later = [(i2, j2) for (i2, j2, _), _p in trace[s:] if (i2, j2) != (i, j)]
        for i2, j2 in later:                              # blocks not started are empty
            assert np.isnan(block(c, i2, j2, tile)).all()
        svgs.add(w.view.value)
    assert len(svgs) == len(trace) + 1


def test_tiles_new_sizes_restart():
    w = TiledMatmulExplorer()
    w.step.value = 5
    before = w.view.value
    w.tile.value = 3
    assert (w.step.value, w.step.max, w.play.max) == (0, 8, 8)   # ⌈4/3⌉³ tile products
    assert w.current() is None and "nothing loaded" in panel_text(w)
    assert w.view.value != before
    w.m.value = 7
    assert w.step.max == 3 * 2 * 2


@pytest.mark.parametrize("bad", [{"m": 0}, {"k": 9}, {"tile": 2.5}, {"n": True}, {"tile": 0}])
def test_tiles_bad_sizes(bad):
    with pytest.raises(ValueError, match="must be a whole number from 1 to 8"):
        TiledMatmulExplorer(**bad)


# --------------------------------------------------------------------------- attention
def torch_attention(q, k, v, h, causal, o_bar):
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    heads = [split_heads(t, h) for t in (qt, kt, vt)]
    scores = heads[0] @ heads[1].transpose(-2, -1) / np.sqrt(q.shape[1] // h)
    if causal:
        n = q.shape[0]
        scores = scores.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
    maps = scores.softmax(-1)
    out = merge_heads(TF.scaled_dot_product_attention(*heads, is_causal=causal))
    out.backward(torch.tensor(o_bar))
    return maps.detach().numpy(), [t.grad.numpy() for t in (qt, kt, vt)]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_maps_and_grads_agree_with_torch(seed, causal):
    rng = np.random.default_rng(seed)
    n, d_model, h = 4, 6, 3
    X, WQ, WK, WV = rng.standard_normal((n, d_model)), *rng.standard_normal((3, d_model, d_model))
    w = AttentionExplorer(X, WQ, WK, WV, num_heads=h, causal=causal, seed=seed)
    for p in range(n):
        w.position.value = p
        maps_t, grads_t = torch_attention(X @ WQ, X @ WK, X @ WV, h, causal, w.o_bar(p))
        np.testing.assert_allclose(w.maps(), maps_t, rtol=0, atol=1e-13)
        grads = w.grads()
        for name, ref in zip(("dQ", "dK", "dV"), grads_t):
            assert grads[name].shape == (n, d_model)
            np.testing.assert_allclose(grads[name], ref, rtol=0, atol=1e-12)
        reach = list(range(p + 1)) if causal else list(range(n))
        # causal position 0 sees only itself: its one weight is always 1, whatever Q and K
        alone = causal and p == 0
        assert attn_widget.nonzero_rows(grads["dQ"]) == ([] if alone else [p])
        assert attn_widget.nonzero_rows(grads["dK"]) == ([] if alone else reach)
        assert attn_widget.nonzero_rows(grads["dV"]) == reach
        text = panel_text(w)
        assert f"dQ: shape ({n}, {d_model}), nonzero rows {[] if alone else [p]}" in text
        assert f"dV: shape ({n}, {d_model}), nonzero rows {reach}" in text
        assert ("no gradient reaches Q or K" in text) == alone
        assert np.count_nonzero(w.o_bar(p)) == d_model            # only row p, all of it


def test_attention_controls():
    w = AttentionExplorer()                                   # chapter 6's example
    assert w.q.shape == (3, 8) and w.position.value == 2
    upper = np.triu_indices(3, 1)
    assert np.all(w.maps()[:, upper[0], upper[1]] > 0)
    svg0, text0 = w.view.value, panel_text(w)
    w.causal.value = True
    assert np.all(w.maps()[:, upper[0], upper[1]] == 0) and w.view.value != svg0
    np.testing.assert_allclose(w.maps().sum(-1), 1.0, atol=1e-15)
    assert "causal mask: on" in panel_text(w) and "causal mask: off" in text0
    assert "head 1," in panel_text(w) and "head 2," in panel_text(w)
    w.head.value = 1
    assert "head 1," not in panel_text(w) and "head 2," in panel_text(w)
    fig = w._figure(w._state())
    assert len(fig.axes) == 1 + 3                              # one map, dQ, dK, dV
    w.position.value = 0
    assert "nonzero rows [0]" in panel_text(w)
    assert f"weights of position 0: {1:.4f}, {0:.4f}, {0:.4f}" in panel_text(w)


def test_attention_bad_inputs():
    X = np.ones((3, 8))
    with pytest.raises(ValueError, match="divides d_model = 8"):
        AttentionExplorer(X, np.eye(8), np.eye(8), np.eye(8), num_heads=3)
    with pytest.raises(ValueError, match=r"W_K must have shape \(8, 8\)"):
        AttentionExplorer(X, np.eye(8), np.eye(4), np.eye(8))
    with pytest.raises(ValueError, match="X, W_Q, W_K and W_V together"):
        AttentionExplorer(X)
    with pytest.raises(ValueError, match="X must be a matrix"):
        AttentionExplorer(np.ones(8), np.eye(8), np.eye(8), np.eye(8))


# --------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("name", opt_widget.OPTIMIZERS)
def test_optimizer_curves_equal_torch(name):
    ours = opt_widget.train_curve(mg, name, lr=0.05, weight_decay=0.1, steps=60, seed=3)
    theirs = opt_widget.train_curve(torch, name, lr=0.05, weight_decay=0.1, steps=60, seed=3)
    assert ours.dtype == np.float64 and ours.shape == (60,)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
    assert ours[-1] < ours[0]


def test_optimizer_playground_trains_live(capfd):
    w = OptimizerPlayground(steps=30, redraw_every=7)
    assert len(w.runs) == 1 and w.progress.value == 30        # the pretrained default run
    svg0 = w.view.value
    w.optimizer.value, w.lr.value, w.weight_decay.value = "AdamW", 0.03, 0.2
    shown = []
    w.view.observe(lambda change: shown.append(change["new"]), names="value")
    capfd.readouterr()
    w.button.click()
    out, err = capfd.readouterr()
    assert out == "" and err == "", "training printed something"
    assert len(shown) == 5                          # steps 7, 14, 21, 28, 30, and the end
    assert w.progress.value == w.progress.max == 30 and w.view.value != svg0
    expected = opt_widget.train_curve(torch, "AdamW", 0.03, 0.2, 30)
    label, losses = w.runs[-1]
    np.testing.assert_allclose(losses, expected, rtol=0, atol=1e-10)
    assert label == "AdamW, lr=0.03, weight_decay=0.2"
    assert f"{label}: loss {losses[0]:.4f} → {losses[-1]:.4f} after 30 steps" in panel_text(w)
    ax = w._figure(w._state()).axes[0]
    assert [line.get_alpha() for line in ax.get_lines()] == [0.35, 1.0]


def test_optimizer_playground_keeps_a_few_old_curves():
    w = OptimizerPlayground(steps=10, pretrain=False)
    assert w.runs == [] and "no run yet" in panel_text(w)
    for k in range(opt_widget._KEPT + 3):
        w.lr.value = 10 ** (-3 + 0.25 * k)
        w.button.click()
    assert len(w.runs) == opt_widget._KEPT + 1
    assert w.runs[-1][0].startswith(f"Adam, lr={10 ** (-3 + 0.25 * (opt_widget._KEPT + 2)):.3g}")


@pytest.mark.parametrize("bad, match", [({"optimizer": "RMSprop"}, "one of"),
                                        ({"lr": 0.0}, "positive number"),
                                        ({"weight_decay": -1.0}, "0 or more"),
                                        ({"steps": 0}, "positive whole number")])
def test_optimizer_bad_inputs(bad, match):
    with pytest.raises(ValueError, match=match):
        OptimizerPlayground(**bad)


# --------------------------------------------------------------------------- display
def make_all():
    x = mg.tensor(2.0, requires_grad=True)
    loss = (x * x).sin()
    return [BackwardStepper(loss, names={x: "x"}), TiledMatmulExplorer(),
            AttentionExplorer(), OptimizerPlayground(steps=20)]


SUMMARIES = {"BackwardStepper": "Backward stepper: 2 steps (run the notebook to step "
                                "through them)",
             "TiledMatmulExplorer": "Tiled matmul explorer: 4×4 times 4×4 in 2×2 tiles (run "
                                    "the notebook to step through it)",
             "AttentionExplorer": "Attention explorer: 3 tokens, d_model = 8, 2 heads (run "
                                  "the notebook to explore it)",
             "OptimizerPlayground": "Optimizer playground: SGD, Adam and AdamW on a tiny MLP "
                                    "(run the notebook to train)"}


def test_mimebundle_has_the_widget_a_static_svg_and_stable_text():
    first, second = make_all(), make_all()
    for a, b in zip(first, second):
        bundle = a._repr_mimebundle_()
        view = bundle["application/vnd.jupyter.widget-view+json"]
        assert view["model_id"] == a.box.model_id
        assert bundle["text/plain"] == SUMMARIES[type(a).__name__]
        assert bundle["text/plain"] == b._repr_mimebundle_()["text/plain"]
        assert not MODEL_ID.search(bundle["text/plain"])
        assert bundle["image/svg+xml"].startswith("<?xml") and "</svg>" in bundle["image/svg+xml"]
        assert bundle["image/svg+xml"] == b._repr_mimebundle_()["image/svg+xml"]


def test_static_figure_is_the_initial_state():
    w = TiledMatmulExplorer()
    initial = w.render()
    w.step.value = 4
    assert w.render() != initial
    static = w._repr_mimebundle_()["image/svg+xml"]
    from matplotlib.figure import Figure
    from minigrad.course.widgets._common import to_svg
    assert isinstance(w.static_figure(), Figure)
    assert static == to_svg(w.static_figure())            # the initial state, not step 4 ...
    assert static != to_svg(w._figure(w._state()))
    # ... drawn with the panel's text beside it, so the book shows the numbers too
    texts = [t.get_text() for t in w.static_figure().texts]
    w.step.value = 0
    assert "\n".join(w._panel(w._state())[1:]) in texts    # the first line is the title


def test_a_notebook_shows_every_widget(tmp_path):
    """Run in a real kernel, each widget's output has the SVG and the stable text/plain
    (what nbval compares), and nothing is printed."""
    import nbclient

    cells = ["import minigrad as mg\n"
             "from minigrad.course.widgets import (AttentionExplorer, BackwardStepper,\n"
             "    OptimizerPlayground, TiledMatmulExplorer)",
             "x = mg.tensor(2.0, requires_grad=True)\n"
             "BackwardStepper((x * x).sin(), names={x: 'x'})",
             "TiledMatmulExplorer()",
             "AttentionExplorer()",
             "OptimizerPlayground(steps=20)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "widgets.ipynb"
    nbformat.write(nb, path)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert nb.cells[0].outputs == []
    for cell, name in zip(nb.cells[1:], SUMMARIES):
        outputs = cell.outputs
        assert [o.output_type for o in outputs] == ["execute_result"], outputs
        data = outputs[0].data
        assert data["text/plain"] == SUMMARIES[name]
        assert "<svg" in data["image/svg+xml"]
        assert "application/vnd.jupyter.widget-view+json" in data


def test_the_book_shows_the_stepper_after_its_last_step():
    """Without a kernel, the reader sees the whole walk: the last step, with what every leaf
    received (the gradients backward() leaves)."""
    x = mg.tensor([1.5, -0.5], requires_grad=True)
    w = BackwardStepper((x * x).sum(), names={x: "x"})
    text = "\n".join(t.get_text() for t in w.static_figure().texts)
    assert "received by the leaves so far:" in text
    assert "  x: [3, -1]" in text.splitlines(), text          # x̄ = 2x
