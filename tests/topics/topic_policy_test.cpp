// Slow subscribers. drop: a stalled subscriber neither slows the publisher nor the others, and
// its drop count is exact. block: a slow subscriber paces the publisher; one that stalls is
// dropped after the write timeout and reported, then taken back once it has caught up.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "topic_test_util.h"

namespace zerobuffer::test::topics {
namespace {

struct Changes {
    std::mutex mutex;
    std::vector<SubscriberInfo> seen;
    void hook(PublisherOptions& o) {
        o.on_subscriber_change = [this](const SubscriberInfo& s) {
            std::lock_guard lock(mutex);
            seen.push_back(s);
        };
    }
    std::optional<SubscriberInfo> last(const std::string& name, SubscriberState state) {
        std::lock_guard lock(mutex);
        for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
            if (it->buffer_name == name && it->state == state) return *it;
        }
        return std::nullopt;
    }
};

template <class D>
double ms(D d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

TEST(TopicPolicy, DropStalledSubscriberSlowsNobodyAndItsDropCountIsExact) {
    TopicScope topics;
    const std::string topic = topics.make("drop");
    const Schedule sizes{1024, 1024, 0};
    const std::vector<std::byte> metadata = make_metadata(32, 2);
    constexpr std::uint64_t kPhase = 5'000;

    ResultPipe<ReadResult> results;
    Latch subscribe, resume;
    Child fast([&] {
        Subscriber s(topic, ring(32 * 1024 * 1024), "fast");  // holds the whole run: never full
        ReadPlan plan;
        plan.sizes = sizes;
        plan.metadata = metadata;
        plan.until = 2 * kPhase - 1;
        results.send(read_stream(s, plan));
        return 0;
    });
    Child stalled([&] {
        if (!subscribe.wait(30s)) return 5;
        Subscriber s(topic, ring(64 * 1024), "stalled");  // about 60 frames
        if (!resume.wait(60s)) return 6;                    // reads nothing until the end
        ReadPlan plan;
        plan.sizes = sizes;
        plan.metadata = metadata;
        plan.contiguous = false;  // it missed frames; those it got are in order
        plan.timeout = 5s;
        results.send(read_stream(s, plan));  // until the publisher's departure
        return 0;
    });

    PublisherOptions options;
    options.policy = SlowSubscriberPolicy::drop;
    options.write_timeout = 1s;  // never used under drop: a wait would show as a 1 s publish
    Publisher publisher(topic, options);
    publisher.set_metadata(metadata);
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 10s));
    auto t0 = Clock::now();
    const auto longest_alone = publish_stream(publisher, sizes, 0, kPhase);
    const auto alone = Clock::now() - t0;

    subscribe.signal();
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 10s));
    t0 = Clock::now();
    const auto longest_stalled = publish_stream(publisher, sizes, kPhase, kPhase);
    const auto with_stalled = Clock::now() - t0;
    std::printf("drop policy, %llu frames of 1 KiB: %.1f ms with the fast subscriber alone (longest publish %.3f ms), "
                "%.1f ms with a stalled one as well (longest %.3f ms)\n",
                static_cast<unsigned long long>(kPhase), ms(alone), ms(longest_alone), ms(with_stalled),
                ms(longest_stalled));
    // Waiting for it would take the write timeout (1 s here); anything shorter is the scheduler.
    EXPECT_LT(longest_stalled, 500ms) << "a publish waited for the stalled subscriber";
    EXPECT_LT(with_stalled, 3 * alone + 200ms) << "the stalled subscriber slowed the publisher";

    const auto info = info_of(publisher, topic + "@stalled");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->state, SubscriberState::active);
    EXPECT_EQ(info->frames_delivered + info->frames_dropped, kPhase) << "every frame delivered or counted as dropped";
    EXPECT_GT(info->frames_dropped, kPhase / 2);
    const auto fast_info = info_of(publisher, topic + "@fast");
    ASSERT_TRUE(fast_info);
    EXPECT_EQ(fast_info->frames_delivered, 2 * kPhase);
    EXPECT_EQ(fast_info->frames_dropped, 0u);
    publisher.close();
    resume.signal();

    std::optional<ReadResult> fast_result, stalled_result;
    for (int i = 0; i < 2; ++i) {
        const auto r = results.receive(60s);
        ASSERT_TRUE(r);
        (r->first == 0 ? fast_result : stalled_result) = r;
    }
    ASSERT_TRUE(fast_result && stalled_result);
    EXPECT_EQ(fast_result->frames, 2 * kPhase) << describe(*fast_result);
    EXPECT_EQ(fast_result->bad, 0u) << describe(*fast_result);
    // Exactly the frames the publisher counted as delivered, intact, in order, then the departure.
    EXPECT_EQ(stalled_result->frames, info->frames_delivered) << describe(*stalled_result);
    EXPECT_EQ(stalled_result->bad, 0u) << describe(*stalled_result);
    EXPECT_EQ(stalled_result->departures, 1u) << describe(*stalled_result);
    EXPECT_GE(stalled_result->first, kPhase) << describe(*stalled_result);
    EXPECT_TRUE(stalled_result->metadata_ok) << describe(*stalled_result);
    EXPECT_EQ(fast.wait(10s), 0);
    EXPECT_EQ(stalled.wait(10s), 0);
}

