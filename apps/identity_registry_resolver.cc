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
  auto list = read_status_list(state_, name->app, name->issuer, name->list);
  if (!list) return list.status();
  if (!list->has_value()) return std::optional<identity::CredentialStatus>();
  auto s = (*list)->get(ref.idx);
  if (!s) return std::optional<identity::CredentialStatus>();
  return std::optional<identity::CredentialStatus>(*s);
}

}  // namespace imi::apps
