// Feature 10: Advanced Error Handling (catalogue §1.10).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

using protocol::FrameHeader;
using protocol::Oieb;

// 10.1: a stale segment already exists for the name and sem-w cannot be created (a directory
// sits where it must go). The reader throws, and neither the shared memory nor sem-r nor the
// lock file is left behind.
// The reader's segment is complete but still unnamed when its semaphores are created, so a
// failure there leaves nothing: the segment vanishes with its descriptor. Here sem-w cannot be
// created because something that is not a semaphore occupies its file.
TEST(Feature10_AdvancedErrorHandling, Scenario_10_01_PartialInitializationFailures) {
    NameScope names;
    const auto name = names.make("test-partial");
    DirectoryGuard blocker(sem_w_path(name));
    ASSERT_TRUE(blocker.created());

    try {
        Reader reader(name, config(1024, 10240));
        FAIL() << "the reader was created although sem-w could not be";
    } catch (const ZeroBufferException& e) {
        std::printf("[ message  ] %s\n", e.what());
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << "the message should name the buffer";
    }
    EXPECT_FALSE(exists(shm_path(name))) << "shared memory leaked";
    EXPECT_FALSE(exists(sem_r_path(name))) << "sem-r leaked";
    EXPECT_FALSE(exists(lock_path(name))) << "lock file leaked";
    blocker.remove();
    EXPECT_TRUE(no_objects_left(name));
}

// A segment whose header was never completed, with its creator gone, is not provably a buffer:
// the reader refuses the name, naming the segment and its owner, and leaves it alone.
TEST(Feature10_AdvancedErrorHandling, HalfCreatedSegmentIsNamedNotDeleted) {
    NameScope names;
    const auto name = names.make("test-half");
    {
        const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 128 + 1024 + 10240), 0);  // zero OIEB
        ::close(fd);
    }
    try {
        Reader reader(name, config(1024, 10240));
        FAIL() << "a half-created segment was taken over";
    } catch (const NameBlockedException& e) {
        std::printf("[ message  ] %s\n", e.what());
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("owner"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("cleanup --force"), std::string::npos);
    }
    EXPECT_EQ(file_size(shm_path(name)), 128u + 1024u + 10240u) << "the segment was left as it was";
    EXPECT_FALSE(exists(lock_path(name))) << "our lock file is gone";
}

// 10.2: a table of header corruptions; each is refused with a specific error instead of
// reading out of bounds. v1 headers have no magic field: the "header magic corrupted" row is
// covered by a header overwritten with garbage and by a wrap marker carrying a sequence.
TEST(Feature10_AdvancedErrorHandling, Scenario_10_02_InvalidFrameHeaderVariations) {
    struct Variation {
        const char* label;
        void (*damage)(FrameHeader& h, std::uint64_t S, std::uint64_t offset);
        enum Expect { corrupt, sequence, either } expect;
        const char* needle;  // part of a CorruptBuffer message
    };
    const Variation variations[] = {
        {"payload size larger than the space remaining",
         [](FrameHeader& h, std::uint64_t S, std::uint64_t offset) { h.payload_size = S - offset - 16 + 1; },
         Variation::corrupt, "payload_size"},
        {"payload size far beyond the ring", [](FrameHeader& h, std::uint64_t, std::uint64_t) { h.payload_size = ~0ull; },
         Variation::corrupt, "payload_size"},
        {"invalid sequence", [](FrameHeader& h, std::uint64_t, std::uint64_t) { h.sequence_number = 77; },
         Variation::sequence, ""},
        {"header garbage (no magic in v1)",
         [](FrameHeader& h, std::uint64_t, std::uint64_t) { std::memset(&h, 0xFF, sizeof h); },
         Variation::either, ""},
        {"wrap marker with a sequence", [](FrameHeader& h, std::uint64_t, std::uint64_t) { h.payload_size = 0; },
         Variation::corrupt, "sequence_number"},
    };
    for (const auto& v : variations) {
        SCOPED_TRACE(v.label);
        NameScope names;
        const auto name = names.make("test-header-variation");
        Reader reader(name, config(0, 10240));
        Writer writer(name);
        writer.write_frame(bytes_of("first"));
        writer.write_frame(bytes_of("second"));
        {
            Frame f = reader.read_frame(1s);
            ASSERT_TRUE(f.valid());
        }
        ShmView shm(name);
        const auto offset = reader.health().read_pos;  // published by health(); the reader batches it
        auto header = shm.header_at(offset);
        ASSERT_EQ(header.sequence_number, 2u);
        v.damage(header, shm.payload_size(), offset);
        shm.set_header(offset, header);

        try {
            Frame f = reader.read_frame(1s);
            ADD_FAILURE() << "accepted (valid=" << f.valid() << ", size " << f.size() << ")";
        } catch (const SequenceError& e) {
            std::printf("[ message  ] %s: %s\n", v.label, e.what());
            EXPECT_NE(v.expect, Variation::corrupt) << e.what();
            EXPECT_EQ(e.expected(), 2u);
            EXPECT_EQ(e.got(), header.sequence_number);
        } catch (const CorruptBufferException& e) {
            std::printf("[ message  ] %s: %s\n", v.label, e.what());
            EXPECT_NE(v.expect, Variation::sequence) << e.what();
            EXPECT_NE(std::string(e.what()).find(v.needle), std::string::npos) << e.what();
        }
    }
}

