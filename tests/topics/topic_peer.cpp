// zerobuffer-topic-peer: the C++ side of cross_lang_tests/test_topics.py.
//
//   zerobuffer-topic-peer publish TOPIC [--frames N] [--sizes MIN:MAX:SEED] [--metadata-bytes N]
//                         [--metadata-seed S] [--wait-subscribers N] [--policy block|drop]
//                         [--zero-copy] [--pace-us US] [--linger-ms MS] [--rescan-ms MS]
//   zerobuffer-topic-peer subscribe TOPIC --id ID [--frames N] [--sizes MIN:MAX:SEED]
//                         [--metadata-bytes N] [--metadata-seed S] [--payload-size N]
//                         [--timeout-ms MS] [--ready-file PATH]
//
// The stream is tests/topics/topic_data.h: frame k has schedule(k) bytes, k in its first 8 bytes
// and (k + i) mod 256 after them. `publish` waits for N subscribers, publishes frames 0..N-1,
// stays --linger-ms, and prints one JSON line: published, longest_publish_us and every
// subscriber (buffer_name, state, delivered, dropped, reason). `subscribe` checks every frame,
// stops after frame N-1 (or at the publisher's departure with --frames 0), and prints frames,
// first, last, bad, problem, metadata_ok, departures. Exit status 0 when all is well, 1 when a
// check failed, 2 on an exception, 3 on a bad command line.
#include <zerobuffer/zerobuffer.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "topic_data.h"

namespace {

using namespace zerobuffer;
using namespace zerobuffer::test::topics;
using Clock = std::chrono::steady_clock;

struct Args {
    std::string command;
    std::string topic;
    std::string id;
    std::uint64_t frames = 1000;
    Schedule sizes{8, 4096, 1};
    std::size_t metadata_bytes = 0;
    std::uint64_t metadata_seed = 0;
    std::uint64_t wait_subscribers = 1;
    bool drop = false;
    bool zero_copy = false;
    std::uint64_t pace_us = 0;
    std::uint64_t linger_ms = 0;
    std::uint64_t rescan_ms = 1000;
    std::uint64_t payload_size = 16 * 1024 * 1024;
    std::uint64_t timeout_ms = 30000;
    std::string ready_file;
};

[[noreturn]] void usage(const std::string& message) {
    std::fprintf(stderr, "zerobuffer-topic-peer: %s (see the comment at the top of tests/topics/topic_peer.cpp)\n",
                 message.c_str());
    std::exit(3);
}

std::uint64_t number(const std::string& text) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') usage("not a number: '" + text + "'");
    return v;
}

Args parse(int argc, char** argv) {
    if (argc < 3) usage("missing command or topic");
    Args a;
    a.command = argv[1];
    a.topic = argv[2];
    for (int i = 3; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--zero-copy") {
            a.zero_copy = true;
            continue;
        }
        if (i + 1 >= argc) usage("missing value after " + flag);
        const std::string value = argv[++i];
        if (flag == "--id") a.id = value;
        else if (flag == "--frames") a.frames = number(value);
        else if (flag == "--metadata-bytes") a.metadata_bytes = number(value);
        else if (flag == "--metadata-seed") a.metadata_seed = number(value);
        else if (flag == "--wait-subscribers") a.wait_subscribers = number(value);
        else if (flag == "--pace-us") a.pace_us = number(value);
        else if (flag == "--linger-ms") a.linger_ms = number(value);
        else if (flag == "--rescan-ms") a.rescan_ms = number(value);
        else if (flag == "--payload-size") a.payload_size = number(value);
        else if (flag == "--timeout-ms") a.timeout_ms = number(value);
        else if (flag == "--ready-file") a.ready_file = value;
        else if (flag == "--policy" && (value == "block" || value == "drop")) a.drop = value == "drop";
        else if (flag == "--sizes") {
            const auto c1 = value.find(':');
            const auto c2 = value.find(':', c1 + 1);
            if (c1 == std::string::npos || c2 == std::string::npos) usage("--sizes MIN:MAX:SEED");
            a.sizes = {number(value.substr(0, c1)), number(value.substr(c1 + 1, c2 - c1 - 1)), number(value.substr(c2 + 1))};
            if (a.sizes.min < 8 || a.sizes.max < a.sizes.min) usage("--sizes needs 8 <= MIN <= MAX");
        } else {
            usage("unknown option " + flag);
        }
    }
    return a;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
            continue;
        }
        out += c;
    }
    return out + "\"";
}

void signal_ready(const Args& a, const std::string& buffer) {
    if (a.ready_file.empty()) return;
    const std::string tmp = a.ready_file + ".tmp";
    std::ofstream(tmp) << "{\"buffer_name\": " << json_string(buffer) << ", \"pid\": " << ::getpid() << "}\n";
    std::rename(tmp.c_str(), a.ready_file.c_str());
}

