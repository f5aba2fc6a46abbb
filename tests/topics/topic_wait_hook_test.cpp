// PublisherOptions::on_wait: under the block policy a publish, a loan or a loan's commit that
// must wait for a full subscriber calls the hook before waiting and about every 50 ms while it
// waits; an exception from the hook ends the call cleanly (the subscribers served before keep the
// frame, nothing is left pending) and the publisher goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
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

// A publisher with the hook and its subscribers: 'a' with room for everything (only in
// start_two: attached first, so served first) and 'b', whose 4 KiB ring fill() leaves full.
class TopicWaitHook : public ::testing::Test {
protected:
    void start_one(const char* base, std::chrono::milliseconds write_timeout = 60s) {
        topic_ = topics_.make(base);
        publisher_.emplace(topic_, hook_.options(write_timeout));
        full_.emplace(topic_, ring(4096), "b");
        ASSERT_TRUE(publisher_->wait_for_subscribers(1, 2s));
        fill(*publisher_, hook_);
    }

    void start_two(const char* base) {
        topic_ = topics_.make(base);
        publisher_.emplace(topic_, hook_.options());
        roomy_.emplace(topic_, ring(1 << 20), "a");
        ASSERT_TRUE(publisher_->wait_for_subscribers(1, 2s));
        full_.emplace(topic_, ring(4096), "b");
        ASSERT_TRUE(publisher_->wait_for_subscribers(2, 2s));
        fill(*publisher_, hook_);
        published_ = publisher_->frames_published();
        delivered_a_ = info("a").frames_delivered;
        delivered_b_ = info("b").frames_delivered;
    }

    SubscriberInfo info(const std::string& id) const {
        const auto found = info_of(*publisher_, topic_ + "@" + id);
        EXPECT_TRUE(found) << id;
        return found.value_or(SubscriberInfo{});
    }

    // After a call the hook interrupted while it waited for 'b': 'a' got the frame, 'b' did not
    // and is still active, nothing was dropped or counted as published.
    void expect_only_a_got_it() const {
        EXPECT_EQ(publisher_->frames_published(), published_);
        EXPECT_EQ(info("a").frames_delivered, delivered_a_ + 1);
        EXPECT_EQ(info("b").frames_delivered, delivered_b_);
        EXPECT_EQ(info("b").state, SubscriberState::active);
        EXPECT_EQ(info("b").frames_dropped, 0u);
    }

    TopicScope topics_;
    Hook hook_;
    std::string topic_;
    std::optional<Publisher> publisher_;  // destroyed before the hook it calls
    std::optional<Subscriber> roomy_;
    std::optional<Subscriber> full_;
    std::uint64_t published_ = 0;
    std::uint64_t delivered_a_ = 0;
    std::uint64_t delivered_b_ = 0;
};

TEST_F(TopicWaitHook, CalledInSlicesAndItsExceptionEndsThePublish) {
    ASSERT_NO_FATAL_FAILURE(start_two("hook"));
    // The first call comes before any wait, then one per slice: four calls mean three slices
    // waited, and the exception of the fourth ends the publish long before the write timeout
    // (had the timeout come first, 'b' would be dropped).
    hook_.throw_at = 4;
    EXPECT_THROW(publisher_->publish(make_frame(99, 1000)), Stop);
    EXPECT_EQ(hook_.calls.load(), 4);
    expect_only_a_got_it();

    // The ring of 'b' drains: the publisher carries on, to both.
    hook_.throw_at = 0;
    drain(*full_);
    EXPECT_EQ(publisher_->publish(make_frame(100, 1000)), 2u);
    PublishLoan loan = publisher_->acquire_frame(1000);
    std::fill(loan.data().begin(), loan.data().end(), std::byte{7});
    EXPECT_EQ(loan.commit(), 2u);
}

TEST_F(TopicWaitHook, ACommitThatWaitsCanBeInterruptedAndTheLoanIsOver) {
    ASSERT_NO_FATAL_FAILURE(start_two("hook_commit"));
    hook_.throw_at = 2;
    PublishLoan loan = publisher_->acquire_frame(1000);  // in the ring of 'a', which has room
    EXPECT_EQ(hook_.calls.load(), 0);
    EXPECT_THROW(loan.commit(), Stop);  // the copy into 'b' waits
    EXPECT_EQ(hook_.calls.load(), 2);
    EXPECT_FALSE(loan.valid());
    expect_only_a_got_it();  // committed in the ring of 'a'
    EXPECT_THROW(loan.commit(), UsageException);
    hook_.throw_at = 0;
    drain(*full_);
    EXPECT_EQ(publisher_->publish(make_frame(7, 500)), 2u);
}

TEST_F(TopicWaitHook, ALoanThatWaitsCanBeInterruptedAndNoneIsPending) {
    ASSERT_NO_FATAL_FAILURE(start_one("hook_loan"));
    hook_.throw_at = 3;
    EXPECT_THROW((void)publisher_->acquire_frame(1000), Stop);
    EXPECT_EQ(hook_.calls.load(), 3);
    hook_.throw_at = 0;
    drain(*full_);
    EXPECT_EQ(publisher_->publish(make_frame(8, 1000)), 1u);  // no loan is pending
    PublishLoan loan = publisher_->acquire_frame(1000);
    EXPECT_TRUE(loan.valid());
    loan.abandon();
}

TEST_F(TopicWaitHook, WithoutAnExceptionTheWriteTimeoutStillDropsTheSubscriber) {
    ASSERT_NO_FATAL_FAILURE(start_one("hook_timeout", 300ms));
    EXPECT_EQ(publisher_->publish(make_frame(1, 1000)), 0u);
    EXPECT_GE(hook_.calls.load(), 1);  // called before waiting (how often after: a matter of time)
    EXPECT_EQ(info("b").state, SubscriberState::dropped);
    EXPECT_NE(info("b").reason.find("300 ms"), std::string::npos) << info("b").reason;
}

}  // namespace
}  // namespace zerobuffer::test::topics
