// Topic subscriber: joins a topic with its own buffer TOPIC@ID and checks every frame the
// publisher sends (see examples/topic_publisher.cpp for the frame layout).
//
//   topic_subscriber <topic> [--id ID] [--frames N] [--ring-mib M] [--timeout-ms MS]
//
// It may start before or after the publisher, and survives publisher restarts. It stops after N
// frames (0: until Ctrl-C, or until no frame came for --timeout-ms), then prints what it got.
// Exit status 0 if every frame was intact and frame numbers only went up.
#include <zerobuffer/zerobuffer.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }

[[noreturn]] void usage(const std::string& message) {
    std::fprintf(stderr,
                 "topic_subscriber: %s\nusage: topic_subscriber <topic> [--id ID] [--frames N] [--ring-mib M] "
                 "[--timeout-ms MS]\n",
                 message.c_str());
    std::exit(2);
}

std::uint64_t number(const char* text, const char* what) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') usage(std::string(what) + " needs a non-negative integer, got '" + text + "'");
    return value;
}

// The frame's number, or nullopt-like UINT64_MAX if a byte is wrong.
std::uint64_t check(std::span<const std::byte> data) {
    std::uint64_t k = 0;
    const std::size_t head = std::min(data.size(), sizeof k);
    std::memcpy(&k, data.data(), head);
    for (std::size_t i = head; i < data.size(); ++i) {
        if (data[i] != static_cast<std::byte>((k + i) & 0xFF)) return UINT64_MAX;
    }
    return k;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("missing topic name");
    const std::string topic = argv[1];
    std::string id;
    std::uint64_t frames = 0, ring_mib = 16, timeout_ms = 5000;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage("missing value after " + arg);
        const char* value = argv[++i];
        if (arg == "--id") id = value;
        else if (arg == "--frames") frames = number(value, "--frames");
        else if (arg == "--ring-mib") ring_mib = number(value, "--ring-mib");
        else if (arg == "--timeout-ms") timeout_ms = number(value, "--timeout-ms");
        else usage("unknown option " + arg);
    }
    if (ring_mib < 1 || ring_mib > 4096) usage("--ring-mib must be 1..4096");
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::uint64_t received = 0, broken = 0, out_of_order = 0, publishers_left = 0, last = 0;
    try {
        zerobuffer::BufferConfig config;
        config.metadata_size = 4096;
        config.payload_size = ring_mib * 1024 * 1024;
        zerobuffer::Subscriber subscriber(topic, config, id);  // creates TOPIC@ID; the publisher finds it
        std::printf("subscribed to '%s' as %s\n", topic.c_str(), subscriber.buffer_name().c_str());
        std::fflush(stdout);
        const auto timeout = std::chrono::milliseconds(timeout_ms);
        while (!g_interrupted.load() && (frames == 0 || received < frames)) {
            zerobuffer::Frame frame;
            try {
                frame = subscriber.read_frame(timeout);
            } catch (const zerobuffer::WriterDeadException&) {
                ++publishers_left;  // reported once; the next read waits for a new publisher
                std::printf("the publisher left after %llu frames; waiting for the next one\n",
                            static_cast<unsigned long long>(received));
                continue;
            }
            if (!frame) {
                if (frames == 0) break;  // quiet for --timeout-ms: done
                std::fprintf(stderr, "topic_subscriber: no frame for %llu ms\n", static_cast<unsigned long long>(timeout_ms));
                return 1;
            }
            if (received == 0) {
                const auto md = subscriber.metadata();  // written before the first frame
                std::printf("metadata: %.*s\n", static_cast<int>(md.size()), reinterpret_cast<const char*>(md.data()));
            }
            const std::uint64_t k = check(frame.data());
            if (k == UINT64_MAX) ++broken;
            else if (received > 0 && k <= last && frame.sequence() != 1) ++out_of_order;
            else last = k;
            ++received;
        }
    } catch (const zerobuffer::ZeroBufferException& e) {
        std::fprintf(stderr, "topic_subscriber: %s\n", e.what());
        return 1;
    }
    std::printf("received %llu frames (last number %llu), %llu damaged, %llu out of order, %llu publisher departures\n",
                static_cast<unsigned long long>(received), static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(broken), static_cast<unsigned long long>(out_of_order),
                static_cast<unsigned long long>(publishers_left));
    return broken == 0 && out_of_order == 0 ? 0 : 1;
}
