// Feature 12: Protocol Compliance (catalogue §1.12). White-box: the OIEB and the files are
// inspected directly and compared with the wire contract.
#include <gtest/gtest.h>

#include <cerrno>

#include <sys/file.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

using protocol::Oieb;

struct OiebSnapshot {
    std::uint64_t free, write_pos, read_pos, written, read;
    bool operator==(const OiebSnapshot&) const = default;
};

OiebSnapshot snapshot(const ShmView& shm) {
    return {shm.load(&Oieb::payload_free_bytes), shm.load(&Oieb::payload_write_pos), shm.load(&Oieb::payload_read_pos),
            shm.load(&Oieb::payload_written_count), shm.load(&Oieb::payload_read_count)};
}

std::ostream& operator<<(std::ostream& os, const OiebSnapshot& s) {
    return os << "{free " << s.free << ", write_pos " << s.write_pos << ", read_pos " << s.read_pos << ", written "
              << s.written << ", read " << s.read << "}";
}

// 12.1: after every write and read the OIEB moves exactly as the contract says. Each write adds
// one to written_count, takes 16 + n free bytes and advances write_pos by 16 + n; each read adds
// one to read_count and advances read_pos; free bytes come back at *release*, not at read.
// A wrap also counts its marker on both sides and the tail is wasted until the marker is read.
// (Upstream's "all values 64-byte aligned" holds for the block sizes only: frames are packed.)
// Checked twice: step by step as the peers' readers do it (every step visible at once), and with
// the default reader, which publishes its progress and returns space in batches: there the same
// state is checked after health(), which publishes everything released so far.
void oieb_consistency(bool step_by_step_reader) {
    NameScope names;
    const auto name = names.make("test-oieb");
    Reader reader(name, config(100, 1000), step_by_step_reader ? step_by_step() : ReaderOptions{});
    auto snapshot = [&](ShmView& view) {
        if (!step_by_step_reader) (void)reader.health();
        return scenario::snapshot(view);
    };
    Writer writer(name);
    ShmView shm(name);
    const std::uint64_t M = shm.load(&Oieb::metadata_size);
    const std::uint64_t S = shm.payload_size();
    EXPECT_EQ(M, 128u);
    EXPECT_EQ(S, 1024u);
    EXPECT_EQ(M % 64, 0u);
    EXPECT_EQ(S % 64, 0u);
    EXPECT_EQ(shm.oieb_size(), 128u);
    EXPECT_EQ(shm.oieb().version.major, 1);
    EXPECT_EQ(shm.oieb().version.minor, 0);
    EXPECT_EQ(shm.load(&Oieb::reader_pid), static_cast<std::uint64_t>(::getpid()));
    EXPECT_EQ(shm.load(&Oieb::writer_pid), static_cast<std::uint64_t>(::getpid()));

    constexpr std::uint64_t n = 284, T = n + 16;  // three frames leave a 124 B tail
    OiebSnapshot model{S, 0, 0, 0, 0};
    ASSERT_EQ(snapshot(shm), model);

    std::vector<Frame> held;
    for (int i = 0; i < 3; ++i) {
        write_pattern(writer, n, static_cast<std::uint64_t>(i + 1));
        model.free -= T;
        model.write_pos += T;
        model.written += 1;
        ASSERT_EQ(snapshot(shm), model) << "after write " << i + 1;
    }
    for (int i = 0; i < 2; ++i) {
        held.push_back(reader.read_frame(1s));
        ASSERT_TRUE(held.back().valid());
        model.read_pos += T;
        model.read += 1;
        ASSERT_EQ(snapshot(shm), model) << "after read " << i + 1 << " (free unchanged until release)";
    }
    for (auto& f : held) {
        f.release();
        model.free += T;
        ASSERT_EQ(snapshot(shm), model) << "after a release";
    }
    held.clear();

    // The fourth frame does not fit the 124 B tail: marker + frame at 0.
    const std::uint64_t tail = S - model.write_pos;
    write_pattern(writer, n, 4);
    EXPECT_EQ(shm.header_at(model.write_pos).payload_size, 0u) << "wrap marker";
    model.free -= tail + T;
    model.write_pos = T;
    model.written += 2;
    ASSERT_EQ(snapshot(shm), model) << "after the wrapping write";

    {
        Frame third = reader.read_frame(1s);
        ASSERT_TRUE(third.valid());
        EXPECT_EQ(third.sequence(), 3u);
        model.read_pos += T;
        model.read += 1;
        ASSERT_EQ(snapshot(shm), model);
    }
    model.free += T;
    ASSERT_EQ(snapshot(shm), model) << "after releasing frame 3";

    Frame fourth = reader.read_frame(1s);
    ASSERT_TRUE(fourth.valid());
    EXPECT_EQ(fourth.sequence(), 4u);
    model.free += tail;  // the marker is consumed: the waste comes back
    model.read_pos = T;
    model.read += 2;
    ASSERT_EQ(snapshot(shm), model) << "after reading marker + frame";
    fourth.release();
    model.free += T;
    ASSERT_EQ(snapshot(shm), model);
    EXPECT_EQ(model.free, S) << "a drained ring has all its bytes free";

    // Frames released out of order give their space back in ring order only (contract §3.9).
    write_pattern(writer, n, 5);
    write_pattern(writer, n, 6);
    Frame fifth = reader.read_frame(1s);
    Frame sixth = reader.read_frame(1s);
    ASSERT_TRUE(fifth.valid() && sixth.valid());
    const auto held_free = snapshot(shm).free;
    EXPECT_EQ(held_free, S - 2 * T);
    sixth.release();
    EXPECT_EQ(snapshot(shm).free, held_free) << "the newer frame may not free space first";
    fifth.release();
    EXPECT_EQ(snapshot(shm).free, S) << "releasing the older frame frees both";
}

