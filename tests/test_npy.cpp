// .npy: round trips, files written by real numpy (tests/data, made by make_npy_fixtures.py),
// float16 both ways and bf16 written as float32, refusals of what numpy can write but we do not
// read, malformed files built byte by byte.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "test_support.h"
#include "gpurnn/io/npy.h"

#ifndef GPURNN_TEST_DATA_DIR
#error "GPURNN_TEST_DATA_DIR must name tests/data"
#endif

namespace gpurnn::io {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::numbered;
using testing::read_bytes;
using testing::ScratchDir;

const std::string kData = GPURNN_TEST_DATA_DIR;

// A version 1.0 (or `major`.0) image: magic, version, length, `dict`, then `data`.
std::string image(const std::string& dict, const std::string& data, int major = 1) {
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const int length_size = major == 1 ? 2 : 4;
  for (int i = 0; i < length_size; ++i) out += static_cast<char>(dict.size() >> (8 * i));
  return out + dict + data;
}

std::string f32_dict(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n";
}

void expect_malformed(const std::string& bytes, std::initializer_list<std::string> words) {
  const auto parse = [&] { parse_npy(bytes.data(), bytes.size(), "bad.npy"); };
  expect_error(parse, ErrorCode::io_error, {"bad.npy"});
  expect_error(parse, ErrorCode::io_error, words);
}

TEST(Npy, RoundTripEveryDtypeAndShape) {
  ScratchDir dir;
  for (DType dtype : {DType::f16, DType::f32, DType::f64, DType::i32, DType::i64}) {
    for (const Shape& shape :
         {Shape{}, Shape{5}, Shape{2, 3, 4}, Shape{0}, Shape{3, 0, 2}, Shape{1, 1, 1, 1, 1, 7}}) {
      SCOPED_TRACE(std::string(to_string(dtype)) + " " + to_string(shape));
      const Tensor t = numbered(shape, dtype);
      const std::string path = dir.file("t.npy");
      write_npy(path, t);
      const std::string bytes = read_bytes(path);
      ASSERT_GE(bytes.size(), 64u);
      EXPECT_EQ(bytes[6], 1);  // version 1.0
      const std::size_t data_start = bytes.size() - t.bytes();
      EXPECT_EQ(data_start % 64, 0u);
      EXPECT_EQ(bytes[data_start - 1], '\n');
      const Tensor back = read_npy(path);
      EXPECT_EQ(back.dtype(), dtype);
      EXPECT_EQ(back.shape(), shape);
      EXPECT_EQ(std::memcmp(back.data(), t.data(), t.bytes()), 0);
    }
  }
}

TEST(Npy, WriterHeaderIsWhatNumpyWrites) {
  ScratchDir dir;
  write_npy(dir.file("a.npy"), numbered({3}, DType::f64));
  write_npy(dir.file("b.npy"), numbered({}, DType::i32));
  write_npy(dir.file("c.npy"), numbered({2, 0}, DType::f32));
  write_npy(dir.file("d.npy"), numbered({4, 1}, DType::f16));
  EXPECT_NE(read_bytes(dir.file("a.npy"))
                .find("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"),
            std::string::npos);
  EXPECT_NE(
      read_bytes(dir.file("b.npy")).find("{'descr': '<i4', 'fortran_order': False, 'shape': (), }"),
      std::string::npos);
  EXPECT_NE(read_bytes(dir.file("c.npy"))
                .find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }"),
            std::string::npos);
  EXPECT_NE(read_bytes(dir.file("d.npy"))
                .find("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 1), }"),
            std::string::npos);
}

// The 16-bit patterns of `t` (f16 or bf16).
std::vector<std::uint16_t> bits_of(const Tensor& t) {
  std::vector<std::uint16_t> bits(static_cast<std::size_t>(t.numel()));
  std::memcpy(bits.data(), t.data(), t.bytes());
  return bits;
}

