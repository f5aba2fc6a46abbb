// bench_topics: what every part of the program shares: child processes and pipes, names of
// this run's buffers, ring sizes, the frame content, timed bursts, and the measurements that
// main.cpp runs (publish_cost.cpp, paired_cost.cpp, discovery_latency.cpp).
#pragma once

#include <zerobuffer/zerobuffer.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench_topics {

using namespace zerobuffer;
using Clock = std::chrono::steady_clock;

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe(fd) != 0) std::abort();
    }
    ~Pipe() {
        ::close(fd[0]);
        ::close(fd[1]);
    }
    void send(const void* p, std::size_t n) const {
        if (::write(fd[1], p, n) != static_cast<ssize_t>(n)) std::perror("bench_topics: pipe write");
    }
    bool receive(void* p, std::size_t n, int timeout_ms = 120000) const {
        pollfd pfd{fd[0], POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
        return ::read(fd[0], p, n) == static_cast<ssize_t>(n);
    }
};

// A forked child running `body`; reaped (killed first if still running) by the destructor.
struct Process {
    pid_t pid = -1;
    explicit Process(const std::function<int()>& body) {
        std::fflush(nullptr);
        pid = ::fork();
        if (pid == 0) {
            int code = 1;
            try {
                code = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "bench_topics child: %s\n", e.what());
            }
            std::fflush(nullptr);
            ::_exit(code);
        }
    }
    Process(Process&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process& operator=(Process&&) = delete;
    int wait() {
        int status = 0;
        if (pid > 0 && ::waitpid(pid, &status, 0) == pid) pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    ~Process() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

extern std::string g_tag;  // unique per run: zbbench_topics_<pid>

// A new buffer or topic name of this run: <g_tag>_<what><serial>.
std::string fresh_name(const char* what);

// A ring that holds `frames` frames of `frame` bytes without the reader reading.
BufferConfig ring_for(std::size_t frame, std::size_t frames);

enum class Mode { copy, zero_copy };

// Frame k. Zero-copy rows fill it in place: byte i = (k + i) mod 256. Copy rows publish one
// buffer filled once, stamping only byte 0 with k (refilling it would time the caller's work):
// byte 0 = k mod 256, byte i = i mod 256 after it. check() samples it (the tests check every byte).
void fill(std::span<std::byte> out, std::uint64_t k);
bool check(std::span<const std::byte> in, std::uint64_t k, Mode mode);

// Sends a copy row's frame: Writer::write_frame or Publisher::publish.
inline void send_copy(Writer& writer, const std::vector<std::byte>& frame) { writer.write_frame(frame.data(), frame.size()); }
inline void send_copy(Publisher& publisher, const std::vector<std::byte>& frame) {
    publisher.publish(frame.data(), frame.size());
}

// Sends frames 0 .. frames-1 through `sink` (a Writer or a Publisher) and returns the
// nanoseconds per frame. Copy: `frame` with byte 0 stamped (the others stay (k + i) for k = 0);
// zero-copy: a frame of frame.size() bytes reserved in the ring and filled in place.
template <class Sink>
double timed_burst(Sink& sink, Mode mode, std::vector<std::byte>& frame, std::size_t frames) {
    auto time_frames = [&](auto&& one) {
        const auto t0 = Clock::now();
        for (std::size_t k = 0; k < frames; ++k) one(k);
        return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(frames);
    };
    if (mode == Mode::copy) {
        return time_frames([&](std::size_t k) {
            frame[0] = static_cast<std::byte>(k & 0xFF);
            send_copy(sink, frame);
        });
    }
    return time_frames([&](std::size_t k) {
        auto reservation = sink.acquire_frame(frame.size());
        fill(reservation.data(), k);
        reservation.commit();
    });
}

// Removes whatever this run left in /dev/shm and /tmp/zerobuffer; returns how much that was.
int sweep();
double median(std::vector<double> v);
std::vector<std::size_t> parse_list(const char* text);

// ---- the measurements -----------------------------------------------------------------------

struct Row {
    std::size_t size;
    int subscribers;  // 0: the plain Writer
    Mode mode;
};

// Publish cost (publish_cost.cpp): nanoseconds per frame, or a negative number if the run failed.
double measure(const Row& row, std::size_t frames);

// One subscriber beside a plain Writer, paired (paired_cost.cpp): both readers (a Reader, a
// Subscriber) live through the whole run and drain after each pair of bursts; the two bursts of
// a pair run back to back, in alternating order, so that whatever else the machine does hits
// both alike. Returns the per-pair ratios publisher / writer, and the per-frame costs.
struct Paired {
    std::vector<double> ratios, writer_ns, publisher_ns;
    bool ok = true;
};
Paired paired(std::size_t size, Mode mode, std::size_t burst, int pairs);

// Discovery latency between processes (discovery_latency.cpp): {from constructor start, from
// its end} in ms per sample.
std::vector<std::pair<double, double>> discovery_latency(bool inotify, int samples);

}  // namespace bench_topics
