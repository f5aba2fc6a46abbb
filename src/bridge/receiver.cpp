// Receiver: takes bridge messages from the network, validates each, and writes frames and
// metadata into a local buffer as its writer (or publishes them on a local topic).
#include <optional>

#include "bridge/log.h"
#include "bridge/options.h"
#include "bridge/receiver_local.h"
#include "bridge/receiver_streams.h"
#include "bridge/socket_setup.h"
#include "bridge/stats.h"
#include "bridge/wire.h"
#include "bridge/zap_handler.h"
#include "bridge/zmq_handles.h"
#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge {

namespace {

constexpr auto kPollSlice = std::chrono::milliseconds(100);
constexpr int kBurst = 64;  // messages taken per wake-up before looking at the monitor again

std::string checked_who(const std::string& name, const ReceiverOptions& options) {
    std::string who = detail::checked_local("receiver", options.local, name);
    detail::validate(options.link, who);
    if (options.attach_retry.count() <= 0) {
        throw InvalidArgumentException(fmt::format("{}: attach retry must be > 0 ms (got {})", who, options.attach_retry.count()));
    }
    if (options.max_message_size == 0 || options.max_message_size > std::uint64_t(INT64_MAX)) {
        throw InvalidArgumentException(fmt::format("{}: max message size {} is out of range", who, options.max_message_size));
    }
    return who;
}

}  // namespace

class ReceiverImpl {
public:
    ReceiverImpl(std::string name, ReceiverOptions options)
        : name_(std::move(name)),
          options_(std::move(options)),
          who_(checked_who(name_, options_)),
          local_(detail::make_local_sink(name_, options_, stats_, who_)) {
        if (options_.link.curve && !options_.link.curve->allowed_client_keys.empty()) {
            zap_.emplace(context_, options_.link.curve->allowed_client_keys, who_);
        }
        dealer_ = detail::Socket(context_, ZMQ_DEALER);
        detail::apply_link_options(dealer_, options_.link, detail::Role::receiver, who_);
        dealer_.set(ZMQ_PROBE_ROUTER, 1, who_ + ": setting ZMQ_PROBE_ROUTER");
        const auto max_size = static_cast<std::int64_t>(options_.max_message_size + wire::kHeaderSize);
        if (zmq_setsockopt(dealer_.get(), ZMQ_MAXMSGSIZE, &max_size, sizeof max_size) != 0) {
            detail::throw_zmq_error(who_ + ": setting ZMQ_MAXMSGSIZE");
        }
        monitor_.emplace(context_, dealer_, who_);
        detail::attach_endpoints(dealer_, options_.link, who_);
    }

    void run();
    void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
    [[nodiscard]] BridgeStats stats() const noexcept { return stats_.snapshot(); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    bool receive_one();
    void handle(std::size_t parts, detail::Message& header, detail::Message& payload);
    void handle_frame(const wire::Header& header, std::span<const std::byte> payload);
    void account(const detail::StreamTable::Update& update, const wire::Header& header);
    void reject(std::string_view why, std::uint64_t size);

    std::string name_;
    ReceiverOptions options_;
    std::string who_;
    std::atomic<bool> stop_{false};
    detail::StatsCounters stats_;
    std::unique_ptr<detail::LocalSink> local_;
    detail::StreamTable streams_;
    detail::Context context_;
    std::optional<detail::ZapHandler> zap_;
    detail::Socket dealer_;
    std::optional<detail::Monitor> monitor_;
    std::chrono::steady_clock::time_point last_reject_log_{};
    std::uint64_t rejects_since_log_ = 0;
};

void ReceiverImpl::reject(std::string_view why, std::uint64_t size) {
    stats_.rejected.add();
    ++rejects_since_log_;
    // Logged at most once a second, with the count since the last line: a flood of garbage
    // must not become a flood of log lines.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_reject_log_ >= std::chrono::seconds(1)) {
        detail::log(LogLevel::warn, "{}: rejected {} message(s) from the network; latest: {} (size {})", who_,
                    rejects_since_log_, why, size);
        last_reject_log_ = now;
        rejects_since_log_ = 0;
    }
}

void ReceiverImpl::account(const detail::StreamTable::Update& update, const wire::Header& header) {
    if (update.joined) {
        stats_.streams.add();
        detail::log(LogLevel::info, "{}: stream {:016x} joined at sequence {}", who_, header.stream, header.sequence);
    }
    if (update.missing > 0) {
        stats_.gaps.add(update.missing);
        stats_.gap_events.add();
        detail::log(LogLevel::warn, "{}: stream {:016x}: {} frame(s) missing before sequence {}", who_, header.stream,
                    update.missing, header.sequence);
    }
}