TEST(Feature12_ProtocolCompliance, Scenario_12_01_OiebConsistency) {
    {
        SCOPED_TRACE("step-by-step reader");
        oieb_consistency(true);
    }
    {
        SCOPED_TRACE("default reader");
        oieb_consistency(false);
    }
}



// 12.2: the OIEB is at offset 0, the metadata block at 128 and the payload at 128 + align64(M),
// so both blocks are 64-byte aligned in every mapping; the segment is exactly 128 + M + S bytes.
// Frames are packed back to back (the v1 wire format has no per-frame padding).
TEST(Feature12_ProtocolCompliance, Scenario_12_02_MemoryAlignment) {
    NameScope names;
    const std::pair<std::size_t, std::size_t> sizes[] = {{0, 1}, {1, 1}, {63, 65}, {64, 64}, {100, 1000}, {1000, 100000}};
    for (const auto& [m, p] : sizes) {
        SCOPED_TRACE("metadata " + std::to_string(m) + ", payload " + std::to_string(p));
        const auto name = names.make("test-align");
        Reader reader(name, config(m, p));
        ShmView shm(name);
        const std::uint64_t M = protocol::align_block(m), S = protocol::align_block(p);
        EXPECT_EQ(shm.size(), 128 + M + S);
        EXPECT_EQ(shm.load(&Oieb::metadata_size), M);
        EXPECT_EQ(shm.load(&Oieb::payload_size), S);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(shm.base()) % 64, 0u);
        EXPECT_EQ((shm.payload() - shm.base()) % 64, 0);

        Writer writer(name);
        if (M >= 16) {
            writer.set_metadata(pattern(8, 0));
            const auto meta = reader.metadata();
            ASSERT_EQ(meta.size(), 8u);
            EXPECT_EQ((reinterpret_cast<std::uintptr_t>(meta.data()) - protocol::kMetadataPrefixSize) % 64, 0u)
                << "the reader's metadata block is 64-byte aligned";
        }
        if (S >= 1024) {  // room for the four frames without a wrap
            std::vector<Frame> frames;
            std::uint64_t used = 0;
            for (std::size_t n : {1, 3, 7, 13}) {
                if (used + 16 + n > S) break;
                write_pattern(writer, n, n);
                used += 16 + n;
                frames.push_back(reader.read_frame(1s));
                ASSERT_TRUE(frames.back().valid());
                EXPECT_TRUE(matches_pattern(frames.back().data().data(), n, n));
            }
            ASSERT_FALSE(frames.empty());
            EXPECT_EQ((reinterpret_cast<std::uintptr_t>(frames[0].data().data()) - 16) % 64, 0u)
                << "the reader's payload block is 64-byte aligned";
            for (std::size_t i = 1; i < frames.size(); ++i) {
                EXPECT_EQ(frames[i].data().data() - frames[i - 1].data().data(),
                          static_cast<std::ptrdiff_t>(frames[i - 1].size() + 16))
                    << "frames are packed: header right after the previous frame's data";
            }
        }
    }
}

