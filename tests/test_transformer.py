import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion import transformer as tf
from companion.transformer import (Block, DecoderBlock, MultiHeadAttention, Transformer,
                                   TransformerConfig, causal_mask, padding_mask,
                                   scaled_dot_product_attention)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=g(seed), dtype=dtype)


# ------------------------------------------------------------ scaled dot-product attention
@pytest.mark.parametrize("causal", [False, True])
def test_attention_equals_torch_sdpa(causal):
    q, k, v = randn(2, 3, 7, 8, seed=1), randn(2, 3, 7, 8, seed=2), randn(2, 3, 7, 5, seed=3)
    mask = causal_mask(7) if causal else None
    out, w = scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert out.shape == (2, 3, 7, 5) and w.shape == (2, 3, 7, 7)
    assert torch.allclose(out, ref, atol=1e-12)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3, 7, dtype=torch.float64))
    if causal:
        assert (w.triu(1) == 0).all()


def test_attention_equals_torch_sdpa_float32_with_mask_and_scale():
    q, k, v = (randn(4, 6, 16, seed=s, dtype=torch.float32) for s in (4, 5, 6))
    k, v = k[:, :5], v[:, :5]                                     # S = 5 keys for L = 6 queries
    mask = torch.rand(4, 6, 5, generator=g(7)) < 0.6
    mask[..., 0] = True                                          # every query keeps one key
    out, _ = scaled_dot_product_attention(q, k, v, mask, scale=0.3)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.3)
    assert torch.allclose(out, ref, atol=1e-6)


def test_attention_is_the_formula():
    q, k, v = randn(5, 4, seed=8), randn(6, 4, seed=9), randn(6, 3, seed=10)
    w = torch.exp(q @ k.T / 2) / torch.exp(q @ k.T / 2).sum(1, keepdim=True)   # sqrt(4) = 2
    out, weights = scaled_dot_product_attention(q, k, v)
    assert torch.allclose(weights, w) and torch.allclose(out, w @ v)


def test_padding_mask_ignores_padded_keys():
    q, k, v = randn(2, 4, 8, seed=11), randn(2, 6, 8, seed=12), randn(2, 6, 3, seed=13)
    lengths = torch.tensor([6, 3])
    mask = padding_mask(lengths, 6)
    assert mask.shape == (2, 1, 6)
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert (w[1, :, 3:] == 0).all()
    short, _ = scaled_dot_product_attention(q[1], k[1, :3], v[1, :3])   # the padding removed
    assert torch.allclose(out[1], short, atol=1e-12)
    # changing what sits in the padding changes nothing
    k2, v2 = k.clone(), v.clone()
    k2[1, 3:], v2[1, 3:] = 100.0, -100.0
    assert torch.allclose(scaled_dot_product_attention(q, k2, v2, mask)[0], out, atol=1e-12)


# ------------------------------------------------------------------ multi-head attention
@pytest.fixture
def mha_pair():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(16, 4, batch_first=True, dropout=0.0).double().eval()
    return ref, MultiHeadAttention.from_torch(ref)


def test_from_torch_copies_the_projections(mha_pair):
    ref, ours = mha_pair
    w = torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight])
    assert torch.equal(w, ref.in_proj_weight) and torch.equal(ours.w_o.bias, ref.out_proj.bias)
    # and the copy is independent of the original
    with torch.no_grad():
        ours.w_q.weight.zero_()
    assert ref.in_proj_weight.abs().sum() > 0


def test_mha_equals_torch_without_mask(mha_pair):
    ref, ours = mha_pair
    x = randn(3, 5, 16, seed=14)
    want, want_w = ref(x, x, x, need_weights=True, average_attn_weights=False)
    got, got_w = ours(x)
    assert got.shape == (3, 5, 16) and got_w.shape == (3, 4, 5, 5)
    assert torch.allclose(got, want, atol=1e-12)
    assert torch.allclose(got_w, want_w, atol=1e-12)


def test_mha_equals_torch_with_causal_and_padding_masks(mha_pair):
    ref, ours = mha_pair
    x = randn(3, 5, 16, seed=15)
    lengths = torch.tensor([5, 2, 4])
    allowed = causal_mask(5) & padding_mask(lengths, 5)              # (3, 5, 5)
    # torch's boolean masks say True where attention is NOT allowed
    want, want_w = ref(x, x, x, attn_mask=~causal_mask(5),
                       key_padding_mask=~padding_mask(lengths, 5).squeeze(1),
                       need_weights=True, average_attn_weights=False)
    got, got_w = ours(x, mask=allowed)
    assert torch.allclose(got, want, atol=1e-12)
    assert torch.allclose(got_w, want_w, atol=1e-12)


