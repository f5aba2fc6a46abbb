// InOrderDispatcher on its own, with plain callbacks (no shared memory): ordering under random
// delays, many submitting threads, the combining flush, back-pressure, giving up, stop while
// busy, failing callbacks. Run under ThreadSanitizer too (docs/duplex.md, "Testing").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "duplex/in_order_dispatcher.h"
#include "test_support.h"

namespace zerobuffer::test {
namespace {

using namespace std::chrono_literals;
using detail::InOrderDispatcher;

// A move-only job that counts its destructions of live payloads (a dropped job must be destroyed).
struct Job {
    int value = 0;
    std::unique_ptr<int> payload;
    std::atomic<int>* destroyed = nullptr;
    Job() = default;
    Job(int v, std::atomic<int>* d) : value(v), payload(std::make_unique<int>(v)), destroyed(d) {}
    Job(Job&&) noexcept = default;
    Job& operator=(Job&&) noexcept = default;
    ~Job() {
        if (payload && destroyed != nullptr) ++*destroyed;
    }
};

struct Result {
    int value = -1;  // -1: the default (process threw)
    std::thread::id worker;
};

// What write() saw, checked for order and for concurrent calls.
class Sink {
public:
    void write(std::uint64_t ticket, const Result& r) {
        const int now = ++inside_;
        if (now > 1) overlapped_ = true;
        {
            std::lock_guard lock(mutex_);
            tickets_.push_back(ticket);
            values_.push_back(r.value);
            writers_.push_back(std::this_thread::get_id());
        }
        --inside_;
        cv_.notify_all();
    }
    bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return tickets_.size() >= n; });
    }
    std::vector<std::uint64_t> tickets() const {
        std::lock_guard lock(mutex_);
        return tickets_;
    }
    std::vector<int> values() const {
        std::lock_guard lock(mutex_);
        return values_;
    }
    std::vector<std::thread::id> writers() const {
        std::lock_guard lock(mutex_);
        return writers_;
    }
    bool overlapped() const { return overlapped_.load(); }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::uint64_t> tickets_;
    std::vector<int> values_;
    std::vector<std::thread::id> writers_;
    std::atomic<int> inside_{0};
    std::atomic<bool> overlapped_{false};
};

// A gate the callbacks can wait at until the test opens it.
class Gate {
public:
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    void pass() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

std::vector<std::uint64_t> one_to(std::size_t n) {
    std::vector<std::uint64_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = i + 1;
    return v;
}

// Jobs finish in random order (0-400 us each on 6 workers); results still come out 1, 2, 3...
// with the value of their own job, never from two threads at once.
TEST(InOrderDispatcher, ResultsLeaveInTicketOrderUnderRandomDelays) {
    constexpr int kJobs = 2000;
    Sink sink;
    std::atomic<int> finished_out_of_order{0};
    std::atomic<int> last_finished{0};
    std::atomic<int> destroyed{0};
    {
        InOrderDispatcher<Job, Result> d(
            6, 64,
            [&](Job& job) {
                thread_local std::mt19937 rng(std::random_device{}());
                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400));
                if (job.value < last_finished.exchange(job.value)) ++finished_out_of_order;
                return Result{job.value * 2, std::this_thread::get_id()};
            },
            [&](std::uint64_t ticket, Result& r) { sink.write(ticket, r); });
        for (int i = 0; i < kJobs; ++i) ASSERT_EQ(d.submit(Job(i, &destroyed)), std::uint64_t(i + 1));
        ASSERT_TRUE(sink.wait_for_count(kJobs));
        EXPECT_EQ(d.written(), std::uint64_t(kJobs));
        // A result leaves the in-flight count once its write() has returned.
        EXPECT_TRUE(eventually([&] { return d.in_flight() == 0; }, 2s));
    }
    EXPECT_EQ(sink.tickets(), one_to(kJobs));
    const auto values = sink.values();
    for (int i = 0; i < kJobs; ++i) ASSERT_EQ(values[static_cast<std::size_t>(i)], 2 * i) << "result " << i;
    EXPECT_FALSE(sink.overlapped()) << "write() ran on two threads at once";
    EXPECT_GT(finished_out_of_order.load(), 0) << "the delays never reordered completions; the test proves nothing";
    EXPECT_EQ(destroyed.load(), kJobs);
}

