"""The differential fuzzer (tests/fuzz.py) in the test suite: a bounded campaign of random
programs, each compared with torch value by value, gradient by gradient, and to second order.
``make fuzz`` runs long campaigns; a failing seed is replayed with
``python tests/fuzz.py --replay SEED``."""
import io

import numpy as np
import pytest

import fuzz
from minigrad.ops import activation, elementwise
from minigrad.ops.registry import OPS

PROGRAMS, CHUNKS = 1600, 8


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_programs_agree_with_torch(chunk):
    n = PROGRAMS // CHUNKS
    failures = fuzz.campaign(n, seed=chunk * n, out=io.StringIO())
    report = "\n".join(f"seed {s}:\n" + "\n".join(f"    {st}" for st in steps) + "\n"
                       + "\n".join(f"  ! {f}" for f in found[:3])
                       for s, (steps, found) in list(failures.items())[:5])
    assert not failures, f"{len(failures)} of {n} programs disagree with torch:\n{report}"


def test_every_registry_operation_is_composed():
    names = {info.name for info in OPS}
    missing = names - set(fuzz.COMPOSES) - set(fuzz.NOT_COMPOSED)
    assert not missing, f"operations of the registry the fuzzer never composes: {missing}"
    assert set(fuzz.COMPOSES.values()) <= set(fuzz.OPS), "COMPOSES names an op OPS lacks"
    stale = set(fuzz.COMPOSES) - names
    assert not stale, f"COMPOSES names operations the registry no longer has: {stale}"


def test_programs_cover_the_edge_cases():
    """The generator does make what the campaign is for: edge values, empty and 0-d tensors,
    every dtype, every op, refused steps, and programs long enough to compose."""
    seen_ops, dtypes, edge, empty, zero_d, refused, lengths = set(), set(), 0, 0, 0, 0, []
    for seed in range(300):
        steps = fuzz.generate(seed)
        lengths.append(sum(s.op != "leaf" for s in steps))
        for s in steps:
            if s.op != "leaf":
                seen_ops.add(s.op)
                continue
            a = s.params["array"]
            dtypes.add(str(a.dtype))
            edge += a.dtype.kind == "f" and not np.isfinite(a).all()
            empty += a.size == 0
            zero_d += a.ndim == 0
        refused += any(isinstance(t, fuzz.Refused) for t in fuzz.run("torch", steps))
    assert seen_ops == set(fuzz.OPS)
    assert dtypes == {"float64", "float32", "int64", "bool"}
    assert min(edge, empty, zero_d, refused) > 10, (edge, empty, zero_d, refused)
    assert min(lengths) >= 3 and max(lengths) == 12


def test_the_fuzzer_finds_a_wrong_gradient(monkeypatch):
    """A fuzzer that cannot fail proves nothing: plant a wrong VJP (Mul's gradient doubled)
    and the campaign must report it, shrunk to a short program. The bug is planted in both
    of Mul's VJPs: ``backward`` (run under create_graph) and ``array_backward`` (run by a
    plain backward), so a program sees it whichever one the walk runs."""
    for name in ("backward", "array_backward"):
        def doubled(ctx, *grads, vjp=getattr(elementwise.Mul, name)):
            return tuple(None if g is None else 2 * g for g in vjp(ctx, *grads))

        monkeypatch.setattr(elementwise.Mul, name, staticmethod(doubled))
    failures = fuzz.campaign(150, seed=0, out=io.StringIO())
    wrong = [steps for steps, found in failures.values()
             if any("gradients differ" in f or "second order" in f for f in found)]
    assert len(wrong) > 10, failures
    assert min(sum(s.op != "leaf" for s in steps) for steps in wrong) == 1


def test_the_fuzzer_finds_a_wrong_value_and_a_missing_error(monkeypatch):
    import minigrad as mg
    monkeypatch.setattr(mg.Tensor, "__sub__", lambda a, b: mg.add(a, b))
    failures = fuzz.campaign(150, seed=0, out=io.StringIO())
    found = [f for _, fs in failures.values() for f in fs]
    assert any("values differ" in f for f in found)
    assert any("torch raises" in f for f in found)      # bool - bool: torch refuses it


