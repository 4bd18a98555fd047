#pragma once
// What the snapshot file records, kept by item so that a patch of the live snapshot (one
// application, one API, the policies) is a patch of the file's contents too, at the cost of
// that item; the lists are put together again only when the file is written (at most every
// snapshot_write_seconds).
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <string_view>

#include "gateway/snapshot_builder.h"

namespace portico::gateway {

class SourceIndex {
 public:
  // Replaces everything with what a full pull (or the file) read.
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

 private:
  struct ApplicationItems {
    boost::json::value application;
    boost::json::array key_mappings, subscriptions;
  };
  SnapshotSources policies_;  // environment and the policy lists; the item lists stay empty
  std::map<std::string, boost::json::value, std::less<>> artifacts_;   // by API id
  std::map<std::string, ApplicationItems, std::less<>> applications_;  // by id
};

}  // namespace portico::gateway
