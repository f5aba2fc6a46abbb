#include "scenario_util.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <new>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zerobuffer::scenario {
namespace fs = std::filesystem;

BufferConfig config(std::size_t metadata_size, std::size_t payload_size) {
    BufferConfig c;
    c.metadata_size = metadata_size;
    c.payload_size = payload_size;
    return c;
}

WriterOptions write_timeout(milliseconds timeout) {
    WriterOptions o;
    o.write_timeout = timeout;
    return o;
}

ReaderOptions step_by_step() {
    ReaderOptions o;
    o.peer_mode = PeerMode::foreign;
    return o;
}

std::vector<std::byte> bytes_of(std::string_view text) {
    std::vector<std::byte> out(text.size());
    std::memcpy(out.data(), text.data(), text.size());
    return out;
}

std::string text_of(const Frame& frame) {
    return std::string(reinterpret_cast<const char*>(frame.data().data()), frame.size());
}

void require(bool condition, const std::string& what) {
    if (!condition) throw std::runtime_error("requirement failed: " + what);
}

// ------------------------------------------------------------------------------------------
// Mailbox plumbing
// ------------------------------------------------------------------------------------------
void mailbox_open_pipe(int fds[2]) {
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
}

void mailbox_close_pipe(int fds[2]) {
    for (int i = 0; i < 2; ++i) {
        if (fds[i] >= 0) ::close(fds[i]);
        fds[i] = -1;
    }
}

void mailbox_send(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("mailbox write failed");
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

bool mailbox_receive(int fd, void* data, std::size_t size, milliseconds timeout) {
    char* p = static_cast<char*>(data);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (size > 0) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left < 0) return false;
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        const ssize_t n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

SharedFlag::SharedFlag() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<bool>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("SharedFlag: mmap failed");
    flag_ = new (p) std::atomic<bool>(false);
}

SharedFlag::~SharedFlag() { ::munmap(flag_, sizeof(std::atomic<bool>)); }

// ------------------------------------------------------------------------------------------
// ShmView
// ------------------------------------------------------------------------------------------
ShmView::ShmView(const std::string& name) {
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
    if (fd < 0) throw std::runtime_error("ShmView: shm_open(" + name + ") failed: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(protocol::kOiebSize)) {
        ::close(fd);
        throw std::runtime_error("ShmView: segment " + name + " is too small");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("ShmView: mmap failed");
    base_ = static_cast<std::byte*>(p);
}

ShmView::~ShmView() {
    if (base_ != nullptr) ::munmap(base_, size_);
}

std::uint64_t ShmView::load(std::uint64_t protocol::Oieb::*field) const noexcept {
    return std::atomic_ref<std::uint64_t>(oieb().*field).load(std::memory_order_acquire);
}

void ShmView::store(std::uint64_t protocol::Oieb::*field, std::uint64_t value) noexcept {
    std::atomic_ref<std::uint64_t>(oieb().*field).store(value, std::memory_order_release);
}

std::uint32_t ShmView::oieb_size() const noexcept {
    return std::atomic_ref<std::uint32_t>(oieb().oieb_size).load(std::memory_order_acquire);
}

void ShmView::set_oieb_size(std::uint32_t value) noexcept {
    std::atomic_ref<std::uint32_t>(oieb().oieb_size).store(value, std::memory_order_release);
}

std::byte* ShmView::payload() const noexcept {
    return base_ + protocol::kOiebSize + load(&protocol::Oieb::metadata_size);
}

protocol::FrameHeader ShmView::header_at(std::uint64_t ring_offset) const {
    if (ring_offset + protocol::kFrameHeaderSize > payload_size()) throw std::out_of_range("header_at");
    protocol::FrameHeader h{};
    std::memcpy(&h, payload() + ring_offset, sizeof h);
    return h;
}

void ShmView::set_header(std::uint64_t ring_offset, const protocol::FrameHeader& header) {
    if (ring_offset + protocol::kFrameHeaderSize > payload_size()) throw std::out_of_range("set_header");
    std::memcpy(payload() + ring_offset, &header, sizeof header);
    // A full barrier after the poke. A seq_cst read-modify-write rather than
    // std::atomic_thread_fence, which ThreadSanitizer does not support (-Werror=tsan).
    static std::atomic<unsigned> barrier{0};
    barrier.fetch_add(1, std::memory_order_seq_cst);
}

// ------------------------------------------------------------------------------------------
// Objects on disk
// ------------------------------------------------------------------------------------------
std::optional<int> semaphore_value(const std::string& sem_name) {
    sem_t* s = ::sem_open(("/" + sem_name).c_str(), 0);
    if (s == SEM_FAILED) return std::nullopt;
    int value = -1;
    const int r = ::sem_getvalue(s, &value);
    ::sem_close(s);
    if (r != 0) return std::nullopt;
    return value;
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_size);
}

