// Real bridge processes between two hosts (network namespaces joined by a veth pair, or the
// loopback): every frame arrives whole, with its metadata first; restarts of either end.
#include <signal.h>

#include <iostream>

#include "bridge_harness.h"

using namespace zbbridge_test;

namespace {

constexpr std::size_t kRing = 64 * 1024 * 1024;

std::vector<std::string> send_args(const std::string& buffer, const std::string& to, const std::string& policy = "block") {
    return {"send", "--from", "buffer:" + buffer, "--to", to, "--policy", policy, "--ring-size", "64M", "--json"};
}

std::vector<std::string> recv_args(const std::string& buffer, int port, const std::string& policy = "block") {
    return {"recv", "--listen", "tcp://*:" + std::to_string(port), "--to", "buffer:" + buffer, "--policy", policy, "--json"};
}

}  // namespace

TEST(BridgeStream, RandomSizesFrom1ByteTo3110400ArriveWholeInOrderWithMetadataFirst) {
    Hosts hosts;
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("random-sizes");
    constexpr std::uint64_t kFrames = 10'000;
    Consumer consumer(out, kRing, Sizes::full, metadata);
    BridgeProcess receiver(recv_args(out, hosts.port()), hosts.ns_b());
    BridgeProcess sender(send_args(in, hosts.endpoint_b()), hosts.ns_a());
    auto producer = start_producer({in, 0, kFrames, Sizes::full, metadata});

    ASSERT_TRUE(consumer.read_until(kFrames, 150s)) << "got " << consumer.indices().size() << "\n"
                                                     << sender.output() << receiver.output();
    EXPECT_EQ(producer.wait(10s), 0);
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.metadata_missing(), 0u);
    stop_cleanly(sender);
    stop_cleanly(receiver);
    EXPECT_EQ(sender.final_figure("frames"), kFrames);
    EXPECT_EQ(sender.final_figure("dropped"), 0u);
    EXPECT_EQ(receiver.final_figure("frames"), kFrames);
    EXPECT_EQ(receiver.final_figure("gaps"), 0u);
    EXPECT_EQ(receiver.final_figure("rejected"), 0u);
    EXPECT_TRUE(leftovers_of(in).empty()) << "the sender left its buffer behind";
}

TEST(BridgeStream, ReceiverKilledAndRestartedTheSenderReconnectsAndTheGapIsExact) {
    Hosts hosts;
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("receiver-restart");
    constexpr std::uint64_t kFrames = 6000;
    Consumer consumer(out, 8 << 20, Sizes::small, metadata);
    auto receiver = std::make_unique<BridgeProcess>(recv_args(out, hosts.port()), hosts.ns_b());
    BridgeProcess sender(send_args(in, hosts.endpoint_b()), hosts.ns_a());
    auto producer = start_producer({in, 0, kFrames, Sizes::small, metadata, 300us});
    ASSERT_TRUE(consumer.read_until(1500, 30s));

    const pid_t worker = receiver->worker_pid();
    ASSERT_GT(worker, 0);
    ASSERT_EQ(::kill(worker, SIGKILL), 0);
    EXPECT_EQ(receiver->wait(10s), 128 + SIGKILL);
    consumer.drain(300ms);  // what the killed receiver wrote is still in the ring
    const std::uint64_t last_before = consumer.indices().back();
    const std::size_t before = consumer.indices().size();
    receiver = std::make_unique<BridgeProcess>(recv_args(out, hosts.port()), hosts.ns_b());
    ASSERT_TRUE(consumer.read_until_last(kFrames - 1, 60s)) << sender.output() << receiver->output();
    EXPECT_EQ(producer.wait(10s), 0);

    const auto& got = consumer.indices();
    const std::uint64_t first_after = got[before];
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.metadata_missing(), 0u);
    for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(got[i - 1], got[i]) << "out of order or twice at " << i;
    // One gap, where the receiver died: the frames in flight to it. The new receiver reports
    // where it joined the stream (sequence = index + 1), which is exactly where the gap ends.
    EXPECT_EQ(consumer.missing(), first_after - last_before - 1);
    EXPECT_TRUE(receiver->wait_for_output("joined at sequence " + std::to_string(first_after + 1), 2s)) << receiver->output();
    std::cout << "[ bridge   ] receiver killed after index " << last_before << ", the new one joined at index "
              << first_after << ": " << consumer.missing() << " frame(s) lost in flight\n";
    stop_cleanly(sender);
    stop_cleanly(*receiver);
    EXPECT_EQ(sender.final_figure("frames"), kFrames) << "block: the sender skips nothing";
    EXPECT_GE(sender.final_figure("reconnects").value_or(0), 1u);
    EXPECT_EQ(receiver->final_figure("gaps"), 0u);
    EXPECT_EQ(receiver->final_figure("streams"), 1u);
}

