// Bad input: invalid topic names and IDs, a subscriber buffer name too long, T@ID names taken by
// something that is not a v1 buffer, metadata that does not fit a subscriber's block, metadata
// left by an earlier publisher, a second publisher. Each gets a clear error or report, and the
// publisher goes on serving the other subscribers.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "topic_test_util.h"

namespace zerobuffer::test::topics {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

// Checks that `publisher` serves `subscriber`: one frame, intact.
void expect_served(Publisher& publisher, Subscriber& subscriber, std::uint64_t k) {
    ASSERT_TRUE(publisher.wait_for_subscribers(1, 3s));
    EXPECT_GE(publisher.publish(make_frame(k, 256)), 1u);
    Frame f = subscriber.read_frame(2s);
    ASSERT_TRUE(f);
    EXPECT_EQ(frame_number(f.data()), k);
}

std::optional<SubscriberInfo> wait_for_state(const Publisher& p, const std::string& name, SubscriberState state) {
    std::optional<SubscriberInfo> found;
    eventually([&] {
        found = info_of(p, name);
        return found && found->state == state;
    }, 3s);
    return found;
}

// Creates /dev/shm/NAME with these bytes, as a program that is not ZeroBuffer might.
void create_segment(const std::string& name, std::span<const std::byte> content) {
    const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(content.size())), 0);
    if (!content.empty()) {
        ASSERT_EQ(::pwrite(fd, content.data(), content.size(), 0), static_cast<ssize_t>(content.size()));
    }
    ::close(fd);
}

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(TopicBadInput, InvalidTopicNamesAreRefusedClearly) {
    struct Case {
        std::string topic;
        const char* says;
    };
    const std::vector<Case> cases = {
        {"", "empty"},
        {"cam@0", "contains '@'"},
        {"a/b", "contains '/'"},
        {"sem.video", "sem."},
        {"..", "invalid topic name '..'"},
        {std::string(kMaxTopicNameLength + 1, 't'), "at most 243"},
        {std::string("nul\0in", 6), "NUL"},
    };
    for (const Case& c : cases) {
        std::string what = expect_throw<InvalidNameException>([&] { Publisher p(c.topic); });
        EXPECT_NE(what.find(c.says), std::string::npos) << "publisher: " << what;
        what = expect_throw<InvalidNameException>([&] { Subscriber s(c.topic, ring(4096)); });
        EXPECT_NE(what.find(c.says), std::string::npos) << "subscriber: " << what;
        what = expect_throw<InvalidNameException>([&] { validate_topic_name(c.topic); });
        EXPECT_NE(what.find(c.says), std::string::npos) << "validate_topic_name: " << what;
    }
}

TEST(TopicBadInput, ASubscriberBufferNameTooLongIsRefusedWithBothLengths) {
    TopicScope topics;
    std::string topic = topics.make("long");
    topic += std::string(240 - topic.size(), 'x');  // valid for a publisher (<= 243)...
    topics.adopt(topic);
    EXPECT_NO_THROW(Publisher p(topic));
    // ...but with the default ID ("<pid>-<n>-<8 hex>") the buffer name passes 245 characters.
    std::string what = expect_throw<InvalidNameException>([&] { Subscriber s(topic, ring(4096)); });
    EXPECT_NE(what.find("would be"), std::string::npos) << what;
    EXPECT_NE(what.find("the limit is 245"), std::string::npos) << what;
    what = expect_throw<InvalidNameException>([&] { Subscriber s(topic, ring(4096), "12345"); });
    EXPECT_NE(what.find("topic 240 + 1 + ID 5"), std::string::npos) << what;
    Subscriber fits(topic, ring(4096), "abcd");  // 240 + 1 + 4 = 245
    EXPECT_EQ(fits.buffer_name().size(), 245u);
    what = expect_throw<InvalidNameException>([&] { Subscriber s("topic", ring(4096), "a/b"); });
    EXPECT_NE(what.find("'/'"), std::string::npos) << what;
    EXPECT_EQ(topics.leftovers().size(), 4u) << "only the fitting subscriber's objects exist";
}

