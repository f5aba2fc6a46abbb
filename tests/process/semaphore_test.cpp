// sem-w posts as hints: they never pile up to SEM_VALUE_MAX behind a reader that finds frames by
// position, and a post with nothing published behind it never sends a reader into unwritten
// bytes, even when the counters say otherwise (a Python writer's phantom wrap counts).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;

int sem_value(const std::string& sem_name) {
    sem_t* s = ::sem_open(("/" + sem_name).c_str(), 0);
    if (s == SEM_FAILED) return -1;
    int v = -1;
    ::sem_getvalue(s, &v);
    ::sem_close(s);
    return v;
}

TEST(Semaphores, PendingPostsStayBoundedForAReaderThatNeverSleeps) {
    test::NameScope names;
    const auto name = names.make("posts-bounded");
    BufferConfig config;
    config.payload_size = 1 << 20;
    Reader reader(name, config);  // positions on x86: takes posts only before sleeping
    Writer writer(name);
    const std::byte data[8] = {};
    constexpr int kFrames = (1 << 20) + 50000;
    for (int i = 0; i < kFrames; ++i) {
        writer.write_frame(data, sizeof data);
        Frame f = reader.try_read_frame();
        ASSERT_TRUE(f) << "frame " << i;
    }
    const int pending = sem_value("sem-w-" + name);
    std::printf("[ figures  ] %d frames read without sleeping, %d sem-w posts pending\n", kFrames, pending);
    EXPECT_LE(pending, (1 << 20) + 1) << "the writer must stop posting long before SEM_VALUE_MAX";
    EXPECT_FALSE(reader.read_frame(20ms)) << "and nothing phantom comes out of the pending posts";
    EXPECT_EQ(sem_value("sem-w-" + name), 0) << "the reader took them before it slept";
}

// A post that arrives with nothing new behind it while the counters show a unit (as a Python
// writer's phantom wrap count leaves them): a reader taking one post per frame must drop it.
TEST(Semaphores, StalePostWithPhantomCountIsDropped) {
    test::NameScope names;
    const auto name = names.make("phantom");
    BufferConfig config;
    config.metadata_size = 0;
    config.payload_size = 4096;
    ReaderOptions posts;
    posts.discovery = FrameDiscovery::posts;
    Reader reader(name, config, posts);
    Writer writer(name);
    std::memset(writer.acquire_frame(100).data().data(), 0x5A, 100);  // reserved, never committed: bytes, no frame
    writer.write_frame(test::pattern(100, 1));
    Frame first = reader.read_frame(1s);
    ASSERT_TRUE(first);
    first.release();
    // Old bytes that look like a frame of the right sequence where the next frame would go.
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    void* p = ::mmap(nullptr, 128 + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(p, MAP_FAILED);
    auto* base = static_cast<std::byte*>(p);
    protocol::FrameHeader stale{50, 2};
    std::memcpy(base + 128 + 116, &stale, sizeof stale);
    auto* oieb = reinterpret_cast<protocol::Oieb*>(base);
    std::atomic_ref<std::uint64_t>(oieb->payload_written_count).fetch_add(1);  // a phantom count
    sem_t* s = ::sem_open(("/sem-w-" + name).c_str(), 0);
    ASSERT_NE(s, SEM_FAILED);
    ::sem_post(s);  // a late or third-party post
    ::sem_close(s);
    EXPECT_FALSE(reader.read_frame(50ms)) << "a frame was read from bytes the writer never published";
    writer.write_frame(test::pattern(100, 2));
    Frame second = reader.read_frame(1s);
    ASSERT_TRUE(second);
    EXPECT_EQ(second.sequence(), 2u);
    EXPECT_TRUE(test::matches_pattern(second.data().data(), second.size(), 2));
    ::munmap(p, 128 + 4096);
}

}  // namespace
}  // namespace zerobuffer
