// Topics across hosts: a local publisher -> zerobuffer-bridge send --from topic:T -> recv --to
// topic:U -> subscribers of U on the other host, one of them the Python package zerobuffer-ipc
// (tests/bridge/topic_reader.py). Also the receiver's policies while its topic has no
// subscriber, a killed topic sender's subscriber buffer, and bad topic names.
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "bridge_harness.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/topic.h"

using namespace zbbridge_test;

namespace {

std::vector<std::string> recv_topic(const std::string& topic, int port, const std::string& policy = "block") {
    return {"recv", "--listen", "tcp://*:" + std::to_string(port), "--to", "topic:" + topic, "--policy", policy, "--json"};
}

std::vector<std::string> send_args(const std::string& from, const std::string& to, const std::string& policy = "block") {
    return {"send", "--from", from, "--to", to, "--policy", policy, "--ring-size", "16M", "--json"};
}

// A forked publisher of `topic`: waits for a subscriber, sets the metadata and publishes frames
// 0..count-1 (Sizes::small). Exit code 0 when every frame reached a subscriber.
zerobuffer::test::Child start_publisher(const std::string& topic, std::uint64_t count, std::vector<std::byte> metadata) {
    return zerobuffer::test::Child([=] {
        zerobuffer::PublisherOptions options;
        options.write_timeout = std::chrono::seconds(60);
        zerobuffer::Publisher publisher(topic, options);
        if (!publisher.wait_for_subscribers(1, 30s)) return 3;
        publisher.set_metadata(metadata);
        std::vector<std::byte> frame;
        for (std::uint64_t k = 0; k < count; ++k) {
            frame.resize(frame_size(k, Sizes::small));
            fill_frame(k, frame);
            if (publisher.publish(frame) == 0) return 4;
        }
        return 0;
    });
}

// The objects of a buffer that a killed or closing peer of another package leaves behind are
// removed when this goes out of scope (declared before that peer's process: after it is gone).
struct RemovedAtEnd {
    std::string name;
    ~RemovedAtEnd() {
        if (!name.empty()) zerobuffer::test::remove_buffer_objects(name);
    }
};

// The interpreter of the venv with zerobuffer-ipc (cross_lang_tests/venv.sh, which ctest names
// in ZEROBUFFER_XLANG_VENV_SH). Empty with `why` set when it is not named; throws when the
// script fails (the machine is not set up: a failure, not a skip).
std::string python_with_zerobuffer_ipc(std::string& why) {
    const char* script = std::getenv("ZEROBUFFER_XLANG_VENV_SH");
    if (script == nullptr || std::getenv("ZEROBUFFER_BRIDGE_TOPIC_READER") == nullptr) {
        why = "ZEROBUFFER_XLANG_VENV_SH or ZEROBUFFER_BRIDGE_TOPIC_READER is not set (run it through ctest)";
        return {};
    }
    FILE* pipe = ::popen(("bash '" + std::string(script) + "'").c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + std::string(script));
    std::string out;
    char chunk[256];
    while (std::fgets(chunk, sizeof chunk, pipe) != nullptr) out += chunk;
    const int status = ::pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (status != 0 || out.empty()) {
        throw std::runtime_error(std::string(script) + " failed (status " + std::to_string(status) + "): " + out);
    }
    return out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
}

std::string hex(const std::vector<std::byte>& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string text;
    for (std::byte b : bytes) {
        text += digits[std::to_integer<unsigned>(b) >> 4];
        text += digits[std::to_integer<unsigned>(b) & 15];
    }
    return text;
}

// The sizes in the "RESULT ... sizes=S0,S1,..." line of topic_reader.py.
std::vector<std::size_t> python_sizes(const std::string& output) {
    std::vector<std::size_t> sizes;
    const auto at = output.find("sizes=");
    if (at == std::string::npos) return sizes;
    std::istringstream in(output.substr(at + 6, output.find('\n', at) - at - 6));
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) sizes.push_back(std::stoull(item));
    }
    return sizes;
}

void expect_in_order(const Consumer& consumer, std::uint64_t count) {
    const auto& got = consumer.indices();
    ASSERT_EQ(got.size(), count);
    for (std::uint64_t k = 0; k < count; ++k) ASSERT_EQ(got[k], k) << "frame " << k << " out of order or missing";
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.metadata_missing(), 0u);
}

}  // namespace

