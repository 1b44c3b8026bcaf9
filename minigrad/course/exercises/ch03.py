"""Chapter 03 — from layers to atomic operations: the VJPs of ReLU, log and sigmoid, and the
linear layer's three gradients, each an ``mg.autograd.Function`` checked against torch."""
import numpy as np

from ..lang import tr
from .core import (Misconception, as_numpy, assert_close_or_explain, check_function_vjp,
                   function_vjp, seeded, task, torch_vjp)


def _mg():
    import minigrad as mg
    return mg


def _shape(rng):
    return (int(rng.integers(2, 5)), int(rng.integers(2, 5)))


# --------------------------------------------------------------------------- 03.1
@task("03.1", title="The VJP of ReLU",
      goal="Write ReLU.backward: x̄ = ȳ ⊙ 1(x > 0)", difficulty=1, minutes=5)
def _(ReLU):
    import minigrad as mg
    import torch

    def inputs(rng):
        x = rng.standard_normal(_shape(rng))
        x[0, 0] = -abs(x[0, 0]) - 0.5                   # at least one blocked unit
        x[-1, -1] = abs(x[-1, -1]) + 0.5                # and one open
        return [x]
    formula = tr("x̄ = ȳ ⊙ 1(x > 0): the gate passes ȳ where x > 0, else 0")
    check_function_vjp(ReLU, torch.relu, inputs, names=["x"], formulas=[formula])
    # x = 0 exactly (kept out of the finite differences, which see a kink there): torch's
    # derivative at 0 is 0
    x = np.array([[0.0, -1.0, 2.0], [0.0, 3.0, -0.5]])
    up = seeded(31).standard_normal(x.shape)
    _, (ref,) = torch_vjp(torch.relu, [x], up)
    _, (got,) = function_vjp(ReLU, [mg.tensor(x, dtype=mg.float64, requires_grad=True)],
                             mg.tensor(up))
    g = None if got is None else as_numpy(got)
    if g is not None and g.shape == x.shape and np.allclose(g[x == 0], up[x == 0]) and \
            np.allclose(g[x != 0], ref[x != 0]):
        raise Misconception(tr("at x = 0 exactly your gate lets ȳ through: torch takes ReLU's "
                               "derivative at 0 as 0 — the gate is x > 0, not x ≥ 0"))
    assert_close_or_explain("x", got, ref, formula=formula)


# --------------------------------------------------------------------------- 03.2
@task("03.2", title="The VJP of log",
      goal="Write Log.backward: x̄ = ȳ / x", difficulty=1, minutes=5)
def _(Log):
    import torch
    check_function_vjp(Log, torch.log, lambda rng: [rng.uniform(0.2, 3.0, size=_shape(rng))],
                       names=["x"], formulas=["x̄ = ȳ / x (d log x / dx = 1/x)"])


# --------------------------------------------------------------------------- 03.3
@task("03.3", title="The VJP of sigmoid",
      goal="Write Sigmoid.backward from the saved output: x̄ = ȳ ⊙ y ⊙ (1 − y)",
      difficulty=1, minutes=5)
def _(Sigmoid):
    import torch
    check_function_vjp(Sigmoid, torch.sigmoid,
                       lambda rng: [3 * rng.standard_normal(_shape(rng))],
                       names=["x"],
                       formulas=[tr("x̄ = ȳ ⊙ y ⊙ (1 − y), y = σ(x) saved by forward")])


# --------------------------------------------------------------------------- 03.4
_LINEAR = [((4, 3), 2), ((2, 5, 3), 4), ((3, 2, 4, 3), 2)]


@task("03.4", title="The linear layer's three gradients",
      goal="Write Linear.backward for Y = X·W + b with a batch: X̄ = Ȳ·Wᵀ, W̄ = XᵀȲ, b̄ = Σ Ȳ",
      difficulty=3, minutes=20)
def _(Linear):
    for xshape, O in _LINEAR:
        batch = int(np.prod(xshape[:-1]))

        def inputs(rng, xshape=xshape, O=O):
            I = xshape[-1]
            return [rng.standard_normal(xshape), rng.standard_normal((I, O)),
                    rng.standard_normal(O)]
        check_function_vjp(Linear, lambda x, W, b: x @ W + b, inputs, cases=1, batch=batch,
                           names=["X", "W", "b"],
                           formulas=["∂L/∂X = ∂L/∂Y · Wᵀ",
                                     tr("∂L/∂W = Xᵀ·∂L/∂Y, summed over every batch row"),
                                     tr("∂L/∂b = Σ over the batch rows of ∂L/∂Y")])


