#include "publisher/openapi.h"

#include <yaml-cpp/yaml.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>

namespace portico::publisher::openapi {
namespace {

namespace json = boost::json;

constexpr std::string_view kVerbs[] = {"get", "put", "post", "delete", "patch", "head", "options"};

struct TooBig {
  std::string what;
};

// YAML scalars typed as YAML 1.2's core schema does: quoted text stays text.
json::value scalar_value(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return json::string(text);  // quoted
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && p == text.data() + text.size()) return i;
  bool numeric = text.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                 text.find_first_of("0123456789") != std::string::npos;
  if (numeric) {
    try {
      std::size_t used = 0;
      double d = std::stod(text, &used);
      if (used == text.size()) return d;
    } catch (const std::exception&) {
    }
  }
  return json::string(text);
}

// What converting one YAML document may still produce.
struct ExpansionBudget {
  std::size_t nodes = 0;
  std::size_t bytes_left = 0;

  // Scalars and keys are charged before they are copied: yaml-cpp shares an aliased node,
  // and the copy into JSON is where each alias becomes its own text.
  void charge(const std::string& text) {
    if (text.size() > bytes_left)
      throw TooBig{
          "expands, through its YAML aliases, to more text than a definition of its "
          "size may (at most " +
          std::to_string(kExpansionFactor) + " times the document)"};
    bytes_left -= text.size();
  }
};

// YAML to JSON, bounded in depth, in nodes and in the bytes of text produced (aliases are
// expanded, so a small document of nested aliases, or one large anchored scalar named by many
// aliases, could otherwise grow without limit).
json::value to_json(const YAML::Node& node, std::size_t depth, ExpansionBudget& budget) {
  if (depth > kMaxDepth) throw TooBig{"nests deeper than " + std::to_string(kMaxDepth)};
  if (++budget.nodes > kMaxNodes)
    throw TooBig{"has more than " + std::to_string(kMaxNodes) + " nodes"};
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw TooBig{"has a mapping key that is not a scalar"};
        budget.charge(kv.first.Scalar());
        o[kv.first.Scalar()] = to_json(kv.second, depth + 1, budget);
      }
      return o;
    }
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& item : node) a.push_back(to_json(item, depth + 1, budget));
      return a;
    }
    case YAML::NodeType::Scalar:
      budget.charge(node.Scalar());
      return scalar_value(node);
    default:
      return nullptr;
  }
}

// Flow collections ([...] and {...}) are where a YAML parser recurses on little input;
// refuse deep ones before handing the text to yaml-cpp.
bool flow_nesting_within_bounds(std::string_view text) {
  std::size_t depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

std::string text_of(const json::value* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) return json::serialize(*v);
  return {};
}

const json::object* object_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* array_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// "/pets/{petId}/x" -> {"petId"}; nullopt when braces are unbalanced or a name is empty.
std::optional<std::vector<std::string>> path_parameters(std::string_view path) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos < path.size()) {
    char c = path[pos];
    if (c == '}') return std::nullopt;
    if (c != '{') {
      ++pos;
      continue;
    }
    std::size_t end = path.find('}', pos);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view name = path.substr(pos + 1, end - pos - 1);
    if (name.empty() || name.find('{') != std::string_view::npos) return std::nullopt;
    names.emplace_back(name);
    pos = end + 1;
  }
  return names;
}

// A parameter object, following one local $ref ("#/components/parameters/x" or
// "#/parameters/x").
const json::object* resolve_parameter(const json::object& root, const json::value& p) {
  if (!p.is_object()) return nullptr;
  const auto& o = p.get_object();
  auto* ref = o.if_contains("$ref");
  if (ref == nullptr) return &o;
  if (!ref->is_string()) return nullptr;
  std::string_view r = ref->get_string();
  const json::object* container = nullptr;
  std::string_view name;
  if (r.rfind("#/components/parameters/", 0) == 0) {
    if (auto* comps = object_at(root, "components")) container = object_at(*comps, "parameters");
    name = r.substr(24);
  } else if (r.rfind("#/parameters/", 0) == 0) {
    container = object_at(root, "parameters");
    name = r.substr(13);
  }
  if (container == nullptr) return nullptr;
  return object_at(*container, name);
}

