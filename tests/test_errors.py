"""Bad input gets a clear error: it names the operation, the shapes involved and the rule.

Every case runs the same code with minigrad and with torch. Both must refuse it with the
same exception type (so ``except`` clauses port); minigrad's message must then contain the
op's name, the shapes as tuples and the rule that was broken, which is asserted fragment by
fragment. Where torch's message shares a key phrase, that is checked too.
"""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as MF

pytestmark = pytest.mark.filterwarnings("ignore:Using a target size")

LIBS = [pytest.param(mg, id="minigrad"), pytest.param(torch, id="torch")]
FUNCTIONAL = {mg: MF, torch: TF}


def rnd(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def T(lib, *shape, requires_grad=False, seed=0):
    return lib.tensor(rnd(seed, *shape), requires_grad=requires_grad)


def I(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.int64))


def _backward_with_a_gradient_of_the_wrong_shape(L, F):
    y = T(L, 3, 4, requires_grad=True) * 2
    y.backward(T(L, 4, 3))


def _set_requires_grad_on_non_leaf(L, F):
    (T(L, 3, requires_grad=True) * 2).requires_grad = False


# (name, code run on both libraries, exception type, fragments of minigrad's message,
#  fragments both messages contain)
CASES = [
    # shapes that do not fit
    ("matmul", lambda L, F: T(L, 3, 4) @ T(L, 5, 6), RuntimeError,
     ["matmul", "(3, 4)", "(5, 6)", "last dimension of the first (4)",
      "second-to-last dimension of the second (5)"], []),
    ("matmul_vector", lambda L, F: T(L, 3) @ T(L, 4), RuntimeError,
     ["matmul", "(3,)", "(4,)", "must equal"], []),
    ("matmul_batch", lambda L, F: T(L, 2, 3, 4) @ T(L, 5, 4, 2), RuntimeError,
     ["matmul", "(2, 3, 4)", "(5, 4, 2)", "batch dimensions", "broadcast"], []),
    ("matmul_scalar", lambda L, F: T(L, 3) @ T(L), RuntimeError,
     ["matmul", "(3,)", "()", "at least one dimension"], []),
    ("add", lambda L, F: T(L, 3, 4) + T(L, 5), RuntimeError,
     ["add", "(3, 4)", "(5,)", "cannot be broadcast", "equal or one of them 1"], []),
    ("sub", lambda L, F: T(L, 3, 4) - T(L, 3, 1, 5), RuntimeError,
     ["sub", "(3, 4)", "(3, 1, 5)", "cannot be broadcast"], []),
    ("mul", lambda L, F: T(L, 3, 4) * T(L, 2, 4), RuntimeError,
     ["mul", "(3, 4)", "(2, 4)", "cannot be broadcast"], []),
    ("div", lambda L, F: T(L, 3, 4) / T(L, 3), RuntimeError,
     ["div", "(3, 4)", "(3,)", "cannot be broadcast"], []),
    ("where", lambda L, F: L.where(T(L, 3, 4) > 0, T(L, 3, 4), T(L, 5)), RuntimeError,
     ["where", "(3, 4)", "(5,)", "broadcast"], []),
    ("expand", lambda L, F: T(L, 3, 4).expand(2, 5), RuntimeError,
     ["expand", "(3, 4)", "(2, 5)", "must match or be 1"], []),
    ("reshape", lambda L, F: T(L, 3, 4).reshape(5, 2), RuntimeError,
     ["reshape", "(5, 2)", "(3, 4)", "12 elements", "number of elements"], ["invalid"]),
    ("view", lambda L, F: T(L, 3, 4).view(-1, 5), RuntimeError,
     ["view", "(-1, 5)", "(3, 4)", "number of elements"], ["invalid"]),
    ("cat", lambda L, F: L.cat([T(L, 3, 4), T(L, 3, 5)]), RuntimeError,
     ["cat", "(3, 4)", "(3, 5)", "dim 0", "other dimensions must match"], []),
    ("stack", lambda L, F: L.stack([T(L, 3, 4), T(L, 3, 5)]), RuntimeError,
     ["stack", "(3, 4)", "(3, 5)", "same shape"], []),
    ("split", lambda L, F: T(L, 6, 4).split([2, 3]), RuntimeError,
     ["split", "[2, 3]", "(6, 4)", "add up to 5"], []),
    ("permute", lambda L, F: T(L, 3, 4).permute(0, 0), RuntimeError,
     ["permute", "(0, 0)", "(3, 4)", "not a permutation"], []),
    ("linear", lambda L, F: F.linear(T(L, 3, 4), T(L, 5, 3)), RuntimeError,
     ["linear", "(3, 4)", "(5, 3)", "in_features"], []),
    ("layer_norm", lambda L, F: F.layer_norm(T(L, 3, 4), (5,)), RuntimeError,
     ["layer_norm", "(5,)", "(3, 4)", "last dimensions"], ["normalized_shape"]),
    ("layer_norm_weight", lambda L, F: F.layer_norm(T(L, 3, 4), (4,), T(L, 5)), RuntimeError,
     ["layer_norm", "weight", "(5,)", "(4,)", "must be equal"], ["normalized_shape"]),
    ("sdpa", lambda L, F: F.scaled_dot_product_attention(T(L, 2, 3, 4), T(L, 2, 5, 3),
                                                         T(L, 2, 5, 3)), RuntimeError,
     ["scaled_dot_product_attention", "(2, 3, 4)", "(2, 5, 3)", "same last dimension"], []),
    ("mse_loss", lambda L, F: F.mse_loss(T(L, 3, 4), T(L, 5)), RuntimeError,
     ["mse_loss", "(3, 4)", "(5,)", "broadcast"], []),
    # indices out of range
    ("cross_entropy_target", lambda L, F: F.cross_entropy(T(L, 3, 4), I(L, [0, 4, 1])),
     IndexError, ["cross_entropy", "target 4", "4 classes", "0..3"], ["out of bounds"]),
    ("cross_entropy_negative", lambda L, F: F.cross_entropy(T(L, 3, 4), I(L, [0, -2, 1])),
     IndexError, ["cross_entropy", "target -2", "4 classes"], ["out of bounds"]),
    ("nll_loss_target", lambda L, F: F.nll_loss(T(L, 3, 4), I(L, [0, 7, 1])),
     IndexError, ["nll_loss", "target 7", "4 classes"], ["out of bounds"]),
    ("embedding", lambda L, F: F.embedding(I(L, [0, 10]), T(L, 5, 3)), IndexError,
     ["embedding", "index 10", "5 rows", "0..4"], ["out of range"]),
    ("index", lambda L, F: T(L, 3, 4)[5], IndexError,
     ["index", "5", "size 3", "(3, 4)"], ["out of bounds"]),
    ("transpose_dim", lambda L, F: T(L, 3, 4).transpose(0, 2), IndexError,
     ["transpose", "dimension 2", "2 dimension(s)", "-2 to 1"], []),
    ("sum_dim", lambda L, F: T(L, 3, 4).sum(dim=2), IndexError,
     ["sum", "dimension 2", "2 dimension(s)"], []),
    ("softmax_dim", lambda L, F: F.softmax(T(L, 3, 4), dim=3), IndexError,
     ["softmax", "dimension 3", "(3, 4)"], []),
    ("squeeze_dim", lambda L, F: T(L, 3, 4).squeeze(3), IndexError,
     ["squeeze", "dimension 3", "2 dimension(s)"], []),
    # backward and grad
    ("backward_non_scalar", lambda L, F: (T(L, 3, 4, requires_grad=True) * 2).backward(),
     RuntimeError, ["backward", "(3, 4)", "gradient="], ["only for scalar outputs"]),
    ("backward_gradient_shape", _backward_with_a_gradient_of_the_wrong_shape, RuntimeError,
     ["backward", "(4, 3)", "(3, 4)", "must have the output's shape"], []),
    ("backward_without_graph", lambda L, F: (T(L, 3) * 2).sum().backward(), RuntimeError,
     ["backward", "does not require grad", "requires_grad=True"], ["does not require grad"]),
    ("grad_input_without_grad",
     lambda L, F: L.autograd.grad((T(L, 3, requires_grad=True) * 2).sum(), T(L, 3)),
     RuntimeError, ["grad", "input 0", "(3,)", "does not require grad"],
     ["does not require grad"]),
    ("grad_no_inputs",
     lambda L, F: L.autograd.grad((T(L, 3, requires_grad=True) * 2).sum(), []),
     RuntimeError, ["grad", "inputs is empty"], []),
    # requires_grad
    ("requires_grad_integer", lambda L, F: L.tensor([1, 2], requires_grad=True), RuntimeError,
     ["requires_grad", "int64", "floating-point"], ["can require gradients"]),
    ("requires_grad_integer_factory",
     lambda L, F: L.arange(3, requires_grad=True), RuntimeError,
     ["requires_grad", "int64", "floating-point"], ["can require gradients"]),
    ("requires_grad_on_non_leaf", _set_requires_grad_on_non_leaf, RuntimeError,
     ["requires_grad", "leaf", "MulBackward", ".detach()"], ["leaf"]),
    # in place
    ("inplace_leaf", lambda L, F: T(L, 3, requires_grad=True).mul_(2), RuntimeError,
     ["mul_", "leaf", "(3,)", "no_grad"], ["leaf", "in-place"]),
    ("inplace_leaf_iadd", lambda L, F: T(L, 3, requires_grad=True).__iadd__(1.0),
     RuntimeError, ["add_", "leaf", "(3,)", "no_grad"], ["leaf", "in-place"]),
    ("inplace_leaf_zero_", lambda L, F: T(L, 3, requires_grad=True).zero_(), RuntimeError,
     ["zero_", "leaf", "(3,)", "no_grad"], ["leaf", "in-place"]),
    ("inplace_leaf_copy_", lambda L, F: T(L, 3, requires_grad=True).copy_(T(L, 3)),
     RuntimeError, ["copy_", "leaf", "(3,)", "no_grad"], ["leaf", "in-place"]),
    ("inplace_broadcast_grows", lambda L, F: T(L, 3).add_(T(L, 2, 3)), RuntimeError,
     ["add_", "(2, 3)", "(3,)", "keep the tensor's shape"], []),
    ("inplace_broadcast_grows_in_graph",
     lambda L, F: (T(L, 3, requires_grad=True) * 1).add_(T(L, 2, 3)), RuntimeError,
     ["add_", "(2, 3)", "(3,)"], []),
    ("copy_shape", lambda L, F: T(L, 3).copy_(T(L, 4)), RuntimeError,
     ["copy_", "(4,)", "(3,)"], []),
    # conversions
    ("item", lambda L, F: T(L, 3, 4).item(), RuntimeError,
     ["item", "one-element", "(3, 4)"], []),
    ("numpy_requires_grad", lambda L, F: T(L, 3, requires_grad=True).numpy(), RuntimeError,
     ["numpy", "requires grad", "detach()"], ["detach().numpy()"]),
    ("dropout_p", lambda L, F: F.dropout(T(L, 3), p=1.5), ValueError,
     ["dropout", "between 0 and 1", "1.5"], ["1.5"]),
]


