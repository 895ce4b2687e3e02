// libFuzzer entry point for a line of `gpurnn run --checkpoint M --text FILE`: the first byte picks
// the task (sort, convex-hull, tsp, translate), the rest up to a newline is the line. A
// gpurnn::Error is the expected outcome for text the task cannot read; an accepted line gives a
// one-row batch of 1 to 10,000 finite input steps (issue 34: non-finite numbers are refused), and
// any decoded output of in-range positions or tokens formats without error.
#include <cmath>
#include <memory>
#include <string>

#include "fuzz_support.h"
#include "gpurnn/error.h"
#include "gpurnn/train/task.h"
#include "tasks/task_registry.h"

namespace {

const gpurnn::train::SequenceTask& task(int which) {
  static const char* const names[] = {"sort", "convex-hull", "tsp", "translate"};
  static std::unique_ptr<gpurnn::train::Task> tasks[4];
  if (!tasks[which]) {
    gpurnn::train::TaskOptions options;
    options.eval_examples = 1;
    options.batch = 2;
    tasks[which] = gpurnn::train::make_task(names[which], options);
  }
  return dynamic_cast<const gpurnn::train::SequenceTask&>(*tasks[which]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gpurnn::fuzz::check;
  if (size == 0) return 0;
  const gpurnn::train::SequenceTask& t = task(data[0] % 4);
  std::string line(reinterpret_cast<const char*>(data + 1), size - 1);
  line = line.substr(0, line.find('\n'));
  gpurnn::train::Batch input;
  try {
    input = t.parse_input(line);
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // not an input of this task: fine
  }
  check(input.rows() == 1 && input.steps() >= 1 && input.steps() <= 10000);
  if (gpurnn::is_floating(input.inputs.dtype())) {
    const gpurnn::Tensor wide = input.inputs.to(gpurnn::DType::f64);
    for (std::int64_t k = 0; k < wide.numel(); ++k) check(std::isfinite(wide.data_as<double>()[k]));
  }
  // Outputs a decoder could give: positions of the input (its end marker included) or token ids,
  // taken from the line's bytes; the task formats whatever it is given.
  const gpurnn::train::ModelInterface io = t.interface();
  const std::int64_t range = io.target == gpurnn::train::TargetKind::pointers ? input.steps() : io.output_size;
  std::vector<std::int32_t> output;
  for (std::size_t k = 0; k < line.size() && k < 64 && range > 0; ++k) {
    output.push_back(static_cast<std::int32_t>(static_cast<unsigned char>(line[k]) % range));
  }
  try {
    (void)t.format_output(line, output);
  } catch (const gpurnn::Error& error) {
    std::fprintf(stderr, "a decoded output did not format: %s\n", error.what());
    __builtin_trap();
  }
  return 0;
}
