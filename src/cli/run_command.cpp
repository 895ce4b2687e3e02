// `gpurnn run`: a PyTorch-layout model from safetensors, inputs and outputs as .npy files,
// with torch.nn.LSTM/GRU/RNN's semantics (packed sequences when lengths are given).

#include <algorithm>
#include <initializer_list>
#include <iostream>

#include "cli/commands.h"
#include "cli/device_choice.h"
#include "cli/output_paths.h"
#include "cli/run_inputs.h"
#include "core/thread_count.h"
#include "gpurnn/io/npy.h"
#include "gpurnn/io/rnn_file.h"
#include "gpurnn/rnn.h"

namespace gpurnn::cli {
int run_run(const RunOptions& o) {
  gpurnn::detail::check_thread_count(o.threads, "gpurnn run", "--threads");
  // Each mode refuses the other's flags rather than ignore them.
  const auto refuse_given = [&](std::initializer_list<const char*> flags, const std::string& why) {
    for (const char* flag : flags) {
      if (std::find(o.given.begin(), o.given.end(), flag) != o.given.end()) {
        throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + why);
      }
    }
  };
  if (!o.checkpoint.empty() && !o.video.empty()) {  // a video checkpoint classifying clips
    refuse_given({"--weights", "--input", "--text", "--h0", "--c0", "--hn", "--cn", "--batch-first", "--prefix",
                  "--cell", "--dtype", "--beam", "--length-penalty"},
                 "does not apply with --checkpoint and --video (classifying clips reads --video and --lengths)");
    check_output_paths({{"--output", o.output}},
                       {{"--checkpoint", o.checkpoint}, {"--video", o.video}, {"--lengths", o.lengths}});
    return run_video(o);
  }
  refuse_given({"--video"}, "applies only with --checkpoint (a checkpoint of gpurnn train video)");
  if (!o.checkpoint.empty()) {
    refuse_given({"--weights", "--input", "--lengths", "--h0", "--c0", "--hn", "--cn", "--batch-first", "--prefix",
                  "--cell", "--dtype"},
                 "does not apply with --checkpoint (decoding a gpurnn train checkpoint reads --text)");
    check_output_paths({{"--output", o.output}}, {{"--checkpoint", o.checkpoint}, {"--text", o.text_input}});
    return run_decode(o);
  }
  refuse_given({"--text", "--beam", "--length-penalty"}, "applies only with --checkpoint (decoding)");
  for (const auto& [flag, value] : {std::pair<const char*, const std::string*>{"--weights", &o.weights},
                                    {"--input", &o.input},
                                    {"--output", &o.output}}) {
    if (value->empty()) {
      throw Error(ErrorCode::invalid_argument, std::string(flag) + " is required (or --checkpoint and --text to decode)");
    }
  }
  // Before any work: every output can be written, and none is another output or an input.
  check_output_paths({{"--output", o.output}, {"--hn", o.hn}, {"--cn", o.cn}},
                     {{"--weights", o.weights}, {"--input", o.input}, {"--lengths", o.lengths}, {"--h0", o.h0},
                      {"--c0", o.c0}});
  const Device device = resolve_device(o.device);
  const DType dtype = parse_compute_dtype(o.dtype, "--dtype");
  BackendOptions backend_options;
  backend_options.num_threads = o.threads;
  io::RNNLoadOptions load;
  load.prefix = o.prefix;
  load.dtype = dtype;
  if (!o.cell.empty()) load.cell = parse_cell_kind(o.cell);

  RNN rnn(io::load_rnn(o.weights, load).to(device), to_string(device), backend_options);
  if (!o.cn.empty() && !rnn.descriptor().has_cell_state()) {
    throw Error(ErrorCode::invalid_argument,
                std::string("--cn: the model is a ") + to_string(rnn.descriptor().cell) +
                    ", which has no cell state (only lstm has one)");
  }

  SequenceInputs in;
  in.batch_first = o.batch_first;
  const Tensor x = read_floating_npy(o.input, "--input", dtype).to(device);
  if (!o.lengths.empty()) in.lengths = read_lengths_npy(o.lengths, "--lengths");  // lengths stay on the host
  if (!o.h0.empty()) in.h0 = read_floating_npy(o.h0, "--h0", dtype).to(device);
  if (!o.c0.empty()) in.c0 = read_floating_npy(o.c0, "--c0", dtype).to(device);

  const RNNOutput out = rnn.forward(x, in);
  io::write_npy(o.output, out.y.to(Device::cpu()));
  if (!o.hn.empty()) io::write_npy(o.hn, out.hn.to(Device::cpu()));
  if (!o.cn.empty()) io::write_npy(o.cn, out.cn.to(Device::cpu()));
  std::cerr << "gpurnn run: " << to_string(rnn.descriptor()) << " on " << to_string(device) << ", x " << to_string(x.shape())
            << " -> y " << to_string(out.y.shape()) << " written to " << o.output << "\n";
  return 0;
}

}  // namespace gpurnn::cli
