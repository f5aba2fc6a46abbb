#include "platform/posix/shared_memory.h"

#include <atomic>
#include <cstdio>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zerobuffer::posix {
namespace {

constexpr const char* kShmDir = "/dev/shm";

std::string shm_path(const std::string& name) { return std::string(kShmDir) + "/" + name; }

constexpr std::string_view kTemporaryPrefix = ".zb-tmp-";

// A temporary name no other process uses: ".zb-tmp-<pid>-<counter>". Left behind only if this
// process dies between create() and publish(); `zerobuffer cleanup` removes it.
std::string temporary_name() {
    static std::atomic<unsigned> counter{0};
    return std::string(kTemporaryPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Digits only, at most 19 of them (so the value fits 64 bits), at least one.
std::optional<std::uint64_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

void apply_ownership(int fd, const Ownership& owner, const std::string& what) {
    if (owner.group) check("setting the group of " + what, [&] { return ::fchown(fd, static_cast<uid_t>(-1), *owner.group); });
    check("setting the mode of " + what, [&] { return ::fchmod(fd, static_cast<mode_t>(owner.mode)); });
}

void allocate(int fd, std::uint64_t size, bool prefault, const std::string& what) {
    check("sizing " + what + " to " + std::to_string(size) + " bytes",
          [&] { return ::ftruncate(fd, static_cast<off_t>(size)); });
    if (!prefault) return;
    int err;  // posix_fallocate returns the error instead of setting errno
    do {
        err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    } while (err == EINTR);
    if (err != 0) throw_errno(err, "allocating " + std::to_string(size) + " bytes for " + what + " (is /dev/shm large enough?)");
}

}  // namespace

std::optional<std::uint64_t> temporary_segment_pid(std::string_view file_name) {
    if (!file_name.starts_with(kTemporaryPrefix)) return std::nullopt;
    const std::string_view rest = file_name.substr(kTemporaryPrefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos || !decimal(rest.substr(dash + 1))) return std::nullopt;
    const auto pid = decimal(rest.substr(0, dash));
    if (!pid || *pid == 0) return std::nullopt;
    return pid;
}

SharedMemory::SharedMemory(std::string name, std::string temp_path, FileDescriptor fd) noexcept
    : name_(std::move(name)), temp_path_(std::move(temp_path)), fd_(std::move(fd)) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
    }
}

SharedMemory SharedMemory::create(std::uint64_t size, const Ownership& owner, bool prefault) {
    std::string temp;
    int raw = -1;
    // An unnamed file needs /proc to be given a name later (linkat through /proc/self/fd).
    if (::access("/proc/self/fd", X_OK) == 0) {
        raw = retry_eintr([&] { return ::open(kShmDir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600); });
    }
    if (raw < 0) {
        temp = temporary_name();
        const std::string path = shm_path(temp);
        raw = check("creating shared memory '" + path + "'",
                    [&] { return ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600); });
    }
    SharedMemory shm({}, temp, FileDescriptor(raw));
    const std::string what = "a new shared-memory segment";
    try {
        apply_ownership(shm.fd(), owner, what);
        allocate(shm.fd(), size, prefault, what);
        shm.map(size, prefault);
    } catch (...) {
        if (!temp.empty()) ::unlink(shm_path(temp).c_str());
        throw;
    }
    return shm;
}

bool SharedMemory::publish(const std::string& name) {
    const std::string target = shm_path(name);
    if (temp_path_.empty()) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd_.get());
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) != 0) {
            if (errno == EEXIST) return false;
            throw_errno(errno, "naming shared memory '" + name + "'");
        }
    } else {
        const std::string from = shm_path(temp_path_);
        if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
            if (errno == EEXIST) return false;
            throw_errno(errno, "naming shared memory '" + name + "'");
        }
        temp_path_.clear();
    }
    name_ = name;
    return true;
}

std::optional<SharedMemory> SharedMemory::open(const std::string& name, bool writable) {
    const std::string path = shm_path(name);
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    const int raw = retry_eintr([&] { return ::open(path.c_str(), flags); });
    if (raw < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno(errno, "opening shared memory '" + path + "'");
    }
    return SharedMemory(name, {}, FileDescriptor(raw));
}

bool SharedMemory::unlink(const std::string& name) noexcept { return ::unlink(shm_path(name).c_str()) == 0; }

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : name_(std::move(other.name_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      dev_(other.dev_),
      ino_(other.ino_) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
    if (this != &other) {
        unmap();
        name_ = std::move(other.name_);
        temp_path_ = std::move(other.temp_path_);
        fd_ = std::move(other.fd_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

SharedMemory::~SharedMemory() {
    unmap();
    if (!temp_path_.empty()) ::unlink(shm_path(temp_path_).c_str());  // created, never published
}

std::size_t SharedMemory::read_at(void* buffer, std::size_t n, std::uint64_t offset) const {
    const auto got = check("reading shared memory '" + name_ + "'",
                           [&] { return ::pread(fd_.get(), buffer, n, static_cast<off_t>(offset)); });
    return static_cast<std::size_t>(got);
}

void SharedMemory::map(std::uint64_t size, bool prefault) {
    unmap();
    if (size == 0) return;
    const int flags = MAP_SHARED | (prefault ? MAP_POPULATE : 0);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd_.get(), 0);
    if (p == MAP_FAILED) throw_errno(errno, "mapping shared memory '" + name_ + "' (" + std::to_string(size) + " bytes)");
    data_ = static_cast<std::byte*>(p);
    size_ = size;
}

void SharedMemory::close_descriptor() noexcept { fd_.reset(); }

void SharedMemory::unmap() noexcept {
    if (data_ != nullptr) {
        ::munmap(data_, size_);
        data_ = nullptr;
        size_ = 0;
    }
}

bool SharedMemory::truncated() const noexcept {
    if (!fd_.valid() || data_ == nullptr) return false;
    struct stat st {};
    return ::fstat(fd_.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) < size_;
}

bool SharedMemory::name_refers_to_this() const noexcept {
    if (name_.empty()) return false;
    struct stat st {};
    if (::lstat(shm_path(name_).c_str(), &st) != 0) return false;
    return st.st_dev == dev_ && st.st_ino == ino_;
}

}  // namespace zerobuffer::posix
