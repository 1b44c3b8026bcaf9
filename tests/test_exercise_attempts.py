"""A held-back set of a learner's attempts at every task, written from the exercise notebooks
alone (the stubs and the task texts, never the solutions): for each task at least three wrong
answers, each with the words its diagnosis must contain, and two right answers written in
different ways. No wrong answer may pass, no right answer may be rejected (also on the
grader's secret cases), and every wrong answer must be told what is wrong with it.

These are not the checkers' own ``WRONG``/``RIGHT`` tables: those are the checkers' authors'
mistakes; these are what a learner writes."""
import collections
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.course.exercises import TASKS, evaluate
from minigrad.course.exercises.core import PROGRESS, SEED

ATTEMPTS = collections.defaultdict(lambda: {"wrong": [], "right": []})


def wrong(task_id, *fragments):
    """Register the decorated attempt as a wrong answer to ``task_id`` whose message must
    contain every fragment (the attempt returns what is passed to ``check``)."""
    def register(make):
        ATTEMPTS[task_id]["wrong"].append((make, fragments))
        return make
    return register


def right(task_id):
    def register(make):
        ATTEMPTS[task_id]["right"].append(make)
        return make
    return register


def backward_of(base, backward):
    """A subclass of the Function ``base`` (a given forward) with the learner's backward."""
    return type(base.__name__, (base,), {"backward": staticmethod(backward)})


# =========================================================================== chapter 01
def make_value(add_bw, mul_bw, tanh_bw=None):
    """The notebook's Value with the learner's closures: ``add_bw(self, other, out)`` etc."""
    class Value:
        def __init__(self, data, _parents=(), _op=""):
            self.data = float(data)
            self.grad = 0.0
            self._parents = _parents
            self._op = _op
            self._backward = lambda: None

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")
            out._backward = lambda: add_bw(self, other, out)
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other), "*")
            out._backward = lambda: mul_bw(self, other, out)
            return out

        __radd__, __rmul__ = __add__, __mul__

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")
            out._backward = lambda: tanh_bw(self, out, t)
            return out
    return Value


def _add_ok(a, b, out):
    a.grad += out.grad
    b.grad += out.grad


