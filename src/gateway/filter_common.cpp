#include "gateway/filter_common.h"

#include <array>

namespace portico::gateway {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::string_view> request_header(const RequestContext& ctx, std::string_view name) {
  if (ctx.request == nullptr) return std::nullopt;
  return ctx.request->find(name);
}

std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view text, char not_in_star,
                bool ignore_case) {
  constexpr std::size_t kMaxText = 2048;
  if (text.size() > kMaxText) return false;
  // One row of the usual table: row[j] says whether the pattern so far matches text[0, j).
  // Linear in the pattern times the text, whatever the stars: no backtracking blow-up.
  std::array<bool, kMaxText + 1> row{};
  row[0] = true;
  const std::size_t n = text.size();
  for (char p : pattern) {
    if (p == '*') {
      for (std::size_t j = 1; j <= n; ++j)
        row[j] = row[j] || (row[j - 1] && (not_in_star == '\0' || text[j - 1] != not_in_star));
    } else {
      for (std::size_t j = n; j >= 1; --j) {
        char t = text[j - 1];
        bool same =
            ignore_case ? iequals(std::string_view(&p, 1), std::string_view(&t, 1)) : p == t;
        row[j] = row[j - 1] && same;
      }
      row[0] = false;
    }
  }
  return row[n];
}

void set_header(std::vector<HeaderEdit>& edits, std::string_view name, std::string_view value) {
  edits.push_back(HeaderEdit{true, std::string(name), {}});
  edits.push_back(HeaderEdit{false, std::string(name), std::string(value)});
}

}  // namespace portico::gateway
