#include "platform/posix/lock_file.h"

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace zerobuffer::posix {
namespace {

void ensure_directory(const std::string& dir) {
    if (::mkdir(dir.c_str(), 01777) == 0) {
        ::chmod(dir.c_str(), 01777);  // mkdir applies the umask; a shared lock directory must not
        return;
    }
    if (errno != EEXIST) throw_errno(errno, "creating lock directory '" + dir + "'");
}

std::string parent_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

std::optional<LockFile> LockFile::try_acquire(const std::string& path, std::optional<unsigned> mode) {
    ensure_directory(parent_of(path));
    for (int attempt = 0; attempt < 16; ++attempt) {
        FileDescriptor fd(check("opening lock file '" + path + "'",
                                [&] { return ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666); }));
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) return std::nullopt;
            if (errno == EINTR) continue;
            throw_errno(errno, "locking '" + path + "'");
        }
        // The previous holder may have unlinked the file between our open and our flock; then
        // we hold a lock nobody else can see. Only a lock on the file the path names now counts.
        struct stat held {}, named {};
        check("fstat of lock file '" + path + "'", [&] { return ::fstat(fd.get(), &held); });
        if (::stat(path.c_str(), &named) != 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
            continue;
        }
        if (mode) ::fchmod(fd.get(), *mode);
        return LockFile(path, std::move(fd));
    }
    return std::nullopt;
}

bool LockFile::is_held(const std::string& path) {
    FileDescriptor fd(retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return false;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        ::flock(fd.get(), LOCK_UN);
        return false;
    }
    return errno == EWOULDBLOCK;
}

std::optional<std::string> LockFile::read_text(const std::string& path, std::size_t limit) {
    FileDescriptor fd(retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return std::nullopt;
    std::string text(limit, '\0');
    const auto n = retry_eintr([&] { return ::pread(fd.get(), text.data(), limit, 0); });
    if (n < 0) return std::nullopt;
    text.resize(static_cast<std::size_t>(n));
    return text;
}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = std::move(other.fd_);
    }
    return *this;
}

LockFile::~LockFile() { release(); }

void LockFile::write_text(const std::string& text) {
    check("truncating lock file '" + path_ + "'", [&] { return ::ftruncate(fd_.get(), 0); });
    const auto n = check("writing lock file '" + path_ + "'",
                         [&] { return ::pwrite(fd_.get(), text.data(), text.size(), 0); });
    if (static_cast<std::size_t>(n) != text.size()) throw_errno(EIO, "short write to lock file '" + path_ + "'");
}

namespace {
constexpr const char* kNoteAttribute = "user.zerobuffer";
}  // namespace

void LockFile::write_note(const std::string& text) {
    if (::fsetxattr(fd_.get(), kNoteAttribute, text.data(), text.size(), 0) == 0) return;
    write_text(text);
}

std::optional<std::string> LockFile::read_note(const std::string& path) {
    char buf[256];
    const auto n = ::getxattr(path.c_str(), kNoteAttribute, buf, sizeof buf);
    if (n >= 0) return std::string(buf, static_cast<std::size_t>(n));
    return read_text(path);
}

void LockFile::release() noexcept {
    if (!fd_.valid()) return;
    // Unlink first, while the lock is still ours: a process that opened the old file and then
    // gets the lock sees that the path no longer names it and retries (see try_acquire).
    ::unlink(path_.c_str());
    fd_.reset();
}

}  // namespace zerobuffer::posix
