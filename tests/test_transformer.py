"""The course's blocks (MultiHeadAttention, FeedForward, TransformerBlock, GPT) against torch.

Three references, from the most to the least independent:
  * numpy, written from the notes' formulas (per-head slices, concat, W_O);
  * torch's own modules where they exist (nn.MultiheadAttention, nn.TransformerEncoderLayer),
    with the weights mapped onto their parameter layout;
  * the same class bodies built on torch (``make_blocks(torch.nn)``), weights copied through
    state_dict — this covers every variant (SwiGLU, RMSNorm, GPT).
Every check compares outputs and the gradient of the input and of every parameter under a
random upstream gradient, in float64.
"""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.nn.modules.transformer import make_blocks

TB = make_blocks(torch.nn)
ATOL, RTOL = 1e-10, 1e-8


def close(a, b, what=""):
    a = a.detach().numpy() if isinstance(a, mg.Tensor) else a.detach().numpy() if torch.is_tensor(a) else a
    b = b.detach().numpy() if isinstance(b, mg.Tensor) else b.detach().numpy() if torch.is_tensor(b) else b
    assert np.shape(a) == np.shape(b), f"{what}: shapes {np.shape(a)} vs {np.shape(b)}"
    np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL, err_msg=what)


def pair(name, *args, seed=0, **kwargs):
    """The block on both libraries, float64, with the same random weights (norm weights
    included, so that γ and β are not the trivial 1 and 0)."""
    torch.manual_seed(seed)
    ref = getattr(TB, name)(*args, **kwargs).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    mine = getattr(mg.nn, name)(*args, **kwargs).double()
    assert list(mine.state_dict()) == list(ref.state_dict())
    mine.load_state_dict(ref.state_dict())
    return mine, ref


def run(mine, ref, x, seed=1):
    """Forward both on x (float input: also compare its gradient) with a random upstream
    gradient; compare outputs and every parameter's gradient by name."""
    floating = x.dtype.kind == "f"
    x_mg = mg.tensor(x, requires_grad=floating)
    x_t = torch.tensor(x, requires_grad=floating)
    y_mg, y_t = mine(x_mg), ref(x_t)
    close(y_mg, y_t, "output")
    g = np.random.default_rng(seed).standard_normal(tuple(y_t.shape))
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    if floating:
        close(x_mg.grad, x_t.grad, "input grad")
    grads = dict(mine.named_parameters())
    for name, p in ref.named_parameters():
        assert grads[name].grad is not None, f"{name}: no gradient"
        close(grads[name].grad, p.grad, f"grad of {name}")
    return y_mg


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------- MultiHeadAttention
def numpy_mha(x, mha, causal):
    """The notes, literally: Q = X·W_Q, K, V likewise; head i uses columns i·d…(i+1)·d−1;
    headᵢ = softmax(QᵢKᵢᵀ/√d)·Vᵢ; MHA(X) = concat(head₁, …, head_h)·W_O."""
    def proj(lin):
        y = x @ lin.weight.detach().numpy().T
        return y + lin.bias.detach().numpy() if lin.bias is not None else y
    Q, K, V = proj(mha.W_q), proj(mha.W_k), proj(mha.W_v)
    h, d = mha.n_heads, mha.d_head
    T = x.shape[1]
    heads = []
    for i in range(h):
        cols = slice(i * d, (i + 1) * d)
        S = Q[..., cols] @ np.swapaxes(K[..., cols], -1, -2) / np.sqrt(d)
        if causal:
            S = np.where(np.tril(np.ones((T, T), bool)), S, -np.inf)
        A = np.exp(S - S.max(-1, keepdims=True))
        A /= A.sum(-1, keepdims=True)
        heads.append(A @ V[..., cols])
    out = np.concatenate(heads, axis=-1) @ mha.W_o.weight.detach().numpy().T
    return out + mha.W_o.bias.detach().numpy() if mha.W_o.bias is not None else out


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_the_notes_formula_in_numpy(bias, causal):
    mine, _ = pair("MultiHeadAttention", 12, 3, bias=bias, causal=causal)
    x = rand(2, 5, 12)
    np.testing.assert_allclose(mine(mg.tensor(x)).detach().numpy(), numpy_mha(x, mine, causal),
                               atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_same_code_on_torch(bias, causal):
    mine, ref = pair("MultiHeadAttention", 12, 3, bias=bias, causal=causal)
    run(mine, ref, rand(2, 5, 12))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_torch_multihead_attention(bias, causal):
    """torch.nn.MultiheadAttention stacks W_q, W_k, W_v into one in_proj_weight."""
    mine, _ = pair("MultiHeadAttention", 12, 3, bias=bias, causal=causal)
    ref = torch.nn.MultiheadAttention(12, 3, bias=bias, batch_first=True).double()
    qkv = (mine.W_q, mine.W_k, mine.W_v)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(np.concatenate([l.weight.detach().numpy() for l in qkv])))
        ref.out_proj.weight.copy_(torch.tensor(mine.W_o.weight.detach().numpy()))
        if bias:
            ref.in_proj_bias.copy_(torch.tensor(np.concatenate([l.bias.detach().numpy() for l in qkv])))
            ref.out_proj.bias.copy_(torch.tensor(mine.W_o.bias.detach().numpy()))
    x = rand(2, 5, 12)
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1) if causal else None
    y_mg = mine(x_mg)
    y_t, _ = ref(x_t, x_t, x_t, attn_mask=mask, need_weights=False)
    close(y_mg, y_t, "output")
    g = rand(2, 5, 12, seed=3)
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    close(x_mg.grad, x_t.grad, "input grad")
    close(np.concatenate([l.weight.grad.detach().numpy() for l in qkv]), ref.in_proj_weight.grad, "W_qkv")
    close(mine.W_o.weight.grad, ref.out_proj.weight.grad, "W_o")
    if bias:
        close(np.concatenate([l.bias.grad.detach().numpy() for l in qkv]), ref.in_proj_bias.grad, "b_qkv")
        close(mine.W_o.bias.grad, ref.out_proj.bias.grad, "b_o")


