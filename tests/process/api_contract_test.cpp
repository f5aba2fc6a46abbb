// The public API's contracts and the bugs of the architecture review, each with a test that
// failed before its fix: a refused Reader leaves a live buffer intact, a FrameReservation is
// safe whatever outlives what, a huge write timeout means "wait", close() is safe against
// health() from other threads, and a log sink may log.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <type_traits>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;

// Move-only handles with noexcept moves: a Frame or a reservation can live in containers and be
// returned from functions without surprises.
static_assert(!std::is_copy_constructible_v<Frame> && !std::is_copy_assignable_v<Frame>);
static_assert(std::is_nothrow_move_constructible_v<Frame> && std::is_nothrow_move_assignable_v<Frame>);
static_assert(std::is_nothrow_destructible_v<Frame>);
static_assert(!std::is_copy_constructible_v<FrameReservation> && !std::is_copy_assignable_v<FrameReservation>);
static_assert(std::is_nothrow_move_constructible_v<FrameReservation> &&
              std::is_nothrow_move_assignable_v<FrameReservation>);
static_assert(std::is_nothrow_destructible_v<FrameReservation>);
static_assert(!std::is_copy_constructible_v<Reader> && std::is_nothrow_move_constructible_v<Reader>);
static_assert(!std::is_copy_constructible_v<Writer> && std::is_nothrow_move_constructible_v<Writer>);
static_assert(noexcept(std::declval<Frame&>().release()) && noexcept(std::declval<Frame&>().data()));
static_assert(noexcept(std::declval<Reader&>().close()) && noexcept(std::declval<Writer&>().close()));

BufferConfig ring(std::size_t payload) {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = payload;
    return c;
}

// Bug: Reader creation threw "owned by a live reader ... left intact" and then its clean-up
// unlinked sem-w-NAME and sem-r-NAME anyway. A live reader whose lock file the second creator
// cannot see (deleted here) then never received another frame.
TEST(ApiContract, RefusedReaderLeavesALiveBufferIntact) {
    test::NameScope names;
    const auto name = names.make("refused");
    test::Latch created, frame_seen;
    test::Child owner([&] {
        Reader reader(name, ring(4096));
        created.signal();
        Frame f = reader.read_frame(10s);
        if (!f || f.size() != 5) return 1;
        frame_seen.signal();
        return 0;
    });
    ASSERT_TRUE(created.wait(10s));
    std::filesystem::remove("/tmp/zerobuffer/" + name + ".lock");  // the second creator cannot see the lock
    const std::string message = test::expect_throw<ReaderAlreadyConnectedException>([&] { Reader second(name, ring(4096)); });
    EXPECT_NE(message.find(name), std::string::npos) << message;
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/sem.sem-w-" + name)) << "the live reader's semaphore was removed";
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/sem.sem-r-" + name));
    Writer writer(name);  // a writer still finds everything, and the live reader still gets frames
    writer.write_frame("hello", 5);
    EXPECT_TRUE(frame_seen.wait(10s));
    EXPECT_EQ(owner.wait(10s), 0);
}

// Bug: a FrameReservation that outlived its Writer called into the freed implementation, and a
// stale reservation could commit another pending frame.
TEST(ApiContract, ReservationIsSafeWhateverOutlivesWhat) {
    test::NameScope names;
    const auto name = names.make("reservation");
    Reader reader(name, ring(4096));
    FrameReservation orphan;
    {
        Writer writer(name);
        orphan = writer.acquire_frame(8);
        ASSERT_TRUE(orphan.valid());
        EXPECT_EQ(orphan.data().size(), 8u);
    }  // the writer is gone first
    EXPECT_FALSE(orphan.valid());
    EXPECT_TRUE(orphan.data().empty());
    EXPECT_THROW(orphan.commit(), UsageException);
    orphan.abandon();  // harmless

    Writer writer(name);
    FrameReservation first = writer.acquire_frame(4);
    std::memcpy(first.data().data(), "AAAA", 4);
    first.abandon();
    FrameReservation second = writer.acquire_frame(4);
    std::memcpy(second.data().data(), "BBBB", 4);
    EXPECT_THROW(first.commit(), UsageException) << "a stale reservation must not publish the pending frame";
    EXPECT_TRUE(second.valid());
    FrameReservation moved = std::move(second);
    EXPECT_FALSE(second.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_THROW(second.commit(), UsageException);
    EXPECT_EQ(moved.commit(), 1u) << "the abandoned frame consumed no sequence number";
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data().data()), f.size()), "BBBB");

    FrameReservation pending = writer.acquire_frame(4);
    EXPECT_THROW(writer.write_frame("x", 1), UsageException) << "one pending frame at a time";
    writer.close();
    EXPECT_FALSE(pending.valid()) << "closing the writer invalidates its reservation";
    EXPECT_THROW(pending.commit(), UsageException);
}

