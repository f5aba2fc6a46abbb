// Conversions shared by the bindings: timeouts in seconds (the peers' unit) to the library's
// milliseconds, buffer configurations, bytes-like arguments.
#include <cmath>
#include <string>

#include "binding.h"

namespace zbpy {
namespace {

std::chrono::milliseconds from_seconds(double seconds) {
    if (std::isnan(seconds)) throw nb::value_error("a timeout cannot be NaN");
    const double ms = std::ceil(seconds * 1000.0);
    if (ms > 1e15) return std::chrono::milliseconds{static_cast<std::int64_t>(1e15)};  // ~31,000 years
    if (ms < -1e15) return std::chrono::milliseconds{static_cast<std::int64_t>(-1e15)};
    return std::chrono::milliseconds{static_cast<std::int64_t>(ms)};
}

bool is_number(nb::handle value) {
    return (PyLong_Check(value.ptr()) || PyFloat_Check(value.ptr())) && !PyBool_Check(value.ptr());
}

}  // namespace

std::optional<std::chrono::milliseconds> seconds_to_ms(nb::handle timeout) {
    if (timeout.is_none()) return std::nullopt;
    if (!is_number(timeout)) {
        throw nb::type_error(("a timeout is a number of seconds or None, not " +
                              std::string(nb::type_name(timeout.type()).c_str()))
                                 .c_str());
    }
    return from_seconds(PyFloat_AsDouble(timeout.ptr()));
}

std::chrono::milliseconds duration_to_ms(nb::handle value) {
    if (is_number(value)) return from_seconds(PyFloat_AsDouble(value.ptr()));
    if (nb::hasattr(value, "total_seconds")) return from_seconds(nb::cast<double>(value.attr("total_seconds")()));
    throw nb::type_error(("a duration is a datetime.timedelta or a number of seconds, not " +
                          std::string(nb::type_name(value.type()).c_str()))
                             .c_str());
}

zerobuffer::BufferConfig config_from(nb::handle config) {
    zerobuffer::BufferConfig c;
    if (config.is_none()) return c;
    auto size = [&](const char* field) -> std::size_t {
        nb::object v = config.attr(field);
        if (!PyLong_Check(v.ptr()) || PyBool_Check(v.ptr())) {
            throw nb::type_error((std::string("BufferConfig.") + field + " must be an int").c_str());
        }
        const long long n = PyLong_AsLongLong(v.ptr());
        if (n == -1 && PyErr_Occurred()) throw nb::python_error();
        if (n < 0) {
            throw zerobuffer::InvalidArgumentException(std::string("BufferConfig.") + field + " is negative (" +
                                                       std::to_string(n) + ")");
        }
        return static_cast<std::size_t>(n);
    };
    c.metadata_size = size("metadata_size");
    c.payload_size = size("payload_size");
    if (nb::hasattr(config, "permissions")) {
        nb::object p = config.attr("permissions");
        if (!p.is_none()) c.permissions = nb::cast<unsigned>(p);
    }
    if (nb::hasattr(config, "group")) {
        nb::object g = config.attr("group");
        if (!g.is_none()) c.group = nb::cast<std::string>(nb::str(g));
    }
    return c;
}

BytesArg::BytesArg(nb::handle object) {
    if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_ANY_CONTIGUOUS) != 0) throw nb::python_error();
}

BytesArg::~BytesArg() { PyBuffer_Release(&view_); }

}  // namespace zbpy
