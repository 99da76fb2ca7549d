// Seed 000, "进程之间要实现共享,需要用manager": manager = Manager(); d =
// manager.dict(); l = manager.list(range(3)); ten processes run
// thre(dd, ll): dd[os.getpid()] = os.getppid(); ll.append(os.getpid());
// print(ll); print(dd); the main process joins them all ("此时字典 d 和 列表
// l,他们的数据同时都可以被进程修改覆盖").
//
// Shows weft::mp::Manager: a DictProxy<int, int> and a ListProxy<int>
// handed to ten children as arguments, every child's write landing in the
// one dict and the one list the manager's server holds — ten keys, each a
// child's pid with the main process as its parent, and the list [0, 1, 2]
// followed by the ten pids. The program runs twice, with the fork and the
// spawn start methods (under spawn each child is a fresh run of this
// executable that reconnects to the server through the proxies it was
// sent).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/mp/managers.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

using Dict = mp::DictProxy<int, int>;
using List = mp::ListProxy<int>;

std::string py_list(const std::vector<int>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

std::string py_dict(const std::vector<std::pair<int, int>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + std::to_string(items[i].first) + ": " + std::to_string(items[i].second);
  return out + "}";
}

void thre(Dict dd, List ll) {
  dd.setitem(static_cast<int>(::getpid()), static_cast<int>(::getppid()));
  ll.append(static_cast<int>(::getpid()));
  std::printf("%s\n%s\n", py_list(ll.copy()).c_str(), py_dict(dd.items()).c_str());
}

void program(const mp::Context& context) {
  mp::Manager manager(context);
  const Dict d = manager.dict<int, int>();
  const List l = manager.list<int>({0, 1, 2});
  std::vector<mp::Process> t_list;
  t_list.reserve(10);
  for (int i = 0; i < 10; ++i) {
    t_list.push_back(context.Process(thre, d, l));
    t_list.back().start();
  }
  std::set<int> children;
  bool all_clean = true;
  for (auto& res : t_list) {
    res.join();  // 等待的意思
    children.insert(static_cast<int>(*res.pid()));
    all_clean = all_clean && res.exitcode() == 0;
  }

  const auto items = d.items();
  const auto values = l.copy();
  bool dict_right = items.size() == 10;
  for (const auto& [pid, ppid] : items)
    dict_right = dict_right && children.contains(pid) && ppid == ::getpid();
  const bool list_right = values.size() == 13 &&
                          std::vector<int>(values.begin(), values.begin() + 3) == std::vector<int>{0, 1, 2} &&
                          std::set<int>(values.begin() + 3, values.end()) == children;
  std::printf("main: %s\nmain: %s\n", py_list(values).c_str(), py_dict(items).c_str());
  seed::check(all_clean, "the ten children ran and exited 0");
  seed::check(dict_right, "the dict holds all ten children's writes: pid -> the main process's pid");
  seed::check(list_right, "the list is [0, 1, 2] followed by every child's pid, once each");
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before any fork
  for (const char* method : {"fork", "spawn"}) {
    std::printf("-- start method %s --\n", method);
    program(mp::get_context(method));
  }
  return seed::verdict();
}
