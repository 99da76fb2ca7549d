// The server of a manager: accepting, authenticating and serving clients,
// the object table and its reference counts.
#include "weft/mp/manager/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "handshake_deadline.hpp"
#include "manager_channel.hpp"
#include "manager_protocol.hpp"
#include "weft/mp/authentication.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

namespace weft::mp::manager {
namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(5);
constexpr std::size_t kMaxRequest = std::size_t{1} << 30;

struct Registry {
  struct Shared {
    std::string of_type;
    std::string args;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Factory> types;
  std::unordered_map<std::string, Shared> shared;
};

Registry& registry() {
  static auto* table = new Registry;
  return *table;
}

std::unique_ptr<Managed> make_object(std::string_view type_id, std::string_view args) {
  Factory make;
  {
    auto& table = registry();
    std::lock_guard lock(table.mutex);
    if (auto found = table.types.find(std::string(type_id)); found != table.types.end()) make = found->second;
  }
  if (make) return make(args);
  if (auto object = detail::make_container(type_id, args)) return object;
  if (auto object = detail::make_sync_object(type_id, args)) return object;
  throw KeyError("the manager has no type '" + std::string(type_id) + "'");
}

class ConnectionCaller final : public Caller {
 public:
  ConnectionCaller(std::uint64_t id, int fd, const std::atomic<bool>& stopping)
      : id_(id), fd_(fd), stopping_(stopping) {}
  std::uint64_t connection() const noexcept override { return id_; }
  bool connected() const noexcept override {
    return !stopping_.load(std::memory_order_relaxed) && detail::peer_connected(fd_);
  }

 private:
  std::uint64_t id_;
  int fd_;
  const std::atomic<bool>& stopping_;
};

}  // namespace

void register_type(std::string type_id, Factory make) {
  auto& table = registry();
  std::lock_guard lock(table.mutex);
  table.shared.erase(type_id);
  table.types[std::move(type_id)] = std::move(make);
}

void register_shared(std::string type_id, std::string of_type, std::string args) {
  auto& table = registry();
  std::lock_guard lock(table.mutex);
  table.types.erase(type_id);
  table.shared[std::move(type_id)] = {std::move(of_type), std::move(args)};
}

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  struct Entry {
    std::shared_ptr<Managed> object;
    std::size_t refs = 0;
  };
  // The references one client connection holds, by object id.
  using Held = std::unordered_map<std::uint64_t, std::size_t>;

  net::Socket listener;
  net::Address address;
  std::string socket_file;  // the path of a Unix socket it listens at
  pid_t owner = ::getpid();
  std::string authkey;
  int wake = -1;
  std::atomic<bool> stopping{false};

  std::mutex objects_mutex;
  std::unordered_map<std::uint64_t, Entry> objects;
  std::unordered_map<std::string, std::uint64_t> shared_ids;
  std::uint64_t next_object = 1;

  std::mutex clients_mutex;
  std::condition_variable clients_gone;
  struct Client {
    int fd;
    detail::Lane* requests = nullptr;  // of its channel, if it has one
  };
  std::unordered_map<std::uint64_t, Client> clients;  // by connection id
  std::uint64_t next_client = 1;
  // The connections' threads: running, and ended but not yet joined.
  std::unordered_map<std::uint64_t, std::thread> threads;
  std::vector<std::thread> ended;

  Impl(const net::Address& where, std::string key)
      : listener(where.family(), SOCK_STREAM), authkey(std::move(key)) {
    if (where.family() != AF_UNIX) listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    listener.bind(where);
    address = listener.getsockname();
    if (const auto path = address.path(); address.family() == AF_UNIX && !path.empty() && path.front() != '\0') {
      socket_file = path;
    }
    try {
      listener.listen(128);
      listener.setblocking(false);
      wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (wake < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    } catch (...) {
      close_listener();
      throw;
    }
  }
  ~Impl() {
    // Only when serve_forever() did not finish (it joins or detaches them);
    // the last reference may be one of these threads' own.
    for (auto& [id, thread] : threads) thread.detach();
    for (auto& thread : ended) thread.detach();
    close_listener();
    ::close(wake);
  }

  // Closes the listener and removes the socket file it was bound to (as
  // Listener does), so that the address can be served again; a process
  // forked from the server's leaves the file alone.
  void close_listener() noexcept {
    try {
      listener.close();
    } catch (const net::OSError&) {
      // The descriptor is released either way.
    }
    if (!socket_file.empty() && owner == ::getpid()) ::unlink(socket_file.c_str());
    socket_file.clear();
  }

  void stop() noexcept {
    stopping.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] auto ignored = ::write(wake, &one, sizeof one);
  }

