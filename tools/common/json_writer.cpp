#include "json_writer.h"

#include <cmath>
#include <cstdio>

namespace zbtool {

std::string Json::quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    return out + "\"";
}

void Json::key(const std::string& k) {
    if (!body_.empty()) body_ += ", ";
    body_ += quote(k) + ": ";
}

Json& Json::field(const std::string& k, const std::string& v) {
    key(k);
    body_ += quote(v);
    return *this;
}

Json& Json::field(const std::string& k, const char* v) { return field(k, std::string(v)); }

Json& Json::field(const std::string& k, std::uint64_t v) {
    key(k);
    body_ += std::to_string(v);
    return *this;
}

Json& Json::field(const std::string& k, std::int64_t v) {
    key(k);
    body_ += std::to_string(v);
    return *this;
}

Json& Json::field(const std::string& k, double v) {
    key(k);
    if (!std::isfinite(v)) {  // JSON has no NaN or infinity
        body_ += "null";
        return *this;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    body_ += buf;
    return *this;
}

Json& Json::field(const std::string& k, bool v) {
    key(k);
    body_ += v ? "true" : "false";
    return *this;
}

Json& Json::field(const std::string& k, const Json& object) { return raw(k, object.str()); }

Json& Json::field(const std::string& k, const std::optional<std::uint64_t>& value) {
    return value ? field(k, *value) : field_null(k);
}

Json& Json::field_null(const std::string& k) {
    key(k);
    body_ += "null";
    return *this;
}

Json& Json::raw(const std::string& k, const std::string& json_text) {
    key(k);
    body_ += json_text;
    return *this;
}

Json& Json::strings(const std::string& k, const std::vector<std::string>& values) {
    key(k);
    body_ += "[";
    for (std::size_t i = 0; i < values.size(); ++i) body_ += (i ? ", " : "") + quote(values[i]);
    body_ += "]";
    return *this;
}

Json& Json::objects(const std::string& k, const std::vector<Json>& values) {
    key(k);
    body_ += "[";
    for (std::size_t i = 0; i < values.size(); ++i) body_ += (i ? ", " : "") + values[i].str();
    body_ += "]";
    return *this;
}

}  // namespace zbtool
