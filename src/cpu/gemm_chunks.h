#pragma once
// The fixed pieces a product is cut into for the worker pool (worker_pool.h): C's rows in
// blocks of kChunkRows and its columns in blocks of kChunkCols. The cut is a function of the
// shape alone, and the reduction dimension k is never cut (each piece sums all of k in its
// kernel's order), so every element of C comes from the same single-threaded call whatever the
// number of threads: results do not depend on it (issue 33).

#include <cstdint>

#include "cpu/worker_pool.h"
#include "engine/step_ops.h"

namespace gpurnn::cpu {

constexpr std::int64_t kChunkRows = 256;
constexpr std::int64_t kChunkCols = 256;

struct GemmChunk {
  std::int64_t row, rows, col, cols;
};

inline std::int64_t chunks_of(std::int64_t size, std::int64_t chunk) { return (size + chunk - 1) / chunk; }

inline std::int64_t gemm_chunk_count(std::int64_t m, std::int64_t n) {
  return chunks_of(m, kChunkRows) * chunks_of(n, kChunkCols);
}

// Piece `index` of an [m, n] result, row blocks outer.
inline GemmChunk gemm_chunk(std::int64_t m, std::int64_t n, std::int64_t index) {
  const std::int64_t col_chunks = chunks_of(n, kChunkCols);
  const std::int64_t row = index / col_chunks * kChunkRows, col = index % col_chunks * kChunkCols;
  return {row, m - row < kChunkRows ? m - row : kChunkRows, col, n - col < kChunkCols ? n - col : kChunkCols};
}

// Where op(A)'s row `row` starts (A row-major with leading dimension lda; transposed, it is
// A's column), and op(B)'s column `col`.
template <class T>
const T* op_rows_from(engine::Trans ta, const T* a, std::int64_t lda, std::int64_t row) {
  return ta == engine::Trans::no ? a + row * lda : a + row;
}
template <class T>
const T* op_cols_from(engine::Trans tb, const T* b, std::int64_t ldb, std::int64_t col) {
  return tb == engine::Trans::no ? b + col : b + col * ldb;
}

// C[m, n] = op(A)[m, k] op(B)[k, n] (+ beta C, as `piece` does it), piece by piece on the pool:
// each piece multiplies the chunk.rows × chunk.cols block whose operands start at a, b and
// whose result starts at c (leading dimensions unchanged): piece(chunk, a, b, c).
// (The operands' element type T may differ from C's: bf16 operands, f32 sums.)
template <class T, class C, class Piece>
void chunked_gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, const T* a, std::int64_t lda,
                  const T* b, std::int64_t ldb, C* c, std::int64_t ldc, const Piece& piece) {
  parallel_for(gemm_chunk_count(m, n), [&](std::int64_t index) {
    const GemmChunk p = gemm_chunk(m, n, index);
    piece(p, op_rows_from(ta, a, lda, p.row), op_cols_from(tb, b, ldb, p.col), c + p.row * ldc + p.col);
  });
}

}  // namespace gpurnn::cpu
