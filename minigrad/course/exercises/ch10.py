"""Tasks of chapter 10, memory: how many bytes a deep MLP's graph keeps, a fused
Linear + tanh node that keeps only what its VJP reads, and gradient checkpointing as an
``mg.autograd.Function``.

What a node keeps is measured, not guessed: the buffers it stored with
``ctx.save_for_backward`` plus any array or tensor it hung on ``ctx`` as an attribute,
each buffer counted once (:func:`_kept`). Whether a segment's activations were freed after
the forward pass is seen with ``weakref``: the checkers' own segment functions hold weak
references to everything they compute inside.
"""
import collections
import gc
import math
import types
import weakref

import numpy as np

from ..lang import ntr, tr
from ..memory import _buffer, saved_arrays, total_saved_bytes
from .core import Misconception, as_numpy, assert_close_or_explain, check_function_vjp, seeded, task


__all__ = ["WRONG"]

# attributes every node has; anything else array-like on a ctx is something it keeps
_NODE_INTERNALS = {"_saved", "_edges", "_input_meta", "_output_meta", "_n_outputs",
                   "needs_input_grad", "_retained", "_freed", "_materialize", "_non_diff"}


def _bytes(n):
    """``n`` bytes, said in the reader's language ("1 byte", "85 de octeți")."""
    return ntr("{n} byte", "{n} bytes", n=n)


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        return [value]
    if hasattr(value, "data") and isinstance(getattr(value, "data", None), np.ndarray):
        return [value._data]                                      # a minigrad tensor
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays_in(v)]
    return []


def _kept(node):
    """The distinct numpy buffers a node keeps alive: what it saved, and any tensor or array
    stored as an attribute of its ctx. Returns {id: array}."""
    arrays = list(saved_arrays(node))
    for name, value in vars(node).items():
        if name not in _NODE_INTERNALS:
            arrays += _arrays_in(value)
    return {id(_buffer(a)): _buffer(a) for a in arrays}


