"""minigrad.save / minigrad.load against torch.save / torch.load: the same objects come back
from both (values, dtypes, structure, tensor identity); files that are not checkpoints, are
truncated or claim what a checkpoint may not hold are refused with a clear error; a failed
save leaves nothing behind; and optimizer state dicts resume training exactly."""
import io
import json
import math
import os
import struct
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minigrad
from minigrad import serialization

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def plain(x):
    """Comparable form of a loaded object: tensors as (kind, dtype, shape, values, grad)."""
    if isinstance(x, (torch.Tensor, minigrad.Tensor)):
        kind = "parameter" if isinstance(x, (torch.nn.Parameter, minigrad.nn.Parameter)) \
            else "tensor"
        values = x.detach().numpy()
        return (kind, str(x.dtype).split(".")[-1], tuple(x.shape),
                values.astype(np.float64).tolist() if values.dtype.kind == "f" else values.tolist(),
                x.requires_grad)
    if isinstance(x, (torch.dtype, np.dtype)) or type(x).__name__ == "dtype":
        return ("dtype", str(x).split(".")[-1])
    if isinstance(x, (torch.device, minigrad.device)):
        return ("device", str(x))
    if isinstance(x, (torch.Size, minigrad.Size)):
        return ("size", list(x))
    if isinstance(x, float):
        return ("float", "nan" if math.isnan(x) else x.hex())
    if isinstance(x, dict):
        return (type(x).__name__, [(plain(k), plain(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return (type(x).__name__, x)


def sample(lib):
    """A checkpoint-like object built the same way on either library."""
    rng = np.random.default_rng(0)
    tensors = {name: lib.tensor(rng.integers(0, 2, (2, 3)).astype(name)) for name in DTYPES}
    base = lib.tensor(rng.standard_normal((3, 4)))
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal(3).astype(np.float32)))
    return OrderedDict(
        tensors=tensors,
        zero_d=lib.tensor(2.5), zero_d_int=lib.tensor(7), empty=lib.zeros(0, 3),
        transposed=base.t(), strided=base[::2, 1::2], row=base[1],
        requires_grad=lib.ones(2, requires_grad=True), param=w,
        scalars=[0, -1, 2 ** 70, 1.5, -0.0, math.inf, -math.inf, math.nan, True, False, None],
        text=("", "héllo 中文", b"\x00\xffbytes"),
        nested={"a": [1, (2, {"b": [3.0]})], 5: "int key", (1, "t"): "tuple key", None: 0},
        size=lib.Size([2, 3]), dtype=lib.float64, device=lib.device("cpu"))


def roundtrip(lib, obj, **load_kwargs):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf, **load_kwargs)


def test_round_trip_equals_torchs():
    mine, ref = roundtrip(minigrad, sample(minigrad)), roundtrip(torch, sample(torch))
    assert plain(mine) == plain(ref)
    assert type(mine) is OrderedDict


def test_tensors_are_copies_with_their_values_and_identity_kept():
    t = minigrad.arange(6.0).reshape(2, 3)
    obj = {"a": t, "b": t, "view": t.t()}
    loaded = roundtrip(minigrad, obj)
    ref = roundtrip(torch, {"a": (tt := torch.arange(6.0).reshape(2, 3)), "b": tt, "view": tt.t()})
    assert (loaded["a"] is loaded["b"]) == (ref["a"] is ref["b"]) == True      # noqa: E712
    assert loaded["view"].is_contiguous() and loaded["view"].tolist() == ref["view"].tolist()
    t.add_(1)                                           # the loaded tensor is its own memory
    assert loaded["a"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert loaded["a"].is_leaf and loaded["a"].grad is None


def test_non_leaf_is_loaded_as_a_leaf_that_requires_grad_as_torch():
    for lib in (minigrad, torch):
        x = lib.ones(2, requires_grad=True)
        y = roundtrip(lib, x * 2)
        assert y.requires_grad and y.is_leaf and y.tolist() == [2.0, 2.0]


def test_paths_and_file_objects(tmp_path):
    obj = {"w": minigrad.randn(3, 2), "step": 3}
    for f in (str(tmp_path / "a.pt"), tmp_path / "b.pt"):
        minigrad.save(obj, f)
        back = minigrad.load(f, map_location="cpu", weights_only=False)
        assert back["step"] == 3 and back["w"].tolist() == obj["w"].tolist()
    with open(tmp_path / "c.pt", "wb") as fh:
        minigrad.save(obj, fh)
    with open(tmp_path / "c.pt", "rb") as fh:
        assert minigrad.load(fh, map_location=lambda storage, loc: storage)["step"] == 3
    assert minigrad.load(tmp_path / "c.pt", map_location=minigrad.device("cpu"))["step"] == 3
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "b.pt", "c.pt"]      # no temporary files


@pytest.mark.parametrize("where", ["cuda", "cuda:0", {"cuda:0": "cuda:1"}])
def test_map_location_off_the_cpu_is_refused(tmp_path, where):
    minigrad.save({"a": 1}, tmp_path / "a.pt")
    with pytest.raises(RuntimeError, match="CPU only"):
        minigrad.load(tmp_path / "a.pt", map_location=where)


class Thing:
    pass


@pytest.mark.parametrize("obj,name", [({"model": minigrad.nn.Linear(2, 2)}, "Linear module"),
                                      ({"f": lambda x: x}, "function"),
                                      ([{1, 2}], "set"), ({"t": Thing()}, "Thing"),
                                      ({"a": np.array([object()])}, "dtype object"),
                                      ({"a": np.array(["s"])}, "dtype <U1"),
                                      ({minigrad.ones(1): 1}, "dict key of type Tensor"),
                                      ({"x": 1j}, "complex"),
                                      ({"x": range(3)}, "range")])
def test_save_refuses_what_it_cannot_store_and_writes_nothing(tmp_path, obj, name):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"previous contents")
    with pytest.raises(TypeError, match=name):
        minigrad.save(obj, path)
    assert path.read_bytes() == b"previous contents"
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    buf = io.BytesIO()
    with pytest.raises(TypeError, match=name):
        minigrad.save(obj, buf)
    assert buf.getvalue() == b""


