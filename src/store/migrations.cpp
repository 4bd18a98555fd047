#include "store/migrations.h"

#include <algorithm>
#include <stdexcept>

namespace portico::store {
namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<EmbeddedMigration> migrations_for(Backend backend) {
  std::vector<EmbeddedMigration> out;
  for (std::size_t i = 0; i < kEmbeddedMigrationCount; ++i) {
    if (kEmbeddedMigrations[i].backend == backend) out.push_back(kEmbeddedMigrations[i]);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw std::logic_error(std::string("two migrations share a version: ") + out[i - 1].name +
                             ", " + out[i].name);
    }
  }
  return out;
}

std::vector<std::string> split_sql_statements(std::string_view sql) {
  std::vector<std::string> statements;
  std::string current;
  auto flush = [&] {
    std::string_view body = trim(current);
    if (!body.empty()) statements.emplace_back(body);
    current.clear();
  };
  while (!sql.empty()) {
    auto newline = sql.find('\n');
    std::string_view line = sql.substr(0, newline);
    sql = newline == std::string_view::npos ? std::string_view() : sql.substr(newline + 1);
    std::string_view stripped = trim(line);
    // Comment lines go: SOCI scans statement text for ":name" placeholders and would trip
    // over one in a comment.
    if (stripped.empty() || stripped.starts_with("--")) continue;
    if (stripped.ends_with(';')) {
      current.append(stripped.substr(0, stripped.size() - 1));
      flush();
    } else {
      current.append(line);
      current += '\n';
    }
  }
  flush();
  return statements;
}

}  // namespace portico::store
