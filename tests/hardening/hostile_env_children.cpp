// Support for the hostile-environment tests: forked children that report back through a pipe
// (Reporter), exception descriptions, and the pipe helpers of hostile_env_io.h.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <typeinfo>

#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_env.h"
#include "hostile_env_io.h"

namespace zerobuffer::hardening {

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// Reads what is available on `fd` until EOF or `deadline`.
void drain(int fd, std::string& into, Clock::time_point deadline, bool until_eof) {
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, until_eof ? static_cast<int>(std::max<long>(left, 0)) : 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        into.append(buffer, static_cast<std::size_t>(n));
        if (left <= 0) return;
    }
}

namespace {

std::string demangle(const char* name) {
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string text = (status == 0 && out != nullptr) ? out : name;
    std::free(out);
    const auto colon = text.rfind("::");
    return colon == std::string::npos ? text : text.substr(colon + 2);
}

}  // namespace

std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& e) {
        return demangle(typeid(e).name()) + ": " + e.what();
    } catch (...) {
        return "non-standard exception";
    }
}

std::string outcome_of(const std::function<void()>& f) {
    try {
        f();
    } catch (...) {
        return describe_current_exception();
    }
    return "no exception";
}

[[noreturn]] void run_body_and_exit(const Body& body, const Say& say) {
    int code = 98;
    try {
        code = body(say);
    } catch (...) {
        say(describe_current_exception());
    }
    std::fflush(nullptr);
    ::_exit(code);
}

// ---- Reporter ---------------------------------------------------------------------------

Reporter::Reporter(Body body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
        // Dies with the test (a failed assertion, a crash) instead of lingering. Cleared by a
        // change of user (become_user): such children must not block forever.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::close(fds[0]);
        const int out = fds[1];
        const Say say = [out](const std::string& line) { write_all(out, line + "\n"); };
        run_body_and_exit(body, say);
    }
    ::close(fds[1]);
    read_fd_ = fds[0];
}

Reporter::~Reporter() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
}

Outcome Reporter::finish(std::chrono::milliseconds timeout) {
    Outcome outcome;
    if (reaped_) return outcome;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        drain(read_fd_, outcome.text, Clock::now() + std::chrono::milliseconds(5), false);
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            outcome.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            // Grandchildren may still hold the pipe: read what is there, do not wait for EOF.
            drain(read_fd_, outcome.text, Clock::now() + std::chrono::milliseconds(20), false);
            return outcome;
        }
        if (Clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            reaped_ = true;
            outcome.code = -1;
            outcome.text += "(timed out and killed)\n";
            return outcome;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace zerobuffer::hardening
