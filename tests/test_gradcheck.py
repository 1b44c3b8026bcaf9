"""minigrad.testing.gradcheck: every registry op against finite differences, and proof that
the check can fail (a deliberately wrong VJP is rejected, with a message that names it)."""
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad import testing
from minigrad.ops.registry import OPS, sample_inputs, to_args
from minigrad.tensor import _Defaults
from minigrad.testing import GradcheckError, assert_close, gradcheck


@pytest.fixture(autouse=True)
def _keep_minigrad_rng():
    saved = _Defaults.rng
    yield
    _Defaults.rng = saved


def registry_fn(info):
    """The entry's fn on minigrad; a random op is re-seeded on every call, which makes it a
    fixed (deterministic) function of its input that finite differences can measure. An op
    whose VJP is by definition not fn's derivative (a frozen padding row) names, in
    ``gradcheck_fn``, the function it is the derivative of."""
    fn = info.gradcheck_fn or info.fn
    if not info.random:
        return lambda *args: fn(mg, MF, *args)

    def seeded(*args):
        mg.manual_seed(1234)
        return fn(mg, MF, *args)
    return seeded


# --------------------------------------------------------------------------- every op
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("info", OPS, ids=lambda op: op.id)
def test_op_passes_gradcheck(info, seed):
    sample = sample_inputs(info, np.random.default_rng(seed))
    args = to_args(mg, sample, no_grad_args=info.no_grad_args)
    assert any(isinstance(a, mg.Tensor) and a.requires_grad for a in args)
    assert gradcheck(registry_fn(info), args, **info.gradcheck_kw) is True


# --------------------------------------------------------------------------- it can fail
class WrongSquare(mg.autograd.Function):
    """y = x², with the classic slip in its VJP: x̄ = ȳ·x instead of ȳ·2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.detach().numpy() ** 2

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x


class WrongSecondInput(mg.autograd.Function):
    """y = a ⊙ b with a correct ā but b̄ = ȳ ⊙ b (should be ȳ ⊙ a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.detach().numpy() * b.detach().numpy()

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * b


class SwappedOutputs(mg.autograd.Function):
    """Two outputs, y₁ = 2x and y₂ = 3x, whose VJP mixes up which gradient belongs to which
    output: x̄ = 3ȳ₁ + 2ȳ₂. With ȳ₁ = ȳ₂ = 1 (what ``.sum()`` would feed it) that is 5 — the
    right answer — so only a random upstream gradient exposes it."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x.detach().numpy(), 3 * x.detach().numpy()

    @staticmethod
    def backward(ctx, g1, g2):
        return 3 * g1 + 2 * g2


def leaf(shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_wrong_vjp_is_rejected_with_the_input_the_element_and_both_values():
    x = leaf((3, 4))
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, (x,))
    msg = str(info.value)
    assert "input 0" in msg and "shape (3, 4)" in msg
    where = re.search(r"at element \(\d, \d\): analytic (\S+), numerical (\S+) ", msg)
    assert where, msg
    analytic, numerical = float(where[1]), float(where[2])
    # the numerical value is the true 2·x·u there, the analytic one the wrong x·u: ratio 2
    assert numerical == pytest.approx(2 * analytic, rel=1e-6)
    assert "12 of 12 element(s) fail" in msg


def test_wrong_vjp_returns_false_without_raise_exception():
    assert gradcheck(WrongSquare.apply, (leaf((2, 3)),), raise_exception=False) is False


def test_the_wrong_input_is_named():
    a, b = leaf((2, 3), 0), leaf((2, 3), 1)
    with pytest.raises(GradcheckError, match=r"gradient of input 1 \(shape \(2, 3\)\)"):
        gradcheck(WrongSecondInput.apply, (a, b))
    # only b's gradient is wrong: with b constant the check passes
    assert gradcheck(WrongSecondInput.apply, (a, b.detach()))


def test_random_upstream_catches_what_sum_would_not():
    x = leaf((4,))
    y1, y2 = SwappedOutputs.apply(x)
    (y1.sum() + y2.sum()).backward()              # upstream of ones: looks right
    assert_close(x.grad, np.full(4, 5.0), name="the .sum() check")
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(SwappedOutputs.apply, (x,))


def test_correct_functions_pass():
    x, w = leaf((2, 3), 0), leaf((3, 4), 1)
    assert gradcheck(lambda x, w: (x @ w).tanh(), (x, w))
    assert gradcheck(lambda x: (x.exp().sum(1), x.sin()), (x,))    # two outputs
    assert gradcheck(lambda x: x * 2.0, (leaf((70,)),))               # VJP only, no Jacobian


def test_unused_input_and_non_tensor_arguments():
    x, unused = leaf((3,), 0), leaf((2,), 1)
    idx = mg.tensor(np.array([2, 0, 2]))
    assert gradcheck(lambda x, unused, i: x[i] * 3.0, (x, unused, idx))


def test_jacobian_mismatch_is_reported_entry_by_entry():
    """The full-Jacobian comparison names the output and input elements it disagrees on.
    Here the measured columns are replaced by a Jacobian with one wrong entry."""
    x = leaf((3,))
    y = x * 2.0
    columns = 2.0 * np.eye(3)
    columns[1, 2] = 7.0
    with pytest.raises(GradcheckError, match=r"d\(output 0\[1\]\) / d\(input 0\[2\]\) is 0 by "
                                             r"backward but 7 by finite differences"):
        testing._check_jacobian((y,), [0], [3], (x,), 0, columns, 1e-5, 1e-3)
    testing._check_jacobian((y,), [0], [3], (x,), 0, 2.0 * np.eye(3), 1e-5, 1e-3)


def test_float32_inputs_are_refused():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="input 0 has dtype minigrad.float32"):
        gradcheck(lambda x: x * x, (x,))


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="no input"):
        gradcheck(lambda x: x * x, (mg.tensor(np.ones(3)),))


def test_a_random_function_is_refused():
    x = leaf((20,))
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(lambda x: MF.dropout(x, 0.5), (x,))


def test_a_nonsmooth_point_is_caught():
    """At x = 0, |x| has no derivative: backward says 0 (as torch), finite differences say
    (|ε| − |−ε|)/2ε = 0 too — but relu's kink is one-sided: (ε − 0)/2ε = ½ ≠ 0. gradcheck
    reports it, which is why the registry samples away from kinks."""
    x = mg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    assert gradcheck(mg.abs, (x,))
    with pytest.raises(GradcheckError, match=r"element \(0,\): analytic 0, numerical"):
        gradcheck(MF.relu, (x,))


# --------------------------------------------------------------------------- assert_close
def test_assert_close_passes_and_fails_readably():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert_close(mg.tensor(a), a.copy())
    assert_close(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]))
    b = a.copy()
    b[1, 0] += 1e-3
    with pytest.raises(AssertionError, match=r"1 of 4 element\(s\) differ .* worst at index "
                                             r"\(1, 0\): actual 3.0, expected 3.001"):
        assert_close(a, b)
    with pytest.raises(AssertionError, match=r"shapes differ"):
        assert_close(np.ones(3), np.ones((3, 1)))
    with pytest.raises(AssertionError, match="differ"):
        assert_close(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(AssertionError, match="differ"):
        assert_close(np.array([np.inf]), np.array([-np.inf]))
