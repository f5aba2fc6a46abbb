// Duplex channel: the client (contract §7, docs/duplex.md).
//
// Connect order: CH_response first (so it exists before the server can see a request), then
// CH_request (retried while the server is not there yet), then a wait until the server has
// attached to CH_response. A reconnect does the same from scratch, re-creating CH_response so
// that nothing of the previous connection can be read as an answer to a new request.
#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/names.h"
#include "duplex/duplex_internal.h"
#include "zerobuffer/duplex.h"
#include "zerobuffer/reader.h"

namespace zerobuffer {

using detail::DuplexClock;

namespace {

// Below this idle time a send trusts the connection without a liveness syscall.
constexpr std::chrono::milliseconds kTrustWindow{20};
// Slice of receive_response between server liveness checks (the core reader checks the
// response writer on its own in its liveness interval).
constexpr std::chrono::milliseconds kReceiveSlice{50};
// How long a new CH_response may find its lock held (a server reclaiming a killed client's
// buffer holds it for microseconds) before that counts as "another live client".
constexpr std::chrono::milliseconds kLockRetry{250};

}  // namespace

class DuplexClient::Impl {
public:
    Impl(std::string channel, DuplexClientOptions options);
    ~Impl() { close(); }

    std::uint64_t send(std::span<const std::byte> data);
    std::span<std::byte> acquire(std::size_t size);
    std::uint64_t commit();
    void abandon() noexcept;
    Frame receive(std::chrono::milliseconds timeout);
    void set_metadata(std::span<const std::byte> metadata);
    bool server_connected() const;
    void close() noexcept;

    enum class State { connected, lost, closed };

    std::string channel_;
    std::string request_name_;
    std::string response_name_;
    DuplexClientOptions options_;
    std::optional<std::vector<std::byte>> metadata_;

