// The safetensors reader. Design: the whole file is validated once, up front (parse_file), into
// a list of records whose byte ranges are proven to lie inside the data section and to tile it;
// after that every read is a bounds-safe memcpy of the stored bytes (F16 and BF16 included: they
// are DType::f16 and bf16, so a half file stays half). The JSON header is parsed (in linear time,
// with duplicate keys caught) by io/safetensors_header.
#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/quoted.h"
#include "gpurnn/io/safetensors.h"
#include "io/mapped_file.h"
#include "io/safetensors_header.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the safetensors reader copies little-endian data as is");

namespace gpurnn::io {
namespace {

using json = nlohmann::json;
using detail::snippet;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::io_error, origin + ": " + what);
}

// ---- stored dtypes ---------------------------------------------------------------------------
struct StoredType {
  const char* name;
  std::size_t item_size;
  DType read_dtype;  // what read() returns: the same bytes, as this dtype
};
constexpr StoredType kStoredTypes[] = {
    {"F16", 2, DType::f16}, {"BF16", 2, DType::bf16}, {"F32", 4, DType::f32}, {"F64", 8, DType::f64},
    {"I32", 4, DType::i32}, {"I64", 8, DType::i64},   {"U8", 1, DType::u8},
};

const StoredType* find_stored_type(const std::string& name) {
  for (const StoredType& t : kStoredTypes) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// A JSON non-negative integer that fits in int64.
bool as_index(const json& value, std::uint64_t& out) {
  if (value.is_number_unsigned()) {
    out = value.get<std::uint64_t>();
  } else if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(value.get<std::int64_t>());
  } else {
    return false;
  }
  return out <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& origin) {
  if (!value.is_object())
    fail(origin, "__metadata__ is not an object (got " + snippet(value) + ")");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(origin, "__metadata__ key " + gpurnn::detail::quoted(key) + " is not a string (got " + snippet(item) + ")");
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// One tensor entry, checked on its own; `data_size` bounds its offsets.
SafetensorsRecord parse_record(const std::string& name, const json& entry, std::size_t data_size,
                               const std::string& origin) {
  const std::string where = "tensor " + gpurnn::detail::quoted(name);
  if (!entry.is_object())
    fail(origin, where + ": entry is not an object (got " + snippet(entry) + ")");
  static const char* const kKeys[] = {"dtype", "shape", "data_offsets"};
  for (const auto& item : entry.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), item.key()) == std::end(kKeys)) {
      fail(origin, where + ": unexpected key " + gpurnn::detail::quoted(item.key()));
    }
  }
  for (const char* key : kKeys) {
    if (!entry.contains(key)) fail(origin, where + ": missing key '" + key + "'");
  }

  SafetensorsRecord record;
  record.name = name;
  const json& dtype = entry["dtype"];
  if (!dtype.is_string())
    fail(origin, where + ": dtype is not a string (got " + snippet(dtype) + ")");
  record.dtype = dtype.get<std::string>();
  const StoredType* stored = find_stored_type(record.dtype);
  if (stored == nullptr) {
    fail(origin, where + ": unknown dtype " + gpurnn::detail::quoted(record.dtype) +
                     " (supported: F16, BF16, F32, F64, I32, I64, U8)");
  }

  const json& shape = entry["shape"];
  const auto bad_shape = [&] {
    fail(origin, where + ": shape must be a list of non-negative integers, got " + snippet(shape));
  };
  if (!shape.is_array()) bad_shape();
  if (shape.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    fail(origin, where + ": shape has " + std::to_string(shape.size()) + " dimensions; at most " +
                     std::to_string(Shape::kMaxRank) + " are supported");
  }
  // Elements and bytes must fit in int64 (as Shape and Tensor count them) before a Shape exists.
  std::uint64_t bytes = stored->item_size;
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const json& dim : shape) {
    std::uint64_t d = 0;
    if (!as_index(dim, d)) bad_shape();
    overflow = overflow || d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
               __builtin_mul_overflow(bytes, d, &bytes) ||
               __builtin_mul_overflow(elements, d, &elements) ||
               bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  if (overflow) fail(origin, where + ": shape " + snippet(shape) + " is too large");
  for (const json& dim : shape) record.shape.push_back(dim.get<std::int64_t>());

  const json& offsets = entry["data_offsets"];
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  if (!offsets.is_array() || offsets.size() != 2 || !as_index(offsets[0], begin) ||
      !as_index(offsets[1], end)) {
    fail(origin,
         where + ": data_offsets must be two non-negative integers, got " + snippet(offsets));
  }
  const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
  if (begin > end) fail(origin, where + ": data_offsets " + range + " end before they begin");
  if (end - begin != bytes) {
    fail(origin, where + ": data_offsets " + range + " span " + std::to_string(end - begin) +
                     " bytes, but shape " + to_string(record.shape) + " of " + record.dtype +
                     " needs " + std::to_string(bytes));
  }
  if (end > data_size) {
    fail(origin, where + ": data_offsets " + range + " run past the data section (" +
                     std::to_string(data_size) + " bytes)");
  }
  record.begin = static_cast<std::size_t>(begin);
  record.end = static_cast<std::size_t>(end);
  return record;
}

