"""minigrad.nn against torch.nn: the same model, the same weights (copied through
state_dict), the same outputs and the same gradient for every parameter, in float64.

The models are written once as functions of ``lib`` (``minigrad`` or ``torch``), the way the
course's code is meant to run unchanged on both.
"""
import copy

import numpy as np
import pytest
import torch

import minigrad as mg

ATOL, RTOL = 1e-10, 1e-8          # float64: both libraries agree to rounding


# --------------------------------------------------------------------------- helpers
def close(a, b, atol=ATOL, rtol=RTOL, what=""):
    a = a.detach().numpy() if isinstance(a, mg.Tensor) else a.detach().numpy() if torch.is_tensor(a) else a
    b = b.detach().numpy() if isinstance(b, mg.Tensor) else b.detach().numpy() if torch.is_tensor(b) else b
    assert np.shape(a) == np.shape(b), f"{what}: shapes {np.shape(a)} vs {np.shape(b)}"
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=what)


def assert_same_grads(mg_model, torch_model, atol=ATOL, rtol=RTOL):
    """Every parameter, by name: both have a gradient and the gradients agree."""
    mine = dict(mg_model.named_parameters())
    ref = dict(torch_model.named_parameters())
    assert list(mine) == list(ref)
    for name, p in ref.items():
        assert p.grad is not None, name
        assert mine[name].grad is not None, f"{name}: minigrad gave no gradient"
        close(mine[name].grad, p.grad, atol, rtol, what=f"grad of {name}")


def copy_weights(torch_model, mg_model):
    """torch's state_dict (torch tensors) loads straight into the minigrad model."""
    mg_model.load_state_dict(torch_model.state_dict())


def small_model(lib, vocab=11, d=8, hidden=16):
    """The acceptance model: Embedding -> LayerNorm -> Sequential(Linear, GELU, Linear) ->
    bias-free head, the same class body on both libraries."""
    nn = lib.nn

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            self.norm = nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            x = self.norm(self.emb(idx))
            return self.head(x + self.mlp(x))

    return Small()


def small_pair(seed=0):
    """(minigrad model, torch model) in float64 with torch's weights in both."""
    torch.manual_seed(seed)
    mg.manual_seed(seed)
    ref = small_model(torch).double()
    mine = small_model(mg).double()
    copy_weights(ref, mine)
    return mine, ref


def batch(seed=1, B=4, T=5, vocab=11):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, (B, T)), rng.integers(0, vocab, (B, T))


# --------------------------------------------------------------------------- the acceptance model
def test_small_model_same_loss_and_gradients_as_torch():
    mine, ref = small_pair()
    idx, tgt = batch()
    F_mg, F_t = mg.nn.functional, torch.nn.functional
    loss_mg = F_mg.cross_entropy(mine(mg.tensor(idx)).flatten(0, 1), mg.tensor(tgt).flatten())
    loss_t = F_t.cross_entropy(ref(torch.tensor(idx)).flatten(0, 1), torch.tensor(tgt).flatten())
    close(loss_mg, loss_t, what="loss")
    loss_mg.backward()
    loss_t.backward()
    assert_same_grads(mine, ref)


def test_small_model_random_upstream_gradient():
    mine, ref = small_pair(seed=3)
    idx, _ = batch(seed=4)
    out_mg, out_t = mine(mg.tensor(idx)), ref(torch.tensor(idx))
    close(out_mg, out_t, what="logits")
    g = np.random.default_rng(5).standard_normal(out_t.shape)
    out_mg.backward(gradient=mg.tensor(g))
    out_t.backward(gradient=torch.tensor(g))
    assert_same_grads(mine, ref)


def test_state_dict_keys_equal_torch_and_values_share_the_models_memory():
    mine, ref = small_pair()
    sd, sd_t = mine.state_dict(), ref.state_dict()
    assert list(sd) == list(sd_t)
    assert list(sd) == ["emb.weight", "norm.weight", "norm.bias", "mlp.0.weight", "mlp.0.bias",
                        "mlp.2.weight", "mlp.2.bias", "head.weight"]
    for k, v in sd.items():
        assert isinstance(v, mg.Tensor) and not v.requires_grad, k
        close(v, sd_t[k], what=k)
    for lib, model, state in ((mg, mine, sd), (torch, ref, sd_t)):
        state["head.weight"].copy_(lib.ones(state["head.weight"].shape, dtype=lib.float64))
        assert model.head.weight.detach().numpy().min() == 1.0     # the model's own memory
        snapshot = {k: v.clone() for k, v in state.items()}
        with lib.no_grad():
            model.head.weight.mul_(2)
        assert state["head.weight"].numpy().min() == 2.0           # training changes it too
        assert snapshot["head.weight"].numpy().min() == 1.0        # a clone does not


