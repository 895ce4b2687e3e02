#include "gpurnn/train/trainable.h"

#include "core/quoted.h"
#include "train/placement.h"

namespace gpurnn::train {

Tensor Batch::lengths_on(Device device) const {
  if (!lengths.defined() || device.is_cpu()) return lengths;
  if (device_lengths.defined() && device_lengths.device() == device) return device_lengths;
  return on_device(on_host(lengths), device);
}

std::int64_t TrainableModel::parameter_count() const {
  std::int64_t n = 0;
  for (const Parameter& p : parameters()) n += p.value.numel();
  return n;
}

void TrainableModel::zero_grad() {
  for (Parameter& p : parameters()) ops().scale(p.grad, 0.0);
}

const char* to_string(InputKind kind) { return kind == InputKind::tokens ? "tokens" : "features"; }

const char* to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::step_classes: return "step_classes";
    case TargetKind::step_values: return "step_values";
    case TargetKind::final_classes: return "final_classes";
    case TargetKind::final_values: return "final_values";
    case TargetKind::output_tokens: return "output_tokens";
    case TargetKind::pointers: return "pointers";
  }
  return "?";
}

InputKind parse_input_kind(const std::string& text, const std::string& what) {
  for (InputKind k : {InputKind::tokens, InputKind::features}) {
    if (text == to_string(k)) return k;
  }
  throw Error(ErrorCode::invalid_argument, what + " is " + gpurnn::detail::quoted(text) + ", expected tokens or features");
}

TargetKind parse_target_kind(const std::string& text, const std::string& what) {
  for (TargetKind k : {TargetKind::step_classes, TargetKind::step_values, TargetKind::final_classes,
                       TargetKind::final_values, TargetKind::output_tokens, TargetKind::pointers}) {
    if (text == to_string(k)) return k;
  }
  throw Error(ErrorCode::invalid_argument,
              what + " is " + gpurnn::detail::quoted(text) +
                  ", expected step_classes, step_values, final_classes, final_values, output_tokens or pointers");
}

}  // namespace gpurnn::train
