// Reader and Writer in one process: the API contract, zero-copy paths, release order, wraps.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;
using test::pattern;

BufferConfig ring(std::size_t metadata, std::size_t payload) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

TEST(ReaderWriter, RoundTripWithMetadataAndCounters) {
    test::NameScope names;
    const auto name = names.make("roundtrip");
    {
        Reader reader(name, ring(1024, 64 * 1024));
        EXPECT_TRUE(reader.metadata().empty());
        EXPECT_FALSE(reader.is_writer_connected());
        Writer writer(name);
        EXPECT_TRUE(reader.is_writer_connected());
        EXPECT_TRUE(writer.is_reader_connected());
        const auto meta = pattern(100, 7);
        writer.set_metadata(meta);
        ASSERT_EQ(reader.metadata().size(), 100u);
        EXPECT_TRUE(test::matches_pattern(reader.metadata().data(), 100, 7));

        for (std::uint64_t i = 1; i <= 10; ++i) {
            const auto data = pattern(100 * i, i);
            EXPECT_EQ(writer.write_frame(data), i);
            Frame frame = reader.read_frame(1s);
            ASSERT_TRUE(frame);
            EXPECT_EQ(frame.sequence(), i);
            ASSERT_EQ(frame.size(), 100 * i);
            EXPECT_TRUE(test::matches_pattern(frame.data().data(), frame.size(), i));
        }
        EXPECT_EQ(writer.frames_written(), 10u);
        EXPECT_EQ(reader.frames_read(), 10u);
        EXPECT_EQ(reader.bytes_read(), 100u * 55u);
        EXPECT_EQ(writer.bytes_written(), 100u * 55u);
        EXPECT_EQ(reader.health().payload_free_bytes, 64u * 1024u) << "every released frame returned its space";
    }
    names.expect_clean();
}

TEST(ReaderWriter, TimeoutWithoutWriterReturnsInvalidFrame) {
    test::NameScope names;
    Reader reader(names.make("nowriter"), ring(0, 1024));
    const auto start = std::chrono::steady_clock::now();
    Frame frame = reader.read_frame(60ms);
    EXPECT_FALSE(frame.valid());
    EXPECT_FALSE(static_cast<bool>(frame));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 55ms);
}

TEST(ReaderWriter, ZeroCopyWriteCarriesTheAnnouncedSequence) {
    test::NameScope names;
    const auto name = names.make("zerocopy");
    Reader reader(name, ring(0, 4096));
    Writer writer(name);
    EXPECT_EQ(writer.next_sequence(), 1u);
    auto buffer = writer.get_frame_buffer(300);
    ASSERT_EQ(buffer.size(), 300u);
    EXPECT_TRUE(writer.has_pending_frame());
    const auto data = pattern(300, 1);
    std::memcpy(buffer.data(), data.data(), 300);
    EXPECT_THROW(writer.write_frame(data), UsageException) << "a pending buffer blocks other writes";
    EXPECT_EQ(writer.commit_frame(), 1u);
    EXPECT_THROW(writer.commit_frame(), UsageException);

    // An abandoned buffer publishes nothing and consumes no sequence.
    (void)writer.get_frame_buffer(50);
    writer.abandon_frame();
    {
        auto reservation = writer.acquire_frame(20);
        EXPECT_EQ(reservation.sequence(), 2u);
    }  // abandoned by its destructor
    auto reservation = writer.acquire_frame(40);
    EXPECT_EQ(reservation.sequence(), 2u);
    const auto small = pattern(40, 2);
    std::memcpy(reservation.data().data(), small.data(), 40);
    EXPECT_EQ(reservation.commit(), 2u);

    Frame a = reader.read_frame(1s);
    Frame b = reader.read_frame(1s);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a.sequence(), 1u);
    EXPECT_EQ(b.sequence(), 2u);
    EXPECT_TRUE(test::matches_pattern(a.data().data(), 300, 1));
    EXPECT_TRUE(test::matches_pattern(b.data().data(), 40, 2));
    EXPECT_FALSE(reader.read_frame(30ms).valid()) << "nothing was published for abandoned buffers";
}

