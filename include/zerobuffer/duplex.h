// Duplex (request/response) channel over two ordinary ZeroBuffer v1 buffers (contract §7).
//
// A channel CH is two buffers and nothing else on the wire:
//
//   CH_request   created by the server (its Reader, with the server's BufferConfig);
//                the client attaches as Writer and sends requests. Client metadata goes here.
//   CH_response  created by the client (its Reader, 4096 B metadata / 256 MiB payload by
//                default); the server attaches as Writer and sends responses.
//
// Correlation is FIFO only: the k-th response frame answers the k-th request frame. There is no
// correlation field, so a server must write exactly one response frame per request; see
// ResponsePolicy for what this server does when a handler breaks that rule.
//
// Compared with the Python and C# peers this implementation adds (without changing the wire):
//   * stop() returns within about one poll interval (20 ms by default), not a read timeout;
//   * a server outlives its clients: when a client disconnects or dies it is reported through
//     the error handler and the server waits for the next client on the same channel;
//   * a client may start before the server and waits for it up to its connect timeout; it
//     reconnects by itself to a restarted server (see DuplexClient for the exact rule);
//   * ThreadPool mode: handlers run concurrently, responses still leave in request order.
//
// See docs/duplex.md for the design and the reasons behind each policy.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zerobuffer/config.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

inline constexpr std::string_view kRequestSuffix = "_request";
inline constexpr std::string_view kResponseSuffix = "_response";
// 245 (longest buffer name) minus the 9 characters of "_response".
inline constexpr std::size_t kMaxChannelNameLength = protocol::kMaxNameLength - kResponseSuffix.size();
static_assert(kMaxChannelNameLength == 236);

// Throws InvalidNameException (naming the channel and its length) unless the channel name is
// 1..236 characters without '/' or NUL.
void validate_channel_name(std::string_view channel);
std::string request_buffer_name(std::string_view channel);   // CH + "_request"
std::string response_buffer_name(std::string_view channel);  // CH + "_response"

// The response buffer a client creates when nothing else is asked: 4096 B / 256 MiB, as the
// Python, C# and old C++ clients use.
BufferConfig default_response_config();

// A connect or attach wait that expired. code() is std::errc::timed_out (generic category).
class DuplexTimeoutException : public ZeroBufferException {
public:
    explicit DuplexTimeoutException(const std::string& message);
};

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

enum class ProcessingMode {
    SingleThread,  // one server thread reads, runs the handler and writes (the peers' only mode)
    ThreadPool,    // handlers run on worker threads; responses are written in request order
};

// What the server does when a handler does not produce exactly one response frame.
enum class ResponsePolicy {
    // Default. Exactly one response frame per request. If a handler writes none (it returned
    // without writing, or it threw first) or writes more than one, the FIFO pairing with the
    // client is broken. The server then reports the violation through the error handler and
    // disconnects that client: it closes its response Writer (after every response written
    // so far) and re-creates CH_request. The client receives all earlier responses, then
    // WriterDeadException for the unanswered requests; its next send reconnects. A handler
    // that throws *after* writing its single response only gets the exception reported.
    // A ResponseWriter refuses a second frame before it reaches the wire. A RequestHandler
    // writes to the Writer directly, so an extra frame is already sent when it is detected:
    // a client that sends again before it sees the disconnect may take it for an answer.
    ExactlyOne,
    // Peer behaviour: anything the handler writes is sent, nothing is checked. For protocols
    // where the client knows how many frames each request produces.
    Unchecked,
};

enum class DuplexErrorKind {
    handler_failed,       // the handler threw (exception set)
    init_failed,          // on_init threw (exception set); serving goes on
    response_missing,     // ExactlyOne: the handler wrote no response; client disconnected
    too_many_responses,   // ExactlyOne: the handler wrote more than one; client disconnected
    client_disconnected,  // the client closed its side (graceful); waiting for the next client
    client_died,          // the client process died; its response buffer was reclaimed
    response_attach_failed,  // a client sent requests but its CH_response never became usable
    response_write_failed,   // a response could not be written (buffer full past the timeout)
    protocol_error,       // a corrupt request buffer or a sequence error; client disconnected
    fatal,                // the server cannot go on (e.g. CH_request cannot be re-created); it stopped
};
const char* to_string(DuplexErrorKind kind) noexcept;