def _backward_with_fewer_gradients_than_tensors(L, F):
    y1 = T(L, 2, requires_grad=True) * 2
    L.autograd.backward([y1, y1 * 3], [T(L, 2)])


def _int_tensor_add_float_requiring_grad(L, F):
    L.tensor([1, 2]).add_(T(L, 2, requires_grad=True))


def _sdpa(L, F, mask=None, causal=False, q_len=3):
    q = T(L, 2, q_len, 4)
    return F.scaled_dot_product_attention(q, T(L, 2, 3, 4, seed=1), T(L, 2, 3, 4, seed=2),
                                          attn_mask=mask, is_causal=causal)


# bad inputs torch refuses and minigrad once accepted, crashed on, or explained wrongly
CASES += [
    ("flatten_start_after_end", lambda L, F: T(L, 2, 3, 4).flatten(2, 0), RuntimeError,
     ["flatten", "start_dim 2", "end_dim 0", "(2, 3, 4)", "must not come after"],
     ["start_dim"]),
    ("t_3d", lambda L, F: T(L, 2, 3, 4).t(), RuntimeError,
     ["t:", "at most 2 dimensions", "(2, 3, 4)"], ["2 dimensions"]),
    ("mm_3d", lambda L, F: L.mm(T(L, 2, 3, 4), T(L, 4, 5)), RuntimeError,
     ["mm", "matrices (2-D)", "(2, 3, 4)", "(4, 5)"], []),
    ("bmm_2d", lambda L, F: L.bmm(T(L, 3, 4), T(L, 4, 5)), RuntimeError,
     ["bmm", "3-D", "(3, 4)", "(4, 5)"], []),
    ("bmm_batch", lambda L, F: L.bmm(T(L, 2, 3, 4), T(L, 3, 4, 5)), RuntimeError,
     ["bmm", "batch sizes", "(2, 3, 4)", "(3, 4, 5)", "does not broadcast"], []),
    ("matmul_dtypes", lambda L, F: T(L, 3, 4).float() @ T(L, 4, 2), RuntimeError,
     ["matmul", "float32 and float64", "(3, 4) and (4, 2)", "do not promote"],
     ["same dtype"]),
    ("linear_dtypes", lambda L, F: F.linear(T(L, 3, 4), T(L, 2, 4).float()), RuntimeError,
     ["linear", "float64 and float32", "do not promote"], ["same dtype"]),
    ("sdpa_integer_mask", lambda L, F: _sdpa(L, F, L.ones(3, 3, dtype=L.int64)), RuntimeError,
     ["scaled_dot_product_attention", "attn_mask", "bool", "int64", "(3, 3)"], ["attn_mask"]),
    ("sdpa_mask_and_causal",
     lambda L, F: _sdpa(L, F, L.ones(3, 3, dtype=L.bool), causal=True), RuntimeError,
     ["scaled_dot_product_attention", "attn_mask", "is_causal", "not both"],
     ["is_causal"]),
    ("sdpa_mask_shape", lambda L, F: _sdpa(L, F, L.ones(2, 2, dtype=L.bool)), RuntimeError,
     ["scaled_dot_product_attention", "attn_mask of shape (2, 2)", "(2, 3, 3)", "broadcast"],
     []),
    ("where_float_condition",
     lambda L, F: L.where(T(L, 3), T(L, 3, seed=1), T(L, 3, seed=2)), RuntimeError,
     ["where", "bool", "float64", "(3,)"], ["boolean"]),
    ("masked_fill_int_mask",
     lambda L, F: T(L, 3).masked_fill(L.tensor([1, 0, 1]), 0.0), RuntimeError,
     ["masked_fill", "bool", "int64", "(3,)"], ["masked_fill"]),
    ("masked_fill_value_1d",
     lambda L, F: T(L, 3).masked_fill(L.tensor([True, False, True]), T(L, 3)), RuntimeError,
     ["masked_fill", "0-d", "(3,)"], ["0-dimensional"]),
    ("clamp_no_bounds", lambda L, F: T(L, 3).clamp(), RuntimeError,
     ["clamp", "at least one of min and max", "(3,)"], ["at least one"]),
    ("clamp_mixed_bounds", lambda L, F: T(L, 3).clamp(T(L, 3), 0.5), TypeError,
     ["clamp", "both numbers or both tensors", "Tensor and float"], []),
    ("inplace_int_add_float", lambda L, F: L.tensor([1, 2]).add_(T(L, 2)), RuntimeError,
     ["add_", "float64", "int64", "(2,)", "cannot hold"], ["can't be cast"]),
    ("inplace_int_add_float_requiring_grad", _int_tensor_add_float_requiring_grad,
     RuntimeError, ["add_", "float64", "int64", "cannot hold"], ["can't be cast"]),
    ("inplace_int_div", lambda L, F: L.tensor([1, 2]).div_(2), RuntimeError,
     ["div_", "float32", "int64", "cannot hold"], ["can't be cast"]),
    ("inplace_bool_add_int", lambda L, F: L.tensor([True]).add_(1), RuntimeError,
     ["add_", "int64", "bool", "cannot hold"], ["can't be cast"]),
    ("inplace_expanded", lambda L, F: T(L, 3, 1).expand(3, 2).add_(1.0), RuntimeError,
     ["add_", "(3, 2)", "expanded", "single memory location", "clone()"],
     ["memory location", "clone()"]),
    ("copy_into_expanded", lambda L, F: T(L, 3, 1).expand(3, 2).copy_(T(L, 3, 2)),
     RuntimeError, ["copy_", "(3, 2)", "expanded", "clone()"], ["memory location"]),
    ("backward_gradient_count", _backward_with_fewer_gradients_than_tensors, RuntimeError,
     ["backward", "2 tensors and 1 gradients"], ["2 tensors and 1 gradients"]),
    ("int_negative_power", lambda L, F: L.tensor([2, 3]) ** -1, RuntimeError,
     ["pow", "integers to negative integer powers are not allowed", "int64", "(2,)", "-1"],
     ["negative integer powers"]),
    ("split_zero", lambda L, F: T(L, 3).split(0), RuntimeError,
     ["split", "split_size", "0", "(3,)"], ["split_size"]),
    ("chunk_zero", lambda L, F: T(L, 3).chunk(0), RuntimeError,
     ["chunk", "positive", "got 0", "(3,)"], ["chunks"]),
    ("cat_0d", lambda L, F: L.cat([T(L), T(L, seed=1)]), RuntimeError,
     ["cat", "position 0", "0-d", "stack"], ["zero-dimensional"]),
    ("cat_mixed_ndim", lambda L, F: L.cat([T(L, 2, 3), T(L, 3)]), RuntimeError,
     ["cat", "same number of dimensions", "(2, 3)", "(3,)"], ["same number of dimensions"]),
    ("cross_entropy_0d", lambda L, F: F.cross_entropy(T(L), L.tensor(0)), RuntimeError,
     ["cross_entropy", "class dimension", "0-d"], []),
    ("embedding_padding_idx", lambda L, F: F.embedding(I(L, [0]), T(L, 3, 2), padding_idx=5),
     AssertionError, ["embedding", "padding_idx 5", "3 rows"], ["padding_idx"]),
    ("embedding_padding_idx_negative",
     lambda L, F: F.embedding(I(L, [0]), T(L, 3, 2), padding_idx=-4), AssertionError,
     ["embedding", "padding_idx -4", "-3..2"], ["padding_idx"]),
    ("dim_of_0d", lambda L, F: T(L).sum(-2), IndexError,
     ["sum", "dimension -2", "0 dimension(s)", "valid: -1 to 0"], ["range"]),
    ("squeeze_dim_of_0d", lambda L, F: T(L).squeeze(1), IndexError,
     ["squeeze", "dimension 1", "valid: -1 to 0"], ["range"]),
    ("max_of_empty", lambda L, F: L.zeros(0).max(), RuntimeError,
     ["max", "(0,)", "empty", "dim="], ["dim"]),
    ("max_dim_of_empty", lambda L, F: L.zeros(0, 2).max(0), IndexError,
     ["max", "(0, 2)", "empty dimension"], ["non-zero size"]),
    ("amax_of_empty", lambda L, F: L.zeros(0, 2).amax(0), IndexError,
     ["amax", "(0, 2)", "empty dimension"], ["non-zero size"]),
    ("randint_without_size", lambda L, F: L.randint(5), TypeError,
     ["randint", "size"], []),
    ("register_hook_without_grad", lambda L, F: T(L, 3).register_hook(lambda g: g),
     RuntimeError, ["register_hook", "(3,)", "does not require grad"], ["hook"]),
    ("split_negative_size", lambda L, F: T(L, 3).split([4, -1]), RuntimeError,
     ["split", "[4, -1]", "non-negative", "(3,)"], ["non-negative"]),
    ("sdpa_1d", lambda L, F: F.scaled_dot_product_attention(T(L, 4), T(L, 4), T(L, 4)),
     RuntimeError, ["scaled_dot_product_attention", "(4,)", "at least 2 dimensional"],
     ["at least 2 dimensional"]),
    ("argmax_dim", lambda L, F: T(L, 3).argmax(2), IndexError,
     ["argmax", "dimension 2", "valid: -1 to 0"], []),
    ("negative_size", lambda L, F: L.ones(2, -1), RuntimeError,
     ["(2, -1)", "negative"], ["negative dimension"]),
    ("nll_loss_batch", lambda L, F: F.nll_loss(T(L, 3, 4), I(L, [0, 1])), ValueError,
     ["nll_loss", "(3, 4)", "(2,)", "batch_size"], ["batch_size"]),
    ("cross_entropy_batch", lambda L, F: F.cross_entropy(T(L, 3, 4), I(L, [0, 1])), ValueError,
     ["cross_entropy", "(3, 4)", "(2,)", "batch_size"], ["batch_size"]),
    ("softmax_integer", lambda L, F: F.softmax(I(L, [1, 2]), 0), NotImplementedError,
     ["softmax", "int64", "(2,)", ".float()"], ["not implemented"]),
    ("log_softmax_integer", lambda L, F: F.log_softmax(I(L, [1, 2]), 0), NotImplementedError,
     ["log_softmax", "int64", ".float()"], ["not implemented"]),
    ("layer_norm_integer", lambda L, F: F.layer_norm(I(L, [[1, 2]]), (2,)),
     NotImplementedError, ["layer_norm", "int64", ".float()"], ["not implemented"]),
    ("gelu_integer", lambda L, F: F.gelu(I(L, [1, 2])), NotImplementedError,
     ["gelu", "int64", ".float()"], ["not implemented"]),
    ("mse_loss_integer", lambda L, F: F.mse_loss(I(L, [1, 2]), I(L, [1, 2])),
     NotImplementedError, ["mse_loss", "int64", ".float()"], ["not implemented"]),
    ("dropout_integer", lambda L, F: F.dropout(I(L, [1, 2]), 0.5), RuntimeError,
     ["dropout", "int64", "(2,)", "can't be cast"], ["can't be cast"]),
    ("one_hot_negative", lambda L, F: F.one_hot(I(L, [-1]), 3), RuntimeError,
     ["one_hot", "non-negative", "-1"], ["non-negative"]),
    ("one_hot_too_large", lambda L, F: F.one_hot(I(L, [3]), 3), RuntimeError,
     ["one_hot", "3", "num_classes=3"], ["num_classes"]),
    ("index_too_many", lambda L, F: T(L, 3)[0, 1], IndexError,
     ["index", "too many indices", "(3,)", "1 dimension(s) but 2"], ["too many indices"]),
    ("index_mask_shape", lambda L, F: T(L, 3)[L.tensor([True, False])], IndexError,
     ["index", "mask (2,)", "boolean", "(3,)"], ["shape of the mask"]),
    ("index_float", lambda L, F: T(L, 3)[L.tensor([0.5])], IndexError,
     ["index", "integer or bool", "float32", "(3,)"], ["tensors used as indices"]),
    ("reshape_negative", lambda L, F: T(L, 2, 3).reshape(-2, 3), RuntimeError,
     ["reshape", "-2", "(-2, 3)", "(2, 3)", "-1"], ["invalid"]),
    ("expand_minus_one_in_front", lambda L, F: T(L, 3).expand(-1, 3), RuntimeError,
     ["expand", "(3,)", "(-1, 3)", "existing dimension"], []),
    ("split_0d", lambda L, F: T(L).split(1), RuntimeError,
     ["split", "at least a 1-dimensional", "0-d"], ["at least a 1-dimensional"]),
    ("chunk_0d", lambda L, F: T(L).chunk(1), RuntimeError,
     ["chunk", "at least a 1-dimensional", "0-d"], ["at least a 1-dimensional"]),
    ("unbind_0d", lambda L, F: T(L).unbind(), IndexError,
     ["unbind", "0-d", "no dimensions"], ["no dimensions"]),
    ("squeeze_dims_twice", lambda L, F: T(L, 1, 2).squeeze((0, 0)), RuntimeError,
     ["squeeze", "(0, 0)", "(1, 2)", "twice"], []),
    ("sum_dims_twice", lambda L, F: T(L, 2, 3).sum((1, -1)), RuntimeError,
     ["sum", "(1, -1)", "twice", "2 dimension(s)"], ["multiple times"]),
    ("amax_dims_twice", lambda L, F: T(L, 2, 3).amax((1, 1)), RuntimeError,
     ["amax", "(1, 1)", "twice"], ["multiple times"]),
    ("var_integer", lambda L, F: I(L, [1, 2]).var(), RuntimeError,
     ["var", "floating-point", "int64", "(2,)"], ["std and var only support floating"]),
    ("std_integer", lambda L, F: I(L, [1, 2]).std(), RuntimeError,
     ["std", "floating-point", "int64"], ["std and var only support floating"]),
    ("label_smoothing", lambda L, F: F.cross_entropy(T(L, 2, 3), I(L, [0, 1]),
                                                     label_smoothing=2.0), RuntimeError,
     ["cross_entropy", "label_smoothing", "between 0.0 and 1.0", "2.0"],
     ["between 0.0 and 1.0"]),
    ("layer_norm_empty_shape", lambda L, F: F.layer_norm(T(L, 3), ()), RuntimeError,
     ["layer_norm", "normalized_shape", "at least 1-dimensional", "(3,)"],
     ["at least 1-dimensional"]),
    ("embedding_1d_weight", lambda L, F: F.embedding(I(L, [1]), T(L, 3)), RuntimeError,
     ["embedding", "2-D", "(3,)"], ["must be 2-D"]),
    ("bool_of_many", lambda L, F: bool(T(L, 2)), RuntimeError,
     ["bool", "(2,)", "ambiguous", ".any()"], ["ambiguous"]),
    ("int_of_many", lambda L, F: int(T(L, 2)), ValueError,
     ["int", "only one element", "(2,)"], ["only one element"]),
    ("float_of_many", lambda L, F: float(T(L, 2)), ValueError,
     ["float", "only one element", "(2,)"], ["only one element"]),
    ("arange_zero_step", lambda L, F: L.arange(0, 5, 0), RuntimeError,
     ["arange", "step must be nonzero"], ["step must be nonzero"]),
    ("eye_negative", lambda L, F: L.eye(-1), RuntimeError,
     ["eye", "greater or equal to 0", "-1"], ["greater or equal to 0"]),
    ("inplace_bool_sub", lambda L, F: L.tensor([True, False]).sub_(L.tensor([True, True])),
     RuntimeError, ["sub", "Subtraction", "bool", "(2,)"], ["Subtraction"]),
    ("inplace_float_sub_bool", lambda L, F: T(L, 2).__isub__(L.tensor([True, True])),
     RuntimeError, ["sub", "Subtraction", "bool", "(2,)"], ["Subtraction"]),
    ("cross_entropy_integer_logits", lambda L, F: F.cross_entropy(I(L, [[1, 2]]), I(L, [0])),
     NotImplementedError, ["cross_entropy", "not implemented", "int64", "(1, 2)"],
     ["not implemented for"]),
    ("nll_loss_integer_input", lambda L, F: F.nll_loss(I(L, [[1, 2]]), I(L, [0])),
     NotImplementedError, ["nll_loss", "not implemented", "int64", "(1, 2)"],
     ["not implemented for"]),
    ("maximum_number", lambda L, F: L.maximum(T(L, 3), 0.5), TypeError,
     ["maximum", "tensors", "Tensor and float", "clamp"], []),
    ("minimum_number", lambda L, F: L.minimum(T(L, 3), 0.5), TypeError,
     ["minimum", "tensors", "Tensor and float"], []),
]