TEST(TopicBadInput, BuffersThatAreNotV1AreReportedAndLeftAloneWhileOthersAreServed) {
    TopicScope topics;
    const std::string topic = topics.make("not_v1");
    std::vector<std::byte> junk(4096);
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::byte>(splitmix64(1, i));
    create_segment(topic + "@junk", junk);     // another program's data
    create_segment(topic + "@empty", {});      // a 0-byte segment whose creator is gone
    const std::vector<char> before = file_bytes("/dev/shm/" + topic + "@junk");
    Subscriber good(topic, ring(64 * 1024), "good");

    Publisher publisher(topic);
    for (const char* id : {"@junk", "@empty"}) {
        const auto info = wait_for_state(publisher, topic + id, SubscriberState::invalid);
        ASSERT_TRUE(info) << id;
        EXPECT_EQ(info->state, SubscriberState::invalid) << id;
        EXPECT_NE(info->reason.find("not a ZeroBuffer v1 buffer"), std::string::npos) << info->reason;
    }
    expect_served(publisher, good, 1);
    EXPECT_EQ(publisher.subscriber_count(), 1u);
    // Left exactly as they were.
    EXPECT_EQ(file_bytes("/dev/shm/" + topic + "@junk"), before);
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/" + topic + "@empty"));
    // One appearing while the publisher runs is reported too.
    create_segment(topic + "@late_junk", junk);
    EXPECT_TRUE(wait_for_state(publisher, topic + "@late_junk", SubscriberState::invalid));
    expect_served(publisher, good, 2);
}

TEST(TopicBadInput, MetadataLargerThanASubscribersBlockMakesItIncompatibleOnly) {
    TopicScope topics;
    const std::string topic = topics.make("md_large");
    Subscriber small(topic, ring(64 * 1024, 64), "small");  // 64-byte metadata block
    Subscriber big(topic, ring(64 * 1024, 4096), "big");
    Publisher publisher(topic);
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 3s));
    const std::vector<std::byte> metadata = make_metadata(1000, 6);
    publisher.set_metadata(metadata);  // does not throw for one subscriber's block
    EXPECT_EQ(publisher.publish(make_frame(0, 100)), 1u);
    const auto info = info_of(publisher, small.buffer_name());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->state, SubscriberState::incompatible);
    EXPECT_NE(info->reason.find("does not fit the 64-byte metadata block"), std::string::npos) << info->reason;
    Frame f = big.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(frame_number(f.data()), 0u);
    EXPECT_TRUE(std::ranges::equal(big.metadata(), metadata));
    EXPECT_TRUE(small.metadata().empty());
    EXPECT_FALSE(small.try_read_frame());
    // A late joiner with a small block: the same, reported as it arrives.
    Subscriber late_small(topic, ring(64 * 1024, 0), "late_small");
    EXPECT_TRUE(wait_for_state(publisher, late_small.buffer_name(), SubscriberState::incompatible));
    EXPECT_EQ(publisher.publish(make_frame(1, 100)), 1u);
}

