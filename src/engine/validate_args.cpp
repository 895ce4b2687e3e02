#include "engine/validate_args.h"

#include "core/alias_check.h"

#include <initializer_list>
#include <string>

namespace gpurnn {
namespace {

std::string describe(ConstTensorView v) {
  return to_string(v.shape()) + " " + to_string(v.dtype()) + " on " + to_string(v.device());
}

// A tensor argument that must be present with exactly this shape, dtype and device.
void check_tensor(const char* call, const char* arg, ConstTensorView v, const Shape& shape,
                  DType dtype, Device device) {
  check_argument(!v.empty(), call, arg, [&] {
    return "is required but empty (null data), expected " + to_string(shape) + " " + to_string(dtype);
  });
  check_argument(v.shape() == shape && v.dtype() == dtype && v.device() == device, call, arg, [&] {
    return "is " + describe(v) + ", expected " + to_string(shape) + " " + to_string(dtype) + " on " + to_string(device);
  });
}

// The same, but an empty view (omitted) is accepted.
void check_optional(const char* call, const char* arg, ConstTensorView v, const Shape& shape,
                    DType dtype, Device device) {
  if (!v.empty()) check_tensor(call, arg, v, shape, dtype, device);
}

void check_absent(const char* call, const char* arg, ConstTensorView v, const char* why) {
  check_argument(v.empty(), call, arg, [&] { return std::string("must be omitted: ") + why; });
}

Shape state_shape(const RNNDescriptor& d, const SequenceShape& s, std::int64_t units) {
  return {static_cast<std::int64_t>(d.num_layers) * d.num_directions(), s.batch, units};
}

void check_lengths(const char* call, ConstTensorView lengths, const SequenceShape& s) {
  if (lengths.empty()) return;
  check_tensor(call, "lengths", lengths, {s.batch}, DType::i32, Device::cpu());
  const std::int32_t* len = lengths.data_as<std::int32_t>();
  for (std::int64_t b = 0; b < s.batch; ++b) {
    check_argument(len[b] >= 1 && len[b] <= s.seq_len, call, "lengths", [&] {
      return "has lengths[" + std::to_string(b) + "] = " + std::to_string(len[b]) + ", expected a value in [1, " +
             std::to_string(s.seq_len) + "] (T)";
    });
  }
}

// States shared by forward (h0, c0, hn, cn) and backward (dhn, dcn, dh0, dc0).
void check_states(const char* call, const RNNWeights& w, const SequenceShape& s,
                  const char* h_name, ConstTensorView h, const char* c_name, ConstTensorView c) {
  const RNNDescriptor& d = w.descriptor();
  check_optional(call, h_name, h, state_shape(d, s, d.state_size()), w.dtype(), w.device());
  if (d.has_cell_state()) {
    check_optional(call, c_name, c, state_shape(d, s, d.hidden_size), w.dtype(), w.device());
  } else {
    check_absent(call, c_name, c, "only an LSTM has a cell state");
  }
}


}  // namespace

Shape sequence_tensor_shape(const SequenceShape& s, std::int64_t features) {
  return s.batch_first ? Shape{s.batch, s.seq_len, features} : Shape{s.seq_len, s.batch, features};
}

void check_weights(const char* call, const RNNWeights& weights, Device device) {
  check_argument(weights.flat().defined(), call, "weights", "is empty (default-constructed)");
  check_argument(weights.device() == device, call, "weights",
                 [&] { return "are on " + to_string(weights.device()) + ", expected " + to_string(device); });
}

SequenceShape sequence_shape_of(const char* call, const char* arg, ConstTensorView x,
                                std::int64_t input_size, bool batch_first) {
  check_argument(!x.empty(), call, arg, "is required but empty (null data)");
  const char* layout = batch_first ? "[B, T, " : "[T, B, ";
  check_argument(x.rank() == 3, call, arg, [&] {
    return "has shape " + to_string(x.shape()) + ", expected rank 3 " + layout + std::to_string(input_size) + "]";
  });
  check_argument(x.dim(2) == input_size, call, arg, [&] {
    return "has shape " + to_string(x.shape()) + ", expected " + layout + std::to_string(input_size) +
           "] (input_size = " + std::to_string(input_size) + ")";
  });
  SequenceShape s;
  s.batch_first = batch_first;
  s.seq_len = batch_first ? x.dim(1) : x.dim(0);
  s.batch = batch_first ? x.dim(0) : x.dim(1);
  check_argument(s.seq_len > 0 && s.batch > 0, call, arg,
                 [&] { return "has shape " + to_string(x.shape()) + ", expected at least one step and one sequence"; });
  return s;
}

void check_forward(const RNNWeights& w, const ForwardArgs& a, const SequenceShape& s) {
  const char* call = "forward";
  const RNNDescriptor& d = w.descriptor();
  check_tensor(call, "x", a.x, sequence_tensor_shape(s, d.input_size), w.dtype(), w.device());
  check_lengths(call, a.lengths, s);
  check_states(call, w, s, "h0", a.h0, "c0", a.c0);
  check_tensor(call, "y", a.y, sequence_tensor_shape(s, d.output_size()), w.dtype(), w.device());
  check_states(call, w, s, "hn", a.hn, "cn", a.cn);
  detail::check_no_alias(call, {{"weights", w.flat().view(), false}, {"x", a.x, false},
                        {"lengths", a.lengths, false}, {"h0", a.h0, false}, {"c0", a.c0, false},
                        {"y", a.y, true}, {"hn", a.hn, true}, {"cn", a.cn, true},
                        {"workspace", a.workspace, true}, {"reserve", a.reserve, true}});
}

void check_backward_data(const RNNWeights& w, const BackwardDataArgs& a, const SequenceShape& s) {
  const char* call = "backward_data";
  const RNNDescriptor& d = w.descriptor();
  check_tensor(call, "dx", a.dx, sequence_tensor_shape(s, d.input_size), w.dtype(), w.device());
  check_lengths(call, a.lengths, s);
  check_tensor(call, "dy", a.dy, sequence_tensor_shape(s, d.output_size()), w.dtype(), w.device());
  check_states(call, w, s, "dhn", a.dhn, "dcn", a.dcn);
  check_states(call, w, s, "dh0", a.dh0, "dc0", a.dc0);
  detail::check_no_alias(call, {{"weights", w.flat().view(), false}, {"lengths", a.lengths, false},
                        {"dy", a.dy, false}, {"dhn", a.dhn, false}, {"dcn", a.dcn, false},
                        {"dx", a.dx, true}, {"dh0", a.dh0, true}, {"dc0", a.dc0, true},
                        {"workspace", a.workspace, true}, {"reserve", a.reserve, true}});
}

void check_backward_weights(const RNNWeights& w, const BackwardWeightsArgs& a,
                            const SequenceShape& s, const RNNWeights& grads) {
  const char* call = "backward_weights";
  check_tensor(call, "x", a.x, sequence_tensor_shape(s, w.descriptor().input_size), w.dtype(),
               w.device());
  check_argument(grads.flat().defined(), call, "grads", "is empty (default-constructed)");
  // Dropout does not change the parameters, so it may differ.
  RNNDescriptor grads_desc = grads.descriptor();
  grads_desc.dropout = w.descriptor().dropout;
  check_argument(grads_desc == w.descriptor(), call, "grads", [&] {
    return "has descriptor " + to_string(grads.descriptor()) + ", expected " + to_string(w.descriptor());
  });
  // Half weights have f32 gradients (the README's precision rule).
  const DType grads_dtype = is_half(w.dtype()) ? DType::f32 : w.dtype();
  check_argument(grads.dtype() == grads_dtype && grads.device() == w.device(), call, "grads", [&] {
    return std::string("is ") + to_string(grads.dtype()) + " on " + to_string(grads.device()) + ", expected " +
           to_string(grads_dtype) + " on " + to_string(w.device()) +
           (is_half(w.dtype()) ? std::string(" (the gradients of ") + to_string(w.dtype()) + " weights are f32)"
                               : std::string());
  });
  detail::check_no_alias(call, {{"weights", w.flat().view(), false}, {"x", a.x, false},
                        {"reserve", a.reserve, false}, {"workspace", a.workspace, true},
                        {"grads", grads.flat().view(), true}});
}

void check_buffer(const char* call, const char* arg, ConstTensorView buffer, std::size_t needed,
                  Device device) {
  if (needed == 0) return;
  check_argument(!buffer.empty(), call, arg, [&] {
    return "is required but empty (null data), expected at least " + std::to_string(needed) + " bytes";
  });
  check_argument(buffer.device() == device, call, arg,
                 [&] { return "is on " + to_string(buffer.device()) + ", expected " + to_string(device); });
  check_argument(buffer.bytes() >= needed, call, arg, [&] {
    return "has " + std::to_string(buffer.bytes()) + " bytes, expected at least " + std::to_string(needed);
  });
}

}  // namespace gpurnn
