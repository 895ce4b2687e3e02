#pragma once
// Moves host batches to the training device. On cuda the copy of batch i+1 overlaps the compute
// of batch i: the host batch is staged in pinned memory (two slots, double-buffered), copied on
// a second stream, and the compute stream waits on an event recorded after the copy. On cpu it
// hands the batch through.

#include <memory>

#include "gpurnn/train/batch.h"

namespace gpurnn::train {

class BatchUploader {
 public:
  virtual ~BatchUploader() = default;
  // Starts moving `host` (CPU tensors) to the device and returns without waiting on cuda. At
  // most one upload is in flight: a second begin() before finish() is Error(invalid_argument).
  virtual void begin(const Batch& host) = 0;
  // The device copy of the last begin()'s batch: inputs, targets and device_lengths on the
  // device, lengths the host's (gpurnn/train/batch.h). `compute_stream` (cudaStream_t, null: legacy
  // default stream) is made to wait for the copy; nothing waits on the host.
  virtual Batch finish(void* compute_stream) = 0;
};

// For "cpu", "cuda:N" or "virtual:N" (Error(unsupported) for a device this build or process lacks).
std::unique_ptr<BatchUploader> make_batch_uploader(Device device);

}  // namespace gpurnn::train