TEST(TopicBadInput, MetadataLeftByAnEarlierPublisherIsKeptIfIdenticalElseIncompatible) {
    TopicScope topics;
    const std::string topic = topics.make("md_left");
    Subscriber same(topic, ring(64 * 1024), "same");
    Subscriber other(topic, ring(64 * 1024), "other");
    Subscriber none(topic, ring(64 * 1024), "none");
    {
        Writer w(same.buffer_name());
        w.set_metadata(bytes_of("v1"));
    }
    {
        Writer w(other.buffer_name());
        w.set_metadata(bytes_of("v0"));
    }
    Publisher publisher(topic);
    ASSERT_TRUE(publisher.wait_for_subscribers(3, 3s));  // attached; metadata not judged yet
    publisher.set_metadata(bytes_of("v1"));
    EXPECT_EQ(publisher.publish(make_frame(0, 100)), 2u);
    EXPECT_EQ(info_of(publisher, same.buffer_name())->state, SubscriberState::active);
    EXPECT_EQ(info_of(publisher, none.buffer_name())->state, SubscriberState::active);
    const auto info = info_of(publisher, other.buffer_name());
    EXPECT_EQ(info->state, SubscriberState::incompatible);
    EXPECT_NE(info->reason.find("earlier publisher"), std::string::npos) << info->reason;
    for (Subscriber* s : {&same, &none}) {
        Frame f = s->read_frame(1s);
        ASSERT_TRUE(f);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(s->metadata().data()), s->metadata().size()), "v1");
    }

    // A publisher without metadata: a buffer holding some is incompatible at its first frame.
    publisher.close();
    Publisher bare(topic);
    EXPECT_EQ(bare.publish(make_frame(1, 100)), 0u);
    for (Subscriber* s : {&same, &other}) {
        const auto i = wait_for_state(bare, s->buffer_name(), SubscriberState::incompatible);
        ASSERT_TRUE(i);
        EXPECT_NE(i->reason.find("without metadata"), std::string::npos) << i->reason;
    }
}

TEST(TopicBadInput, ASecondPublisherIsRefusedPerSubscriberAndTakesOverWhenTheFirstLeaves) {
    TopicScope topics;
    const std::string topic = topics.make("two_publishers");
    Subscriber subscriber(topic, ring(64 * 1024), "s");
    auto first = std::make_unique<Publisher>(topic);
    ASSERT_TRUE(first->wait_for_subscribers(1, 3s));
    PublisherOptions options;
    options.rescan_interval = 100ms;
    Publisher second(topic, options);
    const auto busy = wait_for_state(second, subscriber.buffer_name(), SubscriberState::busy);
    ASSERT_TRUE(busy);
    EXPECT_NE(busy->reason.find("already has a live writer"), std::string::npos) << busy->reason;
    EXPECT_EQ(second.publish(make_frame(0, 64)), 0u);
    EXPECT_EQ(first->publish(make_frame(1, 64)), 1u);
    Frame f = subscriber.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(frame_number(f.data()), 1u);
    f.release();
    first.reset();
    expect_throw<WriterDeadException>([&] { (void)subscriber.read_frame(1s); });
    ASSERT_TRUE(second.wait_for_subscribers(1, 3s));
    EXPECT_EQ(second.publish(make_frame(2, 64)), 1u);
    f = subscriber.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(frame_number(f.data()), 2u);
    EXPECT_EQ(f.sequence(), 1u);
}

TEST(TopicBadInput, ARingTooSmallForAFrameDropsThatSubscriberUnderBlockAndCountsUnderDrop) {
    TopicScope topics;
    const std::string topic = topics.make("too_small");
    Subscriber tiny(topic, ring(1024), "tiny");
    Subscriber roomy(topic, ring(64 * 1024), "roomy");
    {
        PublisherOptions options;
        options.policy = SlowSubscriberPolicy::drop;
        Publisher publisher(topic, options);
        ASSERT_TRUE(publisher.wait_for_subscribers(2, 3s));
        EXPECT_EQ(publisher.publish(make_frame(0, 4000)), 1u);
        const auto info = info_of(publisher, tiny.buffer_name());
        EXPECT_EQ(info->state, SubscriberState::active);
        EXPECT_EQ(info->frames_dropped, 1u);
        EXPECT_EQ(publisher.publish(make_frame(1, 100)), 2u);
    }
    Publisher publisher(topic);  // block
    ASSERT_TRUE(publisher.wait_for_subscribers(2, 3s));
    EXPECT_EQ(publisher.publish(make_frame(2, 4000)), 1u);
    const auto info = info_of(publisher, tiny.buffer_name());
    EXPECT_EQ(info->state, SubscriberState::dropped);
    EXPECT_NE(info->reason.find("cannot hold a frame of 4000 bytes"), std::string::npos) << info->reason;
}

}  // namespace
}  // namespace zerobuffer::test::topics
