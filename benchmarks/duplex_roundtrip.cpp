// Duplex channel round-trip latency between two processes.
//
//   BM_DuplexRoundTrip/<size>/<spin_us>
//                               a forked child runs an ImmutableDuplexServer (single_thread, echo
//                               handler: write_frame copies the request into the response ring);
//                               this process sends a <size>-byte request (send_request copies it
//                               in), waits for the response and releases it. One iteration is one
//                               round trip, timed individually. spin_us is WaitStrategy::spin
//                               of both readers (20 = the library default, 0 = sleep at once).
//
// Counters: rt_p50_us, rt_p99_us, rt_max_us (per round trip), rt_per_s. Rings: request and
// response 4 x size, at least 1 MiB, so the channel never blocks on space.
#include <benchmark/benchmark.h>
#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zb = zerobuffer;
using namespace std::chrono_literals;

namespace {

std::string channel_name() {
    static std::atomic<int> counter{0};
    return "zbbench_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_duplex";
}

zb::WaitStrategy wait_for(std::int64_t spin_us) {
    zb::WaitStrategy wait;
    wait.spin = std::chrono::microseconds(spin_us);
    return wait;
}

zb::BufferConfig ring_for(std::size_t size) {
    zb::BufferConfig config;
    config.metadata_size = 4096;
    config.payload_size = std::max<std::size_t>(std::size_t{1} << 20, 4 * (size + 16));
    return config;
}

// The echo server in a child process; it stops when the parent closes `stop_fd`'s other end.
class ServerProcess {
public:
    ServerProcess(const std::string& channel, const zb::BufferConfig& config, const zb::WaitStrategy& wait) {
        int ready[2], stop[2];
        if (::pipe(ready) != 0 || ::pipe(stop) != 0) throw std::runtime_error("pipe failed");
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::close(ready[0]);
            ::close(stop[1]);
            int code = 0;
            try {
                zb::DuplexServerOptions options;
                options.request_reader.wait = wait;
                options.response_writer.wait = wait;
                zb::ImmutableDuplexServer server(channel, config, options);
                server.start_with_writer([](const zb::Frame& request, zb::Writer& response) { response.write_frame(request.data()); });
                const char c = 'r';
                (void)!::write(ready[1], &c, 1);
                char ignored;
                while (::read(stop[0], &ignored, 1) > 0) {
                }
                server.stop();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "server process: %s\n", e.what());
                code = 2;
            }
            ::_exit(code);
        }
        ::close(ready[1]);
        ::close(stop[0]);
        stop_fd_ = stop[1];
        pollfd p{ready[0], POLLIN, 0};
        const bool ok = ::poll(&p, 1, 10000) == 1;
        ::close(ready[0]);
        if (!ok) throw std::runtime_error("server process did not start");
    }
    ~ServerProcess() {
        ::close(stop_fd_);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

private:
    pid_t pid_ = -1;
    int stop_fd_ = -1;
};

double percentile(std::vector<double>& samples, double p) {
    if (samples.empty()) return 0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k), samples.end());
    return samples[k];
}

void BM_DuplexRoundTrip(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const std::int64_t spin_us = state.range(1);
    const std::string channel = channel_name();
    try {
        ServerProcess server(channel, ring_for(size), wait_for(spin_us));
        zb::DuplexClientOptions options;
        options.response_config = ring_for(size);
        options.response_reader.wait = wait_for(spin_us);
        options.request_writer.wait = wait_for(spin_us);
        zb::DuplexClient client(channel, options);
        std::vector<std::byte> request(size, std::byte{0x5A});
        for (int i = 0; i < 200; ++i) {  // warm-up: page faults, caches, the server's first attach
            client.send_request(request);
            if (!client.receive_response(5s)) throw std::runtime_error("no response during warm-up");
        }
        std::vector<double> samples;
        samples.reserve(1 << 16);
        for (auto _ : state) {
            const auto t0 = std::chrono::steady_clock::now();
            client.send_request(request);
            zb::Frame response = client.receive_response(5s);
            if (!response || response.size() != size) {
                state.SkipWithError("missing or wrong-sized response");
                break;
            }
            response.release();
            samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        }
        const double total_us = [&] {
            double t = 0;
            for (double s : samples) t += s;
            return t;
        }();
        state.counters["rt_p50_us"] = percentile(samples, 0.50);
        state.counters["rt_p99_us"] = percentile(samples, 0.99);
        state.counters["rt_max_us"] = samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end());
        state.counters["rt_per_s"] = total_us > 0 ? static_cast<double>(samples.size()) * 1e6 / total_us : 0;
        state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(2 * size));
        client.close();
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

BENCHMARK(BM_DuplexRoundTrip)
    ->ArgNames({"size", "spin_us"})
    ->Args({64, 20})
    ->Args({64, 0})
    ->Args({1 << 20, 20})
    ->Args({1 << 20, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
