// Duplex server: the connection lifecycle, on the server thread. A connection begins when a
// client's Writer appears on CH_request; the server attaches to that client's CH_response; the
// connection ends when the client leaves or is dropped, and CH_request is then re-created.
// Who owns a buffer and whether it is stale is decided by src/ownership, never here.
#include <fmt/format.h>

#include "core/log.h"
#include "duplex/server_impl.h"
#include "ownership/buffer_probe.h"

namespace zerobuffer {

using detail::DuplexClock;

void ImmutableDuplexServer::Impl::begin_connection() {
    connection_ = {};
    connection_.active = true;
    connection_.client_pid = request_->health().writer_pid;
    clients_served_.fetch_add(1, std::memory_order_relaxed);
    client_connected_.store(true, std::memory_order_release);
    detail::log(LogLevel::info, "duplex channel '{}': client pid {} connected", channel_, connection_.client_pid);
}

void ImmutableDuplexServer::Impl::idle_checks() {
    if (!connection_.active) return;
    const bool writer_ok = request_->is_writer_connected();
    const bool reader_ok = !response_ || response_->is_reader_connected();
    if (!writer_ok || !reader_ok) end_connection(std::nullopt, true);
}

WriterOptions ImmutableDuplexServer::Impl::response_writer_options() const {
    WriterOptions w = options_.response_writer;
    // The pool writes in poll-interval slices so that stop() and a departed client are noticed
    // while a response waits for room; it enforces the full write_timeout itself.
    if (mode_ == ProcessingMode::thread_pool) w.write_timeout = options_.poll_interval;
    return w;
}

bool ImmutableDuplexServer::Impl::try_attach_response() {
    // Look at the owner first (a probe does not map the segment): mapping a large ring with
    // MAP_POPULATE on every retry for a buffer we would refuse anyway is costly.
    if (connection_.client_pid != 0) {
        std::uint64_t owner = 0;
        try {
            const detail::BufferProbe probe = detail::probe_buffer(response_name_);
            if (probe.facts.oieb == detail::OiebStatus::valid) owner = probe.reader.pid;
        } catch (...) {
        }
        if (owner != connection_.client_pid) {
            last_attach_error_ = std::make_exception_ptr(ZeroBufferException(
                owner == 0 ? fmt::format("'{}' does not exist or has no reader yet (requests come from pid {})",
                                         response_name_, connection_.client_pid)
                           : fmt::format("'{}' belongs to pid {}, but the requests come from pid {}", response_name_,
                                         owner, connection_.client_pid)));
            return false;
        }
    }
    std::optional<Writer> writer;
    try {
        writer.emplace(response_name_, response_writer_options());
    } catch (const ZeroBufferException&) {
        // Not there yet (BufferNotFound), not initialised yet (CorruptBuffer), its reader gone
        // (ReaderDead), or another writer on it: try again later.
        last_attach_error_ = std::current_exception();
        return false;
    }
    // Only the process that sends the requests may receive the responses: a CH_response left
    // over by an earlier client (or being replaced) belongs to another PID.
    const BufferHealth h = writer->health();
    if (connection_.client_pid != 0 && h.reader_pid != connection_.client_pid) {
        last_attach_error_ = std::make_exception_ptr(ZeroBufferException(fmt::format(
            "'{}' belongs to pid {}, but the requests come from pid {}", response_name_, h.reader_pid,
            connection_.client_pid)));
        return false;
    }
    const std::uint64_t ring = h.payload_size;
    max_frame_.store(ring > protocol::kFrameHeaderSize ? static_cast<std::size_t>(ring - protocol::kFrameHeaderSize) : 0);
    {
        std::lock_guard lock(write_mutex_);
        response_ = std::move(writer);
    }
    last_attach_error_ = nullptr;
    return true;
}

ImmutableDuplexServer::Impl::Attach ImmutableDuplexServer::Impl::attach_response_blocking() {
    const auto deadline = detail::deadline_in(options_.response_attach_timeout);
    for (;;) {
        if (try_attach_response()) return Attach::attached;
        // A client whose request Writer is gone cannot take a response any more.
        if (!request_->is_writer_connected()) return Attach::client_gone;
        if (stop_requested_.load() || DuplexClock::now() >= deadline) return Attach::failed;
        detail::sleep_until_at_most(deadline, std::chrono::milliseconds(2));
    }
}

// The client's request Writer is still registered in CH_request but its process is gone: it
// was killed (a client that closes clears its PID first). Judged by the core's peer rules.
bool ImmutableDuplexServer::Impl::client_died() const noexcept {
    try {
        return request_ && request_->health().writer.status == PeerStatus::dead;
    } catch (...) {
        return false;
    }
}

void ImmutableDuplexServer::Impl::end_connection(std::optional<DuplexError> error, bool client_left) {
    const Connection old = connection_;
    // Everything of this connection still in flight is now stale: the pool drops it.
    {
        std::lock_guard lock(break_mutex_);
        active_connection_.store(++connection_id_, std::memory_order_release);
        broken_.store(kNotBroken, std::memory_order_release);
    }
    if (dispatcher_) dispatcher_->wake();
    {
        std::lock_guard lock(write_mutex_);
        response_.reset();  // writer_pid = 0 in the client's CH_response: it sees the stream end
    }
    const bool died = old.client_pid != 0 && client_died();
    // A killed client cannot remove its CH_response; the ownership module removes it only if
    // its reader is really gone (a live or reconnecting client's buffer is left alone).
    if (client_left || died) detail::reclaim_peer_leftovers(response_name_);
    recreate_request_buffer();
    connection_ = {};
    client_connected_.store(false, std::memory_order_release);

    if (error) {
        report(*error);
    } else if (client_left && (old.active || died)) {
        report(died ? DuplexErrorKind::client_died : DuplexErrorKind::client_disconnected,
               died ? fmt::format("duplex channel '{}': client pid {} died after {} request(s); waiting for the next "
                                  "client",
                                  channel_, old.client_pid, old.requests)
                    : fmt::format("duplex channel '{}': client pid {} disconnected after {} request(s); waiting for "
                                  "the next client",
                                  channel_, old.client_pid, old.requests),
               {}, old.requests, old.client_pid);
    }
}

// Creates CH_request, retrying every 2 ms for up to `patience` (until stop() is requested) while
// creation fails with ReaderAlreadyConnected (a client reclaiming a killed server's buffer holds
// its lock for microseconds) or, with `retry_any_failure`, any ZeroBufferException. Rethrows
// the last failure.
void ImmutableDuplexServer::Impl::create_request_buffer(std::chrono::milliseconds patience, bool retry_any_failure) {
    const auto deadline = detail::deadline_in(patience);
    for (;;) {
        try {
            request_.emplace(request_name_, config_, options_.request_reader);
            return;
        } catch (const ZeroBufferException& e) {
            const bool passing = retry_any_failure || dynamic_cast<const ReaderAlreadyConnectedException*>(&e) != nullptr;
            if (!passing || DuplexClock::now() >= deadline || stop_requested_.load()) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
}

void ImmutableDuplexServer::Impl::recreate_request_buffer() {
    request_.reset();  // unlinks CH_request: a client still attached gets ReaderDead
    try {
        create_request_buffer(std::chrono::milliseconds(500), true);
    } catch (const ZeroBufferException& e) {
        report(DuplexErrorKind::fatal,
               fmt::format("duplex channel '{}': cannot re-create '{}' for the next client: {}; the server stopped",
                           channel_, request_name_, e.what()),
               std::current_exception());
        running_.store(false, std::memory_order_release);
    }
}

void ImmutableDuplexServer::Impl::run_init() {
    connection_.init_done = true;
    if (!on_init_) return;
    try {
        on_init_(request_->metadata());
    } catch (...) {
        report(DuplexErrorKind::init_failed,
               fmt::format("duplex channel '{}': on_init threw for client pid {}: {}; serving goes on", channel_,
                           connection_.client_pid, detail::describe(std::current_exception())),
               std::current_exception(), connection_.requests, connection_.client_pid);
    }
}

}  // namespace zerobuffer
