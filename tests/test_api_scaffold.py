"""What training scripts call around the model, against torch: devices and the CPU-only
pass-throughs (cuda, accelerator, backends, amp, compile, distributed, parallel), gradient
clipping, learning-rate schedules, the small modules tutorials put in ``nn.Sequential`` and
the Module API they use. The same calls on both libraries; values, printed forms and errors
compared."""
import math
import warnings

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as MF

LIBS = (minigrad, torch)


def outcome(fn):
    """fn()'s value, or the type of the error it raised."""
    try:
        return fn()
    except Exception as e:                        # the error itself is what is compared
        return type(e).__name__


def numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ---------------------------------------------------------------------------- devices
@pytest.mark.parametrize("args", [("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda:1",),
                                  ("mps",), ("cud",), ("cpu:x",), ("cpu", -1), ("cpu:0", 0)])
def test_device_objects_as_torch(args):
    def describe(lib):
        d = lib.device(*args)
        return repr(d), str(d), d.type, d.index, hash(d) == hash(lib.device(*args))
    assert outcome(lambda: describe(minigrad)) == outcome(lambda: describe(torch))


def test_device_equality_and_tensor_device_as_torch():
    for lib in LIBS:
        d = lib.device("cpu")
        assert d == lib.device("cpu") and d != lib.device("cpu", 0) and d != lib.device("cuda")
        assert (d == "cpu") is False and str(d) == "cpu" and d.type == "cpu"   # as torch
        assert lib.device(d) == d and lib.device(type="cpu", index=0) == lib.device("cpu:0")
        t = lib.ones(2)
        assert repr(t.device) == "device(type='cpu')" and t.device == d and t.device.type == "cpu"
        assert t.device in {d: 1}
        for moved in (t.to(d), t.to("cpu"), t.cpu(), t.to(device="cpu"), t.to("cpu", lib.float64)):
            assert moved.device == d
        assert t.to("cpu", lib.float64).dtype == lib.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        minigrad.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        minigrad.ones(2).to(minigrad.device("mps"))


def test_models_move_to_the_cpu_and_refuse_other_devices():
    net = minigrad.nn.Linear(2, 3)
    w = net.weight
    assert net.to(minigrad.device("cpu")) is net and net.to("cpu") is net and net.cpu() is net
    assert net.to("cpu:0") is net and minigrad.nn.Linear(2, 3, device="cpu:0").weight.shape == (3, 2)
    assert net.weight is w
    for call in (lambda: net.to("cuda"), lambda: net.cuda(), lambda: net.to("cuda:0"),
                 lambda: minigrad.nn.Linear(2, 3, device="cuda")):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


def test_cuda_accelerator_and_default_device_as_on_a_machine_without_gpus():
    for lib in LIBS:
        assert lib.cuda.is_available() is False and lib.cuda.device_count() == 0
        assert lib.cuda.manual_seed(0) is None and lib.cuda.manual_seed_all(0) is None
        assert lib.cuda.is_bf16_supported() is False and lib.cuda.empty_cache() is None
        assert lib.cuda.max_memory_allocated() == 0 and lib.cuda.is_initialized() is False
        assert lib.accelerator.is_available() is False and lib.accelerator.device_count() == 0
        assert lib.accelerator.current_accelerator() is None
        assert lib.backends.mps.is_available() is False
        with pytest.raises((RuntimeError, AssertionError)):
            lib.cuda.synchronize()
        lib.set_default_device("cpu")
        assert lib.get_default_device() == lib.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        minigrad.set_default_device("cuda")


FLAGS = ["cuda.matmul.allow_tf32", "cudnn.allow_tf32", "cudnn.benchmark", "cudnn.deterministic",
         "cudnn.enabled", "cuda.matmul.allow_fp16_reduced_precision_reduction"]


@pytest.mark.parametrize("flag", FLAGS)
def test_backend_flags_have_torchs_defaults_and_can_be_set(flag):
    def get(lib):
        obj = lib.backends
        for part in flag.split("."):
            obj = getattr(obj, part)
        return obj
    assert get(minigrad) == get(torch)
    *path, last = flag.split(".")
    holder = minigrad.backends
    for part in path:
        holder = getattr(holder, part)
    old = getattr(holder, last)
    try:
        setattr(holder, last, not old)
        assert get(minigrad) is (not old)
    finally:
        setattr(holder, last, old)


