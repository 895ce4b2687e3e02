#include "tasks/new_batch.h"

namespace gpurnn::train::tasks {

Batch new_batch(const ModelInterface& interface, std::int64_t steps, std::int64_t rows) {
  Batch batch;
  if (interface.input == InputKind::tokens) {
    batch.inputs = Tensor::zeros({steps, rows}, DType::i32);
  } else {
    batch.inputs = Tensor::zeros({steps, rows, interface.input_size}, DType::f32);
  }
  switch (interface.target) {
    case TargetKind::step_classes:
      batch.targets = Tensor::empty({steps, rows}, DType::i32);
      batch.targets.fill(kIgnoreTarget);
      break;
    case TargetKind::step_values:
      batch.targets = Tensor::zeros({steps, rows, interface.output_size}, DType::f32);
      break;
    case TargetKind::final_classes:
      batch.targets = Tensor::empty({rows}, DType::i32);
      batch.targets.fill(kIgnoreTarget);
      break;
    case TargetKind::final_values:
      batch.targets = Tensor::zeros({rows, interface.output_size}, DType::f32);
      break;
    case TargetKind::output_tokens:
    case TargetKind::pointers:
      // Output sequences have their own length: their sources build them (data/pair_source.h).
      throw Error(ErrorCode::invalid_argument,
                  std::string("new_batch: ") + to_string(interface.target) +
                      " targets are output sequences, whose length is not the input's; use pair_batch");
  }
  batch.lengths = Tensor::zeros({rows}, DType::i32);
  return batch;
}

}  // namespace gpurnn::train::tasks
