// tools/weft/load/load_report.cpp — formatting of a LoadResult with fmt.
#include "weft/load/load_report.hpp"

#include <cstdio>
#include <string_view>

#include <fmt/format.h>

namespace weft::tool {

namespace {

std::string_view protocol_name(Protocol protocol) {
  return protocol == Protocol::echo ? "echo" : "http";
}

// Microseconds as "123.4 µs" or, from 10 ms up, "12.3 ms".
std::string latency(double us) {
  if (us >= 10'000.0) return fmt::format("{:.1f} ms", us / 1000.0);
  return fmt::format("{:.1f} µs", us);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += json_string(items[i]);
  }
  return out + "]";
}

std::string json_number(const std::optional<double>& value) {
  return value ? fmt::format("{:.6g}", *value) : std::string("null");
}

}  // namespace

std::string load_summary_text(const LoadOptions& o, const LoadResult& r) {
  std::string out;
  out += fmt::format("weft load: {} {}:{}, {} connections × pipeline {}", protocol_name(o.protocol),
                     o.host, o.port, o.connections, o.pipeline);
  if (o.protocol == Protocol::echo) out += fmt::format(", {} B", o.message_size);
  out += fmt::format(", {} client thread{}\n", r.threads, r.threads == 1 ? "" : "s");
  if (r.connections == 0) {
    out += fmt::format("  no connection was made; errors {}\n", r.errors);
    for (const std::string& message : r.error_messages) out += fmt::format("    {}\n", message);
    return out;
  }
  out += fmt::format("  requests  {} in {:.2f} s = {:.0f} req/s\n", r.requests, r.seconds,
                     r.requests_per_second);
  out += fmt::format("  latency   p50 {}  p99 {}  p99.9 {}  max {}  (mean {})\n", latency(r.p50_us),
                     latency(r.p99_us), latency(r.p999_us), latency(r.max_us), latency(r.mean_us));
  const double client_share =
      r.seconds > 0 ? 100.0 * r.client_cpu_seconds / (r.seconds * r.threads) : 0.0;
  out += fmt::format("  client    cpu {:.2f} s = {:.0f}% of {} core{}\n", r.client_cpu_seconds,
                     client_share, r.threads, r.threads == 1 ? "" : "s");
  if (r.server_cpu_seconds) {
    out += fmt::format("  server    cpu {:.2f} s", *r.server_cpu_seconds);
    if (r.server_cpu_us_per_request) out += fmt::format(" = {:.2f} µs/request", *r.server_cpu_us_per_request);
    out += '\n';
  }
  out += fmt::format("  errors    {}", r.errors);
  if (r.connections_lost > 0) out += fmt::format(" ({} of {} connections lost)", r.connections_lost, r.connections);
  out += '\n';
  for (const std::string& message : r.error_messages) out += fmt::format("    {}\n", message);
  for (const std::string& warning : r.warnings) out += fmt::format("warning: {}\n", warning);
  if (r.client_saturated) out += fmt::format("warning: {}\n", kClientSaturatedWarning);
  return out;
}

std::string load_result_json(const LoadOptions& o, const LoadResult& r) {
  return fmt::format(
      "{{\"protocol\":\"{}\",\"host\":{},\"port\":{},\"connections\":{},\"pipeline\":{},"
      "\"message_size\":{},\"threads\":{},\"requests\":{},\"bytes\":{},\"seconds\":{:.6f},"
      "\"requests_per_second\":{:.1f},\"mean_us\":{:.3f},\"p50_us\":{:.3f},\"p99_us\":{:.3f},"
      "\"p999_us\":{:.3f},\"max_us\":{:.3f},\"client_cpu_seconds\":{:.6f},"
      "\"client_saturated\":{},\"server_cpu_seconds\":{},\"server_cpu_us_per_request\":{},"
      "\"connected\":{},\"connections_lost\":{},\"errors\":{},\"error_messages\":{},"
      "\"warnings\":{}}}",
      protocol_name(o.protocol), json_string(o.host), o.port, o.connections, o.pipeline,
      o.protocol == Protocol::echo ? o.message_size : 0, r.threads, r.requests, r.bytes, r.seconds,
      r.requests_per_second, r.mean_us, r.p50_us, r.p99_us, r.p999_us, r.max_us,
      r.client_cpu_seconds, r.client_saturated ? "true" : "false", json_number(r.server_cpu_seconds),
      json_number(r.server_cpu_us_per_request), r.connections, r.connections_lost, r.errors,
      json_strings(r.error_messages), json_strings(r.warnings));
}

}  // namespace weft::tool
