#include "arg_parser.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <sstream>

namespace zbtool {

ArgParser::ArgParser(std::string program, std::string command, std::string summary)
    : program_(std::move(program)), command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser& ArgParser::flag(const std::string& short_name, const std::string& long_name, const std::string& help) {
    specs_.push_back({short_name, long_name, false, "", help, ""});
    return *this;
}

ArgParser& ArgParser::option(const std::string& short_name, const std::string& long_name, const std::string& metavar,
                             const std::string& help, const std::string& fallback) {
    specs_.push_back({short_name, long_name, true, metavar, help, fallback});
    return *this;
}

ArgParser& ArgParser::positional(const std::string& name, const std::string& help) {
    positional_specs_.emplace_back(name, help);
    return *this;
}

ArgParser& ArgParser::positional_list(const std::string& name, const std::string& help, std::size_t min) {
    list_spec_.assign(1, ListSpec{name, help, min});
    return *this;
}

ArgParser& ArgParser::epilog(const std::string& text) {
    epilog_ = text;
    return *this;
}

const ArgParser::Spec* ArgParser::lookup(const std::string& token, bool is_long) const {
    for (const auto& s : specs_) {
        if (is_long ? s.long_name == token : (!s.short_name.empty() && s.short_name == token)) return &s;
    }
    return nullptr;
}

const ArgParser::Spec& ArgParser::find_long(const std::string& long_name) const {
    const Spec* s = lookup(long_name, true);
    if (s == nullptr) throw std::logic_error(program_ + ": option --" + long_name + " was never declared");
    return *s;
}

void ArgParser::parse(int argc, char** argv, int first) {
    bool only_positionals = false;
    for (int i = first; i < argc; ++i) {
        std::string tok = argv[i];
        if (only_positionals || tok.size() < 2 || tok[0] != '-') {
            positionals_.push_back(tok);
            continue;
        }
        if (tok == "--") {
            only_positionals = true;
            continue;
        }
        if (tok == "-h" || tok == "--help") {
            help_ = true;
            continue;
        }
        const bool is_long = tok.rfind("--", 0) == 0;
        std::string name = tok.substr(is_long ? 2 : 1);
        std::string inline_value;
        bool has_inline = false;
        if (is_long) {
            if (auto eq = name.find('='); eq != std::string::npos) {
                inline_value = name.substr(eq + 1);
                name = name.substr(0, eq);
                has_inline = true;
            }
        } else if (name.size() > 1) {  // -n5
            inline_value = name.substr(1);
            name = name.substr(0, 1);
            has_inline = true;
        }
        const Spec* spec = lookup(name, is_long);
        if (spec == nullptr) throw UsageError("unknown option '" + tok + "'");
        if (!spec->takes_value) {
            if (has_inline) throw UsageError("option --" + spec->long_name + " takes no value");
            values_[spec->long_name] = "";
            continue;
        }
        if (has_inline) {
            values_[spec->long_name] = inline_value;
        } else {
            if (i + 1 >= argc) throw UsageError("option --" + spec->long_name + " needs a value (" + spec->metavar + ")");
            values_[spec->long_name] = argv[++i];
        }
    }
    if (!help_) check_positionals();
}

void ArgParser::check_positionals() const {
    if (positionals_.size() < positional_specs_.size()) {
        throw UsageError("missing argument " + positional_specs_[positionals_.size()].first);
    }
    const std::size_t extra = positionals_.size() - positional_specs_.size();
    if (list_spec_.empty()) {
        if (extra > 0) throw UsageError("unexpected argument '" + positionals_[positional_specs_.size()] + "'");
        return;
    }
    if (extra < list_spec_.front().min) {
        throw UsageError("missing argument " + list_spec_.front().name + " (at least " +
                         std::to_string(list_spec_.front().min) + " expected)");
    }
}

bool ArgParser::has(const std::string& long_name) const {
    (void)find_long(long_name);
    return values_.count(long_name) != 0;
}

std::string ArgParser::get(const std::string& long_name) const {
    const Spec& s = find_long(long_name);
    auto it = values_.find(long_name);
    return it != values_.end() ? it->second : s.fallback;
}

std::int64_t ArgParser::get_int(const std::string& long_name, std::int64_t min, std::int64_t max) const {
    const std::int64_t v = parse_int(get(long_name), "--" + long_name);
    if (v < min || v > max) {
        throw UsageError("--" + long_name + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                         "], got " + std::to_string(v));
    }
    return v;
}

std::uint64_t ArgParser::get_size(const std::string& long_name) const {
    return parse_size(get(long_name), "--" + long_name);
}

namespace {

// `text` as lines of at most `width` characters (longer words stay whole), each after `indent`.
std::string wrapped(const std::string& text, const std::string& indent, std::size_t width = 96) {
    std::string out;
    std::string line;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
        if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
            out += indent + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += indent + line + "\n";
    return out;
}

}  // namespace

std::string ArgParser::usage() const {
    std::ostringstream out;
    out << "usage: " << program_ << ' ' << command_;
    for (const auto& [name, help] : positional_specs_) out << ' ' << name;
    for (const auto& list : list_spec_) out << (list.min > 0 ? " " : " [") << list.name << "..." << (list.min > 0 ? "" : "]");
    out << " [options]\n" << wrapped(summary_, "  ");
    if (!positional_specs_.empty() || !list_spec_.empty()) {
        out << "arguments:\n";
        for (const auto& [name, help] : positional_specs_) out << "  " << name << "\n" << wrapped(help, "      ");
        for (const auto& list : list_spec_) out << "  " << list.name << "...\n" << wrapped(list.help, "      ");
    }
    out << "options:\n";
    for (const auto& s : specs_) {
        out << "  ";
        if (!s.short_name.empty()) out << '-' << s.short_name << ", ";
        out << "--" << s.long_name;
        if (s.takes_value) out << ' ' << s.metavar;
        out << "\n" << wrapped(s.help + (s.takes_value && !s.fallback.empty() ? " (default: " + s.fallback + ")" : ""),
                              "      ");
    }
    out << "  -h, --help\n      show this help\n";
    if (!epilog_.empty()) out << epilog_ << (epilog_.back() == '\n' ? "" : "\n");
    return out.str();
}

std::int64_t parse_int(const std::string& text, const std::string& what) {
    if (text.empty()) throw UsageError(what + ": a number is required");
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0') {
        throw UsageError(what + ": '" + text + "' is not an integer");
    }
    return static_cast<std::int64_t>(v);
}

std::uint64_t parse_size(const std::string& text, const std::string& what) {
    if (text.empty()) throw UsageError(what + ": a size is required");
    std::string digits = text;
    std::uint64_t mult = 1;
    switch (digits.back()) {
        case 'K': case 'k': mult = 1024ull; digits.pop_back(); break;
        case 'M': case 'm': mult = 1024ull * 1024; digits.pop_back(); break;
        case 'G': case 'g': mult = 1024ull * 1024 * 1024; digits.pop_back(); break;
        default: break;
    }
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError(what + ": '" + text + "' is not a size (digits with an optional K, M or G)");
    }
    errno = 0;
    const unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
    if (errno != 0 || v > std::numeric_limits<std::uint64_t>::max() / mult) {
        throw UsageError(what + ": '" + text + "' is too large");
    }
    return static_cast<std::uint64_t>(v) * mult;
}

bool ArgParser::parse_or_print_help(int argc, char** argv, int first) {
    parse(argc, argv, first);
    if (!help_) return true;
    std::cout << usage();
    return false;
}

}  // namespace zbtool
