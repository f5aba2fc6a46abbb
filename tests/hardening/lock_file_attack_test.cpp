// The lock file and its directory are in /tmp, where every user may create files. An attacker
// who plants NAME.lock as a symlink or a hard link to a victim file must not get that file
// modified (the previous design followed symlinks and ran fchmod, an xattr write and pwrite on
// whatever it opened); a lock directory that others could tamper with is refused.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

#include "hostile_env.h"
#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer::hardening {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLockDir = "/tmp/zerobuffer";

std::string lock_of(const std::string& name) { return std::string(kLockDir) + "/" + name + ".lock"; }

BufferConfig small() {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = 4096;
    return c;
}

// A victim file in /tmp owned by `uid`, mode 0600, with content: what an attacker wants changed.
struct Victim {
    explicit Victim(uid_t uid, gid_t gid) : path("/tmp/zbh-victim-" + test::unique_name("v")) {
        write_file(path, "secret payroll data\n" + random_bytes(300, 7), 0600);
        if (::chown(path.c_str(), uid, gid) != 0) ADD_FAILURE() << "chown of the victim failed";
        before = snapshot_file(path);
    }
    ~Victim() { ::unlink(path.c_str()); }
    std::string path;
    FileSnapshot before;
};

void ensure_lock_dir() {
    ::mkdir(kLockDir, 01777);
    ::chmod(kLockDir, 01777);
}

// Reader(name) must fail with NameBlockedException naming the lock file; returns its message.
std::string expect_blocked_by_lock(const std::string& name) {
    const std::string message = test::expect_throw<NameBlockedException>([&] { Reader reader(name, small()); });
    EXPECT_NE(message.find(lock_of(name)), std::string::npos) << "the message must name the lock file: " << message;
    return message;
}

TEST(LockFileAttack, SymlinkToAnotherUsersFileIsRefusedAndTheFileIsUntouched) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a victim file of another user";
    TempUser other("sym");
    ASSERT_TRUE(other.ok()) << other.error();
    test::NameScope names;
    const auto name = names.make("symlink_lock");
    ensure_lock_dir();
    Victim victim(other.uid(), other.gid());
    ASSERT_EQ(::symlink(victim.path.c_str(), lock_of(name).c_str()), 0);

    const std::string message = expect_blocked_by_lock(name);
    EXPECT_NE(message.find("symbolic link"), std::string::npos) << message;

    const FileSnapshot after = snapshot_file(victim.path);
    EXPECT_EQ(after, victim.before) << "victim changed:\n before " << describe(victim.before) << "\n after  "
                                    << describe(after);
    EXPECT_TRUE(path_exists(lock_of(name))) << "the planted symlink is not ours to remove";
    EXPECT_FALSE(path_exists("/dev/shm/" + name)) << "nothing may be created when the lock is refused";
    ::unlink(lock_of(name).c_str());
}

TEST(LockFileAttack, HardLinkToAnotherUsersFileIsRefusedAndTheFileIsUntouched) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a victim file of another user";
    TempUser other("hard");
    ASSERT_TRUE(other.ok()) << other.error();
    test::NameScope names;
    const auto name = names.make("hardlink_lock");
    ensure_lock_dir();
    Victim victim(other.uid(), other.gid());
    ASSERT_EQ(::link(victim.path.c_str(), lock_of(name).c_str()), 0) << std::strerror(errno);
    const FileSnapshot before = snapshot_file(victim.path);  // now with 2 links

    const std::string message = expect_blocked_by_lock(name);
    EXPECT_NE(message.find("another user"), std::string::npos) << message;
    EXPECT_NE(message.find(other.name()), std::string::npos) << "the message must name the owner: " << message;

    const FileSnapshot after = snapshot_file(victim.path);
    EXPECT_EQ(after, before) << "victim changed:\n before " << describe(before) << "\n after  " << describe(after);
    EXPECT_EQ(after.mode, 0600u);
    EXPECT_FALSE(path_exists("/dev/shm/" + name));
    ::unlink(lock_of(name).c_str());
}

// A hard link to a file of our own (a file we own that someone linked into the lock directory)
// is refused too: the lock file must have exactly one link.
TEST(LockFileAttack, HardLinkToOurOwnFileIsRefusedAndTheFileIsUntouched) {
    test::NameScope names;
    const auto name = names.make("own_hardlink");
    ensure_lock_dir();
    Victim victim(::geteuid(), ::getegid());
    ASSERT_EQ(::link(victim.path.c_str(), lock_of(name).c_str()), 0) << std::strerror(errno);
    const FileSnapshot before = snapshot_file(victim.path);

    const std::string message = expect_blocked_by_lock(name);
    EXPECT_NE(message.find("hard link"), std::string::npos) << message;
    const FileSnapshot after = snapshot_file(victim.path);
    EXPECT_EQ(after, before) << "victim changed:\n before " << describe(before) << "\n after  " << describe(after);
    ::unlink(lock_of(name).c_str());
}

