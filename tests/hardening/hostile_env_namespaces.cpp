// Support for the hostile-environment tests: PID and mount namespaces, private mounts.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_env.h"
#include "hostile_env_io.h"

namespace zerobuffer::hardening {

namespace {

// The body of the intermediate process: new PID + mount namespaces, then the init.
int namespaced_launcher(const Body& body, int pid_out, const Say& say) {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
        say(std::string("unshare(CLONE_NEWPID | CLONE_NEWNS) refused: ") + std::strerror(errno));
        return Outcome::kSkipCode;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        say(std::string("making mounts private refused: ") + std::strerror(errno));
        return Outcome::kSkipCode;
    }
    const pid_t init = ::fork();
    if (init < 0) {
        say(std::string("fork into the PID namespace failed: ") + std::strerror(errno));
        return Outcome::kSkipCode;
    }
    if (init == 0) {
        // PID 1 of the new namespace. Its own /proc, as `unshare --mount-proc` gives.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::close(pid_out);
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
            say(std::string("mounting /proc in the PID namespace refused: ") + std::strerror(errno));
            ::_exit(Outcome::kSkipCode);
        }
        run_body_and_exit(body, say);
    }
    write_all(pid_out, std::to_string(init) + "\n");
    ::close(pid_out);
    int status = 0;
    while (::waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

NamespacedProcess::Pipe::Pipe() {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
}

NamespacedProcess::NamespacedProcess(Body body)
    : outer_([body = std::move(body), out = pid_pipe_.fds[1], in = pid_pipe_.fds[0]](const Say& say) {
          ::close(in);
          return namespaced_launcher(body, out, say);
      }) {
    ::close(pid_pipe_.fds[1]);
    pid_pipe_.fds[1] = -1;
}

NamespacedProcess::~NamespacedProcess() {
    kill_hard();
    if (pid_pipe_.fds[0] >= 0) ::close(pid_pipe_.fds[0]);
}

std::optional<pid_t> NamespacedProcess::host_pid(std::chrono::milliseconds timeout) {
    if (host_pid_) return host_pid_;
    std::string text;
    const auto deadline = Clock::now() + timeout;
    while (text.find('\n') == std::string::npos && Clock::now() < deadline) {
        const std::size_t before = text.size();
        drain(pid_pipe_.fds[0], text, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)), true);
        if (text.size() == before && text.find('\n') == std::string::npos) {
            // EOF without a PID: the launcher failed (finish() says why).
            pollfd p{pid_pipe_.fds[0], POLLIN, 0};
            if (::poll(&p, 1, 0) > 0 && (p.revents & POLLHUP) != 0) return std::nullopt;
        }
    }
    if (text.find('\n') == std::string::npos) return std::nullopt;
    host_pid_ = static_cast<pid_t>(std::stol(text));
    return host_pid_;
}

void NamespacedProcess::kill_hard() {
    // PID 1 of its namespace: killing it takes the whole namespace down.
    if (const auto pid = host_pid(std::chrono::milliseconds(500))) ::kill(*pid, SIGKILL);
}

Outcome NamespacedProcess::finish(std::chrono::milliseconds timeout) { return outer_.finish(timeout); }

std::string enter_private_mount_namespace() {
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS) refused: ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return std::string("making mounts private refused: ") + std::strerror(errno);
    }
    return {};
}

std::string mount_tmpfs(const std::string& dir, std::uint64_t size) {
    const std::string options = size == 0 ? std::string("mode=1777") : "mode=1777,size=" + std::to_string(size);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        return "mounting a tmpfs on " + dir + " refused: " + std::strerror(errno);
    }
    return {};
}

}  // namespace zerobuffer::hardening
