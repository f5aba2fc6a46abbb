#include "ownership/buffer_probe.h"

#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "core/names.h"
#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/process.h"
#include "platform/posix/shared_memory.h"
#include "platform/posix/slot_lock.h"

namespace zerobuffer::detail {
namespace {

LockFileState lock_state(const std::string& path) {
    switch (posix::LockFile::probe(path)) {
        case posix::LockFile::State::absent: return LockFileState::absent;
        case posix::LockFile::State::free: return LockFileState::free;
        case posix::LockFile::State::held: return LockFileState::held;
        case posix::LockFile::State::unreadable: return LockFileState::unreadable;
    }
    return LockFileState::unreadable;
}

void probe_segment(BufferProbe& p, const ProbeOptions& options) {
    auto shm = posix::SharedMemory::open(p.name, false);
    if (!shm) return;
    p.facts.segment = true;
    p.segment = shm->info();
    p.facts.segment_regular = p.segment.regular;
    if (!p.segment.regular) return;
    protocol::Oieb oieb{};
    if (p.segment.size >= protocol::kOiebSize && shm->read_at(&oieb, sizeof oieb, 0) == sizeof oieb) p.oieb = oieb;
    const OiebVerdict verdict = check_oieb(oieb, p.segment.size);
    p.facts.oieb = verdict.status;
    p.oieb_problem = verdict.problem;
    if (!p.oieb) return;

    const auto birth = posix::birth_time(shm->fd());
    // Reader: its liveness lock; else a lock file left unheld means its holder is gone (Python
    // and zerobuffer readers hold it for their lifetime); else its PID.
    p.reader.pid = oieb.reader_pid;
    PeerEvidence r;
    r.pid = oieb.reader_pid;
    r.lock_held = posix::byte_is_locked(shm->fd(), protocol::kReaderLockOffset);
    p.reader.zerobuffer = r.lock_held;
    if (!r.lock_held && r.pid != 0) {
        const bool lock_file_unheld =
            (p.facts.lock_file == LockFileState::free && !options.lock_file_is_ours) || options.lock_file_inherited;
        r.pid_state = lock_file_unheld ? PeerEvidence::Pid::dead : judge_pid_now(r.pid, birth, p.reader);
        if (lock_file_unheld) p.reader.process = posix::process_name(r.pid);
    }
    p.reader.state = judge_peer(r);
    p.facts.reader = p.reader.state;

    p.writer.pid = oieb.writer_pid;
    PeerEvidence w;
    w.pid = oieb.writer_pid;
    w.lock_held = posix::byte_is_locked(shm->fd(), protocol::kWriterLockOffset);
    p.writer.zerobuffer = w.lock_held;
    if (!w.lock_held && w.pid != 0) w.pid_state = judge_pid_now(w.pid, std::nullopt, p.writer);
    if (w.lock_held) p.writer.process = posix::process_name(w.pid);
    p.writer.state = judge_peer(w);
    p.facts.writer = p.writer.state;
    if (r.lock_held) p.reader.process = posix::process_name(r.pid);
}

}  // namespace

PeerEvidence::Pid judge_pid_now(std::uint64_t pid, std::optional<std::int64_t> segment_birth, PeerReport& report) {
    if (pid_unjudgeable(pid)) return PeerEvidence::Pid::unjudgeable;
    if (pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) return PeerEvidence::Pid::dead;
    const auto identity = posix::identify_process(static_cast<pid_t>(pid));
    if (!identity) return PeerEvidence::Pid::dead;
    report.process = posix::process_name(pid);
    if (segment_birth) {
        const auto started = posix::start_time_seconds(*identity);
        if (started && *started > *segment_birth + 1) {
            report.pid_recycled = true;
            return PeerEvidence::Pid::dead;
        }
    }
    return PeerEvidence::Pid::alive;
}

BufferProbe probe_buffer(const std::string& name, const ProbeOptions& options) {
    BufferProbe p;
    p.name = name;
    const std::string lock = lock_path(name);
    p.facts.lock_file = lock_state(lock);
    p.facts.lock_file_is_ours = options.lock_file_is_ours;
    p.lock_file = posix::inspect_path(lock);
    if (p.facts.lock_file == LockFileState::held && p.lock_file.exists) {
        p.lock_holder = posix::flock_holder(p.lock_file.dev, p.lock_file.ino);
    }
    const char* tmpdir = std::getenv("TMPDIR");
    const std::string csharp_lock = csharp_lock_path(name, tmpdir != nullptr ? tmpdir : "");
    p.facts.csharp_lock_held = lock_state(csharp_lock) == LockFileState::held;
    p.csharp_lock_file = posix::inspect_path(csharp_lock);
    if (p.facts.csharp_lock_held && p.csharp_lock_file.exists) {
        p.csharp_lock_holder = posix::flock_holder(p.csharp_lock_file.dev, p.csharp_lock_file.ino);
    }
    p.facts.sem_write = posix::NamedSemaphore::exists(sem_write_name(name));
    p.facts.sem_read = posix::NamedSemaphore::exists(sem_read_name(name));
    probe_segment(p, options);
    p.state = classify(p.facts);
    return p;
}

std::string describe(const BufferProbe& p) {
    auto peer = [](const char* role, const PeerReport& r) {
        if (r.pid == 0) return fmt::format("{} absent", role);
        return fmt::format("{} pid {}{}{} {}{}", role, r.pid, r.process.empty() ? "" : " (" + r.process + ")",
                           r.zerobuffer ? " [zerobuffer]" : "", to_string(r.state),
                           r.pid_recycled ? " (its PID now names a younger process)" : "");
    };
    std::string text = fmt::format("{}, {}", peer("reader", p.reader), peer("writer", p.writer));
    // A lock file the caller holds itself (a reader being created, a cleanup deciding) says nothing.
    if (p.facts.lock_file == LockFileState::held && !p.facts.lock_file_is_ours) {
        text += p.lock_holder ? fmt::format(", lock file held by pid {}", *p.lock_holder) : ", lock file held";
    }
    if (p.facts.csharp_lock_held) text += ", a C# reader's lock is held";
    return text;
}

}  // namespace zerobuffer::detail