def test_finite_differences_referee_where_torch_is_wrong():
    """torch 2.13's gradient of var(dim=()) (all dimensions) of a tensor with ties is NaN,
    and for other values ±inf: it divides by n − 1 with n = 1. Central differences side with
    minigrad, so the fuzzer counts it as torch's error, not minigrad's, and says so."""
    a = np.array([0.847, 0.847, 0.847])
    steps = [fuzz.leaf(a, True), fuzz.Step("reduce", (0,), {"how": "var", "dim": (),
                                                              "keepdim": False})]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    found = fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert found and "gradients differ" in found[0]
    assert not np.isfinite(fuzz.to_np(torch_pool[0].grad)).all()
    np.testing.assert_allclose(fuzz.to_np(mg_pool[0].grad), 0.0, atol=1e-12)   # var of ties
    before = len(fuzz.TORCH_WRONG)
    assert fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)
    assert len(fuzz.TORCH_WRONG) == before + 1
    # and the referee does not excuse minigrad: a wrong minigrad gradient is not torch's error
    mg_pool[0].grad = mg_pool[0].grad + 1.0
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)


def test_the_referee_moves_only_the_leaves_it_referees():
    """An infinite leaf elsewhere in the program (here one no output uses) does not stop
    central differences from refereeing var(dim=())'s gradient."""
    a = np.array([[1.049, -1.936], [0.745, 0.389], [-0.524, 1.359]])
    steps = [fuzz.leaf(np.array(np.inf), True), fuzz.leaf(a, True), fuzz.Step("neg", (1,)),
             fuzz.Step("reduce", (2,), {"how": "var", "dim": (), "keepdim": False})]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    assert fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert fuzz.torch_is_wrong(steps, [1], mg_pool, torch_pool)
    mg_pool[1].grad = mg_pool[1].grad * 1.01
    assert not fuzz.torch_is_wrong(steps, [1], mg_pool, torch_pool)


def test_a_float32_difference_is_refereed_by_the_float64_gradient():
    """torch's float32 layer_norm weight gradient at a row of ties is round-off scaled by
    1/√ε, not 0; the same program in float64 (where both libraries give 0) sides with
    minigrad. A minigrad gradient off by more than float32's tolerance is not excused."""
    ties = np.array([[-1.7, -1.7]] * 4, np.float32)
    w, b = np.array([0.8976, 1.0741], np.float32), np.array([0.2676, 0.871], np.float32)
    steps = [fuzz.leaf(ties, True), fuzz.leaf(w, True), fuzz.leaf(b, True),
             fuzz.Step("layer_norm", (0, 1, 2), {"shape": (2,), "how": "layer"})]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    found = fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert [f.split(" (")[0] for f in found] == ["leaf t1"], found
    np.testing.assert_array_equal(fuzz.to_np(mg_pool[1].grad), 0.0)
    assert fuzz.torch_is_wrong(steps, [1], mg_pool, torch_pool)
    mg_pool[1].grad = mg_pool[1].grad + 1e-3
    assert not fuzz.torch_is_wrong(steps, [1], mg_pool, torch_pool)


def test_the_referee_differences_only_the_outputs_the_libraries_disagree_on():
    """log1p of values below −1 is NaN, so central differences of a sum over every output
    would be NaN; the gradients of that output agree, and the var(dim=()) one is refereed."""
    a = np.array([[-1.46, -0.401, 0.833], [1.532, 0.0, -0.521]])
    steps = [fuzz.leaf(a, True), fuzz.Step("log1p", (0,)),
             fuzz.Step("reduce", (0,), {"how": "var", "dim": (), "keepdim": True})]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    assert fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)
    mg_pool[0].grad = mg_pool[0].grad * 1.01
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)


def _differing(steps):
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    found = fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    return found, torch_pool, mg_pool


