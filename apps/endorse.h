// The endorse app (DESIGN "Applications"): party-member endorsements by a
// party organisation, credit endorsements (stable employment, no criminal
// record) by credit issuers. Endorsements are SD-JWT VCs (identity/sdjwt.h)
// held by residents; the chain holds only
//   - issuer metadata: which endorsement types an issuer may issue, and
//   - the issuers' status lists (apps/identity_registry_status.h), whose
//     entries sit at random indexes only a credential names.
// Whether a resident holds an endorsement is learned only from a
// presentation the resident chooses to make, never from a query.
//
// Ops (app "endorse"; the sender must be a registered, active DID):
//   define {"types":[type...]}  the sender declares the types it issues; each
//          type needs its role (kEndorsementTypes); replaces earlier types
//   status_list_create / status_list_update  as in the identity app, for an
//          issuer that has defined types
// State: "issuer/<did>" {"types":[...],"since":h}; "list/<did>/<id>".
// Credentials: vct = endorsement_vct(type), status uri
//   status_list_uri("endorse", issuer, list).
// Result codes: 2, 3, 4 (the sender lacks the type's role or has not
// defined types), 5, 6, kIdCodeNotActive (100, the sender is not a
// registered active DID), kIdCodeFinalStatus (103), kIdCodeOutOfRange (104).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kEndorseApp = "endorse";

struct EndorsementType {
  std::string_view type;
  std::string_view role;  // the governance role that may issue it
};
constexpr EndorsementType kEndorsementTypes[] = {
    {"party_member", "party_organisation"},
    {"stable_employment", "credit_issuer"},
    {"no_criminal_record", "credit_issuer"},
};

class EndorseApp : public ledger::App {
 public:
  std::string_view name() const override { return kEndorseApp; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

// "imi:endorsement:<type>".
std::string endorsement_vct(std::string_view type);

// The types `issuer` has defined (empty if none).
Result<std::vector<std::string>> endorsement_types(const ledger::StateReader& state,
                                                   std::string_view issuer);

// Whether a verified presentation is an endorsement its issuer may issue:
// the vct names a type the issuer defined and still holds the role for.
// endorse.not_endorsement if the vct is not an endorsement type.
Result<bool> endorsement_authorised(const ledger::StateReader& state,
                                    const identity::sdjwt::Verification& v);

// The request an issuer signs for an endorsement of `type` valid in
// [nbf, exp), bound to the holder's key and naming status entry `idx` of the
// issuer's list `list`. `claims` are disclosable details (e.g. "since").
identity::sdjwt::IssueRequest endorsement_request(std::string_view issuer, uint64_t issuer_key_n,
                                                  std::string_view holder_kid,
                                                  std::string_view type, std::string_view list,
                                                  uint64_t idx, int64_t iat, int64_t nbf,
                                                  int64_t exp,
                                                  std::vector<identity::sdjwt::Claim> claims);

}  // namespace imi::apps
