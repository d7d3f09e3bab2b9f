// A fresh PostgreSQL database for one storage test, in the throwaway cluster of
// tests/pg_cluster.sh, dropped at the end. Under ctest the cluster is started once for all
// tests (a fixture in CMakeLists.txt) and RELBOT_TEST_PG_URL_FILE names the file holding its
// URL; a test binary run by hand starts its own cluster the first time one is needed and
// stops it at exit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "storage/postgres/connection.hpp"

namespace relbot::test {

namespace pg_detail {

// A cluster of this process's own, when ctest did not start one.
class own_cluster {
public:
    own_cluster() {
        std::random_device rd;
        state_ = (std::filesystem::temp_directory_path() /
                  ("relbot-pg-state-" + std::to_string(rd()) + std::to_string(rd())))
                     .string();
        if (std::system(command("start").c_str()) != 0) {
            throw std::runtime_error("tests/pg_cluster.sh start failed (see above)");
        }
    }
    ~own_cluster() {
        if (std::system(command("stop").c_str()) != 0) {
            // Best effort: the folder under /tmp is all that is left.
        }
        std::error_code ec;
        std::filesystem::remove_all(state_, ec);
    }
    own_cluster(const own_cluster&) = delete;
    own_cluster& operator=(const own_cluster&) = delete;
    std::string url_file() const { return state_ + "/url"; }

private:
    std::string command(const char* action) const {
        return std::string("bash '") + RELBOT_SOURCE_DIR + "/tests/pg_cluster.sh' " + action +
               " '" + state_ + "' >&2";
    }
    std::string state_;
};

inline std::string admin_url() {
    std::string file;
    if (const char* f = std::getenv("RELBOT_TEST_PG_URL_FILE"); f != nullptr && *f != '\0') {
        file = f;
    } else {
        static own_cluster cluster;
        file = cluster.url_file();
    }
    std::ifstream in(file);
    std::string url;
    if (!std::getline(in, url) || url.empty()) {
        throw std::runtime_error("no PostgreSQL test cluster URL in " + file);
    }
    return url;
}

// The URL with another database name (the cluster's URLs end in "/postgres").
inline std::string with_database(const std::string& url, const std::string& name) {
    auto slash = url.rfind('/');
    return url.substr(0, slash + 1) + name;
}

}  // namespace pg_detail

class pg_database {
public:
    pg_database() : admin_url_(pg_detail::admin_url()) {
        std::random_device rd;
        name_ = "relbot_t" + std::to_string(rd()) + std::to_string(rd());
        storage::postgres::connection admin(admin_url_);
        admin.exec("CREATE DATABASE " + name_);
        url_ = pg_detail::with_database(admin_url_, name_);
    }
    ~pg_database() {
        try {
            storage::postgres::connection admin(admin_url_);
            admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (const std::exception&) {
            // The cluster is thrown away at the end anyway.
        }
    }
    pg_database(const pg_database&) = delete;
    pg_database& operator=(const pg_database&) = delete;

    const std::string& url() const { return url_; }
    const std::string& name() const { return name_; }
    // The server's TCP port, and the URL with another port (through a stall_proxy).
    int port() const {
        auto slash = url_.rfind('/');
        auto colon = url_.rfind(':', slash);
        return std::stoi(url_.substr(colon + 1, slash - colon - 1));
    }
    std::string url_via(int port) const {
        auto slash = url_.rfind('/');
        auto colon = url_.rfind(':', slash);
        return url_.substr(0, colon + 1) + std::to_string(port) + url_.substr(slash);
    }

private:
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

}  // namespace relbot::test