int publish(const Args& a) {
    PublisherOptions options;
    options.policy = a.drop ? SlowSubscriberPolicy::drop : SlowSubscriberPolicy::block;
    options.rescan_interval = std::chrono::milliseconds(a.rescan_ms);
    Publisher publisher(a.topic, options);
    if (a.metadata_bytes > 0) publisher.set_metadata(make_metadata(a.metadata_bytes, a.metadata_seed));
    if (!publisher.wait_for_subscribers(a.wait_subscribers, std::chrono::milliseconds(a.timeout_ms))) {
        std::printf("{\"error\": \"fewer than %llu subscribers after %llu ms\"}\n",
                    static_cast<unsigned long long>(a.wait_subscribers), static_cast<unsigned long long>(a.timeout_ms));
        return 1;
    }
    signal_ready(a, a.topic);
    std::vector<std::byte> frame(a.sizes.max);
    std::chrono::microseconds longest{0};
    for (std::uint64_t k = 0; k < a.frames; ++k) {
        const std::size_t size = a.sizes.size(k);
        const auto t0 = Clock::now();
        if (a.zero_copy) {
            PublishLoan loan = publisher.acquire_frame(size);
            fill_frame(loan.data(), k);
            loan.commit();
        } else {
            fill_frame({frame.data(), size}, k);
            publisher.publish(frame.data(), size);
        }
        longest = std::max(longest, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0));
        if (a.pace_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(a.pace_us));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(a.linger_ms));
    std::string subscribers;
    for (const SubscriberInfo& s : publisher.subscribers()) {
        if (!subscribers.empty()) subscribers += ", ";
        subscribers += "{\"buffer_name\": " + json_string(s.buffer_name) + ", \"state\": \"" + to_string(s.state) +
                       "\", \"delivered\": " + std::to_string(s.frames_delivered) +
                       ", \"dropped\": " + std::to_string(s.frames_dropped) + ", \"reason\": " + json_string(s.reason) + "}";
    }
    std::printf("{\"published\": %llu, \"longest_publish_us\": %lld, \"subscribers\": [%s]}\n",
                static_cast<unsigned long long>(publisher.frames_published()), static_cast<long long>(longest.count()),
                subscribers.c_str());
    return 0;
}

int subscribe(const Args& a) {
    BufferConfig config;
    config.metadata_size = 4096;
    config.payload_size = a.payload_size;
    Subscriber subscriber(a.topic, config, a.id);
    signal_ready(a, subscriber.buffer_name());
    const std::vector<std::byte> metadata = make_metadata(a.metadata_bytes, a.metadata_seed);
    std::uint64_t frames = 0, first = 0, last = 0, bad = 0, departures = 0;
    bool metadata_ok = false;
    std::string problem;
    auto fail = [&](const std::string& what) {
        ++bad;
        if (problem.empty()) problem = what;
    };
    while (a.frames == 0 || frames < a.frames) {
        Frame f;
        try {
            f = subscriber.read_frame(std::chrono::milliseconds(a.timeout_ms));
        } catch (const WriterDeadException&) {
            ++departures;
            break;
        }
        if (!f) {
            fail("no frame within the timeout after " + std::to_string(frames) + " frames");
            break;
        }
        const auto k = frame_number(f.data());
        if (frames == 0) {
            const auto md = subscriber.metadata();
            metadata_ok = std::equal(md.begin(), md.end(), metadata.begin(), metadata.end());
            first = k.value_or(0);
        }
        if (!k) fail("frame " + std::to_string(frames) + " has wrong bytes");
        else if (f.size() != a.sizes.size(*k)) fail("frame number " + std::to_string(*k) + " has a wrong size");
        else if (frames > 0 && *k != last + 1) fail("frame number " + std::to_string(*k) + " follows " + std::to_string(last));
        if (k) last = *k;
        ++frames;
        if (a.frames != 0 && k && *k + 1 >= a.frames) break;
    }
    std::printf("{\"buffer_name\": %s, \"frames\": %llu, \"first\": %llu, \"last\": %llu, \"bad\": %llu, \"problem\": %s, "
                "\"metadata_ok\": %s, \"departures\": %llu}\n",
                json_string(subscriber.buffer_name()).c_str(), static_cast<unsigned long long>(frames),
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(bad), json_string(problem).c_str(), metadata_ok ? "true" : "false",
                static_cast<unsigned long long>(departures));
    return bad == 0 && metadata_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    try {
        if (args.command == "publish") return publish(args);
        if (args.command == "subscribe") return subscribe(args);
    } catch (const std::exception& e) {
        std::printf("{\"error\": %s}\n", json_string(e.what()).c_str());
        return 2;
    }
    usage("unknown command " + args.command);
}
