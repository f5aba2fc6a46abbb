// zerobuffer watch NAME...: a live view of frames/s, MiB/s, fill level and liveness verdicts.
// Between refreshes the headers are read every 2 ms to follow the ring (watch_rates.h). On a terminal the screen is redrawn with ANSI sequences; otherwise one plain line per buffer
// and sample is printed. SIGINT and SIGTERM end it cleanly (exit 0).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include "commands.h"
#include "report_json.h"
#include "text_format.h"
#include "watch_rates.h"
#include "zerobuffer/admin.h"
#include "zerobuffer/exceptions.h"

namespace zbcli {
namespace admin = zerobuffer::admin;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop(int) { g_stop.store(true); }

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// How often the header is read between two refreshes, so that the ring's position is seen at
// least once per turn (watch_rates.h): one pread per buffer each time.
constexpr auto kSampleEvery = std::chrono::milliseconds(2);

struct Watched {
    std::string name;
    std::optional<admin::HeaderReader> header;
    RateMeter meter;

    void sample() {
        if (!header) return;
        if (const auto o = header->read()) {
            meter.add({Clock::now(), o->payload_size, o->payload_write_pos, o->payload_written_count});
        }
    }
    // After a refresh found the buffer: (re)open the header if it is new or was re-created.
    void follow(bool has_v1_header) {
        if (!has_v1_header) {
            header.reset();
            meter.reset();
            return;
        }
        if (header && header->current()) return;
        meter.reset();
        try {
            header.emplace(name);
        } catch (const std::exception&) {
            header.reset();  // gone again: the next refresh shows it
        }
    }
};

// Samples every buffer's header until `until`, every kSampleEvery, and notices a stop request.
// False if stopped.
bool sample_until(Clock::time_point until, std::vector<Watched>& watched) {
    while (!g_stop.load()) {
        for (Watched& w : watched) w.sample();
        const auto now = Clock::now();
        if (now >= until) return true;
        std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kSampleEvery));
    }
    return false;
}

struct Row {
    std::string name;
    std::optional<admin::BufferInfo> info;   // nullopt: nothing exists under the name now
    std::optional<Rates> rates;
    std::string error;
};

std::string wall_clock() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

// "-" before there is a rate; MiB/s gets a ">=" when it is a lower bound (watch_rates.h).
std::string rate_text(const std::optional<Rates>& r, bool frames) {
    if (!r) return "-";
    char buf[32];
    if (frames) {
        std::snprintf(buf, sizeof buf, "%.1f", r->frames_per_second);
    } else {
        std::snprintf(buf, sizeof buf, "%s%.2f", r->mib_lower_bound ? ">=" : "", r->mib_per_second);
    }
    return buf;
}

void print_screen(const std::vector<Row>& rows, std::int64_t interval_ms) {
    std::cout << "\x1b[H\x1b[2J";  // home, clear screen
    std::cout << "zerobuffer watch   " << wall_clock() << "   every " << interval_ms << " ms   (Ctrl-C to stop)\n\n";
    Table t({"NAME", "STATE", "FRAMES/S", "MiB/s", "FILL", "WRITTEN", "READ", "WRITER", "READER"});
    for (const Row& r : rows) {
        if (!r.info) {
            t.add({r.name, r.error.empty() ? "absent" : "error", "-", "-", "-", "-", "-", "-", "-"});
            continue;
        }
        const admin::BufferInfo& b = *r.info;
        const bool h = b.health.has_value();
        t.add({b.name, admin::to_string(b.state), rate_text(r.rates, true), rate_text(r.rates, false),
               h ? percent(b.health->utilisation) : "-", h ? std::to_string(b.health->written_count) : "-",
               h ? std::to_string(b.health->read_count) : "-", peer_text(b.writer), peer_text(b.reader)});
    }
    t.print(std::cout);
    for (const Row& r : rows) {
        if (!r.error.empty()) std::cout << "\n" << r.name << ": " << r.error;
    }
    std::cout << std::flush;
}

