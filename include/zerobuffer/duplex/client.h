// The duplex client: creates CH_response, writes requests into the server's CH_request and
// reads the responses, which answer the requests in FIFO order.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "zerobuffer/config.h"
#include "zerobuffer/duplex/names.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/frame.h"

namespace zerobuffer {

class RequestReservation;

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
// Threads. One thread at a time sends, receives, sets metadata, closes, moves and destroys the
// client (a client shared by several threads needs external locking, as with the peers).
// is_server_connected, is_open, pending_responses, reconnects and channel may be called from
// any thread, also while another thread uses or closes the client (not while it is moved or
// destroyed). Frames returned by receive_response may be released from any thread, in any
// order, even after the client is closed.
//
// Reconnection. The client notices that the server went away (stopped, restarted, crashed, or
// disconnected this client under ResponsePolicy::exactly_one) when a send or commit finds
// CH_request closed, when receive_response finds the response stream ended, or, before a send
// after 20 ms of inactivity, by checking the server's processes. Then:
//   * if no request is waiting for its response, the next send/acquire reconnects silently
//     (waiting up to connect_timeout for a server) and goes on;
//   * otherwise the call throws (ReaderDeadException from a send or commit, WriterDeadException
//     from a receive) naming how many requests went unanswered; those responses are lost and
//     never delivered, and the next send reconnects.
// Whatever a call threw, the next send starts from a usable state: a failed send or commit
// leaves no request buffer pending, a failed reconnect is tried again by the next send.
// Reconnecting re-creates CH_response, so nothing of the old connection can be mistaken for a
// response to a new request.
class ZEROBUFFER_API DuplexClient {
public:
    // Creates CH_response, then waits up to connect_timeout for a server: attaches to
    // CH_request (retrying while it does not exist yet) and waits until the server has attached
    // to CH_response. Blocks. Throws InvalidNameException, InvalidArgumentException,
    // ReaderAlreadyConnectedException (another live client owns CH_response),
    // WriterAlreadyConnectedException (another live client is attached to CH_request after
    // connect_timeout), BufferNotFoundException (no server appeared within connect_timeout),
    // DuplexTimeoutException (a server exists but never attached to CH_response). On a throw
    // nothing is left behind.
    explicit DuplexClient(std::string channel, DuplexClientOptions options = {});
    ~DuplexClient();  // close()
    DuplexClient(DuplexClient&&) noexcept;
    DuplexClient& operator=(DuplexClient&&) noexcept;  // closes this one first
    DuplexClient(const DuplexClient&) = delete;
    DuplexClient& operator=(const DuplexClient&) = delete;

    // Sends one request (copied into the request ring); returns its frame sequence number in
    // this connection (1, 2, ...). Blocks while the request ring is full, up to the request
    // write timeout; may block up to connect_timeout to reconnect (see above).
    // Throws InvalidFrameSizeException (empty), InvalidArgumentException (null data with a
    // size), FrameTooLargeException, BufferFullException, ReaderDeadException (server gone with
    // requests unanswered; nothing sent), the constructor's exceptions on reconnect,
    // UsageException (a request buffer is pending), ObjectClosedException.
    std::uint64_t send_request(std::span<const std::byte> data);
    std::uint64_t send_request(const void* data, std::size_t size);

    // Zero-copy send, the primary form: reserves `size` bytes in the server's request ring
    // (blocking, reconnecting and throwing like send_request) for the caller to fill in place;
    // the reservation's commit() sends it. Destroying it uncommitted sends nothing. At most one
    // request buffer is pending at a time. Makes no heap allocation once connected.
    [[nodiscard]] RequestReservation acquire_request(std::size_t size);

    // The same in the peers' naming, a thin form over acquire_request: acquire_request_buffer
    // returns the bytes to fill, commit_request() sends them and returns the sequence (throws
    // like RequestReservation::commit, and UsageException when nothing is pending),
    // abandon_request() drops them (nothing is sent; never throws).
    [[nodiscard]] std::span<std::byte> acquire_request_buffer(std::size_t size);
    std::uint64_t commit_request();
    void abandon_request() noexcept;

    // Waits up to `timeout` (> 0) for the next response. Returns an invalid Frame on timeout.
    // Zero-copy: the frame holds its space in CH_response until released or destroyed.
    // Blocks. Throws WriterDeadException once the server is gone and every response it wrote
    // has been received (naming the unanswered requests), InvalidArgumentException (timeout),
    // SequenceError/CorruptBufferException (broken response stream), ObjectClosedException.
    [[nodiscard]] Frame receive_response(std::chrono::milliseconds timeout);

    // Sets the metadata for the server's on_init; written into CH_request now and again at every
    // reconnect. Does not block. Throws UsageException if a request was already sent (or is
    // pending) in this connection, MetadataTooLargeException (8 + size > the request buffer's
    // metadata block), MetadataAlreadyWrittenException (set twice in one connection),
    // ObjectClosedException.
    void set_metadata(std::span<const std::byte> metadata);

    // True if the server's request Reader and its response Writer are both attached and their
    // processes alive. Any thread; does not block (a few syscalls); never throws. False once
    // closed. When it returns false, the next send checks the server before sending.
    [[nodiscard]] bool is_server_connected() const noexcept;

    // Requests sent in this connection whose response has not been received yet. Any thread.
    [[nodiscard]] std::uint64_t pending_responses() const noexcept;
    // Successful reconnections after the first connection. Any thread.
    [[nodiscard]] std::uint64_t reconnects() const noexcept;
    // Any thread; "" once moved from.
    [[nodiscard]] const std::string& channel() const noexcept;

    // Detaches from CH_request (writer_pid = 0) and removes CH_response. A pending request
    // buffer is dropped (its reservation becomes invalid). Frames already received stay valid.
    // Idempotent; never throws; does not block. The destructor calls it.
    void close() noexcept;
    // False once closed or moved from. Any thread.
    [[nodiscard]] bool is_open() const noexcept;

private:
    friend class RequestReservation;
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// A request buffer reserved in the server's request ring by DuplexClient::acquire_request.
// Move-only; use it on the client's thread. Whatever outlives what is safe: once its client is
// closed, reconnects, is moved into another object's place or is destroyed, the reservation is
// invalid, data() is empty and commit() throws UsageException.
class ZEROBUFFER_API RequestReservation {
public:
    RequestReservation() noexcept = default;  // invalid
    RequestReservation(RequestReservation&& other) noexcept;
    RequestReservation& operator=(RequestReservation&& other) noexcept;
    RequestReservation(const RequestReservation&) = delete;
    RequestReservation& operator=(const RequestReservation&) = delete;
    ~RequestReservation();  // abandon()

    // The bytes to fill; empty once invalid.
    [[nodiscard]] std::span<std::byte> data() const noexcept { return client_ != nullptr ? data_ : std::span<std::byte>{}; }
    [[nodiscard]] std::size_t size() const noexcept { return data().size(); }
    [[nodiscard]] bool valid() const noexcept { return client_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    // Sends the request; returns its sequence in this connection. Does not block. The
    // reservation is invalid afterwards, whatever happens. Throws UsageException (not valid),
    // ReaderDeadException (the server closed CH_request or died: nothing was sent; the message
    // names the requests still unanswered; the next send reconnects).
    std::uint64_t commit();
    // Drops it: nothing is sent. Idempotent; never throws.
    void abandon() noexcept;

private:
    friend class DuplexClient;
    DuplexClient::Impl* client_ = nullptr;
    std::span<std::byte> data_;
};

}  // namespace zerobuffer
