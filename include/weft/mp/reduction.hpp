// weft/mp/reduction.hpp — a net::Socket crossing to another process, as
// Python's multiprocessing.reduction lets a socket be pickled.
//
// With this header included, a net::Socket is codec-encodable: a Pool task
// or a Process may take one as an argument, and a Queue or Connection may
// carry one. Its descriptor travels as weft/mp/detail/dup_fd.hpp says: to
// a child started with spawn or forkserver by inheritance, anywhere else
// lent by the encoding process and taken by the decoding one (the seed's
// `pool.apply_async(talk, (conn,))` for a connection accepted in the
// parent).
//
// The decoder gets Socket::from_fd() of a descriptor of its own: the same
// family, type and protocol, in the decoder's default timeout mode (or
// non-blocking if the descriptor is). Both processes then share one open
// socket, as after dup(2): closing the encoder's Socket does not close the
// connection, and a mode change by either is seen by both.
//
// Encoding a closed Socket throws net::OSError (EBADF); encoding lends a
// duplicate, so it throws what dup(2) and starting the sharer throw.
// Decoding throws codec::DecodeError for a descriptor already taken or
// never shared, net::OSError when its lender no longer runs, and
// AuthenticationError in a process of another user than the lender's. A lent
// descriptor that nobody decodes (a Queue item never got, a message whose
// decoding failed before reaching the socket, a Pool task cancelled or
// terminated before it ran) stays open in the encoder until it exits; a
// put, a Pool submission or a send that fails withdraws what its encoding
// lent. A descriptor is taken once: a Pool task that a dying worker's
// replacement runs again finds its socket taken (codec::DecodeError). A
// Pool initializer's arguments are part of each worker's start, so each
// worker inherits the socket. weft::dist arguments, items and results
// refuse sockets with codec::EncodeError.
#pragma once

#include <unistd.h>

#include "weft/codec.hpp"
#include "weft/mp/detail/dup_fd.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct pack<weft::net::Socket> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const weft::net::Socket& sock) const {
      if (sock.fileno() < 0) weft::net::raise_os_error(EBADF, "socket");
      return out.pack(weft::mp::detail::DupFd::of(sock.fileno()));
    }
  };

  template <>
  struct as<weft::net::Socket> {
    weft::net::Socket operator()(const msgpack::object& in) const {
      const int fd = in.as<weft::mp::detail::DupFd>().detach();
      try {
        return weft::net::Socket::from_fd(fd);
      } catch (...) {
        ::close(fd);
        throw;
      }
    }
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
