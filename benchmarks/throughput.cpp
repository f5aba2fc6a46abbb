// Single-process cost of zerobuffer's protocol.
//
//   BM_Ping/<size>          one process: write_frame (copy in) + read_frame + release, per frame
//   BM_PingZeroCopy/<size>  one process: get_frame_buffer + commit_frame (no copy) + read + release:
//                           the per-frame cost of the protocol itself (items_per_second only)
//
// Two-process streaming and latency, next to Boost.Interprocess and the machine's floors, are in
// bench_side_by_side (benchmarks/side_by_side/, docs/benchmarks.md).

#include <benchmark/benchmark.h>
#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

namespace zb = zerobuffer;

namespace {

constexpr std::int64_t k1080pFrame = 3'110'400;  // 1920 x 1080 x 3

std::string buffer_name(const char* what) {
    static std::atomic<int> counter{0};
    return "zbbench_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + what;
}

// A ring that holds 4 frames of `size` bytes (and at least 4 MiB).
zb::BufferConfig ping_ring(std::size_t size) {
    zb::BufferConfig config;
    config.payload_size = std::max<std::size_t>(4u << 20, 4 * (size + 16));
    return config;
}

void BM_Ping(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    try {
        const std::string name = buffer_name("ping");
        zb::Reader reader(name, ping_ring(size));
        zb::Writer writer(name);
        std::vector<std::byte> source(size, std::byte{0x5A});
        for (auto _ : state) {
            writer.write_frame(source);
            zb::Frame frame = reader.read_frame(std::chrono::seconds(1));
            if (!frame) {
                state.SkipWithError("no frame arrived");
                break;
            }
            benchmark::DoNotOptimize(frame.data().data());
        }
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
    state.SetItemsProcessed(state.iterations());
}

void BM_PingZeroCopy(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    try {
        const std::string name = buffer_name("pingzc");
        zb::Reader reader(name, ping_ring(size));
        zb::Writer writer(name);
        for (auto _ : state) {
            std::span<std::byte> buffer = writer.get_frame_buffer(size);
            buffer[0] = std::byte{1};  // the producer would render into the buffer here
            writer.commit_frame();
            zb::Frame frame = reader.read_frame(std::chrono::seconds(1));
            if (!frame) {
                state.SkipWithError("no frame arrived");
                break;
            }
            benchmark::DoNotOptimize(frame.data().data());
        }
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    state.SetItemsProcessed(state.iterations());
}

#define ZB_FRAME_SIZES Arg(64)->Arg(4096)->Arg(65536)->Arg(1 << 20)->Arg(k1080pFrame)
BENCHMARK(BM_Ping)->ZB_FRAME_SIZES->UseRealTime();
BENCHMARK(BM_PingZeroCopy)->ZB_FRAME_SIZES->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
