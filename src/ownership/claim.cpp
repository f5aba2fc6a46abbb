#include "ownership/claim.h"

#include <chrono>
#include <cstdlib>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/names.h"
#include "core/oieb_view.h"
#include "core/log.h"
#include "ownership/buffer_probe.h"
#include "ownership/reclaim.h"
#include "platform/posix/slot_lock.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_blocked_lock(const std::string& name, const posix::LockRefusal& r) {
    throw NameBlockedException(fmt::format(
        "buffer '{}': {} {} ({}). It cannot serve as this buffer's lock; if it is a leftover, its owner or root "
        "can remove it (zerobuffer cleanup {})",
        name, r.path, r.reason, posix::describe_owner(r.info), name));
}

// 1. The lock shared with Python readers. A reader killed a moment ago can still hold its flock
// while its threads exit although it already reads as dead: retry for a short while.
// `inherited`: the lock file existed and nobody held it (posix::LockAttempt::inherited).
posix::LockFile take_lock(const std::string& name, const posix::Ownership& owner, bool& inherited) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(250);
    for (;;) {
        auto attempt = posix::LockFile::try_acquire(lock_path(name), owner);
        if (attempt.outcome == posix::LockFile::Outcome::acquired) {
            inherited = attempt.inherited;
            return std::move(*attempt.lock);
        }
        if (attempt.outcome == posix::LockFile::Outcome::refused) throw_blocked_lock(name, *attempt.refusal);
        const BufferProbe probe = probe_buffer(name);
        const bool reader_live = probe.reader.state == PeerState::alive || probe.reader.state == PeerState::unknown;
        if (reader_live || Clock::now() >= deadline) {
            throw ReaderAlreadyConnectedException(fmt::format(
                "buffer '{}': another reader holds the lock {} ({}); the buffer was left intact", name,
                lock_path(name), describe(probe)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

// 2. With the lock ours: leave a live buffer alone, refuse what is not ours to remove, and
// clear what is provably stale.
void clear_the_name(const std::string& name, bool lock_inherited) {
    BufferProbe probe;
    try {
        probe = probe_buffer(name, {.lock_file_is_ours = true, .lock_file_inherited = lock_inherited});
    } catch (const std::system_error& e) {
        // Another user's segment that we may not even read: it cannot be judged, so it blocks.
        if (e.code() != std::errc::permission_denied && e.code() != std::errc::operation_not_permitted) throw;
        throw NameBlockedException(fmt::format(
            "buffer '{}': {} exists and this user may not open it ({}); it cannot be judged and was left alone. "
            "Its owner or root can remove it if it is a leftover (zerobuffer cleanup {})",
            name, segment_path(name), posix::describe_owner(posix::inspect_path(segment_path(name))), name));
    }
    switch (probe.state) {
        case BufferState::absent:
            return;
        case BufferState::live:
        case BufferState::writer_gone:
        case BufferState::creating:
            throw ReaderAlreadyConnectedException(fmt::format(
                "buffer '{}' is owned by a live reader ({}; {}: {}); it was left intact", name, describe(probe),
                segment_path(name), probe.facts.segment ? posix::describe_owner(probe.segment) : "not created yet"));
        case BufferState::half_created:
            throw NameBlockedException(fmt::format(
                "buffer '{}': /dev/shm/{} is a segment whose header was never completed ({}; {} bytes, {}), and "
                "its creator is gone. It is not provably a ZeroBuffer buffer, so it was left alone; remove it "
                "with `zerobuffer cleanup --force {}`",
                name, name, probe.oieb_problem, probe.segment.size, posix::describe_owner(probe.segment), name));
        case BufferState::foreign:
            throw NameBlockedException(fmt::format(
                "buffer '{}': /dev/shm/{} exists and is not a ZeroBuffer v1 buffer ({}; {} bytes, {}). It was left "
                "alone; choose another name, or remove it if it is yours",
                name, name, probe.oieb_problem.empty() ? "not a regular file" : probe.oieb_problem, probe.segment.size,
                posix::describe_owner(probe.segment)));
        case BufferState::stale:
        case BufferState::orphaned:
            break;
    }
    log(LogLevel::info, "reclaiming stale buffer '{}' ({})", name, describe(probe));
    remove_buffer_objects(probe, false);
    // Whatever could not be removed (another user's objects in the sticky /dev/shm, or something
    // that is not a semaphore at all) blocks the name: say what and whose it is.
    for (const std::string& path : {segment_path(name), semaphore_path(sem_write_name(name)), semaphore_path(sem_read_name(name))}) {
        const posix::FileInfo left = posix::inspect_path(path);
        if (!left.exists) continue;
        throw NameBlockedException(fmt::format(
            "buffer '{}': {} is left over from a buffer that is gone, and this user cannot remove it ({}{}); "
            "its owner or root can (zerobuffer cleanup {})",
            name, path, posix::describe_owner(left), left.regular ? "" : ", not a regular file", name));
    }
}

void check_capacity(const std::string& name, const protocol::Layout& layout) {
    if (const auto capacity = posix::filesystem_capacity(std::string(kShmDirectory))) {
        if (layout.total_size() > *capacity) {
            throw InvalidArgumentException(fmt::format(
                "buffer '{}': needs {} bytes of shared memory (OIEB 128 + metadata {} + payload {}) but /dev/shm "
                "holds only {} bytes",
                name, layout.total_size(), layout.metadata_size, layout.payload_size, *capacity));
        }
    }
}

posix::NamedSemaphore make_semaphore(const std::string& name, const posix::Ownership& owner) {
    auto sem = posix::NamedSemaphore::create(name, owner);
    if (!sem) {
        throw ReaderAlreadyConnectedException(fmt::format(
            "semaphore '{}' was created by another process while this reader created its buffer", name));
    }
    return std::move(*sem);
}

}  // namespace

posix::Ownership ownership_for(std::string_view name, const BufferConfig& config) {
    posix::Ownership owner;
    owner.mode = config.permissions.value_or(config.group ? 0660u : 0600u);
    if (config.group) {
        const auto gid = posix::lookup_group(*config.group);
        if (!gid) throw InvalidArgumentException(fmt::format("buffer '{}': there is no group '{}'", name, *config.group));
        if (posix::effective_uid() != 0 && !posix::member_of_group(*gid)) {
            throw InvalidArgumentException(fmt::format(
                "buffer '{}': this user is not a member of group '{}' (gid {}), so it cannot give the buffer to it",
                name, *config.group, *gid));
        }
        owner.group = *gid;
    }
    return owner;
}

ClaimedBuffer claim_buffer(const std::string& name, const BufferConfig& config, const ReaderOptions& options,
                           std::uint64_t pid) {
    const protocol::Layout layout = validate_config(name, config);
    check_capacity(name, layout);
    const posix::Ownership owner = ownership_for(name, config);

    bool lock_inherited = false;
    posix::LockFile lock = take_lock(name, owner, lock_inherited);
    const char* tmpdir = std::getenv("TMPDIR");
    if (posix::LockFile::probe(csharp_lock_path(name, tmpdir ? tmpdir : "")) == posix::LockFile::State::held) {
        throw ReaderAlreadyConnectedException(fmt::format(
            "buffer '{}': a C# reader holds the lock {}", name, csharp_lock_path(name, tmpdir ? tmpdir : "")));
    }
    clear_the_name(name, lock_inherited);

    // 3. The segment, complete before anyone can open it: unnamed until published below.
    posix::SharedMemory segment = posix::SharedMemory::create(layout.total_size(), owner, options.prefault);
    if (!posix::try_lock_byte(segment.fd(), protocol::kReaderLockOffset)) {
        throw SystemError(fmt::format("buffer '{}': cannot take the reader liveness lock of a new segment", name),
                          std::make_error_code(std::errc::resource_unavailable_try_again));
    }
    OiebView oieb(reinterpret_cast<protocol::Oieb*>(segment.data()));
    oieb.initialise(layout.metadata_size, layout.payload_size, pid);
    oieb.publish_oieb_size();

    // 4. Semaphores (those of a stale buffer were removed above), then 5. the name.
    const std::string sem_w = sem_write_name(name);
    const std::string sem_r = sem_read_name(name);
    std::optional<posix::NamedSemaphore> write_sem;
    std::optional<posix::NamedSemaphore> read_sem;
    try {
        write_sem = make_semaphore(sem_w, owner);
        read_sem = make_semaphore(sem_r, owner);
        if (!segment.publish(name)) {
            throw ReaderAlreadyConnectedException(fmt::format(
                "buffer '{}' was created by another process (one that does not use the lock file, such as a C# "
                "reader) while this reader created it; it was left intact",
                name));
        }
    } catch (...) {
        if (write_sem) posix::NamedSemaphore::unlink(sem_w);
        if (read_sem) posix::NamedSemaphore::unlink(sem_r);
        throw;
    }
    return ClaimedBuffer{std::move(lock), std::move(segment), std::move(*write_sem), std::move(*read_sem), layout};
}

}  // namespace zerobuffer::detail
