// Discovery: the APIs a viewer may see (PUBLISHED, PROTOTYPED and DEPRECATED; visibility
// respected), their definitions, documents, thumbnails and tags, and developers' ratings and
// comments. Anonymous viewers see PUBLIC APIs, as in the reference.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "devportal/devportal_impl.h"
#include "http/paging.h"
#include "http/redirect.h"
#include "http/user_content.h"

namespace portico::devportal {
namespace {

constexpr std::size_t kMaxQueryLength = 256;

std::string api_path(std::string_view tail = "") {
  return std::string(kBasePath) + "/apis" + std::string(tail);
}

std::vector<store::CatalogApi> visible_apis(DevPortalState& s, const std::string& query,
                                            const Viewer& viewer) {
  std::vector<store::CatalogApi> out;
  for (auto& api : s.catalog.search(parse_search_query(query))) {
    if (DevPortalState::visible(api, viewer)) out.push_back(std::move(api));
  }
  return out;
}

// One page of the visible APIs and their number. The database pages by itself when it can
// decide visibility alone (anonymous viewers, administrators, or no RESTRICTED API matches);
// otherwise RESTRICTED APIs' visibleRoles are checked here over the whole match.
std::pair<std::vector<store::CatalogApi>, std::int64_t> visible_page(DevPortalState& s,
                                                                     const std::string& query,
                                                                     const Viewer& viewer,
                                                                     const http::Page& page) {
  store::CatalogSearch search = parse_search_query(query);
  bool database_decides = true;
  if (!viewer) {
    search.visibilities = {"PUBLIC"};
  } else if (!viewer->has_role(kRoleAdmin)) {
    store::CatalogSearch restricted = search;
    restricted.visibilities = {"RESTRICTED"};
    if (s.catalog.count(restricted) == 0) {
      search.visibilities = {"PUBLIC", "PRIVATE"};
    } else {
      database_decides = false;
    }
  }
  if (database_decides) {
    return {s.catalog.search_page(search, page.limit, page.offset), s.catalog.count(search)};
  }
  std::vector<store::CatalogApi> all;
  for (auto& api : s.catalog.search(search)) {
    if (DevPortalState::visible(api, viewer)) all.push_back(std::move(api));
  }
  std::vector<store::CatalogApi> out;
  for (std::size_t i = static_cast<std::size_t>(page.offset);
       i < all.size() && i < static_cast<std::size_t>(page.offset + page.limit); ++i) {
    out.push_back(std::move(all[i]));
  }
  return {std::move(out), static_cast<std::int64_t>(all.size())};
}

json::object parse_or_empty(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

json::object document_json(const store::CatalogDocument& d) {
  json::object o = parse_or_empty(d.document);
  o["documentId"] = d.id;
  if (!o.contains("name")) o["name"] = d.name;
  return o;
}

// OWNER_ONLY and PRIVATE documents are the publisher side's; the portal shows the API_LEVEL
// ones (those whose visibility is the API's).
bool portal_document(const store::CatalogDocument& d) {
  json::object meta = parse_or_empty(d.document);
  auto* visibility = meta.if_contains("visibility");
  return !visibility || !visibility->is_string() || visibility->as_string() == "API_LEVEL";
}

json::object comment_json(const store::CommentRecord& c) {
  return {{"id", c.id},
          {"content", c.content},
          {"createdTime", std::to_string(c.created_time * 1000)},
          {"createdBy", c.username},
          {"updatedTime", nullptr},
          {"category", "general"},
          {"parentCommentId", nullptr},
          {"entryPoint", "devPortal"},
          {"commenterInfo",
           json::object{{"firstName", ""}, {"lastName", ""}, {"fullName", c.username}}},
          {"replies", json::object{{"count", 0}, {"list", json::array{}}}}};
}

std::string format_average(double average) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f", average);
  return buffer;
}

http::Response raw(int status, std::string content_type, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

}  // namespace

// The reference's search syntax: "name:pets tags:animals free text" (also tag:, provider:,
// version:, context:, description:). Unknown prefixes are a 400 rather than a silent miss.
store::CatalogSearch parse_search_query(const std::string& query) {
  if (query.size() > kMaxQueryLength) {
    throw ApiError::bad_request("'query' is longer than 256 characters");
  }
  store::CatalogSearch search;
  search.statuses = {"PUBLISHED", "PROTOTYPED", "DEPRECATED"};
  std::string text;
  std::size_t at = 0;
  while (at < query.size()) {
    std::size_t end = query.find(' ', at);
    if (end == std::string::npos) end = query.size();
    std::string token = query.substr(at, end - at);
    at = end + 1;
    if (token.empty()) continue;
    auto colon = token.find(':');
    if (colon == std::string::npos) {
      text += (text.empty() ? "" : " ") + token;
      continue;
    }
    std::string key = token.substr(0, colon);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = token.substr(colon + 1);
    if (key == "name") {
      search.name = value;
    } else if (key == "tag" || key == "tags") {
      search.tag = value;
    } else if (key == "provider") {
      search.provider = value;
    } else if (key == "version") {
      search.version = value;
    } else if (key == "context") {
      search.context = value;
    } else if (key == "description") {
      search.description = value;
    } else if (key == "status") {
      std::string state = value;
      std::transform(state.begin(), state.end(), state.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (state != "PUBLISHED" && state != "PROTOTYPED" && state != "DEPRECATED") {
        search.statuses.clear();  // nothing else is in the portal
      } else {
        search.statuses = {state};
      }
    } else {
      throw ApiError::bad_request("Unknown search prefix '" + key + ":'");
    }
  }
  search.text = text;
  return search;
}

void register_discovery_routes(DevPortalState& state, http::Router& router) {
  auto& s = state;

  router.add("GET", api_path(), [&s](http::Request& request) {
    auto viewer = s.viewer(request);
    http::Page page = http::read_page(request);
    std::string query = request.query_param("query").value_or("");
    auto [apis, total] = visible_page(s, query, viewer, page);
    json::array list;
    for (auto& info : s.api_infos(apis)) list.push_back(std::move(info));
    return json_response(
        200, http::list_envelope(std::move(list), page, total, "/apis",
                                 query.empty() ? "" : "query=" + http::percent_encode(query)));
  });

  router.add("GET", std::string(kBasePath) + "/search", [&s](http::Request& request) {
    auto viewer = s.viewer(request);
    http::Page page = http::read_page(request);
    std::string query = request.query_param("query").value_or("");
    auto [apis, total] = visible_page(s, query, viewer, page);
    json::array list;
    std::vector<json::object> infos = s.api_infos(apis);
    for (std::size_t i = 0; i < apis.size(); ++i) {
      const store::CatalogApi& api = apis[i];
      json::object& info = infos[i];
      list.emplace_back(json::object{{"id", api.id},
                                     {"name", api.name},
                                     {"type", "API"},
                                     {"transportType", info["type"]},
                                     {"description", api.description},
                                     {"context", api.context},
                                     {"version", api.version},
                                     {"provider", api.provider},
                                     {"status", api.lifecycle_status},
                                     {"thumbnailUri", info["thumbnailUri"]},
                                     {"businessInformation", info["businessInformation"]},
                                     {"avgRating", info["avgRating"]}});
    }
    return json_response(
        200, http::list_envelope(std::move(list), page, total, "/search",
                                 query.empty() ? "" : "query=" + http::percent_encode(query)));
  });

  router.add("GET", std::string(kBasePath) + "/tags", [&s](http::Request& request) {
    auto viewer = s.viewer(request);
    http::Page page = http::read_page(request);
    std::set<std::string> ids;
    for (const auto& api : visible_apis(s, "", viewer)) ids.insert(api.id);
    std::map<std::string, std::int64_t> counts;
    for (const auto& [api_id, tag] : s.catalog.all_tags()) {
      if (ids.count(api_id)) ++counts[tag];
    }
    json::array list;
    std::int64_t index = 0;
    for (const auto& [tag, count] : counts) {
      if (index >= page.offset && index < page.offset + page.limit) {
        list.emplace_back(json::object{{"value", tag}, {"count", count}});
      }
      ++index;
    }
    return json_response(
        200, http::list_envelope(std::move(list), page, static_cast<std::int64_t>(counts.size()),
                                 "/tags"));
  });

  router.add("GET", api_path("/{apiId}"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    return json_response(200, s.api_detail(api));
  });

  router.add("GET", api_path("/{apiId}/swagger"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    auto definition = s.catalog.openapi(api.id);
    if (!definition) throw ApiError::not_found("API '" + api.id + "' has no definition");
    auto first = definition->find_first_not_of(" \t\r\n");
    bool is_json = first != std::string::npos && (*definition)[first] == '{';
    return http::user_content(is_json ? "application/json" : "application/yaml",
                              std::move(*definition), http::Disposition::attachment,
                              is_json ? "swagger.json" : "swagger.yaml");
  });

  router.add("GET", api_path("/{apiId}/documents"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    http::Page page = http::read_page(request);
    std::vector<store::CatalogDocument> docs;
    for (auto& d : s.catalog.documents(api.id)) {
      if (portal_document(d)) docs.push_back(std::move(d));
    }
    json::array list;
    for (std::size_t i = static_cast<std::size_t>(page.offset);
         i < docs.size() && i < static_cast<std::size_t>(page.offset + page.limit); ++i) {
      list.push_back(document_json(docs[i]));
    }
    return json_response(
        200, http::list_envelope(std::move(list), page, static_cast<std::int64_t>(docs.size()),
                                 "/apis/" + api.id + "/documents"));
  });

  router.add("GET", api_path("/{apiId}/documents/{documentId}"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    auto doc = s.catalog.document(api.id, request.path_params["documentId"]);
    if (!doc || !portal_document(*doc)) throw ApiError::not_found("Document not found");
    return json_response(200, document_json(*doc));
  });

  router.add(
      "GET", api_path("/{apiId}/documents/{documentId}/content"), [&s](http::Request& request) {
        auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
        auto doc = s.catalog.document(api.id, request.path_params["documentId"]);
        if (!doc || !portal_document(*doc)) {
          throw ApiError::not_found("Document not found");
        }
        json::object meta = parse_or_empty(doc->document);
        std::string source = meta.contains("sourceType") && meta["sourceType"].is_string()
                                 ? std::string(meta["sourceType"].as_string())
                                 : "INLINE";
        if (source == "URL" && meta.contains("sourceUrl") && meta["sourceUrl"].is_string()) {
          auto redirect = http::redirect_to_stored_url(std::string(meta["sourceUrl"].as_string()));
          if (!redirect) throw ApiError::not_found("Document link is not an http(s) URL");
          return std::move(*redirect);
        }
        if (doc->content.empty()) throw ApiError::not_found("Document has no content");
        auto text_field = [&](std::string_view field, std::string fallback) {
          auto* v = meta.if_contains(field);
          return v && v->is_string() ? std::string(v->as_string()) : fallback;
        };
        if (source == "FILE") {
          // The publisher keeps uploaded files base64-encoded in a text column.
          return http::user_content(text_field("fileType", "application/octet-stream"),
                                    crypto::base64_decode(doc->content).value_or(""),
                                    http::Disposition::attachment,
                                    text_field("fileName", "document"));
        }
        bool markdown = source == "MARKDOWN";
        return http::user_content(
            markdown ? "text/markdown; charset=utf-8" : "text/plain; charset=utf-8", doc->content,
            http::Disposition::attachment,
            text_field("name", "document") + (markdown ? ".md" : ".txt"));
      });

  router.add("GET", api_path("/{apiId}/thumbnail"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    auto thumbnail = s.catalog.thumbnail(api.id);
    if (!thumbnail) throw ApiError::not_found("API '" + api.id + "' has no thumbnail");
    // The publisher keeps the image base64-encoded in a text column.
    auto bytes = crypto::base64_decode(thumbnail->second);
    return http::user_content(
        thumbnail->first.empty() ? "application/octet-stream" : thumbnail->first,
        bytes ? *bytes : thumbnail->second, http::Disposition::inline_image, "thumbnail");
  });

  // ---- ratings -----------------------------------------------------------------------------

  router.add("GET", api_path("/{apiId}/ratings"), [&s](http::Request& request) {
    auto viewer = s.viewer(request);
    auto api = s.visible_api(request.path_params["apiId"], viewer);
    http::Page page = http::read_page(request);
    auto [count, average] = s.feedback.rating_summary(api.id);
    json::array list;
    for (const auto& r : s.feedback.ratings(api.id, page.limit, page.offset)) {
      list.emplace_back(
          json::object{{"ratingId", crypto::sha256_hex(r.api_id + "/" + r.username).substr(0, 32)},
                       {"apiId", r.api_id},
                       {"ratedBy", r.username},
                       {"rating", r.rating}});
    }
    json::object out =
        http::list_envelope(std::move(list), page, count, "/apis/" + api.id + "/ratings");
    out["avgRating"] = format_average(average);
    std::optional<store::RatingRecord> mine;
    if (viewer) mine = s.feedback.find_rating(api.id, viewer->username);
    out["userRating"] = mine ? mine->rating : 0;
    return json_response(200, out);
  });

  auto rating_json = [](const store::RatingRecord& r) {
    return json::object{{"ratingId", crypto::sha256_hex(r.api_id + "/" + r.username).substr(0, 32)},
                        {"apiId", r.api_id},
                        {"ratedBy", r.username},
                        {"rating", r.rating}};
  };

  router.add("GET", api_path("/{apiId}/user-rating"), [&s, rating_json](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto api = s.visible_api(request.path_params["apiId"], caller);
    auto mine = s.feedback.find_rating(api.id, caller.username);
    if (!mine) throw ApiError::not_found("You have not rated this API");
    return json_response(200, rating_json(*mine));
  });

  router.add("PUT", api_path("/{apiId}/user-rating"), [&s, rating_json](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto api = s.visible_api(request.path_params["apiId"], caller);
    json::object body = json_body::parse_object(request.body);
    auto rating = json_body::optional_int(body, "rating", 1, 5);
    if (!rating) throw ApiError::bad_request("'rating' (1 to 5) is required");
    store::RatingRecord record{api.id, caller.username, static_cast<int>(*rating)};
    s.feedback.put_rating(record);
    return json_response(200, rating_json(record));
  });

  router.add("DELETE", api_path("/{apiId}/user-rating"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto api = s.visible_api(request.path_params["apiId"], caller);
    s.feedback.remove_rating(api.id, caller.username);
    return http::Response::json(200, "");
  });

  // ---- comments ----------------------------------------------------------------------------

  router.add("GET", api_path("/{apiId}/comments"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    http::Page page = http::read_page(request);
    json::array list;
    for (const auto& c : s.feedback.comments(api.id, page.limit, page.offset)) {
      list.push_back(comment_json(c));
    }
    return json_response(
        200, http::list_envelope(std::move(list), page, s.feedback.count_comments(api.id),
                                 "/apis/" + api.id + "/comments"));
  });

  router.add("POST", api_path("/{apiId}/comments"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto api = s.visible_api(request.path_params["apiId"], caller);
    json::object body = json_body::parse_object(request.body);
    std::string content = json_body::required_string(body, "content", 512);
    if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw ApiError::bad_request("'content' must not be blank");
    }
    if (auto category = json_body::optional_string(body, "category", 64);
        category && *category != "general") {
      throw ApiError::bad_request("'category' must be general");
    }
    if (request.query_param("replyTo")) {
      throw ApiError::bad_request("Replies to comments are not supported");
    }
    store::CommentRecord comment{crypto::uuid_v4(), api.id, caller.username, content, unix_now()};
    s.feedback.add_comment(comment);
    http::Response response = json_response(201, comment_json(comment));
    response.headers.set("Location", api_path("/" + api.id + "/comments/" + comment.id));
    return response;
  });

  router.add("GET", api_path("/{apiId}/comments/{commentId}"), [&s](http::Request& request) {
    auto api = s.visible_api(request.path_params["apiId"], s.viewer(request));
    auto comment = s.feedback.find_comment(api.id, request.path_params["commentId"]);
    if (!comment) throw ApiError::not_found("Comment not found");
    return json_response(200, comment_json(*comment));
  });

  router.add("DELETE", api_path("/{apiId}/comments/{commentId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto api = s.visible_api(request.path_params["apiId"], caller);
    auto comment = s.feedback.find_comment(api.id, request.path_params["commentId"]);
    if (!comment) throw ApiError::not_found("Comment not found");
    // Comments are public, so refusing another's does not reveal anything: 403 as the
    // reference; administrators may moderate.
    if (comment->username != caller.username && !caller.has_role(kRoleAdmin)) {
      throw ApiError::forbidden("Only the author of a comment may delete it");
    }
    s.feedback.remove_comment(comment->id);
    return http::Response::json(200, "");
  });
}

}  // namespace portico::devportal
