// Core types: Shape, DType, Device, Tensor and its views, Error.
#include <gtest/gtest.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn {
namespace {

#if defined(__GNUC__) && defined(__x86_64__)
// float -> f16 bits by the F16C instruction, rounding to nearest even.
__attribute__((target("f16c"))) std::uint16_t f16c_round(float v) {
  return static_cast<std::uint16_t>(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT));
}
#endif

// Runs fn, expects Error with `code`, returns its message ("" when nothing matching was thrown).
template <class F>
std::string error_message(F&& fn, ErrorCode code) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_STREQ(to_string(e.code()), to_string(code)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no gpurnn::Error was thrown";
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const DType kAllDtypes[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8};

// ---- Shape ------------------------------------------------------------------------------------
TEST(CoreTypes, ShapeRankAndNumel) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[2], 4);
  EXPECT_EQ(std::vector<std::int64_t>(s.begin(), s.end()), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(Shape{}.rank(), 0);
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
  EXPECT_EQ((Shape{5, 0, 2}.numel()), 0);
  EXPECT_EQ((Shape{1, 2, 3, 4, 5, 6}.numel()), 720);
}

TEST(CoreTypes, ShapeFromIteratorsAndPushBack) {
  const std::vector<int> dims = {7, 1, 9};
  EXPECT_EQ(Shape(dims.begin(), dims.end()), (Shape{7, 1, 9}));
  Shape s;
  s.push_back(3);
  s.push_back(5);
  EXPECT_EQ(s, (Shape{3, 5}));
}

TEST(CoreTypes, ShapeEquality) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_NE((Shape{2, 3}), (Shape{3, 2}));
  EXPECT_NE((Shape{2, 3}), (Shape{2, 3, 1}));
  EXPECT_NE((Shape{2}), Shape{});
  EXPECT_EQ(Shape{}, Shape{});
  EXPECT_TRUE((Shape{4} != Shape{5}));
  EXPECT_FALSE((Shape{4} != Shape{4}));
}

TEST(CoreTypes, ShapeToString) {
  EXPECT_EQ(to_string(Shape{2, 3, 4}), "[2, 3, 4]");
  EXPECT_EQ(to_string(Shape{7}), "[7]");
  EXPECT_EQ(to_string(Shape{}), "[]");
  EXPECT_EQ(to_string(Shape{0, 1}), "[0, 1]");
}

TEST(CoreTypes, ShapeTooManyDims) {
  const std::string msg =
      error_message([] { Shape s{1, 2, 3, 4, 5, 6, 7}; }, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(msg, std::to_string(Shape::kMaxRank))) << msg;
  Shape full{1, 1, 1, 1, 1, 1};
  error_message([&] { full.push_back(1); }, ErrorCode::invalid_argument);
  EXPECT_EQ(full.rank(), Shape::kMaxRank);
}

TEST(CoreTypes, ShapeNegativeDims) {
  const std::string msg = error_message([] { Shape s{2, -3}; }, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(msg, "negative") && contains(msg, "-3")) << msg;
  Shape s{4};
  error_message([&] { s.push_back(-1); }, ErrorCode::invalid_argument);
  EXPECT_EQ(s, Shape{4});
}

// ---- DType --------------------------------------------------------------------------------------
TEST(CoreTypes, DtypeSizes) {
  EXPECT_EQ(dtype_size(DType::f32), 4u);
  EXPECT_EQ(dtype_size(DType::f64), 8u);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_EQ(dtype_size(DType::u8), 1u);
  static_assert(dtype_of<float>() == DType::f32 && dtype_of<double>() == DType::f64);
  static_assert(dtype_of<std::int32_t>() == DType::i32 && dtype_of<std::int64_t>() == DType::i64);
  static_assert(dtype_of<std::uint8_t>() == DType::u8);
}

TEST(CoreTypes, DtypeParseToStringRoundTrip) {
  for (DType d : kAllDtypes) EXPECT_EQ(parse_dtype(to_string(d)), d) << to_string(d);
  EXPECT_STREQ(to_string(DType::f32), "f32");
  EXPECT_STREQ(to_string(DType::u8), "u8");
  EXPECT_EQ(parse_dtype("float32"), DType::f32);
  EXPECT_EQ(parse_dtype("float64"), DType::f64);
  EXPECT_EQ(parse_dtype("int32"), DType::i32);
  EXPECT_EQ(parse_dtype("int64"), DType::i64);
  EXPECT_EQ(parse_dtype("uint8"), DType::u8);
  const std::string msg = error_message([] { parse_dtype("F32"); }, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(msg, "'F32'")) << msg;
}

