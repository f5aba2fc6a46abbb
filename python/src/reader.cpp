// Reader: creates a buffer and reads frames. Blocking reads run without the GIL in slices
// (nogil.h); a frame already there is taken without giving up the GIL.
#include <memory>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "binding.h"
#include "frame.h"
#include "nogil.h"

namespace zbpy {
namespace {

using namespace nb::literals;
using std::chrono::milliseconds;

struct ReaderObj {
    ReaderObj(std::string name, nb::handle config, bool verify_sequence, bool prefault) {
        zerobuffer::BufferConfig c = config_from(config);
        zerobuffer::ReaderOptions options;
        options.verify_sequence = verify_sequence;
        options.prefault = prefault;
        reader = without_gil([&] { return std::make_unique<zerobuffer::Reader>(std::move(name), c, options); });
    }

    template <class F>
    auto locked(F&& f) -> decltype(f(std::declval<zerobuffer::Reader&>())) {
        return with_lock(mutex, [&]() -> decltype(auto) { return f(*reader); });
    }

    nb::object read_frame(nb::handle timeout_seconds) {
        const std::optional<milliseconds> timeout = seconds_to_ms(timeout_seconds);
        if (timeout && timeout->count() < 0) return wrap_frame(locked([&](auto& r) { return r.read_frame(*timeout); }));
        if (mutex.try_lock()) {  // a frame already there: no GIL round trip
            std::lock_guard guard(mutex, std::adopt_lock);
            if (zerobuffer::Frame f = reader->try_read_frame()) return wrap_frame(std::move(f));
        }
        SlicedWait wait(timeout);
        for (;;) {
            const milliseconds slice = wait.next();
            zerobuffer::Frame f = without_gil([&] {
                std::lock_guard guard(mutex);
                return reader->read_frame(slice);
            });
            if (f) return wrap_frame(std::move(f));
            if (wait.expired()) return nb::none();
            check_signals();
        }
    }

    bool is_writer_connected(nb::handle timeout_ms) {
        if (timeout_ms.is_none()) return reader->is_writer_connected();
        const double ms = nb::cast<double>(timeout_ms);
        SlicedWait wait(milliseconds{static_cast<std::int64_t>(ms < 0 ? 0 : ms)});
        for (;;) {
            const milliseconds slice = wait.next();
            if (without_gil([&] { return reader->wait_for_writer(slice); })) return true;
            if (wait.expired()) return false;
            check_signals();
        }
    }

    nb::object metadata() {
        // A snapshot copy: the metadata block is unmapped when the reader closes, and a view of
        // it could outlive the reader.
        return locked([&](zerobuffer::Reader& r) -> nb::object {
            std::span<const std::byte> md = r.metadata();
            if (md.empty() && r.health().metadata_written_bytes == 0) return nb::none();
            nb::bytes copy(reinterpret_cast<const char*>(md.data()), md.size());
            return nb::steal(PyMemoryView_FromObject(copy.ptr()));
        });
    }

    void close() {
        without_gil([&] {
            std::lock_guard guard(mutex);
            reader->close();
        });
    }

    std::unique_ptr<zerobuffer::Reader> reader;
    std::mutex mutex;  // one C++ call at a time (the library's reading-thread rule)
};

void release_frame(nb::handle frame) {
    if (!nb::isinstance<FrameObj>(frame)) throw nb::type_error("release_frame() takes a Frame");
    nb::cast<FrameObj&>(frame).release(true);
}

}  // namespace

void bind_reader(nb::module_& m) {
    nb::class_<ReaderObj>(m, "Reader", nb::is_weak_referenceable(),
                          "Creates and owns a buffer (shared memory, two semaphores, a lock file) and reads frames.")
        .def(nb::init<std::string, nb::handle, bool, bool>(), "name"_a, "config"_a.none() = nb::none(),
             nb::kw_only(), "verify_sequence"_a = true, "prefault"_a = true)
        .def("read_frame", &ReaderObj::read_frame, "timeout"_a.none() = 5.0,
             "The next frame, waiting up to `timeout` seconds (None: for ever); None on timeout.")
        .def("try_read_frame", [](ReaderObj& self) {
            return wrap_frame(self.locked([](zerobuffer::Reader& r) { return r.try_read_frame(); }));
        })
        .def("release_frame", [](ReaderObj&, nb::handle frame) { release_frame(frame); }, "frame"_a)
        .def("get_metadata", &ReaderObj::metadata,
             "The metadata the writer set (a read-only memoryview of a copy), or None if none was written.")
        .def("is_writer_connected", &ReaderObj::is_writer_connected, "timeout_ms"_a.none() = nb::none())
        .def("wait_for_writer", [](ReaderObj& self, double seconds) {
            return self.is_writer_connected(nb::float_(seconds * 1000.0));
        }, "timeout"_a)
        .def_prop_ro("name", [](const ReaderObj& self) { return self.reader->name(); })
        .def_prop_ro("frames_read", [](const ReaderObj& self) { return self.reader->frames_read(); })
        .def_prop_ro("bytes_read", [](const ReaderObj& self) { return self.reader->bytes_read(); })
        .def_prop_ro("is_open", [](const ReaderObj& self) { return self.reader->is_open(); })
        .def("health", [](const ReaderObj& self) { return health_dict(self.reader->health()); })
        .def("close", &ReaderObj::close)
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](ReaderObj& self, nb::handle, nb::handle, nb::handle) { self.close(); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none())
        .def("__repr__", [](const ReaderObj& self) {
            return fmt::format("Reader('{}'{})", self.reader->name(), self.reader->is_open() ? "" : ", closed");
        });
}

}  // namespace zbpy