@pytest.mark.parametrize("name, code, exc, fragments, common", CASES,
                         ids=[c[0] for c in CASES])
@pytest.mark.parametrize("lib", LIBS)
def test_error_message(lib, name, code, exc, fragments, common):
    with pytest.raises(exc) as info:
        code(lib, FUNCTIONAL[lib])
    message = str(info.value)
    for phrase in common:
        assert phrase.lower() in message.lower(), f"{phrase!r} not in {message!r}"
    if lib is mg:
        missing = [f for f in fragments if f not in message]
        assert not missing, f"{missing} not in {message!r}"


# --------------------------------------------------------------------------- saved, then modified
@pytest.mark.parametrize("lib", LIBS)
def test_saved_tensor_modified_in_place_is_caught_at_backward(lib):
    a = T(lib, 3, 4, requires_grad=True)
    h = a * 2
    y = h.sin()                 # SinBackward saves h
    h.mul_(3)                   # ...which is then changed
    g = T(lib, 3, 4, seed=1)
    with pytest.raises(RuntimeError) as info:
        y.backward(g)
    message = str(info.value)
    if lib is mg:
        for phrase in ("SinBackward", "(3, 4)", "modified by an inplace operation", "version 0", "clone()"):
            assert phrase in message, f"{phrase!r} not in {message!r}"
    else:
        assert "modified by an inplace operation" in message


