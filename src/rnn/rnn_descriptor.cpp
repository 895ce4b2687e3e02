#include "gpurnn/rnn_descriptor.h"

#include <cmath>
#include <iterator>
#include <sstream>

#include "core/quoted.h"
#include "gpurnn/error.h"

namespace gpurnn {

const char* to_string(CellKind cell) { return detail::cell_traits(cell).name; }

std::string cell_kind_names(const std::vector<CellKind>& cells, const char* last_separator) {
  std::string names;
  for (std::size_t k = 0; k < cells.size(); ++k) {
    if (k > 0) names += k + 1 == cells.size() ? last_separator : ", ";
    names += to_string(cells[k]);
  }
  return names;
}

std::string cell_kind_names(const char* last_separator) {
  return cell_kind_names({std::begin(detail::kCellKinds), std::end(detail::kCellKinds)}, last_separator);
}

CellKind parse_cell_kind(const std::string& text) {
  for (CellKind c : detail::kCellKinds) {
    if (text == to_string(c)) return c;
  }
  throw Error(ErrorCode::invalid_argument,
              "cell kind " + gpurnn::detail::quoted(text) + " is unknown; expected one of " + cell_kind_names());
}

int gates_per_cell(CellKind cell) { return detail::cell_traits(cell).gates; }

void RNNDescriptor::validate() const {
  const char* where = "RNNDescriptor";
  const int c = static_cast<int>(cell);
  check_argument(detail::is_cell_kind(cell), where, "cell",
                 [&] { return "is not a CellKind value (" + std::to_string(c) + ")"; });
  check_argument(input_size > 0, where, "input_size",
                 [&] { return "must be positive, got " + std::to_string(input_size); });
  check_argument(hidden_size > 0, where, "hidden_size",
                 [&] { return "must be positive, got " + std::to_string(hidden_size); });
  check_argument(num_layers > 0, where, "num_layers",
                 [&] { return "must be positive, got " + std::to_string(num_layers); });
  check_argument(proj_size >= 0, where, "proj_size",
                 [&] { return "must be zero (no projection) or positive, got " + std::to_string(proj_size); });
  check_argument(proj_size == 0 || detail::cell_traits(cell).projection, where, "proj_size",
                 [&] { return std::string("is only supported for lstm, got cell ") + to_string(cell); });
  check_argument(proj_size < hidden_size, where, "proj_size", [&] {
    return "must be smaller than hidden_size (" + std::to_string(hidden_size) + "), got " + std::to_string(proj_size);
  });
  check_argument(std::isfinite(dropout) && dropout >= 0.0 && dropout < 1.0, where, "dropout",
                 [&] { return "must be in [0, 1), got " + std::to_string(dropout); });
}

bool RNNDescriptor::operator==(const RNNDescriptor& o) const {
  return cell == o.cell && input_size == o.input_size && hidden_size == o.hidden_size &&
         num_layers == o.num_layers && bidirectional == o.bidirectional && bias == o.bias &&
         proj_size == o.proj_size && dropout == o.dropout;
}

std::string to_string(const RNNDescriptor& desc) {
  std::ostringstream s;
  s << to_string(desc.cell) << "(I=" << desc.input_size << ", H=" << desc.hidden_size
    << ", layers=" << desc.num_layers;
  if (desc.bidirectional) s << ", bidirectional";
  if (!desc.bias) s << ", no bias";
  if (desc.proj_size > 0) s << ", proj=" << desc.proj_size;
  if (desc.dropout > 0) s << ", dropout=" << desc.dropout;
  s << ")";
  return s.str();
}

}  // namespace gpurnn
