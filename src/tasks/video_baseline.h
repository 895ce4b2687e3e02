#pragma once
// The video task's baseline: the best a classifier can do without the frames' order. Each
// clip becomes its mean frame (average-pooled to at most 16x16 pixels) and five numbers of its
// shape wherever it lies (its mass and second central moments: the axis of a smear), and a multinomial
// logistic regression (standardised pixels, L2 1e-3, 300 full-batch Adam steps) is trained on
// the training clips (the first 4096) and scored on the held-out clips. A clip and its reversal
// have the same mean frame, so it can tell the axis of a motion but not its direction.

#include <cstdint>

#include "tasks/video_source.h"

namespace gpurnn::train::tasks {

// The held-out accuracy of that regression, in [0, 1]; deterministic (no random numbers).
double mean_frame_accuracy(const ClipStore& train, const ClipStore& eval, std::int64_t classes);

}  // namespace gpurnn::train::tasks
