// Writer: attaches to a buffer and writes frames. write_frame takes any bytes-like object
// (buffer protocol, no extra copy); get_frame_buffer hands out a writable FrameBuffer view of
// the ring that commit_frame publishes. Waits for space run without the GIL in slices.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "binding.h"
#include "errors.h"
#include "nogil.h"
#include "region.h"

namespace zbpy {
namespace {

using namespace nb::literals;
using std::chrono::milliseconds;

// Frames up to this size are copied without giving up the GIL when there is room at once.
constexpr std::size_t kInlineCopy = 64 * 1024;

struct WriterCore {
    WriterCore(std::string name, const zerobuffer::WriterOptions& options) : writer(std::move(name), options) {}
    zerobuffer::Writer writer;
    zerobuffer::FrameReservation reservation;  // the pending get_frame_buffer()
    std::mutex mutex;                          // one C++ call at a time (the writing-thread rule)
};

// The library's own BufferFull message after a sliced wait: one last blocking attempt with a
// 1 ms timeout, whose message then names the whole time waited.
[[noreturn]] void rethrow_buffer_full(const zerobuffer::BufferFullException& e, milliseconds waited) {
    std::string message = e.what();
    const std::string tail = "after waiting 1 ms";
    if (const auto at = message.rfind(tail); at != std::string::npos) {
        message.replace(at, tail.size(), fmt::format("after waiting {} ms", waited.count()));
    }
    throw zerobuffer::BufferFullException(message);
}

template <class Attempt, class Final>
auto sliced_write(WriterCore& core, Attempt&& attempt, Final&& final_attempt) -> decltype(final_attempt()) {
    const milliseconds total = core.writer.write_timeout();
    SlicedWait wait(total);
    for (;;) {
        const milliseconds slice = wait.next();
        auto result = without_gil([&] {
            std::lock_guard guard(core.mutex);
            return attempt(slice);
        });
        if (result) return std::move(*result);
        if (wait.expired()) break;
        check_signals();
    }
    return without_gil([&] {
        std::lock_guard guard(core.mutex);
        zerobuffer::Writer& w = core.writer;
        w.set_write_timeout(milliseconds{1});
        try {
            auto r = final_attempt();
            w.set_write_timeout(total);
            return r;
        } catch (const zerobuffer::BufferFullException& e) {
            w.set_write_timeout(total);
            rethrow_buffer_full(e, total);
        } catch (...) {
            w.set_write_timeout(total);
            throw;
        }
    });
}

struct WriterObj {
    WriterObj(std::string name, bool require_same_owner) {
        zerobuffer::WriterOptions options;
        options.require_same_owner = require_same_owner;
        core = without_gil([&] { return std::make_shared<WriterCore>(std::move(name), options); });
    }

    template <class F>
    auto locked(F&& f) -> decltype(f(std::declval<zerobuffer::Writer&>())) {
        return with_lock(core->mutex, [&]() -> decltype(auto) { return f(core->writer); });
    }

    std::uint64_t write_frame(nb::handle data) {
        BytesArg arg(data);
        const std::span<const std::byte> bytes = arg.span();
        WriterCore& c = *core;
        if (bytes.size() <= kInlineCopy && c.mutex.try_lock()) {
            std::lock_guard guard(c.mutex, std::adopt_lock);
            if (auto seq = c.writer.try_write_frame(bytes, milliseconds{0})) return *seq;
        }
        return sliced_write(
            c, [&](milliseconds slice) { return c.writer.try_write_frame(bytes, slice); },
            [&] { return c.writer.write_frame(bytes); });
    }

    nb::object try_write_frame(nb::handle data, nb::handle timeout_seconds) {
        BytesArg arg(data);
        const std::span<const std::byte> bytes = arg.span();
        const milliseconds timeout = seconds_to_ms(timeout_seconds).value_or(milliseconds{0});
        std::optional<std::uint64_t> seq = without_gil([&] {
            std::lock_guard guard(core->mutex);
            return core->writer.try_write_frame(bytes, timeout);
        });
        return seq ? nb::cast(*seq) : nb::none();
    }

    nb::object get_frame_buffer(std::size_t size) {
        WriterCore& c = *core;
        zerobuffer::FrameReservation reservation;
        if (c.mutex.try_lock()) {
            std::lock_guard guard(c.mutex, std::adopt_lock);
            reservation = c.writer.try_acquire_frame(size, milliseconds{0});
        }
        if (!reservation) {
            reservation = sliced_write(
                c,
                [&](milliseconds slice) -> std::optional<zerobuffer::FrameReservation> {
                    zerobuffer::FrameReservation r = c.writer.try_acquire_frame(size, slice);
                    if (!r) return std::nullopt;
                    return r;
                },
                [&] { return c.writer.acquire_frame(size); });
        }
        c.reservation = std::move(reservation);
        region = make_region(core, c.reservation.data(), fmt::format("frame buffer of writer '{}'", c.writer.name()));
        return region_view(region);
    }