// Sorted by offset, the tensors must cover [0, data_size) exactly: no overlap, no hole.
void check_tiling(const std::vector<SafetensorsRecord>& records, std::size_t data_size,
                  const std::string& origin) {
  std::size_t covered = 0;
  const SafetensorsRecord* previous = nullptr;
  for (const SafetensorsRecord& r : records) {
    if (r.begin < covered) {
      fail(origin, "tensor " + gpurnn::detail::quoted(r.name) + " (bytes " + std::to_string(r.begin) + ".." +
                       std::to_string(r.end) + ") overlaps tensor " + gpurnn::detail::quoted(previous->name) +
                       " (bytes " + std::to_string(previous->begin) + ".." +
                       std::to_string(previous->end) + ")");
    }
    if (r.begin > covered) {
      fail(origin, "data section has a hole at bytes " + std::to_string(covered) + ".." +
                       std::to_string(r.begin) + " (before tensor " + gpurnn::detail::quoted(r.name) + ")");
    }
    covered = r.end;
    previous = &r;
  }
  if (covered != data_size) {
    fail(origin, "data section has a hole at bytes " + std::to_string(covered) + ".." +
                     std::to_string(data_size) + " (after the last tensor)");
  }
}

// The validated content of a file.
struct ParsedFile {
  std::map<std::string, std::string> metadata;
  std::vector<SafetensorsRecord> records;  // by offset
  std::map<std::string, std::size_t> index;
  std::size_t data_start = 0;  // of the data section, from the start of the file
  std::size_t data_size = 0;
};

