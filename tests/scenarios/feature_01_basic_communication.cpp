// Feature 01: Basic Communication (catalogue §1.1). The reader is this test process; the writer
// is a forked child, so every scenario runs across two processes (Mode 2).
#include <gtest/gtest.h>

#include <thread>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

// 1.1: metadata and one 1024 B frame from another process, verified byte for byte.
TEST(Feature01_BasicCommunication, Scenario_01_01_SimpleWriteReadCycle) {
    NameScope names;
    const auto name = names.make("test-basic");
    Reader reader(name, config(1024, 10240));
    Latch connected, go, done;

    Child writer([&] {
        Writer w(name);
        connected.signal();
        require(go.wait(10s).has_value(), "go signal");
        w.set_metadata(pattern(100, 0));
        const auto seq = write_pattern(w, 1024, 1);
        require(seq == 1, "first sequence is 1");
        require(done.wait(10s).has_value(), "done signal");
        return 0;
    });

    ASSERT_TRUE(connected.wait(10s));
    EXPECT_TRUE(reader.wait_for_writer(1s)) << "the reader must see the writer within 1 s";
    go.signal();

    Frame frame = reader.read_frame(5s);
    ASSERT_TRUE(frame.valid()) << "no frame within 5 s";
    EXPECT_EQ(frame.size(), 1024u);
    EXPECT_EQ(frame.sequence(), 1u);
    EXPECT_TRUE(matches_pattern(frame.data().data(), frame.size(), 1));

    const auto meta = reader.metadata();
    ASSERT_EQ(meta.size(), 100u);
    EXPECT_TRUE(matches_pattern(meta.data(), meta.size(), 0));
    frame.release();

    done.signal();
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.2: three frames arrive in order with their own content and sequence numbers.
TEST(Feature01_BasicCommunication, Scenario_01_02_MultipleFramesSequential) {
    NameScope names;
    const auto name = names.make("test-multi");
    Reader reader(name, config(1024, 102400));

    Child writer([&] {
        Writer w(name);
        for (std::uint64_t seed = 1; seed <= 3; ++seed) require(write_pattern(w, 1024, seed) == seed, "sequence");
        return 0;
    });

    for (std::uint64_t expected = 1; expected <= 3; ++expected) {
        Frame frame = reader.read_frame(5s);
        ASSERT_TRUE(frame.valid()) << "frame " << expected;
        EXPECT_EQ(frame.sequence(), expected);
        EXPECT_EQ(frame.size(), 1024u);
        EXPECT_TRUE(matches_pattern(frame.data().data(), frame.size(), expected)) << "frame " << expected;
        frame.release();
    }
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.3: with a 100 ms write timeout the writer fills the ring and then gets BufferFull; after
// the reader releases one frame a write with a 5 s timeout succeeds.
TEST(Feature01_BasicCommunication, Scenario_01_03_BufferFullHandling) {
    NameScope names;
    const auto name = names.make("test-full");
    Reader reader(name, config(1024, 10240));
    Mailbox<int> filled;  // child -> test: frames written before BufferFull
    Latch released, wrote_again, done;

    Child writer([&] {
        Writer w(name, write_timeout(100ms));
        int count = 0;
        bool full = false;
        for (; count < 100; ++count) {
            try {
                write_pattern(w, 1024, static_cast<std::uint64_t>(count + 1));
            } catch (const BufferFullException&) {
                full = true;
                break;
            }
        }
        require(full, "BufferFull within 100 frames");
        const auto t0 = std::chrono::steady_clock::now();
        require(classify_throw<BufferFullException>([&] { write_pattern(w, 1024, 999); }) == 0,
                "the next 1 KB write with a 100 ms timeout fails with BufferFull");
        const double waited = ms_since(t0);
        require(waited >= 80 && waited < 3000, "BufferFull after about the write timeout, took " + std::to_string(waited));
        filled.send(count);
        require(released.wait(10s).has_value(), "released signal");
        w.set_write_timeout(5s);
        require(write_pattern(w, 1024, static_cast<std::uint64_t>(count + 1)) == static_cast<std::uint64_t>(count + 1),
                "write after release gets the next sequence");
        wrote_again.signal();
        require(done.wait(10s).has_value(), "done signal");
        return 0;
    });

    const auto count = filled.receive(15s);
    ASSERT_TRUE(count.has_value()) << "the writer never reported BufferFull";
    std::printf("[ figures  ] frames written before BufferFull: %d (each 1040 B on the wire in 10240 B)\n", *count);
    EXPECT_GE(*count, 5);
    EXPECT_LE(*count, 10) << "more frames than fit the ring";

    {
        Frame first = reader.read_frame(1s);
        ASSERT_TRUE(first.valid());
        EXPECT_EQ(first.sequence(), 1u);
    }  // released here
    released.signal();
    ASSERT_TRUE(wrote_again.wait(10s)) << "the write after one release did not succeed";

    // Everything is delivered in order: the frames before BufferFull, then the extra one.
    for (int i = 2; i <= *count + 1; ++i) {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid()) << "frame " << i;
        EXPECT_EQ(f.sequence(), static_cast<std::uint64_t>(i));
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), static_cast<std::uint64_t>(i)));
    }
    done.signal();
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.4: zero-copy write: the writer fills a reserved frame in place, seeded by its sequence.
TEST(Feature01_BasicCommunication, Scenario_01_04_ZeroCopyWriteOperations) {
    NameScope names;
    const auto name = names.make("test-zerocopy");
    Reader reader(name, config(1024, 102400));

    Child writer([&] {
        Writer w(name);
        FrameReservation r = w.acquire_frame(4096);
        require(r.valid() && r.data().size() == 4096, "a 4096 B reservation");
        const auto data = pattern(4096, r.sequence());
        std::memcpy(r.data().data(), data.data(), data.size());
        const auto seq = r.sequence();
        require(r.commit() == seq, "commit returns the reserved sequence");
        return 0;
    });

    Frame frame = reader.read_frame(5s);
    ASSERT_TRUE(frame.valid());
    EXPECT_EQ(frame.size(), 4096u);
    EXPECT_EQ(frame.sequence(), 1u);
    EXPECT_TRUE(matches_pattern(frame.data().data(), frame.size(), frame.sequence()));
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.5: frames of 100, 1024, 10240 and 1 B, checked in full.
TEST(Feature01_BasicCommunication, Scenario_01_05_MixedFrameSizes) {
    NameScope names;
    const auto name = names.make("test-mixed");
    Reader reader(name, config(1024, 102400));
    const std::size_t sizes[] = {100, 1024, 10240, 1};

    Child writer([&] {
        Writer w(name);
        for (auto size : sizes) write_pattern(w, size, 0);
        return 0;
    });

    std::uint64_t seq = 0;
    for (auto size : sizes) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "frame of " << size;
        EXPECT_EQ(f.sequence(), ++seq);
        EXPECT_EQ(f.size(), size);
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), 0)) << "frame of " << size;
    }
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.6: a fast writer throttled only by flow control, a reader pausing 100 ms per frame; the
// writer leaves 1 s after its last frame. Exactly 20 frames, sequences 1..20.
TEST(Feature01_BasicCommunication, Scenario_01_06_SlowReaderWithFastWriter) {
    NameScope names;
    const auto name = names.make("test-slow-reader");
    Reader reader(name, config(64, 10240));

    Child writer([&] {
        Writer w(name);
        for (std::uint64_t i = 1; i <= 20; ++i) write_pattern(w, 1024, i);
        std::this_thread::sleep_for(1s);
        return 0;  // the Writer closes: writer_pid = 0
    });

    std::vector<std::uint64_t> sequences;
    int consecutive_timeouts = 0;
    bool writer_gone = false;
    const auto start = std::chrono::steady_clock::now();
    while (ms_since(start) < 30000 && consecutive_timeouts < 3) {
        try {
            Frame f = reader.read_frame(1s);
            if (!f.valid()) {
                ++consecutive_timeouts;
                continue;
            }
            consecutive_timeouts = 0;
            sequences.push_back(f.sequence());
            EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), f.sequence()));
            f.release();
            std::this_thread::sleep_for(100ms);
        } catch (const WriterDeadException&) {
            writer_gone = true;
            break;
        }
    }
    std::printf("[ figures  ] %zu frames in %.0f ms\n", sequences.size(), ms_since(start));
    ASSERT_EQ(sequences.size(), 20u);
    for (std::size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], i + 1);
    EXPECT_TRUE(writer_gone) << "after the drained writer left, the reader should report WriterDead";
    EXPECT_EQ(writer.wait(10s), 0);
}

