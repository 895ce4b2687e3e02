// NumPy .npy reading and writing. The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// which numpy reads with ast.literal_eval; here a small strict parser accepts exactly the three
// keys, each once, with a string, a boolean and a tuple of non-negative integers, and nothing
// after the closing brace but blanks. Data follow the header and must be exactly
// elements × item size bytes.
#include "gpurnn/io/npy.h"

#include <cstring>
#include <vector>

#include "core/half_arrays.h"
#include "core/quoted.h"
#include "io/atomic_file.h"
#include "io/mapped_file.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer handle little-endian data as is");

namespace gpurnn::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kAlignment = 64;  // numpy aligns the data to 64 bytes

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::io_error, origin + ": " + what);
}

struct Descr {
  const char* text;
  DType dtype;
};
// numpy has no bfloat16 (no descr names it), so no file reads as bf16; write_npy writes bf16 as
// '<f4'.
// '|u1' (numpy's uint8, e.g. video frames) is read, never written (a u8 tensor is raw bytes).
constexpr Descr kDescrs[] = {{"<f2", DType::f16}, {"<f4", DType::f32}, {"<f8", DType::f64},
                             {"<i4", DType::i32}, {"<i8", DType::i64}, {"|u1", DType::u8}};

// The header dict, parsed.
struct Header {
  DType dtype = DType::f32;
  Shape shape;
};

// A cursor over the header text; every method fails with the origin named.
class HeaderParser {
 public:
  HeaderParser(const char* begin, const char* end, const std::string& origin)
      : p_(begin), end_(end), origin_(origin) {}

  Header parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (skip_blanks() != '}') {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        once(seen_descr, key);
        header.dtype = descr_value();
      } else if (key == "fortran_order") {
        once(seen_order, key);
        if (boolean()) {
          bad("'fortran_order' is True; only C-order arrays are supported "
              "(save np.ascontiguousarray(a) instead)");
        }
      } else if (key == "shape") {
        once(seen_shape, key);
        header.shape = shape_tuple();
      } else {
        bad("unexpected key " + gpurnn::detail::quoted(key));
      }
      if (skip_blanks() != ',') break;
      ++p_;
    }
    expect('}');
    if (!seen_descr) bad("missing key 'descr'");
    if (!seen_order) bad("missing key 'fortran_order'");
    if (!seen_shape) bad("missing key 'shape'");
    if (skip_blanks() != '\0') bad("unexpected text after the closing '}'");
    return header;
  }

 private:
  [[noreturn]] void bad(const std::string& what) { fail(origin_, "header: " + what); }

  // The next non-blank character (not consumed), or '\0' at the end.
  char skip_blanks() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    return p_ == end_ ? '\0' : *p_;
  }

  void expect(char c) {
    if (skip_blanks() != c) bad(std::string("expected '") + c + "'");
    ++p_;
  }

  void once(bool& seen, const std::string& key) {
    if (seen) bad("duplicate key '" + key + "'");
    seen = true;
  }

  // 'text' or "text", without escapes (numpy never writes any in these fields).
  std::string string_literal() {
    const char quote = skip_blanks();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    const char* start = ++p_;
    while (p_ != end_ && *p_ != quote && *p_ != '\\') ++p_;
    if (p_ == end_ || *p_ != quote) bad("unterminated or escaped string");
    return std::string(start, p_++);
  }

  DType descr_value() {
    if (skip_blanks() == '[') bad("'descr' is a structured dtype; only plain arrays are supported");
    const std::string descr = string_literal();
    for (const Descr& d : kDescrs) {
      if (descr == d.text) return d.dtype;
    }
    std::string why = "is not supported";
    if (!descr.empty() && descr[0] == '>')
      why = "is big-endian; only little-endian data is supported";
    if (descr == "|O" || descr == "O")
      why = "is an object array (pickled Python objects), never loaded";
    bad("'descr' " + gpurnn::detail::quoted(descr) + " " + why + " (supported: '<f2', '<f4', '<f8', '<i4', '<i8', '|u1')");
  }

  bool word(const char* w) {
    const std::size_t n = std::strlen(w);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, w, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool boolean() {
    skip_blanks();
    if (word("True")) return true;
    if (word("False")) return false;
    bad("'fortran_order' is not True or False");
  }

  std::int64_t integer() {
    if (skip_blanks() < '0' || *p_ > '9') bad("'shape' must be a tuple of non-negative integers");
    std::int64_t value = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, *p_ - '0', &value)) {
        bad("'shape' has a dimension too large");
      }
      ++p_;
    }
    if (p_ != end_ && *p_ == 'L') ++p_;  // Python 2 era files write "3L"
    return value;
  }

  // (), (n,), (n, m), (n, m,) ...
  Shape shape_tuple() {
    expect('(');
    Shape shape;
    while (skip_blanks() != ')') {
      if (shape.rank() == Shape::kMaxRank) {
        bad("'shape' has more than " + std::to_string(Shape::kMaxRank) + " dimensions");
      }
      const std::int64_t d = integer();
      std::int64_t elements = 0;
      if (__builtin_mul_overflow(shape.numel(), d, &elements)) bad("'shape' is too large");
      shape.push_back(d);
      const char next = skip_blanks();
      if (next == ',') {
        ++p_;
      } else if (next != ')' || shape.rank() == 1) {  // "(3)" is an int, not a tuple
        bad("'shape' must be a tuple of non-negative integers");
      }
    }
    expect(')');
    return shape;
  }

  const char* p_;
  const char* end_;
  const std::string& origin_;
};

