// The one place where syscalls are retried on EINTR and errno becomes an exception. The platform
// layer throws std::system_error (category std::system_category()); the library above adds the
// buffer's name and turns it into zerobuffer::SystemError.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

namespace zerobuffer::posix {

// Throws std::system_error({err, system_category()}, what).
[[noreturn]] void throw_errno(int err, std::string_view what);

// Calls f() again while it returns -1 with errno == EINTR; returns the last result.
template <class F>
auto retry_eintr(F&& f) {
    for (;;) {
        auto result = f();
        if (!(result == -1 && errno == EINTR)) return result;
    }
}

// retry_eintr, and throw_errno(errno, what) if the call still fails with -1.
template <class F>
auto check(std::string_view what, F&& f) {
    auto result = retry_eintr(std::forward<F>(f));
    if (result == -1) throw_errno(errno, what);
    return result;
}

// An owned file descriptor.
class FileDescriptor {
public:
    FileDescriptor() noexcept = default;
    explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    void reset() noexcept;

private:
    int fd_ = -1;
};

}  // namespace zerobuffer::posix