def test_compile_is_the_identity():
    net = minigrad.nn.Linear(2, 2)
    assert minigrad.compile(net) is net and minigrad.compile(net, mode="max-autotune") is net

    @minigrad.compile
    def f(x):
        return x * 2

    @minigrad.compile(fullgraph=True)
    def g(x):
        return x + 1
    assert f(minigrad.ones(1)).item() == 2 and g(minigrad.ones(1)).item() == 2


# ---------------------------------------------------------------------------- amp
def test_autocast_runs_the_block_unchanged():
    rng = np.random.default_rng(0)
    a, b = (minigrad.tensor(rng.standard_normal((3, 4))) for _ in range(2))
    plain = (a @ b.t()).numpy()
    for ctx in (minigrad.autocast(device_type="cpu"),
                minigrad.amp.autocast("cpu", dtype=minigrad.float16),
                minigrad.autocast("cpu", enabled=False)):
        with ctx:
            out = a @ b.t()
        np.testing.assert_array_equal(out.numpy(), plain)
        assert out.dtype == minigrad.float64

    @minigrad.autocast("cpu")
    def f(x):
        return minigrad.is_autocast_enabled("cpu"), x
    assert f(1) == (True, 1) and minigrad.is_autocast_enabled("cpu") is False


def test_autocast_state_and_warnings_as_torch():
    for lib in LIBS:
        assert lib.is_autocast_enabled() is False
        with lib.autocast("cpu", dtype=lib.float16):
            assert lib.is_autocast_enabled("cpu") is True and lib.is_autocast_enabled() is False
        assert lib.is_autocast_enabled("cpu") is False
        for kwargs in (dict(device_type="cuda"), dict(device_type="cpu", dtype=lib.float64)):
            with pytest.warns(UserWarning, match="Disabling"):
                with lib.autocast(**kwargs):
                    assert lib.is_autocast_enabled("cpu") is False
        with pytest.raises(RuntimeError, match="device type"):
            lib.autocast("cud")


def test_disabled_grad_scaler_is_a_pass_through_as_torch():
    for lib in LIBS:
        for scaler in (lib.amp.GradScaler(enabled=False), lib.amp.GradScaler("cpu", enabled=False)):
            p = lib.nn.Parameter(lib.ones(2))
            opt = lib.optim.SGD([p], lr=0.5)
            loss = (p * 3).sum()
            assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
            scaler.scale(loss).backward()
            assert scaler.unscale_(opt) is None and scaler.step(opt) is None
            scaler.update()
            assert p.detach().numpy().tolist() == [-0.5, -0.5]
            assert scaler.state_dict() == {} and scaler.is_enabled() is False


@pytest.mark.parametrize("make", [lambda lib: lib.amp.GradScaler(enabled=True),
                                  lambda lib: lib.cuda.amp.GradScaler(enabled=True),
                                  lambda lib: lib.cuda.amp.GradScaler()])
def test_grad_scaler_for_cuda_warns_and_disables_itself_as_torch(make):
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scaler = make(lib)
        assert scaler.is_enabled() is False
        assert any("not available" in str(w.message) and "Disabling" in str(w.message)
                   for w in caught)


def test_cpu_grad_scaler_scales_skips_and_adjusts_as_torch():
    history = []
    for lib in LIBS:
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        rows = []
        for g in [1.0, math.inf, 1.0, 1.0, 1.0, math.nan, 2.0]:
            opt.zero_grad()
            scaled = scaler.scale((p * g).sum())
            scaled.backward()
            scaler.step(opt)
            scaler.update()
            rows.append((scaled.item() if math.isfinite(scaled.item()) else "x", scaler.get_scale(),
                         numpy(p).tolist()))
        rows.append(scaler.state_dict())
        history.append(rows)
    assert history[0] == history[1]


