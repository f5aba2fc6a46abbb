// A byte-level simulation of one writer and one reader sharing a ring, driven by the production
// functions: ring::plan_write, ring::plan_commit / write_commit / plan_standalone_wrap (the
// writer's commit step), ring::next_unit / unit_published / ring_full (the reader's consume step
// and position discovery) and detail::ReleaseFifo (release in ring order).
//
// The writer publishes in micro-steps (data, headers, take space, write_pos, written_count) and
// the reader, releases and drains run between any two of them, so every intermediate state a
// position-reading reader can observe is visited. Two writers: ours (the publication order of
// core/ring_commit.h) and one that publishes like the Python peer (write_pos before the space,
// wrap markers published before the frame behind them). Every byte of every frame is checked
// when it is read and again when it is released; after a full drain all space is back.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "core/release_fifo.h"
#include "core/ring_commit.h"
#include "core/ring_consume.h"

namespace zerobuffer::ring {
namespace {

using detail::ReleaseFifo;
using detail::ReleaseSlot;

enum class WriterKind { ours, python_order };

std::byte byte_of(u64 seq, u64 i) { return static_cast<std::byte>((seq * 131 + i) & 0xFF); }

class Simulation {
public:
    Simulation(u64 S, WriterKind kind, std::uint32_t seed)
        : S_(S), kind_(kind), rng_(seed), ring_(S, std::byte{0xEE}), free_(S) {}

    void run(int steps) {
        for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
            switch (rng_() % 10) {
                case 0: case 1: case 2: case 3: writer_step(); break;
                case 4: case 5: case 6: reader_step(); break;
                case 7: case 8: release_one(); break;
                default: drain(); break;
            }
        }
        // Let the writer finish its frame, then read, release and drain everything.
        for (int i = 0; i < 64 && !pending_.empty(); ++i) writer_micro_step();
        while (reader_step()) {
        }
        while (!held_.empty()) release_one();
        drain();
        EXPECT_EQ(free_, S_) << "accounting drifted";
        EXPECT_EQ(frames_read_, next_sequence_ - 1) << "every frame written was read";
        EXPECT_GT(frames_read_, static_cast<u64>(steps / 40)) << "the simulation made no progress";
        if (kind_ == WriterKind::ours) {
            EXPECT_EQ(refused_small_, 0u) << "frames of at most S - 32 bytes always place";
        }
    }

private:
    // ---- writer: plans a frame, then publishes it one micro-step at a time
    enum class Step { data, headers, take, write_pos, written_count, marker, marker_write_pos, marker_take, marker_count };

    void writer_step() {
        if (pending_.empty()) plan_next_frame();
        if (!pending_.empty()) writer_micro_step();
    }

    u64 next_size() {
        const u64 max_n = S_ - kHeader;
        u64 n = 1;
        switch (rng_() % 4) {
            case 0: n = 1 + rng_() % 16; break;
            case 1: n = 1 + rng_() % (S_ / 4); break;
            case 2: n = 1 + rng_() % max_n; break;
            default: n = max_n - rng_() % 20; break;
        }
        return n == 0 || n > max_n ? 1 : n;
    }

    void plan_next_frame() {
        if (size_ == 0) size_ = next_size();
        const bool cooperative = kind_ == WriterKind::ours;
        const Placement pl = plan_write(S_, cursor_.write_pos, wire_size(size_), cooperative);
        if (pl.kind == PlacementKind::impossible) {
            if (wire_size(size_) <= S_ - kHeader) ++refused_small_;
            size_ = 0;  // refused at once (FrameTooLarge); try another size next time
            return;
        }
        if (writer_free_ < pl.required) {
            writer_free_ = free_;  // refresh our copy of the free space, like the writer does
            if (writer_free_ < pl.required) return;  // full: wait
        }
        if (pl.kind == PlacementKind::standalone_wrap) {
            wrap_ = plan_standalone_wrap(S_, cursor_);
            pending_ = {Step::marker, Step::marker_take, Step::marker_write_pos, Step::marker_count};
            return;
        }
        commit_ = plan_commit(S_, cursor_, pl, size_);
        if (kind_ == WriterKind::ours) {
            pending_ = {Step::data, Step::headers, Step::take, Step::write_pos, Step::written_count};
        } else if (commit_.waste != 0 || commit_.marker) {
            // The Python writer publishes the wrap first (marker, waste, write_pos = 0, count), then the frame.
            pending_ = {Step::marker, Step::marker_take, Step::marker_write_pos, Step::marker_count,
                        Step::data, Step::headers, Step::write_pos, Step::take, Step::written_count};
        } else {
            pending_ = {Step::data, Step::headers, Step::write_pos, Step::take, Step::written_count};
        }
    }

    void writer_micro_step() {
        const Step step = pending_.front();
        pending_.pop_front();
        const bool standalone = wrap_.take != 0;
        switch (step) {
            case Step::data:
                for (u64 i = 0; i < size_; ++i) ring_[commit_.header_at + kHeader + i] = byte_of(next_sequence_, i);
                break;
            case Step::headers:
                if (kind_ == WriterKind::ours) {
                    write_commit(ring_, commit_, size_, next_sequence_);
                } else {
                    store_header(ring_, commit_.header_at, {size_, next_sequence_});  // its marker went first
                }
                break;
            case Step::take:
                take(kind_ == WriterKind::ours ? commit_.take : commit_.take - commit_.waste);
                break;
            case Step::write_pos:
                write_pos_ = commit_.next.write_pos;
                break;
            case Step::written_count:
                cursor_ = commit_.next;
                ++next_sequence_;
                size_ = 0;
                break;
            case Step::marker:
                if (standalone) write_standalone_marker(ring_, wrap_);
                else if (commit_.marker) store_header(ring_, commit_.marker_at, {0, 0});
                break;
            case Step::marker_write_pos:
                write_pos_ = 0;
                break;
            case Step::marker_take:
                take(standalone ? wrap_.take : commit_.waste);
                break;
            case Step::marker_count:
                if (standalone) {
                    cursor_ = wrap_.next;
                    wrap_ = {};
                }
                break;
        }
    }

