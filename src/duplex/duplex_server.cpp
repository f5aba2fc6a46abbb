// Duplex channel: the immutable request/response server (contract §7, docs/duplex.md).
//
// Threads. SingleThread mode: one server thread reads CH_request, runs the handler with the
// real response Writer and checks the one-response rule. ThreadPool mode: the server thread
// reads and dispatches numbered requests (tickets) to workers; a worker runs the handler into
// a staging ResponseWriter and hands the result to the sequencer, which writes results to the
// wire strictly in ticket order. The sequencer is not a thread: whichever worker completes the
// next ticket in line writes it and every later one already waiting (a combining flush), so
// no worker ever waits for another's handler and nothing is written out of order.
//
// Connections. A connection starts when a client's Writer appears on CH_request. It ends when
// the client leaves (WriterDead on read, its response Reader gone, ReaderDead on a write) or
// when the server drops it (a broken one-response rule). Ending a connection closes the
// response Writer and re-creates CH_request, so the next client starts from a clean buffer
// (fresh metadata, sequence 1, no stale requests of the previous client).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "duplex/duplex_internal.h"
#include "zerobuffer/duplex.h"
#include "zerobuffer/reader.h"

namespace zerobuffer {

using detail::DuplexClock;

// ---------------------------------------------------------------------------------------------
// ResponseWriter
// ---------------------------------------------------------------------------------------------

void ResponseWriter::check_size(std::size_t size) const {
    if (has_pending_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': a response frame buffer is pending; commit_frame() or abandon_frame() first", channel_));
    }
    if (exactly_one_ && frames_ != 0) {
        throw UsageException(fmt::format(
            "duplex channel '{}': this request already has its response; ResponsePolicy::ExactlyOne allows one "
            "response frame per request (the frame of {} bytes was not sent)",
            channel_, size));
    }
    if (size == 0) {
        throw InvalidFrameSizeException(fmt::format(
            "duplex channel '{}': a response frame must not be empty (zero-length frames are invalid on the wire)",
            channel_));
    }
    if (size > max_frame_) {
        throw FrameTooLargeException(fmt::format(
            "duplex channel '{}': a response of {} bytes does not fit the client's response ring; "
            "at most {} bytes per frame (ring {} minus the 16-byte header)",
            channel_, size, max_frame_, max_frame_ + protocol::kFrameHeaderSize));
    }
}

void ResponseWriter::write_frame(std::span<const std::byte> data) {
    check_size(data.size());
    if (direct_ != nullptr) {
        direct_->write_frame(data);
    } else {
        staged_.emplace_back(data.begin(), data.end());
    }
    ++frames_;
}

void ResponseWriter::write_frame(const void* data, std::size_t size) {
    if (data == nullptr && size != 0) {
        throw InvalidArgumentException(fmt::format("duplex channel '{}': response data is null ({} bytes)", channel_, size));
    }
    write_frame(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
}

std::span<std::byte> ResponseWriter::get_frame_buffer(std::size_t size) {
    check_size(size);
    std::span<std::byte> buffer;
    if (direct_ != nullptr) {
        buffer = direct_->get_frame_buffer(size);
    } else {
        pending_.resize(size);
        buffer = pending_;
    }
    has_pending_ = true;
    return buffer;
}

void ResponseWriter::commit_frame() {
    if (!has_pending_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': commit_frame() without a pending get_frame_buffer()", channel_));
    }
    if (direct_ != nullptr) {
        direct_->commit_frame();
    } else {
        staged_.push_back(std::move(pending_));
        pending_ = {};
    }
    has_pending_ = false;
    ++frames_;
}

void ResponseWriter::abandon_frame() noexcept {
    if (!has_pending_) return;
    if (direct_ != nullptr) direct_->abandon_frame();
    pending_.clear();
    has_pending_ = false;
}

// ---------------------------------------------------------------------------------------------
// Server implementation
// ---------------------------------------------------------------------------------------------

namespace {

// Why the sequencer asked the server thread to end the connection.
enum Broken : int { kNotBroken = 0, kBrokenReported = 1, kBrokenClientGone = 2 };

template <class E>
bool holds(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

}  // namespace

class ImmutableDuplexServer::Impl {
public:
    Impl(std::string channel, const BufferConfig& config, DuplexServerOptions options);
    ~Impl() { stop(); }

    void start(RequestHandler handler, PooledRequestHandler pooled, InitHandler on_init, ProcessingMode mode);
    void stop() noexcept;

    // ---- configuration (immutable while running)
    std::string channel_;
    std::string request_name_;
    std::string response_name_;
    BufferConfig config_;
    DuplexServerOptions options_;
    ErrorHandler on_error_;
    RequestHandler handler_;
    PooledRequestHandler pooled_;
    InitHandler on_init_;
    ProcessingMode mode_ = ProcessingMode::SingleThread;
    std::size_t worker_count_ = 0;
    std::size_t max_in_flight_ = 0;

    // ---- state shared with callers
    std::thread thread_;
    std::vector<std::thread> workers_;             // joined and cleared by the server thread
    // The server whose thread (server thread or worker) is running: stop() called on one of
    // them must not join. Set by each thread for itself, so stop() reads nothing that start()
    // may still be writing (thread_ is assigned after the server thread already runs).
    static thread_local const Impl* current_server_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> running_{false};
    std::atomic<bool> client_connected_{false};
    std::atomic<std::uint64_t> requests_handled_{0};
    std::atomic<std::uint64_t> clients_served_{0};

private:
    struct Connection {
        bool active = false;           // a client Writer has been seen on the current CH_request
        std::uint64_t client_pid = 0;
        std::uint64_t requests = 0;    // requests read in this connection
        bool init_done = false;
    };

    // ---- server thread
    void run() noexcept;
    void serve_once();
    void begin_connection();
    void idle_checks();
    enum class Attach { attached, client_gone, failed };
    bool try_attach_response();
    Attach attach_response_blocking();
    void end_connection(std::optional<DuplexError> report, bool client_left);
    void recreate_request_buffer();
    void run_init();
    void handle_single(Frame request);
    void dispatch(Frame request);
    void shutdown() noexcept;
    WriterOptions response_writer_options() const;

    // ---- worker side (ThreadPool)
    struct Job {
        std::uint64_t ticket = 0;
        std::uint64_t connection = 0;
        std::uint64_t request = 0;
        Frame frame;
    };
    struct Result {
        std::uint64_t ticket = 0;
        std::uint64_t connection = 0;
        std::uint64_t request = 0;
        bool ran = false;
        std::vector<std::vector<std::byte>> frames;
        std::exception_ptr error;
    };
    void worker_loop() noexcept;
    void complete(Result result);
    void deliver(Result& result);
    bool write_pooled(std::uint64_t connection, std::uint64_t request, std::span<const std::byte> frame);
    void break_connection(std::uint64_t connection, Broken why);
    bool connection_live(std::uint64_t connection) const noexcept {
        return connection == active_connection_.load(std::memory_order_acquire) &&
               broken_.load(std::memory_order_acquire) == kNotBroken;
    }

    void report(DuplexErrorKind kind, std::string message, std::exception_ptr exception = {},
                std::uint64_t request = 0, std::uint64_t client_pid = 0) noexcept;
    void report(const DuplexError& error) noexcept;

    std::optional<Reader> request_;      // server thread only
    std::optional<Writer> response_;     // assigned by the server thread under write_mutex_
    std::exception_ptr last_attach_error_;
    Connection connection_;
    std::uint64_t connection_id_ = 1;    // server thread's copy of active_connection_
    std::mutex report_mutex_;

    // ThreadPool
    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<Job> queue_;
    bool workers_exit_ = false;

    std::mutex sequence_mutex_;
    std::condition_variable space_cv_;
    std::map<std::uint64_t, Result> ready_;
    std::uint64_t next_ticket_ = 1;       // server thread: next ticket to hand out
    std::uint64_t next_write_ = 1;        // sequencer: next ticket to go to the wire
    std::size_t in_flight_ = 0;
    bool flushing_ = false;

    std::mutex write_mutex_;              // the response Writer in ThreadPool mode
    std::atomic<std::uint64_t> active_connection_{1};
    std::atomic<int> broken_{kNotBroken};
    std::atomic<std::size_t> max_frame_{0};

    friend class ImmutableDuplexServer;
};

ImmutableDuplexServer::Impl::Impl(std::string channel, const BufferConfig& config, DuplexServerOptions options)
    : channel_(std::move(channel)), config_(config), options_(std::move(options)) {
    validate_channel_name(channel_);
    request_name_ = request_buffer_name(channel_);
    response_name_ = response_buffer_name(channel_);
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

WriterOptions ImmutableDuplexServer::Impl::response_writer_options() const {
    WriterOptions w = options_.response_writer;
    // The sequencer writes in poll-interval slices so that stop() and a departed client are
    // noticed while a response waits for room; it enforces the full write_timeout itself.
    if (mode_ == ProcessingMode::ThreadPool) w.write_timeout = options_.poll_interval;
    return w;
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

void ImmutableDuplexServer::Impl::start(RequestHandler handler, PooledRequestHandler pooled, InitHandler on_init,
                                        ProcessingMode mode) {
    if (running_.load()) {
        throw UsageException(fmt::format("duplex channel '{}': the server is already running", channel_));
    }
    if (!handler && !pooled) {
        throw InvalidArgumentException(fmt::format("duplex channel '{}': the request handler is empty", channel_));
    }
    if (mode == ProcessingMode::ThreadPool && handler) {
        throw UsageException(fmt::format(
            "duplex channel '{}': ThreadPool mode runs handlers concurrently, so it needs a handler taking "
            "ResponseWriter& (PooledRequestHandler); a handler taking Writer& would share the one response Writer",
            channel_));
    }
    if (thread_.joinable()) thread_.join();  // a previous run that stopped itself (fatal error or stop from inside)

    handler_ = std::move(handler);
    pooled_ = std::move(pooled);
    on_init_ = std::move(on_init);
    mode_ = mode;
    const unsigned hw = std::max(2u, std::thread::hardware_concurrency());
    worker_count_ = options_.worker_threads != 0 ? options_.worker_threads : hw;
    max_in_flight_ = options_.max_in_flight != 0 ? options_.max_in_flight : 4 * worker_count_;

    // Create CH_request now, so that errors reach the caller and a client may attach at once.
    // A client that is reclaiming a killed server's buffer holds its lock for microseconds:
    // retry ReaderAlreadyConnected briefly before giving up.
    const auto deadline = detail::deadline_in(std::chrono::milliseconds(200));
    for (;;) {
        try {
            request_.emplace(request_name_, config_, options_.request_reader);
            break;
        } catch (const ReaderAlreadyConnectedException& e) {
            if (DuplexClock::now() >= deadline) {
                throw ReaderAlreadyConnectedException(fmt::format(
                    "duplex channel '{}': cannot create '{}': {}", channel_, request_name_, e.what()));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    stop_requested_.store(false);
    connection_ = {};
    response_.reset();
    broken_.store(kNotBroken);
    workers_exit_ = false;
    queue_.clear();
    ready_.clear();
    in_flight_ = 0;
    flushing_ = false;
    next_ticket_ = next_write_ = 1;
    running_.store(true);
    try {
        if (mode_ == ProcessingMode::ThreadPool) {
            workers_.reserve(worker_count_);
            for (std::size_t i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { worker_loop(); });
        }
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        running_.store(false);
        {
            std::lock_guard lock(queue_mutex_);
            workers_exit_ = true;
        }
        queue_cv_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
        request_.reset();
        throw;
    }
}

void ImmutableDuplexServer::Impl::stop() noexcept {
    stop_requested_.store(true);
    space_cv_.notify_all();
    if (current_server_ == this) return;  // from a handler or the error handler: cannot join ourselves
    if (thread_.joinable()) thread_.join();
    running_.store(false);
}

// ---- server thread ----

thread_local const ImmutableDuplexServer::Impl* ImmutableDuplexServer::Impl::current_server_ = nullptr;

void ImmutableDuplexServer::Impl::run() noexcept {
    current_server_ = this;
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
}

void ImmutableDuplexServer::Impl::serve_once() {
    if (!request_) {  // re-creating CH_request failed (reported as fatal)
        running_.store(false, std::memory_order_release);
        return;
    }
    if (broken_.load(std::memory_order_acquire) != kNotBroken) {
        // The sequencer gave up on this connection (already reported, or the client left).
        const bool client_left = broken_.load() == kBrokenClientGone;
        end_connection(std::nullopt, client_left);
        return;
    }
    if (!response_ && request_->is_writer_connected()) {
        // A client attached: connect to its CH_response early, so that it sees both directions up.
        if (!connection_.active) begin_connection();
        try_attach_response();
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
               fmt::format("duplex channel '{}': client pid {} sent request {} but its response buffer '{}' did not "
                           "become usable within {} ms ({}); disconnecting it",
                           channel_, connection_.client_pid, connection_.requests, response_name_,
                           options_.response_attach_timeout.count(), describe(last_attach_error_)),
               last_attach_error_, connection_.requests, connection_.client_pid);
            end_connection(std::nullopt, false);
            return;
        }
    }
    if (!connection_.init_done) run_init();
    if (mode_ == ProcessingMode::SingleThread) {
        handle_single(std::move(request));
    } else {
        dispatch(std::move(request));
    }
}

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

bool ImmutableDuplexServer::Impl::try_attach_response() {
    // Peek at the owner first (no prefault): mapping a large ring with MAP_POPULATE on every
    // retry for a buffer we would refuse anyway is costly.
    if (connection_.client_pid != 0) {
        const std::uint64_t owner = detail::peek_reader_pid(response_name_);
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

void ImmutableDuplexServer::Impl::end_connection(std::optional<DuplexError> error, bool client_left) {
    const Connection old = connection_;
    // Everything of this connection still in flight is now stale: the sequencer drops it.
    {
        std::lock_guard lock(sequence_mutex_);
        active_connection_.store(++connection_id_, std::memory_order_release);
        broken_.store(kNotBroken, std::memory_order_release);
    }
    space_cv_.notify_all();
    {
        std::lock_guard lock(write_mutex_);
        response_.reset();  // writer_pid = 0 in the client's CH_response: it sees the stream end
    }
    // A client that closed cleared writer_pid (its process may have exited since: still a
    // graceful disconnect); one that still holds writer_pid with a dead process was killed.
    std::uint64_t writer_pid = 0;
    try {
        if (request_) writer_pid = request_->health().writer_pid;
    } catch (...) {
    }
    const bool process_gone = old.client_pid != 0 && !detail::process_alive(old.client_pid);
    const bool died = process_gone && writer_pid != 0;
    if (process_gone) detail::reclaim_stale_buffer(response_name_);  // the dead client cannot remove it
    recreate_request_buffer();
    connection_ = {};
    client_connected_.store(false, std::memory_order_release);

    if (error) {
        report(*error);
    } else if (client_left && (old.active || process_gone)) {
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

void ImmutableDuplexServer::Impl::recreate_request_buffer() {
    request_.reset();  // unlinks CH_request: a client still attached gets ReaderDead
    const auto deadline = detail::deadline_in(std::chrono::milliseconds(500));
    for (;;) {
        try {
            request_.emplace(request_name_, config_, options_.request_reader);
            return;
        } catch (const ZeroBufferException& e) {
            if (DuplexClock::now() >= deadline || stop_requested_.load()) {
                report(DuplexErrorKind::fatal,
                       fmt::format("duplex channel '{}': cannot re-create '{}' for the next client: {}; the server "
                                   "stopped",
                                   channel_, request_name_, e.what()),
                       std::current_exception());
                running_.store(false, std::memory_order_release);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
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
                           connection_.client_pid, describe(std::current_exception())),
               std::current_exception(), connection_.requests, connection_.client_pid);
    }
}

void ImmutableDuplexServer::Impl::handle_single(Frame request) {
    Writer& writer = *response_;
    const std::uint64_t before = writer.frames_written();
    const std::uint64_t number = connection_.requests;
    std::exception_ptr error;
    try {
        if (handler_) {
            handler_(request, writer);
        } else {
            ResponseWriter sink = detail::ResponseWriterAccess::make(
                &writer, max_frame_.load(), channel_, options_.response_policy == ResponsePolicy::ExactlyOne);
            try {
                pooled_(request, sink);
            } catch (...) {
                sink.abandon_frame();
                throw;
            }
            sink.abandon_frame();
        }
    } catch (...) {
        error = std::current_exception();
    }
    if (writer.has_pending_frame()) writer.abandon_frame();
    request.release();  // after the handler, as the peers do
    const std::uint64_t written = writer.frames_written() - before;
    requests_handled_.fetch_add(1, std::memory_order_relaxed);

    if (error) {
        if (holds<ReaderDeadException>(error) || !writer.is_reader_connected()) {
            end_connection(std::nullopt, true);  // the client went away under the handler
            return;
        }
        report(DuplexErrorKind::handler_failed,
               fmt::format("duplex channel '{}': the handler threw on request {} of client pid {} after writing {} "
                           "response frame(s): {}",
                           channel_, number, connection_.client_pid, written, describe(error)),
               error, number, connection_.client_pid);
    }
    if (options_.response_policy == ResponsePolicy::ExactlyOne && written != 1) {
        const bool none = written == 0;
        DuplexError e;
        e.kind = none ? DuplexErrorKind::response_missing : DuplexErrorKind::too_many_responses;
        e.message = fmt::format(
            "duplex channel '{}': request {} of client pid {} got {} response frames instead of exactly 1; the "
            "FIFO pairing is broken, so the client is disconnected (it receives the earlier responses, then "
            "WriterDead)",
            channel_, number, connection_.client_pid, written);
        e.request = number;
        e.client_pid = connection_.client_pid;
        e.exception = error;
        end_connection(e, false);
    }
}

// ---- ThreadPool: dispatch, workers, sequencer ----

void ImmutableDuplexServer::Impl::dispatch(Frame request) {
    {
        std::unique_lock lock(sequence_mutex_);
        while (in_flight_ >= max_in_flight_ && !stop_requested_.load() && broken_.load() == kNotBroken) {
            space_cv_.wait_for(lock, options_.poll_interval);
        }
        if (stop_requested_.load() || broken_.load() != kNotBroken) return;  // dropped; the connection ends
        ++in_flight_;
    }
    Job job;
    job.ticket = next_ticket_++;
    job.connection = connection_id_;
    job.request = connection_.requests;
    job.frame = std::move(request);
    {
        std::lock_guard lock(queue_mutex_);
        queue_.push_back(std::move(job));
    }
    queue_cv_.notify_one();
}

void ImmutableDuplexServer::Impl::worker_loop() noexcept {
    current_server_ = this;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [&] { return workers_exit_ || !queue_.empty(); });
            if (workers_exit_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        Result result;
        result.ticket = job.ticket;
        result.connection = job.connection;
        result.request = job.request;
        if (connection_live(job.connection) && !stop_requested_.load()) {
            result.ran = true;
            ResponseWriter sink = detail::ResponseWriterAccess::make(
                nullptr, max_frame_.load(), channel_, options_.response_policy == ResponsePolicy::ExactlyOne);
            try {
                pooled_(job.frame, sink);
            } catch (...) {
                result.error = std::current_exception();
            }
            sink.abandon_frame();
            result.frames = detail::ResponseWriterAccess::take_staged(sink);
        }
        job.frame.release();
        try {
            complete(std::move(result));
        } catch (...) {
        }
    }
}

// Combining flush: the result joins the ready set; if no other thread is flushing, this one
// writes every result that is next in line, in ticket order, until a gap.
void ImmutableDuplexServer::Impl::complete(Result result) {
    std::unique_lock lock(sequence_mutex_);
    const std::uint64_t ticket = result.ticket;
    ready_.emplace(ticket, std::move(result));
    if (flushing_) return;
    flushing_ = true;
    for (;;) {
        auto it = ready_.find(next_write_);
        if (it == ready_.end()) break;
        Result current = std::move(it->second);
        ready_.erase(it);
        ++next_write_;
        lock.unlock();
        try {
            deliver(current);
        } catch (...) {
        }
        current = Result{};  // free the staged frames outside the lock
        lock.lock();
        --in_flight_;
        space_cv_.notify_all();
    }
    flushing_ = false;
}

void ImmutableDuplexServer::Impl::deliver(Result& result) {
    if (!result.ran || !connection_live(result.connection)) return;  // stale: its connection ended
    const std::size_t n = result.frames.size();
    if (result.error) {
        report(DuplexErrorKind::handler_failed,
               fmt::format("duplex channel '{}': the handler threw on request {} after producing {} response "
                           "frame(s): {}",
                           channel_, result.request, n, describe(result.error)),
               result.error, result.request);
    }
    if (options_.response_policy == ResponsePolicy::ExactlyOne && n != 1) {
        report(n == 0 ? DuplexErrorKind::response_missing : DuplexErrorKind::too_many_responses,
               fmt::format("duplex channel '{}': request {} got {} response frames instead of exactly 1; the FIFO "
                           "pairing is broken, so the client is disconnected (it receives the earlier responses, "
                           "then WriterDead)",
                           channel_, result.request, n),
               result.error, result.request);
        break_connection(result.connection, kBrokenReported);
        return;
    }
    // Counted before its response reaches the wire: a client that has the response must find
    // the request counted (it was counted after the write, so requests_handled() could lag).
    requests_handled_.fetch_add(1, std::memory_order_relaxed);
    for (const auto& frame : result.frames) {
        if (!write_pooled(result.connection, result.request, frame)) return;
    }
}

bool ImmutableDuplexServer::Impl::write_pooled(std::uint64_t connection, std::uint64_t request,
                                               std::span<const std::byte> frame) {
    std::lock_guard lock(write_mutex_);
    const auto deadline = detail::deadline_in(options_.response_writer.write_timeout);
    for (;;) {
        if (!response_ || !connection_live(connection)) return false;
        try {
            response_->write_frame(frame);
            return true;
        } catch (const BufferFullException&) {
            // One poll interval passed without room: check why before waiting again.
            if (!response_->is_reader_connected()) {
                break_connection(connection, kBrokenClientGone);
                return false;
            }
            if (stop_requested_.load()) return false;
            if (DuplexClock::now() >= deadline) {
                report(DuplexErrorKind::response_write_failed,
                       fmt::format("duplex channel '{}': the response to request {} ({} bytes) found no room in "
                                   "'{}' for {} ms (the client is not reading); disconnecting the client",
                                   channel_, request, frame.size(), response_name_,
                                   options_.response_writer.write_timeout.count()),
                       std::current_exception(), request);
                break_connection(connection, kBrokenReported);
                return false;
            }
        } catch (const ReaderDeadException&) {
            break_connection(connection, kBrokenClientGone);
            return false;
        } catch (const ZeroBufferException& e) {
            report(DuplexErrorKind::response_write_failed,
                   fmt::format("duplex channel '{}': writing the response to request {} ({} bytes) failed: {}; "
                               "disconnecting the client",
                               channel_, request, frame.size(), e.what()),
                   std::current_exception(), request);
            break_connection(connection, kBrokenReported);
            return false;
        }
    }
}

void ImmutableDuplexServer::Impl::break_connection(std::uint64_t connection, Broken why) {
    std::lock_guard lock(sequence_mutex_);
    if (connection != active_connection_.load()) return;
    int expected = kNotBroken;
    broken_.compare_exchange_strong(expected, why);
    space_cv_.notify_all();
}

void ImmutableDuplexServer::Impl::shutdown() noexcept {
    if (mode_ == ProcessingMode::ThreadPool) {
        std::deque<Job> dropped;
        {
            std::lock_guard lock(queue_mutex_);
            workers_exit_ = true;
            dropped.swap(queue_);
        }
        queue_cv_.notify_all();
        dropped.clear();  // releases the request frames nobody will handle
        for (auto& w : workers_) {
            if (w.joinable()) w.join();
        }
        workers_.clear();
    }
    {
        std::lock_guard lock(write_mutex_);
        response_.reset();
    }
    if (connection_.active && connection_.client_pid != 0 && !detail::process_alive(connection_.client_pid)) {
        detail::reclaim_stale_buffer(response_name_);
    }
    request_.reset();  // removes CH_request: shared memory, semaphores, lock file
    connection_ = {};
    client_connected_.store(false);
    running_.store(false);
}

// ---------------------------------------------------------------------------------------------
// Public forwarding
// ---------------------------------------------------------------------------------------------

ImmutableDuplexServer::ImmutableDuplexServer(std::string channel, const BufferConfig& request_config,
                                             DuplexServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(channel), request_config, std::move(options))) {}

ImmutableDuplexServer::~ImmutableDuplexServer() = default;
ImmutableDuplexServer::ImmutableDuplexServer(ImmutableDuplexServer&&) noexcept = default;
ImmutableDuplexServer& ImmutableDuplexServer::operator=(ImmutableDuplexServer&& other) noexcept {
    if (this != &other) {
        if (impl_) impl_->stop();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

namespace {
[[noreturn]] void server_moved_from() { throw ObjectClosedException("duplex server was moved from"); }
}  // namespace

void ImmutableDuplexServer::start(RequestHandler handler, InitHandler on_init, ProcessingMode mode) {
    if (!impl_) server_moved_from();
    impl_->start(std::move(handler), {}, std::move(on_init), mode);
}

void ImmutableDuplexServer::start(PooledRequestHandler handler, InitHandler on_init, ProcessingMode mode) {
    if (!impl_) server_moved_from();
    if (!handler) {
        throw InvalidArgumentException(fmt::format("duplex channel '{}': the request handler is empty", impl_->channel_));
    }
    impl_->start({}, std::move(handler), std::move(on_init), mode);
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
    if (impl_->running_.load()) {
        throw UsageException(fmt::format(
            "duplex channel '{}': set_error_handler() while the server runs; call it before start()", impl_->channel_));
    }
    impl_->on_error_ = std::move(handler);
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
