// tools/weft/shootout/contenders.cpp — the list of servers and where their
// programs are.
#include "weft/shootout/contenders.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace weft::tool {
namespace {

namespace fs = std::filesystem;

std::string protocol_name(Protocol protocol) { return protocol == Protocol::echo ? "echo" : "http"; }

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string this_executable() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string("weft") : self.string();
}

// Runs `python -c code` quietly; true if it exits 0.
bool python_runs(const std::string& python, const char* code) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execlp(python.c_str(), python.c_str(), "-c", code, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

ContenderSources find_contender_sources() {
  ContenderSources sources;
  sources.weft_binary = this_executable();
  const char* peers = std::getenv("WEFT_PEERS_DIR");
  sources.peers_dir = peers != nullptr ? peers : WEFT_PEERS_DIR;
  sources.python_servers_dir = WEFT_PYTHON_SERVERS_DIR;
  // Debian's python3 carries python3-gevent; another python3 on PATH may not.
  std::vector<std::string> candidates;
  if (const char* chosen = std::getenv("WEFT_PYTHON")) candidates.push_back(chosen);
  candidates.push_back("/usr/bin/python3");
  candidates.push_back("python3");
  for (const std::string& python : candidates) {
    if (!python_runs(python, "import selectors, asyncio")) continue;
    sources.python = python;
    sources.python_has_gevent = python_runs(python, "import gevent");
    break;
  }
  return sources;
}

std::vector<Contender> all_contenders(const ContenderSources& sources, Protocol protocol,
                                      std::vector<std::string>& skipped) {
  const std::string proto = protocol_name(protocol);
  std::vector<Contender> list;
  auto weft = [&](std::string name, std::vector<std::string> extra, bool pinned = true, bool single = true) {
    std::vector<std::string> argv{sources.weft_binary, "serve", "--port", "0", "--protocol", proto};
    argv.insert(argv.end(), extra.begin(), extra.end());
    list.push_back({std::move(name), ContenderKind::weft, std::move(argv), pinned, single});
  };
  weft("weft threads", {"--model", "threads"});
  weft("weft processes", {"--model", "processes"}, true, false);
  weft("weft prefork", {"--model", "prefork", "--workers", "2"}, true, false);
  weft("weft nonblocking", {"--model", "nonblocking"});
  weft("weft select", {"--model", "select"});
  weft("weft poll", {"--model", "poll"});
  weft("weft epoll", {"--model", "epoll"});
  weft("weft io_uring", {"--model", "io_uring"});
  weft("weft green", {"--model", "green"});
  weft("weft asyncio", {"--model", "asyncio", "--backend", "epoll"});
  weft("weft asyncio io_uring", {"--model", "asyncio", "--backend", "io_uring"});
  weft("weft epoll ×2 loops", {"--model", "epoll", "--loops", "2"}, false);
  weft("weft io_uring ×2 loops", {"--model", "io_uring", "--loops", "2"}, false);

  for (const auto& [name, program] : {std::pair{"raw epoll (C style)", "weft_peer_raw_epoll"},
                                      std::pair{"Boost.Asio", "weft_peer_asio"}}) {
    const std::string path = sources.peers_dir + "/" + program;
    if (executable(path))
      list.push_back({name, ContenderKind::cpp_peer, {path, "--port", "0", "--protocol", proto}});
    else
      skipped.push_back(std::string(name) + ": " + path + " not built (build the bench/ peers)");
  }

  if (sources.python.empty()) {
    skipped.push_back("Python peers: no python3 with selectors and asyncio");
    return list;
  }
  for (const auto& [name, script, needs_gevent] :
       {std::tuple{"Python selectors (seed 002)", "echo_selectors.py", false},
        std::tuple{"Python asyncio streams", "echo_asyncio.py", false},
        std::tuple{"Python gevent StreamServer", "echo_gevent.py", true},
        std::tuple{"Python thread per connection", "echo_threads.py", false}}) {
    const std::string path = sources.python_servers_dir + "/" + script;
    if (needs_gevent && !sources.python_has_gevent) {
      skipped.push_back(std::string(name) + ": " + sources.python + " has no gevent (apt-get install python3-gevent)");
      continue;
    }
    list.push_back({name, ContenderKind::python_peer, {sources.python, path, "--port", "0", "--protocol", proto}});
  }
  return list;
}

}  // namespace weft::tool
