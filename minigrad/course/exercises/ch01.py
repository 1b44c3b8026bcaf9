"""Chapter 01 — computational graphs: a scalar autograd engine of your own, and a VJP.

The learner builds a micrograd-sized ``Value`` (a scalar that remembers its parents and how
to send a gradient back to them), sorts its graph without recursion, walks it backwards, and
finally writes the VJP of tanh as an ``mg.autograd.Function``.

The notebook's ``Value`` has ``data``, ``grad`` (a float, starting at 0), ``_parents`` (a
tuple of Values) and ``_backward`` (a function of no argument that adds this node's
contribution to its parents' ``.grad``, reading ``out.grad``).
"""
import math

import numpy as np

from ..lang import ntr, tr
from .core import Misconception, assert_close_or_explain, check_function_vjp, seeded, task



# --------------------------------------------------------------------------- reference engine
class _Ref:
    """The checker's own, correct Value, used to build graphs for the learner's
    ``topo_sort`` and ``backprop`` (same attribute names as the notebook's Value)."""

    def __init__(self, data, _parents=(), _op=""):
        self.data, self.grad, self._parents, self._op = float(data), 0.0, _parents, _op
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, _Ref) else _Ref(other)
        out = _Ref(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, _Ref) else _Ref(other)
        out = _Ref(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = _Ref(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    __radd__, __rmul__ = __add__, __mul__


def _ref_topo(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if p not in seen)
    return order


def _scalar_graphs(rng):
    """A few expressions over leaves x, y, w (with reuse), with their torch twins."""
    def exprs(x, y, w, tanh):
        a = x * y
        b = a + a                                   # the reuse trap
        c = tanh(b * w + x)                         # x used a second time
        return [("x·y + x", a + x),
                ("b = a + a; b·w", b * w),
                ("tanh(2xy·w + x)·x + y", c * x + y)]
    out = []
    for _ in range(3):
        vals = rng.uniform(-1.5, 1.5, size=3)
        for k in range(3):
            leaves = [_Ref(v) for v in vals]
            name, root = exprs(*leaves, lambda v: v.tanh())[k]
            out.append((name, leaves, root, vals, k))
    return out, exprs


def _torch_grads(exprs, vals, k):
    import torch
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vals]
    _, root = exprs(*leaves, torch.tanh)[k]
    root.backward()
    return [0.0 if t.grad is None else float(t.grad) for t in leaves]


# --------------------------------------------------------------------------- 01.1
def _check_binary(Value, op, sym, local):
    rng = seeded(11)
    for _ in range(3):
        av, bv, g = rng.uniform(-2, 2, size=3)
        a, b = Value(av), Value(bv)
        c = op(a, b)
        assert_close_or_explain(f"a {sym} b", c.data, local["fwd"](av, bv), kind="value",
                                formula=tr("the forward pass is given: keep it"))
        if tuple(c._parents) != (a, b):
            raise Misconception(tr("{expr} must record its parents (a, b) in _parents",
                                   expr=f"a {sym} b"))
        c.grad = g
        c._backward()
        assert_close_or_explain("a", a.grad, g * local["da"](av, bv), formula=local["ra"],
                                reuse=True)
        assert_close_or_explain("b", b.grad, g * local["db"](av, bv), formula=local["rb"],
                                reuse=True)
        # a tensor that already has a gradient (used elsewhere) keeps it: +=
        a2, b2 = Value(av), Value(bv)
        a2.grad, b2.grad = 0.75, -0.25
        c2 = op(a2, b2)
        c2.grad = g
        c2._backward()
        if math.isclose(a2.grad, g * local["da"](av, bv), rel_tol=1e-12) and g != 0:
            raise Misconception(tr("in {expr} you overwrote the gradient a already had (0.75) "
                                   "— accumulate with += (a may be used elsewhere too)",
                                   expr=f"a {sym} b"))
        assert_close_or_explain("a", a2.grad, 0.75 + g * local["da"](av, bv), reuse=True,
                                formula=f"a.grad += {local['ra']}")
        # the reuse trap: the same Value on both sides
        r = Value(av)
        d = op(r, r)
        d.grad = g
        d._backward()
        both = g * (local["da"](av, av) + local["db"](av, av))
        assert_close_or_explain(tr("a in a {op} a", op=sym), r.grad, both, reuse=True,
                                formula=tr("both uses of a contribute, each with +="))


@task("01.1", title="The backward of + and · on a Value",
      goal="Write the local chain rule of + and ·, accumulating with +=",
      difficulty=1, minutes=10)
def _(Value):
    _check_binary(Value, lambda a, b: a + b, "+",
                  {"fwd": lambda a, b: a + b, "da": lambda a, b: 1.0, "db": lambda a, b: 1.0,
                   "ra": tr("ā += c̄ (the derivative of a + b by a is 1)"), "rb": "b̄ += c̄"})
    _check_binary(Value, lambda a, b: a * b, "·",
                  {"fwd": lambda a, b: a * b, "da": lambda a, b: b, "db": lambda a, b: a,
                   "ra": tr("ā += b · c̄ (the OTHER factor)"), "rb": "b̄ += a · c̄"})


# --------------------------------------------------------------------------- 01.2
class _N:
    """A bare graph node for checking a topological sort: only ``_parents`` matters."""

    def __init__(self, label, parents=()):
        self.label, self._parents = label, tuple(parents)

    def __repr__(self):
        return self.label


def _dag_cases(rng):
    x, y = _N("x"), _N("y")
    a = _N("a", (x, y))
    b = _N("b", (a, a))                      # b = a + a: the same parent twice
    z = _N("z", (b, x))
    cases = [("z = (x·y + x·y) + x", z)]
    for n in range(3):                       # random DAGs with shared nodes
        nodes = [_N(f"v{i}") for i in range(4)]
        for i in range(4, 25):
            k = int(rng.integers(1, 4))
            parents = [nodes[int(j)] for j in rng.integers(0, i, size=k)]
            nodes.append(_N(f"v{i}", parents))
        cases.append((ntr("a random DAG of {n} node", "a random DAG of {n} nodes", n=len(nodes)), _N("root", nodes[-3:])))
    chain = _N("c0")
    for i in range(1, 3000):
        chain = _N(f"c{i}", (chain,))
    cases.append((tr("a chain 3000 nodes deep"), chain))
    return cases


@task("01.2", title="A topological sort without recursion",
      goal="Order a graph's nodes inputs-first, root last, with an explicit stack",
      difficulty=2, minutes=15)
def _(topo_sort):
    for name, root in _dag_cases(seeded(12)):
        try:
            order = topo_sort(root)
        except RecursionError:
            raise Misconception(tr("on {case} your sort hit Python's recursion limit — use an "
                                   "explicit stack (a list you push to and pop from) instead "
                                   "of recursion", case=name)) from None
        if order is None:
            raise Misconception(tr("topo_sort returned None — did you forget to return?"))
        order = list(order)
        reach = _ref_topo(root)
        ids = [id(n) for n in order]
        if len(set(ids)) != len(ids):
            dup = next(n for n in order if ids.count(id(n)) > 1)
            raise Misconception(ntr("on {case} node {node} appears {n} time — remember which "
                                    "nodes you have visited (a set) and add each once",
                                    "on {case} node {node} appears {n} times — remember which "
                                    "nodes you have visited (a set) and add each once",
                                    case=name, node=dup.label, n=ids.count(id(dup))))
        missing = [n.label for n in reach if id(n) not in set(ids)]
        if missing:
            raise Misconception(ntr("on {case} your order misses {n} node ({node}) — follow "
                                    "_parents from every node you visit",
                                    "on {case} your order misses {n} nodes (e.g. {node}) — "
                                    "follow _parents from every node you visit", case=name,
                                    n=len(missing), node=missing[0]))
        if len(order) != len(reach):
            raise Misconception(tr("on {case} your order has nodes that are not in the graph",
                                   case=name))
        pos = {id(n): i for i, n in enumerate(order)}
        if order[0] is root and len(order) > 1:
            raise Misconception(tr("on {case} the root comes first — return inputs first and "
                                   "the root last (backward then walks the list reversed)",
                                   case=name))
        for n in order:
            for p in n._parents:
                if pos[id(p)] > pos[id(n)]:
                    raise Misconception(tr(
                        "on {case} node {node} comes before its input {input} — a node may be "
                        "appended only after all of its inputs (post-order)", case=name,
                        node=n.label, input=p.label))


# --------------------------------------------------------------------------- 01.3
@task("01.3", title="backward: seed, then walk in reverse",
      goal="Seed ∂L/∂L = 1 and run every node's _backward in reverse topological order",
      difficulty=2, minutes=10)
def _(backprop):
    cases, exprs = _scalar_graphs(seeded(13))
    for name, leaves, root, vals, k in cases:
        backprop(root)
        if root.grad != 1.0:
            raise Misconception(tr("after backprop on {case} the root's gradient is {grad} — "
                                   "seed it with 1.0 (∂L/∂L = 1) before the walk", case=name,
                                   grad=repr(root.grad)))
        expected = _torch_grads(exprs, vals, k)
        got = [v.grad for v in leaves]
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            # would the walk in the wrong direction have given this?
            fresh = [_Ref(v) for v in vals]
            _, r2 = exprs(*fresh, lambda v: v.tanh())[k]
            r2.grad = 1.0
            for node in _ref_topo(r2):
                node._backward()
            if np.allclose(got, [v.grad for v in fresh], rtol=1e-9, atol=1e-12):
                raise Misconception(tr("on {case} only the root's _backward passed anything "
                                       "on: the gradients are those of a walk from the leaves "
                                       "up (or of the root's _backward alone) — run _backward "
                                       "on every node, in REVERSE topological order (root "
                                       "first), so a node's grad is complete before it is sent "
                                       "on", case=name))
        for v, e, nm in zip(leaves, expected, "xyw"):
            assert_close_or_explain(nm, v.grad, e, reuse=True, formula=tr(
                "∂({expr})/∂{var}, as torch.autograd computes it", expr=name, var=nm))
    x = _Ref(0.5)
    z = x
    for _ in range(2500):
        z = z * 1.0 + 0.0
    backprop(z)
    assert_close_or_explain(tr("x at the bottom of a 5000-node chain"), x.grad, 1.0,
                            formula=tr("every node passes 1·ȳ on"))


# --------------------------------------------------------------------------- 01.4
@task("01.4", title="tanh on a Value",
      goal="Write the backward of t = tanh(v): v̄ += (1 − t²)·t̄",
      difficulty=1, minutes=5)
def _(Value):
    rng = seeded(14)
    for xv, g in rng.uniform(-2, 2, size=(4, 2)):
        v = Value(xv)
        t = v.tanh()
        assert_close_or_explain("tanh(v)", t.data, math.tanh(xv), kind="value",
                                formula=tr("the forward pass is given: keep it"))
        v.grad = 0.5
        t.grad = g
        t._backward()
        if math.isclose(v.grad, 0.5 + g * (1 - xv * xv), rel_tol=1e-12):
            raise Misconception(tr("you used the input v in 1 − v², but tanh' = 1 − t² with "
                                   "the OUTPUT t = tanh(v)"))
        if math.isclose(v.grad, g * (1 - t.data ** 2), rel_tol=1e-12):
            raise Misconception(tr("you overwrote the gradient v already had — accumulate "
                                   "with +="))
        assert_close_or_explain("v", v.grad, 0.5 + g * (1 - math.tanh(xv) ** 2), reuse=True,
                                formula="v̄ += (1 − t²)·t̄")


# --------------------------------------------------------------------------- 01.5
@task("01.5", title="The VJP of tanh as an mg.autograd.Function",
      goal="Write Tanh.backward for tensors: x̄ = ȳ ⊙ (1 − y²), from the saved output",
      difficulty=2, minutes=10)
def _(Tanh):
    import torch
    check_function_vjp(Tanh, torch.tanh,
                       lambda rng: [rng.standard_normal((int(rng.integers(2, 5)), 3))],
                       names=["x"],
                       formulas=[tr("x̄ = ȳ ⊙ (1 − y²), y = tanh(x) saved by forward")])


# --------------------------------------------------------------------------- wrong answers
def _value_class(add_bw, mul_bw, tanh_bw=None):
    """A notebook-like Value whose backward closures are the given (wrong) rules."""
    class V:
        def __init__(self, data, _parents=(), _op=""):
            self.data, self.grad, self._parents = float(data), 0.0, _parents
            self._backward = lambda: None

        def __add__(self, other):
            other = other if isinstance(other, V) else V(other)
            out = V(self.data + other.data, (self, other), "+")
            out._backward = lambda: add_bw(self, other, out)
            return out

        def __mul__(self, other):
            other = other if isinstance(other, V) else V(other)
            out = V(self.data * other.data, (self, other), "*")
            out._backward = lambda: mul_bw(self, other, out)
            return out

        def tanh(self):
            out = V(math.tanh(self.data), (self,), "tanh")
            out._backward = lambda: tanh_bw(self, out)
            return out
    return V


def _add_ok(a, b, out):
    a.grad += out.grad
    b.grad += out.grad


def _mul_ok(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def _add_assign(a, b, out):            # = instead of +=
    a.grad = out.grad
    b.grad = out.grad


def _mul_same_factor(a, b, out):       # multiplies by its own value, not the other factor
    a.grad += a.data * out.grad
    b.grad += b.data * out.grad


def _mul_assign(a, b, out):
    a.grad = b.data * out.grad
    b.grad = a.data * out.grad


def _tanh_input(v, out):
    v.grad += (1 - v.data ** 2) * out.grad


def _tanh_assign(v, out):
    v.grad = (1 - out.data ** 2) * out.grad


def _topo_recursive(root):
    order, seen = [], set()

    def visit(n):
        if n not in seen:
            seen.add(n)
            for p in n._parents:
                visit(p)
            order.append(n)
    visit(root)
    return order


def _topo_no_visited(root):
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents)
    return order


def _topo_root_first(root):
    return _ref_topo(root)[::-1]


def _topo_no_return(root):
    _ref_topo(root)


def _bp_no_seed(root):
    for node in reversed(_ref_topo(root)):
        node._backward()


def _bp_forward_order(root):
    root.grad = 1.0
    for node in _ref_topo(root):
        node._backward()


def _bp_root_only(root):
    root.grad = 1.0
    root._backward()


def _tanh_fn(backward):
    import minigrad as mg

    def forward(ctx, x):
        y = mg.tensor(np.tanh(x._data))
        ctx.save_for_backward(y)
        return y
    return type("Tanh", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _tanh_grad_only(ctx, grad):          # forgot the chain rule's ȳ
    y, = ctx.saved_tensors
    return 1 - y * y


def _tanh_sign(ctx, grad):
    y, = ctx.saved_tensors
    return grad * (y * y - 1)


def _tanh_none(ctx, grad):
    y, = ctx.saved_tensors
    grad * (1 - y * y)


def _bp_calls_unfinished_topo(root):
    def topo_sort(root):                      # task 01.2's stub, as the exercise notebook has it
        raise NotImplementedError("Task 01.2: A topological sort without recursion")
    root.grad = 1.0
    for node in reversed(topo_sort(root)):
        node._backward()


WRONG = {
    "01.1": [(_value_class(_add_assign, _mul_ok), "overwrote the gradient a already had"),
             (_value_class(_add_ok, _mul_same_factor), "the OTHER factor"),
             (_value_class(_add_ok, _mul_assign), "overwrote the gradient a already had")],
    "01.2": [(_topo_recursive, "recursion limit"),
             (_topo_no_visited, "appears"),
             (_topo_root_first, "the root comes first"),
             (_topo_no_return, "forget to return")],
    "01.3": [(_bp_no_seed, "seed it with 1.0"),
             (_bp_forward_order, "REVERSE topological order"),
             (_bp_root_only, "run _backward on every node"),
             (_bp_calls_unfinished_topo, "do task 01.2 first")],
    "01.4": [(_value_class(_add_ok, _mul_ok, _tanh_input), "OUTPUT t = tanh(v)"),
             (_value_class(_add_ok, _mul_ok, _tanh_assign), "accumulate with +=")],
    "01.5": [(_tanh_fn(_tanh_grad_only), "leaves out the upstream gradient"),
             (_tanh_fn(_tanh_sign), "wrong sign"),
             (_tanh_fn(_tanh_none), "forget to return")],
}


def _topo_kahn(root):
    """Kahn's algorithm: count each node's users, emit a node once all its users are out,
    and reverse (a correct order written differently from the solution's)."""
    users, stack, seen = {}, [root], {id(root)}
    while stack:
        node = stack.pop()
        for p in node._parents:
            users[id(p)] = users.get(id(p), 0) + 1
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    ready, order = [root], []
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node._parents:
            users[id(p)] -= 1
            if users[id(p)] == 0:
                ready.append(p)
    return order[::-1]


RIGHT = {"01.2": [_topo_kahn]}
"""Correct answers written differently from the solution notebook's: each must pass."""

