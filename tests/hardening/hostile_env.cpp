#include "hostile_env.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <typeinfo>

#include <cxxabi.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::hardening {
namespace {

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

std::string demangle(const char* name) {
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string text = (status == 0 && out != nullptr) ? out : name;
    std::free(out);
    const auto colon = text.rfind("::");
    return colon == std::string::npos ? text : text.substr(colon + 2);
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
        int code = 98;
        try {
            code = body(say);
        } catch (...) {
            say(describe_current_exception());
        }
        std::fflush(nullptr);
        ::_exit(code);
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

// ---- namespaces -------------------------------------------------------------------------

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
        int code = 98;
        try {
            code = body(say);
        } catch (...) {
            say(describe_current_exception());
        }
        std::fflush(nullptr);
        ::_exit(code);
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

// ---- users ------------------------------------------------------------------------------

int shell(const std::string& command, std::string* output) {
    std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return -1;
    char buffer[512];
    std::string text;
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) text += buffer;
    const int status = ::pclose(p);
    if (output != nullptr) *output += text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

constexpr const char* kUserPrefix = "zbh";

// useradd, userdel, groupadd, groupdel and gpasswd refuse to run while another one holds the
// account databases' locks, and ctest runs tests in parallel: serialise ours with a flock and
// retry a few times against other programs.
int account_command(const std::string& command, std::string* output) {
    // The lock is on /etc itself: nothing to create, nothing left behind.
    const int lock = ::open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    int code = -1;
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::string text;
        code = shell(command, &text);
        if (code == 0 || attempt == 19) {
            if (output != nullptr) *output += text;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (lock >= 0) ::close(lock);
    return code;
}

// Users and groups named zbh<pid>x... whose process is gone: left by a killed test run.
void remove_stale_accounts() {
    for (const char* db : {"/etc/passwd", "/etc/group"}) {
        std::ifstream in(db);
        std::string line;
        std::vector<std::string> stale;
        while (std::getline(in, line)) {
            const std::string name = line.substr(0, line.find(':'));
            if (name.rfind(kUserPrefix, 0) != 0) continue;
            const std::string digits = name.substr(3, name.find('x') == std::string::npos ? 0 : name.find('x') - 3);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
            const pid_t pid = static_cast<pid_t>(std::stol(digits));
            if (::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(name);
        }
        for (const auto& name : stale) {
            account_command(std::string(db[5] == 'p' ? "userdel -f " : "groupdel ") + name, nullptr);
        }
    }
}

std::string account_name(const std::string& tag) {
    static int counter = 0;
    // zbh<pid>x<n><tag>: at most 32 characters for useradd.
    std::string name = std::string(kUserPrefix) + std::to_string(::getpid()) + "x" + std::to_string(counter++) + tag;
    return name.substr(0, 31);
}

}  // namespace

TempUser::TempUser(const std::string& tag) : name_(account_name(tag)) {
    if (::geteuid() != 0) {
        error_ = "creating a user needs root";
        return;
    }
    remove_stale_accounts();
    std::string out;
    if (account_command("useradd --no-create-home --user-group --shell /usr/sbin/nologin " + name_, &out) != 0) {
        error_ = "useradd " + name_ + " failed: " + out;
        return;
    }
    const passwd* pw = ::getpwnam(name_.c_str());
    if (pw == nullptr) {
        error_ = "user " + name_ + " was added but cannot be looked up";
        return;
    }
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    ok_ = true;
}

TempUser::~TempUser() {
    // userdel also removes the user's private group (USERGROUPS_ENAB).
    if (ok_) account_command("userdel -f " + name_, nullptr);
}

TempGroup::TempGroup(const std::string& tag) : name_(account_name(tag)) {
    if (::geteuid() != 0) {
        error_ = "creating a group needs root";
        return;
    }
    std::string out;
    if (account_command("groupadd " + name_, &out) != 0) {
        error_ = "groupadd " + name_ + " failed: " + out;
        return;
    }
    const group* gr = ::getgrnam(name_.c_str());
    if (gr == nullptr) {
        error_ = "group " + name_ + " was added but cannot be looked up";
        return;
    }
    gid_ = gr->gr_gid;
    ok_ = true;
}

TempGroup::~TempGroup() {
    if (ok_) account_command("groupdel " + name_, nullptr);
}

std::string TempGroup::add_member(const std::string& user) {
    std::string out;
    if (account_command("gpasswd -a " + user + " " + name_, &out) != 0) return "gpasswd -a failed: " + out;
    return {};
}

void become_user(const std::string& user, uid_t uid, gid_t gid) {
    if (::initgroups(user.c_str(), gid) != 0) throw std::runtime_error(std::string("initgroups: ") + std::strerror(errno));
    if (::setgid(gid) != 0) throw std::runtime_error(std::string("setgid: ") + std::strerror(errno));
    if (::setuid(uid) != 0) throw std::runtime_error(std::string("setuid: ") + std::strerror(errno));
    if (::geteuid() != uid) throw std::runtime_error("still privileged after setuid");
}

// ---- files ------------------------------------------------------------------------------

FileSnapshot snapshot_file(const std::string& path) {
    FileSnapshot s;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return s;
    s.exists = true;
    s.uid = st.st_uid;
    s.gid = st.st_gid;
    s.mode = st.st_mode & 07777;
    s.links = st.st_nlink;
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        s.content = content.str();
    }
    char names[4096];
    const ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
    for (ssize_t i = 0; i < n;) {
        const std::string key(names + i);
        char value[4096];
        const ssize_t v = ::lgetxattr(path.c_str(), key.c_str(), value, sizeof value);
        s.xattrs.emplace_back(key, v > 0 ? std::string(value, static_cast<std::size_t>(v)) : std::string());
        i += static_cast<ssize_t>(key.size()) + 1;
    }
    return s;
}

std::string describe(const FileSnapshot& s) {
    if (!s.exists) return "(absent)";
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", s.mode);
    std::string text = "uid " + std::to_string(s.uid) + " gid " + std::to_string(s.gid) + " mode " + mode + " links " +
                       std::to_string(s.links) + " size " + std::to_string(s.content.size()) + " mtime_ns " +
                       std::to_string(s.mtime_ns) + " xattrs {";
    for (const auto& [k, v] : s.xattrs) text += " " + k + "=" + v;
    return text + " }";
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    write_all(fd, content);
    ::fchmod(fd, static_cast<mode_t>(mode));
    ::close(fd);
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
}

std::uint64_t allocated_blocks(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_blocks);
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> existing_objects(const std::string& name) {
    std::vector<std::string> found;
    for (const std::string& path : {"/dev/shm/" + name, "/dev/shm/sem.sem-w-" + name, "/dev/shm/sem.sem-r-" + name,
                                    "/tmp/zerobuffer/" + name + ".lock"}) {
        if (path_exists(path)) found.push_back(path);
    }
    return found;
}

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double ms_between(std::int64_t from_ns, std::int64_t to_ns) { return static_cast<double>(to_ns - from_ns) / 1e6; }

}  // namespace zerobuffer::hardening
