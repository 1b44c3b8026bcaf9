"""The small API real PyTorch code calls, against torch: dtypes (names, printing, equality,
attributes, conversions, finfo/iinfo, the default dtype), how tensors print and format,
constructors that share or copy memory, the legacy constructors, inference_mode, and the
checks on assigning ``.grad``."""
import pickle
import re

import numpy as np
import pytest
import torch

import minigrad as mg

NAMES = ["float32", "float", "float64", "double", "float16", "half", "bfloat16", "int8",
         "int16", "int32", "int", "int64", "long", "short", "uint8", "bool"]
STORED = [n for n in NAMES if n != "bfloat16"]


def name(d):
    return str(d).split(".")[-1]


@pytest.fixture(autouse=True)
def _restore():
    """Leave the default dtype and print options as we found them, in both libraries."""
    dm, dt, opts = mg.get_default_dtype(), torch.get_default_dtype(), mg.get_printoptions()
    yield
    mg.set_default_dtype(dm)
    torch.set_default_dtype(dt)
    mg.set_printoptions(**{k: v for k, v in opts.items()})
    torch.set_printoptions(profile="default", sci_mode=None)


# ---------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("n", NAMES)
def test_dtype_names_print_and_attributes_as_torch(n):
    m, t = getattr(mg, n), getattr(torch, n)
    assert repr(m) == repr(t).replace("torch.", "minigrad.") and str(m) == repr(m)
    assert name(m) == name(t)
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(m, attr) == getattr(t, attr), f"{n}.{attr}"
    assert isinstance(m, mg.dtype)
    assert pickle.loads(pickle.dumps(m)) is m


@pytest.mark.parametrize("n", STORED)
def test_dtype_equals_its_numpy_dtype_and_hashes_as_it(n):
    m = getattr(mg, n)
    np_dtype = np.dtype(name(m))
    assert m == np_dtype and np_dtype == m and m == np_dtype.type and not (m != np_dtype)
    assert hash(m) == hash(np_dtype) and {np_dtype: 1}[m] == 1
    assert np.zeros(2, m).dtype == np_dtype and np.ones(2).astype(m).dtype == np_dtype
    assert m != name(m) and m is not None and m != None  # noqa: E711 (a string is not a dtype)
    others = [getattr(mg, k) for k in STORED if name(getattr(mg, k)) != name(m)]
    assert all(m != o for o in others)


@pytest.mark.parametrize("n", STORED)
def test_tensor_dtype_and_conversions_as_torch(n):
    tm = mg.tensor([0.0, 1.5, -2.0]).to(getattr(mg, n))
    tt = torch.tensor([0.0, 1.5, -2.0]).to(getattr(torch, n))
    assert name(tm.dtype) == name(tt.dtype) and tm.dtype is getattr(mg, n)
    assert tm.element_size() == tt.element_size()
    assert tm.is_floating_point() == tt.is_floating_point()
    assert tm.is_signed() == tt.is_signed() and tm.is_complex() == tt.is_complex()
    assert tm.type() == tt.type().replace("torch.", "minigrad.")
    assert np.array_equal(tm.numpy(), tt.numpy())
    for method in ("half", "float", "double", "long", "int", "short", "char", "byte", "bool"):
        a, b = getattr(tm, method)(), getattr(tt, method)()
        assert name(a.dtype) == name(b.dtype), method
        assert np.array_equal(a.numpy(), b.numpy()), method


def test_every_way_of_giving_a_dtype():
    for lib in (mg, torch):
        assert name(lib.zeros(2, dtype=lib.float64).dtype) == "float64"
        assert name(lib.ones(2).to(lib.int64).dtype) == "int64"
        assert name(lib.ones(2).type(lib.float16).dtype) == "float16"
        assert name(lib.ones(2).to(dtype=lib.float64).dtype) == "float64"
        assert name(lib.ones(2).to("cpu", lib.float64).dtype) == "float64"
        assert name(lib.ones(2).to(lib.ones(1, dtype=lib.int32)).dtype) == "int32"
        assert name(lib.ones(2).type("torch.LongTensor").dtype) == "int64"
        assert name(lib.full((2,), 1.0, dtype=lib.float64).dtype) == "float64"
        assert name(lib.arange(3, dtype=lib.float32).dtype) == "float32"
        assert name(lib.tensor([1, 2], dtype=lib.uint8).dtype) == "uint8"
    assert mg.tensor([1, 2], dtype=np.float32).dtype == mg.float32      # numpy's, as before
    t = mg.ones(2)
    assert t.to(mg.float32) is t and t.to(mg.float32, copy=True) is not t


