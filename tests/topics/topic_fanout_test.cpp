// Fan-out between processes: every subscriber gets every frame, in order, with the metadata;
// late joiners get the metadata and then every later frame. Subscribers are forked children
// (forked before the publisher, which runs a thread, exists); the publisher is this process.
#include <gtest/gtest.h>

#include <vector>

#include "topic_test_util.h"

namespace zerobuffer::test::topics {
namespace {

TEST(TopicFanout, ThreeSubscribersGetTenThousandRandomFramesInOrder) {
    TopicScope topics;
    const std::string topic = topics.make("fanout3");
    const Schedule sizes{8, 64 * 1024, 20261204};
    const std::vector<std::byte> metadata = make_metadata(300, 5);
    constexpr std::uint64_t kFrames = 10'000;

    ResultPipe<ReadResult> results;
    std::vector<Child> subscribers;
    for (const char* id : {"cpp0", "cpp1", "cpp2"}) {
        subscribers.emplace_back([&, id] {
            Subscriber s(topic, ring(1024 * 1024), id);
            ReadPlan plan;
            plan.sizes = sizes;
            plan.metadata = metadata;
            plan.until = kFrames - 1;
            results.send(read_stream(s, plan));
            return 0;
        });
    }
    Publisher publisher(topic);
    publisher.set_metadata(metadata);
    ASSERT_TRUE(publisher.wait_for_subscribers(3, 10s));
    publish_stream(publisher, sizes, 0, kFrames);
    for (int i = 0; i < 3; ++i) {
        const auto r = results.receive(60s);
        ASSERT_TRUE(r) << "a subscriber reported nothing";
        EXPECT_EQ(r->frames, kFrames) << describe(*r);
        EXPECT_EQ(r->first, 0u) << describe(*r);
        EXPECT_EQ(r->last, kFrames - 1) << describe(*r);
        EXPECT_EQ(r->bad, 0u) << describe(*r);
        EXPECT_TRUE(r->metadata_ok) << describe(*r);
    }
    for (auto& child : subscribers) EXPECT_EQ(child.wait(10s), 0);
    for (const char* id : {"cpp0", "cpp1", "cpp2"}) {
        const auto info = info_of(publisher, topic + "@" + id);
        ASSERT_TRUE(info);
        EXPECT_EQ(info->frames_delivered, kFrames);
        EXPECT_EQ(info->frames_dropped, 0u);
    }
    publisher.close();
    EXPECT_TRUE(eventually([&] { return topics.leftovers().empty(); }, 3s));
}

TEST(TopicFanout, ZeroCopyLoansReachThreeSubscribersInOrder) {
    TopicScope topics;
    const std::string topic = topics.make("fanout_loans");
    const Schedule sizes{8, 200'000, 77};
    const std::vector<std::byte> metadata = make_metadata(64, 9);
    constexpr std::uint64_t kFrames = 2'000;

    ResultPipe<ReadResult> results;
    std::vector<Child> subscribers;
    for (const char* id : {"z0", "z1", "z2"}) {
        subscribers.emplace_back([&, id] {
            Subscriber s(topic, ring(2 * 1024 * 1024), id);
            ReadPlan plan;
            plan.sizes = sizes;
            plan.metadata = metadata;
            plan.until = kFrames - 1;
            results.send(read_stream(s, plan));
            return 0;
        });
    }
    Publisher publisher(topic);
    publisher.set_metadata(metadata);
    ASSERT_TRUE(publisher.wait_for_subscribers(3, 10s));
    for (std::uint64_t k = 0; k < kFrames; ++k) {
        PublishLoan loan = publisher.acquire_frame(sizes.size(k));
        fill_frame(loan.data(), k);
        ASSERT_EQ(loan.commit(), 3u) << "frame " << k;
    }
    for (int i = 0; i < 3; ++i) {
        const auto r = results.receive(60s);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->frames, kFrames) << describe(*r);
        EXPECT_EQ(r->bad, 0u) << describe(*r);
        EXPECT_TRUE(r->metadata_ok) << describe(*r);
    }
    for (auto& child : subscribers) EXPECT_EQ(child.wait(10s), 0);
}

TEST(TopicFanout, LateJoinerGetsTheMetadataAndThenEveryLaterFrame) {
    TopicScope topics;
    const std::string topic = topics.make("late");
    const Schedule sizes{8, 4096, 3};
    const std::vector<std::byte> metadata = make_metadata(1000, 1);
    constexpr std::uint64_t kBefore = 1'000;
    constexpr std::uint64_t kFrames = 4'000;

    ResultPipe<ReadResult> results;
    Latch join;
    ReadPlan plan;
    plan.sizes = sizes;
    plan.metadata = metadata;
    plan.until = kFrames - 1;
    Child early([&] {
        Subscriber s(topic, ring(1024 * 1024), "early");
        results.send(read_stream(s, plan));
        return 0;
    });
    Child late([&] {
        if (!join.wait(30s)) return 5;
        Subscriber s(topic, ring(1024 * 1024), "late");
        results.send(read_stream(s, plan));
        return 0;
    });
    Publisher publisher(topic);
    publisher.set_metadata(metadata);
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 10s));
    publish_stream(publisher, sizes, 0, kBefore, 200us);
    join.signal();
    publish_stream(publisher, sizes, kBefore, kFrames - kBefore, 200us);

    std::optional<ReadResult> early_result, late_result;
    for (int i = 0; i < 2; ++i) {
        const auto r = results.receive(60s);
        ASSERT_TRUE(r);
        (r->first == 0 ? early_result : late_result) = r;
    }
    ASSERT_TRUE(early_result && late_result);
    EXPECT_EQ(early_result->frames, kFrames) << describe(*early_result);
    EXPECT_EQ(early_result->bad, 0u) << describe(*early_result);
    // The late one: the metadata before its first frame, then every frame to the end, no gap.
    EXPECT_TRUE(late_result->metadata_ok) << describe(*late_result);
    EXPECT_EQ(late_result->bad, 0u) << describe(*late_result);
    EXPECT_GE(late_result->first, kBefore) << describe(*late_result);
    EXPECT_EQ(late_result->last, kFrames - 1) << describe(*late_result);
    EXPECT_EQ(late_result->frames, kFrames - late_result->first) << describe(*late_result);
    const double joined_ms = static_cast<double>(late_result->first_frame_us - late_result->subscribed_us) / 1000.0;
    std::printf("late joiner: subscribed while frame %llu was due, first frame %.2f ms later (frames every 0.2 ms)\n",
                static_cast<unsigned long long>(late_result->first), joined_ms);
    EXPECT_LT(joined_ms, 100.0) << "discovery took too long";
    const auto info = info_of(publisher, topic + "@late");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->frames_delivered, late_result->frames);
    EXPECT_EQ(early.wait(10s), 0);
    EXPECT_EQ(late.wait(10s), 0);
}

}  // namespace
}  // namespace zerobuffer::test::topics