def test_causal_attention_does_not_look_ahead():
    mine, _ = pair("MultiHeadAttention", 8, 2, causal=True)
    x = rand(1, 6, 8)
    y = mine(mg.tensor(x)).detach().numpy()
    x2 = x.copy()
    x2[:, 4:] = rand(1, 2, 8, seed=9)              # change the last two tokens only
    y2 = mine(mg.tensor(x2)).detach().numpy()
    np.testing.assert_allclose(y2[:, :4], y[:, :4], atol=1e-12)
    assert not np.allclose(y2[:, 4:], y[:, 4:])


def test_mha_bad_shapes():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        mg.nn.MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(B, T, 8\), got \(2, 5, 6\)"):
        mg.nn.MultiHeadAttention(8, 2)(mg.randn(2, 5, 6))


# --------------------------------------------------------------------------- FeedForward
@pytest.mark.parametrize("activation", ["relu", "gelu", "swiglu"])
@pytest.mark.parametrize("bias", [True, False])
def test_feedforward_matches_same_code_on_torch(activation, bias):
    mine, ref = pair("FeedForward", 6, 10, activation=activation, bias=bias)
    run(mine, ref, rand(3, 4, 6))


@pytest.mark.parametrize("activation", ["relu", "gelu", "swiglu"])
def test_feedforward_matches_written_out_formula(activation):
    """FFN(x) = act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂, or (silu(x·W_gateᵀ + b) ⊙ (x·W_upᵀ + b))·W_downᵀ + b,
    written with torch.nn.functional on the same weights."""
    mine, ref = pair("FeedForward", 6, 10, activation=activation)
    Ft = torch.nn.functional
    x = rand(3, 6)
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    W = {n: p.detach().clone().requires_grad_() for n, p in ref.named_parameters()}
    up = x_t @ W["w_up.weight"].T + W["w_up.bias"]
    if activation == "swiglu":
        hidden = Ft.silu(x_t @ W["w_gate.weight"].T + W["w_gate.bias"]) * up
    else:
        hidden = Ft.relu(up) if activation == "relu" else Ft.gelu(up)
    y_t = hidden @ W["w_down.weight"].T + W["w_down.bias"]
    y_mg = mine(x_mg)
    close(y_mg, y_t, "output")
    g = rand(3, 6, seed=2)
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    close(x_mg.grad, x_t.grad, "input grad")
    for name, p in mine.named_parameters():
        close(p.grad, W[name].grad, name)


def test_feedforward_rejects_unknown_activation():
    with pytest.raises(ValueError, match="'relu', 'gelu', 'gelu_tanh' or 'swiglu'"):
        mg.nn.FeedForward(4, 8, activation="tanh")


