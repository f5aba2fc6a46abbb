// bridge_bench: the ZeroMQ bridge beside plain ZeroMQ PUSH/PULL carrying the same frames, in the
// same run, over loopback and over a veth pair between two network namespaces (docs/bridge.md,
// "Figures"). Prints ratios measured side by side; asserts no speed.
//
//   throughput   producer -> [buffer] -> sender (host A) -> TCP -> receiver (host B) -> [buffer] -> consumer
//                beside PUSH (host A) -> TCP -> PULL (host B), per frame size
//   latency      the same, paced, frames carrying their send time: p50/p99, and what the bridge adds
//   CPU          the sending bridge's CPU time per frame, zero-copy against copying
//
//   bridge_bench [--quick]      --quick: small counts (the smoke test; not a measurement)
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bridge/roles.h"
#include "veth_pair.h"

using namespace bridge_bench;

namespace {

struct Net {
    std::string label;
    std::string ns_a, ns_b;  // empty: this namespace
    std::string address_b;
};

int g_port = 0;
int next_port(const Net& net) {
    if (!net.ns_b.empty()) return 5600 + g_port++;  // a namespace of our own
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string tag(const char* what) {
    static int counter = 0;
    return "zbbridge_bench_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + what;
}

struct BridgeRun {
    Measured measured;
    double sender_cpu_us_per_frame = 0;
};

BridgeRun run_bridge(const Net& net, const Stream& stream, bool zero_copy) {
    const std::string in = tag("in"), out = tag("out");
    const std::string endpoint = "tcp://" + net.address_b + ":" + std::to_string(next_port(net));
    Role receiver(net.ns_b, [&](int) { return run_receiver(out, endpoint); });
    Role sender(net.ns_a, [&](int fd) { return run_sender(in, endpoint, zero_copy, fd); });
    Role producer("", [&](int) { return run_producer(in, stream); });
    BridgeRun run;
    run.measured = consume(out, stream);
    producer.stop();
    sender.stop();
    std::uint64_t report[2] = {0, 0};
    if (::read(sender.read_fd(), report, sizeof report) == sizeof report && report[1] > 0) {
        run.sender_cpu_us_per_frame = double(report[0]) / double(report[1]);
    }
    receiver.stop();
    return run;
}

Measured run_plain(const Net& net, const Stream& stream) {
    const int port = next_port(net);
    const std::string bind = "tcp://" + net.address_b + ":" + std::to_string(port);
    Role pull(net.ns_b, [&](int fd) { return run_pull(bind, stream, fd); });
    Role push(net.ns_a, [&](int) { return run_push(bind, stream, false); });
    Measured m = read_measured(pull.read_fd());
    push.stop();
    pull.stop();
    return m;
}

double mb_per_s(const Measured& m) { return m.seconds > 0 ? double(m.bytes) / m.seconds / 1e6 : 0.0; }

double percentile_us(std::vector<std::int64_t> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return double(v[std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size())))]) / 1000.0;
}

void throughput(const Net& net, bool quick) {
    std::printf("\n== %s: throughput, bridge beside plain ZeroMQ PUSH/PULL (same frames, alternating)\n", net.label.c_str());
    std::printf("%12s %10s %14s %14s %8s\n", "frame", "frames", "bridge MB/s", "PUSH/PULL MB/s", "ratio");
    const std::size_t sizes[] = {64, 4096, 65536, 1 << 20, 3'110'400};
    for (const std::size_t size : sizes) {
        const std::uint64_t budget = quick ? (8ull << 20) : (768ull << 20);
        const std::uint64_t cap = quick ? 5000 : 300'000;
        const Stream stream{size, std::clamp<std::uint64_t>(budget / size, 20, cap), std::chrono::microseconds(0)};
        const Measured plain = run_plain(net, stream);
        const BridgeRun bridge = run_bridge(net, stream, true);
        const double ratio = mb_per_s(plain) > 0 ? mb_per_s(bridge.measured) / mb_per_s(plain) : 0.0;
        std::printf("%12zu %10llu %14.1f %14.1f %8.2f\n", size, static_cast<unsigned long long>(stream.count),
                    mb_per_s(bridge.measured), mb_per_s(plain), ratio);
        std::fflush(stdout);
    }
}

void latency(const Net& net, bool quick) {
    std::printf("\n== %s: latency, paced frames carrying their send time (microseconds)\n", net.label.c_str());
    std::printf("%12s %8s %18s %18s %18s\n", "frame", "frames", "bridge p50/p99", "PUSH/PULL p50/p99", "added p50/p99");
    const Stream streams[] = {{64, quick ? 200u : 3000u, std::chrono::microseconds(300)},
                              {3'110'400, quick ? 10u : 120u, std::chrono::microseconds(20'000)}};
    for (const Stream& stream : streams) {
        const Measured plain = run_plain(net, stream);
        const BridgeRun bridge = run_bridge(net, stream, true);
        const double b50 = percentile_us(bridge.measured.latencies_ns, 0.5), b99 = percentile_us(bridge.measured.latencies_ns, 0.99);
        const double p50 = percentile_us(plain.latencies_ns, 0.5), p99 = percentile_us(plain.latencies_ns, 0.99);
        std::printf("%12zu %8llu %8.1f / %7.1f %8.1f / %7.1f %8.1f / %7.1f\n", stream.size,
                    static_cast<unsigned long long>(stream.count), b50, b99, p50, p99, b50 - p50, b99 - p99);
        std::fflush(stdout);
    }
}

void cpu(const Net& net, bool quick) {
    std::printf("\n== %s: CPU of the sending bridge per frame (process CPU time / frames, microseconds)\n", net.label.c_str());
    std::printf("%12s %10s %12s %12s %8s\n", "frame", "frames", "zero-copy", "copying", "ratio");
    for (const std::size_t size : {std::size_t(64), std::size_t(1) << 20}) {
        const Stream stream{size, size == 64 ? (quick ? 5000u : 200'000u) : (quick ? 20u : 600u), std::chrono::microseconds(0)};
        const BridgeRun zero = run_bridge(net, stream, true);
        const BridgeRun copy = run_bridge(net, stream, false);
        std::printf("%12zu %10llu %12.2f %12.2f %8.2f\n", size, static_cast<unsigned long long>(stream.count),
                    zero.sender_cpu_us_per_frame, copy.sender_cpu_us_per_frame,
                    copy.sender_cpu_us_per_frame > 0 ? zero.sender_cpu_us_per_frame / copy.sender_cpu_us_per_frame : 0.0);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    double load[3] = {0, 0, 0};
    if (::getloadavg(load, 3) == 3) std::printf("load average: %.2f %.2f %.2f (%ld cores)\n", load[0], load[1], load[2], ::sysconf(_SC_NPROCESSORS_ONLN));
    std::vector<Net> nets{{"loopback", "", "", "127.0.0.1"}};
    std::unique_ptr<zerobuffer::test::VethPair> pair;
    try {
        pair = std::make_unique<zerobuffer::test::VethPair>("zbbridge_bench_" + std::to_string(::getpid()));
        nets.push_back({"veth", pair->ns_a(), pair->ns_b(), pair->address_b()});
    } catch (const std::exception& e) {
        std::printf("veth pair unavailable (%s): loopback only\n", e.what());
    }
    for (const Net& net : nets) {
        throughput(net, quick);
        latency(net, quick);
        cpu(net, quick);
    }
    return 0;
}
