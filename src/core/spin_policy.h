// How long a waiting side polls before it sleeps, as a pure policy. Spinning pays when the next
// frame (or the next free space) comes within a few microseconds: a futex wake costs tens of
// microseconds. It wastes a core when the peer is paced slowly. So the budget follows the gaps
// this side actually waited recently: about 1.5 times the recent gap, never more than the
// configured maximum, and only a short base spin after gaps longer than the maximum.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace zerobuffer::detail {

class SpinPolicy {
public:
    using us = std::chrono::microseconds;
    static constexpr us kBase{5};

    explicit constexpr SpinPolicy(us max) noexcept : max_(max), budget_(std::min(kBase, max)) {}

    constexpr us budget() const noexcept { return budget_; }

    // After a wait: it lasted `waited` (spin plus any sleep) before the peer delivered.
    constexpr void record(us waited) noexcept {
        if (max_.count() <= 0) {
            budget_ = us{0};
            return;
        }
        // A gap the maximum spin could not have covered: the peer is paced; spin only briefly.
        if (waited * 3 > max_ * 2) {
            budget_ = std::min(kBase, max_);
            return;
        }
        // Smooth over the last few gaps (weight 1/2), then leave 50% headroom.
        gap_ = gap_.count() == 0 ? waited : (gap_ + waited) / 2;
        budget_ = std::clamp(gap_ + gap_ / 2, std::min(kBase, max_), max_);
    }

private:
    us max_;
    us budget_;
    us gap_{0};
};

}  // namespace zerobuffer::detail
