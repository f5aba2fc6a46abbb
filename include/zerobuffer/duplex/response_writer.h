// ResponseWriter: the response sink a server hands to a ResponseHandler.
#pragma once

#include "zerobuffer/export.h"

#include <cstddef>
#include <span>

namespace zerobuffer {

namespace detail {
class ResponseSink;
struct ResponseWriterAccess;
}  // namespace detail

// The response sink given to a ResponseHandler for one request. In single_thread mode it writes
// straight into the client's response ring (zero-copy). In thread_pool mode it stages the
// response in this process's memory; the server writes staged responses to the wire strictly
// in request order as soon as every earlier request has been answered.
//
// Only the handler's thread may use it, and only during the handler call it was given to.
// Not copyable or movable. Holds no state of its own: the staging lives in the server.
class ZEROBUFFER_API ResponseWriter {
public:
    ResponseWriter(const ResponseWriter&) = delete;
    ResponseWriter& operator=(const ResponseWriter&) = delete;

    // Adds one response frame (copied). single_thread mode: blocks while the response ring is
    // full, up to the response write timeout; thread_pool mode: never blocks. Throws
    // InvalidFrameSizeException (size 0), InvalidArgumentException (null data with a size),
    // FrameTooLargeException (16 + size > the client's response ring), UsageException (a frame
    // buffer is pending; or, under ResponsePolicy::exactly_one, a second frame for the same
    // request: refused before it reaches the wire, so the pairing is kept). single_thread mode
    // also throws what Writer::write_frame throws (BufferFullException, ReaderDeadException).
    void write_frame(std::span<const std::byte> data);
    void write_frame(const void* data, std::size_t size);

    // Zero-copy: a buffer of `size` bytes to fill (in the response ring in single_thread mode),
    // then commit_frame() adds it as one response frame and abandon_frame() drops it. A buffer
    // left pending when the handler returns is dropped. Blocks and throws like write_frame;
    // commit_frame also throws UsageException when nothing is pending.
    [[nodiscard]] std::span<std::byte> get_frame_buffer(std::size_t size);
    void commit_frame();
    void abandon_frame() noexcept;

    // Frames added so far for this request. Never throws.
    [[nodiscard]] std::size_t frames() const noexcept;
    // The largest payload one response frame may have: payload ring of CH_response minus 16.
    [[nodiscard]] std::size_t max_frame_size() const noexcept;

private:
    friend struct detail::ResponseWriterAccess;
    explicit ResponseWriter(detail::ResponseSink& sink) noexcept : sink_(&sink) {}
    detail::ResponseSink* sink_;
};

}  // namespace zerobuffer
