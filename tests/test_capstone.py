"""minigrad.course.gpt, the capstone chapter's GPT: the same model and training loop on
minigrad and on torch, from the same weights, in float64 — losses, gradients and parameters
agree to rounding, through both attention paths, gradient accumulation, clipping, the cosine
schedule, evaluation, a checkpoint and its resumption, and greedy generation. A tiny config
keeps it fast."""
import io

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.course import gpt

CONFIG = dict(block_size=8, vocab_size=17, n_layer=2, n_head=2, n_embd=16)
TRAIN = gpt.TrainConfig(max_iters=6, eval_interval=3, eval_iters=2, batch_size=4,
                        gradient_accumulation_steps=2, learning_rate=1e-2, min_lr=1e-3,
                        warmup_iters=2, lr_decay_iters=5, grad_clip=0.5)
TEXT = "the tensor that comes out remembers who made it. " * 8


@pytest.fixture(autouse=True)
def float64():
    old_mg, old_t = mg.get_default_dtype(), torch.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    torch.set_default_dtype(torch.float64)
    yield
    mg.set_default_dtype(old_mg)
    torch.set_default_dtype(old_t)


def data():
    vocab = gpt.CharVocab(TEXT)
    assert len(vocab) == CONFIG["vocab_size"]
    return gpt.split(vocab.encode(TEXT))


def twins(seed=0, **changes):
    """A torch GPT and a minigrad GPT with the torch model's initial weights."""
    return gpt.twins(gpt.GPTConfig(**{**CONFIG, **changes}), seed)


def params(model):
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def assert_same_parameters(a, b, tol=1e-12):
    pa, pb = params(a), params(b)
    assert list(pa) == list(pb)
    for name in pa:
        np.testing.assert_allclose(pa[name], pb[name], rtol=0, atol=tol, err_msg=name)


@pytest.mark.parametrize("flash", [True, False], ids=["sdpa", "manual"])
def test_training_agrees_with_torch(flash):
    train_data, val_data = data()
    mine, ref = twins(flash=flash)
    runs = {}
    for lib, model in ((mg, mine), (torch, ref)):
        opt = model.configure_optimizers(TRAIN.weight_decay, TRAIN.learning_rate, TRAIN.betas)
        runs[lib.__name__] = gpt.train(lib, model, opt, train_data, val_data, TRAIN, bar=False)
    a, b = runs["minigrad"], runs["torch"]
    assert a["iter"] == b["iter"] == [0, 3] and len(a["loss"]) == TRAIN.max_iters
    for key in ("loss", "train", "val"):
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-12, err_msg=key)
    assert a["loss"][-1] < a["loss"][0] - 0.1          # it learns
    assert_same_parameters(mine, ref)


def test_attention_paths_agree_and_gradients_match_torch():
    """The manual path (tril buffer, masked_fill, softmax) is the SDPA path written out; the
    gradients of every parameter, through tied weights, equal torch's."""
    mine, ref = twins(flash=True)
    manual, _ = twins(flash=False)
    assert "transformer.h.0.attn.bias" in manual.state_dict()       # the buffer
    assert "transformer.h.0.attn.bias" not in dict(manual.named_parameters())
    x = np.random.default_rng(0).integers(0, CONFIG["vocab_size"], (3, CONFIG["block_size"]))
    y = np.roll(x, -1, axis=1)
    losses = [m(lib.tensor(x), lib.tensor(y))[1]
              for lib, m in ((mg, mine), (mg, manual), (torch, ref))]
    for loss in losses:
        loss.backward()
    assert abs(losses[0].item() - losses[1].item()) < 1e-12
    assert abs(losses[0].item() - losses[2].item()) < 1e-12
    grads = {n: p.grad.numpy() for n, p in ref.named_parameters()}
    for model in (mine, manual):
        for n, p in model.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), grads[n], rtol=0, atol=1e-12, err_msg=n)


def test_weight_tying_and_init():
    mine, ref = twins()
    for model in (mine, ref):
        assert model.transformer.wte.weight is model.lm_head.weight
        names = [n for n, _ in model.named_parameters()]
        assert "lm_head.weight" not in names and len(names) == len(set(names))
    mg.manual_seed(1)
    model = gpt.build(mg).GPT(gpt.GPTConfig(**{**CONFIG, "n_embd": 64, "vocab_size": 200}))
    w = model.transformer.wte.weight.detach().numpy()
    assert abs(w.std() - 0.02) < 2e-3 and abs(w.mean()) < 2e-3
    proj = model.transformer.h[0].attn.c_proj.weight.detach().numpy()
    assert abs(proj.std() - 0.02 / 2) < 2e-3                    # 0.02 / sqrt(2 · n_layer)
    assert not model.transformer.h[0].attn.c_attn.bias.detach().numpy().any()


