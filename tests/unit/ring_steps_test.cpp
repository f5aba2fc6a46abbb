// The writer's commit step and the reader's consume step against each other, exhaustively over
// small rings: for every write position and frame size, what plan_commit/write_commit put in the
// ring is exactly what next_unit reads back, units and cursors included.
#include <gtest/gtest.h>

#include <vector>

#include "core/ring_commit.h"
#include "core/ring_consume.h"

namespace zerobuffer::ring {
namespace {

TEST(RingSteps, EveryCommitReadsBackAsItsUnits) {
    std::size_t frames = 0, wraps = 0, implicit = 0, standalone = 0;
    for (u64 S = 64; S <= 256; S += 64) {
        for (u64 p = 0; p < S; ++p) {
            for (u64 n = 1; n + kHeader <= S; ++n) {
                for (bool coop : {false, true}) {
                    SCOPED_TRACE("S=" + std::to_string(S) + " p=" + std::to_string(p) + " n=" + std::to_string(n) +
                                 (coop ? " ours" : " foreign"));
                    std::vector<std::byte> ring(S, std::byte{0xEE});
                    WriterCursor w{p, 100};
                    ReaderCursor r{p, 100};
                    Placement pl = plan_write(S, w.write_pos, wire_size(n), coop);
                    if (pl.kind == PlacementKind::impossible) continue;
                    if (pl.kind == PlacementKind::standalone_wrap) {
                        const StandaloneWrap sw = plan_standalone_wrap(S, w);
                        ASSERT_EQ(sw.take, S - p);
                        write_standalone_marker(ring, sw);
                        const Unit u = next_unit(S, r, ring);
                        ASSERT_EQ(u.kind, UnitKind::standalone_wrap);
                        ASSERT_EQ(u.waste, sw.take) << "the reader returns what the writer took";
                        ASSERT_EQ(u.next.read_pos, sw.next.write_pos);
                        ASSERT_EQ(u.next.read_count - r.read_count, sw.next.written_count - w.written_count);
                        w = sw.next;
                        r = u.next;
                        ++standalone;
                        pl = plan_write(S, w.write_pos, wire_size(n), coop);
                        ASSERT_EQ(pl.kind, PlacementKind::here) << "after a standalone wrap the frame goes at 0";
                    }
                    const Commit c = plan_commit(S, w, pl, n);
                    ASSERT_EQ(c.take, c.waste + wire_size(n));
                    ASSERT_EQ(c.take, pl.required) << "the space waited for is the space taken";
                    ASSERT_LT(c.next.write_pos, S) << "write_pos is never S";
                    write_commit(ring, c, n, 7);
                    u64 returned = 0;
                    Unit u = next_unit(S, r, ring);
                    if (u.kind == UnitKind::wrap || u.kind == UnitKind::implicit_wrap) {
                        ASSERT_EQ(u.kind == UnitKind::wrap, c.marker);
                        ASSERT_NE(pl.kind, PlacementKind::here);
                        (u.kind == UnitKind::wrap ? wraps : implicit)++;
                        if (u.kind == UnitKind::implicit_wrap && !coop) {
                            // Towards a foreign reader only a tail someone else left (a Python
                            // writer does) is wrapped without a marker; we never make one.
                            ASSERT_LT(S - p, kHeader);
                        }
                        returned += u.waste;
                        r = u.next;
                        u = next_unit(S, r, ring);
                    }
                    ASSERT_EQ(u.kind, UnitKind::frame);
                    ASSERT_EQ(u.offset, c.header_at);
                    ASSERT_EQ(u.size, n);
                    ASSERT_EQ(u.sequence, 7u);
                    returned += wire_size(u.size);
                    ASSERT_EQ(returned, c.take) << "the reader returns exactly what the writer took";
                    ASSERT_EQ(u.next.read_pos, c.next.write_pos) << "the reader ends where the writer ended";
                    ASSERT_EQ(u.next.read_count - r.read_count + (r.read_count - 100),
                              c.next.written_count - w.written_count + (w.written_count - 100));
                    ++frames;
                }
            }
        }
    }
    std::printf("[ figures  ] %zu commits read back: %zu after a marker, %zu after a small tail, %zu standalone wraps\n",
                frames, wraps, implicit, standalone);
    EXPECT_GT(wraps, 0u);
    EXPECT_GT(implicit, 0u);
    EXPECT_GT(standalone, 0u);
}

TEST(RingSteps, PublishedRulesForPositions) {
    constexpr u64 S = 1024;
    EXPECT_FALSE(unit_published(S, 100, 100, false)) << "equal positions and not full: empty";
    EXPECT_TRUE(unit_published(S, 100, 100, true)) << "equal positions and full";
    EXPECT_TRUE(unit_published(S, 100, 200, false));
    EXPECT_TRUE(unit_published(S, 900, 10, false)) << "the writer wrapped";
    EXPECT_FALSE(unit_published(S, 0, S, false)) << "a Python writer's write_pos of S is 0";
    EXPECT_TRUE(ring_full(0, 0));
    EXPECT_FALSE(ring_full(0, 16)) << "bytes held by the reader: the writer cannot have filled the ring";
    EXPECT_FALSE(ring_full(16, 0));
}

}  // namespace
}  // namespace zerobuffer::ring
