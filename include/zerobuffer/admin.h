// Operations on the buffers of this host, whichever language created them: list them, inspect
// one, and clean up what crashed processes left behind. The `zerobuffer` command is built on
// this API (docs/operations.md, "Listing, watching and cleaning up").
//
// Every verdict comes from the same ownership rules the library uses when a Reader claims a name
// (src/ownership): what is live for a Reader is live here, and cleanup removes only what a new
// Reader would reclaim itself (plus, when forced, a half-created or foreign segment named
// explicitly). Segments are never mapped: their header and metadata are read with pread, and
// every offset is checked against the file's size first.
//
// Threads: every function may be called from any thread, concurrently; none keeps state.
// Blocking: none waits for a peer; each costs a few file-system and /proc reads per object
// (list_buffers and cleanup_stale: per object on the host). remove_if_stale and cleanup_stale may
// wait up to CleanupOptions::lock_grace for the lock of a reader killed a moment ago.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerobuffer/health.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::admin {

// What the objects under one name amount to.
enum class BufferState {
    absent,        // nothing exists under the name
    live,          // a v1 buffer whose reader is alive, or may be (a held lock file or C# lock)
    writer_gone,   // live, and the writer that had attached is dead
    stale,         // a v1 buffer whose reader is dead or gone: cleanup removes it
    half_created,  // a segment whose header was never completed, its creator gone (cleanup --force)
    foreign,       // /dev/shm/NAME is not a ZeroBuffer v1 buffer (cleanup --force)
    orphaned,      // no segment: semaphores and/or an unheld lock file, or a temporary segment of
                   // a dead creator: cleanup removes them
    creating,      // a creator is at work (its lock is held, the header is not complete yet)
    inaccessible,  // this user cannot read the segment; see BufferInfo::error
};
// "absent", "live", "writer-gone", "stale", "half-created", "foreign", "orphaned", "creating",
// "inaccessible".
[[nodiscard]] ZEROBUFFER_API const char* to_string(BufferState state) noexcept;

enum class LockState { absent, free, held, unreadable };
[[nodiscard]] ZEROBUFFER_API const char* to_string(LockState state) noexcept;  // "absent", "free", "held", "unreadable"

enum class ObjectKind {
    segment,            // /dev/shm/NAME
    write_semaphore,    // /dev/shm/sem.sem-w-NAME
    read_semaphore,     // /dev/shm/sem.sem-r-NAME
    lock_file,          // /tmp/zerobuffer/NAME.lock (zerobuffer C++ and Python readers)
    csharp_lock_file,   // ${TMPDIR:-/tmp}/zerobuffer/locks/NAME.lock (C# readers)
    temporary_segment,  // /dev/shm/.zb-tmp-<pid>-<n>, a segment never published
};
// "segment", "write-semaphore", "read-semaphore", "lock-file", "csharp-lock-file", "temporary-segment".
[[nodiscard]] ZEROBUFFER_API const char* to_string(ObjectKind kind) noexcept;

// One file that exists for a name.
struct ObjectInfo {
    ObjectKind kind = ObjectKind::segment;
    std::string path;
    std::uint64_t size = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string owner;   // user name (or "uid N")
    std::string group;   // group name (or "gid N")
    unsigned mode = 0;   // permission bits (07777)
    bool regular = true; // a regular file (anything else in its place is not ours)
};

// A writer or reader named in the OIEB (or the creator of a temporary segment).
struct PeerInfo {
    std::uint64_t pid = 0;                  // 0: none attached
    PeerStatus status = PeerStatus::absent;
    bool zerobuffer = false;   // holds a zerobuffer liveness lock (a zerobuffer C++ process)
    bool pid_recycled = false; // the PID now names a process younger than the segment: judged dead
    std::string process;       // command name of the process with that PID, if visible
};

struct LockInfo {
    std::string path;
    LockState state = LockState::absent;
    std::optional<std::uint64_t> holder_pid;  // from /proc/locks, when held and listed there
    std::string holder_process;
};

