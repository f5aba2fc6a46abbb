// ResponseWriter and the sink behind it.
#include <fmt/format.h>

#include "duplex/response_sink.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer {
namespace detail {

void ResponseSink::check(std::size_t size) const {
    if (has_pending_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': a response frame buffer is pending; commit_frame() or abandon_frame() first", channel_));
    }
    if (exactly_one_ && frames_ != 0) {
        throw UsageException(fmt::format(
            "duplex channel '{}': this request already has its response; ResponsePolicy::exactly_one allows one "
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

void ResponseSink::write(std::span<const std::byte> data) {
    check(data.size());
    if (direct_ != nullptr) {
        direct_->write_frame(data);
    } else {
        staged_.emplace_back(data.begin(), data.end());
    }
    ++frames_;
}

std::span<std::byte> ResponseSink::acquire(std::size_t size) {
    check(size);
    std::span<std::byte> buffer;
    if (direct_ != nullptr) {
        reservation_ = direct_->acquire_frame(size);
        buffer = reservation_.data();
    } else {
        pending_.resize(size);
        buffer = pending_;
    }
    has_pending_ = true;
    return buffer;
}

void ResponseSink::commit() {
    if (!has_pending_) {
        throw UsageException(fmt::format(
            "duplex channel '{}': commit_frame() without a pending get_frame_buffer()", channel_));
    }
    has_pending_ = false;  // whatever happens below, nothing is pending any more
    if (direct_ != nullptr) {
        (void)reservation_.commit();
    } else {
        staged_.push_back(std::move(pending_));
        pending_ = {};
    }
    ++frames_;
}

void ResponseSink::abandon() noexcept {
    if (!has_pending_) return;
    reservation_.abandon();
    pending_.clear();
    has_pending_ = false;
}

}  // namespace detail

// ---- ResponseWriter: a handle on the sink ----

void ResponseWriter::write_frame(std::span<const std::byte> data) { sink_->write(data); }

void ResponseWriter::write_frame(const void* data, std::size_t size) {
    if (data == nullptr && size != 0) {
        throw InvalidArgumentException(
            fmt::format("duplex channel '{}': response data is null ({} bytes)", sink_->channel(), size));
    }
    sink_->write(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
}

std::span<std::byte> ResponseWriter::get_frame_buffer(std::size_t size) { return sink_->acquire(size); }
void ResponseWriter::commit_frame() { sink_->commit(); }
void ResponseWriter::abandon_frame() noexcept { sink_->abandon(); }
std::size_t ResponseWriter::frames() const noexcept { return sink_->frames(); }
std::size_t ResponseWriter::max_frame_size() const noexcept { return sink_->max_frame(); }

}  // namespace zerobuffer