def test_mha_cross_attention_equals_torch(mha_pair):
    ref, ours = mha_pair
    x, c = randn(2, 3, 16, seed=16), randn(2, 7, 16, seed=17)
    want, _ = ref(x, c, c)
    got, w = ours(x, context=c)
    assert w.shape == (2, 4, 3, 7)
    assert torch.allclose(got, want, atol=1e-12)


def test_attention_without_positions_is_permutation_equivariant(mha_pair):
    _, ours = mha_pair
    x = randn(2, 6, 16, seed=18)
    perm = torch.randperm(6, generator=g(19))
    assert torch.allclose(ours(x[:, perm])[0], ours(x)[0][:, perm], atol=1e-12)
    pe = tf.sinusoidal_encoding(6, 16, dtype=torch.float64)
    assert not torch.allclose(ours(x[:, perm] + pe)[0], ours(x + pe)[0][:, perm], atol=1e-3)


# ----------------------------------------------------------------------------- positions
def test_sinusoidal_encoding_is_the_formula():
    pe = tf.sinusoidal_encoding(50, 8, dtype=torch.float64)
    pos, i = 17, 3
    assert math.isclose(pe[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 8)), rel_tol=1e-12)
    assert math.isclose(pe[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 8)), rel_tol=1e-12)
    # each (sin, cos) pair has norm 1, so every position has norm sqrt(d / 2)
    assert torch.allclose(pe.norm(dim=1), torch.full((50,), 2.0, dtype=torch.float64))


def test_sinusoidal_shift_is_a_rotation():
    # PE(pos + k) = PE(pos) R_k, with R_k orthogonal and independent of pos
    pe = tf.sinusoidal_encoding(60, 16, dtype=torch.float64)
    for k in (1, 5, 17):
        R = tf.sinusoidal_shift(k, 16, dtype=torch.float64)
        assert torch.allclose(pe[:-k] @ R, pe[k:], atol=1e-12)
        assert torch.allclose(R @ R.T, torch.eye(16, dtype=torch.float64), atol=1e-12)
    # the same matrix is what least squares finds from a few positions (fast clocks only)
    fit = torch.linalg.lstsq(pe[:30, :6], pe[3:33, :6]).solution
    assert torch.allclose(fit, tf.sinusoidal_shift(3, 16, dtype=torch.float64)[:6, :6], atol=1e-8)
    # and the dot product of two positions depends only on their distance
    gram = pe @ pe.T
    for d in range(60):
        assert torch.allclose(torch.diagonal(gram, d), gram[0, d].expand(60 - d), atol=1e-12)


# --------------------------------------------------------------------------------- block
@pytest.mark.parametrize("masked", [False, True])
def test_block_equals_torch_encoder_layer(masked):
    torch.manual_seed(1)
    ref = nn.TransformerEncoderLayer(16, 4, dim_feedforward=40, dropout=0.0, activation="gelu",
                                     batch_first=True, norm_first=True).double().eval()
    ours = Block.from_torch(ref)
    assert ours.mlp[0].weight.dtype == torch.float64
    x = randn(3, 6, 16, seed=20)
    if masked:
        want = ref(x, src_mask=~causal_mask(6), is_causal=True)
        got, w = ours(x, mask=causal_mask(6))
    else:
        want = ref(x)
        got, w = ours(x)
    assert got.shape == (3, 6, 16) and w.shape == (3, 4, 6, 6)
    assert torch.allclose(got, want, atol=1e-10)


# --------------------------------------------------------------------------------- model
@pytest.fixture
def model():
    cfg = TransformerConfig(vocab_size=7, max_len=12, d_model=16, n_heads=2, n_layers=2)
    return Transformer(cfg, g(21)).double()