// The metadata block: [u64 length L][L bytes], written once by the writer.
struct MetadataInfo {
    std::uint64_t block_size = 0;      // M
    std::uint64_t written_bytes = 0;   // metadata_written_bytes: 8 + L once written, else 0
    std::uint64_t length = 0;          // L
    std::vector<std::uint8_t> preview; // the first min(L, 64) bytes
    std::string preview_hex;           // "68 65 6c 6c 6f"
    std::string preview_text;          // printable ASCII, '.' for other bytes
    std::string problem;               // why the block could not be read or is inconsistent
};

// Health of the ring, from the OIEB as it is now.
struct HealthFigures {
    std::uint64_t payload_size = 0;    // S
    std::uint64_t free_bytes = 0;      // payload_free_bytes (at most S)
    std::uint64_t used_bytes = 0;      // S - free: unread or unreleased frames and wrap waste
    double utilisation = 0.0;          // the fill level: used / S, in [0, 1]
    std::uint64_t write_pos = 0;
    std::uint64_t read_pos = 0;        // as last published by the reader
    std::uint64_t written_count = 0;   // frames written (payload_written_count, wrap markers included)
    std::uint64_t read_count = 0;      // frames read (payload_read_count, published in batches)
    std::uint64_t unread_count = 0;    // written - read (0 if the counters disagree)
};

struct BufferInfo {
    std::string name;
    std::string topic;                 // "T" for a buffer named "T@ID" (topic_of), else empty
    BufferState state = BufferState::absent;
    std::string reason;                // one line: why this state (peers, locks, header problem)
    bool reclaimable = false;          // cleanup removes it without --force
    bool temporary = false;            // a temporary segment (/dev/shm/.zb-tmp-<pid>-<n>)

    bool has_segment = false;          // /dev/shm/NAME exists
    std::uint64_t segment_size = 0;
    std::optional<protocol::Oieb> oieb;   // its first 128 bytes, if it has that many
    bool oieb_valid = false;           // a v1 header with consistent sizes
    std::string oieb_problem;          // why not, or which runtime field is out of range
    std::string header_hex;            // the first (up to 32) bytes, for a segment that is not v1
    std::string header_text;           // the same bytes as printable ASCII

    std::optional<MetadataInfo> metadata;   // for a v1 segment
    std::optional<HealthFigures> health;    // for a v1 segment
    PeerInfo writer;
    PeerInfo reader;                   // for a temporary segment: its creator
    LockInfo lock_file;                // /tmp/zerobuffer/NAME.lock
    LockInfo csharp_lock;              // ${TMPDIR:-/tmp}/zerobuffer/locks/NAME.lock
    std::vector<ObjectInfo> objects;   // every file that exists for the name
    std::string error;                 // what could not be read (EACCES and the like); empty if none
};

// The topic of a buffer named "T@ID" (non-empty T and ID, split at the first '@'); empty for
// any other name. Never throws.
[[nodiscard]] ZEROBUFFER_API std::string topic_of(std::string_view name);

// Throws InvalidNameException (with the reason) unless `name` is a valid buffer name, by the
// rules the Reader applies. Never blocks.
ZEROBUFFER_API void validate_buffer_name(std::string_view name);

// Every ZeroBuffer v1 buffer on this host, recognised by its header (a v1 OIEB with consistent
// sizes) whatever its name and whichever language created it; and the leftovers: names with
// semaphores or a lock file but no segment, segments that are not v1 (half-created, foreign)
// but carry zerobuffer semaphores or lock files, and temporary segments of dead creators.
// Other files in /dev/shm are not listed. Sorted by topic, then name. Throws SystemError if
// /dev/shm or the lock directories cannot be listed; a buffer that cannot be read is listed
// with state inaccessible and its `error`.
[[nodiscard]] ZEROBUFFER_API std::vector<BufferInfo> list_buffers();

// Everything known about NAME (a buffer name or a temporary segment's file name), whatever it
// is: for a file that is not a v1 buffer, state foreign and what its header holds. Throws
// InvalidNameException, BufferNotFoundException (nothing exists under the name), SystemError
// (the lock directory cannot be read).
[[nodiscard]] ZEROBUFFER_API BufferInfo inspect(const std::string& name);