def test_cpu_grad_scaler_unscale_then_clip_as_torch():
    results = []
    for lib in LIBS:
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        p = lib.nn.Parameter(lib.tensor([3.0, 4.0]))
        opt = lib.optim.SGD([p], lr=1.0)
        scaler.scale((p * p).sum()).backward()
        scaler.unscale_(opt)
        norm = lib.nn.utils.clip_grad_norm_([p], 1.0)
        scaler.step(opt)
        scaler.update()
        results.append((round(norm.item(), 5), np.round(numpy(p), 6).tolist()))
        with pytest.raises(RuntimeError, match="unscale_"):
            scaler.scale((p * 2).sum()).backward()
            scaler.unscale_(opt)
            scaler.unscale_(opt)
    assert results[0] == results[1]


# ---------------------------------------------------------------------------- distributed
def test_distributed_is_importable_and_not_initialized():
    import minigrad.distributed as dist
    from minigrad.nn.parallel import DistributedDataParallel as DDP
    assert dist.is_available() is False and dist.is_initialized() is False
    assert torch.distributed.is_initialized() is False
    with pytest.raises(RuntimeError, match="one process.*PyTorch"):
        dist.init_process_group(backend="gloo")
    for call in (dist.get_rank, dist.get_world_size, dist.destroy_process_group):
        with pytest.raises(ValueError, match="not been initialized"):
            call()
        with pytest.raises(ValueError, match="not been initialized"):
            getattr(torch.distributed, call.__name__ if call is not dist.destroy_process_group
                    else "get_rank")()
    with pytest.raises(RuntimeError, match="one process.*PyTorch"):
        DDP(minigrad.nn.Linear(2, 2), device_ids=[0])


def test_data_parallel_runs_the_module_in_this_process_as_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2))
    mine = minigrad.nn.Sequential(minigrad.nn.Linear(3, 2))
    mine.load_state_dict(ref.state_dict())
    wrapped_t, wrapped_m = torch.nn.DataParallel(ref), minigrad.nn.parallel.DataParallel(mine)
    assert list(wrapped_m.state_dict()) == list(wrapped_t.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(numpy(wrapped_m(minigrad.tensor(x))),
                               numpy(wrapped_t(torch.tensor(x))), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- clipping
def grads_pair(seed, dtypes=("float32", "float32", "float64"), scale=3.0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2)]
    arrays = [(rng.standard_normal(s) * scale).astype(d) for s, d in zip(shapes, dtypes)]
    out = []
    for lib in LIBS:
        params = [lib.nn.Parameter(lib.tensor(np.zeros_like(a))) for a in arrays]
        for p, a in zip(params, arrays):
            p.grad = lib.tensor(a.copy())
        out.append(params)
    return out


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 0, 3.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("dtypes", [("float32",) * 3, ("float32", "float32", "float64"),
                                    ("float64",) * 3])
def test_clip_grad_norm_as_torch(norm_type, max_norm, dtypes):
    mine, ref = grads_pair(0, dtypes)
    norm_type = float(norm_type)
    total_m = minigrad.nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type=norm_type)
    assert str(total_m.dtype).split(".")[-1] == str(total_t.dtype).split(".")[-1]
    assert total_m.shape == () and total_m.requires_grad is False
    tol = 1e-6 if "float32" in dtypes else 1e-13
    np.testing.assert_allclose(numpy(total_m), numpy(total_t), rtol=tol)
    for p, q in zip(mine, ref):
        assert p.grad.dtype == q.grad.numpy().dtype
        np.testing.assert_allclose(numpy(p.grad), numpy(q.grad), rtol=tol, atol=tol)


def test_clip_grad_norm_edges_as_torch():
    for lib in LIBS:
        p, q = lib.nn.Parameter(lib.ones(3)), lib.nn.Parameter(lib.ones(2))
        total = lib.nn.utils.clip_grad_norm_([p, q], 1.0)
        assert total.item() == 0.0 and total.dtype == lib.float32         # no gradients
        p.grad = lib.tensor([3.0, 4.0, 0.0])
        total = lib.nn.utils.clip_grad_norm_(p, 1.0)                       # one tensor
        assert round(total.item(), 5) == 5.0
        assert round(float(np.linalg.norm(numpy(p.grad))), 5) == 1.0
        p.grad = lib.tensor([float("nan"), 1.0, 0.0])
        with pytest.raises(RuntimeError, match="non-finite"):
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        assert math.isnan(lib.nn.utils.clip_grad_norm_(iter([p, q]), 1.0).item())