void collect_path_params(const json::object& root, const json::array* params,
                         std::set<std::string>& declared) {
  if (params == nullptr) return;
  for (const auto& p : *params) {
    const json::object* param = resolve_parameter(root, p);
    if (param == nullptr) continue;
    auto* in = param->if_contains("in");
    auto* name = param->if_contains("name");
    if (in != nullptr && in->is_string() && in->get_string() == "path" && name != nullptr &&
        name->is_string())
      declared.insert(std::string(name->get_string()));
  }
}

std::string path_of_url(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url.substr(0, url.find('?')));
  std::size_t slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return {};
  return std::string(url.substr(slash, url.find('?', slash) - slash));
}

std::vector<std::string> string_list(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : v->get_array())
    if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

void add_scope(Definition& d, std::string name, std::string description,
               std::vector<std::string> roles) {
  for (auto& s : d.scopes) {
    if (s.name == name) {
      if (s.description.empty()) s.description = std::move(description);
      for (auto& r : roles)
        if (std::find(s.roles.begin(), s.roles.end(), r) == s.roles.end()) s.roles.push_back(r);
      return;
    }
  }
  d.scopes.push_back({std::move(name), std::move(description), std::move(roles)});
}

// The reference's x-scopes-bindings: scope -> roles, as "a,b" text or a list.
void read_bindings(const json::object& holder,
                   std::map<std::string, std::vector<std::string>>& bindings) {
  auto* b = object_at(holder, "x-scopes-bindings");
  if (b == nullptr) return;
  for (const auto& [scope, roles] : *b) {
    std::vector<std::string> list;
    if (roles.is_string()) {
      std::string_view text = roles.get_string();
      std::size_t pos = 0;
      while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view role = text.substr(pos, comma - pos);
        while (!role.empty() && role.front() == ' ') role.remove_prefix(1);
        while (!role.empty() && role.back() == ' ') role.remove_suffix(1);
        if (!role.empty()) list.emplace_back(role);
        pos = comma + 1;
      }
    } else {
      list = string_list(&roles);
    }
    bindings[std::string(scope)] = std::move(list);
  }
}

// Scopes of the security schemes (OAuth 2.0 flows; 2.0's securityDefinitions) and of the
// reference's extensions (x-wso2-security / x-wso2-scopes, x-scopes-bindings). Returns the
// schemes by name and kind, to check the security requirements against.
std::map<std::string, std::string> read_security(const json::object& root, bool swagger2,
                                                 Definition& d) {
  std::map<std::string, std::string> schemes;
  const json::object* defs = nullptr;
  if (swagger2) {
    defs = object_at(root, "securityDefinitions");
  } else if (auto* comps = object_at(root, "components")) {
    defs = object_at(*comps, "securitySchemes");
  }
  if (defs != nullptr) {
    for (const auto& [key, value] : *defs) {
      std::string name(key);
      if (!value.is_object()) {
        d.errors.push_back("security scheme '" + name + "' is not an object");
        continue;
      }
      const auto& scheme = value.get_object();
      std::string type = text_of(scheme.if_contains("type"));
      if (type.empty()) {
        d.errors.push_back("security scheme '" + name + "': attribute type is missing");
        continue;
      }
      schemes[name] = type;
      if (type != "oauth2") continue;
      std::map<std::string, std::vector<std::string>> bindings;
      read_bindings(scheme, bindings);
      auto take_scopes = [&](const json::object& holder) {
        read_bindings(holder, bindings);
        if (auto* scopes = object_at(holder, "scopes")) {
          for (const auto& [scope, description] : *scopes) {
            std::string s(scope);
            add_scope(d, s, text_of(&description), bindings[s]);
          }
        }
      };
      if (swagger2) {
        take_scopes(scheme);
      } else if (auto* flows = object_at(scheme, "flows")) {
        for (const auto& [flow, body] : *flows)
          if (body.is_object()) take_scopes(body.get_object());
      }
    }
  }
  if (auto* sec = object_at(root, "x-wso2-security")) {
    if (auto* apim = object_at(*sec, "apim")) {
      if (auto* scopes = array_at(*apim, "x-wso2-scopes")) {
        for (const auto& s : *scopes) {
          if (!s.is_object()) continue;
          const auto& so = s.get_object();
          std::string key = text_of(so.if_contains("key"));
          if (key.empty()) key = text_of(so.if_contains("name"));
          if (key.empty()) continue;
          std::vector<std::string> roles;
          std::string role_text = text_of(so.if_contains("roles"));
          std::size_t pos = 0;
          while (pos < role_text.size()) {
            std::size_t comma = role_text.find(',', pos);
            if (comma == std::string::npos) comma = role_text.size();
            std::string role = role_text.substr(pos, comma - pos);
            role.erase(0, role.find_first_not_of(' '));
            role.erase(role.find_last_not_of(' ') + 1);
            if (!role.empty()) roles.push_back(role);
            pos = comma + 1;
          }
          add_scope(d, key, text_of(so.if_contains("description")), roles);
        }
      }
    }
  }
  return schemes;
}

