#include "bot/zones.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace relbot::bot {

std::shared_ptr<const checklist::time_zone> load_zone(std::string_view name) {
    static std::mutex guard;
    static std::map<std::string, std::shared_ptr<const checklist::time_zone>, std::less<>> zones;
    std::lock_guard lock(guard);
    if (auto it = zones.find(name); it != zones.end()) {
        return it->second;
    }
    std::shared_ptr<const checklist::time_zone> zone;
    if (name == "UTC") {
        zone = std::make_shared<const checklist::time_zone>(checklist::time_zone::utc());
    } else if (checklist::valid_zone_name(name)) {
        const char* dir = std::getenv("TZDIR");
        std::string path =
            std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" +
            std::string(name);
        std::ifstream in(path, std::ios::binary);
        if (in) {
            std::stringstream bytes;
            bytes << in.rdbuf();
            if (auto z = checklist::time_zone::from_tzif(std::string(name), bytes.str())) {
                zone = std::make_shared<const checklist::time_zone>(std::move(*z));
            }
        }
    }
    zones.emplace(std::string(name), zone);
    return zone;
}

std::optional<std::string> resolve_zones(std::vector<checklist::freeze_window>& windows,
                                         std::string_view where) {
    for (auto& w : windows) {
        w.zone = load_zone(w.zone_name);
        if (!w.zone) {
            auto place = std::string(where) + (w.line > 0 ? ":" + std::to_string(w.line) : "");
            return (place.empty() ? "" : place + ": ") + "the freeze window `" + w.text +
                   "` names the time zone `" + w.zone_name +
                   "`, which the system's zone database does not have; write `UTC` or a name "
                   "such as `Europe/Berlin` or `America/New_York`";
        }
    }
    return std::nullopt;
}

}  // namespace relbot::bot
