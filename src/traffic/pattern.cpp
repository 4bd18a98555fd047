#include "traffic/pattern.h"

namespace portico::traffic {

std::shared_ptr<const Pattern> Pattern::compile(std::string_view text, Mode mode,
                                                std::string* error) {
  auto pattern = std::shared_ptr<Pattern>(new Pattern(std::string(text), mode));
  if (text.find_first_of("\\^$.|?*+()[]{}") == std::string_view::npos) return pattern;
  try {
    pattern->regex_.emplace(pattern->text_, boost::regex::perl);
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return nullptr;
  }
  return pattern;
}

bool Pattern::matches(std::string_view value) const noexcept {
  if (!regex_) {
    return mode_ == Mode::kFind ? value.find(text_) != std::string_view::npos : value == text_;
  }
  try {
    if (mode_ == Mode::kFind) return boost::regex_search(value.begin(), value.end(), *regex_);
    return boost::regex_match(value.begin(), value.end(), *regex_);
  } catch (...) {
    // Boost.Regex gives up on pathological backtracking by throwing; such a value is simply
    // not a match (the request is then counted against the policy's default limit).
    return false;
  }
}

}  // namespace portico::traffic