bool lock_is_held(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // releases our lock if we got it
    return held;
}

// 12.3: the lock file /tmp/zerobuffer/NAME.lock exists and is really flock()ed by the reader;
// once the reader is SIGKILLed the lock is free and a new reader takes over; after a graceful
// shutdown the lock file is gone.
TEST(Feature12_ProtocolCompliance, Scenario_12_03_LockFileSemantics) {
    NameScope names;
    const auto name = names.make("test-lock");
    Latch created;
    Child first([&]() -> int {
        Reader r(name, config(0, 4096));
        created.signal();
        for (;;) ::pause();
    });
    ASSERT_TRUE(created.wait(10s));
    EXPECT_TRUE(exists(lock_path(name)));
    EXPECT_TRUE(lock_is_held(lock_path(name))) << "the live reader must hold an exclusive flock";
    EXPECT_THROW(Reader(name, config(0, 4096)), ReaderAlreadyConnectedException);

    kill_and_reap(first);
    EXPECT_FALSE(lock_is_held(lock_path(name))) << "a dead reader's lock must be free";

    Latch taken, finish;
    Child second([&] {
        Reader r(name, config(0, 4096));
        require(r.health().reader_pid == static_cast<std::uint64_t>(::getpid()), "the new reader owns the buffer");
        taken.signal();
        require(finish.wait(10s).has_value(), "finish signal");
        return 0;  // graceful shutdown
    });
    ASSERT_TRUE(taken.wait(10s)) << "the new reader could not take over the stale lock";
    EXPECT_TRUE(lock_is_held(lock_path(name)));
    finish.signal();
    EXPECT_EQ(second.wait(10s), 0);
    EXPECT_FALSE(exists(lock_path(name))) << "the lock file must go with a graceful shutdown";
    EXPECT_TRUE(no_objects_left(name));
}

// 12.4: for every buffer name the semaphores are sem-w-NAME and sem-r-NAME (glibc files
// /dev/shm/sem.sem-w-NAME ...), openable by any peer by those names, with one sem-w post per
// frame and one sem-r post per released frame. (The Windows naming rules of the scenario do not
// apply to this Linux build.)
TEST(Feature12_ProtocolCompliance, Scenario_12_04_SemaphoreNamingConvention) {
    NameScope names;
    for (const char* base :
         {"550e8400-e29b-41d4-a716-446655440000", "test_buffer-123", "very_long_buffer_name_that_tests_maximum_length_limits"}) {
        const auto name = names.make(base);
        SCOPED_TRACE(name);
        Reader reader(name, config(0, 4096), step_by_step());
        EXPECT_TRUE(exists(sem_w_path(name)));
        EXPECT_TRUE(exists(sem_r_path(name)));
        ASSERT_EQ(semaphore_value("sem-w-" + name), 0);
        ASSERT_EQ(semaphore_value("sem-r-" + name), 0);

        Writer writer(name);
        writer.write_frame(bytes_of(base));
        EXPECT_EQ(semaphore_value("sem-w-" + name), 1) << "one sem-w post per frame";
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(text_of(f), base);
        EXPECT_EQ(semaphore_value("sem-w-" + name), 0);
        EXPECT_EQ(semaphore_value("sem-r-" + name), 0) << "sem-r is posted at release, not at read";
        f.release();
        EXPECT_EQ(semaphore_value("sem-r-" + name), 1) << "one sem-r post per released frame";
    }
    // The default reader takes the posts it did not need before it sleeps, and posts sem-r once
    // per batch of returned space.
    const auto name = names.make("posts-default");
    Reader reader(name, config(0, 4096));
    Writer writer(name);
    for (int i = 0; i < 3; ++i) writer.write_frame(bytes_of("frame"));
    EXPECT_EQ(semaphore_value("sem-w-" + name), 3);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.read_frame(1s).valid());
    EXPECT_FALSE(reader.read_frame(20ms).valid());
    EXPECT_EQ(semaphore_value("sem-w-" + name), 0) << "stale posts are taken before the reader sleeps";
    EXPECT_GE(semaphore_value("sem-r-" + name).value_or(0), 1) << "the returned space was posted";
}

}  // namespace
}  // namespace zerobuffer::scenario