// A bf16 tensor with a subnormal, the largest finite value, -0, inf and a NaN with a payload.
Tensor bf16_specials() {
  const std::uint16_t bits[] = {0x3F80, 0xC049, 0x0001, 0x7F7F, 0x8000, 0xFF80, 0x7FC1};
  Tensor t = Tensor::empty({7}, DType::bf16);
  std::memcpy(t.data(), bits, sizeof bits);
  return t;
}

// numpy has no bfloat16: a bf16 tensor is written as '<f4', each value widened exactly (a
// bf16 value is a float's top half), so converting the file back to bf16 gives the same bits.
TEST(Npy, Bf16IsWrittenAsFloat32Exactly) {
  ScratchDir dir;
  const Tensor t = bf16_specials();
  write_npy(dir.file("b.npy"), t);
  EXPECT_NE(read_bytes(dir.file("b.npy")).find("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"),
            std::string::npos);
  const Tensor back = read_npy(dir.file("b.npy"));
  ASSERT_EQ(back.dtype(), DType::f32);
  ASSERT_EQ(back.shape(), (Shape{7}));
  const auto* in = static_cast<const std::uint16_t*>(t.data());
  for (int k = 0; k < 7; ++k) {
    std::uint32_t wide;
    std::memcpy(&wide, back.data_as<float>() + k, sizeof wide);
    EXPECT_EQ(wide, static_cast<std::uint32_t>(in[k]) << 16) << k;
  }
  EXPECT_EQ(bits_of(back.to(DType::bf16)), bits_of(t));
  // An empty bf16 tensor has no values to widen.
  write_npy(dir.file("e.npy"), Tensor::empty({0, 3}, DType::bf16));
  EXPECT_EQ(read_npy(dir.file("e.npy")).shape(), (Shape{0, 3}));
}

// When Debian's numpy is there, it must load what we write.
TEST(Npy, NumpyLoadsWhatWeWrite) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  }
  ScratchDir dir;
  const double values[] = {0.5, -1.25, 3.0, 4.0, 5.0, 6.0};
  write_npy(dir.file("x.npy"), Tensor::from_host<double>({2, 3}, values));
  const std::string check =
      "/usr/bin/python3 -c 'import numpy as np, sys; a = np.load(sys.argv[1]); "
      "sys.exit(0 if a.dtype == np.float64 and a.shape == (2, 3) and a[0, 1] == -1.25 "
      "and a[1, 2] == 6.0 else 1)' " +
      dir.file("x.npy");
  EXPECT_EQ(std::system(check.c_str()), 0);

  // f16 as numpy.float16, bit for bit; bf16 as numpy.float32 holding the same values.
  const std::uint16_t half_bits[] = {0x3C00, 0x8001, 0x7BFF, 0xFC00, 0x3555, 0x7E01};
  Tensor h = Tensor::empty({3, 2}, DType::f16);
  std::memcpy(h.data(), half_bits, sizeof half_bits);
  write_npy(dir.file("h.npy"), h);
  write_npy(dir.file("b.npy"), bf16_specials());
  const std::string check_half =
      "/usr/bin/python3 -c 'import numpy as np, sys; h = np.load(sys.argv[1]); b = np.load(sys.argv[2]); "
      "ok = h.dtype == np.float16 and h.shape == (3, 2) and "
      "h.view(np.uint16).ravel().tolist() == [0x3C00, 0x8001, 0x7BFF, 0xFC00, 0x3555, 0x7E01]; "
      "ok = ok and b.dtype == np.float32 and b.shape == (7,) and "
      "(b.view(np.uint32) >> 16).tolist() == [0x3F80, 0xC049, 0x0001, 0x7F7F, 0x8000, 0xFF80, 0x7FC1] and "
      "not (b.view(np.uint32) & 0xFFFF).any(); "
      "sys.exit(0 if ok else 1)' " +
      dir.file("h.npy") + " " + dir.file("b.npy");
  EXPECT_EQ(std::system(check_half.c_str()), 0);
}

