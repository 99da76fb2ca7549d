// weft::mp::Listener and Client(): sockets bound, accepted and connected as
// CPython's SocketListener and SocketClient do, with the authentication
// handshake of each accept() bounded by a deadline.
#include "weft/mp/listener.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "handshake_deadline.hpp"
#include "weft/mp/authentication.hpp"
#include "weft/mp/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp {

namespace {

int checked_family(const std::optional<net::Address>& address, int family) {
  if (family == AF_UNSPEC) family = address ? address->family() : AF_UNIX;
  if (family != AF_UNIX && family != AF_INET && family != AF_INET6)
    throw ValueError("Family " + std::to_string(family) + " is not recognized.");
  if (address && address->family() != family)
    throw ValueError("address " + address->to_string() + " is not of family " +
                     std::to_string(family));
  return family;
}

bool is_socket_file(const net::Address& address) {
  const std::string path = address.path();
  return address.family() == AF_UNIX && !path.empty() && path.front() != '\0';
}

// A new private directory under the system's temporary directory.
std::string make_private_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "weft-mp-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) net::raise_os_error(errno, "mkdtemp");
  return pattern;
}

// Runs the handshake of an accepted connection, turning each way a client
// can fail it into the error accept() documents.
void authenticate(Connection& conn, const std::string& authkey,
                  const weft::detail::Deadline& deadline) {
  detail::HandshakeDeadline bound(conn, deadline);
  try {
    deliver_challenge(conn, authkey);
    answer_challenge(conn, authkey);
  } catch (const net::ConnectionError& error) {
    throw EOFError(std::string("the client left during the handshake: ") + error.what());
  } catch (const net::OSError& error) {
    if (error.code() == std::errc::message_size)
      throw AuthenticationError(std::string("protocol error: ") + error.what());
    if (error.code() == std::errc::protocol_error)
      throw EOFError(std::string("the client left during the handshake: ") + error.what());
    throw;
  }
}

}  // namespace

Listener::Listener(std::optional<net::Address> address, int family, int backlog,
                   std::optional<std::string> authkey)
    : authkey_(std::move(authkey)) {
  family = checked_family(address, family);
  if (!address && family == AF_UNIX) private_dir_ = make_private_dir();
  try {
    if (!address) {
      if (family == AF_UNIX) {
        address = net::Address::unix_path(private_dir_ + "/sock");
      } else {
        address = family == AF_INET ? net::Address::ipv4("127.0.0.1", 0)
                                    : net::Address::ipv6("::1", 0);
      }
    }
    net::Socket sock(family, SOCK_STREAM);
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.setblocking(true);
    sock.bind(*address);
    sock.listen(backlog);
    address_ = sock.getsockname();
    socket_ = std::move(sock);
  } catch (...) {
    if (!private_dir_.empty()) ::rmdir(private_dir_.c_str());
    throw;
  }
  if (is_socket_file(*address)) socket_file_ = address->path();
  owner_ = ::getpid();
}

Listener::Listener(Listener&& other) noexcept
    : socket_(std::move(other.socket_)),
      address_(other.address_),
      last_accepted_(std::move(other.last_accepted_)),
      authkey_(std::move(other.authkey_)),
      handshake_timeout_(other.handshake_timeout_),
      socket_file_(std::exchange(other.socket_file_, {})),
      private_dir_(std::exchange(other.private_dir_, {})),
      owner_(std::exchange(other.owner_, -1)) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    close();
    socket_ = std::move(other.socket_);
    address_ = other.address_;
    last_accepted_ = std::move(other.last_accepted_);
    authkey_ = std::move(other.authkey_);
    handshake_timeout_ = other.handshake_timeout_;
    socket_file_ = std::exchange(other.socket_file_, {});
    private_dir_ = std::exchange(other.private_dir_, {});
    owner_ = std::exchange(other.owner_, -1);
  }
  return *this;
}

Listener::~Listener() { close(); }

void Listener::close() noexcept {
  try {
    socket_.close();
  } catch (const net::OSError&) {
    // The descriptor is released either way.
  }
  if (owner_ == ::getpid()) {
    if (!socket_file_.empty()) ::unlink(socket_file_.c_str());
    if (!private_dir_.empty()) ::rmdir(private_dir_.c_str());
  }
  socket_file_.clear();
  private_dir_.clear();
}

void Listener::set_handshake_timeout(std::optional<std::chrono::nanoseconds> timeout) {
  if (timeout && *timeout < timeout->zero()) throw ValueError("Timeout value out of range");
  handshake_timeout_ = timeout;
}

Connection Listener::accept() {
  if (closed())
    throw net::OSError(std::error_code(EBADF, std::generic_category()), "listener is closed");
  auto [sock, peer] = socket_.accept();
  sock.setblocking(true);
  last_accepted_ = std::move(peer);
  Connection conn(sock.detach());
  if (authkey_ && !authkey_->empty()) {
    authenticate(conn, *authkey_,
                 handshake_timeout_ ? weft::detail::deadline_after(*handshake_timeout_)
                                    : weft::detail::Deadline());
  }
  return conn;
}

Connection Client(const net::Address& address, int family, std::optional<std::string> authkey) {
  family = checked_family(address, family);
  net::Socket sock(family, SOCK_STREAM);
  sock.setblocking(true);
  sock.connect(address);
  Connection conn(sock.detach());
  if (authkey) {
    answer_challenge(conn, *authkey);
    deliver_challenge(conn, *authkey);
  }
  return conn;
}

}  // namespace weft::mp
