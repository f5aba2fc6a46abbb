// The JSON file: settings, machine, load averages, every repetition of every cell, the cell
// summaries and paired ratios, and the targets. Schema "zerobuffer-side-by-side/1" (see
// docs/benchmarks.md).
#include <cmath>
#include <cstdio>
#include <string>

#include "report.h"

namespace sbs {
namespace {

// A small streaming JSON writer: commas and nesting are tracked, NaN is written as null.
class Json {
public:
    void open(char bracket) {
        separate();
        out_ += bracket;
        first_.push_back(true);
    }
    void close(char bracket) {
        out_ += bracket;
        first_.pop_back();
    }
    Json& key(const char* k) {
        separate();
        string_literal(k);
        out_ += ':';
        pending_value_ = true;
        return *this;
    }
    void value(double v) {
        separate();
        if (std::isnan(v) || std::isinf(v)) {
            out_ += "null";
            return;
        }
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.10g", v);
        out_ += buffer;
    }
    void value(const std::string& s) {
        separate();
        string_literal(s);
    }
    void value(bool b) {
        separate();
        out_ += b ? "true" : "false";
    }
    const std::string& text() const { return out_; }

private:
    void separate() {
        if (pending_value_) {
            pending_value_ = false;
            return;
        }
        if (!first_.empty()) {
            if (!first_.back()) out_ += ',';
            first_.back() = false;
        }
    }
    void string_literal(const std::string& s) {
        out_ += '"';
        for (char c : s) {
            if (c == '"' || c == '\\') {
                out_ += '\\';
                out_ += c;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out_ += buffer;
            } else {
                out_ += c;
            }
        }
        out_ += '"';
    }
    std::string out_;
    std::vector<bool> first_;
    bool pending_value_ = false;
};

void spread_object(Json& j, const char* name, const Spread& s) {
    j.key(name).open('{');
    j.key("n").value(static_cast<double>(s.n));
    j.key("median").value(s.n > 0 ? s.median : NAN);
    j.key("min").value(s.n > 0 ? s.min : NAN);
    j.key("max").value(s.n > 0 ? s.max : NAN);
    j.close('}');
}

void paired_object(Json& j, const char* name, const Paired& p, Metric metric) {
    j.key(name).open('{');
    j.key("metric").value(std::string(metric == Metric::frames_per_s ? "frames_per_s" : "p50_ns"));
    j.key("per_rep").open('[');
    for (double v : p.per_rep) j.value(v);
    j.close(']');
    j.key("median").value(p.spread.n > 0 ? p.spread.median : NAN);
    j.key("min").value(p.spread.n > 0 ? p.spread.min : NAN);
    j.key("max").value(p.spread.n > 0 ? p.spread.max : NAN);
    j.close('}');
}

void resources_object(Json& j, const char* name, const Resources& r, double frames) {
    j.key(name).open('{');
    j.key("minflt").value(r.minflt / frames);
    j.key("majflt").value(r.majflt / frames);
    j.key("syscalls").value(r.syscalls >= 0 ? r.syscalls / frames : NAN);
    j.key("voluntary_switches").value(r.voluntary_switches / frames);
    j.key("involuntary_switches").value(r.involuntary_switches / frames);
    j.key("cpu_us").value(r.cpu_us / frames);
    j.close('}');
}

void measurement_object(Json& j, const Measurement& m, Kind kind) {
    j.open('{');
    j.key("ok").value(m.ok);
    if (!m.ok) j.key("error").value(std::string(m.error));
    if (m.ok && kind == Kind::throughput) {
        j.key("frames").value(static_cast<double>(m.frames));
        j.key("seconds").value(m.seconds);
        j.key("frames_per_s").value(m.frames_per_s());
        j.key("gb_per_s").value(m.gb_per_s());
    }
    if (m.ok && kind == Kind::latency) {
        j.key("samples").value(static_cast<double>(m.samples));
        j.key("p50_ns").value(m.p50_ns);
        j.key("p99_ns").value(m.p99_ns);
        j.key("max_ns").value(m.max_ns);
    }
    if (m.ok && m.has_resources && m.frames > 0) {
        j.key("per_frame").open('{');
        resources_object(j, "writer", m.sender, static_cast<double>(m.frames));
        resources_object(j, "reader", m.receiver, static_cast<double>(m.frames));
        j.close('}');
    }
    j.close('}');
}

void load_array(Json& j, const std::array<double, 3>& load) {
    j.open('[');
    for (double v : load) j.value(v);
    j.close(']');
}

}  // namespace

bool write_json(const std::string& path, const Results& results, const RunInfo& info,
                const std::vector<Target>& targets) {
    Json j;
    j.open('{');
    j.key("schema").value(std::string("zerobuffer-side-by-side/1"));
    j.key("started").value(info.started);
    j.key("elapsed_s").value(info.elapsed_s);
    j.key("machine").open('{');
    j.key("cpu").value(info.cpu_model);
    j.key("cpus_online").value(static_cast<double>(info.cpus_online));
    j.key("kernel").value(info.kernel);
    j.close('}');
    j.key("settings").open('{');
    j.key("reps").value(static_cast<double>(info.settings.reps));
    j.key("seconds").value(info.settings.seconds);
    j.key("writer_cpu").value(static_cast<double>(info.settings.cpu[0]));
    j.key("reader_cpu").value(static_cast<double>(info.settings.cpu[1]));
    j.close('}');
    j.key("load_average").open('{');
    j.key("start");
    load_array(j, info.load_start);
    j.key("end");
    load_array(j, info.load_end);
    j.key("after_rep").open('[');
    for (const auto& load : info.load_after_rep) load_array(j, load);
    j.close(']');
    j.close('}');
    j.key("syscall_counting").open('{');
    j.key("available").value(info.syscalls.tracepoint_id >= 0);
    j.key("method").value(info.syscalls.method);
    j.key("why_not").value(info.syscalls.why_not);
    j.close('}');

    j.key("rows").open('[');
    for (const RowInfo& row : kRows) {
        j.open('{');
        j.key("key").value(std::string(row.key));
        j.key("title").value(std::string(row.title));
        j.key("kind").value(std::string(row.kind == Kind::throughput ? "throughput" : "latency"));
        j.key("frame_bytes").value(static_cast<double>(row.frame));
        j.key("zero_copy").value(row.copy == Copy::zero_copy);
        j.key("ring_bytes").value(static_cast<double>(ring_bytes(row.frame)));
        j.key("systems").open('[');
        for (System system : kAllSystems) {
            if (!results.has(row.row, system)) continue;
            const CellSummary c = summarise_cell(results, row.row, system);
            j.open('{');
            j.key("system").value(std::string(system_key(system)));
            j.key("name").value(system == System::floor ? floor_label(row.row) : std::string(system_name(system)));
            j.key("reps").open('[');
            for (const Measurement& m : results.cell(row.row, system)) measurement_object(j, m, row.kind);
            j.close(']');
            j.key("summary").open('{');
            if (row.kind == Kind::throughput) {
                spread_object(j, "frames_per_s", c.frames_per_s);
                spread_object(j, "gb_per_s", c.gb_per_s);
            } else {
                spread_object(j, "p50_ns", c.p50_ns);
                spread_object(j, "p99_ns", c.p99_ns);
                spread_object(j, "max_ns", c.max_ns);
            }
            if (c.has_resources) {
                j.key("per_frame").open('{');
                spread_object(j, "faults", c.per_frame.faults);
                spread_object(j, "major_faults", c.per_frame.major_faults);
                spread_object(j, "syscalls", c.per_frame.syscalls);
                spread_object(j, "context_switches", c.per_frame.switches);
                spread_object(j, "cpu_us", c.per_frame.cpu_us);
                j.close('}');
            }
            j.close('}');
            if (c.has_peer) paired_object(j, "vs_best_peer", c.vs_peer, c.ratio_metric);
            if (c.has_floor) paired_object(j, "vs_floor", c.vs_floor, c.ratio_metric);
            j.close('}');
        }
        j.close(']');
        j.close('}');
    }
    j.close(']');

    j.key("targets").open('[');
    for (const Target& t : targets) {
        j.open('{');
        j.key("name").value(t.name);
        j.key("value").value(t.value);
        j.key("worst").value(t.worst);
        j.key("comparison").value(std::string(t.at_least ? (t.strict ? ">" : ">=") : (t.strict ? "<" : "<=")));
        j.key("threshold").value(t.threshold);
        j.key("status").value(std::string(t.status()));
        if (!t.why_na.empty()) j.key("why_na").value(t.why_na);
        j.close('}');
    }
    j.close(']');
    j.close('}');

    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(j.text().data(), 1, j.text().size(), f) == j.text().size() && std::fputc('\n', f) != EOF;
    return std::fclose(f) == 0 && ok;
}

}  // namespace sbs
