"""The course's transformer blocks: MultiHeadAttention, FeedForward, TransformerBlock, GPT.

They are written once, inside :func:`make_blocks`, against an ``nn`` namespace. With
minigrad's ``nn`` they are ``minigrad.nn.MultiHeadAttention`` and friends; with
``torch.nn`` the very same class bodies become PyTorch modules::

    from minigrad.nn.modules.transformer import make_blocks
    T = make_blocks(torch.nn)
    ref = T.GPT(vocab_size=50, context_length=16, d_model=32, n_heads=4, n_layers=2)
    mine = minigrad.nn.GPT(vocab_size=50, context_length=16, d_model=32, n_heads=4, n_layers=2)
    mine.load_state_dict(ref.state_dict())      # same keys, same shapes

which is how the tests check that minigrad computes the same outputs and gradients. The
code only uses what both libraries share: ``nn.Module``, ``nn.Linear``, ``nn.LayerNorm``,
``nn.RMSNorm``, ``nn.Embedding``, ``nn.Dropout``, ``nn.ModuleList`` and
``nn.functional``.
"""
from types import SimpleNamespace

__all__ = ["make_blocks"]


def make_blocks(nn):
    """Build the four block classes on ``nn`` (``minigrad.nn`` or ``torch.nn``); returns a
    namespace with ``MultiHeadAttention``, ``FeedForward``, ``TransformerBlock``, ``GPT``."""
    F = nn.functional

    class MultiHeadAttention(nn.Module):
        """Multi-head self-attention, the notes' steps with X of shape (B, T, d_model):

        1. the trainable projections ``W_q, W_k, W_v`` (Linear d_model → d_model, i.e. the
           h per-head matrices of shape d_model × d side by side, d = d_model / h);
        2. Q = X·W_qᵀ (+ b_q), K = X·W_kᵀ (+ b_k), V = X·W_vᵀ (+ b_v) — a Linear stores its
           weight as (out, in), so the notes' W_Q is ``W_q.weight.T``;
        3. split each into h heads: (B, T, d_model) → (B, T, h, d) → transpose → (B, h, T, d),
           so that head i sees columns i·d … (i+1)·d − 1 (the notes' Q⁽¹⁾, Q⁽²⁾);
        4. per head, headᵢ = softmax(QᵢKᵢᵀ/√d)·Vᵢ (one fused op,
           ``F.scaled_dot_product_attention``; ``causal`` hides future tokens);
        5. concatenate the heads back: transpose → (B, T, h, d) → (B, T, d_model), and
           project with ``W_o``: MHA(X) = concat(head₁, …, head_h)·W_oᵀ (+ b_o).

        ``dropout`` is applied to the output of ``W_o`` (in training mode)."""

        def __init__(self, d_model, n_heads, bias=True, causal=False, dropout=0.0):
            super().__init__()
            if d_model % n_heads != 0:
                raise ValueError(f"MultiHeadAttention: d_model={d_model} must be divisible by "
                                 f"n_heads={n_heads} (each head gets d_model / n_heads "
                                 f"features).")
            self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
            self.causal = causal
            self.W_q = nn.Linear(d_model, d_model, bias=bias)
            self.W_k = nn.Linear(d_model, d_model, bias=bias)
            self.W_v = nn.Linear(d_model, d_model, bias=bias)
            self.W_o = nn.Linear(d_model, d_model, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            if x.ndim != 3 or x.shape[-1] != self.d_model:
                raise ValueError(f"MultiHeadAttention: expected input of shape (B, T, "
                                 f"{self.d_model}), got {tuple(x.shape)}.")
            B, T, _ = x.shape
            h, d = self.n_heads, self.d_head

            def split_heads(t):                     # (B, T, h·d) -> (B, h, T, d)
                return t.view(B, T, h, d).transpose(1, 2)

            q, k, v = split_heads(self.W_q(x)), split_heads(self.W_k(x)), split_heads(self.W_v(x))
            heads = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
            # merge: (B, h, T, d) -> (B, T, h, d) -> (B, T, h·d). After the transpose the data
            # is not laid out row by row any more, so torch needs reshape rather than view.
            merged = heads.transpose(1, 2).reshape(B, T, self.d_model)
            return self.dropout(self.W_o(merged))

        def extra_repr(self):
            return f"n_heads={self.n_heads}, d_head={self.d_head}, causal={self.causal}"

    class FeedForward(nn.Module):
        """The position-wise feed-forward network: the same small MLP on every token.

        ``'relu'`` / ``'gelu'`` / ``'gelu_tanh'`` (GELU's tanh approximation, as in GPT-2):
            the notes' projection → nonlinearity → projection,
            FFN(x) = act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂,  W₁ = ``w_up`` (d_ff × d_model),
            W₂ = ``w_down`` (d_model × d_ff).
        ``'swiglu'`` (LLaMA's gated variant): a third projection ``w_gate`` decides, per
            hidden unit, how much of ``w_up``'s output passes:
            FFN(x) = (silu(x·W_gateᵀ) ⊙ x·W_upᵀ)·W_downᵀ.
        ``dropout`` is applied to the output (in training mode)."""

        def __init__(self, d_model, d_ff, activation="relu", bias=True, dropout=0.0):
            super().__init__()
            if activation not in ("relu", "gelu", "gelu_tanh", "swiglu"):
                raise ValueError(f"FeedForward: activation must be 'relu', 'gelu', 'gelu_tanh' "
                                 f"or 'swiglu', not {activation!r}.")
            self.activation = activation
            if activation == "swiglu":
                self.w_gate = nn.Linear(d_model, d_ff, bias=bias)
            self.w_up = nn.Linear(d_model, d_ff, bias=bias)
            self.w_down = nn.Linear(d_ff, d_model, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            if self.activation == "swiglu":
                hidden = F.silu(self.w_gate(x)) * self.w_up(x)
            elif self.activation == "gelu":
                hidden = F.gelu(self.w_up(x))
            elif self.activation == "gelu_tanh":
                hidden = F.gelu(self.w_up(x), approximate="tanh")
            else:
                hidden = F.relu(self.w_up(x))
            return self.dropout(self.w_down(hidden))

        def extra_repr(self):
            return f"activation={self.activation!r}"

    def make_norm(kind, d_model, eps, bias):
        if kind == "layer":
            return nn.LayerNorm(d_model, eps=eps, bias=bias)
        if kind == "rms":
            return nn.RMSNorm(d_model, eps=eps)
        raise ValueError(f"norm must be 'layer' or 'rms', not {kind!r}.")

    class TransformerBlock(nn.Module):
        """One transformer layer: attention, then the feed-forward network, each wrapped in
        a residual connection and a normalisation (``norm='layer'``: LayerNorm, the notes'
        LN(z) = γ(z − μ)/√(σ² + ε) + β per token; ``'rms'``: RMSNorm).

        ``norm_first=False`` — post-norm, the notes' "Add & Norm" (the original
        transformer):   X ← Norm₁(X + MHA(X)),   X ← Norm₂(X + FFN(X)).
        ``norm_first=True`` — pre-norm (GPT-2 and later; trains more easily when deep):
                        X ← X + MHA(Norm₁(X)),   X ← X + FFN(Norm₂(X))."""

        def __init__(self, d_model, n_heads, d_ff, norm_first=False, activation="relu",
                     causal=False, norm="layer", bias=True, dropout=0.0, eps=1e-5):
            super().__init__()
            self.norm_first = norm_first
            self.attn = MultiHeadAttention(d_model, n_heads, bias=bias, causal=causal,
                                           dropout=dropout)
            self.norm1 = make_norm(norm, d_model, eps, bias)
            self.ffn = FeedForward(d_model, d_ff, activation=activation, bias=bias,
                                   dropout=dropout)
            self.norm2 = make_norm(norm, d_model, eps, bias)

        def forward(self, x):
            if self.norm_first:
                x = x + self.attn(self.norm1(x))
                return x + self.ffn(self.norm2(x))
            x = self.norm1(x + self.attn(x))          # Add & Norm
            return self.norm2(x + self.ffn(x))        # Add & Norm

        def extra_repr(self):
            return f"norm_first={self.norm_first}"

    class GPT(nn.Module):
        """The notes' GPT-light: a decoder-only language model.

        idx (B, T) token ids → ``tok_emb`` (B, T, d_model) + ``pos_emb`` of positions
        0 … T−1 → dropout → ``n_layers`` pre-norm causal TransformerBlocks → ``final_norm``
        → ``out_head`` (a bias-free Linear d_model → vocab_size) = logits (B, T, vocab_size).

        ``forward(idx)`` returns the logits; ``forward(idx, targets)`` returns
        ``(logits, loss)`` with loss = cross_entropy over all B·T positions. Every weight
        (``tok_emb.weight``, ``blocks.0.attn.W_q.weight``, …, ``out_head.weight``) is a
        Parameter, a leaf of the graph that ends in ``loss``: ``loss.backward()`` fills all
        their ``.grad``, and an optimizer given ``model.parameters()`` updates them."""

        def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, d_ff=None,
                     activation="gelu", norm="layer", bias=True, dropout=0.0, eps=1e-5):
            super().__init__()
            self.context_length = context_length
            d_ff = 4 * d_model if d_ff is None else d_ff
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            self.pos_emb = nn.Embedding(context_length, d_model)
            self.drop_emb = nn.Dropout(dropout)
            self.blocks = nn.ModuleList([
                TransformerBlock(d_model, n_heads, d_ff, norm_first=True, activation=activation,
                                 causal=True, norm=norm, bias=bias, dropout=dropout, eps=eps)
                for _ in range(n_layers)])
            self.final_norm = make_norm(norm, d_model, eps, bias)
            self.out_head = nn.Linear(d_model, vocab_size, bias=False)

        def forward(self, idx, targets=None):
            if idx.ndim != 2:
                raise ValueError(f"GPT: idx must be (batch, time) token ids, got shape "
                                 f"{tuple(idx.shape)}.")
            T = idx.shape[1]
            if T > self.context_length:
                raise ValueError(f"GPT: a sequence of {T} tokens is longer than the context "
                                 f"length {self.context_length}.")
            # the embedding of positions 0..T-1 is simply the first T rows of the table
            x = self.tok_emb(idx) + self.pos_emb.weight[:T]
            x = self.drop_emb(x)
            for block in self.blocks:
                x = block(x)
            logits = self.out_head(self.final_norm(x))
            if targets is None:
                return logits
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            return logits, loss

    for cls in (MultiHeadAttention, FeedForward, TransformerBlock, GPT):
        cls.__qualname__ = cls.__name__
    return SimpleNamespace(MultiHeadAttention=MultiHeadAttention, FeedForward=FeedForward,
                           TransformerBlock=TransformerBlock, GPT=GPT)