TEST(TopicPolicy, BlockSlowSubscriberPacesThePublisherAndAStalledOneIsDroppedThenTakenBack) {
    TopicScope topics;
    const std::string topic = topics.make("block");
    const Schedule sizes{1024, 1024, 0};
    const std::vector<std::byte> metadata = make_metadata(16, 4);
    constexpr std::uint64_t kPaced = 300;
    constexpr auto kTimeout = 300ms;

    ResultPipe<ReadResult> results;
    Latch resume;
    Child fast([&] {
        Subscriber s(topic, ring(16 * 1024 * 1024), "fast");
        ReadPlan plan;
        plan.sizes = sizes;
        plan.metadata = metadata;
        plan.stop_at_departure = true;
        results.send(read_stream(s, plan));
        return 0;
    });
    Child slow([&] {
        Subscriber s(topic, ring(64 * 1024), "slow");  // about 60 frames
        ReadPlan plan;
        plan.sizes = sizes;
        plan.metadata = metadata;
        plan.max_frames = kPaced;
        plan.delay = 2ms;  // 1. reads slowly: paces the publisher
        results.send(read_stream(s, plan));
        if (!resume.wait(60s)) return 5;  // 2. stalls: dropped after the write timeout
        plan.max_frames = UINT64_MAX;
        plan.delay = 0ms;
        plan.timeout = 5s;
        results.send(read_stream(s, plan));  // 3. what its ring held, then the departure
        plan.contiguous = true;
        plan.timeout = 10s;
        results.send(read_stream(s, plan));  // 4. taken back: a new writer, sequence 1, to the end
        return 0;
    });

    Changes changes;
    PublisherOptions options;
    options.policy = SlowSubscriberPolicy::block;
    options.write_timeout = kTimeout;
    changes.hook(options);
    Publisher publisher(topic, options);
    publisher.set_metadata(metadata);
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 10s));

    auto t0 = Clock::now();
    publish_stream(publisher, sizes, 0, kPaced);
    const auto paced = Clock::now() - t0;
    std::printf("block policy: %llu frames to a subscriber reading one per 2 ms through a 60-frame ring took %.0f ms\n",
                static_cast<unsigned long long>(kPaced), ms(paced));
    EXPECT_GE(paced, 350ms) << "the slow subscriber did not pace the publisher";
    const auto paced_result = results.receive(30s);
    ASSERT_TRUE(paced_result);
    EXPECT_EQ(paced_result->frames, kPaced) << describe(*paced_result);
    EXPECT_EQ(paced_result->bad, 0u) << describe(*paced_result);

    // It stalls now: its ring fills, one publish waits the write timeout, then it is dropped.
    std::uint64_t k = kPaced;
    std::chrono::microseconds longest{0};
    while (k < kPaced + 200 && longest < kTimeout) longest = std::max(longest, publish_stream(publisher, sizes, k++, 1));
    std::printf("block policy: the publish that met the stalled subscriber took %.1f ms (write timeout %lld ms)\n",
                ms(longest), static_cast<long long>(kTimeout.count()));
    EXPECT_GE(longest, kTimeout - 10ms);
    EXPECT_LT(longest, kTimeout + 500ms);
    ASSERT_TRUE(eventually([&] { return changes.last(topic + "@slow", SubscriberState::dropped).has_value(); }, 2s));
    const auto dropped = info_of(publisher, topic + "@slow");
    ASSERT_TRUE(dropped);
    EXPECT_EQ(dropped->state, SubscriberState::dropped);
    EXPECT_NE(dropped->reason.find("write timeout"), std::string::npos) << dropped->reason;
    EXPECT_EQ(publisher.subscriber_count(), 1u);
    const auto after = publish_stream(publisher, sizes, k, 100);  // nobody holds it up any more
    k += 100;
    EXPECT_LT(after, kTimeout / 2) << "the dropped subscriber still holds publishes up";

    // It reads what its ring holds, sees the departure, and is taken back once drained.
    resume.signal();
    const auto held = results.receive(30s);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->bad, 0u) << describe(*held);
    EXPECT_EQ(held->departures, 1u) << describe(*held);
    EXPECT_EQ(paced_result->frames + held->frames, dropped->frames_delivered) << describe(*held);
    bool back = false;
    for (int i = 0; i < 1000 && !back; ++i) {
        publish_stream(publisher, sizes, k++, 1, 5ms);
        const auto now = info_of(publisher, topic + "@slow");
        back = now && now->state == SubscriberState::active;
    }
    ASSERT_TRUE(back) << "the dropped subscriber was not taken back";
    const std::uint64_t rejoined_at = k;
    publish_stream(publisher, sizes, k, 50);
    k += 50;
    publisher.close();
    std::optional<ReadResult> rejoined, fast_result;
    for (int i = 0; i < 2; ++i) {
        const auto r = results.receive(30s);
        ASSERT_TRUE(r);
        (r->first == 0 ? fast_result : rejoined) = r;
    }
    ASSERT_TRUE(rejoined && fast_result);
    EXPECT_EQ(rejoined->bad, 0u) << describe(*rejoined);
    EXPECT_GE(rejoined->frames, 50u) << describe(*rejoined);
    EXPECT_EQ(rejoined->last, k - 1) << describe(*rejoined);
    EXPECT_LE(rejoined->first, rejoined_at) << describe(*rejoined);
    EXPECT_EQ(fast_result->frames, k) << describe(*fast_result);
    EXPECT_EQ(fast_result->bad, 0u) << describe(*fast_result);
    EXPECT_EQ(fast.wait(10s), 0);
    EXPECT_EQ(slow.wait(10s), 0);
}

}  // namespace
}  // namespace zerobuffer::test::topics
