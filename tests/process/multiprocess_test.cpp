// Reader and writer in separate processes (fork).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include <fcntl.h>
#include <semaphore.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::Latch;

BufferConfig ring(std::size_t metadata, std::size_t payload) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

// The writer child: waits until the reader exists, retrying briefly.
Writer attach_writer(const std::string& name, WriterOptions options = {}) {
    for (int i = 0;; ++i) {
        try {
            return Writer(name, options);
        } catch (const BufferNotFoundException&) {
            if (i > 2000) throw;
            std::this_thread::sleep_for(1ms);
        }
    }
}

void fill_pattern(std::span<std::byte> out, std::uint64_t seed) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>((i + seed) & 0xFF);
}

TEST(MultiProcess, RoundTripWithMetadata) {
    test::NameScope names;
    const auto name = names.make("mp_roundtrip");
    Reader reader(name, ring(1024, 256 * 1024));
    Child writer_process([&] {
        Writer writer = attach_writer(name);
        writer.set_metadata(test::pattern(300, 3));
        for (std::uint64_t i = 1; i <= 200; ++i) writer.write_frame(test::pattern(1000 + i, i));
        return 0;
    });
    for (std::uint64_t i = 1; i <= 200; ++i) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f) << "frame " << i;
        ASSERT_EQ(f.sequence(), i);
        ASSERT_EQ(f.size(), 1000 + i);
        ASSERT_TRUE(test::matches_pattern(f.data().data(), f.size(), i)) << "frame " << i;
    }
    ASSERT_EQ(reader.metadata().size(), 300u);
    EXPECT_TRUE(test::matches_pattern(reader.metadata().data(), 300, 3));
    EXPECT_EQ(writer_process.wait(10s), 0);
}

TEST(MultiProcess, HundredThousandRandomFramesThroughA256KiBRing) {
    test::NameScope names;
    const auto name = names.make("mp_random");
    constexpr int kFrames = 100000;
    constexpr std::uint32_t kSeed = 20261120;
    Reader reader(name, ring(0, 256 * 1024));
    Child writer_process([&] {
        Writer writer = attach_writer(name);
        std::mt19937 rng(kSeed);
        std::uniform_int_distribution<std::size_t> size(1, 64 * 1024);
        for (int i = 1; i <= kFrames; ++i) {
            auto buffer = writer.get_frame_buffer(size(rng));
            fill_pattern(buffer, static_cast<std::uint64_t>(i));
            if (writer.commit_frame() != static_cast<std::uint64_t>(i)) return 3;
        }
        return 0;
    });
    std::mt19937 rng(kSeed);
    std::uniform_int_distribution<std::size_t> size(1, 64 * 1024);
    std::uint64_t bytes = 0;
    for (int i = 1; i <= kFrames; ++i) {
        Frame f = reader.read_frame(10s);
        ASSERT_TRUE(f) << "frame " << i;
        ASSERT_EQ(f.sequence(), static_cast<std::uint64_t>(i));
        ASSERT_EQ(f.size(), size(rng)) << "frame " << i;
        ASSERT_TRUE(test::matches_pattern(f.data().data(), f.size(), f.sequence())) << "frame " << i << " corrupted";
        bytes += f.size();
    }
    EXPECT_EQ(reader.bytes_read(), bytes);
    EXPECT_EQ(writer_process.wait(30s), 0);
    EXPECT_GT(reader.health().wraps, 100u) << "a 256 KiB ring must have wrapped many times";
}

TEST(MultiProcess, BufferFullThenRecovery) {
    test::NameScope names;
    const auto name = names.make("mp_full");
    Reader reader(name, ring(0, 4096));
    Latch full, drained;
    Child writer_process([&] {
        WriterOptions options;
        options.write_timeout = 150ms;
        Writer writer = attach_writer(name, options);
        int written = 0;
        try {
            for (;; ++written) writer.write_frame(test::pattern(500, static_cast<std::uint64_t>(written + 1)));
        } catch (const BufferFullException&) {
        }
        full.signal(static_cast<char>(written));
        if (!drained.wait(10s)) return 4;
        writer.write_frame(test::pattern(500, static_cast<std::uint64_t>(written + 1)));  // must succeed now
        return 0;
    });
    const auto count = full.wait(10s);
    ASSERT_TRUE(count.has_value());
    EXPECT_EQ(*count, 7) << "4096 / 516 = 7 frames fit";
    for (int i = 0; i < *count; ++i) ASSERT_TRUE(reader.read_frame(1s));
    drained.signal();
    Frame after = reader.read_frame(5s);
    ASSERT_TRUE(after);
    EXPECT_EQ(after.sequence(), static_cast<std::uint64_t>(*count + 1));
    EXPECT_EQ(writer_process.wait(10s), 0);
}

