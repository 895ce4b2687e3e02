// SGD (plain, momentum + weight decay, Nesterov), Adam (L2 weight decay) and AdamW against
// torch.optim, in f64 and f32, over four steps with a different learning rate each step.

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/optimizer.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

// Produced by `/usr/bin/python3 tests/train/make_optimizer_golden.py` (torch 1.13, Debian 12) and
// pasted unchanged: the parameter after each step. param0, grad and lr_at below are the script's.
// torch 1.13.0a0, float64: parameter after each of 4 steps
const double sgd_plain[4][6] = {
    {0.29001665833531715, -0.698544972998846, 0.8572620119766169, -1.124319750469207, 1.5832267442223902, -1.8311541363513375},
    {0.18241324470038872, -0.8280263779961771, 0.8955931772806416, -0.974331261834592, 1.6251390689522291, -1.9587196294456222},
    {-0.017085752620422178, -0.895024008027358, 1.0592485994935237, -0.8197783643233946, 1.5441690848289096, -2.1565912787702985},
    {-0.21920985357531975, -0.8073282011049532, 1.3082897517024838, -0.7742377382553706, 1.319492060876003, -2.3223335862908443},
};
const double sgd_momentum_wd[4][6] = {
    {0.2897166583353172, -0.6979449729988461, 0.8563620119766169, -1.1231197504692072, 1.5817267442223901, -1.8293541363513377},
    {0.16779615846556398, -0.958605174085121, 0.8344973504311096, -0.867658245342318, 1.7315975835361221, -1.9938036823154013},
    {-0.1783430310158819, -1.3364778350716617, 0.9702461840885207, -0.4048162251881688, 1.8270094114222089, -2.3850271794323232},
    {-0.7694278625598664, -1.670547577171436, 1.369579158701847, 0.16243371411624336, 1.705103170312594, -2.9849333532608253},
};
const double sgd_nesterov_wd[4][6] = {
    {0.2804616508371026, -0.7860954486978075, 0.8170878227555722, -1.0539275258914935, 1.6552808140225412, -1.8557728590675415},
    {0.06272158910326324, -1.1488728883575456, 0.8345681810899555, -0.6725362008570207, 1.829494674919475, -2.1285236189652155},
    {-0.44822399459205625, -1.5531728818435755, 1.1187919139236797, -0.10054372388926434, 1.8304409741862282, -2.673954074240421},
    {-1.1803670085278892, -1.7612234003877587, 1.7241729693854666, 0.4545673687651557, 1.4911322158807216, -3.3719560115138334},
};
const double adam_wd[4][6] = {
    {0.29000000094488104, -0.6099999998972725, 0.8900000002245273, -1.1900000001280733, 1.5099999998753533, -1.809999999637078},
    {0.2775007593240378, -0.6249139701532758, 0.8863925709739103, -1.1750297577944337, 1.5229108005579644, -1.8237939388122377},
    {0.2595890596523779, -0.6429219247256576, 0.895220010895238, -1.155186168976818, 1.5288407629056415, -1.8428029232592782},
    {0.23628501304522087, -0.6568797188695038, 0.9119475108609962, -1.1330984761456926, 1.5229834044951853, -1.8666674791518312},
};
const double adamw[4][6] = {
    {0.28970010016585795, -0.6093999898523592, 0.8891000233983325, -1.1888000132134695, 1.508499987984646, -1.8081999679016363},
    {0.27632462957488324, -0.6233481398533783, 0.8857199757388625, -1.1719402513912875, 1.5189513965844756, -1.8197692881745158},
    {0.25699952103531776, -0.6395319590102266, 0.8950229704015167, -1.149771179409999, 1.521087556572599, -1.8358646010694926},
    {0.23210435547619557, -0.6497936454427504, 0.912262428113758, -1.1259898189958188, 1.5093644310387082, -1.8556721976758506},
};

constexpr int kSteps = 4;
constexpr int kN = 6;

double param0(int i) { return 0.3 * (i + 1) * (i % 2 == 0 ? 1 : -1); }
double grad(int step, int i) { return std::sin(1.3 * i + 0.7 * step + 0.1); }
double lr_at(double base, int step) { return base * (1.0 + 0.5 * step); }

struct GoldenCase {
  const char* name;
  train::OptimizerConfig config;
  double lr;
  const double (*expected)[kN];
};

train::OptimizerConfig config(const char* kind, double momentum, bool nesterov, double beta1,
                              double beta2, double eps, double weight_decay) {
  train::OptimizerConfig c;
  c.kind = kind;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.eps = eps;
  c.weight_decay = weight_decay;
  return c;
}

std::vector<GoldenCase> golden_cases() {
  return {
      {"sgd_plain", config("sgd", 0.0, false, 0.9, 0.999, 1e-8, 0.0), 0.1, sgd_plain},
      {"sgd_momentum_wd", config("sgd", 0.9, false, 0.9, 0.999, 1e-8, 0.01), 0.1, sgd_momentum_wd},
      {"sgd_nesterov_wd", config("sgd", 0.9, true, 0.9, 0.999, 1e-8, 0.01), 0.1, sgd_nesterov_wd},
      {"adam_wd", config("adam", 0.0, false, 0.9, 0.999, 1e-8, 0.02), 0.01, adam_wd},
      {"adamw", config("adamw", 0.0, false, 0.8, 0.99, 1e-6, 0.1), 0.01, adamw},
  };
}

class OptimizerGolden : public ::testing::TestWithParam<DType> {};

TEST_P(OptimizerGolden, MatchesTorchOptimStepByStep) {
  const DType dt = GetParam();
  // f32 parameters and state round every step; PyTorch's values are f64.
  const double tol = dt == DType::f32 ? 2e-6 : 1e-14;
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
  for (const GoldenCase& c : golden_cases()) {
    std::vector<double> p0, g(kN);
    for (int i = 0; i < kN; ++i) p0.push_back(param0(i));
    train::Parameter p{"w", Tensor::from_host<double>({kN}, p0.data()).to(dt), Tensor::zeros({kN}, dt)};
    std::unique_ptr<train::Optimizer> opt = train::make_optimizer(c.config);
    EXPECT_EQ(opt->kind(), c.config.kind);
    for (int step = 0; step < kSteps; ++step) {
      for (int i = 0; i < kN; ++i) g[i] = grad(step, i);
      p.grad = Tensor::from_host<double>({kN}, g.data()).to(dt);
      opt->step(*ops, {p}, lr_at(c.lr, step));
      const std::vector<double> want(c.expected[step], c.expected[step] + kN);
      EXPECT_LT(relative_error(values(p.value), want), tol) << c.name << " step " << step;
    }
    EXPECT_EQ(opt->steps(), kSteps);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, OptimizerGolden, ::testing::Values(DType::f32, DType::f64), DTypeName());

}  // namespace
}  // namespace gpurnn::testing
