// Internal to apps/identity_registry*: the stored form of a DID record.
#pragma once

#include <rapidjson/document.h>

#include "apps/identity_registry.h"

namespace imi::apps {

rapidjson::Document did_record_json(const DidRecord& record);

}  // namespace imi::apps
