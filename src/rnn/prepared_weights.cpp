// Backend's defaults for prepared weights (backend.h): a snapshot and nothing more, for the
// backends that lay nothing out ahead of their calls; StandardBackend overrides them where its
// Ops pack weights (engine/prepared_gemms.h).

#include <memory>
#include <utility>

#include "engine/prepared_check.h"
#include "gpurnn/backend.h"

namespace gpurnn {
namespace {

class SnapshotWeights final : public PreparedWeights {
 public:
  SnapshotWeights(RNNWeights snapshot, std::string backend) : PreparedWeights(std::move(snapshot), std::move(backend)) {}
};

}  // namespace

std::shared_ptr<const PreparedWeights> Backend::prepare(const RNNWeights& weights) const {
  engine::check_preparable(*this, weights);
  return std::make_shared<const SnapshotWeights>(weights.clone(), name());
}

void Backend::forward(const PreparedWeights& weights, const ForwardArgs& args) {
  engine::check_prepared_by(*this, weights, "forward");
  forward(weights.weights(), args);
}

void Backend::backward_data(const PreparedWeights& weights, const BackwardDataArgs& args) {
  engine::check_prepared_by(*this, weights, "backward_data");
  backward_data(weights.weights(), args);
}

}  // namespace gpurnn