// The scopes a security requirement list asks of OAuth 2.0 schemes; errors for unknown
// schemes and undefined scopes.
std::vector<std::string> requirement_scopes(const json::array& requirements,
                                            const std::map<std::string, std::string>& schemes,
                                            const std::string& where, Definition& d) {
  std::vector<std::string> out;
  for (const auto& req : requirements) {
    if (!req.is_object()) {
      d.errors.push_back(where + ": a security requirement is not an object");
      continue;
    }
    for (const auto& [scheme, scopes] : req.get_object()) {
      auto it = schemes.find(std::string(scheme));
      if (it == schemes.end()) {
        d.errors.push_back(where + ": security scheme '" + std::string(scheme) +
                           "' is not defined");
        continue;
      }
      if (it->second != "oauth2") continue;
      for (const auto& s : string_list(&scopes)) {
        bool defined = std::any_of(d.scopes.begin(), d.scopes.end(),
                                   [&](const Scope& sc) { return sc.name == s; });
        if (!defined) {
          d.errors.push_back(where + ": scope '" + s + "' is not defined by scheme '" +
                             std::string(scheme) + "'");
        } else if (std::find(out.begin(), out.end(), s) == out.end()) {
          out.push_back(s);
        }
      }
    }
  }
  return out;
}

void validate(Definition& d) {
  if (!d.document.is_object()) {
    d.errors.push_back("the definition is not an object");
    return;
  }
  const json::object& root = d.document.get_object();
  bool swagger2 = false;
  if (auto* s = root.if_contains("swagger")) {
    d.openapi_version = text_of(s);
    if (d.openapi_version != "2.0") {
      d.errors.push_back("swagger version '" + d.openapi_version + "' is not supported (2.0 is)");
      return;
    }
    swagger2 = true;
  } else if (auto* o = root.if_contains("openapi")) {
    d.openapi_version = text_of(o);
    if (!o->is_string() ||
        !(d.openapi_version.rfind("3.0.", 0) == 0 || d.openapi_version.rfind("3.1.", 0) == 0)) {
      d.errors.push_back("openapi version '" + d.openapi_version +
                         "' is not supported (3.0.x and 3.1.x are)");
      return;
    }
  } else {
    d.errors.push_back("attribute openapi (or swagger) is missing");
    return;
  }

  const json::object* info = object_at(root, "info");
  if (info == nullptr) {
    d.errors.push_back("attribute info is missing");
  } else {
    d.title = text_of(info->if_contains("title"));
    if (d.version.empty()) d.version = text_of(info->if_contains("version"));
    d.description = text_of(info->if_contains("description"));
    if (d.title.empty()) d.errors.push_back("attribute info.title is missing");
    if (d.version.empty()) d.errors.push_back("attribute info.version is missing");
  }

  // Context and endpoints: the reference's x-wso2-basePath wins over what servers say.
  if (swagger2) {
    std::string host = text_of(root.if_contains("host"));
    std::string base = text_of(root.if_contains("basePath"));
    d.context = base;
    if (!host.empty()) {
      auto schemes = string_list(root.if_contains("schemes"));
      if (schemes.empty()) schemes.push_back("https");
      for (auto& s : schemes) d.endpoints.push_back(s + "://" + host + base);
    }
  } else if (auto* servers = array_at(root, "servers")) {
    for (const auto& s : *servers) {
      if (!s.is_object()) continue;
      std::string url = text_of(s.get_object().if_contains("url"));
      if (url.empty()) continue;
      if (d.context.empty()) d.context = path_of_url(url);
      if (url.find("://") != std::string::npos) d.endpoints.push_back(url);
    }
  }
  if (auto* bp = root.if_contains("x-wso2-basePath")) d.context = text_of(bp);
  if (d.context == "/") d.context.clear();

  auto schemes = read_security(root, swagger2, d);
  std::vector<std::string> root_scopes;
  if (auto* sec = array_at(root, "security"))
    root_scopes = requirement_scopes(*sec, schemes, "security", d);

  const json::value* paths_value = root.if_contains("paths");
  if (paths_value == nullptr) {
    if (swagger2 || d.openapi_version.rfind("3.0.", 0) == 0)
      d.errors.push_back("attribute paths is missing");
    return;
  }
  if (!paths_value->is_object()) {
    d.errors.push_back("attribute paths is not an object");
    return;
  }
  const json::object& paths = paths_value->get_object();
  if (paths.size() > kMaxPaths) {
    d.errors.push_back("the definition has more than " + std::to_string(kMaxPaths) + " paths");
    return;
  }
  std::set<std::string> operation_ids;
  for (const auto& [key, item_value] : paths) {
    std::string path(key);
    if (path.rfind("x-", 0) == 0) continue;
    if (path.empty() || path[0] != '/') {
      d.errors.push_back("path '" + path + "' does not start with /");
      continue;
    }
    auto names = path_parameters(path);
    if (!names) {
      d.errors.push_back("path '" + path + "' has malformed {parameters}");
      continue;
    }
    if (!item_value.is_object()) {
      d.errors.push_back("paths.'" + path + "' is not an object");
      continue;
    }
    const json::object& item = item_value.get_object();
    std::set<std::string> path_level;
    collect_path_params(root, array_at(item, "parameters"), path_level);
    for (std::string_view verb : kVerbs) {
      const json::value* op_value = item.if_contains(verb);
      if (op_value == nullptr) continue;
      std::string where = "paths.'" + path + "'(" + std::string(verb) + ")";
      if (!op_value->is_object()) {
        d.errors.push_back(where + " is not an object");
        continue;
      }
      const json::object& op = op_value->get_object();
      if (op.if_contains("responses") == nullptr)
        d.errors.push_back("attribute " + where + ".responses is missing");
      std::string op_id = text_of(op.if_contains("operationId"));
      if (!op_id.empty() && !operation_ids.insert(op_id).second)
        d.errors.push_back(where + ": operationId '" + op_id + "' is not unique");
      std::set<std::string> declared = path_level;
      collect_path_params(root, array_at(op, "parameters"), declared);
      for (const auto& name : *names) {
        if (!declared.count(name))
          d.errors.push_back(where + ": path parameter '" + name + "' is not declared");
      }
      Operation operation;
      operation.target = path;
      operation.verb = upper(verb);
      if (auto* sec = array_at(op, "security")) {
        operation.scopes = requirement_scopes(*sec, schemes, where, d);
      } else {
        operation.scopes = root_scopes;
      }
      // The reference's older per-operation scope extension.
      std::string x_scope = text_of(op.if_contains("x-scope"));
      if (!x_scope.empty() && std::find(operation.scopes.begin(), operation.scopes.end(),
                                        x_scope) == operation.scopes.end()) {
        operation.scopes.push_back(x_scope);
        if (std::none_of(d.scopes.begin(), d.scopes.end(),
                         [&](const Scope& s) { return s.name == x_scope; }))
          d.errors.push_back(where + ": x-scope '" + x_scope + "' is not defined");
      }
      operation.auth_type = text_of(op.if_contains("x-auth-type"));
      operation.throttling_policy = text_of(op.if_contains("x-throttling-tier"));
      d.operations.push_back(std::move(operation));
      if (d.operations.size() > kMaxOperations) {
        d.errors.push_back("the definition has more than " + std::to_string(kMaxOperations) +
                           " operations");
        return;
      }
    }
  }
}

}  // namespace

