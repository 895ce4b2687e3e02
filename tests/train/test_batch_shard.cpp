// Row sharding of batches for data-parallel training (src/train/batch_shard.h): each rank's
// piece holds exactly its rows of every tensor, and the pieces placed back are the batch.

#include <gtest/gtest.h>

#include <cstring>

#include "batch_test_support.h"
#include "gpurnn/train/communicator.h"
#include "gpurnn/train/task.h"
#include "tasks/task_registry.h"
#include "test_support.h"
#include "train/batch_shard.h"

namespace gpurnn::testing {
namespace {

using train::Batch;

// Every piece matches its rows of `whole` (byte for byte), and together they are `whole`.
void expect_pieces_rebuild(const Tensor& whole, int dim, const std::vector<Tensor>& pieces, int ranks) {
  Tensor rebuilt = Tensor::empty(whole.shape(), whole.dtype());
  std::memset(rebuilt.data(), 0xA5, rebuilt.bytes());  // poison: an unwritten row fails
  for (int r = 0; r < ranks; ++r) {
    const auto [first, last] = train::shard_rows(whole.dim(dim), r, ranks);
    EXPECT_EQ(pieces[static_cast<std::size_t>(r)].dim(dim), last - first) << "rank " << r;
    EXPECT_TRUE(same_bytes(pieces[static_cast<std::size_t>(r)], train::slice_rows(whole, dim, first, last)));
    train::place_rows(pieces[static_cast<std::size_t>(r)], dim, first, rebuilt);
  }
  EXPECT_TRUE(same_bytes(rebuilt, whole));
}

void check_task(const std::string& name, bool final_targets) {
  train::TaskOptions options;
  options.batch = 7;
  options.seq_len = 6;
  const auto task = train::make_task(name, options);
  const Batch whole = task->train_data().batch(1);
  for (int ranks : {1, 2, 3}) {
    std::vector<Tensor> inputs, targets, lengths;
    std::vector<std::uint8_t> carry;
    for (int r = 0; r < ranks; ++r) {
      const Batch part = train::shard_batch(whole, task->interface().target, r, ranks);
      inputs.push_back(part.inputs);
      targets.push_back(part.targets);
      lengths.push_back(part.lengths);
      carry.insert(carry.end(), part.carry_state.begin(), part.carry_state.end());
      EXPECT_EQ(part.steps(), whole.steps());
    }
    SCOPED_TRACE(name + " over " + std::to_string(ranks) + " ranks");
    expect_pieces_rebuild(whole.inputs, 1, inputs, ranks);
    expect_pieces_rebuild(whole.targets, final_targets ? 0 : 1, targets, ranks);
    expect_pieces_rebuild(whole.lengths, 0, lengths, ranks);
    EXPECT_EQ(carry, whole.carry_state);
  }
}

TEST(BatchShard, RanksCoverEveryRowOnceInOrder) {
  for (std::int64_t rows : {1, 5, 8, 13}) {
    for (int ranks = 1; ranks <= rows; ++ranks) {
      std::int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [first, last] = train::shard_rows(rows, r, ranks);
        EXPECT_EQ(first, next);
        EXPECT_GE(last - first, rows / ranks);
        EXPECT_LE(last - first, rows / ranks + 1);
        next = last;
      }
      EXPECT_EQ(next, rows);
    }
  }
}

TEST(BatchShard, StepTargetsWithCarriedState) { check_task("charlm", false); }
TEST(BatchShard, FinalTargets) { check_task("classify", true); }

TEST(BatchShard, StateRowsOfDimensionOne) {
  const Tensor state = random_tensor(Shape{2, 5, 3}, DType::f64, 17, 0);
  std::vector<Tensor> pieces;
  for (int r = 0; r < 2; ++r) {
    const auto [first, last] = train::shard_rows(5, r, 2);
    pieces.push_back(train::slice_rows(state, 1, first, last));
  }
  expect_pieces_rebuild(state, 1, pieces, 2);
}

TEST(BatchShard, FewerRowsThanRanksIsAnError) {
  train::TaskOptions options;
  options.batch = 2;
  const auto task = train::make_task("charlm", options);
  const Batch whole = task->train_data().batch(0);
  expect_error([&] { train::shard_batch(whole, task->interface().target, 0, 3); }, ErrorCode::invalid_argument,
               {"shard_batch", "batch", "2 rows"});
}

TEST(Communicator, SingleProcessLeavesDataAlone) {
  const auto comm = train::single_process_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  Tensor t = random_tensor(Shape{4}, DType::f32, 3, 0);
  const Tensor before = t.to(DType::f32);
  comm->allreduce_sum(t.view());
  comm->broadcast(t.view(), 0);
  EXPECT_TRUE(same_bytes(t, before));
}

TEST(Communicator, MpiWithoutMpiIsAClearError) {
  if (train::mpi_available()) GTEST_SKIP() << "this build has MPI (the mpi.* ctest entries run it)";
  expect_error([] { train::mpi_world_communicator(); }, ErrorCode::unsupported, {"MPI", "libopenmpi-dev"});
}

}  // namespace
}  // namespace gpurnn::testing