# --------------------------------------------------------------------------- TransformerBlock
@pytest.mark.parametrize("norm", ["layer", "rms"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "swiglu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_block_matches_same_code_on_torch(norm_first, activation, norm):
    mine, ref = pair("TransformerBlock", 12, 3, 20, norm_first=norm_first,
                     activation=activation, norm=norm, causal=norm_first)
    run(mine, ref, rand(2, 5, 12))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_block_matches_torch_transformer_encoder_layer(norm_first, activation, causal):
    """torch.nn.TransformerEncoderLayer is the same block (post-norm by default): the
    weights map one to one."""
    mine, _ = pair("TransformerBlock", 12, 3, 20, norm_first=norm_first,
                   activation=activation, causal=causal)
    ref = torch.nn.TransformerEncoderLayer(12, 3, 20, dropout=0.0, activation=activation,
                                           batch_first=True, norm_first=norm_first).double()
    load_encoder_layer(ref, mine)
    x = rand(2, 5, 12)
    x_mg, x_t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1) if causal else None
    y_mg, y_t = mine(x_mg), ref(x_t, src_mask=mask)
    close(y_mg, y_t, "output")
    g = rand(2, 5, 12, seed=4)
    y_mg.backward(gradient=mg.tensor(g))
    y_t.backward(gradient=torch.tensor(g))
    close(x_mg.grad, x_t.grad, "input grad")
    for name, grad in encoder_layer_grads(ref).items():
        close(dict(mine.named_parameters())[name].grad, grad, name)


def load_encoder_layer(ref, block):
    """Copy a minigrad TransformerBlock's weights into a torch TransformerEncoderLayer."""
    a, f = block.attn, block.ffn
    pairs = {"self_attn.out_proj.weight": a.W_o.weight, "self_attn.out_proj.bias": a.W_o.bias,
             "linear1.weight": f.w_up.weight, "linear1.bias": f.w_up.bias,
             "linear2.weight": f.w_down.weight, "linear2.bias": f.w_down.bias,
             "norm1.weight": block.norm1.weight, "norm1.bias": block.norm1.bias,
             "norm2.weight": block.norm2.weight, "norm2.bias": block.norm2.bias}
    sd = {k: torch.tensor(v.detach().numpy()) for k, v in pairs.items()}
    sd["self_attn.in_proj_weight"] = torch.tensor(
        np.concatenate([a.W_q.weight.detach().numpy(), a.W_k.weight.detach().numpy(), a.W_v.weight.detach().numpy()]))
    sd["self_attn.in_proj_bias"] = torch.tensor(
        np.concatenate([a.W_q.bias.detach().numpy(), a.W_k.bias.detach().numpy(), a.W_v.bias.detach().numpy()]))
    ref.load_state_dict(sd)


def encoder_layer_grads(ref, prefix=""):
    """A TransformerEncoderLayer's gradients under the TransformerBlock's parameter names."""
    p = dict(ref.named_parameters())
    d = p["self_attn.in_proj_weight"].shape[1]
    w, b = p["self_attn.in_proj_weight"].grad, p["self_attn.in_proj_bias"].grad
    out = {}
    for i, name in enumerate(("W_q", "W_k", "W_v")):
        out[f"{prefix}attn.{name}.weight"] = w[i * d:(i + 1) * d]
        out[f"{prefix}attn.{name}.bias"] = b[i * d:(i + 1) * d]
    for mine, theirs in (("attn.W_o", "self_attn.out_proj"), ("ffn.w_up", "linear1"),
                         ("ffn.w_down", "linear2"), ("norm1", "norm1"), ("norm2", "norm2")):
        out[f"{prefix}{mine}.weight"] = p[f"{theirs}.weight"].grad
        out[f"{prefix}{mine}.bias"] = p[f"{theirs}.bias"].grad
    return out


def test_block_dropout_only_in_training():
    mg.manual_seed(0)
    block = mg.nn.TransformerBlock(8, 2, 16, dropout=0.5).double()
    plain = mg.nn.TransformerBlock(8, 2, 16).double()
    plain.load_state_dict(block.state_dict())
    x = mg.tensor(rand(2, 4, 8))
    block.eval()
    assert not block.attn.dropout.training
    np.testing.assert_array_equal(block(x).detach().numpy(), block(x).detach().numpy())
    np.testing.assert_allclose(block(x).detach().numpy(), plain(x).detach().numpy(), atol=1e-12)
    block.train()
    assert not np.allclose(block(x).detach().numpy(), plain(x).detach().numpy())


def test_block_bad_norm():
    with pytest.raises(ValueError, match="'layer' or 'rms'"):
        mg.nn.TransformerBlock(8, 2, 16, norm="batch")


# --------------------------------------------------------------------------- GPT
GPT_ARGS = dict(vocab_size=17, context_length=8, d_model=12, n_heads=3, n_layers=2, d_ff=20)


@pytest.mark.parametrize("variant", [dict(), dict(norm="rms", activation="swiglu"),
                                     dict(activation="relu", bias=False)])
def test_gpt_matches_same_code_on_torch(variant):
    mine, ref = pair("GPT", **GPT_ARGS, **variant)
    idx = np.random.default_rng(0).integers(0, 17, (3, 6))
    run(mine, ref, idx)


def test_gpt_loss_and_gradients_match_torch():
    mine, ref = pair("GPT", **GPT_ARGS)
    rng = np.random.default_rng(1)
    idx, tgt = rng.integers(0, 17, (3, 8)), rng.integers(0, 17, (3, 8))
    logits_mg, loss_mg = mine(mg.tensor(idx), mg.tensor(tgt))
    logits_t, loss_t = ref(torch.tensor(idx), torch.tensor(tgt))
    close(logits_mg, logits_t, "logits")
    close(loss_mg, loss_t, "loss")
    loss_mg.backward()
    loss_t.backward()
    grads = dict(mine.named_parameters())
    assert len(grads) == 2 + 2 * 16 + 2 + 1          # embeddings, 2 blocks, final norm, head
    for name, p in ref.named_parameters():
        close(grads[name].grad, p.grad, name)


def test_gpt_matches_a_torch_gpt_built_from_torch_layers():
    """An independent reference: token + position embeddings (looked up with arange), torch's
    own pre-norm TransformerEncoderLayers with a causal mask, final LayerNorm, head."""
    mine, _ = pair("GPT", **GPT_ARGS, activation="gelu")
    torch.manual_seed(0)
    layers = torch.nn.ModuleList([
        torch.nn.TransformerEncoderLayer(12, 3, 20, dropout=0.0, activation="gelu",
                                         batch_first=True, norm_first=True)
        for _ in range(2)]).double()
    for layer, block in zip(layers, mine.blocks):
        load_encoder_layer(layer, block)
    t = {n: torch.tensor(p.detach().numpy(), requires_grad=True) for n, p in mine.named_parameters()
         if not n.startswith("blocks.")}
    idx = np.random.default_rng(2).integers(0, 17, (2, 7))
    T = idx.shape[1]
    Ft = torch.nn.functional
    x = Ft.embedding(torch.tensor(idx), t["tok_emb.weight"]) + \
        Ft.embedding(torch.arange(T), t["pos_emb.weight"])
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for layer in layers:
        x = layer(x, src_mask=mask)
    x = Ft.layer_norm(x, (12,), t["final_norm.weight"], t["final_norm.bias"])
    logits_t = x @ t["out_head.weight"].T
    logits_mg = mine(mg.tensor(idx))
    close(logits_mg, logits_t, "logits")
    g = rand(2, 7, 17, seed=5)
    logits_mg.backward(gradient=mg.tensor(g))
    logits_t.backward(gradient=torch.tensor(g))
    grads = dict(mine.named_parameters())
    for name, tt in t.items():
        close(grads[name].grad, tt.grad, name)
    for i, layer in enumerate(layers):
        for name, grad in encoder_layer_grads(layer, prefix=f"blocks.{i}.").items():
            close(grads[name].grad, grad, name)


def test_gpt_positions_beyond_the_sequence_get_zero_gradient():
    mine, _ = pair("GPT", **GPT_ARGS)
    logits = mine(mg.tensor(np.random.default_rng(0).integers(0, 17, (2, 5))))
    logits.backward(gradient=mg.tensor(rand(2, 5, 17)))
    g = mine.pos_emb.weight.grad.detach().numpy()
    assert np.abs(g[:5]).min(axis=1).all() and not g[5:].any()


def test_gpt_errors():
    gpt = mg.nn.GPT(**GPT_ARGS)
    with pytest.raises(ValueError, match="9 tokens is longer than the context length 8"):
        gpt(mg.randint(0, 17, (1, 9)))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        gpt(mg.randint(0, 17, (9,)))


def test_gpt_trains_identically_with_adamw():
    """The course's loop, five steps, on both libraries: zero_grad, loss, backward, step."""
    mine, ref = pair("GPT", **GPT_ARGS, norm="rms", activation="swiglu")
    opt_mg = mg.optim.AdamW(mine.parameters(), lr=1e-2, weight_decay=0.1)
    opt_t = torch.optim.AdamW(ref.parameters(), lr=1e-2, weight_decay=0.1)
    rng = np.random.default_rng(3)
    for _ in range(5):
        idx, tgt = rng.integers(0, 17, (4, 8)), rng.integers(0, 17, (4, 8))
        losses = []
        for lib, model, opt in ((mg, mine, opt_mg), (torch, ref, opt_t)):
            opt.zero_grad()
            _, loss = model(lib.tensor(idx), lib.tensor(tgt))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-9)
    for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-9, rtol=1e-7,
                                   err_msg=name)


def test_gpt_repr_and_state_dict_keys_match_torch():
    torch.manual_seed(0)
    ref = TB.GPT(**GPT_ARGS)
    mine = mg.nn.GPT(**GPT_ARGS)
    assert repr(mine) == repr(ref)
    assert list(mine.state_dict()) == list(ref.state_dict())
    assert "blocks.1.attn.W_q.weight" in mine.state_dict()
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in ref.named_modules()]
