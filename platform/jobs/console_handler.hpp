#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "platform/core/result.hpp"
#include "platform/db/database.hpp"
#include "platform/http/router.hpp"
#include "platform/jobs/enqueue.hpp"
#include "platform/kit/page.hpp"
#include "platform/tenancy/tenant_directory.hpp"
#include "platform/tenancy/tenant_service.hpp"

namespace clinicore::jobs {

struct JobListQuery {
  std::string state = "dead";  // dead | failing | running | available | completed | discarded
  std::optional<std::string> tenant_id;
  std::optional<std::string> kind;
  kit::PageRequest page = {.list = "console.jobs"};
};

// What the console shows of the queue, and the two changes it may make (retry or discard a
// dead job), each audited in platform.console_audit in the transaction that makes it.
// Payloads are never shown: they hold tenant data.
class JobConsole {
 public:
  JobConsole(db::Database& database, std::shared_ptr<tenancy::TenantDirectory> directory,
             std::shared_ptr<JobClient> client)
      : database_(database), directory_(std::move(directory)), client_(std::move(client)) {}

  // A tenant named by id, slug or "platform"; NotFound for an unknown slug.
  core::Result<std::string> TenantIdFor(const std::string& key);

  core::Result<nlohmann::json> Queues(const std::optional<std::string>& tenant_id);
  core::Result<nlohmann::json> List(const JobListQuery& query);
  core::Result<nlohmann::json> Get(long long id);
  core::Result<nlohmann::json> Retry(long long id, const tenancy::Actor& actor);
  core::Result<nlohmann::json> Discard(long long id, const tenancy::Actor& actor);
  core::Result<nlohmann::json> Schedules(const std::optional<std::string>& tenant_id, const kit::PageRequest& page);

 private:
  core::Result<nlohmann::json> Change(long long id, const tenancy::Actor& actor, const char* statement,
                                      const std::string& action, const std::string& verb);

  db::Database& database_;
  std::shared_ptr<tenancy::TenantDirectory> directory_;
  std::shared_ptr<JobClient> client_;
};

// Thin handlers for /v1/console/jobs…: parse and validate, call JobConsole, serialize.
class JobConsoleHandler {
 public:
  explicit JobConsoleHandler(std::shared_ptr<JobConsole> console) : console_(std::move(console)) {}

  core::Result<http::Response> Queues(http::RequestContext& context);
  core::Result<http::Response> List(http::RequestContext& context);
  core::Result<http::Response> Show(http::RequestContext& context);
  core::Result<http::Response> Retry(http::RequestContext& context);
  core::Result<http::Response> Discard(http::RequestContext& context);
  core::Result<http::Response> Schedules(http::RequestContext& context);

 private:
  std::shared_ptr<JobConsole> console_;
};

// GET  /v1/console/jobs/queues            depth per tenant and kind
// GET  /v1/console/jobs                   jobs by state (dead by default), with their errors
// GET  /v1/console/jobs/schedules         recurring schedules and their next fire times
// GET  /v1/console/jobs/{id}              one job
// POST /v1/console/jobs/{id}/retry        a dead job runs again (audited)
// POST /v1/console/jobs/{id}/discard      a dead job is given up (audited)
void RegisterJobConsoleRoutes(http::Router& router, std::shared_ptr<JobConsoleHandler> handler);

}  // namespace clinicore::jobs
