// The safetensors writer: every argument is checked before anything touches the disk, then the
// header (tensors in the caller's order, contiguous offsets, padded with spaces to a multiple
// of 8 bytes as the Python package does) and the tensors' bytes go out through one atomic
// write.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "gpurnn/io/safetensors.h"
#include "io/atomic_file.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the safetensors writer stores tensors' bytes as they are in memory");

namespace gpurnn::io {
namespace {

using ordered_json = nlohmann::ordered_json;

const char* stored_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
    case DType::u8:
      return "U8";
    case DType::bf16:
      return "BF16";
    case DType::f16:
      return "F16";
  }
  return nullptr;
}

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "write_safetensors('" + path + "'): " + what);
}

// JSON strings must be valid UTF-8; nlohmann's dump() says so by throwing.
bool is_valid_utf8(const std::string& text) {
  try {
    (void)ordered_json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

void check_tensors(const std::string& path, const std::vector<NamedTensor>& tensors) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& t = tensors[i];
    const std::string entry = "tensor " + std::to_string(i) + " ('" + t.name + "')";
    if (t.name.empty()) refuse(path, "tensor " + std::to_string(i) + " has an empty name");
    if (t.name == "__metadata__") refuse(path, entry + ": the name '__metadata__' is reserved");
    if (!is_valid_utf8(t.name)) refuse(path, entry + ": the name is not valid UTF-8");
    if (!names.insert(t.name).second) refuse(path, entry + ": duplicate name '" + t.name + "'");
    if (t.tensor.empty()) refuse(path, entry + " is an undefined view (no data)");
    if (!t.tensor.device().is_cpu()) {
      refuse(path, entry + " is on " + to_string(t.tensor.device()) + "; copy it to the CPU first");
    }
  }
}

void check_metadata(const std::string& path, const std::map<std::string, std::string>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (!is_valid_utf8(key)) refuse(path, "metadata key '" + key + "' is not valid UTF-8");
    if (!is_valid_utf8(value)) refuse(path, "metadata value of '" + key + "' is not valid UTF-8");
  }
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  check_tensors(path, tensors);
  check_metadata(path, metadata);

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    const std::uint64_t begin = offset;
    offset += t.tensor.bytes();
    header[t.name] = {
        {"dtype", stored_dtype_name(t.tensor.dtype())},
        {"shape", std::vector<std::int64_t>(t.tensor.shape().begin(), t.tensor.shape().end())},
        {"data_offsets", {begin, offset}}};
  }

  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));

  std::vector<detail::ByteSpan> pieces{{length, sizeof length}, {text.data(), text.size()}};
  for (const NamedTensor& t : tensors) pieces.push_back({t.tensor.data(), t.tensor.bytes()});
  detail::write_file_atomically(path, pieces);
}

}  // namespace gpurnn::io
