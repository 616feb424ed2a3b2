#include "platform/jobs/console_handler.hpp"

#include <charconv>

#include "platform/http/json_fields.hpp"
#include "platform/jobs/queries.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::jobs {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using http::RequestContext;
using http::Response;
using nlohmann::json;

json Text(const pqxx::field& field) {
  return field.is_null() ? json(nullptr) : json(field.as<std::string>());
}

json TenantIdJson(const std::string& tenant_id) {
  return tenant_id == kPlatformTenant ? json(nullptr) : json(tenant_id);
}

// Columns of CLINICORE_CONSOLE_JOB_COLUMNS, in order.
json JobJson(const pqxx::row& row) {
  const std::string state = row[4].as<std::string>();
  json job = {{"id", row[0].as<long long>()},
              {"tenant_id", TenantIdJson(row[1].as<std::string>())},
              {"tenant_slug", Text(row[2])},
              {"kind", row[3].as<std::string>()},
              {"state", state},
              {"failing", state == "available" && !row[15].is_null()},
              {"priority", row[5].as<int>()},
              {"attempt", row[6].as<int>()},
              {"max_attempts", row[7].as<int>()},
              {"idempotency_key", row[8].as<std::string>()},
              {"run_at", Text(row[9])},
              {"created_at", Text(row[10])},
              {"started_at", Text(row[11])},
              {"finished_at", Text(row[12])},
              {"locked_by", Text(row[13])},
              {"lease_expires_at", Text(row[14])},
              {"last_error", Text(row[15])},
              {"errors", json::parse(row[16].as<std::string>())},
              {"payload_bytes", row[17].as<long long>()}};
  return job;
}

std::optional<long long> ParseId(const std::string& text) {
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

Error NoSuchJob(const std::string& id) {
  return Error::NotFound("No job '" + id.substr(0, 40) + "' exists.");
}

}  // namespace

Result<std::string> JobConsole::TenantIdFor(const std::string& key) {
  if (key == "platform") return std::string(kPlatformTenant);
  // A job of a purged tenant still names its id: an id is taken as it is.
  if (tenancy::IsUuid(key)) return key;
  CLINICORE_TRY(auto tenant, directory_->Resolve(key));
  return tenant.id;
}

Result<json> JobConsole::Queues(const std::optional<std::string>& tenant_id) {
  return database_.Read([&](db::Transaction& tx) -> Result<json> {
    json items = json::array();
    json totals = {{"due", 0}, {"scheduled", 0}, {"running", 0}, {"failing", 0}, {"dead", 0}};
    for (const auto& row : tx.Exec(queries::kConsoleQueues, tenant_id)) {
      json item = {{"tenant_id", TenantIdJson(row[0].as<std::string>())},
                   {"tenant_slug", Text(row[1])},
                   {"kind", row[2].as<std::string>()},
                   {"due", row[3].as<long long>()},
                   {"scheduled", row[4].as<long long>()},
                   {"running", row[5].as<long long>()},
                   {"failing", row[6].as<long long>()},
                   {"dead", row[7].as<long long>()},
                   {"oldest_due_at", Text(row[8])}};
      for (const char* key : {"due", "scheduled", "running", "failing", "dead"}) {
        totals[key] = totals[key].get<long long>() + item[key].get<long long>();
      }
      items.push_back(std::move(item));
    }
    return json{{"items", items}, {"totals", totals}};
  });
}

Result<json> JobConsole::List(const JobListQuery& query) {
  return database_.Read([&](db::Transaction& tx) -> Result<json> {
    std::vector<json> jobs;
    const char* statement = nullptr;
    for (const auto& list : queries::kConsoleListJobs) {
      if (query.state == list.state) statement = list.name;
    }
    if (statement == nullptr)
      return Error::InvalidArgument("Unknown state " + query.state + ".", {{"state", "unknown"}});
    for (const auto& row :
         tx.Exec(statement, query.tenant_id, query.kind, kit::PositionNumber(query.page, 0), query.page.limit + 1)) {
      jobs.push_back(JobJson(row));
    }
    auto page = kit::MakePage(std::move(jobs), query.page, [](const json& job) { return json{job["id"]}; });
    return kit::PageJson(json(std::move(page.items)), page.next_cursor);
  });
}

