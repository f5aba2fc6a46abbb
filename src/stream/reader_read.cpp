// Reader: finding frames, waiting for them, and noticing the writer's death.
//
// Two ways to find the next frame (FrameDiscovery, docs/protocol.md §3.4):
//   positions  units in [read_pos, payload_write_pos) are published; equal positions mean an
//              empty ring unless it is completely full (no free byte and none held by us).
//              No semaphore operation per frame: sem-w posts are taken only before sleeping.
//   posts      one sem-w post per frame, then written_count > read_count, as every peer reads.
// Both consume units with the pure ring::next_unit and queue them for release in ring order.
#include <fmt/format.h>

#include "core/deadline.h"
#include "core/names.h"
#include "stream/frame_access.h"
#include "stream/os_errors.h"
#include "stream/reader_impl.h"
#include "stream/spin.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

bool Reader::Impl::apply(const ring::Unit& u) {
    switch (u.kind) {
        case ring::UnitKind::corrupt:
            corrupt(fmt::format("{} (offset {}, payload_size {}, sequence_number {}, ring size {})", u.problem, u.offset,
                                u.header.payload_size, u.header.sequence_number, payload_size_));
        case ring::UnitKind::wrap:
        case ring::UnitKind::standalone_wrap:
            count(wraps_);
            [[fallthrough]];
        case ring::UnitKind::implicit_wrap:
            queue_->push_waste(u.waste);
            cursor_ = u.next;
            queue_->set_cursor(cursor_.read_pos, cursor_.read_count);
            if (strict_) queue_->drain();
            return false;
        case ring::UnitKind::frame:
            break;
    }
    taken_ = {queue_->push_frame(ring::wire_size(u.size)), u.offset, u.size, u.sequence};
    cursor_ = u.next;
    queue_->set_cursor(cursor_.read_pos, cursor_.read_count);
    if (strict_) queue_->drain();
    return true;
}

// The frame taken last, handed out: built once, in the caller's return slot.
Frame Reader::Impl::deliver() {
    const Taken t = taken_;
    Frame frame = detail::FrameAccess::make(queue_, t.slot, ring_.data() + t.offset + protocol::kFrameHeaderSize,
                                            static_cast<std::size_t>(t.size), t.sequence);
    count(frames_read_);
    count(bytes_read_, t.size);
    writer_.mark_seen();
    note_writer(t.sequence);
    if (t.sequence != expected_sequence_) {
        // Every writer starts at 1, and a writer may be replaced between two reads without the
        // reader ever seeing writer_pid change: a 1 is a restart, anything else out of order is
        // an error (thrown after the frame is consumed, so the stream can go on).
        const bool restart = t.sequence == protocol::kFirstSequence;
        if (options_.verify_sequence && !restart) {
            const std::uint64_t expected = expected_sequence_;
            expected_sequence_ = t.sequence + 1;
            throw SequenceError(name_, expected, t.sequence);
        }
    }
    expected_sequence_ = t.sequence + 1;
    return frame;
}

// Identifies the writer soon after it attached, so that its death is seen even if its PID is
// recycled at once (a foreign writer; ours is judged by its liveness lock).
void Reader::Impl::look_at_writer() {
    writer_check_countdown_ = kWriterCheckEvery;
    // Reading by position takes sem-w posts only before sleeping; a reader that never sleeps
    // must still keep a foreign writer's posts from reaching SEM_VALUE_MAX (ours caps them).
    if (by_position_ && sem_write_->value() > kStalePostLimit) {
        for (int n = sem_write_->value() - kStalePostLimit / 2; n > 0 && sem_write_->try_wait(); --n) {
        }
    }
    const std::uint64_t pid = oieb_.writer_pid();
    if (pid != writer_.last_pid()) {
        detail::with_buffer_context(name_, [&] { writer_.identify(pid); });
        cooperative_writer_.store(writer_.cooperative() ? pid : 0, std::memory_order_relaxed);
    }
}

