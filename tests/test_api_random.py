"""Random numbers as torch gives them: ``Generator``, the default generator, ``generator=`` on
every function that draws, and each sampler's arguments, dtypes, shapes, ranges and errors.

minigrad's streams are not torch's numbers, so torch is the oracle for everything but the
numbers themselves: each call runs on both libraries and must give the same dtype and shape,
the same kind of error. The numbers are checked three ways: reproducible from a seed, drawn
from the generator given (the default one left where it was), and distributed as they should
be — goodness-of-fit tests on 10⁴–10⁵ draws with a fixed seed, so a test gives the same
verdict on every run (it cannot flake) and a wrong distribution fails it by a wide margin.
"""
import copy
import inspect
import math
import pickle
import warnings
from itertools import permutations

import numpy as np
import pytest
import torch
from scipy import stats

import minigrad as mg
import minigrad.nn.functional as MF

LIBS = (mg, torch)
P_MIN = 1e-4          # the p-value below which a goodness-of-fit test fails


def _name(dtype):
    return str(dtype).rpartition(".")[2]


def _np(t):
    return t.detach().numpy()


def _chi2_pvalue(observed, expected):
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    assert observed.sum() == pytest.approx(expected.sum())
    return stats.chisquare(observed, expected).pvalue


def _counts(values, n):
    return np.bincount(np.asarray(values).ravel(), minlength=n)


# ---------------------------------------------------------------- the streams the course uses
def test_manual_seed_gives_numpys_default_rng_stream():
    """manual_seed(s) makes the default stream numpy.random.default_rng(s), drawn in the order
    the calls come: the chapters' stored outputs depend on exactly these numbers."""
    mg.manual_seed(7)
    ref = np.random.default_rng(7)
    np.testing.assert_array_equal(_np(mg.randn(3, 4)), ref.standard_normal((3, 4)).astype("f4"))
    np.testing.assert_array_equal(_np(mg.rand(2, 5, dtype=mg.float64)), ref.random((2, 5)))
    np.testing.assert_array_equal(_np(mg.randint(3, 10, (2, 3))), ref.integers(3, 10, (2, 3)))
    np.testing.assert_array_equal(_np(mg.zeros(4, 3).normal_(1.0, 2.0)),
                                  ref.normal(1.0, 2.0, (4, 3)).astype("f4"))
    np.testing.assert_array_equal(_np(mg.zeros(4, 3).uniform_(-1.0, 2.0)),
                                  ref.uniform(-1.0, 2.0, (4, 3)).astype("f4"))
    kept = _np(MF.dropout(mg.ones(5, 5), 0.3, training=True)) != 0
    np.testing.assert_array_equal(kept, ref.random((5, 5)) >= 0.3)
    np.testing.assert_array_equal(_np(mg.randn_like(mg.zeros(3))),
                                  ref.standard_normal(3).astype("f4"))
    np.testing.assert_array_equal(_np(mg.rand_like(mg.zeros(3))), ref.random(3).astype("f4"))
    np.testing.assert_array_equal(_np(mg.nn.init.normal_(mg.zeros(5, 4), 0.5, 2.0)),
                                  ref.normal(0.5, 2.0, (5, 4)).astype("f4"))
    bound = 1 / math.sqrt(4)                 # nn.Linear: kaiming_uniform_(a=√5), fan_in 4
    lin = mg.nn.Linear(4, 3)
    np.testing.assert_array_equal(_np(lin.weight), ref.uniform(-bound, bound, (3, 4)).astype("f4"))
    np.testing.assert_array_equal(_np(lin.bias), ref.uniform(-bound, bound, 3).astype("f4"))


def test_a_generator_seeded_as_the_default_draws_the_same_numbers():
    mg.manual_seed(11)
    a = mg.randn(4, 3)
    b = mg.randn(4, 3, generator=mg.Generator().manual_seed(11))
    np.testing.assert_array_equal(_np(a), _np(b))


def test_default_generator_is_what_manual_seed_seeds():
    assert mg.manual_seed(5) is mg.default_generator
    assert mg.initial_seed() == mg.default_generator.initial_seed() == 5
    assert mg.manual_seed(1.5).initial_seed() == torch.manual_seed(1.5).initial_seed() == 1
    mg.manual_seed(5)
    a = mg.randn(3)
    mg.manual_seed(5)
    np.testing.assert_array_equal(_np(a), _np(mg.randn(3, generator=mg.default_generator)))


# ---------------------------------------------------------------- Generator
def test_generator_api_as_torch():
    for lib in LIBS:
        g = lib.Generator()
        assert g.manual_seed(42) is g
        assert g.initial_seed() == 42
        assert str(g.device).endswith("cpu") and str(lib.Generator("cpu").device).endswith("cpu")
        s = g.seed()
        assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
        state = g.get_state()
        assert _name(state.dtype) == "uint8" and state.ndim == 1
    assert mg.Generator().initial_seed() == torch.Generator().initial_seed()
    for seed in (-1, -2 ** 63, 2 ** 64 - 1, 0, 12345):
        assert (mg.Generator().manual_seed(seed).initial_seed()
                == torch.Generator().manual_seed(seed).initial_seed())


