// Seq2SeqModel's checkpoint metadata (architecture and settings, and the config they describe)
// and its teacher-forcing schedule.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "train/checkpoint_metadata.h"
#include "train/rnn_layer.h"
#include "train/seq2seq_parts.h"

namespace gpurnn::train {

using namespace seq2seq_detail;

KeyValues Seq2SeqModel::architecture() const {
  const Seq2SeqConfig& c = config_;
  return {{"model", "seq2seq"},
          {"cell", to_string(c.cell)},
          {"hidden", std::to_string(c.hidden)},
          {"layers", std::to_string(c.layers)},
          {"bidirectional", c.bidirectional ? "1" : "0"},
          {"embedding", std::to_string(c.embedding)},
          {"attention", to_string(c.attention)},
          {"attention_size", std::to_string(c.attention_size)},
          {"dtype", to_string(c.dtype)},
          {"input", to_string(c.io.input)},
          {"input_size", std::to_string(c.io.input_size)},
          {"target", to_string(c.io.target)},
          {"output_size", std::to_string(c.io.output_size)},
          {"end_output", std::to_string(c.io.end_output)},
          {"exclusive_pointers", c.io.exclusive_pointers ? "1" : "0"},
          {"max_output", std::to_string(c.io.max_output)}};
}

KeyValues Seq2SeqModel::settings() const {
  return {{"dropout", std::to_string(config_.dropout)},
          {"teacher_forcing", std::to_string(config_.teacher_forcing)},
          {"teacher_forcing_final", std::to_string(config_.teacher_forcing_final)}};
}

Seq2SeqConfig seq2seq_config_from_metadata(const std::map<std::string, std::string>& metadata,
                                           const std::string& origin) {
  const auto value = [&](const std::string& key) -> const std::string& {
    const auto it = metadata.find(key);
    if (it == metadata.end()) {
      throw Error(ErrorCode::io_error, "'" + origin + "' has no metadata entry '" + key + "' (not a seq2seq checkpoint?)");
    }
    return it->second;
  };
  const auto number = [&](const std::string& key) {
    return checkpoint_detail::parse_number(origin, key, value(key));
  };
  const auto integer = [&](const std::string& key, std::int64_t min = 0,
                           std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
    return checkpoint_detail::parse_int(origin, key, value(key), min, max);
  };
  const auto flag = [&](const std::string& key) { return integer(key, 0, 1) != 0; };
  Seq2SeqConfig c;
  c.cell = parse_cell_kind(value("cell"));
  c.hidden = integer("hidden", 1);
  c.layers = integer("layers", 1);
  c.bidirectional = flag("bidirectional");
  c.embedding = integer("embedding");
  c.attention = parse_attention_score(value("attention"), "'" + origin + "' metadata 'attention'");
  c.attention_size = integer("attention_size");
  c.dtype = parse_dtype(value("dtype"));
  c.io.input = parse_input_kind(value("input"), "'" + origin + "' metadata 'input'");
  c.io.input_size = integer("input_size", 1);
  c.io.target = parse_target_kind(value("target"), "'" + origin + "' metadata 'target'");
  c.io.output_size = integer("output_size");
  c.io.end_output = static_cast<std::int32_t>(
      integer("end_output", std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  c.io.exclusive_pointers = flag("exclusive_pointers");
  c.io.max_output = integer("max_output");
  c.dropout = number("dropout");
  c.teacher_forcing = number("teacher_forcing");
  c.teacher_forcing_final = number("teacher_forcing_final");
  return c;
}

double Seq2SeqModel::teacher_forcing_at(std::int64_t step, std::int64_t total_steps) const {
  if (total_steps <= 1) return config_.teacher_forcing;
  const double progress = std::clamp(static_cast<double>(step) / static_cast<double>(total_steps - 1), 0.0, 1.0);
  return config_.teacher_forcing + (config_.teacher_forcing_final - config_.teacher_forcing) * progress;
}

}  // namespace gpurnn::train
