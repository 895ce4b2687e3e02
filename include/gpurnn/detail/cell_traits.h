#pragma once
// One row per cell kind: everything the engine, the buffer layouts, the CPU rows, the step
// kernels, the file reader and the help strings need to know about a cell besides its equations
// (those are in cell_math.h). Usable in kernels: cell_traits() is constexpr host-device.
//
// A new vanilla-style cell (h' = act(ih + hh)) is its enum value in cell_kind.h, its row here
// and its activation in cell_math.h.

#include "gpurnn/cell_kind.h"
#include "gpurnn/detail/host_device.h"

namespace gpurnn::detail {

struct CellTraits {
  const char* name;            // to_string, parse_cell_kind, the files' "cell" metadata
  int gates;                   // G: gate pre-activations per hidden unit (W_ih, W_hh have G*H rows)
  int saved_per_unit;          // values saved per unit and step for backward: gate stride S*H
  bool cell_state;             // carries c_t next to h_t (LSTM)
  bool projection;             // may have proj_size > 0 (LSTM: h_t = W_hr m_t)
  bool separate_hh_gradient;   // backward's d_hh differs from d_ih (GRU: n's recurrent part × r)
  bool blends_state;           // h' mixes in h_{t-1} itself (GRU: z ⊙ h), so the cell reads h_prev
                               // and part of dh_{t-1} bypasses W_hh
  const char* summary;         // one line for help texts and the Python enum
};

// Every cell kind, in enum order.
inline constexpr CellKind kCellKinds[] = {CellKind::rnn_tanh, CellKind::rnn_relu,
                                          CellKind::rnn_sigmoid, CellKind::lstm, CellKind::gru};
inline constexpr int kCellKindCount = static_cast<int>(sizeof(kCellKinds) / sizeof(kCellKinds[0]));

GPURNN_HOST_DEVICE constexpr CellTraits cell_traits(CellKind cell) {
  switch (cell) {
    case CellKind::rnn_tanh:
      return {"rnn_tanh", 1, 1, false, false, false, false, "h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"};
    case CellKind::rnn_relu:
      return {"rnn_relu", 1, 1, false, false, false, false, "h' = relu(W_ih x + b_ih + W_hh h + b_hh)"};
    case CellKind::rnn_sigmoid:
      return {"rnn_sigmoid", 1, 1, false, false, false, false, "h' = sigmoid(...) (not in PyTorch)"};
    case CellKind::lstm:
      return {"lstm", 4, 4, true, true, false, false, "LSTM, gates i, f, g, o; optional projection"};
    case CellKind::gru:
      // Saved: r, z, n and W_hn h + b_hn (the gradient of r needs it).
      return {"gru", 3, 4, false, false, true, true, "GRU, gates r, z, n"};
  }
  return {"unknown", 1, 1, false, false, false, false, "not a cell kind"};
}

// Whether `cell` is one of kCellKinds (a CellKind cast from an out-of-range integer is not).
GPURNN_HOST_DEVICE constexpr bool is_cell_kind(CellKind cell) {
  return static_cast<int>(cell) >= 0 && static_cast<int>(cell) < kCellKindCount;
}

}  // namespace gpurnn::detail
