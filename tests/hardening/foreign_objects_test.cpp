// Objects under a buffer's names that are not ours: another program's file at /dev/shm/NAME,
// a name that aliases another buffer's semaphore, and names squatted by another user. The
// previous design judged a segment by the 8 bytes at 0x58 alone, so it deleted a 1 MiB foreign
// file whose bytes there happened to name a dead PID, and Reader("sem.sem-w-X") removed
// buffer X's semaphore. Now nothing that is not provably a dead ZeroBuffer buffer is removed,
// and the victim is told what blocks the name and whose it is.
#include <gtest/gtest.h>

#include <cstring>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostile_env.h"
#include "test_support.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer::hardening {
namespace {

using namespace std::chrono_literals;

BufferConfig small() {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = 4096;
    return c;
}

std::string shm(const std::string& name) { return "/dev/shm/" + name; }

// Another program's data, with a PID of a process that is gone at 0x58 (what the previous design
// read as "reader_pid of a dead reader"), and the rest random.
std::string foreign_content(std::size_t size, std::uint32_t seed) {
    std::string data = random_bytes(size, seed);
    if (size >= 0x60) {
        const std::uint64_t dead_pid = 4'000'000;  // above pid_max: never a live process
        std::memcpy(data.data() + 0x58, &dead_pid, sizeof dead_pid);
    }
    return data;
}

class ForeignFile : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ForeignFile, IsNeverDeletedOrChangedByAReaderOrAWriter) {
    test::NameScope names;
    const auto name = names.make("foreign_" + std::to_string(GetParam()));
    write_file(shm(name), foreign_content(GetParam(), 11), 0644);
    const FileSnapshot before = snapshot_file(shm(name));

    const std::string reader_error = test::expect_throw<NameBlockedException>([&] { Reader reader(name, small()); });
    EXPECT_NE(reader_error.find(shm(name)), std::string::npos) << "the message must name the file: " << reader_error;
    EXPECT_NE(reader_error.find("not a ZeroBuffer v1 buffer"), std::string::npos) << reader_error;
    EXPECT_NE(reader_error.find("owner root"), std::string::npos) << "the message must name the owner: " << reader_error;
    EXPECT_NE(reader_error.find("mode 0644"), std::string::npos) << reader_error;

    const std::string writer_error = test::expect_throw<CorruptBufferException>([&] { Writer writer(name); });
    EXPECT_NE(writer_error.find(name), std::string::npos) << writer_error;

    const FileSnapshot after = snapshot_file(shm(name));
    ASSERT_TRUE(after.exists) << "the foreign file was deleted";
    EXPECT_EQ(after, before) << "the foreign file changed";
    EXPECT_FALSE(path_exists("/dev/shm/sem.sem-w-" + name)) << "a refused reader leaves no semaphore";
    EXPECT_FALSE(path_exists("/tmp/zerobuffer/" + name + ".lock")) << "a refused reader leaves no lock file";
}

INSTANTIATE_TEST_SUITE_P(Sizes, ForeignFile, ::testing::Values(std::size_t{1} << 20, std::size_t{100}),
                         [](const auto& p) { return p.param == 100 ? "HundredBytes" : "OneMiB"; });

TEST(ForeignNames, ReaderNamedLikeAnotherBuffersSemaphoreIsRefusedAndTheSemaphoreStays) {
    test::NameScope names;
    const auto victim = names.make("sem_victim");
    Reader reader(victim, small());
    const std::string sem_w = "/dev/shm/sem.sem-w-" + victim;
    const std::string sem_r = "/dev/shm/sem.sem-r-" + victim;
    const FileSnapshot before = snapshot_file(sem_w);
    ASSERT_TRUE(before.exists);

    for (const std::string& alias : {"sem.sem-w-" + victim, "sem.sem-r-" + victim}) {
        const std::string message = test::expect_throw<InvalidNameException>([&] { Reader attacker(alias, small()); });
        EXPECT_NE(message.find("sem."), std::string::npos) << message;
        EXPECT_THROW(Writer{alias}, InvalidNameException);
    }
    EXPECT_TRUE(path_exists(sem_w)) << "buffer X's sem-w was removed";
    EXPECT_TRUE(path_exists(sem_r)) << "buffer X's sem-r was removed";
    EXPECT_EQ(snapshot_file(sem_w).uid, before.uid);

    // The buffer still works end to end: its semaphores are the ones it created.
    Writer writer(victim);
    writer.write_frame(test::pattern(32, 5));
    Frame frame = reader.read_frame(1s);
    ASSERT_TRUE(frame);
    EXPECT_TRUE(test::matches_pattern(frame.data().data(), frame.size(), 5));
}

// ---- squatted names: the victim is an ordinary user, the squatter root ----------------------

