// Busy-polling with a CPU pause hint, for the short spin before sleeping on a semaphore.
#pragma once

#include <chrono>

#include <sched.h>

namespace zerobuffer::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Polls `ready` until it returns true (-> true) or `end` passes (-> false). After every 64
// polls it reads the clock and yields the CPU: on a busy machine the peer we are waiting for
// may need this very core to produce what we wait for.
template <class Ready>
bool spin_until(std::chrono::steady_clock::time_point end, Ready&& ready) {
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= end) return false;
        ::sched_yield();
    }
}

}  // namespace zerobuffer::detail
