// OpenAPI definitions, documents, thumbnails and the API-level subscription view.
#include <algorithm>
#include <map>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "events/event_types.h"
#include "http/paging.h"
#include "http/redirect.h"
#include "http/user_content.h"
#include "publisher/openapi.h"
#include "publisher/service.h"

namespace portico::publisher {
namespace {

// The definition text of a multipart request: a `file` part or an inline field.
std::string definition_text(const std::vector<http::FormPart>& parts,
                            std::string_view inline_field) {
  if (const auto* file = http::find_part(parts, "file")) return file->data;
  if (const auto* text = http::find_part(parts, inline_field)) return text->data;
  if (http::find_part(parts, "url") != nullptr)
    throw ApiError::bad_request(
        "importing a definition from a URL is not supported: send it as file or inline");
  throw ApiError::bad_request("send the definition as a 'file' part or as '" +
                              std::string(inline_field) + "'");
}

// The parsed definition; ApiError 400 when it is over a resource limit (its size, depth, node
// count or the text its YAML aliases expand to), which no reading of it can satisfy.
openapi::Definition parse_definition(std::string_view text) {
  openapi::Definition d = openapi::parse(text);
  if (d.over_limits) throw ApiError::bad_request(d.errors.front());
  return d;
}

// The API fields a definition contributes: operations and scopes.
void merge_definition(json::object& body, const openapi::Definition& d) {
  json::array scopes;
  for (const auto& s : d.scopes) {
    json::object scope;
    scope["name"] = s.name;
    scope["displayName"] = s.name;
    scope["description"] = s.description;
    json::array roles;
    for (const auto& r : s.roles) roles.push_back(json::string(r));
    scope["bindings"] = std::move(roles);
    scopes.push_back(json::object{{"scope", std::move(scope)}, {"shared", false}});
  }
  body["scopes"] = std::move(scopes);
  json::array ops;
  for (const auto& o : d.operations) {
    json::object op;
    op["target"] = o.target;
    op["verb"] = o.verb;
    if (!o.auth_type.empty()) op["authType"] = o.auth_type;
    if (!o.throttling_policy.empty()) op["throttlingPolicy"] = o.throttling_policy;
    json::array s;
    for (const auto& name : o.scopes) s.push_back(json::string(name));
    op["scopes"] = std::move(s);
    ops.push_back(std::move(op));
  }
  body["operations"] = std::move(ops);
}

// A new definition replaces the operations; those it keeps (same verb and target) keep the
// operation policies they had, which a definition does not carry.
void keep_operation_policies(json::object& body, const json::object& existing) {
  const json::value* old_ops = existing.if_contains("operations");
  if (old_ops == nullptr || !old_ops->is_array()) return;
  std::map<std::string, const json::value*> policies;
  for (const auto& op : old_ops->get_array()) {
    if (!op.is_object()) continue;
    const json::value* p = op.get_object().if_contains("operationPolicies");
    if (p != nullptr)
      policies[string_at(op.get_object(), "verb") + " " + string_at(op.get_object(), "target")] = p;
  }
  for (auto& op : body["operations"].get_array()) {
    auto& o = op.get_object();
    auto it = policies.find(string_at(o, "verb") + " " + string_at(o, "target"));
    if (it != policies.end()) o["operationPolicies"] = *it->second;
  }
}

const std::vector<std::string_view> kDocTypes = {
    "HOWTO",       "SAMPLES", "PUBLIC_FORUM", "SUPPORT_FORUM", "API_MESSAGE_FORMAT",
    "SWAGGER_DOC", "OTHER"};

// The Document resource from a request body (over `existing` on update).
json::object document_fields(const json::object& body, const json::object* existing) {
  using namespace json_body;
  json::object doc = existing != nullptr ? *existing : json::object{};
  std::string name = required_string(body, "name", 60);
  if (name.empty()) throw ApiError::bad_request("name must be 1 to 60 characters");
  doc["name"] = name;
  std::string type = required_string(body, "type", 32);
  if (std::find(kDocTypes.begin(), kDocTypes.end(), type) == kDocTypes.end())
    throw ApiError::bad_request(
        "type must be one of HOWTO, SAMPLES, PUBLIC_FORUM, "
        "SUPPORT_FORUM, API_MESSAGE_FORMAT, SWAGGER_DOC, OTHER");
  doc["type"] = type;
  if (type == "OTHER") {
    std::string other = optional_string(body, "otherTypeName", 255).value_or("");
    if (other.empty()) throw ApiError::bad_request("type OTHER needs otherTypeName");
    doc["otherTypeName"] = other;
  } else {
    doc["otherTypeName"] = nullptr;
  }
  doc["summary"] = optional_string(body, "summary", 32766).value_or("");
  std::string source = required_string(body, "sourceType", 16);
  one_of("sourceType", source, {"INLINE", "MARKDOWN", "URL", "FILE"});
  doc["sourceType"] = source;
  if (source == "URL") {
    std::string url = optional_string(body, "sourceUrl", 2048).value_or("");
    if (!valid_http_url(url)) throw ApiError::bad_request("sourceUrl must be an http or https URL");
    doc["sourceUrl"] = url;
  } else {
    doc["sourceUrl"] = nullptr;
  }
  std::string visibility = optional_string(body, "visibility", 16).value_or("API_LEVEL");
  one_of("visibility", visibility, {"OWNER_ONLY", "PRIVATE", "API_LEVEL"});
  doc["visibility"] = visibility;
  if (!doc.contains("fileName")) doc["fileName"] = nullptr;
  return doc;
}

// The image type named by the file's first bytes; empty when it is none Portico accepts.
std::string image_type(std::string_view data) {
  if (data.size() >= 8 && data.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8))
    return "image/png";
  if (data.size() >= 3 && data.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (data.size() >= 6 && (data.substr(0, 6) == "GIF87a" || data.substr(0, 6) == "GIF89a"))
    return "image/gif";
  // SVG is text: an <svg> element near the start, after an XML declaration or comments.
  std::string_view head = data.substr(0, 1024);
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  std::size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && head[first] == '<' &&
      head.find("<svg") != std::string_view::npos)
    return "image/svg+xml";
  return {};
}

json::object subscription_json(const store::ApiSubscription& s) {
  json::object app;
  app["applicationId"] = s.application_id;
  app["name"] = s.application_name;
  app["subscriber"] = s.application_owner;
  std::string description;
  try {
    description = string_at(parse_document(s.application_document), "description");
  } catch (const std::exception&) {
  }
  app["description"] = description;
  json::object o;
  o["subscriptionId"] = s.id;
  o["applicationInfo"] = std::move(app);
  o["throttlingPolicy"] = s.throttling_policy;
  o["requestedThrottlingPolicy"] = s.throttling_policy;
  o["subscriptionStatus"] = s.status;
  o["apiId"] = s.api_id;
  o["createdTime"] = iso_time(s.created_time);
  return o;
}

}  // namespace

