// zerobuffer demo: what the parts of the program share (see main.cpp for what it does): the
// frame format, the stop flag, the options, and the three roles.
#pragma once

#include <zerobuffer/zerobuffer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace demo {

namespace zb = zerobuffer;

constexpr std::uint64_t kStep = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kEndMagic = 0x444E454F4D45445Aull;  // "ZDEMOEND"
constexpr std::size_t kHeaderBytes = 16;                    // timestamp + index
constexpr std::size_t kEndFrameBytes = 24;                  // magic, frames, 0
constexpr int kExitInterrupted = 130;

// ---- stop signals (main.cpp) ------------------------------------------------------------------
// SIGINT, SIGTERM and SIGHUP set the stop flag; blocking calls return early and the loops notice it.
void install_signal_handlers();
bool stop_requested();

// ---- frame content (frame_pattern.cpp) ---------------------------------------------------------
std::uint64_t now_ns();  // CLOCK_MONOTONIC
std::uint64_t load64(const std::byte* p);
void store64(std::byte* p, std::uint64_t v);
// Writes words 1.. and the tail of the pattern of frame `index` (word 0 is the timestamp).
void fill_frame(std::byte* data, std::size_t size, std::uint64_t index);
// Number of bytes from offset 16 on that differ from the pattern of frame `index`, and the first one.
struct PatternCheck {
    std::size_t bad_bytes = 0;
    std::size_t first_bad = 0;
};
PatternCheck check_pattern(const std::byte* data, std::size_t size, std::uint64_t index);

// ---- options (options.cpp) ---------------------------------------------------------------------
struct Options {
    std::string role = "both";
    std::string name;
    double seconds = 5.0;
    std::size_t frame_size = 3'110'400;  // 1920 x 1080 x 3 (RGB24)
    std::size_t ring_mib = 8;
    double fps = 0.0;                    // 0: as fast as possible
    std::uint64_t corrupt_every = 0;     // writer damages one byte of every Nth frame (self-test)
    double connect_timeout = 10.0;
};
void usage(std::FILE* out);
// Returns -1 to continue, otherwise the exit code.
int parse_args(int argc, char** argv, Options& o);

// ---- the roles ---------------------------------------------------------------------------------
int run_reader(const Options& o);                 // reader.cpp
int run_writer(const Options& o, bool standalone);  // writer.cpp
int run_both(Options o);                            // supervisor.cpp: this program twice

}  // namespace demo
