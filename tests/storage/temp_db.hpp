// A fresh database file for one storage test, removed with its -wal and -shm files at the end.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace relbot::test {

class temp_db {
public:
    temp_db() {
        std::random_device rd;
        path_ = (std::filesystem::temp_directory_path() /
                 ("relbot-ports-" + std::to_string(rd()) + std::to_string(rd()) + ".db"))
                    .string();
    }
    ~temp_db() {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::error_code ec;
            std::filesystem::remove(path_ + suffix, ec);  // best effort cleanup
        }
    }
    temp_db(const temp_db&) = delete;
    temp_db& operator=(const temp_db&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace relbot::test
