// The chain side of credential verification: an identity::sdjwt::Resolver
// that reads DID status and keys from the identity app and credential status
// from the status lists of the identity and endorse apps. The API's
// POST /v1/presentations/verify builds one over the latest committed state
// and calls identity::sdjwt::verify. Reads only; as thread-safe as the reader.
#pragma once

#include "identity/sdjwt_verify.h"
#include "ledger/app.h"

namespace imi::apps {

class ChainResolver : public identity::sdjwt::Resolver {
 public:
  // `state` must outlive the resolver.
  explicit ChainResolver(const ledger::StateReader& state) : state_(state) {}
  Result<identity::sdjwt::DidKeys> did_keys(std::string_view did) const override;
  // Lists named "imi:status-list/<identity|endorse>/<issuer>/<id>"; any other
  // uri, an unknown list or an index out of range answers nullopt.
  Result<std::optional<identity::CredentialStatus>> credential_status(
      const identity::sdjwt::StatusRef& ref) const override;

 private:
  const ledger::StateReader& state_;
};

}  // namespace imi::apps