struct DuplexError {
    DuplexErrorKind kind{};
    std::string message;             // names the channel and the numbers
    std::exception_ptr exception;    // the underlying exception, if there was one
    std::uint64_t request = 0;       // 1-based request number within the client's connection; 0: none
    std::uint64_t client_pid = 0;    // the client concerned, 0 if unknown
};

// Called on a server thread (the server thread, or a worker in ThreadPool mode); calls may
// come from several workers at once. Must not block for long. Exceptions thrown by it are
// swallowed. It may call stop() (which then does not wait for the server thread).
using ErrorHandler = std::function<void(const DuplexError& error)>;

// Runs once per client connection, on the server thread, just before that client's first
// request is handled, with the metadata the client wrote into CH_request (empty if none; the
// peers do likewise: C# always calls it, Python only for non-empty metadata). The span is valid
// during the call only.
using InitHandler = std::function<void(std::span<const std::byte> metadata)>;

// SingleThread handler, with the peers' signature: the request frame (zero-copy, released when
// the handler returns) and the real response Writer, attached to the current client's
// CH_response, for write_frame or zero-copy get_frame_buffer + commit_frame. Runs on the server
// thread. Must not close, move or keep the Writer; a frame buffer left uncommitted is abandoned.
using RequestHandler = std::function<void(const Frame& request, Writer& response)>;

class ResponseWriter;
namespace detail {
struct ResponseWriterAccess;
}
// Handler usable in both modes; required for ThreadPool mode. Name the parameter types
// explicitly in lambdas (a generic `auto&` lambda is ambiguous between the two overloads).
using PooledRequestHandler = std::function<void(const Frame& request, ResponseWriter& response)>;

// The response sink given to a PooledRequestHandler. In SingleThread mode it writes straight
// into the response ring (zero-copy). In ThreadPool mode it stages the response in this
// process's memory; the server writes staged responses to the wire strictly in request order
// as soon as every earlier request has been answered. Use only inside the handler call, from
// the handler's thread. Not copyable or movable.
class ResponseWriter {
public:
    ResponseWriter(const ResponseWriter&) = delete;
    ResponseWriter& operator=(const ResponseWriter&) = delete;

    // Adds one response frame. Throws InvalidFrameSizeException (size 0), FrameTooLargeException
    // (16 + size > the client's response ring), UsageException (a frame buffer is pending; or,
    // under ResponsePolicy::ExactlyOne, a second frame for the same request: it is refused
    // before it reaches the wire, so the pairing is kept). SingleThread mode: may block while the response ring is full, and throws what
    // Writer::write_frame throws (BufferFullException, ReaderDeadException).
    void write_frame(std::span<const std::byte> data);
    void write_frame(const void* data, std::size_t size);

    // Zero-copy: a buffer of `size` bytes to fill, then commit_frame() adds it as one response
    // frame (abandon_frame() drops it). Same throws as write_frame.
    std::span<std::byte> get_frame_buffer(std::size_t size);
    void commit_frame();
    void abandon_frame() noexcept;

    // Frames added so far for this request.
    std::size_t frames() const noexcept { return frames_; }
    // The largest payload one response frame may have: payload ring of CH_response minus 16.
    std::size_t max_frame_size() const noexcept { return max_frame_; }

private:
    friend struct detail::ResponseWriterAccess;
    ResponseWriter(Writer* direct, std::size_t max_frame, std::string_view channel, bool exactly_one) noexcept
        : direct_(direct), max_frame_(max_frame), channel_(channel), exactly_one_(exactly_one) {}
    void check_size(std::size_t size) const;

    Writer* direct_;                                  // SingleThread: the real response Writer
    std::size_t max_frame_;
    std::string_view channel_;
    bool exactly_one_;
    std::vector<std::vector<std::byte>> staged_;      // ThreadPool: the staged response frames
    std::vector<std::byte> pending_;
    bool has_pending_ = false;
    std::size_t frames_ = 0;
};

struct DuplexServerOptions {
    // How often the server thread wakes up when idle to check stop(), client liveness and
    // newly connected clients. Bounds the stop() latency. 1..1000 ms.
    std::chrono::milliseconds poll_interval{20};
    // How long the server waits for a client that sent a request to have a usable
    // CH_response (a client that creates it after its request Writer, as C# clients do).
    std::chrono::milliseconds response_attach_timeout{5000};
    // Options of the response Writer. write_timeout is how long one response may wait for
    // space in the client's response ring (the client is not reading) before it fails.
    WriterOptions response_writer{};
    // Options of the request Reader (how the server waits for requests, prefaulting, checks).
    ReaderOptions request_reader{};
    ResponsePolicy response_policy = ResponsePolicy::ExactlyOne;
    // ThreadPool mode: worker threads (0: std::thread::hardware_concurrency(), at least 2) and
    // the most requests dispatched but not yet answered on the wire (0: 4 x workers).
    std::size_t worker_threads = 0;
    std::size_t max_in_flight = 0;
    ErrorHandler on_error;  // may also be set with set_error_handler()
};

