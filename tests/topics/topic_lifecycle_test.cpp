// Lifecycles between processes: subscribers killed and restarted while the stream runs, a
// publisher killed and restarted, and dead subscribers' buffers reclaimed. The process that
// forks never runs a publisher (whose discovery thread a fork would copy mid-work): publishers
// run in children of their own.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

#include <signal.h>

#include "topic_test_util.h"

namespace zerobuffer::test::topics {
namespace {

struct PublisherReport {
    std::uint64_t published = 0;
    std::int64_t longest_publish_us = 0;
    std::uint64_t delivered[2] = {};   // to the two stable subscribers
    std::uint64_t dropped[2] = {};
    std::uint64_t known = 0;           // subscriber buffers it knew of at the end
    int status = 0;                    // 0 ok
};

void churn(SlowSubscriberPolicy policy) {
    const bool drop = policy == SlowSubscriberPolicy::drop;
    TopicScope topics;
    const std::string topic = topics.make(drop ? "churn_drop" : "churn_block");
    const Schedule sizes{8, 8192, 11};
    const std::vector<std::byte> metadata = make_metadata(200, 8);
    constexpr auto kWriteTimeout = 2s;
    constexpr int kCycles = 100;

    ResultPipe<ReadResult> stable_results;
    ResultPipe<PublisherReport> publisher_result;
    SharedFlag stop;
    Latch publishing;
    std::vector<Child> stable;
    for (const char* id : {"stable0", "stable1"}) {
        stable.emplace_back([&, id] {
            Subscriber s(topic, ring(drop ? 64 * 1024 * 1024 : 8 * 1024 * 1024), id);  // drop: never full
            ReadPlan plan;
            plan.sizes = sizes;
            plan.metadata = metadata;
            plan.timeout = 30s;
            stable_results.send(read_stream(s, plan));  // until the publisher leaves
            return 0;
        });
    }
    Child publisher([&] {
        PublisherOptions options;
        options.policy = policy;
        options.write_timeout = kWriteTimeout;
        options.rescan_interval = 200ms;
        Publisher p(topic, options);
        p.set_metadata(metadata);
        PublisherReport report;
        const bool both = eventually([&] {
            for (const char* id : {"@stable0", "@stable1"}) {
                const auto info = info_of(p, topic + id);
                if (!info || info->state != SubscriberState::active) return false;
            }
            return true;
        }, 20s);
        if (!both) return 5;
        publishing.signal();
        std::vector<std::byte> frame(sizes.max);
        std::chrono::microseconds longest{0};
        for (std::uint64_t k = 0; !stop.is_set(); ++k) {
            const std::size_t size = sizes.size(k);
            fill_frame({frame.data(), size}, k);
            const auto t0 = Clock::now();
            p.publish(frame.data(), size);
            longest = std::max(longest, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0));
            if (k % 8 == 7) std::this_thread::sleep_for(1ms);  // about 8,000 frames a second
        }
        report.published = p.frames_published();
        report.longest_publish_us = longest.count();
        const auto all = p.subscribers();
        report.known = all.size();
        for (int i = 0; i < 2; ++i) {
            const auto info = info_of(p, topic + (i == 0 ? "@stable0" : "@stable1"));
            if (!info || info->state != SubscriberState::active) report.status = 6;
            if (info) {
                report.delivered[i] = info->frames_delivered;
                report.dropped[i] = info->frames_dropped;
            }
        }
        publisher_result.send(report);
        return 0;
    });

    ASSERT_TRUE(publishing.wait(30s));
    // Subscribers killed at random moments: before, while and after they create their buffer,
    // and after their first frame; half of them come back under the same ID.
    int killed_after_a_frame = 0;
    int temporaries = 0;  // glibc sem_open temporaries of subscribers killed inside sem_open
    for (int i = 0; i < kCycles; ++i) {
        const std::uint64_t r = splitmix64(99, static_cast<std::uint64_t>(i));
        std::string id = i % 2 == 0 ? "again" : "churn";
        if (i % 2 != 0) id += std::to_string(i);
        Latch got_frame;
        Child churner([&] {
            Subscriber s(topic, ring(256 * 1024), id);
            bool signalled = false;
            for (;;) {
                try {
                    Frame f = s.read_frame(5s);
                    if (f && !signalled) {
                        got_frame.signal();
                        signalled = true;
                    }
                } catch (const WriterDeadException&) {
                }
            }
            return 0;
        });
        if (r % 4 == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(r % 3000));
        } else if (got_frame.wait(5s)) {
            ++killed_after_a_frame;
            std::this_thread::sleep_for(std::chrono::milliseconds((r >> 8) % 20));  // reads a while
        }
        temporaries += kill_and_clean(churner);
        ASSERT_FALSE(churner.running()) << "cycle " << i;
    }
    EXPECT_GT(killed_after_a_frame, kCycles / 2);

