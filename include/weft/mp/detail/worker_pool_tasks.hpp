// weft/mp/detail/worker_pool_tasks.hpp — how a task of a process pool is
// encoded in the parent, run in a worker and decoded back: the typed task
// runners (made in the worker from a function reference, as
// rebuild_target makes a Process target) and the chunk format.
//
// A chunk of items whose type is arithmetic (but not bool) or an enum
// travels as a raw array (the workers run the same binary); any other item
// type as a MessagePack array. A chunk answers with Outcome::value and its
// results when every item succeeded, else with Outcome::partial and
// [results, [[index, exception], ...]] (a failed position holds a
// default-constructed result).
#pragma once

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/codec.hpp"
#include "weft/codec/function.hpp"
#include "weft/mp/detail/dup_fd.hpp"
#include "weft/mp/detail/worker_pool.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::mp::detail {

// A result as it is stored and encoded: void becomes std::monostate.
template <class R>
using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

template <class T>
inline constexpr bool raw_item_v = (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) || std::is_enum_v<T>;

// Appends items [first, last) to `out` in the chunk format.
template <class T, class It>
void pack_items(std::string& out, It first, It last) {
  if constexpr (raw_item_v<T>) {
    const std::size_t start = out.size();
    out.resize(start + static_cast<std::size_t>(last - first) * sizeof(T));
    char* at = out.data() + start;
    for (; first != last; ++first, at += sizeof(T)) {
      const T item = static_cast<T>(*first);
      std::memcpy(at, &item, sizeof(T));
    }
  } else {
    codec::detail::StringSink sink{&out};
    msgpack::packer<codec::detail::StringSink> packer(sink);
    packer.pack_array(static_cast<std::uint32_t>(last - first));
    for (; first != last; ++first) packer.pack(static_cast<const T&>(*first));
  }
}

// The items of a chunk. Throws codec::DecodeError for a malformed one.
template <class T>
std::vector<T> unpack_items(std::string_view bytes) {
  if constexpr (raw_item_v<T>) {
    if (bytes.size() % sizeof(T) != 0) throw codec::DecodeError("truncated raw chunk");
    std::vector<T> items(bytes.size() / sizeof(T));
    if (!items.empty()) std::memcpy(items.data(), bytes.data(), bytes.size());
    return items;
  } else {
    return codec::decode<std::vector<T>>(bytes);
  }
}

template <class Fn>
struct Signature;
template <class R, class... P>
struct Signature<R (*)(P...)> {
  using result = R;
  using args = std::tuple<std::decay_t<P>...>;
  static constexpr std::size_t arity = sizeof...(P);
};

template <class Fn, class Args>
Stored<typename Signature<Fn>::result> call_stored(Fn fn, Args&& args) {
  if constexpr (std::is_void_v<typename Signature<Fn>::result>) {
    std::apply(fn, std::forward<Args>(args));
    return {};
  } else {
    return std::apply(fn, std::forward<Args>(args));
  }
}

// One call: the arguments are the function's parameter tuple.
template <class Fn>
class CallRunner final : public TaskRunner {
 public:
  explicit CallRunner(Fn fn) : fn_(fn) {}
  Outcome run(std::string_view args, std::string& out) override {
    auto decoded = codec::decode<typename Signature<Fn>::args>(args);
    codec::encode_into(out, call_stored(fn_, std::move(decoded)));
    return Outcome::value;
  }

 private:
  Fn fn_;
};

// A chunk: each item is the single argument (Star false) or the argument
// tuple (Star true).
template <class Fn, bool Star>
class ChunkRunner final : public TaskRunner {
 public:
  using R = Stored<typename Signature<Fn>::result>;
  using Item = std::conditional_t<Star, typename Signature<Fn>::args,
                                  std::tuple_element_t<0, typename Signature<Fn>::args>>;

