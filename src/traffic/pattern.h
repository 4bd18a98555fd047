#pragma once
// Internal to src/traffic: the value side of a header, query-parameter or JWT-claim condition.
#include <boost/regex.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace portico::traffic {

// A condition value compiled once. The reference matches header values with Java's find() (the
// pattern anywhere in the value) and query parameters and claims with matches() (the whole
// value). A value without regex metacharacters is kept as text and compared without a regex
// engine (no allocation); others go to Boost.Regex (Perl syntax, close to Java's).
class Pattern {
 public:
  enum class Mode : std::uint8_t { kFind, kWhole };

  // nullptr, with the reason in `error`, when `text` is not a valid regular expression.
  static std::shared_ptr<const Pattern> compile(std::string_view text, Mode mode,
                                                std::string* error);

  // Never throws: an expression that exceeds Boost.Regex's complexity limits does not match.
  bool matches(std::string_view value) const noexcept;

  bool is_literal() const { return !regex_.has_value(); }

 private:
  Pattern(std::string text, Mode mode) : text_(std::move(text)), mode_(mode) {}

  std::string text_;
  Mode mode_;
  std::optional<boost::regex> regex_;
};

}  // namespace portico::traffic