// 10.3: the writer is blocked in an 8192 B write (the ring is full) when the reader is
// SIGKILLed: that write ends with ReaderDead well before its timeout, and so does the next one.
TEST(Feature10_AdvancedErrorHandling, Scenario_10_03_ReaderDeathDuringActiveWrite) {
    NameScope names;
    const auto name = names.make("test-reader-death-active");
    Latch created;
    Child reader([&]() -> int {
        Reader r(name, config(0, 10240));
        created.signal();
        for (;;) ::pause();
    });
    ASSERT_TRUE(created.wait(10s));
    Writer writer(name, write_timeout(10s));
    write_pattern(writer, 8192, 1);  // 8208 of 10240 bytes used; the next one must wait

    std::atomic<std::int64_t> killed_at{0};
    std::thread killer([&] {
        std::this_thread::sleep_for(200ms);
        killed_at = std::chrono::steady_clock::now().time_since_epoch().count();
        kill_and_reap(reader);
    });
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(write_pattern(writer, 8192, 2), ReaderDeadException);
    const auto ended = std::chrono::steady_clock::now();
    killer.join();
    const double after_kill =
        std::chrono::duration<double, std::milli>(ended.time_since_epoch() -
                                                  std::chrono::steady_clock::duration(killed_at.load()))
            .count();
    std::printf("[ figures  ] blocked write ended %.1f ms after the kill (%.1f ms in total)\n", after_kill,
                ms_since(t0));
    EXPECT_LT(ms_since(t0), 5000.0) << "must not wait for the 10 s write timeout";
    EXPECT_THROW(write_pattern(writer, 16, 3), ReaderDeadException) << "the next operation also fails";
}

// 10.4: the reader is blocked in read_frame when the writer is SIGKILLed: it throws WriterDead
// within the 5 s read timeout.
TEST(Feature10_AdvancedErrorHandling, Scenario_10_04_WriterDeathDuringRead) {
    NameScope names;
    const auto name = names.make("test-writer-death-read");
    Reader reader(name, config(1024, 1u << 20));
    Latch connected;
    Child writer([&]() -> int {
        Writer w(name);
        connected.signal();
        for (;;) ::pause();
    });
    ASSERT_TRUE(connected.wait(10s));

    std::thread killer([&] {
        std::this_thread::sleep_for(300ms);
        kill_and_reap(writer);
    });
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(reader.read_frame(5s), WriterDeadException);
    const double waited = ms_since(t0);
    killer.join();
    std::printf("[ figures  ] WriterDead after %.1f ms (writer killed at ~300 ms)\n", waited);
    EXPECT_LT(waited, 4900.0) << "the death must be detected, not the timeout waited out";
}

