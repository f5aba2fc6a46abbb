// libFuzzer target: a Reader and a Writer of one buffer in this process, driven by the input
// through a sequence of operations, while the input also pokes hostile bytes into the OIEB, the
// metadata block and the ring through a second, raw mapping of the segment, with frames held
// and reservations pending. Built with ASan + UBSan (scripts/fuzz.sh).
//
// Findings: any crash or sanitizer report; a frame, metadata span or reservation that is not
// inside its own mapping's block (checked against the mappings' addresses in /proc/self/maps);
// an exception that is not a ZeroBufferException (the library's errors all derive from it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zerobuffer/zerobuffer.h"

namespace {

using namespace std::chrono_literals;
using zerobuffer::protocol::kOiebSize;

// Reads the input front to back; past its end every read gives 0.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const { return pos_ >= size_; }
    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
        return v;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

[[noreturn]] void finding(const char* what, const void* p = nullptr, std::size_t n = 0) {
    std::fprintf(stderr, "FUZZ FINDING: %s (pointer %p, %zu bytes)\n", what, p, n);
    std::fflush(stderr);
    std::abort();
}

struct Range {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    bool contains(const void* p, std::size_t n) const {
        const auto a = reinterpret_cast<std::uintptr_t>(p);
        return a >= begin && a <= end && n <= end - a;
    }
};

// Start addresses of this process's mappings of the file (dev, ino).
std::vector<std::uintptr_t> mappings_of(dev_t dev, ino_t ino) {
    std::vector<std::uintptr_t> starts;
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream fields(line);
        std::string address, perms, offset, device, inode;
        fields >> address >> perms >> offset >> device >> inode;
        if (inode != std::to_string(ino)) continue;
        const auto colon = device.find(':');
        const unsigned major = static_cast<unsigned>(std::stoul(device.substr(0, colon), nullptr, 16));
        const unsigned minor = static_cast<unsigned>(std::stoul(device.substr(colon + 1), nullptr, 16));
        if (makedev(major, minor) != dev) continue;
        starts.push_back(static_cast<std::uintptr_t>(std::stoull(address.substr(0, address.find('-')), nullptr, 16)));
    }
    return starts;
}

std::uintptr_t new_mapping(const std::vector<std::uintptr_t>& before, const std::vector<std::uintptr_t>& after) {
    for (auto a : after) {
        bool seen = false;
        for (auto b : before) seen = seen || a == b;
        if (!seen) return a;
    }
    finding("cannot find the new mapping of the segment");
}

const std::string& buffer_name() {
    static const std::string name = "zbfuzz_" + std::to_string(::getpid());
    return name;
}

void touch(const std::byte* p, std::size_t n) {
    volatile std::uint8_t sink = 0;
    for (std::size_t i = 0; i < n; ++i) sink = static_cast<std::uint8_t>(sink ^ static_cast<std::uint8_t>(p[i]));
    (void)sink;
}

// Values that exercise every bound a field has.
std::uint64_t interesting(Input& in, std::uint64_t M, std::uint64_t S) {
    switch (in.u8() % 12) {
        case 0: return 0;
        case 1: return 1;
        case 2: return S;
        case 3: return S - 1;
        case 4: return S + 1;
        case 5: return M;
        case 6: return M + 1;
        case 7: return ~std::uint64_t{0};
        case 8: return std::uint64_t{1} << 63;
        case 9: return static_cast<std::uint64_t>(::getpid());
        case 10: return in.u16();
        default: return in.u64();
    }
}

class Session {
public:
    explicit Session(Input& in) : in_(in) {}

