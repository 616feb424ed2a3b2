#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/db/notified_cache.hpp"
#include "tenants/clinics/records.hpp"

namespace clinicore::clinics {

// A clinic and all its live services, the catalogue clients browse far more often than
// anyone edits it. Kept per "<schema>:<clinic id>" and forgotten on PostgreSQL's notice of
// any committed change to the clinic or its services (migrations/tenant/0005, trigger
// announce_catalogue_change), like the account cache (decisions/0008).
struct Catalogue {
  Clinic clinic;
  std::vector<Service> services;  // every live service, active or not, by (name, id)
  // The answers to the most common read, the first page at the default limit, rendered once
  // when the entry is loaded: for staff (every service) and for clients (active ones).
  std::string first_page_all;
  std::string first_page_active;
};

// Entries are shared, immutable: a hit copies a pointer, not the catalogue.
class CatalogueCache : public db::NotifiedCache<std::shared_ptr<const Catalogue>> {
 public:
  static constexpr const char* kChannel = "clinicore_catalogue";
  // Clinics with more services than this are read page by page from the database instead.
  static constexpr int kMaxServices = 500;

  CatalogueCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
      : NotifiedCache({kChannel, "clinicore_clinics_catalogue_cache", "Catalogue reads of a clinic's services"}, ttl,
                      capacity, std::move(metrics)) {}
};

}  // namespace clinicore::clinics
