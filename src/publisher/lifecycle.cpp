#include "publisher/lifecycle.h"

#include <map>

namespace portico::publisher::lifecycle {

const std::vector<Transition>& transitions_from(std::string_view status) {
  static const std::map<std::string_view, std::vector<Transition>> table = {
      {kCreated, {{"Publish", kPublished}, {"Deploy as a Prototype", kPrototyped}}},
      {kPrototyped,
       {{"Publish", kPublished},
        {"Demote to Created", kCreated},
        {"Deploy as a Prototype", kPrototyped}}},
      {kPublished,
       {{"Block", kBlocked},
        {"Deploy as a Prototype", kPrototyped},
        {"Demote to Created", kCreated},
        {"Deprecate", kDeprecated},
        {"Publish", kPublished}}},
      {kBlocked, {{"Deprecate", kDeprecated}, {"Re-Publish", kPublished}}},
      {kDeprecated, {{"Retire", kRetired}}},
      {kRetired, {}},
  };
  static const std::vector<Transition> none;
  auto it = table.find(status);
  return it == table.end() ? none : it->second;
}

std::optional<std::string_view> next_state(std::string_view status, std::string_view action) {
  for (const Transition& t : transitions_from(status))
    if (t.event == action) return t.target_state;
  return std::nullopt;
}

std::string display_name(std::string_view status) {
  std::string out(status);
  for (std::size_t i = 1; i < out.size(); ++i)
    out[i] = static_cast<char>(out[i] >= 'A' && out[i] <= 'Z' ? out[i] - 'A' + 'a' : out[i]);
  return out;
}

std::vector<std::string_view> check_items(std::string_view status) {
  if (status == kCreated || status == kPrototyped)
    return {kDeprecateOldVersions, kRequireResubscription};
  return {};
}

}  // namespace portico::publisher::lifecycle
