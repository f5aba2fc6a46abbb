// Echo client for a zerobuffer duplex channel: sends requests, checks every echoed byte and
// prints round-trip statistics.
//
//   echo_client <channel> [--count N] [--size BYTES] [--response-mib M] [--timeout-ms T]
//
// Waits up to T ms (default 5000) for the server. Exit code 0 if every response matched.
#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

[[noreturn]] void usage(const char* message) {
    std::fprintf(stderr,
                 "echo_client: %s\nusage: echo_client <channel> [--count N] [--size BYTES] [--response-mib M] "
                 "[--timeout-ms T]\n",
                 message);
    std::exit(2);
}

long parse_number(const char* text, const char* what) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value <= 0) {
        usage((std::string(what) + " needs a positive integer, got '" + text + "'").c_str());
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("missing channel name");
    const std::string channel = argv[1];
    long count = 1000, size = 1024, response_mib = 16, timeout_ms = 5000;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        if (arg == "--count") {
            count = parse_number(argv[++i], "--count");
        } else if (arg == "--size") {
            size = parse_number(argv[++i], "--size");
        } else if (arg == "--response-mib") {
            response_mib = parse_number(argv[++i], "--response-mib");
        } else if (arg == "--timeout-ms") {
            timeout_ms = parse_number(argv[++i], "--timeout-ms");
        } else {
            usage(("unknown option " + arg).c_str());
        }
    }
    if (response_mib > 1024) usage("--response-mib must be at most 1024");

    try {
        zerobuffer::DuplexClientOptions options;
        options.response_config.payload_size = static_cast<std::size_t>(response_mib) << 20;
        options.connect_timeout = std::chrono::milliseconds(timeout_ms);
        const std::string hello = "echo_client pid " + std::to_string(::getpid());
        options.metadata.assign(reinterpret_cast<const std::byte*>(hello.data()),
                                reinterpret_cast<const std::byte*>(hello.data()) + hello.size());
        zerobuffer::DuplexClient client(channel, options);

        std::vector<double> round_trips_us;
        round_trips_us.reserve(static_cast<std::size_t>(count));
        long mismatches = 0;
        for (long i = 0; i < count; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            // Zero-copy: the request is built directly in the server's request ring and sent by
            // commit() (a reservation destroyed uncommitted sends nothing).
            zerobuffer::RequestReservation request = client.acquire_request(static_cast<std::size_t>(size));
            const std::span<std::byte> bytes = request.data();
            for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::byte>((k + i) & 0xFF);
            request.commit();
            zerobuffer::Frame response = client.receive_response(std::chrono::milliseconds(timeout_ms));
            if (!response) {
                std::fprintf(stderr, "echo_client: no response to request %ld within %ld ms\n", i, timeout_ms);
                return 1;
            }
            bool same = response.size() == static_cast<std::size_t>(size);
            for (std::size_t k = 0; same && k < response.size(); ++k) {
                same = response.data()[k] == static_cast<std::byte>((k + i) & 0xFF);
            }
            mismatches += same ? 0 : 1;
            response.release();
            round_trips_us.push_back(
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(round_trips_us.begin(), round_trips_us.end());
        const auto at = [&](double p) {
            return round_trips_us[static_cast<std::size_t>(p * static_cast<double>(round_trips_us.size() - 1))];
        };
        std::printf("%ld round trips of %ld bytes on '%s': p50 %.1f us, p99 %.1f us, max %.1f us, %ld mismatched\n",
                    count, size, channel.c_str(), at(0.50), at(0.99), round_trips_us.back(), mismatches);
        return mismatches == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_client: %s\n", e.what());
        return 1;
    }
}