def test_model_shapes(model):
    idx = torch.randint(7, (3, 10), generator=g(22))
    logits, maps = model(idx, return_attention=True)
    assert logits.shape == (3, 10, 7)
    assert len(maps) == 2 and all(m.shape == (3, 2, 10, 10) for m in maps)
    assert model.generate(idx[:, :4], 5).shape == (3, 9)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_causal_model_does_not_look_ahead(positions):
    cfg = TransformerConfig(vocab_size=7, max_len=12, d_model=16, n_heads=2, positions=positions)
    m = Transformer(cfg, g(23)).double()
    idx = torch.randint(7, (4, 10), generator=g(24))
    changed = idx.clone()
    changed[:, 6] = (changed[:, 6] + 1) % 7                         # perturb token 6
    a, b = m(idx), m(changed)
    assert torch.allclose(a[:, :6], b[:, :6], atol=1e-12)          # positions 0..5 untouched
    assert not torch.allclose(a[:, 6:], b[:, 6:], atol=1e-6)       # 6.. see the change
    # the same through autograd: d logits[t] / d embedding[s] = 0 for s > t
    x = (m.token_embedding(idx) + m.positions(10)).detach().requires_grad_(True)
    h = x
    for block in m.blocks:
        h, _ = block(h, causal_mask(10))
    (grad,) = torch.autograd.grad(h[:, 3].sum(), x)
    assert (grad[:, 4:] == 0).all() and (grad[:, :4] != 0).any()


def test_generation_is_greedy_argmax(model):
    idx = torch.randint(7, (2, 3), generator=g(25))
    out = model.generate(idx, 4)
    for t in range(3, 7):
        assert torch.equal(out[:, t], model(out[:, :t])[:, -1].argmax(-1))
    s1 = model.generate(idx, 4, temperature=1.0, generator=g(26))
    s2 = model.generate(idx, 4, temperature=1.0, generator=g(26))
    assert torch.equal(s1, s2)                                    # the generator decides


def test_init_is_reproducible_from_the_generator():
    cfg = TransformerConfig(vocab_size=5, max_len=6, d_model=8, n_heads=2)
    a, b = Transformer(cfg, g(27)), Transformer(cfg, g(27))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = Transformer(cfg, g(28))
    assert not torch.equal(a.head.weight, c.head.weight)
    bound = 1 / math.sqrt(8)
    assert a.head.weight.abs().max() <= bound


def test_next_token_loss_is_cross_entropy_over_kept_positions():
    logits = randn(2, 3, 4, seed=29)
    targets = torch.tensor([[-1, 2, 0], [1, -1, 3]])
    logp = torch.log_softmax(logits, -1)
    want = -(logp[0, 1, 2] + logp[0, 2, 0] + logp[1, 0, 1] + logp[1, 2, 3]) / 4
    assert torch.allclose(tf.next_token_loss(logits, targets), want)


# ------------------------------------------------------------------------- sorting task
def test_sorting_split_holds_out_whole_multisets():
    (xtr, ytr), (xte, yte) = tf.sorting_split(3000, 500, 5, 4, g(30))
    assert xtr.shape == (3000, 9) and yte.shape == (500, 9)
    for x, y in ((xtr, ytr), (xte, yte)):
        assert torch.equal(y[:, 4:], x[:, :5].sort(1).values)        # targets: sorted input
        assert torch.equal(x[:, 5:], y[:, 4:-1])                      # inputs shifted by one
        assert (y[:, :4] == -1).all()
    key = lambda x: {tuple(r) for r in x[:, :5].sort(1).values.tolist()}  # noqa: E731
    assert not key(xtr) & key(xte)


def test_sorting_accuracy_of_an_oracle_and_of_a_fixed_answer(model):
    class Oracle(Transformer):
        @torch.no_grad()
        def generate(self, idx, n_new, temperature=None, generator=None):
            return torch.cat([idx, idx.sort(1).values], dim=1)

    cfg = TransformerConfig(vocab_size=7, max_len=11, d_model=8, n_heads=2)
    (_, _), (x, _) = tf.sorting_split(10, 200, 6, 7, g(31))
    assert tf.sorting_accuracy(Oracle(cfg), x, 6) == (1.0, 1.0)
    exact, per_token = tf.sorting_accuracy(model, x[:, :11], 6)
    assert 0 <= exact <= per_token <= 1


