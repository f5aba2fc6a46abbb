// Topic publisher: publishes numbered frames to every subscriber of a topic, however many
// there are and whenever they come and go.
//
//   topic_publisher <topic> [--frames N] [--size BYTES] [--rate HZ] [--policy block|drop]
//                           [--wait-subscribers N] [--zero-copy]
//
// Frame k (from 0) holds k in its first 8 bytes and byte i = (k + i) mod 256 after them, so a
// subscriber can check every byte (examples/topic_subscriber.cpp does). The metadata is a line
// of text describing the stream. Subscribers joining, leaving and falling behind are printed as
// the publisher reports them; a table of every subscriber ends the run. Ctrl-C stops it.
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

[[noreturn]] void usage(const std::string& message) {
    std::fprintf(stderr,
                 "topic_publisher: %s\nusage: topic_publisher <topic> [--frames N] [--size BYTES] [--rate HZ] "
                 "[--policy block|drop] [--wait-subscribers N] [--zero-copy]\n",
                 message.c_str());
    std::exit(2);
}

std::uint64_t number(const char* text, const char* what) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') usage(std::string(what) + " needs a non-negative integer, got '" + text + "'");
    return value;
}

// Frame k: its number, then the pattern.
void fill(std::span<std::byte> out, std::uint64_t k) {
    const std::size_t head = std::min(out.size(), sizeof k);
    std::memcpy(out.data(), &k, head);
    for (std::size_t i = head; i < out.size(); ++i) out[i] = static_cast<std::byte>((k + i) & 0xFF);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("missing topic name");
    const std::string topic = argv[1];
    std::uint64_t frames = 1000, size = 4096, rate = 1000, wait_subscribers = 0;
    bool zero_copy = false;
    zerobuffer::PublisherOptions options;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--zero-copy") {
            zero_copy = true;
            continue;
        }
        if (i + 1 >= argc) usage("missing value after " + arg);
        const char* value = argv[++i];
        if (arg == "--frames") frames = number(value, "--frames");
        else if (arg == "--size") size = number(value, "--size");
        else if (arg == "--rate") rate = number(value, "--rate");
        else if (arg == "--wait-subscribers") wait_subscribers = number(value, "--wait-subscribers");
        else if (arg == "--policy" && std::strcmp(value, "block") == 0) options.policy = zerobuffer::SlowSubscriberPolicy::block;
        else if (arg == "--policy" && std::strcmp(value, "drop") == 0) options.policy = zerobuffer::SlowSubscriberPolicy::drop;
        else usage("unknown option " + arg + " " + value);
    }
    if (size == 0) usage("--size must be at least 1");
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    // Called on the publisher's discovery thread whenever a subscriber changes state.
    options.on_subscriber_change = [](const zerobuffer::SubscriberInfo& s) {
        std::printf("subscriber %-28s %-12s %s\n", s.buffer_name.c_str(), zerobuffer::to_string(s.state),
                    s.reason.c_str());
        std::fflush(stdout);
    };

    try {
        zerobuffer::Publisher publisher(topic, options);
        const std::string metadata = "example stream: frame k = k (8 bytes) then (k + i) mod 256, " +
                                     std::to_string(size) + " bytes per frame";
        publisher.set_metadata(metadata.data(), metadata.size());
        if (wait_subscribers > 0 && !publisher.wait_for_subscribers(wait_subscribers, std::chrono::seconds(30))) {
            std::fprintf(stderr, "topic_publisher: fewer than %llu subscribers after 30 s\n",
                         static_cast<unsigned long long>(wait_subscribers));
            return 1;
        }
        std::printf("publishing %llu frames of %llu bytes on topic '%s' (%s policy, %zu subscriber(s) now)\n",
                    static_cast<unsigned long long>(frames), static_cast<unsigned long long>(size), topic.c_str(),
                    options.policy == zerobuffer::SlowSubscriberPolicy::block ? "block" : "drop",
                    publisher.subscriber_count());
        std::vector<std::byte> frame(size);
        const auto period = rate > 0 ? std::chrono::nanoseconds(1'000'000'000 / rate) : std::chrono::nanoseconds(0);
        auto next = std::chrono::steady_clock::now();
        std::uint64_t deliveries = 0;
        for (std::uint64_t k = 0; k < frames && !g_interrupted.load(); ++k) {
            if (zero_copy) {
                zerobuffer::PublishLoan loan = publisher.acquire_frame(size);  // a subscriber's ring itself
                fill(loan.data(), k);
                deliveries += loan.commit();
            } else {
                fill(frame, k);
                deliveries += publisher.publish(frame.data(), frame.size());
            }
            if (rate > 0) {
                next += period;
                std::this_thread::sleep_until(next);
            }
        }
        std::printf("published %llu frames, %llu deliveries\n%-28s %-12s %10s %10s\n",
                    static_cast<unsigned long long>(publisher.frames_published()),
                    static_cast<unsigned long long>(deliveries), "subscriber", "state", "delivered", "dropped");
        for (const zerobuffer::SubscriberInfo& s : publisher.subscribers()) {
            std::printf("%-28s %-12s %10llu %10llu\n", s.buffer_name.c_str(), zerobuffer::to_string(s.state),
                        static_cast<unsigned long long>(s.frames_delivered),
                        static_cast<unsigned long long>(s.frames_dropped));
        }
    } catch (const zerobuffer::ZeroBufferException& e) {
        std::fprintf(stderr, "topic_publisher: %s\n", e.what());
        return 1;
    }
    return 0;
}