TEST(BridgeTopic, ALocalPublisherReachesTwoRemoteSubscribersOneOfThemThePythonPackage) {
    std::string why;
    const std::string python = python_with_zerobuffer_ipc(why);
    if (python.empty()) GTEST_SKIP() << why;
    Hosts hosts;
    const std::string in = unique_buffer("tin"), out = unique_buffer("tout");
    const auto metadata = test_metadata("topic-across-hosts");
    constexpr std::uint64_t kFrames = 3000;
    {
        Consumer cpp(zerobuffer::subscriber_buffer_name(out, "cpp"), 8 << 20, Sizes::small, metadata);
        const std::string py_buffer = zerobuffer::subscriber_buffer_name(out, "py");
        // zerobuffer-ipc leaves its semaphores behind when it closes (docs/topics.md).
        RemovedAtEnd py_leftovers{py_buffer};
        BridgeProcess py({std::getenv("ZEROBUFFER_BRIDGE_TOPIC_READER"), py_buffer, std::to_string(kFrames), hex(metadata)},
                         hosts.ns_b(), python);
        ASSERT_TRUE(py.wait_for_output("ready", 60s)) << py.output();
        BridgeProcess receiver(recv_topic(out, hosts.port()), hosts.ns_b());
        ASSERT_TRUE(receiver.wait_for_output("publishing to 2 subscriber(s)")) << receiver.output();
        BridgeProcess sender(send_args("topic:" + in, hosts.endpoint_b()), hosts.ns_a());
        auto publisher = start_publisher(in, kFrames, metadata);

        ASSERT_TRUE(cpp.read_until(kFrames, 120s)) << "got " << cpp.indices().size() << "\n"
                                                    << sender.output() << receiver.output();
        expect_in_order(cpp, kFrames);
        EXPECT_EQ(py.wait(120s), 0) << py.output();
        const auto sizes = python_sizes(py.output());
        ASSERT_EQ(sizes.size(), kFrames) << py.output();
        for (std::uint64_t k = 0; k < kFrames; ++k) ASSERT_EQ(sizes[k], frame_size(k, Sizes::small)) << "frame " << k;
        EXPECT_EQ(publisher.wait(10s), 0);
        stop_cleanly(sender);
        stop_cleanly(receiver);
        EXPECT_EQ(sender.final_figure("frames"), kFrames);
        EXPECT_EQ(sender.final_figure("dropped"), 0u);
        EXPECT_EQ(receiver.final_figure("frames"), kFrames);
        EXPECT_EQ(receiver.final_figure("dropped"), 0u);
        EXPECT_EQ(receiver.final_figure("gaps"), 0u);
        EXPECT_TRUE(zerobuffer::test::leftovers(in).empty()) << "the sender left its subscriber buffer behind";
        std::cout << "[ bridge   ] " << kFrames << " frames from a local publisher reached both remote subscribers ("
                  << (hosts.namespaces() ? "network namespaces" : "loopback") << ")\n";
    }
    EXPECT_TRUE(zerobuffer::test::leftovers(out).empty());
}

TEST(BridgeTopic, BlockTakesNothingBeforeTheFirstSubscriberAndLosesNothing) {
    Hosts hosts;
    const std::string in = unique_buffer("in"), out = unique_buffer("tlate");
    const auto metadata = test_metadata("topic-block");
    constexpr std::uint64_t kFrames = 500;
    BridgeProcess receiver(recv_topic(out, hosts.port()), hosts.ns_b());
    ASSERT_TRUE(receiver.wait_for_output("no subscriber; waiting for one")) << receiver.output();
    BridgeProcess sender(send_args("buffer:" + in, hosts.endpoint_b()), hosts.ns_a());
    auto producer = start_producer({in, 0, kFrames, Sizes::small, metadata});
    EXPECT_EQ(producer.wait(30s), 0) << sender.output();  // the sender's ring holds them all
    {
        Consumer late(zerobuffer::subscriber_buffer_name(out, "late"), 8 << 20, Sizes::small, metadata);
        ASSERT_TRUE(late.read_until(kFrames, 60s)) << "got " << late.indices().size() << "\n" << receiver.output();
        expect_in_order(late, kFrames);
        stop_cleanly(sender);
        stop_cleanly(receiver);
    }
    EXPECT_EQ(receiver.final_figure("frames"), kFrames);
    EXPECT_EQ(receiver.final_figure("dropped"), 0u);
    EXPECT_TRUE(leftovers_of(in).empty());
    EXPECT_TRUE(zerobuffer::test::leftovers(out).empty());
}

