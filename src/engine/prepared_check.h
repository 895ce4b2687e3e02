#pragma once
// The argument checks of Backend::prepare and of the calls given PreparedWeights, shared by
// Backend's defaults and StandardBackend so both word their errors alike.

#include <string>

#include "engine/validate_args.h"
#include "gpurnn/backend.h"
#include "gpurnn/error.h"

namespace gpurnn::engine {

// `weights` can be prepared by `backend`: defined, on its device, a descriptor and dtype it runs.
inline void check_preparable(const Backend& backend, const RNNWeights& weights) {
  check_weights("prepare", weights, backend.device());
  if (const auto why = backend.unsupported_reason(weights.descriptor(), weights.dtype())) {
    throw Error(ErrorCode::unsupported,
                "prepare: argument 'weights': backend '" + backend.name() + "' cannot run them: " + *why);
  }
}

// `weights` were prepared by a backend of `backend`'s kind, for its device.
inline void check_prepared_by(const Backend& backend, const PreparedWeights& weights, const char* call) {
  check_argument(weights.backend_name() == backend.name(), call, "weights", [&] {
    return "were prepared by backend '" + weights.backend_name() + "', but this is backend '" + backend.name() +
           "'; prepare them with this backend (Backend::prepare)";
  });
  check_weights(call, weights.weights(), backend.device());
}

}  // namespace gpurnn::engine
