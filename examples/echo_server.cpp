// Echo server on a zerobuffer duplex channel: every request comes back unchanged.
//
//   echo_server <channel> [--threads N] [--seconds S] [--payload-mib M]
//
// Serves clients one after another until Ctrl-C / SIGTERM (or for S seconds). --threads N > 0
// uses thread_pool mode with N workers; otherwise single_thread mode. Client connections, departures
// and handler problems are printed as they are reported. Works with Python and C# clients too.
#include <zerobuffer/zerobuffer.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) { g_interrupted.store(true); }

[[noreturn]] void usage(const char* message) {
    std::fprintf(stderr, "echo_server: %s\nusage: echo_server <channel> [--threads N] [--seconds S] [--payload-mib M]\n",
                 message);
    std::exit(2);
}

long parse_number(const char* text, const char* what) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 0) {
        usage((std::string(what) + " needs a non-negative integer, got '" + text + "'").c_str());
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("missing channel name");
    const std::string channel = argv[1];
    long threads = 0, seconds = 0, payload_mib = 1;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        if (arg == "--threads") {
            threads = parse_number(argv[++i], "--threads");
        } else if (arg == "--seconds") {
            seconds = parse_number(argv[++i], "--seconds");
        } else if (arg == "--payload-mib") {
            payload_mib = parse_number(argv[++i], "--payload-mib");
        } else {
            usage(("unknown option " + arg).c_str());
        }
    }
    if (payload_mib < 1 || payload_mib > 1024) usage("--payload-mib must be 1..1024");

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    try {
        zerobuffer::BufferConfig request_config;
        request_config.metadata_size = 4096;
        request_config.payload_size = static_cast<std::size_t>(payload_mib) << 20;
        zerobuffer::DuplexServerOptions options;
        options.worker_threads = static_cast<std::size_t>(threads);
        options.on_error = [](const zerobuffer::DuplexError& e) {
            std::printf("[%s] %s\n", zerobuffer::to_string(e.kind), e.message.c_str());
            std::fflush(stdout);
        };
        zerobuffer::ImmutableDuplexServer server(channel, request_config, options);
        auto on_init = [](std::span<const std::byte> metadata) {
            std::printf("client connected (%zu bytes of metadata)\n", metadata.size());
            std::fflush(stdout);
        };
        // One handler for both modes: in single_thread mode the ResponseWriter writes straight
        // into the client's response ring, in thread_pool mode it stages the response.
        const auto mode = threads > 0 ? zerobuffer::ProcessingMode::thread_pool : zerobuffer::ProcessingMode::single_thread;
        server.start([](const auto& request, auto& response) { response.write_frame(request.data()); }, on_init, mode);
        std::printf("echo server on channel '%s' (%s), Ctrl-C to stop\n", channel.c_str(),
                    threads > 0 ? "thread_pool" : "single_thread");
        std::fflush(stdout);

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        while (!g_interrupted.load() && server.is_running() &&
               (seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const bool failed = !server.is_running();
        server.stop();
        std::printf("stopped after %llu requests from %llu client(s)\n",
                    static_cast<unsigned long long>(server.requests_handled()),
                    static_cast<unsigned long long>(server.clients_served()));
        return failed ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}
