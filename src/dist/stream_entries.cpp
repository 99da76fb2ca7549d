#include "stream_entries.hpp"

#include "weft/dist/detail/wire.hpp"

namespace weft::dist::detail {
namespace {

[[noreturn]] void malformed(const char* what) {
  throw RedisResponseError(std::string("unexpected stream reply: ") + what);
}

}  // namespace

const std::string* StreamEntry::field(std::string_view name) const noexcept {
  for (const auto& [key, value] : fields)
    if (key == name) return &value;
  return nullptr;
}

std::vector<StreamEntry> parse_entries(const Reply& entries) {
  if (entries.type != Reply::Type::array) malformed("entries are not an array");
  std::vector<StreamEntry> parsed;
  parsed.reserve(entries.elements.size());
  for (const Reply& entry : entries.elements) {
    if (entry.type != Reply::Type::array || entry.elements.size() != 2 ||
        entry.elements[0].type != Reply::Type::string)
      malformed("an entry is not [id, fields]");
    StreamEntry& out = parsed.emplace_back();
    out.id = entry.elements[0].str;
    const Reply& fields = entry.elements[1];
    if (fields.is_nil()) {
      out.deleted = true;
      continue;
    }
    if (fields.type != Reply::Type::array || fields.elements.size() % 2 != 0)
      malformed("an entry's fields are not pairs");
    out.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i < fields.elements.size(); i += 2)
      out.fields.emplace_back(fields.elements[i].str, fields.elements[i + 1].str);
  }
  return parsed;
}

std::vector<StreamEntry> parse_read_reply(const Reply& reply) {
  if (reply.is_nil()) return {};
  if (reply.type != Reply::Type::array || reply.elements.empty()) malformed("not an array of streams");
  const Reply& stream = reply.elements[0];
  if (stream.type != Reply::Type::array || stream.elements.size() != 2) malformed("a stream is not [key, entries]");
  return parse_entries(stream.elements[1]);
}

void create_workers_group(RedisConnection& connection, const std::string& tasks_key) {
  try {
    connection.command({"XGROUP", "CREATE", tasks_key, workers_group, "0", "MKSTREAM"});
  } catch (const RedisResponseError& error) {
    if (std::string_view(error.what()).rfind("BUSYGROUP", 0) != 0) throw;
  }
}

}  // namespace weft::dist::detail