def test_bfloat16_is_a_name_that_refuses_to_make_a_tensor():
    assert repr(mg.bfloat16) == "minigrad.bfloat16" and mg.bfloat16 != mg.float32
    assert mg.bfloat16 != np.dtype("float32") and mg.bfloat16 != np.dtype("float16")
    for make in (lambda: mg.zeros(2, dtype=mg.bfloat16), lambda: mg.ones(2).to(mg.bfloat16),
                 lambda: mg.tensor([1.0], dtype=mg.bfloat16), lambda: mg.ones(2).type(mg.bfloat16)):
        with pytest.raises(TypeError, match="no bfloat16"):
            make()


def test_default_dtype_as_torch():
    assert mg.get_default_dtype() is mg.float32 and mg.tensor(1.0).dtype is mg.float32
    mg.set_default_dtype(mg.float64)
    torch.set_default_dtype(torch.float64)
    assert mg.get_default_dtype() is mg.float64
    assert name(mg.tensor([1.0]).dtype) == name(torch.tensor([1.0]).dtype) == "float64"
    assert repr(mg.tensor([1.5])) == repr(torch.tensor([1.5]))
    for lib in (mg, torch):
        with pytest.raises(TypeError, match="only floating-point types are supported"):
            lib.set_default_dtype(lib.int64)


@pytest.mark.parametrize("n", ["float32", "float64", "float16", "bfloat16"])
def test_finfo_as_torch(n):
    m, t = mg.finfo(getattr(mg, n)), torch.finfo(getattr(torch, n))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(m, attr) == getattr(t, attr), attr
    assert repr(m) == repr(t)
    assert mg.finfo().dtype == torch.finfo().dtype == "float32"


@pytest.mark.parametrize("n", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo_as_torch(n):
    m, t = mg.iinfo(getattr(mg, n)), torch.iinfo(getattr(torch, n))
    assert (m.bits, m.min, m.max, m.dtype) == (t.bits, t.min, t.max, t.dtype)
    assert repr(m) == repr(t)


def test_finfo_and_iinfo_refuse_the_other_kind():
    for lib in (mg, torch):
        with pytest.raises(TypeError):
            lib.finfo(lib.int32)
        with pytest.raises(TypeError):
            lib.iinfo(lib.float32)
        with pytest.raises(TypeError):
            lib.iinfo(lib.bool)


# ---------------------------------------------------------------------------- printing
def both(array, **kw):
    """The same numbers as a minigrad and a torch tensor."""
    return mg.tensor(array, **kw), torch.tensor(array, **{k: v for k, v in kw.items()})


def same_repr(m, t):
    """minigrad's repr is torch's, but for the library's name and the grad_fn names; a
    suffix may go to a line of its own in one and not the other, since "minigrad." is three
    characters longer than "torch." (both wrap at the same line width)."""
    expected = repr(t).replace("torch.", "minigrad.").replace("Backward0>", "Backward>")
    got = repr(m)
    assert str(m) == got
    one_line = lambda s: re.sub(r",\n +(dtype=|grad_fn=|requires_grad=|size=)", r", \1", s)
    assert one_line(got) == one_line(expected), f"\nminigrad:\n{got}\ntorch:\n{expected}"
    if got != expected:        # torch wraps a suffix when the line would pass linewidth - 2
        assert max(map(len, expected.replace("torch.", "minigrad.").splitlines())) > 78


def _random_arrays(seed):
    rng = np.random.default_rng(seed)
    scales = [1.0, 1e-6, 1e-3, 1e3, 1e9, 1e-12, 1e20]
    for _ in range(40):
        ndim = int(rng.integers(0, 4))
        shape = tuple(int(n) for n in rng.integers(0, 6, ndim))
        kind = rng.choice(["normal", "ints", "wide", "edge", "bool", "int"])
        if kind == "normal":
            a = rng.standard_normal(shape) * rng.choice(scales)
        elif kind == "ints":                    # integer-valued floats print as 1.
            a = rng.integers(-50, 50, shape).astype(np.float64)
        elif kind == "wide":                    # magnitudes from 1e-8 to 1e8
            a = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, shape)
        elif kind == "edge":
            a = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 2.5, -3.25], shape)
        elif kind == "bool":
            yield rng.integers(0, 2, shape).astype(bool)
            continue
        else:
            yield rng.integers(-10 ** int(rng.integers(1, 10)), 100, shape)
            continue
        yield a.astype(rng.choice([np.float32, np.float64]))


@pytest.mark.parametrize("seed", range(5))
def test_repr_matches_torch_on_random_tensors(seed):
    for a in _random_arrays(seed):
        same_repr(*both(a))