    // The publisher reclaims every dead subscriber's buffer while it runs.
    const auto churn_left = [&] {
        auto left = topics.leftovers();
        std::erase_if(left, [](const std::string& p) { return p.find("@stable") != std::string::npos; });
        return left;
    };
    EXPECT_TRUE(eventually([&] { return churn_left().empty(); }, 10s)) << "not reclaimed: " << churn_left().size()
                                                                          << " objects, first " << churn_left().front();
    stop.set();
    const auto report = publisher_result.receive(60s);
    ASSERT_TRUE(report);
    EXPECT_EQ(report->status, 0);
    std::printf("churn (%s policy): %d subscribers killed (%d after a frame, %d inside sem_open), %llu frames "
                "published, longest publish %.1f ms (write timeout %lld ms), %llu buffers known at the end\n",
                drop ? "drop" : "block", kCycles, killed_after_a_frame, temporaries, static_cast<unsigned long long>(report->published),
                static_cast<double>(report->longest_publish_us) / 1000.0, static_cast<long long>(std::chrono::milliseconds(kWriteTimeout).count()),
                static_cast<unsigned long long>(report->known));
    // block: a publish may wait for a subscriber up to the write timeout, never longer; drop:
    // it never waits (what remains is the scheduler's doing on a busy machine).
    EXPECT_LT(report->longest_publish_us, drop ? 500'000 : std::chrono::microseconds(kWriteTimeout).count());
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(report->delivered[i], report->published);
        EXPECT_EQ(report->dropped[i], 0u);
    }
    for (int i = 0; i < 2; ++i) {
        const auto r = stable_results.receive(60s);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->frames, report->published) << describe(*r);
        EXPECT_EQ(r->first, 0u) << describe(*r);
        EXPECT_EQ(r->last + 1, report->published) << describe(*r);
        EXPECT_EQ(r->bad, 0u) << describe(*r);
        EXPECT_EQ(r->departures, 1u) << describe(*r);
        EXPECT_TRUE(r->metadata_ok) << describe(*r);
    }
    EXPECT_EQ(publisher.wait(30s), 0);
    for (auto& child : stable) EXPECT_EQ(child.wait(30s), 0);
    EXPECT_TRUE(eventually([&] { return topics.leftovers().empty(); }, 5s));
}

TEST(TopicLifecycle, ChurnOfHundredKilledSubscribersUnderBlockLosesTheOthersNothingAndLeavesNothing) {
    churn(SlowSubscriberPolicy::block);
}

TEST(TopicLifecycle, ChurnOfHundredKilledSubscribersUnderDropLosesTheOthersNothingAndLeavesNothing) {
    churn(SlowSubscriberPolicy::drop);
}

