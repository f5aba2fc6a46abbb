// Counts heap allocations made by the current thread while an AllocationCounter is alive, so a
// test can check that a path allocates nothing. Link the object library
// zerobuffer_allocation_counter (it replaces the global operator new of that test binary).
#pragma once

#include <cstddef>

namespace zerobuffer::test {

class AllocationCounter {
public:
    AllocationCounter() noexcept;
    ~AllocationCounter();
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;
    std::size_t count() const noexcept;  // operator new calls on this thread since construction
};

}  // namespace zerobuffer::test
