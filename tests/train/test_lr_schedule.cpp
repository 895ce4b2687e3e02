// Learning-rate schedules at chosen steps, warm-up included; the values are worked out by hand
// from the definitions in gpurnn/train/optimizer.h.

#include <gtest/gtest.h>

#include "gpurnn/train/optimizer.h"

namespace gpurnn::testing {
namespace {

train::ScheduleConfig schedule(const std::string& kind, double base_lr, std::int64_t warmup) {
  train::ScheduleConfig c;
  c.kind = kind;
  c.base_lr = base_lr;
  c.warmup_steps = warmup;
  return c;
}

TEST(LrSchedule, ConstantWithLinearWarmUp) {
  const train::LrSchedule s(schedule("constant", 0.4, 4));
  EXPECT_DOUBLE_EQ(s.lr(0), 0.1);  // base_lr / warmup_steps
  EXPECT_DOUBLE_EQ(s.lr(1), 0.2);
  EXPECT_DOUBLE_EQ(s.lr(3), 0.4);  // warm-up ends at base_lr
  EXPECT_DOUBLE_EQ(s.lr(4), 0.4);
  EXPECT_DOUBLE_EQ(s.lr(1000), 0.4);
  EXPECT_DOUBLE_EQ(train::LrSchedule(schedule("constant", 0.4, 0)).lr(0), 0.4);
}

TEST(LrSchedule, StepDecayCountsFromTheEndOfWarmUp) {
  train::ScheduleConfig c = schedule("step", 0.1, 2);
  c.step_size = 3;
  c.gamma = 0.5;
  const train::LrSchedule s(c);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.05);
  EXPECT_DOUBLE_EQ(s.lr(1), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(2), 0.1);   // first step after warm-up
  EXPECT_DOUBLE_EQ(s.lr(4), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(5), 0.05);  // 3 steps after warm-up
  EXPECT_DOUBLE_EQ(s.lr(8), 0.025);
  EXPECT_DOUBLE_EQ(s.lr(11), 0.0125);
}

TEST(LrSchedule, CosineDecaysToMinLrAtTotalSteps) {
  train::ScheduleConfig c = schedule("cosine", 1.0, 0);
  c.total_steps = 10;
  c.min_lr = 0.1;
  const train::LrSchedule s(c);
  EXPECT_DOUBLE_EQ(s.lr(0), 1.0);
  EXPECT_NEAR(s.lr(2), 0.914057647468726, 1e-14);  // 0.1 + 0.45 * (1 + cos(0.2 pi))
  EXPECT_NEAR(s.lr(5), 0.55, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(10), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(25), 0.1);

  c.warmup_steps = 2;  // warm-up, then the cosine over the remaining 8 steps
  const train::LrSchedule w(c);
  EXPECT_DOUBLE_EQ(w.lr(0), 0.5);
  EXPECT_DOUBLE_EQ(w.lr(1), 1.0);
  EXPECT_DOUBLE_EQ(w.lr(2), 1.0);
  EXPECT_NEAR(w.lr(6), 0.55, 1e-15);
  EXPECT_DOUBLE_EQ(w.lr(10), 0.1);
}

}  // namespace
}  // namespace gpurnn::testing
