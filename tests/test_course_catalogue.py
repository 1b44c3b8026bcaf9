"""minigrad.course.catalogue: the side-by-side check of the chapters and the generated
reference table. Each check must pass on correct code and fail, loudly, on wrong code."""
import dataclasses
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.course.catalogue import (VJPCheck, catalogue_markdown, catalogue_rows, check_vjp,
                                       latex_for_table, show_code, verify_gradients, verify_op)
from minigrad.course.compare import CheckFailed
from minigrad.ops.registry import OPS
from minigrad.tensor import _Defaults


@pytest.fixture(autouse=True)
def _keep_minigrad_rng():
    saved = _Defaults.rng
    yield
    _Defaults.rng = saved


def entry(name, variant=""):
    return next(op for op in OPS if op.name == name and op.variant == variant)


# --------------------------------------------------------------------------- check_vjp
def test_check_vjp_prints_and_returns_both_libraries(capsys):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    c = check_vjp("a*b", lambda lib, a, b: a * b, a, b, seed=5, names=["ā", "b̄"])
    assert isinstance(c, VJPCheck)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [line for line in lines if line.endswith("✓")] and len(lines) == 3
    assert lines[0].startswith("a*b y (3, 4): max |Δ|")
    assert lines[2].startswith("a*b b̄ (4,): max |Δ|")
    # the upstream gradient is the seeded draw, and the gradients are the product rule's
    up = np.random.default_rng(5).standard_normal((3, 4))
    np.testing.assert_array_equal(c.upstream[0], up)
    np.testing.assert_allclose(c.inputs[0].grad.numpy(), up * b, atol=1e-15)
    np.testing.assert_allclose(c.inputs[1].grad.numpy(), (up * a).sum(0), atol=1e-14)
    np.testing.assert_allclose(c.torch_inputs[1].grad.numpy(), (up * a).sum(0), atol=1e-14)


def test_check_vjp_several_outputs_and_constants(capsys):
    x = np.arange(10.0).reshape(2, 5)
    c = check_vjp("split", lambda lib, x, n: x.split(n, dim=1), x, [2, 3])
    assert len(c.outputs) == 2 and len(c.upstream) == 2
    np.testing.assert_array_equal(c.inputs[0].grad.numpy(), np.concatenate(c.upstream, axis=1))
    assert "split y2 (2, 3)" in capsys.readouterr().out


def test_check_vjp_fails_when_the_libraries_disagree():
    x = np.ones((2, 2))
    with pytest.raises(CheckFailed):
        check_vjp("differs", lambda lib, x: x * (2.0 if lib is mg else 3.0), x)