def test_a_tiny_transformer_learns_to_sort():
    torch.manual_seed(0)
    (xtr, ytr), (xte, _) = tf.sorting_split(4000, 300, 4, 4, g(32))
    m = Transformer(TransformerConfig(vocab_size=4, max_len=7, d_model=32, n_heads=2), g(33))
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for step in range(300):
        i = torch.randint(4000, (64,), generator=g(step))
        loss = tf.next_token_loss(m(xtr[i]), ytr[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    exact, per_token = tf.sorting_accuracy(m, xte, 4)
    assert per_token > 0.9 and exact > 0.7, (exact, per_token)


# ------------------------------------------------------------------- the softmax and its scale
def test_softmax_jacobian_equals_autograd():
    z = randn(3, 5, seed=40) * 3
    got = tf.softmax_jacobian(z)
    for b in range(3):
        want = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), z[b])
        assert torch.allclose(got[b], want, atol=1e-12)


def test_softmax_saturation_at_its_two_limits():
    S = 7
    top, norm = tf.softmax_saturation(torch.zeros(4, S, dtype=torch.float64))    # uniform
    assert top == pytest.approx(1 / S) and norm == pytest.approx(math.sqrt(S - 1) / S)
    hard = torch.zeros(4, S, dtype=torch.float64)
    hard[:, 2] = 60.0                                                         # one key wins
    top, norm = tf.softmax_saturation(hard)
    assert top == pytest.approx(1.0) and norm < 1e-20


def test_random_scores_have_variance_d_k():
    d_k, n = 32, 4000
    s = tf.random_scores(d_k, n, 8, g(41))
    assert s.shape == (n, 8)
    # q.k has variance d_k and fourth moment 3 d_k^2 + 6 d_k: the sample variance's standard
    # error is sqrt((2 d_k^2 + 6 d_k) / N); the N = 32,000 scores share queries, so use the
    # N = 4,000 of one key
    se = math.sqrt((2 * d_k**2 + 6 * d_k) / n)
    assert abs(s[:, 0].var().item() - d_k) < 5 * se
    assert abs(s.mean().item()) < 5 * math.sqrt(d_k / n)


# ------------------------------------------------------------------------- cost of attention
@pytest.mark.parametrize("shape", [(1, 9, 13, 4, 4), (2, 5, 5, 8, 3), (3, 17, 2, 6, 11)])
def test_attention_flops_equals_torchs_flop_counter(shape):
    from torch.utils.flop_counter import FlopCounterMode

    B, L, S, d_k, d_v = shape
    q, k, v = randn(B, L, d_k, seed=42), randn(B, S, d_k, seed=43), randn(B, S, d_v, seed=44)
    with FlopCounterMode(display=False) as counter:
        scaled_dot_product_attention(q, k, v)
    assert counter.get_total_flops() == B * tf.attention_flops(L, S, d_k, d_v)
    assert tf.attention_flops(L, S, d_k) == tf.attention_flops(L, S, d_k, d_k)


def test_measure_cost_counts_what_is_allocated():
    x = randn(30, 20, seed=45)
    cost = tf.measure_cost(lambda a: a @ a.T, (x,), repeats=1)
    assert cost.flops == 2 * 30 * 30 * 20 and cost.peak_bytes == 30 * 30 * 8
    # a temporary and a view of it count once; the scalar result adds 8 bytes
    cost = tf.measure_cost(lambda a: (a * 2).T.reshape(20, 30)[0].sum(), (x,), repeats=2)
    assert cost.flops == 0 and cost.peak_bytes == 30 * 20 * 8 + 8 and cost.seconds > 0
    # a view of the input allocates nothing
    assert tf.measure_cost(lambda a: a[:3].T, (x,)).peak_bytes == 0


def test_attention_holds_the_score_matrix_and_torchs_fused_kernel_does_not():
    L, d = 256, 16
    q, k, v = (randn(1, L, d, seed=s, dtype=torch.float32) for s in (46, 47, 48))
    ours = tf.measure_cost(lambda *a: scaled_dot_product_attention(*a)[0], (q, k, v))
    fused = tf.measure_cost(F.scaled_dot_product_attention, (q, k, v))
    matrix = L * L * 4                                              # one (L, L) float32
    assert 2 * matrix <= ours.peak_bytes < 2 * matrix + 20 * L * d * 4   # scores and weights
    assert fused.peak_bytes < matrix / 4
    assert ours.flops == tf.attention_flops(L, L, d)