# --------------------------------------------------------------------------- wrong answers
def _fn(name, forward, backward):
    mg = _mg()
    return type(name, (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _save_x(f):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return f(x._data)
    return forward


def _save_y(f):
    def forward(ctx, x):
        y = _mg().tensor(f(x._data))
        ctx.save_for_backward(y)
        return y
    return forward


def _relu_mask_only(ctx, grad):
    x, = ctx.saved_tensors
    return (x > 0).to(grad.dtype)


def _relu_pass_all(ctx, grad):
    return grad


def _relu_at_zero_open(ctx, grad):
    x, = ctx.saved_tensors
    return grad * (x >= 0)


def _log_no_upstream(ctx, grad):
    x, = ctx.saved_tensors
    return 1 / x


def _log_times(ctx, grad):
    x, = ctx.saved_tensors
    return grad * x


def _log_no_return(ctx, grad):
    x, = ctx.saved_tensors
    grad / x


def _sig_y_only(ctx, grad):
    y, = ctx.saved_tensors
    return grad * y


def _sig_float32(ctx, grad):
    y, = ctx.saved_tensors
    return (grad * y * (1 - y)).to(_mg().float32)


def _linear_forward(ctx, x, W, b):
    ctx.save_for_backward(x, W)
    return x._data @ W._data + b._data


def _flat(t):
    return t.reshape(-1, t.shape[-1])


def _lin_wt_transposed(ctx, grad):              # W̄ = Ȳᵀ X: the (O, I) of torch's layout
    x, W = ctx.saved_tensors
    return grad @ W.mT, _flat(grad).mT @ _flat(x), _flat(grad).sum(dim=0)


def _lin_b_not_summed(ctx, grad):
    x, W = ctx.saved_tensors
    return grad @ W.mT, _flat(x).mT @ _flat(grad), grad


def _lin_w_batched(ctx, grad):                 # fine in 2-D, not summed over a batch of 3-D
    x, W = ctx.saved_tensors
    return grad @ W.mT, x.mT @ grad, _flat(grad).sum(dim=0)


def _lin_b_mean(ctx, grad):
    x, W = ctx.saved_tensors
    return grad @ W.mT, _flat(x).mT @ _flat(grad), _flat(grad).mean(dim=0)


def _lin_x_no_transpose(ctx, grad):
    x, W = ctx.saved_tensors
    return grad @ W, _flat(x).mT @ _flat(grad), _flat(grad).sum(dim=0)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


WRONG = {
    "03.1": [(_fn("ReLU", _save_x(lambda a: np.maximum(a, 0)), _relu_mask_only),
              "leaves out the upstream gradient"),
             (_fn("ReLU", _save_x(lambda a: np.maximum(a, 0)), _relu_pass_all),
              "the gate passes ȳ where x > 0"),
             (_fn("ReLU", _save_x(lambda a: np.maximum(a, 0)), _relu_at_zero_open),
              "the gate is x > 0, not x ≥ 0")],
    "03.2": [(_fn("Log", _save_x(np.log), _log_times), "x̄ = ȳ / x"),
             (_fn("Log", _save_x(np.log), _log_no_upstream), "leaves out the upstream gradient"),
             (_fn("Log", _save_x(np.log), _log_no_return), "forget to return")],
    "03.3": [(_fn("Sigmoid", _save_y(_sigmoid), _sig_y_only), "your gradient for x is wrong"),
             (_fn("Sigmoid", _save_y(_sigmoid), _sig_float32), "dtype float32")],
    "03.4": [(_fn("Linear", _linear_forward, _lin_wt_transposed), "missing transpose?"),
             (_fn("Linear", _linear_forward, _lin_b_not_summed),
              "did you sum over the broadcast (batch) dimensions?"),
             (_fn("Linear", _linear_forward, _lin_w_batched),
              "did you sum over the broadcast (batch) dimensions?"),
             (_fn("Linear", _linear_forward, _lin_b_mean), "batch size"),
             (_fn("Linear", _linear_forward, _lin_x_no_transpose), "your code raised RuntimeError: matmul")],
}
