// Support for the hostile-environment tests: file snapshots, file helpers, the objects of a
// buffer that exist, and a monotonic clock comparable across processes.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hostile_env.h"
#include "hostile_env_io.h"

namespace zerobuffer::hardening {

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
