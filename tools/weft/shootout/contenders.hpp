// tools/weft/shootout/contenders.hpp — the servers a shootout runs: every
// weft IO model, and the peers — a raw epoll server in plain C style (the
// physical limit), Boost.Asio's echo server, and the seeds' Python servers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "weft/protocol.hpp"

namespace weft::tool {

enum class ContenderKind { weft, cpp_peer, python_peer };

struct Contender {
  std::string name;         // as the table shows it
  ContenderKind kind;
  std::vector<std::string> argv;  // the server's command line; it must print its listening line
  bool pinned = true;       // false: may use every core (the multi-loop rows)
  bool single_process = true;  // syscalls can be counted on its pid alone
};

struct ContenderSources {
  std::string weft_binary;        // this executable
  std::string peers_dir;          // where weft_peer_raw_epoll and weft_peer_asio were built
  std::string python_servers_dir; // bench/python/servers
  std::string python;             // interpreter for the Python peers; empty: none
  bool python_has_gevent = false;
};

// Every contender that can run here; what cannot (a peer not built, no
// Python, no gevent) is named in `skipped` with the reason.
std::vector<Contender> all_contenders(const ContenderSources& sources, Protocol protocol,
                                      std::vector<std::string>& skipped);

// Where the peers are, from the build (overridable by WEFT_PEERS_DIR,
// WEFT_PYTHON) and a probe of the Python interpreter.
ContenderSources find_contender_sources();

}  // namespace weft::tool
