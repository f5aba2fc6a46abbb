#include "topic/topic_names.h"

#include <atomic>
#include <random>

#include <fmt/format.h>

#include "core/names.h"
#include "platform/posix/process.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/topic.h"

namespace zerobuffer {

void validate_topic_name(std::string_view topic) {
    detail::validate_name(topic, "topic name");
    if (topic.find(kTopicSeparator) != std::string_view::npos) {
        throw InvalidNameException(fmt::format(
            "invalid topic name '{}': it contains '{}', which separates the topic from the subscriber ID in the "
            "names of its buffers (TOPIC{}ID)",
            topic, kTopicSeparator, kTopicSeparator));
    }
    if (topic.size() > kMaxTopicNameLength) {
        throw InvalidNameException(fmt::format(
            "invalid topic name '{}...': {} characters; a subscriber buffer name (TOPIC{}ID) is at most {} "
            "characters, so a topic name is at most {} (room for '{}' and a one-character ID)",
            topic.substr(0, 32), topic.size(), kTopicSeparator, protocol::kMaxNameLength, kMaxTopicNameLength,
            kTopicSeparator));
    }
}

std::string subscriber_buffer_name(std::string_view topic, std::string_view id) {
    validate_topic_name(topic);
    if (id.empty()) throw InvalidNameException(fmt::format("invalid subscriber ID for topic '{}': it is empty", topic));
    const std::size_t length = topic.size() + 1 + id.size();
    if (length > protocol::kMaxNameLength) {
        throw InvalidNameException(fmt::format(
            "subscriber buffer name for topic '{}' and ID '{}' would be {} characters (topic {} + 1 + ID {}); the "
            "limit is {}: use a shorter topic name or ID",
            topic.substr(0, 32), id.substr(0, 32), length, topic.size(), id.size(), protocol::kMaxNameLength));
    }
    std::string name = detail::topic_prefix(topic);
    name += id;
    detail::validate_name(name, "subscriber buffer name");  // '/' or NUL in the ID
    return name;
}

const char* to_string(SubscriberState state) noexcept {
    switch (state) {
        case SubscriberState::active: return "active";
        case SubscriberState::dropped: return "dropped";
        case SubscriberState::gone: return "gone";
        case SubscriberState::incompatible: return "incompatible";
        case SubscriberState::busy: return "busy";
        case SubscriberState::invalid: return "invalid";
    }
    return "unknown";
}

namespace detail {

std::string topic_prefix(std::string_view topic) {
    std::string prefix(topic);
    prefix += kTopicSeparator;
    return prefix;
}

std::string_view subscriber_id_of(std::string_view prefix, std::string_view buffer_name) noexcept {
    if (buffer_name.size() <= prefix.size() || !buffer_name.starts_with(prefix)) return {};
    return buffer_name.substr(prefix.size());
}

std::string default_subscriber_id() {
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937 random{std::random_device{}()};
    return fmt::format("{}-{}-{:08x}", posix::current_pid(), counter.fetch_add(1), static_cast<std::uint32_t>(random()));
}

}  // namespace detail
}  // namespace zerobuffer
