// Feature 05: Corruption Detection (catalogue §1.5; there is no 5.4). White-box scenarios map
// the segment themselves (ShmView) to corrupt or inspect it.
#include <gtest/gtest.h>

#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

using protocol::FrameHeader;
using protocol::Oieb;

// 5.1: an OIEB with a wrong size field (or another major version, or a write position beyond
// the ring, TS 10.2) makes a connecting writer fail with CorruptBuffer naming the field; once
// repaired the buffer works again.
TEST(Feature05_CorruptionDetection, Scenario_05_01_CorruptedOiebDetection) {
    NameScope names;
    const auto name = names.make("test-corrupt-oieb");
    Reader reader(name, config(1024, 10240));

    Child first([&] {
        Writer w(name);
        w.write_frame(bytes_of("valid"));
        return 0;
    });
    ASSERT_EQ(first.wait(10s), 0);
    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(text_of(f), "valid");
    }

    ShmView shm(name);
    shm.set_oieb_size(64);  // the feature file calls this field "operation_size"
    Child wrong_size([&] { return classify_throw<CorruptBufferException>([&] { Writer w(name); }, "oieb_size"); });
    EXPECT_EQ(wrong_size.wait(10s), 0) << "oieb_size 64 must be refused, naming the field";
    shm.set_oieb_size(protocol::kOiebSize);

    shm.oieb().version.major = 2;
    Child wrong_version([&] { return classify_throw<CorruptBufferException>([&] { Writer w(name); }); });
    EXPECT_EQ(wrong_version.wait(10s), 0) << "a buffer of protocol major version 2 must be refused";
    shm.oieb().version.major = protocol::kVersionMajor;

    const auto write_pos = shm.load(&Oieb::payload_write_pos);
    shm.store(&Oieb::payload_write_pos, shm.payload_size() + 1000);
    Child wrong_pos([&] {
        return classify_throw<CorruptBufferException>(
            [&] {
                Writer w(name);
                w.write_frame(bytes_of("beyond"));
            },
            "write_pos");
    });
    EXPECT_EQ(wrong_pos.wait(10s), 0) << "a write position beyond the ring must be detected, naming the field";
    shm.store(&Oieb::payload_write_pos, write_pos);

    Latch read_done;
    Child repaired([&] {
        Writer w(name);
        w.write_frame(bytes_of("repaired"));
        require(read_done.wait(10s).has_value(), "read signal");  // stay attached: a new writer is visible
        return 0;
    });
    {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(text_of(f), "repaired");
        EXPECT_EQ(f.sequence(), 1u) << "a new writer starts again at 1";
    }
    read_done.signal();
    EXPECT_EQ(repaired.wait(10s), 0);
}

// 5.2: the header of the frame at offset 0 gets payload_size 0. The reader refuses it with
// CorruptBuffer naming the field (a marker at offset 0 carrying sequence 1 is no wrap marker).
TEST(Feature05_CorruptionDetection, Scenario_05_02_InvalidFrameHeaderDetection) {
    NameScope names;
    const auto name = names.make("test-bad-header");
    Reader reader(name, config(1024, 10240));
    Writer writer(name);
    writer.write_frame(bytes_of("test"));

    ShmView shm(name);
    auto header = shm.header_at(0);
    ASSERT_EQ(header.payload_size, 4u);
    ASSERT_EQ(header.sequence_number, 1u);
    header.payload_size = 0;
    shm.set_header(0, header);

    try {
        Frame f = reader.read_frame(1s);
        FAIL() << "a frame with payload_size 0 was accepted (valid=" << f.valid() << ")";
    } catch (const CorruptBufferException& e) {
        std::printf("[ message  ] %s\n", e.what());
        EXPECT_NE(std::string(e.what()).find("payload_size"), std::string::npos) << e.what();
    }
}