// 10.5 (analogue): semaphores cannot be exhausted on Linux without exhausting /dev/shm, so the
// descriptor budget is: under RLIMIT_NOFILE limits rising from 3, buffer creation fails at
// every step in turn (lock file, shared memory, each semaphore) until it succeeds. Each failure
// must be a system error (EMFILE) and leave nothing behind.
TEST(Feature10_AdvancedErrorHandling, Scenario_10_05_SemaphoreExhaustion) {
    const auto base = zerobuffer::test::unique_name("test-sem-exhausted");
    PrefixScope cleanup(base);
    Child child([&] {
        int failures = 0;
        for (rlim_t limit = 3; limit < 256; ++limit) {
            const std::string name = base + "_" + std::to_string(limit);
            rlimit original{};
            ::getrlimit(RLIMIT_NOFILE, &original);
            rlimit reduced{limit, original.rlim_max};
            require(::setrlimit(RLIMIT_NOFILE, &reduced) == 0, "setrlimit");
            bool created = false;
            std::string message;
            std::error_code code;
            try {
                Reader r(name, config(0, 4096));
                created = true;
            } catch (const ZeroBufferException& e) {
                message = e.what();
                code = e.code();
            }
            require(::setrlimit(RLIMIT_NOFILE, &original) == 0, "restore the limit");
            if (!no_objects_left(name)) return 2;
            if (created) {
                std::fprintf(stderr, "[ figures  ] creation succeeded at a limit of %d descriptors after %d failures\n",
                             static_cast<int>(limit), failures);
                return failures > 0 ? 0 : 3;
            }
            ++failures;
            if (code != std::errc::too_many_files_open) {
                std::fprintf(stderr, "limit %d: not reported as EMFILE: %s\n", static_cast<int>(limit), message.c_str());
                return 4;
            }
        }
        return 5;
    });
    EXPECT_EQ(child.wait(60s), 0);
    EXPECT_TRUE(cleanup.leftovers().empty());
}

// 10.6: a buffer created with mode 0600 by one user refuses a writer of another user with a
// clean permission-denied error, and is not corrupted by the attempt. (Upstream creates every
// object 0666, so it cannot pass there; BufferConfig::permissions makes it possible.)
TEST(Feature10_AdvancedErrorHandling, Scenario_10_06_PermissionErrors) {
    NameScope names;
    const auto name = names.make("test-permissions");
    BufferConfig cfg = config(1024, 10240);
    cfg.permissions = 0600;
    Reader reader(name, cfg);
    for (const auto& path : {shm_path(name), sem_w_path(name), sem_r_path(name)}) {
        struct stat st {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    }

    Child other_user([&] {
        become_nobody();
        try {
            Writer w(name);
            std::fprintf(stderr, "user nobody attached to a 0600 buffer\n");
            return 1;
        } catch (const ZeroBufferException& e) {
            std::fprintf(stderr, "[ message  ] %s\n", e.what());
            return e.code() == std::errc::permission_denied ? 0 : 2;
        }
    });
    EXPECT_EQ(other_user.wait(10s), 0) << "expected a permission-denied ZeroBufferException";

    const auto h = reader.health();
    EXPECT_EQ(h.writer_pid, 0u) << "the refused writer must not touch the OIEB";
    EXPECT_EQ(h.written_count, 0u);
    Child owner([&] {
        Writer w(name);
        w.write_frame(bytes_of("owner"));
        return 0;
    });
    EXPECT_EQ(owner.wait(10s), 0);
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(text_of(f), "owner");
}

}  // namespace
}  // namespace zerobuffer::scenario
