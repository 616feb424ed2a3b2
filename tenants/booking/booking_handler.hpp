#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/booking/booking_service.hpp"

namespace clinicore::booking {

// Parses and validates each request (every refusal a 400 naming its field or query parameter),
// calls one service function, and serializes the answer.
class BookingHandler {
 public:
  explicit BookingHandler(std::shared_ptr<BookingService> service) : service_(std::move(service)) {}

  core::Result<http::Response> Availability(modules::Call& call);
  core::Result<http::Response> PlaceHold(modules::Call& call);
  core::Result<http::Response> ReleaseHold(modules::Call& call);
  core::Result<http::Response> Book(modules::Call& call);
  core::Result<http::Response> ListAppointments(modules::Call& call);
  core::Result<http::Response> GetAppointment(modules::Call& call);
  core::Result<http::Response> Reschedule(modules::Call& call);
  core::Result<http::Response> Cancel(modules::Call& call);
  core::Result<http::Response> Complete(modules::Call& call);
  core::Result<http::Response> MarkNoShow(modules::Call& call);
  core::Result<http::Response> CreateSeries(modules::Call& call);
  core::Result<http::Response> GetSeries(modules::Call& call);
  core::Result<http::Response> GetSettings(modules::Call& call);
  core::Result<http::Response> UpdateSettings(modules::Call& call);

 private:
  std::shared_ptr<BookingService> service_;
};

void RegisterBookingRoutes(modules::RouteTable& routes, std::shared_ptr<BookingHandler> handler);

}  // namespace clinicore::booking