// 5.3: the reader dies while the writer is filling a zero-copy frame buffer. The write in
// progress completes (commit succeeds and the frame is in the ring); the writer's next
// operation raises ReaderDead.
TEST(Feature05_CorruptionDetection, Scenario_05_03_ReaderDeathDuringWrite) {
    NameScope names;
    const auto name = names.make("test-reader-death-write");
    Latch created;
    Child reader([&]() -> int {
        Reader r(name, config(0, 10240));
        created.signal();
        for (;;) ::pause();
    });
    ASSERT_TRUE(created.wait(10s));

    Writer writer(name, write_timeout(5s));
    const auto data = pattern(8192, 1);
    auto buffer = writer.get_frame_buffer(8192);
    ASSERT_EQ(buffer.size(), 8192u);
    std::memcpy(buffer.data(), data.data(), 4096);
    kill_and_reap(reader);  // the reader crashes in the middle of the write
    std::memcpy(buffer.data() + 4096, data.data() + 4096, 4096);
    std::uint64_t seq = 0;
    EXPECT_NO_THROW(seq = writer.commit_frame()) << "the write in progress must complete";
    EXPECT_EQ(seq, 1u);

    ShmView shm(name);
    const auto header = shm.header_at(0);
    EXPECT_EQ(header.payload_size, 8192u);
    EXPECT_EQ(header.sequence_number, 1u);
    EXPECT_TRUE(matches_pattern(shm.payload() + protocol::kFrameHeaderSize, 8192, 1));

    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(write_pattern(writer, 8192, 2), ReaderDeadException);
    std::printf("[ figures  ] ReaderDead after %.1f ms\n", ms_since(t0));
    EXPECT_LT(ms_since(t0), 4900.0);
}

// 5.5: a frame leaving exactly 100 B at the end of the ring, then a 200 B frame: a wrap marker
// at the old write position, free bytes down by the 100 B waste plus the frame, the frame at
// offset 0; the reader passes the marker and reads the frame intact.
TEST(Feature05_CorruptionDetection, Scenario_05_05_WrapAroundWithWastedSpace) {
    NameScope names;
    const auto name = names.make("test-waste");
    Reader reader(name, config(0, 10240), step_by_step());
    Writer writer(name);
    ShmView shm(name);
    const std::uint64_t S = shm.payload_size();
    ASSERT_EQ(S, 10240u);

    const std::uint64_t first_n = S - 100 - protocol::kFrameHeaderSize;  // 10124
    write_pattern(writer, first_n, 0);
    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), 0));
    }
    const auto old_pos = shm.load(&Oieb::payload_write_pos);
    ASSERT_EQ(old_pos, S - 100);
    const auto free_before = shm.load(&Oieb::payload_free_bytes);
    ASSERT_EQ(free_before, S);
    const auto written_before = shm.load(&Oieb::payload_written_count);

    EXPECT_EQ(write_pattern(writer, 200, 2), 2u);
    const auto marker = shm.header_at(old_pos);
    EXPECT_EQ(marker.payload_size, 0u) << "a wrap marker at the old write position";
    EXPECT_EQ(marker.sequence_number, 0u);
    EXPECT_EQ(free_before - shm.load(&Oieb::payload_free_bytes), 100u + protocol::kFrameHeaderSize + 200)
        << "free bytes drop by the 100 B waste plus the frame";
    const auto frame_header = shm.header_at(0);
    EXPECT_EQ(frame_header.payload_size, 200u) << "the frame is written at offset 0";
    EXPECT_EQ(frame_header.sequence_number, 2u);
    EXPECT_EQ(shm.load(&Oieb::payload_write_pos), protocol::kFrameHeaderSize + 200);
    EXPECT_EQ(shm.load(&Oieb::payload_written_count) - written_before, 2u) << "marker + frame";

    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(f.size(), 200u);
        EXPECT_EQ(f.sequence(), 2u);
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), 2));
        EXPECT_EQ(reader.health().wraps, 1u);
        EXPECT_EQ(shm.load(&Oieb::payload_free_bytes), S - protocol::kFrameHeaderSize - 200)
            << "the waste comes back when the marker is read";
    }
    EXPECT_EQ(shm.load(&Oieb::payload_free_bytes), S);
}

// 5.6 (analogue): upstream computes continuous_free_bytes for (write, read) position pairs in a
// unit test of a private function. Here each pair is built in a real 10240 B ring and the
// calculation is checked through behaviour: a frame of exactly that wire size is written at
// once, one byte more cannot be written without the reader (BufferFull, or FrameTooLarge
// beyond the ring).
struct PositionCase {
    const char* label;
    std::uint64_t write;
    std::uint64_t read;
};

// Continuous free space as the upstream README defines it.
std::uint64_t continuous_free(std::uint64_t S, std::uint64_t write, std::uint64_t read, bool empty) {
    if (write == read && !empty) return 0;
    if (write < read) return read - write;
    if (read == 0) return S - write;
    return std::max(S - write, read);
}

