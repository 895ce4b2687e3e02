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

// Attributes of a primitive run with a scratchpad the caller passes (packed_gemm.h: runs may
// come from any thread).
dnnl::primitive_attr user_scratchpad_attr(float beta) {
  dnnl::primitive_attr attr = beta_attr(beta);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

using HostBlock = std::unique_ptr<void, void (*)(void*)>;

// Host memory of at least `bytes`, page-aligned, rounded up to whole pages (`rounded` set to
// the size). Error(out_of_memory) naming the bytes and `what` when it cannot be had.
HostBlock page_aligned_block(std::size_t bytes, const char* what, std::size_t& rounded) {
  constexpr std::size_t kPage = 4096;
  rounded = (bytes + kPage - 1) / kPage * kPage;
  HostBlock block(std::aligned_alloc(kPage, rounded), std::free);
  if (block == nullptr) {
    throw Error(ErrorCode::out_of_memory, "PackedGemm: cannot allocate " + std::to_string(rounded) +
                                              " bytes of host memory for " + what);
  }
  return block;
}

constexpr const char* kPackedWeights = "the packed weights";

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
    HostBlock data{nullptr, std::free};
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
    Block b;
    b.data = page_aligned_block(bytes, kPackedWeights, b.bytes);
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
  static constexpr std::size_t kMaxIdle = 4;
  std::vector<Block> idle_;
};


// A thread's stream on the cpu engine, and its scratchpad for runs of packed GEMMs (grown to
// the largest a primitive has asked for; user scratchpad mode, see packed_gemm.h).
struct ThreadRunState {
  dnnl::stream stream{cpu_engine()};
  HostBlock scratchpad{nullptr, std::free};
  std::size_t scratchpad_bytes = 0;

  static ThreadRunState& get() {
    thread_local ThreadRunState state;
    return state;
  }
  void* scratchpad_of(std::size_t bytes) {
    if (bytes > scratchpad_bytes) scratchpad = page_aligned_block(bytes, "oneDNN's scratchpad", scratchpad_bytes);
    return scratchpad.get();
  }
};

// Memory of `bytes` for a packed copy: from the thread's pool for one call, else its own.
std::shared_ptr<void> packed_storage(std::size_t bytes, PackedGemm::Storage storage) {
  if (storage == PackedGemm::Storage::per_call) {
    auto block = std::make_shared<PackedBufferPool::Block>(PackedBufferPool::of_this_thread().acquire(bytes));
    void* data = block->data.get();
    return std::shared_ptr<void>(data, [block](void*) mutable {
      PackedBufferPool::of_this_thread().release(std::move(*block));
    });
  }
  std::size_t rounded = 0;
  return std::shared_ptr<void>(page_aligned_block(bytes, kPackedWeights, rounded));
}

// C[rows, n] = A[rows, k] W + bias[n] in every row (bias null: none) + beta C, row-major with
// leading dimensions lda and ldc, W the [k, n] weights in `weights` (as given, or packed): one
// oneDNN matmul, its primitive rebuilt per call (the primitive cache makes repeats cheap), on
// the calling thread's stream and scratchpad. A failing call throws Error(backend_error)
// naming `where`.
void bias_matmul(const memory& weights, std::int64_t rows, std::int64_t k, std::int64_t n, std::int64_t lda,
                 std::int64_t ldc, float beta, const float* a, const float* bias, float* c, const char* where) {
  const dnnl::engine& engine = cpu_engine();
  ThreadRunState& thread = ThreadRunState::get();
  const memory::desc a_desc = matrix(rows, k, lda), c_desc = matrix(rows, n, ldc), bias_desc = matrix(1, n, n);
  try {
    const memory::desc w_desc = weights.get_desc();
    const dnnl::matmul::primitive_desc pd(bias != nullptr ? dnnl::matmul::desc(a_desc, w_desc, bias_desc, c_desc)
                                                          : dnnl::matmul::desc(a_desc, w_desc, c_desc),
                                          user_scratchpad_attr(beta), engine);
    memory a_mem(a_desc, engine, const_cast<float*>(a)), c_mem(c_desc, engine, c);
    memory scratch(pd.scratchpad_desc(), engine, thread.scratchpad_of(pd.scratchpad_desc().get_size()));
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DST, c_mem}, {DNNL_ARG_SCRATCHPAD, scratch}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(bias_desc, engine, const_cast<float*>(bias)));
    dnnl::matmul(pd).execute(thread.stream, args);
    thread.stream.wait();
  } catch (const dnnl::error& e) {
    rethrow(where, e);
  }
}

}  // namespace

