// The duplex server's implementation class (not installed), shared by
//   server.cpp             start / stop / the server loop / shutdown / reports / public forwarding
//   server_connection.cpp  connection lifecycle: begin, attach to CH_response, end, re-create CH_request
//   server_single.cpp      single_thread mode: the handler runs on the server thread
//   server_pool.cpp        thread_pool mode: requests through the InOrderDispatcher
//
// Threads. single_thread mode: one server thread reads CH_request, runs the handler with the
// real response Writer (or a direct ResponseWriter) and checks the one-response rule.
// thread_pool mode: the server thread reads requests and submits them to the dispatcher; a
// worker runs the handler into a staging ResponseWriter; the dispatcher hands the results back
// in request order to deliver(), which writes them to the wire under write_mutex_.
//
// Connections. A connection starts when a client's Writer appears on CH_request. It ends when
// the client leaves (WriterDead on read, its response Reader gone, ReaderDead on a write) or
// when the server drops it (a broken one-response rule). Ending a connection closes the
// response Writer and re-creates CH_request, so the next client starts from a clean buffer
// (fresh metadata, sequence 1, no stale requests of the previous client).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "duplex/common.h"
#include "duplex/in_order_dispatcher.h"
#include "zerobuffer/duplex/server.h"
#include "zerobuffer/reader.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

class ZEROBUFFER_NO_EXPORT ImmutableDuplexServer::Impl {
public:
    Impl(std::string channel, const BufferConfig& config, DuplexServerOptions options);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // Controlling thread (see server.h for the contracts).
    void start(ResponseHandler handler, WriterHandler writer_handler, InitHandler on_init, ProcessingMode mode);
    void stop() noexcept;
    void set_error_handler(ErrorHandler handler);

    // ---- immutable after construction
    const std::string channel_;
    const std::string request_name_;
    const std::string response_name_;

    // ---- any thread
    std::atomic<bool> running_{false};
    std::atomic<bool> client_connected_{false};
    std::atomic<std::uint64_t> requests_handled_{0};
    std::atomic<std::uint64_t> clients_served_{0};

private:
    // Why the pool asked the server thread to end the connection.
    enum Broken : int { kNotBroken = 0, kBrokenReported = 1, kBrokenClientGone = 2 };
    struct Connection {
        bool active = false;         // a client Writer has been seen on the current CH_request
        std::uint64_t client_pid = 0;
        std::uint64_t requests = 0;  // requests read in this connection
        bool init_done = false;
    };
    enum class Attach { attached, client_gone, failed };

    // thread_pool: a request on its way to a worker, and what the worker made of it.
    struct Job {
        std::uint64_t connection = 0;
        std::uint64_t request = 0;
        Frame frame;
    };
    struct Result {
        std::uint64_t connection = 0;
        std::uint64_t request = 0;
        bool ran = false;  // false: its connection had ended, the handler was not called
        std::vector<std::vector<std::byte>> frames;
        std::exception_ptr error;
    };
    using Dispatcher = detail::InOrderDispatcher<Job, Result>;

    // Marks the calling thread as one of this server's while it runs server code (user code may
    // call stop() from there, which must not join). Never reads thread_.
    class OwnThread {
    public:
        explicit OwnThread(const Impl* server) noexcept : previous_(current_) { current_ = server; }
        ~OwnThread() { current_ = previous_; }
        OwnThread(const OwnThread&) = delete;
        OwnThread& operator=(const OwnThread&) = delete;

    private:
        const Impl* previous_;
    };
    static thread_local const Impl* current_;
    bool on_own_thread() const noexcept { return current_ == this; }

    // server.cpp
    void run() noexcept;
    void serve_once();
    void shutdown() noexcept;
    bool exactly_one() const noexcept { return options_.response_policy == ResponsePolicy::exactly_one; }
    void report(DuplexErrorKind kind, std::string message, std::exception_ptr exception = {},
                std::uint64_t request = 0, std::uint64_t client_pid = 0) noexcept;
    void report(const DuplexError& error) noexcept;

    // server_connection.cpp
    void begin_connection();
    void idle_checks();
    bool try_attach_response();
    Attach attach_response_blocking();
    void end_connection(std::optional<DuplexError> report, bool client_left);
    bool client_died() const noexcept;
    void create_request_buffer(std::chrono::milliseconds patience, bool retry_any_failure);
    void recreate_request_buffer();
    void run_init();
    WriterOptions response_writer_options() const;

    // server_single.cpp
    void handle_single(Frame request);

    // server_pool.cpp
    void start_pool();
    void dispatch(Frame request);
    Result process(Job& job);
    void deliver(Result& result);
    bool write_pooled(std::uint64_t connection, std::uint64_t request, std::span<const std::byte> frame);
    void break_connection(std::uint64_t connection, Broken why);
    bool connection_live(std::uint64_t connection) const noexcept {
        return connection == active_connection_.load(std::memory_order_acquire) &&
               broken_.load(std::memory_order_acquire) == kNotBroken;
    }

    // ---- configuration: set by the constructor and start(), read-only while the threads run
    BufferConfig config_;
    DuplexServerOptions options_;
    ErrorHandler on_error_;  // replaced only while no server thread exists (set_error_handler)
    ResponseHandler handler_;
    WriterHandler writer_handler_;
    InitHandler on_init_;
    ProcessingMode mode_ = ProcessingMode::single_thread;
    std::size_t worker_count_ = 0;
    std::size_t max_in_flight_ = 0;

    // ---- controlling thread
    std::thread thread_;  // the server thread; read and written by the controlling thread only
    std::optional<Dispatcher> dispatcher_;  // thread_pool; created by start(), stopped by shutdown()

    // ---- shared
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> threads_finished_{true};  // the server thread and its workers have ended
    std::atomic<std::uint64_t> active_connection_{1};
    std::atomic<int> broken_{kNotBroken};
    std::atomic<std::size_t> max_frame_{0};
    std::mutex break_mutex_;    // makes "still the active connection? then mark it broken" atomic
    std::mutex write_mutex_;    // the response Writer in thread_pool mode (and its replacement)

    // ---- server thread
    std::optional<Reader> request_;
    std::optional<Writer> response_;  // assigned by the server thread under write_mutex_
    std::exception_ptr last_attach_error_;
    Connection connection_;
    std::uint64_t connection_id_ = 1;  // the server thread's copy of active_connection_
};

}  // namespace zerobuffer