def test_configure_optimizers_groups():
    mine, ref = twins()
    for model in (mine, ref):
        opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
        decay, no_decay = opt.param_groups
        assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
        assert all(p.dim() >= 2 for p in decay["params"])
        assert all(p.dim() == 1 for p in no_decay["params"])
        assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_get_lr_warms_up_then_follows_a_cosine():
    cfg = gpt.TrainConfig(learning_rate=1.0, min_lr=0.1, warmup_iters=4, lr_decay_iters=14)
    lrs = [gpt.get_lr(it, cfg) for it in range(20)]
    assert lrs[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert lrs[4] == pytest.approx(1.0) and lrs[9] == pytest.approx(0.55)
    assert lrs[14:] == pytest.approx([0.1] * 6)
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_get_batch_windows_and_targets():
    train_data, _ = data()
    for lib in (mg, torch):
        g = mg.Generator().manual_seed(3)
        x, y = gpt.get_batch(lib, train_data, 8, 5, g)
        assert tuple(x.shape) == tuple(y.shape) == (5, 8) and x.dtype == lib.int64
        x, y = x.numpy(), y.numpy()
        assert (x[:, 1:] == y[:, :-1]).all()
        for row in x:                       # each row is a window of the data
            starts = [i for i in range(len(train_data) - 8) if (train_data[i:i + 8] == row).all()]
            assert starts
    a = gpt.get_batch(mg, train_data, 8, 5, mg.Generator().manual_seed(3))[0].numpy()
    b = gpt.get_batch(torch, train_data, 8, 5, mg.Generator().manual_seed(3))[0].numpy()
    assert (a == b).all()


def test_checkpoint_resume_continues_the_same_run(tmp_path):
    train_data, val_data = data()
    for lib, model in zip((mg, torch), twins()):
        opt = model.configure_optimizers(TRAIN.weight_decay, TRAIN.learning_rate, TRAIN.betas)
        gpt.train(lib, model, opt, train_data, val_data, TRAIN, iters=3, bar=False)
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": 3,
                  "model_args": vars(model.config)}, path)
        ckpt = lib.load(path)
        resumed = gpt.build(lib).GPT(gpt.GPTConfig(**ckpt["model_args"]))
        resumed.load_state_dict(ckpt["model"])
        opt2 = resumed.configure_optimizers(TRAIN.weight_decay, TRAIN.learning_rate, TRAIN.betas)
        opt2.load_state_dict(ckpt["optimizer"])
        a = gpt.train(lib, model, opt, train_data, val_data, TRAIN, start=ckpt["iter_num"],
                      bar=False)
        b = gpt.train(lib, resumed, opt2, train_data, val_data, TRAIN, start=ckpt["iter_num"],
                      bar=False)
        assert a == b and len(a["loss"]) == TRAIN.max_iters - 3
        assert_same_parameters(model, resumed, tol=0)


def test_generate_greedy_is_the_same_text_on_both_libraries():
    mine, ref = twins()
    prompt = np.array([[1, 2, 3]])
    out = {}
    for lib, model in ((mg, mine), (torch, ref)):
        g = lib.Generator().manual_seed(0)
        out[lib.__name__] = model.generate(lib.tensor(prompt), 12, top_k=1, generator=g).numpy()
    assert out["minigrad"].shape == (1, 15) and (out["minigrad"][:, :3] == prompt).all()
    assert (out["minigrad"] == out["torch"]).all()


def test_generate_samples_reproducibly_within_the_top_k():
    mine, _ = twins()
    runs = [mine.generate(mg.tensor([[0]]), 20, temperature=0.8, top_k=3,
                          generator=mg.Generator().manual_seed(5)).numpy() for _ in range(2)]
    assert (runs[0] == runs[1]).all()
    with mg.no_grad():
        logits, _ = mine(mg.tensor(runs[0][:, :-1][:, -CONFIG["block_size"]:]))
    top3 = np.argsort(logits.numpy()[0, -1])[-3:]
    assert runs[0][0, -1] in top3


def test_course_text_and_vocabulary():
    text = gpt.course_text()
    assert len(text) > 50_000 and "backward" in text and "```" not in text
    assert all(ch == "\n" or " " <= ch <= "~" for ch in text)
    vocab = gpt.CharVocab(text)
    tokens = vocab.encode(text[:500])
    assert tokens.dtype == np.uint8 and vocab.decode(tokens) == text[:500]
    with pytest.raises(ValueError, match="uint8"):
        gpt.CharVocab("".join(map(chr, range(300))))


def test_progress_bar_is_the_same_text_every_time():
    out = io.StringIO()
    for i in range(1, 26):
        gpt.progress(i, 25, "note", width=5, file=out)
    assert out.getvalue() == ("\r 40%|██   | 10/25 note\r 80%|████ | 20/25 note"
                              "\r100%|█████| 25/25 note\n")
