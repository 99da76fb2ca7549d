// The containers a manager's server holds: dict, list, Namespace, Value
// and Array, each keeping values as their encodings and running every
// method under its own mutex (atomic, as in Python).
#include <cstdint>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "manager_order.hpp"
#include "weft/mp/manager/managed.hpp"

namespace weft::mp::manager::detail {
namespace {

using Encoded = std::string;

// Runs each call of Self's table under the object's mutex.
template <class Self>
class Container : public Managed {
 public:
  std::string call(std::string_view method, std::string_view args, Caller& caller) override {
    std::lock_guard lock(mutex_);
    return Self::methods().call(static_cast<Self&>(*this), Self::kName, method, args, caller);
  }

 private:
  std::mutex mutex_;
};

// Python's index rules: a negative index counts from the end.
std::size_t checked_index(std::int64_t index, std::size_t size, const char* message) {
  const auto n = static_cast<std::int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) throw IndexError(message);
  return static_cast<std::size_t>(index);
}

class Dict final : public Container<Dict> {
 public:
  static constexpr std::string_view kName = "dict";
  explicit Dict(std::vector<std::pair<Encoded, Encoded>> items) { update(std::move(items)); }

  Encoded getitem(const Encoded& key) const { return at(key)->second; }
  void setitem(Encoded key, Encoded value) {
    if (auto found = index_.find(key); found != index_.end()) {
      found->second->second = std::move(value);
      return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    index_.emplace(entries_.back().first, std::prev(entries_.end()));
  }
  void delitem(const Encoded& key) { erase(at(key)); }
  std::optional<Encoded> get(const Encoded& key) const {
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    return found->second->second;
  }
  bool contains(const Encoded& key) const { return index_.contains(key); }
  std::uint64_t len() const { return entries_.size(); }
  std::vector<Encoded> keys() const {
    std::vector<Encoded> out;
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }
  std::vector<Encoded> values() const {
    std::vector<Encoded> out;
    for (const auto& entry : entries_) out.push_back(entry.second);
    return out;
  }
  std::vector<std::pair<Encoded, Encoded>> items() const { return {entries_.begin(), entries_.end()}; }
  std::optional<Encoded> pop(const Encoded& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    Encoded value = std::move(found->second->second);
    erase(found->second);
    return value;
  }
  std::pair<Encoded, Encoded> popitem() {
    if (entries_.empty()) throw KeyError("popitem(): dictionary is empty");
    index_.erase(std::string_view(entries_.back().first));  // before the key moves out
    auto item = std::move(entries_.back());
    entries_.pop_back();
    return item;
  }
  Encoded setdefault(Encoded key, Encoded value) {
    if (auto found = index_.find(key); found != index_.end()) return found->second->second;
    setitem(std::move(key), value);
    return value;
  }
  void update(std::vector<std::pair<Encoded, Encoded>> items) {
    for (auto& [key, value] : items) setitem(std::move(key), std::move(value));
  }
  void clear() {
    index_.clear();
    entries_.clear();
  }

  static const MethodTable<Dict>& methods() {
    static const auto table = MethodTable<Dict>()
                                  .add("getitem", &Dict::getitem)
                                  .add("setitem", &Dict::setitem)
                                  .add("delitem", &Dict::delitem)
                                  .add("get", &Dict::get)
                                  .add("contains", &Dict::contains)
                                  .add("len", &Dict::len)
                                  .add("keys", &Dict::keys)
                                  .add("values", &Dict::values)
                                  .add("items", &Dict::items)
                                  .add("pop", &Dict::pop)
                                  .add("popitem", &Dict::popitem)
                                  .add("setdefault", &Dict::setdefault)
                                  .add("update", &Dict::update)
                                  .add("clear", &Dict::clear);
    return table;
  }

 private:
  using Entries = std::list<std::pair<Encoded, Encoded>>;

  Entries::const_iterator at(const Encoded& key) const {
    auto found = index_.find(key);
    if (found == index_.end()) throw KeyError("key not in dict");
    return found->second;
  }
  void erase(Entries::const_iterator entry) {
    index_.erase(std::string_view(entry->first));
    entries_.erase(entry);
  }

  // Insertion order, as Python's dicts keep it; keys index into the list.
  Entries entries_;
  std::unordered_map<std::string_view, Entries::iterator> index_;
};

class List final : public Container<List> {
 public:
  static constexpr std::string_view kName = "list";
  explicit List(std::vector<Encoded> values) : values_(std::move(values)) {}

