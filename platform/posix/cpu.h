// The CPU hints a spin loop needs: a pause between polls, and giving the core away.
#pragma once

#include <sched.h>

namespace zerobuffer::posix {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

inline void yield_cpu() noexcept { ::sched_yield(); }

// Whether this CPU keeps stores in program order as seen by other cores (TSO), which lets a
// reader discover frames of any writer from payload_write_pos alone (docs/protocol.md §3.4).
inline constexpr bool kStoresAreOrdered =
#if defined(__x86_64__) || defined(__i386__)
    true;
#else
    false;
#endif

}  // namespace zerobuffer::posix
