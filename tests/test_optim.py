"""minigrad.optim against torch.optim: 15+ steps of training the same model from the same
weights on the same batches, every parameter compared after every step (float64)."""
import numpy as np
import pytest
import torch

import minigrad as mg
from test_nn import batch, close, small_model, small_pair

STEPS = 16
ATOL, RTOL = 1e-9, 1e-7


def loss_of(lib, model, idx, tgt):
    logits = model(lib.tensor(idx))
    return lib.nn.functional.cross_entropy(logits.flatten(0, 1), lib.tensor(tgt).flatten())


def groups_of(model, spec):
    """``spec`` None: model.parameters(); else per-group options for two groups (the
    embedding + norm, and the rest)."""
    if spec is None:
        return model.parameters()
    first = [p for n, p in model.named_parameters() if n.startswith(("emb", "norm"))]
    rest = [p for n, p in model.named_parameters() if not n.startswith(("emb", "norm"))]
    return [dict(spec[0], params=first), dict(spec[1], params=rest)]


def run_both(opt_name, kwargs, groups=None, steps=STEPS):
    """Train both libraries' models side by side; compare every parameter after each step."""
    mine, ref = small_pair(seed=7)
    opt_mg = getattr(mg.optim, opt_name)(groups_of(mine, groups), **kwargs)
    opt_t = getattr(torch.optim, opt_name)(groups_of(ref, groups), **kwargs)
    for step in range(steps):
        idx, tgt = batch(seed=100 + step)
        for lib, model, opt in ((mg, mine, opt_mg), (torch, ref, opt_t)):
            opt.zero_grad()
            loss_of(lib, model, idx, tgt).backward()
            opt.step()
        for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
            close(p, q, ATOL, RTOL, what=f"{opt_name} step {step + 1}: {name}")
    return mine, ref, opt_mg, opt_t


CASES = {
    "sgd": ("SGD", dict(lr=0.1), None),
    "sgd-momentum-wd": ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-2), None),
    "sgd-dampening": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3), None),
    "sgd-nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), None),
    "sgd-maximize": ("SGD", dict(lr=0.01, momentum=0.5, maximize=True), None),
    "adam": ("Adam", dict(lr=1e-2), None),
    "adam-l2": ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
    "adam-amsgrad": ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2), None),
    "adamw": ("AdamW", dict(lr=1e-2), None),
    "adamw-wd": ("AdamW", dict(lr=1e-2, weight_decay=0.3, amsgrad=True), None),
    "sgd-groups": ("SGD", dict(lr=0.1, momentum=0.9),
                   ({"lr": 0.01}, {"weight_decay": 1e-2, "nesterov": True})),
    "adam-groups": ("Adam", dict(lr=1e-2, weight_decay=1e-3), ({"lr": 1e-3}, {})),
    "adamw-groups": ("AdamW", dict(lr=1e-2),
                     ({"lr": 3e-2, "weight_decay": 0.0}, {"lr": 5e-3, "weight_decay": 0.1})),
    "rmsprop": ("RMSprop", dict(lr=1e-2), None),
    "rmsprop-centered-momentum": ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.8,
                                                  centered=True, weight_decay=1e-2), None),
    "rmsprop-maximize": ("RMSprop", dict(lr=1e-3, momentum=0.5, maximize=True, eps=1e-6), None),
    "adagrad": ("Adagrad", dict(lr=5e-2), None),
    "adagrad-decay": ("Adagrad", dict(lr=5e-2, lr_decay=0.1, weight_decay=1e-2,
                                      initial_accumulator_value=0.5), None),
    "adagrad-groups": ("Adagrad", dict(lr=5e-2, maximize=True), ({"lr": 1e-2}, {"eps": 1e-6})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_trajectory_matches_torch(case):
    opt_name, kwargs, groups = CASES[case]
    mine, ref, opt_mg, opt_t = run_both(opt_name, kwargs, groups)
    # the runs really moved: the final weights are far from the initial ones
    start, _ = small_pair(seed=7)
    moved = max(np.abs(p.detach().numpy() - q.detach().numpy()).max()
                for p, q in zip(mine.parameters(), start.parameters()))
    assert moved > 1e-3
    for g_mg, g_t in zip(opt_mg.param_groups, opt_t.param_groups):
        assert g_mg["lr"] == g_t["lr"] and g_mg["weight_decay"] == g_t["weight_decay"]


def test_plain_sgd_is_theta_minus_lr_grad():
    p = mg.nn.Parameter(mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64))
    p.grad = mg.tensor([0.5, 0.25, -1.0], dtype=mg.float64)
    mg.optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.95, -2.025, 3.1])


