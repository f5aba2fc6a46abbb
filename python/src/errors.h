// C++ exceptions to Python: each zerobuffer exception type becomes the zerobuffer-ipc exception
// class of the same meaning (zerobuffer_native/exceptions.py defines them and registers them
// here at import), with the C++ message.
#pragma once

#include <nanobind/nanobind.h>

#include <exception>
#include <stdexcept>
#include <string>

namespace zbpy {

namespace nb = nanobind;

// Raised by the binding itself when giving memory back would leave a buffer export (a numpy
// array, a memoryview) pointing into it. Python: LiveViewsError (a BufferError).
class LiveViews : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The Python exception object for a C++ exception (or the Python exception it carries). Needs
// the GIL. Never throws: an unknown type becomes RuntimeError.
nb::object exception_object(const std::exception_ptr& error);
// Sets the Python error indicator from the exception being handled (inside a catch block).
void set_python_error_from_current() noexcept;
// The class registered under `name` in zerobuffer_native.exceptions (after registration).
nb::handle exception_class(const char* name);

}  // namespace zbpy
