#include "bridge/receiver_local.h"

#include <algorithm>
#include <cstring>

#include "bridge/log.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge::detail {
namespace {
constexpr auto kWriteSlice = std::chrono::milliseconds(100);
constexpr std::uint64_t kFrameHeader = 16;  // a v1 frame header in the ring
}  // namespace

bool BufferSink::try_attach() {
    if (writer_) return true;
    try {
        Writer writer(name_, options_);
        max_frame_ = writer.health().payload_size;
        writer_.emplace(std::move(writer));
    } catch (const ZeroBufferException& e) {
        if (last_attach_error_ != e.what()) {
            last_attach_error_ = e.what();
            log(LogLevel::info, "{}: local buffer not ready ({}); retrying", who_, e.what());
        }
        return false;
    }
    last_attach_error_.clear();
    stats_.local_attached.store(true, std::memory_order_relaxed);
    log(LogLevel::info, "{}: attached to local buffer '{}' (ring {} bytes)", who_, name_, max_frame_);
    write_metadata_if_due();
    return true;
}

void BufferSink::set_metadata(std::span<const std::byte> metadata) {
    if (metadata.size() == metadata_.size() && std::equal(metadata.begin(), metadata.end(), metadata_.begin())) return;
    metadata_.assign(metadata.begin(), metadata.end());
    metadata_conflict_logged_ = false;
    write_metadata_if_due();
}

void BufferSink::write_metadata_if_due() {
    if (!writer_ || metadata_.empty()) return;
    try {
        if (!writer_->metadata_written()) {
            writer_->set_metadata(metadata_);
            return;
        }
    } catch (const ReaderDeadException& e) {
        detach(e);
        return;
    } catch (const ZeroBufferException& e) {  // too large for the consumer's metadata block
        stats_.rejected.add();
        log(LogLevel::error, "{}: cannot write the metadata ({} bytes) into '{}': {}", who_, metadata_.size(), name_, e.what());
        return;
    }
    if (!metadata_conflict_logged_) {
        metadata_conflict_logged_ = true;
        log(LogLevel::debug, "{}: '{}' holds metadata already (written once per buffer); kept", who_, name_);
    }
}

void BufferSink::detach(const std::exception& why) {
    writer_.reset();
    stats_.local_attached.store(false, std::memory_order_relaxed);
    stats_.local_peer_losses.add();
    log(LogLevel::warn, "{}: local consumer of '{}' gone ({}); waiting for it to come back", who_, name_, why.what());
}

LocalSink::Result BufferSink::write(std::span<const std::byte> payload, Backpressure policy, const std::atomic<bool>& stop) {
    if (!writer_) return Result::detached;
    if (payload.size() > max_frame_ || kFrameHeader + payload.size() > max_frame_) return Result::oversized;
    try {
        FrameReservation reservation;
        if (policy == Backpressure::drop) {
            reservation = writer_->try_acquire_frame(payload.size(), std::chrono::milliseconds(0));
            if (!reservation) return Result::dropped;
        } else {
            while (!reservation) {
                if (stop.load(std::memory_order_relaxed)) return Result::stopped;
                reservation = writer_->try_acquire_frame(payload.size(), kWriteSlice);
            }
        }
        std::memcpy(reservation.data().data(), payload.data(), payload.size());
        reservation.commit();
        return Result::written;
    } catch (const ReaderDeadException& e) {
        detach(e);
        return Result::detached;
    } catch (const FrameTooLargeException&) {
        return Result::oversized;
    }
}

}  // namespace zerobuffer::bridge::detail