def _mul_ok(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def _tanh_ok(x, out, t):
    x.grad += (1 - t ** 2) * out.grad


@wrong("01.1", "+=")
def _():
    def add(a, b, out):
        a.grad = out.grad
        b.grad = out.grad

    def mul(a, b, out):
        a.grad = b.data * out.grad
        b.grad = a.data * out.grad
    return make_value(add, mul)


@wrong("01.1", "OTHER factor")
def _():
    def mul(a, b, out):
        a.grad += a.data * out.grad
        b.grad += b.data * out.grad
    return make_value(_add_ok, mul)


@wrong("01.1", "grad")
def _():
    def add(a, b, out):
        a.grad += 1.0
        b.grad += 1.0
    return make_value(add, _mul_ok)


@right("01.1")
def _():
    return make_value(_add_ok, _mul_ok)


@wrong("01.1", "both uses of a contribute")
def _():
    def mul(a, b, out):                        # in a · a the second assignment wins
        g = out.grad
        a.grad, b.grad = a.grad + g * b.data, b.grad + g * a.data
    return make_value(_add_ok, mul)


@right("01.1")
def _():
    def add(a, b, out):
        for parent in (a, b):
            parent.grad += 1.0 * out.grad

    def mul(a, b, out):
        for p, q in ((a, b), (b, a)):
            p.grad += q.data * out.grad
    return make_value(add, mul)


def _topo_recursive(root):
    order, seen = [], set()

    def visit(v):
        if id(v) not in seen:
            seen.add(id(v))
            for p in v._parents:
                visit(p)
            order.append(v)
    visit(root)
    return order


def _topo_stack(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if id(p) not in seen)
    return order


def _topo_iterators(root):
    """Post-order with a stack of (node, iterator over its parents)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


@wrong("01.2", "recursion limit")
def _():
    return _topo_recursive


@wrong("01.2", "once")
def _():
    def topo_sort(root):                       # every path visits again: no seen set
        order, stack = [], [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            else:
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents)
        return order
    return topo_sort


@wrong("01.2", "the root comes first")
def _():
    def topo_sort(root):                       # pre-order: the root first
        order, seen, stack = [], set(), [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            stack.extend(node._parents)
        return order
    return topo_sort


@right("01.2")
def _():
    return _topo_stack


@right("01.2")
def _():
    return _topo_iterators


@wrong("01.3", "REVERSE topological order")
def _():
    def backprop(root):
        root.grad = 1.0
        for node in _topo_stack(root):
            node._backward()
    return backprop


@wrong("01.3", "seed it with 1.0")
def _():
    def backprop(root):
        for node in reversed(_topo_stack(root)):
            node._backward()
    return backprop


@wrong("01.3", "run _backward on every node")
def _():
    def backprop(root):
        root.grad = 1.0
        root._backward()                       # only the last node
    return backprop


@right("01.3")
def _():
    def backprop(root):
        root.grad = 1.0
        for node in reversed(_topo_stack(root)):
            node._backward()
    return backprop


@right("01.3")
def _():
    def backprop(root):
        order = _topo_iterators(root)
        order[-1].grad = 1.0
        for i in range(len(order) - 1, -1, -1):
            order[i]._backward()
    return backprop


@wrong("01.4", "OUTPUT t = tanh(v)")
def _():
    def tanh_bw(x, out, t):
        x.grad += (1 - x.data ** 2) * out.grad     # the input instead of the output
    return make_value(_add_ok, _mul_ok, tanh_bw)


@wrong("01.4", "+=")
def _():
    def tanh_bw(x, out, t):
        x.grad = (1 - t ** 2) * out.grad
    return make_value(_add_ok, _mul_ok, tanh_bw)


@wrong("01.4", "grad")
def _():
    def tanh_bw(x, out, t):
        x.grad += 1 - t ** 2
    return make_value(_add_ok, _mul_ok, tanh_bw)


@right("01.4")
def _():
    return make_value(_add_ok, _mul_ok, _tanh_ok)


@right("01.4")
def _():
    def tanh_bw(x, out, t):
        x.grad += out.grad / math.cosh(x.data) ** 2
    return make_value(_add_ok, _mul_ok, tanh_bw)


class _TanhBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = mg.tensor(np.tanh(x.data))
        ctx.save_for_backward(y)
        return y


@wrong("01.5", "leaves out the upstream gradient")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return 1 - y ** 2                      # forgot the upstream gradient
    return backward_of(_TanhBase, backward)


@wrong("01.5", "x")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - y) ** 2
    return backward_of(_TanhBase, backward)


@wrong("01.5", "x")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - np.tanh(y.detach().numpy()) ** 2)     # tanh of the output again
    return backward_of(_TanhBase, backward)


@right("01.5")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - y * y)
    return backward_of(_TanhBase, backward)


@right("01.5")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - grad * y ** 2
    return backward_of(_TanhBase, backward)


# =========================================================================== chapter 02
class _PermuteBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return x.data.permute(perm)


@wrong("02.1", "x")
def _():
    return backward_of(_PermuteBase, lambda ctx, grad: (grad.permute(ctx.perm), None))


@wrong("02.1", "one per forward argument")
def _():
    return backward_of(_PermuteBase, lambda ctx, grad: grad.permute(np.argsort(ctx.perm)))


@wrong("02.1", "x")
def _():
    return backward_of(_PermuteBase, lambda ctx, grad: (grad.permute(ctx.perm[::-1]), None))


@right("02.1")
def _():
    def backward(ctx, grad):
        return grad.permute(tuple(int(i) for i in np.argsort(ctx.perm))), None
    return backward_of(_PermuteBase, backward)


@right("02.1")
def _():
    def backward(ctx, grad):
        perm = list(ctx.perm)
        return grad.permute([perm.index(i) for i in range(len(perm))]), None
    return backward_of(_PermuteBase, backward)


@wrong("02.2", "shape")
def _():
    def unbroadcast(grad, shape):              # forgets the dimensions of size 1
        while grad.ndim > len(shape):
            grad = grad.sum(dim=0)
        return grad
    return unbroadcast


@wrong("02.2", "keepdim")
def _():
    def unbroadcast(grad, shape):
        while grad.ndim > len(shape):
            grad = grad.sum(dim=0)
        for i, n in enumerate(shape):
            if n == 1 and grad.shape[i] != 1:
                grad = grad.sum(dim=i)         # drops the dimension
                break
        return grad
    return unbroadcast


@wrong("02.2", "shape")
def _():
    def unbroadcast(grad, shape):
        return grad if tuple(grad.shape) == tuple(shape) else grad.sum()
    return unbroadcast


@right("02.2")
def _():
    def unbroadcast(grad, shape):
        lead = grad.ndim - len(shape)
        if lead:
            grad = grad.sum(dim=tuple(range(lead)))
        dims = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if dims:
            grad = grad.sum(dim=dims, keepdim=True)
        return grad
    return unbroadcast


@right("02.2")
def _():
    def unbroadcast(grad, shape):
        g = grad.numpy()
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for i, n in enumerate(shape):
            if n == 1:
                g = g.sum(axis=i, keepdims=True)
        return mg.tensor(g)
    return unbroadcast


class _DivBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data / b.data


@wrong("02.3", "your gradient for b has shape")
def _():
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return mg.unbroadcast(grad / b, a.shape), -grad * a / b ** 2
    return backward_of(_DivBase, backward)


@wrong("02.3", "wrong sign")
def _():
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return mg.unbroadcast(grad / b, a.shape), mg.unbroadcast(grad * a / b ** 2, b.shape)
    return backward_of(_DivBase, backward)


@wrong("02.3", "your gradient for a")
def _():
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return mg.unbroadcast(grad * b, a.shape), mg.unbroadcast(-grad * a / b ** 2, b.shape)
    return backward_of(_DivBase, backward)


@right("02.3")
def _():
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return mg.unbroadcast(grad / b, a.shape), mg.unbroadcast(-grad * a / (b * b), b.shape)
    return backward_of(_DivBase, backward)


@right("02.3")
def _():
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad * b ** -1
        gb = -(grad * a) * b ** -2
        return mg.unbroadcast(ga, a.shape), mg.unbroadcast(gb, b.shape)
    return backward_of(_DivBase, backward)


class _SplitBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, h):
        B, T, d = x.shape
        ctx.shape = x.shape
        return x.data.reshape(B, T, h, d // h).permute(0, 2, 1, 3)


@wrong("02.4", "straight back")
def _():
    return backward_of(_SplitBase, lambda ctx, grad: (grad.reshape(*ctx.shape), None))


@wrong("02.4", "one per forward argument")
def _():
    return backward_of(_SplitBase,
                       lambda ctx, grad: grad.permute(0, 2, 1, 3).reshape(*ctx.shape))


@wrong("02.4", "x")
def _():
    return backward_of(_SplitBase,
                       lambda ctx, grad: (grad.permute(0, 2, 3, 1).reshape(*ctx.shape), None))


@right("02.4")
def _():
    return backward_of(_SplitBase,
                       lambda ctx, grad: (grad.permute(0, 2, 1, 3).reshape(*ctx.shape), None))


@right("02.4")
def _():
    def backward(ctx, grad):
        B, T, d = ctx.shape
        return grad.transpose(1, 2).reshape(B, T, d), None
    return backward_of(_SplitBase, backward)


# =========================================================================== chapter 03
class _ReLUBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0)


@wrong("03.1", "x > 0, not x ≥ 0")
def _():
    return backward_of(_ReLUBase, lambda ctx, grad: grad * (ctx.saved_tensors[0] >= 0))


@wrong("03.1", "leaves out the upstream gradient")
def _():
    return backward_of(_ReLUBase, lambda ctx, grad: (ctx.saved_tensors[0] > 0) * 1.0)


@wrong("03.1", "x")
def _():
    return backward_of(_ReLUBase, lambda ctx, grad: np.maximum(grad, 0))


@right("03.1")
def _():
    return backward_of(_ReLUBase, lambda ctx, grad: grad * (ctx.saved_tensors[0] > 0))


@right("03.1")
def _():
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return mg.where(x > 0, grad, mg.zeros_like(grad))
    return backward_of(_ReLUBase, backward)


class _LogBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x.data)


@wrong("03.2", "x")
def _():
    return backward_of(_LogBase, lambda ctx, grad: grad * ctx.saved_tensors[0])


@wrong("03.2", "leaves out the upstream gradient")
def _():
    return backward_of(_LogBase, lambda ctx, grad: 1 / ctx.saved_tensors[0])


@wrong("03.2", "x")
def _():
    return backward_of(_LogBase, lambda ctx, grad: grad / ctx.saved_tensors[0] ** 2)


@right("03.2")
def _():
    return backward_of(_LogBase, lambda ctx, grad: grad / ctx.saved_tensors[0])


@right("03.2")
def _():
    return backward_of(_LogBase, lambda ctx, grad: grad * ctx.saved_tensors[0] ** -1)


class _SigmoidBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = mg.tensor(1 / (1 + np.exp(-x.data)))
        ctx.save_for_backward(y)
        return y


@wrong("03.3", "x")
def _():
    return backward_of(_SigmoidBase, lambda ctx, grad: grad * ctx.saved_tensors[0])


@wrong("03.3", "x")
def _():
    return backward_of(_SigmoidBase, lambda ctx, grad: grad * (1 - ctx.saved_tensors[0]))


@wrong("03.3", "x")
def _():
    def backward(ctx, grad):                  # σ of the output: as if y were the input
        y, = ctx.saved_tensors
        s = 1 / (1 + (-y).exp())
        return grad * s * (1 - s)
    return backward_of(_SigmoidBase, backward)


@right("03.3")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y * (1 - y)
    return backward_of(_SigmoidBase, backward)


@right("03.3")
def _():
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y - y * y)
    return backward_of(_SigmoidBase, backward)


class _LinearBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        return x.data @ W.data + b.data


@wrong("03.4", "W")
def _():
    def backward(ctx, grad):                  # the 2-D formulas on a 3-D batch
        x, W = ctx.saved_tensors
        return grad @ W.T, x.mT @ grad, grad.sum(dim=0)
    return backward_of(_LinearBase, backward)


@wrong("03.4", "b")
def _():
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        n_in, n_out = W.shape
        gW = x.reshape(-1, n_in).T @ grad.reshape(-1, n_out)
        return grad @ W.T, gW, grad.sum(dim=0)      # b summed over the first dim only
    return backward_of(_LinearBase, backward)


@wrong("03.4", "transpose")
def _():
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        n_in, n_out = W.shape
        gW = grad.reshape(-1, n_out).T @ x.reshape(-1, n_in)
        return grad @ W.T, gW, grad.reshape(-1, n_out).sum(dim=0)
    return backward_of(_LinearBase, backward)


@right("03.4")
def _():
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        n_in, n_out = W.shape
        X, G = x.reshape(-1, n_in), grad.reshape(-1, n_out)
        return grad @ W.T, X.T @ G, G.sum(dim=0)
    return backward_of(_LinearBase, backward)


@right("03.4")
def _():
    def backward(ctx, grad):
        x, W = ctx.saved_tensors
        g, xn, Wn = grad.numpy(), x.detach().numpy(), W.detach().numpy()
        return (mg.tensor(np.einsum("...o,io->...i", g, Wn)),
                mg.tensor(np.einsum("ni,no->io", xn.reshape(-1, xn.shape[-1]),
                                    g.reshape(-1, g.shape[-1]))),
                mg.tensor(g.reshape(-1, g.shape[-1]).sum(0)))
    return backward_of(_LinearBase, backward)


# =========================================================================== chapter 04
@wrong("04.1", "recursion")
def _():
    def parameters_of(loss):
        found = []

        def walk(fn):
            if fn is None:
                return
            if hasattr(fn, "variable"):
                if not any(v is fn.variable for v in found):
                    found.append(fn.variable)
                return
            for nxt, _ in fn.next_functions:
                walk(nxt)
        walk(loss.grad_fn)
        return found
    return parameters_of


@wrong("04.1", "AccumulateGrad")
def _():
    def parameters_of(loss):                  # the nodes, not their .variable
        found, seen, stack = [], set(), [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            if hasattr(fn, "variable"):
                found.append(fn)
            stack.extend(n for n, _ in fn.next_functions)
        return found
    return parameters_of


@wrong("04.1", "miss")
def _():
    def parameters_of(loss):                  # follows the first input only
        found, fn = [], loss.grad_fn
        while fn is not None:
            if hasattr(fn, "variable"):
                found.append(fn.variable)
                break
            fn = fn.next_functions[0][0] if fn.next_functions else None
        return found
    return parameters_of


@right("04.1")
def _():
    def parameters_of(loss):
        found, seen, stack = [], set(), [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            if hasattr(fn, "variable"):
                found.append(fn.variable)
            stack.extend(n for n, _ in fn.next_functions)
        return found
    return parameters_of


@right("04.1")
def _():
    def parameters_of(loss):
        queue, seen, found = collections.deque([loss.grad_fn]), set(), {}
        while queue:
            fn = queue.popleft()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            if type(fn).__name__ == "AccumulateGrad":
                found[id(fn.variable)] = fn.variable
            for n, _ in fn.next_functions:
                queue.append(n)
        return list(found.values())
    return parameters_of


@wrong("04.2", "in place")
def _():
    def sgd_step(params, lr):
        for p in params:
            if p.grad is not None:
                p = p - lr * p.grad            # rebinds the loop variable only
    return sgd_step


@wrong("04.2", "raised")
def _():
    def sgd_step(params, lr):
        with mg.no_grad():
            for p in params:
                p -= lr * p.grad               # a parameter without gradient
    return sgd_step


@wrong("04.2", "uphill")
def _():
    def sgd_step(params, lr):
        with mg.no_grad():
            for p in params:
                if p.grad is not None:
                    p += lr * p.grad
    return sgd_step


@right("04.2")
def _():
    def sgd_step(params, lr):
        with mg.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return sgd_step


@right("04.2")
def _():
    def sgd_step(params, lr):
        for p in params:
            if p.grad is not None:
                p.data.sub_(lr * p.grad)
    return sgd_step


def _step(model, optimizer, loss_fn, x, y, order, number=True):
    """One training step whose calls come in ``order`` ("zbs": zero_grad, backward, step;
    the loss is computed first); the loss returned as a number or as the tensor."""
    loss = loss_fn(model, x, y)
    for call in order:
        {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[call]()
    return (loss.item() if number == "item" else float(loss.detach())) if number else loss


def _train(order, number=True):
    def train(model, optimizer, loss_fn, X, y, steps):
        return [_step(model, optimizer, lambda m, a, b: loss_fn(m(a), b), X, y, order, number)
                for _ in range(steps)]
    return train


@wrong("04.3", "zero_grad")
def _():
    return _train("bs")                        # never cleared


@wrong("04.3", "zero_grad")
def _():
    return _train("bzs")                       # cleared between backward and step


@wrong("04.3", "return numbers")
def _():
    return _train("zbs", number=False)


@right("04.3")
def _():
    return _train("zbs", number="item")


@right("04.3")
def _():
    return _train("zbs")                       # float(loss.detach())


@wrong("04.4", "k")
def _():
    def accumulate_step(model, optimizer, loss_fn, micro_batches):
        optimizer.zero_grad()
        for X, y in micro_batches:
            loss_fn(model(X), y).backward()    # not divided by k
        optimizer.step()
    return accumulate_step


@wrong("04.4", "zero_grad")
def _():
    def accumulate_step(model, optimizer, loss_fn, micro_batches):
        k = len(micro_batches)
        for X, y in micro_batches:             # stale gradients never cleared
            (loss_fn(model(X), y) / k).backward()
        optimizer.step()
    return accumulate_step


@wrong("04.4", "step")
def _():
    def accumulate_step(model, optimizer, loss_fn, micro_batches):
        k = len(micro_batches)
        for X, y in micro_batches:
            optimizer.zero_grad()
            (loss_fn(model(X), y) / k).backward()
        optimizer.step()                       # only the last micro-batch's gradient
    return accumulate_step


@right("04.4")
def _():
    def accumulate_step(model, optimizer, loss_fn, micro_batches):
        optimizer.zero_grad()
        k = len(micro_batches)
        for X, y in micro_batches:
            (loss_fn(model(X), y) / k).backward()
        optimizer.step()
    return accumulate_step


@right("04.4")
def _():
    def accumulate_step(model, optimizer, loss_fn, micro_batches):
        optimizer.zero_grad()
        total = sum(loss_fn(model(X), y) for X, y in micro_batches) / len(micro_batches)
        total.backward()
        optimizer.step()
    return accumulate_step


# =========================================================================== chapter 05
def _softmax_class(forward, backward):
    return type("Softmax", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _softmax_fw(ctx, x):
    e = (x - x.max(dim=-1, keepdim=True).values).exp()
    s = e / e.sum(dim=-1, keepdim=True)
    ctx.save_for_backward(s)
    return s


def _softmax_bw(ctx, grad):
    s, = ctx.saved_tensors
    return s * (grad - (grad * s).sum(dim=-1, keepdim=True))


@wrong("05.1", "subtract the max")
def _():
    def forward(ctx, x):
        e = x.exp()
        s = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(s)
        return s
    return _softmax_class(forward, _softmax_bw)


@wrong("05.1", "each row's own max")
def _():
    def forward(ctx, x):
        e = (x - x.max()).exp()
        s = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(s)
        return s
    return _softmax_class(forward, _softmax_bw)


@wrong("05.1", "x")
def _():
    def backward(ctx, grad):
        s, = ctx.saved_tensors
        return grad * s * (1 - s)              # the diagonal of the Jacobian only
    return _softmax_class(_softmax_fw, backward)


@right("05.1")
def _():
    return _softmax_class(_softmax_fw, _softmax_bw)


@right("05.1")
def _():
    def forward(ctx, x):
        a = x.detach().numpy()
        m = a.max(-1, keepdims=True)
        lse = m + np.log(np.exp(a - m).sum(-1, keepdims=True))
        s = mg.tensor(np.exp(a - lse))
        ctx.save_for_backward(s)
        return s

    def backward(ctx, grad):
        s, = ctx.saved_tensors
        sg = s * grad
        return sg - s * sg.sum(dim=-1, keepdim=True)
    return _softmax_class(forward, backward)


def _ce_class(backward, forward=None):
    def _forward(ctx, logits, target):
        m = logits.max(dim=-1, keepdim=True).values
        logp = logits - m - (logits - m).exp().sum(dim=-1, keepdim=True).log()
        n = logits.shape[0]
        onehot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
        ctx.save_for_backward(logp.exp(), onehot)
        return -(logp * onehot).sum() / n
    return type("CrossEntropy", (mg.autograd.Function,),
                {"forward": staticmethod(forward or _forward),
                 "backward": staticmethod(backward)})


@wrong("05.2", "batch size")
def _():
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        return (p - y) * grad, None
    return _ce_class(backward)


@wrong("05.2", "leaves out the upstream gradient")
def _():
    def backward(ctx, grad):                   # the upstream gradient forgotten
        p, y = ctx.saved_tensors
        return (p - y) / p.shape[0], None
    return _ce_class(backward)


@wrong("05.2", "one per forward argument")
def _():
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        return (p - y) * grad / p.shape[0]
    return _ce_class(backward)


@right("05.2")
def _():
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        return (p - y) * grad / p.shape[0], None
    return _ce_class(backward)


@right("05.2")
def _():
    def forward(ctx, logits, target):
        x, t = logits.detach().numpy(), target.numpy()
        z = x - x.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        ctx.p, ctx.t = np.exp(logp), t
        return mg.tensor(-logp[np.arange(len(t)), t].mean())

    def backward(ctx, grad):
        g = ctx.p.copy()
        g[np.arange(len(ctx.t)), ctx.t] -= 1
        return mg.tensor(g / len(ctx.t)) * grad, None
    return _ce_class(backward, forward)


class _EmbeddingBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, idx, weight):
        ctx.save_for_backward(idx)
        ctx.num_embeddings = weight.shape[0]
        return weight[idx]


@wrong("05.3", "+=, not =")
def _():
    def backward(ctx, grad):                   # assignment: repeated rows keep one
        idx, = ctx.saved_tensors
        g = np.zeros((ctx.num_embeddings, grad.shape[-1]))
        g[idx.numpy()] = grad.numpy()
        return None, mg.tensor(g)
    return backward_of(_EmbeddingBase, backward)


@wrong("05.3", "in place 1 of its result")
def _():
    def backward(ctx, grad):                   # the gradient in idx's place
        idx, = ctx.saved_tensors
        g = np.zeros((ctx.num_embeddings, grad.shape[-1]))
        np.add.at(g, idx.numpy(), grad.numpy())
        return mg.tensor(g), None
    return backward_of(_EmbeddingBase, backward)


@wrong("05.3", "your code raised RuntimeError: matmul")
def _():
    def backward(ctx, grad):                   # a 1-D idx only
        idx, = ctx.saved_tensors
        onehot = F.one_hot(idx, ctx.num_embeddings).to(grad.dtype)
        return None, onehot.T @ grad
    return backward_of(_EmbeddingBase, backward)


@right("05.3")
def _():
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        g = np.zeros((ctx.num_embeddings, grad.shape[-1]))
        np.add.at(g, idx.numpy(), grad.numpy())
        return None, mg.tensor(g)
    return backward_of(_EmbeddingBase, backward)


@right("05.3")
def _():
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        d = grad.shape[-1]
        onehot = F.one_hot(idx.reshape(-1), ctx.num_embeddings).to(grad.dtype)
        return None, onehot.T @ grad.reshape(-1, d)
    return backward_of(_EmbeddingBase, backward)


class _RMSBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        rstd = ((x * x).mean(dim=-1, keepdim=True) + eps) ** -0.5
        ctx.save_for_backward(x, weight, rstd)
        return x * rstd * weight


def _rms_gamma(x, rstd, grad):
    return (grad * x * rstd).reshape(-1, x.shape[-1]).sum(dim=0)


@wrong("05.4", "x")
def _():
    def backward(ctx, grad):                   # the γ = 1 formula, γ applied outside
        x, w, r = ctx.saved_tensors
        gx = w * r * (grad - x * (grad * x).mean(dim=-1, keepdim=True) * r ** 2)
        return gx, _rms_gamma(x, r, grad), None
    return backward_of(_RMSBase, backward)


@wrong("05.4", "γ")
def _():
    def backward(ctx, grad):
        x, w, r = ctx.saved_tensors
        g = w * grad
        gx = (g - x * (g * x).mean(dim=-1, keepdim=True) * r ** 2) * r
        return gx, grad * x * r, None          # γ's gradient not summed over the batch
    return backward_of(_RMSBase, backward)


@wrong("05.4", "x")
def _():
    def backward(ctx, grad):                   # r treated as a constant
        x, w, r = ctx.saved_tensors
        return grad * w * r, _rms_gamma(x, r, grad), None
    return backward_of(_RMSBase, backward)


@right("05.4")
def _():
    def backward(ctx, grad):
        x, w, r = ctx.saved_tensors
        g = w * grad
        gx = (g - x * (g * x).mean(dim=-1, keepdim=True) * r ** 2) * r
        return gx, _rms_gamma(x, r, grad), None
    return backward_of(_RMSBase, backward)


@right("05.4")
def _():
    def backward(ctx, grad):
        x, w, r = (t.detach().numpy() for t in ctx.saved_tensors)
        g = grad.numpy()
        d = x.shape[-1]
        gh = g * w
        gx = r * gh - x * r ** 3 * (gh * x).sum(-1, keepdims=True) / d
        gw = (g * x * r).reshape(-1, d).sum(0)
        return mg.tensor(gx), mg.tensor(gw), None
    return backward_of(_RMSBase, backward)


class _LNBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        xc = x - x.mean(dim=-1, keepdim=True)
        rstd = ((xc * xc).mean(dim=-1, keepdim=True) + eps) ** -0.5
        xhat = xc * rstd
        ctx.save_for_backward(xhat, weight, rstd)
        return xhat * weight + bias


def _ln_params(xhat, grad):
    d = xhat.shape[-1]
    return (grad * xhat).reshape(-1, d).sum(dim=0), grad.reshape(-1, d).sum(dim=0)


@wrong("05.5", "x")
def _():
    def backward(ctx, grad):                   # only the direct term
        xhat, w, r = ctx.saved_tensors
        return (w * grad * r, *_ln_params(xhat, grad), None)
    return backward_of(_LNBase, backward)


@wrong("05.5", "broadcast")
def _():
    def backward(ctx, grad):
        xhat, w, r = ctx.saved_tensors
        g = w * grad
        gx = (g - g.mean(dim=-1, keepdim=True) -
              xhat * (g * xhat).mean(dim=-1, keepdim=True)) * r
        return gx, (grad * xhat).sum(dim=0), grad.sum(dim=0), None   # 3-D inputs too
    return backward_of(_LNBase, backward)


@wrong("05.5", "one per forward argument")
def _():
    def backward(ctx, grad):
        xhat, w, r = ctx.saved_tensors
        g = w * grad
        gx = (g - g.mean(dim=-1, keepdim=True) -
              xhat * (g * xhat).mean(dim=-1, keepdim=True)) * r
        return (gx, *_ln_params(xhat, grad))
    return backward_of(_LNBase, backward)


@right("05.5")
def _():
    def backward(ctx, grad):
        xhat, w, r = ctx.saved_tensors
        g = w * grad
        gx = (g - g.mean(dim=-1, keepdim=True) -
              xhat * (g * xhat).mean(dim=-1, keepdim=True)) * r
        return (gx, *_ln_params(xhat, grad), None)
    return backward_of(_LNBase, backward)


@right("05.5")
def _():
    def backward(ctx, grad):
        xhat, w, r = (t.detach().numpy() for t in ctx.saved_tensors)
        g = grad.numpy()
        d = xhat.shape[-1]
        gh = g * w
        gx = r / d * (d * gh - gh.sum(-1, keepdims=True) -
                      xhat * (gh * xhat).sum(-1, keepdims=True))
        return (mg.tensor(gx), mg.tensor((g * xhat).reshape(-1, d).sum(0)),
                mg.tensor(g.reshape(-1, d).sum(0)), None)
    return backward_of(_LNBase, backward)


# =========================================================================== chapter 06
@wrong("06.1", "d − 1")
def _():
    return lambda z: (z.mean(dim=-1), z.var(dim=-1))


@wrong("06.1", "shape")
def _():
    return lambda z: (z.mean(dim=-1, keepdim=True), z.var(dim=-1, correction=0, keepdim=True))


@wrong("06.1", "μ")
def _():
    return lambda z: (z.mean(dim=0), z.var(dim=0, correction=0))


@right("06.1")
def _():
    def token_stats(z):
        a = z.numpy()
        return mg.tensor(a.mean(1)), mg.tensor(a.var(1))
    return token_stats


@right("06.1")
def _():
    def token_stats(z):
        mu = z.mean(dim=-1)
        return mu, ((z - mu.unsqueeze(-1)) ** 2).mean(dim=-1)
    return token_stats


_NOTES = dict(X=np.array([[1, 0, 2, 1], [0, 1, 1, 0]], float),
              W1=np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0]], float),
              b1=np.array([0, 1, 0], float),
              W2=np.array([[1, 0, 1, 0], [0, 1, 1, 1], [1, 0, 0, 0]], float),
              T=np.array([[1, 0, 0, 1], [0, 0, 1, 1]], float))


def _notes_numbers():
    n = _NOTES
    V = np.maximum(n["X"] @ n["W1"] + n["b1"], 0)
    Y = V @ n["W2"]
    dY = Y - n["T"]
    return V, dY


@wrong("06.2", "sign")
def _():
    V, dY = _notes_numbers()
    return lambda: (-dY, V.T @ -dY, -dY.sum(0), -dY @ _NOTES["W2"].T)


@wrong("06.2", "transpose")
def _():
    V, dY = _notes_numbers()
    return lambda: (dY, dY.T @ V, dY.sum(0), dY @ _NOTES["W2"].T)


@wrong("06.2", "SUM of the rows")
def _():
    V, dY = _notes_numbers()
    return lambda: (dY, V.T @ dY, dY, dY @ _NOTES["W2"].T)


@right("06.2")
def _():
    return lambda: ([[3, 2, 5, 1], [2, 2, 2, 1]], [[11, 8, 17, 4], [10, 8, 14, 4], [5, 4, 7, 2]],
                    [5, 4, 7, 2], [[8, 8, 3], [4, 5, 2]])


@right("06.2")
def _():
    V, dY = _notes_numbers()
    return lambda: (mg.tensor(dY), mg.tensor(V.T @ dY), mg.tensor(dY.sum(0)),
                    mg.tensor(dY @ _NOTES["W2"].T))


@wrong("06.3", "ReLU")
def _():
    def ffn_backward(X, W1, b1, W2, b2, dY):
        V = (X @ W1 + b1).relu()
        dZ = dY @ W2.T
        return dZ @ W1.T, X.T @ dZ, dZ.sum(dim=0), V.T @ dY, dY.sum(dim=0)
    return ffn_backward


@wrong("06.3", "b1")
def _():
    def ffn_backward(X, W1, b1, W2, b2, dY):
        Z = X @ W1 + b1
        V = Z.relu()
        dZ = (dY @ W2.T) * (Z > 0)
        return dZ @ W1.T, X.T @ dZ, dZ.sum(dim=1), V.T @ dY, dY.sum(dim=0)   # wrong axis
    return ffn_backward


@wrong("06.3", "X")
def _():
    def ffn_backward(X, W1, b1, W2, b2, dY):
        Z = X @ W1 + b1
        V = Z.relu()
        dZ = (dY @ W2.T) * (Z > 0)
        return dZ @ W1.T @ W1 @ W1.T, X.T @ dZ, dZ.sum(dim=0), V.T @ dY, dY.sum(dim=0)
    return ffn_backward


@right("06.3")
def _():
    def ffn_backward(X, W1, b1, W2, b2, dY):
        V = (X @ W1 + b1).relu()
        dZ = (dY @ W2.T) * (V > 0)             # V > 0 exactly where Z > 0
        return dZ @ W1.T, X.T @ dZ, dZ.sum(dim=0), V.T @ dY, dY.sum(dim=0)
    return ffn_backward


@right("06.3")
def _():
    def ffn_backward(X, W1, b1, W2, b2, dY):
        x, w1, c1, w2, g = (t.detach().numpy() for t in (X, W1, b1, W2, dY))
        z = x @ w1 + c1
        dz = np.einsum("nd,hd->nh", g, w2) * (z > 0)
        return (np.einsum("nh,dh->nd", dz, w1), np.einsum("nd,nh->dh", x, dz), dz.sum(0),
                np.einsum("nh,nd->hd", np.maximum(z, 0), g), g.sum(0))
    return ffn_backward


class _Split06Base(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, num_heads):
        n, d_model = x.shape
        ctx.shape = (n, d_model)
        return x.reshape(n, num_heads, d_model // num_heads).transpose(0, 1)


@wrong("06.4", "the backward of split is a merge")
def _():
    return backward_of(_Split06Base, lambda ctx, grad: (grad.reshape(*ctx.shape), None))


@wrong("06.4", "one per forward argument")
def _():
    return backward_of(_Split06Base,
                       lambda ctx, grad: grad.transpose(0, 1).reshape(*ctx.shape))


@wrong("06.4", "x")
def _():
    return backward_of(_Split06Base,
                       lambda ctx, grad: (grad.transpose(1, 2).reshape(*ctx.shape), None))


@right("06.4")
def _():
    return backward_of(_Split06Base,
                       lambda ctx, grad: (grad.transpose(0, 1).reshape(*ctx.shape), None))


@right("06.4")
def _():
    def backward(ctx, grad):
        return mg.cat([grad[i] for i in range(grad.shape[0])], dim=1), None
    return backward_of(_Split06Base, backward)


def _mlp_grads(t, dloss, slip=None):
    """The learner's whole backward of 06.5, in numpy, with one slip on request."""
    a = {k: v.numpy() for k, v in t.items()}
    n, vocab = a["logits"].shape
    H = a["hpre"].shape[1]
    r = np.arange(n)
    d = {}
    d["logprobs"] = np.zeros((n, vocab))
    d["logprobs"][r, a["Yb"]] = -(1.0 if slip == "no_dloss" else dloss) / n
    d["probs"] = d["logprobs"] / a["probs"]
    d["counts_sum_inv"] = (d["probs"] * a["counts"]).sum(1, keepdims=True)
    d["counts_sum"] = -a["counts_sum"] ** -2 * d["counts_sum_inv"]
    d["counts"] = d["probs"] * a["counts_sum_inv"] + d["counts_sum"]
    d["norm_logits"] = d["counts"] * a["counts"]
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdims=True)
    d["logits"] = d["norm_logits"].copy()
    d["logits"][r, a["logits"].argmax(1)] += d["logit_maxes"][:, 0]
    d["h"] = d["logits"] @ a["W2"].T
    d["W2"] = a["h"].T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["hln"] = (1 - a["h"] ** 2) * d["h"]
    d["gamma"] = (a["raw"] * d["hln"]).sum(0)
    d["beta"] = d["hln"].sum(0)
    d["raw"] = a["gamma"] * d["hln"]
    d["var_inv"] = a["diff"] * d["raw"]
    if slip != "var_inv_not_summed":
        d["var_inv"] = d["var_inv"].sum(1, keepdims=True)
    d["var"] = -0.5 * a["var_inv"] ** 3 * d["var_inv"]
    d["diff2"] = np.ones_like(a["diff2"]) * d["var"] / H
    d["diff"] = a["var_inv"] * d["raw"] + 2 * a["diff"] * d["diff2"]
    d["mu"] = -d["diff"].sum(1, keepdims=True)
    d["hpre"] = d["diff"] + d["mu"] / H
    d["embcat"] = d["hpre"] @ a["W1"].T
    d["W1"] = a["embcat"].T @ d["hpre"]
    d["b1"] = d["hpre"].sum(1 if slip == "b1_axis" else 0)
    shape = a["emb"].shape
    d["emb"] = d["embcat"].reshape((shape[0], shape[2], shape[1]) if slip == "emb_shape"
                                   else shape)
    d["C"] = np.zeros_like(a["C"])
    if slip != "emb_shape":
        for i in range(n):                     # a loop with +=: repeated rows add up
            for j in range(shape[1]):
                d["C"][a["Xb"][i, j]] += d["emb"][i, j]
    return d


