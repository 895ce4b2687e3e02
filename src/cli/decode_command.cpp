// `gpurnn run --checkpoint FILE --text INPUTS`: decodes each line of INPUTS with a seq2seq or
// pointer-network checkpoint of `gpurnn train` (translate, sort, convex-hull, tsp), greedy or
// with a beam, and writes one output line per input line (to --output, atomically, or stdout).

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/device_choice.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "io/atomic_file.h"
#include "tasks/task_registry.h"

namespace gpurnn::cli {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) throw Error(ErrorCode::io_error, "--text " + path + ": cannot open it for reading");
    in = &file;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  if (lines.empty()) throw Error(ErrorCode::invalid_argument, "--text " + path + ": has no input lines");
  return lines;
}

}  // namespace

int run_decode(const RunOptions& o) {
  if (o.text_input.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "--checkpoint needs --text: a file with one input per line ('-' for stdin)");
  }
  const train::CheckpointInfo info = train::read_checkpoint_info(o.checkpoint);
  if (info.model_kind != "seq2seq") {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": holds a " + info.model_kind +
                                                 " model of task '" + info.task +
                                                 "'; gpurnn run decodes the output-sequence tasks (translate, sort, "
                                                 "convex-hull, tsp)");
  }
  train::TaskOptions task_options;
  task_options.eval_examples = 1;  // the task only parses and formats here
  const auto setting = info.metadata.find("task.reverse_source");
  task_options.reverse_source = setting != info.metadata.end() && setting->second == "1";
  const std::unique_ptr<train::Task> task = train::make_task(info.task, task_options);
  const auto* sequence_task = dynamic_cast<const train::SequenceTask*>(task.get());
  if (sequence_task == nullptr) {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": task '" + info.task +
                                                 "' has no output sequences to decode");
  }
  train::Seq2SeqConfig config = train::seq2seq_config_from_metadata(info.metadata, o.checkpoint);
  config.backend = to_string(resolve_device(o.device));
  train::Seq2SeqModel model(config);
  train::load_model_parameters(o.checkpoint, model);

  train::DecodeOptions decoding;
  decoding.beam = o.beam > 0 ? o.beam : 1;
  decoding.length_penalty = o.length_penalty;
  check_argument(o.beam >= 0, "gpurnn run", "--beam", "must be >= 1 (0: greedy), got " + std::to_string(o.beam));
  check_argument(o.length_penalty >= 0, "gpurnn run", "--length-penalty", "must be >= 0");

  std::ostringstream out;
  const std::vector<std::string> lines = read_lines(o.text_input);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      const std::vector<std::int32_t> output = model.decode(sequence_task->parse_input(lines[i]), decoding).at(0);
      out << sequence_task->format_output(lines[i], output) << "\n";
    } catch (const Error& e) {
      throw Error(e.code(), "--text " + o.text_input + " line " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  const std::string text = out.str();
  if (o.output.empty()) {
    std::cout << text;
  } else {
    io::detail::write_file_atomically(o.output, {{text.data(), text.size()}});
  }
  std::cerr << "gpurnn run: " << info.task << " checkpoint " << o.checkpoint << " (step " << info.step << "), "
            << lines.size() << " input(s) decoded " << (decoding.beam > 1 ? "with beam " + std::to_string(decoding.beam) : std::string("greedily"))
            << " on " << config.backend << (o.output.empty() ? std::string() : ", written to " + o.output) << "\n";
  return 0;
}

}  // namespace gpurnn::cli