def test_load_state_dict_keeps_parameter_objects_and_accepts_array_likes():
    mine, ref = small_pair()
    before = list(mine.parameters())
    versions = [p._version for p in before]
    sd = {k: v.numpy().tolist() for k, v in ref.state_dict().items()}   # nested lists
    sd["emb.weight"] = mg.tensor(ref.emb.weight.detach().numpy())       # a minigrad tensor
    result = mine.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    after = list(mine.parameters())
    assert all(a is b for a, b in zip(before, after))
    assert all(p._version > v for p, v in zip(after, versions))
    assert all(p.dtype == mg.float64 for p in after)
    for k, v in ref.state_dict().items():            # exactly: no rounding through float32
        np.testing.assert_array_equal(mine.state_dict()[k], v.numpy(), err_msg=k)


def test_load_state_dict_errors_name_the_keys_and_shapes():
    mine, ref = small_pair()
    sd = ref.state_dict()
    missing = {k: v for k, v in sd.items() if k != "norm.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "norm.bias"'):
        mine.load_state_dict(missing)
    extra = dict(sd, **{"head.bias": torch.zeros(11)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "head.bias"'):
        mine.load_state_dict(extra)
    wrong = dict(sd, **{"mlp.0.weight": torch.zeros(16, 9)})
    with pytest.raises(RuntimeError, match=r"size mismatch for mlp\.0\.weight: copying a param "
                                           r"with shape \(16, 9\) from checkpoint, the shape in "
                                           r"current model is \(16, 8\)"):
        mine.load_state_dict(wrong)
    # not strict: missing/unexpected are reported, not raised; a shape mismatch still raises
    result = mine.load_state_dict(dict(missing, extra=np.zeros(2)), strict=False)
    assert result.missing_keys == ["norm.bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch for mlp.0.weight"):
        mine.load_state_dict(wrong, strict=False)


# --------------------------------------------------------------------------- Parameter / Module
def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = mg.nn.Parameter(mg.randn(3, 2))
    assert isinstance(p, mg.nn.Parameter) and isinstance(p, mg.Tensor)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    y = p * 2
    assert not isinstance(y, mg.nn.Parameter) and not y.is_leaf
    frozen = mg.nn.Parameter(mg.randn(2), requires_grad=False)
    assert not frozen.requires_grad
    lin = mg.nn.Linear(4, 3)
    assert all(isinstance(q, mg.nn.Parameter) for q in lin.parameters())
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_shares_memory_with_the_tensor_it_wraps():
    t = mg.zeros(3)
    p = mg.nn.Parameter(t)
    p.detach().numpy()[0] = 5.0
    assert t.detach().numpy()[0] == 5.0


def test_named_parameters_children_and_modules_match_torch():
    mine, ref = small_pair()
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in mine.named_children()] == [n for n, _ in ref.named_children()]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [type(m).__name__ for m in mine.modules()] == [type(m).__name__ for m in ref.modules()]
    assert [type(m).__name__ for m in mine.children()] == [type(m).__name__ for m in ref.children()]
    assert len(list(mine.parameters())) == len(list(ref.parameters())) == 8
    assert [n for n, _ in mine.mlp.named_parameters(prefix="mlp")] == \
        [n for n, _ in ref.mlp.named_parameters(prefix="mlp")]
    assert [n for n, _ in mine.named_parameters(recurse=False)] == []


@pytest.mark.parametrize("lib", [mg, torch])
def test_tied_weights_listed_once_but_saved_under_both_keys(lib):
    nn = lib.nn

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3)
            self.head = nn.Linear(3, 5, bias=False)
            self.head.weight = self.emb.weight

    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["emb.weight"]
    assert list(m.state_dict()) == ["emb.weight", "head.weight"]
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]


