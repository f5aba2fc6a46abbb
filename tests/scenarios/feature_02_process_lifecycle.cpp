// Feature 02: Process Lifecycle (catalogue §1.2). Real processes, killed with SIGKILL; a killed
// child is always reaped at once, so it cannot linger as a zombie.
#include <gtest/gtest.h>

#include <thread>

#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

// 2.1: the writer is SIGKILLed after one frame; the reader's next read reports WriterDead.
TEST(Feature02_ProcessLifecycle, Scenario_02_01_WriterCrashDetection) {
    NameScope names;
    const auto name = names.make("test-writer-crash");
    Reader reader(name, config(1024, 10240));
    Latch wrote;

    Child writer([&]() -> int {
        Writer w(name);
        w.write_frame(bytes_of("alive"));
        wrote.signal();
        for (;;) ::pause();
    });

    ASSERT_TRUE(wrote.wait(10s));
    {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(text_of(f), "alive");
    }
    kill_and_reap(writer);

    // Upstream accepts a timeout here as well; a user expects the crash to be reported, and the
    // reader had seen this writer, so WriterDead is the only acceptable outcome.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(reader.read_frame(5s), WriterDeadException);
    std::printf("[ figures  ] writer death reported after %.1f ms\n", ms_since(t0));
    EXPECT_LT(ms_since(t0), 4900.0) << "death must be detected, not waited out";
}

// 2.2: the reader reads frame 1, the writer fills the ring, the reader is killed: the writer's
// next write raises ReaderDead (upstream allows up to 10 attempts; one is enough here because
// the ring is full, so the write has to wait and notices the dead reader).
TEST(Feature02_ProcessLifecycle, Scenario_02_02_ReaderCrashDetection) {
    NameScope names;
    const auto name = names.make("test-reader-crash");
    Latch created, read_one;

    Child reader([&]() -> int {
        Reader r(name, config(1024, 10240));
        created.signal();
        Frame f = r.read_frame(10s);
        require(f.valid() && f.sequence() == 1, "frame 1");
        f.release();
        read_one.signal();
        for (;;) ::pause();
    });

    ASSERT_TRUE(created.wait(10s));
    Writer writer(name, write_timeout(100ms));
    EXPECT_EQ(write_pattern(writer, 1024, 1), 1u);
    ASSERT_TRUE(read_one.wait(10s));

    int written = 0;
    EXPECT_THROW(
        {
            for (; written < 100; ++written) write_pattern(writer, 1024, static_cast<std::uint64_t>(written + 2));
        },
        BufferFullException);
    EXPECT_GT(written, 0);

    kill_and_reap(reader);
    writer.set_write_timeout(5s);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(write_pattern(writer, 1024, 1000), ReaderDeadException);
    std::printf("[ figures  ] reader death reported after %.1f ms\n", ms_since(t0));
    EXPECT_LT(ms_since(t0), 4900.0) << "death must be detected before the write timeout";
    EXPECT_FALSE(writer.is_reader_connected());
}

// 2.3: a reader crashes; a new reader takes over the name (stale buffer reclaimed), the old
// writer notices the dead reader, reconnects (sequence restarts at 1) and the new reader reads it.
TEST(Feature02_ProcessLifecycle, Scenario_02_03_ReaderReplacementAfterCrash) {
    NameScope names;
    const auto name = names.make("test-reader-replace");
    Latch created, read_one;

    Child first_reader([&]() -> int {
        Reader r(name, config(1024, 10240));
        created.signal();
        Frame f = r.read_frame(10s);
        require(f.valid() && f.sequence() == 1 && text_of(f) == "first", "frame 1 from the first writer");
        f.release();
        read_one.signal();
        for (;;) ::pause();
    });

    ASSERT_TRUE(created.wait(10s));
    Writer writer(name, write_timeout(2s));
    EXPECT_EQ(writer.write_frame(bytes_of("first")), 1u);
    ASSERT_TRUE(read_one.wait(10s));
    kill_and_reap(first_reader);

    Latch replaced, got_frame;
    Mailbox<std::uint64_t> seen_sequence;
    Child second_reader([&] {
        Reader r(name, config(1024, 10240));  // must reclaim the stale buffer
        replaced.signal();
        Frame f = r.read_frame(10s);
        require(f.valid(), "a frame from the reconnected writer");
        require(text_of(f) == "second", "content of the frame");
        seen_sequence.send(f.sequence());
        return 0;
    });
    ASSERT_TRUE(replaced.wait(10s)) << "the new reader could not take over the name";

    // The old writer must learn that its reader is gone, at the latest once its ring is full.
    EXPECT_FALSE(writer.is_reader_connected());
    bool reader_dead = false;
    for (int i = 0; i < 20 && !reader_dead; ++i) {
        try {
            write_pattern(writer, 1024, 1);
        } catch (const ReaderDeadException&) {
            reader_dead = true;
        }
    }
    EXPECT_TRUE(reader_dead) << "the old writer never reported ReaderDead";
    writer.close();

    Writer reconnected(name);
    EXPECT_EQ(reconnected.write_frame(bytes_of("second")), 1u) << "a new Writer starts at sequence 1";
    const auto seq = seen_sequence.receive(10s);
    ASSERT_TRUE(seq.has_value());
    EXPECT_EQ(*seq, 1u);
    EXPECT_EQ(second_reader.wait(10s), 0);
}

// 2.4: a second writer is rejected while the first is alive, and the first keeps working
// (its writer_pid is left untouched).
TEST(Feature02_ProcessLifecycle, Scenario_02_04_MultipleWriterRejection) {
    NameScope names;
    const auto name = names.make("test-multi-writer");
    Reader reader(name, config(1024, 10240));
    Latch connected, rejected_done;

    Child first([&] {
        Writer w(name);
        connected.signal();
        require(rejected_done.wait(10s).has_value(), "second writer attempt finished");
        w.write_frame(bytes_of("still here"));
        return 0;
    });
    ASSERT_TRUE(connected.wait(10s));

    Child second([&] {
        return classify_throw<WriterAlreadyConnectedException>([&] { Writer w(name); });
    });
    EXPECT_EQ(second.wait(10s), 0) << "the second writer must fail with WriterAlreadyConnectedException";
    EXPECT_EQ(reader.health().writer_pid, static_cast<std::uint64_t>(first.pid()))
        << "the rejected writer must not touch writer_pid";
    rejected_done.signal();

    Frame f = reader.read_frame(5s);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(text_of(f), "still here");
    EXPECT_EQ(first.wait(10s), 0);
}

}  // namespace
}  // namespace zerobuffer::scenario
