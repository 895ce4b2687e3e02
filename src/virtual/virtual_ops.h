#pragma once
// The virtual devices' Ops for the standard algorithm (engine/ops_contract.h): the cpu
// platform's Ops (cpu/cpu_ops.h) on the read-write aliases of the device pointers the engine
// hands them (virtual_memory.h). Every pointer argument is translated, which also checks that it
// is memory of this device; lengths are staged from the host into the workspace as the CUDA Ops
// stage them, and the reserve's header is read and written through the alias.

#include <cstring>

#include "cpu/cpu_ops.h"
#include "virtual/virtual_memory.h"

namespace gpurnn::vdev {

template <class T>
struct VirtualOps {
  using value_type = T;
  using FixedGemm = typename cpu::CpuOps<T>::FixedGemm;
  using PreparedCache = typename cpu::CpuOps<T>::PreparedCache;

  Device device;
  PreparedCache* prepared = nullptr;  // set by StandardBackend for prepared weights
  cpu::CpuOps<T> cpu;

  static bool prepare_packs() { return cpu::CpuOps<T>::prepare_packs(); }
  static std::size_t packed_bytes(const PreparedCache& cache) { return cpu::CpuOps<T>::packed_bytes(cache); }

  template <class P>
  P* on(P* device_pointer, const char* what) const {
    return host_alias(device_pointer, device, "virtual device Ops", what);
  }

  void gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
            std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
    cpu.gemm(ta, tb, m, n, k, alpha, on(a, "gemm a"), lda, on(b, "gemm b"), ldb, beta, on(c, "gemm c"), ldc);
  }
  FixedGemm prepare_fixed_gemm(const engine::FixedWeightGemm<T>& g) {
    cpu.prepared = prepared;
    return cpu.prepare_fixed_gemm(on_host_weights(g));
  }
  void run_fixed_gemm(const FixedGemm& g, const T* a, T* c) {
    cpu.run_fixed_gemm(g, on(a, "fixed gemm a"), on(c, "fixed gemm c"));
  }
  void gemm_bias_rows(const engine::FixedWeightGemm<T>& g, const T* a, const T* bias, T* c) {
    cpu.prepared = prepared;
    cpu.gemm_bias_rows(on_host_weights(g), on(a, "input projection a"), on(bias, "input projection bias"),
                       on(c, "input projection c"));
  }
  void add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias) {
    cpu.add_bias_rows(on(rows, "add_bias_rows rows"), count, n, ld, on(bias, "add_bias_rows bias"));
  }
  void copy(T* dst, const T* src, std::int64_t n) { cpu.copy(on(dst, "copy dst"), on(src, "copy src"), n); }
  void copy_or_zero(T* dst, const T* src, std::int64_t n) {
    cpu.copy_or_zero(on(dst, "copy_or_zero dst"), on(src, "copy_or_zero src"), n);
  }
  void transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f) {
    cpu.transpose_leading(on(src, "transpose src"), on(dst, "transpose dst"), a, b, f);
  }
  void apply_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p) {
    cpu.apply_dropout(on(values, "dropout values"), count, seed, layer, p);
  }
  void column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, T* out, bool accumulate) {
    cpu.column_sums(on(rows, "column_sums rows"), count, n, ld, on(out, "column_sums out"), accumulate);
  }
  void forward_step(engine::ForwardStep<T> s) {
    s.lengths = on(s.lengths, "forward_step lengths");
    s.gates = on(s.gates, "forward_step gates");
    s.hh = on(s.hh, "forward_step hh");
    s.b_hh = on(s.b_hh, "forward_step b_hh");
    s.h_prev = on(s.h_prev, "forward_step h_prev");
    s.h_next = on(s.h_next, "forward_step h_next");
    s.c_prev = on(s.c_prev, "forward_step c_prev");
    s.c_next = on(s.c_next, "forward_step c_next");
    s.m = on(s.m, "forward_step m");
    cpu.forward_step(s);
  }
  void finish_forward_step(engine::StepOutput<T> s) {
    s.lengths = on(s.lengths, "finish_forward_step lengths");
    s.h_prev = on(s.h_prev, "finish_forward_step h_prev");
    s.h_next = on(s.h_next, "finish_forward_step h_next");
    s.y = on(s.y, "finish_forward_step y");
    cpu.finish_forward_step(s);
  }
  void output_gradient(engine::OutputGradient<T> s) {
    s.lengths = on(s.lengths, "output_gradient lengths");
    s.carry = on(s.carry, "output_gradient carry");
    s.dy = on(s.dy, "output_gradient dy");
    s.dh = on(s.dh, "output_gradient dh");
    cpu.output_gradient(s);
  }
  void backward_step(engine::BackwardStep<T> s) {
    s.lengths = on(s.lengths, "backward_step lengths");
    s.gates = on(s.gates, "backward_step gates");
    s.h_prev = on(s.h_prev, "backward_step h_prev");
    s.c_prev = on(s.c_prev, "backward_step c_prev");
    s.c_next = on(s.c_next, "backward_step c_next");
    s.dm = on(s.dm, "backward_step dm");
    s.dh = on(s.dh, "backward_step dh");
    s.carry = on(s.carry, "backward_step carry");
    s.dc = on(s.dc, "backward_step dc");
    s.d_ih = on(s.d_ih, "backward_step d_ih");
    s.d_hh = on(s.d_hh, "backward_step d_hh");
    cpu.backward_step(s);
  }
  // Half calls (engine/half_calls.h): the cpu Ops' rounding and half products, on the aliases.
  void round_to_half(DType half, float* values, std::int64_t n) {
    cpu.round_to_half(half, on(values, "round_to_half values"), n);
  }
  void use_half_weights(DType half, const float* widened, const void* half_data, std::int64_t count) {
    cpu.use_half_weights(half, on(widened, "widened weights"), on(half_data, "half weights"), count);
  }
  void use_half_operands(DType half) { cpu.use_half_operands(half); }
  // The lengths are the host's (the Backend contract); the steps read the device copy in `slot`.
  const std::int32_t* stage_lengths(const std::int32_t* host, std::int64_t batch, std::int32_t* slot) {
    std::memcpy(on(slot, "lengths slot"), host, static_cast<std::size_t>(batch) * sizeof(std::int32_t));
    return slot;
  }
  void write_header(engine::ReserveHeader* dst, const engine::ReserveHeader& h) { *on(dst, "reserve header") = h; }
  engine::ReserveHeader read_header(const engine::ReserveHeader* src) { return *on(src, "reserve header"); }

 private:
  engine::FixedWeightGemm<T> on_host_weights(engine::FixedWeightGemm<T> g) const {
    g.w = on(g.w, "weights");
    return g;
  }
};

}  // namespace gpurnn::vdev
