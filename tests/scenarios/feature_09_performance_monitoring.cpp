// Feature 09: Performance Monitoring (catalogue §1.9). Measured with the thread CPU clock and
// Reader/Writer::health(); bounds are generous (a shared 2-core machine), figures are printed.
#include <gtest/gtest.h>

#include <thread>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

double cpu_share(std::chrono::nanoseconds cpu, double wall_ms) {
    return std::chrono::duration<double, std::milli>(cpu).count() / wall_ms;
}

// 9.1: near-zero CPU while blocked on a semaphore (reader waiting for frames, writer waiting
// for space), efficient copying while data flows, and the health() counters agree with what
// was transferred.
TEST(Feature09_PerformanceMonitoring, Scenario_09_01_CpuUsageMonitoring) {
    NameScope names;
    const auto name = names.make("test-cpu");
    Reader reader(name, config(0, 1u << 20));
    constexpr std::uint64_t kFrames = 2000;
    constexpr std::size_t kFrameSize = 64 * 1024;
    struct WriterFigures {
        double blocked_cpu_share;
        double blocked_wall_ms;
        std::uint64_t blocked_waits;
        std::uint64_t frames;
        std::uint64_t bytes;
    };
    Mailbox<WriterFigures> figures;
    Latch connected, reader_idle_done, ring_full, drain, streamed;

    Child writer([&] {
        Writer w(name, write_timeout(500ms));
        connected.signal();
        require(reader_idle_done.wait(30s).has_value(), "reader idle phase");

        // Phase 2: fill the ring, then measure a write that must wait the whole timeout.
        const auto data = pattern(kFrameSize, 0);
        std::uint64_t written = 0;
        try {
            for (;; ++written) w.write_frame(data);
        } catch (const BufferFullException&) {
        }
        WriterFigures f{};
        const auto cpu0 = thread_cpu_time();
        const auto t0 = std::chrono::steady_clock::now();
        require(classify_throw<BufferFullException>([&] { w.write_frame(data); }) == 0, "second BufferFull");
        f.blocked_wall_ms = ms_since(t0);
        f.blocked_cpu_share = cpu_share(thread_cpu_time() - cpu0, f.blocked_wall_ms);
        ring_full.signal(static_cast<char>(written));
        require(drain.wait(30s).has_value(), "drain signal");

        // Phase 3: stream frames as fast as the reader takes them.
        w.set_write_timeout(10s);
        for (std::uint64_t i = 0; i < kFrames; ++i) w.write_frame(data);
        const auto h = w.health();
        f.blocked_waits = h.blocked_waits;
        f.frames = h.frames;
        f.bytes = h.bytes;
        figures.send(f);
        streamed.signal();
        return 0;
    });
    ASSERT_TRUE(connected.wait(10s));

    // Phase 1: the reader waits for a frame that does not come.
    const auto cpu0 = thread_cpu_time();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(reader.read_frame(1500ms).valid());
    const double idle_wall = ms_since(t0);
    const double idle_share = cpu_share(thread_cpu_time() - cpu0, idle_wall);
    reader_idle_done.signal();

    const auto filled = ring_full.wait(30s);
    ASSERT_TRUE(filled.has_value());
    const auto full_health = reader.health();
    EXPECT_GT(full_health.utilisation, 0.9) << "the writer reported a full ring";

    // Drain what was written, then time the stream.
    drain.signal();
    const auto t1 = std::chrono::steady_clock::now();
    const std::uint64_t total = static_cast<std::uint64_t>(static_cast<unsigned char>(*filled)) + kFrames;
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        Frame f = reader.read_frame(10s);
        ASSERT_TRUE(f.valid()) << "frame " << i;
        bytes += f.size();
    }
    const double stream_ms = ms_since(t1);
    ASSERT_TRUE(streamed.wait(10s));
    const auto w = figures.receive(10s);
    ASSERT_TRUE(w.has_value());

    const double mib_s = static_cast<double>(bytes) / (1024.0 * 1024.0) / (stream_ms / 1000.0);
    std::printf("[ figures  ] reader blocked %.0f ms using %.2f%% CPU; writer blocked %.0f ms using %.2f%% CPU\n",
                idle_wall, idle_share * 100, w->blocked_wall_ms, w->blocked_cpu_share * 100);
    std::printf("[ figures  ] streamed %llu x %zu B in %.0f ms: %.0f MiB/s; writer blocked_waits %llu; "
                "utilisation when full %.2f\n",
                static_cast<unsigned long long>(total), kFrameSize, stream_ms, mib_s,
                static_cast<unsigned long long>(w->blocked_waits), full_health.utilisation);

    EXPECT_LT(idle_share, 0.10) << "a blocked reader must sleep, not spin";
    EXPECT_LT(w->blocked_cpu_share, 0.10) << "a blocked writer must sleep, not spin";
    EXPECT_GT(mib_s, 50.0) << "copying 64 KiB frames should run far faster than this";

    const auto h = reader.health();
    EXPECT_EQ(h.frames, total);
    EXPECT_EQ(h.bytes, total * kFrameSize);
    EXPECT_EQ(h.frames_outstanding, 0u);
    EXPECT_EQ(h.payload_free_bytes, h.payload_size) << "everything released";
    EXPECT_DOUBLE_EQ(h.utilisation, 0.0);
    EXPECT_EQ(w->frames, total);
    EXPECT_EQ(w->bytes, total * kFrameSize);
    EXPECT_GT(w->blocked_waits, 0u) << "the full-ring phase had to wait";
    EXPECT_EQ(writer.wait(10s), 0);
}

}  // namespace
}  // namespace zerobuffer::scenario
