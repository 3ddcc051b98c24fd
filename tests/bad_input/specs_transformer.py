"""Bad-input specs for chapter 11's module, companion.transformer."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from companion import transformer as tf
from framework import exempt, spec


def g():
    return torch.Generator().manual_seed(0)


def data(*shape):
    return torch.randn(*shape, generator=g())


def config():
    return tf.TransformerConfig(vocab_size=5, max_len=7, d_model=8, n_heads=2, n_layers=1)


def model():
    return tf.Transformer(config(), g())


# ----------------------------------------------------------------------------- attention
# q, k, v work with any number of leading (batch, head) dimensions, so one dimension more is
# valid; so is an empty batch of queries (q with 0 rows: no output rows); a mask only has to
# broadcast to (..., L, S), so a (S,) mask (the same for every query) is valid too
@spec("transformer.scaled_dot_product_attention",
      allow={"q": {"extra_dim", "empty"}, "mask": {"extra_dim", "fewer_dims"}})
def _():
    mask = torch.ones(3, 4, dtype=torch.bool).tril()
    return tf.scaled_dot_product_attention, dict(q=data(3, 8), k=data(4, 8), v=data(4, 5),
                                                 mask=mask, scale=0.5)


@spec("transformer.causal_mask", skip=("device",))
def _():
    return tf.causal_mask, dict(length=5)


@spec("transformer.padding_mask")
def _():
    return tf.padding_mask, dict(lengths=torch.tensor([3, 5]), size=5)


@spec("transformer.softmax_jacobian", allow={"scores": {"extra_dim", "fewer_dims"}})
def _():
    return tf.softmax_jacobian, dict(scores=data(4, 6))


@spec("transformer.softmax_saturation", allow={"scores": {"extra_dim", "fewer_dims"}})
def _():
    return tf.softmax_saturation, dict(scores=data(4, 6))


@spec("transformer.random_scores", skip=("dtype",))
def _():
    return tf.random_scores, dict(d_k=4, n_queries=5, n_keys=3, generator=g())


@spec("transformer.init_weights_")
def _():
    return tf.init_weights_, dict(module=nn.Linear(3, 2), generator=g())


# ----------------------------------------------------------------------------- multi-head
@spec("transformer.MultiHeadAttention", skip=("bias",))
def _():
    return tf.MultiHeadAttention, dict(d_model=8, n_heads=2, generator=g())


# a (L, S) mask with one dimension more is a valid (B, L, S) mask when B = 2; the batch is 3
@spec("transformer.MultiHeadAttention.forward")
def _():
    mha = tf.MultiHeadAttention(8, 2, generator=g())
    return mha.forward, dict(x=data(3, 4, 8), context=data(3, 5, 8),
                             mask=torch.ones(4, 5, dtype=torch.bool))


@spec("transformer.MultiHeadAttention.from_torch")
def _():
    return tf.MultiHeadAttention.from_torch, dict(module=nn.MultiheadAttention(8, 2))


# ----------------------------------------------------------------------------- positions
@spec("transformer.sinusoidal_encoding", skip=("device", "dtype"))
def _():
    return tf.sinusoidal_encoding, dict(n_positions=6, d_model=8, base=100.0)


@spec("transformer.sinusoidal_shift", skip=("dtype",))
def _():
    return tf.sinusoidal_shift, dict(offset=2, d_model=8, base=100.0)


# ----------------------------------------------------------------------------- blocks
@spec("transformer.Block")
def _():
    return tf.Block, dict(d_model=8, n_heads=2, d_ff=16, generator=g())


@spec("transformer.Block.forward")
def _():
    return tf.Block(8, 2, generator=g()).forward, dict(x=data(3, 4, 8),
                                                      mask=tf.causal_mask(4))


@spec("transformer.Block.from_torch")
def _():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu",
                                       norm_first=True, batch_first=True)
    return tf.Block.from_torch, dict(layer=layer)


@spec("transformer.DecoderBlock")
def _():
    return tf.DecoderBlock, dict(d_model=8, n_heads=2, d_ff=16, generator=g())


@spec("transformer.DecoderBlock.forward")
def _():
    block = tf.DecoderBlock(8, 2, generator=g())
    return block.forward, dict(x=data(3, 4, 8), memory=data(3, 5, 8), mask=tf.causal_mask(4),
                               memory_mask=tf.padding_mask(torch.tensor([5, 2, 4]), 5))


@spec("transformer.DecoderBlock.from_torch")
def _():
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, activation="gelu",
                                       norm_first=True, batch_first=True)
    return tf.DecoderBlock.from_torch, dict(layer=layer)


# ----------------------------------------------------------------------------- the model
@spec("transformer.TransformerConfig", skip=("causal",))
def _():
    return tf.TransformerConfig, dict(vocab_size=5, max_len=7, d_model=8, n_heads=2,
                                      n_layers=1, d_ff=16, positions="learned")


@spec("transformer.Transformer")
def _():
    return tf.Transformer, dict(config=config(), generator=g())


# a batch of 3, so that a (T, T) mask with one dimension more, (2, T, T), is not valid
@spec("transformer.Transformer.forward", skip=("return_attention",))
def _():
    return model().forward, dict(idx=torch.tensor([[1, 2, 3], [4, 0, 1], [2, 2, 0]]),
                                 mask=torch.ones(3, 3, dtype=torch.bool),
                                 return_attention=True)


@spec("transformer.Transformer.generate")
def _():
    return model().generate, dict(idx=torch.tensor([[1, 2], [3, 4]]), n_new=3,
                                  temperature=0.7, generator=g())


@spec("transformer.Transformer.positions")
def _():
    return model().positions, dict(length=4)


@spec("transformer.next_token_loss")
def _():
    return tf.next_token_loss, dict(logits=data(2, 3, 5), targets=torch.tensor([[-1, 1, 2],
                                                                                [0, -1, 4]]))


@spec("transformer.sorting_split", skip=("device",))
def _():
    return tf.sorting_split, dict(n_train=20, n_test=10, length=3, n_digits=4, generator=g(),
                                  test_fraction=0.3)


@spec("transformer.sorting_accuracy")
def _():
    (_, _), (x, _) = tf.sorting_split(5, 6, 4, 5, g())
    return tf.sorting_accuracy, dict(model=model(), x=x, length=4)


# ----------------------------------------------------------------------------- the cost
@spec("transformer.attention_flops")
def _():
    return tf.attention_flops, dict(n_queries=5, n_keys=7, d_k=4, d_v=3)


@spec("transformer.measure_cost", skip=("args",))     # fn's arguments: fn checks them
def _():
    q = data(1, 6, 4)
    return tf.measure_cost, dict(fn=F.scaled_dot_product_attention, args=(q, q, q), repeats=1)


exempt("transformer.Cost", "a result type that measure_cost fills in")
