#include "platform/posix/filesystem.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {

FileInfo from_stat(const struct stat& st) {
    FileInfo info;
    info.exists = true;
    info.regular = S_ISREG(st.st_mode);
    info.directory = S_ISDIR(st.st_mode);
    info.symlink = S_ISLNK(st.st_mode);
    info.size = static_cast<std::uint64_t>(st.st_size);
    info.uid = st.st_uid;
    info.gid = st.st_gid;
    info.mode = static_cast<unsigned>(st.st_mode & 07777);
    info.links = static_cast<std::uint64_t>(st.st_nlink);
    info.dev = st.st_dev;
    info.ino = st.st_ino;
    return info;
}

}  // namespace

FileInfo inspect_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return {};
        throw_errno(errno, "lstat of '" + path + "'");
    }
    return from_stat(st);
}

std::vector<std::string> list_directory(const std::string& path) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        if (errno == ENOENT) return names;
        throw_errno(errno, "listing directory '" + path + "'");
    }
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(dir);
        if (entry == nullptr) break;
        const std::string_view name(entry->d_name);
        if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) throw_errno(err, "listing directory '" + path + "'");
    return names;
}

FileInfo inspect_descriptor(int fd) {
    struct stat st {};
    check("fstat", [&] { return ::fstat(fd, &st); });
    return from_stat(st);
}

std::optional<std::int64_t> birth_time(int fd) {
    struct statx sx {};
    if (::statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0) return std::nullopt;
    if ((sx.stx_mask & STATX_BTIME) == 0) return std::nullopt;
    return static_cast<std::int64_t>(sx.stx_btime.tv_sec);
}

std::optional<std::uint64_t> filesystem_capacity(const std::string& path) {
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) != 0) return std::nullopt;
    const std::uint64_t capacity = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    if (capacity == 0) return std::nullopt;
    return capacity;
}

uid_t effective_uid() noexcept { return ::geteuid(); }

std::string user_name(uid_t uid) {
    std::vector<char> buf(4096);
    struct passwd pw {};
    struct passwd* result = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) return result->pw_name;
    return fmt::format("uid {}", uid);
}

std::string group_name(gid_t gid) {
    std::vector<char> buf(4096);
    struct group gr {};
    struct group* result = nullptr;
    if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &result) == 0 && result != nullptr) return result->gr_name;
    return fmt::format("gid {}", gid);
}

std::optional<gid_t> lookup_group(const std::string& name_or_number) {
    std::vector<char> buf(16384);
    struct group gr {};
    struct group* result = nullptr;
    if (::getgrnam_r(name_or_number.c_str(), &gr, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
        return result->gr_gid;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long n = std::strtoul(name_or_number.c_str(), &end, 10);
    if (errno == 0 && end != name_or_number.c_str() && *end == '\0') return static_cast<gid_t>(n);
    return std::nullopt;
}

bool member_of_group(gid_t gid) {
    if (::getegid() == gid) return true;
    const int n = ::getgroups(0, nullptr);
    if (n <= 0) return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    for (int i = 0; i < got; ++i) {
        if (groups[static_cast<std::size_t>(i)] == gid) return true;
    }
    return false;
}

std::string describe_owner(const FileInfo& info) {
    return fmt::format("owner {} (uid {}), group {}, mode {:04o}", user_name(info.uid), info.uid, group_name(info.gid),
                       info.mode);
}

}  // namespace zerobuffer::posix
