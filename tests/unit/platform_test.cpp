// The POSIX platform layer: liveness with PID reuse and other users, the lock file, semaphores.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/process.h"
#include "platform/posix/slot_lock.h"
#include "test_support.h"

namespace zerobuffer::posix {
namespace {

using namespace std::chrono_literals;

TEST(Process, SelfIsAliveAndPidZeroIsNot) {
    const auto me = identify_process(::getpid());
    ASSERT_TRUE(me.has_value());
    EXPECT_NE(me->start_time, 0u);
    EXPECT_EQ(probe_process(*me), ProcessState::alive);
    EXPECT_FALSE(pid_alive(0));
}

TEST(Process, RecycledPidWithAnotherStartTimeIsDead) {
    auto me = identify_process(::getpid());
    ASSERT_TRUE(me.has_value());
    me->start_time += 1;  // the same PID, but not the process we identified
    EXPECT_EQ(probe_process(*me), ProcessState::dead);
}

TEST(Process, KilledButUnreapedChildIsDead) {
    test::Child child([] {
        ::pause();
        return 0;
    });
    const auto who = identify_process(child.pid());
    ASSERT_TRUE(who.has_value());
    EXPECT_EQ(probe_process(*who), ProcessState::alive);
    child.kill_hard();
    // A zombie until waited for: kill(pid, 0) still succeeds, but it must read as dead.
    EXPECT_TRUE(test::eventually([&] { return probe_process(*who) == ProcessState::dead; }, 2s));
    EXPECT_EQ(::kill(child.pid(), 0), 0) << "the child should still be an unreaped zombie here";
}

TEST(Process, ProcessOfAnotherUserIsAlive) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch a child to another user";
    const pid_t parent = ::getpid();
    test::Child child([parent] {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
        if (::kill(parent, 0) == 0 || errno != EPERM) return 11;  // really another user now
        return pid_alive(static_cast<std::uint64_t>(parent)) ? 0 : 12;
    });
    EXPECT_EQ(child.wait(10s), 0);
}

const Ownership kOwnerOnly{0600, std::nullopt};

TEST(LockFileTest, SecondHolderIsRefusedAndReleaseRemovesTheFile) {
    const std::string path = "/tmp/zerobuffer/" + test::unique_name("lock") + ".lock";
    {
        auto first = LockFile::try_acquire(path, kOwnerOnly);
        ASSERT_EQ(first.outcome, LockFile::Outcome::acquired);
        EXPECT_EQ(LockFile::probe(path), LockFile::State::held);
        EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
                  std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        EXPECT_EQ(LockFile::try_acquire(path, kOwnerOnly).outcome, LockFile::Outcome::held_elsewhere);
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_EQ(LockFile::probe(path), LockFile::State::absent);
}

TEST(LockFileTest, LockOfAKilledHolderIsFree) {
    const std::string path = "/tmp/zerobuffer/" + test::unique_name("lockkill") + ".lock";
    test::Latch ready;
    test::Child child([&] {
        auto attempt = LockFile::try_acquire(path, kOwnerOnly);
        if (attempt.outcome != LockFile::Outcome::acquired) return 1;
        ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(ready.wait(5s).has_value());
    EXPECT_EQ(LockFile::try_acquire(path, kOwnerOnly).outcome, LockFile::Outcome::held_elsewhere);
    child.kill_hard();
    child.wait(5s);
    auto taken = LockFile::try_acquire(path, kOwnerOnly);
    EXPECT_EQ(taken.outcome, LockFile::Outcome::acquired) << "the kernel releases a dead holder's flock";
    EXPECT_EQ(flock_holder(inspect_path(path).dev, inspect_path(path).ino), static_cast<std::uint64_t>(::getpid()));
}

TEST(Semaphore, CreateRefusesAnExistingOneAndTimesOutOnAMonotonicDeadline) {
    const std::string name = "sem-w-" + test::unique_name("sem");
    auto sem = NamedSemaphore::create(name, kOwnerOnly);
    ASSERT_TRUE(sem.has_value());
    EXPECT_FALSE(NamedSemaphore::create(name, kOwnerOnly).has_value()) << "O_EXCL";
    EXPECT_TRUE(NamedSemaphore::exists(name));
    EXPECT_EQ(std::filesystem::status("/dev/shm/sem." + name).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(sem->value(), 0);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(sem->wait_until(start + 30ms));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
    sem->post();
    EXPECT_TRUE(sem->try_wait());
    EXPECT_FALSE(sem->try_wait());
    EXPECT_TRUE(NamedSemaphore::unlink(name));
    EXPECT_FALSE(NamedSemaphore::exists(name));
}

TEST(SlotLock, AnotherDescriptionSeesTheLockUntilItsHolderDies) {
    const std::string name = test::unique_name("slot");
    const std::string path = "/dev/shm/" + name;
    FileDescriptor mine(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(mine.valid());
    test::Latch ready;
    test::Child child([&] {
        FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!try_lock_byte(fd.get(), 1ll << 62)) return 1;
        ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(ready.wait(5s).has_value());
    EXPECT_TRUE(byte_is_locked(mine.get(), 1ll << 62));
    EXPECT_FALSE(byte_is_locked(mine.get(), (1ll << 62) + 1)) << "another byte is free";
    EXPECT_FALSE(try_lock_byte(mine.get(), 1ll << 62));
    child.kill_hard();
    child.wait(5s);
    EXPECT_FALSE(byte_is_locked(mine.get(), 1ll << 62)) << "the kernel drops a dead holder's lock";
    EXPECT_TRUE(try_lock_byte(mine.get(), 1ll << 62));
    EXPECT_FALSE(byte_is_locked(mine.get(), 1ll << 62)) << "our own lock is not a conflict";
    ::unlink(path.c_str());
}

// sem_open(O_CREAT) writes a semaphore under a temporary /dev/shm/sem.XXXXXX name and links it
// into place, so a process killed in between leaves the temporary file for good. Ours are built
// unnamed and linked into place: kills at random moments leave no such file.
std::set<std::string> glibc_temporary_semaphores() {
    std::set<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        const std::string file = entry.path().filename().string();
        if (file.size() == 10 && file.starts_with("sem.") && file.find('-') == std::string::npos) found.insert(file);
    }
    return found;
}

TEST(Semaphore, CreationKilledAtRandomMomentsLeavesNoTemporaryFile) {
    const auto before = glibc_temporary_semaphores();
    const std::string base = "sem-w-" + test::unique_name("semkill");
    std::mt19937 rng(7);
    int kills = 0;
    for (int round = 0; round < 60; ++round) {
        test::Child child([&] {
            for (std::uint64_t i = 0;; ++i) {
                const std::string name = base + "-" + std::to_string(i % 4);
                NamedSemaphore::unlink(name);
                (void)NamedSemaphore::create(name, kOwnerOnly);
            }
            return 0;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));
        child.kill_hard();
        child.wait(5s);
        ++kills;
    }
    for (int i = 0; i < 4; ++i) NamedSemaphore::unlink(base + "-" + std::to_string(i));
    std::vector<std::string> left;
    for (const auto& f : glibc_temporary_semaphores()) {
        if (!before.count(f)) left.push_back(f);
    }
    for (const auto& f : left) std::filesystem::remove("/dev/shm/" + f);
    EXPECT_TRUE(left.empty()) << left.size() << " temporary semaphore file(s) left after " << kills << " kills, e.g. "
                              << (left.empty() ? "" : left.front());
}

}  // namespace
}  // namespace zerobuffer::posix
