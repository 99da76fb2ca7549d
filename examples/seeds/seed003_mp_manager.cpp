// Seed 003, Managers, 方法二:manage.dict()共享数据 ("A manager object returned
// by Manager() controls a server process which holds Python objects and
// allows other processes to manipulate them using proxies"): with
// Manager() as manager: d = manager.dict(); l = manager.list(range(5));
// ten processes run f(d, l): d[1] = '1'; d['2'] = 2; d[0.25] = None;
// l.append(1); print(l); the main process joins them and prints d.
//
// Python's dict mixes key and value types; here the keys are a
// std::variant<int, std::string, double> and the values a
// std::variant<std::monostate, int, std::string> (monostate is None), and
// they print as Python prints them. The `with` block is a scope: the
// Manager's destructor shuts its server down.
//
// Shows that the children's writes reach the one dict and the one list
// the manager's server holds: the parent prints {1: '1', '2': 2, 0.25:
// None} (ten processes wrote the same three keys) and the list is
// [0, 1, 2, 3, 4] followed by ten 1s; and that once the block is left the
// server is gone: a proxy call raises ManagerGoneError instead of hanging.
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/mp/managers.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

using Key = std::variant<int, std::string, double>;
using Val = std::variant<std::monostate, int, std::string>;
using Dict = mp::DictProxy<Key, Val>;
using List = mp::ListProxy<int>;

// repr() of a key or a value.
struct PyRepr {
  std::string operator()(std::monostate) const { return "None"; }
  std::string operator()(int i) const { return std::to_string(i); }
  std::string operator()(double x) const {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return text;
  }
  std::string operator()(const std::string& s) const { return "'" + s + "'"; }
};

std::string py_dict(const std::vector<std::pair<Key, Val>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + std::visit(PyRepr{}, items[i].first) + ": " +
           std::visit(PyRepr{}, items[i].second);
  return out + "}";
}

std::string py_list(const std::vector<int>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

void f(Dict d, List l) {
  d.setitem(1, std::string("1"));
  d.setitem(std::string("2"), 2);
  d.setitem(0.25, std::monostate{});
  l.append(1);
  std::printf("%s\n", py_list(l.copy()).c_str());
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before any fork
  std::optional<Dict> kept;
  {
    mp::Manager manager;  // with Manager() as manager:
    const Dict d = manager.dict<Key, Val>();
    const List l = manager.list<int>({0, 1, 2, 3, 4});
    std::vector<mp::Process> p_list;
    p_list.reserve(10);
    for (int i = 0; i < 10; ++i) p_list.emplace_back(f, d, l).start();
    bool all_clean = true;
    for (auto& res : p_list) {
      res.join();
      all_clean = all_clean && res.exitcode() == 0;
    }
    const auto items = d.items();
    std::printf("%s\n", py_dict(items).c_str());

    const std::vector<std::pair<Key, Val>> expected{
        {Key(1), Val(std::string("1"))}, {Key(std::string("2")), Val(2)}, {Key(0.25), Val()}};
    std::vector<int> expected_list{0, 1, 2, 3, 4};
    expected_list.resize(15, 1);
    seed::check(all_clean, "the ten children ran and exited 0");
    seed::check(items == expected, "the parent's dict is {1: '1', '2': 2, 0.25: None}");
    seed::check(l.copy() == expected_list, "the list is [0, 1, 2, 3, 4] and the ten children's 1s");
    kept = d;
  }
  bool gone = false;
  try {
    kept->len();
  } catch (const mp::ManagerGoneError& e) {
    std::printf("after the with block: ManagerGoneError: %s\n", e.what());
    gone = true;
  }
  seed::check(gone, "after the with block the server is gone: a proxy raises ManagerGoneError");
  return seed::verdict();
}
