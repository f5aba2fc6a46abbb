// The receiver's view of each sender's stream: the sequence it expects next, and what a frame or
// a metadata message (which announces the next sequence) says about missing frames. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zerobuffer::bridge::detail {

class StreamTable {
public:
    explicit StreamTable(std::size_t capacity = 1024) : capacity_(capacity) {}

    struct Update {
        std::uint64_t missing = 0;  // frames skipped before this one (a gap), exact
        bool joined = false;        // the first message of a stream this receiver did not know
        bool stale = false;         // a frame older than one already received: not to be written
    };

    // A frame `sequence` of `stream`.
    Update on_frame(std::uint64_t stream, std::uint64_t sequence);
    // Metadata of `stream`, sent on every (re)connection: its next frame is `next_sequence`.
    Update on_metadata(std::uint64_t stream, std::uint64_t next_sequence);

    [[nodiscard]] std::size_t size() const noexcept { return streams_.size(); }
    [[nodiscard]] std::uint64_t streams_seen() const noexcept { return seen_; }

private:
    struct Stream {
        std::uint64_t id = 0;
        std::uint64_t expected = 0;  // next sequence
        std::uint64_t last_use = 0;
    };
    Stream* find_or_add(std::uint64_t stream, bool& added);
    // What `next` as the stream's next sequence says (stale: it is behind); moves the stream to
    // it unless stale. `s` is the stream.
    Update advance(std::uint64_t stream, std::uint64_t next, Stream*& s);

    std::size_t capacity_;
    std::vector<Stream> streams_;
    std::uint64_t clock_ = 0;
    std::uint64_t seen_ = 0;
};

}  // namespace zerobuffer::bridge::detail
