#include "data.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>


namespace interop {

Pattern parse_pattern(const std::string& text, bool allow_none) {
    if (text == "sequential") return Pattern::sequential;
    if (text == "zero") return Pattern::zero;
    if (text == "ones") return Pattern::ones;
    if (allow_none && text == "none") return Pattern::none;
    if (text == "random") {
        throw UsageError("pattern 'random' is not portable between languages (contract §10.3); "
                         "use sequential, zero or ones");
    }
    throw UsageError("unknown pattern '" + text + "' (sequential, zero, ones" + (allow_none ? ", none)" : ")"));
}

const char* to_string(Pattern p) noexcept {
    switch (p) {
        case Pattern::none: return "none";
        case Pattern::sequential: return "sequential";
        case Pattern::zero: return "zero";
        case Pattern::ones: return "ones";
    }
    return "?";
}

PatternSource::PatternSource(Pattern pattern, std::size_t max_size) : pattern_(pattern) { ensure(max_size); }

void PatternSource::ensure(std::size_t size) {
    const std::size_t need = pattern_ == Pattern::sequential ? size + 256 : size;
    if (base_.size() >= need) return;
    const std::size_t old = base_.size();
    base_.resize(need);
    for (std::size_t i = old; i < need; ++i) {
        switch (pattern_) {
            case Pattern::sequential: base_[i] = static_cast<std::byte>(i & 0xFF); break;
            case Pattern::ones: base_[i] = std::byte{0xFF}; break;
            default: base_[i] = std::byte{0}; break;
        }
    }
}

std::span<const std::byte> PatternSource::frame(std::uint64_t index, std::size_t size) {
    ensure(size);
    const std::size_t offset = pattern_ == Pattern::sequential ? static_cast<std::size_t>(index & 0xFF) : 0;
    return {base_.data() + offset, size};
}

void PatternSource::fill(std::span<std::byte> out, std::uint64_t index) {
    const auto src = frame(index, out.size());
    if (!out.empty()) std::memcpy(out.data(), src.data(), out.size());
}

std::int64_t PatternSource::first_mismatch(std::span<const std::byte> data, std::uint64_t index) {
    if (pattern_ == Pattern::none) return -1;
    const auto want = frame(index, data.size());
    if (data.empty() || std::memcmp(data.data(), want.data(), data.size()) == 0) return -1;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] != want[i]) return static_cast<std::int64_t>(i);
    }
    return -1;
}

std::uint64_t splitmix64(std::uint64_t seed, std::uint64_t index) noexcept {
    std::uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    return out;
}
}  // namespace

SizeSchedule SizeSchedule::fixed(std::uint64_t size) {
    SizeSchedule s(Kind::fixed);
    s.a_ = size;
    s.spec_ = std::to_string(size);
    return s;
}

SizeSchedule SizeSchedule::parse(const std::string& spec) {
    if (spec.rfind("mixed:", 0) == 0) {
        const auto parts = split(spec.substr(6), ':');
        if (parts.size() != 3) throw UsageError("--sizes mixed:MIN:MAX:SEED expected, got '" + spec + "'");
        SizeSchedule s(Kind::mixed);
        s.a_ = parse_size(parts[0], "--sizes MIN");
        s.b_ = parse_size(parts[1], "--sizes MAX");
        s.seed_ = static_cast<std::uint64_t>(parse_int(parts[2], "--sizes SEED"));
        if (s.a_ == 0 || s.b_ < s.a_) throw UsageError("--sizes: need 0 < MIN <= MAX in '" + spec + "'");
        s.spec_ = spec;
        return s;
    }
    std::vector<std::uint64_t> list;
    if (spec.rfind("list:", 0) == 0) {
        for (const auto& part : split(spec.substr(5), ',')) list.push_back(parse_size(part, "--sizes list item"));
    } else if (spec.rfind("file:", 0) == 0) {
        std::ifstream in(spec.substr(5));
        if (!in) throw UsageError("--sizes: cannot open '" + spec.substr(5) + "'");
        std::string word;
        while (in >> word) list.push_back(parse_size(word, "size in " + spec.substr(5)));
    } else {
        const std::uint64_t n = parse_size(spec, "--size");
        if (n == 0) throw UsageError("frame size must be > 0");
        return fixed(n);
    }
    if (list.empty()) throw UsageError("--sizes: no sizes in '" + spec + "'");
    for (auto v : list) {
        if (v == 0) throw UsageError("--sizes: a frame size of 0 in '" + spec + "'");
    }
    SizeSchedule s(Kind::list);
    s.list_ = std::move(list);
    s.spec_ = spec;
    return s;
}

std::uint64_t SizeSchedule::size(std::uint64_t index) const noexcept {
    switch (kind_) {
        case Kind::any: return 0;
        case Kind::fixed: return a_;
        case Kind::mixed: return a_ + splitmix64(seed_, index) % (b_ - a_ + 1);
        case Kind::list: return list_[static_cast<std::size_t>(index % list_.size())];
    }
    return 0;
}

std::uint64_t SizeSchedule::max_size() const noexcept {
    switch (kind_) {
        case Kind::any: return 0;
        case Kind::fixed: return a_;
        case Kind::mixed: return b_;
        case Kind::list: {
            std::uint64_t m = 0;
            for (auto v : list_) m = v > m ? v : m;
            return m;
        }
    }
    return 0;
}

std::string SizeSchedule::describe() const { return kind_ == Kind::any ? "any" : spec_; }

std::vector<std::byte> read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open '" + path + "'");
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

void write_file_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write '" + tmp + "'");
        out << text;
        if (!out.flush()) throw std::runtime_error("cannot write '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename '" + tmp + "'");
}

}  // namespace interop
