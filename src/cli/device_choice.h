#pragma once
// Which device a command runs on: --device's text resolved against the devices this process has,
// and, in a distributed run, each rank's device.

#include <string>

#include "gpurnn/device.h"

namespace gpurnn::cli {

// How many devices of `kind` this process has (cpu: 1).
int device_count(DeviceKind kind);

// "auto": the first CUDA device when there is one, else the CPU (never a virtual device: they are
// asked for by name). "cpu", "cuda", "cuda:N", "virtual", "virtual:N": that device, refused with
// Error(unsupported) naming --device and the devices there are when the process lacks it.
Device resolve_device(const std::string& text);

// The device of a distributed rank whose --device resolved to `requested`. The rule, one device
// per rank on a node:
//   - cpu: every rank on the CPU;
//   - a kind without an index ("auto", "cuda", "virtual"): the device of the rank's local rank,
//     refused when the node has fewer devices than ranks (local_rank >= count), which would put
//     two ranks on one GPU (NCCL: "Duplicate GPU detected");
//   - an explicit index ("cuda:1"): that device for a rank alone on its node (local rank 0), and
//     refused for any other local rank, for the same reason.
// `rank` and `local_rank` name the rank in the message.
Device rank_device(Device requested, bool index_given, int rank, int local_rank, int count);

}  // namespace gpurnn::cli