Result<json> JobConsole::Get(long long id) {
  return database_.Read([&](db::Transaction& tx) -> Result<json> {
    auto rows = tx.Exec(queries::kConsoleGetJob, id);
    if (rows.empty()) return NoSuchJob(std::to_string(id));
    return JobJson(rows[0]);
  });
}

Result<json> JobConsole::Change(long long id, const tenancy::Actor& actor, const char* statement,
                                const std::string& action, const std::string& verb) {
  std::string tenant_id;
  auto changed = database_.Write([&](db::Transaction& tx) -> Result<json> {
    auto rows = tx.Exec(statement, id);
    if (rows.empty()) {
      auto current = tx.Exec(queries::kConsoleGetJob, id);
      if (current.empty()) return NoSuchJob(std::to_string(id));
      const std::string state = current[0][4].as<std::string>();
      return Error{ErrorCode::kFailedPrecondition,
                   "Job " + std::to_string(id) + " is " + state + ": only dead jobs can be " + verb + ".",
                   {},
                   {{"state", "is " + state + ", not dead"}}};
    }
    tenant_id = rows[0][0].as<std::string>();
    const std::string kind = rows[0][1].as<std::string>();
    tx.Exec(queries::kInsertAudit, actor.name, action, tenant_id, actor.request_id,
            json{{"job_id", id}, {"kind", kind}}.dump());
    auto after = tx.Exec(queries::kConsoleGetJob, id);
    tx.Commit();
    return JobJson(after[0]);
  });
  if (changed && action == "job.retry" && client_) client_->Wake({{tenant_id, Clock::now()}});
  return changed;
}

Result<json> JobConsole::Retry(long long id, const tenancy::Actor& actor) {
  return Change(id, actor, queries::kConsoleRetry, "job.retry", "retried");
}

Result<json> JobConsole::Discard(long long id, const tenancy::Actor& actor) {
  return Change(id, actor, queries::kConsoleDiscard, "job.discard", "discarded");
}

Result<json> JobConsole::Schedules(const std::optional<std::string>& tenant_id, const kit::PageRequest& page) {
  // The position is (name, tenant id): one schedule name recurs in every tenant.
  const auto after_name = kit::PositionText(page, 0);
  const auto after_tenant = kit::PositionText(page, 1);
  return database_.Read([&](db::Transaction& tx) -> Result<json> {
    // Each schedule beside its position: the tenant id in the answer is not the raw one.
    std::vector<std::pair<json, json>> rows;
    for (const auto& row : tx.Exec(queries::kConsoleSchedules, tenant_id, after_tenant ? after_name : std::nullopt,
                                   after_tenant, page.limit + 1)) {
      rows.emplace_back(json{{"name", row[0].as<std::string>()},
                             {"tenant_id", TenantIdJson(row[1].as<std::string>())},
                             {"tenant_slug", Text(row[2])},
                             {"spec", row[3].as<std::string>()},
                             {"next_fire_at", Text(row[4])},
                             {"last_fired_at", Text(row[5])},
                             {"last_job_id", row[6].is_null() ? json(nullptr) : json(row[6].as<long long>())}},
                        json{row[0].as<std::string>(), row[1].as<std::string>()});
    }
    auto listed = kit::MakePage(std::move(rows), page, [](const auto& row) { return row.second; });
    json items = json::array();
    for (auto& row : listed.items) items.push_back(std::move(row.first));
    return kit::PageJson(std::move(items), listed.next_cursor);
  });
}

// ---- handlers -------------------------------------------------------------------------------

Result<Response> JobConsoleHandler::Queues(RequestContext& context) {
  std::optional<std::string> tenant_id;
  if (auto tenant = context.Query("tenant")) {
    CLINICORE_TRY(auto id, console_->TenantIdFor(*tenant));
    tenant_id = id;
  }
  CLINICORE_TRY(auto queues, console_->Queues(tenant_id));
  return Response::Json(200, queues);
}

