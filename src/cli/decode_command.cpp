// `gpurnn run --checkpoint FILE --text INPUTS`: decodes each line of INPUTS with a seq2seq or
// pointer-network checkpoint of `gpurnn train` (translate, sort, convex-hull, tsp), greedy or
// with a beam, and writes one output line per input line (to --output, atomically, or stdout).

#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "core/quoted.h"
#include "cli/device_choice.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "io/atomic_file.h"
#include "io/mapped_file.h"
#include "tasks/task_registry.h"

namespace gpurnn::cli {
namespace {

// What one run decodes at most, so that an input that never ends (`--text -` fed from /dev/zero)
// is refused at once instead of filling memory: a line of at most kMaxLineBytes bytes, and at
// most kMaxLines lines (blank ones included). Lines are decoded as they are read, so memory holds
// one line and the outputs so far.
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // 1 MiB
constexpr std::size_t kMaxLines = 100000;

// The lines of --text: a mapped regular file, or stdin ("-") read in blocks.
class InputLines {
 public:
  explicit InputLines(const std::string& path) : path_(path) {
    if (path == "-") return;
    try {  // a regular file only: a FIFO without a writer once hung the open
      file_.emplace(path);
    } catch (const Error& e) {
      throw Error(e.code(), "--text " + path + ": " + e.what());
    }
    data_ = reinterpret_cast<const char*>(file_->data());
    size_ = file_->size();
  }

  // The next line that is not blank, without its "\n" or "\r\n"; false at the end of the input.
  // Error(invalid_argument) naming the line and the limit for a line longer than kMaxLineBytes
  // or a line past kMaxLines.
  bool next(std::string& line) {
    while (next_line(line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) return true;
    }
    return false;
  }

  // The number of the line next() returned last (from 1).
  std::size_t number() const { return number_; }

  // A file's bytes were its own throughout (MappedFile::check_unchanged); nothing for stdin.
  void check_unchanged() const {
    if (!file_) return;
    try {
      file_->check_unchanged();
    } catch (const Error& e) {
      throw Error(e.code(), "--text " + path_ + ": " + e.what());
    }
  }

 private:
  bool next_line(std::string& line) {
    line.clear();
    bool started = false;
    for (;;) {
      if (position_ == size_ && !refill()) break;
      started = true;
      const char* begin = data_ + position_;
      const void* newline = std::memchr(begin, '\n', size_ - position_);
      const std::size_t n = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - begin)
                                    : size_ - position_;
      if (line.size() + n > kMaxLineBytes) {
        throw Error(ErrorCode::invalid_argument,
                    "--text " + path_ + " line " + std::to_string(number_ + 1) + ": is longer than the limit of " +
                        std::to_string(kMaxLineBytes) + " bytes (1 MiB) per input line");
      }
      line.append(begin, n);
      position_ += n;
      if (newline != nullptr) {
        ++position_;
        break;
      }
    }
    if (!started) return false;
    if (++number_ > kMaxLines) {
      throw Error(ErrorCode::invalid_argument, "--text " + path_ + " line " + std::to_string(number_) +
                                                   ": more lines than the limit of " + std::to_string(kMaxLines) +
                                                   " input lines (blank ones included) decoded in one run");
    }
    return true;
  }

  // The next block of stdin; false at its end (and always for a file, read whole).
  bool refill() {
    if (file_ || at_end_) return false;
    const std::streamsize n = std::cin.rdbuf()->sgetn(block_.data(), static_cast<std::streamsize>(block_.size()));
    if (n <= 0) {
      at_end_ = true;
      return false;
    }
    data_ = block_.data();
    size_ = static_cast<std::size_t>(n);
    position_ = 0;
    return true;
  }

