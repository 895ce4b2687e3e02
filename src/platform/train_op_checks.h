#pragma once
// Argument checks of the TrainOps calls, shared by every device's implementation so a bad
// argument reads the same everywhere: "TrainOps::<call>: argument '<name>' <what is wrong>,
// expected <what>". Each returns the floating dtype the call computes in. They read no tensor
// data (index ranges are checked where the data is: on the host by cpu, by callers for cuda).

#include "gpurnn/train/ops.h"

namespace gpurnn::train::checks {

// src and dst: one dtype and element count, each on `device` or the host, dst not overlapping src.
void copy(Device device, ConstTensorView src, ConstTensorView dst);
DType linear_forward(Device device, ConstTensorView x, ConstTensorView w, ConstTensorView b,
                     ConstTensorView y);
DType linear_backward(Device device, ConstTensorView x, ConstTensorView w, ConstTensorView dy,
                      ConstTensorView dx, ConstTensorView dw, ConstTensorView db);
DType embedding_forward(Device device, ConstTensorView table, ConstTensorView ids, ConstTensorView y);
DType embedding_backward(Device device, ConstTensorView ids, ConstTensorView dy, ConstTensorView dtable);
// `call` is "TrainOps::dropout_forward" or "TrainOps::dropout_backward"; `in` and `out` have
// one shape; out may be `in` itself (in place) but not overlap it otherwise.
DType dropout(const char* call, Device device, const char* in_name, ConstTensorView in, double p,
              const char* out_name, ConstTensorView out);
DType softmax_cross_entropy(Device device, ConstTensorView logits, ConstTensorView targets,
                            double grad_scale, ConstTensorView dlogits);
DType mean_squared_error(Device device, ConstTensorView pred, ConstTensorView target,
                         ConstTensorView mask, double grad_scale, ConstTensorView dpred);

// Attention (time-major: query [T, B, D], keys/values [S, B, D], scores/weights [T, B, S]).
DType attention_scores(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView scores);
DType attention_scores_backward(Device device, ConstTensorView query, ConstTensorView keys,
                                ConstTensorView dscores, ConstTensorView dquery, ConstTensorView dkeys);
DType attention_context(Device device, ConstTensorView weights, ConstTensorView values,
                        ConstTensorView context);
DType attention_context_backward(Device device, ConstTensorView weights, ConstTensorView values,
                                 ConstTensorView dcontext, ConstTensorView dweights, ConstTensorView dvalues);
DType additive_scores(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                      ConstTensorView scores);
DType additive_scores_backward(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                               ConstTensorView dscores, ConstTensorView dquery, ConstTensorView dkeys,
                               ConstTensorView dv);
// Shapes and dtypes only; the range of lengths is checked where the data is (cpu).
DType mask_scores(Device device, ConstTensorView scores, ConstTensorView lengths, ConstTensorView excluded);
// x of rank >= 1, softmax over its last dimension; y like x, may be x itself.
DType softmax(Device device, ConstTensorView x, ConstTensorView y);
// y, dy, dx of one shape (rank >= 1); dx may be dy itself.
DType softmax_backward(Device device, ConstTensorView y, ConstTensorView dy, ConstTensorView dx);
DType tanh_forward(Device device, ConstTensorView x, ConstTensorView y);
DType tanh_backward(Device device, ConstTensorView y, ConstTensorView dy, ConstTensorView dx);
DType add_scaled(Device device, ConstTensorView x, double alpha, ConstTensorView y);

DType sum_squares(Device device, ConstTensorView x);
DType scale(Device device, ConstTensorView x, double factor);
DType sgd_update(Device device, ConstTensorView param, ConstTensorView grad, ConstTensorView momentum,
                 const SgdHyper& hyper);
DType adam_update(Device device, ConstTensorView param, ConstTensorView grad, ConstTensorView m,
                  ConstTensorView v, const AdamHyper& hyper);

}  // namespace gpurnn::train::checks
