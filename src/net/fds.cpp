// weft::net::send_fds and recv_fds over Socket::sendmsg and Socket::recvmsg.
#include "weft/net/fds.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace weft::net {

std::size_t send_fds(Socket& sock, std::span<const std::byte> data, std::span<const int> fds,
                     int flags, const std::optional<Address>& address) {
  iovec chunk{const_cast<std::byte*>(data.data()), data.size()};
  std::vector<std::byte> control(CMSG_SPACE(fds.size_bytes()));
  msghdr message{};
  message.msg_iov = &chunk;
  message.msg_iovlen = 1;
  if (address) {
    message.msg_name = const_cast<sockaddr*>(address->data());
    message.msg_namelen = address->size();
  }
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(fds.size_bytes());
    std::memcpy(CMSG_DATA(header), fds.data(), fds.size_bytes());
  }
  return sock.sendmsg(message, flags);
}

std::size_t send_fds(Socket& sock, std::string_view data, std::span<const int> fds, int flags,
                     const std::optional<Address>& address) {
  return send_fds(sock, std::as_bytes(std::span(data.data(), data.size())), fds, flags, address);
}

ReceivedFds recv_fds(Socket& sock, std::size_t bufsize, std::size_t maxfds, int flags) {
  ReceivedFds result;
  result.data.resize(bufsize);
  iovec chunk{result.data.data(), result.data.size()};
  std::vector<std::byte> control(CMSG_SPACE(maxfds * sizeof(int)));
  sockaddr_storage sender{};
  msghdr message{};
  message.msg_iov = &chunk;
  message.msg_iovlen = 1;
  message.msg_name = &sender;
  message.msg_namelen = sizeof(sender);
  if (maxfds > 0) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
  }
  // With MSG_TRUNC, recvmsg() reports a longer datagram's whole length.
  const std::size_t received = sock.recvmsg(message, flags | MSG_CMSG_CLOEXEC);
  result.data.resize(std::min(received, bufsize));
  result.msg_flags = message.msg_flags;
  result.address = Address(reinterpret_cast<const sockaddr*>(&sender), message.msg_namelen);
  if (message.msg_controllen == 0) return result;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const std::size_t first = result.fds.size();
    result.fds.resize(first + count);
    std::memcpy(result.fds.data() + first, CMSG_DATA(header), count * sizeof(int));
  }
  // Control buffers are padded, so the kernel may deliver a descriptor more
  // than asked for: close it and report the truncation.
  if (result.fds.size() > maxfds) {
    for (std::size_t i = maxfds; i < result.fds.size(); ++i) ::close(result.fds[i]);
    result.fds.resize(maxfds);
    result.msg_flags |= MSG_CTRUNC;
  }
  return result;
}

}  // namespace weft::net