// The reclaim path (a Reader finding a stale buffer) takes the lock file too: same refusal.
TEST(LockFileAttack, SymlinkPlantedNextToAStaleBufferIsRefusedToo) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a victim file of another user";
    TempUser other("stale");
    ASSERT_TRUE(other.ok()) << other.error();
    test::NameScope names;
    const auto name = names.make("symlink_stale");
    {
        Outcome killed = run_child([&](const Say&) {
            Reader reader(name, small());
            ::raise(SIGKILL);
            return 0;
        });
        ASSERT_EQ(killed.code, 128 + SIGKILL) << killed.text;
    }
    ASSERT_TRUE(path_exists("/dev/shm/" + name)) << "the killed reader leaves its buffer";
    ::unlink(lock_of(name).c_str());
    Victim victim(other.uid(), other.gid());
    ASSERT_EQ(::symlink(victim.path.c_str(), lock_of(name).c_str()), 0);

    expect_blocked_by_lock(name);
    EXPECT_EQ(snapshot_file(victim.path), victim.before);
    ::unlink(lock_of(name).c_str());
}

// ---- the lock directory, in a private mount namespace with its own /tmp --------------------

// Runs `prepare` (as root, in a private mount namespace with a fresh tmpfs on /tmp), then a
// Reader; returns the child's report: "<exception>: <what>" or "no exception".
Outcome reader_with_lock_dir(const std::string& name, const std::function<std::string()>& prepare) {
    return run_child([&](const Say& say) {
        if (auto why = enter_private_mount_namespace(); !why.empty()) {
            say(why);
            return Outcome::kSkipCode;
        }
        if (auto why = mount_tmpfs("/tmp", 16 << 20); !why.empty()) {
            say(why);
            return Outcome::kSkipCode;
        }
        if (auto why = prepare(); !why.empty()) {
            say("prepare: " + why);
            return 2;
        }
        say(outcome_of([&] { Reader reader(name, small()); }));
        say(std::string("segment left: ") + (path_exists("/dev/shm/" + name) ? "yes" : "no"));
        say(std::string("lock left: ") + (path_exists(lock_of(name)) ? "yes" : "no"));
        return 0;
    });
}

#define SKIP_IF_REFUSED(outcome) \
    if ((outcome).skipped()) GTEST_SKIP() << "the kernel refused the namespace: " << (outcome).text

TEST(LockDirectory, OwnedByAnotherUserIsRefusedWithAClearError) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
    TempUser other("dir");
    ASSERT_TRUE(other.ok()) << other.error();
    test::NameScope names;
    const auto name = names.make("lockdir_owner");
    const Outcome out = reader_with_lock_dir(name, [&]() -> std::string {
        if (::mkdir(kLockDir, 01777) != 0 || ::chmod(kLockDir, 01777) != 0) return "mkdir failed";
        if (::chown(kLockDir, other.uid(), other.gid()) != 0) return "chown failed";
        return {};
    });
    SKIP_IF_REFUSED(out);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("/tmp/zerobuffer is owned by another user"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(other.name()), std::string::npos) << "the owner must be named: " << out.text;
    EXPECT_NE(out.text.find("segment left: no"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("lock left: no"), std::string::npos) << out.text;
}

TEST(LockDirectory, WorldWritableWithoutStickyBitIsRefusedWithAClearError) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
    test::NameScope names;
    const auto name = names.make("lockdir_nosticky");
    const Outcome out = reader_with_lock_dir(name, []() -> std::string {
        if (::mkdir(kLockDir, 0777) != 0 || ::chmod(kLockDir, 0777) != 0) return "mkdir failed";
        return {};
    });
    SKIP_IF_REFUSED(out);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("not sticky"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("mode 0777"), std::string::npos) << "the mode must be named: " << out.text;
    EXPECT_NE(out.text.find("segment left: no"), std::string::npos) << out.text;
}

TEST(LockDirectory, SymlinkedDirectoryIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
    test::NameScope names;
    const auto name = names.make("lockdir_symlink");
    const Outcome out = reader_with_lock_dir(name, []() -> std::string {
        if (::mkdir("/tmp/elsewhere", 01777) != 0) return "mkdir failed";
        if (::symlink("/tmp/elsewhere", kLockDir) != 0) return "symlink failed";
        return {};
    });
    SKIP_IF_REFUSED(out);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("NameBlockedException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("symbolic link"), std::string::npos) << out.text;
}

// Control: in the same setting, a proper root-owned sticky directory works, so the refusals
// above come from the directory and not from the namespace.
TEST(LockDirectory, RootOwnedStickyDirectoryWorks) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
    test::NameScope names;
    const auto name = names.make("lockdir_ok");
    const Outcome out = reader_with_lock_dir(name, []() -> std::string {
        if (::mkdir(kLockDir, 01777) != 0 || ::chmod(kLockDir, 01777) != 0) return "mkdir failed";
        return {};
    });
    SKIP_IF_REFUSED(out);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("no exception"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("segment left: no"), std::string::npos) << out.text;
}

}  // namespace
}  // namespace zerobuffer::hardening