def test_buffers_are_saved_but_not_parameters():
    class WithBuffer(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = mg.nn.Linear(2, 2)
            self.register_buffer("mask", mg.ones(2))
            self.register_buffer("scratch", mg.zeros(2), persistent=False)

    class TorchWithBuffer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer("mask", torch.ones(2))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

    m, t = WithBuffer(), TorchWithBuffer()
    assert list(m.state_dict()) == list(t.state_dict()) == ["mask", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    m.mask = mg.zeros(2)                             # reassigning keeps it a buffer
    assert "mask" in m._buffers and not m.state_dict()["mask"].numpy().any()
    m.double()
    assert m.mask.dtype == mg.float64


def test_assigning_a_plain_tensor_over_a_parameter_is_an_error():
    lin = mg.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = mg.zeros(2, 2)
    lin.weight = mg.nn.Parameter(mg.zeros(2, 2))   # a Parameter is fine
    assert np.all(lin.weight.detach().numpy() == 0)

    class Early(mg.nn.Module):
        def __init__(self):
            self.lin = mg.nn.Linear(2, 2)          # before super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_missing_forward_and_missing_attribute_are_clear():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        mg.nn.Module()(1)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        mg.nn.Linear(2, 2).wieght


def test_train_eval_propagate_to_every_submodule():
    mine, _ = small_pair()
    assert all(m.training for m in mine.modules())
    assert mine.eval() is mine
    assert not any(m.training for m in mine.modules())
    mine.mlp.train()
    assert mine.mlp[0].training and not mine.training
    mine.train()
    assert all(m.training for m in mine.modules())
    with pytest.raises(ValueError):
        mine.train("yes")


def test_dropout_is_identity_in_eval_and_drops_in_train():
    mg.manual_seed(0)
    drop = mg.nn.Dropout(p=0.5)
    x = mg.randn(200, 50, dtype=mg.float64, requires_grad=True)
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).detach().numpy(), x.detach().numpy())
    drop.train()
    y = drop(x)
    kept = y.detach().numpy() != 0
    assert 0.4 < kept.mean() < 0.6                      # about half the units are dropped
    np.testing.assert_allclose(y.detach().numpy()[kept], 2 * x.detach().numpy()[kept])   # the rest scaled by 1/(1-p)
    g = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(gradient=mg.tensor(g))
    np.testing.assert_allclose(x.grad.detach().numpy(), np.where(kept, 2 * g, 0))   # the same mask
    with pytest.raises(ValueError, match="between 0 and 1"):
        mg.nn.Dropout(1.5)


def test_zero_grad_set_to_none_and_to_zero():
    mine, _ = small_pair()
    idx, _ = batch()
    mine(mg.tensor(idx)).sum().backward()
    assert all(p.grad is not None for p in mine.parameters())
    mine.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in mine.parameters())
    mine.zero_grad()
    assert all(p.grad is None for p in mine.parameters())


def test_double_float_to_convert_in_place_keeping_the_parameter_objects():
    mg.manual_seed(0)
    m = small_model(mg)
    params = list(m.parameters())
    assert all(p.dtype == mg.float32 for p in params)
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    assert m.double() is m
    assert all(a is b for a, b in zip(params, m.parameters()))
    assert all(p.dtype == mg.float64 for p in params)
    assert opt.param_groups[0]["params"][0].dtype == mg.float64    # the optimizer sees it too
    m.float()
    assert all(p.dtype == mg.float32 for p in params)
    m.to(mg.float64)
    assert all(p.dtype == mg.float64 for p in params)
    m.to("cpu", dtype=mg.float32)
    assert all(p.dtype == mg.float32 for p in params)
    m.to(mg.zeros(1, dtype=mg.float64))
    assert all(p.dtype == mg.float64 for p in params)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        m.to(mg.int64)


def test_apply_visits_children_before_self():
    m = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.Sequential(mg.nn.ReLU(), mg.nn.Tanh()))
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]

    def init_zero(mod):
        if isinstance(mod, mg.nn.Linear):
            mg.nn.init.zeros_(mod.weight)
    m.apply(init_zero)
    assert not m[0].weight.detach().numpy().any()


def test_deepcopy_gives_independent_parameters():
    mine, _ = small_pair()
    twin = copy.deepcopy(mine)
    assert list(twin.state_dict()) == list(mine.state_dict())
    for (n, a), (_, b) in zip(mine.named_parameters(), twin.named_parameters()):
        assert a is not b and a.detach().numpy() is not b.detach().numpy() and np.array_equal(a.detach().numpy(), b.detach().numpy()), n
    idx, _ = batch()
    twin(mg.tensor(idx)).sum().backward()
    assert all(p.grad is None for p in mine.parameters())