# ----------------------------------------------------------------------- cross-attention
@pytest.mark.parametrize("masked", [False, True])
def test_decoder_block_equals_torch_decoder_layer(masked):
    torch.manual_seed(2)
    ref = nn.TransformerDecoderLayer(16, 4, dim_feedforward=40, dropout=0.0, activation="gelu",
                                     batch_first=True, norm_first=True).double().eval()
    ours = DecoderBlock.from_torch(ref)
    x, memory = randn(3, 5, 16, seed=49), randn(3, 7, 16, seed=50)
    if masked:
        lengths = torch.tensor([7, 4, 6])
        want = ref(x, memory, tgt_mask=~causal_mask(5), tgt_is_causal=True,
                   memory_key_padding_mask=~padding_mask(lengths, 7).squeeze(1))
        got, w_self, w_cross = ours(x, memory, mask=causal_mask(5),
                                    memory_mask=padding_mask(lengths, 7))
        assert (w_cross[1, :, :, 4:] == 0).all() and (w_self.triu(1) == 0).all()
    else:
        want = ref(x, memory)
        got, w_self, w_cross = ours(x, memory)
    assert w_self.shape == (3, 4, 5, 5) and w_cross.shape == (3, 4, 5, 7)
    assert torch.allclose(got, want, atol=1e-10)