// Runs a Reader(name) as `user` in a child; returns "<exception>: <what>" or "no exception".
Outcome reader_as(const TempUser& user, const std::string& name) {
    return run_child([&](const Say& say) {
        become_user(user.name(), user.uid(), user.gid());
        say(outcome_of([&] { Reader reader(name, small()); }));
        return 0;
    });
}

struct Squat : ::testing::Test {
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to squat a name as another user";
        victim_user = std::make_unique<TempUser>("sq");
        ASSERT_TRUE(victim_user->ok()) << victim_user->error();
        ::mkdir("/tmp/zerobuffer", 01777);
    }
    test::NameScope names;
    std::unique_ptr<TempUser> victim_user;
};

TEST_F(Squat, DirectoryAtTheLockFileName) {
    const auto name = names.make("squat_lockdir");
    const std::string lock = "/tmp/zerobuffer/" + name + ".lock";
    ASSERT_EQ(::mkdir(lock.c_str(), 0755), 0);
    const Outcome out = reader_as(*victim_user, name);
    ::rmdir(lock.c_str());
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(lock), std::string::npos) << "the blocking object must be named: " << out.text;
    EXPECT_NE(out.text.find("owner root"), std::string::npos) << "its owner must be named: " << out.text;
    EXPECT_FALSE(path_exists(shm(name)));
}

TEST_F(Squat, SemaphoreOfAnotherUserPreCreated) {
    const auto name = names.make("squat_sem");
    sem_t* sem = ::sem_open(("/sem-w-" + name).c_str(), O_CREAT | O_EXCL, 0600, 0);
    ASSERT_NE(sem, SEM_FAILED);
    ::sem_close(sem);
    const std::string path = "/dev/shm/sem.sem-w-" + name;
    const FileSnapshot before = snapshot_file(path);

    const Outcome out = reader_as(*victim_user, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(path), std::string::npos) << "the blocking object must be named: " << out.text;
    EXPECT_NE(out.text.find("owner root"), std::string::npos) << "its owner must be named: " << out.text;
    EXPECT_EQ(snapshot_file(path), before) << "the squatter's semaphore must be left as it was";
    EXPECT_FALSE(path_exists(shm(name))) << "the victim's half-made buffer must be gone";
    EXPECT_FALSE(path_exists("/dev/shm/sem.sem-r-" + name));
    EXPECT_FALSE(path_exists("/tmp/zerobuffer/" + name + ".lock"));
}

// A well-formed v1 header whose reader_pid names a live process that started before the
// segment was made (this test process): as far as anyone can tell, a live reader owns it.
void plant_fake_segment(const std::string& name, unsigned mode) {
    constexpr std::uint64_t M = 0;
    constexpr std::uint64_t S = 4096;
    std::string bytes(protocol::kOiebSize + M + S, '\0');
    protocol::Oieb oieb{};
    oieb.oieb_size = protocol::kOiebSize;
    oieb.version = {1, 0, 0, 0};
    oieb.metadata_size = M;
    oieb.payload_size = S;
    oieb.payload_free_bytes = S;
    oieb.reader_pid = static_cast<std::uint64_t>(::getpid());
    std::memcpy(bytes.data(), &oieb, sizeof oieb);
    write_file(shm(name), bytes, mode);
}

TEST_F(Squat, FakeSegmentWithALivePidReadable) {
    const auto name = names.make("squat_fake");
    plant_fake_segment(name, 0644);
    const FileSnapshot before = snapshot_file(shm(name));
    const Outcome out = reader_as(*victim_user, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("ReaderAlreadyConnectedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(shm(name)), std::string::npos) << "the blocking object must be named: " << out.text;
    EXPECT_NE(out.text.find("owner root"), std::string::npos) << "its owner must be named: " << out.text;
    EXPECT_NE(out.text.find("pid " + std::to_string(::getpid())), std::string::npos) << out.text;
    EXPECT_EQ(snapshot_file(shm(name)), before);
}

TEST_F(Squat, FakeSegmentWithALivePidUnreadable) {
    const auto name = names.make("squat_fake600");
    plant_fake_segment(name, 0600);
    const FileSnapshot before = snapshot_file(shm(name));
    const Outcome out = reader_as(*victim_user, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(shm(name)), std::string::npos) << "the blocking object must be named: " << out.text;
    EXPECT_NE(out.text.find("owner root"), std::string::npos) << "its owner must be named: " << out.text;
    EXPECT_EQ(snapshot_file(shm(name)), before);
}

// The same fake as root: still not removed, the live PID is named.
TEST(ForeignNames, FakeSegmentWithALivePidIsLeftAloneForRootToo) {
    test::NameScope names;
    const auto name = names.make("fake_root");
    plant_fake_segment(name, 0600);
    const FileSnapshot before = snapshot_file(shm(name));
    const std::string message =
        test::expect_throw<ReaderAlreadyConnectedException>([&] { Reader reader(name, small()); });
    EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
    EXPECT_EQ(snapshot_file(shm(name)), before);
}

}  // namespace
}  // namespace zerobuffer::hardening
