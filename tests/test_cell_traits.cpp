// The cell table (detail/cell_traits.h) against what the rest of the library says about each
// cell: names round-trip, gate counts agree with gates_per_cell, the saved values and flags
// match the equations in cell_math.h, and the help lists come from the table.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "gpurnn/detail/cell_math.h"
#include "gpurnn/detail/cell_traits.h"
#include "gpurnn/error.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn {
namespace {

TEST(CellTraits, EveryKindHasARowWhoseNameParsesBack) {
  std::set<std::string> names;
  ASSERT_EQ(detail::kCellKindCount, 5);
  for (int k = 0; k < detail::kCellKindCount; ++k) {
    const CellKind cell = detail::kCellKinds[k];
    EXPECT_EQ(static_cast<int>(cell), k) << "kCellKinds is in enum order";
    const detail::CellTraits t = detail::cell_traits(cell);
    EXPECT_STREQ(t.name, to_string(cell));
    EXPECT_EQ(parse_cell_kind(t.name), cell);
    EXPECT_TRUE(names.insert(t.name).second) << t.name << " twice";
    EXPECT_EQ(t.gates, gates_per_cell(cell));
    EXPECT_GE(t.saved_per_unit, t.gates) << t.name << ": backward needs every activated gate";
    EXPECT_NE(std::string(t.summary), "") << t.name;
    EXPECT_TRUE(detail::is_cell_kind(cell));
  }
  EXPECT_FALSE(detail::is_cell_kind(static_cast<CellKind>(detail::kCellKindCount)));
  EXPECT_FALSE(detail::is_cell_kind(static_cast<CellKind>(-1)));
  EXPECT_STREQ(to_string(static_cast<CellKind>(99)), "unknown");
}

TEST(CellTraits, FlagsMatchTheDescriptorAndTheEquations) {
  static_assert(detail::cell_traits(CellKind::lstm).gates == 4, "usable in constant expressions");
  for (CellKind cell : detail::kCellKinds) {
    const detail::CellTraits t = detail::cell_traits(cell);
    RNNDescriptor d;
    d.cell = cell;
    d.input_size = 3;
    d.hidden_size = 4;
    EXPECT_EQ(d.has_cell_state(), t.cell_state) << t.name;
    EXPECT_EQ(d.gates(), t.gates) << t.name;
    d.proj_size = 2;
    if (t.projection) {
      EXPECT_NO_THROW(d.validate()) << t.name;
    } else {
      EXPECT_THROW(d.validate(), Error) << t.name;
    }
  }
  // GRU: r, z, n plus W_hn h + b_hn saved; d_hh differs from d_ih; h' blends in h.
  const detail::CellTraits gru = detail::cell_traits(CellKind::gru);
  EXPECT_EQ(gru.saved_per_unit, 4);
  EXPECT_TRUE(gru.separate_hh_gradient);
  EXPECT_TRUE(gru.blends_state);
  const detail::CellTraits lstm = detail::cell_traits(CellKind::lstm);
  EXPECT_TRUE(lstm.cell_state);
  EXPECT_FALSE(lstm.separate_hh_gradient);
  EXPECT_FALSE(lstm.blends_state);
}

// cell_unit_backward on a cell without blends_state leaves no gradient outside W_hh, and one
// without separate_hh_gradient never touches d_hh (null is passed there by the engine).
TEST(CellTraits, UnitBackwardHonoursTheFlags) {
  const std::int64_t H = 2, j = 1;
  for (CellKind cell : detail::kCellKinds) {
    const detail::CellTraits t = detail::cell_traits(cell);
    double gates[8] = {0.3, 0.4, 0.5, 0.1, -0.4, 0.2, 0.6, -0.1};
    const double hh[8] = {0.1, 0.2, -0.3, 0.4, 0.05, -0.15, 0.25, 0.35};
    const double h_prev[2] = {0.2, -0.6}, c_prev[2] = {0.5, -0.3};
    double c_next[2] = {0, 0};
    const detail::UnitForward<double> f = detail::cell_unit_forward(
        cell, H, j, gates, hh, static_cast<const double*>(nullptr), h_prev, t.cell_state ? c_prev : nullptr);
    c_next[j] = f.c;
    double d_ih[8] = {}, d_hh[8] = {};
    const double dc_next[2] = {0.1, 0.2};
    const detail::UnitBackward<double> b = detail::cell_unit_backward(
        cell, H, j, gates, 0.7, h_prev, t.cell_state ? c_prev : nullptr, t.cell_state ? c_next : nullptr,
        t.cell_state ? dc_next : nullptr, d_ih, t.separate_hh_gradient ? d_hh : nullptr);
    EXPECT_EQ(b.dh_direct != 0.0, t.blends_state) << t.name;
    EXPECT_EQ(b.dc_prev != 0.0, t.cell_state) << t.name;
    for (int k = 0; k < t.gates; ++k) EXPECT_NE(d_ih[k * H + j], 0.0) << t.name << " gate " << k;
  }
}

TEST(CellTraits, HelpListsComeFromTheTable) {
  EXPECT_EQ(cell_kind_names(), "rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru");
  EXPECT_EQ(cell_kind_names(" or "), "rnn_tanh, rnn_relu, rnn_sigmoid, lstm or gru");
  EXPECT_EQ(cell_kind_names({CellKind::rnn_relu, CellKind::rnn_sigmoid}, " or "), "rnn_relu or rnn_sigmoid");
  EXPECT_EQ(cell_kind_names({CellKind::gru}, " or "), "gru");
  EXPECT_EQ(cell_kind_names(std::vector<CellKind>{}), "");
  try {
    parse_cell_kind("lstmm");
    FAIL() << "parse_cell_kind accepted 'lstmm'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected one of " + cell_kind_names()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gpurnn
