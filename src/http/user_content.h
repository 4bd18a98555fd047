#pragma once
// Responses that carry bytes a user uploaded or wrote (thumbnails, documents, API
// definitions). They are served on the control plane's origin, so a browser must never run
// them as a page of that origin: one helper sets the headers for every such route.
#include <string>
#include <string_view>

#include "http/message.h"

namespace portico::http {

enum class Disposition {
  attachment,    // files, documents, definitions: a browser saves them, never renders them
  inline_image,  // thumbnails shown in <img>; opened on their own, the CSP sandbox applies
};

// Status 200 with `body` as `content_type`, plus X-Content-Type-Options: nosniff,
// Content-Security-Policy: default-src 'none'; sandbox, and Content-Disposition naming
// `filename` (characters a header cannot carry are replaced).
Response user_content(std::string content_type, std::string body, Disposition disposition,
                      std::string_view filename);

// The same headers on a response built elsewhere (a redirect to a document's URL included).
void mark_user_content(Response& response, Disposition disposition, std::string_view filename);

}  // namespace portico::http