def test_round_off_of_an_ill_conditioned_program_is_refereed_by_torchs_own_round_off():
    """log1p of rms_norm of one element: y is −1 to within an ulp, so 1/(1 + y) is about
    1e16, times dy/dx = ε/|x|³ that both libraries compute by cancellation (1 − x²r²): no
    digit of the gradient is right in either. torch's own gradient, with the leaf moved by a
    few ulps, moves by more than the libraries differ: round-off, excused. minigrad's
    gradient moved further than that, or a wrong gradient of a well-conditioned program
    (which torch's does not move), is not excused."""
    steps = [fuzz.leaf(np.array([[-0.802], [-1.324]]), True), fuzz.Step("erf", (0,)),
             fuzz.Step("layer_norm", (1,), {"shape": (1,), "how": "rms"}),
             fuzz.Step("log1p", (2,))]
    found, torch_pool, mg_pool = _differing(steps)
    assert found and "gradients differ" in found[0]
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)   # differences disagree
    before = len(fuzz.ROUND_OFF)
    assert fuzz.round_off(steps, [0], mg_pool, torch_pool)
    assert len(fuzz.ROUND_OFF) == before + 1
    mg_pool[0].grad = mg_pool[0].grad + 10.0
    assert not fuzz.round_off(steps, [0], mg_pool, torch_pool)
    # a well-conditioned program: torch's gradient does not move, a 1 % error stands
    steps = [fuzz.leaf(np.array([[-0.802], [-1.324]]), True), fuzz.Step("sin", (0,))]
    _, torch_pool, mg_pool = _differing(steps)
    mg_pool[0].grad = mg_pool[0].grad * 1.01
    assert not fuzz.round_off(steps, [0], mg_pool, torch_pool)
    mg_pool[0].grad = mg_pool[0].grad * np.nan
    assert not fuzz.round_off(steps, [0], mg_pool, torch_pool)


def test_a_gradient_whose_sign_is_a_rounding_error_has_none():
    """layer_norm of a row of equal values, then sqrt: ȳ = ∞ at y = 0, and γ̄ = ∞ · x̂ with
    x̂ exactly 0 (minigrad: NaN); torch's backward recomputes x̂ as a rounding error, of
    either sign, so its γ̄ is ±∞, the sign changing when the input moves by an ulp: it has
    no value, and minigrad's NaN is excused; not where the moves leave torch's sign."""
    steps = [fuzz.leaf(np.array([-0.293]), True), fuzz.Step("expand", (0,), {"shape": (3,)}),
             fuzz.leaf(np.array([0.257, 0.722, -0.135]), True),
             fuzz.Step("layer_norm", (1, 2), {"shape": (3,), "how": "layer"}),
             fuzz.Step("sqrt", (3,))]
    found, torch_pool, mg_pool = _differing(steps)
    assert [f.split(" (")[0] for f in found] == ["leaf t2"], found
    assert np.isnan(fuzz.to_np(mg_pool[2].grad)).all()
    assert np.isinf(fuzz.to_np(torch_pool[2].grad)).all()
    assert not fuzz.torch_is_wrong(steps, [2], mg_pool, torch_pool)
    assert fuzz.round_off(steps, [2], mg_pool, torch_pool)
    # moves that leave torch's sign alone (1, 2 and 4 ulps up here) excuse nothing
    assert not fuzz.round_off(steps, [2], mg_pool, torch_pool, ulps=(1, 2, 4))


def test_values_apart_by_an_earlier_round_off_are_refereed_by_the_operation_itself(
        monkeypatch):
    """GELU (tanh) of −7.19 is −2e−16 exactly; one library's tanh rounds to −1 first and
    gives −0, the other −4e−16 (within the tolerance), and sqrt then gives −0 against NaN.
    torch's sqrt of minigrad's input gives minigrad's NaN: the operation agrees, the
    difference came in with its input, and it is not counted. A wrong value of minigrad's
    own is, and so is a wrong gradient through the steps that agree."""
    steps = [fuzz.leaf(np.array([-7.188, -7.19, 0.5]), True), fuzz.Step("gelu_tanh", (0,)),
             fuzz.Step("sqrt", (1,))]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    a, b = fuzz.to_np(mg_pool[2]), fuzz.to_np(torch_pool[2])
    assert not fuzz.close(a, b, "float64")
    before = len(fuzz.PROPAGATED)
    assert fuzz.problems(steps) == []
    assert len(fuzz.PROPAGATED) == before + 1
    mg_pool[2] = mg_pool[2] * 0 + 1.0                   # not what sqrt gives on its input
    assert not fuzz.propagated(steps, 2, mg_pool, "float64")
    # the gradient through gelu_tanh (whose values agree) is still compared
    for name in ("backward", "array_backward"):
        def doubled(ctx, *grads, vjp=getattr(activation.Gelu, name)):
            return tuple(None if g is None else 2 * g for g in vjp(ctx, *grads))
        monkeypatch.setattr(activation.Gelu, name, staticmethod(doubled))
    assert any("gradients differ" in f for f in fuzz.problems(steps))


