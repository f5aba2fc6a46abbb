// Death and departure of the peer: detected within 250 ms, without a syscall per frame.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Child;
using test::Latch;

BufferConfig ring(std::size_t payload) {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = payload;
    return c;
}

// Kills `child` after `delay` from another thread; returns when it was killed.
std::thread kill_later(Child& child, std::chrono::milliseconds delay, std::atomic<Clock::rep>& killed_at) {
    return std::thread([&child, delay, &killed_at] {
        std::this_thread::sleep_for(delay);
        killed_at = Clock::now().time_since_epoch().count();
        child.kill_hard();
    });
}

double ms_since(const std::atomic<Clock::rep>& then) {
    const auto d = Clock::now().time_since_epoch() - Clock::duration(then.load());
    return std::chrono::duration<double, std::milli>(d).count();
}

TEST(Liveness, BlockedReaderLearnsOfWriterSigkillWithin250ms) {
    test::NameScope names;
    const auto name = names.make("live_writer_kill");
    Reader reader(name, ring(4096));
    Latch attached;
    Child writer_process([&] {
        Writer writer(name);
        writer.write_frame(test::pattern(10, 1));
        attached.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(attached.wait(10s));
    ASSERT_TRUE(reader.read_frame(1s));
    std::atomic<Clock::rep> killed_at{0};
    auto killer = kill_later(writer_process, 100ms, killed_at);
    double detected_ms = -1;
    try {
        (void)reader.read_frame(10s);
        ADD_FAILURE() << "read_frame returned instead of throwing";
    } catch (const WriterDeadException& e) {
        detected_ms = ms_since(killed_at);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos);
    }
    killer.join();
    std::printf("[ figure ] writer SIGKILL noticed by a blocked reader after %.1f ms\n", detected_ms);
    EXPECT_GE(detected_ms, 0.0);
    EXPECT_LT(detected_ms, 250.0);
}

TEST(Liveness, BlockedWriterLearnsOfReaderSigkillWithin250ms) {
    test::NameScope names;
    const auto name = names.make("live_reader_kill");
    Latch created;
    Child reader_process([&] {
        Reader reader(name, ring(4096));
        created.signal();
        ::pause();  // never reads: the writer fills the ring and blocks
        return 0;
    });
    ASSERT_TRUE(created.wait(10s));
    WriterOptions options;
    options.write_timeout = 10s;
    Writer writer(name, options);
    for (int i = 0; i < 7; ++i) writer.write_frame(test::pattern(500, static_cast<std::uint64_t>(i + 1)));
    std::atomic<Clock::rep> killed_at{0};
    auto killer = kill_later(reader_process, 100ms, killed_at);
    double detected_ms = -1;
    try {
        writer.write_frame(test::pattern(500, 8));  // blocks: the ring is full
        ADD_FAILURE() << "the write succeeded into a full ring";
    } catch (const ReaderDeadException&) {
        detected_ms = ms_since(killed_at);
    }
    killer.join();
    std::printf("[ figure ] reader SIGKILL noticed by a blocked writer after %.1f ms\n", detected_ms);
    EXPECT_GE(detected_ms, 0.0);
    EXPECT_LT(detected_ms, 250.0);
    EXPECT_FALSE(writer.is_reader_connected());
}

TEST(Liveness, StreamingWriterLearnsOfReaderDeathEvenWithFreeSpace) {
    test::NameScope names;
    const auto name = names.make("live_reader_free");
    Latch created;
    Child reader_process([&] {
        Reader reader(name, ring(1024 * 1024));
        created.signal();
        for (;;) {
            Frame f = reader.read_frame(1s);
        }
        return 0;
    });
    ASSERT_TRUE(created.wait(10s));
    Writer writer(name);
    reader_process.kill_hard();
    const auto killed = Clock::now();
    bool noticed = false;
    for (int i = 0; i < 100000 && !noticed; ++i) {
        try {
            writer.write_frame(test::pattern(16, static_cast<std::uint64_t>(i + 1)));
            std::this_thread::sleep_for(1ms);
        } catch (const ReaderDeadException&) {
            noticed = true;
        } catch (const BufferFullException&) {
            ADD_FAILURE() << "BufferFull instead of ReaderDead";
            break;
        }
    }
    EXPECT_TRUE(noticed);
    EXPECT_LT(Clock::now() - killed, 500ms);
}

TEST(Liveness, GracefulWriterExitDrainsFramesThenRaisesWriterDead) {
    test::NameScope names;
    const auto name = names.make("live_graceful");
    Reader reader(name, ring(64 * 1024));
    Child writer_process([&] {
        Writer writer(name);
        for (int i = 1; i <= 5; ++i) writer.write_frame(test::pattern(100, static_cast<std::uint64_t>(i)));
        return 0;  // Writer closes: writer_pid = 0
    });
    ASSERT_EQ(writer_process.wait(10s), 0);
    for (std::uint64_t i = 1; i <= 5; ++i) {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f) << "frames written before the writer left are still delivered";
        EXPECT_EQ(f.sequence(), i);
    }
    EXPECT_THROW(reader.read_frame(1s), WriterDeadException);
}

