#include "apps/identity_registry_resolver.h"

#include "apps/identity_registry.h"
#include "apps/identity_registry_status.h"

namespace imi::apps {

Result<identity::sdjwt::DidKeys> ChainResolver::did_keys(std::string_view did) const {
  identity::sdjwt::DidKeys out;
  if (!identity::is_valid_did(did)) return out;
  auto rec = read_did(state_, did);
  if (!rec) return rec.status();
  if (!rec->has_value()) return out;
  out.status = (*rec)->status;
  if (out.status == identity::sdjwt::DidStatus::kActive) out.current = (*rec)->current();
  return out;
}

Result<std::optional<identity::CredentialStatus>> ChainResolver::credential_status(
    const identity::sdjwt::StatusRef& ref) const {
  auto name = parse_status_list_uri(ref.uri);
  if (!name || (name->app != "identity" && name->app != "endorse")) {
    return std::optional<identity::CredentialStatus>();
  }
  return read_status_entry(state_, name->app, name->issuer, name->list, ref.idx);
}

}  // namespace imi::apps
