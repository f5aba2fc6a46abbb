// The duplex client core (zerobuffer_native.duplex.DuplexClient wraps it): requests into the
// server's CH_request, responses from its own CH_response; reconnects after a server restart
// (the C++ DuplexClient does). Blocking calls run without the GIL; receive_response in slices.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "binding.h"
#include "frame.h"
#include "nogil.h"
#include "region.h"

namespace zbpy {
namespace {

using namespace nb::literals;
using std::chrono::milliseconds;

struct ClientCore {
    explicit ClientCore(std::string channel, zerobuffer::DuplexClientOptions options)
        : client(std::move(channel), std::move(options)) {}
    zerobuffer::DuplexClient client;
    zerobuffer::RequestReservation reservation;
    std::mutex mutex;  // one C++ call at a time (the client's owning-thread rule)
};

struct ClientObj {
    ClientObj(std::string channel, nb::handle response_config, nb::handle connect_timeout, nb::handle metadata) {
        zerobuffer::DuplexClientOptions options;
        if (!response_config.is_none()) options.response_config = config_from(response_config);
        if (auto ms = seconds_to_ms(connect_timeout)) options.connect_timeout = *ms;
        if (!metadata.is_none()) {
            BytesArg arg(metadata);
            options.metadata.assign(arg.span().begin(), arg.span().end());
        }
        core = without_gil([&] { return std::make_shared<ClientCore>(std::move(channel), std::move(options)); });
    }

    template <class F>
    auto blocking(F&& f) -> decltype(f(std::declval<zerobuffer::DuplexClient&>())) {
        return without_gil([&]() -> decltype(auto) {
            std::lock_guard guard(core->mutex);
            return f(core->client);
        });
    }

    std::uint64_t remember(std::uint64_t sequence) {
        last_sequence = sequence;
        return sequence;
    }

    std::uint64_t send_request(nb::handle data) {
        BytesArg arg(data);
        return remember(blocking([&](zerobuffer::DuplexClient& c) { return c.send_request(arg.span()); }));
    }

    nb::tuple acquire_request_buffer(std::size_t size) {
        const std::uint64_t reconnects = core->client.reconnects();
        core->reservation = blocking([&](zerobuffer::DuplexClient& c) { return c.acquire_request(size); });
        // The sequence this request will carry: the next one in the connection (1 after a reconnect).
        const std::uint64_t next = core->client.reconnects() != reconnects ? 1 : last_sequence + 1;
        if (core->client.reconnects() != reconnects) last_sequence = 0;
        region = make_region(core, core->reservation.data(),
                             fmt::format("request buffer of duplex client '{}'", core->client.channel()));
        return nb::make_tuple(next, region_view(region));
    }

    bool pending() const { return region.is_valid() && region_of(region).valid; }

    std::uint64_t commit_request() {
        if (!pending()) return blocking([](zerobuffer::DuplexClient& c) { return c.commit_request(); });  // UsageException
        region_of(region).take_back("commit the request");
        region = nb::object();
        return remember(blocking([&](zerobuffer::DuplexClient&) {
            zerobuffer::RequestReservation r = std::move(core->reservation);
            return r.commit();
        }));
    }

    void abandon_request() {
        if (!pending()) return;
        region_of(region).take_back("abandon the request");
        region = nb::object();
        blocking([&](zerobuffer::DuplexClient&) { core->reservation.abandon(); });
    }

    nb::object receive_response(nb::handle timeout_ms) {
        std::optional<milliseconds> timeout;
        if (!timeout_ms.is_none()) {
            const double ms = nb::cast<double>(timeout_ms);
            if (ms < 0) {  // the library's InvalidArgumentException
                return wrap_frame(blocking([&](auto& c) { return c.receive_response(milliseconds{static_cast<long>(ms)}); }));
            }
            timeout = milliseconds{static_cast<std::int64_t>(ms)};  // 0: one 1 ms look, as the peer polls
        }
        SlicedWait wait(timeout);
        for (;;) {
            const milliseconds slice = std::max(wait.next(), milliseconds{1});
            zerobuffer::Frame f = blocking([&](zerobuffer::DuplexClient& c) { return c.receive_response(slice); });
            if (f) return wrap_frame(std::move(f));
            if (wait.expired()) return nb::none();
            check_signals();
        }
    }

    void close(bool may_refuse) {
        if (pending()) {
            if (may_refuse) {
                region_of(region).take_back("close the client");
            } else if (!region_of(region).releasable()) {
                return;
            } else {
                region_of(region).take_back_forced();
            }
        }
        region = nb::object();
        blocking([&](zerobuffer::DuplexClient& c) {
            core->reservation.abandon();
            c.close();
        });
    }

    std::shared_ptr<ClientCore> core;
    nb::object region;  // the pending request buffer
    std::uint64_t last_sequence = 0;
};

}  // namespace

void bind_duplex_client(nb::module_& m) {
    m.def("duplex_channel_exists", [](const std::string& channel, double timeout) {
        const auto ms = seconds_to_ms(nb::float_(timeout)).value_or(milliseconds{0});
        return without_gil([&] { return zerobuffer::DuplexChannelFactory::wait_exists(channel, ms); });
    }, "channel_name"_a, "timeout"_a);
    nb::class_<ClientObj>(m, "DuplexClientCore", "Internal: the native side of zerobuffer_native.duplex.DuplexClient.")
        .def(nb::init<std::string, nb::handle, nb::handle, nb::handle>(), "channel_name"_a,
             "response_config"_a.none() = nb::none(), "connect_timeout"_a.none() = 5.0, "metadata"_a.none() = nb::none())
        .def("send_request", &ClientObj::send_request, "data"_a)
        .def("acquire_request_buffer", &ClientObj::acquire_request_buffer, "size"_a)
        .def("commit_request", &ClientObj::commit_request)
        .def("abandon_request", &ClientObj::abandon_request)
        .def("receive_response", &ClientObj::receive_response, "timeout_ms"_a.none())
        .def("set_metadata", [](ClientObj& self, nb::handle data) {
            BytesArg arg(data);
            self.blocking([&](zerobuffer::DuplexClient& c) { c.set_metadata(arg.span()); });
        }, "data"_a)
        .def_prop_ro("is_server_connected", [](const ClientObj& self) { return self.core->client.is_server_connected(); })
        .def_prop_ro("pending_responses", [](const ClientObj& self) { return self.core->client.pending_responses(); })
        .def_prop_ro("reconnects", [](const ClientObj& self) { return self.core->client.reconnects(); })
        .def_prop_ro("channel_name", [](const ClientObj& self) { return self.core->client.channel(); })
        .def_prop_ro("is_open", [](const ClientObj& self) { return self.core->client.is_open(); })
        .def_prop_ro("has_pending_request", &ClientObj::pending)
        .def("close", [](ClientObj& self, bool may_refuse) { self.close(may_refuse); }, "may_refuse"_a = true);
}

}  // namespace zbpy
