// Names of a buffer's OS objects, and validation of names, sizes and timeouts. No OS calls.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "zerobuffer/config.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

// Throws InvalidNameException unless `name` is 1..245 characters, without '/' or NUL, not "."
// or "..", and does not start with "sem." (glibc keeps named semaphores as /dev/shm/sem.NAME:
// such a buffer name would collide with the semaphores of other buffers).
void validate_name(std::string_view name, std::string_view what = "buffer name");

// Throws InvalidArgumentException (naming the buffer and the numbers) for a zero or absurd size
// or a mode that is not a file mode. Returns the aligned layout.
protocol::Layout validate_config(std::string_view name, const BufferConfig& config);

// Throws InvalidArgumentException unless 0 < timeout (option values) or 0 <= timeout (per-call
// waits, where 0 means "do not wait").
void validate_timeout(std::string_view name, std::chrono::milliseconds timeout, std::string_view what);
void validate_wait_time(std::string_view name, std::chrono::milliseconds timeout, std::string_view what);
void validate_wait(std::string_view name, const WaitStrategy& wait);
void validate_reader_options(std::string_view name, const ReaderOptions& options);
void validate_writer_options(std::string_view name, const WriterOptions& options);

inline std::string sem_write_name(std::string_view name) { return "sem-w-" + std::string(name); }
inline std::string sem_read_name(std::string_view name) { return "sem-r-" + std::string(name); }
inline constexpr std::string_view kShmDirectory = "/dev/shm";
inline constexpr std::string_view kLockDirectory = "/tmp/zerobuffer";
std::string segment_path(std::string_view name);          // /dev/shm/NAME
std::string semaphore_path(std::string_view sem_name);    // /dev/shm/sem.SEM_NAME
std::string lock_path(std::string_view name);             // /tmp/zerobuffer/NAME.lock
// Where a C# reader keeps its lock: ${TMPDIR:-/tmp}/zerobuffer/locks/NAME.lock (docs/protocol.md §1).
std::string csharp_lock_path(std::string_view name, std::string_view tmpdir);

}  // namespace zerobuffer::detail