void print_lines(const std::vector<Row>& rows) {
    const std::string now = wall_clock();
    for (const Row& r : rows) {
        std::cout << now << " " << r.name;
        if (!r.info) {
            std::cout << " state=" << (r.error.empty() ? "absent" : "error: " + r.error) << "\n";
            continue;
        }
        const admin::BufferInfo& b = *r.info;
        std::cout << " state=" << admin::to_string(b.state) << " frames/s=" << rate_text(r.rates, true)
                  << " MiB/s=" << rate_text(r.rates, false);
        if (b.health) {
            std::cout << " fill=" << percent(b.health->utilisation) << " written=" << b.health->written_count
                      << " read=" << b.health->read_count;
        }
        std::cout << " writer=" << peer_text(b.writer) << " reader=" << peer_text(b.reader) << "\n";
    }
    std::cout << std::flush;
}

void print_json(const std::vector<Row>& rows, std::uint64_t sample) {
    std::vector<zbtool::Json> buffers;
    for (const Row& r : rows) {
        zbtool::Json j;
        j.field("name", r.name).field("state", r.info ? admin::to_string(r.info->state) : "absent");
        if (r.rates) {
            j.field("frames_per_second", r.rates->frames_per_second)
                .field("mib_per_second", r.rates->mib_per_second)
                .field("mib_per_second_is_lower_bound", r.rates->mib_lower_bound);
        } else {
            j.field_null("frames_per_second").field_null("mib_per_second").field_null("mib_per_second_is_lower_bound");
        }
        if (r.info && r.info->health) j.field("health", health_json(*r.info->health)); else j.field_null("health");
        if (r.info) j.field("writer", peer_json(r.info->writer)).field("reader", peer_json(r.info->reader));
        buffers.push_back(j.field("error", r.error));
    }
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::cout << zbtool::Json().field("sample", sample).field("time", now).objects("buffers", buffers).str() << std::endl;
}

}  // namespace

int cmd_watch(int argc, char** argv) {
    zbtool::ArgParser p(kProgram, "watch",
                        "Live view of buffers: frames/s and MiB/s (from written_count and write_pos movement), fill "
                        "level, counters and the liveness verdicts of writer and reader, refreshed every interval. "
                        "On a terminal the screen is redrawn; otherwise one line per buffer and sample. Ctrl-C or "
                        "SIGTERM stops it (exit 0).");
    p.positional_list("NAME", "buffers to watch", 1);
    p.option("", "interval-ms", "N", "refresh interval in milliseconds (50..3600000)", "1000");
    p.option("", "count", "N", "stop after N samples; 0 = until stopped", "0");
    p.flag("", "json", "one JSON object per sample and line (JSON Lines) instead of text");
    p.epilog(kExitCodesHelp);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const auto interval_ms = p.get_int("interval-ms", 50, 3'600'000);
    const auto count = static_cast<std::uint64_t>(p.get_int("count", 0, INT64_MAX));
    validate_names(p.args());
    for (const std::string& name : p.args()) (void)admin::inspect(name);  // BufferNotFoundException: exit 1

    install_stop_handlers();
    const bool json = p.has("json");
    const bool tty = !json && ::isatty(STDOUT_FILENO) == 1;
    std::vector<Watched> watched;
    for (const std::string& name : p.args()) watched.push_back(Watched{name, std::nullopt, RateMeter{}});
    auto next = Clock::now();
    for (std::uint64_t sample = 1; !g_stop.load(); ++sample) {
        std::vector<Row> rows;
        for (Watched& w : watched) {
            w.sample();
            Row row{w.name, std::nullopt, std::nullopt, {}};
            try {
                row.info = admin::inspect(w.name);
            } catch (const zerobuffer::BufferNotFoundException&) {
                // gone: shown as absent
            } catch (const std::exception& e) {
                row.error = e.what();
            }
            row.rates = w.meter.take();
            w.follow(row.info && row.info->health.has_value());
            rows.push_back(std::move(row));
        }
        if (json) print_json(rows, sample);
        else if (tty) print_screen(rows, interval_ms);
        else print_lines(rows);
        if (count != 0 && sample >= count) break;
        next += std::chrono::milliseconds(interval_ms);
        if (!sample_until(next, watched)) break;
    }
    if (tty) std::cout << "\n";
    return kExitOk;
}

}  // namespace zbcli
