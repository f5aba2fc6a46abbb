// Support for the hostile-environment tests: users and groups created for a test and removed
// again, dropping to another user, running shell commands.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_env.h"

namespace zerobuffer::hardening {

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

// Creates the user or group `name` with `tool` (useradd, groupadd) and `options`; an error
// text, empty on success. Accounts left by killed test runs are removed first.
std::string create_account(const char* kind, const std::string& tool, const std::string& options,
                           const std::string& name) {
    if (::geteuid() != 0) return std::string("creating a ") + kind + " needs root";
    remove_stale_accounts();
    std::string out;
    if (account_command(tool + " " + options + name, &out) != 0) return tool + " " + name + " failed: " + out;
    return {};
}

}  // namespace

TempUser::TempUser(const std::string& tag) : name_(account_name(tag)) {
    error_ = create_account("user", "useradd", "--no-create-home --user-group --shell /usr/sbin/nologin ", name_);
    if (!error_.empty()) return;
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
    error_ = create_account("group", "groupadd", "", name_);
    if (!error_.empty()) return;
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

}  // namespace zerobuffer::hardening