TEST(TopicLifecycle, PublisherKilledAndRestartedSubscribersSeeTheDeathWithin250msThenTheNewFrames) {
    TopicScope topics;
    const std::string topic = topics.make("restart");
    const Schedule sizes{8, 2048, 5};
    const std::vector<std::byte> metadata = make_metadata(100, 3);
    constexpr std::uint64_t kSecond = 1'000'000;  // the second publisher's first frame number

    ResultPipe<ReadResult> b_results;
    Child b([&] {
        Subscriber s(topic, ring(4 * 1024 * 1024), "b");
        ReadPlan plan;
        plan.sizes = sizes;
        plan.metadata = metadata;
        b_results.send(read_stream(s, plan));  // until the first publisher's death
        plan.until = kSecond + 499;
        b_results.send(read_stream(s, plan));  // the second publisher's frames
        return 0;
    });
    Subscriber a(topic, ring(4 * 1024 * 1024), "a");
    auto run_publisher = [&](std::uint64_t first, std::uint64_t count) {
        return [&, first, count] {
            Publisher p(topic);
            p.set_metadata(metadata);
            if (!p.wait_for_subscribers(2, 10s)) return 5;
            publish_stream(p, sizes, first, count, 1ms);
            return 0;
        };
    };

    Child first(run_publisher(0, 1'000'000));  // killed long before its end
    ReadPlan plan;
    plan.sizes = sizes;
    plan.metadata = metadata;
    plan.max_frames = 200;
    const ReadResult before = read_stream(a, plan);
    ASSERT_EQ(before.frames, 200u) << describe(before);
    ASSERT_EQ(before.bad, 0u) << describe(before);
    const std::int64_t killed_us = now_us();
    first.kill_hard();
    ASSERT_TRUE(first.wait(5s));

    plan.max_frames = UINT64_MAX;
    const ReadResult rest = read_stream(a, plan);  // what it had written, then its death
    EXPECT_EQ(rest.bad, 0u) << describe(rest);
    ASSERT_EQ(rest.departures, 1u) << describe(rest);
    const auto b_before = b_results.receive(30s);
    ASSERT_TRUE(b_before);
    ASSERT_EQ(b_before->departures, 1u) << describe(*b_before);
    EXPECT_EQ(b_before->bad, 0u) << describe(*b_before);
    const double a_ms = static_cast<double>(rest.departure_us - killed_us) / 1000.0;
    const double b_ms = static_cast<double>(b_before->departure_us - killed_us) / 1000.0;
    std::printf("publisher SIGKILLed: subscribers reported its death after %.1f ms and %.1f ms\n", a_ms, b_ms);
    EXPECT_LT(a_ms, 250.0);
    EXPECT_LT(b_ms, 250.0);

    // A new publisher with the same metadata: taken up as a new writer (sequence 1).
    Child second(run_publisher(kSecond, 500));
    plan.until = kSecond + 499;
    const ReadResult after = read_stream(a, plan);
    EXPECT_EQ(after.frames, 500u) << describe(after);
    EXPECT_EQ(after.first, kSecond) << describe(after);
    EXPECT_EQ(after.first_sequence, 1u) << describe(after);
    EXPECT_EQ(after.bad, 0u) << describe(after);
    EXPECT_TRUE(after.metadata_ok) << describe(after);
    const auto b_after = b_results.receive(30s);
    ASSERT_TRUE(b_after);
    EXPECT_EQ(b_after->frames, 500u) << describe(*b_after);
    EXPECT_EQ(b_after->first, kSecond) << describe(*b_after);
    EXPECT_EQ(b_after->first_sequence, 1u) << describe(*b_after);
    EXPECT_EQ(b_after->bad, 0u) << describe(*b_after);
    EXPECT_EQ(second.wait(30s), 0);
    EXPECT_EQ(b.wait(10s), 0);

    // A third one with other metadata finds a's buffer holding the old metadata: incompatible,
    // reported, skipped.
    Child third([&] {
        Publisher p(topic);
        p.set_metadata(make_metadata(100, 4));
        const bool reported = eventually([&] {
            const auto info = info_of(p, topic + "@a");
            return info && info->state == SubscriberState::incompatible &&
                   info->reason.find("metadata") != std::string::npos;
        }, 5s);
        const std::size_t got = p.publish(make_frame(7, 64));
        return reported && got == 0 ? 0 : 7;
    });
    EXPECT_EQ(third.wait(30s), 0);
    EXPECT_FALSE(a.try_read_frame());
}

TEST(TopicLifecycle, DeadSubscribersBufferIsReclaimedWhileThePublisherIsIdle) {
    TopicScope topics;
    const std::string topic = topics.make("idle_reclaim");
    Latch subscribe, subscribed;
    Child subscriber([&] {
        if (!subscribe.wait(30s)) return 5;
        Subscriber s(topic, ring(64 * 1024), "victim");
        subscribed.signal();
        ::pause();
        return 0;
    });
    Child publisher([&] {
        Publisher p(topic);
        subscribe.signal();
        if (!p.wait_for_subscribers(1, 10s)) return 5;
        subscribed.signal();
        // Idle from here on: no publish. The kill is noticed and the buffer reclaimed anyway.
        if (!eventually([&] { return p.subscriber_count() == 0; }, 5s)) return 6;
        const auto info = info_of(p, topic + "@victim");
        if (!info || info->state != SubscriberState::gone) return 7;
        return eventually([&] { return !std::filesystem::exists("/dev/shm/" + topic + "@victim"); }, 5s) ? 0 : 8;
    });
    ASSERT_TRUE(subscribed.wait(20s));
    ASSERT_TRUE(subscribed.wait(20s));
    subscriber.kill_hard();
    ASSERT_TRUE(subscriber.wait(5s));
    EXPECT_EQ(publisher.wait(30s), 0);
    EXPECT_TRUE(eventually([&] { return topics.leftovers().empty(); }, 5s));
}

}  // namespace
}  // namespace zerobuffer::test::topics