// An immutable (request frames are read-only) duplex server on channel CH.
//
// Thread safety: start, stop, set_error_handler and the destructor must not run concurrently
// with each other; is_running and the counters may be called from any thread.
class ImmutableDuplexServer {
public:
    // Validates the channel name, the request BufferConfig and the options; creates nothing yet.
    // Throws InvalidNameException, InvalidArgumentException (naming the channel and the value).
    ImmutableDuplexServer(std::string channel, const BufferConfig& request_config = {},
                          DuplexServerOptions options = {});
    ~ImmutableDuplexServer();  // stop()
    ImmutableDuplexServer(ImmutableDuplexServer&&) noexcept;
    ImmutableDuplexServer& operator=(ImmutableDuplexServer&&) noexcept;
    ImmutableDuplexServer(const ImmutableDuplexServer&) = delete;
    ImmutableDuplexServer& operator=(const ImmutableDuplexServer&) = delete;

    // Creates CH_request synchronously (so a client may attach as soon as this returns) and
    // starts serving on a background thread (plus workers in ThreadPool mode). Clients are
    // served one after another, for as long as the server runs. Does not block.
    // Throws UsageException (already running; or a RequestHandler with ThreadPool mode: such a
    // handler needs the one response Writer and cannot run concurrently, pass a
    // PooledRequestHandler), InvalidArgumentException (empty handler),
    // ReaderAlreadyConnectedException (a live server owns CH already), ZeroBufferException (OS).
    void start(RequestHandler handler, InitHandler on_init = {},
               ProcessingMode mode = ProcessingMode::SingleThread);
    void start(PooledRequestHandler handler, InitHandler on_init = {},
               ProcessingMode mode = ProcessingMode::ThreadPool);

    // Stops serving and removes CH_request (shared memory, semaphores, lock file); detaches from
    // the client's CH_response (the client then gets WriterDeadException after the responses
    // already written). Returns within about one poll interval plus the remaining run time of
    // any handler that is executing (user code cannot be interrupted). In ThreadPool mode,
    // responses already produced are still written if the client's ring has room; requests not
    // yet handled are dropped. Idempotent; never throws. Called from inside a handler or the
    // error handler it only requests the stop (the thread cannot join itself).
    void stop() noexcept;

    // True from start() until stop() or a fatal error.
    bool is_running() const noexcept;
    // True while a client is attached (its request Writer is connected).
    bool is_client_connected() const noexcept;

    // Replaces the error handler. Throws UsageException while the server is running.
    void set_error_handler(ErrorHandler handler);

    const std::string& channel() const noexcept;
    std::uint64_t requests_handled() const noexcept;  // over all clients
    std::uint64_t clients_served() const noexcept;    // connections that reached the server

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

struct DuplexClientOptions {
    BufferConfig response_config = default_response_config();
    // How long the constructor (and a reconnect) waits for a server: for CH_request to exist
    // and for the server to attach to CH_response.
    std::chrono::milliseconds connect_timeout{5000};
    // Options of the request Writer: write_timeout is how long a send may wait for space in
    // the server's request ring.
    WriterOptions request_writer{};
    // Options of the response Reader (how the client waits for responses, prefaulting, checks).
    ReaderOptions response_reader{};
    // Client metadata written into CH_request at every (re)connect, before the first request;
    // the server's on_init receives it. Also settable with set_metadata().
    std::vector<std::byte> metadata;
};

// A client of channel CH. Owns CH_response (removed on close), writes requests into CH_request.
//
// Thread safety: not thread-safe; use from one thread at a time (only pending_responses() and
// reconnects() may be called from any thread). Frames returned by receive_response may be released
// from any thread, in any order, even after the client is closed.
//
// Reconnection. The client notices that the server went away (stopped, restarted, crashed, or
// disconnected this client under ResponsePolicy::ExactlyOne) when a send finds CH_request
// closed, when receive_response finds the response stream ended, or, before a send after
// 20 ms of inactivity, by checking the server process. Then:
//   * if no request is waiting for its response, the next send/acquire reconnects silently
//     (waiting up to connect_timeout for a server) and goes on;
//   * otherwise the call throws (ReaderDeadException from send, WriterDeadException from
//     receive) naming how many requests went unanswered; those responses are lost and never
//     delivered, and the next send reconnects.
// Reconnecting re-creates CH_response, so nothing of the old connection can be mistaken for a
// response to a new request.
class DuplexClient {
public:
    // Creates CH_response, then waits up to connect_timeout for a server: attaches to
    // CH_request (retrying while it does not exist yet) and waits until the server has attached
    // to CH_response. Blocks. Throws InvalidNameException, InvalidArgumentException,
    // ReaderAlreadyConnectedException (another live client owns CH_response),
    // WriterAlreadyConnectedException (another live client is attached to CH_request after
    // connect_timeout), BufferNotFoundException (no server appeared within connect_timeout),
    // DuplexTimeoutException (a server exists but never attached to CH_response).
    explicit DuplexClient(std::string channel, DuplexClientOptions options = {});
    ~DuplexClient();  // close()
    DuplexClient(DuplexClient&&) noexcept;
    DuplexClient& operator=(DuplexClient&&) noexcept;
    DuplexClient(const DuplexClient&) = delete;
    DuplexClient& operator=(const DuplexClient&) = delete;