@wrong("06.5", "the first wrong one, logprobs", "leaves out the upstream gradient")
def _():
    return lambda t, dloss: _mlp_grads(t, dloss, "no_dloss")


@wrong("06.5", "the first wrong one, var_inv", "broadcast")
def _():
    return lambda t, dloss: _mlp_grads(t, dloss, "var_inv_not_summed")


@wrong("06.5", "the first wrong one, b1", "shape")
def _():
    return lambda t, dloss: _mlp_grads(t, dloss, "b1_axis")


@wrong("06.5", "the first wrong one, emb", "shape")
def _():
    return lambda t, dloss: _mlp_grads(t, dloss, "emb_shape")


@right("06.5")
def _():
    return _mlp_grads


@right("06.5")
def _():
    def mlp_backward(t, dloss):
        d = _mlp_grads(t, dloss)
        a = {k: v.numpy() for k, v in t.items()}
        n = a["logits"].shape[0]
        d["logits"] = a["probs"].copy()        # the fused cross-entropy gradient
        d["logits"][np.arange(n), a["Yb"]] -= 1
        d["logits"] *= dloss / n
        d["C"] = np.zeros_like(a["C"])
        np.add.at(d["C"], a["Xb"], d["emb"])
        return {k: mg.tensor(v) for k, v in d.items()}
    return mlp_backward


