// The single-process communicator: every collective leaves its data as it is.

#include <cstdio>
#include <cstdlib>

#include "gpurnn/train/communicator.h"

namespace gpurnn::train {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string name() const override { return "single process"; }
  void allreduce_sum(TensorView, void*) override {}
  void broadcast(TensorView, int root, void*) override {
    check_argument(root == 0, "Communicator::broadcast", "root", "must be 0 with one rank, got " + std::to_string(root));
  }
  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "gpurnn: rank 0 of 1 failed: %s\n", message.c_str());
    std::fflush(stderr);
    std::exit(1);
  }
};

}  // namespace

std::shared_ptr<Communicator> single_process_communicator() { return std::make_shared<SingleProcess>(); }

}  // namespace gpurnn::train
