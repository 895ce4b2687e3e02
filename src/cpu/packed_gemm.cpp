#include "cpu/packed_gemm.h"

#include <omp.h>

#include <dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/half_arrays.h"
#include "cpu/gemm_chunks.h"
#include "cpu/worker_pool.h"
#include "gpurnn/error.h"

namespace gpurnn::cpu {
namespace {

using dnnl::memory;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

using DataType = memory::data_type;

// A row-major [rows, cols] matrix (f32 unless said) with leading dimension ld.
memory::desc matrix(std::int64_t rows, std::int64_t cols, std::int64_t ld, DataType type = DataType::f32) {
  return memory::desc({rows, cols}, type, memory::dims{ld, 1});
}

// op(X) [rows, cols] of a row-major X with leading dimension ld: X itself is [cols, rows] when
// transposed (read through the strides), else [rows, cols].
memory::desc operand(engine::Trans t, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                     DataType type = DataType::f32) {
  return t == engine::Trans::yes ? memory::desc({rows, cols}, type, memory::dims{1, ld})
                                 : matrix(rows, cols, ld, type);
}

// op(W) as oneDNN's [k, n] weights.
memory::desc weights_as_given(const engine::FixedWeightGemm<float>& g, DataType type = DataType::f32) {
  return operand(g.tw, g.k, g.n, g.ldw, type);
}

// The calling thread's buffer of `count` floats for a bf16 chunk's product (PackedGemm::run).
float* bf16_chunk_result(std::int64_t count) {
  thread_local std::vector<float> buffer;
  buffer.resize(static_cast<std::size_t>(count));
  return buffer.data();
}

// C[rows, cols] (leading dimension ldc) = product (dense) + beta C.
void store_chunk(const float* product, std::int64_t rows, std::int64_t cols, float beta, float* c, std::int64_t ldc) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    const float* p = product + r * cols;
    for (std::int64_t j = 0; j < cols; ++j) row[j] = beta == 0.0f ? p[j] : p[j] + beta * row[j];
  }
}

// The stored matrix [rows, cols] (leading dimension ld) rounded to bf16 into `out`, contiguous.
void bf16_copy(const float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld, std::vector<std::uint16_t>& out) {
  out.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) detail::narrow_to_half(DType::bf16, x + r * ld, out.data() + r * cols, cols);
}

