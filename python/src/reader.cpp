// Reader: creates a buffer and reads frames (the shared part is in reading.h).
#include <string>

#include <fmt/format.h>

#include "binding.h"
#include "reading.h"

namespace zbpy {

using namespace nb::literals;
using std::chrono::milliseconds;

void release_frame(nb::handle frame) {
    if (!nb::isinstance<FrameObj>(frame)) throw nb::type_error("release_frame() takes a Frame");
    nb::cast<FrameObj&>(frame).release(true);
}

namespace {

using ReaderObj = ReadingObj<zerobuffer::Reader>;

bool is_writer_connected(ReaderObj& self, nb::handle timeout_ms) {
    if (timeout_ms.is_none()) return self.source->is_writer_connected();
    const double ms = nb::cast<double>(timeout_ms);
    return wait_sliced(milliseconds{static_cast<std::int64_t>(ms < 0 ? 0 : ms)},
                       [&](milliseconds slice) { return self.source->wait_for_writer(slice); });
}

}  // namespace

void bind_reader(nb::module_& m) {
    nb::class_<ReaderObj> cls(m, "Reader", nb::is_weak_referenceable(),
                              "Creates and owns a buffer (shared memory, two semaphores, a lock file) and reads frames.");
    cls.def("__init__", [](ReaderObj* self, std::string name, nb::handle config, bool verify_sequence, bool prefault) {
           const zerobuffer::BufferConfig c = config_from(config);
           zerobuffer::ReaderOptions options;
           options.verify_sequence = verify_sequence;
           options.prefault = prefault;
           new (self) ReaderObj(std::in_place, std::move(name), c, options);
       }, "name"_a, "config"_a.none() = nb::none(), nb::kw_only(), "verify_sequence"_a = true, "prefault"_a = true)
        .def("is_writer_connected", &is_writer_connected, "timeout_ms"_a.none() = nb::none())
        .def("wait_for_writer", [](ReaderObj& self, double seconds) {
            return is_writer_connected(self, nb::float_(seconds * 1000.0));
        }, "timeout"_a)
        .def_prop_ro("name", [](const ReaderObj& self) { return self.source->name(); })
        .def_prop_ro("bytes_read", [](const ReaderObj& self) { return self.source->bytes_read(); })
        .def("__repr__", [](const ReaderObj& self) {
            return fmt::format("Reader('{}'{})", self.source->name(), self.source->is_open() ? "" : ", closed");
        });
    bind_reading(cls);
}

}  // namespace zbpy
