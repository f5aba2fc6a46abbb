// Helpers shared by the duplex server and client (not installed).
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "core/deadline.h"
#include "ownership/reclaim.h"

namespace zerobuffer::detail {

using DuplexClock = std::chrono::steady_clock;

inline DuplexClock::time_point deadline_in(std::chrono::milliseconds timeout) {
    return deadline_after<DuplexClock>(DuplexClock::now(), timeout);
}

// Sleeps `d`, but at most until `deadline`.
inline void sleep_until_at_most(DuplexClock::time_point deadline, std::chrono::milliseconds d) {
    std::this_thread::sleep_until(std::min(deadline, DuplexClock::now() + d));
}

// Asks the ownership module to remove buffer NAME if it is stale (its reader dead or gone): what
// a killed peer leaves behind. A live buffer, or one being created, is left alone (the module
// decides, holding NAME's lock file). Never throws.
inline void reclaim_peer_leftovers(const std::string& name) noexcept {
    try {
        (void)reclaim_if_stale(name, {.lock_grace = std::chrono::milliseconds(100)});
    } catch (...) {
    }
}

// True if `e` holds an E.
template <class E>
bool holds(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

// what() of the exception in `e`, for messages.
std::string describe(const std::exception_ptr& e);

}  // namespace zerobuffer::detail
