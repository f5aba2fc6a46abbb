// What travels in a frame: a stamp the sender writes and the receiver checks.
//
//   word 0        sequence number (1, 2, 3 ...; kStop ends a measurement)
//   word 1        a CLOCK_MONOTONIC send time where the row needs one (frames of >= 24 bytes)
//   last word     the sequence number again: a frame whose first and last words differ is torn
//
// The receiver reads every 8-byte word of every frame (fold_frame), so the data really crosses
// from the writer's core to the reader's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace sbs {

inline constexpr std::uint64_t kStop = ~0ull;

inline std::uint64_t load_word(const std::byte* frame, std::size_t offset) {
    std::uint64_t v;
    std::memcpy(&v, frame + offset, 8);
    return v;
}
inline void store_word(std::byte* frame, std::size_t offset, std::uint64_t v) { std::memcpy(frame + offset, &v, 8); }

inline void stamp_frame(std::byte* frame, std::size_t size, std::uint64_t sequence, std::uint64_t send_time = 0) {
    store_word(frame, 0, sequence);
    if (size >= 24) store_word(frame, 8, send_time);
    store_word(frame, size - 8, sequence);
}

inline std::uint64_t frame_sequence(const std::byte* frame) { return load_word(frame, 0); }
inline std::uint64_t frame_send_time(const std::byte* frame, std::size_t size) {
    return size >= 24 ? load_word(frame, 8) : 0;
}

// Checks that the frame is not torn (first and last words agree); returns its sequence.
inline std::uint64_t check_stamp(const std::byte* frame, std::size_t size) {
    const std::uint64_t first = load_word(frame, 0);
    const std::uint64_t last = load_word(frame, size - 8);
    if (first != last) {
        throw std::runtime_error("torn frame: sequence " + std::to_string(first) + " at the start, " +
                                 std::to_string(last) + " at the end");
    }
    return first;
}

// Reads every 8-byte word, checks the stamp and returns the XOR of the words.
inline std::uint64_t fold_frame(const std::byte* frame, std::size_t size) {
    std::uint64_t fold = 0;
    for (std::size_t off = 0; off + 8 <= size; off += 8) fold ^= load_word(frame, off);
    check_stamp(frame, size);
    return fold;
}

// A source frame for copying senders: a fixed pattern, every page touched.
inline std::vector<std::byte> pattern_frame(std::size_t size) {
    std::vector<std::byte> frame(size);
    for (std::size_t i = 0; i < size; ++i) frame[i] = static_cast<std::byte>(i * 31 + 7);
    return frame;
}

}  // namespace sbs
