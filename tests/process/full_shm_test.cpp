// A /dev/shm too small for the ring, or too full: creation fails with an error that names the
// buffer and the sizes, and leaves nothing behind; with prefault (the default) it does not succeed
// and SIGBUS later. The child gets a private mount namespace with a 4 MiB tmpfs on /dev/shm (root).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

namespace fs = std::filesystem;

// Exit codes of the child, so the parent can say what went wrong.
enum ChildResult : int {
    kOk = 0,
    kNoNamespace = 10,   // unshare or mount refused: cannot run here
    kCreated = 11,       // a buffer that does not fit was created
    kWrongMessage = 12,  // the error does not name the buffer, the size or the cause
    kLeftover = 13,      // something stayed in the small /dev/shm
    kSmallFailed = 14,   // a buffer that fits could not be created (the tmpfs is unusable)
    kSetup = 15,         // the filler file could not be written
};

std::uint64_t segment_bytes(const BufferConfig& config) {
    return protocol::kOiebSize + protocol::align_block(config.metadata_size) + protocol::align_block(config.payload_size);
}

bool only(const char* allowed) {
    for (const auto& entry : fs::directory_iterator("/dev/shm")) {
        if (entry.path().filename() == allowed) continue;
        std::fprintf(stderr, "left: %s\n", entry.path().c_str());
        return false;
    }
    return true;
}

// Creating `name` with `config` must throw an error naming the buffer, the segment size and
// every word of `cause`, and leave nothing but `allowed` in /dev/shm.
int expect_refused(const std::string& name, const BufferConfig& config, std::initializer_list<const char*> cause,
                   const char* allowed) {
    try {
        Reader reader(name, config);
        return kCreated;
    } catch (const ZeroBufferException& e) {
        const std::string what = e.what();
        bool names_all = what.find(name) != std::string::npos &&
                         what.find(std::to_string(segment_bytes(config))) != std::string::npos;
        for (const char* word : cause) names_all = names_all && what.find(word) != std::string::npos;
        if (!names_all) {
            std::fprintf(stderr, "message: %s\n", what.c_str());
            return kWrongMessage;
        }
    }
    return only(allowed) ? kOk : kLeftover;
}

int run_in_small_shm(const std::string& name, const std::string& small_name) {
    if (::unshare(CLONE_NEWNS) != 0) return kNoNamespace;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kNoNamespace;
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=1777") != 0) return kNoNamespace;

    // Larger than the whole filesystem: refused before anything is created.
    BufferConfig huge;
    huge.payload_size = 8 * 1024 * 1024;
    if (const int r = expect_refused(name, huge, {"/dev/shm holds only", "4194304"}, ""); r != kOk) return r;

    // Fits the filesystem but not its free space: posix_fallocate fails (no SIGBUS later).
    {
        std::FILE* filler = std::fopen("/dev/shm/filler", "wb");
        if (filler == nullptr) return kSetup;
        const std::string block(1024 * 1024, 'x');
        for (int i = 0; i < 3; ++i) std::fwrite(block.data(), 1, block.size(), filler);
        if (std::fclose(filler) != 0) return kSetup;
    }
    BufferConfig big;
    big.payload_size = 2 * 1024 * 1024;
    if (const int r = expect_refused(name, big, {"allocating", "/dev/shm large enough"}, "filler"); r != kOk) return r;
    fs::remove("/dev/shm/filler");

    BufferConfig small;
    small.payload_size = 256 * 1024;
    try {
        Reader reader(small_name, small);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "small buffer: %s\n", e.what());
        return kSmallFailed;
    }
    return only("") ? kOk : kLeftover;
}

TEST(FullShm, PrefaultedCreationFailsCleanlyWhenDevShmIsTooSmall) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs on /dev/shm in a private mount namespace";
    test::NameScope names;
    const auto name = names.make("fullshm");
    const auto small_name = names.make("fullshm-small");
    test::Child child([&] { return run_in_small_shm(name, small_name); });
    const auto code = child.wait();
    ASSERT_TRUE(code.has_value()) << "child did not finish";
    if (*code == kNoNamespace) GTEST_SKIP() << "this machine refuses a private mount namespace (unshare/mount), e.g. an unprivileged container";
    EXPECT_EQ(*code, kOk) << "10 no namespace, 11 created, 12 message, 13 leftover, 14 small failed, 15 setup";
    // The lock file lives in the host's /tmp/zerobuffer, outside the private tmpfs.
    EXPECT_TRUE(test::leftovers(name).empty());
}

}  // namespace
}  // namespace zerobuffer