// elements × item size, or fails when that does not fit in int64.
std::size_t data_bytes(const Header& h, const std::string& origin) {
  std::int64_t bytes = static_cast<std::int64_t>(dtype_size(h.dtype));
  for (std::int64_t d : h.shape) {
    if (__builtin_mul_overflow(bytes, d, &bytes)) {
      fail(origin, "shape " + to_string(h.shape) + " is too large");
    }
  }
  return static_cast<std::size_t>(bytes);
}

const char* descr_of(DType dtype) {
  for (const Descr& d : kDescrs) {
    if (d.dtype == dtype) return d.text;
  }
  return nullptr;
}

}  // namespace

Tensor parse_npy(const void* data, std::size_t size, const std::string& origin) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  if (size < kMagicSize + 2 || std::memcmp(bytes, kMagic, kMagicSize) != 0) {
    fail(origin, "not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = bytes[6];
  const int minor = bytes[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    fail(origin, "format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " is not supported (1.0, 2.0 and 3.0 are)");
  }
  const std::size_t length_size = major == 1 ? 2 : 4;
  const std::size_t header_start = kMagicSize + 2 + length_size;
  if (size < header_start) fail(origin, "file ends inside the header length");
  std::size_t header_size = 0;
  for (std::size_t i = length_size; i-- > 0;) header_size = (header_size << 8) | bytes[8 + i];
  if (header_size > size - header_start) {
    fail(origin, "header length " + std::to_string(header_size) +
                     " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  const char* header_text = reinterpret_cast<const char*>(bytes + header_start);
  const Header header = HeaderParser(header_text, header_text + header_size, origin).parse();

  const std::size_t data_start = header_start + header_size;
  const std::size_t expected = data_bytes(header, origin);
  const std::size_t actual = size - data_start;
  if (actual != expected) {
    fail(origin, "data is " + std::to_string(actual) + " bytes, but shape " +
                     to_string(header.shape) + " of " + descr_of(header.dtype) + " needs " +
                     std::to_string(expected) +
                     (actual < expected ? " (the file is truncated)" : " (trailing bytes)"));
  }
  Tensor out = Tensor::empty(header.shape, header.dtype);
  std::memcpy(out.data(), bytes + data_start, expected);
  return out;
}

Tensor read_npy(const std::string& path) {
  const detail::MappedFile file(path);
  return file.checked([&](const std::uint8_t* bytes, std::size_t size) { return parse_npy(bytes, size, path); });
}

void write_npy(const std::string& path, ConstTensorView tensor) {
  const std::string where = "write_npy('" + path + "')";
  check_argument(!tensor.empty(), where.c_str(), "tensor", "is an undefined view (no data)");
  check_argument(tensor.device().is_cpu(), where.c_str(), "tensor",
                 "is on " + to_string(tensor.device()) + "; copy it to the CPU first");
  // numpy has no bfloat16: a bf16 tensor is written as float32, every value exactly (a bf16 value
  // is a float whose low 16 bits are zero), so numpy and PyTorch read the same numbers.
  const bool widen_bf16 = tensor.dtype() == DType::bf16;
  const char* descr = tensor.dtype() == DType::u8 ? nullptr : descr_of(widen_bf16 ? DType::f32 : tensor.dtype());
  check_argument(descr != nullptr, where.c_str(), "tensor",
                 std::string("has dtype ") + to_string(tensor.dtype()) +
                     "; .npy files are written for f16, f32, f64, i32, i64 and bf16 (as float32)");
  std::vector<float> widened;
  if (widen_bf16) {
    widened.resize(static_cast<std::size_t>(tensor.numel()));
    gpurnn::detail::widen_half(DType::bf16, tensor.data(), widened.data(), tensor.numel());
  }

  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < tensor.rank(); ++i) {
    dict += (i > 0 ? ", " : "") + std::to_string(tensor.dim(i));
  }
  dict += tensor.rank() == 1 ? ",), }" : "), }";  // (n,) is a tuple, (n) is not

  // Version 1.0 has a u16 header length; 2.0 a u32 one. Pad with blanks and end with '\n' so the
  // data start at a multiple of kAlignment.
  const bool v1 = kMagicSize + 2 + 2 + dict.size() + 1 + kAlignment <= 65535;
  const std::size_t prefix = kMagicSize + 2 + (v1 ? 2 : 4);
  const std::size_t total = (prefix + dict.size() + 1 + kAlignment - 1) / kAlignment * kAlignment;
  std::string header(kMagic, kMagicSize);
  header += static_cast<char>(v1 ? 1 : 2);
  header += '\0';
  const std::size_t header_size = total - prefix;
  for (std::size_t i = 0; i < (v1 ? 2u : 4u); ++i)
    header += static_cast<char>(header_size >> (8 * i));
  header += dict;
  header.append(total - header.size() - 1, ' ');
  header += '\n';

  const detail::ByteSpan data = widen_bf16 ? detail::ByteSpan{widened.data(), widened.size() * sizeof(float)}
                                           : detail::ByteSpan{tensor.data(), tensor.bytes()};
  detail::write_file_atomically(path, {{header.data(), header.size()}, data});
}

}  // namespace gpurnn::io