TEST(CoreTypes, DtypeIsFloating) {
  EXPECT_TRUE(is_floating(DType::f32));
  EXPECT_TRUE(is_floating(DType::f64));
  EXPECT_FALSE(is_floating(DType::i32));
  EXPECT_FALSE(is_floating(DType::i64));
  EXPECT_FALSE(is_floating(DType::u8));
}

// ---- Device -------------------------------------------------------------------------------------
TEST(CoreTypes, DeviceParseAndToString) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(parse_device("cuda"), Device::cuda(0));
  EXPECT_EQ(parse_device("cuda:3"), Device::cuda(3));
  EXPECT_EQ(parse_device("cuda:12").index, 12);
  EXPECT_EQ(to_string(Device::cpu()), "cpu");
  EXPECT_EQ(to_string(parse_device("cuda")), "cuda:0");
  EXPECT_EQ(to_string(parse_device("cuda:3")), "cuda:3");
  EXPECT_EQ(parse_device("virtual"), Device::virtual_device(0));
  EXPECT_EQ(parse_device("virtual:2"), Device::virtual_device(2));
  EXPECT_FALSE(Device::virtual_device(1).is_cpu());
  EXPECT_NE(Device::virtual_device(0), Device::cuda(0));
  for (const Device& d : {Device::cpu(), Device::cuda(0), Device::cuda(3), Device::cuda(15), Device::virtual_device(0),
                          Device::virtual_device(7)}) {
    EXPECT_EQ(parse_device(to_string(d)), d) << to_string(d);
  }
  EXPECT_TRUE(Device::cpu().is_cpu());
  EXPECT_FALSE(Device::cuda().is_cpu());
  EXPECT_NE(Device::cuda(0), Device::cuda(1));
  EXPECT_NE(Device::cpu(), Device::cuda(0));
}

TEST(CoreTypes, DeviceParseRejectsUnknown) {
  for (const char* text : {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "CPU", "", "virtual:", "virtual:x",
                           "virtual:-1", "host"}) {
    const std::string msg = error_message([&] { parse_device(text); }, ErrorCode::invalid_argument);
    EXPECT_TRUE(contains(msg, std::string("'") + text + "'")) << msg;
  }
}

// ---- Tensor -------------------------------------------------------------------------------------
TEST(CoreTypes, TensorDefaultIsUndefined) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_TRUE(t.view().empty());
  EXPECT_FALSE(t.clone().defined());
}

TEST(CoreTypes, TensorEmptyAndZeros) {
  for (DType d : kAllDtypes) {
    Tensor e = Tensor::empty({2, 3}, d);
    EXPECT_TRUE(e.defined());
    EXPECT_EQ(e.shape(), (Shape{2, 3}));
    EXPECT_EQ(e.dtype(), d);
    EXPECT_EQ(e.device(), Device::cpu());
    EXPECT_EQ(e.rank(), 2);
    EXPECT_EQ(e.dim(1), 3);
    EXPECT_EQ(e.numel(), 6);
    EXPECT_EQ(e.bytes(), 6 * dtype_size(d));
    Tensor z = Tensor::zeros({3, 5}, d);
    const auto* bytes = static_cast<const unsigned char*>(z.data());
    for (std::size_t k = 0; k < z.bytes(); ++k)
      ASSERT_EQ(bytes[k], 0) << to_string(d) << " byte " << k;
  }
  Tensor none = Tensor::empty({0, 4}, DType::f32);  // zero elements still have storage
  EXPECT_TRUE(none.defined());
  EXPECT_EQ(none.numel(), 0);
}

TEST(CoreTypes, TensorOnUnavailableDeviceIsUnsupported) {
  const std::string msg = error_message([] { Tensor::empty({2}, DType::f32, Device::cuda(0)); },
                                        ErrorCode::unsupported);
  EXPECT_TRUE(contains(msg, "cuda:0")) << msg;
}

TEST(CoreTypes, TensorFromHost) {
  const double values[] = {1.5, -2.0, 3.25, 0.0, 7.0, -8.5};
  Tensor t = Tensor::from_host<double>({2, 3}, values);
  EXPECT_EQ(t.dtype(), DType::f64);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  for (int k = 0; k < 6; ++k) EXPECT_EQ(t.data_as<double>()[k], values[k]);
}

