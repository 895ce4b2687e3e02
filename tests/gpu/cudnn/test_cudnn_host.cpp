// The cudnn backend's pure host parts, which need no device (they run, and pass, in CI):
// the weight copy plan between gpurnn's PyTorch layout and a cuDNN weight space, the buffer
// layouts, and the documented refusals.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cudnn/cudnn_layout.h"
#include "cuda/cudnn/cudnn_rules.h"
#include "cuda/cudnn/cudnn_weight_plan.h"
#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using cuda::CudnnLinLayer;
using cuda::WeightCopy;

// A fake cuDNN weight space for `desc`, laid out unlike gpurnn's flat buffer: per pseudo-layer,
// every matrix in linLayerID order, then every bias, with `gap` unused elements after each piece.
std::vector<CudnnLinLayer> fake_regions(const RNNDescriptor& d, std::int64_t gap, std::int64_t* total) {
  const int G = d.gates();
  std::vector<CudnnLinLayer> regions;
  std::int64_t cursor = 0;
  for (const cuda::CudnnParamQuery& q : cuda::cudnn_param_queries(d)) {
    const int layer = q.pseudo_layer / d.num_directions();
    std::int64_t numel = 0;
    if (q.lin_layer_id == cuda::kCudnnProjectionLinLayer) {
      numel = d.state_size() * d.hidden_size;
    } else if (q.lin_layer_id < G) {
      numel = d.hidden_size * d.layer_input_size(layer);
    } else {
      numel = d.hidden_size * d.state_size();
    }
    CudnnLinLayer l;
    l.pseudo_layer = q.pseudo_layer;
    l.lin_layer_id = q.lin_layer_id;
    l.matrix = {cursor, numel};
    cursor += numel + gap;
    regions.push_back(l);
  }
  for (CudnnLinLayer& l : regions) {
    if (!d.bias || l.lin_layer_id == cuda::kCudnnProjectionLinLayer) continue;
    l.bias = {cursor, d.hidden_size};
    cursor += d.hidden_size + gap;
  }
  *total = cursor;
  return regions;
}

std::vector<double> apply(const std::vector<WeightCopy>& plan, const std::vector<double>& src,
                          std::int64_t dst_numel) {
  std::vector<double> dst(static_cast<std::size_t>(dst_numel), -1.0);
  for (const WeightCopy& c : plan) {
    EXPECT_LE(c.src + c.count, static_cast<std::int64_t>(src.size()));
    EXPECT_LE(c.dst + c.count, dst_numel);
    std::copy_n(src.begin() + c.src, c.count, dst.begin() + c.dst);
  }
  return dst;
}

std::vector<RNNDescriptor> plan_descriptors() {
  std::vector<RNNDescriptor> out;
  for (CellKind cell : {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::lstm, CellKind::gru}) {
    for (bool bi : {false, true}) {
      for (bool bias : {true, false}) {
        for (std::int64_t proj : {0, 3}) {
          if (proj > 0 && cell != CellKind::lstm) continue;
          RNNDescriptor d;
          d.cell = cell;
          d.input_size = 5;
          d.hidden_size = 7;
          d.num_layers = 2;
          d.bidirectional = bi;
          d.bias = bias;
          d.proj_size = proj;
          out.push_back(d);
        }
      }
    }
  }
  return out;
}