TEST(ReaderWriter, OutOfOrderReleaseReturnsSpaceInRingOrder) {
    test::NameScope names;
    const auto name = names.make("ooo");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    for (int i = 0; i < 3; ++i) writer.write_frame(pattern(200, i + 1));
    Frame f1 = reader.read_frame(1s), f2 = reader.read_frame(1s), f3 = reader.read_frame(1s);
    ASSERT_TRUE(f1 && f2 && f3);
    EXPECT_EQ(reader.health().frames_outstanding, 3u);
    const auto full = reader.health().payload_free_bytes;
    f3.release();
    f2.release();
    EXPECT_EQ(reader.health().payload_free_bytes, full) << "frames behind an unreleased one keep their space";
    EXPECT_TRUE(test::matches_pattern(f1.data().data(), 200, 1)) << "the oldest frame is still intact";
    f1.release();
    EXPECT_EQ(reader.health().payload_free_bytes, 1024u);
    EXPECT_EQ(reader.health().frames_outstanding, 0u);
    f1.release();  // idempotent
    EXPECT_EQ(reader.health().payload_free_bytes, 1024u);
}

TEST(ReaderWriter, HeldFramesAreNeverOverwrittenAcrossWraps) {
    test::NameScope names;
    const auto name = names.make("held");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    writer.set_write_timeout(100ms);
    writer.write_frame(pattern(300, 1));
    Frame held = reader.read_frame(1s);  // kept while the writer goes round the ring
    ASSERT_TRUE(held);
    int written = 1;
    for (; written < 50; ++written) {
        try {
            writer.write_frame(pattern(100, written + 1));
        } catch (const BufferFullException&) {
            break;
        }
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f);
        EXPECT_TRUE(test::matches_pattern(f.data().data(), f.size(), f.sequence()));
    }
    EXPECT_LT(written, 50) << "the writer must block on the held frame's space";
    EXPECT_TRUE(test::matches_pattern(held.data().data(), 300, 1)) << "held frame overwritten";
}

TEST(ReaderWriter, FrameOutlivesItsReader) {
    test::NameScope names;
    const auto name = names.make("outlive");
    Frame frame;
    {
        Reader reader(name, ring(0, 1024));
        Writer writer(name);
        writer.write_frame(pattern(64, 9));
        frame = reader.read_frame(1s);
    }
    ASSERT_TRUE(frame);
    EXPECT_TRUE(test::matches_pattern(frame.data().data(), 64, 9));
    names.expect_clean();  // the name is gone even though the mapping lives on in the frame
    frame.release();
}

TEST(ReaderWriter, Scenario48GeometryWrapsToOffsetZero) {
    test::NameScope names;
    const auto name = names.make("wrap48");
    Reader reader(name, ring(0, 10240));
    Writer writer(name);
    writer.set_write_timeout(1s);
    writer.write_frame(pattern(6144, 1));
    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f);
    }
    std::thread consumer([&] {
        Frame f = reader.read_frame(2s);
        ASSERT_TRUE(f);
        EXPECT_EQ(f.size(), 7168u);
        EXPECT_EQ(f.sequence(), 2u);
        EXPECT_TRUE(test::matches_pattern(f.data().data(), 7168, 2));
    });
    EXPECT_NO_THROW(writer.write_frame(pattern(7168, 2)));
    consumer.join();
    EXPECT_EQ(reader.health().read_pos, 7184u) << "the frame landed at offset 0";
}

TEST(ReaderWriter, ExactFitThenWriteAgain) {
    test::NameScope names;
    const auto name = names.make("exact");
    Reader reader(name, ring(0, 10240));
    Writer writer(name);
    writer.set_write_timeout(50ms);
    writer.write_frame(pattern(10224, 1));
    EXPECT_EQ(writer.health().payload_free_bytes, 0u);
    EXPECT_EQ(writer.health().write_pos, 0u) << "stored modulo S, like C#";
    EXPECT_THROW(writer.write_frame(pattern(1, 2)), BufferFullException);
    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f);
        EXPECT_EQ(f.size(), 10224u);
    }
    EXPECT_NO_THROW(writer.write_frame(pattern(1, 2)));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(f.sequence(), 2u);
}