    std::uint64_t commit_frame() {
        if (!pending()) return locked([](zerobuffer::Writer& w) { return w.commit_frame(); });  // its UsageException
        region_of(region).take_back("commit the frame");
        region = nb::object();
        return locked([&](zerobuffer::Writer&) {
            zerobuffer::FrameReservation r = std::move(core->reservation);
            return r.commit();
        });
    }

    void abandon_frame() {
        if (!pending()) return;
        region_of(region).take_back("abandon the frame");
        region = nb::object();
        locked([&](zerobuffer::Writer&) { core->reservation.abandon(); });
    }

    bool pending() const { return region.is_valid() && region_of(region).valid; }

    void close(bool may_refuse) {
        if (pending()) {
            if (may_refuse) {
                region_of(region).take_back("close the writer");
            } else if (!region_of(region).releasable()) {
                return;  // stays attached until the views are gone and the writer is collected
            } else {
                region_of(region).take_back_forced();
            }
        }
        region = nb::object();
        without_gil([&] {
            std::lock_guard guard(core->mutex);
            core->reservation.abandon();
            core->writer.close();
        });
    }

    std::shared_ptr<WriterCore> core;
    nb::object region;  // the pending FrameBuffer, if any
};

}  // namespace

void bind_writer(nb::module_& m) {
    nb::class_<WriterObj>(m, "Writer", nb::is_weak_referenceable(),
                          "Attaches to a buffer created by a reader (of any language) and writes frames.")
        .def(nb::init<std::string, bool>(), "name"_a, nb::kw_only(), "require_same_owner"_a = false)
        .def("set_metadata", [](WriterObj& self, nb::handle data) {
            BytesArg arg(data);
            self.locked([&](zerobuffer::Writer& w) { w.set_metadata(arg.span()); });
        }, "data"_a)
        .def("write_frame", &WriterObj::write_frame, "data"_a,
             "Copies one frame (any bytes-like object) into the ring and publishes it; returns its sequence.")
        .def("try_write_frame", &WriterObj::try_write_frame, "data"_a, "timeout"_a.none() = 0.0,
             "Like write_frame, but returns None instead of raising BufferFullException.")
        .def("get_frame_buffer", &WriterObj::get_frame_buffer, "size"_a,
             "Reserves a frame of `size` bytes and returns a writable memoryview of it in the ring (zero-copy).")
        .def("commit_frame", &WriterObj::commit_frame, "Publishes the frame from get_frame_buffer; returns its sequence.")
        .def("abandon_frame", &WriterObj::abandon_frame, "Drops the frame from get_frame_buffer; nothing is published.")
        .def_prop_ro("has_pending_frame", &WriterObj::pending)
        .def("is_reader_connected", [](const WriterObj& self) { return self.core->writer.is_reader_connected(); })
        .def_prop_ro("name", [](const WriterObj& self) { return self.core->writer.name(); })
        .def_prop_ro("frames_written", [](const WriterObj& self) { return self.core->writer.frames_written(); })
        .def_prop_ro("bytes_written", [](const WriterObj& self) { return self.core->writer.bytes_written(); })
        .def_prop_ro("next_sequence", [](const WriterObj& self) { return self.core->writer.next_sequence(); })
        .def_prop_ro("metadata_written", [](WriterObj& self) {
            return self.locked([](zerobuffer::Writer& w) { return w.metadata_written(); });
        })
        .def_prop_rw(
            "write_timeout",
            [](const WriterObj& self) {
                return nb::module_::import_("datetime").attr("timedelta")(
                    "milliseconds"_a = self.core->writer.write_timeout().count());
            },
            [](WriterObj& self, nb::handle value) {
                const milliseconds ms = duration_to_ms(value);
                self.locked([&](zerobuffer::Writer& w) { w.set_write_timeout(ms); });
            },
            "How long a write waits for space before BufferFullException (a timedelta; seconds are accepted).")
        .def_prop_ro("is_open", [](const WriterObj& self) { return self.core->writer.is_open(); })
        .def("health", [](const WriterObj& self) { return health_dict(self.core->writer.health()); })
        .def("close", [](WriterObj& self) { self.close(true); })
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](WriterObj& self, nb::handle type, nb::handle, nb::handle) { self.close(type.is_none()); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none())
        .def("__repr__", [](const WriterObj& self) {
            return fmt::format("Writer('{}'{})", self.core->writer.name(), self.core->writer.is_open() ? "" : ", closed");
        });
}

}  // namespace zbpy
