// Writer: placing a frame, waiting for space, publishing, and zero-copy reservations.
//
// The steady state costs one load of reader_pid (a line the writer writes anyway), the copy,
// one fetch_sub of payload_free_bytes, two stores and one sem_post (no syscall without a
// sleeping reader). payload_free_bytes is read only when our own copy of it says a frame does
// not fit; the clock is read every few frames, adaptively, to probe the reader's liveness.
#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "core/deadline.h"
#include "stream/local_readers.h"
#include "stream/os_errors.h"
#include "stream/spin.h"
#include "stream/writer_impl.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

void Writer::Impl::reject_frame(const void* data, std::size_t size) const {
    ensure_open();
    if (active_ != nullptr) {
        throw UsageException(fmt::format("buffer '{}': a frame buffer of {} bytes is pending; commit or abandon it first",
                                         name_, pending_ ? pending_->size : 0));
    }
    if (size == 0) throw InvalidFrameSizeException(fmt::format("buffer '{}': frames must not be empty (size 0)", name_));
    if (data == nullptr) throw InvalidArgumentException(fmt::format("buffer '{}': frame pointer is null", name_));
    if (ring::exceeds_ring(payload_size_, size)) {
        throw FrameTooLargeException(fmt::format(
            "buffer '{}': a frame of {} bytes (+16 header = {}) exceeds the {}-byte payload ring", name_, size,
            ring::wire_size(size), payload_size_));
    }
    throw UsageException(fmt::format("buffer '{}': a frame of {} bytes was refused", name_, size));  // not reached
}

// Reader liveness on the write path. reader_pid == 0 (a graceful close) is seen at once; a
// dead reader within about a liveness interval, by probing it when the interval has passed.
void Writer::Impl::check_reader(bool probe_now) {
    if (reader_gone_) throw ReaderDeadException(fmt::format("buffer '{}': the reader is gone ({})", name_, reader_gone_));
    if (oieb_.reader_pid() == 0) {
        reader_gone_ = "it closed the buffer";
        throw ReaderDeadException(fmt::format("buffer '{}': the reader closed the buffer", name_));
    }
    if (probe_now) {
        probe_reader();
        return;
    }
    if (--probe_countdown_ != 0) return;
    sample_reader();
}

// Every probe_stride_ frames: read the clock, adapt the stride, probe the reader if an interval
// has passed since the last probe.
void Writer::Impl::sample_reader() {
    const auto now = Clock::now();
    const auto interval = options_.wait.liveness_interval;
    // Aim at about four clock reads per interval, whatever the frame rate.
    const auto since = now - last_sample_;
    if (since < interval / 8 && probe_stride_ < (1u << 16)) probe_stride_ *= 2;
    else if (since > interval / 2 && probe_stride_ > 1) probe_stride_ /= 2;
    probe_countdown_ = probe_stride_;
    last_sample_ = now;
    if (now - last_probe_ >= interval) probe_reader();
}

void Writer::Impl::probe_reader() {
    last_probe_ = Clock::now();
    const std::uint64_t pid = oieb_.reader_pid();
    const detail::PeerState state = detail::with_buffer_context(name_, [&] { return reader_.check(pid); });
    if (state == detail::PeerState::dead || state == detail::PeerState::absent) {
        reader_gone_ = "its process died";  // a dead reader stays dead: every later call fails at once
        throw ReaderDeadException(fmt::format("buffer '{}': the reader process (pid {}) died", name_, pid));
    }
}

bool Writer::Impl::refresh_free(std::uint64_t required) {
    const std::uint64_t free_bytes = oieb_.payload_free_bytes();
    if (free_bytes > payload_size_) corrupt(fmt::format("payload_free_bytes {} is more than payload_size {}", free_bytes, payload_size_));
    cached_free_ = free_bytes;
    return free_bytes >= required;
}

