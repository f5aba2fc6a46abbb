// The processes of the bridge benchmark: each role runs in a forked child, in a network
// namespace when the run is over the veth pair, and reports through a pipe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bridge_bench {

struct Stream {
    std::size_t size = 0;
    std::uint64_t count = 0;
    std::chrono::microseconds pace{0};  // 0: as fast as possible (throughput); else one frame per pace (latency)
};

// What the measuring end saw: time from the first to the last frame, and per-frame latency (ns)
// when the frames carried their send time.
struct Measured {
    double seconds = 0;
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    std::vector<std::int64_t> latencies_ns;
};

// A child process; `body` returns its exit code. Killed and reaped by the destructor.
class Role {
public:
    Role(const std::string& netns, std::function<int(int report_fd)> body);
    ~Role();
    Role(const Role&) = delete;
    Role& operator=(const Role&) = delete;
    void stop();                  // SIGTERM, then wait
    [[nodiscard]] int read_fd() const noexcept { return pipe_read_; }

private:
    pid_t pid_ = -1;
    int pipe_read_ = -1;
};

std::int64_t now_ns();
// Frame bytes: a pattern, with the send time in the first 8 bytes when pacing.
void stamp(std::byte* data, std::size_t size, bool with_time);

// Roles. Each runs until its job is done or SIGTERM.
int run_producer(const std::string& buffer, const Stream& stream);
int run_sender(const std::string& buffer, const std::string& endpoint, bool zero_copy, int report_fd);
int run_receiver(const std::string& buffer, const std::string& endpoint);
int run_push(const std::string& endpoint, const Stream& stream, bool zero_copy);
int run_pull(const std::string& endpoint, const Stream& stream, int report_fd);

// The consumer of the bridge's output buffer (in this process).
Measured consume(const std::string& buffer, const Stream& stream);

void write_measured(int fd, const Measured& m);
Measured read_measured(int fd);
// CPU time (user + system) of the calling process, in microseconds.
std::uint64_t cpu_us();

}  // namespace bridge_bench