TEST(Npy, ReadsFilesWrittenByNumpy) {
  const Tensor a = read_npy(kData + "/f32_2x3_v1.npy");
  ASSERT_EQ(a.shape(), (Shape{2, 3}));
  ASSERT_EQ(a.dtype(), DType::f32);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.data_as<float>()[i], 0.5f * static_cast<float>(i) - 1.0f);

  const Tensor s = read_npy(kData + "/f64_scalar.npy");
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data_as<double>()[0], 3.25);

  const Tensor i32 = read_npy(kData + "/i32_1d.npy");
  ASSERT_EQ(i32.shape(), (Shape{3}));
  EXPECT_EQ(i32.data_as<std::int32_t>()[1], -2);

  const Tensor i64 = read_npy(kData + "/i64_2x3x4.npy");
  ASSERT_EQ(i64.shape(), (Shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(i64.data_as<std::int64_t>()[i], i - 12);

  EXPECT_EQ(read_npy(kData + "/f32_0x3.npy").shape(), (Shape{0, 3}));

  const Tensor v2 = read_npy(kData + "/f64_v2.npy");
  ASSERT_EQ(v2.shape(), (Shape{4}));
  EXPECT_EQ(v2.data_as<double>()[3], 0.75);

  const Tensor v3 = read_npy(kData + "/i32_v3.npy");
  ASSERT_EQ(v3.shape(), (Shape{2}));
  EXPECT_EQ(v3.data_as<std::int32_t>()[1], 8);

  // float16 reads as f16, bit for bit (issue 30; it was refused before).
  const Tensor f16 = read_npy(kData + "/f16.npy");
  ASSERT_EQ(f16.dtype(), DType::f16);
  ASSERT_EQ(f16.shape(), (Shape{3}));
  EXPECT_EQ(bits_of(f16), (std::vector<std::uint16_t>{0x0000, 0x3C00, 0x4000}));  // 0, 1, 2
  const Tensor special = read_npy(kData + "/f16_special.npy");
  ASSERT_EQ(special.dtype(), DType::f16);
  ASSERT_EQ(special.shape(), (Shape{3, 4}));
  EXPECT_EQ(bits_of(special), (std::vector<std::uint16_t>{0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0400, 0x0001,
                                                          0x03FF, 0x3555, 0x7C00, 0xFC00, 0x7E00}));
  const Tensor wide = special.to(DType::f32);
  EXPECT_EQ(wide.data_as<float>()[4], 65504.0f);
  EXPECT_EQ(wide.data_as<float>()[6], 0x1p-24f);
}

// numpy's uint8 ('|u1') reads as u8 (video frames, gpurnn train video --video), byte for byte.
TEST(Npy, ReadsUint8) {
  const Tensor u8 = read_npy(kData + "/u8.npy");
  ASSERT_EQ(u8.dtype(), DType::u8);
  ASSERT_EQ(u8.shape(), (Shape{3}));
  EXPECT_EQ(u8.data_as<std::uint8_t>()[0], 0);
  EXPECT_EQ(u8.data_as<std::uint8_t>()[2], 2);
}

TEST(Npy, RefusesWhatNumpyWritesButWeDoNotRead) {
  const auto refused = [](const char* name, auto... words) {
    expect_error([&] { read_npy(kData + "/" + name); }, ErrorCode::io_error, {name, words...});
  };
  refused("fortran_f32.npy", "fortran_order", "True");
  refused("bigendian_f4.npy", "'>f4'", "big-endian");
  refused("object.npy", "'|O'", "object");
  // Big-endian float16 (byte by byte: numpy writes '>f2' only when asked).
  const std::string big = image("{'descr': '>f2', 'fortran_order': False, 'shape': (2,), }\n", std::string(4, '\0'));
  expect_malformed(big, {"'>f2'", "big-endian", "'<f2'"});
}

TEST(Npy, RefusesBadFraming) {
  const std::string data(24, '\0');
  expect_malformed("", {"not a .npy file"});
  expect_malformed("\x93NUMPY", {"not a .npy file"});
  expect_malformed("\x93NUMPZ\x01\x00\x00\x00", {"not a .npy file"});
  std::string v4 = image(f32_dict("(6,)"), data);
  v4[6] = 4;
  expect_malformed(v4, {"version 4.0"});
  std::string v11 = image(f32_dict("(6,)"), data);
  v11[7] = 1;
  expect_malformed(v11, {"version 1.1"});
  expect_malformed(std::string("\x93NUMPY\x02\x00\x01\x00", 9), {"header length"});
  std::string long_header = image(f32_dict("(6,)"), "");
  long_header[8] = '\x7f';
  expect_malformed(long_header, {"header length", "past the end"});
  expect_malformed(image(f32_dict("(6,)"), data.substr(0, 20)),
                   {"data is 20 bytes", "needs 24", "truncated"});
  expect_malformed(image(f32_dict("(6,)"), data + "x"), {"data is 25 bytes", "trailing bytes"});
  expect_malformed(image(f32_dict("(3,)"), data, 3), {"data is 24 bytes", "needs 12"});
  const std::string v2 = image(f32_dict("(2, 3)"), data, 2);
  EXPECT_EQ(parse_npy(v2.data(), v2.size()).shape(), (Shape{2, 3}));
}

TEST(Npy, RefusesBadHeaders) {
  const std::string data(8, '\0');
  const auto header = [&](const std::string& dict) { return image(dict + "\n", data); };
  expect_malformed(header("{'descr': '<f4', 'shape': (2,), }"), {"missing key 'fortran_order'"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"),
                   {"unexpected key 'x'"});
  expect_malformed(
      header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"),
      {"duplicate key 'descr'"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"),
                   {"fortran_order", "True or False"});
  expect_malformed(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}"),
                   {"structured"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}"),
                   {"'shape'", "tuple"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}"),
                   {"'shape'", "non-negative"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"),
                   {"expected '('"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,2)}"),
                   {"more than 6 dimensions"});
  expect_malformed(
      header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
      {"too large"});
  expect_malformed(
      header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 0)}"),
      {"too large"});
  expect_malformed(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"),
                   {"after the closing"});
  expect_malformed(header("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}"), {"header"});
  expect_malformed(header("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}"),
                   {"expected '}'"});
  // Accepted variants: double quotes, no trailing comma, Python 2 "L" suffixes.
  const std::string ok =
      image("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}\n", data);
  EXPECT_EQ(parse_npy(ok.data(), ok.size()).shape(), (Shape{2}));
}

