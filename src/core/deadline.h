// Deadlines as pure arithmetic: `now` is passed in, so these are tested without a clock and the
// hot path reads the clock only when it actually has to wait.
#pragma once

#include <chrono>

namespace zerobuffer::detail {

// now + timeout, saturating at time_point::max() instead of overflowing (a timeout of
// milliseconds::max() means "wait for ever", not "already expired").
template <class Clock, class Rep, class Period>
constexpr typename Clock::time_point deadline_after(typename Clock::time_point now,
                                                    std::chrono::duration<Rep, Period> timeout) noexcept {
    using TP = typename Clock::time_point;
    using D = typename Clock::duration;
    if (timeout <= std::chrono::duration<Rep, Period>::zero()) return now;
    const auto room = TP::max() - now;  // a Clock::duration, never negative here
    // Compare in the coarser unit so that converting `timeout` cannot overflow either.
    if (std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(room) <= timeout) return TP::max();
    return now + std::chrono::duration_cast<D>(timeout);
}

}  // namespace zerobuffer::detail