void ReceiverImpl::handle_frame(const wire::Header& header, std::span<const std::byte> payload) {
    const detail::StreamTable::Update update = streams_.on_frame(header.stream, header.sequence);
    if (update.stale) {
        reject("a frame older than one already received", header.sequence);
        return;
    }
    account(update, header);
    switch (local_->write(payload, options_.link.backpressure, stop_)) {
        case detail::LocalSink::Result::written:
            stats_.frames.add();
            stats_.bytes.add(payload.size());
            return;
        case detail::LocalSink::Result::oversized:
            stats_.oversized.add();
            reject("a frame larger than the local ring can hold", payload.size());
            return;
        case detail::LocalSink::Result::dropped:
        case detail::LocalSink::Result::detached:
        case detail::LocalSink::Result::stopped:
            stats_.dropped.add();
            return;
    }
}

void ReceiverImpl::handle(std::size_t parts, detail::Message& header_part, detail::Message& payload) {
    wire::Header header;
    const wire::Verdict verdict = wire::decode(parts, header_part.bytes(), payload.bytes().size(), header);
    if (verdict != wire::Verdict::ok) {
        reject(wire::to_string(verdict), header_part.bytes().size() + payload.bytes().size());
        return;
    }
    if (header.kind == wire::Kind::metadata) {
        stats_.metadata_received.add();
        account(streams_.on_metadata(header.stream, header.sequence), header);
        if (!payload.bytes().empty()) local_->set_metadata(payload.bytes());
        return;
    }
    handle_frame(header, payload.bytes());
}

bool ReceiverImpl::receive_one() {
    detail::Message header;
    if (zmq_msg_recv(header.get(), dealer_.get(), ZMQ_DONTWAIT) < 0) return false;
    detail::Message payload;
    std::size_t parts = 1;
    bool more = header.more();
    if (more) {
        if (zmq_msg_recv(payload.get(), dealer_.get(), 0) >= 0) ++parts;
        more = payload.more();
    }
    while (more) {  // extra parts: drained, and the message is rejected
        detail::Message extra;
        if (zmq_msg_recv(extra.get(), dealer_.get(), 0) < 0) break;
        more = extra.more();
        ++parts;
    }
    handle(parts, header, payload);
    return true;
}

void ReceiverImpl::run() {
    std::vector<zmq_pollitem_t> items;
    while (!stop_.load(std::memory_order_relaxed)) {
        const bool attached = local_->try_attach();
        // block: without a local buffer nothing is taken from the network, so the senders wait;
        // drop: what arrives meanwhile is dropped and counted.
        const bool take = attached || options_.link.backpressure == Backpressure::drop;
        items.clear();
        items.push_back({monitor_->socket(), 0, ZMQ_POLLIN, 0});
        if (zap_) items.push_back({zap_->socket(), 0, ZMQ_POLLIN, 0});
        if (take) items.push_back({dealer_.get(), 0, ZMQ_POLLIN, 0});
        const auto wait = attached ? kPollSlice : std::min(kPollSlice, options_.attach_retry);
        if (zmq_poll(items.data(), static_cast<int>(items.size()), static_cast<long>(wait.count())) < 0 &&
            zmq_errno() != EINTR) {
            detail::throw_zmq_error(who_ + ": zmq_poll");
        }
        monitor_->drain([this](const detail::Monitor::Event& event) { stats_.on_link_event(event, who_); });
        if (zap_) (void)zap_->service();  // refusals also come back as monitor events (counted there)
        if (!take) continue;
        for (int i = 0; i < kBurst && !stop_.load(std::memory_order_relaxed) && receive_one(); ++i) {
        }
    }
}

Receiver::Receiver(std::string buffer_name, ReceiverOptions options)
    : impl_(std::make_unique<ReceiverImpl>(std::move(buffer_name), std::move(options))) {}
Receiver::~Receiver() = default;
Receiver::Receiver(Receiver&&) noexcept = default;
Receiver& Receiver::operator=(Receiver&&) noexcept = default;

void Receiver::run() { detail::live(impl_, "bridge receiver").run(); }
void Receiver::request_stop() noexcept {
    if (impl_) impl_->request_stop();
}
BridgeStats Receiver::stats() const { return detail::live(impl_, "bridge receiver").stats(); }
const std::string& Receiver::buffer_name() const { return detail::live(impl_, "bridge receiver").name(); }

}  // namespace zerobuffer::bridge
