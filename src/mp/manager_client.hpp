// The client side of a manager in one process: the connections to one
// server, and the state every copy of one proxy shares.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "weft/mp/connection.hpp"
#include "weft/net/address.hpp"
#include "manager_channel.hpp"
#include "manager_protocol.hpp"

namespace weft::mp::manager::detail {

// A connection to a server that a child forked from this process does not
// keep: the child's copy of its descriptor is let go of at the fork (made
// to refer to /dev/null, so that the number stays taken until the copy of
// this object in the child closes it), so the server sees the connection
// end when this process's end closes — also when the process is killed
// while a child of its lives on. Not thread-safe (as a Connection).
class ServerConnection {
 public:
  ServerConnection() noexcept = default;
  explicit ServerConnection(Connection conn);
  ServerConnection(ServerConnection&& other) noexcept : conn_(std::move(other.conn_)) {}
  ServerConnection& operator=(ServerConnection&& other) noexcept;
  ~ServerConnection() { close(); }

  Connection& get() noexcept { return conn_; }
  bool closed() const noexcept { return conn_.closed(); }
  int fileno() const { return conn_.fileno(); }
  void close() noexcept;

 private:
  Connection conn_;
};

// A thread's connection to a server, and its shared-memory channel once
// the connection is upgraded (local servers only).
struct ThreadChannel {
  ServerConnection conn;
  Spinner spinner;
  std::unique_ptr<CallChannel> shm;
  // Set once its client, gone, has closed it: the thread drops it.
  std::atomic<bool> released{false};
};

// This process's client of the server at one address: a control
// connection that holds the process's references (create, incref, decref)
// and one connection per calling thread (call). Shared by every proxy and
// manager of that server in the process.
//
// Lifetime: whoever calls into a client holds a shared_ptr to it (a
// proxy's ProxyState, or the copy BaseManager::client() returns), so it is
// destroyed only once no thread is inside any of its calls, and a thread's
// channel of it is no longer in use. The thread that keeps such a channel
// then only reads its `released` flag (which the destructor sets after
// closing it) and drops its shared_ptr to it.
class ManagerClient {
 public:
  // The client of the server at `address` for this process; made on first
  // use (a forked child makes its own).
  static std::shared_ptr<ManagerClient> for_server(const net::Address& address, const std::string& authkey);

  ManagerClient(net::Address address, std::string authkey);
  // Closes the control connection and every thread's call connection and
  // channel. No thread is calling through it any more (see Lifetime), so
  // closing a channel that another thread keeps is safe; that thread drops
  // what is left of it on its next call (of any client) or exit.
  ~ManagerClient();
  ManagerClient(const ManagerClient&) = delete;
  ManagerClient& operator=(const ManagerClient&) = delete;

  const net::Address& address() const noexcept { return address_; }
  const std::string& authkey() const noexcept { return authkey_; }

  // A new object of `type_id`, referenced by this process; returns its id.
  std::uint64_t create(std::string_view type_id, std::string args);
  void incref(std::uint64_t id);
  // Never throws: a server that is gone has dropped the object anyway.
  void decref(std::uint64_t id) noexcept;
  // Calls `method` of object `id` over the calling thread's connection.
  std::string call(std::uint64_t id, std::string_view method, std::string args);
  // One round trip on the control connection (made if need be).
  void ping();
  // How many objects the server holds.
  std::size_t number_of_objects();
  // Asks the server to stop serving.
  void shutdown_server();

 private:
  ServerConnection connect() const;
  std::string control(const Request& request);
  // Sends `request`, waits for the reply; throws what the reply carries,
  // ManagerGoneError when the server is gone.
  std::string exchange(ServerConnection& conn, const Request& request, Spinner* spinner = nullptr) const;
  // Runs `io` (which returns the reply frame) on `conn`; as exchange().
  template <class Io>
  std::string round_trip(ServerConnection& conn, Io io) const;
  // A new call connection, upgraded to a channel when the server is local.
  std::shared_ptr<ThreadChannel> open_channel() const;

  net::Address address_;
  std::string address_text_;
  std::string authkey_;
  pid_t pid_;
  std::uint64_t serial_;
  std::mutex mutex_;
  ServerConnection control_;  // guarded by mutex_
  std::vector<std::weak_ptr<ThreadChannel>> threads_;  // guarded by mutex_
};

}  // namespace weft::mp::manager::detail

namespace weft::mp::detail {

struct ProxyState {
  ProxyState(std::shared_ptr<manager::detail::ManagerClient> client, std::string type_id,
             std::uint64_t id) noexcept;
  // Releases this process's reference (if it took one).
  ~ProxyState();
  ProxyState(const ProxyState&) = delete;
  ProxyState& operator=(const ProxyState&) = delete;

  // The client of this process; in a forked child that inherited the
  // proxy, a client of its own, which first takes the child's reference.
  // Valid as long as this state: the client is replaced only there, once,
  // before any thread of the child got it.
  manager::detail::ManagerClient& client();

  const std::string type_id;
  const std::uint64_t id;

 private:
  std::mutex mutex_;
  std::shared_ptr<manager::detail::ManagerClient> client_;
  std::atomic<pid_t> owner_;
};

}  // namespace weft::mp::detail
