// weft/net.hpp — Python's `socket` module for C++.
//
//   weft::net::Socket, socketpair, getdefaulttimeout,
//   setdefaulttimeout                     (weft/net/socket.hpp)
//   create_connection, create_server,
//   has_dualstack_ipv6                    (weft/net/connection.hpp)
//   Address, getaddrinfo, AddrInfo,
//   gethostname                           (weft/net/address.hpp)
//   send_fds, recv_fds                    (weft/net/fds.hpp)
//   OSError and its subclasses, gaierror,
//   net::TimeoutError, raise_os_error     (weft/net/errors.hpp)
//
// Same names and semantics as Python's module: blocking, non-blocking and
// timeout modes per socket, Python's exception for every errno, and
// addresses as values. Constants (AF_INET, SOCK_STREAM, SHUT_WR, SOL_SOCKET,
// SO_REUSEADDR, ...) are the C library's own.
#pragma once

#include "weft/net/address.hpp"
#include "weft/net/connection.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/fds.hpp"
#include "weft/net/socket.hpp"