def test_the_error_says_where_the_object_is():
    with pytest.raises(TypeError, match=r"obj\['optimizer'\]\['state'\]\[0\]"):
        minigrad.save({"optimizer": {"state": [object()]}}, io.BytesIO())


# ---------------------------------------------------------------------------- corrupt files
def valid_bytes():
    buf = io.BytesIO()
    minigrad.save({"w": minigrad.arange(6.0).reshape(2, 3), "n": 1}, buf)
    return buf.getvalue()


def edited(change):
    """A valid file whose JSON header ``change(header)`` edited (sizes left consistent)."""
    raw = valid_bytes()
    magic, version, n = struct.unpack_from("<8sIQ", raw)
    header = json.loads(raw[20:20 + n])
    change(header)
    new = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<8sIQ", magic, version, len(new)) + new + raw[20 + n:]


def load_bytes(raw):
    return minigrad.load(io.BytesIO(raw))


def test_a_valid_file_loads():
    assert load_bytes(valid_bytes())["n"] == 1
    assert edited(lambda h: None) == valid_bytes()


@pytest.mark.parametrize("cut", [1, 5, 19, 20, 40, -1, -8])
def test_truncated_file(cut):
    raw = valid_bytes()
    with pytest.raises(RuntimeError, match="truncated"):
        load_bytes(raw[:cut])


@pytest.mark.parametrize("raw,match", [(b"", "not a minigrad checkpoint"),
                                       (b"not a checkpoint at all, just text", "wrong magic"),
                                       (b"\x80\x04\x95" + b"\x00" * 40, "wrong magic"),
                                       (b"PK\x03\x04" + b"\x00" * 40, "torch.save")])
