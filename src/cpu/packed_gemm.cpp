#include "cpu/packed_gemm.h"

#include <omp.h>

#include <dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

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

// op(X) [rows, cols] of a row-major X with leading dimension ld: X itself is [cols, rows] when
// transposed (read through the strides), else [rows, cols].
memory::desc operand(engine::Trans t, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  return t == engine::Trans::yes ? memory::desc({rows, cols}, memory::data_type::f32, memory::dims{1, ld})
                                 : matrix(rows, cols, ld);
}

// op(W) as oneDNN's [k, n] weights.
memory::desc weights_as_given(const engine::FixedWeightGemm<float>& g) { return operand(g.tw, g.k, g.n, g.ldw); }

// C = ... + beta C as a sum post-op (none when beta is 0).
dnnl::primitive_attr beta_attr(float beta) {
  dnnl::primitive_attr attr;
  if (beta != 0.0f) {
    dnnl::post_ops sum;
    sum.append_sum(beta);
    attr.set_post_ops(sum);
  }
  return attr;
}

// A failed oneDNN call as the library's Error (backend_error), naming the call.
[[noreturn]] void rethrow(const char* where, const dnnl::error& e) {
  throw Error(ErrorCode::backend_error,
              std::string("cpu backend: oneDNN ") + where + " failed: " + e.what());
}

// Memory for packed weights, kept by each thread between layer calls. A PackedGemm lives for
// one call; allocating its packed copy afresh each time faulted in every page of it, and the
// forward W_hh reorder of lstm/infer H:1024 B:32 took 8.4 ms per call that way, 6.8 ms into
// reused memory (H:512: 1.9 and 1.2 ms). The pool keeps at most kMaxIdle unused blocks per
// thread (the largest ones), so it holds about the packed size of the largest layer's W_hh
// and W_hr.
class PackedBufferPool {
 public:
  struct Block {
    std::size_t bytes = 0;
    std::unique_ptr<void, void (*)(void*)> data{nullptr, std::free};
  };
  static PackedBufferPool& of_this_thread() {
    thread_local PackedBufferPool pool;
    return pool;
  }
  // The smallest idle block of at least `bytes`, else a new one (page-aligned).
  Block acquire(std::size_t bytes) {
    auto best = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->bytes >= bytes && (best == idle_.end() || it->bytes < best->bytes)) best = it;
    }
    if (best != idle_.end()) {
      Block b = std::move(*best);
      idle_.erase(best);
      return b;
    }
    const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    Block b;
    b.bytes = rounded;
    b.data.reset(std::aligned_alloc(kAlign, rounded));
    if (b.data == nullptr) {
      throw Error(ErrorCode::out_of_memory, "PackedGemm: cannot allocate " + std::to_string(rounded) +
                                                " bytes of host memory for the packed weights");
    }
    return b;
  }
  void release(Block b) {
    idle_.push_back(std::move(b));
    if (idle_.size() > kMaxIdle) {
      idle_.erase(std::min_element(idle_.begin(), idle_.end(),
                                   [](const Block& x, const Block& y) { return x.bytes < y.bytes; }));
    }
  }

 private:
  static constexpr std::size_t kAlign = 4096;
  static constexpr std::size_t kMaxIdle = 4;
  std::vector<Block> idle_;
};

}  // namespace

struct PackedGemm::Impl {
  dnnl::stream stream;
  dnnl::matmul matmul;
  PackedBufferPool::Block storage;  // from the thread's pool, given back by ~Impl
  memory weights;                   // packed, in `storage`
  memory a, c;                      // data handles set per run
  ~Impl() {
    if (storage.data != nullptr) PackedBufferPool::of_this_thread().release(std::move(storage));
  }
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
  const memory::desc user_weights = weights_as_given(g);
  const memory::desc any_weights({g.k, g.n}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc a_desc = matrix(g.m, g.k, g.lda), c_desc = matrix(g.m, g.n, g.ldc);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, any_weights, c_desc), beta_attr(g.beta), engine);
  impl_->stream = dnnl::stream(engine);
  impl_->matmul = dnnl::matmul(pd);
  impl_->storage = PackedBufferPool::of_this_thread().acquire(pd.weights_desc().get_size());
  impl_->weights = memory(pd.weights_desc(), engine, impl_->storage.data.get());
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

void matmul_bias_rows(const engine::FixedWeightGemm<float>& g, const float* a, const float* bias,
                      float* c) {
  const dnnl::engine& engine = cpu_engine();
  const memory::desc a_desc = matrix(g.m, g.k, g.lda), w_desc = weights_as_given(g);
  const memory::desc c_desc = matrix(g.m, g.n, g.ldc), bias_desc = matrix(1, g.n, g.n);
  try {
    // The primitive is rebuilt per call; oneDNN's primitive cache makes repeats cheap.
    const dnnl::matmul::primitive_desc pd(
        bias != nullptr ? dnnl::matmul::desc(a_desc, w_desc, bias_desc, c_desc)
                        : dnnl::matmul::desc(a_desc, w_desc, c_desc),
        beta_attr(g.beta), engine);
    dnnl::stream stream(engine);
    memory a_mem(a_desc, engine, const_cast<float*>(a)), w_mem(w_desc, engine, const_cast<float*>(g.w));
    memory c_mem(c_desc, engine, c);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, c_mem}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(bias_desc, engine, const_cast<float*>(bias)));
    dnnl::matmul(pd).execute(stream, args);
    stream.wait();
  } catch (const dnnl::error& e) {
    rethrow("input-projection matmul", e);
  }
}

void matmul(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
            std::int64_t ldc) {
  const dnnl::engine& engine = cpu_engine();
  const memory::desc a_desc = operand(ta, m, k, lda), b_desc = operand(tb, k, n, ldb);
  const memory::desc c_desc = matrix(m, n, ldc);
  try {
    // Rebuilt per call, like matmul_bias_rows: the primitive cache makes repeats cheap.
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, b_desc, c_desc),
                                          beta_attr(beta), engine);
    dnnl::stream stream(engine);
    memory a_mem(a_desc, engine, const_cast<float*>(a)), b_mem(b_desc, engine, const_cast<float*>(b));
    memory c_mem(c_desc, engine, c);
    dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    stream.wait();
  } catch (const dnnl::error& e) {
    rethrow("matmul", e);
  }
}

void set_onednn_threads(int n) {
  if (n > 0 && n != omp_get_max_threads()) omp_set_num_threads(n);
}

int onednn_threads() { return omp_get_max_threads(); }

bool use_onednn_for_rows(std::int64_t m) { return m > 1 || onednn_threads() > 1; }

}  // namespace gpurnn::cpu