TEST(BridgeTopic, DropCountsEveryFrameThatReachesNoSubscriber) {
    Hosts hosts;
    const std::string in = unique_buffer("in"), out = unique_buffer("tnone");
    constexpr std::uint64_t kFrames = 300;
    BridgeProcess receiver(recv_topic(out, hosts.port(), "drop"), hosts.ns_b());
    BridgeProcess sender(send_args("buffer:" + in, hosts.endpoint_b(), "drop"), hosts.ns_a());
    ASSERT_TRUE(sender.wait_for_output("announced itself (1 now)")) << sender.output();
    auto producer = start_producer({in, 0, kFrames, Sizes::small, test_metadata("topic-drop"), 200us});
    EXPECT_EQ(producer.wait(30s), 0);
    ASSERT_TRUE(zerobuffer::test::eventually([&] { return sender.figure("frames").value_or(0) == kFrames; }, 20s))
        << sender.output();
    ASSERT_TRUE(zerobuffer::test::eventually([&] { return receiver.figure("dropped").value_or(0) == kFrames; }, 20s))
        << receiver.output();
    stop_cleanly(sender);
    stop_cleanly(receiver);
    EXPECT_EQ(sender.final_figure("dropped"), 0u);
    EXPECT_EQ(receiver.final_figure("dropped"), kFrames) << "every frame, counted once";
    EXPECT_EQ(receiver.final_figure("frames"), 0u);
    EXPECT_TRUE(leftovers_of(in).empty());
    EXPECT_TRUE(zerobuffer::test::leftovers(out).empty());
}

TEST(BridgeTopic, AKilledTopicSenderHasItsSubscriberBufferRemoved) {
    const std::string topic = unique_buffer("tkill");
    RemovedAtEnd if_it_failed;  // removes the subscriber buffer once the sender is gone
    BridgeProcess sender(send_args("topic:" + topic, "tcp://127.0.0.1:9"), "");
    // The program names its subscriber buffer T@bridge-<its pid>, so that it can remove it.
    if_it_failed.name = zerobuffer::subscriber_buffer_name(topic, "bridge-" + std::to_string(sender.pid()));
    ASSERT_TRUE(zerobuffer::test::eventually([&] { return !zerobuffer::test::leftovers(topic + "@").empty(); }, 10s))
        << sender.output();
    const pid_t worker = sender.worker_pid();
    ASSERT_GT(worker, 0);
    ASSERT_EQ(::kill(worker, SIGKILL), 0);
    EXPECT_EQ(sender.wait(10s), 128 + SIGKILL);
    EXPECT_NE(sender.output().find("removed what it left of buffer '" + if_it_failed.name + "'"), std::string::npos)
        << sender.output();
    EXPECT_TRUE(zerobuffer::test::leftovers(topic).empty());
}

TEST(BridgeTopic, BadTopicNamesAreRefusedWithTheNameAndNothingIsLeftBehind) {
    const std::string topic = unique_buffer("tbad");
    BridgeProcess recv({"recv", "--listen", "tcp://*:1", "--to", "topic:" + topic + "@x"}, "");
    EXPECT_EQ(recv.wait(15s), 2) << recv.output();
    EXPECT_NE(recv.output().find("invalid topic name '" + topic + "@x': it contains '@'"), std::string::npos)
        << recv.output();
    BridgeProcess send({"send", "--from", "topic:", "--to", "tcp://127.0.0.1:9"}, "");
    EXPECT_EQ(send.wait(15s), 2) << send.output();
    EXPECT_NE(send.output().find("--from 'topic:': expected buffer:NAME or topic:T"), std::string::npos) << send.output();
    const std::string long_id(300, 'i');
    BridgeProcess long_name({"send", "--from", "topic:" + topic, "--subscriber-id", long_id, "--to", "tcp://127.0.0.1:9"}, "");
    EXPECT_EQ(long_name.wait(15s), 2) << long_name.output();
    EXPECT_NE(long_name.output().find("subscriber buffer name for topic '" + topic + "'"), std::string::npos)
        << long_name.output();
    EXPECT_TRUE(zerobuffer::test::leftovers(topic).empty());
}