TEST(MultiProcess, SecondReaderAndSecondWriterFromOtherProcessesAreRejected) {
    test::NameScope names;
    const auto name = names.make("mp_second");
    Reader reader(name, ring(0, 4096));
    Writer writer(name);
    Child rival([&] {
        int result = 0;
        try {
            Reader second(name, ring(0, 4096));
            result |= 1;
        } catch (const ReaderAlreadyConnectedException&) {
        }
        try {
            Writer second(name);
            result |= 2;
        } catch (const WriterAlreadyConnectedException&) {
        }
        return result;
    });
    EXPECT_EQ(rival.wait(10s), 0);
    writer.write_frame(test::pattern(10, 1));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f) << "the live buffer survived the rivals";
    EXPECT_EQ(reader.health().writer_pid, static_cast<std::uint64_t>(::getpid()));
}

TEST(MultiProcess, StaleBufferIsReclaimedAfterBothSidesAreKilled) {
    test::NameScope names;
    const auto name = names.make("mp_stale");
    Latch reader_ready, writer_ready;
    Child reader_process([&] {
        Reader reader(name, ring(0, 4096));
        reader_ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(reader_ready.wait(10s));
    Child writer_process([&] {
        Writer writer(name);
        writer.write_frame(test::pattern(100, 1));
        writer_ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(writer_ready.wait(10s));
    reader_process.kill_hard();
    writer_process.kill_hard();
    reader_process.wait(5s);
    writer_process.wait(5s);
    for (const auto& path : test::object_paths(name)) {
        EXPECT_TRUE(std::filesystem::exists(path)) << "a killed reader leaves " << path;
    }
    {
        Reader fresh(name, ring(0, 8192));  // reclaims
        EXPECT_EQ(fresh.health().payload_size, 8192u);
        EXPECT_EQ(fresh.health().written_count, 0u) << "a new segment, not the stale one";
        Writer writer(name);
        writer.write_frame(test::pattern(5, 1));
        EXPECT_TRUE(fresh.read_frame(1s));
    }
    names.expect_clean();
}

TEST(MultiProcess, CrashedReaderIsReplacedWhileItsWriterLives) {
    test::NameScope names;
    const auto name = names.make("mp_replace");
    Latch reader_ready, writer_attached, replaced;
    Child reader_process([&] {
        Reader reader(name, ring(0, 4096));
        reader_ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(reader_ready.wait(10s));
    Child writer_process([&] {
        Writer writer(name);
        writer_attached.signal();
        if (!replaced.wait(10s)) return 5;
        try {
            for (int i = 0; i < 1000; ++i) {
                writer.write_frame(test::pattern(100, static_cast<std::uint64_t>(i + 1)));
                std::this_thread::sleep_for(1ms);
            }
        } catch (const ReaderDeadException&) {
            return 0;  // the old writer learns its reader is gone
        }
        return 6;
    });
    ASSERT_TRUE(writer_attached.wait(10s));
    reader_process.kill_hard();
    reader_process.wait(5s);
    Reader replacement(name, ring(0, 4096));
    replaced.signal();
    EXPECT_EQ(writer_process.wait(20s), 0);
    // The replacement serves a new writer.
    Writer writer(name);
    writer.write_frame(test::pattern(7, 1));
    EXPECT_TRUE(replacement.read_frame(1s));
}

TEST(MultiProcess, OrphanedSemaphoresWithoutLockFileDoNotBlockANewReader) {
    test::NameScope names;
    const auto name = names.make("mp_orphan");
    // What a crashed or leaky reader (e.g. the Python peer) leaves: semaphores, no lock file.
    for (const auto& sem : {"/sem-w-" + name, "/sem-r-" + name}) {
        sem_t* s = ::sem_open(sem.c_str(), O_CREAT, 0666, 3);
        ASSERT_NE(s, SEM_FAILED);
        ::sem_close(s);
    }
    {
        Reader reader(name, ring(0, 4096));
        EXPECT_FALSE(reader.read_frame(30ms)) << "stale posts must not produce phantom frames";
        Writer writer(name);
        writer.write_frame(test::pattern(3, 1));
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f);
        EXPECT_EQ(f.sequence(), 1u);
    }
    names.expect_clean();
}

TEST(MultiProcess, ConcurrentReaderCreationHasExactlyOneWinner) {
    test::NameScope names;
    const auto name = names.make("mp_race");
    Latch go;
    std::vector<Child> racers;
    std::vector<std::unique_ptr<Latch>> results;
    for (int i = 0; i < 4; ++i) {
        racers.emplace_back([&] {
            go.wait(10s);
            try {
                Reader reader(name, ring(0, 4096));
                std::this_thread::sleep_for(300ms);  // hold it while the others try
                return 0;
            } catch (const ReaderAlreadyConnectedException&) {
                return 1;
            }
        });
    }
    for (int i = 0; i < 4; ++i) go.signal();
    int winners = 0, losers = 0;
    for (auto& racer : racers) {
        const auto code = racer.wait(20s);
        ASSERT_TRUE(code.has_value());
        if (*code == 0) ++winners;
        if (*code == 1) ++losers;
    }
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(losers, 3);
    names.expect_clean();
}

}  // namespace
}  // namespace zerobuffer