TEST(CoreTypes, TensorCopySharesCloneIsDeep) {
  const float values[] = {1, 2, 3, 4};
  Tensor a = Tensor::from_host<float>({4}, values);
  Tensor shared = a;
  EXPECT_EQ(shared.data(), a.data());
  Tensor deep = a.clone();
  EXPECT_NE(deep.data(), a.data());
  EXPECT_EQ(deep.shape(), a.shape());
  EXPECT_EQ(deep.dtype(), a.dtype());
  EXPECT_EQ(std::memcmp(deep.data(), a.data(), a.bytes()), 0);
  deep.data_as<float>()[0] = 100;
  a.data_as<float>()[1] = -5;
  EXPECT_EQ(a.data_as<float>()[0], 1);
  EXPECT_EQ(deep.data_as<float>()[1], 2);
  EXPECT_EQ(shared.data_as<float>()[1], -5);
}

TEST(CoreTypes, TensorReshapeSharesStorage) {
  Tensor a = Tensor::zeros({2, 3}, DType::i32);
  Tensor r = a.reshape({3, 1, 2});
  EXPECT_EQ(r.data(), a.data());
  EXPECT_EQ(r.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  r.data_as<std::int32_t>()[5] = 42;
  EXPECT_EQ(a.data_as<std::int32_t>()[5], 42);
  const std::string msg = error_message([&] { a.reshape({4, 2}); }, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(msg, "'shape'") && contains(msg, "[4, 2]") && contains(msg, "6")) << msg;
}

TEST(CoreTypes, TensorToConvertsValues) {
  const double values[] = {1.5, -2.75, 3.999, -0.5, 1.0 / 3.0, 100.25};
  Tensor f64 = Tensor::from_host<double>({2, 3}, values);
  Tensor f32 = f64.to(DType::f32);
  ASSERT_EQ(f32.dtype(), DType::f32);
  EXPECT_EQ(f32.shape(), (Shape{2, 3}));
  Tensor i32 = f32.to(DType::i32);
  ASSERT_EQ(i32.dtype(), DType::i32);
  const std::int32_t truncated[] = {1, -2, 3, 0, 0, 100};
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(f32.data_as<float>()[k], static_cast<float>(values[k])) << k;
    EXPECT_EQ(i32.data_as<std::int32_t>()[k], truncated[k]) << k;
  }
  Tensor back = i32.to(DType::f64);
  EXPECT_EQ(back.data_as<double>()[1], -2.0);
  Tensor same = f64.to(DType::f64);  // a copy, not the same storage
  EXPECT_NE(same.data(), f64.data());
  EXPECT_EQ(same.data_as<double>()[4], values[4]);
}

TEST(CoreTypes, TensorFill) {
  Tensor f = Tensor::empty({3, 2}, DType::f32);
  f.fill(2.5);
  for (int k = 0; k < 6; ++k) EXPECT_EQ(f.data_as<float>()[k], 2.5f);
  Tensor i = Tensor::empty({4}, DType::i64);
  i.fill(-7.0);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(i.data_as<std::int64_t>()[k], -7);
  Tensor u = Tensor::empty({5}, DType::u8);
  u.fill(200);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(u.data_as<std::uint8_t>()[k], 200);
  Tensor undefined;
  error_message([&] { undefined.fill(1.0); }, ErrorCode::invalid_argument);
  error_message([&] { undefined.to(DType::f64); }, ErrorCode::invalid_argument);
}

TEST(CoreTypes, CopyIntoWritesASliceAndChecksArguments) {
  const float src_values[] = {1.5f, -2.0f, 3.25f};
  const Tensor src = Tensor::from_host<float>({3}, src_values);
  Tensor dst = Tensor::zeros({2, 3}, DType::f32);
  // Into the second row only: a view with an offset and a different shape.
  copy_into(src, TensorView(dst.data_as<float>() + 3, {1, 3}, DType::f32));
  const float expected[] = {0, 0, 0, 1.5f, -2.0f, 3.25f};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(dst.data_as<float>()[k], expected[k]) << k;
  Tensor wrong_count = Tensor::empty({4}, DType::f32);
  EXPECT_TRUE(contains(error_message([&] { copy_into(src, wrong_count); }, ErrorCode::invalid_argument),
                       "'dst' has 4 elements"));
  Tensor wrong_dtype = Tensor::empty({3}, DType::f64);
  EXPECT_TRUE(contains(error_message([&] { copy_into(src, wrong_dtype); }, ErrorCode::invalid_argument),
                       "'dst' has dtype f64"));
}

