#include "test_support.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zerobuffer::test {
namespace fs = std::filesystem;

namespace {
std::string process_tag() { return std::string(kNamePrefix) + "_" + std::to_string(::getpid()) + "_"; }
}  // namespace

std::string unique_name(std::string_view base) {
    static std::atomic<std::uint64_t> counter{0};
    return process_tag() + std::to_string(counter.fetch_add(1)) + "_" + std::string(base);
}

std::vector<std::string> object_paths(const std::string& name) {
    return {"/dev/shm/" + name, "/dev/shm/sem.sem-w-" + name, "/dev/shm/sem.sem-r-" + name,
            "/tmp/zerobuffer/" + name + ".lock"};
}

void remove_buffer_objects(const std::string& name) {
    ::shm_unlink(("/" + name).c_str());
    ::sem_unlink(("/sem-w-" + name).c_str());
    ::sem_unlink(("/sem-r-" + name).c_str());
    ::unlink(("/tmp/zerobuffer/" + name + ".lock").c_str());
}

std::vector<std::string> leftovers(std::string_view needle) {
    std::vector<std::string> found;
    for (const char* dir : {"/dev/shm", "/tmp/zerobuffer"}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            const std::string file = entry.path().filename().string();
            if (file.find(needle) != std::string::npos) found.push_back(entry.path().string());
        }
    }
    return found;
}

NameScope::~NameScope() {
    for (const auto& name : names_) remove_buffer_objects(name);
}

std::string NameScope::make(std::string_view base) {
    names_.push_back(unique_name(base));
    return names_.back();
}

void NameScope::adopt(const std::string& name) { names_.push_back(name); }

void NameScope::expect_clean() {
    for (const auto& name : names_) {
        for (const auto& path : object_paths(name)) {
            EXPECT_FALSE(fs::exists(path)) << "left behind: " << path;
        }
    }
}

std::vector<std::byte> pattern(std::size_t size, std::uint64_t seed) {
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>((i + seed) & 0xFF);
    return data;
}

bool matches_pattern(const std::byte* data, std::size_t size, std::uint64_t seed) {
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] != static_cast<std::byte>((i + seed) & 0xFF)) return false;
    }
    return true;
}

Child::Child(std::function<int()> body) {
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
        int code = 99;
        try {
            code = body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d: uncaught exception: %s\n", ::getpid(), e.what());
        } catch (...) {
            std::fprintf(stderr, "child %d: uncaught non-standard exception\n", ::getpid());
        }
        std::fflush(nullptr);
        ::_exit(code);  // no atexit handlers, no gtest teardown in the child
    }
}

Child::Child(Child&& other) noexcept : pid_(other.pid_), reaped_(other.reaped_) {
    other.pid_ = -1;
    other.reaped_ = true;
}

Child::~Child() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void Child::kill_hard() {
    if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
    if (reaped_) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -1;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

bool Child::running() {
    if (reaped_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        reaped_ = true;
        return false;
    }
    return true;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return condition();
}

Latch::Latch() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
}

Latch::~Latch() {
    for (int fd : fds_) {
        if (fd >= 0) ::close(fd);
    }
}

void Latch::signal(char value) {
    ssize_t n;
    do {
        n = ::write(fds_[1], &value, 1);
    } while (n < 0 && errno == EINTR);
}

std::optional<char> Latch::wait(std::chrono::milliseconds timeout) {
    pollfd p{fds_[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return std::nullopt;
        char c = 0;
        if (::read(fds_[0], &c, 1) == 1) return c;
        return std::nullopt;
    }
}

void LeakCheckEnvironment::TearDown() {
    const auto left = leftovers(process_tag());
    for (const auto& path : left) {
        ADD_FAILURE() << "object left behind by this test binary: " << path;
        std::error_code ec;
        fs::remove(path, ec);
    }
}

}  // namespace zerobuffer::test