  std::string path_;
  std::optional<io::detail::MappedFile> file_;
  std::vector<char> block_ = std::vector<char>(std::size_t{1} << 16);
  const char* data_ = nullptr;
  std::size_t size_ = 0;      // of the file, or of the stdin block
  std::size_t position_ = 0;  // in data_
  std::size_t number_ = 0;
  bool at_end_ = false;
};

// Decoding costs grow with the input's length (attention over every position at every output
// step, beam times): a line may hold at most 10x the points the model was trained on, and at most
// kMaxPositions positions (characters for translate) where the checkpoint records no point count.
constexpr std::int64_t kMaxBeam = 256;
constexpr std::int64_t kMaxPositions = 1000;

struct InputLimit {
  std::int64_t positions;
  std::string why;
};

// `metadata` is read_checkpoint_info's, whose task.points, when present, is a checked decimal >= 1.
InputLimit input_limit(const std::map<std::string, std::string>& metadata) {
  const auto points = metadata.find("task.points");
  const std::int64_t n = points == metadata.end() ? 0 : std::stoll(points->second);
  if (n > 0 && n <= kMaxPositions) {
    return {10 * n + 1, "10x the " + std::to_string(n) + " points the model was trained on, and an end marker"};
  }
  return {kMaxPositions, "the limit for a model without a trained point count"};
}

}  // namespace

int run_decode(const RunOptions& o) {
  if (o.text_input.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "--checkpoint needs --text: a file with one input per line ('-' for stdin)");
  }
  const train::CheckpointInfo info = train::read_checkpoint_info(o.checkpoint);
  if (info.model_kind != "seq2seq") {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": holds a " + gpurnn::detail::escaped(info.model_kind) +
                                                 " model of task " + gpurnn::detail::quoted(info.task) +
                                                 "; gpurnn run decodes the output-sequence tasks (translate, sort, "
                                                 "convex-hull, tsp)");
  }
  train::TaskOptions task_options;
  task_options.eval_examples = 1;  // the task only parses and formats here
  const auto setting = info.metadata.find("task.reverse_source");
  task_options.reverse_source = setting != info.metadata.end() && setting->second == "1";
  const std::unique_ptr<train::Task> task = train::make_task(info.task, task_options);
  const auto* sequence_task = dynamic_cast<const train::SequenceTask*>(task.get());
  if (sequence_task == nullptr) {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": task " + gpurnn::detail::quoted(info.task) +
                                                 " has no output sequences to decode");
  }
  train::Seq2SeqConfig config = train::seq2seq_config_from_metadata(info.metadata, o.checkpoint);
  config.backend = to_string(resolve_device(o.device));
  config.threads = o.threads;
  train::Seq2SeqModel model(config);
  train::load_model_parameters(o.checkpoint, model);

  train::DecodeOptions decoding;
  decoding.beam = o.beam > 0 ? o.beam : 1;
  decoding.length_penalty = o.length_penalty;
  check_argument(o.beam >= 0 && o.beam <= kMaxBeam, "gpurnn run", "--beam",
                 "must be in [1, " + std::to_string(kMaxBeam) + "] (0: greedy), got " + std::to_string(o.beam));
  check_argument(o.length_penalty >= 0, "gpurnn run", "--length-penalty", "must be >= 0");

  const InputLimit limit = input_limit(info.metadata);
  std::ostringstream out;
  InputLines lines(o.text_input);
  std::string line;
  std::size_t decoded = 0;
  while (lines.next(line)) {
    try {
      const train::Batch input = sequence_task->parse_input(line);
      check_argument(input.steps() <= limit.positions, "gpurnn run", "--text",
                     "holds " + std::to_string(input.steps()) + " input positions, more than the " +
                         std::to_string(limit.positions) + " decoded per line (" + limit.why + ")");
      const std::vector<std::int32_t> output = model.decode(input, decoding).at(0);
      out << sequence_task->format_output(line, output) << "\n";
      ++decoded;
    } catch (const Error& e) {
      lines.check_unchanged();  // bytes of a file that changed are not worth an error of their own
      throw Error(e.code(), "--text " + o.text_input + " line " + std::to_string(lines.number()) + ": " + e.what());
    }
  }
  lines.check_unchanged();
  if (decoded == 0) throw Error(ErrorCode::invalid_argument, "--text " + o.text_input + ": has no input lines");
  const std::string text = out.str();
  if (o.output.empty()) {
    std::cout << text;
  } else {
    io::detail::write_file_atomically(o.output, {{text.data(), text.size()}});
  }
  std::cerr << "gpurnn run: " << info.task << " checkpoint " << o.checkpoint << " (step " << info.step << "), "
            << decoded << " input(s) decoded " << (decoding.beam > 1 ? "with beam " + std::to_string(decoding.beam) : std::string("greedily"))
            << " on " << config.backend << (o.output.empty() ? std::string() : ", written to " + o.output) << "\n";
  return 0;
}

}  // namespace gpurnn::cli