// Waits until `required` bytes are free: spin, then sleep on sem-r in liveness slices.
// false: the deadline passed with the reader alive.
bool Writer::Impl::wait_for_space(std::uint64_t required, std::uint64_t, Clock::time_point deadline) {
    const auto started = Clock::now();
    auto done = [&] {
        spin_.record(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started));
        return true;
    };
    // A reader of this buffer in this process may be holding released space in a batch.
    detail::flush_local_readers(segment_dev_, segment_ino_);
    if (refresh_free(required)) return done();
    if (detail::spin_for(spin_.budget(), deadline, [&] { return refresh_free(required); })) return done();
    for (;;) {
        // Stale sem-r posts are dropped; the check after the drain cannot miss a release,
        // which posts after returning its space.
        for (int i = 0; i < 4096 && sem_read_->try_wait(); ++i) {
        }
        if (refresh_free(required)) return done();
        check_reader(true);
        const auto now = Clock::now();
        if (now >= deadline) return false;
        count(blocked_waits_);
        if (!sem_read_->wait_until(std::min(deadline, now + options_.wait.liveness_interval))) check_segment();
        if (refresh_free(required)) return done();
    }
}

// Chooses where a frame of `size` bytes goes and waits until it fits. nullopt: the ring stayed
// full past `timeout` (only when not kBlocking).
std::optional<ring::Placement> Writer::Impl::reserve(std::uint64_t size, std::chrono::milliseconds timeout) {
    const std::uint64_t wire = ring::wire_size(size);
    std::optional<Clock::time_point> deadline;  // read the clock only if we have to wait
    for (;;) {
        const ring::Placement placement = ring::plan_write(payload_size_, cursor_.write_pos, wire, cooperative_reader_);
        if (placement.kind == ring::PlacementKind::impossible) {
            const std::uint64_t p = cursor_.write_pos;
            throw FrameTooLargeException(fmt::format(
                "buffer '{}': a frame of {} bytes ({} on the wire) can never be placed at write position {} of the "
                "{}-byte ring with this reader (pid {}, not a zerobuffer reader): the tail of {} bytes is too short "
                "and wrapping would overwrite the wrap marker. A payload of at least 2 x frame + 47 bytes ({} for "
                "this frame) places every frame of that size at any position",
                name_, size, wire, p, payload_size_, oieb_.reader_pid(), p >= payload_size_ ? 0 : payload_size_ - p,
                2 * size + 47));
        }
        check_reader(false);
        if (cached_free_ < placement.required && !refresh_free(placement.required)) {
            const bool blocking = timeout < std::chrono::milliseconds::zero();
            const auto wait = blocking ? options_.write_timeout : timeout;
            if (!deadline) deadline = detail::deadline_after<Clock>(Clock::now(), wait);
            const bool fits = wait.count() > 0 && detail::with_buffer_context(name_, [&] {
                return wait_for_space(placement.required, size, *deadline);
            });
            if (!fits) {
                if (!blocking) return std::nullopt;
                throw BufferFullException(fmt::format(
                    "buffer '{}' is full: a {}-byte frame needs {} free bytes, {} of {} are free after waiting {} ms",
                    name_, size, placement.required, cached_free_, payload_size_, wait.count()));
            }
        }
        if (placement.kind != ring::PlacementKind::standalone_wrap) return placement;
        publish_standalone_wrap();  // our reader passes it and returns the tail; then plan again
    }
}

void Writer::Impl::publish_standalone_wrap() {
    const ring::StandaloneWrap w = ring::plan_standalone_wrap(payload_size_, cursor_);
    ring::write_standalone_marker(ring_, w);
    oieb_.take_free(w.take);                 // release: the marker is complete (ring_commit.h)
    cached_free_ -= w.take;
    oieb_.set_write_pos(w.next.write_pos);
    oieb_.set_written_count(w.next.written_count);
    post_frame();
    cursor_ = w.next;
    count(wraps_);
}