def test_adam_first_step_moves_each_coordinate_by_lr():
    """At t = 1, m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g)."""
    p = mg.nn.Parameter(mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64))
    p.grad = mg.tensor([0.5, 1e3, -1e-2], dtype=mg.float64)
    mg.optim.Adam([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -2.1, 3.1])


def test_adamw_decay_is_decoupled_from_the_gradient():
    """With a zero gradient Adam's L2 term still passes through m/√v (a full lr step), while
    AdamW shrinks the weight by exactly (1 − lr·λ)."""
    def one_step(cls):
        p = mg.nn.Parameter(mg.tensor([2.0], dtype=mg.float64))
        p.grad = mg.zeros(1, dtype=mg.float64)
        cls([p], lr=0.1, weight_decay=0.5).step()
        return p.detach().numpy()[0]
    assert one_step(mg.optim.AdamW) == pytest.approx(2.0 * (1 - 0.1 * 0.5))
    assert one_step(mg.optim.Adam) == pytest.approx(2.0 - 0.1)


# --------------------------------------------------------------------------- the objects
def test_optimizer_holds_the_models_own_parameter_objects():
    mine, _ = small_pair()
    opt = mg.optim.AdamW(mine.parameters(), lr=1e-2)
    held = opt.param_groups[0]["params"]
    assert len(held) == len(list(mine.parameters()))
    assert all(a is b for a, b in zip(held, mine.parameters()))
    assert held[0] is mine.emb.weight
    before = mine.head.weight.detach().numpy().copy()
    version = mine.head.weight._version
    idx, tgt = batch()
    loss_of(mg, mine, idx, tgt).backward()
    opt.step()
    assert not np.array_equal(mine.head.weight.detach().numpy(), before)   # the model sees the update
    assert mine.head.weight._version == version + 1
    assert all(p.is_leaf and p.grad_fn is None for p in mine.parameters())   # no graph
    assert set(map(id, opt.state)) == set(map(id, mine.parameters()))
    assert sorted(opt.state[mine.head.weight]) == ["exp_avg", "exp_avg_sq", "step"]


def test_step_bumps_the_version_so_a_stale_graph_refuses_backward():
    mine, _ = small_pair()
    opt = mg.optim.SGD(mine.parameters(), lr=0.1)
    idx, tgt = batch()
    loss_of(mg, mine, idx, tgt).backward()
    stale = loss_of(mg, mine, idx, tgt)       # its graph saved the current weights
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()


def test_float32_parameters_stay_float32():
    mg.manual_seed(0)
    m = small_model(mg)
    for cls, kw in ((mg.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                    (mg.optim.Adam, dict(weight_decay=0.1)), (mg.optim.AdamW, {})):
        opt = cls(m.parameters(), **kw)
        idx, tgt = batch()
        loss_of(mg, m, idx, tgt).backward()
        opt.step()
        assert all(p.dtype == mg.float32 for p in m.parameters())
        assert all(v.dtype == mg.float32 for s in opt.state.values() for v in s.values()
                   if isinstance(v, np.ndarray))
        m.zero_grad()


def test_parameters_without_grad_are_skipped():
    a = mg.nn.Parameter(mg.ones(2, dtype=mg.float64))
    b = mg.nn.Parameter(mg.ones(2, dtype=mg.float64))
    a.grad = mg.ones(2, dtype=mg.float64)
    opt = mg.optim.Adam([a, b], lr=0.1)
    opt.step()
    assert np.all(b.detach().numpy() == 1) and b not in opt.state and opt.state[a]["step"] == 1


def test_zero_grad():
    mine, _ = small_pair()
    opt = mg.optim.SGD(mine.parameters(), lr=0.1)
    idx, tgt = batch()
    loss_of(mg, mine, idx, tgt).backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in mine.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in mine.parameters())


def test_gradients_accumulate_until_zero_grad_as_in_torch():
    mine, ref = small_pair()
    opt_mg = mg.optim.SGD(mine.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.1)
    for lib, model, opt in ((mg, mine, opt_mg), (torch, ref, opt_t)):
        for s in range(2):                      # two backward calls, one step
            idx, tgt = batch(seed=s)
            loss_of(lib, model, idx, tgt).backward()
        opt.step()
    for p, q in zip(mine.parameters(), ref.parameters()):
        close(p, q, ATOL, RTOL)


def test_closure_is_called_and_its_loss_returned():
    mine, _ = small_pair()
    opt = mg.optim.SGD(mine.parameters(), lr=0.1)
    idx, tgt = batch()

    def closure():
        opt.zero_grad()
        loss = loss_of(mg, mine, idx, tgt)
        loss.backward()
        return loss
    with mg.no_grad():                         # step's closure re-enables the graph
        loss = opt.step(closure)
    assert loss.item() > 0 and mine.head.weight.grad is not None


