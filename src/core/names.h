// Names of the OS objects of a buffer, and validation of names and sizes.
#pragma once

#include <string>
#include <string_view>

#include "zerobuffer/config.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

// Throws InvalidNameException unless `name` is 1..245 characters, without '/' or NUL, and not "." or "..".
void validate_name(std::string_view name, std::string_view what = "buffer name");

// Throws InvalidArgumentException (naming the buffer and the numbers) for a zero or absurd size.
// Returns the aligned layout.
protocol::Layout validate_config(std::string_view name, const BufferConfig& config);

// Throws InvalidArgumentException unless 0 < timeout.
void validate_timeout(std::string_view name, std::chrono::milliseconds timeout, std::string_view what);
void validate_wait(std::string_view name, const WaitStrategy& wait);

inline std::string sem_write_name(std::string_view name) { return "sem-w-" + std::string(name); }
inline std::string sem_read_name(std::string_view name) { return "sem-r-" + std::string(name); }
inline constexpr std::string_view kLockDirectory = "/tmp/zerobuffer";
std::string lock_path(std::string_view name);
// Where a C# reader keeps its lock: ${TMPDIR:-/tmp}/zerobuffer/locks/NAME.lock (contract §1.3).
std::string csharp_lock_path(std::string_view name);

// Lock-file content written by our reader. Peers never read lock files; our writer reads it to
// learn that the reader accepts standalone wrap markers.
std::string lock_advert(std::uint64_t pid);
bool advert_allows_standalone_wrap(std::string_view text, std::uint64_t reader_pid);

}  // namespace zerobuffer::detail