    std::optional<Reader> response_;
    std::optional<Writer> request_;
    State state_ = State::lost;
    std::atomic<bool> connected_flag_{false};
    std::atomic<std::uint64_t> pending_{0};     // sent in this connection, response not yet received
    std::uint64_t sent_in_connection_ = 0;
    std::uint64_t server_pid_ = 0;
    bool pending_buffer_ = false;
    DuplexClock::time_point last_contact_{};
    mutable bool suspect_ = false;  // is_server_connected() saw the server gone: check before sending
    std::atomic<std::uint64_t> reconnects_{0};
    bool ever_connected_ = false;

private:
    void ensure_open() const {
        if (state_ == State::closed) {
            throw ObjectClosedException(fmt::format("duplex client of channel '{}' is closed", channel_));
        }
    }
    void connect();
    void create_response_buffer(DuplexClock::time_point deadline);
    void write_metadata();
    void prepare_send();
    void lose_connection() noexcept;
    bool server_alive() const;
    [[noreturn]] void throw_lost_on_send(const char* how);
    template <class F>
    auto with_reconnect(F&& attempt) -> decltype(attempt());
};

DuplexClient::Impl::Impl(std::string channel, DuplexClientOptions options)
    : channel_(std::move(channel)), options_(std::move(options)) {
    validate_channel_name(channel_);
    request_name_ = request_buffer_name(channel_);
    response_name_ = response_buffer_name(channel_);
    detail::validate_config(response_name_, options_.response_config);
    detail::validate_timeout(channel_, options_.connect_timeout, "connect_timeout");
    detail::validate_timeout(request_name_, options_.request_writer.write_timeout, "request write_timeout");
    detail::validate_writer_options(request_name_, options_.request_writer);
    detail::validate_reader_options(response_name_, options_.response_reader);
    if (!options_.metadata.empty()) metadata_ = options_.metadata;
    connect();
}

void DuplexClient::Impl::create_response_buffer(DuplexClock::time_point deadline) {
    const auto lock_deadline = std::min(deadline, detail::deadline_in(kLockRetry));
    for (;;) {
        try {
            response_.emplace(response_name_, options_.response_config, options_.response_reader);
            return;
        } catch (const ReaderAlreadyConnectedException& e) {
            if (DuplexClock::now() >= lock_deadline) {
                throw ReaderAlreadyConnectedException(fmt::format(
                    "duplex channel '{}': another live client owns the response buffer '{}' ({})", channel_,
                    response_name_, e.what()));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
}

void DuplexClient::Impl::write_metadata() {
    if (metadata_ && !request_->metadata_written()) request_->set_metadata(*metadata_);
}

void DuplexClient::Impl::connect() {
    const auto started = DuplexClock::now();
    const auto deadline = detail::deadline_in(options_.connect_timeout);
    connected_flag_.store(false);
    request_.reset();   // writer_pid = 0 on the old request buffer
    response_.reset();  // removes the old CH_response and whatever was left in it
    pending_.store(0);
    sent_in_connection_ = 0;
    pending_buffer_ = false;

    create_response_buffer(deadline);

    enum class Waiting { request_buffer, channel_busy, server_attach } waiting = Waiting::request_buffer;
    std::string last_error;
    for (;;) {
        if (!request_) {
            try {
                request_.emplace(request_name_, options_.request_writer);
                write_metadata();
            } catch (const WriterAlreadyConnectedException& e) {
                request_.reset();
                waiting = Waiting::channel_busy;
                last_error = e.what();
            } catch (const BufferNotFoundException& e) {
                request_.reset();
                waiting = Waiting::request_buffer;
                last_error = e.what();
            } catch (const ReaderDeadException& e) {
                request_.reset();
                waiting = Waiting::request_buffer;
                last_error = e.what();
            } catch (const CorruptBufferException& e) {  // being created right now
                request_.reset();
                waiting = Waiting::request_buffer;
                last_error = e.what();
            }
        }
        if (request_) {
            if (!request_->is_reader_connected()) {
                request_.reset();  // that server left (or is re-creating CH_request): attach again
            } else if (response_->is_writer_connected()) {
                break;
            } else {
                waiting = Waiting::server_attach;
            }
        }
        if (DuplexClock::now() >= deadline) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(DuplexClock::now() - started);
            request_.reset();
            response_.reset();
            switch (waiting) {
                case Waiting::request_buffer:
                    throw BufferNotFoundException(fmt::format(
                        "duplex channel '{}': no server created '{}' within the connect timeout of {} ms (waited {} "
                        "ms; last error: {})",
                        channel_, request_name_, options_.connect_timeout.count(), waited.count(), last_error));
                case Waiting::channel_busy:
                    throw WriterAlreadyConnectedException(fmt::format(
                        "duplex channel '{}': another live client is attached to '{}'; gave up after {} ms ({})",
                        channel_, request_name_, waited.count(), last_error));
                case Waiting::server_attach:
                    throw DuplexTimeoutException(fmt::format(
                        "duplex channel '{}': the server owns '{}' but did not attach to '{}' within the connect "
                        "timeout of {} ms",
                        channel_, request_name_, response_name_, options_.connect_timeout.count()));
            }
        }
        detail::sleep_until_at_most(deadline, std::chrono::milliseconds(1));
    }

    server_pid_ = request_->health().reader_pid;
    state_ = State::connected;
    connected_flag_.store(true);
    last_contact_ = DuplexClock::now();
    if (ever_connected_) reconnects_.fetch_add(1, std::memory_order_relaxed);
    ever_connected_ = true;
}

bool DuplexClient::Impl::server_alive() const {
    return request_ && response_ && request_->is_reader_connected() && response_->is_writer_connected();
}

// The server is gone: remember it, and clean up after it if it was killed (its CH_request
// would otherwise stay in /dev/shm until the next server). Responses already in CH_response
// can still be received.
void DuplexClient::Impl::lose_connection() noexcept {
    if (state_ != State::connected) return;
    state_ = State::lost;
    connected_flag_.store(false);
    if (request_) {
        if (request_->has_pending_frame()) request_->abandon_frame();
        request_->close();
    }
    pending_buffer_ = false;
    if (server_pid_ != 0 && !detail::process_alive(server_pid_)) detail::reclaim_stale_buffer(request_name_);
}

void DuplexClient::Impl::throw_lost_on_send(const char* how) {
    const std::uint64_t unanswered = pending_.load();
    lose_connection();
    throw ReaderDeadException(fmt::format(
        "duplex channel '{}': the server {} with {} request(s) still unanswered; nothing was sent. Responses it "
        "wrote can still be received; the rest are lost. The next send reconnects.",
        channel_, how, unanswered));
}

// Called before every send: reconnects if the connection was lost, and checks the server
// after an idle period (cheap when requests flow).
void DuplexClient::Impl::prepare_send() {
    if (state_ == State::lost) {
        connect();
        return;
    }
    const auto now = DuplexClock::now();
    if (now - last_contact_ < kTrustWindow && !suspect_) return;
    suspect_ = false;
    if (server_alive()) {
        last_contact_ = now;
        return;
    }
    if (pending_.load() != 0) throw_lost_on_send("went away");
    lose_connection();
    connect();
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
    if (pending_buffer_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': a request buffer is pending; commit_request() or abandon_request() first", channel_));
    }
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
    if (pending_buffer_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': a request buffer is pending; commit_request() or abandon_request() first", channel_));
    }
    if (size == 0) {
        throw InvalidFrameSizeException(fmt::format(
            "duplex channel '{}': a request must not be empty (zero-length frames are invalid on the wire)", channel_));
    }
    const auto buffer = with_reconnect([&] { return request_->get_frame_buffer(size); });
    pending_buffer_ = true;
    return buffer;
}

std::uint64_t DuplexClient::Impl::commit() {
    ensure_open();
    if (!pending_buffer_ || !request_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': commit_request() without a pending acquire_request_buffer()", channel_));
    }
    const std::uint64_t sequence = request_->commit_frame();
    pending_buffer_ = false;
    pending_.fetch_add(1, std::memory_order_relaxed);
    ++sent_in_connection_;
    last_contact_ = DuplexClock::now();
    return sequence;
}

void DuplexClient::Impl::abandon() noexcept {
    if (!pending_buffer_) return;
    if (request_) request_->abandon_frame();
    pending_buffer_ = false;
}

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
    if (!response_) throw ended("is gone");
    for (;;) {
        const auto now = DuplexClock::now();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        const auto slice = std::clamp(left, std::chrono::milliseconds(1), kReceiveSlice);
        Frame frame;
        try {
            frame = response_->read_frame(slice);
        } catch (const WriterDeadException&) {
            throw ended(state_ == State::lost ? "is gone" : "closed the connection or died");
        }
        if (frame) {
            const std::uint64_t p = pending_.load(std::memory_order_relaxed);
            if (p != 0) pending_.store(p - 1, std::memory_order_relaxed);
            last_contact_ = DuplexClock::now();
            return frame;
        }
        // Nothing yet: the core reader has checked the response writer; check the request side too
        // (a server that died before attaching, or that dropped this client).
        if (state_ == State::lost || !request_ || !request_->is_reader_connected()) {
            Frame last = response_->read_frame(std::chrono::milliseconds(1));  // one that raced the check
            if (last) {
                const std::uint64_t p = pending_.load(std::memory_order_relaxed);
                if (p != 0) pending_.store(p - 1, std::memory_order_relaxed);
                return last;
            }
            throw ended(state_ == State::lost ? "is gone" : "closed the request buffer or died");
        }
        if (DuplexClock::now() >= deadline) return Frame{};
    }
}

void DuplexClient::Impl::set_metadata(std::span<const std::byte> metadata) {
    ensure_open();
    if (sent_in_connection_ != 0 || pending_buffer_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': set_metadata() after {} request(s) were sent; metadata must precede the first "
            "request of a connection",
            channel_, sent_in_connection_ + (pending_buffer_ ? 1 : 0)));
    }
    if (state_ == State::connected && request_) {
        if (request_->metadata_written()) {
            throw MetadataAlreadyWrittenException(fmt::format(
                "duplex channel '{}': metadata was already written to '{}' in this connection", channel_,
                request_name_));
        }
        request_->set_metadata(metadata);  // MetadataTooLarge names the buffer and the sizes
    }
    metadata_ = std::vector<std::byte>(metadata.begin(), metadata.end());
}

