// Child-process and file-descriptor helpers shared by the hostile-environment support files
// (not for the tests).
#pragma once

#include <string>

#include "hostile_env.h"

namespace zerobuffer::hardening {

// Writes all of `text` to `fd` (retrying on EINTR); gives up silently on an error.
void write_all(int fd, const std::string& text);

// Reads what is available on `fd` into `into`; with `until_eof`, waits for more until EOF or `deadline`.
void drain(int fd, std::string& into, Clock::time_point deadline, bool until_eof);

// In a child: runs `body` and exits with its code; an escaping exception is reported through
// `say` and makes the code 98.
[[noreturn]] void run_body_and_exit(const Body& body, const Say& say);

}  // namespace zerobuffer::hardening
