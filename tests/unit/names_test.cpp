#include <gtest/gtest.h>

#include <string>

#include "core/names.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {
namespace {

TEST(Names, AcceptsTheLongestAllowedName) {
    EXPECT_NO_THROW(validate_name(std::string(245, 'a')));
    EXPECT_NO_THROW(validate_name("camera-0_left.v2"));
}

TEST(Names, RejectsBadNamesWithAClearMessage) {
    EXPECT_THROW(validate_name(""), InvalidNameException);
    EXPECT_THROW(validate_name("a/b"), InvalidNameException);
    EXPECT_THROW(validate_name("/leading"), InvalidNameException);
    EXPECT_THROW(validate_name(std::string("a\0b", 3)), InvalidNameException);
    EXPECT_THROW(validate_name(".."), InvalidNameException);
    try {
        validate_name(std::string(246, 'x'));
        FAIL() << "a 246-character name was accepted";
    } catch (const InvalidNameException& e) {
        EXPECT_NE(std::string(e.what()).find("246"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("245"), std::string::npos) << e.what();
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_name));
    }
}

TEST(Names, ObjectNamesFollowTheWireContract) {
    EXPECT_EQ(sem_write_name("cam"), "sem-w-cam");
    EXPECT_EQ(sem_read_name("cam"), "sem-r-cam");
    EXPECT_EQ(lock_path("cam"), "/tmp/zerobuffer/cam.lock");
}

TEST(Names, ConfigValidationNamesTheBufferAndTheNumbers) {
    BufferConfig zero;
    zero.payload_size = 0;
    try {
        validate_config("cam", zero);
        FAIL() << "payload 0 accepted";
    } catch (const InvalidArgumentException& e) {
        EXPECT_NE(std::string(e.what()).find("cam"), std::string::npos) << e.what();
    }
    BufferConfig absurd;
    absurd.payload_size = std::size_t{1} << 50;
    EXPECT_THROW(validate_config("cam", absurd), InvalidArgumentException);
    BufferConfig no_metadata;
    no_metadata.metadata_size = 0;
    no_metadata.payload_size = 1;
    const auto layout = validate_config("cam", no_metadata);
    EXPECT_EQ(layout.metadata_size, 0u);
    EXPECT_EQ(layout.payload_size, 64u);
    ReaderOptions bad_wait;
    bad_wait.wait.liveness_interval = std::chrono::milliseconds(0);
    EXPECT_THROW(validate_reader_options("cam", bad_wait), InvalidArgumentException);
    BufferConfig bad_mode;
    bad_mode.permissions = 04755;
    EXPECT_THROW(validate_config("cam", bad_mode), InvalidArgumentException);
}

TEST(Names, NamesThatCollideWithSemaphoreFilesAreRejected) {
    // /dev/shm/sem.sem-w-X is the semaphore of buffer X: a buffer named "sem.sem-w-X" would
    // reclaim (delete) it as its own stale segment.
    try {
        validate_name("sem.sem-w-camera");
        FAIL() << "a sem.-prefixed name was accepted";
    } catch (const InvalidNameException& e) {
        EXPECT_NE(std::string(e.what()).find("sem."), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(validate_name("semaphore-camera"));
    EXPECT_NO_THROW(validate_name("camera.sem"));
}

TEST(Names, ObjectPaths) {
    EXPECT_EQ(segment_path("cam"), "/dev/shm/cam");
    EXPECT_EQ(semaphore_path(sem_write_name("cam")), "/dev/shm/sem.sem-w-cam");
    EXPECT_EQ(lock_path("cam"), "/tmp/zerobuffer/cam.lock");
    EXPECT_EQ(csharp_lock_path("cam", ""), "/tmp/zerobuffer/locks/cam.lock");
    EXPECT_EQ(csharp_lock_path("cam", "/var/tmp//"), "/var/tmp/zerobuffer/locks/cam.lock");
}

}  // namespace
}  // namespace zerobuffer::detail