bool DuplexClient::Impl::server_connected() const {
    if (state_ != State::connected) return false;
    bool alive = false;
    try {
        alive = server_alive();
    } catch (...) {
    }
    if (!alive) suspect_ = true;
    return alive;
}

void DuplexClient::Impl::close() noexcept {
    if (state_ == State::closed) return;
    state_ = State::closed;
    connected_flag_.store(false);
    if (request_ && request_->has_pending_frame()) request_->abandon_frame();
    request_.reset();
    response_.reset();
}

// ---------------------------------------------------------------------------------------------
// Public forwarding
// ---------------------------------------------------------------------------------------------

DuplexClient::DuplexClient(std::string channel, DuplexClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(channel), std::move(options))) {}
DuplexClient::~DuplexClient() = default;
DuplexClient::DuplexClient(DuplexClient&&) noexcept = default;
DuplexClient& DuplexClient::operator=(DuplexClient&&) noexcept = default;

namespace {
[[noreturn]] void client_moved_from() { throw ObjectClosedException("duplex client was moved from"); }
}  // namespace

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

bool DuplexClient::is_server_connected() const { return impl_ && impl_->server_connected(); }
std::uint64_t DuplexClient::pending_responses() const noexcept { return impl_ ? impl_->pending_.load() : 0; }
std::uint64_t DuplexClient::reconnects() const noexcept { return impl_ ? impl_->reconnects_.load() : 0; }

const std::string& DuplexClient::channel() const noexcept {
    static const std::string none;
    return impl_ ? impl_->channel_ : none;
}

void DuplexClient::close() noexcept {
    if (impl_) impl_->close();
}

bool DuplexClient::is_open() const noexcept { return impl_ && impl_->state_ != Impl::State::closed; }

}  // namespace zerobuffer
