#include "cuda/cudnn/cudnn_weight_plan.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "gpurnn/error.h"
#include "gpurnn/rnn_weights.h"

namespace gpurnn::cuda {
namespace {

[[noreturn]] void broken(const std::string& what) {
  throw Error(ErrorCode::internal, "cudnn weight conversion: " + what);
}

// The cuDNN piece that holds gate `gate` of a parameter, and whether it is the bias half.
struct Target {
  int lin_layer_id;
  bool bias;
};

Target target_of(ParamKind kind, int gate, int gates) {
  switch (kind) {
    case ParamKind::weight_ih: return {gate, false};
    case ParamKind::weight_hh: return {gates + gate, false};
    case ParamKind::bias_ih: return {gate, true};
    case ParamKind::bias_hh: return {gates + gate, true};
    case ParamKind::weight_hr: return {kCudnnProjectionLinLayer, false};
  }
  broken("unknown parameter kind");
}

}  // namespace

std::vector<CudnnParamQuery> cudnn_param_queries(const RNNDescriptor& desc) {
  std::vector<CudnnParamQuery> queries;
  const int pseudo_layers = desc.num_layers * desc.num_directions();
  for (int p = 0; p < pseudo_layers; ++p) {
    for (int id = 0; id < 2 * desc.gates(); ++id) queries.push_back({p, id});
    if (desc.proj_size > 0) queries.push_back({p, kCudnnProjectionLinLayer});
  }
  return queries;
}

std::vector<WeightCopy> plan_to_cudnn(const RNNDescriptor& desc,
                                      const std::vector<CudnnLinLayer>& regions,
                                      std::int64_t weight_space_numel) {
  std::map<std::pair<int, int>, const CudnnLinLayer*> by_id;
  for (const CudnnLinLayer& r : regions) by_id[{r.pseudo_layer, r.lin_layer_id}] = &r;

  const int gates = desc.gates();
  std::vector<WeightCopy> copies;
  for (const ParameterInfo& p : parameter_layout(desc)) {
    // weight_hr is one piece; every other parameter is G gate blocks stacked on rows.
    const int pieces = p.kind == ParamKind::weight_hr ? 1 : gates;
    const std::int64_t piece_numel = p.shape.numel() / pieces;
    const int pseudo = p.layer * desc.num_directions() + p.direction;
    for (int g = 0; g < pieces; ++g) {
      const Target t = target_of(p.kind, g, gates);
      const auto found = by_id.find({pseudo, t.lin_layer_id});
      const std::string where = p.name + " (pseudo-layer " + std::to_string(pseudo) +
                                ", linLayerID " + std::to_string(t.lin_layer_id) + ")";
      if (found == by_id.end()) broken("cuDNN was not asked about " + where);
      const CudnnRegion& r = t.bias ? found->second->bias : found->second->matrix;
      if (r.offset < 0) broken(std::string("cuDNN reports no ") + (t.bias ? "bias" : "matrix") + " for " + where);
      if (r.numel != piece_numel) {
        broken("cuDNN's piece for " + where + " has " + std::to_string(r.numel) +
               " elements, expected " + std::to_string(piece_numel));
      }
      if (r.offset + r.numel > weight_space_numel) {
        broken("cuDNN's piece for " + where + " ends past the weight space (" +
               std::to_string(weight_space_numel) + " elements)");
      }
      copies.push_back({p.offset + g * piece_numel, r.offset, piece_numel});
    }
  }

  // No two pieces may share a destination element.
  std::vector<WeightCopy> by_dst = copies;
  std::sort(by_dst.begin(), by_dst.end(),
            [](const WeightCopy& a, const WeightCopy& b) { return a.dst < b.dst; });
  for (std::size_t i = 1; i < by_dst.size(); ++i) {
    if (by_dst[i - 1].dst + by_dst[i - 1].count > by_dst[i].dst) {
      broken("two parameters map to overlapping cuDNN weight-space elements at offset " +
             std::to_string(by_dst[i].dst));
    }
  }

  // `copies` is in src order (parameter_layout is in flat order, gates ascending).
  std::vector<WeightCopy> merged;
  for (const WeightCopy& c : copies) {
    if (!merged.empty() && merged.back().src + merged.back().count == c.src &&
        merged.back().dst + merged.back().count == c.dst) {
      merged.back().count += c.count;
    } else {
      merged.push_back(c);
    }
  }
  return merged;
}

std::vector<WeightCopy> reversed(const std::vector<WeightCopy>& plan) {
  std::vector<WeightCopy> out;
  out.reserve(plan.size());
  for (const WeightCopy& c : plan) out.push_back({c.dst, c.src, c.count});
  return out;
}

bool is_identity(const std::vector<WeightCopy>& plan, std::int64_t flat_numel,
                 std::int64_t weight_space_numel) {
  if (flat_numel < weight_space_numel) return false;
  return std::all_of(plan.begin(), plan.end(), [](const WeightCopy& c) { return c.src == c.dst; });
}

}  // namespace gpurnn::cuda
