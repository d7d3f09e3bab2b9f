// For now, the SQLite store under its old name, so that code outside storage/ compiles
// unchanged while it moves to the ports (storage/ports.hpp) and the factory (storage/open.hpp).
// New code includes those instead.
#pragma once

#include "storage/open.hpp"
#include "storage/ports.hpp"
#include "storage/sqlite/store.hpp"

namespace relbot::storage {

using store = sqlite::store;

}  // namespace relbot::storage