void Publisher::Impl::add_content_routes(http::Router& router) {
  const std::string base(kBase);

  // ---- OpenAPI ----

  router.add("POST", base + "/apis/validate-openapi", http::BodyType::multipart,
             [this](http::Request& r) {
               return guarded([&] {
                 authorize(r, {"apim:api_create"});
                 auto parts = multipart_parts(r);
                 std::string text = definition_text(parts, "inlineAPIDefinition");
                 openapi::Definition d = parse_definition(text);
                 json::object body;
                 body["isValid"] = d.valid();
                 if (d.valid()) {
                   json::object info;
                   info["name"] = d.title;
                   info["version"] = d.version;
                   info["context"] = d.context;
                   info["description"] = d.description;
                   info["openAPIVersion"] = d.openapi_version;
                   json::array endpoints;
                   for (const auto& e : d.endpoints) endpoints.push_back(json::string(e));
                   info["endpoints"] = std::move(endpoints);
                   json::array operations;
                   for (const auto& o : d.operations)
                     operations.push_back(json::object{{"target", o.target}, {"verb", o.verb}});
                   info["operations"] = std::move(operations);
                   body["info"] = std::move(info);
                   if (r.query_param("returnContent").value_or("false") == "true")
                     body["content"] = json::serialize(d.document);
                 } else {
                   json::array errors;
                   for (const auto& e : d.errors)
                     errors.push_back(json::object{{"code", "400"}, {"message", e}});
                   body["errors"] = std::move(errors);
                 }
                 return json_response(200, body);
               });
             });

  router.add(
      "POST", base + "/apis/import-openapi", http::BodyType::multipart, [this](http::Request& r) {
        return guarded([&] {
          auto who = authorize(r, {"apim:api_create"});
          auto parts = multipart_parts(r);
          std::string text = definition_text(parts, "inlineAPIDefinition");
          json::object body;
          if (const auto* props = http::find_part(parts, "additionalProperties"))
            body = json_body::parse_object(props->data);
          openapi::Definition d = parse_definition(text);
          if (!d.valid()) return error_list_response("the OpenAPI definition is invalid", d.errors);
          if (!body.contains("name")) body["name"] = d.title;
          if (!body.contains("version")) body["version"] = d.version;
          if (!body.contains("context")) {
            if (d.context.empty())
              throw ApiError::bad_request("context is required: the definition names no base path");
            body["context"] = d.context;
          }
          if (!body.contains("description") && !d.description.empty())
            body["description"] = d.description;
          merge_definition(body, d);
          json::object api = apply_api_fields(body, nullptr);
          std::int64_t now = unix_now();
          api["provider"] = who.username;
          api["createdTime"] = millis_text(now);
          api["lastUpdatedTime"] = millis_text(now);
          store::ApiRecord record = record_of(api);
          record.openapi = json::serialize(d.document);
          record.created_time = record.updated_time = now;
          insert_api(record, api);
          return json_response(201, api);
        });
      });

  router.add("GET", base + "/apis/{apiId}/swagger", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view", "apim:api_definition_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      std::string definition =
          api.openapi.empty() ? json::serialize(openapi::generate(parse_document(api.document)))
                              : api.openapi;
      return http::user_content("application/json", std::move(definition),
                                http::Disposition::attachment, "swagger.json");
    });
  });

  router.add("PUT", base + "/apis/{apiId}/swagger", http::BodyType::multipart,
             [this](http::Request& r) {
               return guarded([&] {
                 auto who = authorize(r, {"apim:api_create"});
                 store::ApiRecord current = require_changeable_api(who, r.path_params["apiId"]);
                 auto parts = multipart_parts(r);
                 std::string text = definition_text(parts, "apiDefinition");
                 openapi::Definition d = parse_definition(text);
                 if (!d.valid())
                   return error_list_response("the OpenAPI definition is invalid", d.errors);
                 json::object body;
                 merge_definition(body, d);
                 json::object existing = parse_document(current.document);
                 keep_operation_policies(body, existing);
                 json::object api = apply_api_fields(body, &existing);
                 std::int64_t now = unix_now();
                 api["lastUpdatedTime"] = millis_text(now);
                 store::ApiRecord record = record_of(api);
                 record.openapi = json::serialize(d.document);
                 record.created_time = current.created_time;
                 record.updated_time = now;
                 update_api(record, api, existing, current);
                 return http::user_content("application/json", record.openapi,
                                           http::Disposition::attachment, "swagger.json");
               });
             });

  // ---- documents ----

  router.add("GET", base + "/apis/{apiId}/documents", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      http::Page page = http::read_page(r);
      json::array list;
      for (const auto& d : documents.list(api.id, page.limit, page.offset))
        list.push_back(parse_document(d.document));
      return json_response(200, http::list_envelope(std::move(list), page, documents.count(api.id),
                                                    "/apis/" + api.id + "/documents"));
    });
  });

  router.add("POST", base + "/apis/{apiId}/documents", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:document_create", "apim:document_manage"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      json::object body = json_body::parse_object(r.body);
      json::object doc = document_fields(body, nullptr);
      std::int64_t now = unix_now();
      std::string id = crypto::uuid_v4();
      doc["documentId"] = id;
      doc["createdTime"] = iso_time(now);
      doc["createdBy"] = who.username;
      doc["lastUpdatedTime"] = iso_time(now);
      doc["lastUpdatedBy"] = who.username;
      std::string content;
      std::string source = string_at(doc, "sourceType");
      if (source == "INLINE" || source == "MARKDOWN")
        content = json_body::optional_string(body, "inlineContent", kMaxDocumentContentBytes)
                      .value_or("");
      store::ApiDocumentRecord record{id,      api.id, string_at(doc, "name"), json::serialize(doc),
                                      content, now};
      try {
        documents.create(record);
      } catch (const store::ConflictError&) {
        throw ApiError::conflict("the API has a document named '" + record.name + "'");
      }
      return json_response(201, doc);
    });
  });

  router.add("GET", base + "/apis/{apiId}/documents/{documentId}", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      auto doc = documents.find(api.id, r.path_params["documentId"]);
      if (!doc) throw ApiError::not_found("no document " + r.path_params["documentId"]);
      return json_response(200, parse_document(doc->document));
    });
  });

  router.add("PUT", base + "/apis/{apiId}/documents/{documentId}", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:document_manage"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      auto current = documents.find(api.id, r.path_params["documentId"]);
      if (!current) throw ApiError::not_found("no document " + r.path_params["documentId"]);
      json::object body = json_body::parse_object(r.body);
      json::object existing = parse_document(current->document);
      json::object doc = document_fields(body, &existing);
      doc["lastUpdatedTime"] = iso_time(unix_now());
      doc["lastUpdatedBy"] = who.username;
      current->name = string_at(doc, "name");
      current->document = json::serialize(doc);
      try {
        documents.update(*current);
      } catch (const store::ConflictError&) {
        throw ApiError::conflict("the API has a document named '" + current->name + "'");
      }
      if (auto inline_content =
              json_body::optional_string(body, "inlineContent", kMaxDocumentContentBytes))
        documents.set_content(api.id, current->id, current->document, *inline_content);
      return json_response(200, doc);
    });
  });

  router.add("DELETE", base + "/apis/{apiId}/documents/{documentId}", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:document_manage"});
      store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
      if (!documents.remove(api.id, r.path_params["documentId"]))
        throw ApiError::not_found("no document " + r.path_params["documentId"]);
      return http::Response::json(200, "");
    });
  });

  router.add(
      "POST", base + "/apis/{apiId}/documents/{documentId}/content", http::BodyType::multipart,
      [this](http::Request& r) {
        return guarded([&] {
          auto who = authorize(r, {"apim:document_create", "apim:document_manage"});
          store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
          auto current = documents.find(api.id, r.path_params["documentId"]);
          if (!current) throw ApiError::not_found("no document " + r.path_params["documentId"]);
          auto parts = multipart_parts(r);
          json::object doc = parse_document(current->document);
          std::string source = string_at(doc, "sourceType");
          std::string content;
          if (source == "URL") {
            throw ApiError::bad_request("a URL document has no content to upload");
          } else if (source == "FILE") {
            const auto* file = http::find_part(parts, "file");
            if (file == nullptr) throw ApiError::bad_request("a FILE document needs a 'file' part");
            if (file->data.size() > kMaxDocumentContentBytes)
              throw ApiError(413, 413, "Payload Too Large", "the file is larger than 5 MB");
            std::string name = file->filename.empty() ? "document" : file->filename;
            if (name.size() > 255 || name.find_first_of("/\\\r\n\"") != std::string::npos)
              throw ApiError::bad_request("the file name is not acceptable");
            doc["fileName"] = name;
            doc["fileType"] =
                file->content_type.empty() ? "application/octet-stream" : file->content_type;
            content = crypto::base64_encode(file->data);
          } else {
            const auto* text = http::find_part(parts, "inlineContent");
            if (text == nullptr) text = http::find_part(parts, "file");
            if (text == nullptr)
              throw ApiError::bad_request("an " + source + " document needs 'inlineContent'");
            if (text->data.size() > kMaxDocumentContentBytes)
              throw ApiError(413, 413, "Payload Too Large", "the content is larger than 5 MB");
            content = text->data;
          }
          doc["lastUpdatedTime"] = iso_time(unix_now());
          doc["lastUpdatedBy"] = who.username;
          documents.set_content(api.id, current->id, json::serialize(doc), content);
          return json_response(201, doc);
        });
      });

  router.add(
      "GET", base + "/apis/{apiId}/documents/{documentId}/content", [this](http::Request& r) {
        return guarded([&] {
          authorize(r, {"apim:api_view"});
          store::ApiRecord api = require_api(r.path_params["apiId"]);
          auto current = documents.find(api.id, r.path_params["documentId"]);
          if (!current) throw ApiError::not_found("no document " + r.path_params["documentId"]);
          json::object doc = parse_document(current->document);
          std::string source = string_at(doc, "sourceType");
          http::Response response;
          response.status = 200;
          if (source == "URL") {
            auto redirect = http::redirect_to_stored_url(string_at(doc, "sourceUrl"));
            if (!redirect) throw ApiError::not_found("the document's link is not an http(s) URL");
            return std::move(*redirect);
          }
          if (source == "FILE") {
            if (current->content.empty()) throw ApiError::not_found("the document has no file yet");
            return http::user_content(string_at(doc, "fileType"),
                                      crypto::base64_decode(current->content).value_or(""),
                                      http::Disposition::attachment, string_at(doc, "fileName"));
          }
          bool markdown = source == "MARKDOWN";
          return http::user_content(
              markdown ? "text/markdown; charset=utf-8" : "text/plain; charset=utf-8",
              current->content, http::Disposition::attachment,
              string_at(doc, "name") + (markdown ? ".md" : ".txt"));
        });
      });

  // ---- thumbnail ----

  router.add(
      "PUT", base + "/apis/{apiId}/thumbnail", http::BodyType::multipart, [this](http::Request& r) {
        return guarded([&] {
          auto who = authorize(r, {"apim:api_create", "apim:api_publish"});
          store::ApiRecord api = require_changeable_api(who, r.path_params["apiId"]);
          auto parts = multipart_parts(r);
          const auto* file = http::find_part(parts, "file");
          if (file == nullptr) throw ApiError::bad_request("send the image as a 'file' part");
          if (file->data.size() > kMaxThumbnailBytes)
            throw ApiError(413, 413, "Payload Too Large", "the thumbnail is larger than 1 MB");
          std::string type = image_type(file->data);
          if (type.empty())
            throw ApiError::bad_request("the thumbnail must be a PNG, JPEG, GIF or SVG image");
          json::object doc = parse_document(api.document);
          doc["hasThumbnail"] = true;
          if (!apis.set_thumbnail(api.id, type, crypto::base64_encode(file->data),
                                  json::serialize(doc), api.document))
            throw ApiError::conflict("the API changed meanwhile; retry");
          json::object body;
          body["relativePath"] = "apis/" + api.id + "/thumbnail";
          body["mediaType"] = type;
          return json_response(200, body);
        });
      });

  router.add("GET", base + "/apis/{apiId}/thumbnail", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      std::string id = r.path_params["apiId"];
      auto thumb = id.size() > 64 ? std::nullopt : apis.thumbnail(id);
      if (!thumb) throw ApiError::not_found("no API with id " + id);
      if (thumb->first.empty()) throw ApiError::not_found("the API has no thumbnail");
      // An SVG may carry script; the helper's CSP sandbox keeps it from running any.
      return http::user_content(thumb->first, crypto::base64_decode(thumb->second).value_or(""),
                                http::Disposition::inline_image, "thumbnail");
    });
  });

  // ---- subscriptions ----

  router.add("GET", base + "/subscriptions", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:subscription_view"});
      http::Page page = http::read_page(r);
      std::string api_id = r.query_param("apiId").value_or("");
      if (!api_id.empty()) require_api(api_id);
      // The total first: it lets a deep page be read from the end of the list.
      std::int64_t total = apis.count_subscriptions(api_id);
      json::array list;
      for (const auto& s : apis.subscriptions(api_id, page.limit, page.offset, total))
        list.push_back(subscription_json(s));
      return json_response(200, http::list_envelope(std::move(list), page, total, "/subscriptions",
                                                    api_id.empty() ? "" : "apiId=" + api_id));
    });
  });

  auto set_status = [this](http::Request& r, const std::string& status) {
    std::string id = required_query(r, "subscriptionId");
    auto sub = id.size() > 64 ? std::nullopt : apis.find_subscription(id);
    if (!sub) throw ApiError::not_found("no subscription " + id);
    if (!apis.set_subscription_status(id, status, unix_now()))
      throw ApiError::not_found("no subscription " + id);
    publish(events::types::kSubscriptionUpdated,
            json::object{{"subscription_id", sub->id},
                         {"api_id", sub->api_id},
                         {"application_id", sub->application_id},
                         {"throttling_policy", sub->throttling_policy},
                         {"status", status}});
    return http::Response::json(200, "");
  };

  router.add("POST", base + "/subscriptions/block-subscription",
             [this, set_status](http::Request& r) {
               return guarded([&] {
                 authorize(r, {"apim:subscription_block"});
                 std::string state = required_query(r, "blockState");
                 json_body::one_of("blockState", state, {"BLOCKED", "PROD_ONLY_BLOCKED"});
                 return set_status(r, state);
               });
             });

  router.add("POST", base + "/subscriptions/unblock-subscription",
             [this, set_status](http::Request& r) {
               return guarded([&] {
                 authorize(r, {"apim:subscription_block"});
                 return set_status(r, "UNBLOCKED");
               });
             });
}

}  // namespace portico::publisher
