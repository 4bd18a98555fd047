// Lifecycle changes, revisions and deployments.
#include <algorithm>
#include <map>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "events/event_types.h"
#include "publisher/lifecycle.h"
#include "publisher/service.h"

namespace portico::publisher {
namespace {

const std::vector<std::string_view> kActions = {
    "Publish", "Deploy as a Prototype", "Demote to Created", "Block", "Deprecate", "Re-Publish",
    "Retire"};

json::object lifecycle_state(const std::string& status) {
  json::object out;
  out["state"] = lifecycle::display_name(status);
  json::array items;
  for (auto name : lifecycle::check_items(status)) {
    json::object item;
    item["name"] = name;
    item["value"] = false;
    item["requiredStates"] = json::array{};
    items.push_back(std::move(item));
  }
  out["checkItems"] = std::move(items);
  json::array transitions;
  for (const auto& t : lifecycle::transitions_from(status)) {
    json::object item;
    item["event"] = t.event;
    item["targetState"] = lifecycle::display_name(t.target_state);
    transitions.push_back(std::move(item));
  }
  out["availableTransitions"] = std::move(transitions);
  return out;
}

// "name:true,name:false" (the reference's lifecycleChecklist) -> checked names.
std::map<std::string, bool> parse_checklist(const std::string& text) {
  std::map<std::string, bool> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    std::size_t colon = item.rfind(':');
    if (colon == std::string::npos)
      throw ApiError::bad_request("lifecycleChecklist items are written name:true or name:false");
    std::string value = item.substr(colon + 1);
    if (value != "true" && value != "false")
      throw ApiError::bad_request("lifecycleChecklist items are written name:true or name:false");
    out[item.substr(0, colon)] = value == "true";
  }
  return out;
}

json::object revision_json(const store::ApiRevisionRecord& r,
                           const std::vector<store::ApiDeploymentRecord>& deployments);

json::object deployment_json(const store::ApiDeploymentRecord& d) {
  json::object o;
  o["revisionUuid"] = d.revision_id;
  o["name"] = d.environment;
  o["vhost"] = d.vhost;
  o["displayOnDevportal"] = d.display_on_devportal;
  o["deployedTime"] = iso_time(d.deployed_time);
  o["successDeployedTime"] = iso_time(d.deployed_time);
  return o;
}

json::object revision_json(const store::ApiRevisionRecord& r,
                           const std::vector<store::ApiDeploymentRecord>& deployments) {
  json::object o;
  o["displayName"] = "Revision " + std::to_string(r.revision_number);
  o["id"] = r.id;
  o["description"] = r.description;
  o["createdTime"] = iso_time(r.created_time);
  o["apiInfo"] = json::object{{"id", r.api_id}};
  json::array info;
  for (const auto& d : deployments)
    if (d.revision_id == r.id) info.push_back(deployment_json(d));
  o["deploymentInfo"] = std::move(info);
  return o;
}

struct Target {
  std::string name;
  std::string vhost;
  bool display_on_devportal = true;
};

// The body of deploy-revision / undeploy-revision: [{name, vhost, displayOnDevportal}].
std::vector<Target> read_targets(const std::string& body, bool vhost_needed) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value v = json::parse(body, ec, {}, options);
  if (ec || !v.is_array())
    throw ApiError::bad_request("the body must be a list of {name, vhost, displayOnDevportal}");
  if (v.get_array().empty() || v.get_array().size() > 50)
    throw ApiError::bad_request("the body must list 1 to 50 environments");
  std::vector<Target> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_object())
      throw ApiError::bad_request("the body must be a list of {name, vhost, displayOnDevportal}");
    Target t;
    t.name = json_body::required_string(item.get_object(), "name", 255);
    t.vhost = json_body::optional_string(item.get_object(), "vhost", 255).value_or("");
    t.display_on_devportal =
        json_body::optional_bool(item.get_object(), "displayOnDevportal").value_or(true);
    (void)vhost_needed;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