// Whether the unit at the read position is published, by the writer's position (every writer
// stores write_pos after the units before it). `write_pos` receives the position it saw.
bool Reader::Impl::unit_at_read_pos_published(std::uint64_t& write_pos) {
    const std::uint64_t wp = oieb_.write_pos();
    if (wp > payload_size_) corrupt(fmt::format("payload_write_pos is {}, beyond payload_size {}", wp, payload_size_));
    write_pos = wp == payload_size_ ? 0 : wp;
    if (write_pos != cursor_.read_pos) return true;
    // Equal positions: empty, or completely full. Held bytes first (see unreturned_bytes).
    const std::uint64_t unreturned = queue_->unreturned_bytes();
    if (unreturned != 0) return false;
    return ring::unit_published(payload_size_, cursor_.read_pos, wp, ring::ring_full(oieb_.payload_free_bytes(), unreturned));
}

bool Reader::Impl::published_now() {
    const bool published = unit_at_read_pos_published(cached_write_pos_);
    queue_->set_known_write_pos(cached_write_pos_);
    return published;
}

// A wrap with no frame after it yet (a standalone marker, or a marker the writer published
// before the frame) leaves its waste queued: it is returned at once, as the writer of a
// standalone wrap waits for exactly that space.
bool Reader::Impl::take_by_position() {
    bool wrapped = false;
    for (;;) {
        if (cursor_.read_pos == cached_write_pos_ && !published_now()) {
            if (wrapped) queue_->drain();
            return false;
        }
        if (apply(ring::next_unit(payload_size_, cursor_, ring_))) return true;
        wrapped = true;
    }
}

bool Reader::Impl::take_by_post() {
    bool wrapped = false;
    for (;;) {
        if (!posted_) {
            if (!sem_write_->try_wait()) {
                if (wrapped) queue_->drain();
                return false;
            }
            posted_ = true;
        }
        // A post with nothing behind it is dropped: the counters show no unit, or the writer has
        // not moved past the unit at the read position (a late or third-party post; a Python
        // writer's phantom wrap counts make the counters alone unreliable).
        std::uint64_t write_pos = 0;
        if (oieb_.written_count() <= cursor_.read_count || !unit_at_read_pos_published(write_pos)) {
            posted_ = false;
            continue;
        }
        const ring::Unit u = ring::next_unit(payload_size_, cursor_, ring_);
        if (u.kind == ring::UnitKind::frame || u.kind == ring::UnitKind::standalone_wrap) posted_ = false;
        if (apply(u)) return true;
        wrapped = true;
    }
}

// Posts mode only. A frame whose post never came (the writer was killed between counting and
// posting it, or a third process took the post). It is taken only if the writer has moved past
// it (every writer stores write_pos after the units before it) and its header carries exactly
// the expected sequence: a count alone may be a Python writer's phantom wrap count.
bool Reader::Impl::take_unposted() {
    if (oieb_.written_count() <= cursor_.read_count) return false;
    ring::ReaderCursor probe = cursor_;
    ring::Unit u = ring::next_unit(payload_size_, probe, ring_);
    int wraps = 0;
    while ((u.kind == ring::UnitKind::wrap || u.kind == ring::UnitKind::implicit_wrap) && wraps++ < 2) {
        probe = u.next;
        u = ring::next_unit(payload_size_, probe, ring_);
    }
    const std::uint64_t wp = oieb_.write_pos();
    const std::uint64_t at = u.offset;
    if (u.kind != ring::UnitKind::frame || u.sequence != expected_sequence_ || (wp == payload_size_ ? 0 : wp) == at) {
        return false;
    }
    for (;;) {  // apply the wraps in front of it, then the frame
        if (apply(ring::next_unit(payload_size_, cursor_, ring_))) return true;
    }
}

Frame Reader::Impl::try_read_frame() {
    ensure_open();
    queue_->claim_role();
    if (queue_->batch_due()) queue_->drain_batch();
    if (take()) return deliver();
    queue_->drain();  // nothing to read: give back what was released (no syscall if nothing)
    return {};
}