@pytest.mark.parametrize("seed", [1.5, "3", True, 2 ** 64, -2 ** 63 - 1])
def test_generator_refuses_a_seed_torch_refuses(seed):
    errors = []
    for lib in LIBS:
        with pytest.raises((RuntimeError, ValueError, TypeError)) as e:
            lib.Generator().manual_seed(seed)
        errors.append(e.type)
    assert errors[0] is errors[1]


def test_state_round_trip_replays_the_numbers():
    g = mg.Generator().manual_seed(3)
    mg.randn(5, generator=g)                      # a state in the middle of the stream
    state = g.get_state()
    a = [mg.randn(3, generator=g), mg.randint(0, 100, (4,), generator=g),
         mg.randperm(6, generator=g)]
    g.manual_seed(99)
    assert g.set_state(state) is g and g.initial_seed() == 3
    b = [mg.randn(3, generator=g), mg.randint(0, 100, (4,), generator=g),
         mg.randperm(6, generator=g)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(_np(x), _np(y))
    h = mg.Generator().set_state(state)          # another generator, the same numbers
    np.testing.assert_array_equal(_np(mg.randn(3, generator=h)), _np(a[0]))
    # the state is a copy: drawing on does not change a state taken before
    np.testing.assert_array_equal(_np(state), _np(mg.Generator().manual_seed(3).set_state(
        state).get_state()))


def test_state_round_trip_with_a_buffered_half():
    """numpy's PCG64 keeps half of a 64-bit draw for the next 32-bit one: the state has it."""
    g = mg.Generator().manual_seed(8)
    g._rng.integers(0, 10, 1, dtype=np.int32)    # leaves a 32-bit half buffered
    assert g._rng.bit_generator.state["has_uint32"] == 1
    state = g.get_state()
    a = g._rng.integers(0, 2 ** 31, 5, dtype=np.int32)
    np.testing.assert_array_equal(
        mg.Generator().set_state(state)._rng.integers(0, 2 ** 31, 5, dtype=np.int32), a)


def test_rng_state_of_the_default_generator():
    mg.manual_seed(4)
    mg.rand(2)
    state = mg.get_rng_state()
    a = mg.randn(5)
    mg.randn(7)
    assert mg.set_rng_state(state) is None
    np.testing.assert_array_equal(_np(a), _np(mg.randn(5)))
    with mg.random.fork_rng():
        mg.randn(100)
    np.testing.assert_array_equal(_np(mg.get_rng_state()), _np(mg.default_generator.get_state()))
    mg.set_rng_state(state)
    with mg.random.fork_rng():
        mg.randn(100)
    np.testing.assert_array_equal(_np(a), _np(mg.randn(5)))


@pytest.mark.parametrize("case", ["short", "float", "list"])
def test_set_state_refuses_what_is_not_a_state(case):
    errors = []
    for lib in LIBS:
        bad = {"short": lib.zeros(3, dtype=lib.uint8), "float": lib.zeros(45),
               "list": [1, 2]}[case]
        with pytest.raises((RuntimeError, TypeError)) as e:
            lib.Generator().set_state(bad)
        errors.append(e.type)
        with pytest.raises(e.type):
            lib.set_rng_state(bad)
    assert errors[0] is errors[1]


def test_set_state_refuses_45_bytes_that_no_generator_gave():
    state = _np(mg.Generator().get_state()).copy()
    state[24] &= 0xFE                             # PCG64's increment made even
    with pytest.raises(RuntimeError, match="not a state"):
        mg.Generator().set_state(mg.tensor(state))


def test_state_goes_through_save_and_load(tmp_path):
    """A training checkpoint can hold the generator's state (a uint8 tensor) and resume it."""
    g = mg.Generator().manual_seed(4)
    mg.save({"rng": g.get_state(), "step": 3}, tmp_path / "ckpt.pt")
    a = mg.randn(3, generator=g)
    state = mg.load(tmp_path / "ckpt.pt")["rng"]
    np.testing.assert_array_equal(_np(mg.randn(3, generator=mg.Generator().set_state(state))),
                                  _np(a))


def test_copies_of_a_generator_draw_on_their_own():
    g = mg.Generator().manual_seed(6)
    for h in (copy.deepcopy(g), pickle.loads(pickle.dumps(g)), g.clone_state()):
        assert h is not g and h.initial_seed() == 6
        np.testing.assert_array_equal(_np(mg.randn(4, generator=h)),
                                      _np(mg.randn(4, generator=copy.deepcopy(g))))
    d = copy.deepcopy(mg.default_generator)
    before = mg.get_rng_state()
    mg.randn(3, generator=d)
    np.testing.assert_array_equal(_np(mg.get_rng_state()), _np(before))


def test_generator_must_be_a_generator():
    for lib in LIBS:
        with pytest.raises(TypeError):
            lib.randn(2, generator=np.random.default_rng(0))
        with pytest.raises(TypeError):
            lib.zeros(2).normal_(generator=3)


# ---------------------------------------------------------------- every sampler, both libraries
def _p(L, rows):
    return L.tensor(rows, dtype=L.float32)


# name, call(L, g): each accepts torch's arguments; results compared in dtype and shape
CALLS = {
    "randn": lambda L, g: L.randn(2, 3, generator=g),
    "randn tuple float64": lambda L, g: L.randn((2, 3), generator=g, dtype=L.float64),
    "randn size=": lambda L, g: L.randn(size=(2, 3), generator=g),
    "randn Size": lambda L, g: L.randn(L.Size([4]), generator=g, requires_grad=True),
    "rand": lambda L, g: L.rand(3, generator=g),
    "rand list": lambda L, g: L.rand([2, 2], generator=g, dtype=L.float64),
    "randint(high, size)": lambda L, g: L.randint(10, (3,), generator=g),
    "randint(low, high, size)": lambda L, g: L.randint(3, 10, (2, 2), generator=g),
    "randint keywords": lambda L, g: L.randint(low=3, high=10, size=(3,), generator=g),
    "randint high= size=": lambda L, g: L.randint(high=10, size=[3], generator=g),
    "randint(high, size=)": lambda L, g: L.randint(10, size=(2, 3), generator=g),
    "randint Size": lambda L, g: L.randint(0, 5, L.Size([2]), generator=g),
    "randint 0-d": lambda L, g: L.randint(0, 5, (), generator=g),
    "randint float32": lambda L, g: L.randint(0, 10, (3,), generator=g, dtype=L.float32),
    "randint bool": lambda L, g: L.randint(0, 2, (5,), generator=g, dtype=L.bool),
    "randint uint8": lambda L, g: L.randint(0, 256, (5,), generator=g, dtype=L.uint8),
    "randint int32": lambda L, g: L.randint(-3, 3, (5,), generator=g, dtype=L.int32),
    "randint requires_grad": lambda L, g: L.randint(0, 4, (2,), generator=g, dtype=L.float64,
                                                    requires_grad=True),
    "randint int64 range": lambda L, g: L.randint(-2 ** 63, 2 ** 63 - 1, (4,), generator=g),
    "randperm": lambda L, g: L.randperm(7, generator=g),
    "randperm 0": lambda L, g: L.randperm(0, generator=g),
    "randperm int32": lambda L, g: L.randperm(7, generator=g, dtype=L.int32),
    "randperm float32": lambda L, g: L.randperm(7, generator=g, dtype=L.float32),
    "randperm 0-d tensor": lambda L, g: L.randperm(L.tensor(5), generator=g),
    "multinomial 1-D": lambda L, g: L.multinomial(_p(L, [1, 2, 3, 0]), 2, generator=g),
    "multinomial 2-D": lambda L, g: L.multinomial(_p(L, [[1, 2, 3], [0, 0, 5]]), 4, True,
                                                  generator=g),
    "multinomial replacement=": lambda L, g: L.multinomial(_p(L, [1, 1]), 5, replacement=True,
                                                           generator=g),
    "multinomial all": lambda L, g: L.multinomial(_p(L, [[1, 0, 0]]), 3, generator=g),
    "multinomial float64": lambda L, g: L.multinomial(L.ones(3, dtype=L.float64), 1,
                                                      generator=g),
    "multinomial no rows": lambda L, g: L.multinomial(L.ones(0, 3), 2, generator=g),
    "Tensor.multinomial": lambda L, g: _p(L, [1, 2, 3]).multinomial(2, generator=g),
    "normal(T, T)": lambda L, g: L.normal(L.zeros(2, 1), L.ones(3), generator=g),
    "normal(T, float)": lambda L, g: L.normal(L.zeros(2), 2.0, generator=g),
    "normal(float, T)": lambda L, g: L.normal(0.0, L.ones(2, dtype=L.float64), generator=g),
    "normal(mean=T)": lambda L, g: L.normal(mean=L.zeros(3), generator=g),
    "normal(f64, f32)": lambda L, g: L.normal(L.zeros(2, dtype=L.float64), L.ones(2),
                                              generator=g),
    "normal(float, float, size)": lambda L, g: L.normal(0.0, 1.0, (2, 3), generator=g),
    "normal(size=, dtype=)": lambda L, g: L.normal(0, 1, size=(2,), generator=g,
                                                   dtype=L.float64),
    "bernoulli": lambda L, g: L.bernoulli(L.full((4,), 0.5), generator=g),
    "bernoulli float64": lambda L, g: L.bernoulli(L.full((4,), 0.5, dtype=L.float64),
                                                  generator=g),
    "bernoulli(input, p)": lambda L, g: L.bernoulli(L.ones(3), 0.3, generator=g),
    "Tensor.bernoulli": lambda L, g: L.full((3,), 0.2).bernoulli(generator=g),
    "normal_": lambda L, g: L.zeros(3, 2).normal_(1.0, 2.0, generator=g),
    "normal_ float64": lambda L, g: L.zeros(3, dtype=L.float64).normal_(generator=g),
    "uniform_": lambda L, g: L.zeros(3, 2).uniform_(-1, 1, generator=g),
    "random_()": lambda L, g: L.zeros(3).random_(generator=g),
    "random_(to)": lambda L, g: L.zeros(3).random_(5, generator=g),
    "random_(from, to)": lambda L, g: L.zeros(3).random_(2, 5, generator=g),
    "random_(to=)": lambda L, g: L.zeros(3).random_(to=5, generator=g),
    "random_(from, None)": lambda L, g: L.zeros(3).random_(2, None, generator=g),
    "random_ int64": lambda L, g: L.zeros(3, dtype=L.int64).random_(generator=g),
    "random_ uint8": lambda L, g: L.zeros(3, dtype=L.uint8).random_(generator=g),
    "random_ bool": lambda L, g: L.zeros(3, dtype=L.bool).random_(generator=g),
    "random_ 0-d int64": lambda L, g: L.empty((), dtype=L.int64).random_(generator=g),
    "bernoulli_()": lambda L, g: L.zeros(4).bernoulli_(generator=g),
    "bernoulli_(p)": lambda L, g: L.zeros(4).bernoulli_(0.2, generator=g),
    "bernoulli_(T)": lambda L, g: L.zeros(2, 3).bernoulli_(L.tensor([0.1, 0.5, 0.9]),
                                                           generator=g),
    "bernoulli_ int64": lambda L, g: L.zeros(4, dtype=L.int64).bernoulli_(0.5, generator=g),
    "exponential_": lambda L, g: L.zeros(4).exponential_(2.0, generator=g),
    "geometric_": lambda L, g: L.zeros(4).geometric_(0.3, generator=g),
    "geometric_ int64": lambda L, g: L.zeros(4, dtype=L.int64).geometric_(0.3, generator=g),
    "log_normal_": lambda L, g: L.zeros(4).log_normal_(generator=g),
    "cauchy_": lambda L, g: L.zeros(4, dtype=L.float64).cauchy_(1.0, 2.0, generator=g),
    "poisson": lambda L, g: L.poisson(L.tensor([1.0, 20.0, 300.0]), generator=g),
    "init.uniform_": lambda L, g: L.nn.init.uniform_(L.zeros(3, 4), -1, 1, generator=g),
    "init.normal_": lambda L, g: L.nn.init.normal_(L.zeros(3, 4), 0, 2, generator=g),
    "init.trunc_normal_": lambda L, g: L.nn.init.trunc_normal_(L.zeros(3, 4), 0, 1, -1, 1,
                                                               generator=g),
    "init.xavier_uniform_": lambda L, g: L.nn.init.xavier_uniform_(L.zeros(3, 4), generator=g),
    "init.xavier_normal_": lambda L, g: L.nn.init.xavier_normal_(L.zeros(3, 4), generator=g),
    "init.kaiming_uniform_": lambda L, g: L.nn.init.kaiming_uniform_(L.zeros(3, 4),
                                                                     generator=g),
    "init.kaiming_normal_": lambda L, g: L.nn.init.kaiming_normal_(L.zeros(3, 4),
                                                                   generator=g),
    "init.orthogonal_": lambda L, g: L.nn.init.orthogonal_(L.zeros(3, 4), generator=g),
    "init.sparse_": lambda L, g: L.nn.init.sparse_(L.zeros(4, 3), 0.5, generator=g),
    "randn_like": lambda L, g: L.randn_like(L.zeros(2, 3, dtype=L.float64), generator=g),
    "rand_like dtype=": lambda L, g: L.rand_like(L.zeros(2), generator=g, dtype=L.float64),
    "randint_like(x, high)": lambda L, g: L.randint_like(L.zeros(3, dtype=L.int32), 5,
                                                         generator=g),
    "randint_like(x, low, high)": lambda L, g: L.randint_like(L.zeros(3), 3, 5, generator=g),
    "randint_like(x, high=)": lambda L, g: L.randint_like(L.zeros(3), high=5, generator=g),
}
# the ones whose few draws could come out equal from two seeds
FEW_VALUES = {"randperm 0", "randint bool", "multinomial all", "multinomial no rows",
              "randint_like(x, low, high)", "randint_like(x, high=)", "random_ bool",
              "bernoulli_(p)", "bernoulli(input, p)", "Tensor.bernoulli", "init.sparse_",
              "multinomial replacement=", "multinomial float64", "multinomial 2-D",
              "multinomial 1-D", "Tensor.multinomial", "bernoulli_ int64", "bernoulli",
              "bernoulli float64", "bernoulli_()", "bernoulli_(T)", "randint 0-d"}


def _torch_generator(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", list(CALLS))
def test_sampler_takes_torchs_arguments_dtype_and_shape(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch's init.sparse_ on a generator
        t = CALLS[name](torch, _torch_generator(0))
    m = CALLS[name](mg, mg.Generator().manual_seed(0))
    assert _name(m.dtype) == _name(t.dtype), f"{name}: dtype {m.dtype} != {t.dtype}"
    assert tuple(m.shape) == tuple(t.shape), f"{name}: shape {tuple(m.shape)} != {tuple(t.shape)}"
    assert m.requires_grad == t.requires_grad


@pytest.mark.parametrize("name", list(CALLS))
def test_sampler_draws_from_its_generator_only(name):
    """Reproducible from the generator's seed; the default generator does not move; without
    generator= the same call draws from the default generator."""
    call = CALLS[name]
    mg.manual_seed(123)
    before = mg.get_rng_state()
    a = call(mg, mg.Generator().manual_seed(5))
    b = call(mg, mg.Generator().manual_seed(5))
    np.testing.assert_array_equal(_np(a), _np(b))
    np.testing.assert_array_equal(_np(mg.get_rng_state()), _np(before))
    mg.manual_seed(5)
    np.testing.assert_array_equal(_np(call(mg, None)), _np(a))
    if name not in FEW_VALUES:
        assert not np.array_equal(_np(call(mg, mg.Generator().manual_seed(6))), _np(a))


@pytest.mark.parametrize("name", [n for n in CALLS if n.startswith(("randint", "randperm",
                                                                      "random_"))])
def test_integer_samplers_stay_in_range(name):
    """Every value is an integer in the range torch's call gives (checked on torch too)."""
    lo, hi = {"randint(high, size)": (0, 9), "randint(low, high, size)": (3, 9),
              "randint keywords": (3, 9), "randint high= size=": (0, 9),
              "randint(high, size=)": (0, 9), "randint Size": (0, 4), "randint 0-d": (0, 4),
              "randint float32": (0, 9), "randint bool": (0, 1), "randint uint8": (0, 255),
              "randint int32": (-3, 2), "randint requires_grad": (0, 3),
              "randint int64 range": (-2 ** 63, 2 ** 63 - 1), "randperm": (0, 6),
              "randperm 0": (0, 0), "randperm int32": (0, 6), "randperm float32": (0, 6),
              "randperm 0-d tensor": (0, 4), "random_()": (0, 2 ** 24),
              "random_(to)": (0, 4), "random_(from, to)": (2, 4), "random_(to=)": (0, 4),
              "random_(from, None)": (2, 2 ** 24), "random_ int64": (0, 2 ** 63 - 1),
              "random_ uint8": (0, 255), "random_ bool": (0, 1),
              "random_ 0-d int64": (0, 2 ** 63 - 1), "randint_like(x, high)": (0, 4),
              "randint_like(x, low, high)": (3, 4), "randint_like(x, high=)": (0, 4)}[name]
    for lib, g in ((mg, mg.Generator().manual_seed(0)), (torch, _torch_generator(0))):
        values = _np(CALLS[name](lib, g)).astype(object).ravel().tolist()
        assert all(lo <= int(v) <= hi and int(v) == v for v in values), (lib.__name__, values)


# ---------------------------------------------------------------- errors as torch's
ERRORS = {
    "randint low == high": lambda L: L.randint(5, 5, (3,)),
    "randint low > high": lambda L: L.randint(6, 5, (3,)),
    "randint beyond uint8": lambda L: L.randint(0, 300, (3,), dtype=L.uint8),
    "randint below uint8": lambda L: L.randint(-1, 3, (3,), dtype=L.uint8),
    "randint beyond bool": lambda L: L.randint(0, 10, (3,), dtype=L.bool),
    "randint(high, int)": lambda L: L.randint(10, 3),
    "randint(low, high, int)": lambda L: L.randint(0, 10, 3),
    "randint(high)": lambda L: L.randint(10),
    "randint float high": lambda L: L.randint(0, 10.5, (3,)),
    "randint float low": lambda L: L.randint(0.5, 10, (3,)),
    "randint int requires_grad": lambda L: L.randint(0, 10, (3,), requires_grad=True),
    "randint negative size": lambda L: L.randint(0, 10, (-1,)),
    "randint generator=int": lambda L: L.randint(0, 10, (3,), generator=3),
    "randperm -1": lambda L: L.randperm(-1),
    "randperm float": lambda L: L.randperm(5.0),
    "randperm beyond uint8": lambda L: L.randperm(300, dtype=L.uint8),
    "randperm requires_grad": lambda L: L.randperm(5, requires_grad=True),
    "multinomial n > categories": lambda L: L.multinomial(L.tensor([1., 2, 3]), 4),
    "multinomial 0 samples": lambda L: L.multinomial(L.tensor([1., 2, 3]), 0),
    "multinomial -1 samples": lambda L: L.multinomial(L.tensor([1., 2, 3]), -1),
    "multinomial float samples": lambda L: L.multinomial(L.tensor([1., 2, 3]), 2.0),
    "multinomial negative": lambda L: L.multinomial(L.tensor([1., -2, 3]), 1),
    "multinomial inf": lambda L: L.multinomial(L.tensor([1., float("inf"), 3]), 1),
    "multinomial nan": lambda L: L.multinomial(L.tensor([1., float("nan"), 3]), 1, True),
    "multinomial all zero": lambda L: L.multinomial(L.tensor([0., 0, 0]), 1),
    "multinomial a zero row": lambda L: L.multinomial(L.tensor([[1., 1], [0, 0]]), 1, True),
    "multinomial integer": lambda L: L.multinomial(L.tensor([1, 2, 3]), 1),
    "multinomial 0-d": lambda L: L.multinomial(L.tensor(1.), 1),
    "multinomial 3-D": lambda L: L.multinomial(L.ones(2, 2, 2), 1),
    "multinomial no categories": lambda L: L.multinomial(L.ones(3, 0), 1),
    "normal negative std": lambda L: L.normal(0.0, -1.0, (2,)),
    "normal(T, negative)": lambda L: L.normal(L.zeros(2), -1.0),
    "normal(T, T negative)": lambda L: L.normal(L.zeros(2), L.tensor([1., -1])),
    "normal integer mean": lambda L: L.normal(L.zeros(2, dtype=L.int64), 1.0),
    "normal(float, float)": lambda L: L.normal(0.0, 1.0),
    "normal shapes": lambda L: L.normal(L.zeros(2), L.ones(3)),
    "bernoulli p > 1": lambda L: L.bernoulli(L.full((3,), 1.5)),
    "bernoulli p < 0": lambda L: L.bernoulli(L.full((3,), -0.5)),
    "bernoulli nan": lambda L: L.bernoulli(L.full((3,), float("nan"))),
    "bernoulli integer": lambda L: L.bernoulli(L.ones(3, dtype=L.int64)),
    "bernoulli_ p > 1": lambda L: L.ones(3).bernoulli_(1.5),
    "bernoulli_ shapes": lambda L: L.ones(3).bernoulli_(L.tensor([0.1, 0.2])),
    "random_ from > to": lambda L: L.ones(3).random_(5, 2),
    "random_ beyond uint8": lambda L: L.ones(3, dtype=L.uint8).random_(300),
    "random_ below uint8": lambda L: L.ones(3, dtype=L.uint8).random_(-1, 3),
    "random_ float bound": lambda L: L.ones(3).random_(0.5, 3),
    "random_ leaf": lambda L: L.ones(3, requires_grad=True).random_(),
    "bernoulli_ leaf": lambda L: L.ones(3, requires_grad=True).bernoulli_(),
    "exponential_ 0": lambda L: L.ones(3).exponential_(0.0),
    "exponential_ negative": lambda L: L.ones(3).exponential_(-1.0),
    "exponential_ integer": lambda L: L.ones(3, dtype=L.int64).exponential_(),
    "geometric_ p = 1": lambda L: L.ones(3).geometric_(1.0),
    "geometric_ p = 0": lambda L: L.ones(3).geometric_(0.0),
    "log_normal_ std = 0": lambda L: L.ones(3).log_normal_(0, 0),
    "log_normal_ integer": lambda L: L.ones(3, dtype=L.int64).log_normal_(),
    "cauchy_ sigma < 0": lambda L: L.ones(3).cauchy_(0, -1),
    "cauchy_ integer": lambda L: L.ones(3, dtype=L.int64).cauchy_(),
    "poisson negative": lambda L: L.poisson(L.tensor([-1.0, 2.0])),
    "poisson nan": lambda L: L.poisson(L.tensor([0.0, float("nan")])),
    "poisson integer": lambda L: L.poisson(L.tensor([1, 2])),
    "normal_ negative std": lambda L: L.ones(3).normal_(0, -1),
    "normal_ integer": lambda L: L.ones(3, dtype=L.int64).normal_(),
    "uniform_ from > to": lambda L: L.ones(3).uniform_(2, 1),
    "uniform_ integer": lambda L: L.ones(3, dtype=L.int64).uniform_(),
    "randn integer": lambda L: L.randn(2, dtype=L.int64),
    "rand integer": lambda L: L.rand(2, dtype=L.int64),
    "randn negative": lambda L: L.randn(-1),
    "randn no size": lambda L: L.randn(),
    "randn float size": lambda L: L.randn(2, 3.0),
    "randn_like integer": lambda L: L.randn_like(L.zeros(2, dtype=L.int64)),
    "randint_like low >= high": lambda L: L.randint_like(L.zeros(2), 5, 3),
    "trunc_normal_ a > b": lambda L: L.nn.init.trunc_normal_(L.zeros(3), a=1, b=0),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_sampler_errors_as_torch(name):
    raised = []
    for lib in LIBS:
        with pytest.raises(Exception) as e:
            ERRORS[name](lib)
        raised.append(e.type)
    assert raised[0] is raised[1], f"{name}: minigrad raises {raised[0]}, torch {raised[1]}"


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_", "sparse_"])
def test_init_functions_have_torchs_parameters(name):
    """The same parameter names in the same order, generator last, so any call that passes
    torch's arguments by position or by name works."""
    assert (list(inspect.signature(getattr(mg.nn.init, name)).parameters)
            == list(inspect.signature(getattr(torch.nn.init, name)).parameters))


def test_trunc_normal_warns_as_torch_far_from_its_bounds():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="more than 2 std"):
            lib.nn.init.trunc_normal_(lib.zeros(3), mean=5, a=-2, b=2)


# ---------------------------------------------------------------- distributions
N = 100_000


def test_randn_rand_normal_uniform_are_distributed_as_named():
    g = mg.Generator().manual_seed(2024)
    cases = [(mg.randn(N, generator=g), stats.norm()),
             (mg.rand(N, generator=g, dtype=mg.float64), stats.uniform()),
             (mg.zeros(N, dtype=mg.float64).normal_(3.0, 0.5, generator=g), stats.norm(3, 0.5)),
             (mg.zeros(N, dtype=mg.float64).uniform_(-2, 5, generator=g), stats.uniform(-2, 7)),
             (mg.normal(1.5, 2.0, (N,), generator=g, dtype=mg.float64), stats.norm(1.5, 2)),
             (mg.zeros(N, dtype=mg.float64).exponential_(4.0, generator=g),
              stats.expon(scale=0.25)),
             (mg.nn.init.trunc_normal_(mg.zeros(N, dtype=mg.float64), 1.0, 2.0, 0.0, 3.0,
                                       generator=g), stats.truncnorm(-0.5, 1.0, 1.0, 2.0)),
             (mg.zeros(N, dtype=mg.float64).log_normal_(0.5, 0.8, generator=g),
              stats.lognorm(0.8, scale=math.exp(0.5))),
             (mg.zeros(N, dtype=mg.float64).cauchy_(1.0, 2.0, generator=g),
              stats.cauchy(1.0, 2.0))]
    for x, dist in cases:
        p = stats.kstest(_np(x), dist.cdf).pvalue
        assert p > P_MIN, (dist.dist.name, p)
    # the test can fail: the uniform draws are not normal
    assert stats.kstest(_np(cases[1][0]), stats.norm().cdf).pvalue < P_MIN


def test_normal_with_tensors_has_each_mean_and_std():
    g = mg.Generator().manual_seed(7)
    mean = mg.tensor([-3.0, 0.0, 10.0], dtype=mg.float64)
    std = mg.tensor([[0.5], [2.0]], dtype=mg.float64)
    x = _np(mg.normal(mean.expand(N, 2, 3), std.expand(N, 2, 3), generator=g))
    for i in range(2):
        for j in range(3):
            p = stats.kstest(x[:, i, j], stats.norm(_np(mean)[j], _np(std)[i, 0]).cdf).pvalue
            assert p > P_MIN, (i, j, p)


def test_randint_and_random_are_uniform_on_their_range():
    g = mg.Generator().manual_seed(9)
    for x, lo, hi in [(mg.randint(3, 10, (N,), generator=g), 3, 9),
                      (mg.randint(-4, 2, (N,), generator=g, dtype=mg.int8), -4, 1),
                      (mg.zeros(N).random_(2, 7, generator=g), 2, 6),
                      (mg.zeros(N, dtype=mg.int64).random_(5, generator=g), 0, 4),
                      (mg.zeros(256 * 400, dtype=mg.uint8).random_(generator=g), 0, 255),
                      (mg.zeros(128 * 400, dtype=mg.int8).random_(generator=g), 0, 127),
                      (mg.zeros(N, dtype=mg.bool).random_(generator=g), 0, 1),
                      (mg.randint_like(mg.zeros(N, dtype=mg.int32), 10, 15, generator=g), 10,
                       14)]:
        v = _np(x).astype(np.int64)
        assert v.min() == lo and v.max() == hi
        counts = _counts(v - lo, hi - lo + 1)
        assert _chi2_pvalue(counts, np.full(hi - lo + 1, v.size / (hi - lo + 1))) > P_MIN


def test_random_without_bounds_spans_the_dtype():
    """random_() reaches to 2²⁴ for float32 and 2⁵³ for float64, as torch: the top bits are
    used (the largest of 10⁵ draws lies in the top per mille of the range)."""
    g = mg.Generator().manual_seed(10)
    for dtype, top in ((mg.float32, 2 ** 24), (mg.float64, 2 ** 53), (mg.int64, 2 ** 63 - 1),
                       (mg.int32, 2 ** 31 - 1)):
        v = _np(mg.zeros(N, dtype=dtype).random_(generator=g)).astype(object)
        assert 0 <= min(v) and max(v) <= top and max(v) > top * 0.999, dtype


@pytest.mark.parametrize("name", ["geometric", "poisson"])
def test_discrete_samplers_follow_their_distribution(name):
    """Chi-square over the values that carry at least 50 expected draws, the tail in one bin."""
    g = mg.Generator().manual_seed(16)
    if name == "geometric":
        x, dist = mg.zeros(N).geometric_(0.3, generator=g), stats.geom(0.3)
    else:
        x, dist = mg.poisson(mg.full((N,), 4.5), generator=g), stats.poisson(4.5)
    v = _np(x).astype(np.int64)
    values = [k for k in range(int(dist.ppf(0.999)) + 1) if N * dist.pmf(k) >= 50]
    counts = [(v == k).sum() for k in values] + [np.isin(v, values, invert=True).sum()]
    expected = [N * dist.pmf(k) for k in values]
    assert _chi2_pvalue(counts, expected + [N - sum(expected)]) > P_MIN


def test_randperm_gives_every_order_equally_often():
    g = mg.Generator().manual_seed(11)
    orders = [tuple(mg.randperm(4, generator=g).tolist()) for _ in range(24 * 500)]
    index = {p: i for i, p in enumerate(permutations(range(4)))}
    counts = _counts([index[o] for o in orders], 24)
    assert _chi2_pvalue(counts, np.full(24, 500)) > P_MIN
    big = mg.randperm(1000, generator=g)
    assert sorted(big.tolist()) == list(range(1000))


def test_multinomial_with_replacement_draws_in_proportion_to_the_weights():
    g = mg.Generator().manual_seed(12)
    weights = np.array([[1.0, 2.0, 3.0, 4.0, 0.0], [0.0, 5.0, 0.0, 1.0, 0.5]])
    x = _np(mg.multinomial(mg.tensor(weights), N, replacement=True, generator=g))
    for row, w in zip(x, weights):
        counts = _counts(row, len(w))
        assert counts[w == 0].sum() == 0             # a weight 0 is never drawn
        nz = w > 0
        assert _chi2_pvalue(counts[nz], N * w[nz] / w.sum()) > P_MIN
    wrong = _counts(x[0], 5)[:4]                     # the test can fail: not uniform
    assert _chi2_pvalue(wrong, np.full(4, N / 4)) < P_MIN


def test_multinomial_without_replacement_draws_one_by_one():
    """Without replacement, the first index is drawn in proportion to the weights, the next in
    proportion to the weights left: P(i, j) = w_i/W · w_j/(W − w_i). 50 000 rows in one call."""
    g = mg.Generator().manual_seed(13)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    rows = 50_000
    x = _np(mg.multinomial(mg.tensor(np.tile(w, (rows, 1))), 2, generator=g))
    assert (x[:, 0] != x[:, 1]).all()
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]
    counts = _counts([pairs.index((a, b)) for a, b in x.tolist()], len(pairs))
    expected = [rows * w[i] / w.sum() * w[j] / (w.sum() - w[i]) for i, j in pairs]
    assert _chi2_pvalue(counts, expected) > P_MIN
    one = _np(mg.multinomial(mg.tensor(np.tile(w, (rows, 1))), 1, generator=g))
    assert one.shape == (rows, 1)
    assert _chi2_pvalue(_counts(one, 4), rows * w / w.sum()) > P_MIN
    full = _np(mg.multinomial(mg.tensor([[0.0, 3.0, 0.0, 1.0]] * 1000), 4, generator=g))
    assert (np.sort(full, axis=1) == np.arange(4)).all()    # every index once
    assert set(map(tuple, full[:, 2:])) == {(0, 2)}          # weights 0 last, in index order


def test_bernoulli_frequencies():
    g = mg.Generator().manual_seed(14)
    p = np.array([0.0, 0.05, 0.5, 0.9, 1.0])
    for x in (mg.bernoulli(mg.tensor(np.tile(p, (N, 1))), generator=g),
              mg.zeros(N, 5).bernoulli_(mg.tensor(p), generator=g)):
        freq = _np(x).mean(axis=0)
        assert set(np.unique(_np(x))) <= {0.0, 1.0}
        bound = 6 * np.sqrt(p * (1 - p) / N)          # six standard deviations
        assert (np.abs(freq - p) <= bound).all(), freq
    freq = _np(mg.zeros(N).bernoulli_(0.3, generator=g)).mean()
    assert abs(freq - 0.3) <= 6 * math.sqrt(0.21 / N)


def test_init_orthogonal_and_sparse():
    g = mg.Generator().manual_seed(15)
    for shape in ((3, 5), (5, 3), (4, 2, 3)):
        for lib, gen in ((mg, g), (torch, _torch_generator(0))):
            w = lib.nn.init.orthogonal_(lib.zeros(*shape, dtype=lib.float64), 2.0,
                                        generator=gen)
            q = _np(w).reshape(shape[0], -1)
            small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
            np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-12)
    w = _np(mg.nn.init.sparse_(mg.zeros(10, 200, dtype=mg.float64), 0.3, 2.0, generator=g))
    assert ((w == 0).sum(axis=0) == 3).all()           # ⌈0.3 · 10⌉ zeros in every column
    assert stats.kstest(w[w != 0], stats.norm(0, 2).cdf).pvalue > P_MIN


def test_dataloader_style_shuffle_from_a_generator():
    """What a data loader does with a generator: a permutation a seed reproduces, and a seed
    drawn for a sampler's own generator (torch's RandomSampler) from the default stream."""
    orders = [mg.randperm(10, generator=mg.Generator().manual_seed(3)).tolist()
              for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(10))
    mg.manual_seed(0)
    seed = int(mg.empty((), dtype=mg.int64).random_().item())
    assert 0 <= seed < 2 ** 63
    mg.Generator().manual_seed(seed)