TEST(CoreTypes, BorrowSharesTheCallersMemoryAndRefusesAnEmptyView) {
  float values[] = {1.0f, 2.0f, 3.0f, 4.0f};
  {
    Tensor t = Tensor::borrow(TensorView(values, {2, 2}, DType::f32));
    EXPECT_EQ(t.data(), values);
    EXPECT_EQ(t.shape(), Shape({2, 2}));
    t.fill(7.0);  // writes the caller's memory
    const Tensor copy = t;  // and copies share it
    EXPECT_EQ(copy.data(), values);
  }
  for (float v : values) EXPECT_EQ(v, 7.0f);  // still there after the last copy went
  EXPECT_TRUE(contains(error_message([] { Tensor::borrow(TensorView()); }, ErrorCode::invalid_argument),
                       "Tensor::borrow: argument 'view' is empty"));
}

// ---- views --------------------------------------------------------------------------------------
TEST(CoreTypes, ViewConversions) {
  static_assert(std::is_convertible_v<TensorView, ConstTensorView>);
  static_assert(!std::is_convertible_v<ConstTensorView, TensorView>);
  static_assert(std::is_convertible_v<Tensor&, TensorView>);
  static_assert(std::is_convertible_v<const Tensor&, ConstTensorView>);
  Tensor t = Tensor::zeros({2, 4}, DType::f64);
  TensorView v = t;
  ConstTensorView c = v;
  EXPECT_EQ(v.data(), t.data());
  EXPECT_EQ(c.data(), t.data());
  EXPECT_EQ(c.shape(), t.shape());
  EXPECT_EQ(c.dtype(), DType::f64);
  EXPECT_EQ(c.device(), Device::cpu());
  EXPECT_EQ(c.rank(), 2);
  EXPECT_EQ(c.dim(1), 4);
  EXPECT_EQ(c.numel(), 8);
  EXPECT_EQ(c.bytes(), 64u);
  EXPECT_FALSE(c.empty());
  v.data_as<double>()[3] = 9.0;
  EXPECT_EQ(c.data_as<double>()[3], 9.0);
  const Tensor& ct = t;
  ConstTensorView from_const = ct;
  EXPECT_EQ(from_const.data(), t.data());
  EXPECT_TRUE(ConstTensorView().empty());
  EXPECT_TRUE(TensorView().empty());
  const TensorView on_gpu(t.data(), {8}, DType::f64, Device::cuda(2));
  EXPECT_EQ(ConstTensorView(on_gpu).device(), Device::cuda(2));
}

TEST(CoreTypes, DataAsWrongTypeThrows) {
  Tensor t = Tensor::zeros({3}, DType::f32);
  std::string msg = error_message([&] { t.data_as<double>(); }, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(msg, "f32") && contains(msg, "f64")) << msg;
  const Tensor& ct = t;
  error_message([&] { ct.data_as<std::int32_t>(); }, ErrorCode::invalid_argument);
  TensorView v = t;
  error_message([&] { v.data_as<std::uint8_t>(); }, ErrorCode::invalid_argument);
  ConstTensorView c = t;
  error_message([&] { c.data_as<std::int64_t>(); }, ErrorCode::invalid_argument);
  EXPECT_EQ(c.data_as<float>(), t.data());
}

// ---- Error --------------------------------------------------------------------------------------
TEST(CoreTypes, ErrorCodeToString) {
  EXPECT_STREQ(to_string(ErrorCode::invalid_argument), "invalid_argument");
  EXPECT_STREQ(to_string(ErrorCode::unsupported), "unsupported");
  EXPECT_STREQ(to_string(ErrorCode::out_of_memory), "out_of_memory");
  EXPECT_STREQ(to_string(ErrorCode::backend_error), "backend_error");
  EXPECT_STREQ(to_string(ErrorCode::io_error), "io_error");
  EXPECT_STREQ(to_string(ErrorCode::internal), "internal");
}

TEST(CoreTypes, ErrorCarriesCodeAndMessage) {
  const Error e(ErrorCode::io_error, "cannot read weights.bin");
  EXPECT_EQ(e.code(), ErrorCode::io_error);
  EXPECT_STREQ(e.what(), "cannot read weights.bin");
  static_assert(std::is_base_of_v<std::runtime_error, Error>);
  EXPECT_NO_THROW(check_argument(true, "f", "a", "is fine"));
  const std::string msg = error_message([] { check_argument(false, "forward", "h0", "is wrong"); },
                                        ErrorCode::invalid_argument);
  EXPECT_EQ(msg, "forward: argument 'h0' is wrong");
}

TEST(CoreTypes, ShapeWhoseElementCountOverflowsIsRefused) {
  testing::expect_error([] { Shape s{1LL << 40, 1LL << 40}; }, ErrorCode::invalid_argument,
                        {"64-bit"});
}

TEST(CoreTypes, TensorLargerThanTheAddressSpaceIsOutOfMemory) {
  testing::expect_error([] { Tensor::empty({1LL << 62}, DType::f64); }, ErrorCode::out_of_memory,
                        {"exceeds the address space"});
}

