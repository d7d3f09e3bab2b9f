// For now, the SQLite checkpointer under its old name (bot/app.cpp builds one next to the
// store). It includes no SQLite header.
#pragma once

#include "storage/sqlite/checkpointer.hpp"

namespace relbot::storage {

using checkpointer = sqlite::checkpointer;

}  // namespace relbot::storage