// Each gate block of each parameter lands in the piece the cuDNN API reference assigns it
// (written out here by name, independently of the planner), and the round trip is exact.
TEST(CudnnHost, WeightPlanPutsEveryGateWhereCudnnDocumentsIt) {
  for (const RNNDescriptor& d : plan_descriptors()) {
    SCOPED_TRACE(to_string(d));
    std::int64_t space = 0;
    const std::vector<CudnnLinLayer> regions = fake_regions(d, 3, &space);
    const std::vector<WeightCopy> plan = cuda::plan_to_cudnn(d, regions, space);
    EXPECT_FALSE(cuda::is_identity(plan, RNNWeights(d, DType::f64).numel(), space));

    RNNWeights w(d, DType::f64);
    w.init_uniform(5);
    const std::vector<double> flat = to_vector(w.flat());
    const std::vector<double> in_space = apply(plan, flat, space);

    std::map<std::pair<int, int>, CudnnLinLayer> by_id;
    for (const CudnnLinLayer& r : regions) by_id[{r.pseudo_layer, r.lin_layer_id}] = r;
    const int G = d.gates();
    const std::int64_t H = d.hidden_size;
    for (const ParameterInfo& p : w.parameters()) {
      const int pseudo = p.layer * d.num_directions() + p.direction;
      const int blocks = p.kind == ParamKind::weight_hr ? 1 : G;
      const std::int64_t block = p.shape.numel() / blocks;
      for (int g = 0; g < blocks; ++g) {
        int id = 0;
        bool is_bias = false;
        switch (p.kind) {
          case ParamKind::weight_ih: id = g; break;                       // LSTM W_i,f,c,o; GRU W_r,z,h
          case ParamKind::weight_hh: id = G + g; break;                   // LSTM R_* 4-7; GRU R_* 3-5
          case ParamKind::bias_ih: id = g, is_bias = true; break;
          case ParamKind::bias_hh: id = G + g, is_bias = true; break;
          case ParamKind::weight_hr: id = 8; break;                       // the projection
        }
        const CudnnLinLayer& r = by_id.at({pseudo, id});
        const std::int64_t dst = is_bias ? r.bias.offset : r.matrix.offset;
        for (std::int64_t j = 0; j < block; ++j) {
          ASSERT_EQ(in_space[static_cast<std::size_t>(dst + j)],
                    flat[static_cast<std::size_t>(p.offset + g * block + j)])
              << p.name << " gate " << g << " element " << j;
        }
        if (is_bias) {
          EXPECT_EQ(block, H) << p.name;
        }
      }
    }
    // And back: every element of the flat buffer, exactly.
    EXPECT_EQ(apply(cuda::reversed(plan), in_space, static_cast<std::int64_t>(flat.size())), flat);
  }
}

// A space laid out exactly like the flat buffer collapses to one copy, recognised as identity.
TEST(CudnnHost, WeightPlanMergesContiguousCopiesAndSeesIdentity) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 4;
  d.hidden_size = 3;
  d.num_layers = 2;
  const RNNWeights w(d, DType::f32);
  std::vector<CudnnLinLayer> regions;
  for (const cuda::CudnnParamQuery& q : cuda::cudnn_param_queries(d)) regions.push_back({q.pseudo_layer, q.lin_layer_id, {}, {}});
  auto find = [&](int pseudo, int id) -> CudnnLinLayer& {
    return *std::find_if(regions.begin(), regions.end(), [&](const CudnnLinLayer& r) {
      return r.pseudo_layer == pseudo && r.lin_layer_id == id;
    });
  };
  for (const ParameterInfo& p : w.parameters()) {
    const std::int64_t block = p.shape.numel() / 4;
    for (int g = 0; g < 4; ++g) {
      const bool is_bias = p.kind == ParamKind::bias_ih || p.kind == ParamKind::bias_hh;
      const int id = (p.kind == ParamKind::weight_ih || p.kind == ParamKind::bias_ih) ? g : 4 + g;
      (is_bias ? find(p.layer, id).bias : find(p.layer, id).matrix) = {p.offset + g * block, block};
    }
  }
  const std::vector<WeightCopy> plan = cuda::plan_to_cudnn(d, regions, w.numel());
  EXPECT_EQ(plan, (std::vector<WeightCopy>{{0, 0, w.numel()}}));
  EXPECT_TRUE(cuda::is_identity(plan, w.numel(), w.numel()));
  EXPECT_FALSE(cuda::is_identity(plan, w.numel(), w.numel() + 1)) << "a larger space needs its own buffer";
}

TEST(CudnnHost, WeightPlanRefusesAMissingMisSizedOrOverlappingPiece) {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = 4;
  d.hidden_size = 3;
  std::int64_t space = 0;
  const std::vector<CudnnLinLayer> good = fake_regions(d, 0, &space);

  std::vector<CudnnLinLayer> missing(good.begin(), good.end() - 1);
  expect_error([&] { cuda::plan_to_cudnn(d, missing, space); }, ErrorCode::internal,
               {"weight_hh_l0", "linLayerID 5", "not asked"});
  std::vector<CudnnLinLayer> no_bias = good;
  no_bias[1].bias.offset = -1;
  expect_error([&] { cuda::plan_to_cudnn(d, no_bias, space); }, ErrorCode::internal,
               {"bias_ih_l0", "no bias"});
  std::vector<CudnnLinLayer> wrong_size = good;
  wrong_size[0].matrix.numel += 1;
  expect_error([&] { cuda::plan_to_cudnn(d, wrong_size, space); }, ErrorCode::internal,
               {"weight_ih_l0", "13 elements, expected 12"});
  std::vector<CudnnLinLayer> overlap = good;
  overlap[1].matrix.offset = overlap[0].matrix.offset + 1;
  expect_error([&] { cuda::plan_to_cudnn(d, overlap, space); }, ErrorCode::internal, {"overlapping"});
  expect_error([&] { cuda::plan_to_cudnn(d, good, space - 1); }, ErrorCode::internal,
               {"past the weight space"});
}

