// duplex-server and duplex-client commands.
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "common.h"

namespace interop {
namespace zb = zerobuffer;
using std::chrono::milliseconds;

namespace {

SizeSchedule request_sizes(const ArgParser& p) {
    if (p.has("sizes")) return SizeSchedule::parse(p.get("sizes"));
    const std::uint64_t s = p.get_size("size");
    if (s == 0) return SizeSchedule::any_size();
    return SizeSchedule::fixed(s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
int cmd_duplex_server(int argc, char** argv) {
    ArgParser p(kProgram, "duplex-server", "Echo server: every request frame is written back unchanged as its one response.");
    p.positional("CHANNEL", "channel name (buffers CHANNEL_request and CHANNEL_response)");
    p.option("n", "requests", "N", "exit once N requests were handled and the client left; 0 = once a client left", "0");
    p.option("s", "size", "N", "expected request size; 0 = any", "0");
    p.option("", "sizes", "SPEC", "expected per-request sizes: mixed:MIN:MAX:SEED, list:A,B,..., file:PATH");
    p.option("", "verify", "NAME", "expected request content: none, sequential, zero or ones", "none");
    p.option("", "max-ms", "MS", "give up (error) after this long", "60000");
    p.option("", "mode", "MODE", "single (ProcessingMode::single_thread) or pool (ProcessingMode::thread_pool)", "single");
    add_metadata_options(p, "expected from the client (checked in on_init)");
    add_buffer_options(p);
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string channel = p.arg(0);
    const auto target = static_cast<std::uint64_t>(p.get_int("requests", 0, INT64_MAX));
    const SizeSchedule sizes = request_sizes(p);
    const Pattern pattern = parse_pattern(p.get("verify"), true);
    const auto max_ms = p.get_int("max-ms", 1, INT32_MAX);
    const std::string mode = p.get("mode");
    if (mode != "single" && mode != "pool") throw UsageError("--mode must be single or pool");
    const MetadataChoice expected_metadata = metadata_from(p);
    const zb::BufferConfig config = buffer_config_from(p);

    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::mutex mu;  // guards run.errors, the counters below and `source`
    std::uint64_t checked = 0, verification_errors = 0, init_calls = 0, init_metadata_size = 0;
    std::uint64_t disconnects = 0;
    PatternSource source(pattern, static_cast<std::size_t>(std::min<std::uint64_t>(sizes.max_size(), 1ull << 30)));
    auto check_request = [&](const zb::Frame& request) {
        // The request's frame sequence (1, 2, ... per client connection) gives its index even when
        // pooled handlers run out of order.
        const std::uint64_t k = request.sequence() - 1;
        std::lock_guard lock(mu);
        ++checked;
        std::string problem;
        if (!sizes.any() && request.size() != sizes.size(k)) {
            problem = "size " + std::to_string(request.size()) + ", expected " + std::to_string(sizes.size(k));
        } else if (const auto at = source.first_mismatch(request.data(), k); at >= 0) {
            problem = "byte " + std::to_string(at) + " differs from the " + to_string(pattern) + " pattern";
        }
        if (!problem.empty()) {
            if (++verification_errors <= 20) run.error("request " + std::to_string(k) + ": " + problem);
        }
    };

    std::string exc_type;
    std::uint64_t handled = 0, clients = 0;
    int code = kExitOk;
    try {
        zb::DuplexServerOptions options;
        options.request_reader = reader_options_from(p);
        options.on_error = [&](const zb::DuplexError& e) {
            std::lock_guard lock(mu);
            if (e.kind == zb::DuplexErrorKind::client_disconnected) {
                ++disconnects;
                if (run.verbose) std::cerr << "client disconnected: " << e.message << std::endl;
                return;
            }
            run.errors.push_back(std::string(zb::to_string(e.kind)) + ": " + e.message);
        };
        zb::DuplexChannelFactory factory;
        zb::ImmutableDuplexServer server = factory.create_immutable_server(channel, config, options);
        auto on_init = [&](std::span<const std::byte> md) {
            std::lock_guard lock(mu);
            ++init_calls;
            init_metadata_size = md.size();
            if (expected_metadata.present &&
                (md.size() != expected_metadata.bytes.size() ||
                 (!md.empty() && std::memcmp(md.data(), expected_metadata.bytes.data(), md.size()) != 0))) {
                ++verification_errors;
                run.errors.push_back("on_init: metadata of " + std::to_string(md.size()) + " bytes, expected " +
                                     std::to_string(expected_metadata.bytes.size()) + " (" + expected_metadata.source + ")");
            }
        };
        if (mode == "single") {
            server.start_with_writer(
                [&](const zb::Frame& request, zb::Writer& response) {
                    check_request(request);
                    (void)response.write_frame(request.data());
                },
                on_init);
        } else {
            server.start(
                [&](const zb::Frame& request, zb::ResponseWriter& response) {
                    check_request(request);
                    response.write_frame(request.data());
                },
                on_init, zb::ProcessingMode::thread_pool);
        }
        signal_ready(p, channel);
        run.log("serving '" + channel + "'");
        const auto deadline = Clock::now() + milliseconds(max_ms);
        bool timed_out = false;
        while (!g_stop && server.is_running()) {
            const bool served_enough = target == 0 ? server.clients_served() > 0 : server.requests_handled() >= target;
            if (served_enough && !server.is_client_connected()) break;
            if (Clock::now() >= deadline) {
                timed_out = true;
                break;
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        handled = server.requests_handled();
        clients = server.clients_served();
        const bool was_running = server.is_running();
        server.stop();
        std::lock_guard lock(mu);
        if (timed_out) run.errors.push_back("gave up after " + std::to_string(max_ms) + " ms (" + std::to_string(handled) + " requests handled)");
        if (!was_running && !g_stop) run.errors.push_back("the server stopped by itself");
        if (target > 0 && handled < target && !g_stop) {
            run.errors.push_back("handled " + std::to_string(handled) + " of " + std::to_string(target) + " requests");
        }
    } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        exc_type = exception_type(e);
        run.errors.push_back(describe(e));
        code = kExitException;
    }
    std::lock_guard lock(mu);
    if (code == kExitOk && (!run.errors.empty() || verification_errors > 0)) code = kExitErrors;
    Json j;
    j.field("operation", "duplex-server")
        .field("channel", channel)
        .field("requests_handled", handled)
        .field("requests_checked", checked)
        .field("clients_served", clients)
        .field("client_disconnects", disconnects)
        .field("init_calls", init_calls)
        .field("init_metadata_size", init_metadata_size)
        .field("verification_errors", verification_errors)
        .field("exception_type", exc_type)
        .field("server_pid", static_cast<std::int64_t>(::getpid()))
        .strings("errors", run.errors);
    std::ostringstream human;
    human << "[SERVER] handled " << handled << " requests from " << clients << " client(s), " << verification_errors
          << " verification errors";
    run.emit(j, human.str());
    return code;
}

// ---------------------------------------------------------------------------------------------
int cmd_duplex_client(int argc, char** argv) {
    ArgParser p(kProgram, "duplex-client", "Send requests to an echo server and check that every response equals its request, in order.");
    p.positional("CHANNEL", "channel name");
    p.option("n", "requests", "N", "requests to send", "1000");
    p.option("s", "size", "N", "request size", "1024");
    p.option("", "sizes", "SPEC", "per-request sizes: mixed:MIN:MAX:SEED, list:A,B,..., file:PATH");
    p.option("", "pattern", "NAME", "request content: sequential, zero or ones", "sequential");
    p.option("", "timeout-ms", "MS", "how long to wait for one response", "5000");
    p.option("", "connect-timeout-ms", "MS", "how long to wait for the server", "5000");
    p.option("", "pipeline", "K", "requests in flight before the first response is read", "1");
    p.option("", "response-metadata-size", "N", "metadata block of CHANNEL_response", "4096");
    p.option("", "response-payload-size", "N", "payload ring of CHANNEL_response", "256M");
    add_metadata_options(p, "sent to the server (client metadata)");
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string channel = p.arg(0);
    const auto requests = static_cast<std::uint64_t>(p.get_int("requests", 1, INT64_MAX));
    SizeSchedule sizes = request_sizes(p);
    if (sizes.any()) throw UsageError("--size must be > 0");
    const Pattern pattern = parse_pattern(p.get("pattern"), false);
    const auto timeout = milliseconds(p.get_int("timeout-ms", 1, 3600000));
    const auto connect_timeout = milliseconds(p.get_int("connect-timeout-ms", 1, 3600000));
    const auto pipeline = static_cast<std::uint64_t>(p.get_int("pipeline", 1, 1 << 20));
    const MetadataChoice metadata = metadata_from(p);

    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::uint64_t sent = 0, received = 0, verification_errors = 0;
    std::string exc_type;
    double duration = 0;
    int code = kExitOk;
    PatternSource source(pattern, static_cast<std::size_t>(std::min<std::uint64_t>(sizes.max_size(), 1ull << 30)));
    try {
        zb::DuplexClientOptions options;
        options.response_config.metadata_size = static_cast<std::size_t>(p.get_size("response-metadata-size"));
        options.response_config.payload_size = static_cast<std::size_t>(p.get_size("response-payload-size"));
        options.connect_timeout = connect_timeout;
        if (metadata.present) options.metadata = metadata.bytes;
        zb::DuplexChannelFactory factory;
        zb::DuplexClient client = factory.create_client(channel, options);
        signal_ready(p, channel);
        run.log("connected to '" + channel + "'");
        const auto t0 = Clock::now();
        while (received < requests && !g_stop) {
            while (sent < requests && sent - received < pipeline) {
                client.send_request(source.frame(sent, static_cast<std::size_t>(sizes.size(sent))));
                ++sent;
            }
            zb::Frame response = client.receive_response(timeout);
            if (!response.valid()) {
                run.error("no response to request " + std::to_string(received) + " within " + std::to_string(timeout.count()) + " ms");
                break;
            }
            const std::uint64_t k = received++;
            std::string problem;
            if (response.size() != sizes.size(k)) {
                problem = "size " + std::to_string(response.size()) + ", expected " + std::to_string(sizes.size(k));
            } else if (const auto at = source.first_mismatch(response.data(), k); at >= 0) {
                problem = "byte " + std::to_string(at) + " differs from request " + std::to_string(k);
            }
            if (!problem.empty() && ++verification_errors <= 20) run.error("response " + std::to_string(k) + ": " + problem);
        }
        duration = seconds_since(t0);
        client.close();
    } catch (const std::exception& e) {
        code = run.failed(e, exc_type);
    }
    if (code == kExitOk && (!run.errors.empty() || verification_errors > 0 || received < requests)) code = kExitErrors;
    Json j;
    j.field("operation", "duplex-client")
        .field("channel", channel)
        .field("requests_sent", sent)
        .field("responses_received", received)
        .field("verification_errors", verification_errors)
        .field("duration_seconds", duration)
        .field("round_trips_per_second", duration > 0 ? static_cast<double>(received) / duration : 0.0)
        .field("exception_type", exc_type)
        .field("client_pid", static_cast<std::int64_t>(::getpid()))
        .strings("errors", run.errors);
    std::ostringstream human;
    human << "[CLIENT] " << received << " of " << requests << " responses verified in order in " << duration << " s, "
          << verification_errors << " verification errors";
    run.emit(j, human.str());
    return code;
}

}  // namespace interop
