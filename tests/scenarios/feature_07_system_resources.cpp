// Feature 07: System Resources (catalogue §1.7).
#include <gtest/gtest.h>

#include <csignal>

#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

// 7.1: semaphore creation fails while the buffer is being created (fault injected by putting a
// directory where sem-r must go, which neither sem_unlink nor sem_open can replace). The
// constructor fails, and the shared memory, sem-w and the lock file it had made are removed.
TEST(Feature07_SystemResources, Scenario_07_01_PartialInitializationFailure) {
    NameScope names;
    const auto name = names.make("test-partial-init");
    DirectoryGuard blocker(sem_r_path(name));
    ASSERT_TRUE(blocker.created());

    try {
        Reader reader(name, config(1024, 10240));
        FAIL() << "the reader was created although sem-r could not be";
    } catch (const ZeroBufferException& e) {
        std::printf("[ message  ] %s\n", e.what());
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << "the message should name the buffer";
    }
    EXPECT_FALSE(exists(shm_path(name))) << "shared memory leaked";
    EXPECT_FALSE(exists(sem_w_path(name))) << "sem-w leaked";
    EXPECT_FALSE(exists(lock_path(name))) << "lock file leaked";

    blocker.remove();
    Reader reader(name, config(1024, 10240));  // the name is usable once the fault is gone
    Writer writer(name);
    writer.write_frame(bytes_of("recovered"));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(text_of(f), "recovered");
}

// 7.2 (analogue): exhausting /dev/shm on a shared machine is not acceptable, so the segment
// cannot get its size in two other ways: (a) a file-size limit (RLIMIT_FSIZE) in a child makes
// sizing the segment fail with EFBIG; (b) a ring larger than the whole /dev/shm is refused before
// anything is created. Both must fail cleanly, with a useful message, leaving nothing behind.
TEST(Feature07_SystemResources, Scenario_07_02_SharedMemoryExhaustion) {
    NameScope names;
    const auto name = names.make("test-exhausted");

    Child limited([&] {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{1 << 20, 1 << 20};
        require(::setrlimit(RLIMIT_FSIZE, &limit) == 0, "setrlimit");
        int result = 10;
        try {
            Reader r(name, config(1024, 8u << 20));
            std::fprintf(stderr, "an 8 MiB segment was created under a 1 MiB file-size limit\n");
            result = 1;
        } catch (const ZeroBufferException& e) {
            std::fprintf(stderr, "[ message  ] %s\n", e.what());
            if (e.code() != std::errc::file_too_large) result = 2;
            else if (std::string(e.what()).find(name) == std::string::npos) result = 3;
            else result = 0;
        }
        if (!no_objects_left(name)) return 4;
        if (result != 0) return result;
        Reader small(name, config(1024, 256u << 10));  // under the limit it works
        return 0;
    });
    EXPECT_EQ(limited.wait(30s), 0);
    EXPECT_TRUE(no_objects_left(name));

    struct statvfs fs {};
    ASSERT_EQ(::statvfs("/dev/shm", &fs), 0);
    const std::uint64_t capacity = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    if (capacity > 0) {
        try {
            Reader r(name, config(0, capacity * 2));
            ADD_FAILURE() << "a ring twice the size of /dev/shm was created";
        } catch (const ZeroBufferException& e) {
            std::printf("[ message  ] %s\n", e.what());
            EXPECT_NE(std::string(e.what()).find("/dev/shm"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(no_objects_left(name));
    }
}

// 7.3: records of 32 fields are written (half through zero-copy reservations, half copied) as
// fast as possible through a small ring while the reader checks every field of every record:
// once a frame is delivered, no field may be stale or torn.
TEST(Feature07_SystemResources, Scenario_07_03_MemoryBarrierVerification) {
    NameScope names;
    const auto name = names.make("test-barrier");
    Reader reader(name, config(0, 4096));
    struct Record {
        std::uint64_t seq;
        std::uint64_t fields[30];
        std::uint64_t check;
    };
    static_assert(sizeof(Record) == 256);
    constexpr std::uint64_t kRecords = 100000;
    auto fill = [](Record& r, std::uint64_t seq) {
        r.seq = seq;
        r.check = seq;
        for (std::uint64_t i = 0; i < 30; ++i) {
            r.fields[i] = seq * 0x9E3779B97F4A7C15ull + i;
            r.check ^= r.fields[i];
        }
    };

    Child writer([&] {
        Writer w(name);
        Record r{};
        for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
            if (seq % 2 == 0) {
                fill(r, seq);
                w.write_frame(&r, sizeof r);
            } else {
                auto res = w.acquire_frame(sizeof(Record));
                auto* dst = reinterpret_cast<std::uint64_t*>(res.data().data());
                Record tmp{};
                fill(tmp, seq);
                // field by field, straight into shared memory
                const auto* src = reinterpret_cast<const std::uint64_t*>(&tmp);
                for (std::size_t i = 0; i < sizeof(Record) / 8; ++i) std::memcpy(dst + i, src + i, 8);
                res.commit();
            }
        }
        return 0;
    });

    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t torn = 0;
    for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "record " << seq;
        ASSERT_EQ(f.size(), sizeof(Record));
        Record r{};
        std::memcpy(&r, f.data().data(), sizeof r);
        Record expected{};
        fill(expected, seq);
        if (std::memcmp(&r, &expected, sizeof r) != 0) ++torn;
    }
    const double ms = ms_since(t0);
    std::printf("[ figures  ] %llu records in %.0f ms (%.0f records/s), %llu torn\n",
                static_cast<unsigned long long>(kRecords), ms, kRecords / (ms / 1000.0),
                static_cast<unsigned long long>(torn));
    EXPECT_EQ(torn, 0u);
    EXPECT_EQ(writer.wait(30s), 0);
}

// 7.4: frames of 1 B, 1 KiB, 1 MiB and 10 MiB with an incrementing pattern, every byte checked.
TEST(Feature07_SystemResources, Scenario_07_04_PatternValidation) {
    NameScope names;
    const auto name = names.make("test-pattern");
    Reader reader(name, config(0, 16u << 20));
    const std::size_t sizes[] = {1, 1024, 1u << 20, 10u << 20};

    Child writer([&] {
        Writer w(name);
        std::uint64_t seq = 0;
        for (auto size : sizes) {
            ++seq;
            require(write_pattern(w, size, seq) == seq, "sequence");
        }
        return 0;
    });

    std::uint64_t seq = 0;
    for (auto size : sizes) {
        Frame f = reader.read_frame(5s);
        ASSERT_TRUE(f.valid()) << "frame of " << size;
        EXPECT_EQ(f.sequence(), ++seq);
        ASSERT_EQ(f.size(), size);
        std::size_t first_bad = size;
        for (std::size_t i = 0; i < size; ++i) {
            if (f.data()[i] != static_cast<std::byte>((i + seq) & 0xFF)) {
                first_bad = i;
                break;
            }
        }
        EXPECT_EQ(first_bad, size) << "frame of " << size << " B differs at byte " << first_bad;
    }
    EXPECT_EQ(writer.wait(30s), 0);
}

}  // namespace
}  // namespace zerobuffer::scenario