def test_decoder_reads_every_memory_position_and_no_later_target():
    block = DecoderBlock(16, 2, generator=g(51)).double()
    x, memory = randn(2, 5, 16, seed=52), randn(2, 7, 16, seed=53)
    out = block(x, memory, mask=causal_mask(5))[0]
    m2 = memory.clone()
    m2[:, -1] += randn(2, 16, seed=54)                     # the last source position
    changed = (block(x, m2, mask=causal_mask(5))[0] - out).abs().amax(-1)
    assert (changed > 1e-6).all()                          # every target position sees it
    x2 = x.clone()
    x2[:, 3] += randn(2, 16, seed=55)                      # (not a constant: LN removes it)
    changed = (block(x2, memory, mask=causal_mask(5))[0] - out).abs().amax(-1)
    assert (changed[:, :3] == 0).all() and (changed[:, 3:] > 1e-6).all()


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, exc, msg", [
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 4)),
     ValueError, "q and k must have the same last dimension"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(5, 3)),
     ValueError, "k and v must hold the same, non-zero number"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 2, 3), torch.zeros(3, 4, 3),
                                          torch.zeros(3, 4, 3)),
     ValueError, "must share their leading"),
    (lambda: scaled_dot_product_attention(torch.zeros(3), torch.zeros(3), torch.zeros(3)),
     ValueError, "q must have at least 2 dimensions"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3),
                                          torch.zeros(2, 3)),
     TypeError, "q must be a floating-point tensor"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(4, 3),
                                          mask=torch.ones(3, 4, dtype=torch.bool)),
     ValueError, "mask must broadcast"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(4, 3),
                                          mask=torch.ones(2, 4)),
     TypeError, "mask must be a boolean tensor"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3),
                                          mask=torch.tensor([[True, False], [False, False]])),
     ValueError, "no key to attend to"),
    (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3),
                                          scale=0.0),
     ValueError, "scale must be > 0"),
    (lambda: MultiHeadAttention(10, 3), ValueError, "d_model must be divisible by n_heads"),
    (lambda: MultiHeadAttention(8, 2)(torch.zeros(2, 3, 6)), ValueError,
     "x must have last dimension 8"),
    (lambda: MultiHeadAttention(8, 2)(torch.zeros(3, 8)), ValueError, "x must have 3 dimensions"),
    (lambda: MultiHeadAttention(8, 2)(torch.zeros(2, 3, 8), context=torch.zeros(3, 4, 8)),
     ValueError, "context must have the same batch size"),
    (lambda: MultiHeadAttention(8, 2)(torch.zeros(2, 3, 8), mask=torch.ones(4, 4, dtype=torch.bool)),
     ValueError, "mask must broadcast"),
    (lambda: MultiHeadAttention(8, 2)(torch.zeros(2, 3, 8), mask=torch.ones(3, dtype=torch.bool)),
     ValueError, r"mask must be a boolean tensor of shape \(L, S\)"),
    (lambda: Block(8, 2)(torch.zeros(2, 3, 7)), ValueError, "x must have last dimension 8"),
    (lambda: MultiHeadAttention.from_torch(nn.Linear(2, 2)), TypeError,
     "module must be an nn.MultiheadAttention"),
    (lambda: MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4)),
     ValueError, "module must use one in_proj_weight"),
    (lambda: Block.from_torch(nn.TransformerEncoderLayer(8, 2, norm_first=False,
                                                         activation="gelu")),
     ValueError, "norm_first=True"),
    (lambda: Block.from_torch(nn.TransformerEncoderLayer(8, 2, norm_first=True)), ValueError,
     "activation='gelu'"),
    (lambda: Block.from_torch(nn.Linear(2, 2)), TypeError, "layer must be an nn.Transformer"),
    (lambda: DecoderBlock.from_torch(nn.TransformerEncoderLayer(8, 2)), TypeError,
     "layer must be an nn.TransformerDecoderLayer"),
    (lambda: DecoderBlock.from_torch(nn.TransformerDecoderLayer(8, 2, norm_first=True)),
     ValueError, "activation='gelu'"),
    (lambda: DecoderBlock(8, 2)(torch.zeros(2, 3, 8), torch.zeros(3, 4, 8)), ValueError,
     "memory must have the same batch size"),
    (lambda: DecoderBlock(8, 2)(torch.zeros(2, 3, 8), torch.zeros(2, 4, 6)), ValueError,
     "memory must have last dimension 8"),
    (lambda: tf.softmax_jacobian(torch.tensor(1.0)), ValueError, "scores must have at least 1"),
    (lambda: tf.softmax_saturation(torch.zeros(3, 0)), ValueError, "scores must not be empty"),
    (lambda: tf.random_scores(0, 4, 4), ValueError, "d_k must be >= 1"),
    (lambda: tf.attention_flops(4, 4, 8, d_v=0), ValueError, "d_v must be >= 1"),
    (lambda: tf.measure_cost("f", (1,)), TypeError, "fn must be callable"),
    (lambda: tf.measure_cost(abs, 1), TypeError, "args must be a tuple"),
    (lambda: padding_mask(torch.tensor([0, 2]), 3), ValueError, "lengths must lie in 1..3"),
    (lambda: padding_mask(torch.tensor([1.0]), 3), TypeError, "lengths must be an integer"),
    (lambda: causal_mask(0), ValueError, "length must be >= 1"),
    (lambda: tf.sinusoidal_encoding(5, 7), ValueError, "d_model must be even"),
    (lambda: tf.sinusoidal_shift(2, 7), ValueError, "d_model must be even"),
    (lambda: tf.sinusoidal_shift(1.5, 8), TypeError, "offset must be an integer"),
    (lambda: TransformerConfig(10, 8, d_model=30, n_heads=4), ValueError,
     "d_model must be divisible by n_heads"),
    (lambda: TransformerConfig(10, 8, positions="rotary"), ValueError, "positions must be one of"),
    (lambda: Transformer("config"), TypeError, "config must be a TransformerConfig"),
    (lambda: Transformer(TransformerConfig(5, 4, 8, 2))(torch.zeros(2, 3)), TypeError,
     "idx must hold integer token indices"),
    (lambda: Transformer(TransformerConfig(5, 4, 8, 2))(torch.zeros(2, 6, dtype=torch.long)),
     ValueError, "idx must have between 1 and max_len=4"),
    (lambda: Transformer(TransformerConfig(5, 4, 8, 2))(torch.full((2, 3), 5)), ValueError,
     r"idx must hold tokens in 0..4"),
    (lambda: Transformer(TransformerConfig(5, 4, 8, 2)).generate(torch.zeros(1, 3, dtype=torch.long), 3),
     ValueError, "exceeds max_len=4"),
    (lambda: Transformer(TransformerConfig(5, 6, 8, 2)).generate(
        torch.zeros(1, 3, dtype=torch.long), 2, temperature=0), ValueError,
     "temperature must be > 0"),
    (lambda: Transformer(TransformerConfig(5, 4, 8, 2), generator=3), TypeError,
     "generator must be a torch.Generator"),
    (lambda: tf.next_token_loss(torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long)),
     ValueError, r"targets must have shape \(B, T\) = \(2, 3\)"),
    (lambda: tf.sorting_split(10, 10, 4, 10, test_fraction=1.0), ValueError,
     "test_fraction must be < 1"),
    (lambda: tf.sorting_split(0, 10, 4, 10), ValueError, "n_train must be >= 1"),
    (lambda: tf.sorting_accuracy(Transformer(TransformerConfig(5, 7, 8, 2)),
                                 torch.zeros(3, 6, dtype=torch.long), 4),
     ValueError, "x must have 2 \\* length - 1 = 7 columns"),
])
def test_bad_input_gets_a_clear_error(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