TEST(CudnnHost, LayoutsAreAlignedDisjointAndSized) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 5;
  d.hidden_size = 7;
  d.num_layers = 2;
  d.bidirectional = true;
  const SequenceShape shape{9, 3, false};
  const cuda::CudnnSizes sizes{1000, 5000, 777};
  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    const cuda::CudnnWorkspaceLayout ws = cuda::cudnn_workspace_layout(sizes, shape, mode);
    std::vector<engine::Slot> slots = {ws.lengths, ws.weights, ws.work};
    if (mode == ForwardMode::training) {
      EXPECT_EQ(ws.dweights.bytes, 1000u);
      slots.push_back(ws.dweights);
    } else {
      EXPECT_EQ(ws.dweights.bytes, 0u);
    }
    EXPECT_EQ(ws.lengths.bytes, 3 * sizeof(std::int32_t));
    EXPECT_EQ(ws.work.bytes, 5000u);
    std::sort(slots.begin(), slots.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    for (std::size_t i = 0; i < slots.size(); ++i) {
      EXPECT_EQ(slots[i].offset % 256, 0u);
      if (i > 0) {
        EXPECT_GE(slots[i].offset, slots[i - 1].offset + slots[i - 1].bytes);
      }
    }
    EXPECT_EQ(ws.bytes, slots.back().offset + slots.back().bytes);
  }
  const cuda::CudnnReserveLayout rs = cuda::cudnn_reserve_layout(sizes, d, shape, 4);
  EXPECT_EQ(rs.header.offset, 0u);
  EXPECT_EQ(rs.cudnn.bytes, 777u);
  EXPECT_EQ(rs.y.bytes, 9u * 3 * 14 * 4);
  EXPECT_EQ(rs.h0.bytes, 4u * 3 * 7 * 4);
  EXPECT_EQ(rs.c0.bytes, 4u * 3 * 7 * 4);
  EXPECT_EQ(rs.bytes, rs.c0.offset + rs.c0.bytes);
  d.cell = CellKind::gru;
  EXPECT_EQ(cuda::cudnn_reserve_layout(sizes, d, shape, 4).c0.bytes, 0u);
}