TEST(Liveness, FastWriterThatLeftBeforeTheReaderLookedIsStillRead) {
    // Catalogue §3.C: upstream's C++ reader missed a whole stream from a fast writer.
    test::NameScope names;
    const auto name = names.make("live_fast");
    Reader reader(name, ring(1024 * 1024));
    Child writer_process([&] {
        Writer writer(name);
        for (int i = 1; i <= 1000; ++i) writer.write_frame(test::pattern(512, static_cast<std::uint64_t>(i)));
        return 0;
    });
    ASSERT_EQ(writer_process.wait(10s), 0);
    int read = 0;
    try {
        for (;;) {
            Frame f = reader.read_frame(2s);
            ASSERT_TRUE(f);
            ASSERT_TRUE(test::matches_pattern(f.data().data(), f.size(), f.sequence()));
            ++read;
        }
    } catch (const WriterDeadException&) {
    }
    EXPECT_EQ(read, 1000);
}

TEST(Liveness, ReaderWithoutAnyWriterOnlyTimesOut) {
    test::NameScope names;
    Reader reader(names.make("live_never"), ring(4096));
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(reader.read_frame(120ms)) << "no writer ever connected: not WriterDead";
}

TEST(Liveness, WriterOfAnotherUserIsConsideredAlive) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a writer as another user";
    test::NameScope names;
    const auto name = names.make("live_otheruser");
    BufferConfig config = ring(4096);
    config.permissions = 0666;  // let user nobody attach
    Reader reader(name, config);
    Latch attached;
    Child writer_process([&] {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
        Writer writer(name);
        writer.write_frame(test::pattern(10, 1));
        attached.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(attached.wait(10s)) << "a writer of another user could not attach";
    ASSERT_TRUE(reader.read_frame(1s));
    EXPECT_TRUE(reader.is_writer_connected());
    EXPECT_FALSE(reader.read_frame(200ms)) << "a live writer of another user must not read as dead";
    writer_process.kill_hard();
    EXPECT_THROW(reader.read_frame(2s), WriterDeadException);
}

}  // namespace
}  // namespace zerobuffer

namespace zerobuffer {
namespace {

// A reader with a 4 KiB ring and a writer child that has written frames of 100, 200, ... bytes
// with sequences 1..frames and now waits to be killed.
struct ReaderWithWaitingWriter {
    ReaderWithWaitingWriter(std::string_view base, int frames)
        : name(names.make(base)), reader(name, small_ring()), writer_process([this, frames] {
              Writer writer(name);
              for (int i = 1; i <= frames; ++i) {
                  writer.write_frame(test::pattern(100 * static_cast<std::size_t>(i), static_cast<std::uint64_t>(i)));
              }
              written.signal();
              ::pause();
              return 0;
          }) {}
    static BufferConfig small_ring() {
        BufferConfig config;
        config.metadata_size = 0;
        config.payload_size = 4096;
        return config;
    }
    test::NameScope names;
    std::string name;
    Reader reader;
    test::Latch written;
    test::Child writer_process;
};

// A writer killed after counting its last frame but before posting sem-w: the complete frame is
// still delivered, then WriterDead.
TEST(Liveness, FrameCountedButNotPostedByAKilledWriterIsDelivered) {
    using namespace std::chrono_literals;
    ReaderWithWaitingWriter fx("live_unposted", 2);
    ASSERT_TRUE(fx.written.wait(10s));
    const auto& name = fx.name;
    Reader& reader = fx.reader;
    test::Child& writer_process = fx.writer_process;
    // Take back the second post, as if the writer had died just before making it.
    sem_t* sem_w = ::sem_open(("/sem-w-" + name).c_str(), 0);
    ASSERT_NE(sem_w, SEM_FAILED);
    ASSERT_EQ(::sem_trywait(sem_w), 0);
    ASSERT_EQ(::sem_trywait(sem_w), 0);
    ASSERT_EQ(::sem_post(sem_w), 0);
    ::sem_close(sem_w);
    writer_process.kill_hard();

    Frame first = reader.read_frame(2s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first.sequence(), 1u);
    Frame second = reader.read_frame(2s);
    ASSERT_TRUE(second) << "the counted frame must be delivered although its post never came";
    EXPECT_EQ(second.sequence(), 2u);
    EXPECT_TRUE(test::matches_pattern(second.data().data(), 200, 2));
    EXPECT_THROW(reader.read_frame(2s), WriterDeadException);
}

// The same situation with stale bytes behind the count (a Python writer's phantom wrap count)
// must not produce a frame.
TEST(Liveness, CountWithoutAFrameOfTheExpectedSequenceIsNotDelivered) {
    using namespace std::chrono_literals;
    ReaderWithWaitingWriter fx("live_phantom", 1);
    ASSERT_TRUE(fx.written.wait(10s));
    const auto& name = fx.name;
    Reader& reader = fx.reader;
    test::Child& writer_process = fx.writer_process;
    ASSERT_TRUE(reader.read_frame(2s));
    // A phantom count: written_count one ahead, nothing new in the ring.
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    void* map = ::mmap(nullptr, 128, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(map, MAP_FAILED);
    std::atomic_ref<std::uint64_t>(static_cast<protocol::Oieb*>(map)->payload_written_count).fetch_add(1);
    ::munmap(map, 128);
    writer_process.kill_hard();
    EXPECT_THROW(reader.read_frame(2s), WriterDeadException);
}

}  // namespace
}  // namespace zerobuffer