Frame Reader::Impl::read_frame(std::chrono::milliseconds timeout) {
    ensure_open();
    if (timeout.count() < 0) detail::validate_wait_time(name_, timeout, "read timeout");
    queue_->claim_role();
    if (queue_->batch_due()) queue_->drain_batch();
    if (take()) return deliver();
    queue_->drain();  // the writer may be waiting for this space
    verify_fields();
    if (timeout.count() == 0) return {};
    return detail::with_buffer_context(name_, [&] {
        return wait_for_frame(detail::deadline_after<Clock>(Clock::now(), timeout));
    });
}

// The fields only this reader writes, or nobody does. They are never used for reading (every
// offset comes from our own copies), so they are checked when the reader is about to wait, not
// per frame: tampering is reported, and it costs nothing while frames flow.
void Reader::Impl::verify_fields() const {
    auto check = [&](const char* field, std::uint64_t got, std::uint64_t expected, const char* expectation) {
        if (got != expected) corrupt(fmt::format("{} is {}, {} {}", field, got, expectation, expected));
    };
    check("oieb_size", oieb_.oieb_size(), protocol::kOiebSize, "expected");
    check("payload_size", oieb_.payload_size(), payload_size_, "expected");
    check("metadata_size", oieb_.metadata_size(), metadata_size_, "expected");
    if (const auto t = queue_->take_tampering()) check(t->field, t->found, t->expected, "this reader left it at");
    // payload_free_bytes is not checked against S here: a Python writer stores write_pos before
    // it takes the frame's space, so a reader that returns the space quickly can briefly see
    // more than S. Nothing here depends on it; our writer checks it when it reads it.
}

Frame Reader::Impl::wait_for_frame(Clock::time_point deadline) {
    const auto started = Clock::now();
    auto delivered = [&] {
        spin_.record(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started));
        return deliver();
    };
    if (detail::spin_for(spin_.budget(), deadline, [&] { return take(); })) return delivered();
    for (;;) {
        if (by_position_) {
            // Posts are hints here; take the stale ones before sleeping, looking again now and then.
            for (int n = 1; sem_write_->try_wait(); ++n) {
                if (n % 64 == 0 && take()) return delivered();
            }
        }
        if (take()) return delivered();
        const auto now = Clock::now();
        const bool last_slice = now >= deadline;
        if (!last_slice) {
            count(blocked_waits_);
            if (sem_write_->wait_until(std::min(deadline, now + options_.wait.liveness_interval))) {
                if (!by_position_) posted_ = true;
                continue;
            }
        }
        // A slice without a post: is the segment intact, is the writer still there? (It may leave
        // a last frame.)
        check_segment();
        if (check_writer_or_throw()) return delivered();
        if (!by_position_ && take_unposted()) return delivered();
        if (last_slice) return {};
    }
}

// Throws WriterDeadException if a writer had connected and is now gone or dead, unless a last
// frame is still there: then true, with that frame taken.
bool Reader::Impl::check_writer_or_throw() {
    const std::uint64_t pid = oieb_.writer_pid();
    const detail::PeerState state = writer_.check(pid);
    cooperative_writer_.store(writer_.cooperative() ? pid : 0, std::memory_order_relaxed);
    using detail::PeerState;
    if (state == PeerState::alive || state == PeerState::unknown) return false;
    if (state == PeerState::absent && !writer_.ever_seen()) return false;  // nobody connected yet
    writer_.mark_seen();                                                     // a writer existed and died
    // A last frame written as it left: posted, or (posts mode) counted but never posted.
    if (take()) return true;
    if (!by_position_ && take_unposted()) return true;
    if (state == PeerState::absent) {
        throw WriterDeadException(fmt::format("buffer '{}': the writer disconnected and no frame is left", name_));
    }
    throw WriterDeadException(fmt::format("buffer '{}': the writer process (pid {}) died", name_, pid));
}

}  // namespace zerobuffer