# =========================================================================== chapter 07
@wrong("07.1", "only the Q branch")
def _():
    return lambda dQ, dK, dV, Wq, Wk, Wv: dQ @ Wq.T


@wrong("07.1", "missing transpose?")
def _():
    return lambda dQ, dK, dV, Wq, Wk, Wv: dQ @ Wq + dK @ Wk + dV @ Wv


@wrong("07.1", "0.3333×")
def _():
    return lambda dQ, dK, dV, Wq, Wk, Wv: (dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T) / 3


@right("07.1")
def _():
    return lambda dQ, dK, dV, Wq, Wk, Wv: dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T


@right("07.1")
def _():
    def input_grad(dQ, dK, dV, Wq, Wk, Wv):
        return sum(np.einsum("nd,kd->nk", g.numpy(), W.numpy())
                   for g, W in ((dQ, Wq), (dK, Wk), (dV, Wv)))
    return input_grad


@wrong("07.2", "D")
def _():
    return lambda O, dO: (O * dO).sum()


@wrong("07.2", "LAST dimension")
def _():
    return lambda O, dO: (O * dO).sum(dim=-1, keepdim=True)


@wrong("07.2", "D")
def _():
    return lambda O, dO: (O * dO).sum(dim=0)


@right("07.2")
def _():
    return lambda O, dO: (dO * O).sum(dim=-1)


