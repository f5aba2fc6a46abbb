// The spin both sides do before they sleep: poll, pause, read the clock every 64 polls. It never
// yields the core: the budget (core/spin_policy.h) follows the gaps this side really waits, so
// a peer that cannot get a CPU makes the budget shrink and this side sleep instead.
#pragma once

#include <algorithm>
#include <chrono>

#include "platform/posix/cpu.h"

namespace zerobuffer::detail {

// Polls `ready` for at most `budget`, never past `deadline`; true as soon as it returns true.
template <class Ready>
bool spin_for(std::chrono::microseconds budget, std::chrono::steady_clock::time_point deadline, Ready&& ready) {
    if (budget.count() <= 0) return false;
    const auto end = std::min(deadline, std::chrono::steady_clock::now() + budget);
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (ready()) return true;
            posix::cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= end) return false;
    }
}

}  // namespace zerobuffer::detail
