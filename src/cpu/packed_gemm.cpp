#include "cpu/packed_gemm.h"

#include <omp.h>

#include <dnnl.hpp>

#include <string>

#include "gpurnn/error.h"

namespace gpurnn::cpu {
namespace {

using dnnl::memory;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A row-major [rows, cols] f32 matrix with leading dimension ld.
memory::desc matrix(std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  return memory::desc({rows, cols}, memory::data_type::f32, memory::dims{ld, 1});
}

// A failed oneDNN call as the library's Error (backend_error), naming the call.
[[noreturn]] void rethrow(const char* where, const dnnl::error& e) {
  throw Error(ErrorCode::backend_error,
              std::string("cpu backend: oneDNN ") + where + " failed: " + e.what());
}

}  // namespace

struct PackedGemm::Impl {
  dnnl::stream stream;
  dnnl::matmul matmul;
  memory weights;  // packed
  memory a, c;     // data handles set per run
};

PackedGemm::PackedGemm(const engine::FixedWeightGemm<float>& g) : impl_(std::make_unique<Impl>()) {
  try {
    pack(g);
  } catch (const dnnl::error& e) {
    rethrow("matmul setup or weight reorder", e);
  }
}

void PackedGemm::pack(const engine::FixedWeightGemm<float>& g) {
  const dnnl::engine& engine = cpu_engine();
  // op(W) as oneDNN's [k, n] weights: W itself is [n, k] (transposed) or [k, n], ld ldw.
  const memory::desc user_weights =
      g.tw == engine::Trans::yes
          ? memory::desc({g.k, g.n}, memory::data_type::f32, memory::dims{1, g.ldw})
          : matrix(g.k, g.n, g.ldw);
  const memory::desc any_weights({g.k, g.n}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc a_desc = matrix(g.m, g.k, g.lda), c_desc = matrix(g.m, g.n, g.ldc);
  dnnl::primitive_attr attr;
  if (g.beta != 0.0f) {
    dnnl::post_ops sum;
    sum.append_sum(g.beta);
    attr.set_post_ops(sum);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, any_weights, c_desc), attr, engine);
  impl_->stream = dnnl::stream(engine);
  impl_->matmul = dnnl::matmul(pd);
  impl_->weights = memory(pd.weights_desc(), engine);
  memory user(user_weights, engine, const_cast<float*>(g.w));
  dnnl::reorder(user, impl_->weights).execute(impl_->stream, user, impl_->weights);
  impl_->a = memory(a_desc, engine, DNNL_MEMORY_NONE);
  impl_->c = memory(c_desc, engine, DNNL_MEMORY_NONE);
  impl_->stream.wait();
}

PackedGemm::~PackedGemm() = default;

void PackedGemm::run(const float* a, float* c) const {
  Impl& m = *impl_;
  m.a.set_data_handle(const_cast<float*>(a));
  m.c.set_data_handle(c);
  try {
    m.matmul.execute(m.stream, {{DNNL_ARG_SRC, m.a}, {DNNL_ARG_WEIGHTS, m.weights}, {DNNL_ARG_DST, m.c}});
    m.stream.wait();
  } catch (const dnnl::error& e) {
    rethrow("matmul", e);
  }
}

void set_onednn_threads(int n) {
  if (n > 0 && n != omp_get_max_threads()) omp_set_num_threads(n);
}

}  // namespace gpurnn::cpu
