// InOrderDispatcher: runs jobs concurrently on a pool of worker threads and hands their results
// out strictly in submission order. It knows nothing about shared memory or duplex channels:
// jobs in, results out through a callback (the duplex server's thread_pool mode is one user;
// tests/duplex/in_order_dispatcher_test.cpp drives it with plain callbacks).
//
//   * submit() numbers each job with a ticket (1, 2, 3, ...) and queues it. At most
//     max_in_flight jobs are submitted but not yet written; beyond that submit() waits for room
//     (back-pressure), in slices, until its give-up predicate says to stop waiting.
//   * A worker takes the oldest queued job and calls process(job) -> Result, outside any lock,
//     concurrently with the other workers.
//   * The finished result joins a ready set. The sequencer is not a thread: if no other thread
//     is writing, the thread that finished a result calls write() for every result that is next
//     in line, in ticket order, until it reaches a gap (a combining flush). So write() is never
//     called concurrently, always in ticket order, outside the lock; no worker ever waits for
//     another worker's job, and there is no thread hop between process() and write().
//   * stop() drops queued jobs no worker has started (destroyed without process or write), lets
//     jobs being processed finish (their results are still written if they are next in line),
//     and joins the workers.
//
// Header-only because it is a template over the job and result types.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "zerobuffer/export.h"

namespace zerobuffer::detail {

// Job: move-constructible. Result: default-constructible and movable.
template <class Job, class Result>
class ZEROBUFFER_NO_EXPORT InOrderDispatcher {
public:
    // On a worker, concurrently with other calls. Should not throw: if it does, its ticket's
    // result is Result{} (the order never has a gap).
    using Process = std::function<Result(Job& job)>;
    // In ticket order, one call at a time, from whichever worker completes the flush. Its
    // exceptions are swallowed (the flush goes on with the next result).
    using Write = std::function<void(std::uint64_t ticket, Result& result)>;

    // Starts `workers` threads. Throws std::invalid_argument (0 workers, max_in_flight 0, empty
    // callbacks), std::system_error (a thread could not be started; none is left running).
    InOrderDispatcher(std::size_t workers, std::size_t max_in_flight, Process process, Write write)
        : max_in_flight_(max_in_flight), process_(std::move(process)), write_(std::move(write)) {
        if (workers == 0 || max_in_flight == 0 || !process_ || !write_) {
            throw std::invalid_argument("InOrderDispatcher: workers and max_in_flight must be > 0, callbacks set");
        }
        workers_.reserve(workers);
        try {
            for (std::size_t i = 0; i < workers; ++i) {
                // Through void*: a std::thread state naming this type would be exported from a
                // shared build (libstdc++'s vtables have default visibility).
                workers_.emplace_back(+[](void* self) noexcept { static_cast<InOrderDispatcher*>(self)->worker_loop(); },
                                      static_cast<void*>(this));
            }
        } catch (...) {
            stop();
            throw;
        }
    }
    ~InOrderDispatcher() { stop(); }
    InOrderDispatcher(const InOrderDispatcher&) = delete;
    InOrderDispatcher& operator=(const InOrderDispatcher&) = delete;

    // Queues `job` and returns its ticket. While max_in_flight jobs are outstanding, waits for
    // room in slices of `slice`, calling give_up() (under the dispatcher's lock: it must not call
    // into the dispatcher) before each slice; returns nullopt, dropping the job, once give_up()
    // is true or the dispatcher is stopped. One submitting thread at a time keeps tickets in the
    // order of its calls; several may submit concurrently.
    template <class GiveUp>
    std::optional<std::uint64_t> submit(Job job, std::chrono::milliseconds slice, GiveUp&& give_up) {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (stopping_ || give_up()) return std::nullopt;
            if (in_flight_ < max_in_flight_) break;
            room_cv_.wait_for(lock, slice);
        }
        ++in_flight_;
        const std::uint64_t ticket = next_ticket_++;
        queue_.emplace_back(ticket, std::move(job));
        lock.unlock();
        work_cv_.notify_one();
        return ticket;
    }
    std::optional<std::uint64_t> submit(Job job) {
        return submit(std::move(job), std::chrono::milliseconds(50), [] { return false; });
    }

    // Wakes a submit() that waits for room, so that it re-checks its give-up predicate now.
    void wake() noexcept {
        { std::lock_guard lock(mutex_); }
        room_cv_.notify_all();
    }

    // Idempotent; one thread at a time; never from inside process() or write() (it joins the
    // workers). Blocks until the jobs being processed, and the flush they lead to, are done.
    void stop() noexcept {
        std::deque<std::pair<std::uint64_t, Job>> dropped;
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            dropped.swap(queue_);
        }
        work_cv_.notify_all();
        room_cv_.notify_all();
        dropped.clear();  // the jobs nobody started, destroyed outside the lock
        for (auto& worker : workers_) {
            if (worker.joinable()) worker.join();
        }
        workers_.clear();
    }

    // Submitted and not yet written (dropped jobs stay counted once stopped). Any thread.
    std::size_t in_flight() const {
        std::lock_guard lock(mutex_);
        return in_flight_;
    }
    // Results written so far (or being written), which are tickets 1..written(). Any thread.
    std::uint64_t written() const {
        std::lock_guard lock(mutex_);
        return next_write_ - 1;
    }

private:
    void worker_loop() noexcept {
        for (;;) {
            std::optional<std::pair<std::uint64_t, Job>> item;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (stopping_) return;
                item.emplace(std::move(queue_.front()));
                queue_.pop_front();
            }
            Result result{};
            try {
                result = process_(item->second);
            } catch (...) {
                result = Result{};
            }
            const std::uint64_t ticket = item->first;
            item.reset();  // the job is done with before its result is written
            complete(ticket, std::move(result));
        }
    }

    // The combining flush: the result joins the ready set; if no other thread is flushing, this
    // one writes every result that is next in line, in ticket order, until a gap.
    void complete(std::uint64_t ticket, Result result) noexcept {
        std::unique_lock lock(mutex_);
        ready_.emplace(ticket, std::move(result));
        if (flushing_) return;
        flushing_ = true;
        for (;;) {
            auto it = ready_.find(next_write_);
            if (it == ready_.end()) break;
            const std::uint64_t current_ticket = it->first;
            {
                Result current = std::move(it->second);
                ready_.erase(it);
                ++next_write_;
                lock.unlock();
                try {
                    write_(current_ticket, current);
                } catch (...) {
                }
            }  // `current` is freed outside the lock
            lock.lock();
            --in_flight_;
            room_cv_.notify_all();
        }
        flushing_ = false;
    }

    const std::size_t max_in_flight_;
    const Process process_;
    const Write write_;
    std::vector<std::thread> workers_;

    mutable std::mutex mutex_;
    std::condition_variable work_cv_;  // a job was queued, or stopping
    std::condition_variable room_cv_;  // in_flight_ went down, or wake()/stop()
    std::deque<std::pair<std::uint64_t, Job>> queue_;
    std::map<std::uint64_t, Result> ready_;
    std::uint64_t next_ticket_ = 1;
    std::uint64_t next_write_ = 1;
    std::size_t in_flight_ = 0;
    bool flushing_ = false;
    bool stopping_ = false;
};

}  // namespace zerobuffer::detail
