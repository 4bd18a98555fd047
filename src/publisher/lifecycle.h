#pragma once
// The reference's default API lifecycle (its APILifeCycle.xml): states, the actions that move
// an API between them, and the checklist items offered before publishing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::publisher::lifecycle {

// Status values as the API model carries them (lifeCycleStatus) and the database stores them.
inline constexpr std::string_view kCreated = "CREATED";
inline constexpr std::string_view kPrototyped = "PROTOTYPED";
inline constexpr std::string_view kPublished = "PUBLISHED";
inline constexpr std::string_view kBlocked = "BLOCKED";
inline constexpr std::string_view kDeprecated = "DEPRECATED";
inline constexpr std::string_view kRetired = "RETIRED";

inline constexpr std::string_view kDeprecateOldVersions =
    "Deprecate old versions after publishing the API";
inline constexpr std::string_view kRequireResubscription =
    "Requires re-subscription when publishing the API";

struct Transition {
  std::string_view event;         // the action, e.g. "Deploy as a Prototype"
  std::string_view target_state;  // a status value, e.g. "PROTOTYPED"
};

// The transitions out of `status` (empty for RETIRED and for unknown states).
const std::vector<Transition>& transitions_from(std::string_view status);
// The status `action` leads to from `status`; nullopt when the lifecycle has no such edge.
std::optional<std::string_view> next_state(std::string_view status, std::string_view action);
// "PUBLISHED" -> "Published", as the lifecycle-state and lifecycle-history resources name states.
std::string display_name(std::string_view status);
// The checklist items offered in `status` (the states from which an API is published).
std::vector<std::string_view> check_items(std::string_view status);

}  // namespace portico::publisher::lifecycle
