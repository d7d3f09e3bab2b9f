// Slug generation for item references.
#include "checklist/slug.hpp"

#include <set>

namespace relbot::checklist {

std::string make_slug(std::string_view title) {
    std::string out;
    bool pending_dash = false;
    for (char c : title) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
        if (!alnum) {
            pending_dash = !out.empty();
            continue;
        }
        if (pending_dash) {
            out.push_back('-');
            pending_dash = false;
        }
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return out.empty() ? "item" : out;
}

std::vector<std::string> make_unique_slugs(const std::vector<std::string>& titles) {
    std::vector<std::string> base;
    base.reserve(titles.size());
    for (const auto& t : titles) {
        base.push_back(make_slug(t));
    }
    std::set<std::string, std::less<>> taken(base.begin(), base.end());
    std::set<std::string, std::less<>> used;
    std::vector<std::string> out;
    out.reserve(titles.size());
    for (const auto& slug : base) {
        if (!used.contains(slug)) {
            used.insert(slug);
            out.push_back(slug);
            continue;
        }
        for (int n = 2;; ++n) {
            auto candidate = slug + "-" + std::to_string(n);
            if (!used.contains(candidate) && !taken.contains(candidate)) {
                used.insert(candidate);
                out.push_back(std::move(candidate));
                break;
            }
        }
    }
    return out;
}

}  // namespace relbot::checklist
