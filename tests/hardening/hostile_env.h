// Support for the hostile-environment tests: children that report back through a pipe, other
// users and groups created for a test (removed again, also when the test fails), PID and mount
// namespaces, private mounts, and byte-for-byte snapshots of files that must stay untouched.
//
// A child cannot fail a GoogleTest assertion of its parent, so every child returns a report
// (exit code + text); the parent asserts on it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/types.h>

namespace zerobuffer::hardening {

using Clock = std::chrono::steady_clock;

// What a child reported: its exit code (128 + signal if it was killed) and the text it wrote.
struct Outcome {
    int code = -1;           // -1: did not finish in time (it was killed)
    std::string text;
    bool skipped() const noexcept { return code == kSkipCode; }
    static constexpr int kSkipCode = 77;   // the kernel refused something the test needs
};

// Exit code and text for a body: an escaping exception becomes code 98 and "<type>: <what>".
// `say` appends a line to the report (any process that inherited the pipe may call it).
using Say = std::function<void(const std::string&)>;
using Body = std::function<int(const Say& say)>;

// A forked child running `body`, reporting through a pipe. The destructor kills and reaps it.
class Reporter {
public:
    explicit Reporter(Body body);
    ~Reporter();
    Reporter(const Reporter&) = delete;
    Reporter& operator=(const Reporter&) = delete;
    pid_t pid() const noexcept { return pid_; }
    // Waits for it to exit and collects its report; kills it after `timeout`.
    Outcome finish(std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    pid_t pid_ = -1;
    int read_fd_ = -1;
    bool reaped_ = false;
};

inline Outcome run_child(Body body, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return Reporter(std::move(body)).finish(timeout);
}

// "<ExceptionType>: <what>" for the exception being handled (call inside a catch block).
std::string describe_current_exception();

// Runs `f` and returns "<type>: <what>" of what it threw, or "no exception".
std::string outcome_of(const std::function<void()>& f);

// ---- namespaces -------------------------------------------------------------------------

// A process that is PID 1 of a new PID namespace with its own /proc (the equivalent of
// `unshare --pid --fork --mount-proc`), running `body`. host_pid() is its PID as seen here, to
// kill it. If the kernel refuses the namespaces, the outcome is skipped() with the reason.
class NamespacedProcess {
public:
    explicit NamespacedProcess(Body body);
    ~NamespacedProcess();
    NamespacedProcess(const NamespacedProcess&) = delete;
    NamespacedProcess& operator=(const NamespacedProcess&) = delete;
    // Its PID in our namespace; nullopt if it could not be started (see finish()).
    std::optional<pid_t> host_pid(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    void kill_hard();
    Outcome finish(std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    struct Pipe {
        Pipe();
        int fds[2] = {-1, -1};
    };
    Pipe pid_pipe_;           // the init's host PID comes through here (made before outer_)
    Reporter outer_;          // the intermediate process (unshares, forks the namespace's init)
    std::optional<pid_t> host_pid_;
};

// In the calling process (a child): a private mount namespace, with mount propagation to the
// host turned off. Returns an error text, empty on success.
std::string enter_private_mount_namespace();
// Mounts a tmpfs of `size` bytes (0: default) over `dir` (in a private mount namespace).
std::string mount_tmpfs(const std::string& dir, std::uint64_t size);

// ---- users ------------------------------------------------------------------------------

// A user (and its own group) created with useradd for one test and removed with userdel by
// the destructor, which runs when an assertion fails too. Users left by a killed test run
// (named "zbh<pid>..." after a process that is gone) are removed when the next one is created.
class TempUser {
public:
    explicit TempUser(const std::string& tag);
    ~TempUser();
    TempUser(const TempUser&) = delete;
    TempUser& operator=(const TempUser&) = delete;
    bool ok() const noexcept { return ok_; }
    const std::string& error() const noexcept { return error_; }
    const std::string& name() const noexcept { return name_; }
    uid_t uid() const noexcept { return uid_; }
    gid_t gid() const noexcept { return gid_; }

private:
    std::string name_;
    std::string error_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    bool ok_ = false;
};

// A group created with groupadd and removed by the destructor; members added with gpasswd -a.
class TempGroup {
public:
    explicit TempGroup(const std::string& tag);
    ~TempGroup();
    TempGroup(const TempGroup&) = delete;
    TempGroup& operator=(const TempGroup&) = delete;
    bool ok() const noexcept { return ok_; }
    const std::string& error() const noexcept { return error_; }
    const std::string& name() const noexcept { return name_; }
    gid_t gid() const noexcept { return gid_; }
    std::string add_member(const std::string& user);  // error text, empty on success

private:
    std::string name_;
    std::string error_;
    gid_t gid_ = 0;
    bool ok_ = false;
};

// In a child: drops to `uid` with primary group `gid` and the supplementary groups the user
// database gives `user` (initgroups). Throws std::runtime_error on failure.
void become_user(const std::string& user, uid_t uid, gid_t gid);

// Runs a shell command; returns its exit code, with its output appended to `output`.
int shell(const std::string& command, std::string* output = nullptr);

// ---- files ------------------------------------------------------------------------------

// Everything about a file that an attack could change: content, owner, mode, size, link count,
// modification time and extended attributes (names and values).
struct FileSnapshot {
    bool exists = false;
    std::string content;
    uid_t uid = 0;
    gid_t gid = 0;
    unsigned mode = 0;
    std::uint64_t links = 0;
    std::int64_t mtime_ns = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
    bool operator==(const FileSnapshot&) const = default;
};
FileSnapshot snapshot_file(const std::string& path);
std::string describe(const FileSnapshot& s);

void write_file(const std::string& path, const std::string& content, unsigned mode);
std::string random_bytes(std::size_t n, std::uint32_t seed);
std::uint64_t allocated_blocks(const std::string& path);   // st_blocks (512-byte units)
bool path_exists(const std::string& path);                  // lstat: a dangling symlink exists

// Paths of /dev/shm entries and /tmp/zerobuffer entries naming `name`'s objects that exist.
std::vector<std::string> existing_objects(const std::string& name);

// ---- shared memory between test processes ----------------------------------------------

// One T in an anonymous shared mapping, visible to children forked after construction.
template <class T>
class Shared {
public:
    Shared() {
        void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("mmap of a shared test block failed");
        value_ = new (p) T{};
    }
    ~Shared() {
        value_->~T();
        ::munmap(value_, sizeof(T));
    }
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;
    T* operator->() const noexcept { return value_; }
    T& operator*() const noexcept { return *value_; }

private:
    T* value_ = nullptr;
};

// Monotonic clock in nanoseconds, comparable across processes (CLOCK_MONOTONIC is system-wide).
std::int64_t now_ns();
double ms_between(std::int64_t from_ns, std::int64_t to_ns);

}  // namespace zerobuffer::hardening