    // Sends one request (copied into the request ring); returns its frame sequence number in
    // this connection (1, 2, ...). Blocks while the request ring is full, up to the request
    // write timeout; may block up to connect_timeout to reconnect (see above).
    // Throws InvalidFrameSizeException (empty), FrameTooLargeException, BufferFullException,
    // ReaderDeadException (server gone with requests unanswered), the constructor's exceptions
    // on reconnect, UsageException (a request buffer is pending), ObjectClosedException.
    std::uint64_t send_request(std::span<const std::byte> data);
    std::uint64_t send_request(const void* data, std::size_t size);

    // Zero-copy send: reserves `size` bytes in the request ring (blocking and throwing like
    // send_request), returns them to fill; commit_request() publishes the request and returns
    // its sequence; abandon_request() drops it (nothing is sent).
    std::span<std::byte> acquire_request_buffer(std::size_t size);
    std::uint64_t commit_request();
    void abandon_request() noexcept;

    // Waits up to `timeout` (> 0) for the next response. Returns an invalid Frame on timeout.
    // Zero-copy: the frame holds its space in CH_response until released or destroyed.
    // Blocks. Throws WriterDeadException once the server is gone and every response it wrote
    // has been received (naming the unanswered requests), InvalidArgumentException (timeout),
    // SequenceError/CorruptBufferException (broken response stream), ObjectClosedException.
    Frame receive_response(std::chrono::milliseconds timeout);

    // Sets the metadata for the server's on_init; written into CH_request now and again at every
    // reconnect. Throws UsageException if a request was already sent in this connection,
    // MetadataTooLargeException (8 + size > the request buffer's metadata block),
    // MetadataAlreadyWrittenException (set twice in one connection).
    void set_metadata(std::span<const std::byte> metadata);

    // True if the server's request Reader and its response Writer are both attached and their
    // processes alive. Does not block (a few syscalls).
    bool is_server_connected() const;

    // Requests sent in this connection whose response has not been received yet.
    std::uint64_t pending_responses() const noexcept;
    std::uint64_t reconnects() const noexcept;  // successful reconnections after the first
    const std::string& channel() const noexcept;

    // Detaches from CH_request (writer_pid = 0) and removes CH_response. Frames already received
    // stay valid. Idempotent; never throws. The destructor calls it.
    void close() noexcept;
    bool is_open() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Factory (the peers' entry point)
// ---------------------------------------------------------------------------------------------

class DuplexChannelFactory {
public:
    // ImmutableDuplexServer(channel, request_config, options); not started.
    ImmutableDuplexServer create_immutable_server(std::string channel, const BufferConfig& request_config = {},
                                                  DuplexServerOptions options = {}) const;
    // DuplexClient(channel, options): connects (blocks up to options.connect_timeout).
    DuplexClient create_client(std::string channel, DuplexClientOptions options = {}) const;
    DuplexClient create_client(std::string channel, const BufferConfig& response_config,
                               std::chrono::milliseconds connect_timeout = std::chrono::seconds(5)) const;
    // True once a live server has created CH_request; polls until `timeout`. Does not attach.
    static bool wait_exists(std::string_view channel, std::chrono::milliseconds timeout);
};

}  // namespace zerobuffer