    void take(u64 bytes) {
        ASSERT_LE(bytes, free_) << "the writer took space nobody returned";
        free_ -= bytes;
        writer_free_ -= bytes;
    }

    // ---- reader: position discovery and the consume step; false when nothing is published
    bool reader_step() {
        if (reader_.read_pos == known_write_pos_) {
            const u64 wp = write_pos_ >= S_ ? 0 : write_pos_;
            known_write_pos_ = wp;
            const u64 unreturned = consumed_ - returned_;
            if (!unit_published(S_, reader_.read_pos, wp, ring_full(free_, unreturned))) return false;
        }
        const Unit u = next_unit(S_, reader_, ring_);
        switch (u.kind) {
            case UnitKind::corrupt:
                ADD_FAILURE() << "corrupt unit at " << u.offset << ": " << u.problem;
                return false;
            case UnitKind::standalone_wrap:
                EXPECT_EQ(kind_, WriterKind::ours) << "a standalone marker from a foreign-style writer";
                [[fallthrough]];
            case UnitKind::wrap:
            case UnitKind::implicit_wrap:
                EXPECT_TRUE(kind_ == WriterKind::ours || u.kind != UnitKind::implicit_wrap)
                    << "a 1..15-byte tail left for a foreign reader";
                push(u.waste, true);
                reader_ = u.next;
                return true;
            case UnitKind::frame:
                break;
        }
        EXPECT_EQ(u.sequence, frames_read_ + 1) << "a frame was read before it was published, or twice";
        if (u.sequence != frames_read_ + 1) return false;
        EXPECT_TRUE(intact(u.offset, u.size, u.sequence)) << "frame " << u.sequence << " read before it was complete";
        held_.push_back({push(wire_size(u.size), false), u.offset, u.size, u.sequence});
        reader_ = u.next;
        ++frames_read_;
        return true;
    }

    bool intact(u64 offset, u64 n, u64 seq) const {
        for (u64 i = 0; i < n; ++i) {
            if (ring_[offset + kHeader + i] != byte_of(seq, i)) return false;
        }
        return true;
    }

    ReleaseSlot* push(u64 bytes, bool released) {
        consumed_ += bytes;
        return fifo_.push(bytes, released);
    }

    void release_one() {
        if (held_.empty()) return;
        const std::size_t k = rng_() % held_.size();
        const Held h = held_[k];
        EXPECT_TRUE(intact(h.offset, h.size, h.sequence)) << "frame " << h.sequence << " overwritten while held";
        ReleaseFifo::mark(h.slot);
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(k));
    }

    void drain() {
        std::uint64_t popped = 0;
        const u64 bytes = fifo_.pop_released(popped);
        free_ += bytes;
        returned_ += bytes;
        // Our writer takes space before it publishes; a Python-ordered one after, so a quick
        // reader can briefly push the count above S (never with our writer).
        if (kind_ == WriterKind::ours) {
            EXPECT_LE(free_, S_);
        }
    }

    struct Held {
        ReleaseSlot* slot;
        u64 offset;
        u64 size;
        u64 sequence;
    };

    const u64 S_;
    const WriterKind kind_;
    std::mt19937 rng_;
    std::vector<std::byte> ring_;
    // shared memory
    u64 free_;
    u64 write_pos_ = 0;
    // writer
    WriterCursor cursor_;
    u64 writer_free_ = 0;
    u64 size_ = 0;
    u64 next_sequence_ = 1;
    u64 refused_small_ = 0;
    Commit commit_;
    StandaloneWrap wrap_;
    std::deque<Step> pending_;
    // reader
    ReaderCursor reader_;
    u64 known_write_pos_ = 0;
    u64 consumed_ = 0;
    u64 returned_ = 0;
    u64 frames_read_ = 0;
    ReleaseFifo fifo_;
    std::vector<Held> held_;
};

TEST(RingSimulation, OurWriterAndPositionReaderNeverLoseOrTearAFrame) {
    for (u64 S : {64ull, 128ull, 1024ull, 10240ull}) {
        for (std::uint32_t seed = 1; seed <= 20; ++seed) {
            SCOPED_TRACE("S=" + std::to_string(S) + " seed=" + std::to_string(seed));
            Simulation(S, WriterKind::ours, seed).run(20000);
        }
    }
}

TEST(RingSimulation, PythonOrderedWriterAndPositionReaderNeverLoseOrTearAFrame) {
    for (u64 S : {64ull, 128ull, 1024ull, 10240ull}) {
        for (std::uint32_t seed = 1; seed <= 20; ++seed) {
            SCOPED_TRACE("S=" + std::to_string(S) + " seed=" + std::to_string(seed));
            Simulation(S, WriterKind::python_order, seed).run(20000);
        }
    }
}

}  // namespace
}  // namespace zerobuffer::ring
