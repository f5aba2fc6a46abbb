// Replacement of the global allocation functions, kept in its own translation unit so that no
// call site inlines them.
#include "allocation_counter.h"

#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_count{0};
}  // namespace

namespace zerobuffer::scenario {

void count_allocations(bool on) noexcept {
    if (on) g_count.store(0, std::memory_order_relaxed);
    g_counting.store(on, std::memory_order_seq_cst);
}

std::uint64_t allocations_counted() noexcept { return g_count.load(std::memory_order_relaxed); }

}  // namespace zerobuffer::scenario

void* operator new(std::size_t size) {
    if (g_counting.load(std::memory_order_relaxed)) g_count.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