  void serve_forever() {
    while (!stopping.load()) {
      pollfd entries[2] = {{listener.fileno(), POLLIN, 0}, {wake, POLLIN, 0}};
      if (::poll(entries, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "poll");
      }
      if (entries[1].revents != 0) break;
      std::optional<std::pair<net::Socket, net::Address>> accepted;
      try {
        accepted = listener.try_accept();
      } catch (const net::OSError&) {
        continue;  // ECONNABORTED, EMFILE...: that client only
      }
      if (!accepted) continue;
      start_client(std::move(accepted->first));
    }
    close_listener();
    std::unique_lock lock(clients_mutex);
    for (const auto& [id, client] : clients) {
      ::shutdown(client.fd, SHUT_RDWR);
      if (client.requests != nullptr) client.requests->interrupt();
    }
    clients_gone.wait_for(lock, std::chrono::seconds(5), [&] { return clients.empty(); });
    // A thread still in a method that does not return is left to finish on
    // its own; the others are joined, so none outlives the server.
    for (auto& [id, thread] : threads) thread.detach();
    threads.clear();
    std::vector<std::thread> finished = std::move(ended);
    lock.unlock();
    for (auto& thread : finished) thread.join();
  }

  // Joins the threads of connections that have ended.
  void join_ended() {
    std::vector<std::thread> finished;
    {
      std::lock_guard lock(clients_mutex);
      finished = std::move(ended);
      ended.clear();
    }
    for (auto& thread : finished) thread.join();
  }

  void start_client(net::Socket socket) {
    socket.setblocking(true);
    if (socket.family() != AF_UNIX) socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    Connection conn(socket.detach());
    join_ended();
    // Under the lock, so that the thread finds itself in `threads` when it ends.
    std::lock_guard lock(clients_mutex);
    const std::uint64_t id = next_client++;
    clients.emplace(id, Client{conn.fileno()});
    threads.emplace(id, std::thread([self = shared_from_this(), id, conn = std::move(conn)]() mutable {
      self->serve_client(id, conn);
      std::lock_guard lock(self->clients_mutex);
      conn.close();
      self->clients.erase(id);
      if (auto found = self->threads.find(id); found != self->threads.end()) {
        self->ended.push_back(std::move(found->second));
        self->threads.erase(found);
      }
      self->clients_gone.notify_all();
    }));
  }

  void serve_client(std::uint64_t id, Connection& conn) {
    try {
      weft::mp::detail::HandshakeDeadline deadline(conn, weft::detail::deadline_after(kHandshakeTimeout));
      deliver_challenge(conn, authkey);
      answer_challenge(conn, authkey);
    } catch (const std::exception&) {
      return;  // a wrong key, a silent or vanished client: that client only
    }
    ConnectionCaller caller(id, conn.fileno(), stopping);
    Held held;
    detail::Spinner spinner;
    std::unique_ptr<detail::CallChannel> channel;
    const std::function<bool()> connected = [&caller] { return caller.connected(); };
    while (!stopping.load(std::memory_order_relaxed)) {
      std::string frame;
      try {
        if (channel) {
          frame = channel->requests().take(conn, spinner, connected, kMaxRequest);
        } else {
          spinner.wait_for_input(conn.fileno());
          frame = conn.recv_bytes(kMaxRequest);
        }
      } catch (const net::OSError& e) {
        // A length the lane cannot hold: that request only, if the stream
        // is still framed.
        if (!channel || e.code().value() != EMSGSIZE || !conn.readable()) break;
        if (!reply_to(conn, channel.get(), failure())) break;
        continue;
      } catch (const std::exception&) {
        break;  // gone, or a stream that can no longer be framed
      }
      detail::Reply reply;
      std::unique_ptr<detail::CallChannel> offered;
      bool shutdown = false;
      try {
        auto request = codec::decode<detail::Request>(frame);
        shutdown = request.op == detail::Op::shutdown;
        if (request.op == detail::Op::upgrade) {
          if (channel) throw ValueError("the connection already has a channel");
          offered = detail::receive_channel(conn);
          reply.body = codec::encode(std::monostate{});
        } else {
          reply.body = handle(request, caller, held);
        }
      } catch (...) {
        reply = failure();
      }
      if (!reply_to(conn, channel.get(), reply)) break;
      if (offered) {
        channel = std::move(offered);  // acknowledged over the socket
        std::lock_guard lock(clients_mutex);
        clients.at(id).requests = &channel->requests();
      }
      if (shutdown) stop();
    }
    if (channel) {
      std::lock_guard lock(clients_mutex);
      clients.at(id).requests = nullptr;
    }
    release(id, held);
  }

  static detail::Reply failure() {
    return {false, codec::encode(encode_exception(std::current_exception()))};
  }