def test_not_a_checkpoint(raw, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(raw)


def test_a_torch_file_is_refused_as_a_pickle():
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    with pytest.raises(RuntimeError, match="does not read pickles"):
        load_bytes(buf.getvalue())


def set_node(header, node):
    header["object"]["items"][1][1] = node


@pytest.mark.parametrize("change,match", [
    (lambda h: set_node(h, {"type": "pickle", "value": "cos\nsystem\n"}), "type 'pickle'"),
    (lambda h: set_node(h, {"type": "module", "items": []}), "type 'module'"),
    (lambda h: set_node(h, {"type": "int", "value": "1"}), "int node holds str"),
    (lambda h: set_node(h, {"type": "dtype", "value": "object"}), "dtype 'object'"),
    (lambda h: set_node(h, {"type": "tensor", "array": 5}), "array 5"),
    (lambda h: set_node(h, "just a string"), "malformed"),
    (lambda h: h["arrays"][0].update(dtype="object"), "dtype"),
    (lambda h: h["arrays"][0].update(dtype="<f8"), "dtype"),
    (lambda h: h["arrays"][0].update(shape=[3, 3]), "claims shape"),
    (lambda h: h["arrays"][0].update(shape=[2, -3]), "malformed"),
    (lambda h: h["arrays"][0].update(nbytes=40, shape=[10]), "truncated"),
    (lambda h: h["arrays"][0].update(offset=8), "truncated"),
    (lambda h: h["arrays"][0].update(nbytes=8, shape=[2]), "data section"),
    (lambda h: h.pop("arrays"), "no list of arrays"),
    (lambda h: h.pop("object"), "describes no object"),
])
def test_a_header_that_does_not_hold(change, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(edited(change))


def test_wrong_version_and_bad_header():
    raw = valid_bytes()
    with pytest.raises(RuntimeError, match="version 7"):
        load_bytes(raw[:8] + struct.pack("<I", 7) + raw[12:])
    n = struct.unpack_from("<Q", raw, 12)[0]
    with pytest.raises(RuntimeError, match="not JSON"):
        load_bytes(raw[:20] + b"{" * n + raw[20 + n:])
    deep = b"[" * 100000 + b"]" * 100000
    with pytest.raises(RuntimeError, match="not JSON|nested too deeply"):
        load_bytes(raw[:12] + struct.pack("<Q", len(deep)) + deep)


def test_trailing_bytes_are_refused():
    with pytest.raises(RuntimeError, match="data section"):
        load_bytes(valid_bytes() + b"\x00")


def test_format_is_little_endian_raw_bytes_after_a_json_header():
    raw = valid_bytes()
    assert raw[:8] == serialization.MAGIC and struct.unpack_from("<I", raw, 8)[0] == 1
    n = struct.unpack_from("<Q", raw, 12)[0]
    header = json.loads(raw[20:20 + n])
    assert header["arrays"] == [{"dtype": "float32", "shape": [2, 3], "offset": 0, "nbytes": 24}]
    assert raw[20 + n:] == np.arange(6, dtype="<f4").tobytes()


# ---------------------------------------------------------------------------- optimizers
def model(lib, seed):
    torch.manual_seed(seed)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    if lib is torch:
        return ref
    m = minigrad.nn.Sequential(minigrad.nn.Linear(4, 8), minigrad.nn.Tanh(),
                               minigrad.nn.Linear(8, 3))
    m.load_state_dict(ref.state_dict())
    return m


OPTIMIZERS = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
              ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-2)),
              ("Adam", dict(lr=1e-2)), ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
              ("AdamW", dict(lr=1e-2)), ("AdamW", dict(lr=1e-2, amsgrad=True, maximize=True)),
              ("RMSprop", dict(lr=1e-2)),
              ("RMSprop", dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=0.1)),
              ("Adagrad", dict(lr=0.1)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1))]


