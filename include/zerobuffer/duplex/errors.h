// Duplex channel errors: the timeout exception, and the events a server reports to its error
// handler (it never throws them at the caller: the server thread cannot).
#pragma once

#include "zerobuffer/export.h"

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "zerobuffer/exceptions.h"

namespace zerobuffer {

// A connect or attach wait that expired. code() is std::errc::timed_out (generic category).
class ZEROBUFFER_API DuplexTimeoutException : public ZeroBufferException {
public:
    explicit DuplexTimeoutException(const std::string& message);
};

enum class DuplexErrorKind {
    handler_failed,          // the handler threw (exception set)
    init_failed,             // on_init threw (exception set); serving goes on
    response_missing,        // exactly_one: the handler wrote no response; client disconnected
    too_many_responses,      // exactly_one: the handler wrote more than one; client disconnected
    client_disconnected,     // the client closed its side (graceful); waiting for the next client
    client_died,             // the client process died; its response buffer was reclaimed
    response_attach_failed,  // a client sent requests but its CH_response never became usable
    response_write_failed,   // a response could not be written (buffer full past the timeout)
    protocol_error,          // a corrupt request buffer or a sequence error; client disconnected
    fatal,                   // the server cannot go on (e.g. CH_request cannot be re-created); it stopped
};
// Any thread; never throws. "unknown" for a value outside the enumeration.
[[nodiscard]] ZEROBUFFER_API const char* to_string(DuplexErrorKind kind) noexcept;

struct DuplexError {
    DuplexErrorKind kind{};
    std::string message;           // names the channel and the numbers
    std::exception_ptr exception;  // the underlying exception, if there was one
    std::uint64_t request = 0;     // 1-based request number within the client's connection; 0: none
    std::uint64_t client_pid = 0;  // the client concerned, 0 if unknown
};

// Called on one of the server's threads (the server thread, or a worker in thread_pool mode);
// calls may come from several workers at once. Must not block for long. Exceptions thrown by
// it are swallowed. It may call stop() (which then only requests the stop). It is never called
// once stop() (or the destructor) has returned, and set_error_handler cannot replace it while
// a call may be in progress (see ImmutableDuplexServer::set_error_handler).
using ErrorHandler = std::function<void(const DuplexError& error)>;

}  // namespace zerobuffer