@pytest.mark.parametrize("a", [
    np.float32(3.0), np.float32(1e-5), np.float32(-0.0), np.float64(1 / 3), np.int64(7),
    np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros((2, 0), np.float64),
    np.zeros((0, 3), np.bool_), np.array([1e8, 1.0], np.float32), np.array([1e9, 1.0]),
    np.array([1e-4, 1.0], np.float32), np.array([0.5, 1000.0]), np.array([0.5, 1000.5]),
    np.array([np.nan, 1.0, np.inf]), np.array([np.nan, -np.inf]), np.array([0.0, -0.0]),
    np.array([123456789.0, 2.0]), np.float16([1.5, 2.25]), np.arange(2000.0),
    np.arange(1001, dtype=np.int64), np.arange(1200.0).reshape(40, 30),
    np.arange(3 * 400.0).reshape(3, 20, 20) / 7, np.arange(24, dtype=np.int32).reshape(2, 3, 4),
    np.linspace(-1, 1, 30), np.array([True, False]), np.array([[1.25, 2], [3, 4]]),
], ids=lambda a: f"{np.asarray(a).dtype}{list(np.shape(a))}")
def test_repr_matches_torch_on_chosen_tensors(a):
    same_repr(*both(a))


def test_repr_suffixes_requires_grad_and_grad_fn():
    for a in (np.ones((2, 3)), np.float32(2.0), np.arange(40.0).reshape(2, 20)):
        m, t = both(a, requires_grad=True)
        same_repr(m, t)
        same_repr(m * 2, t * 2)
        same_repr((m * 2).sum(), (t * 2).sum())
    m, t = both(np.ones(3, np.float64))
    same_repr(mg.zeros(3, dtype=mg.float64, requires_grad=True),
              torch.zeros(3, dtype=torch.float64, requires_grad=True))
    same_repr(mg.zeros(30, dtype=mg.int32), torch.zeros(30, dtype=torch.int32))


@pytest.mark.parametrize("opts", [dict(precision=2), dict(precision=8), dict(threshold=5),
                                  dict(edgeitems=1, threshold=10), dict(linewidth=30),
                                  dict(sci_mode=True), dict(sci_mode=False),
                                  dict(profile="short"), dict(profile="full"),
                                  dict(edgeitems=0, threshold=3)])
def test_set_printoptions_as_torch(opts):
    mg.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for a in (np.arange(30.0) / 7, np.arange(24.0).reshape(2, 3, 4) * 1e5, np.float64(2.0),
              np.arange(1500.0).reshape(50, 30), np.array([1e-6, 1.0]), np.arange(12),
              np.array([np.nan, 2.0])):
        same_repr(*both(a))


def test_format_of_a_0d_tensor_is_its_number():
    for spec in (".4f", ".2e", "", "10.3f", "g"):
        m, t = both(np.float32(2.718281828), requires_grad=True)
        assert format(m, spec) == format(t, spec), spec
        assert f"{(m * 2).sum()}" == f"{(t * 2).sum()}"
    m, t = both(np.int64(12))
    assert f"{m:5d}" == f"{t:5d}"
    m, t = both(np.array([1.0, 2.0]))
    assert format(m, "") == str(m) and format(t, "") == str(t)
    for x in (m, t, mg.tensor([2.5]), torch.tensor([2.5])):
        with pytest.raises(TypeError):
            format(x, ".4f")
    assert f"{mg.nn.Parameter(mg.tensor([1.0]))}".startswith("Parameter containing:")


# ---------------------------------------------------------------------------- constructors
def test_new_tensors_take_the_dtype_of_self():
    for lib in (mg, torch):
        x = lib.ones(2, dtype=lib.float64)
        made = [x.new_zeros(3), x.new_ones((2, 2)), x.new_full((2,), 3), x.new_empty(2),
                x.new_tensor([1, 2]), x.new_zeros(2, dtype=lib.int64),
                x.new_ones(2, requires_grad=True)]
        yield_ = [(name(t.dtype), tuple(t.shape), t.requires_grad) for t in made]
        if lib is mg:
            ours = yield_
        else:
            assert ours == yield_
    m, t = mg.ones(2).new_tensor([1.5, 2.5]), torch.ones(2).new_tensor([1.5, 2.5])
    same_repr(m, t)
    same_repr(mg.ones(2).new_full((2, 2), 7.0), torch.ones(2).new_full((2, 2), 7.0))


def test_from_numpy_shares_memory_as_torch():
    for lib in (mg, torch):
        a = np.arange(4.0)
        t = lib.from_numpy(a)
        a[0] = 9.0
        assert t[0].item() == 9.0 and name(t.dtype) == "float64"
        t.numpy()[1] = 7.0
        assert a[1] == 7.0
        with pytest.raises(TypeError, match="expected np.ndarray"):
            lib.from_numpy([1.0, 2.0])
    u8 = np.array([1, 2, 250], np.uint8)
    assert mg.from_numpy(u8).dtype == mg.uint8 and mg.from_numpy(u8).long().tolist() == [1, 2, 250]


