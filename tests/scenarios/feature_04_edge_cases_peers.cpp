// Feature 04: Edge Cases (catalogue §1.4), the scenarios about the peers: semaphore posts, a
// slow reader, rapid cycles, a rejected second writer, the initialisation race, a writer before
// its reader (4.2, 4.5, 4.9-4.12; the size scenarios are in feature_04_edge_cases_sizes.cpp).
// Scenarios about processes (MP) fork the writer or the readers.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <thread>

#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

// 4.2: ten frames written while the reader is idle leave ten posts on sem-w (one per frame);
// the reader then takes all ten with short reads and the semaphore is balanced again.
TEST(Feature04_EdgeCases, Scenario_04_02_SemaphoreSignalCoalescing) {
    NameScope names;
    const auto name = names.make("test-coalesce");
    Reader reader(name, config(1024, 10240), step_by_step());  // one post consumed per read
    Latch wrote, done;

    Child writer([&] {
        Writer w(name);
        for (std::uint64_t i = 1; i <= 10; ++i) write_pattern(w, 64, i);
        wrote.signal();
        require(done.wait(10s).has_value(), "done signal");
        return 0;
    });

    ASSERT_TRUE(wrote.wait(10s));
    EXPECT_EQ(semaphore_value("sem-w-" + name), 10) << "sem-w must carry one post per pending frame";
    const auto h = reader.health();
    EXPECT_EQ(h.written_count - h.read_count, 10u);

    for (std::uint64_t i = 1; i <= 10; ++i) {
        Frame f = reader.read_frame(100ms);
        ASSERT_TRUE(f.valid()) << "frame " << i;
        EXPECT_EQ(f.sequence(), i);
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), i));
    }
    EXPECT_EQ(semaphore_value("sem-w-" + name), 0) << "each read consumes exactly one post";
    EXPECT_FALSE(reader.read_frame(100ms).valid()) << "no phantom frame after the ten";
    done.signal();
    EXPECT_EQ(writer.wait(10s), 0);
}

// 4.5: payload 1024, 100 B frames, a reader pausing 50 ms per frame: all 100 frames arrive in
// order, most writes block (for a time of the order of the reader's pause), the first burst does not.
TEST(Feature04_EdgeCases, Scenario_04_05_ReaderSlowerThanWriter) {
    NameScope names;
    const auto name = names.make("test-slow-reader2");
    Reader reader(name, config(0, 1024));
    constexpr int kFrames = 100;
    struct Stats {
        int blocked;               // writes that took more than 10 ms
        double average_blocked_ms;
        double first_burst_max_ms; // slowest of the first five writes
        std::uint64_t blocked_waits;
    };
    Mailbox<Stats> stats;

    Child writer([&] {
        Writer w(name, write_timeout(10s));
        Stats s{0, 0.0, 0.0, 0};
        double blocked_total = 0;
        for (int i = 1; i <= kFrames; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            write_pattern(w, 100, static_cast<std::uint64_t>(i));
            const double dt = ms_since(t0);
            if (i <= 5) s.first_burst_max_ms = std::max(s.first_burst_max_ms, dt);
            if (dt > 10.0) {
                ++s.blocked;
                blocked_total += dt;
            }
        }
        s.average_blocked_ms = s.blocked > 0 ? blocked_total / s.blocked : 0.0;
        s.blocked_waits = w.health().blocked_waits;
        stats.send(s);
        return 0;
    });

    for (int i = 1; i <= kFrames; ++i) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "frame " << i << " lost";
        ASSERT_EQ(f.sequence(), static_cast<std::uint64_t>(i));
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), static_cast<std::uint64_t>(i)));
        f.release();
        std::this_thread::sleep_for(50ms);
    }
    const auto s = stats.receive(10s);
    ASSERT_TRUE(s.has_value());
    std::printf("[ figures  ] blocked writes %d of %d, average block %.1f ms, first burst max %.2f ms, "
                "blocked_waits %llu\n",
                s->blocked, kFrames, s->average_blocked_ms, s->first_burst_max_ms,
                static_cast<unsigned long long>(s->blocked_waits));
    // The reader sets the pace: most writes wait for it (the reader returns space at release while
    // it is behind, and in batches once it has caught up: then one wait covers two frames).
    EXPECT_GT(s->blocked, 40);
    EXPECT_GT(s->average_blocked_ms, 40.0);
    EXPECT_GT(s->blocked * s->average_blocked_ms, 0.7 * (kFrames - 8) * 50.0) << "the writer is paced by the reader";
    EXPECT_LT(s->first_burst_max_ms, 50.0) << "the first writes fit the empty ring and must not wait";
    EXPECT_GE(s->blocked_waits, static_cast<std::uint64_t>(s->blocked)) << "health().blocked_waits should count the waits";
    EXPECT_EQ(writer.wait(10s), 0);
}

// 4.9: 10000 frames of 1 KiB, each read and released at once: nothing lost, no deadlock.
TEST(Feature04_EdgeCases, Scenario_04_09_RapidWriteReadCycles) {
    NameScope names;
    const auto name = names.make("test-rapid");
    Reader reader(name, config(0, 10240));
    constexpr std::uint64_t kFrames = 10000;

    Child writer([&] {
        Writer w(name);
        for (std::uint64_t i = 1; i <= kFrames; ++i) write_pattern(w, 1024, i);
        return 0;
    });

    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t corrupt = 0;
    for (std::uint64_t i = 1; i <= kFrames; ++i) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "frame " << i << " missing (deadlock?)";
        ASSERT_EQ(f.sequence(), i);
        if (!matches_pattern(f.data().data(), f.size(), i)) ++corrupt;
    }
    std::printf("[ figures  ] %llu frames in %.0f ms\n", static_cast<unsigned long long>(kFrames), ms_since(t0));
    EXPECT_EQ(corrupt, 0u);
    EXPECT_EQ(writer.wait(10s), 0);
}