def test_clip_grad_value_and_parameter_vectors_as_torch():
    mine, ref = grads_pair(1)
    assert minigrad.nn.utils.clip_grad_value_(mine, 0.7) is None
    torch.nn.utils.clip_grad_value_(ref, 0.7)
    for p, q in zip(mine, ref):
        np.testing.assert_array_equal(numpy(p.grad), numpy(q.grad))
    vecs = []
    for lib, params in zip(LIBS, (mine, ref)):
        with lib.no_grad():
            for i, p in enumerate(params):
                p.add_(i + 1.0)
        v = lib.nn.utils.parameters_to_vector(params[:2])
        assert v.grad_fn is not None
        lib.nn.utils.vector_to_parameters(v.detach() * 2, params[:2])
        vecs.append((numpy(v).tolist(), [numpy(p).tolist() for p in params[:2]]))
        with pytest.raises(TypeError, match="but got: list"):
            lib.nn.utils.vector_to_parameters([1.0], params)
    assert vecs[0] == vecs[1]


# ---------------------------------------------------------------------------- lr schedules
SCHEDULES = [("StepLR", dict(step_size=3, gamma=0.5)),
             ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
             ("ExponentialLR", dict(gamma=0.9)),
             ("LambdaLR", dict(lr_lambda=lambda s: 1 / (s + 1))),
             ("CosineAnnealingLR", dict(T_max=7)),
             ("CosineAnnealingLR", dict(T_max=4, eta_min=1e-3)),
             ("LinearLR", dict()), ("LinearLR", dict(start_factor=0.1, total_iters=4)),
             ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=6)),
             ("OneCycleLR", dict(max_lr=0.5, total_steps=12)),
             ("OneCycleLR", dict(max_lr=[0.5, 0.1], epochs=3, steps_per_epoch=4,
                                 anneal_strategy="linear", three_phase=True))]


def scheduled(lib, opt_name, name, kwargs, steps=11):
    w = lib.nn.Parameter(lib.ones(2))
    b = lib.nn.Parameter(lib.zeros(1))
    extra = dict(momentum=0.9) if opt_name == "SGD" else {}
    opt = getattr(lib.optim, opt_name)([{"params": [w]}, {"params": [b], "lr": 0.02}], lr=0.1,
                                       **extra)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    rows = [(sched.get_last_lr(), [(g["lr"], g.get("momentum"), g.get("betas"))
                                   for g in opt.param_groups])]
    for _ in range(steps):
        (w.sum() + b.sum()).backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        rows.append((sched.get_last_lr(), [(g["lr"], g.get("momentum"), g.get("betas"))
                                           for g in opt.param_groups]))
    return rows, sched, opt, numpy(w).tolist()


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])
@pytest.mark.parametrize("name,kwargs", SCHEDULES)
def test_schedules_give_torchs_rates_exactly(opt_name, name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # optimizer.step() came first: no warning
        mine, *_, w_m = scheduled(minigrad, opt_name, name, kwargs)
        ref, *_, w_t = scheduled(torch, opt_name, name, kwargs)
    assert mine == ref
    np.testing.assert_allclose(w_m, w_t, rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULES if s[0] != "LambdaLR"])
def test_schedule_state_dict_resumes_as_torch(name, kwargs):
    for lib in LIBS:
        _, sched, opt, _ = scheduled(lib, "SGD", name, kwargs, steps=5)
        sd = sched.state_dict()
        assert "optimizer" not in sd and sd["last_epoch"] == 5
    mine = scheduled(minigrad, "SGD", name, kwargs, steps=5)[1].state_dict()
    ref = scheduled(torch, "SGD", name, kwargs, steps=5)[1].state_dict()
    assert sorted(mine) == sorted(k for k in ref if k not in ("_get_lr_called_within_step",))
    for k in mine:
        assert mine[k] == ref[k], k
    _, sched, opt, _ = scheduled(minigrad, "SGD", name, kwargs, steps=2)
    sched.load_state_dict(mine)
    assert sched.last_epoch == 5 and sched.get_last_lr() == ref["_last_lr"]


