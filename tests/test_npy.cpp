// .npy: round trips, files written by real numpy (tests/data, made by make_npy_fixtures.py),
// refusals of what numpy can write but we do not read, malformed files built byte by byte.
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
  for (DType dtype : {DType::f32, DType::f64, DType::i32, DType::i64}) {
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
  EXPECT_NE(read_bytes(dir.file("a.npy"))
                .find("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"),
            std::string::npos);
  EXPECT_NE(
      read_bytes(dir.file("b.npy")).find("{'descr': '<i4', 'fortran_order': False, 'shape': (), }"),
      std::string::npos);
  EXPECT_NE(read_bytes(dir.file("c.npy"))
                .find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }"),
            std::string::npos);
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
}

TEST(Npy, RefusesWhatNumpyWritesButWeDoNotRead) {
  const auto refused = [](const char* name, auto... words) {
    expect_error([&] { read_npy(kData + "/" + name); }, ErrorCode::io_error, {name, words...});
  };
  refused("fortran_f32.npy", "fortran_order", "True");
  refused("bigendian_f4.npy", "'>f4'", "big-endian");
  refused("object.npy", "'|O'", "object");
  refused("u8.npy", "'|u1'", "not supported");
  refused("f16.npy", "'<f2'", "not supported");
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
  expect_error([&] { write_npy(path, numbered({2}, DType::u8)); }, invalid, {"out.npy", "u8"});
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