  // Sends `reply` through the channel, if any, or the socket; false once
  // the client is gone.
  static bool reply_to(Connection& conn, detail::CallChannel* channel, const detail::Reply& reply) noexcept {
    try {
      const auto frame = codec::encode(reply);
      if (channel != nullptr) {
        channel->replies().post(frame, conn);
      } else {
        conn.send_bytes(frame);
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  std::string handle(const detail::Request& request, Caller& caller, Held& held) {
    // A request that crossed shutdown() on its way in.
    if (stopping.load() && request.op != detail::Op::shutdown) {
      throw ManagerGoneError("the manager is shutting down");
    }
    switch (request.op) {
      case detail::Op::call:
        return find(request.id)->call(request.name, request.args, caller);
      case detail::Op::create:
        return codec::encode(create(request.name, request.args, held));
      case detail::Op::incref:
        incref(request.id, held);
        return codec::encode(std::monostate{});
      case detail::Op::decref:
        decref(request.id, held);
        return codec::encode(std::monostate{});
      case detail::Op::count: {
        std::lock_guard lock(objects_mutex);
        return codec::encode(std::uint64_t{objects.size()});
      }
      case detail::Op::shutdown:
      case detail::Op::ping:
        return codec::encode(std::monostate{});
      case detail::Op::upgrade:
        break;  // served by serve_client
    }
    throw ValueError("not a manager request (op " + std::to_string(static_cast<int>(request.op)) + ")");
  }

  std::shared_ptr<Managed> find(std::uint64_t id) {
    std::lock_guard lock(objects_mutex);
    auto found = objects.find(id);
    if (found == objects.end()) throw KeyError("the manager holds no object " + std::to_string(id));
    return found->second.object;
  }

  std::uint64_t create(const std::string& type_id, const std::string& args, Held& held) {
    std::optional<Registry::Shared> shared;
    {
      auto& table = registry();
      std::lock_guard lock(table.mutex);
      if (auto found = table.shared.find(type_id); found != table.shared.end()) shared = found->second;
    }
    std::uint64_t id;
    if (shared) {
      // Made once, under the lock, so that concurrent first uses share it.
      std::lock_guard lock(objects_mutex);
      auto [slot, made] = shared_ids.try_emplace(type_id, 0);
      if (made) {
        try {
          std::shared_ptr<Managed> object = make_object(shared->of_type, shared->args);
          slot->second = next_object++;
          objects.emplace(slot->second, Entry{std::move(object), 1});  // the server's own reference
        } catch (...) {
          shared_ids.erase(slot);
          throw;
        }
      }
      id = slot->second;
      ++objects.at(id).refs;
    } else {
      std::shared_ptr<Managed> object = make_object(type_id, args);
      std::lock_guard lock(objects_mutex);
      id = next_object++;
      objects.emplace(id, Entry{std::move(object), 1});
    }
    ++held[id];
    return id;
  }

  void incref(std::uint64_t id, Held& held) {
    std::lock_guard lock(objects_mutex);
    auto found = objects.find(id);
    if (found == objects.end()) throw KeyError("the manager holds no object " + std::to_string(id));
    ++found->second.refs;
    ++held[id];
  }

  void decref(std::uint64_t id, Held& held) {
    auto mine = held.find(id);
    if (mine == held.end()) return;  // not this client's to release
    std::shared_ptr<Managed> dropped;
    {
      std::lock_guard lock(objects_mutex);
      if (--mine->second == 0) held.erase(mine);
      dropped = drop_locked(id, 1);
    }
  }

  // Takes `count` references off object `id`; returns the object if that
  // was its last one (to be destroyed outside the lock).
  std::shared_ptr<Managed> drop_locked(std::uint64_t id, std::size_t count) {
    auto found = objects.find(id);
    if (found == objects.end()) return nullptr;
    found->second.refs -= std::min(count, found->second.refs);
    if (found->second.refs > 0) return nullptr;
    auto object = std::move(found->second.object);
    objects.erase(found);
    return object;
  }

  // Drops the references of a client that has gone, and tells every
  // object. Once the server is stopping nothing is dropped: the objects
  // end with the server, and a request still on its way finds what it names.
  void release(std::uint64_t client, Held& held) {
    std::vector<std::shared_ptr<Managed>> live, dropped;
    {
      std::lock_guard lock(objects_mutex);
      if (stopping.load()) held.clear();
      for (const auto& [id, count] : held) {
        if (auto object = drop_locked(id, count)) dropped.push_back(std::move(object));
      }
      for (const auto& [id, entry] : objects) live.push_back(entry.object);
    }
    for (const auto& object : live) object->disconnected(client);
    for (const auto& object : dropped) object->disconnected(client);
  }
};

Server::Server(const net::Address& address, std::string authkey)
    : impl_(std::make_shared<Impl>(address, std::move(authkey))) {}

Server::~Server() { impl_->stop(); }

const net::Address& Server::address() const noexcept { return impl_->address; }

void Server::serve_forever() {
  auto impl = impl_;
  impl->serve_forever();
}

void Server::stop() noexcept { impl_->stop(); }

}  // namespace weft::mp::manager
