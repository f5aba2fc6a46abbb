// Shared vocabulary of the side-by-side benchmark: rows, systems, settings, one measurement,
// the ring geometry every system gets, and the clock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <time.h>

namespace sbs {

inline constexpr std::size_t k1080pFrame = 3'110'400;  // 1920 x 1080 x 3

// ---------------------------------------------------------------------------------------------
// Rows: what is measured. Every system runs every row it supports, once per repetition.
// ---------------------------------------------------------------------------------------------
enum class Row {
    stream_64,
    awake_64,
    asleep_64,
    stream_4k_copy,
    stream_4k_zero_copy,
    stream_1m_copy,
    stream_1m_zero_copy,
    stream_3m_copy,
    stream_3m_zero_copy,
    relay_steady,
    relay_fresh,
};
inline constexpr int kRowCount = 11;

enum class Kind { throughput, latency };
enum class Copy { copy, zero_copy };

struct RowInfo {
    Row row;
    const char* key;     // JSON key
    const char* title;   // table label
    std::size_t frame;   // bytes per frame
    Kind kind;
    Copy copy;
    const char* floor;   // the floor this row is compared with (nullptr: none)
    double time_factor;  // this row runs for time_factor x --seconds
};

inline constexpr RowInfo kRows[kRowCount] = {
    {Row::stream_64, "stream_64", "64 B streaming", 64, Kind::throughput, Copy::copy, "SPSC ring", 1},
    {Row::awake_64, "one_way_64_awake", "64 B one-way, receiver awake", 64, Kind::latency, Copy::copy,
     "cache-line ping-pong", 1},
    {Row::asleep_64, "one_way_64_asleep", "64 B one-way, asleep (1 kHz)", 64, Kind::latency, Copy::copy,
     "futex wake", 2},
    {Row::stream_4k_copy, "stream_4k_copy", "4 KiB streaming, copy", 4096, Kind::throughput, Copy::copy, nullptr, 1},
    {Row::stream_4k_zero_copy, "stream_4k_zero_copy", "4 KiB streaming, zero-copy", 4096, Kind::throughput,
     Copy::zero_copy, nullptr, 1},
    {Row::stream_1m_copy, "stream_1m_copy", "1 MiB streaming, copy", 1 << 20, Kind::throughput, Copy::copy,
     "memcpy into ring", 1},
    {Row::stream_1m_zero_copy, "stream_1m_zero_copy", "1 MiB streaming, zero-copy", 1 << 20, Kind::throughput,
     Copy::zero_copy, nullptr, 1},
    {Row::stream_3m_copy, "stream_3m_copy", "3,110,400 B streaming, copy", k1080pFrame, Kind::throughput,
     Copy::copy, "memcpy into ring", 1},
    {Row::stream_3m_zero_copy, "stream_3m_zero_copy", "3,110,400 B streaming, zero-copy", k1080pFrame,
     Kind::throughput, Copy::zero_copy, nullptr, 1},
    {Row::relay_steady, "relay_3m_steady", "3.1 MB relay round trip, steady", k1080pFrame, Kind::latency,
     Copy::copy, "futex+memcpy relay", 1},
    {Row::relay_fresh, "relay_3m_fresh", "3.1 MB relay round trip, fresh", k1080pFrame, Kind::latency,
     Copy::copy, "futex+memcpy relay", 2},
};

inline const RowInfo& row_info(Row r) { return kRows[static_cast<int>(r)]; }

// ---------------------------------------------------------------------------------------------
// Systems: who is measured. The floor of a row is a system of its own (named by the row).
// ---------------------------------------------------------------------------------------------
enum class System { zerobuffer, zerobuffer_foreign, boost_mq, floor };
inline constexpr int kSystemCount = 4;
inline constexpr System kAllSystems[kSystemCount] = {System::zerobuffer, System::zerobuffer_foreign, System::boost_mq,
                                                     System::floor};

inline constexpr const char* kSystemKeys[kSystemCount] = {"zerobuffer", "zerobuffer_foreign_peer", "boost_mq",
                                                          "floor"};
inline constexpr const char* kSystemNames[kSystemCount] = {"zerobuffer C++<->C++", "zerobuffer foreign-peer",
                                                           "Boost message_queue", "floor"};

inline const char* system_key(System s) { return kSystemKeys[static_cast<int>(s)]; }
inline const char* system_name(System s) { return kSystemNames[static_cast<int>(s)]; }

// The peers our rows are compared with ("best peer" = the best of them in each repetition).
inline constexpr System kPeers[] = {System::boost_mq};

// ---------------------------------------------------------------------------------------------
// Settings and results
// ---------------------------------------------------------------------------------------------
struct Settings {
    int reps = 5;
    double seconds = 0.25;           // per row and repetition (times the row's time_factor)
    int cpu[2] = {0, 1};             // side A (writer / sender), side B (reader / receiver)
    std::size_t sample_cap = 1u << 20;
    std::string tag;                 // prefix of every object name this run creates
    int syscall_tracepoint = -1;     // raw_syscalls:sys_enter id, -1 when syscalls cannot be counted
};

// Use of one process over the counted part of a measurement (deltas, not per frame).
struct Resources {
    double minflt = 0;
    double majflt = 0;
    double voluntary_switches = 0;
    double involuntary_switches = 0;
    double cpu_us = 0;       // user + system
    double syscalls = -1;    // -1: not counted
};

// One measurement of one row for one system in one repetition. Trivially copyable: the two
// processes of a measurement fill it in shared memory.
struct Measurement {
    bool ok = false;
    char error[320] = {};
    // throughput rows
    std::uint64_t frames = 0;  // frames in the counted part
    std::uint64_t bytes = 0;
    double seconds = 0;        // length of the counted part
    // latency rows (nanoseconds)
    std::uint64_t samples = 0;
    double p50_ns = 0;
    double p99_ns = 0;
    double max_ns = 0;
    // resources of the counted part (throughput rows)
    bool has_resources = false;
    Resources sender;
    Resources receiver;
    std::uint64_t checksum = 0;  // fold of every word the receiver read (keeps the reads real)

