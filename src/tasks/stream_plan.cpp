#include "tasks/stream_plan.h"

#include <algorithm>
#include <limits>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "StreamPlan";

// The input positions of one document: [begin, end) of the stream.
struct Segment {
  std::int64_t begin = 0;
  std::int64_t end = 0;
};

std::vector<Segment> input_segments(const std::vector<std::int64_t>& document_ends,
                                    std::int64_t horizon) {
  std::vector<Segment> segments;
  std::int64_t begin = 0;
  for (std::int64_t end : document_ends) {
    check_argument(end >= begin, kWhere, "document_ends", "must be non-decreasing");
    if (end - horizon > begin) segments.push_back({begin, end - horizon});
    begin = end;
  }
  return segments;
}

// Where a lane starts: segment `index`, `offset` positions into it.
struct Cursor {
  std::size_t index = 0;
  std::int64_t offset = 0;
};

// The chunks of the lane of `count` input positions starting at `cursor`, which it advances to
// the lane's end (the next lane's start).
std::vector<StreamChunk> lane_chunks(const std::vector<Segment>& segments, Cursor& cursor,
                                     std::int64_t count, std::int64_t steps) {
  std::vector<StreamChunk> chunks;
  while (count > 0) {
    const Segment& segment = segments[cursor.index];
    const std::int64_t length =
        std::min({steps, segment.end - segment.begin - cursor.offset, count});
    chunks.push_back({segment.begin + cursor.offset, length, !chunks.empty() && cursor.offset > 0});
    cursor.offset += length;
    count -= length;
    if (segment.begin + cursor.offset == segment.end) {
      ++cursor.index;
      cursor.offset = 0;
    }
  }
  return chunks;
}

}  // namespace

std::int64_t StreamPlan::input_positions(const std::vector<std::int64_t>& document_ends,
                                         std::int64_t horizon) {
  std::int64_t total = 0;
  for (const Segment& segment : input_segments(document_ends, horizon)) {
    total += segment.end - segment.begin;
  }
  return total;
}

StreamPlan::StreamPlan(const std::vector<std::int64_t>& document_ends, std::int64_t lanes,
                       std::int64_t steps, std::int64_t horizon)
    : lanes_(lanes), steps_(steps) {
  check_argument(steps >= 1, kWhere, "steps", "must be at least 1, got " + std::to_string(steps));
  check_argument(horizon >= 1, kWhere, "horizon",
                 "must be at least 1, got " + std::to_string(horizon));
  check_argument(lanes >= 1, kWhere, "lanes", "must be at least 1, got " + std::to_string(lanes));
  const std::vector<Segment> segments = input_segments(document_ends, horizon);
  std::int64_t total = 0;
  for (const Segment& segment : segments) total += segment.end - segment.begin;
  check_argument(total >= lanes, kWhere, "lanes",
                 std::to_string(lanes) + " needs at least as many input positions; the stream has " +
                     std::to_string(total));
  const std::int64_t lane_length = total / lanes;

  std::vector<std::vector<StreamChunk>> per_lane;
  Cursor cursor;
  std::int64_t fewest = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t lane = 0; lane < lanes; ++lane) {
    per_lane.push_back(lane_chunks(segments, cursor, lane_length, steps));
    fewest = std::min(fewest, static_cast<std::int64_t>(per_lane.back().size()));
  }
  chunks_per_lane_ = fewest;
  chunks_.reserve(static_cast<std::size_t>(lanes * fewest));
  for (const std::vector<StreamChunk>& chunks : per_lane) {
    chunks_.insert(chunks_.end(), chunks.begin(), chunks.begin() + fewest);
  }
}

}  // namespace gpurnn::train::tasks
