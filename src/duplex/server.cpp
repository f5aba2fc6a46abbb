// Duplex server: start, stop, the server loop, shutdown, reports and the public forwarding
// (contract §7, docs/duplex.md). See server_impl.h for how the files divide the work.
#include <algorithm>

#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "duplex/server_impl.h"
#include "zerobuffer/duplex/names.h"

namespace zerobuffer {

thread_local const ImmutableDuplexServer::Impl* ImmutableDuplexServer::Impl::current_ = nullptr;

namespace {
std::string validated_channel(std::string channel) {
    validate_channel_name(channel);
    return channel;
}
}  // namespace

ImmutableDuplexServer::Impl::Impl(std::string channel, const BufferConfig& config, DuplexServerOptions options)
    : channel_(validated_channel(std::move(channel))),
      request_name_(request_buffer_name(channel_)),
      response_name_(response_buffer_name(channel_)),
      config_(config),
      options_(std::move(options)) {
    detail::validate_config(request_name_, config_);
    if (options_.poll_interval.count() < 1 || options_.poll_interval.count() > 1000) {
        throw InvalidArgumentException(fmt::format(
            "duplex channel '{}': poll_interval is {} ms; it must be between 1 and 1000 ms", channel_,
            options_.poll_interval.count()));
    }
    detail::validate_timeout(channel_, options_.response_attach_timeout, "response_attach_timeout");
    detail::validate_timeout(channel_, options_.response_writer.write_timeout, "response write_timeout");
    detail::validate_writer_options(response_name_, options_.response_writer);
    detail::validate_reader_options(request_name_, options_.request_reader);
    if (options_.worker_threads > 1024) {
        throw InvalidArgumentException(fmt::format(
            "duplex channel '{}': worker_threads is {}; at most 1024 are allowed", channel_, options_.worker_threads));
    }
    if (options_.max_in_flight > (std::size_t{1} << 20)) {
        throw InvalidArgumentException(fmt::format(
            "duplex channel '{}': max_in_flight is {}; at most {} are allowed", channel_, options_.max_in_flight,
            std::size_t{1} << 20));
    }
    on_error_ = std::move(options_.on_error);
}

ImmutableDuplexServer::Impl::~Impl() {
    stop();
    dispatcher_.reset();
}

void ImmutableDuplexServer::Impl::start(ResponseHandler handler, WriterHandler writer_handler, InitHandler on_init,
                                        ProcessingMode mode) {
    if (on_own_thread()) {
        throw UsageException(fmt::format(
            "duplex channel '{}': start() from inside a handler or the error handler of the same server", channel_));
    }
    if (!handler && !writer_handler) {
        throw InvalidArgumentException(fmt::format("duplex channel '{}': the request handler is empty", channel_));
    }
    if (thread_.joinable()) {
        if (running_.load() && !stop_requested_.load()) {
            throw UsageException(fmt::format("duplex channel '{}': the server is already running", channel_));
        }
        thread_.join();  // an earlier run that stopped itself (fatal error, or stop() from inside)
    }
    dispatcher_.reset();  // its workers were joined by the earlier run's shutdown

    handler_ = std::move(handler);
    writer_handler_ = std::move(writer_handler);
    on_init_ = std::move(on_init);
    mode_ = mode;
    const unsigned hw = std::max(2u, std::thread::hardware_concurrency());
    worker_count_ = options_.worker_threads != 0 ? options_.worker_threads : hw;
    max_in_flight_ = options_.max_in_flight != 0 ? options_.max_in_flight : 4 * worker_count_;

    // Create CH_request now, so that errors reach the caller and a client may attach at once.
    stop_requested_.store(false);
    try {
        create_request_buffer(std::chrono::milliseconds(200), false);
    } catch (const ReaderAlreadyConnectedException& e) {
        throw ReaderAlreadyConnectedException(
            fmt::format("duplex channel '{}': cannot create '{}': {}", channel_, request_name_, e.what()));
    }
    connection_ = {};
    response_.reset();
    broken_.store(kNotBroken);
    threads_finished_.store(false);
    running_.store(true);
    try {
        if (mode_ == ProcessingMode::thread_pool) start_pool();
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        running_.store(false);
        dispatcher_.reset();  // stops and joins its workers
        request_.reset();
        threads_finished_.store(true);
        throw;
    }
}

void ImmutableDuplexServer::Impl::stop() noexcept {
    stop_requested_.store(true);
    if (dispatcher_) dispatcher_->wake();  // a submit waiting for room gives up now
    if (on_own_thread()) return;           // from a handler: a thread cannot join itself
    if (thread_.joinable()) thread_.join();
    running_.store(false);
}

void ImmutableDuplexServer::Impl::set_error_handler(ErrorHandler handler) {
    if (on_own_thread()) {
        throw UsageException(fmt::format(
            "duplex channel '{}': set_error_handler() from inside a handler or the error handler; the server's "
            "threads may be calling the error handler",
            channel_));
    }
    if (thread_.joinable()) {
        if (!threads_finished_.load(std::memory_order_acquire)) {
            throw UsageException(fmt::format(
                "duplex channel '{}': set_error_handler() while the server's threads may call the error handler; "
                "call it before start() or after stop()",
                channel_));
        }
        thread_.join();  // it has finished: returns at once
    }
    on_error_ = std::move(handler);
}

// ---- server thread ----

void ImmutableDuplexServer::Impl::run() noexcept {
    const OwnThread mark(this);
    while (!stop_requested_.load(std::memory_order_acquire) && running_.load(std::memory_order_acquire)) {
        try {
            serve_once();
        } catch (const std::exception& e) {
            // Not expected (the known failures are handled where they occur). Report, end the
            // connection so that no stream is left half-handled, and go on.
            if (!running_.load()) break;  // a fatal error, already reported
            report(DuplexErrorKind::protocol_error,
                   fmt::format("duplex channel '{}': unexpected error while serving: {}", channel_, e.what()),
                   std::current_exception(), connection_.requests, connection_.client_pid);
            try {
                if (request_) end_connection(std::nullopt, false);
            } catch (...) {
            }
            std::this_thread::sleep_for(options_.poll_interval);
        } catch (...) {
            std::this_thread::sleep_for(options_.poll_interval);
        }
    }
    shutdown();
    threads_finished_.store(true, std::memory_order_release);  // no handler of ours is called after this
}

void ImmutableDuplexServer::Impl::serve_once() {
    if (!request_) {  // re-creating CH_request failed (reported as fatal)
        running_.store(false, std::memory_order_release);
        return;
    }
    if (broken_.load(std::memory_order_acquire) != kNotBroken) {
        // The pool gave up on this connection (already reported, or the client left).
        const bool client_left = broken_.load() == kBrokenClientGone;
        end_connection(std::nullopt, client_left);
        return;
    }
    if (!response_ && request_->is_writer_connected()) {
        // A client attached: connect to its CH_response early, so that it sees both directions up.
        if (!connection_.active) begin_connection();
        (void)try_attach_response();
    }

    Frame request;
    try {
        request = request_->read_frame(options_.poll_interval);
    } catch (const WriterDeadException&) {
        end_connection(std::nullopt, true);
        return;
    } catch (const SequenceError& e) {
        report(DuplexErrorKind::protocol_error,
               fmt::format("duplex channel '{}': request stream out of sequence ({}); disconnecting the client",
                           channel_, e.what()),
               std::current_exception(), connection_.requests, connection_.client_pid);
        end_connection(std::nullopt, false);
        return;
    } catch (const CorruptBufferException& e) {
        report(DuplexErrorKind::protocol_error,
               fmt::format("duplex channel '{}': request buffer corrupt ({}); re-creating it", channel_, e.what()),
               std::current_exception(), connection_.requests, connection_.client_pid);
        end_connection(std::nullopt, false);
        return;
    }
    if (!request) {
        idle_checks();
        return;
    }
    if (!connection_.active) begin_connection();
    ++connection_.requests;
    if (!response_) {
        const Attach attached = attach_response_blocking();
        if (attached == Attach::client_gone) {
            end_connection(std::nullopt, true);
            return;
        }
        if (attached == Attach::failed) {
            if (stop_requested_.load()) return;
            report(DuplexErrorKind::response_attach_failed,
                   fmt::format("duplex channel '{}': client pid {} sent request {} but its response buffer '{}' did "
                               "not become usable within {} ms ({}); disconnecting it",
                               channel_, connection_.client_pid, connection_.requests, response_name_,
                               options_.response_attach_timeout.count(), detail::describe(last_attach_error_)),
                   last_attach_error_, connection_.requests, connection_.client_pid);
            end_connection(std::nullopt, false);
            return;
        }
    }
    if (!connection_.init_done) run_init();
    if (mode_ == ProcessingMode::single_thread) {
        handle_single(std::move(request));
    } else {
        dispatch(std::move(request));
    }
}

void ImmutableDuplexServer::Impl::shutdown() noexcept {
    if (dispatcher_) dispatcher_->stop();  // running handlers finish; their results are written in order
    {
        std::lock_guard lock(write_mutex_);
        response_.reset();
    }
    if (connection_.active && client_died()) detail::reclaim_peer_leftovers(response_name_);
    request_.reset();  // removes CH_request: shared memory, semaphores, lock file
    connection_ = {};
    client_connected_.store(false);
    running_.store(false);
}

void ImmutableDuplexServer::Impl::report(DuplexErrorKind kind, std::string message, std::exception_ptr exception,
                                         std::uint64_t request, std::uint64_t client_pid) noexcept {
    try {
        DuplexError error;
        error.kind = kind;
        error.message = std::move(message);
        error.exception = std::move(exception);
        error.request = request;
        error.client_pid = client_pid;
        report(error);
    } catch (...) {
    }
}

void ImmutableDuplexServer::Impl::report(const DuplexError& error) noexcept {
    try {
        detail::log(error.kind == DuplexErrorKind::fatal ? LogLevel::error : LogLevel::warn, "{} [{}]",
                    error.message, to_string(error.kind));
        if (on_error_) on_error_(error);
    } catch (...) {
        // The error handler's own failures are swallowed (documented).
    }
}

// ---------------------------------------------------------------------------------------------
// Public forwarding
// ---------------------------------------------------------------------------------------------

namespace {
[[noreturn]] void server_moved_from() { throw ObjectClosedException("duplex server was moved from"); }
}  // namespace

ImmutableDuplexServer::ImmutableDuplexServer(std::string channel, const BufferConfig& request_config,
                                             DuplexServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(channel), request_config, std::move(options))) {}