    double frames_per_s() const { return seconds > 0 ? static_cast<double>(frames) / seconds : 0; }
    double gb_per_s() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e9 : 0; }
};

// ---------------------------------------------------------------------------------------------
// Ring geometry, the same for every system: zerobuffer's payload ring, Boost's queue depth, the
// SPSC floor's slots and the memcpy floor's ring all follow from it.
// ---------------------------------------------------------------------------------------------
inline constexpr std::size_t kFrameHeader = 16;

inline std::size_t ring_bytes(std::size_t frame) {
    const std::size_t bytes = std::max<std::size_t>(64u << 10, 4 * (frame + kFrameHeader));
    return (bytes + 63) / 64 * 64;
}
inline std::size_t ring_depth(std::size_t frame) { return ring_bytes(frame) / (frame + kFrameHeader); }

// ---------------------------------------------------------------------------------------------
// Clock and spinning
// ---------------------------------------------------------------------------------------------
inline std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t to_ns(double seconds) { return static_cast<std::uint64_t>(seconds * 1e9); }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// How a receiver waits for the next frame: the system's normal blocking wait, or polling.
enum class Wake { block, spin };

// Spins (with a pause hint) until ready() holds; throws after `timeout_s` so that a dead peer
// cannot hang a floor measurement.
void throw_spin_timeout(const char* what);
template <class Ready>
inline void spin_until(Ready&& ready, const char* what, double timeout_s = 10) {
    std::uint64_t deadline = 0;
    for (std::uint32_t i = 1;; ++i) {
        if (ready()) return;
        cpu_relax();
        if ((i & 4095u) == 0) {
            const std::uint64_t now = now_ns();
            if (deadline == 0) deadline = now + to_ns(timeout_s);
            else if (now > deadline) throw_spin_timeout(what);
        }
    }
}

}  // namespace sbs