ParsedFile parse_file(const std::uint8_t* bytes, std::size_t size, const std::string& origin) {
  if (size < 8) {
    fail(origin,
         "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  if (header_size > kSafetensorsMaxHeaderBytes) {
    fail(origin, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                     std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  }
  if (header_size > size - 8) {
    fail(origin, "header length " + std::to_string(header_size) +
                     " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  const char* header_text = reinterpret_cast<const char*>(bytes + 8);
  json header = detail::parse_safetensors_header(header_text, header_text + header_size, origin);

  ParsedFile file;
  file.data_start = 8 + static_cast<std::size_t>(header_size);
  file.data_size = size - file.data_start;
  // Each entry is freed once read, so the header's DOM and the records are not both held whole.
  json::object_t& entries = header.get_ref<json::object_t&>();
  file.records.reserve(entries.size());
  for (auto it = entries.begin(); it != entries.end(); it = entries.erase(it)) {
    const auto& [name, entry] = *it;
    if (name == "__metadata__") {
      file.metadata = parse_metadata(entry, origin);
    } else {
      file.records.push_back(parse_record(name, entry, file.data_size, origin));
    }
  }
  std::sort(file.records.begin(), file.records.end(),
            [](const SafetensorsRecord& a, const SafetensorsRecord& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  check_tiling(file.records, file.data_size, origin);
  for (std::size_t i = 0; i < file.records.size(); ++i) file.index[file.records[i].name] = i;
  return file;
}

}  // namespace

struct SafetensorsReader::Impl {
  std::string origin;
  ParsedFile file;
  std::unique_ptr<detail::MappedFile> mapped;  // the file, when read from disk
  std::vector<std::uint8_t> copy;              // the data section, for from_memory
  const std::uint8_t* data = nullptr;          // start of the data section
};

SafetensorsReader::SafetensorsReader(const std::string& path)
    : impl_([&] {
        auto impl = std::make_shared<Impl>();
        impl->origin = path;
        impl->mapped = std::make_unique<detail::MappedFile>(path);
        impl->file = impl->mapped->checked(
            [&](const std::uint8_t* bytes, std::size_t size) { return parse_file(bytes, size, path); });
        impl->data = impl->mapped->data() + impl->file.data_start;
        return std::shared_ptr<const Impl>(std::move(impl));
      }()) {}

SafetensorsReader::SafetensorsReader(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

SafetensorsReader SafetensorsReader::from_memory(const void* data, std::size_t size,
                                                 const std::string& origin) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  auto impl = std::make_shared<Impl>();
  impl->origin = origin;
  impl->file = parse_file(bytes, size, origin);
  impl->copy.assign(bytes + impl->file.data_start, bytes + size);
  impl->data = impl->copy.data();
  return SafetensorsReader(std::shared_ptr<const Impl>(std::move(impl)));
}

const std::string& SafetensorsReader::origin() const { return impl_->origin; }

const std::map<std::string, std::string>& SafetensorsReader::metadata() const {
  return impl_->file.metadata;
}

const std::vector<SafetensorsRecord>& SafetensorsReader::records() const {
  return impl_->file.records;
}

bool SafetensorsReader::contains(const std::string& name) const {
  return impl_->file.index.count(name) != 0;
}

const SafetensorsRecord& SafetensorsReader::record(const std::string& name) const {
  const auto it = impl_->file.index.find(name);
  if (it == impl_->file.index.end()) {
    throw Error(ErrorCode::invalid_argument, impl_->origin + ": no tensor named " + gpurnn::detail::quoted(name));
  }
  return impl_->file.records[it->second];
}

Tensor SafetensorsReader::read(const std::string& name) const {
  const SafetensorsRecord& r = record(name);
  const StoredType& stored = *find_stored_type(r.dtype);  // validated when parsed
  Tensor out = Tensor::empty(r.shape, stored.read_dtype);  // bytes() == end - begin: checked when parsed
  const std::uint8_t* src = impl_->data + r.begin;  // [begin, end) lies inside the data section
  if (r.end > r.begin) {  // an empty tensor's `src` may be null (an empty data section)
    std::memcpy(out.data(), src, r.end - r.begin);
  }
  if (impl_->mapped) impl_->mapped->check_unchanged();  // a file that shrank reads as zeros
  return out;
}

Tensor SafetensorsReader::read_as(const std::string& name, DType dtype) const {
  const SafetensorsRecord& r = record(name);
  const DType stored = find_stored_type(r.dtype)->read_dtype;
  if (is_floating(stored) != is_floating(dtype)) {
    throw Error(ErrorCode::invalid_argument,
                impl_->origin + ": tensor " + gpurnn::detail::quoted(name) + " has dtype " + r.dtype +
                    "; reading it as " + to_string(dtype) + " would convert between " +
                    (is_floating(stored) ? "floating and integer" : "integer and floating") +
                    " values, which read_as refuses");
  }
  // Tensor::to widens a half value to f32/f64 exactly and rounds to bf16/f16 to nearest even (an
  // f64 through round-to-odd, so no double rounding): gpurnn/half.h.
  Tensor t = read(name);
  return t.dtype() == dtype ? t : t.to(dtype);
}

}  // namespace gpurnn::io
