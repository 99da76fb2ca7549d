// A program that shares nothing with the manager tests but an address and
// a key: `serve KEY` serves a BaseManager on a free loopback TCP port
// (printing its address) until a client shuts it down or it is killed;
// `use ADDRESS KEY` connects to one, puts a message on its shared queue,
// sets "peer" in its shared dict, and prints "done" (or the error, its
// first word "AuthenticationError:" for a wrong key).
#include <cstdio>
#include <exception>
#include <string>

#include "mp/manager_test_types.hpp"
#include "weft/mp/managers.hpp"

namespace mp = weft::mp;

namespace {

int serve(const std::string& key) {
  mp::BaseManager manager(weft::net::Address::ipv4("127.0.0.1", 0), key);
  auto server = manager.get_server();
  std::printf("%s\n", server->address().to_string().c_str());
  std::fflush(stdout);
  server->serve_forever();
  return 0;
}

int use(const std::string& address, const std::string& key) {
  mp::BaseManager manager(weft::net::Address::parse(address), key);
  manager.connect();
  manager.create<mp::QueueProxy<std::string>>("get_queue").put("hello from the peer");
  manager.create<mp::DictProxy<std::string, int>>("get_dict").setitem("peer", 42);
  std::printf("done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "serve" && argc == 3) return serve(argv[2]);
    if (mode == "use" && argc == 4) return use(argv[2], argv[3]);
  } catch (const mp::AuthenticationError& e) {
    std::printf("AuthenticationError: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: %s serve KEY | use ADDRESS KEY\n", argv[0]);
  return 2;
}
