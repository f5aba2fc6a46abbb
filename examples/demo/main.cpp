// zerobuffer demo: a writer process streams 1080p-sized frames to a reader process through one
// buffer; the reader checks every byte of every frame and shows frames/s, GB/s and the
// commit-to-receive latency live, then a summary.
//
//   demo [--seconds S] [--frame-size BYTES] [--ring-mib MIB] [--fps N] [--corrupt-every N]
//   demo --role reader --name NAME ...     (one side only; start the reader first)
//   demo --role writer --name NAME ...
//
// Without --role the program starts itself twice (reader and writer), waits for both and makes
// sure nothing of the buffer is left in /dev/shm or /tmp/zerobuffer, also after Ctrl-C.
//
// Frame layout (little-endian u64 words; frames start at arbitrary byte offsets, so all
// accesses go through memcpy):
//   word 0: CLOCK_MONOTONIC time in ns, stored just before commit (latency = receive - this)
//   word 1: frame index 0, 1, 2 ...
//   word i >= 2: base(index) + i * kStep, where base() is a 64-bit mix of the index
//   trailing size % 8 bytes: the low bytes of the next word of that sequence
// Each frame therefore has its own content, and a changed, shifted or stale byte anywhere
// changes at least one word. After the last frame the writer sends one end-of-stream frame
// (kEndMagic, number of frames) so the reader can also detect lost frames at the end.
//
// Files: main.cpp (this, the signal handlers), options.cpp, reader.cpp (with latency_histogram.h),
// writer.cpp, supervisor.cpp (both roles), frame_pattern.cpp, and demo.h (what they share).

#include <csignal>
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include "demo.h"

namespace demo {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

}  // namespace

bool stop_requested() { return g_stop_signal != 0; }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls return early and the loops notice the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

}  // namespace demo

using namespace demo;

int main(int argc, char** argv) {
    Options options;
    // "--supervised 1" is passed by the "both" mode to its children; strip it before parsing.
    bool supervised = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--supervised" && i + 1 < argc) {
            supervised = true;
            ++i;
            continue;
        }
        args.push_back(argv[i]);
    }
    if (const int code = parse_args(static_cast<int>(args.size()), args.data(), options); code >= 0) return code;
    install_signal_handlers();
    try {
        if (options.role == "both") return run_both(options);
        if (options.name.empty()) options.name = "zbdemo";
        if (options.role == "reader") return run_reader(options);
        return run_writer(options, !supervised);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo (%s): %s\n", options.role.c_str(), e.what());
        return stop_requested() ? kExitInterrupted : 1;
    }
}
