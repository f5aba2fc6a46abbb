// Counts heap allocations of this test binary (global operator new is replaced in
// allocation_counter.cpp); counting is off until enabled.
#pragma once

#include <atomic>
#include <cstdint>

namespace zerobuffer::scenario {

void count_allocations(bool on) noexcept;
std::uint64_t allocations_counted() noexcept;  // since the last count_allocations(true)

}  // namespace zerobuffer::scenario
