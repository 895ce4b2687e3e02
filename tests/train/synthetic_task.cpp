#include "train/synthetic_task.h"

#include <cstdio>

#include "gpurnn/detail/counter_random.h"
#include "test_support.h"

namespace gpurnn::testing {

train::Batch random_batch(const train::ModelInterface& io, std::int64_t steps, std::int64_t rows,
                          std::uint64_t seed, std::vector<std::uint8_t> carry_state) {
  using train::TargetKind;
  train::Batch b;
  std::vector<std::int32_t> lengths(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) lengths[r] = static_cast<std::int32_t>(steps - r % steps);
  b.lengths = Tensor::from_host<std::int32_t>({rows}, lengths.data());
  auto bits = [&](std::uint64_t stream, std::int64_t i) {
    return detail::random_bits(seed, stream, static_cast<std::uint64_t>(i));
  };
  if (io.input == train::InputKind::tokens) {
    b.inputs = Tensor::empty({steps, rows}, DType::i32);
    for (std::int64_t i = 0; i < steps * rows; ++i) {
      b.inputs.data_as<std::int32_t>()[i] = static_cast<std::int32_t>(bits(1, i) % io.input_size);
    }
  } else {
    b.inputs = random_tensor({steps, rows, io.input_size}, DType::f32, seed, 2);
  }
  const bool step = io.target == TargetKind::step_classes || io.target == TargetKind::step_values;
  const std::int64_t n = step ? steps * rows : rows;
  if (io.target == TargetKind::step_classes || io.target == TargetKind::final_classes) {
    b.targets = Tensor::empty(step ? Shape{steps, rows} : Shape{rows}, DType::i32);
    for (std::int64_t i = 0; i < n; ++i) {
      const bool past_end = step && i / rows >= lengths[i % rows];
      b.targets.data_as<std::int32_t>()[i] =
          past_end ? train::kIgnoreTarget : static_cast<std::int32_t>(bits(3, i) % io.output_size);
    }
  } else {
    b.targets = random_tensor(step ? Shape{steps, rows, io.output_size} : Shape{rows, io.output_size}, DType::f32,
                              seed, 4);
  }
  b.carry_state = std::move(carry_state);
  return b;
}

RandomTask::RandomTask(train::ModelInterface io, std::int64_t steps, std::int64_t rows, std::int64_t eval_batches)
    : io_(io), steps_(steps), rows_(rows), train_(*this, 100, 1000, true), eval_(*this, 900, eval_batches, false) {}

train::Batch RandomTask::Source::batch(std::int64_t index) const {
  std::vector<std::uint8_t> carry;
  if (carry_) carry.assign(static_cast<std::size_t>(task_.rows_), index % 2 == 1 ? 1 : 0);
  return random_batch(task_.io_, task_.steps_, task_.rows_, seed_ + static_cast<std::uint64_t>(index), carry);
}

std::vector<std::pair<std::string, std::string>> RandomTask::report(const train::EvalResult& eval) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", eval.mean_loss);
  return {{"loss", buf}};
}

}  // namespace gpurnn::testing