Result<Response> JobConsoleHandler::List(RequestContext& context) {
  using Rule = kit::FilterRule;
  std::vector<std::string> states;
  for (const auto& list : queries::kConsoleListJobs) states.emplace_back(list.state);
  CLINICORE_TRY(const kit::ListQuery list, kit::ParseListQuery(context, "console.jobs",
                                                               {{"state", Rule::Kind::kOneOf, states},
                                                                {"tenant", Rule::Kind::kText, {}, 64},
                                                                {"kind", Rule::Kind::kText, {}, 100}}));
  JobListQuery query;
  query.page = list.page;
  if (auto state = list.Filter("state")) query.state = *state;
  if (auto kind = list.Filter("kind")) {
    if (!ValidateKind(*kind))
      return Error::InvalidArgument("kind must look like module.name.", {{"kind", "must look like module.name"}});
    query.kind = *kind;
  }
  if (auto tenant = list.Filter("tenant")) {
    CLINICORE_TRY(query.tenant_id, console_->TenantIdFor(*tenant));
  }
  CLINICORE_TRY(const json page, console_->List(query));
  return Response::Json(200, page);
}

Result<Response> JobConsoleHandler::Show(RequestContext& context) {
  auto id = ParseId(context.PathParam("id"));
  if (!id) return NoSuchJob(context.PathParam("id"));
  CLINICORE_TRY(auto job, console_->Get(*id));
  return Response::Json(200, job);
}

Result<Response> JobConsoleHandler::Retry(RequestContext& context) {
  http::JsonFields fields(context.body, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  auto id = ParseId(context.PathParam("id"));
  if (!id) return NoSuchJob(context.PathParam("id"));
  CLINICORE_TRY(auto job, console_->Retry(*id, tenancy::ConsoleActor(context)));
  return Response::Json(200, job);
}

Result<Response> JobConsoleHandler::Discard(RequestContext& context) {
  http::JsonFields fields(context.body, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  auto id = ParseId(context.PathParam("id"));
  if (!id) return NoSuchJob(context.PathParam("id"));
  CLINICORE_TRY(auto job, console_->Discard(*id, tenancy::ConsoleActor(context)));
  return Response::Json(200, job);
}

Result<Response> JobConsoleHandler::Schedules(RequestContext& context) {
  CLINICORE_TRY(const kit::ListQuery list, kit::ParseListQuery(context, "console.jobs.schedules",
                                                               {{"tenant", kit::FilterRule::Kind::kText, {}, 64}}));
  std::optional<std::string> tenant_id;
  if (auto tenant = list.Filter("tenant")) {
    CLINICORE_TRY(tenant_id, console_->TenantIdFor(*tenant));
  }
  CLINICORE_TRY(const json page, console_->Schedules(tenant_id, list.page));
  return Response::Json(200, page);
}

void RegisterJobConsoleRoutes(http::Router& router, std::shared_ptr<JobConsoleHandler> handler) {
  using http::Method;
  using http::RouteScope;
  const http::RouteOptions read{.scope = RouteScope::kConsole};
  const http::RouteOptions write{.scope = RouteScope::kConsole, .json_body = true};
  router.Add(Method::kGet, "/v1/console/jobs/queues", http::Bind(handler, &JobConsoleHandler::Queues), read);
  router.Add(Method::kGet, "/v1/console/jobs", http::Bind(handler, &JobConsoleHandler::List), read);
  router.Add(Method::kGet, "/v1/console/jobs/schedules", http::Bind(handler, &JobConsoleHandler::Schedules), read);
  router.Add(Method::kGet, "/v1/console/jobs/{id}", http::Bind(handler, &JobConsoleHandler::Show), read);
  router.Add(Method::kPost, "/v1/console/jobs/{id}/retry", http::Bind(handler, &JobConsoleHandler::Retry), write);
  router.Add(Method::kPost, "/v1/console/jobs/{id}/discard", http::Bind(handler, &JobConsoleHandler::Discard), write);
}

}  // namespace clinicore::jobs
