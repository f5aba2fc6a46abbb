// One subscriber buffer the publisher is attached to, and what identifies a buffer.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "zerobuffer/topic.h"
#include "zerobuffer/writer.h"

namespace zerobuffer::detail {

// The segment file of a buffer: a buffer re-created under the same name is another buffer.
struct SegmentKey {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const SegmentKey&) const = default;
    bool empty() const noexcept { return dev == 0 && ino == 0; }
};

// A subscriber buffer with this publisher's Writer attached. Its Writer is used by one thread
// at a time: the discovery thread while attaching, the publishing thread from the moment the
// link is handed over (under the roster's mutex) until it is retired, then the discovery thread
// again, which closes it. is_reader_connected and the counters may be read from any thread.
struct Link {
    Link(std::string buffer_name, std::string subscriber_id, Writer attached, SegmentKey segment,
         std::uint64_t pid) noexcept
        : name(std::move(buffer_name)), id(std::move(subscriber_id)), writer(std::move(attached)), key(segment),
          reader_pid(pid) {}

    const std::string name;
    const std::string id;
    Writer writer;
    const SegmentKey key;
    const std::uint64_t reader_pid;

    // Frames delivered are the Writer's own count (frames_written, readable from any thread).
    std::uint64_t delivered() const noexcept { return writer.frames_written(); }
    // Frames it missed: written by the publishing thread only (no read-modify-write), read by any.
    std::atomic<std::uint64_t> dropped{0};
    static void count(std::atomic<std::uint64_t>& counter) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    // Set under the roster's mutex when the link must leave while the publishing thread holds
    // it (reader found gone, metadata found incompatible): the publishing thread retires it at
    // its next call. The state and reason are guarded by the mutex.
    std::atomic<bool> condemned{false};
    SubscriberState condemned_as = SubscriberState::gone;
    std::string condemned_because;

    // Metadata an earlier publisher left in the buffer, found before this publisher set its
    // own; compared when it does (guarded by the roster's mutex).
    std::optional<std::vector<std::byte>> found_metadata;

    // drop policy: a frame did not fit this ring at all (logged once).
    bool warned_too_large = false;
};

}  // namespace zerobuffer::detail