    int run() {
        zerobuffer::BufferConfig config;
        config.metadata_size = (in_.u8() % 4) * 64;
        config.payload_size = 64 * (1 + in_.u8() % 32);
        zerobuffer::ReaderOptions ro;
        ro.wait.spin = 0us;
        ro.wait.liveness_interval = 1ms;
        ro.prefault = false;
        ro.verify_sequence = (in_.u8() & 1) != 0;
        const std::uint8_t mode = in_.u8();
        ro.discovery = (mode & 1) != 0 ? zerobuffer::FrameDiscovery::posts : zerobuffer::FrameDiscovery::positions;
        ro.peer_mode = (mode & 2) != 0 ? zerobuffer::PeerMode::foreign : zerobuffer::PeerMode::automatic;
        wo_.write_timeout = 1ms;
        wo_.wait.spin = 0us;
        wo_.wait.liveness_interval = 1ms;
        wo_.prefault = false;
        wo_.peer_mode = ro.peer_mode;

        const std::string& name = buffer_name();
        struct stat st {};
        try {
            reader_.emplace(name, config, ro);
            if (::stat(("/dev/shm/" + name).c_str(), &st) != 0) finding("the buffer has no /dev/shm entry");
            dev_ = st.st_dev;
            ino_ = st.st_ino;
            total_ = static_cast<std::size_t>(st.st_size);
            M_ = (config.metadata_size + 63) / 64 * 64;
            S_ = (config.payload_size + 63) / 64 * 64;
            const auto starts = mappings_of(dev_, ino_);
            if (starts.size() != 1) finding("expected exactly the reader's mapping");
            reader_map_ = starts.front();
            attach_writer();
        } catch (const zerobuffer::ZeroBufferException&) {
            return 0;  // e.g. a leftover from a crashed run: nothing to fuzz this time
        }
        const int fd = ::open(("/dev/shm/" + name).c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) finding("cannot open the segment raw");
        raw_ = static_cast<std::byte*>(::mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ::close(fd);
        if (raw_ == MAP_FAILED) finding("cannot map the segment raw");

        for (int ops = 0; ops < 96 && !in_.done(); ++ops) step();

        // Teardown in an order the input chose: frames may outlive their reader.
        const bool frames_last = (in_.u8() & 1) != 0;
        reservation_.reset();
        if (!frames_last) held_.clear();
        writer_.reset();
        reader_.reset();
        held_.clear();
        ::munmap(raw_, total_);
        // Whatever a poke made the reader leave behind (it unlinks only its own segment).
        ::shm_unlink(("/" + name).c_str());
        ::sem_unlink(("/sem-w-" + name).c_str());
        ::sem_unlink(("/sem-r-" + name).c_str());
        ::unlink(("/tmp/zerobuffer/" + name + ".lock").c_str());
        return 0;
    }

private:
    Range reader_ring() const { return ring_at(reader_map_); }
    Range writer_ring() const { return ring_at(writer_map_); }
    Range ring_at(std::uintptr_t base) const { return {base + kOiebSize + M_, base + kOiebSize + M_ + S_}; }

    void attach_writer() {
        const auto before = mappings_of(dev_, ino_);
        writer_.emplace(buffer_name(), wo_);
        writer_map_ = new_mapping(before, mappings_of(dev_, ino_));
    }

    void check_frame(const zerobuffer::Frame& f) {
        if (!f) return;
        if (!reader_ring().contains(f.data().data(), f.size())) finding("frame outside the reader's ring", f.data().data(), f.size());
        touch(f.data().data(), f.size());
    }

    void step() {
        const std::uint8_t op = in_.u8();
        try {
            switch (op % 14) {
                case 0: {  // copy a frame in
                    if (!writer_) break;
                    const std::size_t n = in_.u16() % (S_ + 32);
                    std::vector<std::byte> data(n, static_cast<std::byte>(op));
                    (void)writer_->try_write_frame(data, 0ms);
                    break;
                }
                case 1: {  // reserve, fill, and commit or abandon
                    if (!writer_) break;
                    reservation_.reset();
                    const std::size_t n = in_.u16() % (S_ + 32);
                    zerobuffer::FrameReservation r = writer_->try_acquire_frame(n, 0ms);
                    if (!r) break;
                    if (!writer_ring().contains(r.data().data(), r.data().size())) {
                        finding("reservation outside the writer's ring", r.data().data(), r.data().size());
                    }
                    std::memset(r.data().data(), 0x5A, r.data().size());
                    const std::uint8_t what = in_.u8() % 3;
                    if (what == 0) r.commit();
                    else if (what == 1) reservation_ = std::move(r);  // left pending across later steps
                    break;
                }
                case 2:
                case 3: {  // read; hold the frame or drop it
                    if (!reader_) break;
                    zerobuffer::Frame f = (op & 1) != 0 ? reader_->try_read_frame() : reader_->read_frame(0ms);
                    check_frame(f);
                    if (f && (in_.u8() & 1) != 0 && held_.size() < 64) held_.push_back(std::move(f));
                    break;
                }
                case 4: {  // release a held frame (any order)
                    if (held_.empty()) break;
                    const std::size_t i = in_.u8() % held_.size();
                    check_frame(held_[i]);
                    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
                    break;
                }
                case 5:
                case 6: {  // poke an OIEB field (8-byte fields after the first)
                    const std::size_t field = in_.u8() % 16;
                    const std::uint64_t value = interesting(in_, M_, S_);
                    if (field == 0) {
                        const std::uint32_t small = static_cast<std::uint32_t>(value);
                        std::memcpy(raw_, &small, sizeof small);  // oieb_size
                    } else {
                        std::memcpy(raw_ + field * 8, &value, sizeof value);
                    }
                    break;
                }
                case 7: {  // poke a frame header somewhere in the ring
                    if (S_ < 16) break;
                    const std::size_t at = (in_.u16() % (S_ / 8)) * 8;
                    if (at + 16 > S_) break;
                    const std::uint64_t size = interesting(in_, M_, S_);
                    const std::uint64_t seq = interesting(in_, M_, S_);
                    std::memcpy(raw_ + kOiebSize + M_ + at, &size, 8);
                    std::memcpy(raw_ + kOiebSize + M_ + at + 8, &seq, 8);
                    break;
                }
                case 8: {  // poke one byte anywhere in the segment
                    const std::size_t at = static_cast<std::size_t>(in_.u16() | (in_.u8() << 16)) % total_;
                    raw_[at] = static_cast<std::byte>(in_.u8());
                    break;
                }
                case 9: {  // metadata: written by the writer, poked, read by the reader
                    if (writer_ && (in_.u8() & 1) != 0) {
                        std::vector<std::byte> meta(in_.u8() % (M_ + 16), std::byte{0x33});
                        writer_->set_metadata(meta);
                    }
                    if (M_ >= 8 && (in_.u8() & 1) != 0) {
                        const std::uint64_t length = interesting(in_, M_, S_);
                        std::memcpy(raw_ + kOiebSize, &length, sizeof length);
                    }
                    if (reader_) {
                        const auto meta = reader_->metadata();
                        const Range block{reader_map_ + kOiebSize, reader_map_ + kOiebSize + M_};
                        if (!meta.empty() && !block.contains(meta.data(), meta.size())) {
                            finding("metadata outside the metadata block", meta.data(), meta.size());
                        }
                        touch(meta.data(), meta.size());
                    }
                    break;
                }
                case 10: {  // monitoring from the outside
                    if (reader_) (void)reader_->health();
                    if (writer_) (void)writer_->health();
                    if (reader_) (void)reader_->is_writer_connected();
                    if (writer_) (void)writer_->is_reader_connected();
                    break;
                }
                case 11: {  // the writer leaves, or a new one attaches
                    reservation_.reset();
                    if (writer_) writer_.reset();
                    else attach_writer();
                    break;
                }
                case 12: {  // the reader waits briefly (liveness checks, stale posts)
                    if (!reader_) break;
                    zerobuffer::Frame f = reader_->read_frame(1ms);
                    check_frame(f);
                    break;
                }
                case 13: {  // commit the pending reservation late
                    if (reservation_) reservation_->commit();
                    reservation_.reset();
                    break;
                }
            }
        } catch (const zerobuffer::ZeroBufferException&) {
            // Refusing hostile state with an exception is the expected outcome.
        } catch (const std::exception& e) {
            std::fprintf(stderr, "FUZZ FINDING: an exception outside the library's hierarchy: %s\n", e.what());
            std::abort();
        }
    }

    Input& in_;
    zerobuffer::WriterOptions wo_;
    std::optional<zerobuffer::Reader> reader_;
    std::optional<zerobuffer::Writer> writer_;
    std::optional<zerobuffer::FrameReservation> reservation_;
    std::vector<zerobuffer::Frame> held_;
    std::byte* raw_ = nullptr;
    std::size_t total_ = 0;
    std::uint64_t M_ = 0;
    std::uint64_t S_ = 0;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::uintptr_t reader_map_ = 0;
    std::uintptr_t writer_map_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in(data, size);
    Session session(in);
    return session.run();
}
