#pragma once
// What the snapshot file records, kept by item so that a patch of the live snapshot (one
// application, one API, the policies) is a patch of the file's contents too, at the cost of
// that item. Items are shared and the maps sharded (ShardedMap): a copy, handed to the thread
// that writes the file, costs a few thousand pointer copies whatever the configuration's size;
// the lists are put together again only there.
//
// The index also remembers which items changed since the file last took them
// (take_changes), and describes those items as journal entries (describe, apply): between
// two whole rewrites of the file, a change costs the file that item alone.
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "gateway/sharded_map.h"
#include "gateway/snapshot_builder.h"

namespace portico::gateway {

class SourceIndex {
 public:
  // Replaces everything with what a full pull (or the file) read; the items that differ from
  // what the index held count as changed.
  void reset(SnapshotSources sources);
  // Items in the internal data API's shapes: an application as its per-item read answers it
  // (its fields plus "keyMappings" and "subscriptions"), a runtime artifact as listed.
  void set_application(const std::string& id, const boost::json::value& bundle);
  void remove_application(std::string_view id);
  void set_artifact(const std::string& api_id, boost::json::value artifact);
  void remove_artifact(std::string_view api_id);
  void set_policies(boost::json::array subscription, boost::json::array application,
                    boost::json::array advanced, boost::json::array deny);

  // The lists again, in id order (the order a full pull reads them in).
  SnapshotSources sources() const;

  // The items changed since the last call ("application:ID", "api:ID", "policies"), and
  // forgets them.
  std::set<std::string> take_changes();
  bool has_changes() const { return !changed_.empty(); }
  // The current state of each of `keys` (a removed item as null), one journal entry each.
  boost::json::array describe(const std::set<std::string>& keys) const;
  // Replays one entry of describe(); false for anything that is not one.
  bool apply(const boost::json::value& entry);

 private:
  struct ApplicationItems {
    boost::json::value application;  // null when only its mappings or subscriptions are known
    boost::json::array key_mappings, subscriptions;
    bool operator==(const ApplicationItems&) const = default;
  };
  // The environment and the policy lists; the item lists stay empty.
  std::shared_ptr<const SnapshotSources> policies_ = std::make_shared<SnapshotSources>();
  ShardedMap<std::shared_ptr<const boost::json::value>> artifacts_;   // by API id
  ShardedMap<std::shared_ptr<const ApplicationItems>> applications_;  // by id
  std::set<std::string> changed_;
};

}  // namespace portico::gateway
