// Feature 08: Platform-Specific (catalogue §1.8). This is the Linux build: 8.2 (Windows named
// objects) is covered by its Linux analogue.
#include <gtest/gtest.h>

#include <climits>
#include <filesystem>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

unsigned file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

void round_trip(Reader& reader, const std::string& name, const std::string& text) {
    Writer writer(name);
    writer.write_frame(bytes_of(text));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f.valid()) << name;
    EXPECT_EQ(text_of(f), text);
}

// 8.1: a reader creates /dev/shm/NAME (128 + M + S bytes), sem.sem-w-NAME, sem.sem-r-NAME and
// /tmp/zerobuffer/NAME.lock; names with special characters work; after a graceful shutdown the
// entries are gone. Names with '/' or empty names are refused.
TEST(Feature08_PlatformSpecific, Scenario_08_01_LinuxSharedMemory) {
    NameScope names;
    const auto plain = names.make("test-linux");
    const auto special = names.make("sp ecial.chars-_~+@=,#%!()[]{}'\"&$;:ü€");
    for (const auto& name : {plain, special}) {
        {
            Reader reader(name, config(100, 1000));
            EXPECT_TRUE(exists(shm_path(name))) << name;
            EXPECT_EQ(file_size(shm_path(name)), 128u + 128u + 1024u) << "OIEB + align64(100) + align64(1000)";
            EXPECT_TRUE(exists(sem_w_path(name))) << name;
            EXPECT_TRUE(exists(sem_r_path(name))) << name;
            EXPECT_TRUE(exists(lock_path(name))) << name;
            round_trip(reader, name, "hello " + name);
        }
        EXPECT_TRUE(no_objects_left(name)) << "after a graceful shutdown: " << name;
    }
    EXPECT_THROW(Reader(names.make("a/b"), config(0, 1024)), InvalidNameException);
    EXPECT_THROW(Reader("", config(0, 1024)), InvalidNameException);
    EXPECT_THROW(Writer{names.make("x/y")}, InvalidNameException);
}

// 8.2 (analogue): Windows Global\ vs Local\ namespaces, semaphore maximum count and sessions.
// On Linux the /dev/shm namespace is global to the machine (per IPC namespace): a process of
// another user in another session (setsid + setuid nobody) attaches to a buffer created with
// permissions 0666. The semaphore limit is SEM_VALUE_MAX: with sem-r at its maximum, releasing
// a frame (whose sem_post fails with EOVERFLOW) must neither throw nor lose the freed space.
TEST(Feature08_PlatformSpecific, Scenario_08_02_WindowsNamedObjectsAnalogue) {
    NameScope names;
    {
        const auto name = names.make("test-global");
        BufferConfig cfg = config(0, 10240);
        cfg.permissions = 0666;
        Reader reader(name, cfg);
        EXPECT_EQ(file_mode(shm_path(name)), 0666u);
        Child other_user([&] {
            become_nobody();
            Writer w(name);
            require(w.is_reader_connected(), "the root reader is alive although kill() gives EPERM");
            w.write_frame(bytes_of("from nobody"));
            return 0;
        });
        EXPECT_EQ(other_user.wait(10s), 0);
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid());
        EXPECT_EQ(text_of(f), "from nobody");
    }
    {
        const auto name = names.make("test-sem-max");
        Reader reader(name, config(0, 1024));
        Writer writer(name, write_timeout(2s));
        {
            const int fd = ::open(sem_r_path(name).c_str(), O_RDWR);
            ASSERT_GE(fd, 0);
            void* p = ::mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            ::close(fd);
            ASSERT_NE(p, MAP_FAILED);
            // glibc (64-bit atomics): the value is the low 32 bits of the first 64-bit word.
            const std::uint32_t max = SEM_VALUE_MAX;
            std::memcpy(p, &max, sizeof max);
            ::munmap(p, sizeof(sem_t));
        }
        if (semaphore_value("sem-r-" + name) != SEM_VALUE_MAX) {
            GTEST_SKIP() << "this C library keeps the semaphore value elsewhere; cannot preset SEM_VALUE_MAX";
        }
        for (std::uint64_t i = 1; i <= 20; ++i) {  // 20 x 116 B through a 1024 B ring: space must come back
            write_pattern(writer, 100, i);
            Frame f = reader.read_frame(1s);
            ASSERT_TRUE(f.valid()) << "frame " << i;
            EXPECT_TRUE(matches_pattern(f.data().data(), f.size(), i));
            EXPECT_NO_THROW(f.release());
        }
        EXPECT_EQ(reader.health().payload_free_bytes, 1024u);
        EXPECT_EQ(semaphore_value("sem-r-" + name), SEM_VALUE_MAX);
    }
}