def test_repr_matches_torch():
    torch.manual_seed(0)
    ref = small_model(torch)
    assert repr(small_model(mg)) == repr(ref)
    for make in (lambda nn: nn.Linear(4, 3), lambda nn: nn.Linear(4, 3, bias=False),
                 lambda nn: nn.Embedding(10, 3), lambda nn: nn.Embedding(5, 3, padding_idx=-1),
                 lambda nn: nn.LayerNorm(8), lambda nn: nn.LayerNorm((2, 4), bias=False),
                 lambda nn: nn.LayerNorm(8, elementwise_affine=False), lambda nn: nn.RMSNorm(8),
                 lambda nn: nn.RMSNorm(8, eps=1e-6), lambda nn: nn.Dropout(0.1),
                 lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"), lambda nn: nn.ReLU(),
                 lambda nn: nn.SiLU(), lambda nn: nn.Tanh(), lambda nn: nn.Sigmoid(),
                 lambda nn: nn.Identity(), lambda nn: nn.CrossEntropyLoss(),
                 lambda nn: nn.MSELoss(),
                 lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
                 lambda nn: nn.ModuleList(),
                 lambda nn: nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})):
        assert repr(make(mg.nn)) == repr(make(torch.nn))


# --------------------------------------------------------------------------- containers
def test_sequential_indexing_len_iteration_slicing():
    layers = [mg.nn.Linear(3, 4), mg.nn.ReLU(), mg.nn.Linear(4, 2)]
    seq = mg.nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, mg.nn.Sequential) and list(head) == layers[:2]
    x = mg.randn(5, 3)
    np.testing.assert_allclose(seq(x).detach().numpy(), layers[2](layers[1](layers[0](x))).detach().numpy())
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    from collections import OrderedDict
    named = mg.nn.Sequential(OrderedDict(fc=mg.nn.Linear(3, 4), act=mg.nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list_and_dict():
    ml = mg.nn.ModuleList([mg.nn.Linear(2, 2)])
    ml.append(mg.nn.Linear(2, 3))
    ml.extend([mg.nn.ReLU()])
    ml += [mg.nn.Tanh()]
    ml.insert(0, mg.nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Linear", "ReLU", "Tanh"]
    assert len(ml) == 5 and ml[-1] is list(ml)[4]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "2.weight", "2.bias"]
    md = mg.nn.ModuleDict({"enc": mg.nn.Linear(2, 2), "act": mg.nn.ReLU()})
    md["dec"] = mg.nn.Linear(2, 1)
    assert list(md) == ["enc", "act", "dec"] and "dec" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                     "dec.bias"]
    assert md.pop("act").__class__.__name__ == "ReLU" and list(md.keys()) == ["enc", "dec"]


# --------------------------------------------------------------------------- initialisation
def test_linear_init_is_torch_default_distribution_and_seeded():
    mg.manual_seed(123)
    a = mg.nn.Linear(400, 300)
    mg.manual_seed(123)
    b = mg.nn.Linear(400, 300)
    assert np.array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())            # minigrad's seed decides
    assert a.weight.shape == (300, 400) and a.bias.shape == (300,)
    bound = 1 / np.sqrt(400)
    for w in (a.weight.detach().numpy(), a.bias.detach().numpy()):
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.95 * bound                    # fills the interval
    np.testing.assert_allclose(a.weight.detach().numpy().std(), bound / np.sqrt(3), rtol=0.02)  # U(-b, b)
    assert a.weight.dtype == mg.float32


def test_embedding_init_and_padding_idx():
    mg.manual_seed(0)
    emb = mg.nn.Embedding(1000, 64, padding_idx=3).double()
    w = emb.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02          # N(0, 1)
    assert not w[3].any()
    idx = mg.tensor([[3, 1, 3], [2, 3, 1]])
    out = emb(idx)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(gradient=mg.tensor(g))
    assert not emb.weight.grad.detach().numpy()[3].any()                      # the padding row never learns
    np.testing.assert_allclose(emb.weight.grad.detach().numpy()[1], g[0, 1] + g[1, 2])


def test_layer_norm_and_rms_norm_parameters():
    ln = mg.nn.LayerNorm(6)
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0) and ln.eps == 1e-5
    assert mg.nn.LayerNorm(6, bias=False).bias is None
    plain = mg.nn.LayerNorm(6, elementwise_affine=False)
    assert plain.weight is None and list(plain.state_dict()) == []
    rms = mg.nn.RMSNorm([2, 3])
    assert rms.normalized_shape == (2, 3) and rms.eps is None and np.all(rms.weight.detach().numpy() == 1)
    assert mg.nn.RMSNorm(4, elementwise_affine=False).weight is None


