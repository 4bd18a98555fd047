#pragma once
// Changes to a published Snapshot that do not need a full pull: what a gateway learned about
// one item. The snapshot stays immutable: each change returns a new one that shares what did
// not change (the compiled APIs and the policy set).
#include <cstdint>
#include <memory>
#include <string_view>

#include "gateway/snapshot.h"

namespace portico::gateway {

// `base` with `record` in place of what it had for that application: the application itself,
// every OAuth client mapped to it and every subscription it holds.
std::shared_ptr<const Snapshot> with_application(const Snapshot& base,
                                                 const ApplicationRecord& record,
                                                 std::uint64_t version);

// `base` without application `application_id`, its OAuth clients and its subscriptions.
std::shared_ptr<const Snapshot> without_application(const Snapshot& base,
                                                    std::string_view application_id,
                                                    std::uint64_t version);

}  // namespace portico::gateway
