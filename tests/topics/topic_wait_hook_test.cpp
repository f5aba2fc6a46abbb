// PublisherOptions::on_wait: under the block policy a publish, a loan or a loan's commit that
// must wait for a full subscriber calls the hook before waiting and about every 50 ms while it
// waits; an exception from the hook ends the call cleanly (the subscribers served before keep the
// frame, nothing is left pending) and the publisher goes on.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "topic_test_util.h"

namespace zerobuffer::test::topics {
namespace {

struct Stop : std::runtime_error {
    Stop() : std::runtime_error("stop waiting") {}
};

// A hook that counts its calls and throws Stop from call number `throw_at` on (0: never).
struct Hook {
    std::atomic<int> calls{0};
    std::atomic<int> throw_at{0};
    PublisherOptions options(std::chrono::milliseconds write_timeout = 60s) {
        PublisherOptions o;
        o.write_timeout = write_timeout;
        o.on_wait = [this] {
            const int n = ++calls;
            if (throw_at.load() != 0 && n >= throw_at.load()) throw Stop();
        };
        return o;
    }
};

// Publishes 1000-byte frames until a publish would wait (for the 4 KiB ring that fills); that
// publish is interrupted by the hook. Leaves the hook counting from 0, never throwing.
void fill(Publisher& publisher, Hook& hook) {
    hook.calls = 0;
    hook.throw_at = 1;
    for (std::uint64_t k = 0; k < 16; ++k) {
        try {
            publisher.publish(make_frame(k, 1000));
        } catch (const Stop&) {
            break;
        }
    }
    ASSERT_EQ(hook.calls.load(), 1) << "no publish had to wait";
    hook.calls = 0;
    hook.throw_at = 0;
}

// Reads and releases everything `subscriber` holds.
void drain(Subscriber& subscriber) {
    for (Frame f = subscriber.try_read_frame(); f; f = subscriber.try_read_frame()) f.release();
}

TEST(TopicWaitHook, CalledInSlicesAndItsExceptionEndsThePublish) {
    TopicScope topics;
    const std::string topic = topics.make("hook");
    Hook hook;
    Publisher publisher(topic, hook.options());
    Subscriber roomy(topic, ring(1 << 20), "a");
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 2s));  // attached first: served first
    Subscriber full(topic, ring(4096), "b");
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 2s));
    fill(publisher, hook);
    const std::uint64_t published = publisher.frames_published();
    const auto delivered_a = info_of(publisher, topic + "@a")->frames_delivered;

    // The first call comes before any wait, then one per slice: four calls mean three slices
    // waited, and the exception of the fourth ends the publish long before the write timeout
    // (had the timeout come first, 'b' would be dropped).
    hook.throw_at = 4;
    EXPECT_THROW(publisher.publish(make_frame(99, 1000)), Stop);
    EXPECT_EQ(hook.calls.load(), 4);
    EXPECT_EQ(publisher.frames_published(), published);
    EXPECT_EQ(info_of(publisher, topic + "@a")->frames_delivered, delivered_a + 1);  // served before 'b'
    EXPECT_EQ(info_of(publisher, topic + "@b")->state, SubscriberState::active);
    EXPECT_EQ(info_of(publisher, topic + "@b")->frames_dropped, 0u);

    // The ring of 'b' drains: the publisher carries on, to both.
    hook.throw_at = 0;
    drain(full);
    EXPECT_EQ(publisher.publish(make_frame(100, 1000)), 2u);
    PublishLoan loan = publisher.acquire_frame(1000);
    std::fill(loan.data().begin(), loan.data().end(), std::byte{7});
    EXPECT_EQ(loan.commit(), 2u);
}

TEST(TopicWaitHook, ACommitThatWaitsCanBeInterruptedAndTheLoanIsOver) {
    TopicScope topics;
    const std::string topic = topics.make("hook_commit");
    Hook hook;
    Publisher publisher(topic, hook.options());
    Subscriber roomy(topic, ring(1 << 20), "a");
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 2s));
    Subscriber full(topic, ring(4096), "b");
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 2s));
    fill(publisher, hook);
    const std::uint64_t published = publisher.frames_published();
    const auto delivered_a = info_of(publisher, topic + "@a")->frames_delivered;
    const auto delivered_b = info_of(publisher, topic + "@b")->frames_delivered;
    hook.throw_at = 2;
    PublishLoan loan = publisher.acquire_frame(1000);  // in the ring of 'a', which has room
    EXPECT_EQ(hook.calls.load(), 0);
    EXPECT_THROW(loan.commit(), Stop);  // the copy into 'b' waits
    EXPECT_EQ(hook.calls.load(), 2);
    EXPECT_FALSE(loan.valid());
    EXPECT_EQ(publisher.frames_published(), published);
    EXPECT_EQ(info_of(publisher, topic + "@a")->frames_delivered, delivered_a + 1);  // committed there
    EXPECT_EQ(info_of(publisher, topic + "@b")->frames_delivered, delivered_b);
    EXPECT_EQ(info_of(publisher, topic + "@b")->state, SubscriberState::active);
    EXPECT_THROW(loan.commit(), UsageException);
    hook.throw_at = 0;
    drain(full);
    EXPECT_EQ(publisher.publish(make_frame(7, 500)), 2u);
}

TEST(TopicWaitHook, ALoanThatWaitsCanBeInterruptedAndNoneIsPending) {
    TopicScope topics;
    const std::string topic = topics.make("hook_loan");
    Hook hook;
    Publisher publisher(topic, hook.options());
    Subscriber full(topic, ring(4096), "b");
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 2s));
    fill(publisher, hook);
    hook.throw_at = 3;
    EXPECT_THROW((void)publisher.acquire_frame(1000), Stop);
    EXPECT_EQ(hook.calls.load(), 3);
    hook.throw_at = 0;
    drain(full);
    EXPECT_EQ(publisher.publish(make_frame(8, 1000)), 1u);  // no loan is pending
    PublishLoan loan = publisher.acquire_frame(1000);
    EXPECT_TRUE(loan.valid());
    loan.abandon();
}

TEST(TopicWaitHook, WithoutAnExceptionTheWriteTimeoutStillDropsTheSubscriber) {
    TopicScope topics;
    const std::string topic = topics.make("hook_timeout");
    Hook hook;
    Publisher publisher(topic, hook.options(300ms));
    Subscriber full(topic, ring(4096), "b");
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 2s));
    fill(publisher, hook);
    EXPECT_EQ(publisher.publish(make_frame(1, 1000)), 0u);
    EXPECT_GE(hook.calls.load(), 1);  // called before waiting (how often after: a matter of time)
    const auto b = info_of(publisher, topic + "@b");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->state, SubscriberState::dropped);
    EXPECT_NE(b->reason.find("300 ms"), std::string::npos) << b->reason;
}

}  // namespace
}  // namespace zerobuffer::test::topics