// Eight threads submit at once: every job is written exactly once, tickets in order, and each
// thread's jobs in the order that thread submitted them.
TEST(InOrderDispatcher, ManySubmittingThreads) {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 300;
    Sink sink;
    InOrderDispatcher<Job, Result> d(
        4, 16,
        [](Job& job) {
            if (job.value % 7 == 0) std::this_thread::sleep_for(50us);
            return Result{job.value, std::this_thread::get_id()};
        },
        [&](std::uint64_t ticket, Result& r) { sink.write(ticket, r); });
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) (void)d.submit(Job(t * 100000 + i, nullptr));
        });
    }
    for (auto& s : submitters) s.join();
    ASSERT_TRUE(sink.wait_for_count(kThreads * kPerThread));
    EXPECT_EQ(sink.tickets(), one_to(kThreads * kPerThread));
    std::vector<int> next(kThreads, 0);
    std::set<int> seen;
    for (const int v : sink.values()) {
        EXPECT_TRUE(seen.insert(v).second) << "written twice: " << v;
        const int t = v / 100000;
        EXPECT_EQ(v % 100000, next[static_cast<std::size_t>(t)]++) << "thread " << t << " out of order";
    }
    EXPECT_EQ(seen.size(), std::size_t{kThreads * kPerThread});
    EXPECT_FALSE(sink.overlapped());
}

// The combining flush: while job 1 is held, the other worker finishes jobs 2..10 without
// waiting for it, and nothing is written (a gap). When job 1 finishes, the worker that finished
// it writes all ten, in order.
TEST(InOrderDispatcher, CombiningFlushNoWorkerWaitsForAnother) {
    Gate first;
    Sink sink;
    std::atomic<int> processed{0};
    std::thread::id first_worker;
    std::mutex id_mutex;
    InOrderDispatcher<Job, Result> d(
        2, 32,
        [&](Job& job) {
            if (job.value == 1) {
                {
                    std::lock_guard lock(id_mutex);
                    first_worker = std::this_thread::get_id();
                }
                first.pass();
            }
            ++processed;
            return Result{job.value, std::this_thread::get_id()};
        },
        [&](std::uint64_t ticket, Result& r) { sink.write(ticket, r); });
    for (int i = 1; i <= 10; ++i) (void)d.submit(Job(i, nullptr));
    ASSERT_TRUE(eventually([&] { return processed.load() == 9; }, 5s)) << "jobs 2..10 waited for job 1";
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(sink.tickets().empty()) << "a result was written before the one ahead of it";
    EXPECT_EQ(d.in_flight(), 10u);
    first.open();
    ASSERT_TRUE(sink.wait_for_count(10));
    EXPECT_EQ(sink.tickets(), one_to(10));
    std::lock_guard lock(id_mutex);
    for (const auto& writer : sink.writers()) EXPECT_EQ(writer, first_worker);
}

// Back-pressure: with write() held, at most max_in_flight jobs are accepted; submit() waits
// until results are written, then goes on.
TEST(InOrderDispatcher, MaxInFlightBoundsWhatIsAccepted) {
    Gate writes;
    Sink sink;
    std::atomic<int> accepted{0};
    InOrderDispatcher<Job, Result> d(
        2, 4, [](Job& job) { return Result{job.value, std::this_thread::get_id()}; },
        [&](std::uint64_t ticket, Result& r) {
            writes.pass();
            sink.write(ticket, r);
        });
    std::thread submitter([&] {
        for (int i = 0; i < 20; ++i) {
            ASSERT_TRUE(d.submit(Job(i, nullptr), 5ms, [] { return false; }).has_value());
            ++accepted;
        }
    });
    ASSERT_TRUE(eventually([&] { return accepted.load() == 4; }, 5s));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(accepted.load(), 4) << "submit() did not wait for room";
    EXPECT_EQ(d.in_flight(), 4u);
    writes.open();
    submitter.join();
    ASSERT_TRUE(sink.wait_for_count(20));
    EXPECT_EQ(sink.tickets(), one_to(20));
    EXPECT_LE(d.in_flight(), 4u);
}