TEST(CudnnHost, DocumentedRefusalsSayNotSupportedByCudnn) {
  using cuda::CudnnAlgorithm;
  RNNDescriptor d;
  d.input_size = 4;
  d.hidden_size = 8;
  d.cell = CellKind::rnn_sigmoid;
  EXPECT_NE(cuda::cudnn_refusal(d, DType::f32, CudnnAlgorithm::standard).value_or("").find("not supported by cuDNN: cell rnn_sigmoid"),
            std::string::npos);
  d.cell = CellKind::lstm;
  EXPECT_FALSE(cuda::cudnn_refusal(d, DType::f32, CudnnAlgorithm::standard));
  EXPECT_FALSE(cuda::cudnn_refusal(d, DType::f64, CudnnAlgorithm::standard));
  EXPECT_FALSE(cuda::cudnn_refusal(d, DType::f32, CudnnAlgorithm::persist_static));
  EXPECT_TRUE(cuda::cudnn_refusal(d, DType::i32, CudnnAlgorithm::standard));
  for (DType half : {DType::bf16, DType::f16}) {  // issue 31: cuDNN's own answer decides the algorithms
    EXPECT_FALSE(cuda::cudnn_refusal(d, half, CudnnAlgorithm::standard));
    EXPECT_FALSE(cuda::cudnn_refusal(d, half, CudnnAlgorithm::persist_static));
    // Half weight gradients are f32 by gpurnn's rule; cuDNN writes them in half: refused by this
    // library, naming the rule, not as a cuDNN limit.
    const std::string why = cuda::cudnn_weight_gradient_refusal(half).value_or("");
    EXPECT_NE(why.find(std::string("backward_weights in ") + to_string(half)), std::string::npos) << why;
    EXPECT_NE(why.find("f32"), std::string::npos) << why;
  }
  EXPECT_FALSE(cuda::cudnn_weight_gradient_refusal(DType::f32));
  EXPECT_TRUE(cuda::cudnn_refusal(d, DType::f64, CudnnAlgorithm::persist_dynamic));
  d.proj_size = 4;
  EXPECT_FALSE(cuda::cudnn_refusal(d, DType::f32, CudnnAlgorithm::standard));
  EXPECT_NE(cuda::cudnn_refusal(d, DType::f32, CudnnAlgorithm::persist_static).value_or("").find("projection"),
            std::string::npos);
  d.proj_size = 0;
  d.dropout = 0.5;
  EXPECT_FALSE(cuda::cudnn_training_refusal(d)) << "one layer: dropout never applies";
  d.num_layers = 2;
  EXPECT_NE(cuda::cudnn_training_refusal(d).value_or("").find("not supported by cuDNN: training with inter-layer dropout"),
            std::string::npos);
  EXPECT_TRUE(cuda::cudnn_lengths_refusal(CudnnAlgorithm::persist_static_small_h, true));
  EXPECT_FALSE(cuda::cudnn_lengths_refusal(CudnnAlgorithm::persist_static_small_h, false));
  EXPECT_FALSE(cuda::cudnn_lengths_refusal(CudnnAlgorithm::standard, true));
}

// The cuDNN guide's table of RNN features: no variable sequence lengths in a batch for the
// small-h and the dynamic persistent algorithms.
TEST(CudnnHost, PersistentAlgorithmsWithoutRaggedBatchesRefuseThem) {
  using cuda::CudnnAlgorithm;
  for (CudnnAlgorithm a : {CudnnAlgorithm::persist_static_small_h, CudnnAlgorithm::persist_dynamic}) {
    SCOPED_TRACE(cuda::to_string(a));
    const std::string why = cuda::cudnn_lengths_refusal(a, true).value_or("");
    EXPECT_EQ(why.rfind("not supported by cuDNN: ", 0), 0u) << why;
    EXPECT_NE(why.find(std::string("algorithm ") + cuda::to_string(a)), std::string::npos) << why;
    EXPECT_NE(why.find("different lengths"), std::string::npos) << why;
    EXPECT_FALSE(cuda::cudnn_lengths_refusal(a, false));
  }
  EXPECT_FALSE(cuda::cudnn_lengths_refusal(CudnnAlgorithm::persist_static, true));
}

// cuDNN's backward data writes into the reserve it reads: once per forward.
TEST(CudnnHost, BackwardDataRefusesAReserveItHasBeenThrough) {
  EXPECT_FALSE(cuda::cudnn_backward_data_refusal(false));
  const std::string why = cuda::cudnn_backward_data_refusal(true).value_or("");
  EXPECT_EQ(why.rfind("not supported by cuDNN: backward_data again", 0), 0u) << why;
  EXPECT_NE(why.find("run the training forward again"), std::string::npos) << why;
}

TEST(CudnnHost, AlgorithmsByName) {
  EXPECT_EQ(backend_algorithms("cudnn"), cuda::cudnn_algorithm_names());
  EXPECT_EQ(backend_algorithms("cudnn:1"), cuda::cudnn_algorithm_names());
  EXPECT_EQ(backend_algorithms("cudnn").front(), "standard");
  for (const std::string& name : cuda::cudnn_algorithm_names()) {
    EXPECT_EQ(cuda::to_string(cuda::parse_cudnn_algorithm(name)), name);
  }
  expect_error([] { make_backend("cudnn/fastest"); }, ErrorCode::unsupported,
               {"'fastest'", "'cudnn'", "persist_static_small_h"});
  if (cuda_device_count() == 0) {
    expect_error([] { make_backend("cudnn/persist_static"); }, ErrorCode::unsupported,
                 {"cuda:0", "not present"});
  }
  expect_error([] { make_backend("cudnn:99"); }, ErrorCode::unsupported, {"cuda:99", "not present"});
}

}  // namespace
}  // namespace gpurnn::testing