# --------------------------------------------------------------------------- each layer vs torch
LAYERS = {
    "Linear": (lambda nn: nn.Linear(5, 3), (4, 2, 5)),
    "Linear-nobias": (lambda nn: nn.Linear(5, 3, bias=False), (4, 5)),
    "LayerNorm": (lambda nn: nn.LayerNorm(5), (3, 4, 5)),
    "LayerNorm-2d": (lambda nn: nn.LayerNorm((4, 5), eps=1e-3), (3, 4, 5)),
    "LayerNorm-nobias": (lambda nn: nn.LayerNorm(5, bias=False), (3, 5)),
    "LayerNorm-noaffine": (lambda nn: nn.LayerNorm(5, elementwise_affine=False), (3, 5)),
    "RMSNorm": (lambda nn: nn.RMSNorm(5), (3, 4, 5)),
    "RMSNorm-eps": (lambda nn: nn.RMSNorm(5, eps=1e-2), (3, 5)),
    "RMSNorm-noaffine": (lambda nn: nn.RMSNorm(5, elementwise_affine=False), (3, 5)),
    "ReLU": (lambda nn: nn.ReLU(), (4, 5)),
    "GELU": (lambda nn: nn.GELU(), (4, 5)),
    "GELU-tanh": (lambda nn: nn.GELU(approximate="tanh"), (4, 5)),
    "SiLU": (lambda nn: nn.SiLU(), (4, 5)),
    "Tanh": (lambda nn: nn.Tanh(), (4, 5)),
    "Sigmoid": (lambda nn: nn.Sigmoid(), (4, 5)),
    "Identity": (lambda nn: nn.Identity(7, unused=1), (4, 5)),
    "Dropout-eval": (lambda nn: nn.Dropout(0.3).eval(), (4, 5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    make, shape = LAYERS[name]
    torch.manual_seed(0)
    ref = make(torch.nn).double()
    mine = make(mg.nn).double()
    assert list(mine.state_dict()) == list(ref.state_dict())
    rng = np.random.default_rng(0)
    with torch.no_grad():                     # non-trivial affine parameters
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.standard_normal(p.shape)))
    copy_weights(ref, mine)
    x = rng.standard_normal(shape)
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_mg, y_t = mine(x_mg), ref(x_t)
    close(y_mg, y_t, what="output")
    g = rng.standard_normal(y_t.shape)
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    close(x_mg.grad, x_t.grad, what="input grad")
    if list(ref.parameters()):
        assert_same_grads(mine, ref)


def test_embedding_matches_torch():
    torch.manual_seed(0)
    ref = torch.nn.Embedding(7, 4, padding_idx=2).double()
    mine = mg.nn.Embedding(7, 4, padding_idx=2).double()
    copy_weights(ref, mine)
    idx = np.random.default_rng(0).integers(0, 7, (3, 5))
    y_mg, y_t = mine(mg.tensor(idx)), ref(torch.tensor(idx))
    close(y_mg, y_t)
    g = np.random.default_rng(1).standard_normal(y_t.shape)
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    assert_same_grads(mine, ref)


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"label_smoothing": 0.1},
                                    {"ignore_index": 1}])
def test_cross_entropy_loss_module_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 5, 6)
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    l_mg = mg.nn.CrossEntropyLoss(**kwargs)(x_mg, mg.tensor(t))
    l_t = torch.nn.CrossEntropyLoss(**kwargs)(x_t, torch.tensor(t))
    close(l_mg, l_t)
    l_mg.backward(gradient=mg.tensor(np.array(1.7)))
    l_t.backward(gradient=torch.tensor(1.7, dtype=torch.float64))
    close(x_mg.grad, x_t.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_module_matches_torch(reduction):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    l_mg = mg.nn.MSELoss(reduction=reduction)(x_mg, mg.tensor(t))
    l_t = torch.nn.MSELoss(reduction=reduction)(x_t, torch.tensor(t))
    close(l_mg, l_t)
    l_mg.backward(gradient=mg.tensor(np.array(-0.3)))
    l_t.backward(gradient=torch.tensor(-0.3, dtype=torch.float64))
    close(x_mg.grad, x_t.grad)


def test_functional_still_importable():
    import minigrad.nn.functional as F
    assert F.linear is mg.nn.functional.linear and callable(F.scaled_dot_product_attention)