def make_optimizer(lib, net, name, kwargs):
    decay = [p for n, p in net.named_parameters() if n.endswith("weight")]
    rest = [p for n, p in net.named_parameters() if not n.endswith("weight")]
    return getattr(lib.optim, name)([{"params": decay}, {"params": rest, "lr": 0.05}], **kwargs)


def train(lib, net, opt, steps):
    for s in steps:
        rng = np.random.default_rng(s)
        x = lib.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        y = lib.tensor(rng.integers(0, 3, 5))
        opt.zero_grad()
        lib.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()


def test_every_optimizer_is_covered():
    names = {name for name, _ in OPTIMIZERS}
    assert names == set(minigrad.optim.__all__) - {"Optimizer"}


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_save_load_resumes_training_exactly(tmp_path, name, kwargs):
    straight = model(minigrad, 0)
    opt = make_optimizer(minigrad, straight, name, kwargs)
    train(minigrad, straight, opt, range(6))

    first = model(minigrad, 0)
    opt1 = make_optimizer(minigrad, first, name, kwargs)
    train(minigrad, first, opt1, range(3))
    minigrad.save({"model": first.state_dict(), "optimizer": opt1.state_dict(), "iter_num": 3,
                   "config": {"name": name, **kwargs}}, tmp_path / "ckpt.pt")
    del first, opt1

    ckpt = minigrad.load(tmp_path / "ckpt.pt")
    resumed = model(minigrad, 1)                       # fresh, other weights
    opt2 = make_optimizer(minigrad, resumed, name, dict(kwargs, lr=0.5))
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    assert ckpt["iter_num"] == 3 and ckpt["config"]["name"] == name
    train(minigrad, resumed, opt2, range(3, 6))
    for (k, p), q in zip(straight.named_parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=k)


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_optimizer_state_dict_layout_as_torch(name, kwargs):
    sds = []
    for lib in (minigrad, torch):
        net = model(lib, 0)
        opt = make_optimizer(lib, net, name, kwargs)
        train(lib, net, opt, range(3))
        sds.append(roundtrip(lib, opt.state_dict()))
    mine, ref = sds
    assert list(mine) == list(ref) == ["state", "param_groups"]
    assert list(mine["state"]) == list(ref["state"])
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in ref["param_groups"]]
    for m_group, t_group in zip(mine["param_groups"], ref["param_groups"]):
        assert list(m_group) == list(t_group)                    # every key, in torch's order
        for key, value in m_group.items():
            assert t_group[key] == value, key
    for i, t_state in ref["state"].items():
        assert sorted(mine["state"][i]) == sorted(t_state)
        for key, t_value in t_state.items():
            m_value = mine["state"][i][key]
            assert isinstance(m_value, minigrad.Tensor) and m_value.dtype == t_value.numpy().dtype
            np.testing.assert_allclose(m_value.numpy(), t_value.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"state[{i}][{key}]")


