// Throughput and latency of zerobuffer.
//
//   BM_Ping/<size>          one process: write_frame (copy in) + read_frame + release, per frame
//   BM_PingZeroCopy/<size>  one process: get_frame_buffer + commit_frame (no copy) + read + release:
//                           the per-frame cost of the protocol itself (items_per_second only)
//   BM_Stream/<size>        two processes: this one copies frames in as fast as it can for
//                           ZB_BENCH_SECONDS (default 1) through a 16-frame ring, a forked reader
//                           reads every word of every frame; throughput and commit-to-receive
//                           latency (which includes the time a frame waits in the ring)
//   BM_Latency/<size>       two processes, the writer paced (64 B: every 200 us, 3 MB: every 5 ms)
//                           so the ring is empty: one-way latency of an idle channel
//
// Counters: frames_per_s, GB_per_s (1e9 bytes/s), lat_p50_us, lat_p99_us, lat_max_us. Latency is
// CLOCK_MONOTONIC at receive minus the stamp the writer puts in the frame's first 8 bytes just
// before commit; both processes read the same clock.

#include <benchmark/benchmark.h>
#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace zb = zerobuffer;

namespace {

constexpr std::int64_t k1080pFrame = 3'110'400;  // 1920 x 1080 x 3

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

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

double stream_seconds() {
    if (const char* env = std::getenv("ZB_BENCH_SECONDS")) {
        const double v = std::atof(env);
        if (v > 0) return v;
    }
    return 1.0;
}

// ---------------------------------------------------------------------------------------------
// Single process
// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Two processes
// ---------------------------------------------------------------------------------------------
struct ReaderResult {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    std::uint64_t last_receive_ns = 0;
    std::uint64_t p50_ns = 0;
    std::uint64_t p99_ns = 0;
    std::uint64_t max_ns = 0;
    std::uint64_t checksum = 0;
    int error = 0;  // 0 ok, 1 exception, 2 timeout
    char message[200] = {};
};

bool write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t size, int timeout_ms) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        const ssize_t n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Body of the forked reader: creates the buffer, says so on `ready_fd`, reads until the writer
// leaves, and sends a ReaderResult on `result_fd`. Reads every 8-byte word of every frame (as a
// consumer that uses the data would), so streaming figures include the reader's memory traffic.
int reader_process(const std::string& name, const zb::BufferConfig& config, int ready_fd, int result_fd) {
    ReaderResult result;
    std::vector<std::uint64_t> latencies;
    latencies.reserve(1 << 20);
    try {
        zb::Reader reader(name, config);
        const char ok = 'r';
        write_all(ready_fd, &ok, 1);
        for (;;) {
            zb::Frame frame;
            try {
                frame = reader.read_frame(std::chrono::seconds(10));
            } catch (const zb::WriterDeadException&) {
                break;
            }
            const std::uint64_t received = now_ns();
            if (!frame) {
                result.error = 2;
                std::snprintf(result.message, sizeof result.message, "reader: no frame for 10 s");
                break;
            }
            const std::byte* data = frame.data().data();
            const std::size_t size = frame.size();
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, data, std::min<std::size_t>(size, 8));
            latencies.push_back(received - stamp);
            std::uint64_t fold = 0;
            for (std::size_t off = 8; off + 8 <= size; off += 8) {
                std::uint64_t word;
                std::memcpy(&word, data + off, 8);
                fold ^= word;
            }
            result.checksum ^= fold;
            ++result.frames;
            result.bytes += size;
            result.last_receive_ns = received;
        }
        reader.close();
    } catch (const std::exception& e) {
        result.error = 1;
        std::snprintf(result.message, sizeof result.message, "reader: %s", e.what());
    }
    if (!latencies.empty()) {
        auto pick = [&](double p) {
            const auto k = static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1));
            std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(k), latencies.end());
            return latencies[k];
        };
        result.p50_ns = pick(0.50);
        result.p99_ns = pick(0.99);
        result.max_ns = *std::max_element(latencies.begin(), latencies.end());
    }
    write_all(result_fd, &result, sizeof result);
    return 0;
}