// 8.3: names of letters, digits and dashes work; the longest allowed name (245 characters,
// limited by glibc's semaphore names) works and one character more is refused up front.
TEST(Feature08_PlatformSpecific, Scenario_08_03_CrossPlatformNameCompatibility) {
    NameScope names;
    const auto simple = names.make("test-name-compat-123");
    {
        Reader reader(simple, config(0, 1024));
        round_trip(reader, simple, "compat");
    }
    EXPECT_TRUE(no_objects_left(simple));

    const auto prefix = names.make("");
    ASSERT_LT(prefix.size(), protocol::kMaxNameLength);
    const std::string longest = prefix + std::string(protocol::kMaxNameLength - prefix.size(), 'L');
    ASSERT_EQ(longest.size(), 245u);
    names.adopt(longest);
    {
        Reader reader(longest, config(0, 1024));
        EXPECT_TRUE(exists(sem_w_path(longest)));
        round_trip(reader, longest, "longest");
    }
    EXPECT_TRUE(no_objects_left(longest));

    const std::string too_long = longest + "L";
    names.adopt(too_long);
    EXPECT_THROW(Reader(too_long, config(0, 1024)), InvalidNameException);
    EXPECT_THROW(Writer{too_long}, InvalidNameException);
    EXPECT_TRUE(no_objects_left(too_long));
}

// 8.4: leftovers of a dead reader made by hand (an unheld lock file, a segment naming a dead
// reader, semaphores holding stale posts): a new reader removes them and creates a fresh
// buffer, with fresh semaphores (no phantom frames). In a second round the segment is garbage,
// which is not provably a buffer: it is refused by name and left alone.
TEST(Feature08_PlatformSpecific, Scenario_08_04_StaleResourceCleanup) {
    NameScope names;
    Child short_lived([] { return 0; });
    ASSERT_EQ(short_lived.wait(10s), 0);
    const auto dead_pid = static_cast<std::uint64_t>(short_lived.pid());

    for (const bool garbage : {false, true}) {
        const auto name = names.make(garbage ? "stale-garbage" : "stale-test");
        {
            const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0666);
            ASSERT_GE(fd, 0);
            const std::size_t size = garbage ? 100 : 128 + 1024 + 4096;
            ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
            void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            ::close(fd);
            ASSERT_NE(p, MAP_FAILED);
            if (garbage) {
                std::memset(p, 0xA5, size);
            } else {
                protocol::Oieb o{};
                o.oieb_size = protocol::kOiebSize;
                o.version = {1, 0, 0, 0};
                o.metadata_size = o.metadata_free_bytes = 1024;
                o.payload_size = o.payload_free_bytes = 4096;
                o.reader_pid = dead_pid;
                std::memcpy(p, &o, sizeof o);
            }
            ::munmap(p, size);
            for (const auto& sem : {"/sem-w-" + name, "/sem-r-" + name}) {
                sem_t* s = ::sem_open(sem.c_str(), O_CREAT | O_EXCL, 0666, 5);
                ASSERT_NE(s, SEM_FAILED);
                ::sem_close(s);
            }
            std::filesystem::create_directories("/tmp/zerobuffer");
            const int lock = ::open(lock_path(name).c_str(), O_CREAT | O_RDWR, 0666);
            ASSERT_GE(lock, 0);
            ::close(lock);
        }

        if (garbage) {
            // Not a ZeroBuffer segment (another program's file): never deleted, and the error
            // names it and its owner.
            try {
                Reader reader(name, config(1024, 10240));
                ADD_FAILURE() << "a foreign file at the name was taken over";
            } catch (const NameBlockedException& e) {
                std::printf("[ message  ] %s\n", e.what());
                EXPECT_NE(std::string(e.what()).find("not a ZeroBuffer v1 buffer"), std::string::npos);
                EXPECT_NE(std::string(e.what()).find("owner"), std::string::npos);
            }
            EXPECT_EQ(file_size(shm_path(name)), 100u) << "the foreign file was left as it was";
            continue;
        }
        Reader reader(name, config(1024, 10240));
        const auto h = reader.health();
        EXPECT_EQ(h.payload_size, 10240u) << "a fresh buffer of the requested size";
        EXPECT_EQ(h.reader_pid, static_cast<std::uint64_t>(::getpid()));
        EXPECT_EQ(h.written_count, 0u);
        EXPECT_EQ(file_size(shm_path(name)), 128u + 1024u + 10240u);
        EXPECT_EQ(semaphore_value("sem-w-" + name), 0) << "the stale sem-w (value 5) was reused";
        EXPECT_EQ(semaphore_value("sem-r-" + name), 0) << "the stale sem-r (value 5) was reused";
        EXPECT_FALSE(reader.read_frame(100ms).valid()) << "a phantom frame from the stale semaphore";
        round_trip(reader, name, "fresh");
    }
}

}  // namespace
}  // namespace zerobuffer::scenario
