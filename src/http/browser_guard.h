#pragma once
// What the router does about requests a browser may send on a user's behalf from another
// site (cross-site request forgery): the three checks below, applied to every route in one
// place (docs/security.md, "The node: listeners, key material, browsers").
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace portico::http {

// A route that takes a JSON body answers 415 to a request whose body is not declared
// application/json (or */*+json): text/plain, form and multipart bodies, and bodies without
// a Content-Type, are what a cross-site page can send without asking the browser first.
std::optional<Response> refuse_body_media_type(const Request& request, BodyType body_type);

// A state-changing request (POST, PUT, PATCH, DELETE) without a JSON body, from a page of
// another origin (its Origin header names another host or port than Host, or is "null"),
// answers 403. A JSON body from another origin needs a CORS preflight the node never grants.
// Requests without Origin (curl, scripts, other servers) are not browsers' and pass.
std::optional<Response> refuse_cross_site_request(const Request& request);

// A 401 to a request that looks like a browser's (Sec-Fetch-Mode or Origin present) loses
// its Basic challenge: the browser would otherwise prompt, then attach the typed password to
// every later request to the node, cross-site ones included.
void hide_basic_challenge_from_browsers(const Request& request, Response& response);

// Exposed for the unit tests.
bool is_json_media_type(std::string_view content_type);
bool is_same_origin(std::string_view origin, std::string_view host);
std::string without_basic_challenge(std::string_view www_authenticate);

}  // namespace portico::http
