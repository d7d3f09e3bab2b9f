// Item slugs: the stable, typeable names of checklist items ("smoke-tests-production").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relbot::checklist {

// The title in lower case with every run of other characters turned into one `-`, trimmed
// of leading and trailing `-`. Non-ASCII bytes count as "other". "item" if nothing is left.
std::string make_slug(std::string_view title);

// Slugs for titles in order, unique within the list: the second "Smoke Tests" becomes
// "smoke-tests-2" (and so on, skipping any suffix another title already has).
std::vector<std::string> make_unique_slugs(const std::vector<std::string>& titles);

}  // namespace relbot::checklist
