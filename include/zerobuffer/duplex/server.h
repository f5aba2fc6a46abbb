// The immutable duplex server: reads requests from CH_request (which it creates) and writes
// exactly one response per request into the client's CH_response.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "zerobuffer/config.h"
#include "zerobuffer/duplex/errors.h"
#include "zerobuffer/duplex/response_writer.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

enum class ProcessingMode {
    single_thread,  // one server thread reads, runs the handler and writes (the peers' only mode)
    thread_pool,    // handlers run on worker threads; responses are written in request order
};

// What the server does when a handler does not produce exactly one response frame.
enum class ResponsePolicy {
    // Default. Exactly one response frame per request. If a handler writes none (it returned
    // without writing, or it threw first) or writes more than one, the FIFO pairing with the
    // client is broken. The server then reports the violation through the error handler and
    // disconnects that client: it closes its response Writer (after every response written so
    // far) and re-creates CH_request. The client receives all earlier responses, then
    // WriterDeadException for the unanswered requests; its next send reconnects. A handler that
    // throws *after* writing its single response only gets the exception reported.
    // A ResponseWriter refuses a second frame before it reaches the wire. A WriterHandler writes
    // to the Writer directly, so an extra frame is already sent when it is detected: a client
    // that sends again before it sees the disconnect may take it for an answer.
    exactly_one,
    // Peer behaviour: anything the handler writes is sent, nothing is checked. For protocols
    // where the client knows how many frames each request produces.
    unchecked,
};

// Runs once per client connection, on the server thread, just before that client's first
// request is handled, with the metadata the client wrote into CH_request (empty if none; the
// peers do likewise: C# always calls it, Python only for non-empty metadata). The span is valid
// during the call only. An exception from it is reported (init_failed) and serving goes on.
using InitHandler = std::function<void(std::span<const std::byte> metadata)>;

// The primary handler, for both modes: the request frame (zero-copy, read-only, released when
// the handler returns) and the ResponseWriter for its response. single_thread mode: runs on the
// server thread; thread_pool mode: on a worker, concurrently with other requests' handlers.
// May throw (reported; see ResponsePolicy). A generic lambda `[](const auto& request, auto&
// response)` works: the type is fixed by this signature.
using ResponseHandler = std::function<void(const Frame& request, ResponseWriter& response)>;

// The peers' handler signature, single_thread mode only: the request frame and the real
// response Writer, attached to the current client's CH_response, for write_frame or zero-copy
// acquire_frame / get_frame_buffer. Runs on the server thread. Must not close, move or keep the
// Writer; a frame reservation left uncommitted is abandoned.
using WriterHandler = std::function<void(const Frame& request, Writer& response)>;

struct DuplexServerOptions {
    // How often the server thread wakes up when idle to check stop(), client liveness and
    // newly connected clients. Bounds the stop() latency. 1..1000 ms.
    std::chrono::milliseconds poll_interval{20};
    // How long the server waits for a client that sent a request to have a usable CH_response
    // (a client that creates it after its request Writer, as C# clients do).
    std::chrono::milliseconds response_attach_timeout{5000};
    // Options of the response Writer. write_timeout is how long one response may wait for
    // space in the client's response ring (the client is not reading) before it fails.
    WriterOptions response_writer{};
    // Options of the request Reader (how the server waits for requests, prefaulting, checks).
    ReaderOptions request_reader{};
    ResponsePolicy response_policy = ResponsePolicy::exactly_one;
    // thread_pool mode: worker threads (0: std::thread::hardware_concurrency(), at least 2; at
    // most 1024) and the most requests dispatched but not yet answered on the wire (0: 4 x
    // workers; at most 2^20).
    std::size_t worker_threads = 0;
    std::size_t max_in_flight = 0;
    ErrorHandler on_error;  // may also be set with set_error_handler()
};