  void append(Encoded value) { values_.push_back(std::move(value)); }
  void extend(std::vector<Encoded> values) {
    values_.insert(values_.end(), std::make_move_iterator(values.begin()),
                   std::make_move_iterator(values.end()));
  }
  void insert(std::int64_t index, Encoded value) {
    const auto n = static_cast<std::int64_t>(values_.size());
    if (index < 0) index = std::max<std::int64_t>(index + n, 0);
    index = std::min(index, n);
    values_.insert(values_.begin() + index, std::move(value));
  }
  Encoded pop(std::int64_t index) {
    if (values_.empty()) throw IndexError("pop from empty list");
    const auto at = checked_index(index, values_.size(), "pop index out of range");
    Encoded value = std::move(values_[at]);
    values_.erase(values_.begin() + static_cast<std::ptrdiff_t>(at));
    return value;
  }
  void remove(const Encoded& value) {
    auto found = std::find(values_.begin(), values_.end(), value);
    if (found == values_.end()) throw ValueError("list.remove(x): x not in list");
    values_.erase(found);
  }
  std::int64_t index(const Encoded& value) const {
    auto found = std::find(values_.begin(), values_.end(), value);
    if (found == values_.end()) throw ValueError("list.index(x): x not in list");
    return found - values_.begin();
  }
  std::int64_t count(const Encoded& value) const { return std::count(values_.begin(), values_.end(), value); }
  bool contains(const Encoded& value) const {
    return std::find(values_.begin(), values_.end(), value) != values_.end();
  }
  Encoded getitem(std::int64_t index) const {
    return values_[checked_index(index, values_.size(), "list index out of range")];
  }
  void setitem(std::int64_t index, Encoded value) {
    values_[checked_index(index, values_.size(), "list assignment index out of range")] = std::move(value);
  }
  void delitem(std::int64_t index) {
    const auto at = checked_index(index, values_.size(), "list assignment index out of range");
    values_.erase(values_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  std::uint64_t len() const { return values_.size(); }
  void reverse() { std::reverse(values_.begin(), values_.end()); }
  void sort(bool descending) { sort_encoded(values_, descending); }
  std::vector<Encoded> copy() const { return values_; }

  static const MethodTable<List>& methods() {
    static const auto table = MethodTable<List>()
                                  .add("append", &List::append)
                                  .add("extend", &List::extend)
                                  .add("insert", &List::insert)
                                  .add("pop", &List::pop)
                                  .add("remove", &List::remove)
                                  .add("index", &List::index)
                                  .add("count", &List::count)
                                  .add("contains", &List::contains)
                                  .add("getitem", &List::getitem)
                                  .add("setitem", &List::setitem)
                                  .add("delitem", &List::delitem)
                                  .add("len", &List::len)
                                  .add("reverse", &List::reverse)
                                  .add("sort", &List::sort)
                                  .add("copy", &List::copy);
    return table;
  }

 private:
  std::vector<Encoded> values_;
};

class Namespace final : public Container<Namespace> {
 public:
  static constexpr std::string_view kName = "Namespace";

  Encoded get(const std::string& name) const { return at(name)->second; }
  void set(std::string name, Encoded value) { attributes_[std::move(name)] = std::move(value); }
  bool has(const std::string& name) const { return attributes_.contains(name); }
  void del(const std::string& name) { attributes_.erase(at(name)); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : attributes_) out.push_back(entry.first);
    return out;
  }

  static const MethodTable<Namespace>& methods() {
    static const auto table = MethodTable<Namespace>()
                                  .add("get", &Namespace::get)
                                  .add("set", &Namespace::set)
                                  .add("has", &Namespace::has)
                                  .add("del", &Namespace::del)
                                  .add("names", &Namespace::names);
    return table;
  }

 private:
  std::map<std::string, Encoded>::const_iterator at(const std::string& name) const {
    auto found = attributes_.find(name);
    if (found == attributes_.end()) {
      throw AttributeError("'Namespace' object has no attribute '" + name + "'");
    }
    return found;
  }

  std::map<std::string, Encoded> attributes_;
};

class Value final : public Container<Value> {
 public:
  static constexpr std::string_view kName = "Value";
  explicit Value(Encoded value) : value_(std::move(value)) {}

  Encoded get() const { return value_; }
  void set(Encoded value) { value_ = std::move(value); }

  static const MethodTable<Value>& methods() {
    static const auto table = MethodTable<Value>().add("get", &Value::get).add("set", &Value::set);
    return table;
  }

 private:
  Encoded value_;
};

class Array final : public Container<Array> {
 public:
  static constexpr std::string_view kName = "Array";
  explicit Array(std::vector<Encoded> values) : values_(std::move(values)) {}

  Encoded getitem(std::int64_t index) const {
    return values_[checked_index(index, values_.size(), "array index out of range")];
  }
  void setitem(std::int64_t index, Encoded value) {
    values_[checked_index(index, values_.size(), "array assignment index out of range")] = std::move(value);
  }
  std::uint64_t len() const { return values_.size(); }
  std::vector<Encoded> copy() const { return values_; }

  static const MethodTable<Array>& methods() {
    static const auto table = MethodTable<Array>()
                                  .add("getitem", &Array::getitem)
                                  .add("setitem", &Array::setitem)
                                  .add("len", &Array::len)
                                  .add("copy", &Array::copy);
    return table;
  }

 private:
  std::vector<Encoded> values_;
};

}  // namespace

std::unique_ptr<Managed> make_container(std::string_view type_id, std::string_view args) {
  if (type_id == "dict") {
    return std::make_unique<Dict>(
        std::get<0>(decode_arguments<std::tuple<std::vector<std::pair<Encoded, Encoded>>>>(args)));
  }
  if (type_id == "list") {
    return std::make_unique<List>(std::get<0>(decode_arguments<std::tuple<std::vector<Encoded>>>(args)));
  }
  if (type_id == "Namespace") {
    decode_arguments<std::tuple<>>(args);
    return std::make_unique<Namespace>();
  }
  if (type_id == "Value") {
    return std::make_unique<Value>(std::get<0>(decode_arguments<std::tuple<Encoded>>(args)));
  }
  if (type_id == "Array") {
    return std::make_unique<Array>(std::get<0>(decode_arguments<std::tuple<std::vector<Encoded>>>(args)));
  }
  return nullptr;
}

}  // namespace weft::mp::manager::detail
