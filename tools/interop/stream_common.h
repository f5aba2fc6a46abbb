// Helpers shared by the writer, reader and relay commands (stream_writer.cpp, stream_reader.cpp,
// stream_relay.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common.h"

namespace interop {

// Attaches a Writer to `name`, retrying for up to `wait` while the buffer does not exist yet or
// its reader is still setting it up.
zerobuffer::Writer attach_writer(const std::string& name, const zerobuffer::WriterOptions& options,
                                 std::chrono::milliseconds wait, Run& run);

// read_frame in slices, so that SIGTERM is noticed; an invalid Frame after `timeout`.
zerobuffer::Frame read_with_timeout(zerobuffer::Reader& reader, std::chrono::milliseconds timeout);

void sleep_ms(std::int64_t ms);

// The frame sizes from --sizes or --size (0 means any size, for a reader only).
SizeSchedule schedule_from(const ArgParser& p, bool reader);

}  // namespace interop
