// weft/mp/manager/containers.hpp — proxies of the containers a Manager
// holds: DictProxy<K,V>, ListProxy<T>, NamespaceProxy, ValueProxy<T> and
// ArrayProxy<T>, Python's DictProxy, ListProxy, NamespaceProxy, ValueProxy
// and ArrayProxy.
//
// The server keeps every value as its MessagePack encoding (weft::codec),
// so the element types are the proxy's business: a DictProxy<std::string,
// int> and a DictProxy<std::string, std::string> of the same dict would
// disagree (codec::DecodeError). Dict keys, and the values a list's
// remove, index, count and contains look for, compare by their encodings,
// not by operator==: equal values of one type encode identically, with
// three exceptions. 0.0 and -0.0 are different keys (one key in Python);
// a NaN matches a NaN of the same bits (in Python, only the same object);
// and two equal unordered_maps or unordered_sets whose elements iterate in
// different orders do not match. Python's operators become named
// methods: d[k] is getitem(k) / setitem(k, v) / delitem(k), `k in d` is
// contains(k), len(d) is len().
//
// Every method is one round trip to the server and runs there atomically
// (one mutex per object), as in Python. Every method blocks for the reply
// and throws, besides the exceptions named, ManagerGoneError (the server
// is gone) and codec::EncodeError/DecodeError.
//
// Thread-safety and processes: any proxy may be used from any thread and
// passed to any process (see weft/mp/manager/proxy.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/codec.hpp"
#include "weft/mp/manager/proxy.hpp"

namespace weft::mp {

namespace detail {
template <class T>
std::vector<std::string> encode_each(const std::vector<T>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const auto& value : values) out.push_back(codec::encode(value));
  return out;
}
template <class T>
std::vector<T> decode_each(const std::vector<std::string>& encoded) {
  std::vector<T> out;
  out.reserve(encoded.size());
  for (const auto& value : encoded) out.push_back(codec::decode<T>(value));
  return out;
}
template <class K, class V>
std::vector<std::pair<std::string, std::string>> encode_items(const std::vector<std::pair<K, V>>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(items.size());
  for (const auto& [key, value] : items) out.emplace_back(codec::encode(key), codec::encode(value));
  return out;
}
}  // namespace detail

// A dict: insertion-ordered, as Python's.
template <class K, class V>
class DictProxy : public BaseProxy {
 public:
  explicit DictProxy(BaseProxy proxy) : BaseProxy(std::move(proxy)) {}

  // d[key]. Throws KeyError when absent.
  V getitem(const K& key) const { return decode(callmethod<std::string>("getitem", codec::encode(key))); }
  // d[key] = value (an existing key keeps its place).
  void setitem(const K& key, const V& value) const {
    callmethod("setitem", codec::encode(key), codec::encode(value));
  }
  // del d[key]. Throws KeyError when absent.
  void delitem(const K& key) const { callmethod("delitem", codec::encode(key)); }
  // d.get(key) / d.get(key, default).
  std::optional<V> get(const K& key) const {
    auto found = callmethod<std::optional<std::string>>("get", codec::encode(key));
    if (!found) return std::nullopt;
    return decode(*found);
  }
  V get(const K& key, const V& fallback) const { return get(key).value_or(fallback); }
  bool contains(const K& key) const { return callmethod<bool>("contains", codec::encode(key)); }
  std::size_t len() const { return callmethod<std::uint64_t>("len"); }
  std::vector<K> keys() const { return detail::decode_each<K>(callmethod<std::vector<std::string>>("keys")); }
  std::vector<V> values() const {
    return detail::decode_each<V>(callmethod<std::vector<std::string>>("values"));
  }
  std::vector<std::pair<K, V>> items() const { return decode_items(callmethod<Items>("items")); }
  // d.pop(key): throws KeyError when absent; d.pop(key, default).
  V pop(const K& key) const {
    auto found = callmethod<std::optional<std::string>>("pop", codec::encode(key));
    if (!found) throw KeyError("key not in dict");
    return decode(*found);
  }
  V pop(const K& key, const V& fallback) const {
    auto found = callmethod<std::optional<std::string>>("pop", codec::encode(key));
    return found ? decode(*found) : fallback;
  }
  // Removes and returns the last inserted item. Throws KeyError when empty.
  std::pair<K, V> popitem() const {
    auto item = callmethod<std::pair<std::string, std::string>>("popitem");
    return {codec::decode<K>(item.first), decode(item.second)};
  }
  // d.setdefault(key, value): the value at key, inserting `value` first if absent.
  V setdefault(const K& key, const V& value = V{}) const {
    return decode(callmethod<std::string>("setdefault", codec::encode(key), codec::encode(value)));
  }
  void update(const std::vector<std::pair<K, V>>& items) const {
    callmethod("update", detail::encode_items(items));
  }
  void clear() const { callmethod("clear"); }
  // A copy of the items, in order (Python's d.copy() gives a local dict).
  std::vector<std::pair<K, V>> copy() const { return items(); }

