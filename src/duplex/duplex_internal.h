// Internal helpers shared by the duplex server and client (not installed).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "zerobuffer/duplex.h"

namespace zerobuffer::detail {

using DuplexClock = std::chrono::steady_clock;

// Removes buffer NAME (shared memory, both semaphores, lock file) if no live reader owns it.
// Holds the buffer's lock file while it looks, so a reader that is being created at the same
// time (it takes the lock first) is never destroyed; that reader instead sees the lock held
// for a few microseconds (callers that create readers retry briefly). Returns true if
// something was removed. Never throws. Used to clean up after a peer that was killed.
bool reclaim_stale_buffer(const std::string& name) noexcept;

// The reader_pid recorded in buffer NAME's OIEB, or 0 if the buffer does not exist or is not
// initialised yet. Maps the segment briefly without prefaulting. Never throws.
std::uint64_t peek_reader_pid(const std::string& name) noexcept;

// True if the OS process `pid` is running (0 and zombies are not).
bool process_alive(std::uint64_t pid) noexcept;

// Sleeps `d`, but at most until `deadline`.
inline void sleep_until_at_most(DuplexClock::time_point deadline, std::chrono::milliseconds d) {
    const auto wake = std::min(deadline, DuplexClock::now() + d);
    std::this_thread::sleep_until(wake);
}

inline DuplexClock::time_point deadline_in(std::chrono::milliseconds timeout) {
    const auto now = DuplexClock::now();
    const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(DuplexClock::time_point::max() - now);
    return timeout >= room ? DuplexClock::time_point::max() : now + timeout;
}

// Friend of ResponseWriter: the server builds it and takes the staged frames out.
struct ResponseWriterAccess {
    static ResponseWriter make(Writer* direct, std::size_t max_frame, std::string_view channel,
                               bool exactly_one) noexcept {
        return ResponseWriter(direct, max_frame, channel, exactly_one);
    }
    static std::vector<std::vector<std::byte>> take_staged(ResponseWriter& w) noexcept {
        return std::move(w.staged_);
    }
};

}  // namespace zerobuffer::detail
