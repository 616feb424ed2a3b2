#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "platform/http/request.hpp"
#include "platform/kit/page.hpp"

// The answers every module gives the same way.
namespace clinicore::kit {

// 201 with the new record and where it lives.
inline http::Response Created(const nlohmann::json& body, const std::string& location) {
  http::Response response = http::Response::Json(201, body);
  response.headers.emplace_back("Location", location);
  return response;
}

template <typename Record>
http::Response PageResponse(const Page<Record>& page) {
  return http::Response::Json(200, PageJson(page));
}

}  // namespace clinicore::kit