// A buffer's header read again and again at little cost, for monitoring loops (zerobuffer
// watch): the segment is opened read-only once, and each read() is one pread of 128 bytes; it is
// never mapped. Threads: one thread at a time per object. Move-only.
class ZEROBUFFER_API HeaderReader {
public:
    // Opens /dev/shm/NAME. Throws InvalidNameException, BufferNotFoundException (no segment),
    // SystemError (it cannot be opened, for example another user's).
    explicit HeaderReader(const std::string& name);
    ~HeaderReader();
    HeaderReader(HeaderReader&& other) noexcept;
    HeaderReader& operator=(HeaderReader&& other) noexcept;
    HeaderReader(const HeaderReader&) = delete;
    HeaderReader& operator=(const HeaderReader&) = delete;

    // The header now; nullopt if it is not (any more) a v1 header with consistent sizes. Never
    // blocks beyond the pread; never throws.
    [[nodiscard]] std::optional<protocol::Oieb> read() const noexcept;
    // Whether /dev/shm/NAME still names the file opened (false once the buffer was removed or
    // re-created: open a new HeaderReader then). One lstat; never throws.
    [[nodiscard]] bool current() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
    int fd_ = -1;
    std::uint64_t dev_ = 0;
    std::uint64_t ino_ = 0;
};

struct CleanupOptions {
    bool dry_run = false;   // decide and report; remove nothing
    // remove_if_stale only: also remove a half-created or foreign segment (with the semaphores
    // and lock file of its name). Never affects a live or creating buffer.
    bool force = false;
    // cleanup_stale only: consider only names matching this fnmatch(3) pattern; empty: all.
    std::string match;
    // How long to wait for the lock of a reader killed a moment ago to be released.
    std::chrono::milliseconds lock_grace{250};
};

enum class CleanupOutcome {
    nothing_to_do,  // nothing existed under the name (or nothing was left by the time)
    removed,        // objects removed (with dry_run: they would be)
    kept,           // cleanup_stale: not stale (live, creating, or needs --force): left alone
    refused,        // a name asked for explicitly that may not be removed: `reason` says why
    failed,         // an OS error or an object this user cannot remove: `reason` says which
};
[[nodiscard]] ZEROBUFFER_API const char* to_string(CleanupOutcome outcome) noexcept;  // "nothing-to-do", "removed", ...

struct CleanupEntry {
    std::string name;
    std::string topic;
    BufferState state = BufferState::absent;   // as found before removing anything
    CleanupOutcome outcome = CleanupOutcome::nothing_to_do;
    std::vector<std::string> removed;          // paths removed (or that would be)
    std::string reason;                        // for kept, refused and failed
};

struct CleanupReport {
    bool dry_run = false;
    std::vector<CleanupEntry> entries;
    // Nothing was refused and nothing failed: everything asked for was done.
    [[nodiscard]] bool ok() const noexcept;
    [[nodiscard]] std::size_t removed_objects() const noexcept;
};

// Removes NAME's objects (segment, both semaphores, lock file; or a temporary segment) if they
// belong to nobody: a stale buffer, orphaned semaphores or lock file, a temporary segment of a
// dead creator; with `force` also a half-created or foreign segment. A live buffer is never
// touched: a reader that is alive (a recycled PID is dead only when its process is provably
// younger than the segment), holds its liveness lock, holds the lock file, or a held C# lock all
// count as live, and so does a reader being created. The lock file is taken while deciding, so
// no reader can be created under the removal. One entry in the report. Throws
// InvalidNameException; everything else is reported (refused, failed).
[[nodiscard]] ZEROBUFFER_API CleanupReport remove_if_stale(const std::string& name, const CleanupOptions& options = {});

// remove_if_stale for every name list_buffers reports as reclaimable (stale or orphaned, or a
// temporary segment of a dead creator). Every other listed name gets a `kept` entry; `force`
// is ignored (forcing needs a name). Throws what list_buffers throws.
[[nodiscard]] ZEROBUFFER_API CleanupReport cleanup_stale(const CleanupOptions& options = {});

}  // namespace zerobuffer::admin