def test_lambda_lr_state_dict_and_errors_as_torch():
    for lib in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = lib.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 ** s)
        assert sched.state_dict()["lr_lambdas"] == [None]
        with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
            lib.optim.lr_scheduler.LambdaLR(opt, [lambda s: 1, lambda s: 2])
        with pytest.raises(TypeError, match="is not an Optimizer"):
            lib.optim.lr_scheduler.StepLR(object(), 2)
        with pytest.raises(ValueError, match="Starting multiplicative factor"):
            lib.optim.lr_scheduler.LinearLR(opt, start_factor=0)
        with pytest.raises(ValueError, match="total_steps OR"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)
        fresh = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        with pytest.raises(KeyError, match="initial_lr"):
            lib.optim.lr_scheduler.StepLR(fresh, 2, last_epoch=3)


def test_stepping_the_schedule_first_warns_as_torch():
    for lib in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()


def test_step_with_an_epoch_uses_the_closed_form_as_torch():
    rows = []
    for lib in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(4)
        rows.append(sched.get_last_lr())
    assert rows[0] == rows[1]


# ---------------------------------------------------------------------------- small modules
MODULES = [("Flatten", (), (2, 3, 4)), ("Flatten", (0, 1), (2, 3, 4)), ("Flatten", (0,), (5,)),
           ("Unflatten", (1, (2, 3)), (4, 6)), ("Unflatten", (-1, (2, -1)), (3, 4)),
           ("Softmax", (1,), (3, 5)), ("Softmax", (-1,), (2, 3, 4)),
           ("LogSoftmax", (1,), (3, 5)), ("LeakyReLU", (), (4, 5)), ("LeakyReLU", (0.2,), (4, 5)),
           ("ELU", (), (4, 5)), ("ELU", (0.5,), (4, 5)), ("Softplus", (), (4, 5)),
           ("Softplus", (2.0, 5.0), (4, 5)), ("Identity", (3, "x"), (2, 2))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,shape", MODULES)
def test_small_modules_as_torch(name, args, shape, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x.flat[:3] = [0.0, 30.0, -40.0][:x.size]
    results = []
    for lib in LIBS:
        module = getattr(lib.nn, name)(*args)
        inp = lib.tensor(x, requires_grad=True)
        out = module(inp)
        upstream = np.random.default_rng(4).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(upstream))
        results.append((repr(module), numpy(out), numpy(inp.grad)))
    (r_m, out_m, g_m), (r_t, out_t, g_t) = results
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert r_m == r_t and out_m.dtype == out_t.dtype
    np.testing.assert_allclose(out_m, out_t, rtol=tol, atol=tol)
    np.testing.assert_allclose(g_m, g_t, rtol=tol, atol=tol)


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for shape in [(4,), (3, 4), (2, 3, 4)]:
        a = x.reshape(-1)[:math.prod(shape)].reshape(shape)
        outs = []
        for lib in LIBS:
            with pytest.warns(UserWarning, match="Implicit dimension"):
                outs.append(numpy(lib.nn.Softmax()(lib.tensor(a))))
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)


def test_unflatten_errors_as_torch():
    for lib in LIBS:
        with pytest.raises(IndexError):
            lib.nn.Flatten()(lib.ones(5))
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
            lib.nn.Unflatten(1, 6)


def test_parameter_list_and_dict_as_torch():
    names, kinds = [], []
    for lib in LIBS:
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.plist = lib.nn.ParameterList([lib.ones(2), lib.nn.Parameter(lib.zeros(3))])
                self.plist.append(lib.ones(1))
                self.plist += [lib.zeros(2, 2)]
                self.pdict = lib.nn.ParameterDict({"a": lib.ones(2)})
                self.pdict["b"] = lib.nn.Parameter(lib.zeros(1))
                self.pdict.update({"c": lib.ones(3)})

        net = Net()
        names.append(([n for n, _ in net.named_parameters()], list(net.state_dict()),
                      len(net.plist), len(net.pdict), list(net.pdict), "b" in net.pdict,
                      [tuple(p.shape) for p in net.plist], [tuple(p.shape) for p in net.plist[1:3]],
                      tuple(net.plist[-1].shape), list(net.pdict.keys())))
        kinds.append({type(p).__name__ for p in net.parameters()})
        del net.pdict["b"]
        assert list(net.pdict) == ["a", "c"] and net.pdict.pop("a").shape == (2,)
    assert names[0] == names[1]
    assert kinds == [{"Parameter"}, {"Parameter"}]


