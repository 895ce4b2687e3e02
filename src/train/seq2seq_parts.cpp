#include "train/seq2seq_parts.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "gpurnn/detail/dtype_dispatch.h"

namespace gpurnn::train::seq2seq_detail {

std::vector<std::int32_t> host_ints(const Tensor& t) {
  const Tensor h = on_host(t);
  const std::int32_t* p = h.data_as<std::int32_t>();
  return std::vector<std::int32_t>(p, p + h.numel());
}

std::vector<std::int32_t> argmax_rows(const Tensor& scores) {
  const std::vector<double> logp = log_softmax_rows(scores);
  const std::int64_t k = scores.dim(scores.rank() - 1);
  std::vector<std::int32_t> best(logp.size() / static_cast<std::size_t>(k));
  for (std::size_t r = 0; r < best.size(); ++r) {
    const auto row = logp.begin() + static_cast<std::ptrdiff_t>(r * k);
    best[r] = static_cast<std::int32_t>(std::max_element(row, row + k) - row);
  }
  return best;
}

Tensor index_tensor(const std::vector<std::int32_t>& values, Device device) {
  Tensor host = Tensor::empty({static_cast<std::int64_t>(values.size())}, DType::i32);
  if (!values.empty()) std::memcpy(host.data(), values.data(), values.size() * sizeof(std::int32_t));
  return on_device(host, device);
}

Tensor index_tensor_of(const Tensor& given, const std::vector<std::int32_t>& values, Device device) {
  if (given.defined() && given.device() == device) return given.reshape({given.numel()});
  return index_tensor(values, device);
}

Tensor gather_rows(TrainOps& ops, const Tensor& table, std::int64_t row_width, const std::vector<std::int32_t>& ids) {
  const Tensor rows = table.reshape({table.numel() / row_width, row_width});
  Tensor out = Tensor::empty({static_cast<std::int64_t>(ids.size()), row_width}, table.dtype(), table.device());
  ops.embedding_forward(rows.view(), index_tensor(ids, table.device()).view(), out.view());
  return out;
}

Tensor excluded_positions(const std::vector<std::int32_t>& targets, std::int64_t steps, std::int64_t rows,
                          std::int64_t positions, std::int32_t end_output, Device device) {
  Tensor mask = Tensor::zeros({steps, rows, positions}, DType::u8);
  std::uint8_t* m = mask.data_as<std::uint8_t>();
  for (std::int64_t b = 0; b < rows; ++b) {
    for (std::int64_t u = 0; u + 1 < steps; ++u) {
      const std::int32_t chosen = targets[u * rows + b];
      if (chosen < 0 || chosen >= positions || chosen == end_output) continue;
      for (std::int64_t later = u + 1; later < steps; ++later) m[(later * rows + b) * positions + chosen] = 1;
    }
  }
  return on_device(mask, device);
}

std::vector<double> log_softmax_rows(const Tensor& scores) {
  const Tensor host = on_host(scores);
  const std::int64_t k = host.dim(host.rank() - 1);
  const std::int64_t n = host.numel() / k;
  std::vector<double> out(static_cast<std::size_t>(host.numel()));
  detail::visit_floating(host.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = host.data_as<T>();
    for (std::int64_t r = 0; r < n; ++r) {
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < k; ++j) mx = std::max(mx, static_cast<double>(s[r * k + j]));
      double sum = 0.0;
      for (std::int64_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(s[r * k + j]) - mx);
      const double lse = mx + std::log(sum);
      for (std::int64_t j = 0; j < k; ++j) out[r * k + j] = static_cast<double>(s[r * k + j]) - lse;
    }
  });
  return out;
}

}  // namespace gpurnn::train::seq2seq_detail
