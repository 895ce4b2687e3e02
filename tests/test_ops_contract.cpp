// The Ops contract (engine/ops_contract.h) accepts the cpu backend's Ops and refuses one that
// lacks an operation or has the wrong signature, so the check at the engine's entry can fail.
// (CudaOps is checked where the CUDA backend instantiates the engine, in every CUDA build.)

#include <gtest/gtest.h>

#include "cpu/cpu_ops.h"
#include "engine/ops_contract.h"

namespace gpurnn::engine {
namespace {

static_assert(is_rnn_ops_v<cpu::CpuOps<float>>);
static_assert(is_rnn_ops_v<cpu::CpuOps<double>>);

// CpuOps without backward_step.
template <class T>
struct NoBackwardStep : cpu::CpuOps<T> {
  void backward_step(int) = delete;
};
// read_header returning the wrong type.
struct WrongReadHeader : cpu::CpuOps<float> {
  int read_header(const ReserveHeader*) { return 0; }
};
struct NoValueType {};

TEST(OpsContract, AcceptsCpuOpsAndRefusesIncompleteOnes) {
  EXPECT_TRUE(is_rnn_ops_v<cpu::CpuOps<float>>);
  EXPECT_TRUE(check_ops_contract<cpu::CpuOps<double>>());
  EXPECT_FALSE(is_rnn_ops_v<NoBackwardStep<float>>);
  EXPECT_FALSE(is_rnn_ops_v<WrongReadHeader>);
  EXPECT_FALSE(is_rnn_ops_v<NoValueType>);
  EXPECT_FALSE(is_rnn_ops_v<int>);
}

}  // namespace
}  // namespace gpurnn::engine
