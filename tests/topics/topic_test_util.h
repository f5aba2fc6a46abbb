// Helpers of the topic tests: unique topic names and removal of every object of their
// subscriber buffers, a pipe carrying results from forked children, and a verifying reader.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <zerobuffer/zerobuffer.h>

#include "test_support.h"
#include "topic_data.h"

namespace zerobuffer::test::topics {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// steady_clock is CLOCK_MONOTONIC on Linux: the same clock in every process.
inline std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

inline BufferConfig ring(std::size_t payload, std::size_t metadata = 4096) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

// Topic names for one test; every object of their subscriber buffers (segments, semaphores,
// lock files) is removed on destruction, so a failing test cleans up too.
class TopicScope {
public:
    TopicScope() = default;
    ~TopicScope() { remove_all(); }
    TopicScope(const TopicScope&) = delete;
    TopicScope& operator=(const TopicScope&) = delete;

    std::string make(std::string_view base);
    void adopt(const std::string& topic) { topics_.push_back(topic); }
    // Objects of these topics' buffers that exist now.
    std::vector<std::string> leftovers() const;
    void remove_all() const;

private:
    std::vector<std::string> topics_;
};

// Fixed-size records from forked children to the parent.
template <class T>
class ResultPipe {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    ResultPipe();
    ~ResultPipe();
    ResultPipe(const ResultPipe&) = delete;
    ResultPipe& operator=(const ResultPipe&) = delete;
    void send(const T& value);                                                          // any process
    std::optional<T> receive(std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    int fds_[2] = {-1, -1};
};

void pipe_send(int fd, const void* data, std::size_t size);
bool pipe_receive(int fd, void* data, std::size_t size, std::chrono::milliseconds timeout);
void pipe_open(int fds[2]);
void pipe_close(int fds[2]);

template <class T>
ResultPipe<T>::ResultPipe() { pipe_open(fds_); }
template <class T>
ResultPipe<T>::~ResultPipe() { pipe_close(fds_); }
template <class T>
void ResultPipe<T>::send(const T& value) { pipe_send(fds_[1], &value, sizeof value); }
template <class T>
std::optional<T> ResultPipe<T>::receive(std::chrono::milliseconds timeout) {
    T value{};
    if (!pipe_receive(fds_[0], &value, sizeof value, timeout)) return std::nullopt;
    return value;
}

// A flag in memory shared with forked children (MAP_SHARED | MAP_ANONYMOUS), set by any of them.
class SharedFlag {
public:
    SharedFlag();
    ~SharedFlag();
    SharedFlag(const SharedFlag&) = delete;
    SharedFlag& operator=(const SharedFlag&) = delete;
    void set() noexcept { flag_->store(true, std::memory_order_release); }
    bool is_set() const noexcept { return flag_->load(std::memory_order_acquire); }

private:
    std::atomic<bool>* flag_ = nullptr;
};

// SIGKILLs `child` the way the churn tests do, and removes what only such a kill can leave that
// no buffer name points at: glibc's sem_open creates a semaphore as /dev/shm/sem.XXXXXX and then
// renames it, so a process killed in between leaves that file behind. The child is stopped
// first (SIGSTOP), the temporary files it has open are noted, then it is killed and reaped and
// those files removed. Returns how many it removed.
int kill_and_clean(Child& child);

// What a verifying subscriber saw.
struct ReadResult {
    std::uint64_t frames = 0;
    std::uint64_t first = UINT64_MAX;   // number of the first frame
    std::uint64_t last = 0;             // number of the last frame
    std::uint64_t bad = 0;              // wrong bytes, wrong size, a gap, a wrong sequence
    std::uint64_t departures = 0;       // WriterDeadException seen
    std::uint64_t restarts = 0;         // frames with sequence 1 after the first frame
    std::uint64_t first_sequence = 0;   // sequence number of the first frame
    bool metadata_ok = false;           // the expected metadata was there at the first frame
    std::int64_t subscribed_us = 0;     // when the Subscriber existed (now_us)
    std::int64_t first_frame_us = 0;    // when the first frame arrived
    std::int64_t departure_us = 0;      // when the first WriterDeadException came
    char problem[200] = {};             // the first problem, for messages
};

struct ReadPlan {
    Schedule sizes;
    std::vector<std::byte> metadata;                 // expected at the first frame
    std::uint64_t until = UINT64_MAX;                // stop after the frame with this number
    std::uint64_t max_frames = UINT64_MAX;
    std::chrono::milliseconds timeout{15000};        // per read
    bool stop_at_departure = true;
    bool contiguous = true;                          // no gap between consecutive frame numbers
    std::chrono::microseconds delay{0};              // holds each frame this long (a slow reader)
};

// Reads and checks every frame (content, size, order, sequence) until the plan says stop.
ReadResult read_stream(Subscriber& subscriber, const ReadPlan& plan);

// Publishes frames first .. first + count - 1; returns the longest single publish call.
std::chrono::microseconds publish_stream(Publisher& publisher, const Schedule& sizes, std::uint64_t first,
                                         std::uint64_t count, std::chrono::microseconds pace = {});

std::string describe(const ReadResult& r);

// The state of one subscriber buffer as the publisher reports it (nullopt if unknown).
std::optional<SubscriberInfo> info_of(const Publisher& publisher, const std::string& buffer_name);

}  // namespace zerobuffer::test::topics