@pytest.mark.parametrize("lib", LIBS)
def test_saved_output_modified_in_place_is_caught(lib):
    a = T(lib, 3, requires_grad=True)
    y = a.exp()                 # ExpBackward saves its output y
    with lib.no_grad():
        y += 1
    with pytest.raises(RuntimeError) as info:
        y.backward(T(lib, 3, seed=1))
    if lib is mg:
        assert "ExpBackward" in str(info.value) and "(3,)" in str(info.value)


@pytest.mark.parametrize("lib", LIBS)
def test_modifying_a_detached_alias_of_a_saved_tensor_is_caught(lib):
    a = T(lib, 3, requires_grad=True)
    h = a * 2
    y = h * h
    h.detach().zero_()          # the alias shares memory and the version counter
    with pytest.raises(RuntimeError) as info:
        y.backward(T(lib, 3, seed=1))
    if lib is mg:
        assert "MulBackward" in str(info.value)


@pytest.mark.parametrize("write", ["view_mul_", "fill_", "zero_", "copy_", "copy_from_graph",
                                   "setitem", "setitem_array", "relu_inplace"])
def test_inplace_writes_on_graph_tensors_are_recorded_as_torch(write):
    """In-place changes of tensors in the graph — and of their views — are differentiable,
    as in torch: the gradient of every leaf is torch's, for a random upstream gradient."""
    def program(L):
        a = L.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
        w = L.tensor(np.linspace(-1, 1, 4), requires_grad=True)
        h = a * 3
        if write == "view_mul_":
            h[0].mul_(w)
        elif write == "fill_":
            h[1:].fill_(2.0)
        elif write == "zero_":
            h[:, 1].zero_()
        elif write == "copy_":
            h.copy_(w * w)                      # broadcast
        elif write == "copy_from_graph":
            h = L.zeros(3, 4, dtype=L.float64)
            h.copy_(a * w)                      # a buffer filled from the graph
        elif write == "setitem":
            h[1, 2] = w[0] * 5
        elif write == "setitem_array":
            h[L.tensor([0, 2])] = w
        else:
            L.nn.functional.relu(h - 10, inplace=True)
        up = L.tensor(np.sin(np.arange(12.0)).reshape(3, 4))
        (h * up).sum().backward()
        return [t.grad for t in (a, w)]

    for mine, ref in zip(program(mg), program(torch)):
        if ref is None:
            assert mine is None or not mine.detach().numpy().any()
        else:
            np.testing.assert_allclose(mine.detach().numpy(), ref.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- custom Functions
def make_bad_shape(base):
    class BadShape(base):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.t()               # (4, 3) for a (3, 4) input
    return BadShape


def make_bad_count(base):
    class BadCount(base):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, grad):
            return grad                   # one gradient for two arguments
    return BadCount