struct PackedGemm::Impl {
  dnnl::matmul matmul;
  std::int64_t lda = 0, ldc = 0, n = 0, k = 0;
  float beta = 0.0f;
  memory::desc a_desc, c_desc, weights_desc, scratchpad_desc;
  // The packed copy: shared by the objects that share it, and handed back to the pool of the
  // thread that drops the last reference (per_call) or freed (kept).
  std::shared_ptr<void> packed;
  std::size_t packed_bytes = 0;
  memory weights;
  // What was packed, for sharing (packed_gemm.h).
  const float* source = nullptr;
  engine::Trans source_op = engine::Trans::no;
  std::int64_t source_ld = 0;
};

PackedGemm::PackedGemm(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share)
    : impl_(std::make_unique<Impl>()) {
  try {
    pack(g, storage, share);
  } catch (const dnnl::error& e) {
    rethrow("matmul setup or weight reorder", e);
  }
}

void PackedGemm::pack(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share) {
  const dnnl::engine& engine = cpu_engine();
  Impl& m = *impl_;
  const memory::desc any_weights({g.k, g.n}, memory::data_type::f32, memory::format_tag::any);
  m.lda = g.lda, m.ldc = g.ldc, m.n = g.n, m.k = g.k, m.beta = g.beta;
  m.a_desc = matrix(g.m, g.k, g.lda);
  m.c_desc = matrix(g.m, g.n, g.ldc);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(m.a_desc, any_weights, m.c_desc),
                                        user_scratchpad_attr(g.beta), engine);
  m.matmul = dnnl::matmul(pd);
  m.weights_desc = pd.weights_desc();
  m.scratchpad_desc = pd.scratchpad_desc();
  m.source = g.w;
  m.source_op = g.tw;
  m.source_ld = g.ldw;
  const Impl* other = share != nullptr ? share->impl_.get() : nullptr;
  if (other != nullptr && other->source == g.w && other->source_op == g.tw && other->source_ld == g.ldw &&
      other->weights_desc == m.weights_desc) {
    m.packed = other->packed;
    m.packed_bytes = other->packed_bytes;
    m.weights = memory(m.weights_desc, engine, m.packed.get());
    return;
  }
  m.packed_bytes = m.weights_desc.get_size();
  m.packed = packed_storage(m.packed_bytes, storage);
  m.weights = memory(m.weights_desc, engine, m.packed.get());
  dnnl::stream& stream = ThreadRunState::get().stream;
  memory user(weights_as_given(g), engine, const_cast<float*>(g.w));
  dnnl::reorder(user, m.weights).execute(stream, user, m.weights);
  stream.wait();
}

PackedGemm::~PackedGemm() = default;

void PackedGemm::run(const float* a, float* c) const {
  const Impl& m = *impl_;
  const dnnl::engine& engine = cpu_engine();
  ThreadRunState& thread = ThreadRunState::get();
  try {
    memory a_mem(m.a_desc, engine, const_cast<float*>(a)), c_mem(m.c_desc, engine, c);
    memory scratch(m.scratchpad_desc, engine, thread.scratchpad_of(m.scratchpad_desc.get_size()));
    m.matmul.execute(thread.stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, m.weights}, {DNNL_ARG_DST, c_mem},
                                     {DNNL_ARG_SCRATCHPAD, scratch}});
    thread.stream.wait();
  } catch (const dnnl::error& e) {
    rethrow("matmul", e);
  }
}

void PackedGemm::run_rows(std::int64_t rows, const float* a, const float* bias, float* c) const {
  const Impl& m = *impl_;
  bias_matmul(m.weights, rows, m.k, m.n, m.lda, m.ldc, m.beta, a, bias, c, "input-projection matmul on packed weights");
}

std::size_t PackedGemm::packed_bytes() const { return impl_->packed_bytes; }
const void* PackedGemm::packed_data() const { return impl_->packed.get(); }

void matmul_bias_rows(const engine::FixedWeightGemm<float>& g, const float* a, const float* bias,
                      float* c) {
  try {
    const memory weights(weights_as_given(g), cpu_engine(), const_cast<float*>(g.w));
    bias_matmul(weights, g.m, g.k, g.n, g.lda, g.ldc, g.beta, a, bias, c, "input-projection matmul");
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
