// A small JSON writer shared by the zerobuffer tools: objects are built field by field, in
// order, and may nest (objects in objects, arrays of objects). Output is one line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zbtool {

class Json {
public:
    Json& field(const std::string& key, const std::string& value);
    Json& field(const std::string& key, const char* value);
    Json& field(const std::string& key, std::uint64_t value);
    Json& field(const std::string& key, std::int64_t value);
    Json& field(const std::string& key, int value) { return field(key, static_cast<std::int64_t>(value)); }
    Json& field(const std::string& key, double value);
    Json& field(const std::string& key, bool value);
    Json& field(const std::string& key, const Json& object);          // a nested object
    Json& field(const std::string& key, const std::optional<std::uint64_t>& value);  // null when empty
    Json& field_null(const std::string& key);
    Json& raw(const std::string& key, const std::string& json_text);
    Json& strings(const std::string& key, const std::vector<std::string>& values);
    Json& objects(const std::string& key, const std::vector<Json>& values);  // an array of objects
    std::string str() const { return "{" + body_ + "}"; }
    static std::string quote(const std::string& s);

private:
    void key(const std::string& k);
    std::string body_;
};

}  // namespace zbtool