// An immutable (request frames are read-only) duplex server on channel CH. Serves one client
// at a time, clients one after another, for as long as it runs.
//
// Threads. start, start_with_writer, stop, set_error_handler, move and destruction belong to
// one controlling thread at a time (they must not run concurrently with each other). stop() may
// also be called from inside a handler or the error handler. is_running, is_client_connected,
// channel and the counters may be called from any thread at any time, also while another thread
// starts or stops the server.
class ZEROBUFFER_API ImmutableDuplexServer {
public:
    // Validates the channel name, the request BufferConfig and the options; creates nothing yet.
    // Does not block. Throws InvalidNameException, InvalidArgumentException (naming the channel
    // and the value).
    ImmutableDuplexServer(std::string channel, const BufferConfig& request_config = {},
                          DuplexServerOptions options = {});
    ~ImmutableDuplexServer();  // stop(); must not run on one of the server's own threads
    ImmutableDuplexServer(ImmutableDuplexServer&&) noexcept;
    ImmutableDuplexServer& operator=(ImmutableDuplexServer&&) noexcept;  // stops this one first
    ImmutableDuplexServer(const ImmutableDuplexServer&) = delete;
    ImmutableDuplexServer& operator=(const ImmutableDuplexServer&) = delete;

    // Creates CH_request synchronously (so a client may attach as soon as this returns) and
    // starts serving on a background thread (plus `worker_threads` workers in thread_pool mode).
    // Blocks to create CH_request (up to 200 ms while a client reclaims a killed server's
    // buffer) and to join the threads of an earlier run that is stopping or stopped by itself.
    // Throws InvalidArgumentException (empty handler), UsageException (already running, or
    // called from one of this server's threads), ReaderAlreadyConnectedException (a live server
    // owns CH already), ZeroBufferException (OS), ObjectClosedException (moved from).
    void start(ResponseHandler handler, InitHandler on_init = {},
               ProcessingMode mode = ProcessingMode::single_thread);
    // The same with the peers' handler signature, in single_thread mode. Same blocking and throws.
    void start_with_writer(WriterHandler handler, InitHandler on_init = {});

    // Stops serving and removes CH_request (shared memory, semaphores, lock file); detaches from
    // the client's CH_response (the client then gets WriterDeadException after the responses
    // already written). Blocks for about one poll interval plus the remaining run time of any
    // handler that is executing (user code cannot be interrupted), then joins every server
    // thread: once it returns, no handler, on_init or error handler of this server runs. In
    // thread_pool mode, responses already produced are still written if the client's ring has
    // room; requests not yet handled are dropped. Idempotent; never throws. Called from inside a
    // handler or the error handler it only requests the stop and returns at once (a thread cannot
    // join itself); a later stop() or the destructor joins.
    void stop() noexcept;

    // True from start() until stop() or a fatal error. Any thread; never blocks.
    [[nodiscard]] bool is_running() const noexcept;
    // True while a client is attached (its request Writer is connected). Any thread; never blocks.
    [[nodiscard]] bool is_client_connected() const noexcept;

    // Replaces the error handler. Controlling thread; does not block (it may join server threads
    // that have already ended by themselves). Refused with UsageException from start() until
    // every server thread has ended (after stop(), or after a fatal error once they have
    // finished), and always from inside a handler: so the handler is never replaced while a call
    // of it may be in progress. ObjectClosedException if moved from.
    void set_error_handler(ErrorHandler handler);

    // Any thread; never blocks; "" once moved from.
    [[nodiscard]] const std::string& channel() const noexcept;
    // Requests handed to a handler, over all clients. A request is counted just before its
    // handler is called, so the count is never behind what a client has seen: once a client has
    // received k responses from this server, requests_handled() >= k. Requests dropped without
    // calling a handler (stop(), a departed client's queued requests) are not counted. Any thread.
    [[nodiscard]] std::uint64_t requests_handled() const noexcept;
    // Client connections that reached the server (counted when the client attaches). Any thread.
    [[nodiscard]] std::uint64_t clients_served() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace zerobuffer