def test_a_float32_gradient_as_near_the_float64_one_as_torchs_is_round_off():
    """log2(x − tanh x) at x = −0.011 in float32: x − tanh x is 4e−7 from two numbers of
    0.011, so each library's float32 gradient is 0.1 % off the float64 one (233.035), both
    beyond float32's tolerance, and apart by more than it. minigrad's is no further from
    the float64 gradient than twice torch's: round-off. Moved further, or a wrong gradient
    of a well-conditioned float32 program, it is not excused."""
    x = np.array([0.795, -0.596, 0.177, -0.524, 0.703, -0.011], np.float32)
    steps = [fuzz.leaf(x, True), fuzz.Step("neg", (0,)), fuzz.Step("tanh", (1,)),
             fuzz.Step("add", (2, 0)), fuzz.Step("log2", (3,))]
    found, torch_pool, mg_pool = _differing(steps)
    assert found and "gradients differ" in found[0]
    assert not fuzz.round_off(steps, [0], mg_pool, torch_pool)     # scaling keeps the cancel
    before = len(fuzz.ROUND_OFF)
    assert fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)
    assert len(fuzz.ROUND_OFF) == before + 1
    mg_pool[0].grad = mg_pool[0].grad + mg_pool[0].grad.new_tensor([0, 0, 0, 0, 0, 1.0])
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)
    steps = [fuzz.leaf(x, True), fuzz.Step("sin", (0,))]
    _, torch_pool, mg_pool = _differing(steps)
    mg_pool[0].grad = mg_pool[0].grad * 1.01
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)


def test_the_referee_leaves_out_the_infinite_elements_of_an_output():
    """An output element that is infinite (here var(dim=()) plus an infinite bias) has no
    derivative and would make the differenced sum infinite, hiding the finite elements':
    the referee leaves its upstream gradient out, so torch's wrong var(dim=()) gradient is
    still found wrong; and a wrong minigrad gradient is still minigrad's."""
    a = np.array([1.049, -1.936, 0.745])
    steps = [fuzz.leaf(a, True), fuzz.Step("reduce", (0,), {"how": "var", "dim": (),
                                                              "keepdim": False}),
             fuzz.leaf(np.array([np.inf, 0.5]), False), fuzz.Step("add", (1, 2))]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    assert np.isinf(fuzz.to_np(torch_pool[3])).any()
    assert fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)
    mg_pool[0].grad = mg_pool[0].grad * 1.01
    assert not fuzz.torch_is_wrong(steps, [0], mg_pool, torch_pool)


def test_round_off_across_leaves_moved_against_each_other():
    """A gradient that is a sum cancelling terms of 10¹² from two leaves (remainder's, here)
    keeps only a few digits; scaled alike the leaves' round-off scales alike and hides it,
    moved against each other torch's gradient moves by 10⁻³: minigrad's, as far from it, is
    round-off, and a wrong one still is not."""
    a = np.array([[1.3274253588217269], [0.5956593911674404], [np.nan], [0.5956593911674404]])
    b = np.array([-0.22521491759497508, 1.3460003810847585])
    S = fuzz.Step
    steps = [fuzz.leaf(a, True), fuzz.leaf(b, True), S("remainder", (0, 1)),
             fuzz.leaf(np.zeros((4, 1), bool), False), S("masked_fill", (0, 3), {"value": 0.0}),
             S("squeeze", (2,), {"dim": 1}), fuzz.leaf(np.array([1, 0, 1, 0]), False),
             S("gather", (5, 6), {"dim": -1, "how": "index_select"}),
             fuzz.leaf(np.array([1, 1, 1, 3]), False),
             S("cross_entropy", (7, 8), {"reduction": "none", "smoothing": 0.1, "nll": False}),
             S("add_alpha", (9, 9)), S("pow", (10, 10)), S("transpose", (10,), {"d0": -1, "d1": 0}),
             S("transpose", (7,), {"d0": 1, "d1": -2}),
             S("split", (12,), {"dim": -1, "how": "unbind", "size": 3, "k": 1}),
             S("transpose", (11,), {"d0": 0, "d1": -1}), S("square", (15,))]
    torch_pool, mg_pool = fuzz.run("torch", steps), fuzz.run("minigrad", steps)
    found = fuzz.gradient_problems(steps, torch_pool, mg_pool, referee=False)
    assert found and "leaf t0" in found[0]
    assert fuzz.round_off(steps, [0], mg_pool, torch_pool)
    mg_pool[0].grad = mg_pool[0].grad + 0.05
    assert not fuzz.round_off(steps, [0], mg_pool, torch_pool)