TEST(CoreTypes, ToIntegerRefusesNanAndOutOfRange) {
  for (double bad : {std::nan(""), 3e9, -3e9}) {
    Tensor t = Tensor::empty({2}, DType::f64);
    t.data_as<double>()[0] = 1;
    t.data_as<double>()[1] = bad;
    testing::expect_error([&] { t.to(DType::i32); }, ErrorCode::invalid_argument,
                          {"element 1", "not representable as i32"});
  }
  Tensor edge = Tensor::empty({2}, DType::f64);
  edge.data_as<double>()[0] = -2147483648.0;
  edge.data_as<double>()[1] = 2147483647.0;
  const Tensor i = edge.to(DType::i32);
  EXPECT_EQ(i.data_as<std::int32_t>()[0], INT32_MIN);
  EXPECT_EQ(i.data_as<std::int32_t>()[1], INT32_MAX);
}

// The 16-bit types against independent references: every bf16 and f16 bit pattern widens and
// rounds back to itself (NaN stays NaN); float -> bf16 is the nearest bf16 with ties to even,
// found by comparing the two candidates in double; float -> f16 is what the CPU's F16C
// instruction gives (round to nearest even), where the CPU has it; and Tensor::to's bulk
// conversions equal the element-by-element ones.
TEST(CoreTypes, HalfConversionsRoundToNearestEven) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float bf = float_from_bfloat16_bits(bits), hf = float_from_float16_bits(bits);
    if (std::isnan(bf)) {
      EXPECT_TRUE(std::isnan(float_from_bfloat16_bits(bfloat16_bits_from(bf))));
    } else {
      ASSERT_EQ(bfloat16_bits_from(bf), bits) << b;
      ASSERT_EQ(bfloat16_bits_from(static_cast<double>(bf)), bits) << b;
    }
    if (std::isnan(hf)) {
      EXPECT_TRUE(std::isnan(float_from_float16_bits(float16_bits_from(hf))));
    } else {
      ASSERT_EQ(float16_bits_from(hf), bits) << b;
      ASSERT_EQ(float16_bits_from(static_cast<double>(hf)), bits) << b;
    }
  }
  std::vector<float> values;
  std::uint64_t state = 12345;
  for (int k = 0; k < 200000; ++k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto u = static_cast<std::uint32_t>(state >> 32);
    float v;
    std::memcpy(&v, &u, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
    const std::uint32_t tie = (u & 0xffff0000u) | 0x8000u;  // exactly halfway between two bf16
    std::memcpy(&v, &tie, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
  }
  for (float v : values) {
    const std::uint16_t got = bfloat16_bits_from(v);
    const std::uint32_t u = [&] { std::uint32_t x; std::memcpy(&x, &v, sizeof x); return x; }();
    const auto down = static_cast<std::uint16_t>(u >> 16), up = static_cast<std::uint16_t>(down + 1);
    // Past the largest finite bf16 the next candidate is infinity, placed where 2^128 would be
    // (IEEE: a value from halfway to 2^128 on rounds to infinity).
    const auto value_of = [](std::uint16_t b) {
      const double x = float_from_bfloat16_bits(b);
      return std::isinf(x) ? std::copysign(std::ldexp(1.0, 128), x) : x;
    };
    const double dd = std::fabs(value_of(down) - v), du = std::fabs(value_of(up) - v);
    const std::uint16_t nearest = dd < du ? down : du < dd ? up : (down % 2 == 0 ? down : up);
    ASSERT_EQ(got, nearest) << v;
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("f16c")) {
      ASSERT_EQ(float16_bits_from(v), f16c_round(v)) << v;
    }
#endif
  }
  const Tensor t = Tensor::from_host<float>({static_cast<std::int64_t>(values.size())}, values.data());
  for (DType half : {DType::bf16, DType::f16}) {
    const Tensor bulk = t.to(half);
    const std::uint16_t* bits = static_cast<const std::uint16_t*>(bulk.data());
    for (std::size_t k = 0; k < values.size(); ++k) {
      ASSERT_EQ(bits[k], half == DType::bf16 ? bfloat16_bits_from(values[k]) : float16_bits_from(values[k])) << k;
    }
    const Tensor back = bulk.to(DType::f32);
    for (std::size_t k = 0; k < values.size(); ++k) {
      ASSERT_EQ(back.data_as<float>()[k],
                half == DType::bf16 ? float_from_bfloat16_bits(bits[k]) : float_from_float16_bits(bits[k]));
    }
  }
}

}  // namespace
}  // namespace gpurnn
