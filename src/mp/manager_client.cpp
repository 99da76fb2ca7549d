// A process's client of a manager's server, and the shared state of a proxy.
#include "manager_client.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "weft/mp/authentication.hpp"
#include "weft/mp/detail/thread_id.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp::manager::detail {
namespace {

std::atomic<std::uint64_t> next_serial{1};
// How many clients have released their threads' channels, so that a
// thread looks for channels to drop only when there may be some.
std::atomic<std::uint64_t> channels_released{0};

// The calling thread's connections, by client serial; forgotten (closed:
// only this process's copies) in a forked child.
struct ThreadConnections {
  pid_t pid = 0;
  std::uint64_t swept = 0;  // channels_released when last looked at
  std::unordered_map<std::uint64_t, std::shared_ptr<ThreadChannel>> by_client;
};
thread_local ThreadConnections thread_connections;

// Drops the calling thread's channels whose clients are gone.
void drop_released(ThreadConnections& mine) {
  const std::uint64_t released = channels_released.load(std::memory_order_acquire);
  if (released == mine.swept) [[likely]] return;
  mine.swept = released;
  std::erase_if(mine.by_client, [](const auto& entry) {
    return !entry.second || entry.second->released.load(std::memory_order_acquire);
  });
}

// The descriptors of this process's connections to servers, listed from
// before they connect. Forks wait while one is added or closed, so a child
// finds those listed open.
struct ServerSockets {
  std::mutex mutex;
  std::unordered_set<int> fds;
};

ServerSockets& server_sockets();

// pthread_atfork's child handler: every copy is made to refer to /dev/null
// (without a shutdown, which would end the parent's connection too).
void let_go_in_child() noexcept {
  auto& sockets = server_sockets();
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (const int fd : sockets.fds) ::dup3(null, fd, O_CLOEXEC);
    ::close(null);
  }
  sockets.fds.clear();
  sockets.mutex.unlock();
}

ServerSockets& server_sockets() {
  static auto* sockets = [] {
    auto* made = new ServerSockets;  // never destroyed: a fork may come at exit
    ::pthread_atfork([] { server_sockets().mutex.lock(); }, [] { server_sockets().mutex.unlock(); },
                     &let_go_in_child);
    return made;
  }();
  return *sockets;
}

[[noreturn]] void gone(const std::string& address, const std::exception& cause) {
  throw ManagerGoneError("the manager at " + address + " is gone: " + cause.what());
}

}  // namespace

