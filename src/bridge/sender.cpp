// Sender: the reader of a local buffer (or a subscriber of a local topic), sending every frame and the metadata to its receivers.
#include <cstring>
#include <optional>
#include <random>

#include "bridge/frame_pool.h"
#include "bridge/local_source.h"
#include "bridge/log.h"
#include "bridge/options.h"
#include "bridge/sender_peers.h"
#include "bridge/socket_setup.h"
#include "bridge/stats.h"
#include "bridge/wire.h"
#include "bridge/zmq_handles.h"
#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge {

namespace {

constexpr auto kPollSlice = std::chrono::milliseconds(100);
constexpr std::uint64_t kServiceEvery = 16;  // frames between two looks at the network while streaming

std::uint64_t new_stream_id() {
    std::random_device random;
    std::uint64_t id = 0;
    while (id == 0) id = (std::uint64_t(random()) << 32) ^ random();
    return id;
}

std::string checked_who(const std::string& name, const SenderOptions& options) {
    std::string who = detail::checked_local("sender", options.local, name);
    detail::validate(options.link, who);
    return who;
}

}  // namespace

class SenderImpl {
public:
    SenderImpl(std::string name, SenderOptions options)
        : name_(std::move(name)),
          options_(std::move(options)),
          who_(checked_who(name_, options_)),
          source_(detail::make_local_source(name_, options_)),
          router_(context_, ZMQ_ROUTER),
          peers_(router_.get(), stats_, options_.link.backpressure, who_, stop_),
          stream_(new_stream_id()) {
        detail::apply_link_options(router_, options_.link, detail::Role::sender, who_);
        router_.set(ZMQ_ROUTER_MANDATORY, 1, who_ + ": setting ZMQ_ROUTER_MANDATORY");
        router_.set(ZMQ_SNDTIMEO, static_cast<int>(kPollSlice.count()), who_ + ": setting ZMQ_SNDTIMEO");
        monitor_.emplace(context_, router_, who_);
        detail::attach_endpoints(router_, options_.link, who_);
        detail::log(LogLevel::info, "{}: stream {:016x}, {} endpoint(s), {} policy", who_, stream_,
                    options_.link.endpoints.size(), to_string(options_.link.backpressure));
    }

