// The state behind one ResponseWriter (not installed): the one-response rule and the size
// checks, then either straight into the response Writer (single_thread) or into frames staged
// in this process's memory (thread_pool).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "zerobuffer/duplex/response_writer.h"
#include "zerobuffer/writer.h"

namespace zerobuffer::detail {

class ResponseSink {
public:
    // `direct`: the response Writer to write to, or nullptr to stage. `max_frame`: the largest
    // payload of one frame in the client's ring.
    ResponseSink(Writer* direct, std::size_t max_frame, std::string_view channel, bool exactly_one) noexcept
        : direct_(direct), max_frame_(max_frame), channel_(channel), exactly_one_(exactly_one) {}
    ResponseSink(const ResponseSink&) = delete;
    ResponseSink& operator=(const ResponseSink&) = delete;
    ~ResponseSink() = default;  // a pending reservation is abandoned

    void write(std::span<const std::byte> data);
    std::span<std::byte> acquire(std::size_t size);
    void commit();
    void abandon() noexcept;

    std::size_t frames() const noexcept { return frames_; }
    std::size_t max_frame() const noexcept { return max_frame_; }
    std::string_view channel() const noexcept { return channel_; }
    // The staged frames (thread_pool), in the order the handler added them.
    std::vector<std::vector<std::byte>> take_staged() noexcept { return std::move(staged_); }

private:
    void check(std::size_t size) const;

    Writer* direct_;
    std::size_t max_frame_;
    std::string_view channel_;
    bool exactly_one_;
    bool has_pending_ = false;
    std::size_t frames_ = 0;
    FrameReservation reservation_;                // direct: the frame being filled in the ring
    std::vector<std::byte> pending_;              // staging: the frame being filled
    std::vector<std::vector<std::byte>> staged_;  // staging: the finished frames
};

// Builds ResponseWriters (their constructor is private).
struct ResponseWriterAccess {
    static ResponseWriter make(ResponseSink& sink) noexcept { return ResponseWriter(sink); }
};

}  // namespace zerobuffer::detail
