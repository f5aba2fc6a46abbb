// The duplex server core (zerobuffer_native.duplex.ImmutableDuplexServer wraps it). Handlers,
// on_init and the error callback are Python callables run on the C++ server's threads with the
// GIL taken; the request frame is a borrowed Frame (frame.h) and the response sink a
// ResponseWriter (handler_writer.h), both ended when the handler returns.
#include <memory>
#include <string>

#include "binding.h"
#include "errors.h"
#include "frame.h"
#include "handler_writer.h"
#include "nogil.h"

namespace zbpy {
namespace {

using namespace nb::literals;
using std::chrono::milliseconds;

// The Python side of a server. The C++ server's callbacks hold a plain pointer to it; the server
// object is destroyed (its threads joined) before this.
struct Callbacks {
    nb::object handler;
    nb::object on_init;
    nb::object on_error;
};

// Ends the borrow of a handler's frame and response writer when the call returns, however.
struct CallScope {
    nb::handle frame;
    nb::handle writer;
    ~CallScope() {
        end_borrow(frame);
        end_handler_writer(writer);
    }
};

template <class Sink>
void run_handler(Callbacks* cb, const zerobuffer::Frame& request, Sink& sink) {
    nb::gil_scoped_acquire gil;
    nb::object frame = wrap_borrowed_frame(request);
    nb::object writer = make_handler_writer(sink);
    CallScope scope{frame, writer};
    cb->handler(frame, writer);
}

zerobuffer::InitHandler init_handler(Callbacks* cb) {
    return [cb](std::span<const std::byte> metadata) {
        if (metadata.empty()) return;  // as the Python peer: on_init only for metadata that was written
        nb::gil_scoped_acquire gil;
        if (!cb->on_init.is_valid() || cb->on_init.is_none()) return;
        nb::bytes copy(reinterpret_cast<const char*>(metadata.data()), metadata.size());
        cb->on_init(nb::steal(PyMemoryView_FromObject(copy.ptr())));
    };
}

struct ServerObj {
    ServerObj(std::string channel, nb::handle config, nb::handle attach_timeout, nb::handle poll_interval,
              const std::string& response_policy, std::size_t worker_threads, std::size_t max_in_flight,
              nb::handle on_error)
        : callbacks(std::make_unique<Callbacks>()) {
        zerobuffer::DuplexServerOptions options;
        if (auto ms = seconds_to_ms(attach_timeout)) options.response_attach_timeout = *ms;
        if (auto ms = seconds_to_ms(poll_interval)) options.poll_interval = *ms;
        if (response_policy == "unchecked") {
            options.response_policy = zerobuffer::ResponsePolicy::unchecked;
        } else if (response_policy != "exactly_one") {
            throw zerobuffer::InvalidArgumentException("duplex channel '" + channel + "': response_policy '" +
                                                       response_policy + "' is neither 'exactly_one' nor 'unchecked'");
        }
        options.worker_threads = worker_threads;
        options.max_in_flight = max_in_flight;
        callbacks->on_error = nb::borrow(on_error);
        if (!on_error.is_none()) {
            Callbacks* cb = callbacks.get();
            options.on_error = [cb](const zerobuffer::DuplexError& e) {
                nb::gil_scoped_acquire gil;
                nb::object exception = e.exception ? exception_object(e.exception) : nb::none();
                try {
                    cb->on_error(zerobuffer::to_string(e.kind), e.message, exception, e.request, e.client_pid);
                } catch (nb::python_error& error) {
                    error.discard_as_unraisable("zerobuffer_native duplex error handler");
                }
            };
        }
        const zerobuffer::BufferConfig c = config_from(config);
        server = std::make_unique<zerobuffer::ImmutableDuplexServer>(std::move(channel), c, std::move(options));
    }

    ~ServerObj() {
        // Joining the server threads may need the GIL (a handler that is running).
        without_gil([&] { server.reset(); });
    }

    void start(nb::handle handler, nb::handle on_init, const std::string& mode) {
        zerobuffer::ProcessingMode m;
        if (mode == "single_thread") {
            m = zerobuffer::ProcessingMode::single_thread;
        } else if (mode == "thread_pool") {
            m = zerobuffer::ProcessingMode::thread_pool;
        } else {
            throw zerobuffer::InvalidArgumentException("duplex channel '" + server->channel() + "': processing mode '" +
                                                       mode + "' is neither 'single_thread' nor 'thread_pool'");
        }
        prepare(handler, on_init);
        Callbacks* cb = callbacks.get();
        zerobuffer::ResponseHandler h = [cb](const zerobuffer::Frame& request, zerobuffer::ResponseWriter& response) {
            run_handler(cb, request, response);
        };
        without_gil([&] { server->start(std::move(h), init_handler(cb), m); });
    }

    void start_with_writer(nb::handle handler, nb::handle on_init) {
        prepare(handler, on_init);
        Callbacks* cb = callbacks.get();
        zerobuffer::WriterHandler h = [cb](const zerobuffer::Frame& request, zerobuffer::Writer& response) {
            run_handler(cb, request, response);
        };
        without_gil([&] { server->start_with_writer(std::move(h), init_handler(cb)); });
    }

    void prepare(nb::handle handler, nb::handle on_init) {
        if (!PyCallable_Check(handler.ptr())) throw nb::type_error("the handler must be callable");
        if (server->is_running()) return;  // start() refuses with the library's UsageException
        callbacks->handler = nb::borrow(handler);
        callbacks->on_init = nb::borrow(on_init);
    }

    void stop() {
        without_gil([&] { server->stop(); });
        if (!server->is_running()) {  // no callback can run any more: drop the references
            callbacks->handler = nb::object();
            callbacks->on_init = nb::object();
        }
    }

    std::unique_ptr<Callbacks> callbacks;  // declared first: destroyed after the server
    std::unique_ptr<zerobuffer::ImmutableDuplexServer> server;
};

}  // namespace

void bind_duplex_server(nb::module_& m) {
    nb::class_<ServerObj>(m, "DuplexServerCore", "Internal: the native side of zerobuffer_native.duplex.ImmutableDuplexServer.")
        .def(nb::init<std::string, nb::handle, nb::handle, nb::handle, const std::string&, std::size_t, std::size_t,
                      nb::handle>(),
             "channel_name"_a, "config"_a.none(), "response_attach_timeout"_a.none() = nb::none(),
             "poll_interval"_a.none() = nb::none(), "response_policy"_a = "exactly_one", "worker_threads"_a = 0,
             "max_in_flight"_a = 0, "on_error"_a.none() = nb::none())
        .def("start", &ServerObj::start, "handler"_a, "on_init"_a.none() = nb::none(), "mode"_a = "single_thread")
        .def("start_with_writer", &ServerObj::start_with_writer, "handler"_a, "on_init"_a.none() = nb::none())
        .def("stop", &ServerObj::stop)
        .def_prop_ro("is_running", [](const ServerObj& s) { return s.server->is_running(); })
        .def_prop_ro("is_client_connected", [](const ServerObj& s) { return s.server->is_client_connected(); })
        .def_prop_ro("requests_handled", [](const ServerObj& s) { return s.server->requests_handled(); })
        .def_prop_ro("clients_served", [](const ServerObj& s) { return s.server->clients_served(); })
        .def_prop_ro("channel_name", [](const ServerObj& s) { return s.server->channel(); });
}

}  // namespace zbpy
