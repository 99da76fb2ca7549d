// Driving weft::dist workers by hand, as an executor would, through raw
// Redis commands: task entries written with XADD, results and dead letters
// read back with XREAD / XRANGE, payloads decoded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/codec.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/dist/redis.hpp"
#include "weft/dist/registry.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::dist::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

// One entry of a stream.
struct Entry {
  std::string id;
  Fields fields;

  // The value of `name`, or "" when absent.
  std::string field(const std::string& name) const {
    for (const auto& [key, value] : fields)
      if (key == name) return value;
    return {};
  }
  bool has(const std::string& name) const {
    for (const auto& [key, value] : fields)
      if (key == name) return true;
    return false;
  }
};

inline std::vector<Entry> entries_of(const Reply& entries) {
  std::vector<Entry> parsed;
  for (const Reply& entry : entries.elements) {
    Entry& out = parsed.emplace_back();
    out.id = entry.elements.at(0).str;
    const auto& words = entry.elements.at(1).elements;
    for (std::size_t i = 0; i + 1 < words.size(); i += 2) out.fields.emplace_back(words[i].str, words[i + 1].str);
  }
  return parsed;
}

// The fields of a well-formed task of the registered function `fn`.
template <class... Args>
Fields task_fields(const std::string& queue, const std::string& id, const std::string& fn, const Args&... args) {
  const detail::RegisteredTask* task = detail::find_task(fn);
  return {{"id", id},
          {"fn", fn},
          {"sig", std::to_string(task != nullptr ? task->signature : 0)},
          {"args", codec::encode(std::make_tuple(args...))},
          {"reply", detail::results_key(queue, "test")},
          {"retries", "3"},
          {"timeout", "0"}};
}

inline Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& [key, old] : fields)
    if (key == name) {
      old = value;
      return fields;
    }
  fields.emplace_back(name, value);
  return fields;
}

inline Fields without(Fields fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
  return fields;
}

// XADD to the tasks stream; returns the entry id.
inline std::string add_task(RedisConnection& redis, const std::string& queue, const Fields& fields) {
  Command xadd{"XADD", detail::tasks_key(queue), "*"};
  for (const auto& [key, value] : fields) {
    xadd.push_back(key);
    xadd.push_back(value);
  }
  return redis.command(xadd).str;
}

// Reads a stream from its start, in order, waiting for each entry.
class StreamReader {
 public:
  StreamReader(const std::string& url, std::string key)
      : redis_(RedisUrl::parse(url)), key_(std::move(key)) {}

  // The next entry, or nullopt if none came within `patience`.
  std::optional<Entry> next(std::chrono::milliseconds patience = std::chrono::seconds(10)) {
    if (buffered_.empty()) {
      const Reply reply = redis_.blocking_command(
          {"XREAD", "COUNT", "100", "BLOCK", std::to_string(patience.count()), "STREAMS", key_, last_}, patience);
      if (reply.is_nil()) return std::nullopt;
      buffered_ = entries_of(reply.elements.at(0).elements.at(1));
      if (buffered_.empty()) return std::nullopt;
      last_ = buffered_.back().id;
    }
    Entry entry = std::move(buffered_.front());
    buffered_.erase(buffered_.begin());
    return entry;
  }

 private:
  RedisConnection redis_;
  std::string key_;
  std::string last_ = "0-0";
  std::vector<Entry> buffered_;
};

// The reply stream task_fields() names.
inline StreamReader results_of(const std::string& url, const std::string& queue) {
  return StreamReader(url, detail::results_key(queue, "test"));
}

inline StreamReader dead_letters_of(const std::string& url, const std::string& queue) {
  return StreamReader(url, detail::dead_key(queue));
}

template <class T>
T value_of(const Entry& result) {
  EXPECT_EQ(result.field("outcome"), "0") << "an error result: " << result.field("payload").size() << " bytes";
  return codec::decode<T>(result.field("payload"));
}

// Rethrows the exception an error result carries (weft::dist's own
// exceptions as themselves, as an Executor sees them).
[[noreturn]] inline void rethrow_error(const Entry& result) {
  if (result.field("outcome") != "1") throw std::logic_error("not an error result");
  detail::register_dist_exceptions();
  std::rethrow_exception(mp::decode_exception(codec::decode<mp::detail::EncodedException>(result.field("payload"))));
}

// The what() of the exception an error result carries, checked to be an E.
template <class E>
std::string error_text(const Entry& result) {
  try {
    rethrow_error(result);
  } catch (const E& error) {
    return error.what();
  } catch (const std::exception& other) {
    ADD_FAILURE() << "unexpected exception type; what(): " << other.what();
  }
  return {};
}

}  // namespace weft::dist::testing
