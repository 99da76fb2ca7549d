// tools/weft/shootout/chart_svg.cpp — the shootout as an SVG bar chart:
// one group of horizontal bars per connection count, one bar per server,
// its length the server CPU time per request (shorter is better), coloured
// by who the server is: weft, a C++ peer, or a Python peer.
#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "weft/shootout/shootout_result.hpp"

namespace weft::tool {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* colour(ContenderKind kind) {
  switch (kind) {
    case ContenderKind::weft: return "#2b7bb9";
    case ContenderKind::cpp_peer: return "#e08a1e";
    case ContenderKind::python_peer: return "#8a8a8a";
  }
  return "#000";
}

}  // namespace

std::string render_svg(const ShootoutReport& report) {
  constexpr int kLabelWidth = 230, kBarArea = 520, kBarHeight = 16, kGap = 4, kMargin = 20;
  std::map<int, std::vector<const ShootoutRow*>> groups;
  double longest = 0.0;
  for (const ShootoutRow& row : report.rows) {
    if (!row.ok || !row.server_cpu_us_per_request) continue;
    groups[row.connections].push_back(&row);
    longest = std::max(longest, *row.server_cpu_us_per_request);
  }
  int height = kMargin * 3;
  for (const auto& [connections, rows] : groups) height += 30 + static_cast<int>(rows.size()) * (kBarHeight + kGap);
  const int width = kLabelWidth + kBarArea + 120;

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"{}\" font-size=\"15\" font-weight=\"bold\">weft shootout: server CPU time per "
      "request (µs, shorter is better)</text>\n",
      width, height, kMargin, kMargin + 4);
  int y = kMargin * 2 + 6;
  for (const auto& [connections, rows] : groups) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{} connections</text>\n", kMargin, y + 12, connections);
    y += 22;
    for (const ShootoutRow* row : rows) {
      const double value = *row->server_cpu_us_per_request;
      const int length = longest > 0 ? std::max(1, static_cast<int>(value / longest * kBarArea)) : 1;
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", kLabelWidth - 6,
                         y + kBarHeight - 4, escape(row->server));
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", kLabelWidth, y, length,
                         kBarHeight, colour(row->kind));
      svg += fmt::format("<text x=\"{}\" y=\"{}\">{:.2f}</text>\n", kLabelWidth + length + 4, y + kBarHeight - 4, value);
      y += kBarHeight + kGap;
    }
    y += 8;
  }
  const int legend_y = height - kMargin;
  int x = kMargin;
  for (const auto& [kind, label] : {std::pair{ContenderKind::weft, "weft"}, std::pair{ContenderKind::cpp_peer, "C++ peers"},
                                    std::pair{ContenderKind::python_peer, "Python peers"}}) {
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
                       x, legend_y - 10, colour(kind), x + 16, legend_y, label);
    x += 120;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace weft::tool
