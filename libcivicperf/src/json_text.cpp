// The JSON text writer behind to_json_text / to_json_pretty.
//
// boost::json::serialize writes doubles as `1.505E2`; reports are read by
// people, so numbers are written the way a person (or JavaScript) would:
// shortest round-trip digits, plain notation for ordinary magnitudes.

#include "civicperf/json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace civicperf {
namespace {

namespace bj = boost::json;

// Plain notation inside [1e-6, 1e15): below 1e15 every integral double is
// exact and at most 15 digits long, so "integral without fraction" and
// "round-trips" never disagree.
constexpr double plain_low = 1e-6;
constexpr double plain_high = 1e15;

// For each byte: 0 = copy as is, 'u' = \u00XX, '8' = the start of a UTF-8
// sequence to check, otherwise the letter of a two-character escape.
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<std::size_t>(c)] = '8';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> escape_table = make_escape_table();

// True when one of the 8 bytes at `p` is a control character, '"', '\\' or
// not ASCII (classic SWAR tests; a false positive only sends us to the byte
// loop).
bool word_needs_escape(const char* p) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return (below_space | (w & highs) | has_zero(w ^ (ones * '"')) |
          has_zero(w ^ (ones * '\\'))) != 0;
}

// Length of the well-formed UTF-8 sequence at `q` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), 0 when it is not one.
std::size_t utf8_length(const char* q, const char* end) noexcept {
  const auto b = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(q[i]); };
  const auto cont = [&](std::ptrdiff_t i) { return q + i < end && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;   // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;   // above U+10FFFF
    return 4;
  }
  return 0;
}

// Writes straight into the output string's buffer: one capacity check per
// token instead of one per character (std::string::push_back costs more than
// the formatting here).
class writer {
 public:
  writer(std::string& out, std::size_t size_hint, bool pretty) : out_(out), pretty_(pretty) {
    out_.resize(size_hint < 64 ? 64 : size_hint);
    p_ = out_.data();
    end_ = p_ + out_.size();
  }

