// Duplex server, thread_pool mode: the server thread submits numbered requests to the
// InOrderDispatcher; a worker runs the handler into a staging ResponseWriter (process); the
// dispatcher hands the results back strictly in request order (deliver), which checks the
// one-response rule and writes them to the client's response ring.
//
// Connection changes bump the connection id. Results of an older connection still pass through
// the dispatcher (tickets are global, so the order never has gaps) but are dropped unwritten,
// and queued requests of an older connection are not even handed to the handler.
#include <fmt/format.h>

#include "duplex/response_sink.h"
#include "duplex/server_impl.h"

namespace zerobuffer {

void ImmutableDuplexServer::Impl::start_pool() {
    dispatcher_.emplace(
        worker_count_, max_in_flight_, [this](Job& job) { return process(job); },
        [this](std::uint64_t, Result& result) { deliver(result); });
}

void ImmutableDuplexServer::Impl::dispatch(Frame request) {
    Job job;
    job.connection = connection_id_;
    job.request = connection_.requests;
    job.frame = std::move(request);
    // Back-pressure: waits while max_in_flight requests are not yet answered on the wire,
    // giving up (the request is dropped) when the server stops or the connection breaks.
    (void)dispatcher_->submit(std::move(job), options_.poll_interval, [this] {
        return stop_requested_.load(std::memory_order_acquire) ||
               broken_.load(std::memory_order_acquire) != kNotBroken;
    });
}

// On a worker.
ImmutableDuplexServer::Impl::Result ImmutableDuplexServer::Impl::process(Job& job) {
    const OwnThread mark(this);
    Result result;
    result.connection = job.connection;
    result.request = job.request;
    if (connection_live(job.connection) && !stop_requested_.load()) {
        result.ran = true;
        requests_handled_.fetch_add(1, std::memory_order_relaxed);  // before the response can be published
        detail::ResponseSink sink(nullptr, max_frame_.load(), channel_, exactly_one());
        ResponseWriter response = detail::ResponseWriterAccess::make(sink);
        try {
            handler_(job.frame, response);
        } catch (...) {
            result.error = std::current_exception();
        }
        sink.abandon();
        result.frames = sink.take_staged();
    }
    job.frame.release();  // after the handler; frames may be released in any order
    return result;
}

// In request order, one at a time, on the worker that completed the flush.
void ImmutableDuplexServer::Impl::deliver(Result& result) {
    const OwnThread mark(this);
    if (!result.ran || !connection_live(result.connection)) return;  // stale: its connection ended
    const std::size_t n = result.frames.size();
    if (result.error) {
        report(DuplexErrorKind::handler_failed,
               fmt::format("duplex channel '{}': the handler threw on request {} after producing {} response "
                           "frame(s): {}",
                           channel_, result.request, n, detail::describe(result.error)),
               result.error, result.request);
    }
    if (exactly_one() && n != 1) {
        report(n == 0 ? DuplexErrorKind::response_missing : DuplexErrorKind::too_many_responses,
               fmt::format("duplex channel '{}': request {} got {} response frames instead of exactly 1; the FIFO "
                           "pairing is broken, so the client is disconnected (it receives the earlier responses, "
                           "then WriterDead)",
                           channel_, result.request, n),
               result.error, result.request);
        break_connection(result.connection, kBrokenReported);
        return;
    }
    for (const auto& frame : result.frames) {
        if (!write_pooled(result.connection, result.request, frame)) return;
    }
}

// Writes one response frame, waiting for room in poll-interval slices (checking stop(), the
// client's liveness and the connection between slices) up to the response write timeout.
bool ImmutableDuplexServer::Impl::write_pooled(std::uint64_t connection, std::uint64_t request,
                                               std::span<const std::byte> frame) {
    std::lock_guard lock(write_mutex_);
    const auto deadline = detail::deadline_in(options_.response_writer.write_timeout);
    for (;;) {
        if (!response_ || !connection_live(connection)) return false;
        try {
            (void)response_->write_frame(frame);
            return true;
        } catch (const BufferFullException&) {
            // One poll interval passed without room: check why before waiting again.
            if (!response_->is_reader_connected()) {
                break_connection(connection, kBrokenClientGone);
                return false;
            }
            if (stop_requested_.load()) return false;
            if (detail::DuplexClock::now() >= deadline) {
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
    {
        std::lock_guard lock(break_mutex_);
        if (connection != active_connection_.load()) return;
        int expected = kNotBroken;
        broken_.compare_exchange_strong(expected, why);
    }
    dispatcher_->wake();  // a submit waiting for room gives up: the server thread ends the connection
}

}  // namespace zerobuffer
