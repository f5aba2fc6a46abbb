// zerobuffer demo: the writer role. It attaches, then fills frames in place and commits them.
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <span>
#include <string>
#include <thread>

#include "demo.h"

namespace demo {
namespace {

zb::Writer connect_writer(const Options& o) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(o.connect_timeout));
    for (;;) {
        try {
            return zb::Writer(o.name);
        } catch (const zb::BufferNotFoundException&) {
        } catch (const zb::CorruptBufferException&) {  // the reader is still initialising it
        }
        if (stop_requested() || std::chrono::steady_clock::now() > deadline) {
            throw zb::BufferNotFoundException("demo: no reader created buffer '" + o.name + "' in time");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int run_writer(const Options& o, bool standalone) {
    zb::Writer writer = connect_writer(o);
    char meta[160];
    const int meta_len = std::snprintf(meta, sizeof meta, "zerobuffer demo, %zu-byte frames, %s", o.frame_size,
                                       o.fps > 0 ? (std::to_string(o.fps) + " frames/s").c_str() : "unthrottled");
    writer.set_metadata(meta, static_cast<std::size_t>(meta_len));

    const std::uint64_t start = now_ns();
    const auto duration = static_cast<std::uint64_t>(o.seconds * 1e9);
    const std::uint64_t period = o.fps > 0 ? static_cast<std::uint64_t>(1e9 / o.fps) : 0;
    std::uint64_t index = 0;
    try {
        while (!stop_requested() && now_ns() - start < duration) {
            if (period != 0) {
                const std::uint64_t due = start + index * period;
                timespec ts{static_cast<time_t>(due / 1'000'000'000ull), static_cast<long>(due % 1'000'000'000ull)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !stop_requested()) {
                }
                if (stop_requested()) break;
            }
            std::span<std::byte> buffer = writer.get_frame_buffer(o.frame_size);
            fill_frame(buffer.data(), buffer.size(), index);
            if (o.corrupt_every != 0 && index % o.corrupt_every == o.corrupt_every - 1) {
                buffer[kHeaderBytes + (index * 7919) % (buffer.size() - kHeaderBytes)] ^= std::byte{0x5A};
            }
            store64(buffer.data(), now_ns());
            writer.commit_frame();
            ++index;
        }
        if (stop_requested()) return kExitInterrupted;
        std::array<std::uint64_t, 3> end{kEndMagic, index, 0};
        static_assert(sizeof end == kEndFrameBytes);
        writer.write_frame(end.data(), sizeof end);
    } catch (const zb::ReaderDeadException& e) {
        if (stop_requested()) return kExitInterrupted;
        std::fprintf(stderr, "writer: %s\n", e.what());
        return 1;
    }
    if (standalone) {
        std::printf("writer: sent %llu frames of %zu bytes in %.2f s\n", static_cast<unsigned long long>(index),
                    o.frame_size, static_cast<double>(now_ns() - start) / 1e9);
    }
    writer.close();
    return 0;
}

}  // namespace demo
