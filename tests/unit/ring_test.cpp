// Exhaustive checks of the placement rules and header classification over small rings.
#include <gtest/gtest.h>

#include "core/ring.h"

namespace zerobuffer::ring {
namespace {

struct Case {
    u64 S, p, T;
    bool coop;
};

std::string describe(const Case& c) {
    return "S=" + std::to_string(c.S) + " p=" + std::to_string(c.p) + " T=" + std::to_string(c.T) +
           (c.coop ? " cooperative" : " foreign");
}

// Every (S, p, T, reader kind) for rings of 64..320 bytes: each placement obeys its contract.
TEST(RingPlacement, EveryPositionAndSizeObeysTheRules) {
    std::size_t counted[4] = {};
    for (u64 S = 64; S <= 320; S += 64) {
        for (u64 p = 0; p <= S; ++p) {
            for (u64 T = kHeader + 1; T <= S; ++T) {
                for (bool coop : {false, true}) {
                    const Case c{S, p, T, coop};
                    const Placement pl = plan_write(S, p, T, coop);
                    const u64 tail = S - p;
                    counted[static_cast<int>(pl.kind)]++;
                    switch (pl.kind) {
                        case PlacementKind::here:
                            ASSERT_EQ(pl.offset, p) << describe(c);
                            ASSERT_LE(p + T, S) << describe(c);
                            ASSERT_EQ(pl.required, T) << describe(c);
                            if (!coop) {
                                ASSERT_FALSE(is_small_gap(S - p - T)) << "foreign reader gets a gap: " << describe(c);
                            }
                            break;
                        case PlacementKind::wrap:
                            ASSERT_EQ(pl.offset, 0u) << describe(c);
                            ASSERT_LE(T, p) << "the frame would overwrite its own marker: " << describe(c);
                            ASSERT_EQ(pl.waste, tail) << describe(c);
                            ASSERT_EQ(pl.required, tail + T) << describe(c);
                            ASSERT_EQ(pl.marker, tail >= kHeader) << describe(c);
                            ASSERT_LE(pl.required, S) << describe(c);
                            break;
                        case PlacementKind::standalone_wrap:
                            ASSERT_TRUE(coop) << "standalone wraps only towards our own reader: " << describe(c);
                            ASSERT_GT(T, p) << describe(c);
                            ASSERT_GT(p, 0u) << describe(c);
                            ASSERT_GE(tail, kHeader) << describe(c);
                            ASSERT_EQ(pl.required, tail) << describe(c);
                            // After the standalone wrap the frame fits at 0.
                            ASSERT_EQ(plan_write(S, 0, T, coop).kind, PlacementKind::here) << describe(c);
                            break;
                        case PlacementKind::impossible:
                            ASSERT_GT(T, p) << describe(c);
                            if (coop) {
                                ASSERT_GT(T, S - kHeader) << "only frames within 16 bytes of the ring: " << describe(c);
                                ASSERT_LT(tail, kHeader) << describe(c);
                                ASSERT_LT(tail, T) << describe(c);
                            } else {
                                ASSERT_TRUE(tail < T || is_small_gap(tail - T)) << describe(c);
                            }
                            break;
                    }
                }
            }
        }
    }
    // All four outcomes occur, so none of the branches above is vacuous.
    for (auto n : counted) EXPECT_GT(n, 0u);
}

TEST(RingPlacement, ExactFitFillsTheTail) {
    const auto pl = plan_write(1024, 1024 - 128, 128, false);
    EXPECT_EQ(pl.kind, PlacementKind::here);
    EXPECT_EQ(advance(1024, pl.offset, 128), 0u) << "write_pos is stored modulo S, never S";
}

TEST(RingPlacement, WritePositionEqualToSizeFromPythonWritersWrapsWithoutMarkerOrWaste) {
    const auto pl = plan_write(1024, 1024, 100, false);
    EXPECT_EQ(pl.kind, PlacementKind::wrap);
    EXPECT_FALSE(pl.marker);
    EXPECT_EQ(pl.waste, 0u);
    EXPECT_EQ(pl.required, 100u);
}

TEST(RingPlacement, SmallTailIsAvoidedByWrappingEarly) {
    // 1000-byte tail, a 992-byte frame would leave 8 bytes: wrap now instead (p = 24 >= 992? no).
    // Use a position where early wrap is possible: S=2048, p=1048, tail 1000, T=992.
    const auto pl = plan_write(2048, 1048, 992, false);
    EXPECT_EQ(pl.kind, PlacementKind::wrap);
    EXPECT_TRUE(pl.marker);
    EXPECT_EQ(pl.required, 1000u + 992u);
}

TEST(RingPlacement, Scenario_4_8_GeometryNeedsAStandaloneWrap) {
    // 6144 B then 7168 B in a 10240 B ring (catalogue B1): upstream stalls forever.
    const u64 S = 10240, p = 6144 + 16, T = 7168 + 16;
    EXPECT_EQ(plan_write(S, p, T, false).kind, PlacementKind::impossible);
    const auto pl = plan_write(S, p, T, true);
    EXPECT_EQ(pl.kind, PlacementKind::standalone_wrap);
    EXPECT_EQ(pl.required, S - p);
}

TEST(RingPlacement, Scenario_4_1_AlternatingSizesFitAfterOneRelease) {
    const u64 S = 10240;
    u64 p = advance(S, 0, 9216);                      // 9200 B frame
    auto second = plan_write(S, p, 17, false);        // 1 B frame
    ASSERT_EQ(second.kind, PlacementKind::here);
    p = advance(S, p, 17);
    const auto third = plan_write(S, p, 9216, false);
    EXPECT_EQ(third.kind, PlacementKind::wrap);
    EXPECT_EQ(third.required, 10223u);                // the whole ring but the 1 B frame
}

TEST(RingHeaders, ClassifiesFramesMarkersAndCorruption) {
    using protocol::FrameHeader;
    EXPECT_EQ(classify_header(1024, 100, FrameHeader{10, 5}).kind, HeaderKind::frame);
    EXPECT_EQ(classify_header(1024, 100, FrameHeader{0, 0}).kind, HeaderKind::wrap_marker);
    EXPECT_EQ(classify_header(1024, 100, FrameHeader{0, protocol::kStandaloneWrapSequence}).kind,
              HeaderKind::standalone_wrap);
    EXPECT_EQ(classify_header(1024, 100, FrameHeader{0, 7}).kind, HeaderKind::corrupt);
    EXPECT_EQ(classify_header(1024, 0, FrameHeader{0, 0}).kind, HeaderKind::corrupt) << "marker at offset 0";
    // Exactly to the end is fine; one byte more is not; huge values cannot overflow the check.
    EXPECT_EQ(classify_header(1024, 1000, FrameHeader{8, 1}).kind, HeaderKind::frame);
    EXPECT_EQ(classify_header(1024, 1000, FrameHeader{9, 1}).kind, HeaderKind::corrupt);
    EXPECT_EQ(classify_header(1024, 0, FrameHeader{~0ull, 1}).kind, HeaderKind::corrupt);
    EXPECT_EQ(classify_header(1024, 1008, FrameHeader{1, 1}).kind, HeaderKind::corrupt);
}

TEST(RingHeaders, EveryPayloadSizeAtEveryOffsetStaysInsideTheRing) {
    const u64 S = 256;
    for (u64 rp = 0; rp + kHeader <= S; ++rp) {
        for (u64 n = 1; n <= S + 2; ++n) {
            const auto check = classify_header(S, rp, protocol::FrameHeader{n, 1});
            if (check.kind == HeaderKind::frame) {
                ASSERT_LE(rp + kHeader + n, S) << "rp=" << rp << " n=" << n;
            } else {
                ASSERT_GT(rp + kHeader + n, S) << "rp=" << rp << " n=" << n;
            }
        }
    }
}

TEST(RingHeaders, ImplicitWrapOnlyForTailsShorterThanAHeader) {
    EXPECT_FALSE(needs_implicit_wrap(1024, 0));
    EXPECT_FALSE(needs_implicit_wrap(1024, 1008));
    EXPECT_TRUE(needs_implicit_wrap(1024, 1009));
    EXPECT_TRUE(needs_implicit_wrap(1024, 1023));
}

TEST(RingSizes, TooLargeIsStrict) {
    EXPECT_FALSE(exceeds_ring(64, 48));  // 48 + 16 == 64: fits exactly
    EXPECT_TRUE(exceeds_ring(64, 49));
    EXPECT_TRUE(exceeds_ring(64, ~0ull));
}

}  // namespace
}  // namespace zerobuffer::ring
