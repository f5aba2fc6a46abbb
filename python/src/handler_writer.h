// ResponseWriter: what a duplex server's Python handler writes its response with, during the
// call only. It wraps the C++ ResponseWriter (start) or the response Writer (start_with_writer).
#pragma once

#include <nanobind/nanobind.h>

#include <zerobuffer/duplex.h>

namespace zbpy {

namespace nb = nanobind;

nb::object make_handler_writer(zerobuffer::ResponseWriter& response);
nb::object make_handler_writer(zerobuffer::Writer& writer);
// The call is over: every later use raises ObjectClosedException. Needs the GIL; never throws.
void end_handler_writer(nb::handle writer) noexcept;

}  // namespace zbpy