Definition parse(std::string_view text) {
  Definition d;
  if (text.size() > kMaxDefinitionBytes) {
    d.errors.push_back("the definition is larger than " +
                       std::to_string(kMaxDefinitionBytes / (1024 * 1024)) + " MB");
    d.over_limits = true;
    return d;
  }
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    d.errors.push_back("the definition is empty");
    return d;
  }
  if (text[first] == '{') {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = kMaxDepth;
    d.document = json::parse(text, ec, {}, options);
    if (ec) {
      d.document = nullptr;
      d.errors.push_back("the definition is not valid JSON: " + ec.message());
      return d;
    }
  } else {
    if (!flow_nesting_within_bounds(text)) {
      d.errors.push_back("the definition nests deeper than " + std::to_string(kMaxDepth));
      d.over_limits = true;
      return d;
    }
    try {
      YAML::Node node = YAML::Load(std::string(text));
      ExpansionBudget budget;
      budget.bytes_left =
          std::clamp(text.size() * kExpansionFactor, kMinExpandedBytes, kMaxExpandedBytes);
      d.document = to_json(node, 0, budget);
      // A YAML version such as 1.0 reads as a number; keep the text as written.
      if (node.IsMap() && node["info"] && node["info"].IsMap() && node["info"]["version"] &&
          node["info"]["version"].IsScalar())
        d.version = node["info"]["version"].Scalar();
    } catch (const TooBig& e) {
      d.document = nullptr;
      d.errors.push_back("the definition " + e.what);
      d.over_limits = true;
      return d;
    } catch (const YAML::Exception& e) {
      d.document = nullptr;
      d.errors.push_back(std::string("the definition is not valid JSON or YAML: ") + e.what());
      return d;
    }
  }
  validate(d);
  return d;
}