void Publisher::Impl::add_lifecycle_routes(http::Router& router) {
  const std::string base(kBase);

  router.add("POST", base + "/apis/change-lifecycle", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_publish"});
      std::string action = required_query(r, "action");
      store::ApiRecord api = require_api(required_query(r, "apiId"));
      if (std::find(kActions.begin(), kActions.end(), action) == kActions.end())
        throw ApiError::bad_request("action '" + action + "' is not a lifecycle action");
      auto next = lifecycle::next_state(api.lifecycle_status, action);
      if (!next)
        throw ApiError::bad_request("action '" + action + "' is not allowed in state " +
                                    lifecycle::display_name(api.lifecycle_status));
      auto checklist = parse_checklist(r.query_param("lifecycleChecklist").value_or(""));
      std::int64_t now = unix_now();
      std::vector<store::LifecycleChange> changes;
      auto change_of = [&](const store::ApiRecord& record, std::string_view new_state) {
        json::object doc = parse_document(record.document);
        doc["lifeCycleStatus"] = new_state;
        doc["lastUpdatedTime"] = millis_text(now);
        store::LifecycleChange c;
        c.api_id = record.id;
        c.expected_state = record.lifecycle_status;
        c.expected_document = record.document;
        c.new_state = std::string(new_state);
        c.document = json::serialize(doc);
        c.event = {crypto::uuid_v4(), record.id,    record.lifecycle_status,
                   c.new_state,       who.username, now};
        return c;
      };
      changes.push_back(change_of(api, *next));
      auto deprecate = checklist.find(std::string(lifecycle::kDeprecateOldVersions));
      if (action == "Publish" && deprecate != checklist.end() && deprecate->second) {
        for (const auto& [id, status] : apis.versions_of(api.name)) {
          if (id == api.id || status != lifecycle::kPublished) continue;
          if (auto other = apis.find(id))
            changes.push_back(change_of(*other, lifecycle::kDeprecated));
        }
      }
      if (!apis.change_lifecycle(changes))
        throw ApiError::conflict("the API's lifecycle changed meanwhile; try again");
      for (const auto& c : changes) {
        publish(events::types::kApiLifecycleChanged,
                json::object{{"api_id", c.api_id},
                             {"previous_state", c.expected_state},
                             {"state", c.new_state}});
      }
      // A retired API leaves every gateway, as in the reference.
      if (*next == lifecycle::kRetired) {
        std::map<std::string, std::vector<std::string>> by_revision;
        for (const auto& d : revisions.deployments(api.id))
          by_revision[d.revision_id].push_back(d.environment);
        for (const auto& [revision_id, environments] : by_revision) {
          for (const auto& env : revisions.undeploy(api.id, revision_id, environments))
            publish(events::types::kApiUndeployed,
                    json::object{
                        {"api_id", api.id}, {"revision_id", revision_id}, {"environment", env}});
        }
      }
      json::object body;
      body["workflowStatus"] = "APPROVED";
      body["jsonPayload"] = nullptr;
      body["lifecycleState"] = lifecycle_state(std::string(*next));
      return json_response(200, body);
    });
  });

  router.add("GET", base + "/apis/{apiId}/lifecycle-state", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      return json_response(200,
                           lifecycle_state(require_api(r.path_params["apiId"]).lifecycle_status));
    });
  });

  router.add("GET", base + "/apis/{apiId}/lifecycle-history", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      json::array list;
      for (const auto& e : apis.lifecycle_history(api.id)) {
        json::object item;
        item["previousState"] = lifecycle::display_name(e.previous_state);
        item["postState"] = lifecycle::display_name(e.post_state);
        item["user"] = e.username;
        item["updatedTime"] = iso_time(e.updated_time);
        list.push_back(std::move(item));
      }
      json::object body;
      body["count"] = list.size();
      body["list"] = std::move(list);
      return json_response(200, body);
    });
  });

  // ---- revisions ----

  router.add("GET", base + "/apis/{apiId}/revisions", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      std::string query = r.query_param("query").value_or("");
      if (!query.empty() && query != "deployed:true" && query != "deployed:false")
        throw ApiError::bad_request("query must be deployed:true or deployed:false");
      auto deployments = revisions.deployments(api.id);
      json::array list;
      for (const auto& rev : revisions.list(api.id)) {
        bool deployed = std::any_of(deployments.begin(), deployments.end(),
                                    [&](const auto& d) { return d.revision_id == rev.id; });
        if (query == "deployed:true" && !deployed) continue;
        if (query == "deployed:false" && deployed) continue;
        list.push_back(revision_json(rev, deployments));
      }
      json::object body;
      body["count"] = list.size();
      body["list"] = std::move(list);
      return json_response(200, body);
    });
  });

  router.add("POST", base + "/apis/{apiId}/revisions", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create", "apim:api_publish"});
      std::string api_id = r.path_params["apiId"];
      require_changeable_api(who, api_id);
      json::object body = r.body.empty() ? json::object{} : json_body::parse_object(r.body);
      store::ApiRevisionRecord rev;
      rev.id = crypto::uuid_v4();
      rev.api_id = api_id;
      rev.description = json_body::optional_string(body, "description", 255).value_or("");
      rev.created_time = unix_now();
      switch (revisions.create(rev, kMaxRevisions)) {
        case store::RevisionCreateResult::api_not_found:
          throw ApiError::not_found("no API with id " + api_id);
        case store::RevisionCreateResult::limit_reached:
          throw ApiError::bad_request("the API has " + std::to_string(kMaxRevisions) +
                                      " revisions, the most it may have: delete one first");
        case store::RevisionCreateResult::created:
          break;
      }
      return json_response(201, revision_json(rev, {}));
    });
  });

  router.add("GET", base + "/apis/{apiId}/revisions/{revisionId}", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      auto rev = revisions.find(api.id, r.path_params["revisionId"]);
      if (!rev) throw ApiError::not_found("no revision " + r.path_params["revisionId"]);
      return json_response(200, revision_json(*rev, revisions.deployments(api.id)));
    });
  });

  router.add("DELETE", base + "/apis/{apiId}/revisions/{revisionId}", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create", "apim:api_publish"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      switch (revisions.remove(api.id, r.path_params["revisionId"])) {
        case store::RevisionRemoveResult::not_found:
          throw ApiError::not_found("no revision " + r.path_params["revisionId"]);
        case store::RevisionRemoveResult::deployed:
          throw ApiError::bad_request("the revision is deployed: undeploy it first");
        case store::RevisionRemoveResult::removed:
          break;
      }
      // The reference answers with the revisions that remain.
      auto deployments = revisions.deployments(api.id);
      json::array list;
      for (const auto& rev : revisions.list(api.id))
        list.push_back(revision_json(rev, deployments));
      json::object body;
      body["count"] = list.size();
      body["list"] = std::move(list);
      return json_response(200, body);
    });
  });

  router.add("POST", base + "/apis/{apiId}/deploy-revision", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_publish", "apim:api_create"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      // What a PUBLISHED API serves changes only by a publisher's hand, as its publication
      // did: a creator's deployment would otherwise replace it unreviewed.
      if (api.lifecycle_status == lifecycle::kPublished && !who.has_scope("apim:api_publish"))
        throw ApiError::forbidden(
            "deploying a revision of a PUBLISHED API needs the scope apim:api_publish");
      std::string revision_id = required_query(r, "revisionId");
      auto rev = revisions.find(api.id, revision_id);
      if (!rev) throw ApiError::not_found("no revision " + revision_id);
      std::vector<store::ApiDeploymentRecord> records;
      std::int64_t now = unix_now();
      for (auto& t : read_targets(r.body, false)) {
        auto env = admin.find_environment(t.name);
        if (!env)
          throw ApiError::bad_request("gateway environment '" + t.name + "' does not exist");
        if (t.vhost.empty()) {
          if (env->vhosts.empty())
            throw ApiError::bad_request("gateway environment '" + t.name + "' has no vhost");
          t.vhost = env->vhosts.front().host;
        } else if (std::none_of(env->vhosts.begin(), env->vhosts.end(),
                                [&](const auto& v) { return v.host == t.vhost; })) {
          throw ApiError::bad_request("vhost '" + t.vhost + "' is not one of environment '" +
                                      t.name + "'");
        }
        if (std::any_of(records.begin(), records.end(),
                        [&](const auto& d) { return d.environment == t.name; }))
          throw ApiError::bad_request("environment '" + t.name + "' is listed twice");
        records.push_back({api.id, rev->id, t.name, t.vhost, t.display_on_devportal, now});
      }
      revisions.deploy(records);
      json::array list;
      for (const auto& d : records) {
        publish(events::types::kApiDeployed, json::object{{"api_id", d.api_id},
                                                          {"revision_id", d.revision_id},
                                                          {"environment", d.environment},
                                                          {"vhost", d.vhost}});
        list.push_back(deployment_json(d));
      }
      return json_response(201, list);
    });
  });

  router.add("POST", base + "/apis/{apiId}/undeploy-revision", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_publish", "apim:api_create"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      std::string revision_id = r.query_param("revisionId").value_or("");
      auto deployments = revisions.deployments(api.id);
      if (revision_id.empty()) {
        // The reference also names a revision by its number.
        std::string number = r.query_param("revisionNumber").value_or("");
        for (const auto& rev : revisions.list(api.id))
          if (!number.empty() && std::to_string(rev.revision_number) == number)
            revision_id = rev.id;
        if (revision_id.empty())
          throw ApiError::bad_request("query parameter 'revisionId' is required");
      }
      if (!revisions.find(api.id, revision_id))
        throw ApiError::not_found("no revision " + revision_id);
      std::vector<std::string> environments;
      if (r.query_param("allEnvironments").value_or("false") == "true") {
        for (const auto& d : deployments)
          if (d.revision_id == revision_id) environments.push_back(d.environment);
      } else {
        for (const auto& t : read_targets(r.body, false)) environments.push_back(t.name);
      }
      for (const auto& env : environments) {
        bool deployed = std::any_of(deployments.begin(), deployments.end(), [&](const auto& d) {
          return d.environment == env && d.revision_id == revision_id;
        });
        if (!deployed)
          throw ApiError::bad_request("the revision is not deployed in environment '" + env + "'");
      }
      auto removed = revisions.undeploy(api.id, revision_id, environments);
      json::array list;
      for (const auto& env : removed) {
        publish(
            events::types::kApiUndeployed,
            json::object{{"api_id", api.id}, {"revision_id", revision_id}, {"environment", env}});
      }
      for (const auto& d : revisions.deployments(api.id)) list.push_back(deployment_json(d));
      return json_response(201, list);
    });
  });

  router.add("POST", base + "/apis/{apiId}/restore-revision", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create", "apim:api_publish"});
      store::ApiRecord current = require_changeable_api(who, r.path_params["apiId"]);
      std::string revision_id = required_query(r, "revisionId");
      auto rev = revisions.find(current.id, revision_id);
      if (!rev) throw ApiError::not_found("no revision " + revision_id);
      // The working copy becomes the snapshot, but keeps the API's present lifecycle state
      // and thumbnail: those are not part of a revision.
      json::object api = parse_document(rev->document);
      json::object now_doc = parse_document(current.document);
      api["lifeCycleStatus"] = current.lifecycle_status;
      api["hasThumbnail"] = now_doc.contains("hasThumbnail") ? now_doc["hasThumbnail"] : false;
      std::int64_t now = unix_now();
      api["lastUpdatedTime"] = millis_text(now);
      store::ApiRecord record = record_of(api);
      record.openapi = rev->openapi;
      ensure_definition(record, api);
      record.created_time = current.created_time;
      record.updated_time = now;
      update_api(record, api, now_doc, current);
      return json_response(201, api);
    });
  });

  router.add("GET", base + "/apis/{apiId}/deployments", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      json::array list;
      for (const auto& d : revisions.deployments(api.id)) list.push_back(deployment_json(d));
      json::object body;
      body["count"] = list.size();
      body["list"] = std::move(list);
      return json_response(200, body);
    });
  });
}

}  // namespace portico::publisher