TEST(Npy, WriterRefusesAndFileErrorsNameThePath) {
  ScratchDir dir;
  const std::string path = dir.file("out.npy");
  const ErrorCode invalid = ErrorCode::invalid_argument;
  expect_error([&] { write_npy(path, numbered({2}, DType::u8)); }, invalid,
               {"out.npy", "'tensor'", "u8", "f16, f32, f64, i32, i64 and bf16 (as float32)"});
  expect_error([&] { write_npy(path, ConstTensorView()); }, invalid, {"out.npy", "undefined"});
  float host = 0.0f;
  const ConstTensorView on_gpu(&host, Shape{1}, DType::f32, Device::cuda(1));
  expect_error([&] { write_npy(path, on_gpu); }, invalid, {"out.npy", "cuda:1"});
  EXPECT_TRUE(dir.empty());

  // No temporary is left behind by a write into a missing directory.
  const std::string nowhere = dir.file("missing/out.npy");
  const ErrorCode io = ErrorCode::io_error;
  expect_error([&] { write_npy(nowhere, numbered({2}, DType::f32)); }, io,
               {"missing/out.npy", "No such file or directory"});
  EXPECT_TRUE(dir.empty());
  expect_error([&] { read_npy(nowhere); }, io, {"missing/out.npy", "No such file or directory"});
  std::ofstream(dir.file("empty.npy")).close();
  expect_error([&] { read_npy(dir.file("empty.npy")); }, io, {"empty.npy", "not a .npy file"});
}

}  // namespace
}  // namespace gpurnn::io