// A's rows [rows, k] (leading dimension lda, bf16 values held as floats) as contiguous bf16 in
// the calling thread's buffer: exact, the operand of a bf16 matmul.
const std::uint16_t* bf16_rows(const float* a, std::int64_t rows, std::int64_t k, std::int64_t lda) {
  thread_local std::vector<std::uint16_t> buffer;
  bf16_copy(a, rows, k, lda, buffer);
  return buffer.data();
}

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
// A is f32, or bf16 when `a_type` says so (with weights in bf16).
void bias_matmul(const memory& weights, std::int64_t rows, std::int64_t k, std::int64_t n, std::int64_t lda,
                 std::int64_t ldc, float beta, const void* a, const float* bias, float* c, const char* where,
                 DataType a_type = DataType::f32) {
  const dnnl::engine& engine = cpu_engine();
  ThreadRunState& thread = ThreadRunState::get();
  const memory::desc a_desc = matrix(rows, k, lda, a_type), c_desc = matrix(rows, n, ldc), bias_desc = matrix(1, n, n);
  try {
    const memory::desc w_desc = weights.get_desc();
    const dnnl::matmul::primitive_desc pd(bias != nullptr ? dnnl::matmul::desc(a_desc, w_desc, bias_desc, c_desc)
                                                          : dnnl::matmul::desc(a_desc, w_desc, c_desc),
                                          user_scratchpad_attr(beta), engine);
    memory a_mem(a_desc, engine, const_cast<void*>(a)), c_mem(c_desc, engine, c);
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

// W's columns [col, col + cols): the same product on a slice of W and of C.
engine::FixedWeightGemm<float> column_slice(const engine::FixedWeightGemm<float>& g, std::int64_t col,
                                            std::int64_t cols) {
  engine::FixedWeightGemm<float> s = g;
  s.n = cols;
  s.w = op_cols_from(g.tw, g.w, g.ldw, col);
  return s;
}

}  // namespace

// W packed per column chunk of kChunkCols (gemm_chunks.h), the chunks run on the pool. Every
// full-width chunk has the same shapes, so they share one primitive (and the narrower last one
// has its own); their packed copies lie in one block, allocated at once, so weights too large
// to pack fail before any work (and a layer call takes one block from the thread's pool).
struct PackedGemm::Impl {
  struct Shape {  // the primitive of chunks of one width
    std::int64_t cols = 0;
    dnnl::matmul matmul;
    memory::desc a_desc, c_desc, weights_desc, scratchpad_desc;
  };
  struct Chunk {
    std::int64_t col = 0;
    const Shape* shape = nullptr;
    memory weights;  // its packed copy, inside `packed`
  };
  Shape full, tail;
  std::vector<Chunk> chunks;
  // The block of packed copies: shared by the objects that share it, and handed back to the pool
  // of the thread that drops the last reference (per_call) or freed (kept).
  std::shared_ptr<void> packed;
  std::size_t packed_bytes = 0;
  std::int64_t lda = 0, ldc = 0, n = 0, k = 0;
  float beta = 0.0f;
  // bf16 operands: W packed from `bf16_weights`, A rounded to bf16 (contiguous, lda = k) per run.
  DataType operand_type = DataType::f32;
  std::int64_t lda_given = 0;  // A's leading dimension as the caller passes it
  // What was packed, for sharing (packed_gemm.h).
  const float* source = nullptr;
  engine::Trans source_op = engine::Trans::no;
  std::int64_t source_ld = 0;
};

namespace {

constexpr std::size_t kChunkAlignment = 64;
std::size_t aligned(std::size_t bytes) { return (bytes + kChunkAlignment - 1) / kChunkAlignment * kChunkAlignment; }

}  // namespace

PackedGemm::PackedGemm(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share,
                       const std::uint16_t* bf16_weights)
    : impl_(std::make_unique<Impl>()) {
  try {
    pack(g, storage, share, bf16_weights);
  } catch (const dnnl::error& e) {
    rethrow("matmul setup or weight reorder", e);
  }
}

void PackedGemm::pack(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share,
                      const std::uint16_t* bf16_weights) {
  Impl& m = *impl_;
  m.operand_type = bf16_weights != nullptr ? DataType::bf16 : DataType::f32;
  const bool bf16 = bf16_weights != nullptr;
  m.lda_given = g.lda;
  m.lda = bf16 ? g.k : g.lda, m.ldc = g.ldc, m.n = g.n, m.k = g.k, m.beta = g.beta;
  m.source = g.w;
  m.source_op = g.tw;
  m.source_ld = g.ldw;
  // The primitive of chunks `cols` wide, with W in the layout oneDNN picks for them.
  const auto make_shape = [&](Impl::Shape& shape, std::int64_t cols) {
    shape.cols = cols;
    const memory::desc any_weights({g.k, cols}, m.operand_type, memory::format_tag::any);
    shape.a_desc = matrix(g.m, g.k, m.lda, m.operand_type);
    // bf16: C's chunk into a contiguous buffer (bf16_chunk_result), as oneDNN 2.6 runs a bf16
    // matmul with its brgemm kernels only when the destination is dense; with C's row stride it
    // takes its gemm:jit kernels, which repack W at every call (0.68x its own RNN at B 32).
    shape.c_desc = bf16 ? matrix(g.m, cols, cols) : matrix(g.m, cols, g.ldc);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(shape.a_desc, any_weights, shape.c_desc),
                                          user_scratchpad_attr(bf16 ? 0.0f : g.beta), cpu_engine());
    shape.matmul = dnnl::matmul(pd);
    shape.weights_desc = pd.weights_desc();
    shape.scratchpad_desc = pd.scratchpad_desc();
  };
  const std::int64_t full_chunks = g.n / kChunkCols, tail_cols = g.n % kChunkCols;
  if (full_chunks > 0) make_shape(m.full, kChunkCols);
  if (tail_cols > 0) make_shape(m.tail, tail_cols);
  const std::size_t full_bytes = full_chunks > 0 ? aligned(m.full.weights_desc.get_size()) : 0;
  const std::size_t tail_bytes = tail_cols > 0 ? aligned(m.tail.weights_desc.get_size()) : 0;
  m.packed_bytes = full_bytes * static_cast<std::size_t>(full_chunks) + tail_bytes;

  const Impl* other = share != nullptr ? share->impl_.get() : nullptr;
  const bool shared = other != nullptr && other->operand_type == m.operand_type && other->source == g.w && other->source_op == g.tw && other->source_ld == g.ldw &&
                      other->n == g.n && other->k == g.k && (full_chunks == 0 || other->full.weights_desc == m.full.weights_desc) &&
                      (tail_cols == 0 || other->tail.weights_desc == m.tail.weights_desc);
  m.packed = shared ? other->packed : packed_storage(m.packed_bytes, storage);  // per_call: this thread's pool

  auto* base = static_cast<unsigned char*>(m.packed.get());
  for (std::int64_t col = 0; col < g.n; col += kChunkCols) {
    Impl::Chunk c;
    c.col = col;
    c.shape = col / kChunkCols < full_chunks ? &m.full : &m.tail;
    c.weights = memory(c.shape->weights_desc, cpu_engine(), base + static_cast<std::size_t>(col / kChunkCols) * full_bytes);
    m.chunks.push_back(std::move(c));
  }
  if (shared) return;
  // The reorders into the packed layouts, a chunk per item.
  parallel_for(static_cast<std::int64_t>(m.chunks.size()), [&](std::int64_t i) {
    Impl::Chunk& c = m.chunks[static_cast<std::size_t>(i)];
    try {
      dnnl::stream& stream = ThreadRunState::get().stream;
      const engine::FixedWeightGemm<float> slice = column_slice(g, c.col, c.shape->cols);
      void* source = bf16 ? const_cast<std::uint16_t*>(op_cols_from(g.tw, bf16_weights, g.ldw, c.col))
                          : static_cast<void*>(const_cast<float*>(slice.w));
      memory user(weights_as_given(slice, m.operand_type), cpu_engine(), source);
      dnnl::reorder(user, c.weights).execute(stream, user, c.weights);
      stream.wait();
    } catch (const dnnl::error& e) {
      rethrow("weight reorder", e);
    }
  });
}