ImmutableDuplexServer::~ImmutableDuplexServer() = default;
ImmutableDuplexServer::ImmutableDuplexServer(ImmutableDuplexServer&&) noexcept = default;
ImmutableDuplexServer& ImmutableDuplexServer::operator=(ImmutableDuplexServer&& other) noexcept {
    if (this != &other) impl_ = std::move(other.impl_);  // the old Impl's destructor stops it
    return *this;
}

void ImmutableDuplexServer::start(ResponseHandler handler, InitHandler on_init, ProcessingMode mode) {
    if (!impl_) server_moved_from();
    impl_->start(std::move(handler), {}, std::move(on_init), mode);
}

void ImmutableDuplexServer::start_with_writer(WriterHandler handler, InitHandler on_init) {
    if (!impl_) server_moved_from();
    impl_->start({}, std::move(handler), std::move(on_init), ProcessingMode::single_thread);
}

void ImmutableDuplexServer::stop() noexcept {
    if (impl_) impl_->stop();
}

bool ImmutableDuplexServer::is_running() const noexcept { return impl_ && impl_->running_.load(); }
bool ImmutableDuplexServer::is_client_connected() const noexcept {
    return impl_ && impl_->client_connected_.load();
}

void ImmutableDuplexServer::set_error_handler(ErrorHandler handler) {
    if (!impl_) server_moved_from();
    impl_->set_error_handler(std::move(handler));
}

const std::string& ImmutableDuplexServer::channel() const noexcept {
    static const std::string none;
    return impl_ ? impl_->channel_ : none;
}
std::uint64_t ImmutableDuplexServer::requests_handled() const noexcept {
    return impl_ ? impl_->requests_handled_.load() : 0;
}
std::uint64_t ImmutableDuplexServer::clients_served() const noexcept {
    return impl_ ? impl_->clients_served_.load() : 0;
}

}  // namespace zerobuffer