// 4.10: with the ring 80% full a second writer is rejected; the first fills it completely and
// its next write stays blocked until the reader frees a frame.
TEST(Feature04_EdgeCases, Scenario_04_10_BufferFullWithMultipleWritersRejected) {
    NameScope names;
    const auto name = names.make("test-full-multi");
    Reader reader(name, config(0, 10240));
    Latch eighty, proceed, progress, done;

    Child first([&] {
        Writer w(name, write_timeout(20s));
        for (std::uint64_t i = 1; i <= 8; ++i) write_pattern(w, 1024, i);  // 8320 B: 81%
        eighty.signal();
        require(proceed.wait(10s).has_value(), "proceed signal");
        write_pattern(w, 1024, 9);                                          // 9360 B: the ring is full
        progress.signal('B');
        write_pattern(w, 1024, 10);                                         // must block
        progress.signal('C');
        require(done.wait(10s).has_value(), "done signal");
        return 0;
    });

    ASSERT_TRUE(eighty.wait(10s));
    EXPECT_GE(reader.health().utilisation, 0.8);

    Child second([&] { return classify_throw<WriterAlreadyConnectedException>([&] { Writer w(name); }); });
    EXPECT_EQ(second.wait(10s), 0) << "a second writer must be rejected";

    proceed.signal();
    ASSERT_EQ(progress.wait(10s), 'B');
    EXPECT_FALSE(progress.wait(300ms).has_value()) << "the write into a full ring completed";
    EXPECT_GT(reader.health().utilisation, 0.9);

    {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(f.sequence(), 1u);
    }
    EXPECT_EQ(progress.wait(5s), 'C') << "the blocked write did not resume after a release";
    for (std::uint64_t i = 2; i <= 10; ++i) {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid()) << "frame " << i;
        EXPECT_EQ(f.sequence(), i);
        EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), i));
    }
    done.signal();
    EXPECT_EQ(first.wait(10s), 0);
}

// 4.11: two processes create the same buffer at the same moment: exactly one wins, the other
// gets ReaderAlreadyConnected, and the winner's buffer works. Repeated to vary the interleaving.
TEST(Feature04_EdgeCases, Scenario_04_11_ConcurrentInitializationRace) {
    NameScope names;
    constexpr int kRounds = 10;
    for (int round = 0; round < kRounds; ++round) {
        const auto name = names.make("race-test");
        Latch go;
        Mailbox<char> outcome;
        auto contender = [&]() -> int {
            require(go.wait(10s).has_value(), "go signal");
            std::optional<Reader> reader;
            try {
                reader.emplace(name, config(1024, 4096));
            } catch (const ReaderAlreadyConnectedException&) {
                outcome.send('L');
                return 0;
            }
            outcome.send('W');
            Frame f = reader->read_frame(10s);
            require(f.valid() && text_of(f) == "race-ok", "the winner's buffer carries a frame");
            return 0;
        };
        Child a(contender);
        Child b(contender);
        go.signal();
        go.signal();
        const auto r1 = outcome.receive(10s);
        const auto r2 = outcome.receive(10s);
        ASSERT_TRUE(r1 && r2) << "round " << round << ": a contender reported nothing";
        EXPECT_EQ((*r1 == 'W') + (*r2 == 'W'), 1) << "round " << round << ": exactly one reader must win";
        EXPECT_EQ((*r1 == 'L') + (*r2 == 'L'), 1) << "round " << round << ": the loser gets ReaderAlreadyConnected";

        Writer writer(name);
        writer.write_frame(bytes_of("race-ok"));
        EXPECT_EQ(a.wait(10s), 0) << "round " << round;
        EXPECT_EQ(b.wait(10s), 0) << "round " << round;
        writer.close();
        EXPECT_TRUE(no_objects_left(name)) << "round " << round;
    }
}

// 4.12: a writer for a buffer nobody created fails with BufferNotFound naming the buffer, and
// creates nothing; the reader created afterwards waits for the late writer.
TEST(Feature04_EdgeCases, Scenario_04_12_WriterBeforeReader) {
    NameScope names;
    const auto name = names.make("no-reader");
    try {
        Writer writer(name);
        FAIL() << "a writer attached to a buffer that does not exist";
    } catch (const BufferNotFoundException& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_EQ(e.code(), make_error_code(errc::buffer_not_found));
    }
    EXPECT_TRUE(no_objects_left(name));

    // Once the reader exists, a read before any writer has connected is a plain timeout: no
    // WriterDead for a writer that never came (the C# and Python readers raise it, catalogue B9).
    Reader reader(name, config(0, 1024));
    Frame f;
    EXPECT_NO_THROW(f = reader.read_frame(100ms));
    EXPECT_FALSE(f.valid());
    Writer late(name);
    late.write_frame(bytes_of("late"));
    f = reader.read_frame(1s);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(text_of(f), "late");
}

}  // namespace
}  // namespace zerobuffer::scenario
