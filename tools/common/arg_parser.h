// Command-line parsing shared by the zerobuffer tools (zerobuffer, zerobuffer-interop): GNU-style
// short (-n 5) and long (--frames 5, --frames=5) options, flags, and positional arguments.
// No dependencies. One ArgParser describes one subcommand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace zbtool {

// Bad command line: the program prints the message and a pointer to --help, and exits with its
// usage exit code.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ArgParser {
public:
    // `program` and `command` start the usage line ("usage: zerobuffer cleanup ...").
    ArgParser(std::string program, std::string command, std::string summary);

    // A boolean switch, e.g. flag("v", "verbose", "...").  short_name may be empty.
    ArgParser& flag(const std::string& short_name, const std::string& long_name, const std::string& help);
    // An option that takes a value; `fallback` is shown in the help and returned by get() when
    // the option is absent (an empty fallback means "no default").
    ArgParser& option(const std::string& short_name, const std::string& long_name, const std::string& metavar,
                      const std::string& help, const std::string& fallback = "");
    // A required positional argument.
    ArgParser& positional(const std::string& name, const std::string& help);
    // After the required positionals: any number (at least `min`) of further arguments
    // ("NAME..."). Without it, extra arguments are a UsageError.
    ArgParser& positional_list(const std::string& name, const std::string& help, std::size_t min = 0);
    // Free text printed at the end of the help (exit codes, examples).
    ArgParser& epilog(const std::string& text);

    // Parses argv[first..argc). Throws UsageError. "-h"/"--help" sets help_requested().
    void parse(int argc, char** argv, int first);

    bool help_requested() const noexcept { return help_; }
    // parse(), then, if -h/--help was given, prints usage() to standard output and returns false:
    // the subcommand then exits with success without doing anything.
    bool parse_or_print_help(int argc, char** argv, int first);
    bool has(const std::string& long_name) const;  // given on the command line
    std::string get(const std::string& long_name) const;
    std::int64_t get_int(const std::string& long_name, std::int64_t min, std::int64_t max) const;
    std::uint64_t get_size(const std::string& long_name) const;  // accepts K/M/G suffixes (powers of 1024)
    const std::string& arg(std::size_t i) const { return positionals_.at(i); }
    // Every positional argument, the required ones first.
    const std::vector<std::string>& args() const noexcept { return positionals_; }
    std::string usage() const;

private:
    struct Spec {
        std::string short_name;
        std::string long_name;
        bool takes_value = false;
        std::string metavar;
        std::string help;
        std::string fallback;
    };
    struct ListSpec {
        std::string name;
        std::string help;
        std::size_t min = 0;
    };
    const Spec& find_long(const std::string& long_name) const;
    const Spec* lookup(const std::string& token, bool is_long) const;
    void check_positionals() const;

    std::string program_;
    std::string command_;
    std::string summary_;
    std::string epilog_;
    std::vector<Spec> specs_;
    std::vector<std::pair<std::string, std::string>> positional_specs_;
    std::vector<ListSpec> list_spec_;  // zero or one
    std::map<std::string, std::string> values_;  // long name -> value ("" for flags)
    std::vector<std::string> positionals_;
    bool help_ = false;
};

// Parses a decimal integer with an optional K/M/G (x1024) suffix; throws UsageError naming `what`.
std::uint64_t parse_size(const std::string& text, const std::string& what);
std::int64_t parse_int(const std::string& text, const std::string& what);

}  // namespace zbtool
