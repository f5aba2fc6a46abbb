// Duplex client: sending (copied or zero-copy), receiving, metadata and the public forwarding.
// See client_impl.h for the threads and client_connection.cpp for (re)connecting.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/names.h"
#include "duplex/client_impl.h"

namespace zerobuffer {

using detail::DuplexClock;

namespace {

// Slice of receive_response between server liveness checks (the core reader checks the
// response writer on its own in its liveness interval).
constexpr std::chrono::milliseconds kReceiveSlice{50};

}  // namespace

void DuplexClient::Impl::ensure_open() const {
    if (!is_open()) throw ObjectClosedException(fmt::format("duplex client of channel '{}' is closed", channel_));
}

void DuplexClient::Impl::ensure_nothing_pending() const {
    if (pending_frame_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': a request buffer is pending; commit or abandon it first", channel_));
    }
}

// Runs a write attempt; if the request buffer turns out to be closed by its server (ReaderDead)
// and nothing is waiting for an answer, reconnects and tries once more.
template <class F>
auto DuplexClient::Impl::with_reconnect(F&& attempt) -> decltype(attempt()) {
    prepare_send();
    try {
        return attempt();
    } catch (const ReaderDeadException&) {
        if (pending_.load() != 0) throw_lost_on_send("closed the request buffer");
        lose_connection();
        connect();
        return attempt();
    }
}

std::uint64_t DuplexClient::Impl::send(std::span<const std::byte> data) {
    ensure_open();
    ensure_nothing_pending();
    if (data.empty()) {
        throw InvalidFrameSizeException(fmt::format(
            "duplex channel '{}': a request must not be empty (zero-length frames are invalid on the wire)", channel_));
    }
    const std::uint64_t sequence = with_reconnect([&] { return request_->write_frame(data); });
    pending_.fetch_add(1, std::memory_order_relaxed);
    ++sent_in_connection_;
    last_contact_ = DuplexClock::now();
    return sequence;
}

std::span<std::byte> DuplexClient::Impl::acquire(std::size_t size) {
    ensure_open();
    ensure_nothing_pending();
    if (size == 0) {
        throw InvalidFrameSizeException(fmt::format(
            "duplex channel '{}': a request must not be empty (zero-length frames are invalid on the wire)", channel_));
    }
    pending_frame_ = with_reconnect([&] { return request_->acquire_frame(size); });
    return pending_frame_.data();
}

std::uint64_t DuplexClient::Impl::commit() {
    ensure_open();
    if (!pending_frame_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': commit without a pending request buffer (acquire_request first)", channel_));
    }
    // From here nothing is pending any more, whatever the commit does: a failed commit must not
    // block the next send.
    FrameReservation frame = std::move(pending_frame_);
    drop_pending_frame();
    std::uint64_t sequence = 0;
    try {
        sequence = frame.commit();
    } catch (const ReaderDeadException&) {
        throw_lost_on_send("closed the request buffer");  // the next send reconnects
    }
    pending_.fetch_add(1, std::memory_order_relaxed);
    ++sent_in_connection_;
    last_contact_ = DuplexClock::now();
    return sequence;
}

void DuplexClient::Impl::abandon() noexcept { drop_pending_frame(); }

Frame DuplexClient::Impl::receive(std::chrono::milliseconds timeout) {
    ensure_open();
    detail::validate_timeout(channel_, timeout, "receive_response timeout");
    const auto deadline = detail::deadline_in(timeout);
    const auto ended = [&](const char* how) -> WriterDeadException {
        const std::uint64_t unanswered = pending_.load();
        lose_connection();
        return WriterDeadException(fmt::format(
            "duplex channel '{}': the server {}; every response it wrote has been received and {} request(s) "
            "remain unanswered (their responses are lost). The next send reconnects.",
            channel_, how, unanswered));
    };
    const auto take = [&](Frame frame) {
        const std::uint64_t p = pending_.load(std::memory_order_relaxed);
        if (p != 0) pending_.store(p - 1, std::memory_order_relaxed);
        last_contact_ = DuplexClock::now();
        return frame;
    };
    if (!response_) throw ended("is gone");
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - DuplexClock::now());
        const auto slice = std::clamp(left, std::chrono::milliseconds(1), kReceiveSlice);
        Frame frame;
        try {
            frame = response_->read_frame(slice);
        } catch (const WriterDeadException&) {
            throw ended(state_.load() == State::lost ? "is gone" : "closed the connection or died");
        }
        if (frame) return take(std::move(frame));
        // Nothing yet: the core reader has checked the response writer; check the request side too
        // (a server that died before attaching, or that dropped this client).
        if (state_.load() == State::lost || !request_ || !request_->is_reader_connected()) {
            Frame last = response_->read_frame(std::chrono::milliseconds(1));  // one that raced the check
            if (last) return take(std::move(last));
            throw ended(state_.load() == State::lost ? "is gone" : "closed the request buffer or died");
        }
        if (DuplexClock::now() >= deadline) return Frame{};
    }
}

