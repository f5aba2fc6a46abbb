// A byte-level simulation of one writer and one reader sharing a ring, both driven only by the
// pure rules in core/ring.h and the accounting of contract §3.9. Random frame sizes, random
// reader lag and random release order; every byte of every frame is checked, and the free-byte
// accounting must return to S after a full drain.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "core/ring.h"

namespace zerobuffer::ring {
namespace {

class RingModel {
public:
    RingModel(u64 S, bool cooperative) : S_(S), coop_(cooperative), mem_(S, 0xEE), free_(S) {}

    enum class WriteResult { written, blocked, impossible };

    WriteResult try_write(u64 n) {
        const u64 T = wire_size(n);
        for (;;) {
            const Placement pl = plan_write(S_, wp_, T, coop_);
            if (pl.kind == PlacementKind::impossible) return WriteResult::impossible;
            if (free_ < pl.required) return WriteResult::blocked;
            if (pl.kind == PlacementKind::standalone_wrap) {
                EXPECT_TRUE(coop_);
                put_header(wp_, 0, protocol::kStandaloneWrapSequence);
                free_ -= pl.waste;
                wp_ = 0;
                ++written_;
                ++posts_;
                continue;
            }
            if (pl.kind == PlacementKind::wrap) {
                if (pl.marker) {
                    put_header(wp_, 0, 0);
                    ++written_;
                }
                free_ -= pl.waste;
            }
            put_header(pl.offset, n, seq_);
            for (u64 i = 0; i < n; ++i) mem_[pl.offset + kHeader + i] = byte_of(seq_, i);
            wp_ = advance(S_, pl.offset, T);
            free_ -= T;
            ++written_;
            ++posts_;
            ++seq_;
            return WriteResult::written;
        }
    }

    // Reads one frame if a post is pending; returns false if there is none.
    bool try_read() {
        while (posts_ > 0) {
            --posts_;
            if (written_ <= read_) continue;
            if (needs_implicit_wrap(S_, rp_)) {
                EXPECT_TRUE(coop_) << "a foreign reader would fail on a " << (S_ - rp_) << "-byte tail";
                push_waste(S_ - rp_);
                rp_ = 0;
            }
            auto h = get_header(rp_);
            auto check = classify_header(S_, rp_, h);
            if (check.kind == HeaderKind::wrap_marker || check.kind == HeaderKind::standalone_wrap) {
                push_waste(S_ - rp_);
                rp_ = 0;
                ++read_;
                if (check.kind == HeaderKind::standalone_wrap) continue;
                h = get_header(0);
                check = classify_header(S_, 0, h);
            }
            EXPECT_EQ(check.kind, HeaderKind::frame) << (check.problem ? check.problem : "marker after marker");
            if (check.kind != HeaderKind::frame) return false;
            EXPECT_EQ(h.sequence_number, expected_seq_);
            for (u64 i = 0; i < h.payload_size; ++i) {
                if (mem_[rp_ + kHeader + i] != byte_of(h.sequence_number, i)) {
                    ADD_FAILURE() << "frame " << h.sequence_number << " byte " << i << " was overwritten";
                    return false;
                }
            }
            expected_seq_ = h.sequence_number + 1;
            held_.push_back({wire_size(h.payload_size), false, true, rp_, h.sequence_number});
            rp_ = advance(S_, rp_, wire_size(h.payload_size));
            ++read_;
            return true;
        }
        return false;
    }

    // Releases the k-th held (not yet released) frame, then returns space in ring order.
    void release(std::size_t k) {
        for (auto& e : held_) {
            if (e.is_frame && !e.released) {
                if (k-- == 0) {
                    // The frame must still be intact when released.
                    EXPECT_EQ(get_header(e.offset).sequence_number, e.seq) << "held frame overwritten";
                    e.released = true;
                    break;
                }
            }
        }
        while (!held_.empty() && held_.front().released) {
            free_ += held_.front().bytes;
            held_.pop_front();
        }
        EXPECT_LE(free_, S_);
    }