// A submit() waiting for room gives up when its predicate says so (woken by wake()), and the
// job it was given is destroyed, never processed.
TEST(InOrderDispatcher, WaitingSubmitGivesUp) {
    Gate writes;
    std::atomic<int> destroyed{0};
    std::atomic<int> processed{0};
    std::atomic<bool> give_up{false};
    InOrderDispatcher<Job, Result> d(
        1, 1,
        [&](Job& job) {
            ++processed;
            return Result{job.value, std::this_thread::get_id()};
        },
        [&](std::uint64_t, Result&) { writes.pass(); });
    ASSERT_TRUE(d.submit(Job(1, &destroyed)).has_value());
    std::optional<std::optional<std::uint64_t>> second;
    std::thread submitter([&] { second = d.submit(Job(2, &destroyed), 10s, [&] { return give_up.load(); }); });
    std::this_thread::sleep_for(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    give_up = true;
    d.wake();
    submitter.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "wake() did not wake the waiting submit";
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(second->has_value());
    EXPECT_EQ(destroyed.load(), 2);  // job 1 processed, job 2 dropped
    writes.open();
    d.stop();
    EXPECT_EQ(processed.load(), 1);
}

// stop() while busy: the jobs being processed finish and their results are written (they are
// next in line), queued ones are destroyed unprocessed, the workers are joined; submit() after
// stop() refuses.
TEST(InOrderDispatcher, StopWhileBusy) {
    Sink sink;
    std::atomic<int> started{0};
    std::atomic<int> finished{0};
    std::atomic<int> destroyed{0};
    InOrderDispatcher<Job, Result> d(
        3, 200,
        [&](Job& job) {
            ++started;
            std::this_thread::sleep_for(30ms);
            ++finished;
            return Result{job.value, std::this_thread::get_id()};
        },
        [&](std::uint64_t ticket, Result& r) { sink.write(ticket, r); });
    for (int i = 0; i < 100; ++i) (void)d.submit(Job(i, &destroyed));
    ASSERT_TRUE(eventually([&] { return started.load() >= 3; }, 5s));
    d.stop();
    const int ran = finished.load();
    EXPECT_EQ(started.load(), ran) << "a job was still running after stop() returned";
    EXPECT_GE(ran, 3);
    EXPECT_LT(ran, 100);
    EXPECT_EQ(sink.tickets(), one_to(static_cast<std::size_t>(ran))) << "finished results were not all written";
    EXPECT_EQ(destroyed.load(), 100) << "queued jobs were not destroyed";
    EXPECT_FALSE(d.submit(Job(1000, nullptr)).has_value());
    d.stop();  // idempotent
}

// A process() that throws yields Result{} for its ticket (no gap); a write() that throws does
// not stop the flush.
TEST(InOrderDispatcher, FailingCallbacksKeepTheOrder) {
    Sink sink;
    InOrderDispatcher<Job, Result> d(
        3, 8,
        [](Job& job) {
            if (job.value == 3) throw std::runtime_error("process failed");
            return Result{job.value, std::this_thread::get_id()};
        },
        [&](std::uint64_t ticket, Result& r) {
            sink.write(ticket, r);
            if (ticket == 5) throw std::runtime_error("write failed");
        });
    for (int i = 1; i <= 10; ++i) (void)d.submit(Job(i, nullptr));
    ASSERT_TRUE(sink.wait_for_count(10));
    EXPECT_EQ(sink.tickets(), one_to(10));
    EXPECT_EQ(sink.values(), (std::vector<int>{1, 2, -1, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(InOrderDispatcher, RejectsBadArguments) {
    auto process = [](Job& job) { return Result{job.value, {}}; };
    auto write = [](std::uint64_t, Result&) {};
    EXPECT_THROW((InOrderDispatcher<Job, Result>(0, 1, process, write)), std::invalid_argument);
    EXPECT_THROW((InOrderDispatcher<Job, Result>(1, 0, process, write)), std::invalid_argument);
    EXPECT_THROW((InOrderDispatcher<Job, Result>(1, 1, {}, write)), std::invalid_argument);
}

}  // namespace
}  // namespace zerobuffer::test