PackedGemm::~PackedGemm() = default;

void PackedGemm::run(const float* a_given, float* c) const {
  const Impl& m = *impl_;
  const dnnl::engine& engine = cpu_engine();
  const std::int64_t rows = m.chunks.empty() ? 0 : m.chunks.front().shape->a_desc.dims()[0];
  const void* a = m.operand_type == DataType::bf16 ? static_cast<const void*>(bf16_rows(a_given, rows, m.k, m.lda_given))
                                                   : static_cast<const void*>(a_given);
  parallel_for(static_cast<std::int64_t>(m.chunks.size()), [&](std::int64_t i) {
    const Impl::Chunk& chunk = m.chunks[static_cast<std::size_t>(i)];
    const Impl::Shape& shape = *chunk.shape;
    ThreadRunState& thread = ThreadRunState::get();
    try {
      const bool dense = m.operand_type == DataType::bf16;
      float* out = dense ? bf16_chunk_result(rows * shape.cols) : c + chunk.col;
      memory a_mem(shape.a_desc, engine, const_cast<void*>(a)), c_mem(shape.c_desc, engine, out);
      memory scratch(shape.scratchpad_desc, engine, thread.scratchpad_of(shape.scratchpad_desc.get_size()));
      shape.matmul.execute(thread.stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, chunk.weights},
                                           {DNNL_ARG_DST, c_mem}, {DNNL_ARG_SCRATCHPAD, scratch}});
      thread.stream.wait();
      if (dense) store_chunk(out, rows, shape.cols, m.beta, c + chunk.col, m.ldc);
    } catch (const dnnl::error& e) {
      rethrow("matmul", e);
    }
  });
}

void PackedGemm::run_rows(std::int64_t rows, const float* a_given, const float* bias, float* c) const {
  const Impl& m = *impl_;
  const bool bf16 = m.operand_type == DataType::bf16;
  // bf16: A converted once for all pieces (contiguous: leading dimension k).
  const auto* a = static_cast<const unsigned char*>(
      bf16 ? static_cast<const void*>(bf16_rows(a_given, rows, m.k, m.lda_given)) : static_cast<const void*>(a_given));
  const std::size_t a_item = bf16 ? sizeof(std::uint16_t) : sizeof(float);
  const std::int64_t row_chunks = chunks_of(rows, kChunkRows);
  const std::int64_t col_chunks = static_cast<std::int64_t>(m.chunks.size());
  parallel_for(row_chunks * col_chunks, [&](std::int64_t i) {
    const Impl::Chunk& chunk = m.chunks[static_cast<std::size_t>(i % col_chunks)];
    const std::int64_t row = i / col_chunks * kChunkRows, count = std::min(kChunkRows, rows - row);
    const std::int64_t cols = chunk.shape->cols;
    // bf16: into a dense buffer first, as in run() (weights packed for brgemm need a dense C).
    float* out = bf16 ? bf16_chunk_result(count * cols) : c + row * m.ldc + chunk.col;
    bias_matmul(chunk.weights, count, m.k, cols, m.lda, bf16 ? cols : m.ldc, bf16 ? 0.0f : m.beta,
                a + static_cast<std::size_t>(row * m.lda) * a_item, bias != nullptr ? bias + chunk.col : nullptr, out,
                "input-projection matmul on packed weights", m.operand_type);
    if (bf16) store_chunk(out, count, cols, m.beta, c + row * m.ldc + chunk.col, m.ldc);
  });
}

std::size_t PackedGemm::packed_bytes() const { return impl_->packed_bytes; }
const void* PackedGemm::packed_data() const { return impl_->packed.get(); }

