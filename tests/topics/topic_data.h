// The test stream of the topic tests, shared by the GoogleTest suites and zerobuffer-topic-peer
// (and written the same way in cross_lang_tests/test_topics.py):
//   * frame k (0-based, numbered by the publisher) has size schedule(k) >= 8;
//   * its first 8 bytes are k (little-endian), byte i >= 8 is (k + i) mod 256;
//   * sizes "mixed": MIN + splitmix64(seed, k) mod (MAX - MIN + 1) (cross_lang_tests/zbdata.py);
//   * metadata of n bytes: byte i = (i * 7 + seed) mod 256.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

namespace zerobuffer::test::topics {

inline std::uint64_t splitmix64(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct Schedule {
    std::size_t min = 8;
    std::size_t max = 8;
    std::uint64_t seed = 0;
    std::size_t size(std::uint64_t k) const {
        return min == max ? min : min + static_cast<std::size_t>(splitmix64(seed, k) % (max - min + 1));
    }
};

inline void fill_frame(std::span<std::byte> out, std::uint64_t k) {
    std::memcpy(out.data(), &k, sizeof k);
    for (std::size_t i = sizeof k; i < out.size(); ++i) out[i] = static_cast<std::byte>((k + i) & 0xFF);
}

inline std::vector<std::byte> make_frame(std::uint64_t k, std::size_t size) {
    std::vector<std::byte> f(size);
    fill_frame(f, k);
    return f;
}

// The frame's number if every byte is right for it; nullopt otherwise.
inline std::optional<std::uint64_t> frame_number(std::span<const std::byte> data) {
    if (data.size() < 8) return std::nullopt;
    std::uint64_t k = 0;
    std::memcpy(&k, data.data(), sizeof k);
    for (std::size_t i = sizeof k; i < data.size(); ++i) {
        if (data[i] != static_cast<std::byte>((k + i) & 0xFF)) return std::nullopt;
    }
    return k;
}

inline std::vector<std::byte> make_metadata(std::size_t size, std::uint64_t seed) {
    std::vector<std::byte> m(size);
    for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::byte>((i * 7 + seed) & 0xFF);
    return m;
}

}  // namespace zerobuffer::test::topics