# ---------------------------------------------------------------------------- Module API
def build(lib):
    torch.manual_seed(0)

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)
            self.register_buffer("mask", lib.ones(3), persistent=False)
            self.register_buffer("count", lib.zeros(1))

        def forward(self, x):
            return self.fc(x) * self.mask

    net = lib.nn.Sequential(Block(), lib.nn.ReLU(), lib.nn.Sequential(Block(), lib.nn.Flatten(0)))
    return net


def test_module_tree_walks_as_torch():
    rows = []
    for lib in LIBS:
        net = build(lib)
        seen = []
        net.apply(lambda m: seen.append(type(m).__name__))
        rows.append(([n for n, _ in net.named_modules()],
                     [type(m).__name__ for m in net.modules()],
                     [type(m).__name__ for m in net.children()],
                     [n for n, _ in net.named_children()],
                     [n for n, _ in net.named_buffers()], list(net.state_dict()), seen,
                     tuple(net.get_parameter("2.0.fc.bias").shape),
                     tuple(net.get_buffer("0.count").shape),
                     type(net.get_submodule("2.1")).__name__,
                     [n for n, _ in net.named_parameters(prefix="model")]))
    assert rows[0] == rows[1]


def test_zero_grad_requires_grad_and_modes_as_torch():
    rows = []
    for lib in LIBS:
        net = build(lib)
        net(lib.ones(2, 3)).sum().backward()
        net.zero_grad(set_to_none=False)
        zeros = [numpy(p.grad).tolist() for p in net.parameters()]
        net.zero_grad()
        nones = [p.grad is None for p in net.parameters()]
        net.requires_grad_(False)
        frozen = [p.requires_grad for p in net.parameters()]
        net.requires_grad_()
        net.eval()
        modes = [m.training for m in net.modules()]
        returned = net.train() is net
        rows.append((zeros, nones, frozen, modes, returned, [m.training for m in net.modules()]))
    assert rows[0] == rows[1]


def test_load_state_dict_not_strict_returns_the_keys_as_torch():
    results = []
    for lib in LIBS:
        net = build(lib)
        sd = dict(net.state_dict())
        sd.pop("0.fc.bias")
        sd["extra.weight"] = lib.zeros(1)
        result = net.load_state_dict(sd, strict=False)
        results.append((result.missing_keys, result.unexpected_keys, type(result).__name__,
                        tuple(result)))
        with pytest.raises(RuntimeError, match="Missing key"):
            net.load_state_dict(sd)
    assert results[0] == results[1]
    for lib in LIBS:
        net = build(lib)
        assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
        sd = dict(net.state_dict(), extra=lib.ones(1))
        assert str(net.load_state_dict(sd, strict=False)) == \
            "_IncompatibleKeys(missing_keys=[], unexpected_keys=['extra'])"


def test_forward_hooks_as_torch():
    rows = []
    for lib in LIBS:
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
        seen = []
        h1 = net[0].register_forward_hook(lambda m, args, out: seen.append(
            (type(m).__name__, len(args), tuple(out.shape))))
        h2 = net[1].register_forward_hook(lambda m, args, out: out * 0 + 1)     # replaces
        h3 = net[0].register_forward_pre_hook(lambda m, args: (args[0] * 0,))   # replaces
        out1 = numpy(net(lib.ones(4, 2))).tolist()
        h2.remove()
        h3.remove()
        out2 = numpy(net(lib.zeros(1, 2))).shape
        h1.remove()
        net(lib.ones(1, 2))
        rows.append((seen, out1, out2))
    assert rows[0] == rows[1]


