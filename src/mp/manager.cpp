// BaseManager and Manager: starting, connecting to and stopping a
// manager's server.
#include "weft/mp/managers.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "manager_client.hpp"
#include "weft/mp/connection.hpp"
#include "weft/mp/detail/thread_id.hpp"

namespace weft::mp {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(1);

std::string random_bytes(std::size_t size) {
  std::string out(size, '\0');
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t got = ::getrandom(out.data() + filled, size - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<std::size_t>(got);
  }
  return out;
}

net::Address fresh_unix_address() {
  static const char digits[] = "0123456789abcdef";
  std::string name = std::string(1, '\0') + "weft-manager-" + std::to_string(::getpid()) + "-";
  for (unsigned char byte : random_bytes(8)) {
    name += digits[byte >> 4];
    name += digits[byte & 15];
  }
  return net::Address::unix_path(name);
}

std::atomic<int> manager_counter{0};

// The server process: binds, tells the parent where it listens ("!" and
// the error if it cannot), and serves until shut down.
void run_server_process(Connection ready, std::string address, std::string authkey) {
  std::optional<manager::Server> server;
  try {
    server.emplace(net::Address::parse(address), std::move(authkey));
  } catch (const std::exception& e) {
    ready.send_bytes("!" + std::string(e.what()));
    return;
  }
  ready.send_bytes(server->address().to_string());
  ready.close();
  server->serve_forever();
}

}  // namespace

BaseManager::BaseManager(std::optional<net::Address> address, std::optional<std::string> authkey,
                         std::optional<Context> context)
    : address_(address ? std::move(*address) : fresh_unix_address()),
      authkey_(authkey ? std::move(*authkey) : random_bytes(32)),
      context_(context),
      creator_(detail::this_process_id()) {}

BaseManager::~BaseManager() {
  try {
    shutdown();
  } catch (...) {
  }
}

void BaseManager::start() {
  if (used_) throw ProcessError("the manager was already started or connected");
  used_ = true;
  auto [reader, writer] = Pipe(false);
  ProcessOptions options{.name = "SyncManager-" + std::to_string(++manager_counter), .daemon = true};
  process_.emplace(context_ ? context_->Process(std::move(options), &run_server_process, std::move(writer),
                                                address_.to_string(), authkey_)
                            : Process(std::move(options), &run_server_process, std::move(writer),
                                      address_.to_string(), authkey_));
  process_->start();
  std::string answer;
  try {
    if (!reader.poll(kStartTimeout)) throw TimeoutError("the manager's server did not start in time");
    answer = reader.recv_bytes();
  } catch (const std::exception& e) {
    process_->kill();
    process_->join();
    process_.reset();
    throw ProcessError(std::string("the manager's server failed to start: ") + e.what());
  }
  if (!answer.empty() && answer[0] == '!') {
    process_->join();
    process_.reset();
    throw ProcessError("the manager's server failed to start: " + answer.substr(1));
  }
  address_ = net::Address::parse(answer);
}

void BaseManager::connect() {
  if (used_) throw ProcessError("the manager was already started or connected");
  client()->ping();
  used_ = true;
}

std::unique_ptr<manager::Server> BaseManager::get_server() const {
  return std::make_unique<manager::Server>(address_, authkey_);
}

void BaseManager::shutdown() {
  if (!process_ || creator_ != detail::this_process_id()) return;
  try {
    client()->shutdown_server();
  } catch (const std::exception&) {
    // Already gone: joining is all that is left.
  }
  if (!process_->join(kStopTimeout)) {
    process_->kill();
    process_->join();
  }
  process_.reset();
}

std::size_t BaseManager::number_of_objects() const { return client()->number_of_objects(); }

std::optional<pid_t> BaseManager::pid() const noexcept {
  return process_ ? process_->pid() : std::nullopt;
}

std::shared_ptr<manager::detail::ManagerClient> BaseManager::client() const {
  std::lock_guard lock(client_mutex_);
  if (!client_ || client_pid_ != detail::this_process_id()) {
    client_ = manager::detail::ManagerClient::for_server(address_, authkey_);
    client_pid_ = detail::this_process_id();
  }
  return client_;
}

BaseProxy BaseManager::create_encoded(std::string_view type_id, std::string encoded_args) const {
  auto client = this->client();
  const auto id = client->create(type_id, std::move(encoded_args));
  return BaseProxy(std::make_shared<detail::ProxyState>(std::move(client), std::string(type_id), id));
}

Manager::Manager(std::optional<Context> context) : BaseManager(std::nullopt, std::nullopt, context) {
  start();
}

}  // namespace weft::mp
