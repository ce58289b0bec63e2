// Equivocation evidence kept by a node: one JSON line per piece in
// <data_dir>/evidence.jsonl, appended and fsynced before the node goes on,
// so an operator or auditor can hand it to governance after a restart too.
//
//   {"kind":"conflicting_proposal"|"conflicting_vote","validator":DID,
//    "height":H,"view":V,"first":HEX,"second":HEX}
//
// first/second are the two signed consensus messages in wire form
// (consensus/messages.h): anyone re-verifies them with the validator's key.
#pragma once

#include <string>

#include "base/status.h"
#include "consensus/evidence.h"

namespace imi::node {

// The JSON line (without newline) for `e`.
std::string evidence_json(const consensus::Evidence& e);

// Appends `e` to the file at `path` (created 0644) and fsyncs it. Errors: node.io.
Status append_evidence(const std::string& path, const consensus::Evidence& e);

}  // namespace imi::node