json::object generate(const json::object& api) {
  json::object doc;
  doc["openapi"] = "3.0.1";
  json::object info;
  info["title"] = api.contains("name") ? api.at("name") : json::value("");
  info["version"] = api.contains("version") ? api.at("version") : json::value("");
  if (auto* d = api.if_contains("description"); d && d->is_string() && !d->get_string().empty())
    info["description"] = *d;
  doc["info"] = std::move(info);
  json::array servers;
  json::object server;
  server["url"] = "/";
  servers.push_back(std::move(server));
  doc["servers"] = std::move(servers);

  json::object scopes;
  json::object bindings;
  if (auto* list = api.if_contains("scopes"); list && list->is_array()) {
    for (const auto& entry : list->get_array()) {
      if (!entry.is_object()) continue;
      auto* scope = entry.get_object().if_contains("scope");
      if (scope == nullptr || !scope->is_object()) continue;
      std::string name = text_of(scope->get_object().if_contains("name"));
      if (name.empty()) continue;
      scopes[name] = text_of(scope->get_object().if_contains("description"));
      std::string roles;
      for (const auto& r : string_list(scope->get_object().if_contains("bindings"))) {
        if (!roles.empty()) roles += ",";
        roles += r;
      }
      bindings[name] = roles;
    }
  }
  json::object paths;
  if (auto* ops = api.if_contains("operations"); ops && ops->is_array()) {
    for (const auto& entry : ops->get_array()) {
      if (!entry.is_object()) continue;
      const auto& op = entry.get_object();
      std::string target = text_of(op.if_contains("target"));
      std::string verb = text_of(op.if_contains("verb"));
      std::transform(verb.begin(), verb.end(), verb.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (target.empty() || verb.empty()) continue;
      json::object operation;
      json::array parameters;
      for (const auto& name : path_parameters(target).value_or(std::vector<std::string>{})) {
        json::object p;
        p["name"] = name;
        p["in"] = "path";
        p["required"] = true;
        p["schema"] = json::object{{"type", "string"}};
        parameters.push_back(std::move(p));
      }
      if (!parameters.empty()) operation["parameters"] = std::move(parameters);
      operation["responses"] = json::object{{"default", json::object{{"description", ""}}}};
      json::array requirement_scopes;
      for (const auto& s : string_list(op.if_contains("scopes")))
        requirement_scopes.push_back(json::string(s));
      json::object requirement;
      requirement["default"] = std::move(requirement_scopes);
      operation["security"] = json::array{std::move(requirement)};
      if (auto* at = op.if_contains("authType")) operation["x-auth-type"] = *at;
      if (auto* tp = op.if_contains("throttlingPolicy")) operation["x-throttling-tier"] = *tp;
      json::value& item = paths[target];
      if (!item.is_object()) item.emplace_object();
      item.get_object()[verb] = std::move(operation);
    }
  }
  doc["paths"] = std::move(paths);
  json::object flow;
  flow["authorizationUrl"] = "https://test.com";
  flow["scopes"] = std::move(scopes);
  flow["x-scopes-bindings"] = std::move(bindings);
  json::object scheme;
  scheme["type"] = "oauth2";
  scheme["flows"] = json::object{{"implicit", std::move(flow)}};
  doc["components"] =
      json::object{{"securitySchemes", json::object{{"default", std::move(scheme)}}}};
  return doc;
}

namespace {

json::object& object_member(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v.emplace_object();
  return v.get_object();
}

bool is_verb(std::string_view key) {
  return std::find(std::begin(kVerbs), std::end(kVerbs), key) != std::end(kVerbs);
}

// The scopes a security requirement list asks of the OAuth 2.0 schemes in `oauth_schemes`.
std::set<std::string> oauth_scopes_of(const json::value* requirements,
                                      const std::set<std::string>& oauth_schemes) {
  std::set<std::string> out;
  if (requirements == nullptr || !requirements->is_array()) return out;
  for (const auto& req : requirements->get_array()) {
    if (!req.is_object()) continue;
    for (const auto& [scheme, scopes] : req.get_object())
      if (oauth_schemes.count(std::string(scheme)))
        for (const auto& s : string_list(&scopes)) out.insert(s);
  }
  return out;
}

}  // namespace

json::object sync(json::object doc, const json::object& api) {
  bool swagger2 = doc.contains("swagger");
  json::object& schemes = swagger2
                              ? object_member(doc, "securityDefinitions")
                              : object_member(object_member(doc, "components"), "securitySchemes");
  std::set<std::string> oauth_schemes;
  std::string scheme_name;
  for (const auto& [name, value] : schemes) {
    if (value.is_object() && text_of(value.get_object().if_contains("type")) == "oauth2") {
      oauth_schemes.insert(std::string(name));
      if (scheme_name.empty()) scheme_name = std::string(name);
    }
  }
  if (scheme_name.empty()) {
    scheme_name = "default";
    while (schemes.contains(scheme_name)) scheme_name += "_";
    json::object scheme{{"type", "oauth2"}};
    if (swagger2) {
      scheme["flow"] = "implicit";
      scheme["authorizationUrl"] = "https://test.com";
      scheme["scopes"] = json::object{};
    } else {
      scheme["flows"] =
          json::object{{"implicit", json::object{{"authorizationUrl", "https://test.com"},
                                                 {"scopes", json::object{}}}}};
    }
    schemes[scheme_name] = std::move(scheme);
    oauth_schemes.insert(scheme_name);
  }
  // Where the chosen scheme lists scopes: the scheme itself (2.0) or its first flow (3.x).
  json::object& scheme = schemes[scheme_name].get_object();
  json::object* holder = &scheme;
  if (!swagger2) {
    json::object& flows = object_member(scheme, "flows");
    if (flows.empty()) flows["implicit"] = json::object{{"authorizationUrl", "https://test.com"}};
    json::value& first = flows.begin()->value();
    if (!first.is_object()) first.emplace_object();
    holder = &first.get_object();
  }
  json::object& scope_map = object_member(*holder, "scopes");
  if (auto* list = api.if_contains("scopes"); list && list->is_array()) {
    for (const auto& entry : list->get_array()) {
      if (!entry.is_object()) continue;
      auto* scope = entry.get_object().if_contains("scope");
      if (scope == nullptr || !scope->is_object()) continue;
      std::string name = text_of(scope->get_object().if_contains("name"));
      if (name.empty()) continue;
      if (!scope_map.contains(name))
        scope_map[name] = text_of(scope->get_object().if_contains("description"));
      std::string roles;
      for (const auto& r : string_list(scope->get_object().if_contains("bindings")))
        roles += (roles.empty() ? "" : ",") + r;
      if (!roles.empty()) object_member(*holder, "x-scopes-bindings")[name] = roles;
    }
  }

  struct ApiOp {
    std::string target, verb;
    std::set<std::string> scopes;
    std::string auth_type, policy;
  };
  std::vector<ApiOp> ops;
  if (auto* list = api.if_contains("operations"); list && list->is_array()) {
    for (const auto& entry : list->get_array()) {
      if (!entry.is_object()) continue;
      const auto& o = entry.get_object();
      ApiOp op{text_of(o.if_contains("target")),
               text_of(o.if_contains("verb")),
               {},
               text_of(o.if_contains("authType")),
               text_of(o.if_contains("throttlingPolicy"))};
      std::transform(op.verb.begin(), op.verb.end(), op.verb.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      for (const auto& s : string_list(o.if_contains("scopes"))) op.scopes.insert(s);
      ops.push_back(std::move(op));
    }
  }
  auto has_op = [&](std::string_view target, std::string_view verb) {
    return std::any_of(ops.begin(), ops.end(),
                       [&](const ApiOp& o) { return o.target == target && o.verb == verb; });
  };

  json::object& paths = object_member(doc, "paths");
  std::vector<std::string> emptied;
  for (auto& [key, item] : paths) {
    if (!item.is_object() || key.starts_with("x-")) continue;
    json::object& path_item = item.get_object();
    std::vector<std::string> gone;
    for (const auto& [verb, op] : path_item)
      if (is_verb(verb) && !has_op(key, verb)) gone.emplace_back(verb);
    for (const auto& verb : gone) path_item.erase(verb);
    if (std::none_of(path_item.begin(), path_item.end(),
                     [](const auto& kv) { return is_verb(kv.key()); }))
      emptied.emplace_back(key);
  }
  for (const auto& key : emptied) paths.erase(key);

  const json::value* root_security = doc.if_contains("security");
  for (const auto& op : ops) {
    if (op.target.empty() || !is_verb(op.verb)) continue;
    json::object& path_item = object_member(paths, op.target);
    if (!path_item.contains(op.verb)) {
      json::object fresh;
      std::set<std::string> declared;
      collect_path_params(doc,
                          path_item.if_contains("parameters") && path_item["parameters"].is_array()
                              ? &path_item["parameters"].get_array()
                              : nullptr,
                          declared);
      json::array parameters;
      for (const auto& name : path_parameters(op.target).value_or(std::vector<std::string>{})) {
        if (declared.count(name)) continue;
        json::object p{{"name", name}, {"in", "path"}, {"required", true}};
        if (swagger2)
          p["type"] = "string";
        else
          p["schema"] = json::object{{"type", "string"}};
        parameters.push_back(std::move(p));
      }
      if (!parameters.empty()) fresh["parameters"] = std::move(parameters);
      fresh["responses"] = json::object{{"default", json::object{{"description", ""}}}};
      path_item[op.verb] = std::move(fresh);
    }
    json::value& op_value = path_item[op.verb];
    if (!op_value.is_object()) op_value.emplace_object();
    json::object& operation = op_value.get_object();
    const json::value* security = operation.if_contains("security");
    std::set<std::string> current =
        oauth_scopes_of(security != nullptr ? security : root_security, oauth_schemes);
    if (current != op.scopes) {
      json::array scopes;
      for (const auto& s : op.scopes) scopes.push_back(json::string(s));
      operation["security"] = json::array{json::object{{scheme_name, std::move(scopes)}}};
    }
    if (!op.auth_type.empty() &&
        (operation.contains("x-auth-type") || op.auth_type != "Application & Application User"))
      operation["x-auth-type"] = op.auth_type;
    if (!op.policy.empty() && (operation.contains("x-throttling-tier") || op.policy != "Unlimited"))
      operation["x-throttling-tier"] = op.policy;
  }
  return doc;
}

}  // namespace portico::publisher::openapi