  /// Trims the string to what was written.
  void finish() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }

  void write(const bj::value& jv, std::size_t depth) {
    switch (jv.kind()) {
      case bj::kind::null: put("null"); break;
      case bj::kind::bool_: put(jv.get_bool() ? std::string_view("true") : "false"); break;
      case bj::kind::int64: write_integer(jv.get_int64()); break;
      case bj::kind::uint64: write_integer(jv.get_uint64()); break;
      case bj::kind::double_: write_double(jv.get_double()); break;
      case bj::kind::string: write_string(jv.get_string()); break;
      case bj::kind::array: write_array(jv.get_array(), depth); break;
      case bj::kind::object: write_object(jv.get_object(), depth); break;
    }
  }

 private:
  void ensure(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) [[unlikely]] grow(n);
  }

  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(p_ - out_.data());
    out_.resize(std::max(2 * out_.size(), used + n));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  void put(std::string_view s) {
    ensure(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }

  void put(char c) {
    ensure(1);
    *p_++ = c;
  }

  void newline(std::size_t depth) {
    ensure(1 + 2 * depth);
    *p_++ = '\n';
    std::memset(p_, ' ', 2 * depth);
    p_ += 2 * depth;
  }

  void write_string(std::string_view s) {
    // Room for the text unescaped plus both quotes; each escape makes room
    // for itself and the rest of the text.
    ensure(s.size() + 2);
    *p_++ = '"';
    const char* run = s.data();   // start of the pending run of plain bytes
    const char* const end = s.data() + s.size();
    for (const char* q = run; q != end;) {
      if (end - q >= 8 && !word_needs_escape(q)) {
        q += 8;
        continue;
      }
      const char e = escape_table[static_cast<unsigned char>(*q)];
      if (e == 0) {
        ++q;
        continue;
      }
      if (e == '8') {
        // Well-formed UTF-8 is copied; a broken byte becomes U+FFFD, so the
        // output is valid JSON whatever a string holds.
        if (const std::size_t len = utf8_length(q, end); len != 0) {
          q += len;
          continue;
        }
        std::memcpy(p_, run, static_cast<std::size_t>(q - run));
        p_ += q - run;
        ensure(6 + static_cast<std::size_t>(end - q) + 1);
        std::memcpy(p_, "\\ufffd", 6);
        p_ += 6;
        run = ++q;
        continue;
      }
      std::memcpy(p_, run, static_cast<std::size_t>(q - run));
      p_ += q - run;
      ensure(6 + static_cast<std::size_t>(end - q) + 1);
      *p_++ = '\\';
      if (e == 'u') {
        static constexpr char hex[] = "0123456789abcdef";
        const auto c = static_cast<unsigned char>(*q);
        p_[0] = 'u';
        p_[1] = '0';
        p_[2] = '0';
        p_[3] = hex[c >> 4];
        p_[4] = hex[c & 0xF];
        p_ += 5;
      } else {
        *p_++ = e;
      }
      run = ++q;
    }
    std::memcpy(p_, run, static_cast<std::size_t>(end - run));
    p_ += end - run;
    *p_++ = '"';
  }

  template <typename Int>
  void write_integer(Int v) {
    ensure(24);
    p_ = std::to_chars(p_, end_, v).ptr;
  }

  void write_double(double d) {
    if (!std::isfinite(d)) {
      put("null");
      return;
    }
    // -0.0 as well: a signed zero means nothing in a report (JSON.stringify agrees).
    if (d == 0.0) {
      put('0');
      return;
    }
    ensure(48);   // "-0.0000012345678901234567", "-1.2345678901234567e-308"
    const double magnitude = std::fabs(d);
    if (magnitude >= plain_low && magnitude < plain_high) {
      // Without a precision, to_chars gives the shortest text that round-trips,
      // and no fraction at all for integral values.
      p_ = std::to_chars(p_, end_, d, std::chars_format::fixed).ptr;
      return;
    }
    char* const begin = p_;
    char* const stop = std::to_chars(p_, end_, d, std::chars_format::scientific).ptr;
    // to_chars pads the exponent to two digits ("1e-07"); write "1e-7", "1e+20".
    char* e = begin;
    while (e != stop && *e != 'e') ++e;
    if (stop - e < 3) {   // not for finite values; keep whatever was written
      p_ = stop;
      return;
    }
    char* digits = e + 2;   // past 'e' and the sign
    char* first = digits;
    while (first + 1 < stop && *first == '0') ++first;
    std::memmove(digits, first, static_cast<std::size_t>(stop - first));
    p_ = digits + (stop - first);
  }

  void write_array(const bj::array& a, std::size_t depth) {
    if (a.empty()) {
      put("[]");
      return;
    }
    put('[');
    bool first = true;
    for (const auto& item : a) {
      if (!first) put(',');
      first = false;
      if (pretty_) newline(depth + 1);
      write(item, depth + 1);
    }
    if (pretty_) newline(depth);
    put(']');
  }

  void write_object(const bj::object& o, std::size_t depth) {
    if (o.empty()) {
      put("{}");
      return;
    }
    put('{');
    bool first = true;
    for (const auto& m : o) {
      if (!first) put(',');
      first = false;
      if (pretty_) newline(depth + 1);
      write_string(m.key());
      put(pretty_ ? std::string_view(": ") : ":");
      write(m.value(), depth + 1);
    }
    if (pretty_) newline(depth);
    put('}');
  }

  std::string& out_;
  char* p_ = nullptr;
  char* end_ = nullptr;
  bool pretty_;
};

// An upper estimate of the output size (escapes aside), so the string is
// allocated once for typical documents.
std::size_t estimate(const bj::value& jv, bool pretty, std::size_t depth) {
  switch (jv.kind()) {
    case bj::kind::null: return 4;
    case bj::kind::bool_: return 5;
    case bj::kind::int64:
    case bj::kind::uint64: return 20;
    case bj::kind::double_: return 24;
    case bj::kind::string: return jv.get_string().size() + 2;
    case bj::kind::array: {
      const auto& a = jv.get_array();
      const std::size_t indent = pretty ? 2 * (depth + 1) + 2 : 1;
      std::size_t n = 2 + (pretty ? 2 * depth + 1 : 0);
      for (const auto& item : a) n += indent + estimate(item, pretty, depth + 1);
      return n;
    }
    case bj::kind::object: {
      const auto& o = jv.get_object();
      const std::size_t indent = pretty ? 2 * (depth + 1) + 3 : 2;
      std::size_t n = 2 + (pretty ? 2 * depth + 1 : 0);
      for (const auto& m : o) {
        n += indent + m.key().size() + 2 + estimate(m.value(), pretty, depth + 1);
      }
      return n;
    }
  }
  return 0;
}

std::string serialize(const bj::value& jv, bool pretty) {
  std::string out;
  writer w(out, estimate(jv, pretty, 0), pretty);
  w.write(jv, 0);
  w.finish();
  return out;
}

}  // namespace

std::string to_json_text(const boost::json::value& jv) { return serialize(jv, false); }

std::string to_json_pretty(const boost::json::value& jv) { return serialize(jv, true); }

}  // namespace civicperf
