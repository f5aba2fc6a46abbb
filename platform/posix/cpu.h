// The CPU facts a spin loop needs: a pause between polls, and whether stores are ordered.
#pragma once

namespace zerobuffer::posix {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Whether this CPU keeps stores in program order as seen by other cores (TSO), which lets a
// reader discover frames of any writer from payload_write_pos alone (docs/protocol.md §3.4).
inline constexpr bool kStoresAreOrdered =
#if defined(__x86_64__) || defined(__i386__)
    true;
#else
    false;
#endif

}  // namespace zerobuffer::posix