bool exists(const std::string& path) {
    std::error_code ec;
    return fs::exists(fs::symlink_status(path, ec));
}

std::string shm_path(const std::string& name) { return "/dev/shm/" + name; }
std::string sem_w_path(const std::string& name) { return "/dev/shm/sem.sem-w-" + name; }
std::string sem_r_path(const std::string& name) { return "/dev/shm/sem.sem-r-" + name; }
std::string lock_path(const std::string& name) { return "/tmp/zerobuffer/" + name + ".lock"; }

bool no_objects_left(const std::string& name) {
    bool clean = true;
    for (const auto& path : {shm_path(name), sem_w_path(name), sem_r_path(name), lock_path(name)}) {
        if (exists(path)) {
            std::fprintf(stderr, "object left behind: %s\n", path.c_str());
            clean = false;
        }
    }
    return clean;
}

std::vector<std::string> PrefixScope::leftovers() const { return zerobuffer::test::leftovers(prefix_); }

PrefixScope::~PrefixScope() {
    for (const auto& path : leftovers()) {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
}

DirectoryGuard::DirectoryGuard(std::string path) : path_(std::move(path)) {
    created_ = ::mkdir(path_.c_str(), 0700) == 0;
}

DirectoryGuard::~DirectoryGuard() { remove(); }

void DirectoryGuard::remove() {
    if (created_) ::rmdir(path_.c_str());
    created_ = false;
}

// ------------------------------------------------------------------------------------------
// Process resources
// ------------------------------------------------------------------------------------------
std::size_t open_fd_count() {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/self/fd", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
    return n;
}

// Only mappings of /dev/shm files (segments, also unlinked or not yet named ones, and
// semaphores) count: the total line count of /proc/self/maps changes with anything the process
// maps, such as a sanitizer's shadow memory or the allocator's arenas.
std::size_t mapping_count() {
    std::ifstream maps("/proc/self/maps");
    std::size_t n = 0;
    std::string line;
    while (std::getline(maps, line)) {
        // address perms offset dev inode pathname: the pathname starts after the inode.
        std::istringstream fields(line);
        std::string address, perms, offset, dev, inode, path;
        fields >> address >> perms >> offset >> dev >> inode >> path;
        if (path.rfind("/dev/shm/", 0) == 0) ++n;
    }
    return n;
}

static std::chrono::nanoseconds cpu_clock(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::chrono::nanoseconds thread_cpu_time() { return cpu_clock(CLOCK_THREAD_CPUTIME_ID); }
std::chrono::nanoseconds process_cpu_time() { return cpu_clock(CLOCK_PROCESS_CPUTIME_ID); }

void become_nobody() {
    constexpr gid_t kNobodyGroup = 65534;
    constexpr uid_t kNobodyUser = 65534;
    ::setsid();
    if (::setgroups(0, nullptr) != 0) throw std::runtime_error(std::string("setgroups: ") + std::strerror(errno));
    if (::setgid(kNobodyGroup) != 0) throw std::runtime_error(std::string("setgid: ") + std::strerror(errno));
    if (::setuid(kNobodyUser) != 0) throw std::runtime_error(std::string("setuid: ") + std::strerror(errno));
    if (::getuid() != kNobodyUser || ::geteuid() != kNobodyUser) throw std::runtime_error("still privileged");
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::uint64_t write_pattern(Writer& writer, std::size_t size, std::uint64_t seed) {
    const auto data = pattern(size, seed);
    return writer.write_frame(data);
}

void kill_and_reap(Child& child) {
    child.kill_hard();
    child.wait(10s);
}

}  // namespace zerobuffer::scenario