@right("07.2")
def _():
    return lambda O, dO: np.einsum("...nd,...nd->...n", O.numpy(), dO.numpy())


class _AttnBase(mg.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        scale = q.shape[-1] ** -0.5
        s = q @ k.transpose(-2, -1) * scale
        a = (s - s.max(dim=-1, keepdim=True).values).exp()
        a = a / a.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(q, k, v, a)
        ctx.scale = scale
        return a @ v


def _attn_bw(scaled=True, rowsum=True, k_transposed=True):
    def backward(ctx, grad):
        q, k, v, a = ctx.saved_tensors
        dv = a.transpose(-2, -1) @ grad
        da = grad @ v.transpose(-2, -1)
        ds = a * (da - (da * a).sum(dim=-1, keepdim=True)) if rowsum else a * da
        if scaled:
            ds = ds * ctx.scale
        dk = ds.transpose(-2, -1) @ q if k_transposed else ds @ q
        return ds @ k, dk, dv
    return backward


@wrong("07.3", "scale")
def _():
    return backward_of(_AttnBase, _attn_bw(scaled=False))


@wrong("07.3", "as if it were elementwise")
def _():
    return backward_of(_AttnBase, _attn_bw(rowsum=False))


@wrong("07.3", "missing transpose?")
def _():
    return backward_of(_AttnBase, _attn_bw(k_transposed=False))


@right("07.3")
def _():
    return backward_of(_AttnBase, _attn_bw())


@right("07.3")
def _():
    def backward(ctx, grad):
        q, k, v, a = (t.detach().numpy() for t in ctx.saved_tensors)
        g = grad.numpy()
        da = np.einsum("hnd,hmd->hnm", g, v)
        ds = a * (da - np.einsum("hnm,hnm->hn", da, a)[..., None]) * ctx.scale
        return (mg.tensor(np.einsum("hnm,hmd->hnd", ds, k)),
                mg.tensor(np.einsum("hnm,hnd->hmd", ds, q)),
                mg.tensor(np.einsum("hnm,hnd->hmd", a, g)))
    return backward_of(_AttnBase, backward)


def _mha_by_hand(x, P, dO, num_heads, slip=None):
    n, d_model = x.shape
    d = d_model // num_heads
    split = lambda t: t.reshape(n, num_heads, d).transpose(0, 1)
    merge = lambda t: t.transpose(0, 1).reshape(n, d_model)
    proj = {s: x @ P["W_" + s] + P["b_" + s] for s in "qkv"}
    q, k, v = (split(proj[s]) for s in "qkv")
    a = (q @ k.transpose(-2, -1) / d ** 0.5).softmax(dim=-1)
    merged = merge(a @ v)
    g = {"W_out": merged.T @ dO, "b_out": dO.sum(dim=0)}
    dmerged = dO @ P["W_out"].T
    dctx = split(dmerged)
    dv = a.transpose(-2, -1) @ dctx
    da = dctx @ v.transpose(-2, -1)
    ds = a * (da - (da * a).sum(dim=-1, keepdim=True)) / d ** 0.5
    dq, dk = ds @ k, ds.transpose(-2, -1) @ q
    dx = 0
    for s, dh in zip("qkv", (dq, dk, dv)):
        dproj = dh.reshape(n, d_model) if slip == "no_merge" else merge(dh)
        g["W_" + s] = x.T @ dproj
        g["b_" + s] = dproj if slip == "bias_rows" else dproj.sum(dim=0)
        if slip != "q_only" or s == "q":
            dx = dx + dproj @ P["W_" + s].T
    g["x"] = dx
    return g


@wrong("07.4", "x")
def _():
    return lambda x, P, dO, h: _mha_by_hand(x, P, dO, h, "q_only")


@wrong("07.4", "b_", "broadcast")
def _():
    return lambda x, P, dO, h: _mha_by_hand(x, P, dO, h, "bias_rows")


@wrong("07.4", "W_")
def _():
    return lambda x, P, dO, h: _mha_by_hand(x, P, dO, h, "no_merge")


@right("07.4")
def _():
    return _mha_by_hand


@right("07.4")
def _():
    def mha_backward(x, P, dO, num_heads):     # numpy, the heads one at a time
        X, G = x.numpy(), dO.numpy()
        p = {k: v.numpy() for k, v in P.items()}
        n, dm = X.shape
        d = dm // num_heads
        proj = {s: X @ p["W_" + s] + p["b_" + s] for s in "qkv"}
        dproj = {s: np.zeros((n, dm)) for s in "qkv"}
        merged = np.zeros((n, dm))
        dmerged = G @ p["W_out"].T
        for i in range(num_heads):
            cols = slice(i * d, (i + 1) * d)
            q, k, v = (proj[s][:, cols] for s in "qkv")
            s_ = q @ k.T / math.sqrt(d)
            a = np.exp(s_ - s_.max(1, keepdims=True))
            a /= a.sum(1, keepdims=True)
            merged[:, cols] = a @ v
            dc = dmerged[:, cols]
            da = dc @ v.T
            ds = a * (da - (da * a).sum(1, keepdims=True)) / math.sqrt(d)
            dproj["q"][:, cols] = ds @ k
            dproj["k"][:, cols] = ds.T @ q
            dproj["v"][:, cols] = a.T @ dc
        out = {"W_out": merged.T @ G, "b_out": G.sum(0), "x": 0}
        for s in "qkv":
            out["W_" + s] = X.T @ dproj[s]
            out["b_" + s] = dproj[s].sum(0)
            out["x"] = out["x"] + dproj[s] @ p["W_" + s].T
        return out
    return mha_backward


# =========================================================================== chapter 08
def _block(m, i, j, tile):
    return m[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]


@wrong("08.1", "count tiles, not rows")
def _():
    return lambda m, i, j, tile: m[i:i + tile, j:j + tile]


@wrong("08.1", "Python slices exclude their end")
def _():
    return lambda m, i, j, tile: m[i * tile:(i + 1) * tile - 1, j * tile:(j + 1) * tile - 1]


@wrong("08.1", "i and j are swapped")
def _():
    return lambda m, i, j, tile: m[j * tile:(j + 1) * tile, i * tile:(i + 1) * tile]


@right("08.1")
def _():
    return _block


@right("08.1")
def _():
    def block(m, i, j, tile):
        rows = range(i * tile, min((i + 1) * tile, m.shape[0]))
        cols = range(j * tile, min((j + 1) * tile, m.shape[1]))
        return np.asarray(m)[np.ix_(list(rows), list(cols))]
    return block


def _tiled(a, b, tile, block=_block):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n))
    for i in range(-(-m // tile)):
        for j in range(-(-n // tile)):
            acc = np.zeros(block(c, i, j, tile).shape)
            for t in range(-(-k // tile)):
                acc += block(a, i, t, tile) @ block(b, t, j, tile)
            c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] = acc
    return c


@wrong("08.2", "leaves out the edge tiles")
def _():
    def tiled_matmul(a, b, tile):              # m // T tiles: the edges are lost
        m, k = a.shape
        n = b.shape[1]
        c = np.zeros((m, n))
        for i in range(m // tile):
            for j in range(n // tile):
                for t in range(k // tile):
                    c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] += \
                        _block(a, i, t, tile) @ _block(b, t, j, tile)
        return c
    return tiled_matmul


@wrong("08.2", "not keep the last one (=)")
def _():
    def tiled_matmul(a, b, tile):              # overwrites instead of accumulating
        m, k = a.shape
        n = b.shape[1]
        c = np.zeros((m, n))
        for i in range(-(-m // tile)):
            for j in range(-(-n // tile)):
                for t in range(-(-k // tile)):
                    c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] = \
                        _block(a, i, t, tile) @ _block(b, t, j, tile)
        return c
    return tiled_matmul


@wrong("08.2", "every block is at most")
def _():
    def tiled_matmul(a, b, tile):              # the whole product, then cut into tiles
        full = np.asarray(a) @ np.asarray(b)
        c = np.zeros_like(full)
        for i in range(-(-full.shape[0] // tile)):
            for j in range(-(-full.shape[1] // tile)):
                c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] = _block(full, i, j, tile)
        return c
    return tiled_matmul


@right("08.2")
def _():
    return _tiled


@right("08.2")
def _():
    def tiled_matmul(a, b, tile):
        m, k = a.shape
        n = b.shape[1]
        c = np.zeros((m, n))
        for i0 in range(0, m, tile):
            for j0 in range(0, n, tile):
                acc = 0
                for t0 in range(0, k, tile):
                    acc = acc + a[i0:i0 + tile, t0:t0 + tile] @ b[t0:t0 + tile, j0:j0 + tile]
                c[i0:i0 + tile, j0:j0 + tile] = acc
        return c
    return tiled_matmul


@wrong("08.3", "returned (B̄, Ā)")
def _():
    return lambda a, b, c_bar, tile: (_tiled(a.T, c_bar, tile), _tiled(c_bar, b.T, tile))


@wrong("08.3", "every block is at most")
def _():
    return lambda a, b, c_bar, tile: (c_bar @ b.T, a.T @ c_bar)     # not tiled


@wrong("08.3", "missing transpose?")
def _():
    return lambda a, b, c_bar, tile: (_tiled(c_bar, b.T, tile), _tiled(c_bar.T, a, tile))


@right("08.3")
def _():
    return lambda a, b, c_bar, tile: (_tiled(c_bar, b.T, tile), _tiled(a.T, c_bar, tile))


@right("08.3")
def _():
    def tiled_matmul_backward(a, b, c_bar, tile):
        bt, at = np.ascontiguousarray(b.T), np.ascontiguousarray(a.T)
        return _tiled(c_bar, bt, tile), _tiled(at, c_bar, tile)
    return tiled_matmul_backward


def _tmm_class(backward):
    def forward(ctx, a, b, tile):
        ctx.save_for_backward(a, b)
        ctx.tile = tile
        return _tiled(a.data.numpy(), b.data.numpy(), tile)
    cls = type("TiledMatMul", (mg.autograd.Function,), {"forward": staticmethod(forward)})
    cls.backward = staticmethod(lambda ctx, grad: backward(cls, ctx, grad))
    return cls


@wrong("08.4", "carry no graph")
def _():
    def backward(cls, ctx, grad):              # numpy: cannot be differentiated again
        a, b = ctx.saved_tensors
        g = grad.numpy()
        return (mg.tensor(_tiled(g, b.detach().numpy().T, ctx.tile)),
                mg.tensor(_tiled(a.detach().numpy().T, g, ctx.tile)), None)
    return _tmm_class(backward)


@wrong("08.4", "one per forward argument")
def _():
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        return cls.apply(grad, b.mT, ctx.tile), cls.apply(a.mT, grad, ctx.tile)
    return _tmm_class(backward)


@wrong("08.4", "every block is at most")
def _():
    def backward(cls, ctx, grad):              # plain @: not tiled
        a, b = ctx.saved_tensors
        return grad @ b.mT, a.mT @ grad, None
    return _tmm_class(backward)


@right("08.4")
def _():
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        return cls.apply(grad, b.mT, ctx.tile), cls.apply(a.mT, grad, ctx.tile), None
    return _tmm_class(backward)


@right("08.4")
def _():
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        return (cls.apply(grad, b.transpose(0, 1), ctx.tile),
                cls.apply(a.transpose(-2, -1), grad, ctx.tile), None)
    return _tmm_class(backward)


# =========================================================================== chapter 09
@wrong("09.1", "zero_grad")
def _():
    return lambda model, opt, loss_fn, x, y: _step(model, opt, loss_fn, x, y, "bs")


@wrong("09.1", "zero_grad")
def _():
    return lambda model, opt, loss_fn, x, y: _step(model, opt, loss_fn, x, y, "bzs")


@wrong("09.1", "number")
def _():
    return lambda model, opt, loss_fn, x, y: _step(model, opt, loss_fn, x, y, "zbs", False)


@right("09.1")
def _():
    return lambda model, opt, loss_fn, x, y: _step(model, opt, loss_fn, x, y, "zbs", "item")


@right("09.1")
def _():
    def train_step(model, optimizer, loss_fn, x, y):
        optimizer.zero_grad()
        loss = loss_fn(model, x, y)
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    return train_step


@wrong("09.2", "1 − μ")
def _():
    def step(theta, grad, buf, lr, momentum):
        buf = grad.copy() if buf is None else momentum * buf + (1 - momentum) * grad
        return theta - lr * buf, buf
    return step


@wrong("09.2", "buf")
def _():
    def step(theta, grad, buf, lr, momentum):  # lr inside the buffer
        buf = lr * grad if buf is None else momentum * buf + lr * grad
        return theta - buf, buf
    return step


@wrong("09.2", "θ")
def _():
    def step(theta, grad, buf, lr, momentum):  # θ moved with the old buffer
        new = grad.copy() if buf is None else momentum * buf + grad
        return theta - lr * (grad if buf is None else buf), new
    return step


@right("09.2")
def _():
    def step(theta, grad, buf, lr, momentum):
        buf = grad.copy() if buf is None else momentum * buf + grad
        return theta - lr * buf, buf
    return step


@right("09.2")
def _():
    def step(theta, grad, buf, lr, momentum):
        buf = np.array(grad, copy=True) if buf is None else np.add(momentum * buf, grad)
        theta = theta.copy()
        theta -= lr * buf
        return theta, buf
    return step


def _adamw(theta, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
           slip=None):
    b1, b2 = betas
    if slip == "l2":
        grad = grad + weight_decay * theta
    else:
        theta = theta - lr * weight_decay * theta
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    if slip == "no_bias_correction":
        mh, vh = m, v
    else:
        mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
    denom = np.sqrt(vh + eps) if slip == "eps_inside" else np.sqrt(vh) + eps
    return theta - lr * mh / denom, m, v


@wrong("09.3", "θ")
def _():
    return lambda *a, **k: _adamw(*a, slip="l2", **k)


@wrong("09.3", "bias correction")
def _():
    return lambda *a, **k: _adamw(*a, slip="no_bias_correction", **k)


@wrong("09.3", "ε")
def _():
    return lambda *a, **k: _adamw(*a, slip="eps_inside", **k)


@right("09.3")
def _():
    return _adamw


@right("09.3")
def _():
    def adamw_step(theta, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=1e-2):          # torch's own arrangement of the terms
        b1, b2 = betas
        theta = theta * (1 - lr * weight_decay)
        m = m * b1 + grad * (1 - b1)
        v = v * b2 + grad * grad * (1 - b2)
        step_size = lr / (1 - b1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
        return theta - step_size * m / denom, m, v
    return adamw_step


def _adamw_class(update="inplace", key="object", skip_none=True):
    class AdamW:
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
            self.params = list(params)
            self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
            self.state = {}

        def zero_grad(self):
            for p in self.params:
                p.grad = None

        def step(self):
            for i, p in enumerate(self.params):
                if p.grad is None and skip_none:
                    continue
                k = {"object": p, "id": id(p), "shape": tuple(p.shape)}[key]
                m, v, t = self.state.get(k, (0.0, 0.0, 0))
                g = p.grad.numpy() if p.grad is not None else 0.0
                theta, m, v = _adamw(p.data.numpy().copy(), g, m, v, t + 1, self.lr,
                                     self.betas, self.eps, self.weight_decay)
                self.state[k] = (m, v, t + 1)
                if update == "inplace":
                    p.data[...] = theta
                else:
                    p = mg.tensor(theta)       # rebinds the loop variable only
    return AdamW


@wrong("09.4", "only rebinds a local name")
def _():
    return _adamw_class(update="rebind")


@wrong("09.4", "not per shape")
def _():
    return _adamw_class(key="shape")


@wrong("09.4", "is skipped")
def _():
    return _adamw_class(skip_none=False)


@right("09.4")
def _():
    return _adamw_class()


@right("09.4")
def _():
    return _adamw_class(key="id")


# =========================================================================== chapter 10
@wrong("10.1", "distinct activation buffers")
def _():
    # every save counted: x and W per MatMul, each ReLU output again, h for the product
    return lambda L, batch, width, itemsize=8: (
        (2 * L + 1) * batch * width + L * width * width) * itemsize


@wrong("10.1", "you counted the weights")
def _():
    return lambda L, batch, width, itemsize=8: ((L + 1) * batch * width +
                                                L * width * width) * itemsize


@wrong("10.1", "you left out the input x")
def _():
    return lambda L, batch, width, itemsize=8: L * batch * width * itemsize   # x forgotten


@right("10.1")
def _():
    return lambda L, batch, width, itemsize=8: (L + 1) * batch * width * itemsize


@right("10.1")
def _():
    def activation_bytes(n_layers, batch, width, itemsize=8):
        buffers = ["x"] + [f"relu{i}" for i in range(n_layers)]   # h is the last relu
        return len(set(buffers)) * batch * width * itemsize
    return activation_bytes


def _linear_tanh(save_z=False, slip=None):
    def forward(ctx, x, W):
        z = x @ W
        y = z.tanh()
        ctx.save_for_backward(x, W, y, z) if save_z else ctx.save_for_backward(x, W, y)
        return y

    def backward(ctx, grad):
        x, W, y = ctx.saved_tensors[:3]
        gz = grad * (1 - (x @ W) ** 2) if slip == "z" else grad * (1 - y * y)
        if slip == "transposed":
            return (gz @ W.T).T, x.T @ gz
        return gz @ W.T, x.T @ gz
    return type("LinearTanh", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@wrong("10.2", "needs the output y, not the pre-activation")
def _():
    return _linear_tanh(save_z=True)


@wrong("10.2", "your gradient for x is wrong")
def _():
    return _linear_tanh(slip="z")


@wrong("10.2", "transpose")
def _():
    return _linear_tanh(slip="transposed")


@right("10.2")
def _():
    return _linear_tanh()


@right("10.2")
def _():
    def forward(ctx, x, W):
        y = mg.tensor(np.tanh(x.detach().numpy() @ W.detach().numpy()))
        ctx.save_for_backward(x, W, y)
        return y

    def backward(ctx, grad):
        x, W, y = ctx.saved_tensors
        gz = grad - grad * y ** 2
        return gz @ W.mT, x.mT @ gz
    return type("LinearTanh", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _checkpoint(enable_grad=True, keep_graph=False, with_none=True, use_grad=False,
                tensor_backward=False):
    def forward(ctx, fn, *args):
        ctx.fn = fn
        ctx.save_for_backward(*args)
        if keep_graph:                         # the segment's graph kept for backward
            ctx.inputs = [a.detach().requires_grad_(a.requires_grad) for a in args]
            with mg.enable_grad():
                ctx.out = fn(*ctx.inputs)
            return ctx.out.detach()
        return fn(*args)

    def backward(ctx, grad):
        if keep_graph:
            mg.autograd.backward(ctx.out, grad)
            return (None,) + tuple(a.grad for a in ctx.inputs)
        inputs = [a.detach().requires_grad_(a.requires_grad) for a in ctx.saved_tensors]
        if enable_grad:
            with mg.enable_grad():
                out = ctx.fn(*inputs)
        else:
            out = ctx.fn(*inputs)
        if use_grad:
            wanted = [a for a in inputs if a.requires_grad]
            got = iter(mg.autograd.grad(out, wanted, grad, allow_unused=True))
            grads = tuple(next(got) if a.requires_grad else None for a in inputs)
        else:
            out.backward(grad) if tensor_backward else mg.autograd.backward(out, grad)
            grads = tuple(a.grad for a in inputs)
        return ((None,) + grads) if with_none else grads
    return type("Checkpoint", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@wrong("10.3", "enable_grad")
def _():
    return _checkpoint(enable_grad=False)


@wrong("10.3", "is still alive")
def _():
    return _checkpoint(keep_graph=True)


@wrong("10.3", "one per forward argument")
def _():
    return _checkpoint(with_none=False)


@right("10.3")
def _():
    return _checkpoint()


@wrong("10.3", "a parameter inside")
def _():
    return _checkpoint(use_grad=True)          # grad() of the inputs: fn's parameters get nothing


@right("10.3")
def _():
    return _checkpoint(tensor_backward=True)


def _dropout(scale=True, generator="mg", redraw=False, on_ctx=False):
    def draw(x, p):
        if generator == "mg":
            return (mg.rand_like(x) >= p).to(x.dtype)
        return mg.tensor((np.random.default_rng().random(tuple(x.shape)) >= p).astype(float))

    def forward(ctx, x, p):
        mask = draw(x, p) / ((1 - p) if scale else 1)
        ctx.p = p
        if on_ctx:
            ctx.mask = mask
        else:
            ctx.save_for_backward(mask)
        ctx.x = x.detach() if redraw else None
        return x * mask

    def backward(ctx, grad):
        if redraw:
            mask = draw(ctx.x, ctx.p) / (1 - ctx.p)
        else:
            mask = ctx.mask if on_ctx else ctx.saved_tensors[0]
        return grad * mask, None
    return type("Dropout", (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@wrong("10.4", "1 − p")
def _():
    return _dropout(scale=False)


@wrong("10.4", "generator")
def _():
    return _dropout(generator="numpy")


@wrong("10.4", "mask")
def _():
    return _dropout(redraw=True)


@right("10.4")
def _():
    return _dropout()


@right("10.4")
def _():
    return _dropout(on_ctx=True)


# =========================================================================== the proof
def _cases(kind):
    for tid in sorted(ATTEMPTS):
        for k, entry in enumerate(ATTEMPTS[tid][kind]):
            yield pytest.param(tid, entry, id=f"{tid}-{kind}-{k}")


def test_every_task_has_three_wrong_and_two_right_attempts():
    assert set(ATTEMPTS) == set(TASKS)
    for tid, a in ATTEMPTS.items():
        assert len(a["wrong"]) >= 3 and len(a["right"]) >= 2, tid


def _as_args(obj):
    return obj if isinstance(obj, tuple) else (obj,)


@pytest.fixture
def learner_progress():
    """A learner who has read every hint (so a failed check states the rule)."""
    saved = {k: dict(v) for k, v in PROGRESS.items()}
    for v in PROGRESS.values():
        v.clear()
    yield PROGRESS
    for k, v in saved.items():
        PROGRESS[k].clear()
        PROGRESS[k].update(v)


@pytest.mark.parametrize("tid, entry", list(_cases("wrong")))
def test_a_wrong_attempt_fails_with_a_diagnosis_that_fits(tid, entry, learner_progress):
    make, fragments = entry
    learner_progress["hints"][tid] = 99
    result = evaluate(tid, *_as_args(make()))
    assert result.status == "fail", result.line
    for fragment in fragments:
        assert fragment in result.message, f"expected {fragment!r} in: {result.line}"


@pytest.mark.parametrize("offset", [0, 424242])
@pytest.mark.parametrize("tid, make", list(_cases("right")))
def test_a_right_attempt_passes(tid, make, offset):
    SEED["offset"] = offset
    try:
        result = evaluate(tid, *_as_args(make()))
    finally:
        SEED["offset"] = 0
    assert result.status == "pass", result.line
