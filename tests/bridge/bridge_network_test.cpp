// The network between the two hosts goes down for 2 s (ip link set down, then up): with block
// nothing is lost, with drop every missing frame is counted, exactly. And CURVE: only the
// senders whose keys the receiver lists get in.
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "bridge_harness.h"
#include "zerobuffer/bridge.h"

using namespace zbbridge_test;

namespace {

struct CutRun {
    std::uint64_t produced = 0;
    std::uint64_t sender_dropped = 0, sender_frames = 0;
    std::uint64_t receiver_gaps = 0, receiver_dropped = 0, receiver_reconnects = 0, receiver_frames = 0;
};

// A stream with a 2 s cut of host B's link in its middle; returns the final figures.
CutRun run_with_cut(Hosts& hosts, const std::string& policy, std::uint64_t frames, std::chrono::microseconds gap,
                    Consumer& consumer, const std::string& in, const std::vector<std::byte>& metadata) {
    const std::string out = consumer.reader().name();
    BridgeProcess receiver({"recv", "--listen", "tcp://*:" + std::to_string(hosts.port()), "--to", "buffer:" + out,
                            "--policy", policy, "--json"},
                           hosts.ns_b());
    BridgeProcess sender({"send", "--from", "buffer:" + in, "--to", hosts.endpoint_b(), "--policy", policy, "--hwm", "8",
                          "--ring-size", "16M", "--json"},
                         hosts.ns_a());
    auto producer = start_producer({in, 0, frames, Sizes::small, metadata, gap});
    EXPECT_TRUE(consumer.read_until(1000, 30s));
    hosts.set_link(false);
    const auto cut_at = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - cut_at < 2s) consumer.drain(50ms);  // what was on its way
    hosts.set_link(true);
    // Keep reading while the producer finishes: a full local ring would make the receiver drop.
    std::optional<int> producer_exit;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!(producer_exit = producer.wait(10ms)) && std::chrono::steady_clock::now() < deadline) consumer.drain(50ms);
    EXPECT_EQ(producer_exit, 0) << sender.output();
    consumer.drain(3s);
    sender.signal(SIGTERM);
    receiver.signal(SIGTERM);
    EXPECT_EQ(sender.wait(), 0) << sender.output();
    EXPECT_EQ(receiver.wait(), 0) << receiver.output();
    CutRun run;
    run.produced = frames;
    run.sender_dropped = sender.final_figure("dropped").value_or(~0ull);
    run.sender_frames = sender.final_figure("frames").value_or(~0ull);
    run.receiver_gaps = receiver.final_figure("gaps").value_or(~0ull);
    run.receiver_dropped = receiver.final_figure("dropped").value_or(~0ull);
    run.receiver_reconnects = receiver.final_figure("reconnects").value_or(~0ull);
    run.receiver_frames = receiver.final_figure("frames").value_or(~0ull);
    std::cout << "[ bridge   ] " << policy << ": " << consumer.indices().size() << " of " << frames
              << " frames received, sender dropped " << run.sender_dropped << ", receiver counted " << run.receiver_gaps
              << " missing, reconnects " << run.receiver_reconnects << "\n";
    return run;
}

}  // namespace

TEST(BridgeNetworkCut, BlockLosesNothing) {
    Hosts hosts;
    if (!hosts.namespaces()) GTEST_SKIP() << "a network cut needs two network namespaces: " << hosts.reason();
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("cut-block");
    Consumer consumer(out, 16 << 20, Sizes::small, metadata);
    const CutRun run = run_with_cut(hosts, "block", 5000, 500us, consumer, in, metadata);
    EXPECT_EQ(consumer.indices().size(), run.produced);
    EXPECT_EQ(consumer.missing(), 0u);
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(run.sender_dropped, 0u);
    EXPECT_EQ(run.receiver_gaps, 0u);
    EXPECT_EQ(run.receiver_frames, run.produced);
}

