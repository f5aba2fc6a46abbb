// The OIEB layout against the byte dump of contract §2.2 / Appendix A.1.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/oieb_view.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::protocol {
namespace {

TEST(ProtocolLayout, OiebMatchesThePythonByteDump) {
    // Metadata 100 -> M = 128, payload 1000 -> S = 1024, metadata "hello", one 3-byte frame.
    alignas(8) std::uint8_t bytes[kOiebSize] = {};
    detail::OiebView view(reinterpret_cast<Oieb*>(bytes));
    view.initialise(align_block(100), align_block(1000), 4321);
    view.publish_oieb_size();
    view.set_metadata_written(8 + 5);
    view.set_metadata_free(128 - 13);
    view.take_free(19);
    view.set_write_pos(19);
    view.set_written_count(1);

    const std::uint8_t head[] = {0x80, 0, 0, 0, 0x01, 0, 0, 0};
    EXPECT_EQ(std::memcmp(bytes, head, sizeof head), 0);
    auto u64_at = [&](std::size_t off) {
        std::uint64_t v;
        std::memcpy(&v, bytes + off, 8);
        return v;
    };
    EXPECT_EQ(u64_at(0x08), 128u);
    EXPECT_EQ(u64_at(0x10), 115u);
    EXPECT_EQ(u64_at(0x18), 13u);
    EXPECT_EQ(u64_at(0x20), 1024u);
    EXPECT_EQ(u64_at(0x28), 1005u);
    EXPECT_EQ(u64_at(0x30), 19u);
    EXPECT_EQ(u64_at(0x38), 0u);
    EXPECT_EQ(u64_at(0x40), 1u);
    EXPECT_EQ(u64_at(0x48), 0u);
    EXPECT_EQ(u64_at(0x50), 0u);
    EXPECT_EQ(u64_at(0x58), 4321u);
    for (std::size_t off = 0x60; off < 0x80; ++off) EXPECT_EQ(bytes[off], 0) << "reserved byte " << off;
}

TEST(ProtocolLayout, FrameHeaderIsTwoLittleEndianWords) {
    const FrameHeader h{3, 1};
    std::uint8_t bytes[16];
    std::memcpy(bytes, &h, sizeof h);
    const std::uint8_t expected[16] = {3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(std::memcmp(bytes, expected, 16), 0);
}

TEST(ProtocolLayout, BlockAlignmentAndOffsets) {
    EXPECT_EQ(align_block(1), 64u);
    EXPECT_EQ(align_block(1024), 1024u);
    EXPECT_EQ(align_block(1025), 1088u);
    const Layout layout{align_block(100), align_block(1000)};
    EXPECT_EQ(layout.metadata_offset(), 128u);
    EXPECT_EQ(layout.payload_offset(), 256u);
    EXPECT_EQ(layout.total_size(), 1280u);
}

}  // namespace
}  // namespace zerobuffer::protocol
