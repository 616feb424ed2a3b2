#pragma once

#include <memory>
#include <string>

#include "platform/db/notified_cache.hpp"

namespace clinicore::crm {

// Rendered pages of the lead list ({items, next_cursor}), per tenant, caller's row scope,
// filters, order, cursor and limit. Any committed change to a tenant's leads, their tags or its
// settings forgets all of that tenant's pages (migrations/tenant/0006, announce_leads_change),
// as the account and catalogue caches forget their entries (decisions/0008). Searches are not
// kept: each is typed once, and they would only push the pages people reload out.
class LeadPageCache : public db::NotifiedCache<std::shared_ptr<const std::string>> {
 public:
  static constexpr const char* kChannel = "clinicore_leads";

  LeadPageCache(core::Millis ttl, size_t capacity, std::shared_ptr<core::Metrics> metrics)
      : NotifiedCache({kChannel, "clinicore_crm_lead_pages_cache", "Lead list pages"}, ttl, capacity,
                      std::move(metrics)) {}
};

}  // namespace clinicore::crm
