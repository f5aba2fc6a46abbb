// The handler's ResponseWriter. write_frame copies straight into the client's response ring
// (single_thread mode) or into the server's staging (thread_pool mode). get_frame_buffer stages
// the frame in private memory and commit_frame writes it: a view into the ring could outlive the
// handler call, after which the server reuses that space, and nothing could revoke it.
#include "handler_writer.h"

#include <string>

#include <fmt/format.h>

#include "binding.h"
#include "nogil.h"

namespace zbpy {
namespace {

using namespace nb::literals;

struct HandlerWriterObj {
    zerobuffer::ResponseWriter* response = nullptr;
    zerobuffer::Writer* writer = nullptr;
    nb::object staged;  // bytearray of a pending get_frame_buffer()
    std::size_t written = 0;

    void check() const {
        if (response == nullptr && writer == nullptr) {
            throw zerobuffer::ObjectClosedException(
                "this response writer belonged to a handler call that has returned: it can no longer be used");
        }
    }

    void write(std::span<const std::byte> bytes) {
        // single_thread mode may wait for room in the client's ring: without the GIL.
        without_gil([&] {
            if (response != nullptr) {
                response->write_frame(bytes);
            } else {
                writer->write_frame(bytes);
            }
        });
        ++written;
    }

    void write_frame(nb::handle data) {
        check();
        if (staged.is_valid()) {
            throw zerobuffer::UsageException("write_frame() while a frame buffer from get_frame_buffer() is pending: "
                                             "commit_frame() or abandon_frame() it first");
        }
        BytesArg arg(data);
        write(arg.span());
    }

    nb::object get_frame_buffer(std::size_t size) {
        check();
        if (staged.is_valid()) {
            throw zerobuffer::UsageException("get_frame_buffer() while another frame buffer is pending");
        }
        if (response != nullptr && (size == 0 || size > response->max_frame_size())) {
            (void)response->get_frame_buffer(size);  // throws the library's InvalidFrameSize / FrameTooLarge
        }
        if (size == 0) throw zerobuffer::InvalidFrameSizeException("a frame buffer of 0 bytes: frames are at least 1 byte");
        staged = nb::steal(PyByteArray_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size)));
        if (!staged.is_valid()) throw nb::python_error();
        return nb::steal(PyMemoryView_FromObject(staged.ptr()));
    }

    void commit_frame() {
        check();
        if (!staged.is_valid()) {
            if (response != nullptr) response->commit_frame();  // throws the library's UsageException
            throw zerobuffer::UsageException("commit_frame() without a pending get_frame_buffer()");
        }
        nb::object frame = std::move(staged);
        staged = nb::object();
        write({reinterpret_cast<const std::byte*>(PyByteArray_AsString(frame.ptr())),
               static_cast<std::size_t>(PyByteArray_Size(frame.ptr()))});
    }
};

template <class Target>
nb::object make(Target& target) {
    nb::object object = nb::inst_alloc(nb::type<HandlerWriterObj>());
    auto* w = new (nb::inst_ptr<HandlerWriterObj>(object)) HandlerWriterObj();
    if constexpr (std::is_same_v<Target, zerobuffer::ResponseWriter>) {
        w->response = &target;
    } else {
        w->writer = &target;
    }
    nb::inst_mark_ready(object);
    return object;
}

}  // namespace

nb::object make_handler_writer(zerobuffer::ResponseWriter& response) { return make(response); }
nb::object make_handler_writer(zerobuffer::Writer& writer) { return make(writer); }

void end_handler_writer(nb::handle writer) noexcept {
    HandlerWriterObj* w = nb::inst_ptr<HandlerWriterObj>(writer);
    w->response = nullptr;
    w->writer = nullptr;
    w->staged = nb::object();
}

void bind_handler_writer(nb::module_& m) {
    nb::class_<HandlerWriterObj>(m, "ResponseWriter",
                                 "The response sink a duplex server hands to its handler, valid during the call.")
        .def("write_frame", &HandlerWriterObj::write_frame, "data"_a,
             "Adds one response frame (any bytes-like object, copied once into the response ring).")
        .def("get_frame_buffer", &HandlerWriterObj::get_frame_buffer, "size"_a,
             "A writable buffer of `size` bytes for the response (staged; commit_frame() sends it).")
        .def("commit_frame", &HandlerWriterObj::commit_frame)
        .def("abandon_frame", [](HandlerWriterObj& w) { w.staged = nb::object(); })
        .def_prop_ro("frames", [](const HandlerWriterObj& w) { return w.written; },
                     "Response frames written so far in this call.")
        .def_prop_ro("frames_written", [](const HandlerWriterObj& w) { return w.written; })
        .def_prop_ro("max_frame_size", [](const HandlerWriterObj& w) -> std::size_t {
            w.check();
            if (w.response != nullptr) return w.response->max_frame_size();
            return static_cast<std::size_t>(w.writer->health().payload_size - 16);
        })
        .def("is_reader_connected", [](const HandlerWriterObj& w) {
            w.check();
            return w.writer == nullptr || w.writer->is_reader_connected();
        })
        .def_prop_ro("is_valid", [](const HandlerWriterObj& w) { return w.response != nullptr || w.writer != nullptr; })
        .def("__repr__", [](const HandlerWriterObj& w) {
            return fmt::format("ResponseWriter({})", w.response != nullptr || w.writer != nullptr ? "active" : "ended");
        });
}

}  // namespace zbpy
