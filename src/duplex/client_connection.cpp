// Duplex client: connecting, reconnecting, losing the server, closing (contract §7,
// docs/duplex.md). Connect order: CH_response first (so it exists before the server can see a
// request), then CH_request (retried while the server is not there yet), then a wait until the
// server has attached to CH_response. A reconnect does the same from scratch, re-creating
// CH_response so that nothing of the previous connection can be read as an answer to a new
// request. Whether a dead server's buffer may be removed is decided by src/ownership.
#include <fmt/format.h>

#include "core/names.h"
#include "duplex/client_impl.h"
#include "zerobuffer/duplex/errors.h"

namespace zerobuffer {

using detail::DuplexClock;

namespace {

// Below this idle time a send trusts the connection without a liveness syscall.
constexpr std::chrono::milliseconds kTrustWindow{20};
// How long a new CH_response may find its lock held (a server reclaiming a killed client's
// buffer holds it for microseconds) before that counts as "another live client".
constexpr std::chrono::milliseconds kLockRetry{250};

std::string validated_channel(std::string channel) {
    validate_channel_name(channel);
    return channel;
}

}  // namespace

DuplexClient::Impl::Impl(std::string channel, DuplexClientOptions options)
    : channel_(validated_channel(std::move(channel))),
      request_name_(request_buffer_name(channel_)),
      response_name_(response_buffer_name(channel_)),
      options_(std::move(options)) {
    detail::validate_config(response_name_, options_.response_config);
    detail::validate_timeout(channel_, options_.connect_timeout, "connect_timeout");
    detail::validate_timeout(request_name_, options_.request_writer.write_timeout, "request write_timeout");
    detail::validate_writer_options(request_name_, options_.request_writer);
    detail::validate_reader_options(response_name_, options_.response_reader);
    if (!options_.metadata.empty()) metadata_ = options_.metadata;
    connect();
}

std::optional<Reader> DuplexClient::Impl::create_response_buffer(DuplexClock::time_point deadline) {
    const auto lock_deadline = std::min(deadline, detail::deadline_in(kLockRetry));
    for (;;) {
        try {
            return std::optional<Reader>(std::in_place, response_name_, options_.response_config,
                                         options_.response_reader);
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
    drop_pending_frame();
    replace(request_, {});   // writer_pid = 0 on the old request buffer
    replace(response_, {});  // removes the old CH_response and whatever was left in it
    pending_.store(0);
    sent_in_connection_ = 0;

    replace(response_, create_response_buffer(deadline));

    enum class Waiting { request_buffer, channel_busy, server_attach } waiting = Waiting::request_buffer;
    std::string last_error;
    for (;;) {
        if (!request_) {
            try {
                replace(request_, std::optional<Writer>(std::in_place, request_name_, options_.request_writer));
                write_metadata();
            } catch (const WriterAlreadyConnectedException& e) {
                replace(request_, {});
                waiting = Waiting::channel_busy;
                last_error = e.what();
            } catch (const BufferNotFoundException& e) {
                replace(request_, {});
                waiting = Waiting::request_buffer;
                last_error = e.what();
            } catch (const ReaderDeadException& e) {
                replace(request_, {});
                waiting = Waiting::request_buffer;
                last_error = e.what();
            } catch (const CorruptBufferException& e) {  // being created right now
                replace(request_, {});
                waiting = Waiting::request_buffer;
                last_error = e.what();
            }
        }
        if (request_) {
            if (!request_->is_reader_connected()) {
                replace(request_, {});  // that server left (or is re-creating CH_request): attach again
            } else if (response_->is_writer_connected()) {
                break;
            } else {
                waiting = Waiting::server_attach;
            }
        }
        if (DuplexClock::now() >= deadline) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(DuplexClock::now() - started);
            replace(request_, {});
            replace(response_, {});
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

    state_.store(State::connected, std::memory_order_release);
    suspect_.store(false);
    last_contact_ = DuplexClock::now();
    if (ever_connected_) reconnects_.fetch_add(1, std::memory_order_relaxed);
    ever_connected_ = true;
}

bool DuplexClient::Impl::server_alive() const {
    return request_ && response_ && request_->is_reader_connected() && response_->is_writer_connected();
}

void DuplexClient::Impl::drop_pending_frame() noexcept {
    pending_frame_.abandon();
    if (handle_ != nullptr) {
        handle_->client_ = nullptr;  // the RAII handle is spent
        handle_ = nullptr;
    }
}

// The server is gone: remember it, and clean up after it if it was killed (its CH_request
// would otherwise stay in /dev/shm until the next server). Responses already in CH_response
// can still be received.
void DuplexClient::Impl::lose_connection() noexcept {
    if (state_.load() != State::connected) return;
    state_.store(State::lost, std::memory_order_release);
    drop_pending_frame();
    bool server_died = false;
    if (request_) {
        try {
            server_died = request_->health().reader.status == PeerStatus::dead;
        } catch (...) {
        }
        std::lock_guard lock(objects_mutex_);
        request_->close();
    }
    if (server_died) detail::reclaim_peer_leftovers(request_name_);
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
    if (state_.load() == State::lost) {
        connect();
        return;
    }
    const auto now = DuplexClock::now();
    if (now - last_contact_ < kTrustWindow && !suspect_.load()) return;
    suspect_.store(false);
    if (server_alive()) {
        last_contact_ = now;
        return;
    }
    if (pending_.load() != 0) throw_lost_on_send("went away");
    lose_connection();
    connect();
}

bool DuplexClient::Impl::server_connected() const noexcept {
    if (state_.load(std::memory_order_acquire) != State::connected) return false;
    bool alive = false;
    try {
        std::lock_guard lock(objects_mutex_);
        alive = server_alive();
    } catch (...) {
    }
    if (!alive) suspect_.store(true);
    return alive;
}

void DuplexClient::Impl::close() noexcept {
    if (state_.exchange(State::closed, std::memory_order_acq_rel) == State::closed) return;
    drop_pending_frame();
    replace(request_, {});
    replace(response_, {});
}

}  // namespace zerobuffer