def _reachable_buffers(roots, max_depth=8):
    """The distinct numpy buffers reachable from ``roots`` through containers, attributes
    and slots (``gc.get_referents``), not through modules, functions or classes (a class
    counts only as a root: its attributes are searched). Returns {id: array}."""
    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
            types.CodeType, types.FrameType, type, str, bytes, int, float, complex)
    found, seen = {}, set()
    queue = collections.deque((r, 0) for r in roots)      # breadth first: nearest first
    while queue:
        obj, depth = queue.popleft()
        if id(obj) in seen or depth >= max_depth or (depth and isinstance(obj, skip)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            b = _buffer(obj)
            found[id(b)] = b
            continue
        queue.extend((r, depth + 1) for r in gc.get_referents(obj))
    return found


def _hidden_roots(Fn):
    """Where a Function can put something besides its ctx: its class (and its own base
    classes) and the globals of the module or notebook that defined it."""
    roots = [k for k in Fn.__mro__ if k.__module__ and not k.__module__.startswith(
        ("minigrad.autograd", "builtins"))]
    forward = getattr(Fn, "forward", None)
    if getattr(forward, "__globals__", None) is not None:
        roots.append(forward.__globals__)
    return roots


# --------------------------------------------------------------------------- 10.1
def _mlp_graph(n_layers, batch, width, dtype, rng):
    import minigrad as mg
    ws = [mg.tensor(rng.standard_normal((width, width)).astype(dtype), requires_grad=True)
          for _ in range(n_layers)]
    h = mg.tensor(rng.standard_normal((batch, width)).astype(dtype), requires_grad=True)
    for w in ws:
        h = (h @ w).relu()
    return (h * h).mean(), ws


@task("10.1", title="How many bytes does backward keep?",
      goal="Give the bytes of activations an L-layer ReLU MLP's graph keeps alive, as a "
           "formula",
      difficulty=1, minutes=5)
def _activation_bytes(activation_bytes):
    rng = seeded(101)
    for n_layers, batch, width, dtype in ((3, 4, 5, np.float64), (16, 8, 3, np.float64),
                                          (2, 6, 4, np.float32)):
        loss, ws = _mlp_graph(n_layers, batch, width, dtype, rng)
        measured = total_saved_bytes(loss, exclude=ws)
        item = np.dtype(dtype).itemsize
        got = activation_bytes(n_layers, batch, width, item)
        case = tr("L = {L}, batch {batch}, width {width}, {item}-byte numbers", L=n_layers,
                  batch=batch, width=width, item=item)
        if got is None:
            raise Misconception(tr("activation_bytes returned None — did you forget to "
                                   "return?"))
        a = batch * width * item
        mistakes = {
            (2 * n_layers + 1) * a: tr("you counted each ReLU output twice: ReluBackward saves "
                                       "it, and the next MatMulBackward saves the same buffer "
                                       "as its input — one buffer, kept once"),
            n_layers * a: tr("you left out the input x: the first MatMulBackward keeps it too"),
            (n_layers + 1) * a + n_layers * width * width * item:
                tr("you counted the weights: they live on as parameters whether or not a graph "
                   "saved them, so only the activations are the graph's cost"),
            (n_layers + 1) * batch * width: tr("that is a count of numbers: bytes are numbers "
                                               "× itemsize"),
        }
        for wrong, why in mistakes.items():
            if wrong != measured and np.isclose(float(got), wrong):
                raise Misconception(tr("{case}: you said {got}, the graph keeps {measured} "
                                       "— {why}", case=case, got=_bytes(int(got)),
                                       measured=_bytes(measured), why=why))
        assert_close_or_explain(tr("answer for {case}", case=case), float(got),
                                float(measured), kind=None,
                                formula=tr("count the distinct activation buffers the nodes "
                                           "save (x and the L ReLU outputs) × batch × width × "
                                           "itemsize"))


# --------------------------------------------------------------------------- 10.2
@task("10.2", title="A fused Linear + tanh node that keeps only what it needs",
      goal="Write LinearTanh(mg.autograd.Function), y = tanh(x·W), saving x, W and y but "
           "not x·W",
      difficulty=2, minutes=15)
def _linear_tanh(LinearTanh):
    import minigrad as mg
    import torch

    def make_inputs(rng):
        n, d, k = rng.integers(2, 6, size=3)
        return [rng.standard_normal((n, d)), rng.standard_normal((d, k))]

    check_function_vjp(LinearTanh, lambda x, w: torch.tanh(x @ w), make_inputs,
                       names=("x", "W"),
                       formulas=("z̄ = ȳ ⊙ (1 − y²), x̄ = z̄·Wᵀ", "z̄ = ȳ ⊙ (1 − y²), W̄ = xᵀ·z̄"),
                       seed=102)
    rng = seeded(1020)
    x = mg.tensor(rng.standard_normal((8, 6)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    elsewhere = _hidden_roots(LinearTanh)
    before = _reachable_buffers(elsewhere)
    y = LinearTanh.apply(x, w)
    gc.collect()
    kept = _kept(y.grad_fn)
    kept.update({i: b for i, b in _reachable_buffers([y.grad_fn] + elsewhere).items()
                 if i not in before})
    need = x._data.nbytes + w._data.nbytes + y._data.nbytes
    have = sum(a.nbytes for a in kept.values())
    if have > need:
        extra = [a.shape for a in kept.values()
                 if not any(a is _buffer(t._data) for t in (x, w, y))]
        raise Misconception(ntr(
            "your node keeps {have}, but x, W and y ({need}) are all its VJP reads: "
            "z̄ = ȳ ⊙ (1 − y²) needs the output y, not the pre-activation z = x·W. Besides "
            "them it keeps {n} array of shape {extra} — each saved array stays alive until "
            "backward runs",
            "your node keeps {have}, but x, W and y ({need}) are all its VJP reads: "
            "z̄ = ȳ ⊙ (1 − y²) needs the output y, not the pre-activation z = x·W. Besides "
            "them it keeps {n} arrays of shapes {extra} — each saved array stays alive until "
            "backward runs", have=_bytes(have), need=_bytes(need), n=len(extra),
            extra=", ".join(str(s) for s in extra)))


# --------------------------------------------------------------------------- 10.3
class _Segment:
    """A segment y = tanh(relu(a·W₁)·W₂) (a = x, or x ⊙ s with a second input) whose every
    call is noted: whether the graph was on, and weak references to what it computed."""

    def __init__(self, w1, w2, two_inputs):
        self.w1, self.w2, self.two_inputs = w1, w2, two_inputs
        self.grad_modes, self.inside = [], []

    def __call__(self, x, s=None):
        import minigrad as mg
        self.grad_modes.append(mg.autograd.is_grad_enabled())
        a = x * s if self.two_inputs else x
        z1 = a @ self.w1
        r = z1.relu()
        z2 = r @ self.w2
        self.inside.append([weakref.ref(t) for t in (z1, r, z2)] +
                           ([weakref.ref(a)] if self.two_inputs else []))
        return z2.tanh()


def _torch_segment(x, w1, w2, s=None):
    a = x * s if s is not None else x
    return ((a @ w1).relu() @ w2).tanh()


@task("10.3", title="Gradient checkpointing as an autograd Function",
      goal="Write Checkpoint(mg.autograd.Function): keep only a segment's inputs, recompute it "
           "in backward under enable_grad",
      difficulty=3, minutes=25)
def _checkpoint(Checkpoint):
    import minigrad as mg
    import torch
    rng = seeded(103)
    for case, (two_inputs, s_requires_grad) in enumerate(((False, False), (True, True),
                                                          (True, False))):
        xs = rng.standard_normal((6, 5))
        ss = rng.standard_normal((6, 5))
        w1s, w2s = rng.standard_normal((5, 8)), rng.standard_normal((8, 4))
        up = rng.standard_normal((6, 4))
        x = mg.tensor(xs, requires_grad=True)
        s = mg.tensor(ss, requires_grad=s_requires_grad)
        w1 = mg.tensor(w1s, requires_grad=True)
        w2 = mg.tensor(w2s, requires_grad=True)
        seg = _Segment(w1, w2, two_inputs)
        args = (x, s) if two_inputs else (x,)
        out = Checkpoint.apply(seg, *args)
        if not isinstance(out, mg.Tensor) or out.grad_fn is None:
            raise Misconception(tr("Checkpoint.apply recorded no graph node — does forward "
                                   "return fn(*args)?"))
        gc.collect()
        alive = [r() for r in seg.inside[0] if r() is not None] if seg.inside else []
        if alive:
            raise Misconception(ntr(
                "after the forward pass {n} activation inside the segment (shape {shapes}) "
                "is still alive: your node is saving the activations anyway. Keep only the "
                "inputs (ctx.save_for_backward(*args)) and run fn again in backward",
                "after the forward pass {n} activations inside the segment (shapes {shapes}) "
                "are still alive: your node is saving the activations anyway. Keep only the "
                "inputs (ctx.save_for_backward(*args)) and run fn again in backward",
                n=len(alive), shapes=", ".join(str(tuple(t.shape)) for t in alive)))
        kept = _kept(out.grad_fn)
        have = sum(a.nbytes for a in kept.values())
        inputs = sum(a._data.nbytes for a in args)
        if have > inputs:
            raise Misconception(tr(
                "your Checkpoint node keeps {have} but its inputs take {inputs}: a "
                "checkpoint keeps the segment's inputs and nothing else (the saved bytes are "
                "the whole point)", have=_bytes(have), inputs=_bytes(inputs)))
        ts = [torch.tensor(a, requires_grad=True) for a in (xs, ss, w1s, w2s)]
        ref_out = _torch_segment(ts[0], ts[2], ts[3], ts[1] if two_inputs else None)
        assert_close_or_explain(tr("output"), out, ref_out, kind=None,
                                formula=tr("forward returns fn(*args)"))
        ref_out.backward(torch.tensor(up))
        try:
            out.backward(mg.tensor(up))
        except Exception:
            if len(seg.grad_modes) >= 2 and not seg.grad_modes[1]:
                _no_enable_grad()
            raise
        if len(seg.grad_modes) < 2:
            raise Misconception(tr("backward never ran fn again: a checkpoint recomputes the "
                                   "segment from its saved inputs, under mg.enable_grad(), and "
                                   "backpropagates through that fresh graph"))
        if not seg.grad_modes[1]:
            _no_enable_grad()
        if len(seg.grad_modes) > 2:
            raise Misconception(ntr("fn ran {n} time for one forward and one backward: it "
                                    "should run twice (once in forward, once to recompute)",
                                    "fn ran {n} times for one forward and one backward: it "
                                    "should run twice (once in forward, once to recompute)",
                                    n=len(seg.grad_modes)))
        leaves = [("x", x, ts[0]),
                  (tr("{name} (a parameter inside)", name="W₁"), w1, ts[2]),
                  (tr("{name} (a parameter inside)", name="W₂"), w2, ts[3])]
        if two_inputs and s_requires_grad:
            leaves.append(("s", s, ts[1]))
        for name, mine, ref in leaves:
            assert_close_or_explain(name, mine.grad, ref.grad,
                                    formula=tr("the gradient of the recomputed segment: "
                                               "autograd.backward(out, grad) fills the inside "
                                               "parameters' .grad, the inputs' gradients are "
                                               "returned"))


def _no_enable_grad():
    raise Misconception(tr(
        "recomputing without enable_grad: backward runs with the graph off (as under "
        "no_grad), so fn recomputed there records nothing and there is nothing to "
        "backpropagate — wrap the recomputation in `with mg.enable_grad():`"))


# --------------------------------------------------------------------------- 10.4
def _rng_state():
    from ...tensor import _Defaults
    return repr(_Defaults.rng.bit_generator.state)


def _dropout_forward(Dropout, x, p):
    import minigrad as mg
    y = Dropout.apply(x, p)
    if not isinstance(y, mg.Tensor) or y.grad_fn is None:
        raise Misconception(tr("Dropout.apply recorded no graph node — does forward return "
                               "the dropped-out x?"))
    if tuple(y.shape) != tuple(x.shape):
        raise Misconception(tr("Dropout's output has shape {shape} but x is {expected}",
                               shape=tuple(y.shape), expected=tuple(x.shape)))
    return y


def _explain_dropout_output(ys, xs, p):
    """Tell a mask kept with probability p, a wrong rate or a wrong scale apart; return the
    mask (True where a value was kept)."""
    keep = ys != 0
    rate, sd = float(keep.mean()), math.sqrt(p * (1 - p) / keep.size)
    if abs(rate - p) < 5 * sd < abs(rate - (1 - p)):
        raise Misconception(tr("with p = {p} you kept {rate:.0%} of the values: p is the "
                               "probability to DROP a value — keep it where the uniform draw "
                               "is ≥ p", p=p, rate=rate))
    if abs(rate - (1 - p)) > 6 * sd:
        raise Misconception(tr("with p = {p} you kept {rate:.0%} of the values, but each must "
                               "be kept with probability 1 − p = {q:.0%}", p=p, rate=rate,
                               q=1 - p))
    kept_y, kept_x = ys[keep], xs[keep]
    if np.allclose(kept_y, kept_x, rtol=1e-12, atol=0):
        raise Misconception(tr("the kept values are x itself: scale them by 1/(1 − p) = "
                               "{scale:.4g}, so that every output keeps x as its expected "
                               "value: (1 − p)·x/(1 − p) = x", scale=1 / (1 - p)))
    if np.allclose(kept_y, kept_x * (1 - p), rtol=1e-12, atol=0):
        raise Misconception(tr("the kept values are multiplied by 1 − p: divide by it instead, "
                               "y = x·m/(1 − p)"))
    assert_close_or_explain(tr("Dropout's output on the kept values"), kept_y,
                            kept_x / (1 - p), kind=None, formula="y = x ⊙ m / (1 − p)")
    return keep


@task("10.4", title="Dropout that a checkpoint can replay",
      goal="Write Dropout(mg.autograd.Function): y = x ⊙ m/(1 − p) with m ~ Bernoulli(1 − p) "
           "drawn from minigrad's generator, x̄ = ȳ ⊙ m/(1 − p) with the saved mask",
      difficulty=2, minutes=15)
def _dropout(Dropout):
    import minigrad as mg

    from ..checkpoint import checkpoint
    from .core import explain_vjp_count
    rng = seeded(104)
    for p in (0.2, 0.5, 0.8):
        xs = rng.uniform(0.5, 2.0, size=(40, 50)) * rng.choice([-1.0, 1.0], size=(40, 50))
        x = mg.tensor(xs, requires_grad=True)
        mg.manual_seed(int(rng.integers(2 ** 31)))
        y = _dropout_forward(Dropout, x, p)
        keep = _explain_dropout_output(as_numpy(y), xs, p)
        up = rng.standard_normal(xs.shape)
        before = _rng_state()
        grads = explain_vjp_count("Dropout", Dropout.backward(y.grad_fn, mg.tensor(up)), 2)
        g = grads[0]
        right = up * keep / (1 - p)
        if g is not None and np.shape(as_numpy(g)) == xs.shape and \
                not np.allclose(as_numpy(g), right):
            if _rng_state() != before:
                raise Misconception(tr("your backward drew a new mask: the gradient must go "
                                       "through the very values the forward pass kept — save "
                                       "its mask (ctx.save_for_backward) and multiply by it"))
            if np.allclose(as_numpy(g), up * keep):
                raise Misconception(tr("your gradient for x misses the scale 1/(1 − p): the "
                                       "backward multiplies by the same m/(1 − p) as the "
                                       "forward"))
        assert_close_or_explain("x", g, right, formula="x̄ = ȳ ⊙ m / (1 − p)")
        y.backward(gradient=mg.tensor(up))
        assert_close_or_explain("x", x.grad, right, formula="x̄ = ȳ ⊙ m / (1 − p)")
    # the same segment with and without a checkpoint, from the same seed: the recomputation
    # must draw the mask the first forward pass drew
    xs, ws = rng.standard_normal((6, 20)), rng.standard_normal((20, 5))
    up = rng.standard_normal((6, 5))
    seed = int(rng.integers(2 ** 31))
    runs = []
    for wrapped in (False, True):
        x = mg.tensor(xs, requires_grad=True)
        w = mg.tensor(ws, requires_grad=True)

        def segment(h, w=w):
            return (Dropout.apply(h, 0.5) @ w).tanh()
        mg.manual_seed(seed)
        out = checkpoint(segment, x) if wrapped else segment(x)
        out.backward(gradient=mg.tensor(up))
        runs.append((as_numpy(out), as_numpy(x.grad), as_numpy(w.grad)))
    (y0, gx0, gw0), (y1, gx1, gw1) = runs
    if not (np.allclose(y0, y1) and np.allclose(gx0, gx1) and np.allclose(gw0, gw1)):
        raise Misconception(tr("inside a checkpoint the segment ran again in backward and "
                               "your Dropout drew another mask: draw it from minigrad's "
                               "generator (mg.rand_like(x)), whose state the checkpoint saves "
                               "and restores — a generator of your own (np.random, "
                               "default_rng()) is not replayed, and the gradients belong to a "
                               "mask the forward pass never used"))


# --------------------------------------------------------------------------- wrong answers
def _bytes_twice(n_layers, batch, width, itemsize=8):
    return (2 * n_layers + 1) * batch * width * itemsize


def _bytes_no_input(n_layers, batch, width, itemsize=8):
    return n_layers * batch * width * itemsize


def _bytes_no_return(n_layers, batch, width, itemsize=8):
    (n_layers + 1) * batch * width * itemsize


def _make_wrong(kind):
    import minigrad as mg

    if kind == "saves_z":
        class LinearTanh(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                z = x @ w
                y = z.tanh()
                ctx.save_for_backward(x, w, z, y)
                return y

            @staticmethod
            def backward(ctx, grad):
                x, w, z, y = ctx.saved_tensors
                gz = grad * (1 - y * y)
                return gz @ w.mT, x.mT @ gz
        return LinearTanh

    if kind in ("z_in_dict", "z_on_class"):
        class LinearTanh(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                z = x @ w
                y = z.tanh()
                ctx.save_for_backward(x, w, y)
                if kind == "z_in_dict":
                    ctx.extra = {"z": z}
                else:
                    LinearTanh.z = z
                return y

            @staticmethod
            def backward(ctx, grad):
                x, w, y = ctx.saved_tensors
                gz = grad * (1 - y * y)
                return gz @ w.mT, x.mT @ gz
        return LinearTanh

    if kind == "keeps_activations":
        class Checkpoint(mg.autograd.Function):
            @staticmethod
            def forward(ctx, fn, *args):
                ctx.inputs = [a.detach().requires_grad_(a.requires_grad) for a in args]
                with mg.enable_grad():
                    ctx.out = fn(*ctx.inputs)             # the whole inner graph stays alive
                return ctx.out.detach()

            @staticmethod
            def backward(ctx, grad):
                mg.autograd.backward(ctx.out, grad)
                return (None,) + tuple(a.grad for a in ctx.inputs)
        return Checkpoint

    if kind == "saves_output":
        class Checkpoint(mg.autograd.Function):
            @staticmethod
            def forward(ctx, fn, *args):
                ctx.fn = fn
                out = fn(*args)
                ctx.save_for_backward(*args, out)
                return out

            @staticmethod
            def backward(ctx, grad):
                *saved, _ = ctx.saved_tensors
                inputs = [a.detach().requires_grad_(a.requires_grad) for a in saved]
                with mg.enable_grad():
                    out = ctx.fn(*inputs)
                mg.autograd.backward(out, grad)
                return (None,) + tuple(a.grad for a in inputs)
        return Checkpoint

    class Checkpoint(mg.autograd.Function):                  # kind == "no_enable_grad"
        @staticmethod
        def forward(ctx, fn, *args):
            ctx.fn = fn
            ctx.save_for_backward(*args)
            return fn(*args)

        @staticmethod
        def backward(ctx, grad):
            inputs = [a.detach().requires_grad_(a.requires_grad) for a in ctx.saved_tensors]
            out = ctx.fn(*inputs)                                  # the graph is off here
            mg.autograd.backward(out, grad)
            return (None,) + tuple(a.grad for a in inputs)
    return Checkpoint


def _dropout_wrong(kind):
    import minigrad as mg

    class Dropout(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, p):
            if kind == "own_rng":
                u = mg.tensor(np.random.default_rng().random(x.shape))
            else:
                u = mg.rand_like(x)
            keep = (u < p if kind == "inverted" else u >= p).to(x.dtype)
            scale = {"no_scale": 1.0, "times": 1 - p}.get(kind, 1 / (1 - p))
            ctx.p = p
            ctx.save_for_backward(keep)
            if kind == "no_return":
                return None
            return x * keep * scale

        @staticmethod
        def backward(ctx, grad):
            keep, = ctx.saved_tensors
            if kind == "new_mask":
                keep = (mg.rand_like(grad) >= ctx.p).to(grad.dtype)
            if kind == "backward_unscaled":
                return grad * keep, None
            return grad * keep / (1 - ctx.p), None
    return Dropout


WRONG = {
    "10.1": [(_bytes_twice, "counted each ReLU output twice"),
             (_bytes_no_input, "left out the input x"),
             (_bytes_no_return, "did you forget to return")],
    "10.2": [(_make_wrong("saves_z"), "not the pre-activation z"),
             (_make_wrong("z_in_dict"), "not the pre-activation z"),
             (_make_wrong("z_on_class"), "not the pre-activation z")],
    "10.3": [(_make_wrong("keeps_activations"), "saving the activations anyway"),
             (_make_wrong("saves_output"), "keeps the segment's inputs and nothing else"),
             (_make_wrong("no_enable_grad"), "recomputing without enable_grad")],
    "10.4": [(_dropout_wrong("no_scale"), "scale them by 1/(1 − p)"),
             (_dropout_wrong("times"), "multiplied by 1 − p"),
             (_dropout_wrong("inverted"), "probability to DROP"),
             (_dropout_wrong("new_mask"), "your backward drew a new mask"),
             (_dropout_wrong("backward_unscaled"), "misses the scale 1/(1 − p)"),
             (_dropout_wrong("own_rng"), "inside a checkpoint"),
             (_dropout_wrong("no_return"), "recorded no graph node")],
}

RIGHT = {"10.4": [_dropout_wrong("right")]}
"""Correct answers written differently from the solution notebook's: each must pass."""