    std::size_t held_frames() const {
        std::size_t n = 0;
        for (const auto& e : held_) n += (e.is_frame && !e.released) ? 1 : 0;
        return n;
    }
    u64 free_bytes() const { return free_; }
    u64 frames_written() const { return seq_ - 1; }
    u64 frames_read() const { return expected_seq_ - 1; }

private:
    struct Held {
        u64 bytes;
        bool released;
        bool is_frame;
        u64 offset;
        u64 seq;
    };
    static std::uint8_t byte_of(u64 seq, u64 i) { return static_cast<std::uint8_t>((seq * 131 + i) & 0xFF); }
    void put_header(u64 at, u64 n, u64 seq) {
        ASSERT_LE(at + kHeader, S_);
        protocol::FrameHeader h{n, seq};
        std::memcpy(&mem_[at], &h, sizeof h);
    }
    protocol::FrameHeader get_header(u64 at) const {
        protocol::FrameHeader h{};
        std::memcpy(&h, &mem_[at], sizeof h);
        return h;
    }
    void push_waste(u64 bytes) {
        if (held_.empty()) {
            free_ += bytes;
        } else {
            held_.push_back({bytes, true, false, 0, 0});
        }
    }

    u64 S_;
    bool coop_;
    std::vector<std::uint8_t> mem_;
    u64 free_;
    u64 wp_ = 0, rp_ = 0, written_ = 0, read_ = 0, posts_ = 0, seq_ = 1, expected_seq_ = 1;
    std::deque<Held> held_;
};

void run_simulation(u64 S, bool cooperative, std::uint32_t seed, int steps) {
    std::mt19937 rng(seed);
    RingModel model(S, cooperative);
    std::uniform_int_distribution<int> action(0, 9);
    const u64 max_n = S - kHeader;
    u64 impossible = 0;
    u64 next_size = 0;
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
        const int a = action(rng);
        if (a < 5) {
            if (next_size == 0) {
                // Mix tiny frames, frames near the tail sizes that leave small gaps, and huge ones.
                switch (rng() % 4) {
                    case 0: next_size = 1 + rng() % 16; break;
                    case 1: next_size = 1 + rng() % (S / 4); break;
                    case 2: next_size = 1 + rng() % max_n; break;
                    default: next_size = max_n - rng() % 20; break;
                }
                if (next_size == 0 || next_size > max_n) next_size = 1;
            }
            const auto result = model.try_write(next_size);
            if (result == RingModel::WriteResult::impossible) {
                // Frames within 16 bytes of the whole ring may be refused after a small tail;
                // every smaller frame must always be placeable towards our own reader.
                if (wire_size(next_size) <= S - kHeader) ++impossible;
                next_size = 0;
            } else if (result == RingModel::WriteResult::written) {
                next_size = 0;
            }
        } else if (a < 8) {
            model.try_read();
        } else if (model.held_frames() > 0) {
            model.release(rng() % model.held_frames());
        }
    }
    // Drain: read and release everything.
    while (model.try_read()) {
    }
    while (model.held_frames() > 0) model.release(0);
    EXPECT_EQ(model.free_bytes(), S) << "accounting drifted";
    EXPECT_EQ(model.frames_read(), model.frames_written());
    EXPECT_GT(model.frames_written(), static_cast<u64>(steps / 20)) << "the simulation made no progress";
    if (cooperative) {
        EXPECT_EQ(impossible, 0u) << "our own reader must take every frame of at most S - 32 data bytes";
    }
}

TEST(RingSimulation, CooperativeReaderNeverStallsAndNeverLosesData) {
    for (u64 S : {64ull, 128ull, 1024ull, 10240ull}) {
        for (std::uint32_t seed = 1; seed <= 20; ++seed) {
            SCOPED_TRACE("S=" + std::to_string(S) + " seed=" + std::to_string(seed));
            run_simulation(S, true, seed, 20000);
        }
    }
}

TEST(RingSimulation, ForeignReaderNeverSeesASmallTailOrAStandaloneMarker) {
    for (u64 S : {64ull, 128ull, 1024ull, 10240ull}) {
        for (std::uint32_t seed = 1; seed <= 20; ++seed) {
            SCOPED_TRACE("S=" + std::to_string(S) + " seed=" + std::to_string(seed));
            run_simulation(S, false, seed, 20000);
        }
    }
}

}  // namespace
}  // namespace zerobuffer::ring
