// zerobuffer cleanup: remove what dead processes left behind, never a live buffer.
#include <iostream>

#include "commands.h"
#include "report_json.h"
#include "text_format.h"
#include "zerobuffer/admin.h"

namespace zbcli {
namespace admin = zerobuffer::admin;

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

void print_entry(const admin::CleanupEntry& e, bool dry_run) {
    switch (e.outcome) {
        case admin::CleanupOutcome::removed:
            std::cout << (dry_run ? "would remove  " : "removed       ") << e.name << " (" << admin::to_string(e.state)
                      << "): " << join(e.removed) << "\n";
            break;
        case admin::CleanupOutcome::nothing_to_do:
            std::cout << "nothing       " << e.name << ": nothing to remove\n";
            break;
        case admin::CleanupOutcome::kept:
            std::cout << "kept          " << e.name << ": " << e.reason << "\n";
            break;
        case admin::CleanupOutcome::refused:
            std::cout << "REFUSED       " << e.name << ": " << e.reason << "\n";
            break;
        case admin::CleanupOutcome::failed:
            std::cout << "FAILED        " << e.name << ": " << e.reason << "\n";
            break;
    }
}

void print_summary(const admin::CleanupReport& report) {
    std::size_t cleaned = 0, kept = 0, refused = 0, failed = 0;
    for (const auto& e : report.entries) {
        if (e.outcome == admin::CleanupOutcome::removed) ++cleaned;
        if (e.outcome == admin::CleanupOutcome::kept) ++kept;
        if (e.outcome == admin::CleanupOutcome::refused) ++refused;
        if (e.outcome == admin::CleanupOutcome::failed) ++failed;
    }
    if (cleaned == 0) {
        std::cout << (report.dry_run ? "dry run: nothing to remove" : "nothing removed");
    } else {
        std::cout << (report.dry_run ? "dry run: would remove " : "removed ") << report.removed_objects()
                  << " object(s) of " << cleaned << " name(s)";
    }
    if (kept > 0) std::cout << "; kept " << kept << " in use or not provably stale";
    if (refused > 0) std::cout << "; refused " << refused;
    if (failed > 0) std::cout << "; failed " << failed;
    std::cout << "\n";
}

}  // namespace

int cmd_cleanup(int argc, char** argv) {
    zbtool::ArgParser p(kProgram, "cleanup",
                        "Remove what dead processes left behind: the segment, semaphores and lock file of a stale "
                        "buffer (its reader is gone), orphaned semaphores and lock files, and temporary segments of "
                        "dead creators. A live buffer is never touched: a live reader, a held lock file, a held C# "
                        "lock or a reader being created all count as live. Name buffers, or use --stale for every "
                        "name on this host.");
    p.positional_list("NAME", "buffers to clean up (or temporary segments, .zb-tmp-<pid>-<n>)");
    p.flag("", "stale", "every stale or orphaned name on this host (live ones are kept and listed)");
    p.option("", "match", "PATTERN", "with --stale: only names matching this shell pattern (fnmatch)");
    p.flag("n", "dry-run", "decide and report, remove nothing");
    p.flag("f", "force", "also remove half-created or foreign segments of the NAMEs given (never a live one)");
    p.flag("", "json", "print the report as one JSON object");
    p.epilog("exit codes: 0 everything asked for was done (also: nothing to do), 1 something was refused or failed,\n"
             "2 bad usage or an invalid name");
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const bool stale = p.has("stale");
    if (stale && !p.args().empty()) throw zbtool::UsageError("give buffer names or --stale, not both");
    if (!stale && p.args().empty()) throw zbtool::UsageError("name the buffers to clean up, or use --stale for all of them");
    if (stale && p.has("force")) throw zbtool::UsageError("--force applies only to buffers named explicitly");
    if (!stale && p.has("match")) throw zbtool::UsageError("--match applies only with --stale");
    validate_names(p.args());

    admin::CleanupOptions options;
    options.dry_run = p.has("dry-run");
    options.force = p.has("force");
    options.match = p.get("match");
    admin::CleanupReport report;
    report.dry_run = options.dry_run;
    if (stale) {
        report = admin::cleanup_stale(options);
    } else {
        for (const std::string& name : p.args()) {
            for (auto& e : admin::remove_if_stale(name, options).entries) report.entries.push_back(std::move(e));
        }
    }
    if (p.has("json")) {
        std::cout << cleanup_json(report).str() << std::endl;
    } else {
        for (const auto& e : report.entries) print_entry(e, report.dry_run);
        print_summary(report);
    }
    return report.ok() ? kExitOk : kExitFailed;
}

}  // namespace zbcli
