// The receiver's topic side: it publishes what arrives on topic T (docs/topics.md), with the
// metadata set before the first publish; and make_local_sink.
#include <algorithm>
#include <optional>

#include "bridge/log.h"
#include "bridge/receiver_local.h"
#include "zerobuffer/topic.h"

namespace zerobuffer::bridge::detail {
namespace {

class TopicSink final : public LocalSink {
public:
    TopicSink(const std::string& topic, const ReceiverOptions& options, StatsCounters& stats, std::string who)
        : publisher_(topic, publisher_options(options)), stats_(stats), who_(std::move(who)) {}

    // Attached while the topic has a subscriber: block takes nothing from the network before
    // the first one is there (the senders wait); drop takes it and counts it dropped.
    bool try_attach() override {
        const bool attached = publisher_.subscriber_count() > 0;
        if (attached_ == attached) return attached;
        if (attached_.value_or(false)) stats_.local_peer_losses.add();
        attached_ = attached;
        stats_.local_attached.store(attached, std::memory_order_relaxed);
        if (attached) log(LogLevel::info, "{}: publishing to {} subscriber(s)", who_, publisher_.subscriber_count());
        else log(LogLevel::info, "{}: no subscriber; waiting for one", who_);
        return attached;
    }

    void set_metadata(std::span<const std::byte> metadata) override {
        if (metadata_set_) {
            if (!std::equal(metadata.begin(), metadata.end(), metadata_.begin(), metadata_.end())) {
                log(LogLevel::warn, "{}: a sender's metadata ({} bytes) differs from the topic's; kept the first", who_,
                    metadata.size());
            }
            return;
        }
        if (published_) {
            log(LogLevel::warn, "{}: metadata arrived after the first frame; a topic's metadata is set before it", who_);
            return;
        }
        publisher_.set_metadata(metadata);
        metadata_.assign(metadata.begin(), metadata.end());
        metadata_set_ = true;
    }

    // The publisher applies the policy per subscriber: block waits for a full one up to the
    // write timeout, then leaves it until it has caught up; drop never waits (docs/topics.md).
    Result write(std::span<const std::byte> payload, Backpressure, const std::atomic<bool>&) override {
        published_ = true;
        return publisher_.publish(payload) > 0 ? Result::written : Result::dropped;
    }

private:
    static PublisherOptions publisher_options(const ReceiverOptions& options) {
        PublisherOptions p;
        p.policy = options.link.backpressure == Backpressure::block ? SlowSubscriberPolicy::block : SlowSubscriberPolicy::drop;
        p.write_timeout = options.writer.write_timeout;
        p.wait = options.writer.wait;
        p.prefault = options.writer.prefault;
        p.peer_mode = options.writer.peer_mode;
        return p;
    }

    Publisher publisher_;
    StatsCounters& stats_;
    std::string who_;
    std::vector<std::byte> metadata_;
    bool metadata_set_ = false;
    bool published_ = false;
    std::optional<bool> attached_;  // as last seen by try_attach
};

}  // namespace

std::unique_ptr<LocalSink> make_local_sink(const std::string& name, const ReceiverOptions& options, StatsCounters& stats,
                                           const std::string& who) {
    if (options.local == LocalKind::topic) return std::make_unique<TopicSink>(name, options, stats, who);
    return std::make_unique<BufferSink>(name, options.writer, stats, who);
}

}  // namespace zerobuffer::bridge::detail
