#include "platform/posix/shared_memory.h"

#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::posix {
namespace {

std::string os_name(const std::string& name) { return "/" + name; }

std::byte* map(int fd, std::uint64_t size, bool prefault, const std::string& name) {
    const int flags = MAP_SHARED | (prefault ? MAP_POPULATE : 0);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (p == MAP_FAILED) throw_errno(errno, "mmap of shared memory '" + name + "' (" + std::to_string(size) + " bytes)");
    return static_cast<std::byte*>(p);
}

}  // namespace

SharedMemory::SharedMemory(std::string name, FileDescriptor fd, std::byte* data, std::uint64_t size) noexcept
    : name_(std::move(name)), fd_(std::move(fd)), data_(data), size_(size) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
    }
}

std::optional<SharedMemory> SharedMemory::create_exclusive(const std::string& name, std::uint64_t size,
                                                           std::optional<unsigned> mode, bool prefault) {
    const std::string path = os_name(name);
    const int raw = retry_eintr([&] { return ::shm_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0666); });
    if (raw < 0) {
        if (errno == EEXIST) return std::nullopt;
        throw_errno(errno, "creating shared memory '" + name + "'");
    }
    FileDescriptor fd(raw);
    try {
        if (mode) check("fchmod of shared memory '" + name + "'", [&] { return ::fchmod(fd.get(), *mode); });
        check("sizing shared memory '" + name + "' to " + std::to_string(size) + " bytes",
              [&] { return ::ftruncate(fd.get(), static_cast<off_t>(size)); });
        if (prefault) {
            // posix_fallocate returns the error instead of setting errno.
            int err;
            do {
                err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size));
            } while (err == EINTR);
            if (err != 0) {
                throw_errno(err, "allocating " + std::to_string(size) + " bytes for shared memory '" + name +
                                     "' (is /dev/shm large enough?)");
            }
        }
        std::byte* data = map(fd.get(), size, prefault, name);
        return SharedMemory(name, std::move(fd), data, size);
    } catch (...) {
        ::shm_unlink(path.c_str());
        throw;
    }
}

std::optional<SharedMemory> SharedMemory::open_existing(const std::string& name, bool prefault) {
    const std::string path = os_name(name);
    const int raw = retry_eintr([&] { return ::shm_open(path.c_str(), O_RDWR, 0); });
    if (raw < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno(errno, "opening shared memory '" + name + "'");
    }
    FileDescriptor fd(raw);
    struct stat st {};
    check("fstat of shared memory '" + name + "'", [&] { return ::fstat(fd.get(), &st); });
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0) {
        // A creator between shm_open and ftruncate, or garbage. Nothing to map.
        return SharedMemory(name, std::move(fd), nullptr, 0);
    }
    std::byte* data = map(fd.get(), size, prefault, name);
    return SharedMemory(name, std::move(fd), data, size);
}

bool SharedMemory::unlink(const std::string& name) noexcept { return ::shm_unlink(os_name(name).c_str()) == 0; }

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      dev_(other.dev_),
      ino_(other.ino_) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
    if (this != &other) {
        unmap();
        name_ = std::move(other.name_);
        fd_ = std::move(other.fd_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

SharedMemory::~SharedMemory() { unmap(); }

void SharedMemory::unmap() noexcept {
    if (data_ != nullptr) {
        ::munmap(data_, size_);
        data_ = nullptr;
    }
}

bool SharedMemory::name_refers_to_this() const noexcept {
    struct stat st {};
    const std::string path = "/dev/shm/" + name_;
    if (::stat(path.c_str(), &st) != 0) return false;
    return st.st_dev == dev_ && st.st_ino == ino_;
}

}  // namespace zerobuffer::posix