// One sem-w post per unit, as the protocol wants. A reader that never sleeps (ours, finding
// frames by position) takes posts only before it sleeps, so they pile up; past kPostCap pending
// posts one more cannot matter (a reader sleeps only once it has taken them all) and the
// counter must not reach SEM_VALUE_MAX, where sem_post fails (and a Python or C# writer taking
// over would throw). The fence orders our write_pos store before the load of the counter, so a
// reader that drains the posts and then looks at write_pos cannot miss this unit.
void Writer::Impl::post_frame() noexcept {
    if (sem_write_->value() < kPostCap) [[likely]] {
        sem_write_->post();
        return;
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sem_write_->value() == 0) sem_write_->post();
}

void Writer::Impl::publish(const ring::Placement& placement, std::uint64_t size) {
    const ring::Commit c = ring::plan_commit(payload_size_, cursor_, placement, size);
    const std::uint64_t sequence = next_sequence_++;
    ring::write_commit(ring_, c, size, sequence);
    oieb_.take_free(c.take);                 // release: the units are complete (ring_commit.h)
    cached_free_ -= c.take;
    oieb_.set_write_pos(c.next.write_pos);
    oieb_.set_written_count(c.next.written_count);
    post_frame();
    cursor_ = c.next;
    if (c.marker) count(wraps_);
    count(frames_written_);
    count(bytes_written_, size);
}

// The common case without a call: a frame that goes at the write position, fits our own account
// of the free space, with the reader still there and no liveness sample due.
std::optional<ring::Placement> Writer::Impl::place(std::uint64_t size, std::chrono::milliseconds timeout) {
    const ring::Placement placement =
        ring::plan_write(payload_size_, cursor_.write_pos, ring::wire_size(size), cooperative_reader_);
    if (placement.kind == ring::PlacementKind::here && cached_free_ >= placement.required && probe_countdown_ > 1 &&
        reader_gone_ == nullptr && oieb_.reader_pid() != 0) [[likely]] {
        --probe_countdown_;
        return placement;
    }
    return reserve(size, timeout);
}

std::optional<std::uint64_t> Writer::Impl::write(const void* data, std::size_t size,
                                                 std::chrono::milliseconds timeout) {
    check_frame(data, size);
    const auto placement = place(size, timeout);
    if (!placement) return std::nullopt;
    std::memcpy(ring_.data() + placement->offset + protocol::kFrameHeaderSize, data, size);
    const std::uint64_t sequence = next_sequence_;
    publish(*placement, size);
    return sequence;
}

FrameReservation Writer::Impl::acquire(std::size_t size, std::chrono::milliseconds timeout) {
    static const std::byte kAny{};
    check_frame(&kAny, size);
    const auto placement = place(size, timeout);
    FrameReservation r;
    if (!placement) return r;
    pending_ = Pending{*placement, size};
    r.writer_ = this;
    r.data_ = {ring_.data() + placement->offset + protocol::kFrameHeaderSize, size};
    r.sequence_ = next_sequence_;
    r.active_ = &active_;
    active_ = &r;  // follows the reservation through its moves
    return r;
}

std::uint64_t Writer::Impl::commit(FrameReservation& r) {
    ensure_open();
    if (active_ != &r || !pending_) {
        throw UsageException(fmt::format("buffer '{}': this frame reservation is no longer pending", name_));
    }
    const Pending pending = *pending_;
    pending_.reset();
    active_ = nullptr;
    r.writer_ = nullptr;
    if (oieb_.reader_pid() == 0) {
        throw ReaderDeadException(fmt::format("buffer '{}': the reader closed the buffer; frame not published", name_));
    }
    const std::uint64_t sequence = next_sequence_;
    publish(pending.placement, pending.size);
    return sequence;
}

void Writer::Impl::abandon(FrameReservation& r) noexcept {
    if (active_ == &r) {
        active_ = nullptr;
        pending_.reset();
    }
    r.writer_ = nullptr;
}

// ---- FrameReservation ----

std::uint64_t FrameReservation::commit() {
    if (writer_ == nullptr) {
        throw UsageException("commit of a frame reservation that is empty, already committed or abandoned, or whose "
                             "writer was closed");
    }
    return writer_->commit(*this);
}

void FrameReservation::abandon_pending() noexcept { writer_->abandon(*this); }

}  // namespace zerobuffer
