// Replacement of the global allocation functions, in its own translation unit so no call site
// inlines them. Counting is per thread and off unless an AllocationCounter is alive.
#include "allocation_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local int t_active = 0;
thread_local std::size_t t_count = 0;
}  // namespace

namespace zerobuffer::test {

AllocationCounter::AllocationCounter() noexcept {
    t_count = 0;
    ++t_active;
}
AllocationCounter::~AllocationCounter() { --t_active; }
std::size_t AllocationCounter::count() const noexcept { return t_count; }

}  // namespace zerobuffer::test

void* operator new(std::size_t size) {
    if (t_active > 0) ++t_count;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
