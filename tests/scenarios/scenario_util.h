// Helpers shared by the behavioural scenario tests (tests/scenarios): buffer configurations,
// pattern checks, a pipe that carries results from a forked child back to the test, a raw
// white-box view of a buffer's shared memory, semaphore probes and resource counters.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "test_support.h"
#include "zerobuffer/config.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/health.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/reader.h"
#include "zerobuffer/writer.h"

namespace zerobuffer::scenario {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using zerobuffer::test::Child;
using zerobuffer::test::eventually;
using zerobuffer::test::Latch;
using zerobuffer::test::matches_pattern;
using zerobuffer::test::NameScope;
using zerobuffer::test::pattern;

// A buffer configuration with the given block sizes and the library defaults otherwise.
BufferConfig config(std::size_t metadata_size, std::size_t payload_size);
// Writer options with the given write timeout.
WriterOptions write_timeout(milliseconds timeout);
// Reader options for white-box scenarios that check the shared memory after every step: the
// protocol step by step, as the Python and C# readers do it (PeerMode::foreign: one sem-w post
// per frame, positions published after every unit, space returned at every release). The
// default (automatic) reader batches those; its observable results are checked separately.
ReaderOptions step_by_step();

std::vector<std::byte> bytes_of(std::string_view text);
std::string text_of(const Frame& frame);

// In a forked child: throws (so Child exits with 99 and prints `what`) unless `condition` holds.
void require(bool condition, const std::string& what);

// Runs `body` and classifies what it threw. 0: an E whose what() contains `needle`;
// 1: nothing thrown; 2: another exception; 3: an E with another message. Prints the details.
template <class E, class F>
int classify_throw(F&& body, std::string_view needle = {}) {
    try {
        body();
    } catch (const E& e) {
        if (!needle.empty() && std::string_view(e.what()).find(needle) == std::string_view::npos) {
            std::fprintf(stderr, "expected exception without '%.*s': %s\n", static_cast<int>(needle.size()),
                         needle.data(), e.what());
            return 3;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        return 2;
    }
    std::fprintf(stderr, "no exception was thrown\n");
    return 1;
}

void mailbox_open_pipe(int fds[2]);
void mailbox_close_pipe(int fds[2]);
void mailbox_send(int fd, const void* data, std::size_t size);
bool mailbox_receive(int fd, void* data, std::size_t size, milliseconds timeout);

// A pipe carrying values of a trivially copyable T, usually from a forked child to the test.
template <class T>
class Mailbox {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    Mailbox() { mailbox_open_pipe(fds_); }
    ~Mailbox() { mailbox_close_pipe(fds_); }
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;
    void send(const T& value) { mailbox_send(fds_[1], &value, sizeof(T)); }
    std::optional<T> receive(milliseconds timeout = 30s) {
        T value{};
        if (!mailbox_receive(fds_[0], &value, sizeof(T), timeout)) return std::nullopt;
        return value;
    }

private:
    int fds_[2] = {-1, -1};
};

// A flag in anonymous shared memory, visible across fork (set by one process, polled by another).
class SharedFlag {
public:
    SharedFlag();
    ~SharedFlag();
    SharedFlag(const SharedFlag&) = delete;
    SharedFlag& operator=(const SharedFlag&) = delete;
    void set() noexcept { flag_->store(true, std::memory_order_release); }
    bool is_set() const noexcept { return flag_->load(std::memory_order_acquire); }

private:
    std::atomic<bool>* flag_;
};

// White-box access to /dev/shm/NAME, mapped read-write independently of the library.
// Loads and stores of OIEB fields are atomic (the library updates them concurrently).
class ShmView {
public:
    explicit ShmView(const std::string& name);
    ~ShmView();
    ShmView(const ShmView&) = delete;
    ShmView& operator=(const ShmView&) = delete;

    std::size_t size() const noexcept { return size_; }
    protocol::Oieb& oieb() const noexcept { return *reinterpret_cast<protocol::Oieb*>(base_); }
    std::uint64_t load(std::uint64_t protocol::Oieb::*field) const noexcept;
    void store(std::uint64_t protocol::Oieb::*field, std::uint64_t value) noexcept;
    std::uint32_t oieb_size() const noexcept;
    void set_oieb_size(std::uint32_t value) noexcept;

    std::byte* base() const noexcept { return base_; }
    std::byte* metadata() const noexcept { return base_ + protocol::kOiebSize; }
    std::byte* payload() const noexcept;
    std::uint64_t payload_size() const noexcept { return load(&protocol::Oieb::payload_size); }
    protocol::FrameHeader header_at(std::uint64_t ring_offset) const;
    void set_header(std::uint64_t ring_offset, const protocol::FrameHeader& header);

private:
    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
};

// Current value of a named semaphore ("sem-w-NAME"), or nullopt if it cannot be opened.
std::optional<int> semaphore_value(const std::string& sem_name);

// Whether `path` exists.
bool exists(const std::string& path);
// Size of a file, 0 if it does not exist.
std::uint64_t file_size(const std::string& path);
std::string shm_path(const std::string& name);
std::string sem_w_path(const std::string& name);
std::string sem_r_path(const std::string& name);
std::string lock_path(const std::string& name);
// True if none of the objects of NAME exists; prints the ones that do.
bool no_objects_left(const std::string& name);

// Removes, on destruction, every object in /dev/shm and /tmp/zerobuffer whose name contains
// `prefix` (for tests whose children invent names from a common prefix).
class PrefixScope {
public:
    explicit PrefixScope(std::string prefix) : prefix_(std::move(prefix)) {}
    ~PrefixScope();
    PrefixScope(const PrefixScope&) = delete;
    PrefixScope& operator=(const PrefixScope&) = delete;
    const std::string& prefix() const noexcept { return prefix_; }
    std::vector<std::string> leftovers() const;

private:
    std::string prefix_;
};

// Removes a directory created to make a semaphore creation fail, even when the test fails.
class DirectoryGuard {
public:
    explicit DirectoryGuard(std::string path);
    ~DirectoryGuard();
    DirectoryGuard(const DirectoryGuard&) = delete;
    DirectoryGuard& operator=(const DirectoryGuard&) = delete;
    bool created() const noexcept { return created_; }
    void remove();

private:
    std::string path_;
    bool created_ = false;
};

// Number of open file descriptors of this process, and of its mappings of /dev/shm files
// (buffers and semaphores; other mappings, such as a sanitizer's, are not counted).
std::size_t open_fd_count();
std::size_t mapping_count();

// CPU time consumed by the calling thread / the whole process.
std::chrono::nanoseconds thread_cpu_time();
std::chrono::nanoseconds process_cpu_time();

// In a child: setsid, then become user and group `nobody` (65534). Throws on failure.
void become_nobody();

// Milliseconds since `start`.
double ms_since(std::chrono::steady_clock::time_point start);

// Writes `size` bytes of pattern(size, seed); returns the sequence number.
std::uint64_t write_pattern(Writer& writer, std::size_t size, std::uint64_t seed);

// Reaps a child after kill_hard() so that it cannot linger as a zombie.
void kill_and_reap(Child& child);

}  // namespace zerobuffer::scenario
