// redis://[[username]:password@]host[:port][/db], parsed and printed back.
#include <charconv>
#include <string>
#include <string_view>

#include "weft/dist/redis.hpp"
#include "weft/errors.hpp"

namespace weft::dist {
namespace {

// `url` with the password of its credentials, if any, shown as "***". The
// credentials end at the URL's last '@', so a password holding an
// unencoded '/', '@', '?' or '#' is masked whole (a '@' past the
// credentials only masks more).
std::string masked(std::string_view url) {
  const std::size_t start = url.find("://");
  if (start == std::string_view::npos) return std::string(url);
  const std::size_t authority = start + 3;
  const std::size_t at = url.substr(authority).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const std::size_t colon = url.substr(authority, at).find(':');
  const std::size_t secret = colon == std::string_view::npos ? 0 : colon + 1;
  return std::string(url.substr(0, authority + secret)) + "***" + std::string(url.substr(authority + at));
}

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
  throw ValueError("not a Redis URL (redis://[[username]:password@]host[:port][/db]): \"" + masked(url) +
                   "\": " + std::string(why));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Credentials may carry any byte as %XX.
std::string percent_decoded(std::string_view url, std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int high = complete ? hex_value(text[i + 1]) : -1;
    const int low = complete ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) bad_url(url, "'%' must be followed by two hex digits");
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encoded(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (unreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(digits[byte >> 4]);
      out.push_back(digits[byte & 0xf]);
    }
  }
  return out;
}

// A decimal number in [low, high], all of `text`.
bool parse_number(std::string_view text, long long low, long long high, long long& value) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && value >= low && value <= high;
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view url) {
  static constexpr std::string_view scheme = "redis://";
  if (url.size() < scheme.size() || !iequals(url.substr(0, scheme.size()), scheme)) {
    bad_url(url, "it must start with redis://");
  }
  RedisUrl parsed;
  std::string_view rest = url.substr(scheme.size());

  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  // The password may itself hold '@': the credentials end at the last one.
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) bad_url(url, "credentials are [username]:password");
    parsed.username = percent_decoded(url, credentials.substr(0, colon));
    parsed.password = percent_decoded(url, credentials.substr(colon + 1));
    authority = authority.substr(at + 1);
  }

  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) bad_url(url, "an IPv6 address needs its closing ']'");
    const std::string_view literal = authority.substr(1, close - 1);
    // A zone ("fe80::1%eth0") is written "%25eth0", as RFC 6874 says.
    const std::size_t zone = literal.find("%25");
    const std::string_view address = literal.substr(0, zone);
    if (address.empty()) bad_url(url, "empty IPv6 address");
    for (const char c : address) {
      if (hex_value(c) < 0 && c != ':' && c != '.') bad_url(url, "not an IPv6 address");
    }
    if (zone != std::string_view::npos) {
      const std::string_view zone_id = literal.substr(zone + 3);
      if (zone_id.empty()) bad_url(url, "empty IPv6 zone");
      for (const char c : zone_id) {
        if (!unreserved(c)) bad_url(url, "not an IPv6 zone");
      }
      parsed.host = std::string(address) + "%" + std::string(zone_id);
    } else {
      parsed.host = std::string(address);
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad_url(url, "only a :port may follow an IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    for (const char c : host) {
      if (!unreserved(c)) bad_url(url, "not a host name (an IPv6 address goes in brackets)");
    }
    if (!host.empty()) parsed.host = std::string(host);
  }

  long long number = 0;
  if (has_port) {
    if (!parse_number(port, 1, 65535, number)) bad_url(url, "the port must be a number from 1 to 65535");
    parsed.port = static_cast<int>(number);
  }
  if (!path.empty()) {
    if (!parse_number(path, 0, 1 << 30, number)) bad_url(url, "the database must be a non-negative number");
    parsed.db = static_cast<int>(number);
  }
  return parsed;
}

std::string RedisUrl::str() const {
  std::string out = "redis://";
  if (!username.empty() || !password.empty()) {
    out += percent_encoded(username);
    out += ':';
    if (!password.empty()) out += "***";
    out += '@';
  }
  if (host.find(':') != std::string::npos) {
    const std::size_t zone = host.find('%');
    out += '[' + host.substr(0, zone);
    if (zone != std::string::npos) out += "%25" + host.substr(zone + 1);
    out += ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port) + '/' + std::to_string(db);
  return out;
}

}  // namespace weft::dist
