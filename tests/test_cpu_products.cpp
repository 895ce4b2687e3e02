// The training ops' f32 products (cpu::training_gemm): every transposition, strided operands,
// overwrite and accumulate, against a naive double-precision product. The sizes are above the
// size OpenBLAS keeps on one thread, so with oneDNN and 2 threads they run on oneDNN's matmul
// (src/cpu/blas.h), the path no model test pins down on a machine with one core.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/half_arrays.h"
#include "cpu/blas.h"
#include "cpu/gemv_f32.h"
#if GPURNN_TEST_HAVE_ONEDNN
#include "cpu/packed_gemm.h"
#endif
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using engine::Trans;

// Leaves the calling thread's OpenMP (oneDNN) thread count at 2, as every call of a cpu
// backend made with num_threads = 2 does.
void use_two_threads() {
  BackendOptions options;
  options.num_threads = 2;
  const std::unique_ptr<Backend> cpu = make_backend("cpu", options);
  RNNDescriptor d;
  d.input_size = 3;
  d.hidden_size = 4;
  RNNWeights w(d, DType::f32);
  w.init_uniform(1);
  FullRunInputs in;
  in.x = random_tensor({2, 2, 3}, DType::f32, 1, 1);
  in.dy = random_tensor({2, 2, 4}, DType::f32, 1, 2);
  (void)full_run(*cpu, w, in);
}

std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(CpuProducts, TrainingGemmMatchesNaiveProductForEveryTransposition) {
  use_two_threads();
  const std::int64_t m = 70, n = 90, k = 110;  // 693,000 multiply-adds
  for (const Trans ta : {Trans::no, Trans::yes}) {
    for (const Trans tb : {Trans::no, Trans::yes}) {
      for (const float beta : {0.0f, 1.0f}) {
        SCOPED_TRACE(std::string("ta ") + (ta == Trans::yes ? "T" : "N") + " tb " +
                     (tb == Trans::yes ? "T" : "N") + " beta " + std::to_string(beta));
        // Stored shapes with leading dimensions larger than the rows they hold.
        const std::int64_t a_rows = ta == Trans::yes ? k : m, a_cols = ta == Trans::yes ? m : k;
        const std::int64_t b_rows = tb == Trans::yes ? n : k, b_cols = tb == Trans::yes ? k : n;
        const std::int64_t lda = a_cols + 3, ldb = b_cols + 5, ldc = n + 7;
        const std::vector<float> a = random_values(static_cast<std::size_t>(a_rows * lda), 1);
        const std::vector<float> b = random_values(static_cast<std::size_t>(b_rows * ldb), 2);
        std::vector<float> c = random_values(static_cast<std::size_t>(m * ldc), 3);
        const std::vector<float> c_before = c;
        cpu::training_gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        double worst = 0.0;
        for (std::int64_t i = 0; i < m; ++i) {
          for (std::int64_t j = 0; j < n; ++j) {
            double want = beta * static_cast<double>(c_before[i * ldc + j]);
            for (std::int64_t p = 0; p < k; ++p) {
              const float av = ta == Trans::yes ? a[p * lda + i] : a[i * lda + p];
              const float bv = tb == Trans::yes ? b[j * ldb + p] : b[p * ldb + j];
              want += static_cast<double>(av) * bv;
            }
            worst = std::max(worst, std::abs(c[i * ldc + j] - want));
          }
          // The padding between rows of C is never written.
          for (std::int64_t j = n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], c_before[i * ldc + j]);
        }
        EXPECT_LT(worst, 1e-4);
      }
    }
  }
}

#if GPURNN_TEST_HAVE_ONEDNN
// Packed weights that cannot be allocated, for one call or kept for prepared weights (2^23 x 2^23 f32, 256 TiB: more than the address
// space) are Error(out_of_memory) naming the bytes, as for a Tensor, not a bare std::bad_alloc.
// W is never read: the allocation comes before the reorder.
TEST(PackedGemm, WeightsTooLargeToPackAreOutOfMemory) {
  const std::int64_t n = std::int64_t{1} << 23;
  const float w = 0.0f;
  const engine::FixedWeightGemm<float> g{Trans::no, 1, n, n, &w, n, n, n, 0.0f};
  for (const auto storage : {cpu::PackedGemm::Storage::per_call, cpu::PackedGemm::Storage::kept}) {
    expect_error([&] { cpu::PackedGemm packed(g, storage); }, ErrorCode::out_of_memory,
                 {"PackedGemm: cannot allocate ", " bytes of host memory"});
  }
}
#endif

// The batch-1 bf16 product (AVX512-BF16 dot products where the CPU has them, else W widened as
// it is read; both paths) against the exact product of the same bf16 values: within f32 summation error,
// γ_k Σ|a||w| with γ_k = k·2^-24/(1 - k·2^-24), for lengths around the 32-wide blocks, tails
// and the four-row groups, with beta 0 and 1.
// gemv_f32.cpp is built with oneDNN only (the cpu backend's other GEMVs are its own otherwise).
#if GPURNN_TEST_HAVE_ONEDNN
TEST(CpuProducts, Bf16RowTimesWeightsIsTheExactProductWithinF32Summation) {
  for (const std::int64_t k : {1, 31, 32, 33, 100, 512}) {
    for (const std::int64_t n : {1, 5, 64, 67}) {
      const std::int64_t ldw = k + 3;
      std::vector<float> a = random_values(static_cast<std::size_t>(k), 1), w = random_values(static_cast<std::size_t>(n * ldw), 2);
      detail::round_to_half(DType::bf16, a.data(), k);
      detail::round_to_half(DType::bf16, w.data(), n * ldw);
      std::vector<std::uint16_t> w_bits(w.size());
      detail::narrow_to_half(DType::bf16, w.data(), w_bits.data(), n * ldw);
      for (const float beta : {0.0f, 1.0f}) {
       for (const bool dot_products : {true, false}) {
        std::vector<float> c(static_cast<std::size_t>(n), 0.5f);
        cpu::gemv_wt_bf16(n, k, a.data(), w_bits.data(), ldw, beta, c.data(), dot_products);
        const double gamma = k * 0x1p-24 / (1 - k * 0x1p-24);
        for (std::int64_t j = 0; j < n; ++j) {
          double exact = beta * 0.5, magnitude = 0.5;
          for (std::int64_t p = 0; p < k; ++p) {
            exact += static_cast<double>(a[p]) * w[j * ldw + p];
            magnitude += std::fabs(static_cast<double>(a[p]) * w[j * ldw + p]);
          }
          ASSERT_LE(std::fabs(c[j] - exact), (gamma + 0x1p-24) * magnitude)
              << "k " << k << " n " << n << " j " << j << " dot products " << dot_products;
        }
       }
      }
    }
  }
}
#endif

}  // namespace
}  // namespace gpurnn::testing
