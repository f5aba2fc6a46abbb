// Shared helpers for zerobuffer tests: unique buffer names, removal of everything a buffer
// name can leave behind, a leak check over /dev/shm and /tmp/zerobuffer, and forked children.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace zerobuffer::test {

// Every name starts with this prefix and the test process id, so leftovers are attributable.
inline constexpr std::string_view kNamePrefix = "zbtest";

// "zbtest_<pid>_<counter>_<base>", unique per process and call, valid as a buffer name.
std::string unique_name(std::string_view base);

// Everything that may exist for a buffer NAME.
std::vector<std::string> object_paths(const std::string& name);
// Removes the shm object, both semaphores and the lock file of NAME, ignoring missing ones.
void remove_buffer_objects(const std::string& name);
// Paths under /dev/shm and /tmp/zerobuffer that contain `needle`.
std::vector<std::string> leftovers(std::string_view needle);

// Owns a set of buffer names for a test: removes all their objects on destruction (so a failing
// test cleans up too) and records a test failure if anything was left behind.
class NameScope {
public:
    NameScope() = default;
    ~NameScope();
    NameScope(const NameScope&) = delete;
    NameScope& operator=(const NameScope&) = delete;
    std::string make(std::string_view base);   // unique_name + register
    void adopt(const std::string& name);       // register a name made elsewhere
    void expect_clean();                        // fails the test if objects of these names remain
private:
    std::vector<std::string> names_;
};

// Deterministic test data (contract §10.1): byte[i] = (i + seed) mod 256.
std::vector<std::byte> pattern(std::size_t size, std::uint64_t seed);
bool matches_pattern(const std::byte* data, std::size_t size, std::uint64_t seed);

// A forked child running `body`; its return value is the exit code. An exception escaping the
// body exits with 99 after printing it. The destructor kills (SIGKILL) and reaps a live child.
class Child {
public:
    explicit Child(std::function<int()> body);
    ~Child();
    Child(Child&& other) noexcept;
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;

    pid_t pid() const noexcept { return pid_; }
    void kill_hard();                                                  // SIGKILL, not reaped
    // Waits for exit; returns the exit code, 128+signal if signalled, nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    bool running();

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// Runs f and returns what() of the E it throws; records a test failure if it throws nothing
// or something else.
template <class E, class F>
std::string expect_throw(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw another exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "did not throw";
    return {};
}

// Polls `condition` every millisecond until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A tiny cross-process rendezvous through a pipe: the child calls signal(), the parent wait().
class Latch {
public:
    Latch();
    ~Latch();
    Latch(const Latch&) = delete;
    Latch& operator=(const Latch&) = delete;
    void signal(char value = 'x');                                     // any process
    std::optional<char> wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    int fds_[2] = {-1, -1};
};

// A gtest Environment that fails the run if any object with this process's test prefix is
// left in /dev/shm or /tmp/zerobuffer when the binary ends (and removes them).
class LeakCheckEnvironment : public ::testing::Environment {
public:
    void TearDown() override;
};

}  // namespace zerobuffer::test