TEST(BridgeNetworkCut, DropCountsEveryMissingFrameExactly) {
    Hosts hosts;
    if (!hosts.namespaces()) GTEST_SKIP() << "a network cut needs two network namespaces: " << hosts.reason();
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("cut-drop");
    Consumer consumer(out, 16 << 20, Sizes::small, metadata);
    const CutRun run = run_with_cut(hosts, "drop", 24000, 150us, consumer, in, metadata);
    const auto& got = consumer.indices();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_GT(run.sender_dropped, 0u) << "the cut should have filled the connection";
    EXPECT_EQ(got.back(), run.produced - 1) << "the stream resumed after the cut";
    // Every frame is accounted for: received, or dropped by the sender, or lost on a lost
    // connection, and the receiver's gap count is exactly what its consumer lacks.
    EXPECT_EQ(run.receiver_gaps, consumer.missing());
    EXPECT_EQ(got.size() + run.receiver_gaps + got.front(), run.produced);
    EXPECT_EQ(run.receiver_dropped, 0u);
    if (run.receiver_reconnects == 0) {
        // One connection throughout: only the sender dropped, before the receiver joined (the
        // first frames, with no receiver yet) or while the connection was full.
        EXPECT_EQ(got.front() + run.receiver_gaps, run.sender_dropped);
    }
    EXPECT_EQ(run.sender_frames + run.sender_dropped, run.produced);
}

TEST(BridgeCurve, OnlyListedSendersGetIn) {
    Hosts hosts;
    const std::string dir = "/tmp/zbbridge_curve_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    struct Cleanup {
        std::string dir;
        ~Cleanup() { std::filesystem::remove_all(dir); }
    } cleanup{dir};
    for (const char* who : {"receiver", "sender", "intruder"}) {
        zerobuffer::bridge::write_curve_key_files(zerobuffer::bridge::generate_curve_keypair(), dir + "/" + who);
    }
    const std::string in = unique_buffer("in"), intruder_in = unique_buffer("intr"), out = unique_buffer("out");
    const auto metadata = test_metadata("curve");
    Consumer consumer(out, 8 << 20, Sizes::small, metadata);
    BridgeProcess receiver({"recv", "--listen", "tcp://*:" + std::to_string(hosts.port()), "--to", "buffer:" + out,
                            "--curve-key", dir + "/receiver.key", "--curve-allow", dir + "/sender.pub", "--json"},
                           hosts.ns_b());
    BridgeProcess intruder({"send", "--from", "buffer:" + intruder_in, "--to", hosts.endpoint_b(), "--curve-key",
                            dir + "/intruder.key", "--curve-server-key", dir + "/receiver.pub", "--policy", "drop"},
                           hosts.ns_a());
    BridgeProcess plain({"send", "--from", "buffer:" + unique_buffer("plain"), "--to", hosts.endpoint_b(), "--policy", "drop"},
                        hosts.ns_a());
    auto intruder_producer = start_producer({intruder_in, 50'000, 200, Sizes::small, metadata});
    BridgeProcess sender({"send", "--from", "buffer:" + in, "--to", hosts.endpoint_b(), "--curve-key",
                          dir + "/sender.key", "--curve-server-key", dir + "/receiver.pub", "--json"},
                         hosts.ns_a());
    auto producer = start_producer({in, 0, 300, Sizes::small, metadata});
    ASSERT_TRUE(consumer.read_until(300, 30s)) << receiver.output();
    EXPECT_EQ(producer.wait(10s), 0);
    EXPECT_EQ(intruder_producer.wait(10s), 0);
    consumer.drain(500ms);
    EXPECT_EQ(consumer.indices().size(), 300u) << "only the listed sender's frames arrive";
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.missing(), 0u);
    EXPECT_TRUE(receiver.wait_for_output("refused a client whose CURVE key is not allowed")) << receiver.output();
    receiver.signal(SIGTERM);
    EXPECT_EQ(receiver.wait(), 0);
    EXPECT_GE(receiver.final_figure("handshake_failures").value_or(0), 2u) << "the intruder and the plain sender\n"
                                                                          << receiver.output();
    EXPECT_EQ(receiver.final_figure("streams"), 1u);
}
