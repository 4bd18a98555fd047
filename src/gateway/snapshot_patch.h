#pragma once
// Changes to a published Snapshot that do not need a full pull: what a gateway learned about
// one item. The snapshot stays immutable: each change returns a new one that shares every
// shard the change does not touch (see ShardedMap), so that it costs work proportional to the
// change, not to the configuration.
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

// `base` with `api` in place of the API of the same id (a new revision, a lifecycle change, a
// first deployment) and routed: it takes its routes unless an API deployed later holds them.
std::shared_ptr<const Snapshot> with_api(const Snapshot& base, std::shared_ptr<const Api> api,
                                         std::uint64_t version);

// `base` without API `api_id` (undeployed); a route it held goes to the latest-deployed other
// API that claims it, if any.
std::shared_ptr<const Snapshot> without_api(const Snapshot& base, std::string_view api_id,
                                            std::uint64_t version);

}  // namespace portico::gateway