# --------------------------------------------------------------------------- groups and state
def test_param_groups_fill_defaults_and_add_param_group():
    mine, _ = small_pair()
    first = [mine.emb.weight]
    opt = mg.optim.SGD([{"params": first, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0.9
    opt.add_param_group({"params": mine.head.weight})       # a single tensor is accepted
    assert opt.param_groups[1]["params"] == [mine.head.weight] or \
        opt.param_groups[1]["params"][0] is mine.head.weight
    assert opt.param_groups[1]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [mine.emb.weight]})
    ref = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert set(opt.param_groups[0]) <= set(ref.param_groups[0])   # torch's key names


def test_bad_arguments_raise_clear_errors():
    p = mg.nn.Parameter(mg.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        mg.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        mg.optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        mg.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        mg.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        mg.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="non-leaf"):
        mg.optim.Adam([p * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        mg.optim.Adam([{"params": {p}}])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        mg.optim.Adam([np.ones(2)])


def test_state_dict_structure_matches_torch():
    _, _, opt_mg, opt_t = run_both("SGD", dict(lr=0.1, momentum=0.9), steps=2)
    sd_mg, sd_t = opt_mg.state_dict(), opt_t.state_dict()
    assert list(sd_mg) == ["state", "param_groups"]
    assert list(sd_mg["state"]) == list(sd_t["state"])
    assert [g["params"] for g in sd_mg["param_groups"]] == \
        [g["params"] for g in sd_t["param_groups"]]
    for i, s in sd_t["state"].items():
        assert list(sd_mg["state"][i]) == list(s)
        close(sd_mg["state"][i]["momentum_buffer"], s["momentum_buffer"], ATOL, RTOL)
    _, _, opt_mg, opt_t = run_both("Adam", dict(lr=0.01, amsgrad=True), steps=2)
    sd_mg, sd_t = opt_mg.state_dict(), opt_t.state_dict()
    for i, s in sd_t["state"].items():
        assert sorted(sd_mg["state"][i]) == sorted(s)
        assert sd_mg["state"][i]["step"] == s["step"].item() == 2


@pytest.mark.parametrize("opt_name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                             ("AdamW", dict(lr=1e-2, amsgrad=True)),
                                             ("RMSprop", dict(lr=1e-2, momentum=0.5,
                                                              centered=True)),
                                             ("Adagrad", dict(lr=5e-2, lr_decay=0.01))])
def test_torch_optimizer_state_loads_and_training_continues_identically(opt_name, kwargs):
    """Train torch alone for 5 steps, load its model *and optimizer* state into minigrad,
    then train both 10 more steps: the trajectories stay together."""
    mine, ref = small_pair(seed=2)
    opt_t = getattr(torch.optim, opt_name)(ref.parameters(), **kwargs)
    for step in range(5):
        idx, tgt = batch(seed=step)
        opt_t.zero_grad()
        loss_of(torch, ref, idx, tgt).backward()
        opt_t.step()
    opt_mg = getattr(mg.optim, opt_name)(mine.parameters(), **kwargs)
    mine.load_state_dict(ref.state_dict())
    opt_mg.load_state_dict(opt_t.state_dict())
    for step in range(5, 15):
        idx, tgt = batch(seed=step)
        for lib, model, opt in ((mg, mine, opt_mg), (torch, ref, opt_t)):
            opt.zero_grad()
            loss_of(lib, model, idx, tgt).backward()
            opt.step()
    for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
        close(p, q, ATOL, RTOL, what=name)


def test_state_dict_round_trip_resumes_exactly():
    def train(model, opt, seeds):
        for s in seeds:
            idx, tgt = batch(seed=s)
            opt.zero_grad()
            loss_of(mg, model, idx, tgt).backward()
            opt.step()

    a, _ = small_pair(seed=4)
    opt_a = mg.optim.Adam(a.parameters(), lr=1e-2)
    train(a, opt_a, range(8))

    b, _ = small_pair(seed=4)
    opt_b = mg.optim.Adam(b.parameters(), lr=1e-2)
    train(b, opt_b, range(4))
    model_sd, opt_sd = b.state_dict(), opt_b.state_dict()
    c, _ = small_pair(seed=9)                   # a fresh model, other weights
    c.load_state_dict(model_sd)
    opt_c = mg.optim.Adam(c.parameters(), lr=0.5)
    opt_c.load_state_dict(opt_sd)
    assert opt_c.param_groups[0]["lr"] == 1e-2
    train(c, opt_c, range(4, 8))
    for p, q in zip(a.parameters(), c.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt_c.load_state_dict({"state": {}, "param_groups": []})


def test_repr_lists_the_groups():
    p = mg.nn.Parameter(mg.ones(2))
    text = repr(mg.optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text
    assert "    momentum: 0.9\n" in text and text.endswith(")")
