// zerobuffer demo: the frame pattern the writer fills and the reader checks (main.cpp
// describes the layout).
#include <cstring>
#include <ctime>

#include "demo.h"

namespace demo {

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t load64(const std::byte* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store64(std::byte* p, std::uint64_t v) { std::memcpy(p, &v, sizeof v); }

// splitmix64 finaliser: a different, well-spread base value per frame index.
std::uint64_t frame_base(std::uint64_t index) {
    std::uint64_t z = index + kStep;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Writes words 1.. and the tail of the pattern of frame `index` (word 0 is the timestamp).
void fill_frame(std::byte* data, std::size_t size, std::uint64_t index) {
    store64(data + 8, index);
    const std::size_t words = size / 8;
    const std::uint64_t base = frame_base(index);
    for (std::size_t i = 2; i < words; ++i) store64(data + 8 * i, base + i * kStep);
    const std::size_t tail = size % 8;
    if (tail != 0) {
        const std::uint64_t last = base + words * kStep;
        std::memcpy(data + 8 * words, &last, tail);
    }
}

PatternCheck check_pattern(const std::byte* data, std::size_t size, std::uint64_t index) {
    const std::size_t words = size / 8;
    const std::uint64_t base = frame_base(index);
    // Fast path: OR of the XOR differences, one pass at memory speed.
    std::uint64_t diff = 0;
    for (std::size_t i = 2; i < words; ++i) diff |= load64(data + 8 * i) ^ (base + i * kStep);
    const std::size_t tail = size % 8;
    std::uint64_t expected_tail = base + words * kStep;
    std::uint64_t got_tail = 0;
    std::memcpy(&got_tail, data + 8 * words, tail);
    if (tail != 0) {
        const std::uint64_t mask = (std::uint64_t{1} << (8 * tail)) - 1;
        diff |= (got_tail ^ expected_tail) & mask;
    }
    PatternCheck result;
    if (diff == 0) return result;
    // Slow path, only for a broken frame: count the wrong bytes.
    auto expected_byte = [&](std::size_t offset) {
        const std::uint64_t word = base + (offset / 8) * kStep;
        return static_cast<std::byte>((word >> (8 * (offset % 8))) & 0xFF);
    };
    for (std::size_t off = kHeaderBytes; off < size; ++off) {
        if (data[off] != expected_byte(off)) {
            if (result.bad_bytes == 0) result.first_bad = off;
            ++result.bad_bytes;
        }
    }
    return result;
}

}  // namespace demo