TEST(BridgeStream, SenderKilledAndRestartedTheReceiverGoesOnAndNothingIsLeftBehind) {
    Hosts hosts;
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("sender-restart");
    constexpr std::uint64_t kFrames = 4000;
    Consumer consumer(out, 8 << 20, Sizes::small, metadata);
    BridgeProcess receiver(recv_args(out, hosts.port()), hosts.ns_b());
    auto sender = std::make_unique<BridgeProcess>(send_args(in, hosts.endpoint_b()), hosts.ns_a());
    ProducerPlan plan{in, 0, kFrames, Sizes::small, metadata, 300us};
    plan.survive_reader_loss = true;
    auto producer = start_producer(plan);
    ASSERT_TRUE(consumer.read_until(1000, 30s));

    const pid_t worker = sender->worker_pid();
    ASSERT_GT(worker, 0);
    ASSERT_EQ(::kill(worker, SIGKILL), 0);
    EXPECT_EQ(sender->wait(10s), 128 + SIGKILL);
    EXPECT_TRUE(leftovers_of(in).empty()) << "the killed sender's buffer is still there";
    sender = std::make_unique<BridgeProcess>(send_args(in, hosts.endpoint_b()), hosts.ns_a());
    ASSERT_TRUE(consumer.read_until_last(kFrames - 1, 60s)) << sender->output() << receiver.output();
    EXPECT_EQ(producer.wait(10s), 0);

    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.metadata_missing(), 0u);
    EXPECT_EQ(consumer.writer_changes(), 0u) << "the receiver was never replaced";
    const auto& got = consumer.indices();
    for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(got[i - 1], got[i]) << "out of order or twice at " << i;
    stop_cleanly(*sender);
    stop_cleanly(receiver);
    EXPECT_EQ(receiver.final_figure("streams"), 2u) << "the restarted sender is a new stream";
    EXPECT_EQ(receiver.final_figure("gaps"), 0u);
    EXPECT_EQ(receiver.final_figure("frames"), got.size());
    EXPECT_TRUE(leftovers_of(in).empty());
}

TEST(BridgeStream, OneSenderToTwoReceiversAndTwoSendersToOneReceiver) {
    Hosts hosts;  // fan-out and fan-in use host B's loopback as well: several ports
    const std::string in = unique_buffer("in"), out1 = unique_buffer("out1"), out2 = unique_buffer("out2");
    const auto metadata = test_metadata("topologies");
    Consumer first(out1, 8 << 20, Sizes::small, metadata), second(out2, 8 << 20, Sizes::small, metadata);
    const int port2 = hosts.namespaces() ? hosts.port() + 1 : hosts.port() + 7;
    BridgeProcess receiver1(recv_args(out1, hosts.port()), hosts.ns_b());
    BridgeProcess receiver2(recv_args(out2, port2), hosts.ns_b());
    const std::string second_endpoint = "tcp://" + hosts.address_b() + ":" + std::to_string(port2);
    BridgeProcess sender(send_args(in, hosts.endpoint_b() + "," + second_endpoint), hosts.ns_a());
    // block waits for one receiver, not for all: a receiver that comes later joins mid-stream.
    ASSERT_TRUE(sender.wait_for_output("announced itself (2 now)")) << sender.output();
    auto producer = start_producer({in, 0, 500, Sizes::small, metadata});
    ASSERT_TRUE(first.read_until(500, 30s)) << sender.output();
    ASSERT_TRUE(second.read_until(500, 30s)) << second.indices().size() << " frames\n" << receiver2.output();
    EXPECT_EQ(producer.wait(10s), 0);
    EXPECT_EQ(first.bad_frames() + second.bad_frames(), 0u);
    EXPECT_EQ(first.missing() + second.missing(), 0u);

    // Two senders (one copying instead of zero-copy) into receiver 1.
    const std::string in2 = unique_buffer("in2");
    auto args = send_args(in2, hosts.endpoint_b());
    args.push_back("--copy");
    BridgeProcess sender2(args, hosts.ns_a());
    auto producer2 = start_producer({in2, 100'000, 300, Sizes::small, metadata});
    auto producer3 = start_producer({in, 500, 300, Sizes::small, metadata});
    ASSERT_TRUE(first.read_until(1100, 30s)) << sender2.output() << receiver1.output();
    EXPECT_EQ(producer2.wait(10s), 0);
    EXPECT_EQ(producer3.wait(10s), 0);
    EXPECT_EQ(first.bad_frames(), 0u);
    std::vector<std::uint64_t> a, b;
    for (const auto k : first.indices()) (k >= 100'000 ? b : a).push_back(k);
    ASSERT_EQ(a.size(), 800u);
    ASSERT_EQ(b.size(), 300u);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], i);
    for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(b[i], 100'000 + i);
    stop_cleanly(sender2);
    stop_cleanly(sender);
    stop_cleanly(receiver1);
    stop_cleanly(receiver2);
    EXPECT_EQ(receiver1.final_figure("streams"), 2u);
    EXPECT_EQ(receiver1.final_figure("gaps"), 0u);
}
