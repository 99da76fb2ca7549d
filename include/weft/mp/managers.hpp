// weft/mp/managers.hpp — managers: Python's multiprocessing.managers
// (BaseManager, SyncManager) and multiprocessing.Manager().
//
// A manager is a server — usually a process of its own — holding objects
// that other processes use through proxies (weft/mp/manager/proxy.hpp):
// a dict, a list, a Namespace, a Queue, a Lock... Any process that has a
// proxy (passed to a child of any start method, sent over a Connection,
// or made by connecting to the manager's address with its key) calls the
// object's methods on the server, one round trip each, atomically.
//
//   mp::Manager manager;                        // starts the server process
//   auto d = manager.dict<std::string, int>();
//   auto l = manager.list<int>();
//   mp::Process p(worker, d, l);                // proxies cross to children
//
// BaseManager serves user types and remote clients: register_ a type in
// every process that serves or uses it (before start(), or from a static
// initialiser for spawn children), then start() a server process,
// serve_forever() in this one, or connect() to a manager another program
// serves at a TCP address:
//
//   mp::BaseManager::register_<Counter>("Counter",
//       mp::method("increment", &Counter::increment), mp::method("value", &Counter::value));
//   mp::BaseManager m(net::Address::ipv4("127.0.0.1", 50000), "secret");
//   m.connect();
//   auto counter = m.create("Counter");
//   counter.callmethod("increment", 5);
//
// The registry of types is one per process (Python's register is a
// classmethod of the manager class; weft keeps one table for every
// manager), and a server process sees what was registered before it
// started.
//
// Failure, better than Python: a client that dies releases every
// reference and every Lock it held; malformed requests, unknown ids or
// methods and wrong keys cost only the offending client a typed error; a
// manager that is gone makes every proxy call throw ManagerGoneError
// instead of hanging.
//
// Thread-safety: a manager's members may be called from any thread;
// start/connect/shutdown must not overlap each other.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/codec.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/manager/containers.hpp"
#include "weft/mp/manager/managed.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/mp/manager/queue_proxy.hpp"
#include "weft/mp/manager/registered.hpp"
#include "weft/mp/manager/server.hpp"
#include "weft/mp/manager/sync_proxies.hpp"
#include "weft/mp/process.hpp"
#include "weft/net/address.hpp"

namespace weft::mp {

namespace manager::detail {
class ManagerClient;
}

class BaseManager {
 public:
  // A manager of `address` (nullopt: a fresh abstract Unix socket name,
  // for start()) and `authkey` (nullopt: 32 random bytes). start() uses
  // `context`'s start method (nullopt: the global one). Does nothing else;
  // never blocks.
  explicit BaseManager(std::optional<net::Address> address = std::nullopt,
                       std::optional<std::string> authkey = std::nullopt,
                       std::optional<Context> context = std::nullopt);
  // Shuts down the server this manager started (as shutdown()).
  virtual ~BaseManager();
  BaseManager(const BaseManager&) = delete;
  BaseManager& operator=(const BaseManager&) = delete;

  // Starts a server process listening at address(), and returns once it
  // listens. Throws ProcessError if this manager already started or
  // connected, or if the server could not start (the reason in what():
  // an address in use...), and what Process::start throws.
  void start();
  // Connects to the server at address() (one round trip). Throws
  // ManagerGoneError when nothing serves there, AuthenticationError for a
  // wrong key, ProcessError if already started or connected.
  void connect();
  // A server at address() that runs in this process (Python's
  // get_server()); serve_forever() serves until a client asks for
  // shutdown. Throws net::OSError when it cannot bind.
  std::unique_ptr<manager::Server> get_server() const;
  void serve_forever() const { get_server()->serve_forever(); }
  // Stops the server process this manager started and joins it (killing
  // it if it does not stop within a second); proxies then throw
  // ManagerGoneError. Does nothing for a manager that did not start one,
  // or in any other process than the one that started it. Blocks.
  void shutdown();

  // The server's address (with the chosen port once started, for a TCP
  // port 0) and key.
  const net::Address& address() const noexcept { return address_; }
  const std::string& authkey() const noexcept { return authkey_; }
  // How many objects the server holds (Python's _number_of_objects()).
  // Blocks for one round trip; throws ManagerGoneError.
  std::size_t number_of_objects() const;
  // The server process's pid, once started.
  std::optional<pid_t> pid() const noexcept;

  // Makes an object of `type_id` on the server with constructor arguments
  // `args` and returns a proxy of it (P: any proxy type constructible from
  // a BaseProxy). Throws KeyError for a typeid the server does not know,
  // codec::DecodeError for arguments of the wrong shape, what the
  // constructor throws, ManagerGoneError. Blocks for one round trip.
  template <class P = BaseProxy, class... A>
  P create(std::string_view type_id, const A&... args) const {
    return P(create_encoded(type_id, codec::encode(std::forward_as_tuple(args...))));
  }