def test_torch_optimizer_state_loads_into_minigrad_and_continues():
    ref = model(torch, 0)
    opt_t = make_optimizer(torch, ref, "AdamW", dict(lr=1e-2))
    train(torch, ref, opt_t, range(3))
    mine = model(minigrad, 1)
    opt_m = make_optimizer(minigrad, mine, "AdamW", dict(lr=1e-2))
    mine.load_state_dict(ref.state_dict())
    opt_m.load_state_dict(opt_t.state_dict())
    train(torch, ref, opt_t, range(3, 6))
    train(minigrad, mine, opt_m, range(3, 6))
    for p, q in zip(mine.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_tied_weights_stay_tied():
    emb = minigrad.nn.Embedding(5, 3)
    head = minigrad.nn.Linear(3, 5, bias=False)
    head.weight = emb.weight
    net = minigrad.nn.ModuleDict({"emb": emb, "head": head})
    sd = roundtrip(minigrad, net.state_dict(keep_vars=True))
    assert sd["emb.weight"] is sd["head.weight"]


def test_optimizer_implementation_flags_as_torch():
    for lib in (minigrad, torch):
        p = lib.nn.Parameter(lib.ones(2))
        for name in ("SGD", "Adam", "AdamW"):
            for kwargs in (dict(foreach=True), dict(fused=True), dict(foreach=False, fused=False)):
                opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
                assert opt.param_groups[0]["foreach"] == kwargs.get("foreach")
            with pytest.raises(RuntimeError, match="cannot be `True` together"):
                getattr(lib.optim, name)([p], lr=0.1, foreach=True, fused=True)
        assert lib.optim.Adam([p], decoupled_weight_decay=True).param_groups[0][
            "decoupled_weight_decay"] is True
    with pytest.raises(NotImplementedError, match="outside the graph"):
        minigrad.optim.SGD([minigrad.nn.Parameter(minigrad.ones(1))], differentiable=True)


def test_adam_with_decoupled_weight_decay_is_adamw():
    nets = [model(minigrad, 0), model(minigrad, 0)]
    opts = [minigrad.optim.Adam(nets[0].parameters(), lr=1e-2, weight_decay=0.1,
                                decoupled_weight_decay=True),
            minigrad.optim.AdamW(nets[1].parameters(), lr=1e-2, weight_decay=0.1)]
    for net, opt in zip(nets, opts):
        train(minigrad, net, opt, range(3))
    for p, q in zip(*(net.parameters() for net in nets)):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_optimizer_and_schedule_resume_together(tmp_path, lib):
    """Resume a scheduled run from a checkpoint: the groups' initial_lr comes back with the
    optimizer's state, so the schedule rebuilt with last_epoch continues where it was."""
    def run(net, steps, opt=None, sched=None):
        opt = opt or make_optimizer(lib, net, "AdamW", dict(lr=1e-2))
        sched = sched or lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        for s in steps:
            train(lib, net, opt, [s])
            sched.step()
        return opt, sched
    straight = model(lib, 0)
    run(straight, range(6))
    first = model(lib, 0)
    opt, sched = run(first, range(3))
    lib.save({"model": first.state_dict(), "optimizer": opt.state_dict(),
              "scheduler": sched.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = lib.load(tmp_path / "ckpt.pt")
    resumed = model(lib, 1)
    resumed.load_state_dict(ckpt["model"])
    opt2 = make_optimizer(lib, resumed, "AdamW", dict(lr=1e-2))
    opt2.load_state_dict(ckpt["optimizer"])
    sched2 = lib.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=8, last_epoch=2)
    sched2.load_state_dict(ckpt["scheduler"])
    run(resumed, range(3, 6), opt2, sched2)
    for p, q in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_numpy_arrays_and_scalars_round_trip(tmp_path):
    data = np.memmap(tmp_path / "data.bin", dtype=np.uint16, mode="w+", shape=(5,))
    data[:] = [1, 2, 3, 4, 65535]
    obj = {"memmap": data, "f32": np.float32(1.5), "i64": np.int64(-3), "b": np.bool_(True),
           "big": np.arange(12.0).reshape(3, 4)[:, ::2], "c": np.array([1 + 2j], np.complex64)}
    back = roundtrip(minigrad, obj)
    assert type(back["memmap"]) is np.ndarray and back["memmap"].tolist() == [1, 2, 3, 4, 65535]
    assert back["memmap"].dtype == np.uint16
    for key in ("f32", "i64", "b"):
        assert type(back[key]) is type(obj[key]) and back[key] == obj[key]
    np.testing.assert_array_equal(back["big"], obj["big"])
    assert back["c"].dtype == np.complex64 and back["c"].tolist() == [1 + 2j]


def test_missing_folder_and_file_as_torch(tmp_path):
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
            lib.save({"a": 1}, str(tmp_path / "no" / "ckpt.pt"))
        with pytest.raises(FileNotFoundError):
            lib.load(str(tmp_path / "no" / "ckpt.pt"))
    assert os.listdir(tmp_path) == []
