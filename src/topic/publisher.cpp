// Publisher: construction (validation, the first attachments, discovery), metadata, queries,
// close, and the public forwarding functions. Publishing itself is in fanout.cpp.
#include <system_error>

#include <fmt/format.h>

#include "core/log.h"
#include "topic/publisher_impl.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {
namespace {

void validate_options(const std::string& topic, const PublisherOptions& o) {
    if (o.write_timeout.count() <= 0) {
        throw InvalidArgumentException(
            fmt::format("topic '{}': write_timeout must be positive, got {} ms", topic, o.write_timeout.count()));
    }
    if (o.rescan_interval.count() <= 0) {
        throw InvalidArgumentException(
            fmt::format("topic '{}': rescan_interval must be positive, got {} ms", topic, o.rescan_interval.count()));
    }
    if (o.wait.spin.count() < 0 || o.wait.spin > std::chrono::seconds(1)) {
        throw InvalidArgumentException(
            fmt::format("topic '{}': wait.spin must be within [0, 1 s], got {} us", topic, o.wait.spin.count()));
    }
    if (o.wait.liveness_interval.count() <= 0) {
        throw InvalidArgumentException(fmt::format("topic '{}': wait.liveness_interval must be positive, got {} ms",
                                                   topic, o.wait.liveness_interval.count()));
    }
}

WriterOptions writer_options(const PublisherOptions& o) {
    WriterOptions w;
    w.write_timeout = o.write_timeout;
    w.prefault = o.prefault;
    w.wait = o.wait;
    w.peer_mode = o.peer_mode;
    return w;
}

}  // namespace

Publisher::Impl::Impl(std::string topic, PublisherOptions options)
    : block_(options.policy == SlowSubscriberPolicy::block),
      reservation_(::new (reservation_storage_) FrameReservation()),
      topic_(std::move(topic)),
      options_(std::move(options)),
      roster_(attention_, [this] { wakeup_.signal(); }) {
    validate_topic_name(topic_);
    validate_options(topic_, options_);
    discovery_.emplace(detail::DiscoverySettings{topic_, writer_options(options_), options_.rescan_interval,
                                                 options_.use_inotify, options_.on_subscriber_change},
                       roster_, wakeup_);
    open_.store(true, std::memory_order_release);
    discovery_->start();  // attaches to the subscribers there now, on this thread
    detail::log(LogLevel::info, "publisher of topic '{}' started ({} policy, {} subscriber(s) attached)", topic_,
                block_ ? "block" : "drop", roster_.count());
}

void Publisher::Impl::throw_closed() const {
    throw ObjectClosedException(fmt::format("publisher of topic '{}' is closed", topic_));
}

void Publisher::Impl::set_metadata(const void* data, std::size_t size) {
    ensure_open();
    if (size != 0 && data == nullptr) {
        throw InvalidArgumentException(fmt::format("topic '{}': metadata pointer is null", topic_));
    }
    roster_.set_metadata({static_cast<const std::byte*>(data), size}, topic_);
}

void Publisher::Impl::close() noexcept {
    if (!open_.exchange(false, std::memory_order_acq_rel)) return;
    if (discovery_) discovery_->stop();
    if (loan_ != nullptr) {
        reservation_->abandon();
        loan_->owner_ = nullptr;  // a loan that outlives this is invalid from now on
        loan_ = nullptr;
    }
    // Every subscriber sees its writer leave (WriterDeadException once it has read what it holds).
    for (auto& link : active_) link->writer.close();
    active_.clear();
    for (auto& link : roster_.take_all("the publisher closed")) link->writer.close();
    detail::log(LogLevel::info, "publisher of topic '{}' closed after {} frames", topic_,
                published_.load(std::memory_order_relaxed));
}

// ---- public forwarding (publish and acquire_frame: fanout.cpp) ----

namespace {
[[noreturn]] void throw_moved_from() { throw ObjectClosedException("publisher was moved from"); }
}  // namespace

Publisher::Publisher(std::string topic, PublisherOptions options) {
    try {
        impl_ = std::make_unique<Impl>(std::move(topic), std::move(options));
    } catch (const std::system_error& e) {
        throw SystemError(fmt::format("publisher: {}", e.what()), e.code());
    }
}
Publisher::~Publisher() = default;
Publisher::Publisher(Publisher&&) noexcept = default;
Publisher& Publisher::operator=(Publisher&&) noexcept = default;

void Publisher::set_metadata(std::span<const std::byte> metadata) { set_metadata(metadata.data(), metadata.size()); }
void Publisher::set_metadata(const void* data, std::size_t size) {
    if (!impl_) throw_moved_from();
    impl_->set_metadata(data, size);
}
std::size_t Publisher::subscriber_count() const {
    return impl_ && impl_->open_.load(std::memory_order_acquire) ? impl_->roster_.count() : 0;
}
bool Publisher::wait_for_subscribers(std::size_t n, std::chrono::milliseconds timeout) const {
    if (!impl_) throw_moved_from();
    if (timeout.count() < 0) {
        throw InvalidArgumentException(
            fmt::format("topic '{}': wait timeout must not be negative, got {} ms", impl_->topic_, timeout.count()));
    }
    impl_->ensure_open();
    return impl_->roster_.wait_for(n, timeout);
}
std::vector<SubscriberInfo> Publisher::subscribers() const {
    if (!impl_) return {};
    return impl_->roster_.snapshot();
}
std::uint64_t Publisher::frames_published() const noexcept {
    return impl_ ? impl_->published_.load(std::memory_order_relaxed) : 0;
}
const std::string& Publisher::topic() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->topic_ : empty;
}
void Publisher::close() noexcept {
    if (impl_) impl_->close();
}
bool Publisher::is_open() const noexcept { return impl_ && impl_->open_.load(std::memory_order_acquire); }

}  // namespace zerobuffer
