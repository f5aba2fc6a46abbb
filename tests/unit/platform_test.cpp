// The POSIX platform layer: liveness with PID reuse and other users, the lock file, semaphores.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/process.h"
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

TEST(LockFileTest, SecondHolderIsRefusedAndReleaseRemovesTheFile) {
    const std::string path = "/tmp/zerobuffer/" + test::unique_name("lock") + ".lock";
    {
        auto first = LockFile::try_acquire(path, std::nullopt);
        ASSERT_TRUE(first.has_value());
        EXPECT_TRUE(LockFile::is_held(path));
        EXPECT_FALSE(LockFile::try_acquire(path, std::nullopt).has_value());
        first->write_text("hello\n");
        EXPECT_EQ(LockFile::read_text(path).value_or(""), "hello\n");
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(LockFile::is_held(path));
}

TEST(LockFileTest, LockOfAKilledHolderIsFree) {
    const std::string path = "/tmp/zerobuffer/" + test::unique_name("lockkill") + ".lock";
    test::Latch ready;
    test::Child child([&] {
        auto lock = LockFile::try_acquire(path, std::nullopt);
        if (!lock) return 1;
        ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(ready.wait(5s).has_value());
    EXPECT_FALSE(LockFile::try_acquire(path, std::nullopt).has_value());
    child.kill_hard();
    child.wait(5s);
    auto taken = LockFile::try_acquire(path, std::nullopt);
    EXPECT_TRUE(taken.has_value()) << "the kernel releases a dead holder's flock";
}

TEST(Semaphore, CreateFreshReplacesALeftoverAndTimesOutOnAMonotonicDeadline) {
    const std::string name = "sem-w-" + test::unique_name("sem");
    {
        auto leftover = NamedSemaphore::create_fresh(name, std::nullopt);
        leftover.post();
        leftover.post();
    }
    auto fresh = NamedSemaphore::create_fresh(name, std::nullopt);  // a leaked one must not block us
    EXPECT_EQ(fresh.value(), 0);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(fresh.wait_until(start + 30ms));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
    fresh.post();
    EXPECT_TRUE(fresh.try_wait());
    EXPECT_FALSE(fresh.try_wait());
    EXPECT_TRUE(NamedSemaphore::unlink(name));
}

}  // namespace
}  // namespace zerobuffer::posix