def test_functional_elu_and_softplus_as_torch():
    x = np.array([-100.0, -3.0, -1e-8, 0.0, 1e-8, 0.5, 10.0, 20.0, 20.5, 100.0])
    for fn, kwargs in (("elu", dict(alpha=0.7)), ("softplus", dict(beta=2.0, threshold=15.0)),
                       ("softplus", {}), ("elu", {})):
        for dtype in ("float32", "float64"):
            res = []
            for lib, F in ((minigrad, MF), (torch, torch.nn.functional)):
                t = lib.tensor(x.astype(dtype), requires_grad=True)
                y = getattr(F, fn)(t, **kwargs)
                y.backward(lib.tensor(np.linspace(-1, 2, x.size).astype(dtype)))
                res.append((numpy(y), numpy(t.grad)))
            tol = 1e-6 if dtype == "float32" else 1e-14
            for a, b in zip(*res):
                np.testing.assert_allclose(a, b, rtol=tol, atol=1e-30)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs,shape", [(dict(), (6, 3)), (dict(momentum=None), (4, 3)),
                                          (dict(affine=False), (5, 3, 4)),
                                          (dict(track_running_stats=False), (4, 3, 2)),
                                          (dict(eps=1e-3, momentum=0.3), (8, 3, 5)),
                                          (dict(bias=False), (4, 3))])
def test_batch_norm_1d_as_torch(kwargs, shape, dtype):
    results = []
    for lib in LIBS:
        bn = lib.nn.BatchNorm1d(3, dtype=getattr(lib, dtype), **kwargs)
        rows = [repr(bn), list(bn.state_dict()), [n for n, _ in bn.named_parameters()]]
        for step in range(3):
            rng = np.random.default_rng(step)
            x = lib.tensor((rng.standard_normal(shape) * 2 + 1).astype(dtype), requires_grad=True)
            bn.train(step < 2)
            out = bn(x)
            out.backward(lib.tensor(rng.standard_normal(shape).astype(dtype)))
            rows.append([numpy(out), numpy(x.grad)] + [numpy(p.grad) for p in bn.parameters()]
                        + [numpy(b) for b in bn.buffers()])
        results.append(rows)
    mine, ref = results
    assert mine[:3] == ref[:3]
    tol = 1e-5 if dtype == "float32" else 1e-12
    for m_row, t_row in zip(mine[3:], ref[3:]):
        assert len(m_row) == len(t_row)
        for a, b in zip(m_row, t_row):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_batch_norm_1d_errors_as_torch():
    for lib in LIBS:
        with pytest.raises(ValueError, match="expected 2D or 3D input"):
            lib.nn.BatchNorm1d(3)(lib.ones(3))
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            lib.nn.BatchNorm1d(3)(lib.ones(1, 3))
        assert lib.nn.BatchNorm1d(3).eval()(lib.ones(1, 3)).shape == (1, 3)


def test_sequential_lr_warmup_then_cosine_as_torch():
    rows = []
    for lib in LIBS:
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.AdamW([{"params": [w]}, {"params": [lib.nn.Parameter(lib.ones(1))],
                                                 "lr": 0.03}], lr=0.1)
        S = lib.optim.lr_scheduler
        warm = S.LinearLR(opt, start_factor=0.1, total_iters=3)
        cos = S.CosineAnnealingLR(opt, T_max=6, eta_min=1e-3)
        sched = S.SequentialLR(opt, [warm, cos], milestones=[3])
        lrs = [sched.get_last_lr()]
        for _ in range(10):
            w.sum().backward()
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        sd = sched.state_dict()
        rows.append((lrs, sd["last_epoch"], [s["last_epoch"] for s in sd["_schedulers"]]))
        with pytest.raises(ValueError, match="number of milestone points"):
            S.SequentialLR(opt, [warm, cos], milestones=[])
    assert rows[0] == rows[1]


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                    dict(patience=0, threshold=0.1, threshold_mode="abs",
                                         min_lr=[0.02, 0.001])])
def test_reduce_lr_on_plateau_as_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.5,
               0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    rows = []
    for lib in LIBS:
        opt = lib.optim.SGD([{"params": [lib.nn.Parameter(lib.ones(1))]},
                             {"params": [lib.nn.Parameter(lib.ones(1))], "lr": 0.01}], lr=0.1)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        lrs = []
        for m in metrics:
            opt.step()
            sched.step(lib.tensor(m))
            lrs.append(sched.get_last_lr())
        sd = sched.state_dict()
        rows.append((lrs, sd["best"], sd["num_bad_epochs"], sd["last_epoch"]))
    assert rows[0] == rows[1]
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        minigrad.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