// Bug: set_write_timeout(milliseconds::max()) overflowed the deadline, so the next blocked write
// threw BufferFullException after 0 ms instead of waiting.
TEST(ApiContract, HugeWriteTimeoutWaits) {
    test::NameScope names;
    const auto name = names.make("forever");
    Reader reader(name, ring(1024));
    Writer writer(name);
    writer.set_write_timeout(std::chrono::milliseconds::max());
    writer.write_frame(test::pattern(1000, 1));  // the ring is full now
    Frame held = reader.read_frame(1s);
    ASSERT_TRUE(held);
    std::atomic<int> outcome{0};  // 0 waiting, 1 written, 2 threw
    std::thread blocked([&] {
        try {
            writer.write_frame(test::pattern(1000, 2));
            outcome = 1;
        } catch (const std::exception&) {
            outcome = 2;
        }
    });
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(outcome.load(), 0) << "the write must still be waiting";
    held.release();  // from another thread than the reading one: returned at once
    blocked.join();
    EXPECT_EQ(outcome.load(), 1);
    EXPECT_TRUE(reader.read_frame(1s));
}

// Bug: close() wrote a plain flag and unmapped the segment while other threads could be inside
// health() or is_*_connected(), which the headers allow from any thread.
TEST(ApiContract, CloseIsSafeAgainstObserversOnOtherThreads) {
    test::NameScope names;
    for (int round = 0; round < 20; ++round) {
        const auto name = names.make("observed");
        auto reader = std::make_unique<Reader>(name, ring(4096));
        auto writer = std::make_unique<Writer>(name);
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> observations{0};
        std::vector<std::thread> observers;
        for (int t = 0; t < 3; ++t) {
            observers.emplace_back([&] {
                while (!stop.load()) {
                    try {
                        (void)reader->health();
                        (void)writer->health();
                    } catch (const ObjectClosedException&) {
                    }
                    (void)reader->is_writer_connected();
                    (void)writer->is_reader_connected();
                    observations.fetch_add(1);
                }
            });
        }
        while (observations.load() < 50) std::this_thread::yield();
        writer->close();
        reader->close();
        EXPECT_FALSE(reader->is_writer_connected());
        EXPECT_THROW((void)reader->health(), ObjectClosedException);
        stop = true;
        for (auto& t : observers) t.join();
    }
}

// Bug: the log module called the user's sink while holding its own mutex, so a sink that
// logged (here: it creates a buffer, which logs) deadlocked. Run in a child: a deadlock must
// fail the test, not hang the suite.
TEST(ApiContract, LogSinkMayLog) {
    const auto name = test::unique_name("logging");
    test::Child child([&] {
        std::atomic<int> depth{0};
        std::atomic<int> messages{0};
        set_log_level(LogLevel::info);
        set_log_sink([&](LogLevel, std::string_view) {
            messages.fetch_add(1);
            if (depth.fetch_add(1) == 0) {
                Reader inner(name + "_inner", ring(1024));  // logs "created" and "closed" from inside the sink
            }
            depth.fetch_sub(1);
        });
        { Reader outer(name, ring(1024)); }
        set_log_sink(nullptr);
        set_log_level(LogLevel::off);
        return messages.load() >= 2 ? 0 : 1;
    });
    const auto code = child.wait(10s);
    ASSERT_TRUE(code.has_value()) << "the log sink deadlocked";
    EXPECT_EQ(*code, 0);
    test::remove_buffer_objects(name);
    test::remove_buffer_objects(name + "_inner");
}

// Non-blocking calls for event loops: nothing there -> at once, no exception.
TEST(ApiContract, NonBlockingReadsAndWrites) {
    test::NameScope names;
    const auto name = names.make("poll");
    Reader reader(name, ring(1024));
    Writer writer(name);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(reader.try_read_frame());
    EXPECT_FALSE(reader.read_frame(0ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 50ms);
    const auto first = writer.try_write_frame(test::pattern(900, 1));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, 1u);
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_FALSE(writer.try_write_frame(test::pattern(900, 2)).has_value()) << "full: nullopt, not an exception";
    EXPECT_FALSE(writer.try_acquire_frame(900).valid());
    EXPECT_LT(std::chrono::steady_clock::now() - t1, 50ms);
    EXPECT_FALSE(writer.try_write_frame(test::pattern(900, 2), 30ms).has_value()) << "waits, then reports";
    Frame f = reader.try_read_frame();
    ASSERT_TRUE(f);
    EXPECT_TRUE(test::matches_pattern(f.data().data(), f.size(), 1));
    f.release();
    EXPECT_TRUE(writer.try_write_frame(test::pattern(900, 2)).has_value());
    EXPECT_THROW((void)writer.try_write_frame(test::pattern(0, 0)), InvalidFrameSizeException) << "other errors still throw";
}

}  // namespace
}  // namespace zerobuffer