def test_as_tensor_copies_only_when_it_must():
    for lib in (mg, torch):
        a = np.arange(3.0)
        shared, converted = lib.as_tensor(a), lib.as_tensor(a, dtype=lib.float32)
        a[0] = 5.0
        assert shared[0].item() == 5.0 and converted[0].item() == 0.0
        t = lib.ones(2)
        assert lib.as_tensor(t) is t and lib.as_tensor(t, dtype=lib.float64) is not t
        assert name(lib.as_tensor([1, 2]).dtype) == "int64"
        assert name(lib.as_tensor([1.0, 2]).dtype) == "float32"


def test_is_tensor_and_numel():
    for lib in (mg, torch):
        x = lib.ones(2, 3)
        assert lib.is_tensor(x) and not lib.is_tensor(1.0) and not lib.is_tensor(np.ones(2))
        assert lib.numel(x) == 6


def test_legacy_constructors_as_torch():
    for cls in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                "ByteTensor", "HalfTensor", "ShortTensor", "CharTensor"):
        m, t = getattr(mg, cls)([1, 0, 2.7]), getattr(torch, cls)([1, 0, 2.7])
        same_repr(m, t)
        assert isinstance(m, getattr(mg, cls)) and isinstance(t, getattr(torch, cls))
        assert not isinstance(mg.ones(1, dtype=mg.int8), getattr(mg, cls)) or cls == "CharTensor"
        assert tuple(getattr(mg, cls)(2, 3).shape) == tuple(getattr(torch, cls)(2, 3).shape)
        assert mg.ones(2).type(getattr(mg, cls)).dtype == getattr(mg, cls)._dtype
    assert tuple(mg.Tensor(2, 3).shape) == tuple(torch.Tensor(2, 3).shape) == (2, 3)
    assert mg.Tensor(2, 3).dtype is mg.float32 and mg.Tensor(2, 3).sum().item() == 0.0
    assert tuple(mg.Tensor().shape) == tuple(torch.Tensor().shape) == (0,)
    assert tuple(mg.Tensor(mg.Size([4])).shape) == tuple(torch.Tensor(torch.Size([4])).shape)
    assert mg.Tensor(np.arange(3)).dtype is mg.int64           # data keeps its dtype (see docs)


# ---------------------------------------------------------------------------- modes, .grad
def test_inference_mode_as_torch():
    def f(lib):
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

    for lib in (mg, torch):
        assert f(lib) == (True, False)
        with lib.inference_mode():
            inside = f(lib)
            assert (lib.ones(2, requires_grad=True) * 2).grad_fn is None
        with lib.inference_mode(False):
            off = f(lib)
        bare = lib.inference_mode(lambda: f(lib))()
        called = lib.inference_mode()(lambda: f(lib))()
        got = (inside, off, bare, called, f(lib))
        if lib is mg:
            ours = got
    assert ours == got == ((False, True), (True, False), (False, True), (False, True),
                           (True, False))


def _grad_error(lib, value, dtype="float32"):
    a = lib.ones(2, 3, dtype=getattr(lib, dtype), requires_grad=True)
    try:
        a.grad = value(lib)
    except (TypeError, RuntimeError) as e:
        return type(e).__name__, str(e).split(".")[0]
    return None


@pytest.mark.parametrize("value", [
    lambda lib: 0.0, lambda lib: [[1.0] * 3] * 2, lambda lib: np.ones((2, 3), np.float32),
    lambda lib: lib.ones(3),
    lambda lib: lib.ones(1, 3), lambda lib: lib.ones(2, 3, dtype=lib.float64),
    lambda lib: lib.ones(2, 3, dtype=lib.int64), lambda lib: None, lambda lib: lib.zeros(2, 3),
], ids=["float", "list", "ndarray", "shape", "broadcastable", "float64", "int64", "None", "ok"])
def test_assigning_grad_checks_as_torch(value):
    m, t = _grad_error(mg, value), _grad_error(torch, value)
    assert (m is None) == (t is None)
    if m is not None:
        assert m[0] == t[0]
        if "size" in t[1] or "grad expected" in t[1]:
            assert m == t


def test_a_checked_grad_is_used_by_backward():
    a = mg.ones(3, requires_grad=True)
    a.grad = mg.full((3,), 2.0)
    (a * 3).sum().backward()
    assert a.grad.tolist() == [5.0, 5.0, 5.0]
    a.grad = None
    assert a.grad is None
    with pytest.raises(TypeError, match="grad expected to be a Tensor or None"):
        a.grad = 0.0
