// Duplex server, single_thread mode: the handler runs on the server thread and writes straight
// into the client's response ring (the real Writer, or a ResponseWriter over it); the
// one-response rule is checked from the Writer's frame count once the handler has returned.
#include <fmt/format.h>

#include "duplex/response_sink.h"
#include "duplex/server_impl.h"

namespace zerobuffer {

void ImmutableDuplexServer::Impl::handle_single(Frame request) {
    Writer& writer = *response_;
    const std::uint64_t before = writer.frames_written();
    const std::uint64_t number = connection_.requests;
    std::exception_ptr error;
    requests_handled_.fetch_add(1, std::memory_order_relaxed);  // before the handler can publish
    try {
        if (writer_handler_) {
            writer_handler_(request, writer);
        } else {
            detail::ResponseSink sink(&writer, max_frame_.load(), channel_, exactly_one());
            ResponseWriter response = detail::ResponseWriterAccess::make(sink);
            handler_(request, response);
        }  // a frame the handler left reserved in `sink` is abandoned here
    } catch (...) {
        error = std::current_exception();
    }
    if (writer.has_pending_frame()) writer.abandon_frame();
    request.release();  // after the handler, as the peers do
    const std::uint64_t written = writer.frames_written() - before;

    if (error) {
        if (detail::holds<ReaderDeadException>(error) || !writer.is_reader_connected()) {
            end_connection(std::nullopt, true);  // the client went away under the handler
            return;
        }
        report(DuplexErrorKind::handler_failed,
               fmt::format("duplex channel '{}': the handler threw on request {} of client pid {} after writing {} "
                           "response frame(s): {}",
                           channel_, number, connection_.client_pid, written, detail::describe(error)),
               error, number, connection_.client_pid);
    }
    if (exactly_one() && written != 1) {
        DuplexError e;
        e.kind = written == 0 ? DuplexErrorKind::response_missing : DuplexErrorKind::too_many_responses;
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

}  // namespace zerobuffer
