// Seq2SeqModel on the device under test (device_test_support.h) against the cpu: the same model (same seeds) gives the same
// losses and gradients for token outputs with each attention score and for pointer networks
// (bidirectional encoder, exclusive pointers with an end marker), and decodes the same outputs
// greedily and with a beam (bit for bit on a virtual device). The attention ops: test_attention_ops_device.cpp.
#include <gtest/gtest.h>

#include "device/device_test_support.h"
#include "gpurnn/train/seq2seq.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using train::Seq2SeqConfig;
using train::Seq2SeqModel;

Tensor i32(Shape shape, const std::vector<std::int32_t>& v) { return Tensor::from_host<std::int32_t>(std::move(shape), v.data()); }

struct Case {
  const char* name;
  Seq2SeqConfig config;
  train::Batch batch;  // host
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const auto score : {train::AttentionScore::dot, train::AttentionScore::general, train::AttentionScore::additive}) {
    Case c{train::to_string(score), {}, {}};
    c.config.io = {train::InputKind::tokens, 9, train::TargetKind::output_tokens, 6};
    c.config.io.end_output = 0;
    c.config.attention = score;
    c.config.hidden = 32;
    c.config.layers = 2;
    c.config.seed = 3;
    c.batch.inputs = i32({5, 3}, {1, 4, 2, 3, 8, 5, 6, 7, 1, 2, 0, 3, 4, 0, 0});
    c.batch.lengths = i32({3}, {5, 3, 4});
    c.batch.targets = i32({3, 3}, {2, 1, 3, 5, 4, 0, 0, train::kIgnoreTarget, 0});
    all.push_back(c);
  }
  Case p{"pointer", {}, {}};
  p.config.io = {train::InputKind::features, 3, train::TargetKind::pointers, 0};
  p.config.io.end_output = 0;
  p.config.io.exclusive_pointers = true;
  p.config.attention = train::AttentionScore::additive;
  p.config.bidirectional = true;
  p.config.hidden = 32;
  p.config.seed = 4;
  p.batch.inputs = random_tensor({5, 2, 3}, DType::f32, 9, 1);
  p.batch.lengths = i32({2}, {5, 4});
  p.batch.targets = i32({4, 2}, {2, 1, 4, 3, 1, 0, 0, train::kIgnoreTarget});
  all.push_back(p);
  return all;
}

// The same model (same seeds) on the device under test.
Seq2SeqConfig on_device(Seq2SeqConfig config) {
  config.backend = test_backend();
  return config;
}

TEST(Seq2SeqDevice, TrainStepMatchesCpu) {
  GPURNN_REQUIRE_DEVICE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Seq2SeqModel cpu(c.config), gpu(on_device(c.config));
    train::RecurrentState carried;
    train::StepContext context;
    context.dropout_seed = 5;
    const train::BatchSums a = cpu.train_step(c.batch, carried, context);
    const train::BatchSums b = gpu.train_step(batch_on(c.batch, gpu.device()), carried, context);
    EXPECT_EQ(a.count, b.count);
    EXPECT_NEAR(b.loss, a.loss, tolerance(1e-5) * std::abs(a.loss));
    const auto pc = cpu.parameters(), pg = gpu.parameters();
    ASSERT_EQ(pc.size(), pg.size());
    for (std::size_t k = 0; k < pc.size(); ++k) {
      EXPECT_LE(relative_error(to_host(pg[k].grad), pc[k].grad), tolerance(1e-4)) << pc[k].name;
    }
  }
}

TEST(Seq2SeqDevice, DecodingMatchesCpu) {
  GPURNN_REQUIRE_DEVICE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Seq2SeqModel cpu(c.config), gpu(on_device(c.config));
    for (std::int64_t beam : {1, 3}) {
      train::DecodeOptions options;
      options.beam = beam;
      options.max_length = 6;
      // Random weights give well-separated scores; a tie within float rounding would be a fluke.
      EXPECT_EQ(gpu.decode(batch_on(c.batch, gpu.device()), options), cpu.decode(c.batch, options)) << "beam " << beam;
    }
  }
}

}  // namespace
}  // namespace gpurnn::testing
