// File-system facts: who owns a file and with which mode, capacity of /dev/shm, users and groups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace zerobuffer::posix {

struct FileInfo {
    bool exists = false;
    bool regular = false;
    bool directory = false;
    bool symlink = false;
    std::uint64_t size = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    unsigned mode = 0;        // permission bits and sticky bit (07777)
    std::uint64_t links = 0;
    dev_t dev = 0;
    ino_t ino = 0;
};

// lstat: does not follow a symlink (a symlink is reported as one). Throws std::system_error
// for errors other than "does not exist".
FileInfo inspect_path(const std::string& path);
FileInfo inspect_descriptor(int fd);

// The entry names of a directory, without "." and "..", unsorted. Empty if the directory does
// not exist. Throws std::system_error for other failures (EACCES, ENOTDIR).
std::vector<std::string> list_directory(const std::string& path);

// When the file was created, in seconds since the epoch (statx btime); nullopt where the file
// system does not record it.
std::optional<std::int64_t> birth_time(int fd);

// Total bytes of the file system holding `path` (statvfs); nullopt if it cannot be told.
std::optional<std::uint64_t> filesystem_capacity(const std::string& path);

uid_t effective_uid() noexcept;
// Name of a user or group for messages ("uid 1001" if unknown).
std::string user_name(uid_t uid);
std::string group_name(gid_t gid);
// A group given by name or number; nullopt if no such group exists.
std::optional<gid_t> lookup_group(const std::string& name_or_number);
// Whether this process has `gid` as its effective or a supplementary group.
bool member_of_group(gid_t gid);

// Owner-readable description for messages: "owner alice (uid 1001), mode 0644".
std::string describe_owner(const FileInfo& info);

}  // namespace zerobuffer::posix