def test_float32_matmul_precision_as_torch():
    for lib in LIBS:
        assert lib.get_float32_matmul_precision() == "highest"
        try:
            lib.set_float32_matmul_precision("high")
            assert lib.get_float32_matmul_precision() == "high"
            with pytest.warns(UserWarning, match="has no effect"):
                lib.set_float32_matmul_precision("fastest")
            assert lib.get_float32_matmul_precision() == "high"
        finally:
            lib.set_float32_matmul_precision("highest")


def test_generic_dataset_and_sampler_classes():
    for data in (minigrad.utils.data, torch.utils.data):
        class Squares(data.Dataset[int]):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return i * i

        class Evens(data.Sampler[int]):
            def __iter__(self):
                return iter([0, 2])

            def __len__(self):
                return 2
        assert [b.tolist() for b in data.DataLoader(Squares(), batch_size=3)] == [[0, 1, 4], [9]]
        assert [b.tolist() for b in data.DataLoader(Squares(), sampler=Evens())] == [[0], [4]]


def test_tensor_device_queries_as_torch():
    for lib in LIBS:
        t = lib.ones(2)
        assert t.is_cuda is False and t.get_device() == -1 and t.is_pinned() is False
        with pytest.raises((RuntimeError, AssertionError)):
            t.cuda()
        with pytest.raises(RuntimeError, match="accelerator"):
            t.pin_memory()


FACTORIES = [lambda lib, d: lib.tensor([1.0], device=d), lambda lib, d: lib.zeros(2, device=d),
             lambda lib, d: lib.ones(2, 3, device=d), lambda lib, d: lib.empty(2, device=d),
             lambda lib, d: lib.full((2,), 3.0, device=d), lambda lib, d: lib.eye(2, device=d),
             lambda lib, d: lib.randn(2, device=d), lambda lib, d: lib.rand(2, device=d),
             lambda lib, d: lib.randint(0, 5, (2,), device=d),
             lambda lib, d: lib.randperm(4, device=d), lambda lib, d: lib.arange(3, device=d),
             lambda lib, d: lib.linspace(0, 1, 3, device=d),
             lambda lib, d: lib.zeros_like(lib.ones(2), device=d),
             lambda lib, d: lib.ones_like(lib.ones(2), device=d),
             lambda lib, d: lib.full_like(lib.ones(2), 2.0, device=d),
             lambda lib, d: lib.randn_like(lib.ones(2), device=d),
             lambda lib, d: lib.rand_like(lib.ones(2), device=d),
             lambda lib, d: lib.as_tensor([1.0, 2.0], device=d),
             lambda lib, d: lib.ones(2).new_tensor([1.0], device=d),
             lambda lib, d: lib.ones(2).new_zeros(3, device=d),
             lambda lib, d: lib.ones(2).new_ones(3, device=d),
             lambda lib, d: lib.ones(2).new_empty(3, device=d),
             lambda lib, d: lib.ones(2).new_full((3,), 2.0, device=d)]


@pytest.mark.parametrize("make", FACTORIES)
def test_factories_make_cpu_tensors_and_refuse_other_devices_as_torch(make):
    for lib in LIBS:
        for d in ("cpu", "cpu:0", lib.device("cpu"), None):
            assert make(lib, d).device == lib.device("cpu")
        with pytest.raises((RuntimeError, AssertionError)):
            make(lib, "cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        make(minigrad, minigrad.device("mps"))


def test_gradient_checkpointing_as_torch():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 4))
    x = rng.standard_normal((3, 4))
    up = rng.standard_normal((3, 4))
    grads = []
    for lib in LIBS:
        weight = lib.tensor(w, requires_grad=True)
        inp = lib.tensor(x, requires_grad=True)
        out = lib.utils.checkpoint.checkpoint(lambda h: (h @ weight).tanh(), inp,
                                              use_reentrant=True)
        out.backward(lib.tensor(up))
        grads.append((numpy(out), numpy(inp.grad), numpy(weight.grad)))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    from minigrad.utils.checkpoint import checkpoint
    assert checkpoint is minigrad.utils.checkpoint.checkpoint