 private:
  using Items = std::vector<std::pair<std::string, std::string>>;
  static V decode(const std::string& encoded) { return codec::decode<V>(encoded); }
  static std::vector<std::pair<K, V>> decode_items(const Items& encoded) {
    std::vector<std::pair<K, V>> out;
    out.reserve(encoded.size());
    for (const auto& [key, value] : encoded) out.emplace_back(codec::decode<K>(key), decode(value));
    return out;
  }
};

// A list. Indexes may be negative (counting from the end) as in Python.
template <class T>
class ListProxy : public BaseProxy {
 public:
  explicit ListProxy(BaseProxy proxy) : BaseProxy(std::move(proxy)) {}

  void append(const T& value) const { callmethod("append", codec::encode(value)); }
  void extend(const std::vector<T>& values) const { callmethod("extend", detail::encode_each(values)); }
  // Inserts before `index` (clamped to the list, as Python does).
  void insert(std::int64_t index, const T& value) const {
    callmethod("insert", index, codec::encode(value));
  }
  // Removes and returns the item at `index` (the last by default). Throws
  // IndexError ("pop from empty list", "pop index out of range").
  T pop(std::int64_t index = -1) const { return decode(callmethod<std::string>("pop", index)); }
  // Removes the first item equal to `value`; ValueError if there is none.
  void remove(const T& value) const { callmethod("remove", codec::encode(value)); }
  // The position of the first item equal to `value`; ValueError if none.
  std::size_t index(const T& value) const {
    return static_cast<std::size_t>(callmethod<std::int64_t>("index", codec::encode(value)));
  }
  std::size_t count(const T& value) const {
    return static_cast<std::size_t>(callmethod<std::int64_t>("count", codec::encode(value)));
  }
  bool contains(const T& value) const { return callmethod<bool>("contains", codec::encode(value)); }
  // l[index], l[index] = value, del l[index]: IndexError out of range.
  T getitem(std::int64_t index) const { return decode(callmethod<std::string>("getitem", index)); }
  void setitem(std::int64_t index, const T& value) const {
    callmethod("setitem", index, codec::encode(value));
  }
  void delitem(std::int64_t index) const { callmethod("delitem", index); }
  std::size_t len() const { return callmethod<std::uint64_t>("len"); }
  void reverse() const { callmethod("reverse"); }
  // Sorts stably in ascending order (descending with `reverse`), by the
  // order of weft/mp/manager: numbers numerically, strings bytewise,
  // tuples/vectors/structs lexicographically — operator< for those types.
  void sort(bool reverse = false) const { callmethod("sort", reverse); }
  std::vector<T> copy() const { return detail::decode_each<T>(callmethod<std::vector<std::string>>("copy")); }

 private:
  static T decode(const std::string& encoded) { return codec::decode<T>(encoded); }
};

// A Namespace: named attributes of any encodable types.
class NamespaceProxy : public BaseProxy {
 public:
  explicit NamespaceProxy(BaseProxy proxy) : BaseProxy(std::move(proxy)) {}

  // ns.name. Throws AttributeError("'Namespace' object has no attribute
  // 'name'") when unset; codec::DecodeError when it is not a T.
  template <class T>
  T get(const std::string& name) const {
    return codec::decode<T>(callmethod<std::string>("get", name));
  }
  // ns.name = value.
  template <class T>
  void set(const std::string& name, const T& value) const {
    callmethod("set", name, codec::encode(value));
  }
  // hasattr(ns, name).
  bool has(const std::string& name) const { return callmethod<bool>("has", name); }
  // del ns.name. Throws AttributeError when unset.
  void del(const std::string& name) const { callmethod("del", name); }
  // The attributes' names, sorted.
  std::vector<std::string> names() const { return callmethod<std::vector<std::string>>("names"); }
};

// A Value: one value (Python's manager.Value(typecode, value)).
template <class T>
class ValueProxy : public BaseProxy {
 public:
  explicit ValueProxy(BaseProxy proxy) : BaseProxy(std::move(proxy)) {}

  T get() const { return codec::decode<T>(callmethod<std::string>("get")); }
  void set(const T& value) const { callmethod("set", codec::encode(value)); }
  // Python's v.value and v.value = x.
  T value() const { return get(); }
  void set_value(const T& value) const { set(value); }
};

// An Array: a sequence of fixed length (Python's manager.Array(typecode, sequence)).
template <class T>
class ArrayProxy : public BaseProxy {
 public:
  explicit ArrayProxy(BaseProxy proxy) : BaseProxy(std::move(proxy)) {}

  // a[index], a[index] = value: IndexError out of range (negative counts from the end).
  T getitem(std::int64_t index) const { return codec::decode<T>(callmethod<std::string>("getitem", index)); }
  void setitem(std::int64_t index, const T& value) const {
    callmethod("setitem", index, codec::encode(value));
  }
  std::size_t len() const { return callmethod<std::uint64_t>("len"); }
  std::vector<T> copy() const { return detail::decode_each<T>(callmethod<std::vector<std::string>>("copy")); }
};

}  // namespace weft::mp
