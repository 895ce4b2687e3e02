#include "cli/device_choice.h"

#include "gpurnn/error.h"

namespace gpurnn::cli {
namespace {

std::string unavailable(DeviceKind kind) {
  if (kind == DeviceKind::cuda) return "no CUDA device (" + cuda_unavailable_reason() + ")";
  return "no virtual device (set GPURNN_VIRTUAL_DEVICES=N to have N)";
}

}  // namespace

int device_count(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::cpu: return 1;
    case DeviceKind::cuda: return cuda_device_count();
    case DeviceKind::virtual_device: return virtual_device_count();
  }
  return 0;
}

Device resolve_device(const std::string& text) {
  if (text == "auto") return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  Device d;
  try {
    d = parse_device(text);
  } catch (const Error&) {
    throw Error(ErrorCode::invalid_argument,
                "--device " + text + ": expected auto, cpu, cuda, cuda:N, virtual or virtual:N");
  }
  if (d.is_cpu()) return d;
  const int count = device_count(d.kind);
  if (count == 0) {  // for CUDA the reason `gpurnn info` shows: no CUDA built, no driver, no device
    throw Error(ErrorCode::unsupported, "--device " + text + ": not available: " + unavailable(d.kind));
  }
  if (d.index >= count) {
    const std::string kind = to_string(d.kind);
    throw Error(ErrorCode::unsupported, "--device " + text + ": not available: this process has " +
                                            std::to_string(count) + " " + (kind == "cuda" ? "CUDA" : kind) +
                                            " device(s), " + kind + ":0 to " + kind + ":" + std::to_string(count - 1));
  }
  return d;
}

Device rank_device(Device requested, bool index_given, int rank, int local_rank, int count) {
  if (requested.is_cpu()) return requested;
  const std::string who = "rank " + std::to_string(rank) + " (local rank " + std::to_string(local_rank) + ")";
  if (index_given && local_rank != 0) {
    throw Error(ErrorCode::invalid_argument,
                "--device " + to_string(requested) + ": names one device for every rank, and " + who +
                    " shares its node with another rank; give --device " + to_string(requested.kind) +
                    " instead (each rank takes the device of its local rank)");
  }
  if (index_given) return requested;
  if (local_rank >= count) {
    throw Error(ErrorCode::invalid_argument,
                "--device " + std::string(to_string(requested.kind)) + ": each rank takes the device of its local rank, but " +
                    who + " is on a node with " + std::to_string(count) + " " + to_string(requested.kind) +
                    " device(s): run at most one rank per device on a node");
  }
  return {requested.kind, local_rank};
}

}  // namespace gpurnn::cli