// One benchmark iteration = one stream of `seconds`. `period_ns` 0 streams as fast as possible,
// otherwise the writer sends one frame every period.
void run_two_process(benchmark::State& state, const char* tag, std::uint64_t period_ns) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const double seconds = stream_seconds();
    // A ring of 16 frames (at least 64 KiB): the queue a fast writer builds up stays short, so
    // the streaming latency is not just the time to drain a huge ring.
    zb::BufferConfig config;
    config.payload_size = std::max<std::size_t>(64u << 10, 16 * (size + 16));
    std::vector<std::byte> source(size);
    for (std::size_t i = 0; i < size; ++i) source[i] = static_cast<std::byte>(i * 31 + 7);

    ReaderResult total;
    std::uint64_t frames_sent = 0;
    double total_seconds = 0;
    for (auto _ : state) {
        const std::string name = buffer_name(tag);
        int ready[2], results[2];
        if (pipe(ready) != 0 || pipe(results) != 0) {
            state.SkipWithError("pipe failed");
            return;
        }
        std::fflush(nullptr);
        const pid_t child = fork();
        if (child == 0) {
            close(ready[0]);
            close(results[0]);
            _exit(reader_process(name, config, ready[1], results[1]));
        }
        close(ready[1]);
        close(results[1]);
        auto finish_child = [&](bool kill_it) {
            if (kill_it) kill(child, SIGKILL);
            int status = 0;
            waitpid(child, &status, 0);
            close(ready[0]);
            close(results[0]);
        };
        char ok = 0;
        if (child < 0 || !read_all(ready[0], &ok, 1, 10'000)) {
            if (child > 0) finish_child(true);
            state.SkipWithError("the reader process did not start");
            return;
        }

        std::uint64_t first_commit = 0;
        std::string error;
        try {
            zb::Writer writer(name);
            const std::uint64_t start = now_ns();
            const auto duration = static_cast<std::uint64_t>(seconds * 1e9);
            first_commit = start;
            for (std::uint64_t n = 0;; ++n) {
                if (period_ns != 0) {
                    const std::uint64_t due = start + n * period_ns;
                    if (due - start >= duration) break;
                    timespec ts{static_cast<time_t>(due / 1'000'000'000ull),
                                static_cast<long>(due % 1'000'000'000ull)};
                    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
                    }
                } else if (now_ns() - start >= duration) {
                    break;
                }
                std::span<std::byte> buffer = writer.get_frame_buffer(size);
                std::memcpy(buffer.data(), source.data(), size);
                const std::uint64_t stamp = now_ns();
                std::memcpy(buffer.data(), &stamp, std::min<std::size_t>(size, 8));
                writer.commit_frame();
                ++frames_sent;
            }
            writer.close();
        } catch (const std::exception& e) {
            error = e.what();
        }
        ReaderResult result;
        const bool got = read_all(results[0], &result, sizeof result, 30'000);
        finish_child(!got);
        if (!error.empty() || !got || result.error != 0) {
            state.SkipWithError(!error.empty() ? error.c_str() : got ? result.message : "no result from the reader");
            return;
        }
        const double elapsed = static_cast<double>(result.last_receive_ns - first_commit) / 1e9;
        state.SetIterationTime(elapsed);
        total_seconds += elapsed;
        total.frames += result.frames;
        total.bytes += result.bytes;
        total.p50_ns = std::max(total.p50_ns, result.p50_ns);
        total.p99_ns = std::max(total.p99_ns, result.p99_ns);
        total.max_ns = std::max(total.max_ns, result.max_ns);
    }
    if (total.frames != frames_sent) {
        state.SkipWithError("the reader did not receive every frame");
        return;
    }
    state.counters["frames_per_s"] = static_cast<double>(total.frames) / total_seconds;
    state.counters["GB_per_s"] = static_cast<double>(total.bytes) / total_seconds / 1e9;
    state.counters["lat_p50_us"] = static_cast<double>(total.p50_ns) / 1e3;
    state.counters["lat_p99_us"] = static_cast<double>(total.p99_ns) / 1e3;
    state.counters["lat_max_us"] = static_cast<double>(total.max_ns) / 1e3;
    state.counters["ring_KiB"] = static_cast<double>(config.payload_size / 1024);
}

void BM_Stream(benchmark::State& state) { run_two_process(state, "stream", 0); }

void BM_Latency(benchmark::State& state) {
    const std::uint64_t period = state.range(0) <= 65536 ? 200'000 : 5'000'000;
    run_two_process(state, "latency", period);
}

BENCHMARK(BM_Stream)->Arg(64)->Arg(k1080pFrame)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Latency)->Arg(64)->Arg(k1080pFrame)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