void DuplexClient::Impl::set_metadata(std::span<const std::byte> metadata) {
    ensure_open();
    if (sent_in_connection_ != 0 || pending_frame_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': set_metadata() after {} request(s) were sent; metadata must precede the first "
            "request of a connection",
            channel_, sent_in_connection_ + (pending_frame_ ? 1 : 0)));
    }
    if (state_.load() == State::connected && request_) {
        if (request_->metadata_written()) {
            throw MetadataAlreadyWrittenException(fmt::format(
                "duplex channel '{}': metadata was already written to '{}' in this connection", channel_,
                request_name_));
        }
        request_->set_metadata(metadata);  // MetadataTooLarge names the buffer and the sizes
    }
    metadata_ = std::vector<std::byte>(metadata.begin(), metadata.end());
}

// ---------------------------------------------------------------------------------------------
// RequestReservation
// ---------------------------------------------------------------------------------------------

RequestReservation::RequestReservation(RequestReservation&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)), data_(other.data_) {
    if (client_ != nullptr) client_->track(this);
}

RequestReservation& RequestReservation::operator=(RequestReservation&& other) noexcept {
    if (this != &other) {
        abandon();
        client_ = std::exchange(other.client_, nullptr);
        data_ = other.data_;
        if (client_ != nullptr) client_->track(this);
    }
    return *this;
}

RequestReservation::~RequestReservation() { abandon(); }

std::uint64_t RequestReservation::commit() {
    if (client_ == nullptr) {
        throw UsageException(
            "commit of a request reservation that is empty, already committed or abandoned, or whose client was "
            "closed or reconnected");
    }
    return client_->commit();  // detaches this handle, whatever happens
}

void RequestReservation::abandon() noexcept {
    if (client_ != nullptr) client_->abandon();  // detaches this handle
}

// ---------------------------------------------------------------------------------------------
// Public forwarding
// ---------------------------------------------------------------------------------------------

namespace {
[[noreturn]] void client_moved_from() { throw ObjectClosedException("duplex client was moved from"); }
}  // namespace

DuplexClient::DuplexClient(std::string channel, DuplexClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(channel), std::move(options))) {}
DuplexClient::~DuplexClient() = default;
DuplexClient::DuplexClient(DuplexClient&&) noexcept = default;
DuplexClient& DuplexClient::operator=(DuplexClient&&) noexcept = default;

std::uint64_t DuplexClient::send_request(std::span<const std::byte> data) {
    if (!impl_) client_moved_from();
    return impl_->send(data);
}

std::uint64_t DuplexClient::send_request(const void* data, std::size_t size) {
    if (!impl_) client_moved_from();
    if (data == nullptr && size != 0) {
        throw InvalidArgumentException(
            fmt::format("duplex channel '{}': request data is null ({} bytes)", impl_->channel_, size));
    }
    return impl_->send(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
}

RequestReservation DuplexClient::acquire_request(std::size_t size) {
    if (!impl_) client_moved_from();
    RequestReservation reservation;
    reservation.data_ = impl_->acquire(size);
    reservation.client_ = impl_.get();
    impl_->track(&reservation);  // follows the reservation through its moves
    return reservation;
}

std::span<std::byte> DuplexClient::acquire_request_buffer(std::size_t size) {
    if (!impl_) client_moved_from();
    return impl_->acquire(size);
}

std::uint64_t DuplexClient::commit_request() {
    if (!impl_) client_moved_from();
    return impl_->commit();
}

void DuplexClient::abandon_request() noexcept {
    if (impl_) impl_->abandon();
}

Frame DuplexClient::receive_response(std::chrono::milliseconds timeout) {
    if (!impl_) client_moved_from();
    return impl_->receive(timeout);
}

void DuplexClient::set_metadata(std::span<const std::byte> metadata) {
    if (!impl_) client_moved_from();
    impl_->set_metadata(metadata);
}

bool DuplexClient::is_server_connected() const noexcept { return impl_ && impl_->server_connected(); }
std::uint64_t DuplexClient::pending_responses() const noexcept { return impl_ ? impl_->pending_.load() : 0; }
std::uint64_t DuplexClient::reconnects() const noexcept { return impl_ ? impl_->reconnects_.load() : 0; }

const std::string& DuplexClient::channel() const noexcept {
    static const std::string none;
    return impl_ ? impl_->channel_ : none;
}

void DuplexClient::close() noexcept {
    if (impl_) impl_->close();
}

bool DuplexClient::is_open() const noexcept { return impl_ && impl_->is_open(); }

}  // namespace zerobuffer