  // Lets a server make objects of T as `type_id`: T is constructed from
  // create()'s arguments decoded as CtorArgs..., and `methods`
  // (mp::method("name", &T::fn)) are what callmethod() may call. Call it in
  // every process that serves or uses the typeid. Thread-safe.
  template <class T, class... CtorArgs, class... Fns>
  static void register_(std::string type_id, Method<Fns>... methods) {
    auto table = std::make_shared<manager::MethodTable<T>>();
    (table->add(std::move(methods.name), methods.fn), ...);
    std::shared_ptr<const manager::MethodTable<T>> shared = std::move(table);
    manager::register_type(type_id, [shared, type_id](std::string_view args) {
      return std::unique_ptr<manager::Managed>(std::make_unique<manager::detail::Registered<T>>(
          shared, type_id, manager::decode_arguments<std::tuple<CtorArgs...>>(args)));
    });
  }
  // Makes `type_id` name one shared object of `of_type` ("Queue", "dict",
  // a registered type), made with `args` when first asked for and kept for
  // the server's life: every create(type_id) returns a proxy of it —
  // Python's register('get_queue', callable=lambda: queue).
  template <class... A>
  static void register_shared(std::string type_id, std::string of_type, const A&... args) {
    manager::register_shared(std::move(type_id), std::move(of_type),
                             codec::encode(std::forward_as_tuple(args...)));
  }

 protected:
  BaseProxy create_encoded(std::string_view type_id, std::string encoded_args) const;

 private:
  std::shared_ptr<manager::detail::ManagerClient> client() const;

  net::Address address_;
  std::string authkey_;
  std::optional<Context> context_;
  std::optional<Process> process_;
  pid_t creator_;
  mutable std::mutex client_mutex_;
  mutable std::shared_ptr<manager::detail::ManagerClient> client_;
  mutable pid_t client_pid_ = 0;
  bool used_ = false;
};

// Python's SyncManager as multiprocessing.Manager() returns it: a
// BaseManager whose server process is started by the constructor and
// which makes the built-in objects. Each maker blocks for one round trip
// and throws ManagerGoneError when the server is gone.
class Manager : public BaseManager {
 public:
  // Starts the server process with `context`'s start method (nullopt: the
  // global one). Throws what BaseManager::start throws.
  explicit Manager(std::optional<Context> context = std::nullopt);

  template <class K, class V>
  DictProxy<K, V> dict(const std::vector<std::pair<K, V>>& items = {}) const {
    return create<DictProxy<K, V>>("dict", detail::encode_items(items));
  }
  template <class T>
  ListProxy<T> list(const std::vector<T>& values = {}) const {
    return create<ListProxy<T>>("list", detail::encode_each(values));
  }
  NamespaceProxy Namespace() const { return create<NamespaceProxy>("Namespace"); }
  template <class T>
  ValueProxy<T> Value(const T& value) const {
    return create<ValueProxy<T>>("Value", codec::encode(value));
  }
  template <class T>
  ArrayProxy<T> Array(const std::vector<T>& values) const {
    return create<ArrayProxy<T>>("Array", detail::encode_each(values));
  }

  AcquirerProxy Lock() const { return create<AcquirerProxy>("Lock"); }
  AcquirerProxy RLock() const { return create<AcquirerProxy>("RLock"); }
  AcquirerProxy Semaphore(long long value = 1) const {
    return create<AcquirerProxy>("Semaphore", std::optional<long long>(value));
  }
  AcquirerProxy BoundedSemaphore(long long value = 1) const {
    return create<AcquirerProxy>("BoundedSemaphore", std::optional<long long>(value));
  }
  EventProxy Event() const { return create<EventProxy>("Event"); }
  ConditionProxy Condition() const { return create<ConditionProxy>("Condition"); }
  // A barrier of `parties`; `timeout` is the default of its wait().
  BarrierProxy Barrier(std::size_t parties,
                       std::optional<std::chrono::duration<double>> timeout = std::nullopt) const {
    std::optional<double> seconds;
    if (timeout) seconds = timeout->count();
    return create<BarrierProxy>("Barrier", parties, seconds);
  }
  // A queue of T items; maxsize <= 0: unbounded.
  template <class T>
  QueueProxy<T> Queue(long long maxsize = 0) const {
    return create<QueueProxy<T>>("Queue", std::optional<long long>(maxsize));
  }
  template <class T>
  QueueProxy<T> JoinableQueue(long long maxsize = 0) const {
    return create<QueueProxy<T>>("JoinableQueue", std::optional<long long>(maxsize));
  }
};

}  // namespace weft::mp