    void run();
    void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
    [[nodiscard]] BridgeStats stats() const noexcept { return stats_.snapshot(); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    void service_network();
    void wait_for_peer();
    void refresh_metadata();
    void send(Frame&& frame);
    void wait_for_local_writer(const std::exception& why);

    std::string name_;
    SenderOptions options_;
    std::string who_;
    std::atomic<bool> stop_{false};
    detail::StatsCounters stats_;
    // Destroyed in reverse: sockets, then the context (frames still queued are freed, and so
    // released, while it terminates), then the buffer, then the holders of lent frames.
    detail::FramePool pool_;
    std::unique_ptr<detail::LocalSource> source_;
    detail::Context context_;
    detail::Socket router_;
    std::optional<detail::Monitor> monitor_;
    detail::PeerSet peers_;
    std::uint64_t stream_;
    std::uint64_t sequence_ = 0;            // of the last frame taken from the local buffer
    std::vector<std::byte> metadata_;
    bool metadata_known_ = false;
};

void SenderImpl::service_network() {
    bool announced = false;
    for (;;) {
        detail::Message id;
        if (zmq_msg_recv(id.get(), router_.get(), ZMQ_DONTWAIT) < 0) break;
        std::size_t body_size = 0;
        std::size_t parts = 1;
        bool more = id.more();
        while (more) {
            detail::Message part;
            if (zmq_msg_recv(part.get(), router_.get(), 0) < 0) break;
            body_size += part.bytes().size();
            more = part.more();
            ++parts;
        }
        if (parts == 2 && body_size == 0) {  // the probe a receiver's DEALER sends on connecting
            peers_.add(id.bytes());
            announced = true;
        } else {
            stats_.rejected.add();
            detail::log(LogLevel::warn, "{}: ignored a message of {} part(s), {} bytes, from a peer", who_, parts, body_size);
        }
    }
    monitor_->drain([this](const detail::Monitor::Event& event) { stats_.on_link_event(event, who_); });
    if (announced) peers_.send_pending_metadata(metadata_, stream_, sequence_ + 1);
}

void SenderImpl::wait_for_peer() {
    zmq_pollitem_t items[] = {{router_.get(), 0, ZMQ_POLLIN, 0}, {monitor_->socket(), 0, ZMQ_POLLIN, 0}};
    zmq_poll(items, 2, static_cast<long>(kPollSlice.count()));
    service_network();
}

void SenderImpl::refresh_metadata() {
    if (metadata_known_) return;
    const std::span<const std::byte> metadata = source_->metadata();
    if (metadata.empty()) return;
    metadata_.assign(metadata.begin(), metadata.end());
    metadata_known_ = true;
    peers_.mark_metadata_stale();
    peers_.send_pending_metadata(metadata_, stream_, sequence_ + 1);
}

void SenderImpl::send(Frame&& frame) {
    const std::uint64_t sequence = ++sequence_;
    const std::size_t size = frame.size();
    const wire::HeaderBytes header = encode(wire::Header{wire::Kind::frame, stream_, sequence, size});
    detail::Message payload;
    if (options_.zero_copy) {
        detail::FramePool::Slot* slot = pool_.lend(std::move(frame));
        void* data = const_cast<std::byte*>(slot->frame.data().data());
        if (zmq_msg_init_data(payload.get(), data, size, &detail::FramePool::give_back, slot) != 0) {
            detail::FramePool::give_back(data, slot);
            detail::throw_zmq_error(who_ + ": zmq_msg_init_data");
        }
    } else {
        if (zmq_msg_init_size(payload.get(), size) != 0) detail::throw_zmq_error(who_ + ": zmq_msg_init_size");
        std::memcpy(zmq_msg_data(payload.get()), frame.data().data(), size);
        frame.release();
    }
    for (;;) {
        if (peers_.send_frame(stream_, sequence, header, payload.get(), metadata_) > 0) {
            stats_.frames.add();
            stats_.bytes.add(size);
            return;
        }
        if (options_.link.backpressure == Backpressure::drop) {
            if (peers_.empty()) stats_.dropped.add();
            return;
        }
        // block: nobody took it (every receiver is gone): keep it for the next one.
        while (peers_.empty()) {
            if (stop_.load(std::memory_order_relaxed)) return;
            wait_for_peer();
        }
    }
}

void SenderImpl::wait_for_local_writer(const std::exception& why) {
    stats_.local_peer_losses.add();
    detail::log(LogLevel::warn, "{}: {}; waiting for the next local writer", who_, why.what());
    while (!stop_.load(std::memory_order_relaxed)) {
        if (source_->wait_for_producer(kPollSlice)) return;
        service_network();
    }
}

void SenderImpl::run() {
    std::uint64_t since_service = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
        if (++since_service >= kServiceEvery) {
            since_service = 0;
            service_network();
        }
        if (options_.link.backpressure == Backpressure::block && peers_.empty()) {
            wait_for_peer();
            continue;
        }
        Frame frame;
        try {
            frame = source_->read_frame(kPollSlice);
        } catch (const WriterDeadException& e) {
            wait_for_local_writer(e);
            continue;
        } catch (const SequenceError& e) {
            detail::log(LogLevel::warn, "{}: {}", who_, e.what());
            continue;
        }
        refresh_metadata();
        if (!frame) {
            since_service = kServiceEvery;
            continue;
        }
        send(std::move(frame));
    }
}

Sender::Sender(std::string buffer_name, SenderOptions options)
    : impl_(std::make_unique<SenderImpl>(std::move(buffer_name), std::move(options))) {}
Sender::~Sender() = default;
Sender::Sender(Sender&&) noexcept = default;
Sender& Sender::operator=(Sender&&) noexcept = default;

void Sender::run() { detail::live(impl_, "bridge sender").run(); }
void Sender::request_stop() noexcept {
    if (impl_) impl_->request_stop();
}
BridgeStats Sender::stats() const { return detail::live(impl_, "bridge sender").stats(); }
const std::string& Sender::buffer_name() const { return detail::live(impl_, "bridge sender").name(); }

}  // namespace zerobuffer::bridge
