// Buffers and other users. The previous design created everything with mode 0644, so any user
// could read every frame. Now the default is 0600 (owner only), BufferConfig::group gives a
// group read-write access (0660), and BufferConfig::permissions sets an exact mode.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "hostile_env.h"
#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer::hardening {
namespace {

using namespace std::chrono_literals;

BufferConfig small() {
    BufferConfig c;
    c.metadata_size = 64;
    c.payload_size = 4096;
    return c;
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}
gid_t group_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_gid : static_cast<gid_t>(-1);
}

// As `user` in a child: attach a writer to `name`, write one frame of pattern(100, 9), report
// "<exception>" or "wrote" plus what health() says about the owner and mode.
Outcome writer_as(const TempUser& user, const std::string& name, WriterOptions options = {}) {
    return run_child([&](const Say& say) {
        become_user(user.name(), user.uid(), user.gid());
        try {
            Writer writer(name, options);
            writer.write_frame(test::pattern(100, 9));
            const BufferHealth h = writer.health();
            say("wrote; health owner_uid " + std::to_string(h.owner_uid) + " mode " + std::to_string(h.mode) +
                " reader " + to_string(h.reader.status));
        } catch (...) {
            say(describe_current_exception());
        }
        return 0;
    });
}

struct OtherUser : ::testing::Test {
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a user";
        other = std::make_unique<TempUser>("usr");
        ASSERT_TRUE(other->ok()) << other->error();
    }
    void expect_frame(Reader& reader) {
        Frame f = reader.read_frame(2s);
        ASSERT_TRUE(f) << "the other user's frame did not arrive";
        EXPECT_TRUE(test::matches_pattern(f.data().data(), f.size(), 9));
    }
    test::NameScope names;
    std::unique_ptr<TempUser> other;
};

TEST_F(OtherUser, DefaultIsOwnerOnlyAndTheErrorNamesTheOwner) {
    const auto name = names.make("user_default");
    Reader reader(name, small());
    for (const auto& path : existing_objects(name)) {
        EXPECT_EQ(mode_of(path), 0600u) << path;
    }
    EXPECT_EQ(existing_objects(name).size(), 4u);
    const BufferHealth h = reader.health();
    EXPECT_EQ(h.owner_uid, 0u);
    EXPECT_EQ(h.mode, 0600u);

    const Outcome out = writer_as(*other, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("SystemError"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("not allowed to open"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("owner root (uid 0)"), std::string::npos) << "the owner must be named: " << out.text;
    EXPECT_NE(out.text.find("mode 0600"), std::string::npos) << "the mode must be named: " << out.text;
    EXPECT_FALSE(reader.read_frame(50ms)) << "nothing may have been written";
    EXPECT_EQ(reader.health().writer.pid, 0u) << "a refused writer leaves writer_pid alone";
}

TEST_F(OtherUser, GroupGivesAMemberReadWriteAccess) {
    TempGroup group("grp");
    ASSERT_TRUE(group.ok()) << group.error();
    ASSERT_EQ(group.add_member(other->name()), "");
    const auto name = names.make("user_group");
    BufferConfig config = small();
    config.group = group.name();
    Reader reader(name, config);
    for (const auto& path : existing_objects(name)) {
        EXPECT_EQ(mode_of(path), 0660u) << path;
        EXPECT_EQ(group_of(path), group.gid()) << path;
    }
    const Outcome out = writer_as(*other, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("wrote; health owner_uid 0 mode " + std::to_string(0660)), std::string::npos) << out.text;
    expect_frame(reader);
    EXPECT_EQ(reader.health().mode, 0660u);
}

// Control for the group test: a user outside the group is still refused.
TEST_F(OtherUser, GroupDoesNotAdmitANonMember) {
    TempGroup group("grq");
    ASSERT_TRUE(group.ok()) << group.error();
    const auto name = names.make("user_nonmember");
    BufferConfig config = small();
    config.group = group.name();
    Reader reader(name, config);
    const Outcome out = writer_as(*other, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("not allowed to open"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("mode 0660"), std::string::npos) << out.text;
}

TEST_F(OtherUser, ExplicitPermissions0666AdmitEveryone) {
    const auto name = names.make("user_0666");
    BufferConfig config = small();
    config.permissions = 0666;
    Reader reader(name, config);
    for (const auto& path : existing_objects(name)) EXPECT_EQ(mode_of(path), 0666u) << path;
    const Outcome out = writer_as(*other, name);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("wrote; health owner_uid 0 mode " + std::to_string(0666) + " reader alive"), std::string::npos)
        << out.text;
    expect_frame(reader);
    const BufferHealth h = reader.health();
    EXPECT_EQ(h.owner_uid, 0u);
    EXPECT_EQ(h.mode, 0666u);
}

TEST_F(OtherUser, RequireSameOwnerRefusesAnotherUsersBuffer) {
    const auto name = names.make("user_sameowner");
    BufferConfig config = small();
    config.permissions = 0666;
    Reader reader(name, config);
    WriterOptions strict;
    strict.require_same_owner = true;
    const Outcome out = writer_as(*other, name, strict);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("InvalidArgumentException"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("require_same_owner"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("owner root"), std::string::npos) << out.text;
    EXPECT_EQ(reader.health().writer.pid, 0u);
    // The owner itself passes the same check.
    Writer own(name, strict);
    own.write_frame(test::pattern(100, 9));
    expect_frame(reader);
}

// The other direction: a buffer created by the ordinary user is its own (owner, mode 0600),
// health() says so, and root's writer (which may open anything) attaches.
TEST_F(OtherUser, BufferOfAnOrdinaryUserIsItsOwnAndHealthSaysSo) {
    const auto name = names.make("user_owner");
    test::Latch created;
    test::Latch done;
    Reporter reader_process([&](const Say& say) {
        become_user(other->name(), other->uid(), other->gid());
        Reader reader(name, small());
        const BufferHealth h = reader.health();
        say("owner_uid " + std::to_string(h.owner_uid) + " mode " + std::to_string(h.mode));
        created.signal();
        Frame f = reader.read_frame(5s);
        say(f && test::matches_pattern(f.data().data(), f.size(), 9) ? "frame ok" : "frame missing");
        done.wait(10s);
        return 0;
    });
    ASSERT_TRUE(created.wait(10s));
    for (const auto& path : existing_objects(name)) {
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, other->uid()) << path;
        EXPECT_EQ(st.st_mode & 07777, 0600u) << path;
    }
    {
        Writer writer(name);
        EXPECT_EQ(writer.health().owner_uid, other->uid());
        writer.write_frame(test::pattern(100, 9));
    }
    done.signal();
    const Outcome out = reader_process.finish(10s);
    ASSERT_EQ(out.code, 0) << out.text;
    EXPECT_NE(out.text.find("owner_uid " + std::to_string(other->uid()) + " mode " + std::to_string(0600)),
              std::string::npos)
        << out.text;
    EXPECT_NE(out.text.find("frame ok"), std::string::npos) << out.text;
    EXPECT_TRUE(existing_objects(name).empty()) << "the reader removes its buffer on close";
}

}  // namespace
}  // namespace zerobuffer::hardening
