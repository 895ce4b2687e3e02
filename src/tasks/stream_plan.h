#pragma once
// How truncated BPTT walks a stream of documents: B lanes, each a contiguous run of the
// stream's input positions, cut into chunks of at most k steps.
//
// Position p of a document [a, b) is an input when its targets p+1 .. p+horizon lie in the same
// document, so the input positions of a document are [a, b - horizon) (none when it is shorter
// than horizon + 1). The input positions of all documents, in order, are split into `lanes`
// equal runs of U / lanes positions (U: all input positions; the last U mod lanes are unused).
// Each lane is cut into chunks: a chunk ends after k steps, at the end of a document (so a
// chunk never spans two documents: its row is shorter, and the next chunk starts the next
// document afresh) or at the end of the lane. A chunk carries state when it continues the
// document of the lane's previous chunk. Every lane has the same number of chunks: the fewest
// any lane has (lanes that cross more document ends leave their last chunks unused).

#include <cstdint>
#include <vector>

namespace gpurnn::train::tasks {

struct StreamChunk {
  std::int64_t start = 0;   // first input position in the stream
  std::int64_t length = 0;  // steps, in [1, k]
  bool carry = false;       // continues the lane's previous chunk
};

class StreamPlan {
 public:
  // document_ends: the exclusive end of each document in the stream, increasing (document d
  // is [ends[d-1], ends[d]), the first starts at 0). Error(invalid_argument) naming 'lanes'
  // when there are fewer input positions than lanes, and 'steps' or 'horizon' when < 1.
  StreamPlan(const std::vector<std::int64_t>& document_ends, std::int64_t lanes, std::int64_t steps,
             std::int64_t horizon);

  // Input positions of a stream (U above).
  static std::int64_t input_positions(const std::vector<std::int64_t>& document_ends,
                                      std::int64_t horizon);

  std::int64_t lanes() const { return lanes_; }
  std::int64_t steps() const { return steps_; }
  std::int64_t chunks_per_lane() const { return chunks_per_lane_; }
  const StreamChunk& chunk(std::int64_t lane, std::int64_t index) const {
    return chunks_[static_cast<std::size_t>(lane * chunks_per_lane_ + index)];
  }

 private:
  std::int64_t lanes_ = 0;
  std::int64_t steps_ = 0;
  std::int64_t chunks_per_lane_ = 0;
  std::vector<StreamChunk> chunks_;  // [lanes, chunks_per_lane]
};

}  // namespace gpurnn::train::tasks
