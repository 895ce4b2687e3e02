// The safetensors header's SAX handler: builds the DOM itself, one value at a time, so each
// key costs one lookup in the object it goes into (O(log n)) and the whole parse is
// O(n log n) in the number of keys, where nlohmann's callback parser was O(n^2).
#include "io/safetensors_header.h"

#include <utility>
#include <vector>

#include "core/quoted.h"
#include "gpurnn/error.h"

namespace gpurnn::io::detail {
namespace {

using json = nlohmann::json;

// Implements nlohmann's json_sax interface (sax_parse calls these by name). A call returns false,
// which stops the parse, only on a syntax error (parse_error) and instead of opening a container
// with kMaxHeaderDepth containers open around it.
class HeaderBuilder {
 public:
  json root;
  std::string syntax_error;  // nlohmann's message; empty when the text is JSON
  bool too_deep = false;
  std::string duplicate;  // the first duplicate key in words, as "header has a ..." goes on

  bool null() { return put(nullptr); }
  bool boolean(bool value) { return put(value); }
  bool number_integer(json::number_integer_t value) { return put(value); }
  bool number_unsigned(json::number_unsigned_t value) { return put(value); }
  bool number_float(json::number_float_t value, const std::string& /*text*/) { return put(value); }
  bool string(std::string& value) { return put(std::move(value)); }
  bool binary(json::binary_t& value) { return put(json::binary(std::move(value))); }

  bool start_object(std::size_t /*elements*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*elements*/) { return open(json::value_t::array); }
  bool end_object() {
    --open_objects_;
    open_.pop_back();
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }

  // The next value goes into the innermost open object under `key`. A key already there is
  // recorded (the first one only, and only in the header object or an object directly inside
  // it) and its slot reused, so the later value replaces the earlier one.
  bool key(std::string& key) {
    if (open_objects_ == 1) header_key_ = key;
    json::object_t& object = open_.back()->get_ref<json::object_t&>();
    auto it = object.lower_bound(key);
    if (it != object.end() && it->first == key) {
      note_duplicate(key);
      it->second = nullptr;
    } else {
      it = object.emplace_hint(it, std::move(key), nullptr);
    }
    slot_ = &it->second;
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    syntax_error = error.what();
    return false;
  }

 private:
  // Places a finished scalar or a new container: as the root, appended to the innermost open
  // array, or into the slot its key made. Returns where it now lives.
  json* place(json&& value) {
    if (open_.empty()) {
      root = std::move(value);
      return &root;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      json::array_t& array = parent.get_ref<json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();  // stays valid: nothing is appended to `array` while it is open
    }
    *slot_ = std::move(value);
    return slot_;
  }
  bool put(json&& value) {
    place(std::move(value));
    return true;
  }
  bool open(json::value_t type) {
    // open_.size() counts the containers around this one; stop before building a deeper one.
    if (open_.size() >= static_cast<std::size_t>(kMaxHeaderDepth)) {
      too_deep = true;
      return false;
    }
    open_.push_back(place(json(type)));
    if (type == json::value_t::object) ++open_objects_;
    return true;
  }
  void note_duplicate(const std::string& key) {
    if (!duplicate.empty()) return;
    if (open_objects_ == 1) {
      duplicate = "duplicate tensor name " + gpurnn::detail::quoted(key);
    } else if (open_objects_ == 2) {
      duplicate = (header_key_ == "__metadata__" ? header_key_ : "tensor " + gpurnn::detail::quoted(header_key_)) +
                  ": duplicate key " + gpurnn::detail::quoted(key);
    }
  }

  std::vector<json*> open_;  // the containers being filled, outermost first
  int open_objects_ = 0;     // how many of them are objects
  json* slot_ = nullptr;     // where the innermost open object's next value goes
  std::string header_key_;   // the header object's latest key
};

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::io_error, origin + ": " + what);
}

}  // namespace

json parse_safetensors_header(const char* begin, const char* end, const std::string& origin) {
  HeaderBuilder builder;
  if (!json::sax_parse(begin, end, &builder)) {
    if (builder.too_deep) {
      fail(origin, "header nests arrays and objects more than " + std::to_string(kMaxHeaderDepth) +
                       " deep (a safetensors header nests 3)");
    }
    fail(origin, "header is not valid JSON: " + gpurnn::detail::escaped(builder.syntax_error, 240));
  }
  if (!builder.root.is_object())
    fail(origin, "header is not a JSON object (got " + snippet(builder.root) + ")");
  if (!builder.duplicate.empty()) fail(origin, "header has a " + builder.duplicate);
  return std::move(builder.root);
}

std::string snippet(const json& value) {
  std::string text;
  if (value.is_array() || value.is_object()) {
    const bool array = value.is_array();
    text = array ? "[" : "{";
    std::size_t shown = 0;
    for (auto it = value.begin(); it != value.end() && text.size() <= 80; ++it, ++shown) {
      if (shown > 0) text += ", ";
      if (!array) text += json(it.key()).dump(-1, ' ', true) + ": ";
      text += (it->is_array() || it->is_object()) ? (it->is_array() ? "[...]" : "{...}") : it->dump(-1, ' ', true);
    }
    text += array ? "]" : "}";
  } else {
    text = value.dump(-1, ' ', true);  // ASCII only (\uXXXX beyond), so cutting it splits no character
  }
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

}  // namespace gpurnn::io::detail