void matmul_bias_rows(const engine::FixedWeightGemm<float>& g, const float* a, const float* bias,
                      float* c) {
  chunked_gemm(engine::Trans::no, g.tw, g.m, g.n, a, g.lda, g.w, g.ldw, c, g.ldc,
               [&](const GemmChunk& p, const float* pa, const float* pw, float* pc) {
                 engine::FixedWeightGemm<float> s = g;
                 s.m = p.rows;
                 s.n = p.cols;
                 s.w = pw;
                 try {
                   const memory weights(weights_as_given(s), cpu_engine(), const_cast<float*>(s.w));
                   bias_matmul(weights, s.m, s.k, s.n, s.lda, s.ldc, s.beta, pa,
                               bias != nullptr ? bias + p.col : nullptr, pc, "input-projection matmul");
                 } catch (const dnnl::error& e) {
                   rethrow("input-projection matmul", e);
                 }
               });
}

void matmul(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
            std::int64_t ldc) {
  const dnnl::engine& engine = cpu_engine();
  chunked_gemm(ta, tb, m, n, a, lda, b, ldb, c, ldc,
               [&](const GemmChunk& p, const float* pa, const float* pb, float* pc) {
                 const memory::desc a_desc = operand(ta, p.rows, k, lda), b_desc = operand(tb, k, p.cols, ldb);
                 const memory::desc c_desc = matrix(p.rows, p.cols, ldc);
                 try {
                   // Rebuilt per call, like matmul_bias_rows: the primitive cache makes repeats cheap.
                   const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, b_desc, c_desc),
                                                         beta_attr(beta), engine);
                   dnnl::stream& stream = ThreadRunState::get().stream;
                   memory a_mem(a_desc, engine, const_cast<float*>(pa)), b_mem(b_desc, engine, const_cast<float*>(pb));
                   memory c_mem(c_desc, engine, pc);
                   dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
                   stream.wait();
                 } catch (const dnnl::error& e) {
                   rethrow("matmul", e);
                 }
               });
}

void matmul_bf16(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                 const float* a, std::int64_t lda, const float* b, std::int64_t ldb, const std::uint16_t* b_bits,
                 float beta, float* c, std::int64_t ldc) {
  const dnnl::engine& engine = cpu_engine();
  const bool a_no = ta == engine::Trans::no, b_no = tb == engine::Trans::no;
  // The caller's thread's copies; the pieces read them through these pointers.
  thread_local std::vector<std::uint16_t> a_copy, b_copy;
  const std::int64_t a_cols = a_no ? k : m;
  bf16_copy(a, a_no ? m : k, a_cols, lda, a_copy);
  const std::uint16_t* a16 = a_copy.data();
  const std::uint16_t* b16 = b_bits;
  std::int64_t b_ld = ldb;
  if (b16 == nullptr) {
    b_ld = b_no ? n : k;
    bf16_copy(b, b_no ? k : n, b_ld, ldb, b_copy);
    b16 = b_copy.data();
  }
  chunked_gemm(ta, tb, m, n, a16, a_cols, b16, b_ld, c, ldc,
               [&](const GemmChunk& p, const std::uint16_t* pa, const std::uint16_t* pb, float* pc) {
                 const memory::desc a_desc = operand(ta, p.rows, k, a_cols, DataType::bf16);
                 const memory::desc b_desc = operand(tb, k, p.cols, b_ld, DataType::bf16);
                 // Into a dense piece, then C (PackedGemm::run says why).
                 const memory::desc c_desc = matrix(p.rows, p.cols, p.cols);
                 float* out = bf16_chunk_result(p.rows * p.cols);
                 try {
                   const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, b_desc, c_desc), engine);
                   dnnl::stream& stream = ThreadRunState::get().stream;
                   memory a_mem(a_desc, engine, const_cast<std::uint16_t*>(pa));
                   memory b_mem(b_desc, engine, const_cast<std::uint16_t*>(pb));
                   memory c_mem(c_desc, engine, out);
                   dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
                   stream.wait();
                   store_chunk(out, p.rows, p.cols, beta, pc, ldc);
                 } catch (const dnnl::error& e) {
                   rethrow("bf16 matmul", e);
                 }
               });
}

bool onednn_bf16_matmul() {
  static const bool available = [] {
    try {
      const memory::desc a({16, 16}, DataType::bf16, memory::format_tag::ab);
      const memory::desc w({16, 16}, DataType::bf16, memory::format_tag::any);
      const memory::desc c({16, 16}, DataType::f32, memory::format_tag::ab);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, w, c), cpu_engine());
      // oneDNN's reference kernels are correct but far slower than the f32 path: not "available".
      return std::string(pd.impl_info_str()).find("ref") == std::string::npos;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return available;
}

void set_onednn_threads(int n) {
  if (n > 0 && n != omp_get_max_threads()) omp_set_num_threads(n);
}


}  // namespace gpurnn::cpu
