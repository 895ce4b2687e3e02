#pragma once
// The safetensors JSON header, parsed into a DOM in O(n log n) time for n keys. nlohmann-json's
// own DOM parser would silently collapse a duplicate key to its last value, and its callback
// parser (which can see keys) rescans the enclosing object as each member closes, quadratic in
// the number of tensors (issue 34: 80,000 entries took 80 s). So the DOM is built by a SAX
// handler of our own that checks each key against the object it goes into before inserting it.

#include <nlohmann/json.hpp>
#include <string>

namespace gpurnn::io::detail {

// The deepest nesting of arrays and objects a header may have. A real header nests three deep
// (the header object, a tensor entry, its shape list); the limit keeps every recursive walk of
// the parsed value (dump, destruction) far from the stack's end.
constexpr int kMaxHeaderDepth = 32;

// Parses [begin, end) as the header of the file `origin`. Error(io_error) naming `origin`, in
// this order of precedence: the first place where the text is not JSON (nlohmann's message) or
// nests deeper than kMaxHeaderDepth; a value that is not an object; the first duplicate key
// among tensor names, a tensor entry's keys and __metadata__'s keys. Deeper duplicate keys keep
// their last value, as nlohmann-json's DOM does (every value that deep is refused later anyway).
nlohmann::json parse_safetensors_header(const char* begin, const char* end,
                                        const std::string& origin);

// At most 80 characters of `value` as JSON. Containers are summarised from their first few
// members, so a large or deep value is never dumped whole.
std::string snippet(const nlohmann::json& value);

}  // namespace gpurnn::io::detail