def test_check_vjp_fails_on_a_wrong_vjp():
    class BadSquare(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.detach().numpy() ** 2

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x                      # should be 2 x ȳ

    fn = lambda lib, x: BadSquare.apply(x) if lib is mg else x ** 2   # noqa: E731
    with pytest.raises(CheckFailed, match="x̄"):
        check_vjp("square", fn, np.array([1.0, -2.0, 3.0]))


def test_shape_rule_is_checked():
    from minigrad.course.catalogue import _shape_rule

    class Fake:
        shape = (3,)
        grad = mg.zeros(1, 3)
    with pytest.raises(CheckFailed, match="gradient has shape"):
        _shape_rule("fake", Fake())


def test_show_code_prints_the_real_source(capsys):
    from minigrad.ops.elementwise import Mul
    show_code(Mul.backward)
    out = capsys.readouterr().out
    assert out.startswith("# minigrad/ops/elementwise.py: Mul.backward\n@staticmethod\n"
                          "def backward(ctx, grad):")
    assert "unbroadcast(grad * b" in out


# --------------------------------------------------------------------------- the registry
def test_verify_op_passes_a_correct_entry():
    r = verify_op(entry("mul"), np.random.default_rng(0))
    assert r.ok and r.problem == "" and r.max_diff < 1e-12


def test_verify_op_reports_a_wrong_node_name():
    info = dataclasses.replace(entry("exp"), node="LogBackward")
    r = verify_op(info, np.random.default_rng(0))
    assert not r.ok and "node ExpBackward, not LogBackward" in r.problem


def test_verify_op_reports_a_wrong_gradient():
    class HalfExp(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x.detach().numpy())
            ctx.save_for_backward(mg.tensor(y))
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y * 0.5

    fn = lambda lib, F, x: HalfExp.apply(x) if lib is mg else lib.exp(x)   # noqa: E731
    info = dataclasses.replace(entry("exp"), fn=fn, node="HalfExpBackward")
    r = verify_op(info, np.random.default_rng(0))
    assert not r.ok and "max |Δ|" in r.problem and r.max_diff > 1e-3


def test_verify_op_handles_a_random_op_through_its_fixed_fn():
    r = verify_op(entry("dropout"), np.random.default_rng(3))
    assert r.ok, r.problem


def test_every_registry_entry_is_verified_against_torch():
    rows = catalogue_rows(seed=0, samples=2)
    assert [r.info for r in rows] == list(OPS)
    bad = [(r.info.id, r.problem) for r in rows if not r.ok]
    assert not bad, bad


def test_catalogue_rows_is_deterministic_and_restores_the_generator():
    before = _Defaults.rng
    a = catalogue_rows(OPS[:5], seed=1, samples=1)
    b = catalogue_rows(OPS[:5], seed=1, samples=1)
    assert [r.max_diff for r in a] == [r.max_diff for r in b]
    assert _Defaults.rng is before


# --------------------------------------------------------------------------- the table
def _cells(line):
    """Split a markdown table row at its unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_markdown_table_has_one_row_per_entry_and_fixed_columns():
    rows = catalogue_rows(OPS[:8], seed=0, samples=1)
    text = catalogue_markdown(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)
    assert _cells(lines[0]) == ["operator", "node", "forward", "backward (VJP)",
                                "verified vs torch"]
    for r, line in zip(rows, lines[2:]):
        cells = _cells(line)
        assert len(cells) == 5
        assert cells[1] == f"`{r.info.node}`" and cells[4] == "✓"
        assert cells[2].startswith("$") and cells[2].endswith("$")


def test_markdown_table_escapes_pipes_and_shows_failures():
    abs_row = catalogue_rows([entry("abs")], samples=1)[0]
    assert "|x|" in abs_row.info.forward
    bad = dataclasses.replace(abs_row, ok=False, problem="node X, not Y | really")
    text = catalogue_markdown([abs_row, bad], columns=("operator", "family", "forward",
                                                       "verified"))
    lines = text.splitlines()
    assert all(len(_cells(line)) == 4 for line in lines)
    assert r"\vert" in _cells(lines[2])[2] and "|" not in _cells(lines[2])[2]
    assert _cells(lines[3])[3].startswith("✗ node X, not Y")


def test_latex_for_table():
    assert latex_for_table(r"y = |x|") == r"$y = \vert x\vert $"


def test_verify_gradients_ports_the_notes_script(capsys):
    import warnings

    import torch
    import torch.nn.functional as TF
    torch.manual_seed(42)
    data = {name: torch.randn(*shape, dtype=torch.float32).double().numpy()
            for name, shape in [("X", (2, 3)), ("W", (3, 4)), ("x_relu", (5,)), ("x_ce", (3, 5))]}
    for lib, F in ((torch, TF), (mg, mg.nn.functional)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")           # the chapter prints no warning
            diffs = verify_gradients(lib, F, data)
        assert set(diffs) == {"MatMul grad_X", "MatMul grad_W", "ReLU grad_x",
                              "CrossEntropy grad_x"}
        assert max(diffs.values()) < 1e-15
    out = capsys.readouterr().out
    assert out.count("=== MatMul ===") == 2 and out.count("grad_x: max |Δ| = ") == 4
