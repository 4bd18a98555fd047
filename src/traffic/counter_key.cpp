// Counter keys in text: fixed width, so that storage and the wire compare them as strings.
#include <charconv>

#include "traffic/traffic.h"

namespace portico::traffic {

std::string format_counter_key(std::uint64_t key) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, key >>= 4) out[static_cast<std::size_t>(i)] = kHex[key & 0xf];
  return out;
}

std::optional<std::uint64_t> parse_counter_key(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  // One spelling only: an upper-case key would name the same counter under another text.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::uint64_t key = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), key, 16);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return key;
}

}  // namespace portico::traffic