@pytest.mark.parametrize("lib", LIBS)
def test_custom_function_gradient_of_the_wrong_shape(lib):
    BadShape = make_bad_shape(lib.autograd.Function)
    y = BadShape.apply(T(lib, 3, 4, requires_grad=True))
    with pytest.raises(RuntimeError) as info:
        y.backward(T(lib, 3, 4, seed=1))
    message = str(info.value)
    assert "BadShapeBackward" in message           # torch names the node too
    if lib is mg:
        for phrase in ("(4, 3)", "(3, 4)", "argument 0", "its input's shape"):
            assert phrase in message, f"{phrase!r} not in {message!r}"


@pytest.mark.parametrize("lib", LIBS)
def test_custom_function_wrong_number_of_gradients(lib):
    BadCount = make_bad_count(lib.autograd.Function)
    y = BadCount.apply(T(lib, 3, requires_grad=True), T(lib, 3, requires_grad=True, seed=1))
    with pytest.raises(RuntimeError) as info:
        y.backward(T(lib, 3, seed=2))
    message = str(info.value)
    assert "BadCountBackward" in message
    if lib is mg:
        assert re.search(r"returned 1 gradient\(s\) but forward took 2 argument\(s\)", message)


# --------------------------------------------------------------------------- freed graph
@pytest.mark.parametrize("lib", LIBS)
def test_second_backward_message(lib):
    a = T(lib, 3, requires_grad=True)
    y = a.exp()
    y.backward(T(lib, 3, seed=1))
    with pytest.raises(RuntimeError) as info:
        y.backward(T(lib, 3, seed=1))
    message = str(info.value)
    assert "second time" in message and "retain_graph=True" in message
    if lib is mg:
        assert "ExpBackward" in message