std::shared_ptr<ManagerClient> ManagerClient::for_server(const net::Address& address,
                                                         const std::string& authkey) {
  static std::mutex mutex;
  static auto* clients = new std::map<std::pair<std::string, std::string>, std::weak_ptr<ManagerClient>>;
  static pid_t owner = 0;
  std::lock_guard lock(mutex);
  if (owner != mp::detail::this_process_id()) {
    clients->clear();  // the parent's clients: never used (nor destroyed) here
    owner = mp::detail::this_process_id();
  }
  std::erase_if(*clients, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = (*clients)[{address.to_string(), authkey}];
  auto client = slot.lock();
  if (!client) {
    client = std::make_shared<ManagerClient>(address, authkey);
    slot = client;
  }
  return client;
}

ManagerClient::ManagerClient(net::Address address, std::string authkey)
    : address_(std::move(address)),
      address_text_(address_.to_string()),
      authkey_(std::move(authkey)),
      pid_(mp::detail::this_process_id()),
      serial_(next_serial.fetch_add(1)) {}

ManagerClient::~ManagerClient() {
  if (pid_ != mp::detail::this_process_id()) return;  // a forked copy: the sockets are the parent's
  // Shut down before closing: a forked child may hold a copy of the socket,
  // and the server thread must see the end now.
  bool released = false;
  for (const auto& weak : threads_) {
    if (auto channel = weak.lock()) {
      if (!channel->conn.closed()) ::shutdown(channel->conn.fileno(), SHUT_RDWR);
      channel->conn.close();
      channel->shm.reset();
      channel->released.store(true, std::memory_order_release);
      released = true;
    }
  }
  if (released) channels_released.fetch_add(1, std::memory_order_release);
}

ServerConnection::ServerConnection(Connection conn) : conn_(std::move(conn)) {
  auto& sockets = server_sockets();
  std::lock_guard lock(sockets.mutex);
  sockets.fds.insert(conn_.fileno());
}

ServerConnection& ServerConnection::operator=(ServerConnection&& other) noexcept {
  if (this != &other) {
    close();
    conn_ = std::move(other.conn_);
  }
  return *this;
}

void ServerConnection::close() noexcept {
  if (conn_.closed()) return;
  auto& sockets = server_sockets();
  std::lock_guard lock(sockets.mutex);
  sockets.fds.erase(conn_.fileno());
  conn_.close();
}

ServerConnection ManagerClient::connect() const {
  try {
    // Listed before it connects, so that a child forked meanwhile by
    // another thread lets go of it too; closed (and unlisted) on failure.
    net::Socket sock(address_.family(), SOCK_STREAM);
    ServerConnection conn{Connection(sock.detach())};
    with_socket(conn.get(), [this](net::Socket& view) {
      view.setblocking(true);
      view.connect(address_);
    });
    answer_challenge(conn.get(), authkey_);
    deliver_challenge(conn.get(), authkey_);
    return conn;
  } catch (const net::OSError& e) {
    gone(address_text_, e);
  } catch (const EOFError& e) {
    gone(address_text_, e);
  }
}

template <class Io>
std::string ManagerClient::round_trip(ServerConnection& conn, Io io) const {
  Reply reply;
  try {
    reply = codec::decode<Reply>(io());
  } catch (const net::OSError& e) {
    conn.close();
    gone(address_text_, e);
  } catch (const EOFError& e) {
    conn.close();
    gone(address_text_, e);
  }
  if (!reply.ok) {
    std::rethrow_exception(mp::decode_exception(codec::decode<mp::detail::EncodedException>(reply.body)));
  }
  return std::move(reply.body);
}

std::string ManagerClient::exchange(ServerConnection& conn, const Request& request, Spinner* spinner) const {
  return round_trip(conn, [&] {
    conn.get().send_bytes(codec::encode(request));
    if (spinner != nullptr) spinner->wait_for_input(conn.fileno());
    return conn.get().recv_bytes();
  });
}

std::shared_ptr<ThreadChannel> ManagerClient::open_channel() const {
  auto channel = std::make_shared<ThreadChannel>();
  channel->conn = connect();
  if (address_.family() != AF_UNIX) return channel;
  std::unique_ptr<CallChannel> shm;
  try {
    shm = CallChannel::create();
  } catch (const std::system_error&) {
    return channel;  // out of memory or descriptors: the socket serves
  }
  auto& conn = channel->conn;
  try {
    round_trip(conn, [&] {
      conn.get().send_bytes(codec::encode(Request{Op::upgrade, 0, {}, {}}));
      send_channel(conn.get(), *shm);
      return conn.get().recv_bytes();
    });
  } catch (const ManagerGoneError&) {
    throw;
  } catch (const std::exception&) {
    return channel;  // refused (the block could not be mapped there): the socket serves
  }
  channel->shm = std::move(shm);
  return channel;
}

std::string ManagerClient::control(const Request& request) {
  std::lock_guard lock(mutex_);
  if (control_.closed()) control_ = connect();
  return exchange(control_, request);
}

std::uint64_t ManagerClient::create(std::string_view type_id, std::string args) {
  return codec::decode<std::uint64_t>(control({Op::create, 0, std::string(type_id), std::move(args)}));
}

void ManagerClient::incref(std::uint64_t id) { control({Op::incref, id, {}, {}}); }

void ManagerClient::decref(std::uint64_t id) noexcept {
  try {
    std::lock_guard lock(mutex_);
    if (control_.closed()) return;  // the server is gone, or never held a reference of ours
    exchange(control_, {Op::decref, id, {}, {}});
  } catch (...) {
  }
}

void ManagerClient::ping() { control({Op::ping, 0, {}, {}}); }

std::size_t ManagerClient::number_of_objects() {
  return codec::decode<std::uint64_t>(control({Op::count, 0, {}, {}}));
}

void ManagerClient::shutdown_server() { control({Op::shutdown, 0, {}, {}}); }

std::string ManagerClient::call(std::uint64_t id, std::string_view method, std::string args) {
  auto& mine = thread_connections;
  if (mine.pid != mp::detail::this_process_id()) {
    mine.by_client.clear();
    mine.pid = mp::detail::this_process_id();
  }
  drop_released(mine);
  auto& channel = mine.by_client[serial_];
  if (!channel || channel->conn.closed()) {
    channel = open_channel();
    std::lock_guard lock(mutex_);
    std::erase_if(threads_, [](const auto& weak) { return weak.expired(); });
    threads_.push_back(channel);
  }
  const Request request{Op::call, id, std::string(method), std::move(args)};
  if (!channel->shm) return exchange(channel->conn, request, &channel->spinner);
  auto& conn = channel->conn;
  auto& shm = *channel->shm;
  return round_trip(conn, [&] {
    shm.requests().post(codec::encode(request), conn.get());
    const int fd = conn.fileno();
    return shm.replies().take(conn.get(), channel->spinner, [fd] { return peer_connected(fd); },
                              std::numeric_limits<std::size_t>::max());
  });
}

}  // namespace weft::mp::manager::detail

namespace weft::mp {
namespace detail {

ProxyState::ProxyState(std::shared_ptr<manager::detail::ManagerClient> client, std::string type,
                       std::uint64_t object) noexcept
    : type_id(std::move(type)), id(object), client_(std::move(client)), owner_(this_process_id()) {}

ProxyState::~ProxyState() {
  // A forked copy never used here holds no reference of this process.
  if (owner_.load(std::memory_order_acquire) == this_process_id()) client_->decref(id);
}

manager::detail::ManagerClient& ProxyState::client() {
  if (owner_.load(std::memory_order_acquire) != this_process_id()) [[unlikely]] {
    std::lock_guard lock(mutex_);
    if (owner_.load(std::memory_order_relaxed) != this_process_id()) {
      auto mine = manager::detail::ManagerClient::for_server(client_->address(), client_->authkey());
      mine->incref(id);
      client_ = std::move(mine);
      owner_.store(this_process_id(), std::memory_order_release);
    }
  }
  return *client_;
}

}  // namespace detail

const std::string& BaseProxy::type_id() const noexcept { return state_->type_id; }
std::uint64_t BaseProxy::id() const noexcept { return state_->id; }

std::string BaseProxy::call_raw(std::string_view method, std::string encoded_args) const {
  return state_->client().call(state_->id, method, std::move(encoded_args));
}

detail::ProxyToken BaseProxy::token() const {
  auto& client = state_->client();
  return {client.address().to_string(), client.authkey(), state_->type_id, state_->id};
}

BaseProxy BaseProxy::from_token(const detail::ProxyToken& token) {
  auto client = manager::detail::ManagerClient::for_server(net::Address::parse(token.address), token.authkey);
  client->incref(token.id);
  return BaseProxy(std::make_shared<detail::ProxyState>(std::move(client), token.type_id, token.id));
}

}  // namespace weft::mp