// 1.7: 5000 frames through a ring holding about nine: hundreds of wraps, no sequence errors.
TEST(Feature01_BasicCommunication, Scenario_01_07_SlowReaderWithFastWriterHighVolume) {
    NameScope names;
    const auto name = names.make("test-slow-reader-hv");
    Reader reader(name, config(64, 10240));
    constexpr std::uint64_t kFrames = 5000;

    Child writer([&] {
        Writer w(name);
        for (std::uint64_t i = 1; i <= kFrames; ++i) write_pattern(w, 1024, i);
        return 0;
    });

    const auto start = std::chrono::steady_clock::now();
    std::uint64_t received = 0, bad_data = 0;
    for (std::uint64_t i = 1; i <= kFrames; ++i) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "frame " << i << " missing";
        ASSERT_EQ(f.sequence(), i);
        if (!matches_pattern(f.data().data(), f.size(), i)) ++bad_data;
        ++received;
    }
    std::printf("[ figures  ] %llu frames in %.0f ms, %llu wraps seen by the reader\n",
                static_cast<unsigned long long>(received), ms_since(start),
                static_cast<unsigned long long>(reader.health().wraps));
    EXPECT_EQ(received, kFrames);
    EXPECT_EQ(bad_data, 0u);
    EXPECT_GT(reader.health().wraps, 100u) << "the scenario is meant to wrap hundreds of times";
    EXPECT_EQ(writer.wait(10s), 0);
}

}  // namespace
}  // namespace zerobuffer::scenario