  explicit ChunkRunner(Fn fn) : fn_(fn) {}
  Outcome run(std::string_view args, std::string& out) override {
    std::vector<Item> items = unpack_items<Item>(args);
    std::vector<R> results(items.size());
    std::vector<std::tuple<std::uint32_t, EncodedException>> errors;
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        if constexpr (Star) {
          results[i] = call_stored(fn_, std::move(items[i]));
        } else {
          results[i] = call_stored(fn_, std::forward_as_tuple(std::move(items[i])));
        }
      } catch (...) {
        errors.emplace_back(static_cast<std::uint32_t>(i), encode_exception(std::current_exception()));
      }
    }
    if (errors.empty()) {
      pack_items<R>(out, results.begin(), results.end());
      return Outcome::value;
    }
    codec::encode_into(out, std::forward_as_tuple(results, errors));
    return Outcome::partial;
  }

 private:
  Fn fn_;
};

template <class Runner, class Fn>
std::unique_ptr<TaskRunner> make_runner(std::string_view function) {
  return std::make_unique<Runner>(codec::decode<Fn>(function));
}

// What a define frame carries: the runner factory and the function.
using Define = std::tuple<MakeRunner, std::string>;

// The number of `fn` run by Runner in `pool`; encodes the define frame the
// first time.
template <class Runner, class Fn>
std::uint32_t intern_function(WorkerPool& pool, Fn fn) {
  constexpr MakeRunner maker = &make_runner<Runner, Fn>;
  return pool.intern(maker, reinterpret_cast<const void*>(fn),
                     [&] { return codec::encode(Define(maker, codec::encode(fn))); });
}

template <class Fn, class Args>
struct RebuildInitializer;
template <class Fn, class... A>
struct RebuildInitializer<Fn, std::tuple<A...>> {
  static constexpr Rebuild value = &rebuild_target<Fn, A...>;
};

// An initializer as WorkerPoolConfig carries it (see Initializer): the
// arguments are stored as the function's parameter types, and encoded only
// as each spawn or forkserver worker starts. A fork worker calls it once,
// on its own copy of them.
template <class Fn, class... Args>
Initializer make_initializer(Fn fn, Args&&... args) {
  using Bound = typename Signature<Fn>::args;
  static_assert(Signature<Fn>::arity == sizeof...(Args), "wrong number of initargs for the initializer");
  auto bound = std::make_shared<Bound>(std::forward<Args>(args)...);
  return Initializer{[fn, bound] { std::apply(fn, std::move(*bound)); },
                     RebuildInitializer<Fn, Bound>::value,
                     [fn, bound] { return codec::encode(std::forward_as_tuple(fn, std::as_const(*bound))); }};
}

// The exception an Outcome::error payload describes (a DecodeError's if
// the payload is malformed).
std::exception_ptr decode_error_payload(std::string_view payload) noexcept;

// A chunk's outcome in the parent: the results and the failed positions.
template <class R>
struct ChunkOutcome {
  std::vector<Stored<R>> values;
  std::vector<std::pair<std::uint32_t, std::exception_ptr>> errors;
};

// Decodes a chunk's answer; throws codec::DecodeError for a malformed one,
// or the chunk's exception for Outcome::error.
template <class R>
ChunkOutcome<R> decode_chunk(Outcome outcome, std::string_view payload) {
  ChunkOutcome<R> result;
  if (outcome == Outcome::value) {
    result.values = unpack_items<Stored<R>>(payload);
  } else if (outcome == Outcome::partial) {
    auto [values, errors] = codec::decode<
        std::tuple<std::vector<Stored<R>>, std::vector<std::tuple<std::uint32_t, EncodedException>>>>(
        payload);
    result.values = std::move(values);
    for (auto& [index, error] : errors) result.errors.emplace_back(index, decode_exception(error));
  } else {
    std::rethrow_exception(decode_error_payload(payload));
  }
  return result;
}

}  // namespace weft::mp::detail