TEST(ReaderWriter, WriterReconnectRestartsSequencesWithoutError) {
    test::NameScope names;
    const auto name = names.make("reconnect");
    Reader reader(name, ring(0, 4096));
    {
        Writer first(name);
        first.write_frame(pattern(10, 1));
        first.write_frame(pattern(10, 2));
    }
    ASSERT_EQ(reader.read_frame(1s).sequence(), 1u);
    ASSERT_EQ(reader.read_frame(1s).sequence(), 2u);
    EXPECT_THROW(reader.read_frame(200ms), WriterDeadException) << "the writer left and nothing is left to read";
    Writer second(name);
    second.write_frame(pattern(10, 1));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(f.sequence(), 1u);
}

TEST(ReaderWriter, SecondWriterInTheSameProcessIsRejectedAndTheFirstKeepsItsPid) {
    test::NameScope names;
    const auto name = names.make("twowriters");
    Reader reader(name, ring(0, 1024));
    Writer first(name);
    EXPECT_THROW(Writer second(name), WriterAlreadyConnectedException);
    EXPECT_EQ(reader.health().writer_pid, static_cast<std::uint64_t>(::getpid()));
    EXPECT_NO_THROW(first.write_frame(pattern(8, 1)));
}

TEST(ReaderWriter, SecondReaderIsRejectedAndLeavesTheBufferIntact) {
    test::NameScope names;
    const auto name = names.make("tworeaders");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    writer.write_frame(pattern(8, 1));
    EXPECT_THROW(Reader second(name, ring(0, 1024)), ReaderAlreadyConnectedException);
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_TRUE(test::matches_pattern(f.data().data(), 8, 1));
}

TEST(ReaderWriter, ReaderCloseMakesTheWriterFailWithReaderDead) {
    test::NameScope names;
    const auto name = names.make("readerclose");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    reader.close();
    EXPECT_FALSE(reader.is_open());
    EXPECT_THROW(writer.write_frame(pattern(8, 1)), ReaderDeadException);
    EXPECT_FALSE(writer.is_reader_connected());
    names.expect_clean();
}

TEST(ReaderWriter, HealthReportsUtilisation) {
    test::NameScope names;
    const auto name = names.make("health");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    writer.write_frame(pattern(496, 1));  // 512 on the wire: half the ring
    const auto h = writer.health();
    EXPECT_EQ(h.payload_used_bytes, 512u);
    EXPECT_DOUBLE_EQ(h.utilisation, 0.5);
    EXPECT_EQ(h.written_count, 1u);
    EXPECT_TRUE(h.reader_alive);
    EXPECT_TRUE(h.writer_alive);
}

TEST(ReaderWriter, EmptyMetadataIsDistinctFromNoMetadata) {
    test::NameScope names;
    const auto name = names.make("emptymeta");
    Reader reader(name, ring(64, 1024));
    Writer writer(name);
    EXPECT_FALSE(writer.metadata_written());
    writer.set_metadata({});
    EXPECT_TRUE(writer.metadata_written());
    EXPECT_TRUE(reader.metadata().empty());
    EXPECT_EQ(reader.health().metadata_written_bytes, 8u);
    EXPECT_THROW(writer.set_metadata(pattern(1, 0)), MetadataAlreadyWrittenException);
}

}  // namespace
}  // namespace zerobuffer

namespace zerobuffer {
namespace {

TEST(ReaderWriter, WritersReplacedBetweenReadsInOneProcessRestartAtOne) {
    using namespace std::chrono_literals;
    test::NameScope names;
    const auto name = names.make("samepid");
    BufferConfig config;
    config.metadata_size = 0;
    config.payload_size = 4096;
    Reader reader(name, config);
    {
        Writer a(name);
        a.write_frame(test::pattern(1, 1));
    }
    ASSERT_EQ(reader.read_frame(1s).sequence(), 1u);
    {
        Writer b(name);
        b.write_frame(test::pattern(1, 1));
        b.write_frame(test::pattern(1, 2));
    }
    EXPECT_EQ(reader.read_frame(1s).sequence(), 1u);
    EXPECT_EQ(reader.read_frame(1s).sequence(), 2u);
}

}  // namespace
}  // namespace zerobuffer
