#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/tasks/tasks_service.hpp"

namespace clinicore::tasks {

// Parses and validates each request (every refusal a 400 naming its field), calls one service
// function, and serializes the answer.
class TasksHandler {
 public:
  explicit TasksHandler(std::shared_ptr<TasksService> service) : service_(std::move(service)) {}

  core::Result<http::Response> CreateTask(modules::Call& call);
  core::Result<http::Response> ListTasks(modules::Call& call);
  core::Result<http::Response> GetTask(modules::Call& call);
  core::Result<http::Response> UpdateTask(modules::Call& call);

 private:
  std::shared_ptr<TasksService> service_;
};

void RegisterTasksRoutes(modules::RouteTable& routes, std::shared_ptr<TasksHandler> handler);

}  // namespace clinicore::tasks