// Brings a fresh ring to the given positions using only frames; returns whether it is empty.
bool build_positions(Reader& reader, Writer& writer, const PositionCase& c) {
    auto wire = [](std::uint64_t T) { return T - protocol::kFrameHeaderSize; };
    auto consume = [&] {
        Frame f = reader.read_frame(1s);
        require(f.valid(), "consume a frame");
    };
    const std::string label = c.label;
    if (label == "(0,0)") return true;
    if (label == "(5000,0)") {
        write_pattern(writer, wire(5000), 1);
        return false;
    }
    if (label == "(5000,5000)") {
        write_pattern(writer, wire(5000), 1);
        consume();
        return true;
    }
    if (label == "(5000,2000)") {
        write_pattern(writer, wire(2000), 1);
        consume();
        write_pattern(writer, wire(3000), 2);
        return false;
    }
    if (label == "(2000,5000)") {
        write_pattern(writer, wire(5000), 1);
        consume();
        write_pattern(writer, wire(5240), 2);  // ends exactly at the end of the ring
        write_pattern(writer, wire(2000), 3);
        return false;
    }
    if (label == "(9000,6000)") {
        write_pattern(writer, wire(6000), 1);
        consume();
        write_pattern(writer, wire(3000), 2);
        return false;
    }
    throw std::logic_error("unknown case");
}

TEST(Feature05_CorruptionDetection, Scenario_05_06_ContinuousFreeSpaceCalculation) {
    const PositionCase cases[] = {
        {"(5000,2000)", 5000, 2000}, {"(2000,5000)", 2000, 5000}, {"(5000,5000)", 5000, 5000},
        {"(0,0)", 0, 0},             {"(5000,0)", 5000, 0},       {"(9000,6000)", 9000, 6000},  // wrap side
    };
    constexpr std::uint64_t S = 10240;
    for (const auto& c : cases) {
        for (int extra = 0; extra <= 1; ++extra) {
            NameScope names;
            const auto name = names.make("test-continuous");
            Reader reader(name, config(0, S));
            Writer writer(name, write_timeout(100ms));
            const bool empty = build_positions(reader, writer, c);
            const auto h = reader.health();
            ASSERT_EQ(h.write_pos, c.write) << c.label;
            ASSERT_EQ(h.read_pos, c.read) << c.label;

            const std::uint64_t cf = continuous_free(S, c.write, c.read, empty);
            const std::uint64_t T = cf + static_cast<std::uint64_t>(extra);
            const std::uint64_t n = T - protocol::kFrameHeaderSize;
            if (extra == 0) {
                // The write timeout is 100 ms and nobody reads: only a frame that fits now succeeds.
                EXPECT_NO_THROW(write_pattern(writer, n, 9)) << c.label << ": a frame of " << T << " B should fit";
            } else if (T > S) {
                EXPECT_THROW(write_pattern(writer, n, 9), FrameTooLargeException) << c.label;
            } else {
                EXPECT_THROW(write_pattern(writer, n, 9), BufferFullException)
                    << c.label << ": " << T << " B exceed the continuous free space " << cf;
            }
            std::printf("[ figures  ] %-12s continuous free %5llu B, frame of %5llu B %s\n", c.label,
                        static_cast<unsigned long long>(cf), static_cast<unsigned long long>(T),
                        extra == 0 ? "fits" : "refused");
        }
    }
}

// 5.7: a 100 MiB ring takes a frame of S - 16 bytes; a frame one byte larger, or larger than
// the ring, fails at once with FrameTooLarge (upstream C++ waited for the write timeout, B3).
TEST(Feature05_CorruptionDetection, Scenario_05_07_MaximumFrameSize) {
    NameScope names;
    const auto name = names.make("test-max-frame");
    constexpr std::size_t S = 100u * 1024 * 1024;
    Reader reader(name, config(0, S));
    Writer writer(name, write_timeout(5s));

    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(write_pattern(writer, S - protocol::kFrameHeaderSize, 1), 1u);
    std::printf("[ figures  ] %zu B frame written in %.1f ms\n", S - 16, ms_since(t0));
    {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(f.size(), S - protocol::kFrameHeaderSize);
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), 1));
    }

    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_THROW(writer.write_frame(std::vector<std::byte>(S - protocol::kFrameHeaderSize + 1)), FrameTooLargeException);
    EXPECT_THROW(writer.write_frame(std::vector<std::byte>(S + 1)), FrameTooLargeException);
    EXPECT_THROW((void)writer.get_frame_buffer(S), FrameTooLargeException);
    EXPECT_LT(ms_since(t1), 2000.0) << "FrameTooLarge must not wait for the write timeout";
}

}  // namespace
}  // namespace zerobuffer::scenario
